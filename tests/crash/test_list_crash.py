"""
Crash test for lists (issue 5): a reliable work queue under kill -9.

Producers RPUSH unique items ("p<producer>-<seq>", sometimes padded) onto a
few queues, pipelining small batches (some as one MULTI/EXEC); consumers
take them with LPOP, BLPOP (short timeouts, over several queues) and BLMOVE
(now and then LMOVE) into a per-consumer processing list followed by LREM
from it (the reliable-queue pattern). The
server is killed with SIGKILL at a random moment, restarted on the same
directory, and the lists are checked against what the clients were told:

  - an acknowledged pop (LPOP/BLPOP, or BLMOVE + LREM) is never undone: the
    item is in no list after the restart;
  - an item taken by an acknowledged BLMOVE is in that consumer's
    processing list (gone only if its LREM was in doubt), in no queue;
  - every other acknowledged push is present exactly once, in its queue,
    unless an in-doubt pop (sent, no reply) of that queue may have taken
    it (each in-doubt pop accounts for one item at most; an in-doubt
    BLMOVE may have moved one item to its consumer's processing list);
  - no item is in two places, no item nobody pushed, no item outside the
    queue it was pushed to, no stray key;
  - FIFO: within a queue, one producer's items are in push order, and
    those present are a contiguous run of what it pushed there (nothing
    after the first present item is missing, except in-doubt pushes at
    the end that never ran);
  - live, while running: nobody is handed an item twice, an item that was
    gone, or an item from another queue, and each consumer gets one
    producer's items of one queue in push order.

In-doubt operations are those whose reply had not been read when the
server died: they may or may not have happened. The model (what is where)
is carried from round to round: after each check, what the restarted
server holds becomes the baseline. At the start of every round each
consumer first recovers its processing list (LRANGE, then LREM each item),
as a reliable-queue worker would.

engram.conf: with `appendfsync everysec` replies leave after write(2) and
only "a crash of the machine can lose up to a second"; a kill -9 of the
process loses nothing acknowledged (tests/crash/test_crash.py asserts the
same for strings). So the everysec rounds are held to the same checks.

A kill -9 cannot catch a reply that left before its fsync (write(2) came
first, the page cache keeps it), so two more tests hold the fsync back
(DEBUG ERRINJ wal-fsync-delay, debug/ASan builds) while pushes serve three
blocked clients (BLPOP, BLMOVE, BRPOP): no push or served pop is answered,
and no reader sees the popped lists, before the records are durable; the
served pops are logged as LPOP, LMOVE and RPOP; and a kill inside that
window leaves each push and pop wholly there or wholly absent.

Set ENGRAM_CRASH_SEED to replay a random schedule; the seed in use is
printed (pytest -s) and is part of every failure message.
"""
import os
import random
import select
import socket
import threading
import time

import pytest

from crashutil import RespConn, ServerExited, _parse, effects_of, loaded_line, read_segment
from crashutil import engram  # noqa: F401 (fixture)
from crashutil import skip_against_redis

pytestmark = skip_against_redis

SEED = int(os.environ.get("ENGRAM_CRASH_SEED", random.randrange(1 << 30)))
QUEUES = 3
PRODUCERS = 3
CONSUMERS = 4
BACKLOG = 4
SOCKET_TIMEOUT_S = 15.0


def qname(q):
    return "lq:%d" % q


def pname(c):
    return "lproc:%d" % c


