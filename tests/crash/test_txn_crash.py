"""
Crash tests for MULTI/EXEC/WATCH (docs/transactions.md, "Durability"):

  1. bank transfers under kill -9: concurrent WATCH/MULTI/DECRBY/INCRBY/EXEC
     writers, the server killed at a random moment, restarted on the same
     directory; money is conserved and every balance is explained by the
     acknowledged transfers plus some subset of the in-doubt ones (issue 4:
     an EXEC is one WAL record, wholly present or wholly absent);
  2. a torn or corrupt last EXEC record is cut off as a whole (D5,
     docs/formats/wal.md "Rules");
  3. a rolled-back (or discarded, or WATCH-failed) EXEC writes nothing to
     the WAL;
  4. D2 for transactions: a key written by an EXEC is not shown to another
     client before the EXEC's record is durable (DEBUG ERRINJ
     wal-fsync-delay widens the window; debug/ASan builds only).

"Acknowledged" means the EXEC reply was read from the socket. A transfer
whose EXEC was sent but whose reply never came (the kill closed the
connection) is "in doubt": it may or may not be there after the restart,
but never half.

Set ENGRAM_CRASH_SEED to replay a random schedule; the seed in use is
printed (pytest -s) and is part of every failure message.
"""
import os
import random
import select
import socket
import subprocess
import threading
import time

import pytest

from crashutil import (RECORD_HEADER, RespConn, RespError, ServerExited, _parse,
                       check_sanitizers, effects_of, flip_byte, loaded_line, loaded_records,
                       read_segment)
from crashutil import engram  # noqa: F401 (fixture)
from crashutil import assert_zero_tail, skip_against_redis

pytestmark = skip_against_redis

SEED = int(os.environ.get("ENGRAM_CRASH_SEED", random.randrange(1 << 30)))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.environ.get("ENGRAM_CHECK", os.path.join(ROOT, "build", "asan", "engram-check"))


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

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


def engram_check(*args):
    """Run engram-check; return (exit code, stdout, stderr)."""
    assert os.path.exists(CHECK), "%s is missing: run `make asan`" % CHECK
    p = subprocess.run([CHECK] + [str(a) for a in args], capture_output=True, timeout=60,
                       text=True, errors="replace")
    check_sanitizers(p.stdout + p.stderr)
    return p.returncode, p.stdout, p.stderr


def all_records(e):
    """Every record of every segment, oldest first."""
    names = sorted(n for n in os.listdir(e.wal_dir()) if n.endswith(".wal"))
    recs = []
    for name in names:
        recs += read_segment(os.path.join(e.wal_dir(), name), check_crc=False)[1]
    return recs


def info_lsns(e):
    info = e.info()
    return int(info["wal_lsn"]), int(info["durable_lsn"])


def run_txn(conn, *cmds):
    """MULTI, cmds, EXEC on a RespConn; return EXEC's reply."""
    assert conn.call("MULTI") == b"OK"
    for cmd in cmds:
        reply = conn.call(*cmd)
        assert reply == b"QUEUED", (cmd, reply)
    return conn.call("EXEC")


# --------------------------------------------------------------------------
# 1. bank transfers under kill -9
# --------------------------------------------------------------------------

ACCOUNTS = 20
INITIAL = 1000
WRITERS = 6
TRANSFER_ROUNDS = 6
MAX_RETRIES = 200


def acct(i):
    return "acct:%02d" % i


class Transferer:
    """One writer thread's view, reset at every round."""

    def __init__(self, tid):
        self.tid = tid
        self.acked = []        # (a, b, amt) whose EXEC reply arrived
        self.in_doubt = None   # (a, b, amt) whose EXEC was sent, reply not read
        self.conflicts = 0     # EXEC -> null (a watched key changed)
        self.errors = []

    def reset(self):
        self.acked, self.in_doubt = [], None


