"""
Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Every expectation in the first part of this file was checked against Redis
7.0.15 (ENGRAM_TEST_REDIS=1). Replies are compared byte for byte through raw
sockets (RESP2 and RESP3), because client libraries parse EXEC's reply shape
and match on the EXECABORT / ERR texts; a few tests go through redis-py the
way applications use transactions.

The last part ("ROLLBACK") is engram only: see README, "Differences from
Redis". Redis runs every queued command and reports a failing one inside
EXEC's array; engram undoes the whole transaction and answers one error.
Tests that would see that difference (a queued command failing at run time)
are kept out of the Redis-compatible part, except one Redis-only test that
records what Redis does.

Note on expiry: these tests do not need DEBUG SET-ACTIVE-EXPIRE (Redis 7
refuses DEBUG by default and engram has no such subcommand); the expiry cases
are written so that their outcome is the same whether the server removed the
key actively or lazily.
"""
import os
import socket
import time

import pytest
import redis

import conftest
from conftest import encode_command

cmd = encode_command

EXECABORT_QUEUE = b"-EXECABORT Transaction discarded because of previous errors.\r\n"
EXEC_WITHOUT_MULTI = b"-ERR EXEC without MULTI\r\n"
DISCARD_WITHOUT_MULTI = b"-ERR DISCARD without MULTI\r\n"
NESTED_MULTI = b"-ERR MULTI calls can not be nested\r\n"
WATCH_IN_MULTI = b"-ERR WATCH inside MULTI is not allowed\r\n"
NOT_IN_MULTI = b"-ERR Command not allowed inside a transaction\r\n"
OK = b"+OK\r\n"
QUEUED = b"+QUEUED\r\n"
NULL_ARRAY = b"*-1\r\n"   # RESP2 EXEC after a WATCH failure
RESP3_NULL = b"_\r\n"     # RESP3 EXEC after a WATCH failure
PONG_ONLY = b"*1\r\n+PONG\r\n"


def arity(name):
    return b"-ERR wrong number of arguments for '%s' command\r\n" % name.encode()


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

class Conn:
    """A raw connection that keeps unread bytes between replies, so pipelined
    replies that arrive in one read are not lost. Calling it with arguments
    sends one command and returns its raw reply."""

    def __init__(self, server, timeout=5.0):
        self.sock = server.raw(timeout=timeout)
        self.buf = b""
        self.timeout = timeout

    def send(self, data):
        self.sock.sendall(data)

    def reply(self, timeout=None):
        timeout = self.timeout if timeout is None else timeout
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while True:
            n = conftest._reply_end(self.buf, 0)
            if n is not None:
                out, self.buf = self.buf[:n], self.buf[n:]
                return out
            if time.monotonic() > deadline:
                raise TimeoutError(self.buf[:200])
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed after %r" % self.buf[:200])
            self.buf += chunk

    def __call__(self, *args):
        self.send(cmd(*args))
        return self.reply()

    def is_closed(self, timeout=5.0):
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return True
            except socket.timeout:
                return False
            if not chunk:
                return True
            self.buf += chunk
        return False

    def close(self):
        self.sock.close()


@pytest.fixture
def c(server, r):
    """A raw RESP2 connection on a flushed server (r flushes first)."""
    conn = Conn(server)
    yield conn
    conn.close()


@pytest.fixture
def c2(server, r):
    """A second raw connection: 'another client'."""
    conn = Conn(server)
    yield conn
    conn.close()


def bulk(b):
    if isinstance(b, str):
        b = b.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


def client_fields(line):
    out = {}
    for part in line.strip().split(" "):
        k, _, v = part.partition("=")
        out[k] = v
    return out


def client_line_of(conn_other, cid):
    """CLIENT LIST as seen by conn_other; return the fields of client `cid`."""
    raw = conn_other("CLIENT", "LIST")
    assert raw.startswith(b"$"), raw
    text = raw.split(b"\r\n", 1)[1][:-2].decode()
    for line in text.split("\n"):
        if line.startswith("id=%d " % cid):
            return client_fields(line)
    raise AssertionError("client %d not in CLIENT LIST:\n%s" % (cid, text))


def client_id(conn):
    reply = conn("CLIENT", "ID")
    assert reply.startswith(b":"), reply
    return int(reply[1:-2])


def int_reply(raw):
    assert raw.startswith(b":"), raw
    return int(raw[1:-2])


# --------------------------------------------------------------------------
# MULTI / EXEC basics
# --------------------------------------------------------------------------

def test_multi_exec_basic(c):
    assert c("MULTI") == OK
    assert c("SET", "k", "1") == QUEUED
    assert c("INCR", "k") == QUEUED
    assert c("EXEC") == b"*2\r\n+OK\r\n:2\r\n"
    assert c("GET", "k") == b"$1\r\n2\r\n"
    # out of MULTI afterwards
    assert c("EXEC") == EXEC_WITHOUT_MULTI


def test_exec_reply_mixed_types_resp2(c):
    assert c("SET", "s", "v") == OK
    queued = [
        ("PING",),                       # status
        ("SET", "a", "1"),               # status
        ("INCR", "a"),                   # integer
        ("GET", "missing"),              # nil bulk
        ("GET", "s"),                    # bulk
        ("MGET", "s", "missing"),        # nested array with a nil
        ("DEL", "s", "missing"),         # integer
        ("KEYS", "a"),                   # nested array
        ("TTL", "missing"),              # negative integer
        ("ECHO", "hi"),
        ("INCRBYFLOAT", "f", "1.5"),     # bulk
        ("SCAN", "0", "MATCH", "nope*"),  # array nested in array, empty inner
        ("EXISTS", "a"),
    ]
    assert c("MULTI") == OK
    for q in queued:
        assert c(*q) == QUEUED, q
    assert c("EXEC") == (
        b"*13\r\n"
        b"+PONG\r\n"
        b"+OK\r\n"
        b":2\r\n"
        b"$-1\r\n"
        b"$1\r\nv\r\n"
        b"*2\r\n$1\r\nv\r\n$-1\r\n"
        b":1\r\n"
        b"*1\r\n$1\r\na\r\n"
        b":-2\r\n"
        b"$2\r\nhi\r\n"
        b"$3\r\n1.5\r\n"
        b"*2\r\n$1\r\n0\r\n*0\r\n"
        b":1\r\n")


def test_exec_reply_config_get_resp2_is_flat_array(c):
    assert c("MULTI") == OK
    assert c("CONFIG", "GET", "databases") == QUEUED
    assert c("EXEC") == b"*1\r\n*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"


def test_empty_multi_exec(c):
    assert c("MULTI") == OK
    assert c("EXEC") == b"*0\r\n"
    assert c("EXEC") == EXEC_WITHOUT_MULTI


def test_queued_commands_run_only_at_exec(c, c2):
    assert c("MULTI") == OK
    assert c("SET", "k", "v") == QUEUED
    assert c("INCR", "n") == QUEUED
    # another client sees nothing yet
    assert c2("GET", "k") == b"$-1\r\n"
    assert c2("EXISTS", "n") == b":0\r\n"
    assert c2("SET", "n", "10") == OK
    # the queued INCR runs at EXEC time, on the current value
    assert c("EXEC") == b"*2\r\n+OK\r\n:11\r\n"
    assert c2("GET", "k") == b"$1\r\nv\r\n"


def test_lowercase_and_inline_commands_in_multi(c):
    c.send(b"multi\r\nset k 5\r\nincrby k 2\r\nexec\r\n")
    assert [c.reply() for _ in range(4)] == [OK, QUEUED, QUEUED, b"*2\r\n+OK\r\n:7\r\n"]


def test_exec_without_multi(c):
    assert c("EXEC") == EXEC_WITHOUT_MULTI
    assert c("PING") == b"+PONG\r\n"


def test_discard_without_multi(c):
    assert c("DISCARD") == DISCARD_WITHOUT_MULTI
    assert c("PING") == b"+PONG\r\n"


def test_discard(c, c2):
    assert c("SET", "k", "orig") == OK
    assert c("MULTI") == OK
    assert c("SET", "k", "new") == QUEUED
    assert c("DEL", "k") == QUEUED
    assert c("SET", "d", "1") == QUEUED
    assert c("DISCARD") == OK
    assert c("GET", "k") == b"$4\r\norig\r\n"
    assert c2("EXISTS", "d") == b":0\r\n"
    assert c("EXEC") == EXEC_WITHOUT_MULTI
    assert c("DISCARD") == DISCARD_WITHOUT_MULTI


def test_discard_unwatches(c, c2):
    assert c("WATCH", "k") == OK
    assert c("MULTI") == OK
    assert c("DISCARD") == OK
    assert c2("SET", "k", "10") == OK
    assert c("MULTI") == OK
    assert c("INCR", "k") == QUEUED
    assert c("EXEC") == b"*1\r\n:11\r\n"


def test_discard_clears_dirty_watch(c, c2):
    # the watched key is modified before MULTI; DISCARD forgets that
    assert c("WATCH", "k") == OK
    assert c2("SET", "k", "10") == OK
    assert c("MULTI") == OK
    assert c("DISCARD") == OK
    assert c("MULTI") == OK
    assert c("INCR", "k") == QUEUED
    assert c("EXEC") == b"*1\r\n:11\r\n"


# --------------------------------------------------------------------------
# errors while queueing
# --------------------------------------------------------------------------