def start_after_crash(e, timeout=20.0):
    """Restart on the same dir. A BGSAVE child of the killed server can
    still hold the directory lock until it finishes: wait for it, bounded."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return e.start()
        except ServerExited as ex:
            if "in use by another engram server" not in ex.output or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# --------------------------------------------------------------------------
# What the clients know
# --------------------------------------------------------------------------

class Model:
    """Shared by every thread of every round (dict/set updates are atomic
    under the GIL; the cross-thread bookkeeping takes `lock`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.meta = {}       # item -> (producer, seq, queue), set before it is sent
        self.by_seq = {}     # (producer, seq) -> item
        # Baseline: what the last restarted server held (verified).
        self.in_q = {}       # item -> queue
        self.in_proc = {}    # item -> consumer
        self.gone = set()    # sent, and in no list at the last check
        self.producers = []
        self.new_round()

    def backlog(self):
        """About how many items wait in the queues."""
        return (len(self.in_q) + sum(len(ps.acked) for ps in self.producers)
                - len(self.taken))

    def new_round(self):
        self.taken = {}      # item -> (consumer, how): acknowledged LPOP/BLPOP/BLMOVE
        self.popped = {}     # item -> consumer: acknowledged LPOP/BLPOP
        self.moved = {}      # item -> consumer: acknowledged (B)LMOVE to its processing list
        self.lremmed = {}    # item -> consumer: acknowledged LREM from its processing list
        self.errors = []

    def take(self, item, c, how, queue, ctx):
        """Record an acknowledged pop/move of item from queue; live checks."""
        with self.lock:
            m = self.meta.get(item)
            if m is None:
                self.errors.append("%s: %s returned an item nobody pushed: %s"
                                   % (ctx, how, nm(item)))
                return False
            if m[2] != queue:
                self.errors.append("%s: %s returned %s from %s, but it was pushed to %s"
                                   % (ctx, how, nm(item), qname(queue), qname(m[2])))
                return False
            if item in self.gone:
                self.errors.append("%s: %s returned %s, which was in no list at the last "
                                   "restart (a lost pop came back?)" % (ctx, how, nm(item)))
                return False
            if item in self.taken or item in self.in_proc:
                self.errors.append("%s: %s handed out twice: %s by consumer %d, earlier %r"
                                   % (ctx, nm(item), how, c,
                                      self.taken.get(item) or ("proc", self.in_proc[item])))
                return False
            self.taken[item] = (c, how)
            return True


class ProducerState:
    def __init__(self, pid):
        self.pid = pid
        self.seq = 0
        self.acked = set()    # this round
        self.inflight = set()  # sent this round, no reply
        self.pushes = 0       # acknowledged RPUSH commands, all rounds
        self.stats = {}
        self.errors = []

    def new_round(self):
        self.acked = set()
        self.inflight = set()
        self.errors = []

    def count(self, name, n=1):
        self.stats[name] = self.stats.get(name, 0) + n


class ConsumerState:
    def __init__(self, cid):
        self.cid = cid
        self.inflight = None  # (kind, queues, item) of the op without a reply
        self.last_seq = {}    # (queue, producer) -> last seq this consumer took
        self.stats = {}       # counter name -> n, all rounds
        self.errors = []

    def new_round(self):
        self.inflight = None
        self.errors = []

    def count(self, name, n=1):
        self.stats[name] = self.stats.get(name, 0) + n


def make_item(model, ps, q, rng):
    item = "p%d-%d" % (ps.pid, ps.seq)
    ps.seq += 1
    if rng.random() < 0.2:
        item += "." + "x" * rng.randint(1, 200)
    model.meta[item] = (ps.pid, ps.seq - 1, q)
    model.by_seq[(ps.pid, ps.seq - 1)] = item
    return item


def nm(item):
    """An item for a message (padded ones shortened)."""
    return repr(item if len(item) <= 24 else "%s...(%d bytes)" % (item[:12], len(item)))


def dead_or_error(errors, killed, ctx, ex):
    """A closed connection is the kill; before it, it is a failure."""
    if not killed.is_set():
        errors.append("%s: connection failed before the kill: %r" % (ctx, ex))


# --------------------------------------------------------------------------
# Client threads
# --------------------------------------------------------------------------

def run_producer(model, ps, port, stop, killed, ready, rng, burst, ctx):
    """Pipelines batches of RPUSH. The first `burst` batches go as fast as
    the server takes them (a backlog builds up); then one batch every 0-20
    ms, and none while the queues hold more than BACKLOG items, so the
    consumers drain them and block, whatever the relative speeds."""
    ctx = "%s producer %d" % (ctx, ps.pid)
    try:
        conn = RespConn(socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S))
    except OSError as ex:
        ps.errors.append("%s: connect: %r" % (ctx, ex))
        ready.wait(10)
        return
    try:
        ready.wait(10)
        batches = 0
        while not stop.is_set():
            batches += 1
            batch = []
            for _ in range(rng.randint(1, 4)):
                q = rng.randrange(QUEUES)
                items = [make_item(model, ps, q, rng)
                         for _ in range(rng.choice((1, 1, 1, 2, 3)))]
                ps.inflight.update(items)
                batch.append((q, items))
            pushes = [("RPUSH", qname(q)) + tuple(items) for q, items in batch]
            if rng.random() < 0.15:
                # One EXEC (one record) pushing to several queues: it
                # wakes blocked consumers when it runs.
                conn.send(("MULTI",), *pushes, ("EXEC",))
                replies = [conn.read() for _ in range(len(batch) + 2)]
                if replies[:-1] != [b"OK"] + [b"QUEUED"] * len(batch) or \
                        not isinstance(replies[-1], list) or len(replies[-1]) != len(batch):
                    ps.errors.append("%s: MULTI %r EXEC -> %r" % (ctx, pushes, replies))
                    return
                replies = replies[-1]
                ps.count("exec")
            else:
                conn.send(*pushes)
                replies = None
            for i, (q, items) in enumerate(batch):
                reply = conn.read() if replies is None else replies[i]
                if not isinstance(reply, int) or isinstance(reply, bool) or reply < len(items):
                    ps.errors.append("%s: RPUSH %s %s -> %r" % (ctx, qname(q), items, reply))
                    return
                if replies is None or i == len(batch) - 1:
                    ps.inflight.difference_update(x for _, its in batch[:i + 1] for x in its)
                    ps.acked.update(x for _, its in batch[:i + 1] for x in its)
                ps.pushes += 1
            if batches > burst:
                time.sleep(rng.uniform(0, 0.02))
                while model.backlog() > BACKLOG and not stop.is_set():
                    time.sleep(0.005)
    except (ConnectionError, OSError) as ex:
        dead_or_error(ps.errors, killed, ctx, ex)
    finally:
        conn.close()