def transfer_writer(st, port, stop, ready, rng):
    try:
        conn = RespConn(socket.create_connection(("127.0.0.1", port), timeout=10))
    except OSError as ex:
        st.errors.append("connect: %r" % ex)
        ready.wait(5)
        return
    try:
        ready.wait(5)
        while not stop.is_set():
            a, b = rng.sample(range(ACCOUNTS), 2)
            amt = rng.randint(1, 100)
            ka, kb = acct(a), acct(b)
            for _ in range(MAX_RETRIES):
                if stop.is_set():
                    return
                reply = conn.call("WATCH", ka, kb)
                if reply != b"OK":
                    st.errors.append("WATCH -> %r" % (reply,))
                    return
                seen = conn.call("MGET", ka, kb)
                if not (isinstance(seen, list) and len(seen) == 2 and None not in seen):
                    st.errors.append("MGET %s %s -> %r" % (ka, kb, seen))
                    return
                st.in_doubt = (a, b, amt)
                conn.send(("MULTI",), ("DECRBY", ka, amt), ("INCRBY", kb, amt), ("EXEC",))
                replies = [conn.read() for _ in range(4)]
                if replies[:3] != [b"OK", b"QUEUED", b"QUEUED"]:
                    st.errors.append("MULTI/DECRBY/INCRBY -> %r" % (replies[:3],))
                    return
                exec_reply = replies[3]
                if exec_reply is None:     # a watched key changed: nothing ran
                    st.in_doubt = None
                    st.conflicts += 1
                    continue
                want = [int(seen[0]) - amt, int(seen[1]) + amt]
                if exec_reply != want:
                    # With WATCH, nobody wrote a or b between the MGET and
                    # the EXEC: the results follow from what MGET saw.
                    st.errors.append("transfer %s -> %s of %d: EXEC -> %r, MGET saw %r, "
                                     "expected %r" % (ka, kb, amt, exec_reply, seen, want))
                    return
                st.acked.append((a, b, amt))
                st.in_doubt = None
                break
            else:
                st.errors.append("transfer %s -> %s: %d conflicts in a row" % (ka, kb,
                                                                               MAX_RETRIES))
                return
    except (ConnectionError, OSError):
        pass  # the kill
    finally:
        conn.close()


def explain_balances(base, acked, doubts, got, ctx):
    """Return the subset of doubts (a list) that, with every acknowledged
    transfer, turns base into got exactly; fail if there is none."""
    want = list(base)
    for a, b, amt in acked:
        want[a] -= amt
        want[b] += amt
    diff = [g - w for g, w in zip(got, want)]
    assert len(doubts) <= 16, "%s: %d transfers in doubt, too many to search" % (ctx, len(doubts))
    for mask in range(1 << len(doubts)):
        d = [0] * ACCOUNTS
        chosen = []
        for j, (a, b, amt) in enumerate(doubts):
            if mask >> j & 1:
                d[a] -= amt
                d[b] += amt
                chosen.append(doubts[j])
        if d == diff:
            return chosen
    bad = {acct(i): (got[i], want[i]) for i in range(ACCOUNTS) if diff[i]}
    pytest.fail("%s: no subset of the %d in-doubt transfers %r explains the balances; "
                "accounts whose balance after the restart differs from the previous "
                "balance plus the acknowledged transfers, as (got, expected): %r"
                % (ctx, len(doubts), doubts, bad))


def read_balances(e, ctx):
    with e.client() as c:
        vals = c.mget([acct(i) for i in range(ACCOUNTS)])
    assert None not in vals, "%s: an account is missing: %r" % (ctx, vals)
    return [int(v) for v in vals]


def check_transfer_records(e, ctx):
    """Issue 4 on disk: every record is the initial MSET, a whole transfer
    (the canonical effects of DECRBY a amt and INCRBY b amt, nothing else),
    or the INCR of the BGSAVE transaction."""
    for r in all_records(e):
        effs = effects_of(r.body)
        cmds = [x[1].upper() for x in effs]
        if len(effs) == 1 and cmds[0] == b"MSET":
            continue
        if len(effs) == 1 and cmds[0] in (b"INCR", b"INCRBY") and effs[0][2] == b"bgsaves":
            continue
        assert cmds in ([b"DECRBY", b"INCRBY"], [b"INCRBY", b"INCRBY"]), \
            "%s: a record that is not one whole transfer: %r: %r" % (ctx, r, effs)
        a, b = effs[0][2], effs[1][2]
        da = -int(effs[0][3]) if cmds[0] == b"DECRBY" else int(effs[0][3])
        db = int(effs[1][3])
        assert a.startswith(b"acct:") and b.startswith(b"acct:") and a != b, (ctx, r, effs)
        assert da < 0 and da == -db, "%s: not a transfer: %r: %r" % (ctx, r, effs)