def test_unknown_command_aborts_exec(c, c2):
    assert c("MULTI") == OK
    assert c("SET", "foo1", "bar1") == QUEUED
    assert c("NOSUCHCMD", "a", "b") == (
        b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' \r\n")
    # later commands are still answered QUEUED
    assert c("SET", "foo2", "bar2") == QUEUED
    assert c("EXEC") == EXECABORT_QUEUE
    assert c2("EXISTS", "foo1", "foo2") == b":0\r\n"
    # the transaction is gone: the client is out of MULTI
    assert c("EXEC") == EXEC_WITHOUT_MULTI
    assert c("PING") == b"+PONG\r\n"


def test_wrong_arity_aborts_exec(c, c2):
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("GET") == arity("get")
    assert c("SET", "only-key") == arity("set")
    assert c("INCR", "a") == QUEUED
    assert c("EXEC") == EXECABORT_QUEUE
    assert c2("EXISTS", "a") == b":0\r\n"
    assert c("DISCARD") == DISCARD_WITHOUT_MULTI


def test_unknown_subcommand_aborts_exec(c, c2):
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("CLIENT", "FOO") == b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"
    assert c("EXEC") == EXECABORT_QUEUE
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("CLIENT") == arity("client")
    assert c("EXEC") == EXECABORT_QUEUE
    assert c2("EXISTS", "a") == b":0\r\n"


def test_execabort_takes_precedence_over_watch_failure(c, c2):
    assert c("WATCH", "k") == OK
    assert c2("SET", "k", "1") == OK
    assert c("MULTI") == OK
    assert c("NOSUCHCMD").startswith(b"-ERR unknown command 'NOSUCHCMD'")
    assert c("EXEC") == EXECABORT_QUEUE


def test_execabort_unwatches(c, c2):
    assert c("WATCH", "k") == OK
    assert c("MULTI") == OK
    assert c("NOSUCHCMD").startswith(b"-ERR unknown command")
    assert c("EXEC") == EXECABORT_QUEUE
    assert c2("SET", "k", "1") == OK
    assert c("MULTI") == OK
    assert c("EXEC") == b"*0\r\n"


def test_nested_multi_does_not_abort(c):
    assert c("MULTI") == OK
    assert c("SET", "n", "1") == QUEUED
    assert c("MULTI") == NESTED_MULTI
    assert c("INCR", "n") == QUEUED
    assert c("EXEC") == b"*2\r\n+OK\r\n:2\r\n"


def test_multi_with_arguments_inside_multi_aborts(c, c2):
    # a wrong arity MULTI is an ordinary queueing error (not the nesting one)
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("MULTI", "x") == arity("multi")
    assert c("EXEC") == EXECABORT_QUEUE
    assert c2("EXISTS", "a") == b":0\r\n"


def test_exec_with_arguments_inside_multi_discards(c, c2):
    # Redis 7.0: a rejected EXEC discards the transaction at once, and says why.
    assert c("WATCH", "w") == OK
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("EXEC", "x") == (
        b"-EXECABORT Transaction discarded because of: "
        b"wrong number of arguments for 'exec' command\r\n")
    assert c("EXEC") == EXEC_WITHOUT_MULTI
    assert c2("EXISTS", "a") == b":0\r\n"
    # and the watch went with it
    assert c2("SET", "w", "1") == OK
    assert c("MULTI") == OK
    assert c("EXEC") == b"*0\r\n"


def test_discard_with_arguments_inside_multi(c, c2):
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("DISCARD", "x") == arity("discard")
    # still in MULTI, and the transaction is now flagged
    assert c("EXEC") == EXECABORT_QUEUE
    assert c("MULTI") == OK
    assert c("DISCARD", "x") == arity("discard")
    assert c("DISCARD") == OK
    assert c("PING") == b"+PONG\r\n"
    assert c2("EXISTS", "a") == b":0\r\n"


def test_watch_inside_multi_is_refused_and_does_not_abort(c, c2):
    assert c("MULTI") == OK
    assert c("SET", "k", "1") == QUEUED
    assert c("WATCH", "z") == WATCH_IN_MULTI
    assert c("INCR", "k") == QUEUED
    # z was not watched by the refused WATCH
    assert c2("SET", "z", "1") == OK
    assert c("EXEC") == b"*2\r\n+OK\r\n:2\r\n"


def test_watch_inside_multi_keeps_earlier_watches(c, c2):
    assert c("WATCH", "k") == OK
    assert c("MULTI") == OK
    assert c("WATCH", "z") == WATCH_IN_MULTI
    assert c2("SET", "k", "1") == OK
    assert c("EXEC") == NULL_ARRAY


def test_watch_and_unwatch_arity(c):
    assert c("WATCH") == arity("watch")
    assert c("UNWATCH", "x") == arity("unwatch")
    assert c("UNWATCH") == OK          # nothing watched: still OK
    assert c("WATCH", "a", "b", "a") == OK


@pytest.mark.parametrize("command", ["SAVE", "SHUTDOWN"])
def test_command_not_allowed_inside_multi(c, c2, server, command):
    assert c("MULTI") == OK
    assert c("SET", "foo", "bar") == QUEUED
    # If this fails the connection closes without EXEC, so a queued SHUTDOWN never runs.
    assert c(command) == NOT_IN_MULTI
    assert c("EXEC") == EXECABORT_QUEUE
    assert c2("GET", "foo") == b"$-1\r\n"
    assert server.alive()
    assert c("PING") == b"+PONG\r\n"


# --------------------------------------------------------------------------
# RESET, QUIT, SELECT inside MULTI
# --------------------------------------------------------------------------

def test_reset_inside_multi(c, c2):
    assert c("WATCH", "k") == OK
    assert c("MULTI") == OK
    assert c("SET", "q", "1") == QUEUED
    assert c("RESET") == b"+RESET\r\n"
    assert c("EXEC") == EXEC_WITHOUT_MULTI
    assert c2("EXISTS", "q") == b":0\r\n"
    # RESET also unwatched k
    assert c2("SET", "k", "1") == OK
    assert c("MULTI") == OK
    assert c("EXEC") == b"*0\r\n"


def test_quit_inside_multi_closes(server, c2):
    conn = Conn(server)
    try:
        assert conn("MULTI") == OK
        assert conn("SET", "qq", "1") == QUEUED
        assert conn("QUIT") == OK
        assert conn.is_closed()
    finally:
        conn.close()
    assert c2("EXISTS", "qq") == b":0\r\n"


def test_select_inside_multi(c, c2):
    assert c("MULTI") == OK
    assert c("SELECT", "1") == QUEUED
    assert c("SET", "k", "in1") == QUEUED
    assert c("GET", "k") == QUEUED
    assert c("EXEC") == b"*3\r\n+OK\r\n+OK\r\n$3\r\nin1\r\n"
    # the client stays in db 1
    assert c("GET", "k") == b"$3\r\nin1\r\n"
    assert c2("EXISTS", "k") == b":0\r\n"
    assert c2("SELECT", "1") == OK
    assert c2("GET", "k") == b"$3\r\nin1\r\n"


def test_select_in_discarded_multi_has_no_effect(c):
    assert c("SET", "k", "in0") == OK
    assert c("MULTI") == OK
    assert c("SELECT", "1") == QUEUED
    assert c("DISCARD") == OK
    assert c("GET", "k") == b"$3\r\nin0\r\n"


# --------------------------------------------------------------------------
# RESP3
# --------------------------------------------------------------------------

def hello3(conn):
    assert conn("HELLO", "3").startswith(b"%7\r\n")


def test_resp3_exec_reply_shapes(c):
    hello3(c)
    assert c("SET", "s", "v") == OK
    queued = [
        ("PING",),
        ("SET", "a", "1"),
        ("INCR", "a"),
        ("GET", "missing"),
        ("GET", "s"),
        ("MGET", "s", "missing"),
        ("CONFIG", "GET", "databases"),
        ("ECHO", "hi"),
        ("SCAN", "0", "MATCH", "nope*"),
    ]
    assert c("MULTI") == OK
    for q in queued:
        assert c(*q) == QUEUED, q
    assert c("EXEC") == (
        b"*9\r\n"
        b"+PONG\r\n"
        b"+OK\r\n"
        b":2\r\n"
        b"_\r\n"
        b"$1\r\nv\r\n"
        b"*2\r\n$1\r\nv\r\n_\r\n"
        b"%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"
        b"$2\r\nhi\r\n"
        b"*2\r\n$1\r\n0\r\n*0\r\n")
    assert c("MULTI") == OK
    assert c("EXEC") == b"*0\r\n"


def test_resp3_watch_failure_is_null(c, c2):
    hello3(c)
    assert c("WATCH", "k") == OK
    assert c2("SET", "k", "1") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == RESP3_NULL


def test_resp2_watch_failure_is_null_array(c, c2):
    assert c("WATCH", "k") == OK
    assert c2("SET", "k", "1") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == NULL_ARRAY


def test_resp3_errors_are_the_same(c):
    hello3(c)
    assert c("EXEC") == EXEC_WITHOUT_MULTI
    assert c("MULTI") == OK
    assert c("GET") == arity("get")
    assert c("EXEC") == EXECABORT_QUEUE


# --------------------------------------------------------------------------
# WATCH
# --------------------------------------------------------------------------

# (id, setup, action, watch_db, touched)
# The other client runs `setup` then `action`, each starting in db 0; the
# watching client WATCHes "k" in `watch_db` between the two. `touched` says
# whether Redis 7.0 then fails EXEC.
WATCH_CASES = [
    # writes that touch
    ("set-same-value", [("SET", "k", "1")], [("SET", "k", "1")], 0, True),
    ("create-missing", [], [("SET", "k", "1")], 0, True),
    ("mset", [], [("MSET", "k", "1", "j", "2")], 0, True),
    ("del", [("SET", "k", "1")], [("DEL", "k")], 0, True),
    ("unlink", [("SET", "k", "1")], [("UNLINK", "k")], 0, True),
    ("getdel", [("SET", "k", "1")], [("GETDEL", "k")], 0, True),
    ("expire", [("SET", "k", "1")], [("EXPIRE", "k", "100")], 0, True),
    ("expire-in-past", [("SET", "k", "1")], [("EXPIRE", "k", "-1")], 0, True),
    ("pexpire", [("SET", "k", "1")], [("PEXPIRE", "k", "100000")], 0, True),
    ("persist", [("SET", "k", "1", "EX", "100")], [("PERSIST", "k")], 0, True),
    ("getex-ex", [("SET", "k", "1")], [("GETEX", "k", "EX", "100")], 0, True),
    ("incr-then-decr", [("SET", "k", "1")], [("INCR", "k"), ("DECR", "k")], 0, True),
    ("incrby-0", [("SET", "k", "1")], [("INCRBY", "k", "0")], 0, True),
    ("incrbyfloat-0", [("SET", "k", "1")], [("INCRBYFLOAT", "k", "0")], 0, True),
    ("append-empty", [("SET", "k", "1")], [("APPEND", "k", "")], 0, True),
    ("setrange", [("SET", "k", "1")], [("SETRANGE", "k", "0", "2")], 0, True),
    ("rename-onto", [("SET", "s", "2")], [("RENAME", "s", "k")], 0, True),
    ("rename-away", [("SET", "k", "1")], [("RENAME", "k", "z")], 0, True),
    ("copy-new-dest", [("SET", "s", "2")], [("COPY", "s", "k")], 0, True),
    ("copy-replace", [("SET", "k", "1"), ("SET", "s", "2")],
     [("COPY", "s", "k", "REPLACE")], 0, True),
    ("copy-to-db", [("SET", "s", "2")], [("COPY", "s", "k", "DB", "1")], 1, True),
    ("move-away", [("SET", "k", "1")], [("MOVE", "k", "1")], 0, True),
    ("move-into-watched-db", [("SET", "k", "1")], [("MOVE", "k", "1")], 1, True),
    ("flushdb-existing", [("SET", "k", "1")], [("FLUSHDB",)], 0, True),
    ("flushall-existing", [("SET", "k", "1")], [("FLUSHALL",)], 0, True),
    ("flushall-existing-db1", [("SELECT", "1"), ("SET", "k", "1")], [("FLUSHALL",)], 1, True),
    ("swapdb-exists-in-watched-db", [("SET", "k", "1")], [("SWAPDB", "0", "1")], 0, True),
    ("swapdb-exists-in-other-db", [("SELECT", "1"), ("SET", "k", "1")],
     [("SWAPDB", "0", "1")], 0, True),
    ("swapdb-reversed-args", [("SET", "k", "1")], [("SWAPDB", "1", "0")], 0, True),
    ("other-client-exec", [("SET", "k", "1")], [("MULTI",), ("INCR", "k"), ("EXEC",)], 0, True),
    # commands that modify nothing
    ("get", [("SET", "k", "1")], [("GET", "k")], 0, False),
    ("exists-ttl-type", [("SET", "k", "1")],
     [("EXISTS", "k"), ("TTL", "k"), ("TYPE", "k"), ("STRLEN", "k")], 0, False),
    ("touch", [("SET", "k", "1")], [("TOUCH", "k")], 0, False),
    ("object-encoding", [("SET", "k", "1")], [("OBJECT", "ENCODING", "k")], 0, False),
    ("getex-no-option", [("SET", "k", "1")], [("GETEX", "k")], 0, False),
    ("getex-persist-no-ttl", [("SET", "k", "1")], [("GETEX", "k", "PERSIST")], 0, False),
    ("set-nx-existing", [("SET", "k", "1")], [("SET", "k", "2", "NX")], 0, False),
    ("setnx-existing", [("SET", "k", "1")], [("SETNX", "k", "2")], 0, False),
    ("set-xx-missing", [], [("SET", "k", "2", "XX")], 0, False),
    ("msetnx-fails", [("SET", "k", "1")], [("MSETNX", "k", "2", "z", "3")], 0, False),
    ("del-missing", [], [("DEL", "k")], 0, False),
    ("expire-missing", [], [("EXPIRE", "k", "100")], 0, False),
    ("expire-nx-has-ttl", [("SET", "k", "1", "EX", "100")], [("EXPIRE", "k", "200", "NX")],
     0, False),
    ("persist-no-ttl", [("SET", "k", "1")], [("PERSIST", "k")], 0, False),
    ("setrange-empty", [("SET", "k", "1")], [("SETRANGE", "k", "0", "")], 0, False),
    ("renamenx-fails", [("SET", "k", "1"), ("SET", "s", "2")], [("RENAMENX", "s", "k")],
     0, False),
    ("copy-no-replace-existing", [("SET", "k", "1"), ("SET", "s", "2")], [("COPY", "s", "k")],
     0, False),
    ("move-fails-dest-exists", [("SET", "k", "1"), ("SELECT", "1"), ("SET", "k", "2")],
     [("MOVE", "k", "1")], 1, False),
    ("same-name-other-db", [], [("SELECT", "1"), ("SET", "k", "1")], 0, False),
    ("flushdb-missing", [("SET", "z", "1")], [("FLUSHDB",)], 0, False),
    ("flushall-missing", [("SET", "z", "1")], [("FLUSHALL",)], 0, False),
    ("flushall-same-name-other-db", [("SELECT", "1"), ("SET", "k", "1")], [("FLUSHALL",)],
     0, False),
    ("flushdb-other-db", [("SELECT", "1"), ("SET", "k", "1")], [("SELECT", "1"), ("FLUSHDB",)],
     0, False),
    ("swapdb-missing-in-both", [("SET", "z", "1")], [("SWAPDB", "0", "1")], 0, False),
    ("swapdb-other-dbs", [("SET", "k", "1")], [("SWAPDB", "2", "3")], 0, False),
    ("swapdb-same-db", [("SET", "k", "1")], [("SWAPDB", "0", "0")], 0, False),
]


@pytest.mark.parametrize("name,setup,action,watch_db,touched", WATCH_CASES,
                         ids=[case[0] for case in WATCH_CASES])
def test_watch_other_client(c, c2, name, setup, action, watch_db, touched):
    for step in setup:
        c2(*step)
    assert c2("SELECT", "0") == OK
    assert c("SELECT", str(watch_db)) == OK
    assert c("WATCH", "k") == OK
    for step in action:
        reply = c2(*step)
        assert not reply.startswith(b"-"), (step, reply)
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == (NULL_ARRAY if touched else PONG_ONLY)


def test_watch_failure_runs_no_queued_command(c, c2):
    assert c("SET", "k", "1") == OK
    assert c("WATCH", "k") == OK
    assert c2("SET", "k", "2") == OK
    assert c("MULTI") == OK
    assert c("INCR", "k") == QUEUED
    assert c("SET", "other", "x") == QUEUED
    assert c("EXEC") == NULL_ARRAY
    assert c("GET", "k") == b"$1\r\n2\r\n"
    assert c("EXISTS", "other") == b":0\r\n"
    assert c("EXEC") == EXEC_WITHOUT_MULTI


def test_watch_unmodified_key_succeeds(c):
    assert c("WATCH", "x", "y", "z") == OK
    assert c("WATCH", "k") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_watch_modified_by_self_before_multi(c):
    assert c("SET", "x", "30") == OK
    assert c("WATCH", "x") == OK
    assert c("SET", "x", "40") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == NULL_ARRAY


def test_watch_queued_commands_of_self_do_not_fail(c):
    assert c("WATCH", "k") == OK
    assert c("MULTI") == OK
    assert c("SET", "k", "1") == QUEUED
    assert c("INCR", "k") == QUEUED
    assert c("EXEC") == b"*2\r\n+OK\r\n:2\r\n"


def test_watch_one_of_several_keys(c, c2):
    assert c("SET", "x", "30") == OK
    assert c("WATCH", "a", "b", "x", "k", "z") == OK
    assert c2("SET", "x", "40") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == NULL_ARRAY


def test_watch_same_key_twice(c, c2):
    assert c("WATCH", "k", "k") == OK
    assert c("WATCH", "k") == OK
    assert c2("SET", "k", "1") == OK
    assert c("MULTI") == OK
    assert c("EXEC") == NULL_ARRAY


def test_key_no_longer_watched_after_successful_exec(c, c2):
    assert c("SET", "x", "30") == OK
    assert c("WATCH", "x") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY
    assert c2("SET", "x", "40") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_key_no_longer_watched_after_failed_exec(c, c2):
    assert c("SET", "x", "30") == OK
    assert c("WATCH", "x") == OK
    assert c2("SET", "x", "40") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == NULL_ARRAY
    assert c2("SET", "x", "50") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_unwatch(c, c2):
    assert c("SET", "x", "30") == OK
    assert c("WATCH", "x") == OK
    assert c2("SET", "x", "40") == OK
    assert c("UNWATCH") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_unwatch_queued_inside_multi_is_too_late(c, c2):
    # UNWATCH inside MULTI is an ordinary queued command; the WATCH check
    # happens before any queued command runs.
    assert c("WATCH", "k") == OK
    assert c2("SET", "k", "1") == OK
    assert c("MULTI") == OK
    assert c("UNWATCH") == QUEUED
    assert c("EXEC") == NULL_ARRAY


def test_watch_remembers_the_db(c, c2):
    assert c("SELECT", "5") == OK
    assert c("SET", "x", "30") == OK
    assert c("WATCH", "x") == OK
    assert c("SELECT", "1") == OK
    assert c("SET", "x", "10") == OK      # same name, other db: not the watched key
    assert c("SELECT", "5") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_watched_key_modified_while_client_is_in_other_db(c, c2):
    assert c("WATCH", "k") == OK          # db 0
    assert c("SELECT", "1") == OK
    assert c2("SET", "k", "1") == OK      # db 0
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == NULL_ARRAY


def test_two_watchers_one_wins(c, c2):
    """Optimistic locking: two clients read-modify-write the same counter."""
    assert c("SET", "counter", "10") == OK
    assert c("WATCH", "counter") == OK
    assert c2("WATCH", "counter") == OK
    assert c("GET", "counter") == b"$2\r\n10\r\n"
    assert c2("GET", "counter") == b"$2\r\n10\r\n"
    assert c("MULTI") == OK
    assert c2("MULTI") == OK
    assert c("SET", "counter", "11") == QUEUED
    assert c2("SET", "counter", "11") == QUEUED
    assert c("EXEC") == b"*1\r\n+OK\r\n"
    assert c2("EXEC") == NULL_ARRAY


def test_flushall_while_watching_several_keys(c, c2):
    assert c("MSET", "a", "a", "b", "b") == OK
    assert c("WATCH", "b", "a") == OK
    assert c2("FLUSHALL") == OK
    assert c("PING") == b"+PONG\r\n"
    assert c("MULTI") == OK
    assert c("EXEC") == NULL_ARRAY


# expiry ------------------------------------------------------------------

def test_watched_key_expiring_before_exec_fails_exec(c):
    # The key is alive at WATCH time (PTTL proves it) and expires before
    # EXEC. Whether the server deleted it actively or not, EXEC fails.
    for _ in range(5):
        assert c("SET", "k", "1", "PX", "300") == OK
        assert c("WATCH", "k") == OK
        if int_reply(c("PTTL", "k")) > 0:
            break
        assert c("UNWATCH") == OK
    else:
        pytest.fail("could not WATCH a live key with a 300 ms TTL")
    time.sleep(0.45)
    assert c("MULTI") == OK
    assert c("INCR", "k") == QUEUED
    assert c("EXEC") == NULL_ARRAY
    assert c("GET", "k") == b"$-1\r\n"


def test_watched_key_removed_by_active_expiry_fails_exec(c, c2):
    assert c("SET", "x", "foo") == OK
    assert c("PEXPIRE", "x", "100") == b":1\r\n"
    assert c("WATCH", "x") == OK
    # give the server time to remove it actively (bounded; not required)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and c2("DBSIZE") != b":0\r\n":
        time.sleep(0.05)
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == NULL_ARRAY


def make_stale(conn, key="x"):
    """Set key with a 1 ms TTL and wait until it is logically expired."""
    assert conn("SET", key, "foo", "PX", "1") == OK
    time.sleep(0.02)


def test_watch_of_already_expired_key_does_not_fail(c):
    # The key is logically gone when WATCHed; its later removal is no change.
    make_stale(c)
    assert c("WATCH", "x") == OK
    time.sleep(0.2)
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_lazy_delete_of_watched_stale_key_does_not_fail(c):
    make_stale(c)
    assert c("WATCH", "x") == OK
    assert c("EXISTS", "x") == b":0\r\n"
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_flushdb_while_watching_stale_key_does_not_fail(c):
    make_stale(c)
    assert c("WATCH", "x") == OK
    assert c("FLUSHDB") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_swapdb_replacing_stale_key_with_nothing_does_not_fail(c, c2):
    assert c("SELECT", "1") == OK
    make_stale(c)
    assert c("WATCH", "x") == OK
    assert c2("SWAPDB", "0", "1") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == PONG_ONLY


def test_setting_a_watched_stale_key_fails(c, c2):
    make_stale(c)
    assert c("WATCH", "x") == OK
    assert c2("SET", "x", "new") == OK
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == NULL_ARRAY


# --------------------------------------------------------------------------
# CLIENT LIST / CLIENT INFO
# --------------------------------------------------------------------------

def test_client_list_shows_multi_state(c, c2):
    cid = client_id(c)
    f = client_line_of(c2, cid)
    assert f["flags"] == "N"
    assert f["multi"] == "-1"
    assert c("MULTI") == OK
    f = client_line_of(c2, cid)
    assert "x" in f["flags"]
    assert f["multi"] == "0"
    assert c("SET", "x", "1") == QUEUED
    assert c("PING") == QUEUED
    f = client_line_of(c2, cid)
    assert f["flags"] == "x"
    assert f["multi"] == "2"
    assert c("EXEC") == b"*2\r\n+OK\r\n+PONG\r\n"
    f = client_line_of(c2, cid)
    assert f["flags"] == "N"
    assert f["multi"] == "-1"
    # DISCARD leaves MULTI too
    assert c("MULTI") == OK
    assert c("DISCARD") == OK
    assert client_line_of(c2, cid)["multi"] == "-1"


def test_client_info_outside_and_inside_exec(c):
    f = client_fields(c("CLIENT", "INFO").split(b"\r\n")[1].decode())
    assert f["flags"] == "N" and f["multi"] == "-1"
    # A CLIENT INFO run by EXEC still sees the transaction: flags x and the
    # number of queued commands.
    assert c("MULTI") == OK
    assert c("SET", "x", "1") == QUEUED
    assert c("CLIENT", "INFO") == QUEUED
    reply = c("EXEC")
    assert reply.startswith(b"*2\r\n+OK\r\n$"), reply
    line = reply.split(b"\r\n")[3].decode()
    f = client_fields(line)
    assert f["flags"] == "x"
    assert f["multi"] == "2"


def test_client_info_dirty_watch_flag(c, c2):
    # 'd': a watched key was modified (EXEC will fail)
    assert c("WATCH", "k") == OK
    f = client_fields(c("CLIENT", "INFO").split(b"\r\n")[1].decode())
    assert f["flags"] == "N"
    assert c2("SET", "k", "1") == OK
    f = client_fields(c("CLIENT", "INFO").split(b"\r\n")[1].decode())
    assert f["flags"] == "d"
    assert c("UNWATCH") == OK
    f = client_fields(c("CLIENT", "INFO").split(b"\r\n")[1].decode())
    assert f["flags"] == "N"


# --------------------------------------------------------------------------
# pipelining
# --------------------------------------------------------------------------

def test_pipelined_transaction(c):
    c.send(cmd("MULTI") + cmd("SET", "p", "1") + cmd("INCR", "p") + cmd("GET", "p")
           + cmd("EXEC") + cmd("GET", "p"))
    replies = [c.reply() for _ in range(6)]
    assert replies == [OK, QUEUED, QUEUED, QUEUED, b"*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n",
                       b"$1\r\n2\r\n"]


def test_pipelined_transaction_with_queueing_error(c):
    c.send(cmd("MULTI") + cmd("SET", "p", "1") + cmd("NOSUCHCMD") + cmd("INCR", "p")
           + cmd("EXEC") + cmd("EXISTS", "p") + cmd("EXEC"))
    replies = [c.reply() for _ in range(7)]
    assert replies[0] == OK
    assert replies[1] == QUEUED
    assert replies[2].startswith(b"-ERR unknown command 'NOSUCHCMD'")
    assert replies[3] == QUEUED
    assert replies[4] == EXECABORT_QUEUE
    assert replies[5] == b":0\r\n"
    assert replies[6] == EXEC_WITHOUT_MULTI


def test_pipelined_watch_multi_exec(c, c2):
    c.send(cmd("WATCH", "k") + cmd("GET", "k") + cmd("MULTI") + cmd("SET", "k", "mine")
           + cmd("EXEC"))
    assert [c.reply() for _ in range(5)] == [OK, b"$-1\r\n", OK, QUEUED, b"*1\r\n+OK\r\n"]
    assert c2("GET", "k") == b"$4\r\nmine\r\n"


# --------------------------------------------------------------------------
# redis-py
# --------------------------------------------------------------------------

def test_redis_py_transaction_pipeline(r):
    with r.pipeline() as p:
        p.set("a", 1)
        p.incr("a")
        p.get("a")
        p.mget("a", "missing")
        assert p.execute() == [True, 2, b"2", [b"2", None]]


def test_redis_py_queueing_error_raises(r):
    with r.pipeline() as p:
        p.set("a", 1)
        p.execute_command("NOSUCHCMD")
        p.incr("a")
        with pytest.raises(redis.ResponseError) as e:
            p.execute()
    assert "unknown command" in str(e.value)
    assert r.exists("a") == 0


def test_redis_py_watch_error(r, server):
    other = server.client()
    try:
        r.set("a", 1)
        with r.pipeline() as p:
            p.watch("a")
            other.set("a", 5)
            p.multi()
            p.incr("a")
            with pytest.raises(redis.WatchError):
                p.execute()
        assert r.get("a") == b"5"
    finally:
        other.close()


def test_redis_py_transaction_helper_retries(r, server):
    other = server.client()
    calls = []

    def bump(pipe):
        calls.append(1)
        value = int(pipe.get("a"))
        if len(calls) == 1:
            other.set("a", 100)           # a concurrent writer
        pipe.multi()
        pipe.set("a", value + 1)

    try:
        r.set("a", 1)
        assert r.transaction(bump, "a") == [True]
        assert len(calls) == 2
        assert r.get("a") == b"101"
    finally:
        other.close()


# --------------------------------------------------------------------------
# Redis only: what Redis does when a queued command fails at run time
# --------------------------------------------------------------------------

@pytest.mark.skipif(not conftest.AGAINST_REDIS,
                    reason="Redis has no rollback; engram's behaviour is tested below")
def test_redis_runtime_errors_do_not_roll_back(c):
    assert c("MULTI") == OK
    assert c("SET", "a", "x") == QUEUED
    assert c("INCR", "a") == QUEUED
    assert c("SET", "k", "v", "BAD") == QUEUED
    assert c("SELECT", "99") == QUEUED
    assert c("GET", "a") == QUEUED
    assert c("EXEC") == (
        b"*5\r\n+OK\r\n"
        b"-ERR value is not an integer or out of range\r\n"
        b"-ERR syntax error\r\n"
        b"-ERR DB index is out of range\r\n"
        b"$1\r\nx\r\n")


# --------------------------------------------------------------------------
# ROLLBACK (engram only)
#
# engram's deliberate difference from Redis (README, "Differences from
# Redis"): if a queued command fails when EXEC runs it, every change made by
# that EXEC is undone and EXEC replies with a single error
#   -EXECABORT Transaction rolled back: command N (NAME) failed: <error>
# where N is the 1-based position of the failing command in the queue, NAME
# its name in upper case and <error> its error reply without the leading '-'.
# --------------------------------------------------------------------------

engram_only = pytest.mark.skipif(conftest.AGAINST_REDIS,
                                 reason="engram's rollback (README: Differences from Redis)")

NOT_INT = "ERR value is not an integer or out of range"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def rolled_back(n, name, error):
    return b"-EXECABORT Transaction rolled back: command %d (%s) failed: %s\r\n" % (
        n, name.encode(), error.encode())


def snapshot(conn, dbs=16):
    """{db: {key: (value, pttl)}} for all dbs; restores the connection to db 0."""
    out = {}
    for db in range(dbs):
        assert conn("SELECT", str(db)) == OK
        keys_raw = conn("KEYS", "*")
        keys = []
        parts = keys_raw.split(b"\r\n")
        for i in range(1, len(parts) - 1, 2):
            keys.append(parts[i + 1])
        data = {}
        for k in keys:
            data[k] = (conn("GET", k), int_reply(conn("PTTL", k)))
        if data:
            out[db] = data
    assert conn("SELECT", "0") == OK
    return out


def assert_same_snapshot(before, after, ttl_slack_ms=3000):
    assert sorted(before) == sorted(after)
    for db in before:
        assert sorted(before[db]) == sorted(after[db]), db
        for k, (value, pttl) in before[db].items():
            value2, pttl2 = after[db][k]
            assert value2 == value, (db, k)
            if pttl < 0:
                assert pttl2 == pttl, (db, k)
            else:
                assert 0 < pttl2 <= pttl and pttl - pttl2 < ttl_slack_ms, (db, k, pttl, pttl2)


@engram_only
def test_rollback_not_an_integer(c, c2):
    assert c("SET", "a", "1") == OK
    assert c("SET", "s", "notanumber") == OK
    assert c("MULTI") == OK
    assert c("INCRBY", "a", "5") == QUEUED
    assert c("INCR", "s") == QUEUED
    assert c("SET", "b", "2") == QUEUED
    assert c("EXEC") == rolled_back(2, "INCR", NOT_INT)
    assert c2("GET", "a") == b"$1\r\n1\r\n"
    assert c2("EXISTS", "b") == b":0\r\n"
    assert c2("GET", "s") == b"$10\r\nnotanumber\r\n"


@engram_only
def test_rollback_name_is_upper_case(c):
    assert c("SET", "s", "x") == OK
    assert c("MULTI") == OK
    assert c("set", "a", "1") == QUEUED
    assert c("get", "a") == QUEUED
    assert c("ping") == QUEUED
    assert c("incr", "s") == QUEUED
    assert c("EXEC") == rolled_back(4, "INCR", NOT_INT)
    assert c("EXISTS", "a") == b":0\r\n"


@engram_only
def test_rollback_argument_errors(c):
    cases = [
        (("INCRBY", "x", "abc"), "INCRBY", NOT_INT),
        (("INCRBYFLOAT", "x", "abc"), "INCRBYFLOAT", "ERR value is not a valid float"),
        (("SET", "x", "v", "BAD"), "SET", "ERR syntax error"),
        (("SETRANGE", "x", "-1", "v"), "SETRANGE", "ERR offset is out of range"),
        (("RENAME", "nosuch", "x"), "RENAME", "ERR no such key"),
        (("SELECT", "99"), "SELECT", "ERR DB index is out of range"),
    ]
    for failing, name, error in cases:
        assert c("MULTI") == OK
        assert c("SET", "a", "1") == QUEUED
        assert c(*failing) == QUEUED, failing
        assert c("EXEC") == rolled_back(2, name, error), failing
        assert c("EXISTS", "a", "x") == b":0\r\n", failing


@engram_only
def test_rollback_overflow(c, c2):
    assert c("MULTI") == OK
    assert c("INCRBY", "k", "9223372036854775807") == QUEUED
    assert c("INCRBY", "k", "9223372036854775807") == QUEUED
    assert c("EXEC") == rolled_back(2, "INCRBY", "ERR increment or decrement would overflow")
    assert c2("EXISTS", "k") == b":0\r\n"


@engram_only
def test_rollback_restores_deleted_key_with_ttl(c, c2):
    assert c("SET", "d", "v", "EX", "100") == OK
    assert c("SET", "e", "w") == OK
    assert c("SET", "s", "x") == OK
    assert c("MULTI") == OK
    assert c("DEL", "d", "e") == QUEUED
    assert c("INCR", "s") == QUEUED
    assert c("EXEC") == rolled_back(2, "INCR", NOT_INT)
    assert c2("GET", "d") == b"$1\r\nv\r\n"
    assert 95 <= int_reply(c2("TTL", "d")) <= 100
    assert c2("GET", "e") == b"$1\r\nw\r\n"
    assert c2("TTL", "e") == b":-1\r\n"


@engram_only
@pytest.mark.parametrize("flush", ["FLUSHDB", "FLUSHALL"])
def test_rollback_restores_flushed_keys(c, c2, flush):
    assert c("MSET", "a", "1", "b", "2") == OK
    assert c("SET", "t", "ttl", "EX", "100") == OK
    assert c("SELECT", "3") == OK
    assert c("SET", "in3", "x") == OK
    assert c("SELECT", "0") == OK
    before = snapshot(c2)
    assert c("MULTI") == OK
    assert c(flush) == QUEUED
    assert c("SET", "new", "1") == QUEUED
    assert c("RENAME", "nosuch", "z") == QUEUED
    assert c("EXEC") == rolled_back(3, "RENAME", "ERR no such key")
    assert_same_snapshot(before, snapshot(c2))


@engram_only
def test_rollback_restores_swapped_dbs(c, c2):
    assert c("SET", "a", "in0") == OK
    assert c("SELECT", "1") == OK
    assert c("SET", "a", "in1") == OK
    assert c("SET", "b", "only1", "EX", "100") == OK
    assert c("SELECT", "0") == OK
    before = snapshot(c2)
    assert c("MULTI") == OK
    assert c("SWAPDB", "0", "1") == QUEUED
    assert c("SET", "c", "x") == QUEUED
    assert c("RENAME", "nosuch", "z") == QUEUED
    assert c("EXEC") == rolled_back(3, "RENAME", "ERR no such key")
    assert_same_snapshot(before, snapshot(c2))
    assert c("GET", "a") == b"$3\r\nin0\r\n"


@engram_only
def test_rollback_restores_ttls(c, c2):
    assert c("SET", "e", "v") == OK
    assert c("SET", "f", "v", "EX", "100") == OK
    assert c("MULTI") == OK
    assert c("EXPIRE", "e", "10") == QUEUED
    assert c("PERSIST", "f") == QUEUED
    assert c("EXPIRE", "f", "5") == QUEUED
    assert c("INCRBY", "e", "x") == QUEUED
    assert c("EXEC") == rolled_back(4, "INCRBY", NOT_INT)
    assert c2("TTL", "e") == b":-1\r\n"
    assert 95 <= int_reply(c2("TTL", "f")) <= 100


@engram_only
def test_rollback_restores_the_clients_db(c, c2):
    assert c("SELECT", "2") == OK
    assert c("SET", "marker", "db2") == OK
    assert c("MULTI") == OK
    assert c("SELECT", "5") == QUEUED
    assert c("SET", "x", "1") == QUEUED
    assert c("INCRBY", "x", "abc") == QUEUED
    assert c("EXEC") == rolled_back(3, "INCRBY", NOT_INT)
    # the client is in db 2 again, and db 5 did not get x
    assert c("GET", "marker") == b"$3\r\ndb2\r\n"
    assert c2("SELECT", "5") == OK
    assert c2("EXISTS", "x") == b":0\r\n"


@engram_only
def test_rollback_undoes_every_kind_of_write(c, c2):
    assert c("MSET", "s", "hello", "n", "10", "f", "1.5", "r", "tomove", "g", "gone") == OK
    assert c("SET", "t", "ttl", "EX", "100") == OK
    assert c("SET", "p", "persist-me", "EX", "200") == OK
    assert c("SELECT", "3") == OK
    assert c("SET", "in3", "x") == OK
    assert c("SELECT", "0") == OK
    before = snapshot(c2)
    queued = [
        ("SET", "s", "changed", "KEEPTTL"),
        ("APPEND", "s", "!"),
        ("SETRANGE", "s", "0", "J"),
        ("INCRBY", "n", "5"),
        ("INCRBYFLOAT", "f", "2"),
        ("MSET", "m1", "1", "m2", "2"),
        ("GETDEL", "g"),
        ("GETEX", "s", "EX", "50"),
        ("RENAME", "r", "r2"),
        ("MOVE", "r2", "4"),
        ("COPY", "t", "t2", "DB", "5"),
        ("EXPIRE", "n", "30"),
        ("PERSIST", "p"),
        ("SETEX", "new", "100", "v"),
        ("SELECT", "3"),
        ("FLUSHDB",),
        ("SELECT", "0"),
        ("DEL", "t"),
        ("INCR", "s"),                 # fails: not an integer
        ("SET", "after", "never"),
    ]
    assert c("MULTI") == OK
    for q in queued:
        assert c(*q) == QUEUED, q
    assert c("EXEC") == rolled_back(19, "INCR", NOT_INT)
    assert_same_snapshot(before, snapshot(c2))


@engram_only
def test_rollback_restores_info_keyspace(c, c2):
    assert c("MSET", "a", "1", "b", "2") == OK
    assert c("SET", "t", "x", "EX", "100") == OK
    assert c("SELECT", "1") == OK
    assert c("SET", "z", "1") == OK
    assert c("SELECT", "0") == OK

    def keyspace():
        raw = c2("INFO", "keyspace")
        return [line for line in raw.split(b"\r\n") if line.startswith(b"db")]

    before = keyspace()
    assert before[0].startswith(b"db0:keys=3,expires=1,")
    assert before[1].startswith(b"db1:keys=1,expires=0,")
    assert c("MULTI") == OK
    assert c("SET", "new", "1", "EX", "10") == QUEUED
    assert c("DEL", "a") == QUEUED
    assert c("PERSIST", "t") == QUEUED
    assert c("FLUSHALL") == QUEUED
    assert c("SET", "x", "y", "BAD") == QUEUED
    assert c("EXEC") == rolled_back(5, "SET", "ERR syntax error")
    after = keyspace()
    assert [line.split(b",avg_ttl")[0] for line in after] == \
        [line.split(b",avg_ttl")[0] for line in before]
    assert c2("DBSIZE") == b":3\r\n"


@engram_only
def test_rollback_leaves_multi_and_clears_watches(c, c2):
    assert c("SET", "s", "x") == OK
    assert c("WATCH", "w") == OK
    assert c("MULTI") == OK
    assert c("INCR", "s") == QUEUED
    assert c("EXEC") == rolled_back(1, "INCR", NOT_INT)
    assert c("EXEC") == EXEC_WITHOUT_MULTI
    assert c("DISCARD") == DISCARD_WITHOUT_MULTI
    # w is no longer watched
    assert c2("SET", "w", "1") == OK
    assert c("MULTI") == OK
    assert c("INCR", "w") == QUEUED
    assert c("EXEC") == b"*1\r\n:2\r\n"


@engram_only
def test_successful_exec_after_rollback(c, c2):
    assert c("SET", "s", "x") == OK
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("INCR", "s") == QUEUED
    assert c("EXEC") == rolled_back(2, "INCR", NOT_INT)
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("INCR", "a") == QUEUED
    assert c("EXEC") == b"*2\r\n+OK\r\n:2\r\n"
    assert c2("GET", "a") == b"$1\r\n2\r\n"


@engram_only
def test_rollback_reply_in_resp3(c):
    hello3(c)
    assert c("SET", "s", "x") == OK
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("INCR", "s") == QUEUED
    assert c("EXEC") == rolled_back(2, "INCR", NOT_INT)
    assert c("GET", "a") == RESP3_NULL


@engram_only
def test_rollback_pipelined(c, c2):
    c.send(cmd("SET", "s", "x") + cmd("MULTI") + cmd("SET", "a", "1") + cmd("INCR", "s")
           + cmd("EXEC") + cmd("EXISTS", "a") + cmd("SET", "a", "2") + cmd("GET", "a"))
    replies = [c.reply() for _ in range(8)]
    assert replies == [OK, OK, QUEUED, QUEUED, rolled_back(2, "INCR", NOT_INT), b":0\r\n",
                       OK, b"$1\r\n2\r\n"]


@engram_only
def test_rollback_redis_py(r):
    r.set("s", "x")
    with r.pipeline() as p:
        p.set("a", 1)
        p.incr("s")                       # redis-py sends INCRBY s 1
        with pytest.raises(redis.exceptions.ExecAbortError) as e:
            p.execute()
    assert str(e.value) == ("Transaction rolled back: command 2 (INCRBY) failed: "
                            "ERR value is not an integer or out of range")
    assert r.exists("a") == 0


@engram_only
def test_rollback_subcommand_name(c):
    # docs/transactions.md: a subcommand is named CONTAINER|SUB in capitals
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("client", "setname", "bad name") == QUEUED
    assert c("EXEC") == rolled_back(
        2, "CLIENT|SETNAME",
        "ERR Client names cannot contain spaces, newlines or special characters.")
    assert c("EXISTS", "a") == b":0\r\n"


@engram_only
def test_rollback_keeps_connection_state_changes(c):
    # CLIENT SETNAME is not data: a rollback does not undo it (docs/transactions.md)
    assert c("SET", "s", "x") == OK
    assert c("MULTI") == OK
    assert c("CLIENT", "SETNAME", "nm") == QUEUED
    assert c("INCR", "s") == QUEUED
    assert c("EXEC") == rolled_back(2, "INCR", NOT_INT)
    assert c("CLIENT", "GETNAME") == b"$2\r\nnm\r\n"


@engram_only
def test_rollback_still_triggers_other_watchers(c, c2):
    # A rolled-back write leaves other clients' WATCH triggered (a spurious
    # conflict, docs/transactions.md).
    assert c("SET", "s", "x") == OK
    assert c2("WATCH", "a") == OK
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("INCR", "s") == QUEUED
    assert c("EXEC") == rolled_back(2, "INCR", NOT_INT)
    assert c2("EXISTS", "a") == b":0\r\n"
    assert c2("MULTI") == OK
    assert c2("PING") == QUEUED
    assert c2("EXEC") == NULL_ARRAY


@engram_only
def test_watch_failure_wins_over_rollback(c, c2):
    # EXEC of a WATCH-failed transaction runs nothing, so nothing can fail.
    assert c("SET", "s", "x") == OK
    assert c("WATCH", "w") == OK
    assert c2("SET", "w", "1") == OK
    assert c("MULTI") == OK
    assert c("SET", "a", "1") == QUEUED
    assert c("INCR", "s") == QUEUED
    assert c("EXEC") == NULL_ARRAY
    assert c("EXISTS", "a") == b":0\r\n"


def test_monitor_inside_exec_is_refused(c):
    """Redis 7.0: MONITOR queued in a transaction fails when EXEC runs it. In
    engram that failure rolls the transaction back (docs/transactions.md)."""
    assert c("MULTI") == OK
    assert c("MONITOR") == QUEUED
    reply = c("EXEC")
    if conftest.AGAINST_REDIS:
        assert reply == b"*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n"
    else:
        assert reply == (b"-EXECABORT Transaction rolled back: command 1 (MONITOR) failed: "
                         b"ERR MONITOR isn't allowed for DENY BLOCKING client\r\n")
    assert c("PING") == b"+PONG\r\n"  # not a monitor


# Lists are undone change by change (pushes and pops log their inverse,
# LSET the old element, LINSERT the index, LREM and LTRIM the elements they
# took with their indexes, TTL changes their old TTL) rather than by a copy
# of the whole list (RENAME, RENAMENX and MOVE log the move itself, COPY and
# DEL keep the value they replace or delete): the random sequences below mix
# those with keys that are created, emptied and deleted inside the
# transaction, and with SWAPDB/SELECT. Elements come
# from a small alphabet, so LREM and LINSERT find what they look for.

def replay_seed():
    """A random seed, or ENGRAM_TEST_SEED to replay a failure."""
    import random
    return int(os.environ.get("ENGRAM_TEST_SEED") or random.randrange(1 << 30))


def assert_rollback_then_commit(r, ops, state, refill, ctx):
    """ops in an EXEC that ends with a failing command (INCR of a string
    that is not a number, present in dbs 0 and 1 whatever SWAPDB does)
    leave state(r) as it was; the same EXEC without it, committed, equals
    running ops one by one after refill() has rebuilt the starting state.
    r must return raw replies (+QUEUED inside MULTI)."""
    before = state(r)

    def run_exec(failing):
        r.execute_command("MULTI")
        for op in ops:
            r.execute_command(*op)
        r.execute_command("SELECT", 0)
        if failing:
            r.execute_command("INCR", "str")
        return r.execute_command("EXEC")

    for db in (1, 0):
        r.execute_command("SELECT", db)
        r.execute_command("SET", "str", "x")
    with pytest.raises(redis.ResponseError) as err:
        run_exec(True)
    assert "rolled back" in str(err.value), ctx
    for db in (1, 0):
        r.execute_command("SELECT", db)
        r.execute_command("DEL", "str")
    assert state(r) == before, ctx
    try:
        run_exec(False)
        committed = state(r)
    except redis.ResponseError:
        committed = None  # some op fails on this state: rolled back
    r.execute_command("SELECT", 0)
    refill()
    r.execute_command("SELECT", 0)
    assert state(r) == before, ctx
    failed = False
    for op in ops:
        try:
            r.execute_command(*op)
        except redis.ResponseError:
            failed = True
    r.execute_command("SELECT", 0)
    if committed is not None:
        assert not failed and state(r) == committed, ctx
    else:
        assert failed, ctx


LIST_KEYS = ["la", "lb", "lc"]


def random_list_op(rng):
    k, k2 = rng.choice(LIST_KEYS), rng.choice(LIST_KEYS)
    v = "i%d" % rng.randrange(8)
    i, j = str(rng.randrange(-12, 12)), str(rng.randrange(-12, 12))
    return rng.choice([
        ("LPUSH", k, v), ("RPUSH", k, v, v + "b"), ("LPUSHX", k, v), ("RPUSHX", k, v),
        ("LPOP", k), ("RPOP", k), ("LPOP", k, str(rng.randrange(4))), ("RPOP", k, "2"),
        ("LMOVE", k, k2, rng.choice(["LEFT", "RIGHT"]), rng.choice(["LEFT", "RIGHT"])),
        ("RPOPLPUSH", k, k2), ("LSET", k, i, v), ("LREM", k, str(rng.randrange(-3, 4)), v),
        ("LTRIM", k, "1", "-2"), ("LTRIM", k, i, j),
        ("LINSERT", k, rng.choice(["BEFORE", "AFTER"]), v, "ins"), ("DEL", k), ("EXPIRE", k, "1000"), ("PERSIST", k),
        ("PEXPIRE", k, str(rng.randrange(100000, 200000))), ("RENAME", k, k2),
        ("RENAMENX", k, k2), ("MOVE", k, rng.choice(["0", "1"])), ("COPY", k, k2, "REPLACE"),
        ("COPY", k, k2, "DB", "1"),
        ("SWAPDB", "0", "1"), ("SELECT", "1"), ("SELECT", "0"),
        ("LMPOP", "2", k, k2, rng.choice(["LEFT", "RIGHT"]), "COUNT", "2"),
        ("BLPOP", k, k2, "0.01"), ("BRPOP", k, "0.01"),  # in MULTI: do not block
    ])


def list_state(r):
    out = {}
    for db in (0, 1):
        r.execute_command("SELECT", db)
        for k in LIST_KEYS:
            if r.exists(k):
                ttl = r.pttl(k)
                out[(db, k)] = (r.lrange(k, 0, -1), ttl > 0)
    r.execute_command("SELECT", 0)
    return out


def random_rollback_rounds(server, keys, fill_key, put_back, state, random_op):
    """60 seeded rounds of assert_rollback_then_commit: keys filled at random
    in dbs 0 and 1 (fill_key(r, rng, k) in the selected db, which may leave k
    absent; 30% of the keys present get a TTL), then a random transaction.
    state(r) maps (db, key) to a tuple whose last item is "has a TTL";
    put_back(r, k, entry) rebuilds k in the selected db from its entry."""
    import random
    seed = replay_seed()
    rng = random.Random(seed)
    r = redis.Redis(port=server.port, single_connection_client=True)
    r.response_callbacks.clear()  # raw replies: +QUEUED inside MULTI
    for round_ in range(60):
        r.execute_command("SELECT", 0)
        r.flushall()
        for db in (0, 1):
            r.execute_command("SELECT", db)
            for k in keys:
                fill_key(r, rng, k)
                if r.exists(k) and rng.random() < 0.3:
                    r.pexpire(k, 500000)
        r.execute_command("SELECT", 0)
        before = state(r)
        ops = [random_op(rng) for _ in range(rng.randrange(1, 25))]

        def refill():
            r.flushall()
            for (db, k), entry in before.items():  # noqa: B023
                r.execute_command("SELECT", db)
                put_back(r, k, entry)
                if entry[-1]:
                    r.pexpire(k, 500000)

        assert_rollback_then_commit(r, ops, state, refill,
                                    "seed %d round %d ops %r" % (seed, round_, ops))
    r.close()


def fill_list(r, rng, k):
    n = rng.randrange(0, 40)
    if n:
        r.rpush(k, *["i%d" % rng.randrange(8) for _ in range(n)])


@engram_only
def test_list_rollback_restores_every_change(server):
    """A seeded random transaction of list commands that ends with a failing
    command leaves both databases exactly as they were (contents and
    whether each key has a TTL); the same transaction without the failing
    command equals running its commands one by one."""
    random_rollback_rounds(server, LIST_KEYS, fill_list,
                           lambda r, k, entry: r.rpush(k, *entry[0]), list_state,
                           random_list_op)


STR_KEYS = ["sa", "sb", "sc", "sd"]


def random_str_value(rng):
    """An int, an embstr, a short raw or a long raw (logged, > 4096 bytes) value."""
    kind = rng.randrange(4)
    if kind == 0:
        return str(rng.randrange(-1000, 1000))
    n = (rng.randrange(1, 40), rng.randrange(45, 200), rng.randrange(4090, 9000))[kind - 1]
    return "".join(rng.choice("abcxyz") for _ in range(min(n, 50))) * (n // 50 + 1)


def random_str_op(rng):
    k, k2 = rng.choice(STR_KEYS), rng.choice(STR_KEYS)
    off = str(rng.choice([0, 3, 40, 4095, 4096, 5000, 9100, 12000]))
    chunk = rng.choice(["x", "yz", "0", "12", "Q" * 100])
    return rng.choice([
        ("APPEND", k, chunk), ("APPEND", k, chunk), ("SETRANGE", k, off, chunk),
        ("SETRANGE", k, off, chunk), ("SETRANGE", k, off, ""),
        ("SET", k, random_str_value(rng)), ("SET", k, chunk, "NX"), ("SET", k, chunk, "XX"),
        ("SET", k, chunk, "GET"), ("SET", k, chunk, "KEEPTTL"), ("SETNX", k, chunk),
        ("MSETNX", k, chunk, k2, chunk), ("GETSET", k, chunk), ("GETDEL", k),
        ("GETEX", k, "PX", "300000"), ("INCR", k), ("INCRBY", k, "7"), ("DECR", k),
        ("INCRBYFLOAT", k, "1.5"), ("DEL", k), ("EXPIRE", k, "1000"), ("PERSIST", k),
        ("RENAME", k, k2), ("RENAMENX", k, k2), ("MOVE", k, rng.choice(["0", "1"])),
        ("COPY", k, k2, "REPLACE"), ("COPY", k, k2, "DB", "1"),
        ("SWAPDB", "0", "1"), ("SELECT", "1"), ("SELECT", "0"),
    ])


def str_state(r):
    out = {}
    for db in (0, 1):
        r.execute_command("SELECT", db)
        for k in STR_KEYS:
            if r.exists(k):
                out[(db, k)] = (r.get(k), r.execute_command("OBJECT", "ENCODING", k),
                                r.pttl(k) > 0)
    r.execute_command("SELECT", 0)
    return out


@engram_only
def test_string_rollback_restores_every_change(server):
    """As the list test above, for strings: int, embstr, raw and long raw
    values (APPEND and SETRANGE on the long ones are undone change by change,
    the others saved whole), mixed with every other string command and the
    keyspace commands. A rolled-back transaction leaves values, encodings and
    TTLs as they were; committed, it equals its commands run one by one."""
    def fill(r, rng, k):
        if rng.random() < 0.8:
            r.set(k, random_str_value(rng))

    random_rollback_rounds(server, STR_KEYS, fill, lambda r, k, entry: r.set(k, entry[0]),
                           str_state, random_str_op)


# Hashes, sorted sets and sets are undone field by field / member by member
# (HSET, HMSET, HSETNX, HDEL, HINCRBY(FLOAT), ZADD, ZINCRBY, ZREM, the
# ZPOP and ZREMRANGEBY families, SADD, SREM, SPOP, SMOVE); DEL and RENAME
# save the whole value.

MAP_KEYS = ["ha", "hb", "za", "zb", "sa", "sb"]


def random_map_op(rng):
    h, z, st = rng.choice(["ha", "hb"]), rng.choice(["za", "zb"]), rng.choice(["sa", "sb"])
    f, f2 = "f%d" % rng.randrange(12), "f%d" % rng.randrange(12)
    n = str(rng.randrange(-5, 50))
    return rng.choice([
        ("HSET", h, f, n), ("HSET", h, f, n, f2, n), ("HMSET", h, f2, n), ("HSETNX", h, f, n),
        ("HDEL", h, f), ("HDEL", h, f, f2), ("HINCRBY", h, f, n), ("HINCRBYFLOAT", h, f, "1.5"),
        ("ZADD", z, n, f), ("ZADD", z, "NX", n, f), ("ZADD", z, "XX", "CH", n, f, n, f2),
        ("ZADD", z, "GT", n, f), ("ZADD", z, "LT", n, f), ("ZADD", z, "INCR", n, f),
        ("ZINCRBY", z, n, f), ("ZREM", z, f), ("ZREM", z, f, f2), ("ZPOPMIN", z),
        ("ZREMRANGEBYSCORE", z, "0", "10"), ("DEL", rng.choice(MAP_KEYS)),
        ("EXPIRE", rng.choice(MAP_KEYS), "1000"), ("PERSIST", rng.choice(MAP_KEYS)),
        ("RENAME", h, "ha" if h == "hb" else "hb"), ("RENAME", z, "za" if z == "zb" else "zb"),
        ("SWAPDB", "0", "1"), ("SELECT", "1"), ("SELECT", "0"),
        ("SADD", st, f), ("SADD", st, f, f2, n), ("SREM", st, f), ("SREM", st, f, n),
        ("SMOVE", st, "sa" if st == "sb" else "sb", f),
        ("SPOP", st, "100"),  # all of it: a random pick would not compare with one by one
        # (not ZREMRANGEBYLEX: with mixed scores what it removes is unspecified)
        ("ZPOPMAX", z, "2"), ("ZREMRANGEBYRANK", z, "1", "3"),
        ("ZMPOP", "2", "za", "zb", rng.choice(["MIN", "MAX"]), "COUNT", "2"),
        ("BZPOPMIN", z, "0.01"),  # in MULTI: does not block
    ])


def map_state(r):
    out = {}
    for db in (0, 1):
        r.execute_command("SELECT", db)
        for k in MAP_KEYS:
            t = r.execute_command("TYPE", k)
            if t == b"hash":
                v = sorted(r.execute_command("HGETALL", k))
            elif t == b"zset":
                v = r.execute_command("ZRANGE", k, 0, -1, "WITHSCORES")
            elif t == b"set":
                v = sorted(r.execute_command("SMEMBERS", k))
            else:
                assert t == b"none", t
                continue
            out[(db, k)] = (t, v, r.execute_command("PTTL", k) > 0)
    r.execute_command("SELECT", 0)
    return out


@engram_only
def test_hash_and_zset_rollback_restores_every_change(server):
    """As the list test above, for hashes and sorted sets: a random
    transaction ending in a failing command leaves both dbs exactly as they
    were; committed, it equals running its commands one by one."""
    import random
    seed = replay_seed()
    rng = random.Random(seed)
    r = redis.Redis(port=server.port, single_connection_client=True)
    r.response_callbacks.clear()
    # Small packed limits, so most keys are in the big encodings (undone
    # field by field) and some stay packed (saved whole, encoding included).
    saved = {k: r.execute_command("CONFIG", "GET", k)[1]
             for k in ("hash-max-listpack-entries", "zset-max-listpack-entries")}
    for k in saved:
        r.execute_command("CONFIG", "SET", k, "4")

    def fill(state=None, hash_pairs=None):
        """Random data, or exactly `state` again (hashes from hash_pairs)."""
        r.execute_command("FLUSHALL")
        if state is None:
            for db in (0, 1):
                r.execute_command("SELECT", db)
                for k in MAP_KEYS:
                    n = rng.randrange(0, 12)
                    ints = rng.random() < 0.3  # an intset (saved whole) or a table
                    for i in range(n):
                        if k[0] == "h":
                            r.execute_command("HSET", k, "f%d" % i, rng.randrange(50))
                        elif k[0] == "z":
                            r.execute_command("ZADD", k, rng.randrange(50), "f%d" % i)
                        else:
                            r.execute_command("SADD", k, i if ints else "f%d" % i)
                    if n and rng.random() < 0.3:
                        r.execute_command("PEXPIRE", k, 500000)
        else:
            for (db, k), (t, v, has_ttl) in state.items():
                r.execute_command("SELECT", db)
                if t == b"hash":
                    r.execute_command("HSET", k, *hash_pairs[(db, k)])
                elif t == b"set":
                    r.execute_command("SADD", k, *v)
                else:
                    r.execute_command("ZADD", k, *[x for i in range(0, len(v), 2)
                                                   for x in (v[i + 1], v[i])])
                if has_ttl:
                    r.execute_command("PEXPIRE", k, 500000)
        r.execute_command("SELECT", 0)

    try:
        for round_ in range(60):
            fill()
            before = map_state(r)
            hash_pairs = {}
            for (db, k), (t, v, _) in before.items():
                if t == b"hash":
                    r.execute_command("SELECT", db)
                    hash_pairs[(db, k)] = r.execute_command("HGETALL", k)
            r.execute_command("SELECT", 0)
            ops = [random_map_op(rng) for _ in range(rng.randrange(1, 25))]
            assert_rollback_then_commit(r, ops, map_state,
                                        lambda: fill(before, hash_pairs),  # noqa: B023
                                        "seed %d round %d ops %r" % (seed, round_, ops))
    finally:
        r.execute_command("SELECT", 0)
        for k, v in saved.items():
            r.execute_command("CONFIG", "SET", k, v)
        r.close()


@engram_only
def test_rollback_restores_strings_changed_in_place(c, c2):
    """APPEND and SETRANGE on strings longer than the undo log copies whole
    (UNDO_STRING_COPY_BYTES, 4096) are undone by writing back the bytes they
    overwrote and cutting the value to its old length; shorter, embstr and
    int values are saved whole. Either way a rollback restores the bytes,
    the length and OBJECT ENCODING."""
    big = b"".join(b"%05d" % i for i in range(20000))  # 100000 bytes, raw
    edge = b"e" * 4097  # just past the limit
    values = {"big": big, "edge": edge, "limit": b"l" * 4096, "short": b"abc",
              "num": b"12345"}
    for k, v in values.items():
        assert c("SET", k, v) == OK
    encodings = {k: c("OBJECT", "ENCODING", k) for k in values}
    assert encodings["big"] == bulk(b"raw") and encodings["short"] == bulk(b"embstr")
    assert encodings["num"] == bulk(b"int")
    assert c("MULTI") == OK
    queued = [("APPEND", "big", "tail"), ("SETRANGE", "big", "10", "ZZZ"),
              ("SETRANGE", "big", "99998", "across-the-end"),
              ("SETRANGE", "big", "200000", "far"), ("APPEND", "big", "again"),
              ("APPEND", "edge", "!"), ("SETRANGE", "edge", "0", "E"),
              ("SETRANGE", "limit", "4090", "over-the-limit"), ("APPEND", "short", "def"),
              ("SETRANGE", "num", "1", "x"), ("APPEND", "num", "6"),
              ("SET", "big2", big), ("APPEND", "big2", "x"),  # new in this EXEC
              ("INCR", "big")]
    for cmd_ in queued:
        assert c(*cmd_) == QUEUED
    assert c("EXEC") == rolled_back(len(queued), "INCR", NOT_INT)
    for k, v in values.items():
        assert c2("GET", k) == bulk(v), k
        assert c2("STRLEN", k) == b":%d\r\n" % len(v), k
        assert c2("OBJECT", "ENCODING", k) == encodings[k], k
    assert c2("EXISTS", "big2") == b":0\r\n"
    # The same commands committed change the values as Redis does.
    assert c("MULTI") == OK
    for cmd_ in queued[:-1]:
        assert c(*cmd_) == QUEUED
    assert c("EXEC") == (b"*13\r\n:100004\r\n:100004\r\n:100012\r\n:200003\r\n:200008\r\n"
                         b":4098\r\n:4098\r\n:4104\r\n:6\r\n:5\r\n:6\r\n+OK\r\n:100001\r\n")
    expect = bytearray(big + b"tail")
    expect[10:13] = b"ZZZ"
    expect[99998:99998 + 14] = b"across-the-end"
    expect += b"\0" * (200000 - len(expect)) + b"far" + b"again"
    assert c2("GET", "big") == bulk(bytes(expect))
    assert c2("GET", "edge") == bulk(b"E" + edge[1:] + b"!")
    assert c2("GET", "num") == bulk(b"1x3456")


@pytest.mark.skipif(conftest.AGAINST_REDIS or not conftest.is_asan_build(),
                    reason="needs ASan's allocation limit to make an allocation fail")
def test_rollback_after_out_of_memory_in_setrange():
    """A SETRANGE far past the end of a long string fails with out of memory
    (ASan refuses allocations over 64 MB here): the EXEC rolls back the
    earlier changes to that string and the server stays up. Such a SETRANGE
    is logged before it fails, so rollback meets a value the write never
    reached."""
    opts = "allocator_may_return_null=1:max_allocation_size_mb=64"
    if os.environ.get("ASAN_OPTIONS"):
        opts = os.environ["ASAN_OPTIONS"] + ":" + opts
    srv = conftest.Server(env={"ASAN_OPTIONS": opts})
    try:
        r = srv.client()
        r.set("big", b"x" * 5000)
        for queued in ([("SETRANGE", "big", "100000000", "y")],
                       [("APPEND", "big", "abc"), ("SETRANGE", "big", "10", "ZZ"),
                        ("SETRANGE", "big", "100000000", "y")]):
            pipe = r.pipeline(transaction=True)
            for cmd_ in queued:
                pipe.execute_command(*cmd_)
            with pytest.raises(redis.ResponseError) as err:
                pipe.execute()
            assert str(err.value) == (
                "Transaction rolled back: command %d (SETRANGE) failed: "
                "ERR out of memory for the string value" % len(queued))
            assert r.get("big") == b"x" * 5000
        assert r.ping()
    finally:
        srv.stop()


def undo_bytes(conn):
    return int_reply(conn("DEBUG", "UNDO-BYTES"))


@engram_only
def test_rollback_of_long_string_changes_copies_nothing(c):
    """DEBUG UNDO-BYTES: what the undo log of the last EXEC allocated. For
    APPEND/SETRANGE on a long string it is the overwritten bytes, not a
    copy; a string command that fails (INCR on a non-integer, WRONGTYPE) or
    changes nothing (SET NX, SETNX, MSETNX on existing keys) copies nothing;
    many small changes to one string cost about one copy at most."""
    big = b"b" * 100000
    assert c("SET", "big", big) == OK
    assert c("SET", "limit", b"l" * 4096) == OK
    assert c("RPUSH", "list", *[str(i) for i in range(1000)]) == b":1000\r\n"
    assert c("MULTI") == OK
    for cmd_ in (("APPEND", "big", "x"), ("SETRANGE", "big", "10", "yyy"),
                 ("SETRANGE", "big", "200000", "z"), ("SET", "big", "v", "NX"),
                 ("SETNX", "big", "v"), ("MSETNX", "big", "v", "other", "w"),
                 ("SET", "limit", "v", "XX", "GET"), ("INCR", "big")):
        assert c(*cmd_) == QUEUED
    assert c("EXEC") == rolled_back(8, "INCR", NOT_INT)
    assert c("GET", "big") == bulk(big)
    # SET XX GET replaced "limit" (kept, not copied); the rest logged a few bytes.
    assert undo_bytes(c) < 4096
    for cmd_ in (("APPEND", "list", "x"), ("INCR", "list"), ("SETRANGE", "list", "0", "x")):
        assert c("MULTI") == OK
        assert c(*cmd_) == QUEUED
        assert c("EXEC") == rolled_back(1, cmd_[0], WRONGTYPE), cmd_
        assert undo_bytes(c) < 1024, cmd_  # no copy of the 1000-element list
    # Control: a change to a string of at most 4096 bytes copies it.
    assert c("MULTI") == OK
    assert c("SETRANGE", "limit", "0", "L") == QUEUED
    assert c("INCR", "big") == QUEUED
    assert c("EXEC") == rolled_back(2, "INCR", NOT_INT)
    assert undo_bytes(c) >= 4096
    # 3000 one-byte APPENDs: about one copy, not 3000 records.
    assert c("MULTI") == OK
    for _ in range(3000):
        assert c("APPEND", "big", "!") == QUEUED
    assert c("INCR", "big") == QUEUED
    assert c("EXEC") == rolled_back(3001, "INCR", NOT_INT)
    assert 100000 <= undo_bytes(c) < 3 * 103000
    assert c("GET", "big") == bulk(big)
    assert c("STRLEN", "limit") == b":4096\r\n"


@engram_only
def test_rollback_keeps_idle_time_of_logged_values(server):
    """A rolled-back EXEC leaves OBJECT IDLETIME as it was for values undone
    change by change (big list, hash, sorted set; TTL changes), as for
    values saved whole."""
    r = redis.Redis(port=server.port, single_connection_client=True)
    r.response_callbacks.clear()
    saved = {k: r.execute_command("CONFIG", "GET", k)[1]
             for k in ("hash-max-listpack-entries", "zset-max-listpack-entries")}
    try:
        for k in saved:
            r.execute_command("CONFIG", "SET", k, "4")
        r.execute_command("FLUSHALL")
        r.execute_command("RPUSH", "il", *range(10))
        r.execute_command("HSET", "ih", *[x for i in range(10) for x in ("f%d" % i, i)])
        r.execute_command("ZADD", "iz", *[x for i in range(10) for x in (i, "m%d" % i)])
        r.execute_command("HSET", "ip", "f", "1")  # packed: saved whole
        r.execute_command("SET", "str", "x")
        r.execute_command("SET", "longstr", "x" * 5000)  # APPEND is undone in place
        time.sleep(2.2)
        r.execute_command("MULTI")
        for cmd_ in (("RPUSH", "il", "x"), ("LPOP", "il"), ("LMOVE", "il", "il", "LEFT", "RIGHT"),
                     ("HSET", "ih", "new", "1"), ("HDEL", "ih", "f1"),
                     ("ZADD", "iz", "5", "new"), ("ZREM", "iz", "m2"), ("EXPIRE", "il", "100"),
                     ("HSET", "ip", "g", "2"), ("APPEND", "longstr", "y"),
                     ("SETRANGE", "longstr", "0", "z"), ("INCR", "str")):
            r.execute_command(*cmd_)
        with pytest.raises(redis.ResponseError):
            r.execute_command("EXEC")
        for k in ("il", "ih", "iz", "ip", "longstr"):
            assert r.execute_command("OBJECT", "IDLETIME", k) >= 2, k
        assert r.execute_command("TTL", "il") == -1
    finally:
        for k, v in saved.items():
            r.execute_command("CONFIG", "SET", k, v)
        r.close()