def consumer_take(model, cs, item, q, how, ctx):
    """Bookkeeping for an acknowledged pop or move; False on a live error."""
    if not model.take(item, cs.cid, how, q, ctx):
        return False
    p, seq, _ = model.meta[item]
    last = cs.last_seq.get((q, p), -1)
    if seq <= last:
        cs.errors.append("%s: %s took %s from %s after p%d-%d: FIFO broken"
                         % (ctx, how, nm(item), qname(q), p, last))
        return False
    cs.last_seq[(q, p)] = seq
    return True


def run_consumer(model, cs, port, stop, killed, ready, rng, ctx):
    ctx = "%s consumer %d" % (ctx, cs.cid)
    proc = pname(cs.cid)
    try:
        conn = RespConn(socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S))
    except OSError as ex:
        cs.errors.append("%s: connect: %r" % (ctx, ex))
        ready.wait(10)
        return

    def lrem(item):
        cs.inflight = ("lrem", (), item)
        n = conn.call("LREM", proc, "1", item)
        cs.inflight = None
        if n != 1:
            cs.errors.append("%s: LREM %s 1 %s -> %r (BLMOVE put it there)"
                             % (ctx, proc, nm(item), n))
            return False
        model.lremmed[item] = cs.cid
        cs.count("lrem")
        return True

    try:
        ready.wait(10)
        # Recovery: whatever a crash left in the processing list is done now.
        left = conn.call("LRANGE", proc, "0", "-1")
        want = sorted(i for i, c in model.in_proc.items() if c == cs.cid)
        if not isinstance(left, list) or sorted(x.decode() for x in left) != want:
            cs.errors.append("%s: LRANGE %s -> %r, the last check saw %r" % (ctx, proc, left, want))
            return
        for x in left:
            if not lrem(x.decode()):
                return
        while not stop.is_set():
            x = rng.random()
            if x < 0.25:
                q = rng.randrange(QUEUES)
                cs.inflight = ("lpop", (q,), None)
                reply = conn.call("LPOP", qname(q))
                cs.inflight = None
                if reply is None:
                    cs.count("lpop-nil")
                    continue
                if not isinstance(reply, bytes):
                    cs.errors.append("%s: LPOP %s -> %r" % (ctx, qname(q), reply))
                    return
                item = reply.decode()
                if not consumer_take(model, cs, item, q, "LPOP", ctx):
                    return
                model.popped[item] = cs.cid
                cs.count("lpop")
            elif x < 0.6:
                qs = rng.sample(range(QUEUES), rng.randint(1, QUEUES))
                tmo = "%.3f" % rng.uniform(0.01, 0.2)
                cs.inflight = ("blpop", tuple(qs), None)
                t0 = time.monotonic()
                reply = conn.call("BLPOP", *([qname(q) for q in qs] + [tmo]))
                cs.inflight = None
                if reply is None:
                    cs.count("blpop-timeout")
                    continue
                if (not isinstance(reply, list) or len(reply) != 2
                        or reply[0] not in [qname(q).encode() for q in qs]):
                    cs.errors.append("%s: BLPOP %s %s -> %r" % (ctx, qs, tmo, reply))
                    return
                q = int(reply[0].decode().split(":")[1])
                item = reply[1].decode()
                if not consumer_take(model, cs, item, q, "BLPOP", ctx):
                    return
                model.popped[item] = cs.cid
                cs.count("blpop")
                if time.monotonic() - t0 > 0.005:
                    cs.count("blpop-waited")
            else:
                # BLMOVE, now and then its non-blocking form LMOVE.
                q = rng.randrange(QUEUES)
                tmo = "%.3f" % rng.uniform(0.01, 0.2)
                cmd = "LMOVE" if rng.random() < 0.2 else "BLMOVE"
                cs.inflight = ("blmove", (q,), None)
                t0 = time.monotonic()
                reply = conn.call(cmd, qname(q), proc, "LEFT", "RIGHT",
                                  *([tmo] if cmd == "BLMOVE" else []))
                cs.inflight = None
                if reply is None:
                    cs.count(cmd.lower() + "-nil")
                    continue
                if not isinstance(reply, bytes):
                    cs.errors.append("%s: %s %s -> %r" % (ctx, cmd, qname(q), reply))
                    return
                item = reply.decode()
                if not consumer_take(model, cs, item, q, cmd, ctx):
                    return
                model.moved[item] = cs.cid
                cs.count(cmd.lower())
                if time.monotonic() - t0 > 0.005:
                    cs.count(cmd.lower() + "-waited")
                # "Process" it, then acknowledge it; sometimes the kill
                # comes in between.
                if rng.random() < 0.3:
                    time.sleep(rng.uniform(0, 0.01))
                if not lrem(item):
                    return
    except (ConnectionError, OSError) as ex:
        dead_or_error(cs.errors, killed, ctx, ex)
    finally:
        conn.close()