@pytest.mark.parametrize("fsync,rounds", [("always", TRANSFER_ROUNDS), ("everysec", 3)])
def test_transfers_survive_kill9(engram, fsync, rounds):
    """Money is conserved and every acknowledged transfer survives kill -9;
    in-doubt transfers are wholly there or wholly absent. With everysec the
    EXEC reply leaves after write(2), not fsync: a kill -9 (not a power
    cut) must still lose nothing acknowledged."""
    rng = random.Random(SEED)
    print("ENGRAM_CRASH_SEED=%d" % SEED)
    e = engram("--save", "", "--appendfsync", fsync)
    with e.client() as c:
        assert c.mset({acct(i): INITIAL for i in range(ACCOUNTS)})
    total = INITIAL * ACCOUNTS
    base = [INITIAL] * ACCOUNTS
    states = [Transferer(t) for t in range(WRITERS)]
    t_start = time.monotonic()
    stats = []
    for rnd in range(rounds):
        ctx = "transfers %s round %d (ENGRAM_CRASH_SEED=%d)" % (fsync, rnd, SEED)
        for st in states:
            st.reset()
        conflicts_before = sum(st.conflicts for st in states)
        stop = threading.Event()
        ready = threading.Barrier(WRITERS + 1)
        threads = [threading.Thread(target=transfer_writer, daemon=True,
                                    args=(st, e.port, stop, ready, random.Random(rng.random())))
                   for st in states]
        for t in threads:
            t.start()
        ready.wait(10)
        # The kill timer starts at the first acknowledgement (bounded wait).
        deadline = time.monotonic() + 10
        while not any(st.acked for st in states) and time.monotonic() < deadline:
            time.sleep(0.002)
        kill_after = rng.uniform(0.3, 1.5)
        if rnd % 3 == 2:
            # A snapshot started from inside an EXEC (it runs right after the
            # EXEC is logged) is being written, or has just been, at the kill:
            # recovery loads it and replays the WAL after its lsn.
            t_bg = kill_after * rng.random()
            time.sleep(t_bg)
            r = e.raw()
            try:
                reply = run_txn(r, ("INCR", "bgsaves"), ("BGSAVE",))
                assert isinstance(reply, list) and len(reply) == 2, reply
            finally:
                r.close()
            time.sleep(kill_after - t_bg)
        else:
            time.sleep(kill_after)
        e.kill()
        stop.set()
        for t in threads:
            t.join(15)
            assert not t.is_alive(), ctx + ": writer did not stop"
        for st in states:
            assert not st.errors, "%s: writer %d: %s" % (ctx, st.tid, st.errors)
        acked = [x for st in states for x in st.acked]
        doubts = [st.in_doubt for st in states if st.in_doubt is not None]
        assert acked, ctx + ": no transfer was acknowledged before the kill"
        rc, out, err = engram_check("verify", e.dir)
        assert rc == 0, "%s: engram-check verify after the kill:\n%s%s" % (ctx, out, err)

        start_after_crash(e)
        assert loaded_line(e.read_log()), e.read_log()
        got = read_balances(e, ctx)
        assert sum(got) == total, "%s: balances sum to %d, not %d: %r" % (ctx, sum(got),
                                                                           total, got)
        applied = explain_balances(base, acked, doubts, got, ctx)
        check_transfer_records(e, ctx)
        conflicts = sum(st.conflicts for st in states) - conflicts_before
        stats.append((len(acked), len(doubts), len(applied), conflicts))
        print("%s: %d transfers acknowledged, %d conflicts, killed after %.0f ms, "
              "%d in doubt of which %d present; %s" % (
                  ctx, len(acked), conflicts, kill_after * 1000, len(doubts), len(applied),
                  loaded_line(e.read_log()).split("* ", 1)[-1]))
        base = got
    # A clean restart keeps the same balances.
    assert e.shutdown() == 0
    e.start()
    assert read_balances(e, "after clean shutdown") == base
    print("transfers %s: %d rounds in %.1f s; (acked, in doubt, present, conflicts): %r"
          % (fsync, rounds, time.monotonic() - t_start, stats))
    assert sum(s[3] for s in stats) > 0, "no WATCH conflict at all: the test is too gentle"


# --------------------------------------------------------------------------
# 2. a torn or corrupt last EXEC record
# --------------------------------------------------------------------------

TXNS = 3
BIG = 50000  # bytes of the MSET value in each transaction: cuts land inside it


