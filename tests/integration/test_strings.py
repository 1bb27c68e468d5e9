"""
Black-box tests for the string commands: GET SET SETNX SETEX PSETEX MGET MSET
MSETNX GETSET GETDEL GETEX APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT
GETRANGE SUBSTR SETRANGE LCS, plus the generic errors (arity, unknown command,
WRONGTYPE) as seen through these commands.

Every expectation was checked against Redis 7.0.15 (ENGRAM_TEST_REDIS=1).
Error texts are compared exactly, including the "ERR " / "WRONGTYPE " prefix,
by going through a raw socket (redis-py strips the "ERR " prefix).
RESP2 only.
"""
import time

import pytest
import redis

import conftest
from conftest import read_reply

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NAN_INF = "ERR increment would produce NaN or Infinity"
OFFSET_RANGE = "ERR offset is out of range"
TOO_BIG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
LCS_TYPE = "ERR The specified keys must contain string values"
LCS_LEN_IDX = "ERR If you want both the length and indexes, please just use IDX."
I64_MAX = 9223372036854775807
I64_MIN = -9223372036854775808


# Tests that need a non-string key create a list with RPUSH, which engram does
# not have yet; they run against real Redis only until lists land (issue 5).
needs_lists = pytest.mark.skipif(not conftest.AGAINST_REDIS, reason="needs lists (issue 5)")


def invalid_expire(cmd):
    return "ERR invalid expire time in '%s' command" % cmd


def arity(cmd):
    return "ERR wrong number of arguments for '%s' command" % cmd


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

encode = conftest.encode_command


class Raw:
    """A raw RESP2 connection; call() returns the exact reply bytes."""

    def __init__(self, sock):
        self.sock = sock

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return read_reply(self.sock)

    def err(self, *args):
        """Send a command that must fail; return the full error text."""
        reply = self.call(*args)
        assert reply.startswith(b"-"), "expected an error, got %r" % reply
        assert reply.endswith(b"\r\n")
        return reply[1:-2].decode()


@pytest.fixture
def c(server, r):
    """A raw connection on a flushed server (flushed by the `r` fixture)."""
    s = server.raw()
    yield Raw(s)
    s.close()


def make_list(r, key=b"lst"):
    r.rpush(key, b"a", b"b")
    return key