def sample_blocked(port, stop, samples):
    """INFO blocked_clients now and then (evidence that blocking happened)."""
    try:
        conn = RespConn(socket.create_connection(("127.0.0.1", port), timeout=5))
    except OSError:
        return
    try:
        while not stop.is_set():
            info = conn.call("INFO", "clients")
            if isinstance(info, bytes):
                for line in info.decode().splitlines():
                    if line.startswith("blocked_clients:"):
                        samples.append(int(line.split(":")[1]))
            time.sleep(0.01)
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


# --------------------------------------------------------------------------
# The check after a restart
# --------------------------------------------------------------------------

def max_matching(cands):
    """cands: [(item, [op index...])]; return the items left unmatched
    by a maximum matching (each op explains one item at most)."""
    owner = {}

    def try_assign(i, seen):
        for op in cands[i][1]:
            if op in seen:
                continue
            seen.add(op)
            if op not in owner or try_assign(owner[op], seen):
                owner[op] = i
                return True
        return False

    return [cands[i][0] for i in range(len(cands)) if not try_assign(i, set())]


def read_lists(e, ctx):
    """Every list: {name: [item...]}; also checks there is no other key."""
    c = e.client()
    try:
        names = [qname(q) for q in range(QUEUES)] + [pname(i) for i in range(CONSUMERS)]
        lists = {n: [x.decode() for x in c.lrange(n, 0, -1)] for n in names}
        keys = sorted(k.decode() for k in c.keys("*"))
        want = sorted(n for n in names if lists[n])
        assert keys == want, "%s: keys %r, expected the non-empty lists %r" % (ctx, keys, want)
        for n in want:
            assert c.type(n) == b"list" and c.llen(n) == len(lists[n]), ctx
        return lists
    finally:
        c.close()