def txn_cmds(i):
    return [("MSET", "tx%d:a" % i, ("A%d" % i) * (BIG // 2), "tx%d:b" % i, "B%d" % i),
            ("INCRBY", "total", 10 * i),
            ("SET", "last", "tx%d" % i),
            ("APPEND", "log", "%d;" % i)]


def check_txns(e, present, ctx):
    """Transactions 1..present are there, every later one wholly absent."""
    with e.client() as c:
        for i in range(1, TXNS + 1):
            a, b = c.mget("tx%d:a" % i, "tx%d:b" % i)
            if i <= present:
                assert a == ("A%d" % i).encode() * (BIG // 2) and b == b"B%d" % i, \
                    "%s: transaction %d (acknowledged, before the damage) is not whole" % (ctx, i)
            else:
                assert a is None and b is None, "%s: transaction %d is partly there" % (ctx, i)
        assert c.get("total") == str(sum(10 * i for i in range(1, present + 1))).encode(), ctx
        assert c.get("last") == ("tx%d" % present).encode(), ctx
        assert c.get("log") == "".join("%d;" % i for i in range(1, present + 1)).encode(), ctx
        assert c.get("pre") == b"1", ctx
        assert c.dbsize() == 4 + 2 * present, (ctx, sorted(c.keys()))


def stopped_after_txns(engram):
    e = engram("--save", "")
    r = e.raw()
    assert r.call("SET", "pre", "1") == b"OK"
    for i in range(1, TXNS + 1):
        reply = run_txn(r, *txn_cmds(i))
        assert reply == [b"OK", sum(10 * j for j in range(1, i + 1)), b"OK", 2 * i], reply
    r.close()
    e.kill()
    path = e.newest_wal()
    first, recs, end = read_segment(path)
    assert_zero_tail(path, end)
    assert [r.lsn for r in recs] == list(range(1, TXNS + 2)), recs
    last = recs[-1]
    effs = effects_of(last.body)
    assert [x[1].upper() for x in effs] == [b"MSET", b"INCRBY", b"SET", b"APPEND"], effs
    return e, path, last


def offset_in_body(rec, needle, nth=0):
    """File offset of the nth occurrence of needle in rec's body."""
    pos = -1
    for _ in range(nth + 1):
        pos = rec.body.index(needle, pos + 1)
    return rec.offset + RECORD_HEADER + pos


def assert_torn_tail_recovered(e, path, last, ctx):
    rc, out, err = engram_check("verify", e.dir)
    cut = last.batch_offset  # the EXEC's own batch: the client waited for every reply
    assert rc == 0 and "torn tail" in out + err and "offset %d" % cut in out + err, \
        "%s: engram-check verify: rc %d\n%s%s" % (ctx, rc, out, err)
    e.start()
    log = e.read_log()
    lines = [l for l in log.splitlines() if path in l and "offset %d" % cut in l]
    assert lines and "torn" in lines[0], "%s: no log line naming the truncation:\n%s" % (ctx, log)
    assert loaded_records(log) == TXNS, log
    assert os.path.getsize(path) == cut, ctx
    check_txns(e, TXNS - 1, ctx)
    # The log goes on from the cut: the next EXEC reuses the lsn, densely,
    # and is there after another kill.
    r = e.raw()
    assert run_txn(r, *txn_cmds(TXNS)) == [b"OK", sum(10 * j for j in range(1, TXNS + 1)),
                                           b"OK", 2 * TXNS]
    r.close()
    e.kill()
    first, recs, end = read_segment(path)
    assert [x.lsn for x in recs] == list(range(1, TXNS + 2))
    assert_zero_tail(path, end)
    e.start()
    check_txns(e, TXNS, ctx + ", after the EXEC written again")


@pytest.mark.parametrize("cut", ["in-header", "in-first-effect", "after-first-effect",
                                 "in-last-effect", "one-byte-short"])
def test_torn_exec_record_is_cut_as_a_whole(engram, cut):
    e, path, last = stopped_after_txns(engram)
    size = {"in-header": last.offset + 10,
            # inside the MSET's big value
            "in-first-effect": last.offset + RECORD_HEADER + len(last.body) // 2,
            # the MSET whole, the INCRBY effect started (its db, k and
            # name length bytes, then 3 bytes of "INCRBY")
            "after-first-effect": offset_in_body(last, b"INCRBY") + 3,
            # the APPEND effect up to the "l" of its key "log"
            "in-last-effect": offset_in_body(last, b"APPEND\x03log") + 8,
            "one-byte-short": last.end - 1}[cut]
    os.truncate(path, size)
    assert_torn_tail_recovered(e, path, last, "cut %s at %d" % (cut, size))


@pytest.mark.parametrize("where", ["mset-value", "incrby-arg", "append-arg", "crc",
                                   "body-length"])
def test_corrupt_last_exec_record_is_a_torn_tail(engram, where):
    """docs/formats/wal.md: a bad record (length, lsn, CRC) in
    the newest segment's last batch is a torn tail: cut at
    start-up, the file and offset logged. For an EXEC record that means the
    whole transaction is gone, not the effects before the damage."""
    e, path, last = stopped_after_txns(engram)
    off = {"mset-value": last.offset + RECORD_HEADER + len(last.body) // 2,
           # the 3 of "30" (the key, the 1-byte length 2, then "30")
           "incrby-arg": offset_in_body(last, b"total\x0230") + 6,
           # the 3 of "3;", the body's last two bytes
           "append-arg": last.end - 2,
           "crc": last.offset + 20,
           "body-length": last.offset}[where]
    want = {"incrby-arg": b"30", "append-arg": b"3;"}.get(where)
    if want:  # the v3 body layout puts the argument where the test means it to be
        at = off - last.offset - RECORD_HEADER
        assert last.body[at:at + 2] == want, (where, last.body[max(at - 12, 0):at + 4])
    flip_byte(path, off, 0x04)
    assert_torn_tail_recovered(e, path, last, "flip %s at %d" % (where, off))


# --------------------------------------------------------------------------
# 3. rolled back, discarded and WATCH-failed EXECs write nothing
# --------------------------------------------------------------------------

def test_failed_exec_leaves_nothing_in_the_wal(engram):
    e = engram("--save", "")
    r = e.raw()
    assert r.call("MSET", "rb:keep", "kept", "rb:ctr", "10", "rb:notnum", "abc") == b"OK"
    assert r.call("SET", "rb:app", "x") == b"OK"
    lsn0, durable0 = info_lsns(e)
    assert lsn0 == durable0 == 2

    # Rolled back at run time: the last command fails.
    reply = run_txn(r, ("SET", "rb:x", "1"), ("DEL", "rb:keep"), ("INCRBY", "rb:ctr", "5"),
                    ("APPEND", "rb:app", "yz"), ("SET", "rb:new", "n", "EX", "100"),
                    ("INCR", "rb:notnum"))
    assert isinstance(reply, RespError), reply
    assert str(reply).startswith("EXECABORT Transaction rolled back: command 6 (INCR) failed:"), \
        reply
    # Rolled back: the first command fails.
    reply = run_txn(r, ("INCR", "rb:notnum"), ("SET", "rb:x2", "1"))
    assert isinstance(reply, RespError) and "command 1 (INCR)" in str(reply), reply
    # Discarded: a command refused while queueing.
    assert r.call("MULTI") == b"OK"
    assert r.call("SET", "rb:x3", "1") == b"QUEUED"
    assert isinstance(r.call("NOSUCHCOMMAND", "rb:x3"), RespError)
    reply = r.call("EXEC")
    assert isinstance(reply, RespError) and str(reply).startswith("EXECABORT Transaction discarded")
    # WATCH failed: the watched key changed (another client).
    assert r.call("WATCH", "rb:ctr") == b"OK"
    with e.client() as c:
        c.set("rb:ctr", "11")
    assert run_txn(r, ("SET", "rb:x4", "1"), ("INCR", "rb:ctr")) is None
    # DISCARD.
    assert r.call("MULTI") == b"OK"
    assert r.call("SET", "rb:x5", "1") == b"QUEUED"
    assert r.call("DISCARD") == b"OK"

    # Exactly one record since (the other client's SET), and the keyspace
    # is as before.
    lsn1, durable1 = info_lsns(e)
    assert lsn1 == lsn0 + 1 and durable1 == lsn1
    assert r.call("MGET", "rb:keep", "rb:ctr", "rb:notnum", "rb:app") == \
        [b"kept", b"11", b"abc", b"x"]
    assert r.call("EXISTS", "rb:x", "rb:x2", "rb:x3", "rb:x4", "rb:x5", "rb:new") == 0
    # A good EXEC after all that gets the next lsn.
    assert run_txn(r, ("SET", "rb:after", "1"), ("INCR", "rb:ctr")) == [b"OK", 12]
    assert info_lsns(e) == (lsn1 + 1, lsn1 + 1)
    r.close()
    e.kill()

    # The dump is exactly the four acknowledged writes, densely numbered.
    rc, out, err = engram_check("dump", e.dir)
    assert rc == 0, out + err
    lines = out.splitlines()
    assert [l.split()[0] for l in lines] == ["lsn=%d" % i for i in range(1, 5)], out
    assert [l.split(" ", 2)[2] for l in lines] == [
        'db=0 MSET "rb:keep" "kept" "rb:ctr" "10" "rb:notnum" "abc"',
        'db=0 SET "rb:app" "x"',
        'db=0 SET "rb:ctr" "11"',
        'db=0 SET "rb:after" "1" ; db=0 INCRBY "rb:ctr" "1"'], out
    for rec in all_records(e):
        assert b"rb:x" not in rec.body and b"rb:new" not in rec.body, rec

    e.start()
    assert loaded_records(e.read_log()) == lsn1 + 1
    with e.client() as c:
        assert c.mget("rb:keep", "rb:ctr", "rb:notnum", "rb:app", "rb:after") == \
            [b"kept", b"12", b"abc", b"x", b"1"]
        assert c.exists("rb:x", "rb:x2", "rb:x3", "rb:x4", "rb:x5", "rb:new") == 0
        assert c.ttl("rb:keep") == -1
        assert c.dbsize() == 5


# --------------------------------------------------------------------------
# 4. D2: an EXEC's keys are not shown before its record is durable
# --------------------------------------------------------------------------

DELAY_S = 1.0


def arm_fsync_delay(e, ms):
    with e.client() as c:
        try:
            reply = c.execute_command("DEBUG", "ERRINJ", "wal-fsync-delay", str(ms))
        except Exception as ex:  # a release build: no fault injection
            pytest.skip("DEBUG ERRINJ wal-fsync-delay unavailable: %r" % ex)
        assert reply in (b"OK", "OK", True), reply


class Timed:
    """A raw connection whose replies are timestamped as they complete."""

    def __init__(self, e, name):
        self.name = name
        self.conn = e.raw(timeout=30)
        self.replies = []   # (monotonic time, reply)
        self.closed = False

    def poll(self):
        """Take what has arrived (non-blocking)."""
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
            chunk = self.conn.sock.recv(65536)
            if not chunk:
                self.closed = True
                return
            self.conn.buf += chunk


def wait_replies(conns, want, deadline):
    """Poll conns until each has want[name] replies (or closed), bounded."""
    while time.monotonic() < deadline:
        pending = [c for c in conns if not c.closed and len(c.replies) < want[c.name]]
        if not pending:
            return
        select.select([c.conn.sock for c in pending], [], [], 0.005)
        for c in pending:
            try:
                c.poll()
            except OSError:
                c.closed = True


def exec_in_flight(e):
    """Set k/n, arm the fsync delay, send an EXEC writing both; return
    (writer, time the EXEC was sent, lsn of the EXEC's record), once the
    record is appended and not yet durable."""
    with e.client() as c:
        c.set("k", "old")
        c.set("n", "10")
        c.set("other", "o")
    lsn0, durable0 = info_lsns(e)
    assert lsn0 == durable0
    arm_fsync_delay(e, int(DELAY_S * 1000))
    w = Timed(e, "writer")
    t_exec = time.monotonic()
    w.conn.send(("MULTI",), ("SET", "k", "new"), ("INCRBY", "n", "5"), ("EXEC",))
    deadline = time.monotonic() + 5
    while True:
        lsn, durable = info_lsns(e)
        if lsn > lsn0:
            break
        assert time.monotonic() < deadline, "the EXEC was not logged in 5 s"
        time.sleep(0.005)
    assert lsn == lsn0 + 1
    # The fsync of the record started after EXEC was received (>= t_exec)
    # and sleeps DELAY_S first: it cannot be durable before t_exec + DELAY_S.
    assert durable < lsn, "the EXEC's record is durable already: the delay did not apply"
    assert time.monotonic() < t_exec + DELAY_S * 0.5, "too slow to test inside the window"
    return w, t_exec, lsn


def test_exec_writes_are_not_visible_before_durable(engram):
    e = engram("--save", "")
    w, t_exec, lsn = exec_in_flight(e)
    durable_at = t_exec + DELAY_S   # the earliest the record can be durable
    readers = {name: Timed(e, name) for name in ("get", "mget", "txn-get", "watch-get",
                                                 "unrelated")}
    readers["get"].conn.send(("GET", "k"))
    readers["mget"].conn.send(("MGET", "n", "k"))
    readers["txn-get"].conn.send(("MULTI",), ("GET", "n"), ("EXEC",))
    readers["watch-get"].conn.send(("WATCH", "k"), ("GET", "k"))
    readers["unrelated"].conn.send(("GET", "other"))
    want = {"writer": 4, "get": 1, "mget": 1, "txn-get": 3, "watch-get": 2, "unrelated": 1}
    conns = [w] + list(readers.values())
    wait_replies(conns, want, time.monotonic() + DELAY_S + 20)
    for c in conns:
        assert len(c.replies) == want[c.name], "%s: %r (closed %s)" % (c.name, c.replies,
                                                                      c.closed)

    def at(c, i=-1):
        return c.replies[i][0] - t_exec

    got = {c.name: [r for _, r in c.replies] for c in conns}
    timing = {c.name: ["%.3f" % (t - t_exec) for t, _ in c.replies] for c in conns}
    ctx = "replies %r at seconds after EXEC was sent %r" % (got, timing)
    print(ctx)
    assert got["writer"] == [b"OK", b"QUEUED", b"QUEUED", [b"OK", 15]], ctx
    # D1: the EXEC reply is held until its record is durable.
    assert w.replies[-1][0] >= durable_at, "EXEC acknowledged before durable: " + ctx
    # The server was not stalled as a whole: a read of a key the EXEC did
    # not write is answered at once.
    assert got["unrelated"] == [b"o"] and at(readers["unrelated"]) < DELAY_S * 0.5, ctx
    # D2: the readers came after the EXEC ran, so they see its values, and
    # only once it is durable (never the new values before the writer's
    # own acknowledgement could be sent).
    assert got["get"] == [b"new"], ctx
    assert got["mget"] == [[b"15", b"new"]], ctx
    assert got["txn-get"] == [b"OK", b"QUEUED", [b"15"]], ctx
    assert got["watch-get"] == [b"OK", b"new"], ctx
    for name in ("get", "mget", "txn-get", "watch-get"):
        assert readers[name].replies[-1][0] >= durable_at, \
            "%s showed the EXEC's writes before they were durable: %s" % (name, ctx)
    assert int(e.info()["durable_lsn"]) >= lsn
    arm_fsync_delay(e, "off")
    for c in conns:
        c.conn.close()
    e.kill()
    e.start()
    with e.client() as c:
        assert c.mget("k", "n") == [b"new", b"15"]


def test_kill_inside_the_window_shows_nothing(engram):
    """kill -9 while the EXEC's fsync is delayed: nobody was shown its
    values, the EXEC was not acknowledged; after restart it is there wholly
    (its bytes were written, a kill is not a power cut) or absent wholly."""
    e = engram("--save", "")
    w, t_exec, lsn = exec_in_flight(e)
    readers = [Timed(e, "get%d" % i) for i in range(3)]
    readers[0].conn.send(("GET", "k"))
    readers[1].conn.send(("MGET", "k", "n"))
    readers[2].conn.send(("MULTI",), ("GET", "n"), ("GET", "k"), ("EXEC",))
    want = {"writer": 4, "get0": 1, "get1": 1, "get2": 4}
    conns = [w] + readers
    wait_replies(conns, want, t_exec + DELAY_S * 0.6)
    assert time.monotonic() < t_exec + DELAY_S * 0.9, "too slow to kill inside the window"
    e.kill()
    wait_replies(conns, want, time.monotonic() + 10)
    got = {c.name: [r for _, r in c.replies] for c in conns}
    assert all(c.closed for c in conns), got
    # Nothing at all: the EXEC reply is held (D1), and the few bytes of
    # replies before it wait to leave with it (REPLY_COALESCE_BYTES).
    assert got["writer"] == [], got
    assert got["get0"] == [] and got["get1"] == [], got
    assert got["get2"] == [], got
    for c in conns:
        c.conn.close()
    e.start()
    with e.client() as c:
        kn = c.mget("k", "n")
    assert kn in ([b"old", b"10"], [b"new", b"15"]), "the EXEC is half there: %r" % kn
    print("after the kill inside the window: %r" % kn)


@pytest.mark.parametrize("value_bytes,prefix_waits", [(10, True), (4000, False)])
def test_replies_before_a_held_one_wait_only_if_small(engram, value_bytes, prefix_waits):
    """GET then SET in one pipeline, the SET's fsync delayed: the GET reply
    leaves with the SET's (one write) when it is at most
    REPLY_COALESCE_BYTES (1024), and at once, before the SET is durable,
    when it is larger; the SET reply is held until durable either way (D1)."""
    e = engram("--save", "")
    with e.client() as c:
        c.set("r", b"x" * value_bytes)
    arm_fsync_delay(e, int(DELAY_S * 1000))
    t = Timed(e, "client")
    t0 = time.monotonic()
    t.conn.send(("GET", "r"), ("SET", "w", "1"))
    wait_replies([t], {"client": 2}, t0 + DELAY_S * 5)
    arm_fsync_delay(e, "off")
    got = [r for _, r in t.replies]
    when = ["%.3f" % (at - t0) for at, _ in t.replies]
    assert got == [b"x" * value_bytes, b"OK"], (got, when)
    assert t.replies[1][0] - t0 >= DELAY_S * 0.9, ("SET acknowledged before durable", when)
    if prefix_waits:
        assert t.replies[0][0] - t0 >= DELAY_S * 0.9, ("small GET reply went alone", when)
    else:
        assert t.replies[0][0] - t0 < DELAY_S * 0.5, ("large GET reply was held", when)
    t.conn.close()


def test_skipped_reply_keeps_holding_after_the_buffer_empties(engram):
    """A SET whose reply CLIENT REPLY SKIP dropped still holds what follows
    it (D1/D2) even after the bytes before it were all written and the
    output buffer was reset: GET of the key waits for the fsync and gets the
    value, and no stale buffer bytes ever reach the client. (The hold used
    to keep its old offset past the reset buffer: GET k was answered before
    the SET was durable, followed by 2,000 stale bytes.)"""
    e = engram("--save", "")
    big = b"B" * 2000  # over REPLY_COALESCE_BYTES: written at once
    with e.client() as c:
        c.set("big", big)
    arm_fsync_delay(e, int(DELAY_S * 1000))
    t = Timed(e, "client")
    t0 = time.monotonic()
    t.conn.send(("GET", "big"), ("CLIENT", "REPLY", "SKIP"), ("SET", "k", "v"))
    wait_replies([t], {"client": 1}, t0 + DELAY_S * 5)
    assert [r for _, r in t.replies] == [big]
    t.conn.send(("GET", "k"))
    wait_replies([t], {"client": 2}, t0 + DELAY_S * 5)
    arm_fsync_delay(e, "off")
    when = ["%.3f" % (at - t0) for at, _ in t.replies]
    assert [r for _, r in t.replies] == [big, b"v"], when
    assert t.replies[1][0] - t0 >= DELAY_S * 0.9, ("GET k answered before SET k was durable",
                                                 when)
    assert t.conn.call("PING") == b"PONG"  # nothing stale left in the stream
    t.conn.close()


def test_wal_failure_still_acknowledges_the_writes_that_were_durable(engram):
    """D4 without a false error: a client with two writes in flight, the
    first in a batch whose (slow) fsync succeeds, the second in the next
    batch, whose write fails. The first is acknowledged (+OK, and there
    after a restart); only the second gets MISCONF."""
    e = engram("--save", "")
    with e.client() as c:
        c.set("pre", "1")  # the segment exists: y's batch is one write and one fsync
    arm_fsync_delay(e, int(DELAY_S * 1000))
    t = Timed(e, "client")
    t0 = time.monotonic()
    t.conn.send(("SET", "y", "durable"))
    time.sleep(DELAY_S * 0.3)  # y's batch is being synced; x goes in the next
    t.conn.send(("SET", "x", "failed"))
    time.sleep(DELAY_S * 0.1)
    with e.client() as c:
        c.execute_command("DEBUG", "ERRINJ", "wal-write", "1", "EIO")
    wait_replies([t], {"client": 2}, t0 + DELAY_S * 5)
    got = [r for _, r in t.replies]
    assert got[0] == b"OK", got
    assert len(got) == 2 and isinstance(got[1], RespError) and \
        str(got[1]).startswith("MISCONF"), got
    t.conn.close()
    e.kill()
    e.start()
    with e.client() as c:
        assert c.get("y") == b"durable"
        assert c.get("x") is None  # its write never reached the file


def test_snapshot_of_writes_that_then_fail_is_discarded(engram):
    """D4: BGSAVE while a write is in flight snapshots it (the snapshot's
    lsn covers it). When that write's fsync then fails (MISCONF to its
    client), the snapshot is removed; the WAL was never pruned behind it
    (pruning waits until a snapshot's lsn is durable), so nothing durable
    is lost. (The failed write itself is in doubt after a restart: its
    bytes were written to the file before the fsync failed.)"""
    e = engram("--save", "")
    with e.client() as c:
        c.set("pre", "1")  # lsn 1, and the segment exists
    arm_fsync_delay(e, int(DELAY_S * 1000))  # the snapshot child's fsync too
    t = Timed(e, "client")
    t0 = time.monotonic()
    t.conn.send(("SET", "y", "durable"))     # lsn 2, synced until ~1.0 DELAY_S
    time.sleep(DELAY_S * 0.3)
    t.conn.send(("SET", "x", "failed"))      # lsn 3, the next batch
    time.sleep(DELAY_S * 0.1)
    with e.client() as c:
        assert c.bgsave()                     # covers lsn 3
        deadline = time.monotonic() + DELAY_S * 3
        while c.info("persistence")["rdb_bgsave_in_progress"] and time.monotonic() < deadline:
            time.sleep(0.01)
        info = c.info("persistence")
        assert not info["rdb_bgsave_in_progress"] and info["rdb_last_bgsave_status"] == "ok"
        assert int(info["durable_lsn"]) == 2, info  # x's fsync still sleeping
        c.execute_command("DEBUG", "ERRINJ", "wal-fsync", "1", "EIO")  # x's fsync fails
    wait_replies([t], {"client": 2}, t0 + DELAY_S * 5)
    arm_fsync_delay(e, "off")
    got = [r for _, r in t.replies]
    assert got[0] == b"OK" and str(got[1]).startswith("MISCONF"), got
    t.conn.close()
    snap = os.path.join(e.dir, "snap")
    snaps = sorted(n for n in os.listdir(snap) if n.endswith(".snap"))
    assert all(int(n[:20]) <= 2 for n in snaps), (snaps, e.read_log())
    assert "removed snapshot" in e.read_log()
    e.kill()
    e.start()
    with e.client() as c:
        assert c.get("y") == b"durable" and c.get("pre") == b"1"
        assert c.get("x") in (None, b"failed")
