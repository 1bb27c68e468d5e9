"""
Key expiry: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX/XX/GT/LT), TTL,
PTTL, EXPIRETIME, PEXPIRETIME, PERSIST, GETEX, and how expired keys disappear
(lazily on access and actively in the background).

Every expectation here was checked against Redis 7.0.15
(ENGRAM_TEST_REDIS=1). Error texts are compared byte for byte, including the
"ERR " prefix, through a raw socket.

Marker note: tests that need a non-string key create a list with RPUSH and are
marked `needs_list`; the marker is registered by the project's pytest config.
"""
import time

import pytest

import conftest
from conftest import read_reply

needs_list = pytest.mark.skipif(not conftest.AGAINST_REDIS, reason="lists arrive with issue 5")

INT64_MAX = 9223372036854775807
# 2100-01-01T00:00:00Z: a fixed, far-future absolute time
FUTURE_S = 4102444800
FUTURE_MS = FUTURE_S * 1000


from conftest import encode_command  # noqa: E402


class Raw:
    """One plain RESP2 connection; `cmd` returns the raw reply bytes."""

    def __init__(self, server):
        self.sock = server.raw()

    def cmd(self, *args):
        self.sock.sendall(encode_command(*args))
        return read_reply(self.sock)

    def close(self):
        self.sock.close()


def err(text):
    return b"-" + text.encode() + b"\r\n"


def intreply(n):
    return b":%d\r\n" % n


@pytest.fixture
def raw(server, r):
    # depends on r so the server is flushed first
    c = Raw(server)
    yield c
    c.close()


def x(client, *args):
    return client.execute_command(*args)