def verify(e, model, producers, consumers, ctx):
    lists = read_lists(e, ctx)
    err = []
    obs = {}   # item -> ("q", queue) | ("proc", consumer)
    for q in range(QUEUES):
        for item in lists[qname(q)]:
            if item in obs:
                err.append("%s is twice: in %s and %r" % (nm(item), qname(q), obs[item]))
            obs[item] = ("q", q)
    for c in range(CONSUMERS):
        for item in lists[pname(c)]:
            if item in obs:
                err.append("%s is twice: in %s and %r" % (nm(item), pname(c), obs[item]))
            obs[item] = ("proc", c)
    for item, loc in obs.items():
        if item not in model.meta:
            err.append("%s (in %r) was never pushed" % (nm(item), loc))
        elif loc[0] == "q" and model.meta[item][2] != loc[1]:
            err.append("%s is in %s, but was pushed to %s"
                       % (nm(item), qname(loc[1]), qname(model.meta[item][2])))
    if err:
        raise AssertionError("%s:\n  %s" % (ctx, "\n  ".join(err[:30])))

    # In-doubt operations: each may have happened once (or not at all).
    ops = []
    lrem_doubt = {}
    for cs in consumers:
        if cs.inflight is None:
            continue
        kind, qs, item = cs.inflight
        if kind == "lrem":
            lrem_doubt[item] = cs.cid
        else:
            ops.append((cs.cid, kind, qs))
    push_acked, push_doubt = set(), set()
    for ps in producers:
        push_acked |= ps.acked
        push_doubt |= ps.inflight

    cands = []   # (item, [ops that could explain where it is])
    relevant = (set(model.in_q) | set(model.in_proc) | push_acked | push_doubt
                | set(model.taken) | set(model.lremmed))
    for item in sorted(relevant):
        loc = obs.get(item)
        q = model.meta[item][2]
        if item in model.lremmed or item in model.popped:
            if loc is not None:
                how = "LREM" if item in model.lremmed else "pop"
                err.append("LOST POP: %s was taken by an acknowledged %s (consumer %d) and is "
                           "back in %r" % (nm(item), how, (model.lremmed.get(item)
                                                       if item in model.lremmed
                                                       else model.popped[item]), loc))
        elif item in model.moved or item in model.in_proc:
            c = model.moved.get(item, model.in_proc.get(item))
            if loc == ("proc", c):
                continue
            if loc is None and lrem_doubt.get(item) == c:
                continue
            err.append("%s was moved to %s by an acknowledged BLMOVE%s, and is %s"
                       % (nm(item), pname(c), "" if item in model.moved else " (an earlier round)",
                          "in %r" % (loc,) if loc else "gone (no LREM was in doubt)"))
        elif item in model.in_q or item in push_acked:
            if loc == ("q", q):
                continue
            if loc is None:
                why = [i for i, (c, kind, qs) in enumerate(ops)
                       if kind in ("lpop", "blpop") and q in qs]
            elif loc[0] == "proc":
                why = [i for i, (c, kind, qs) in enumerate(ops)
                       if kind == "blmove" and qs == (q,) and c == loc[1]]
            else:
                why = []
            cands.append((item, why, loc))
        else:  # an in-doubt push nobody took (acknowledged)
            if loc is None or loc == ("q", q):
                continue
            why = [i for i, (c, kind, qs) in enumerate(ops)
                   if kind == "blmove" and qs == (q,) and c == loc[1]]
            cands.append((item, why, loc))
    where = {item: loc for item, _, loc in cands}
    for item in max_matching([(item, why) for item, why, _ in cands]):
        loc = where[item]
        src = "acknowledged" if item in push_acked or item in model.in_q else "in-doubt"
        err.append("%s: %s (%s push to %s) is %s, and no in-doubt pop explains it "
                   "(in-doubt ops: %r)"
                   % ("LOST PUSH" if loc is None else "MISPLACED", nm(item), src,
                      qname(model.meta[item][2]),
                      "gone" if loc is None else "in %r" % (loc,), ops))

    # FIFO per (queue, producer): present items in push order, and a
    # contiguous run of the producer's pushes there, ending in pushes that
    # were in doubt and never ran.
    for q in range(QUEUES):
        present = [item for item in lists[qname(q)]]
        for p in range(PRODUCERS):
            mine = [model.meta[i][1] for i in present if model.meta[i][0] == p]
            if mine != sorted(mine):
                err.append("FIFO: %s holds p%d's items out of order: %r" % (qname(q), p, mine))
                continue
            if not mine:
                continue
            here = set(mine)
            sent = sorted(m[1] for i, m in model.meta.items()
                          if m[0] == p and m[2] == q and i not in model.gone
                          and m[1] >= mine[0])
            tail = False
            for seq in sent:
                item = model.by_seq[(p, seq)]
                if seq in here:
                    if tail:
                        err.append("FIFO/order: %s holds %s after an in-doubt push of p%d "
                                   "that never ran" % (qname(q), nm(item), p))
                        break
                    continue
                if item in push_doubt and item not in model.taken:
                    tail = True
                    continue
                err.append("FIFO: %s (pushed to %s) is %s, but %s, pushed before it, is "
                           "still there" % (nm(item), qname(q),
                                            "in %r" % (obs[item],) if item in obs else "gone",
                                            nm(model.by_seq[(p, mine[0])])))
                break
    if err:
        raise AssertionError("%s:\n  %s" % (ctx, "\n  ".join(err[:30])))

    # Adopt what is there as the next baseline.
    model.in_q = {i: loc[1] for i, loc in obs.items() if loc[0] == "q"}
    model.in_proc = {i: loc[1] for i, loc in obs.items() if loc[0] == "proc"}
    model.gone = set(model.meta) - set(obs)
    return lists