def wait_gone(r, key, timeout=2.0):
    """Poll GET until the key is gone; return True if it disappeared in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if r.get(key) is None:
            return True
        time.sleep(0.02)
    return False


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


NIL = b"$-1\r\n"
OK = b"+OK\r\n"


# --------------------------------------------------------------------------
# GET
# --------------------------------------------------------------------------

def test_get_missing_is_nil(r, c):
    assert r.get("nokey") is None
    assert c.call("GET", "nokey") == NIL


def test_get_existing(r, c):
    r.set("k", "hello")
    assert r.get("k") == b"hello"
    assert c.call("GET", "k") == bulk(b"hello")


def test_get_integer_value_is_bulk_string(r, c):
    r.set("n", 12345)
    assert c.call("GET", "n") == bulk(b"12345")


def test_get_empty_string(r, c):
    r.set("e", "")
    assert c.call("GET", "e") == b"$0\r\n\r\n"
    assert r.exists("e") == 1


@needs_lists
def test_get_wrongtype(r, c):
    make_list(r)
    assert c.err("GET", "lst") == WRONGTYPE
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE Operation against a key"):
        r.get("lst")


# --------------------------------------------------------------------------
# SET
# --------------------------------------------------------------------------

def test_set_basic_and_overwrite(r, c):
    assert c.call("SET", "k", "v1") == OK
    assert r.get("k") == b"v1"
    assert c.call("SET", "k", "v2") == OK
    assert r.get("k") == b"v2"


@needs_lists
def test_set_overwrites_other_type(r):
    make_list(r)
    assert r.set("lst", "v") is True
    assert r.type("lst") == b"string"
    assert r.get("lst") == b"v"


def test_set_ex(r):
    assert r.set("k", "v", ex=100) is True
    assert 99 <= r.ttl("k") <= 100


def test_set_px(r):
    assert r.set("k", "v", px=100000) is True
    assert 99000 <= r.pttl("k") <= 100000


def test_set_exat(r):
    at = int(time.time()) + 100
    assert r.set("k", "v", exat=at) is True
    assert 98 <= r.ttl("k") <= 100


def test_set_pxat(r):
    at = int(time.time() * 1000) + 100000
    assert r.set("k", "v", pxat=at) is True
    assert 98000 <= r.pttl("k") <= 100000


def test_set_exat_in_past_deletes_key(r, c):
    r.set("k", "old")
    assert c.call("SET", "k", "new", "EXAT", "1") == OK
    assert r.exists("k") == 0
    assert c.call("SET", "k", "new", "PXAT", "1") == OK
    assert r.exists("k") == 0


def test_set_pxat_in_past_with_get_returns_old_value(r, c):
    r.set("k", "old")
    assert c.call("SET", "k", "new", "PXAT", "1", "GET") == bulk(b"old")
    assert r.exists("k") == 0


def test_set_nx(r, c):
    assert c.call("SET", "k", "v1", "NX") == OK
    assert c.call("SET", "k", "v2", "NX") == NIL
    assert r.get("k") == b"v1"


@needs_lists
def test_set_nx_on_other_type_is_nil_not_wrongtype(r, c):
    make_list(r)
    assert c.call("SET", "lst", "v", "NX") == NIL
    assert r.type("lst") == b"list"


def test_set_xx(r, c):
    assert c.call("SET", "k", "v1", "XX") == NIL
    assert r.exists("k") == 0
    r.set("k", "v0")
    assert c.call("SET", "k", "v1", "XX") == OK
    assert r.get("k") == b"v1"


@needs_lists
def test_set_xx_overwrites_other_type(r, c):
    make_list(r)
    assert c.call("SET", "lst", "v", "XX") == OK
    assert r.type("lst") == b"string"


def test_set_get(r, c):
    assert c.call("SET", "k", "v1", "GET") == NIL
    assert r.get("k") == b"v1"
    assert c.call("SET", "k", "v2", "GET") == bulk(b"v1")
    assert r.get("k") == b"v2"
    assert r.set("k", "v3", get=True) == b"v2"


@needs_lists
def test_set_get_wrongtype_does_not_modify(r, c):
    make_list(r)
    assert c.err("SET", "lst", "v", "GET") == WRONGTYPE
    assert c.err("SET", "lst", "v", "NX", "GET") == WRONGTYPE
    assert c.err("SET", "lst", "v", "XX", "GET") == WRONGTYPE
    assert r.type("lst") == b"list"
    assert r.lrange("lst", 0, -1) == [b"a", b"b"]


def test_set_nx_get(r, c):
    # Allowed together since Redis 7.0.
    assert c.call("SET", "k", "v1", "NX", "GET") == NIL
    assert r.get("k") == b"v1"
    assert c.call("SET", "k", "v2", "NX", "GET") == bulk(b"v1")
    assert r.get("k") == b"v1"  # not set, but old value returned


def test_set_xx_get(r, c):
    assert c.call("SET", "k", "v1", "XX", "GET") == NIL
    assert r.exists("k") == 0
    r.set("k", "v0")
    assert c.call("SET", "k", "v1", "XX", "GET") == bulk(b"v0")
    assert r.get("k") == b"v1"


def test_set_ex_nx_get_combination(r, c):
    assert c.call("SET", "k", "v", "EX", "10", "NX", "GET") == NIL
    assert 9 <= r.ttl("k") <= 10
    assert c.call("SET", "k", "v2", "PX", "5000", "XX", "GET") == bulk(b"v")
    assert r.get("k") == b"v2"
    assert 4000 <= r.pttl("k") <= 5000


def test_set_options_any_order(r, c):
    assert c.call("SET", "k", "v", "GET", "NX", "EX", "10") == NIL
    assert 9 <= r.ttl("k") <= 10
    assert c.call("SET", "k", "v2", "GET", "EXAT", str(int(time.time()) + 50)) == bulk(b"v")
    assert 48 <= r.ttl("k") <= 50


def test_set_repeated_options_allowed_last_wins(r, c):
    # Redis accepts repeated identical flags; for EX the last value wins.
    assert c.call("SET", "k", "v", "EX", "10", "EX", "20") == OK
    assert 19 <= r.ttl("k") <= 20
    assert c.call("SET", "k", "v", "NX", "NX") == NIL
    assert c.call("SET", "k", "v", "XX", "XX") == OK
    assert c.call("SET", "k", "v", "KEEPTTL", "KEEPTTL") == OK
    assert c.call("SET", "k", "w", "GET", "GET") == bulk(b"v")


def test_set_clears_ttl(r):
    r.set("k", "v", ex=100)
    r.set("k", "w")
    assert r.ttl("k") == -1


def test_set_xx_clears_ttl(r):
    r.set("k", "v", ex=100)
    r.set("k", "w", xx=True)
    assert r.ttl("k") == -1


def test_set_keepttl(r, c):
    r.set("k", "v", ex=100)
    assert c.call("SET", "k", "w", "KEEPTTL") == OK
    assert r.get("k") == b"w"
    assert 99 <= r.ttl("k") <= 100
    assert c.call("SET", "k", "x", "XX", "KEEPTTL", "GET") == bulk(b"w")
    assert 99 <= r.ttl("k") <= 100


def test_set_keepttl_without_ttl(r, c):
    assert c.call("SET", "k", "v", "KEEPTTL") == OK
    assert r.ttl("k") == -1


def test_set_ex_replaces_existing_ttl(r):
    r.set("k", "v", ex=100)
    r.set("k", "v", ex=50)
    assert 49 <= r.ttl("k") <= 50


@pytest.mark.parametrize("opts", [
    ["NX", "XX"],
    ["XX", "NX"],
    ["EX", "10", "PX", "100"],
    ["PX", "100", "EX", "10"],
    ["EX", "10", "EXAT", "10"],
    ["EXAT", "10", "EX", "10"],
    ["PX", "10", "PXAT", "10"],
    ["PXAT", "10", "PX", "10"],
    ["EXAT", "10", "PXAT", "10"],
    ["PXAT", "10", "EXAT", "10"],
    ["PX", "100", "EXAT", "10"],
    ["KEEPTTL", "EX", "10"],
    ["EX", "10", "KEEPTTL"],
    ["KEEPTTL", "PX", "10"],
    ["PX", "10", "KEEPTTL"],
    ["EXAT", "10", "KEEPTTL"],
    ["KEEPTTL", "PXAT", "10"],
    ["NX", "XX", "GET"],
    ["PERSIST"],
    ["FOO"],
    ["EX"],
    ["PX"],
    ["EXAT"],
    ["PXAT"],
    ["EX", "10", "extra"],
    ["EX", "0", "NX", "XX"],      # conflict detected before the expire value
    ["EX", "abc", "NX", "XX"],
])
def test_set_syntax_errors(r, c, opts):
    r.set("k", "orig")
    assert c.err("SET", "k", "v", *opts) == SYNTAX
    assert r.get("k") == b"orig"


@pytest.mark.parametrize("opts", [
    ["EX", "0"], ["EX", "-1"], ["EX", str(I64_MIN)],
    ["PX", "0"], ["PX", "-100"],
    ["EXAT", "0"], ["EXAT", "-5"],
    ["PXAT", "0"], ["PXAT", "-1"],
    ["EX", "9999999999999999"],     # seconds*1000 overflows
    ["EX", "9223372036854775"],     # fits *1000 but now+ttl overflows
    ["EXAT", "9223372036854776"],   # *1000 overflows
    ["PX", str(I64_MAX)],           # now+ttl overflows
])
def test_set_invalid_expire(r, c, opts):
    r.set("k", "orig")
    assert c.err("SET", "k", "v", *opts) == invalid_expire("set")
    assert r.get("k") == b"orig"


@pytest.mark.parametrize("val", ["abc", "1.5", "+10", " 10", "10 ", "", "99999999999999999999"])
def test_set_non_integer_expire(r, c, val):
    assert c.err("SET", "k", "v", "EX", val) == NOT_INT
    assert c.err("SET", "k", "v", "PX", val) == NOT_INT
    assert r.exists("k") == 0


def test_set_huge_absolute_expire_is_accepted(r, c):
    assert c.call("SET", "k", "v", "PXAT", str(I64_MAX)) == OK
    assert r.ttl("k") > 10 ** 15
    assert c.call("SET", "k", "v", "EXAT", "9223372036854775") == OK
    assert r.ttl("k") > 10 ** 15


@needs_lists
def test_set_expire_checked_before_type(r, c):
    make_list(r)
    assert c.err("SET", "lst", "v", "EX", "0", "GET") == invalid_expire("set")
    assert c.err("SET", "lst", "v", "EX", "abc", "GET") == NOT_INT


def test_set_arity(c):
    assert c.err("SET") == arity("set")
    assert c.err("SET", "k") == arity("set")


def test_set_redis_py_kwargs(r):
    assert r.set("k", "v", nx=True) is True
    assert r.set("k", "v", nx=True) is None
    assert r.set("k", "w", xx=True, keepttl=True) is True
    assert r.get("k") == b"w"


# --------------------------------------------------------------------------
# SETNX / SETEX / PSETEX
# --------------------------------------------------------------------------

def test_setnx(r, c):
    assert c.call("SETNX", "k", "v1") == b":1\r\n"
    assert c.call("SETNX", "k", "v2") == b":0\r\n"
    assert r.get("k") == b"v1"
    assert r.setnx("k2", "x") is True
    assert r.setnx("k2", "y") is False


@needs_lists
def test_setnx_on_other_type(r, c):
    make_list(r)
    assert c.call("SETNX", "lst", "x") == b":0\r\n"
    assert r.type("lst") == b"list"


def test_setnx_arity(c):
    assert c.err("SETNX", "k") == arity("setnx")
    assert c.err("SETNX", "k", "v", "x") == arity("setnx")


def test_setex(r, c):
    assert c.call("SETEX", "k", "100", "v") == OK
    assert r.get("k") == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert c.call("SETEX", "k", "50", "w") == OK
    assert r.get("k") == b"w"
    assert 49 <= r.ttl("k") <= 50


@needs_lists
def test_setex_overwrites_other_type(r, c):
    make_list(r)
    assert c.call("SETEX", "lst", "10", "x") == OK
    assert r.type("lst") == b"string"


def test_psetex(r, c):
    assert c.call("PSETEX", "k", "100000", "v") == OK
    assert r.get("k") == b"v"
    assert 99000 <= r.pttl("k") <= 100000


@needs_lists
def test_psetex_overwrites_other_type(r, c):
    make_list(r)
    assert c.call("PSETEX", "lst", "1000", "x") == OK
    assert r.type("lst") == b"string"


@pytest.mark.parametrize("cmd,val", [
    ("SETEX", "0"), ("SETEX", "-1"), ("SETEX", "9999999999999999"),
    ("PSETEX", "0"), ("PSETEX", "-5"), ("PSETEX", str(I64_MAX)),
])
def test_setex_psetex_invalid_expire(r, c, cmd, val):
    assert c.err(cmd, "k", val, "v") == invalid_expire(cmd.lower())
    assert r.exists("k") == 0


@pytest.mark.parametrize("cmd", ["SETEX", "PSETEX"])
@pytest.mark.parametrize("val", ["abc", "1.5", "", " 1"])
def test_setex_psetex_non_integer(r, c, cmd, val):
    assert c.err(cmd, "k", val, "v") == NOT_INT
    assert r.exists("k") == 0


def test_setex_psetex_arity(c):
    assert c.err("SETEX", "k", "10") == arity("setex")
    assert c.err("SETEX", "k", "10", "v", "x") == arity("setex")
    assert c.err("PSETEX", "k", "10") == arity("psetex")


# --------------------------------------------------------------------------
# MGET / MSET / MSETNX
# --------------------------------------------------------------------------

@needs_lists
def test_mget(r, c):
    r.mset({"a": "1", "b": "2", "c": "3"})
    make_list(r)
    assert r.mget("a", "b", "nokey", "lst", "c") == [b"1", b"2", None, None, b"3"]
    assert c.call("MGET", "a", "nokey") == b"*2\r\n$1\r\n1\r\n$-1\r\n"


def test_mget_single_and_duplicates(r):
    r.set("a", "1")
    assert r.mget("a") == [b"1"]
    assert r.mget("a", "a", "a") == [b"1", b"1", b"1"]
    assert r.mget("x") == [None]


def test_mget_arity(c):
    assert c.err("MGET") == arity("mget")


def test_mset(r, c):
    assert c.call("MSET", "a", "1", "b", "2") == OK
    assert r.mget("a", "b") == [b"1", b"2"]
    assert c.call("MSET", "a", "x") == OK
    assert r.get("a") == b"x"


def test_mset_duplicate_keys_last_wins(r, c):
    assert c.call("MSET", "y", "1", "y", "2") == OK
    assert r.get("y") == b"2"


@needs_lists
def test_mset_overwrites_other_type_and_clears_ttl(r):
    make_list(r)
    r.set("t", "v", ex=100)
    assert r.mset({"lst": "s", "t": "w"}) is True
    assert r.type("lst") == b"string"
    assert r.get("t") == b"w"
    assert r.ttl("t") == -1


@pytest.mark.parametrize("cmd", ["MSET", "MSETNX"])
def test_mset_msetnx_arity(r, c, cmd):
    name = cmd.lower()
    assert c.err(cmd) == arity(name)
    assert c.err(cmd, "a") == arity(name)
    assert c.err(cmd, "a", "b", "c") == arity(name)
    assert r.exists("a") == 0


def test_msetnx(r, c):
    assert c.call("MSETNX", "a", "1", "b", "2") == b":1\r\n"
    assert r.mget("a", "b") == [b"1", b"2"]
    # all-or-nothing: one existing key blocks every write
    assert c.call("MSETNX", "a", "9", "d", "4") == b":0\r\n"
    assert r.get("a") == b"1"
    assert r.exists("d") == 0
    assert r.msetnx({"d": "4", "e": "5"}) is True
    assert r.mget("d", "e") == [b"4", b"5"]


@needs_lists
def test_msetnx_other_type_counts_as_existing(r, c):
    make_list(r)
    assert c.call("MSETNX", "lst", "x", "f", "6") == b":0\r\n"
    assert r.exists("f") == 0
    assert r.type("lst") == b"list"


def test_msetnx_duplicate_keys(r, c):
    assert c.call("MSETNX", "x", "1", "x", "2") == b":1\r\n"
    assert r.get("x") == b"2"


def test_msetnx_keeps_ttl_of_existing_key(r):
    r.set("a", "v", ex=100)
    assert r.msetnx({"a": "y"}) is False
    assert 99 <= r.ttl("a") <= 100


# --------------------------------------------------------------------------
# GETSET / GETDEL
# --------------------------------------------------------------------------

def test_getset(r, c):
    assert c.call("GETSET", "g", "1") == NIL
    assert r.get("g") == b"1"
    assert c.call("GETSET", "g", "2") == bulk(b"1")
    assert r.get("g") == b"2"


def test_getset_clears_ttl(r):
    r.set("t", "v", ex=100)
    assert r.getset("t", "w") == b"v"
    assert r.ttl("t") == -1


@needs_lists
def test_getset_wrongtype(r, c):
    make_list(r)
    assert c.err("GETSET", "lst", "x") == WRONGTYPE
    assert r.type("lst") == b"list"


def test_getset_arity(c):
    assert c.err("GETSET", "k") == arity("getset")
    assert c.err("GETSET", "k", "v", "x") == arity("getset")


def test_getdel(r, c):
    r.set("g", "val", ex=100)
    assert c.call("GETDEL", "g") == bulk(b"val")
    assert r.exists("g") == 0
    assert c.call("GETDEL", "g") == NIL


@needs_lists
def test_getdel_wrongtype(r, c):
    make_list(r)
    assert c.err("GETDEL", "lst") == WRONGTYPE
    assert r.type("lst") == b"list"


def test_getdel_arity(c):
    assert c.err("GETDEL") == arity("getdel")
    assert c.err("GETDEL", "a", "b") == arity("getdel")


# --------------------------------------------------------------------------
# GETEX
# --------------------------------------------------------------------------

def test_getex_no_options_keeps_ttl(r, c):
    r.set("k", "v", ex=100)
    assert c.call("GETEX", "k") == bulk(b"v")
    assert 99 <= r.ttl("k") <= 100
    r.set("p", "v")
    assert c.call("GETEX", "p") == bulk(b"v")
    assert r.ttl("p") == -1


def test_getex_missing_key(r, c):
    assert c.call("GETEX", "nokey") == NIL
    assert c.call("GETEX", "nokey", "EX", "10") == NIL
    assert c.call("GETEX", "nokey", "PERSIST") == NIL
    assert r.exists("nokey") == 0


def test_getex_ex_px(r, c):
    r.set("k", "v")
    assert c.call("GETEX", "k", "EX", "50") == bulk(b"v")
    assert 49 <= r.ttl("k") <= 50
    assert c.call("GETEX", "k", "PX", "50000") == bulk(b"v")
    assert 49000 <= r.pttl("k") <= 50000


def test_getex_exat_pxat(r, c):
    r.set("k", "v")
    assert c.call("GETEX", "k", "EXAT", str(int(time.time()) + 100)) == bulk(b"v")
    assert 98 <= r.ttl("k") <= 100
    assert c.call("GETEX", "k", "PXAT", str(int(time.time() * 1000) + 60000)) == bulk(b"v")
    assert 58000 <= r.pttl("k") <= 60000


def test_getex_persist(r, c):
    r.set("k", "v", ex=100)
    assert c.call("GETEX", "k", "PERSIST") == bulk(b"v")
    assert r.ttl("k") == -1
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1


def test_getex_in_past_deletes_but_returns_value(r, c):
    r.set("k", "v")
    assert c.call("GETEX", "k", "PXAT", "1") == bulk(b"v")
    assert r.exists("k") == 0
    r.set("k", "v")
    assert c.call("GETEX", "k", "EXAT", "1") == bulk(b"v")
    assert r.exists("k") == 0


def test_getex_repeated_options_last_wins(r, c):
    r.set("k", "v")
    assert c.call("GETEX", "k", "EX", "10", "EX", "20") == bulk(b"v")
    assert 19 <= r.ttl("k") <= 20
    assert c.call("GETEX", "k", "PERSIST", "PERSIST") == bulk(b"v")
    assert r.ttl("k") == -1


@pytest.mark.parametrize("opts", [
    ["EX", "10", "PX", "10"],
    ["PX", "10", "EX", "10"],
    ["EXAT", "100", "PXAT", "100"],
    ["EX", "10", "EXAT", "100"],
    ["PERSIST", "EX", "10"],
    ["EX", "10", "PERSIST"],
    ["PERSIST", "PX", "100"],
    ["FOO"],
    ["KEEPTTL"],
    ["NX"],
    ["XX"],
    ["GET"],
    ["EX"],
    ["PXAT"],
])
def test_getex_syntax_errors(r, c, opts):
    r.set("k", "v", ex=100)
    assert c.err("GETEX", "k", *opts) == SYNTAX
    assert 99 <= r.ttl("k") <= 100
    # syntax is checked even when the key does not exist
    assert c.err("GETEX", "nokey", *opts) == SYNTAX


@pytest.mark.parametrize("opts", [
    ["EX", "0"], ["EX", "-1"], ["PX", "0"], ["PX", "-1"],
    ["EXAT", "0"], ["PXAT", "-1"],
    ["EX", "9999999999999999"], ["EXAT", "9223372036854776"], ["PX", str(I64_MAX)],
])
def test_getex_invalid_expire(r, c, opts):
    r.set("k", "v", ex=100)
    assert c.err("GETEX", "k", *opts) == invalid_expire("getex")
    assert 99 <= r.ttl("k") <= 100


@pytest.mark.parametrize("val", ["abc", "1.5", ""])
def test_getex_non_integer_expire(r, c, val):
    r.set("k", "v")
    assert c.err("GETEX", "k", "EX", val) == NOT_INT
    assert c.err("GETEX", "k", "PX", val) == NOT_INT


@needs_lists
def test_getex_expire_value_checked_after_key_lookup(r, c):
    # Surprising: on a missing key a bad expire value is not an error at all.
    assert c.call("GETEX", "nokey", "EX", "0") == NIL
    assert c.call("GETEX", "nokey", "EX", "abc") == NIL
    assert c.call("GETEX", "nokey", "PX", str(I64_MAX)) == NIL
    # ... and on a wrong-type key WRONGTYPE wins over the bad value.
    make_list(r)
    assert c.err("GETEX", "lst", "EX", "0") == WRONGTYPE
    assert c.err("GETEX", "lst", "EX", "abc") == WRONGTYPE
    # but syntax errors come first
    assert c.err("GETEX", "lst", "FOO") == SYNTAX


def test_getex_huge_absolute_expire(r, c):
    r.set("k", "v")
    assert c.call("GETEX", "k", "PXAT", str(I64_MAX)) == bulk(b"v")
    assert r.ttl("k") > 10 ** 15


@needs_lists
def test_getex_wrongtype(r, c):
    make_list(r)
    assert c.err("GETEX", "lst") == WRONGTYPE
    assert c.err("GETEX", "lst", "PERSIST") == WRONGTYPE
    assert r.type("lst") == b"list"


def test_getex_arity(c):
    assert c.err("GETEX") == arity("getex")


# --------------------------------------------------------------------------
# APPEND / STRLEN
# --------------------------------------------------------------------------

def test_append(r, c):
    assert c.call("APPEND", "ap", "hello") == b":5\r\n"
    assert c.call("APPEND", "ap", " world") == b":11\r\n"
    assert r.get("ap") == b"hello world"
    assert c.call("APPEND", "ap", "") == b":11\r\n"
    assert r.get("ap") == b"hello world"


def test_append_empty_makes_the_value_raw(r, c):
    # As Redis: APPEND of "" changes no byte but is a write that leaves an
    # int or embstr value raw-encoded
    r.set("n", "123")
    r.set("s", "abc")
    assert r.object("encoding", "n") == b"int"
    assert c.call("APPEND", "n", "") == b":3\r\n"
    assert c.call("APPEND", "s", "") == b":3\r\n"
    assert r.object("encoding", "n") == b"raw"
    assert r.object("encoding", "s") == b"raw"
    assert r.get("n") == b"123" and r.get("s") == b"abc"
    assert r.incr("n") == 124


def test_append_empty_creates_key(r, c):
    # Unlike SETRANGE, APPEND of "" to a missing key creates an empty string.
    assert c.call("APPEND", "ap", "") == b":0\r\n"
    assert r.exists("ap") == 1
    assert r.get("ap") == b""


def test_append_to_integer(r):
    r.set("num", 12345)
    assert r.append("num", "6") == 6
    assert r.get("num") == b"123456"
    assert r.incr("num") == 123457
    assert r.append("num", "x") == 6 + 1
    assert r.get("num") == b"123457x"


def test_append_keeps_ttl(r):
    r.set("t", "v", ex=100)
    r.append("t", "x")
    assert 99 <= r.ttl("t") <= 100


@needs_lists
def test_append_wrongtype(r, c):
    make_list(r)
    assert c.err("APPEND", "lst", "x") == WRONGTYPE


def test_append_arity(c):
    assert c.err("APPEND", "k") == arity("append")
    assert c.err("APPEND", "k", "a", "b") == arity("append")


def test_strlen(r, c):
    assert c.call("STRLEN", "nokey") == b":0\r\n"
    r.set("s", "hello")
    assert c.call("STRLEN", "s") == b":5\r\n"
    r.set("n", 12345)
    assert r.strlen("n") == 5
    r.set("neg", -1)
    assert r.strlen("neg") == 2
    r.set("e", "")
    assert r.strlen("e") == 0
    r.set("u", "h\xe9llo".encode())
    assert r.strlen("u") == 6  # bytes, not characters


@needs_lists
def test_strlen_wrongtype(r, c):
    make_list(r)
    assert c.err("STRLEN", "lst") == WRONGTYPE


def test_strlen_arity(c):
    assert c.err("STRLEN") == arity("strlen")
    assert c.err("STRLEN", "a", "b") == arity("strlen")


# --------------------------------------------------------------------------
# INCR / DECR / INCRBY / DECRBY
# --------------------------------------------------------------------------

def test_incr_decr_missing_key(r, c):
    assert c.call("INCR", "a") == b":1\r\n"
    assert c.call("DECR", "b") == b":-1\r\n"
    assert c.call("INCRBY", "c", "5") == b":5\r\n"
    assert c.call("DECRBY", "d", "5") == b":-5\r\n"
    assert r.mget("a", "b", "c", "d") == [b"1", b"-1", b"5", b"-5"]


def test_incr_decr_sequence(r):
    r.set("n", "10")
    assert r.incr("n") == 11
    assert r.decr("n") == 10
    assert r.incrby("n", 100) == 110
    assert r.decrby("n", 10) == 100
    assert r.incrby("n", -200) == -100
    assert r.decrby("n", -100) == 0
    assert r.get("n") == b"0"
    r.set("m", -1)
    assert r.incr("m") == 0


def test_incr_result_is_readable_string(r):
    r.incrby("n", 41)
    r.incr("n")
    assert r.get("n") == b"42"
    assert r.strlen("n") == 2
    assert r.append("n", "0") == 3
    assert r.incr("n") == 421


def test_incr_keeps_ttl(r):
    r.set("cnt", 1, ex=100)
    assert r.incr("cnt") == 2
    assert 99 <= r.ttl("cnt") <= 100


def test_incr_limits(r, c):
    r.set("n", I64_MAX - 1)
    assert r.incr("n") == I64_MAX
    assert c.err("INCR", "n") == OVERFLOW
    assert c.err("INCRBY", "n", "1") == OVERFLOW
    assert r.get("n") == str(I64_MAX).encode()
    r.set("n", I64_MIN + 1)
    assert r.decr("n") == I64_MIN
    assert c.err("DECR", "n") == OVERFLOW
    assert c.err("DECRBY", "n", "1") == OVERFLOW
    assert c.err("INCRBY", "n", "-1") == OVERFLOW
    assert r.get("n") == str(I64_MIN).encode()
    assert r.incrby("n", I64_MAX) == -1


def test_incrby_extreme_increments(r, c):
    r.set("n", 10)
    assert c.call("INCRBY", "n", str(I64_MIN)) == b":-9223372036854775798\r\n"
    assert c.err("DECRBY", "n", str(I64_MAX)) == OVERFLOW
    r.set("z", 0)
    assert r.incrby("z", I64_MIN) == I64_MIN


def test_decrby_int64_min(r, c):
    # DECRBY cannot negate INT64_MIN; note the different message text, and that
    # it is checked before the key is even looked up.
    r.set("n", 0)
    assert c.err("DECRBY", "n", str(I64_MIN)) == "ERR decrement would overflow"
    assert c.err("DECRBY", "nokey", str(I64_MIN)) == "ERR decrement would overflow"
    assert r.exists("nokey") == 0
    assert r.get("n") == b"0"


@pytest.mark.parametrize("val", [
    " 1", "1 ", "01", "+1", "-0", "1.0", "", "abc", "1e3", "0x10",
    "9223372036854775808", "-9223372036854775809", "1\x00",
])
def test_incr_non_integer_value(r, c, val):
    r.set("n", val)
    for args in (["INCR", "n"], ["DECR", "n"], ["INCRBY", "n", "1"], ["DECRBY", "n", "1"]):
        assert c.err(*args) == NOT_INT
    assert r.get("n") == val.encode()


@pytest.mark.parametrize("inc", [
    "abc", "1.0", "+1", "01", " 1", "1 ", "", "9223372036854775808", "-9223372036854775809",
])
def test_incrby_non_integer_increment(r, c, inc):
    r.set("n", 5)
    assert c.err("INCRBY", "n", inc) == NOT_INT
    assert c.err("DECRBY", "n", inc) == NOT_INT
    assert c.err("INCRBY", "nokey", inc) == NOT_INT
    assert r.exists("nokey") == 0
    assert r.get("n") == b"5"


@needs_lists
def test_incr_wrongtype(r, c):
    make_list(r)
    assert c.err("INCR", "lst") == WRONGTYPE
    assert c.err("DECR", "lst") == WRONGTYPE
    assert c.err("INCRBY", "lst", "1") == WRONGTYPE
    assert c.err("DECRBY", "lst", "1") == WRONGTYPE
    # the increment is parsed before the key is looked up
    assert c.err("INCRBY", "lst", "abc") == NOT_INT
    assert c.err("DECRBY", "lst", "abc") == NOT_INT


def test_incr_arity(c):
    assert c.err("INCR") == arity("incr")
    assert c.err("INCR", "a", "b") == arity("incr")
    assert c.err("DECR") == arity("decr")
    assert c.err("DECR", "a", "b") == arity("decr")
    assert c.err("INCRBY", "a") == arity("incrby")
    assert c.err("INCRBY", "a", "1", "2") == arity("incrby")
    assert c.err("DECRBY", "a") == arity("decrby")


def test_incr_via_redis_py_error_message(r):
    r.set("n", "abc")
    with pytest.raises(redis.ResponseError) as e:
        r.incr("n")
    assert str(e.value) == "value is not an integer or out of range"  # redis-py strips "ERR "
    r.set("n", I64_MAX)
    with pytest.raises(redis.ResponseError, match="^increment or decrement would overflow$"):
        r.incr("n")


# --------------------------------------------------------------------------
# INCRBYFLOAT (exact reply strings via the raw socket: redis-py converts to float)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("start,inc,result", [
    ("10.5", "0.1", b"10.6"),
    ("10.5", "5.0e3", b"5010.5"),
    ("3.0e3", "1", b"3001"),
    ("3.0e3", "1.5", b"3001.5"),
    ("3.0e3", "0", b"3000"),
    ("5.0e3", "0.0", b"5000"),
    ("1", "5.0e3", b"5001"),
    ("10.50", "0", b"10.5"),
    ("0.1", "0.2", b"0.3"),
    ("3", "-3", b"0"),
    ("0", "-0.0", b"0"),
    ("1", "1e20", b"100000000000000000000"),     # never exponent notation
    ("0", "1e-5", b"0.00001"),
    ("0", "1.23456789012345678901234", b"1.23456789012345679"),  # 17 decimals
    ("10", "-10.25", b"-0.25"),
    ("12345", "1", b"12346"),
    ("+1.5", "1", b"2.5"),
    ("01.5", "1", b"2.5"),
    (".5", "1", b"1.5"),
    ("5.", "1", b"6"),
    ("1e5", "0", b"100000"),
    ("0x10", "1", b"17"),    # surprising: hex is accepted (strtold)
    ("1", "0X1p4", b"17"),   # surprising: hex float increment accepted too
])
def test_incrbyfloat_formatting(r, c, start, inc, result):
    r.set("f", start)
    assert c.call("INCRBYFLOAT", "f", inc) == bulk(result)
    assert r.get("f") == result


def test_incrbyfloat_missing_key(r, c):
    assert c.call("INCRBYFLOAT", "a", "1") == bulk(b"1")
    assert c.call("INCRBYFLOAT", "b", "1.5") == bulk(b"1.5")
    assert c.call("INCRBYFLOAT", "c", "-0.1") == bulk(b"-0.1")
    assert r.mget("a", "b", "c") == [b"1", b"1.5", b"-0.1"]


def test_incrbyfloat_result_is_a_string_even_when_integral(r, c):
    """As Redis: INCRBYFLOAT stores its result as a string (embstr), not an
    integer, also on an existing key; INCR on it still works."""
    assert c.call("INCRBYFLOAT", "a", "-1.5e10") == bulk(b"-15000000000")
    assert c.call("OBJECT", "ENCODING", "a") == bulk(b"embstr")
    assert c.call("SET", "b", "5") == b"+OK\r\n"
    assert c.call("INCRBYFLOAT", "b", "1") == bulk(b"6")
    assert c.call("OBJECT", "ENCODING", "b") == bulk(b"embstr")
    assert c.call("INCR", "b") == b":7\r\n"
    assert c.call("OBJECT", "ENCODING", "b") == bulk(b"int")


def test_incrbyfloat_long_double_precision(r, c):
    # Redis uses long double and prints 17 decimals: artifacts are visible.
    r.set("f", "10.5")
    assert c.call("INCRBYFLOAT", "f", "0.1") == bulk(b"10.6")
    assert c.call("INCRBYFLOAT", "f", "-5") == bulk(b"5.6")
    assert c.call("INCRBYFLOAT", "f", "5.0e3") == bulk(b"5005.60000000000000009")


def test_incrbyfloat_beyond_double_range(r, c):
    # long double range: 1e400 is accepted and printed in full.
    r.set("f", "1")
    reply = c.call("INCRBYFLOAT", "f", "1e400")
    body = read_bulk(reply)
    assert len(body) == 401
    assert body.startswith(b"100000000000000000002818806839")
    assert b"." not in body and b"e" not in body
    assert r.get("f") == body
    r.set("g", "1.7976931348623157e308")
    body = read_bulk(c.call("INCRBYFLOAT", "g", "1.7976931348623157e308"))
    assert len(body) == 309
    assert body.startswith(b"35953862697246313999")


def read_bulk(reply):
    assert reply.startswith(b"$"), reply
    head, _, rest = reply.partition(b"\r\n")
    n = int(head[1:])
    assert rest[n:] == b"\r\n"
    return rest[:n]


def test_incrbyfloat_keeps_ttl(r, c):
    r.set("f", "1", ex=100)
    assert c.call("INCRBYFLOAT", "f", "1.5") == bulk(b"2.5")
    assert 99 <= r.ttl("f") <= 100


def test_incrbyfloat_then_incr(r, c):
    r.set("f", "1")
    assert c.call("INCRBYFLOAT", "f", "2") == bulk(b"3")
    assert r.incr("f") == 4  # integral float result is a valid integer
    assert c.call("INCRBYFLOAT", "f", "0.5") == bulk(b"4.5")
    assert c.err("INCR", "f") == NOT_INT


@pytest.mark.parametrize("inc", ["inf", "-inf", "+inf", "INF", "infinity"])
def test_incrbyfloat_infinite_increment(r, c, inc):
    r.set("f", "1")
    assert c.err("INCRBYFLOAT", "f", inc) == NAN_INF
    assert r.get("f") == b"1"


def test_incrbyfloat_infinite_stored_value(r, c):
    r.set("f", "inf")
    assert c.err("INCRBYFLOAT", "f", "1") == NAN_INF
    assert r.get("f") == b"inf"
    # the sum overflowing the long double range also gives NaN/Infinity
    r.set("g", "1e4932")
    assert c.err("INCRBYFLOAT", "g", "1e4932") == NAN_INF
    assert r.get("g") == b"1e4932"


def test_incrbyfloat_out_of_range_literals(r, c):
    # Literals that over/underflow a long double (strtold ERANGE) are "not a
    # valid float", not NaN/Infinity.
    r.set("g", "1")
    assert c.err("INCRBYFLOAT", "g", "1e5000") == NOT_FLOAT
    assert c.err("INCRBYFLOAT", "g", "1e-5000") == NOT_FLOAT
    assert c.call("INCRBYFLOAT", "g", "1e-400") == bulk(b"1")
    r.set("h", "1e5000")
    assert c.err("INCRBYFLOAT", "h", "1") == NOT_FLOAT


@pytest.mark.parametrize("val", ["abc", " 1", "1 ", "", "nan", "NaN", "1.5x", "1,5"])
def test_incrbyfloat_invalid_stored_value(r, c, val):
    r.set("f", val)
    assert c.err("INCRBYFLOAT", "f", "1") == NOT_FLOAT
    assert r.get("f") == val.encode()


@pytest.mark.parametrize("inc", ["abc", " 1", "1 ", "", "nan", "-nan", "1.5.5"])
def test_incrbyfloat_invalid_increment(r, c, inc):
    r.set("f", "1")
    assert c.err("INCRBYFLOAT", "f", inc) == NOT_FLOAT
    assert c.err("INCRBYFLOAT", "nokey", inc) == NOT_FLOAT
    assert r.get("f") == b"1"
    assert r.exists("nokey") == 0


@needs_lists
def test_incrbyfloat_wrongtype(r, c):
    make_list(r)
    assert c.err("INCRBYFLOAT", "lst", "1") == WRONGTYPE
    # Unlike INCRBY, the key type is checked before the increment is parsed.
    assert c.err("INCRBYFLOAT", "lst", "abc") == WRONGTYPE


def test_incrbyfloat_arity(c):
    assert c.err("INCRBYFLOAT") == arity("incrbyfloat")
    assert c.err("INCRBYFLOAT", "f") == arity("incrbyfloat")
    assert c.err("INCRBYFLOAT", "f", "1", "2") == arity("incrbyfloat")


def test_incrbyfloat_redis_py(r):
    r.set("f", "10.5")
    assert r.incrbyfloat("f", 0.1) == pytest.approx(10.6)
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.incrbyfloat("f", "x")


# --------------------------------------------------------------------------
# GETRANGE / SUBSTR
# --------------------------------------------------------------------------

@pytest.mark.parametrize("start,end,result", [
    (0, 4, b"Hello"),
    (0, 0, b"H"),
    (-5, -1, b"World"),
    (0, -1, b"Hello World"),
    (0, 100, b"Hello World"),
    (-100, -1, b"Hello World"),
    (-20, 2, b"Hel"),
    (10, 10, b"d"),
    (6, 6, b"W"),
    (11, 11, b""),
    (100, 200, b""),
    (5, 2, b""),
    (-1, -5, b""),
    (-1, 0, b""),
    (3, -100, b""),
    # Surprising (Redis 7.0): both out-of-range negatives clamp to 0 -> first byte.
    (-100, -50, b"H"),
    (I64_MAX, I64_MAX, b""),
    (I64_MIN, I64_MAX, b"Hello World"),
])
def test_getrange(r, c, start, end, result):
    r.set("s", "Hello World")
    assert c.call("GETRANGE", "s", str(start), str(end)) == bulk(result)
    assert c.call("SUBSTR", "s", str(start), str(end)) == bulk(result)


def test_getrange_missing_and_empty(r, c):
    assert c.call("GETRANGE", "nokey", "0", "-1") == bulk(b"")
    r.set("e", "")
    assert c.call("GETRANGE", "e", "0", "-1") == bulk(b"")
    assert c.call("GETRANGE", "e", "0", "0") == bulk(b"")
    assert c.call("GETRANGE", "e", "-1", "-1") == bulk(b"")


def test_getrange_integer_value(r, c):
    r.set("n", 12345)
    assert c.call("GETRANGE", "n", "1", "2") == bulk(b"23")
    assert c.call("GETRANGE", "n", "-2", "-1") == bulk(b"45")


def test_getrange_redis_py(r):
    r.set("s", "Hello World")
    assert r.getrange("s", 0, 4) == b"Hello"
    assert r.substr("s", -3, -1) == b"rld"


@needs_lists
@pytest.mark.parametrize("cmd", ["GETRANGE", "SUBSTR"])
def test_getrange_errors(r, c, cmd):
    name = cmd.lower()
    r.set("s", "abc")
    assert c.err(cmd, "s", "a", "1") == NOT_INT
    assert c.err(cmd, "s", "0", "b") == NOT_INT
    assert c.err(cmd, "s", "0", "1.5") == NOT_INT
    assert c.err(cmd, "s", "0", "9223372036854775808") == NOT_INT
    assert c.err(cmd, "s", "0") == arity(name)
    assert c.err(cmd, "s") == arity(name)
    assert c.err(cmd, "s", "0", "1", "2") == arity(name)
    make_list(r)
    assert c.err(cmd, "lst", "0", "1") == WRONGTYPE
    assert c.err(cmd, "lst", "a", "b") == NOT_INT  # indexes parsed first


# --------------------------------------------------------------------------
# SETRANGE
# --------------------------------------------------------------------------

def test_setrange_missing_key_pads_with_zero_bytes(r, c):
    assert c.call("SETRANGE", "k", "3", "abc") == b":6\r\n"
    assert r.get("k") == b"\x00\x00\x00abc"
    assert r.strlen("k") == 6


def test_setrange_overwrite_and_extend(r, c):
    r.set("k", "Hello World")
    assert c.call("SETRANGE", "k", "6", "Redis") == b":11\r\n"
    assert r.get("k") == b"Hello Redis"
    assert c.call("SETRANGE", "k", "6", "Redis!!!") == b":14\r\n"
    assert r.get("k") == b"Hello Redis!!!"
    assert c.call("SETRANGE", "k", "16", "x") == b":17\r\n"
    assert r.get("k") == b"Hello Redis!!!\x00\x00x"
    assert c.call("SETRANGE", "k", "0", "J") == b":17\r\n"
    assert r.get("k") == b"Jello Redis!!!\x00\x00x"


def test_setrange_at_exact_end(r, c):
    r.set("k", "abc")
    assert c.call("SETRANGE", "k", "3", "def") == b":6\r\n"
    assert r.get("k") == b"abcdef"


def test_setrange_integer_value(r):
    r.set("n", 12345)
    assert r.setrange("n", 0, "9") == 5
    assert r.get("n") == b"92345"
    assert r.incr("n") == 92346


def test_setrange_empty_value_missing_key_not_created(r, c):
    for off in ("0", "5", "536870911", "536870912"):
        # no size error either: the empty value short-circuits
        assert c.call("SETRANGE", "nk", off, "") == b":0\r\n"
        assert r.exists("nk") == 0


def test_setrange_empty_value_existing_key(r, c):
    r.set("s", "hello")
    assert c.call("SETRANGE", "s", "10", "") == b":5\r\n"
    assert c.call("SETRANGE", "s", "1", "") == b":5\r\n"
    # surprising: no size error with an empty value even beyond 512MB
    assert c.call("SETRANGE", "s", "536870912", "") == b":5\r\n"
    assert r.get("s") == b"hello"


def test_setrange_negative_offset(r, c):
    r.set("s", "hello")
    assert c.err("SETRANGE", "s", "-1", "x") == OFFSET_RANGE
    assert c.err("SETRANGE", "s", "-1", "") == OFFSET_RANGE
    assert c.err("SETRANGE", "nk", "-1", "x") == OFFSET_RANGE
    assert c.err("SETRANGE", "nk", "-1", "") == OFFSET_RANGE
    assert r.get("s") == b"hello"
    assert r.exists("nk") == 0


def test_setrange_too_big(r, c):
    r.set("s", "hello")
    assert c.err("SETRANGE", "s", "536870912", "x") == TOO_BIG
    assert c.err("SETRANGE", "s", "536870911", "ab") == TOO_BIG
    assert c.err("SETRANGE", "nk", "536870912", "x") == TOO_BIG
    assert c.err("SETRANGE", "nk", str(I64_MAX), "x") == TOO_BIG
    assert r.get("s") == b"hello"
    assert r.exists("nk") == 0


def test_setrange_non_integer_offset(r, c):
    assert c.err("SETRANGE", "k", "a", "b") == NOT_INT
    assert c.err("SETRANGE", "k", "1.5", "b") == NOT_INT
    assert c.err("SETRANGE", "k", "9223372036854775808", "b") == NOT_INT


def test_setrange_keeps_ttl(r):
    r.set("t", "abc", ex=100)
    r.setrange("t", 0, "x")
    assert 99 <= r.ttl("t") <= 100


@needs_lists
def test_setrange_wrongtype(r, c):
    make_list(r)
    assert c.err("SETRANGE", "lst", "0", "x") == WRONGTYPE
    assert c.err("SETRANGE", "lst", "0", "") == WRONGTYPE
    # the offset is validated before the key is looked up
    assert c.err("SETRANGE", "lst", "-1", "x") == OFFSET_RANGE
    assert r.type("lst") == b"list"


def test_setrange_arity(c):
    assert c.err("SETRANGE", "k", "0") == arity("setrange")
    assert c.err("SETRANGE", "k", "0", "a", "b") == arity("setrange")


# --------------------------------------------------------------------------
# LCS
# --------------------------------------------------------------------------

@pytest.fixture
def lcs_keys(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    return r


def lcs(r, *args):
    return r.execute_command("LCS", *args)


def test_lcs_plain(lcs_keys, c):
    assert lcs(lcs_keys, "key1", "key2") == b"mytext"
    assert c.call("LCS", "key1", "key2") == bulk(b"mytext")


def test_lcs_len(lcs_keys, c):
    assert c.call("LCS", "key1", "key2", "LEN") == b":6\r\n"


def test_lcs_idx(lcs_keys):
    assert lcs(lcs_keys, "key1", "key2", "IDX") == [
        b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]


def test_lcs_idx_raw_reply(lcs_keys, c):
    assert c.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == (
        b"*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
        b"$3\r\nlen\r\n:6\r\n")


def test_lcs_idx_minmatchlen(lcs_keys):
    assert lcs(lcs_keys, "key1", "key2", "IDX", "MINMATCHLEN", "4") == [
        b"matches", [[[4, 7], [5, 8]]], b"len", 6]
    # larger than every match: no matches, but len is still the LCS length
    assert lcs(lcs_keys, "key1", "key2", "IDX", "MINMATCHLEN", "100") == [
        b"matches", [], b"len", 6]
    # 0 and negative mean "no minimum"
    full = [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert lcs(lcs_keys, "key1", "key2", "IDX", "MINMATCHLEN", "0") == full
    assert lcs(lcs_keys, "key1", "key2", "IDX", "MINMATCHLEN", "-5") == full


def test_lcs_idx_withmatchlen(lcs_keys):
    assert lcs(lcs_keys, "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert lcs(lcs_keys, "key1", "key2", "IDX", "WITHMATCHLEN") == [
        b"matches", [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b"len", 6]


def test_lcs_options_case_insensitive(lcs_keys):
    assert lcs(lcs_keys, "key1", "key2", "idx", "minmatchlen", "2", "withmatchlen") == [
        b"matches", [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], b"len", 6]
    assert lcs(lcs_keys, "key1", "key2", "len") == 6


def test_lcs_options_ignored_without_idx(lcs_keys, c):
    assert c.call("LCS", "key1", "key2", "MINMATCHLEN", "4") == bulk(b"mytext")
    assert c.call("LCS", "key1", "key2", "WITHMATCHLEN") == bulk(b"mytext")
    assert c.call("LCS", "key1", "key2", "LEN", "WITHMATCHLEN") == b":6\r\n"
    assert c.call("LCS", "key1", "key2", "LEN", "MINMATCHLEN", "3") == b":6\r\n"


def test_lcs_same_key(lcs_keys):
    assert lcs(lcs_keys, "key1", "key1") == b"ohmytext"
    assert lcs(lcs_keys, "key1", "key1", "IDX", "WITHMATCHLEN") == [
        b"matches", [[[0, 7], [0, 7], 8]], b"len", 8]


def test_lcs_no_common(r, c):
    r.mset({"a": "abc", "b": "xyz"})
    assert c.call("LCS", "a", "b") == bulk(b"")
    assert c.call("LCS", "a", "b", "LEN") == b":0\r\n"
    assert lcs(r, "a", "b", "IDX") == [b"matches", [], b"len", 0]
    assert lcs(r, "a", "b", "IDX", "WITHMATCHLEN") == [b"matches", [], b"len", 0]


def test_lcs_missing_keys_are_empty(lcs_keys, c):
    assert c.call("LCS", "key1", "nokey") == bulk(b"")
    assert c.call("LCS", "nokey", "nokey2") == bulk(b"")
    assert c.call("LCS", "nokey", "nokey2", "LEN") == b":0\r\n"
    assert lcs(lcs_keys, "nokey", "key2", "IDX") == [b"matches", [], b"len", 0]


def test_lcs_errors(lcs_keys, c):
    assert c.err("LCS", "key1", "key2", "LEN", "IDX") == LCS_LEN_IDX
    assert c.err("LCS", "key1", "key2", "IDX", "LEN") == LCS_LEN_IDX
    assert c.err("LCS", "key1", "key2", "FOO") == SYNTAX
    assert c.err("LCS", "key1", "key2", "IDX", "MINMATCHLEN") == SYNTAX
    assert c.err("LCS", "key1", "key2", "MINMATCHLEN") == SYNTAX
    assert c.err("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "abc") == NOT_INT
    assert c.err("LCS", "key1") == arity("lcs")
    assert c.err("LCS") == arity("lcs")


@needs_lists
def test_lcs_wrongtype_has_its_own_message(lcs_keys, c):
    # Surprising: not WRONGTYPE, and a missing second key does not help.
    make_list(lcs_keys)
    assert c.err("LCS", "lst", "key1") == LCS_TYPE
    assert c.err("LCS", "key1", "lst") == LCS_TYPE
    assert c.err("LCS", "lst", "nokey") == LCS_TYPE
    assert c.err("LCS", "nokey", "lst", "LEN") == LCS_TYPE


# --------------------------------------------------------------------------
# Generic: WRONGTYPE table, arity table, unknown command
# --------------------------------------------------------------------------

@needs_lists
@pytest.mark.parametrize("args", [
    ["GET", "lst"],
    ["SET", "lst", "v", "GET"],
    ["GETSET", "lst", "v"],
    ["GETDEL", "lst"],
    ["GETEX", "lst"],
    ["GETEX", "lst", "EX", "10"],
    ["APPEND", "lst", "x"],
    ["STRLEN", "lst"],
    ["INCR", "lst"],
    ["DECR", "lst"],
    ["INCRBY", "lst", "1"],
    ["DECRBY", "lst", "1"],
    ["INCRBYFLOAT", "lst", "1.5"],
    ["GETRANGE", "lst", "0", "-1"],
    ["SUBSTR", "lst", "0", "-1"],
    ["SETRANGE", "lst", "0", "x"],
])
def test_wrongtype_table(r, c, args):
    make_list(r)
    assert c.err(*args) == WRONGTYPE
    assert r.lrange("lst", 0, -1) == [b"a", b"b"]
    assert r.ttl("lst") == -1


@pytest.mark.parametrize("args,name", [
    (["GET"], "get"),
    (["get", "a", "b"], "get"),
    (["GeT", "a", "b"], "get"),
    (["SET"], "set"),
    (["SET", "k"], "set"),
    (["SETNX", "k"], "setnx"),
    (["SETEX", "k", "1"], "setex"),
    (["PSETEX", "k", "1"], "psetex"),
    (["MGET"], "mget"),
    (["MSET"], "mset"),
    (["MSET", "a"], "mset"),
    (["MSET", "a", "b", "c"], "mset"),
    (["MSETNX", "a"], "msetnx"),
    (["GETSET", "k"], "getset"),
    (["GETDEL"], "getdel"),
    (["GETEX"], "getex"),
    (["APPEND", "k"], "append"),
    (["STRLEN"], "strlen"),
    (["INCR"], "incr"),
    (["DECR", "a", "b"], "decr"),
    (["INCRBY", "k"], "incrby"),
    (["DECRBY", "k"], "decrby"),
    (["INCRBYFLOAT", "k"], "incrbyfloat"),
    (["GETRANGE", "k", "0"], "getrange"),
    (["SUBSTR", "k"], "substr"),
    (["SETRANGE", "k", "0"], "setrange"),
    (["LCS", "k"], "lcs"),
])
def test_arity_table(c, args, name):
    # the command name in the message is always lower case
    assert c.err(*args) == arity(name)


def test_arity_via_redis_py(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("GET")
    assert str(e.value) == "wrong number of arguments for 'get' command"


@pytest.mark.parametrize("args,expected", [
    (["foo", "a", "b"], "ERR unknown command 'foo', with args beginning with: 'a' 'b' "),
    (["foo"], "ERR unknown command 'foo', with args beginning with: "),
    (["Foo", "a", "b"], "ERR unknown command 'Foo', with args beginning with: 'a' 'b' "),
    (["foo", "a", "b", "c", "d", "e", "f"],
     "ERR unknown command 'foo', with args beginning with: 'a' 'b' 'c' 'd' 'e' 'f' "),
    (["foo", ""], "ERR unknown command 'foo', with args beginning with: '' "),
    (["foo", "it's"], "ERR unknown command 'foo', with args beginning with: 'it's' "),
    # CR and LF are turned into spaces so the error stays on one line
    (["foo", "a\r\nb", "c d"], "ERR unknown command 'foo', with args beginning with: 'a  b' 'c d' "),
    # command name is cut at 128 bytes
    (["x" * 200, "a"], "ERR unknown command '%s', with args beginning with: 'a' " % ("x" * 128)),
    # args are listed while the list is shorter than 128 bytes, each cut to fit
    (["foo", "a" * 200, "b"], "ERR unknown command 'foo', with args beginning with: '%s' " % ("a" * 128)),
    (["foo", "a" * 100, "b" * 100, "c"],
     "ERR unknown command 'foo', with args beginning with: '%s' '%s' " % ("a" * 100, "b" * 25)),
])
def test_unknown_command(c, args, expected):
    assert c.err(*args) == expected


def test_unknown_command_via_redis_py(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("foo", "a", "b")
    assert str(e.value) == "unknown command 'foo', with args beginning with: 'a' 'b' "


def test_connection_usable_after_errors(r, c):
    assert c.err("foo").startswith("ERR unknown command")
    assert c.err("GET") == arity("get")
    assert c.call("SET", "k", "v") == OK
    assert c.call("GET", "k") == bulk(b"v")


# --------------------------------------------------------------------------
# Case insensitivity
# --------------------------------------------------------------------------

def test_case_insensitive_commands_and_options(r, c):
    assert c.call("set", "k", "v", "ex", "10") == OK
    assert 9 <= r.ttl("k") <= 10
    assert c.call("sEt", "k", "w", "Px", "5000", "xX", "gEt") == bulk(b"v")
    assert 4000 <= r.pttl("k") <= 5000
    assert c.call("SeT", "k", "x", "KeepTTL") == OK
    assert 4000 <= r.pttl("k") <= 5000
    assert c.call("set", "n", "1", "nx") == OK
    assert c.call("set", "n", "2", "nx") == NIL
    assert c.call("getex", "k", "persist") == bulk(b"x")
    assert r.ttl("k") == -1
    assert c.call("GetEx", "k", "exat", str(int(time.time()) + 100)) == bulk(b"x")
    assert 98 <= r.ttl("k") <= 100
    assert c.call("incrbyfloat", "n", "1.5") == bulk(b"2.5")
    assert c.call("Incr", "m") == b":1\r\n"
    assert c.call("mget", "k", "m") == b"*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
    assert c.call("getrange", "k", "0", "0") == bulk(b"x")
    assert c.err("set", "k", "v", "nx", "xx") == SYNTAX


# --------------------------------------------------------------------------
# Binary safety and large values
# --------------------------------------------------------------------------

ALL_BYTES = bytes(range(256))


def test_binary_all_byte_values(r, c):
    assert r.set("bin", ALL_BYTES) is True
    assert r.get("bin") == ALL_BYTES
    assert r.strlen("bin") == 256
    assert c.call("GET", "bin") == bulk(ALL_BYTES)
    assert r.getrange("bin", 0, 15) == ALL_BYTES[:16]
    assert r.getrange("bin", -16, -1) == ALL_BYTES[-16:]
    assert r.getrange("bin", 10, 13) == b"\x0a\x0b\x0c\x0d"  # contains \r\n-like bytes
    assert r.append("bin", ALL_BYTES) == 512
    assert r.get("bin") == ALL_BYTES * 2
    assert r.setrange("bin", 1, b"\x00\r\n") == 512
    assert r.get("bin")[:5] == b"\x00\x00\r\n\x04"


def test_binary_keys(r, c):
    key = b"k\x00\r\n\xff"
    assert r.set(key, b"v\x00") is True
    assert r.get(key) == b"v\x00"
    assert r.get(b"k") is None
    assert r.mget(key, b"k\x00") == [b"v\x00", None]
    assert c.call("GETDEL", key) == bulk(b"v\x00")
    assert r.exists(key) == 0


def test_binary_each_single_byte_value(r):
    pipe = r.pipeline(transaction=False)
    for i in range(256):
        pipe.set(b"b%d" % i, bytes([i]))
    pipe.execute()
    got = r.mget([b"b%d" % i for i in range(256)])
    assert got == [bytes([i]) for i in range(256)]


def test_binary_lcs(r):
    r.mset({"x": b"\x00\x01\xff\x02", "y": b"\x01\x00\xff\x02\x00"})
    assert lcs(r, "x", "y") == b"\x01\xff\x02"


def test_large_value_1mb(r, c):
    big = bytes(i % 251 for i in range(1 << 20))
    assert r.set("big", big) is True
    assert r.get("big") == big
    assert r.strlen("big") == 1 << 20
    assert r.getrange("big", (1 << 20) - 10, -1) == big[-10:]
    assert r.append("big", big) == 2 << 20
    assert r.strlen("big") == 2 << 20
    assert r.getdel("big") == big + big
    assert r.exists("big") == 0


def test_large_setrange_padding(r):
    assert r.setrange("pad", 1 << 20, b"end") == (1 << 20) + 3
    val = r.get("pad")
    assert len(val) == (1 << 20) + 3
    assert val[:-3] == b"\x00" * (1 << 20)
    assert val[-3:] == b"end"


def test_large_mset_mget(r):
    vals = {("k%d" % i).encode(): bytes([i]) * 100000 for i in range(10)}
    assert r.mset(vals) is True
    assert r.mget(list(vals)) == list(vals.values())


# --------------------------------------------------------------------------
# Expiry really happens
# --------------------------------------------------------------------------

def test_set_px_expires(r):
    assert r.set("k", "v", px=100) is True
    assert r.get("k") == b"v"
    assert 0 < r.pttl("k") <= 100
    assert wait_gone(r, "k")
    assert r.exists("k") == 0
    assert r.ttl("k") == -2
    assert r.dbsize() == 0
    assert r.keys("*") == []


def test_set_pxat_expires(r):
    assert r.set("k", "v", pxat=int(time.time() * 1000) + 100) is True
    assert r.get("k") == b"v"
    assert wait_gone(r, "k")


def test_psetex_expires(r, c):
    assert c.call("PSETEX", "k", "100", "v") == OK
    assert wait_gone(r, "k")
    assert r.exists("k") == 0


def test_getex_px_expires(r, c):
    r.set("k", "v")
    assert c.call("GETEX", "k", "PX", "100") == bulk(b"v")
    assert wait_gone(r, "k")


def test_keepttl_expires(r, c):
    r.set("k", "v", px=150)
    assert c.call("SET", "k", "w", "KEEPTTL") == OK
    assert r.get("k") == b"w"
    assert wait_gone(r, "k")


def test_persist_prevents_expiry(r):
    r.set("k", "v", px=100)
    assert r.getex("k", persist=True) == b"v"
    time.sleep(0.25)
    assert r.get("k") == b"v"


def test_set_clears_ttl_prevents_expiry(r):
    r.set("k", "v", px=100)
    r.set("k", "w")
    time.sleep(0.25)
    assert r.get("k") == b"w"


def test_expired_key_behaves_as_missing(r, c):
    r.set("k", "5", px=50)
    time.sleep(0.2)
    # every string command treats the expired key as absent
    assert c.call("GET", "k") == NIL
    r.set("k", "5", px=50)
    time.sleep(0.2)
    assert c.call("SET", "k", "x", "XX") == NIL
    assert r.exists("k") == 0
    r.set("k", "5", px=50)
    time.sleep(0.2)
    assert c.call("INCR", "k") == b":1\r\n"
    assert r.ttl("k") == -1
    r.set("a", "old", px=50)
    time.sleep(0.2)
    assert c.call("APPEND", "a", "new") == b":3\r\n"
    assert r.get("a") == b"new"
    r.set("nx", "old", px=50)
    time.sleep(0.2)
    assert c.call("SETNX", "nx", "new") == b":1\r\n"
    assert c.call("STRLEN", "nx") == b":3\r\n"


def test_expired_keys_removed_without_access(r):
    # Active expiry: keys nobody touches still go away (DBSIZE counts them until then).
    r.set("a", "v", px=50)
    r.set("b", "v", px=50)
    r.set("keep", "v")
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and r.dbsize() != 1:
        time.sleep(0.05)
    assert r.dbsize() == 1
    assert r.keys("*") == [b"keep"]