def wait_until(pred, timeout=2.0, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


# --------------------------------------------------------------------------
# basic return values, TTL / PTTL

def test_expire_return_values(rd):
    assert rd.expire("missing", 100) is False
    rd.set("a", "1")
    assert rd.expire("a", 100) is True
    assert rd.ttl("a") == 100
    assert 99000 < rd.pttl("a") <= 100000


def test_ttl_pttl_missing_and_persistent(rd):
    assert rd.ttl("missing") == -2
    assert rd.pttl("missing") == -2
    rd.set("a", "1")
    assert rd.ttl("a") == -1
    assert rd.pttl("a") == -1


def test_pexpire(rd):
    rd.set("a", "1")
    assert rd.pexpire("a", 50000) is True
    assert 49000 < rd.pttl("a") <= 50000
    assert rd.ttl("a") == 50


def test_expireat_pexpireat(rd):
    rd.set("a", "1")
    assert rd.expireat("a", FUTURE_S) is True
    assert x(rd, "EXPIRETIME", "a") == FUTURE_S
    assert x(rd, "PEXPIRETIME", "a") == FUTURE_MS
    assert rd.pexpireat("a", FUTURE_MS + 123) is True
    assert x(rd, "PEXPIRETIME", "a") == FUTURE_MS + 123
    assert rd.expireat("missing", FUTURE_S) is False
    assert rd.pexpireat("missing", FUTURE_MS) is False


def test_ttl_rounds_to_nearest_second(rd):
    rd.set("a", "1")
    # TTL is (pttl + 500) / 1000, not a truncation
    rd.pexpire("a", 1600)
    assert rd.ttl("a") == 2
    rd.pexpire("a", 1400)
    assert rd.ttl("a") == 1
    rd.pexpire("a", 400)
    assert rd.ttl("a") == 0


def test_expiretime_rounds_to_nearest_second(rd):
    rd.set("a", "1")
    rd.pexpireat("a", FUTURE_MS + 499)
    assert x(rd, "EXPIRETIME", "a") == FUTURE_S
    rd.pexpireat("a", FUTURE_MS + 500)
    assert x(rd, "EXPIRETIME", "a") == FUTURE_S + 1


def test_expiretime_missing_and_persistent(rd):
    assert x(rd, "EXPIRETIME", "missing") == -2
    assert x(rd, "PEXPIRETIME", "missing") == -2
    rd.set("a", "1")
    assert x(rd, "EXPIRETIME", "a") == -1
    assert x(rd, "PEXPIRETIME", "a") == -1


def test_expiretime_relative(rd):
    rd.set("a", "1")
    before = int(time.time() * 1000)
    rd.pexpire("a", 100000)
    after = int(time.time() * 1000)
    pat = x(rd, "PEXPIRETIME", "a")
    assert before + 100000 - 50 <= pat <= after + 100000 + 50


def test_expire_overwrites_ttl(rd):
    rd.set("a", "1")
    rd.expire("a", 100)
    rd.expire("a", 200)
    assert rd.ttl("a") == 200
    rd.expire("a", 50)
    assert rd.ttl("a") == 50


# --------------------------------------------------------------------------
# PERSIST

def test_persist(rd):
    assert rd.persist("missing") is False
    rd.set("a", "1")
    assert rd.persist("a") is False
    rd.expire("a", 100)
    assert rd.persist("a") is True
    assert rd.ttl("a") == -1
    assert rd.persist("a") is False
    assert rd.get("a") == "1"


# --------------------------------------------------------------------------
# NX / XX / GT / LT

@pytest.mark.parametrize("cmd,arg", [
    ("EXPIRE", "100"), ("PEXPIRE", "100000"),
    ("EXPIREAT", str(FUTURE_S)), ("PEXPIREAT", str(FUTURE_MS)),
])
def test_option_nx(rd, cmd, arg):
    rd.set("a", "1")
    assert x(rd, cmd, "a", arg, "NX") == 1
    assert x(rd, cmd, "a", arg, "NX") == 0
    assert x(rd, cmd, "missing", arg, "NX") == 0


@pytest.mark.parametrize("cmd,arg", [
    ("EXPIRE", "100"), ("PEXPIRE", "100000"),
    ("EXPIREAT", str(FUTURE_S)), ("PEXPIREAT", str(FUTURE_MS)),
])
def test_option_xx(rd, cmd, arg):
    rd.set("a", "1")
    assert x(rd, cmd, "a", arg, "XX") == 0
    assert rd.ttl("a") == -1
    rd.expire("a", 1000)
    assert x(rd, cmd, "a", arg, "XX") == 1
    assert rd.ttl("a") <= 100 or x(rd, "EXPIRETIME", "a") == FUTURE_S


def test_option_gt(rd):
    rd.set("a", "1")
    # a key without TTL counts as an infinite TTL: GT never succeeds on it
    assert x(rd, "EXPIRE", "a", "100", "GT") == 0
    assert rd.ttl("a") == -1
    rd.expire("a", 100)
    assert x(rd, "EXPIRE", "a", "200", "GT") == 1
    assert rd.ttl("a") == 200
    assert x(rd, "EXPIRE", "a", "50", "GT") == 0
    assert rd.ttl("a") == 200


def test_option_lt(rd):
    rd.set("a", "1")
    # a key without TTL counts as an infinite TTL: LT always succeeds on it
    assert x(rd, "EXPIRE", "a", "100", "LT") == 1
    assert rd.ttl("a") == 100
    assert x(rd, "EXPIRE", "a", "200", "LT") == 0
    assert rd.ttl("a") == 100
    assert x(rd, "EXPIRE", "a", "50", "LT") == 1
    assert rd.ttl("a") == 50


def test_gt_lt_equal_time_is_not_applied(rd):
    rd.set("a", "1")
    rd.pexpireat("a", FUTURE_MS)
    assert x(rd, "PEXPIREAT", "a", FUTURE_MS, "GT") == 0
    assert x(rd, "PEXPIREAT", "a", FUTURE_MS, "LT") == 0
    assert x(rd, "PEXPIREAT", "a", FUTURE_MS, "XX") == 1
    assert x(rd, "PEXPIREAT", "a", FUTURE_MS + 1, "GT") == 1
    assert x(rd, "PEXPIREAT", "a", FUTURE_MS, "LT") == 1


def test_xx_combined_with_gt_lt(rd):
    rd.set("a", "1")
    assert x(rd, "EXPIRE", "a", "100", "XX", "LT") == 0  # no TTL: XX fails
    rd.expire("a", 100)
    assert x(rd, "EXPIRE", "a", "200", "XX", "GT") == 1
    assert rd.ttl("a") == 200
    assert x(rd, "EXPIRE", "a", "300", "xx", "lt") == 0
    assert x(rd, "EXPIRE", "a", "50", "xx", "lt") == 1
    assert rd.ttl("a") == 50


def test_options_case_insensitive_and_repeatable(rd):
    rd.set("a", "1")
    assert x(rd, "EXPIRE", "a", "100", "nx") == 1
    rd.persist("a")
    assert x(rd, "EXPIRE", "a", "100", "NX", "nx") == 1


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
@pytest.mark.parametrize("opts,error", [
    (("NX", "XX"), "ERR NX and XX, GT or LT options at the same time are not compatible"),
    (("NX", "GT"), "ERR NX and XX, GT or LT options at the same time are not compatible"),
    (("LT", "NX"), "ERR NX and XX, GT or LT options at the same time are not compatible"),
    (("GT", "LT"), "ERR GT and LT options at the same time are not compatible"),
    (("XX", "GT", "LT"), "ERR GT and LT options at the same time are not compatible"),
    (("FOO",), "ERR Unsupported option FOO"),
    (("NX", "bar"), "ERR Unsupported option bar"),
])
def test_option_errors(raw, cmd, opts, error):
    raw.cmd("SET", "a", "1")
    assert raw.cmd(cmd, "a", "100", *opts) == err(error)
    # and for a missing key too: options are validated before the lookup
    assert raw.cmd(cmd, "missing", "100", *opts) == err(error)
    assert raw.cmd("TTL", "a") == intreply(-1)


def test_option_errors_checked_before_time_parse(raw):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("EXPIRE", "a", "abc", "NX", "XX") == err(
        "ERR NX and XX, GT or LT options at the same time are not compatible")


# --------------------------------------------------------------------------
# past / negative times delete the key

@pytest.mark.parametrize("cmd,arg", [
    ("EXPIRE", "-1"), ("EXPIRE", "0"), ("PEXPIRE", "-1"), ("PEXPIRE", "0"),
    ("EXPIREAT", "1"), ("EXPIREAT", "0"), ("PEXPIREAT", "1"), ("EXPIREAT", "-100"),
    ("EXPIRE", "-9223372036854775"),
])
def test_past_time_deletes_key(rd, cmd, arg):
    rd.set("a", "1")
    assert x(rd, cmd, "a", arg) == 1
    assert rd.exists("a") == 0
    assert rd.get("a") is None
    assert rd.dbsize() == 0
    assert x(rd, cmd, "a", arg) == 0


def test_past_time_with_failed_condition_keeps_key(rd):
    rd.set("a", "1")
    # XX on a key without TTL: nothing happens
    assert x(rd, "EXPIRE", "a", "-1", "XX") == 0
    assert rd.get("a") == "1"
    rd.expire("a", 100)
    # NX on a key with TTL: nothing happens
    assert x(rd, "EXPIRE", "a", "-1", "NX") == 0
    # GT with a past time is "less than" the current TTL: nothing happens
    assert x(rd, "EXPIREAT", "a", "0", "GT") == 0
    assert rd.ttl("a") == 100
    # LT with a past time deletes
    assert x(rd, "EXPIRE", "a", "-1", "LT") == 1
    assert rd.exists("a") == 0


def test_past_time_nx_deletes_key_without_ttl(rd):
    rd.set("a", "1")
    assert x(rd, "PEXPIRE", "a", "-5", "NX") == 1
    assert rd.exists("a") == 0


# --------------------------------------------------------------------------
# value parsing and overflow

@pytest.mark.parametrize("cmd,arg", [
    ("EXPIRE", str(INT64_MAX)),
    ("EXPIRE", "9223372036854775"),  # fits *1000, but not once "now" is added
    ("EXPIRE", "9223372036854774"),
    ("EXPIRE", "-9223372036854775808"),
    ("PEXPIRE", str(INT64_MAX)),
    ("PEXPIRE", "9223372036854775806"),
    ("EXPIREAT", str(INT64_MAX)),
    ("EXPIREAT", "9223372036854776"),
])
def test_overflow_errors(raw, cmd, arg):
    raw.cmd("SET", "a", "1")
    assert raw.cmd(cmd, "a", arg) == err("ERR invalid expire time in '%s' command" % cmd.lower())
    assert raw.cmd(cmd, "missing", arg) == err(
        "ERR invalid expire time in '%s' command" % cmd.lower())
    assert raw.cmd("TTL", "a") == intreply(-1)


def test_pexpireat_int64_max_is_accepted(rd):
    rd.set("a", "1")
    assert rd.pexpireat("a", INT64_MAX) is True
    assert x(rd, "PEXPIRETIME", "a") == INT64_MAX
    # rounded to nearest second
    assert x(rd, "EXPIRETIME", "a") == 9223372036854776
    assert rd.pttl("a") > 9223370000000000000
    assert rd.get("a") == "1"


def test_huge_negative_pexpire_deletes(rd):
    rd.set("a", "1")
    assert x(rd, "PEXPIRE", "a", str(-INT64_MAX)) == 1
    assert rd.exists("a") == 0
    rd.set("a", "1")
    assert x(rd, "PEXPIREAT", "a", str(-INT64_MAX - 1)) == 1
    assert rd.exists("a") == 0


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
@pytest.mark.parametrize("arg", ["abc", "1.5", "", "10a", " 10",
                                 "9223372036854775808"])
def test_not_an_integer(raw, cmd, arg):
    raw.cmd("SET", "a", "1")
    assert raw.cmd(cmd, "a", arg) == err("ERR value is not an integer or out of range")


@pytest.mark.parametrize("args", [
    ("EXPIRE", "a"), ("PEXPIRE", "a"), ("EXPIREAT", "a"), ("PEXPIREAT", "a"),
    ("TTL",), ("TTL", "a", "b"), ("PTTL",), ("PTTL", "a", "b"),
    ("EXPIRETIME",), ("EXPIRETIME", "a", "b"), ("PEXPIRETIME",),
    ("PERSIST",), ("PERSIST", "a", "b"), ("GETEX",), ("EXPIRE",),
])
def test_arity(raw, args):
    assert raw.cmd(*args) == err(
        "ERR wrong number of arguments for '%s' command" % args[0].lower())


def test_extra_positional_arg_is_unsupported_option(raw):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("EXPIRE", "a", "1", "2") == err("ERR Unsupported option 2")


# --------------------------------------------------------------------------
# actual expiry, millisecond precision

def test_millisecond_precision(r):
    r.set("a", "1")
    t0 = time.monotonic()
    assert r.pexpire("a", 200) is True
    gone_at = None
    deadline = t0 + 1.5
    while time.monotonic() < deadline:
        v = r.get("a")
        now = time.monotonic()
        if v is None:
            gone_at = now
            break
        time.sleep(0.005)
    assert gone_at is not None, "key did not expire within 1.5 s of PEXPIRE 200"
    # the key cannot vanish before 200 ms have passed since the command was sent
    assert gone_at - t0 >= 0.195, "expired after only %.3f s" % (gone_at - t0)


def test_present_before_and_gone_after(r):
    r.set("a", "1")
    t0 = time.monotonic()
    r.pexpire("a", 100)
    time.sleep(0.03)
    if time.monotonic() - t0 < 0.09:
        assert r.get("a") == b"1"
        assert r.exists("a") == 1
    time.sleep(max(0.0, t0 + 0.15 - time.monotonic()))
    # allow a little slack for a slow (sanitizer) build to have received PEXPIRE late
    assert wait_until(lambda: r.get("a") is None, timeout=0.3, step=0.005)
    assert r.exists("a") == 0
    assert r.ttl("a") == -2
    assert r.pttl("a") == -2


def test_set_px_expires(r):
    r.set("a", "1", px=100)
    assert wait_until(lambda: r.get("a") is None, timeout=1.0)
    assert r.exists("a") == 0


def test_expired_keys_invisible_to_reads(rd):
    p = rd.pipeline(transaction=False)
    for i in range(200):
        p.set("tmp:%d" % i, "v", px=100)
    for i in range(5):
        p.set("keep:%d" % i, "v")
    p.execute()
    time.sleep(0.15)
    keep = ["keep:%d" % i for i in range(5)]
    assert sorted(rd.keys("*")) == keep
    assert sorted(rd.scan_iter(count=10)) == keep
    assert sorted(rd.scan_iter(match="tmp:*", count=10)) == []
    assert rd.exists(*("tmp:%d" % i for i in range(200))) == 0
    assert rd.get("tmp:7") is None
    assert rd.mget("tmp:1", "keep:1") == [None, "v"]
    assert rd.ttl("tmp:3") == -2
    assert rd.type("tmp:4") == "none"
    assert rd.randomkey() in keep
    assert rd.object("encoding", "tmp:5") is None


def test_randomkey_all_expired(rd):
    for i in range(5):
        rd.set("k%d" % i, "v", px=50)
    time.sleep(0.1)
    assert rd.randomkey() is None


def test_expired_key_can_be_recreated_without_ttl(rd):
    rd.set("a", "old", px=50)
    time.sleep(0.08)
    assert rd.expire("a", 100) is False  # gone: EXPIRE sees no key
    assert rd.setnx("a", "new") is True
    assert rd.get("a") == "new"
    assert rd.ttl("a") == -1


def test_rename_of_expired_key(raw):
    raw.cmd("SET", "a", "1", "PX", "50")
    time.sleep(0.08)
    assert raw.cmd("RENAME", "a", "b") == err("ERR no such key")


def test_active_expiry(rd):
    """Keys nobody touches are still reclaimed: DBSIZE drops on its own."""
    t0 = time.monotonic()
    p = rd.pipeline(transaction=False)
    for i in range(1000):
        p.set("vol:%d" % i, "v", px=300)
    for i in range(10):
        p.set("keep:%d" % i, "v")
    p.execute()
    n = rd.dbsize()
    if time.monotonic() - t0 < 0.25:
        assert n == 1010
    # only DBSIZE from here on: it does not touch keys
    assert wait_until(lambda: rd.dbsize() == 10, timeout=3.0, step=0.05), \
        "DBSIZE still %d after 3 s" % rd.dbsize()
    assert sorted(rd.keys("*")) == ["keep:%d" % i for i in range(10)]


def test_active_expiry_other_db(server, r):
    c = server.client(db=5)
    try:
        p = c.pipeline(transaction=False)
        for i in range(300):
            p.set("vol:%d" % i, "v", px=100)
        p.execute()
        c.set("keep", "v")
        assert wait_until(lambda: c.dbsize() == 1, timeout=3.0, step=0.05)
    finally:
        c.close()


# --------------------------------------------------------------------------
# what keeps and what clears a TTL

def test_set_clears_ttl(rd):
    rd.set("a", "1")
    rd.expire("a", 100)
    rd.set("a", "2")
    assert rd.ttl("a") == -1


def test_set_keepttl(rd):
    rd.set("a", "1")
    rd.expire("a", 100)
    rd.set("a", "2", keepttl=True)
    assert rd.ttl("a") == 100
    assert rd.get("a") == "2"


def test_in_place_modifications_keep_ttl(rd):
    rd.set("n", "1")
    rd.expire("n", 100)
    rd.incr("n")
    rd.incrby("n", 5)
    assert rd.ttl("n") == 100
    rd.set("s", "ab")
    rd.expire("s", 100)
    rd.append("s", "cd")
    rd.setrange("s", 0, "X")
    assert rd.ttl("s") == 100
    assert rd.get("s") == "Xbcd"


def test_getset_clears_ttl(rd):
    rd.set("a", "1")
    rd.expire("a", 100)
    assert rd.getset("a", "2") == "1"
    assert rd.ttl("a") == -1


def test_del_then_set_has_no_ttl(rd):
    rd.set("a", "1")
    rd.expire("a", 100)
    rd.delete("a")
    rd.set("a", "1")
    assert rd.ttl("a") == -1


def test_rename_keeps_ttl(rd):
    rd.set("a", "1")
    rd.pexpire("a", 50000)
    rd.rename("a", "b")
    assert 49000 < rd.pttl("b") <= 50000
    assert rd.ttl("a") == -2


def test_rename_ttl_actually_expires(r):
    r.set("a", "1", px=150)
    r.rename("a", "b")
    assert wait_until(lambda: r.exists("b") == 0, timeout=1.5)


# --------------------------------------------------------------------------
# GETEX

def test_getex_no_options_keeps_ttl(rd):
    rd.set("a", "v")
    assert rd.getex("a") == "v"
    assert rd.ttl("a") == -1
    rd.expire("a", 100)
    assert rd.getex("a") == "v"
    assert rd.ttl("a") == 100


def test_getex_missing(rd):
    assert rd.getex("missing") is None
    assert rd.getex("missing", ex=10) is None
    assert rd.exists("missing") == 0


def test_getex_ex_px_exat_pxat(rd):
    rd.set("a", "v")
    assert rd.getex("a", ex=100) == "v"
    assert rd.ttl("a") == 100
    assert rd.getex("a", px=50000) == "v"
    assert 49000 < rd.pttl("a") <= 50000
    assert rd.getex("a", exat=FUTURE_S) == "v"
    assert x(rd, "PEXPIRETIME", "a") == FUTURE_MS
    assert rd.getex("a", pxat=FUTURE_MS + 7) == "v"
    assert x(rd, "PEXPIRETIME", "a") == FUTURE_MS + 7


def test_getex_persist(rd):
    rd.set("a", "v")
    rd.expire("a", 100)
    assert rd.getex("a", persist=True) == "v"
    assert rd.ttl("a") == -1
    assert rd.getex("a", persist=True) == "v"
    assert rd.ttl("a") == -1


def test_getex_past_time_deletes_after_returning(rd):
    rd.set("a", "v")
    assert rd.getex("a", exat=1) == "v"
    assert rd.exists("a") == 0
    rd.set("b", "w")
    assert rd.getex("b", pxat=1) == "w"
    assert rd.exists("b") == 0


def test_getex_pxat_int64_max(rd):
    rd.set("a", "v")
    assert x(rd, "GETEX", "a", "PXAT", str(INT64_MAX)) == "v"
    assert x(rd, "PEXPIRETIME", "a") == INT64_MAX


def test_getex_options_case_insensitive(rd):
    rd.set("a", "v")
    assert x(rd, "GETEX", "a", "ex", "100") == "v"
    assert rd.ttl("a") == 100
    assert x(rd, "GETEX", "a", "Persist") == "v"
    assert rd.ttl("a") == -1


def test_getex_px_really_expires(r):
    r.set("a", "v")
    assert r.getex("a", px=100) == b"v"
    assert wait_until(lambda: r.get("a") is None, timeout=1.0)


@pytest.mark.parametrize("args,error", [
    (("EX", "0"), "ERR invalid expire time in 'getex' command"),
    (("EX", "-1"), "ERR invalid expire time in 'getex' command"),
    (("PX", "0"), "ERR invalid expire time in 'getex' command"),
    (("PXAT", "0"), "ERR invalid expire time in 'getex' command"),
    (("EX", str(INT64_MAX)), "ERR invalid expire time in 'getex' command"),
    (("PX", str(INT64_MAX)), "ERR invalid expire time in 'getex' command"),
    (("EXAT", str(INT64_MAX)), "ERR invalid expire time in 'getex' command"),
    (("EX", "abc"), "ERR value is not an integer or out of range"),
    (("EX", "1.5"), "ERR value is not an integer or out of range"),
    (("EX", "10", "PX", "10"), "ERR syntax error"),
    (("EX", "10", "EXAT", str(FUTURE_S)), "ERR syntax error"),
    (("PERSIST", "EX", "10"), "ERR syntax error"),
    (("EX", "10", "PERSIST"), "ERR syntax error"),
    (("EX",), "ERR syntax error"),
    (("FOO",), "ERR syntax error"),
    (("KEEPTTL",), "ERR syntax error"),
])
def test_getex_errors(raw, args, error):
    raw.cmd("SET", "a", "v")
    raw.cmd("EXPIRE", "a", "100")
    assert raw.cmd("GETEX", "a", *args) == err(error)
    assert raw.cmd("TTL", "a") == intreply(100)


@needs_list
def test_getex_wrongtype(raw):
    raw.cmd("RPUSH", "l", "x")
    assert raw.cmd("GETEX", "l") == err(
        "WRONGTYPE Operation against a key holding the wrong kind of value")
    assert raw.cmd("GETEX", "l", "EX", "10") == err(
        "WRONGTYPE Operation against a key holding the wrong kind of value")


@needs_list
def test_expire_works_on_any_type(rd):
    rd.rpush("l", "x")
    assert rd.expire("l", 100) is True
    assert rd.ttl("l") == 100
    assert rd.persist("l") is True