# --------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fsync,rounds", [("always", 5), ("everysec", 3)])
def test_list_queue_survives_kill9(engram, fsync, rounds):
    rng = random.Random("%d/%s" % (SEED, fsync))
    print("ENGRAM_CRASH_SEED=%d" % SEED)
    # Small wal-snapshot-bytes (its minimum), and no wait for a share of the
    # last snapshot's size: over the rounds automatic snapshots also cover
    # the lists, and old WAL segments go.
    e = engram("--save", "", "--appendfsync", fsync, "--wal-snapshot-bytes", "1mb",
               "--wal-snapshot-percentage", "0")
    model = Model()
    producers = model.producers = [ProducerState(p) for p in range(PRODUCERS)]
    consumers = [ConsumerState(c) for c in range(CONSUMERS)]
    samples = []
    total_taken = total_pushes = 0
    for rnd in range(rounds):
        ctx = "%s round %d (ENGRAM_CRASH_SEED=%d)" % (fsync, rnd, SEED)
        # Even rounds: consumers mostly blocked, served by pushes. Odd
        # rounds: a burst of pushes first (pops find data), then the
        # queues drain.
        burst = 0 if rnd % 2 == 0 else rng.randint(10, 40)
        model.new_round()
        for s in producers + consumers:
            s.new_round()
        stop, killed = threading.Event(), threading.Event()
        ready = threading.Barrier(PRODUCERS + CONSUMERS + 1)
        pushes_before = sum(ps.pushes for ps in producers)
        threads = [threading.Thread(target=run_producer, daemon=True,
                                    args=(model, ps, e.port, stop, killed, ready,
                                          random.Random(rng.random()), burst, ctx))
                   for ps in producers]
        threads += [threading.Thread(target=run_consumer, daemon=True,
                                     args=(model, cs, e.port, stop, killed, ready,
                                           random.Random(rng.random()), ctx))
                    for cs in consumers]
        threads.append(threading.Thread(target=sample_blocked, daemon=True,
                                        args=(e.port, stop, samples)))
        for t in threads:
            t.start()
        ready.wait(10)
        # The kill timer starts once something was both pushed and taken
        # (bounded wait), so a slow machine still crashes mid-stream.
        deadline = time.monotonic() + 10
        while (time.monotonic() < deadline
               and (sum(ps.pushes for ps in producers) == pushes_before or not model.taken)):
            time.sleep(0.002)
        kill_after = rng.uniform(0.05, 0.6)
        if rnd % 3 == 2:
            # A snapshot (with the lists) is being written, or was just
            # written, when the kill comes: recovery loads it and replays
            # the WAL after it.
            t_bg = kill_after * rng.random()
            time.sleep(t_bg)
            with e.client() as c:
                c.bgsave()
            time.sleep(kill_after - t_bg)
        else:
            time.sleep(kill_after)
        killed.set()
        e.kill()
        stop.set()
        for t in threads:
            t.join(20)
            assert not t.is_alive(), ctx + ": a client thread did not stop"
        errors = model.errors[:]
        for s in producers + consumers:
            errors += s.errors
        assert not errors, "%s:\n  %s" % (ctx, "\n  ".join(errors))
        pushes = sum(ps.pushes for ps in producers) - pushes_before
        taken = len(model.taken)
        assert pushes > 0 and taken > 0, \
            "%s: nothing acknowledged before the kill (%d pushes, %d taken)" % (ctx, pushes,
                                                                                 taken)
        total_pushes += pushes
        total_taken += taken
        start_after_crash(e)
        assert loaded_line(e.read_log()), e.read_log()
        lists = verify(e, model, producers, consumers, ctx)
        log = e.read_log()
        snap = [line.split("* ", 1)[-1] for line in log.splitlines()
                if line.split("* ", 1)[-1].startswith("Snapshot") and "loaded" in line]
        print("%s: %d RPUSH and %d pops acknowledged, killed after %.0f ms; in doubt: %s; "
              "left %s; %s" % (
                  ctx, pushes, taken, kill_after * 1000,
                  [cs.inflight[0] for cs in consumers if cs.inflight]
                  + ["%d pushes" % sum(len(ps.inflight) for ps in producers)],
                  {k: len(v) for k, v in lists.items() if v},
                  "; ".join(snap + [loaded_line(log).split("* ", 1)[-1]])))
    stats = {}
    for cs in consumers + producers:
        for k, v in cs.stats.items():
            stats[k] = stats.get(k, 0) + v
    print("%s totals: %d RPUSH, %d taken, ops %r, blocked_clients samples: max %d, "
          "mean %.2f" % (fsync, total_pushes, total_taken, stats, max(samples or [0]),
                         sum(samples) / max(len(samples), 1)))
    # The blocking paths ran (clients blocked, and pops were served).
    assert max(samples or [0]) > 0, "no client was ever seen blocked: %r" % stats
    assert stats.get("blpop", 0) > 0 and stats.get("blmove", 0) > 0, stats

    # A clean shutdown keeps exactly the same lists.
    before = read_lists(e, "before clean shutdown")
    assert e.shutdown() == 0
    e.start()
    assert read_lists(e, "after clean shutdown (ENGRAM_CRASH_SEED=%d)" % SEED) == before


# --------------------------------------------------------------------------
# A served blocked pop inside the fsync window (D1, D2)
# --------------------------------------------------------------------------
#
# A kill -9 cannot show a reply sent before fsync (the record was written
# with write(2) first and survives in the page cache), so these hold the
# fsync back with DEBUG ERRINJ wal-fsync-delay (debug/ASan builds) and time
# the replies, as test_txn_crash.py does for EXEC.

DELAY_S = 1.0


class Timed:
    """A raw connection whose replies are timestamped as they arrive."""

    def __init__(self, e, name):
        self.name = name
        self.conn = e.raw(timeout=30)
        self.replies = []   # (monotonic time, reply)
        self.closed = False

    def poll(self):
        if self.closed:
            return
        while True:
            r = _parse(self.conn.buf, 0)
            if r is not None:
                self.conn.buf = self.conn.buf[r[1]:]
                self.replies.append((time.monotonic(), r[0]))
                continue
            if not select.select([self.conn.sock], [], [], 0)[0]:
                return
            try:
                chunk = self.conn.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                return
            self.conn.buf += chunk


def wait_replies(conns, want, deadline):
    """Poll until each conn has want[name] replies (or is closed), bounded."""
    while time.monotonic() < deadline:
        pending = [c for c in conns if not c.closed and len(c.replies) < want[c.name]]
        if not pending:
            return
        select.select([c.conn.sock for c in pending], [], [], 0.005)
        for c in pending:
            c.poll()


def info_int(e, field, section="persistence"):
    return int(e.info(section)[field])


def arm_fsync_delay(e, ms):
    with e.client() as c:
        try:
            reply = c.execute_command("DEBUG", "ERRINJ", "wal-fsync-delay", str(ms))
        except Exception as ex:  # a release build: no fault injection
            pytest.skip("DEBUG ERRINJ wal-fsync-delay unavailable: %r" % ex)
        assert reply in (b"OK", "OK", True), reply


def served_pops_in_flight(e):
    """Three clients blocked (BLPOP lq:0, BLMOVE lq:1 -> lproc:0, BRPOP
    lq:2), the fsync delay armed, then one pipeline of pushes that serves
    them all. Returns (conns, time the pushes were sent) once the pushes
    and the three served pops are logged and not yet durable."""
    with e.client() as c:
        c.set("other", "o")
    waiters = {"blpop": Timed(e, "blpop"), "blmove": Timed(e, "blmove"),
               "brpop": Timed(e, "brpop")}
    waiters["blpop"].conn.send(("BLPOP", "lq:0", "0"))
    waiters["blmove"].conn.send(("BLMOVE", "lq:1", "lproc:0", "LEFT", "RIGHT", "0"))
    waiters["brpop"].conn.send(("BRPOP", "lq:2", "0"))
    deadline = time.monotonic() + 10
    while info_int(e, "blocked_clients", "clients") < 3:
        assert time.monotonic() < deadline, "the three pops did not block"
        time.sleep(0.005)
    lsn0 = info_int(e, "wal_lsn")
    assert info_int(e, "durable_lsn") == lsn0
    arm_fsync_delay(e, int(DELAY_S * 1000))
    prod = Timed(e, "producer")
    t0 = time.monotonic()
    prod.conn.send(("RPUSH", "lq:0", "a1", "a2"), ("RPUSH", "lq:1", "b1", "b2"),
                   ("RPUSH", "lq:2", "c1", "c2"))
    while True:
        info = e.info()
        lsn, durable = int(info["wal_lsn"]), int(info["durable_lsn"])
        if lsn >= lsn0 + 6:
            break
        assert time.monotonic() < t0 + DELAY_S * 0.5, \
            "pushes and served pops not logged in time (wal_lsn %d, was %d)" % (lsn, lsn0)
        time.sleep(0.002)
    assert lsn == lsn0 + 6, "expected 3 pushes + 3 served pops, got %d records" % (lsn - lsn0)
    assert durable < lsn, "already durable: the fsync delay did not apply"
    assert time.monotonic() < t0 + DELAY_S * 0.5, "too slow to test inside the window"
    return dict(waiters, producer=prod), t0, lsn0


def wal_effects(e, first_lsn):
    """[(lsn, [effect...])] of the records from first_lsn on; an effect is
    a list of bytes [db, COMMAND, args...]."""
    out = []
    for name in sorted(n for n in os.listdir(e.wal_dir()) if n.endswith(".wal")):
        _, recs, _ = read_segment(os.path.join(e.wal_dir(), name))
        for r in recs:
            if r.lsn < first_lsn:
                continue
            out.append((r.lsn, effects_of(r.body)))
    return out


def list_state(e):
    with e.client() as c:
        return {k: c.lrange(k, 0, -1) for k in ("lq:0", "lq:1", "lq:2", "lproc:0")}


def test_served_blocked_pop_reply_waits_for_fsync(engram):
    e = engram("--save", "")
    conns, t0, lsn0 = served_pops_in_flight(e)
    durable_at = t0 + DELAY_S   # the earliest the pushes can be durable
    readers = {"lrange": Timed(e, "lrange"), "proc": Timed(e, "proc"),
               "unrelated": Timed(e, "unrelated")}
    readers["lrange"].conn.send(("LRANGE", "lq:0", "0", "-1"))
    readers["proc"].conn.send(("LRANGE", "lproc:0", "0", "-1"))
    readers["unrelated"].conn.send(("GET", "other"))
    conns.update(readers)
    want = {name: (3 if name == "producer" else 1) for name in conns}
    wait_replies(list(conns.values()), want, time.monotonic() + DELAY_S + 20)
    got = {n: [r for _, r in c.replies] for n, c in conns.items()}
    at = {n: ["%.3f" % (t - t0) for t, _ in c.replies] for n, c in conns.items()}
    ctx = "replies %r at seconds after the pushes were sent %r" % (got, at)
    print(ctx)
    assert got == {"producer": [2, 2, 2], "blpop": [[b"lq:0", b"a1"]], "blmove": [b"b1"],
                   "brpop": [[b"lq:2", b"c2"]], "lrange": [[b"a2"]], "proc": [[b"b1"]],
                   "unrelated": [b"o"]}, ctx
    # The server kept serving what does not depend on the window.
    assert conns["unrelated"].replies[0][0] < t0 + DELAY_S * 0.5, ctx
    # D1: neither the pushes nor the pops they served were acknowledged
    # before durable; D2: nobody saw the lists after the pops before that.
    for name in ("producer", "blpop", "blmove", "brpop", "lrange", "proc"):
        assert conns[name].replies[0][0] >= durable_at, \
            "%s answered before the records were durable: %s" % (name, ctx)
    arm_fsync_delay(e, "off")
    for c in conns.values():
        c.conn.close()
    e.kill()
    # The served pops are logged as their non-blocking forms.
    effs = [eff for _, rec in wal_effects(e, lsn0 + 1) for eff in rec]
    assert sorted(effs) == sorted([
        [b"0", b"RPUSH", b"lq:0", b"a1", b"a2"], [b"0", b"RPUSH", b"lq:1", b"b1", b"b2"],
        [b"0", b"RPUSH", b"lq:2", b"c1", b"c2"], [b"0", b"LPOP", b"lq:0", b"1"],
        [b"0", b"LMOVE", b"lq:1", b"lproc:0", b"LEFT", b"RIGHT"],
        [b"0", b"RPOP", b"lq:2", b"1"]]), effs
    e.start()
    assert list_state(e) == {"lq:0": [b"a2"], "lq:1": [b"b2"], "lq:2": [b"c1"],
                             "lproc:0": [b"b1"]}


def test_kill_while_served_pops_wait_for_fsync(engram):
    """kill -9 while the served pops wait for their fsync: no reply was
    sent; after the restart each push and each pop is there or not, never
    an item in two places or lost between them."""
    e = engram("--save", "")
    conns, t0, _ = served_pops_in_flight(e)
    want = {"producer": 3, "blpop": 1, "blmove": 1, "brpop": 1}
    wait_replies(list(conns.values()), want, t0 + DELAY_S * 0.6)
    assert time.monotonic() < t0 + DELAY_S * 0.9, "too slow to kill inside the window"
    e.kill()
    wait_replies(list(conns.values()), want, time.monotonic() + 10)
    got = {n: [r for _, r in c.replies] for n, c in conns.items()}
    assert all(c.closed for c in conns.values()), got
    assert got == {"producer": [], "blpop": [], "blmove": [], "brpop": []}, \
        "replies sent before the records were durable: %r" % got
    for c in conns.values():
        c.conn.close()
    e.start()
    st = list_state(e)
    print("after the kill inside the window: %r" % st)
    assert st["lq:0"] in ([], [b"a1", b"a2"], [b"a2"]), st
    assert (st["lq:1"], st["lproc:0"]) in (([], []), ([b"b1", b"b2"], []),
                                           ([b"b2"], [b"b1"])), st
    assert st["lq:2"] in ([], [b"c1", b"c2"], [b"c1"]), st
