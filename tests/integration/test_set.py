"""
Sets: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE
SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN, and
what the keyspace commands (TYPE, SCAN TYPE, OBJECT ENCODING, RENAME, MOVE,
COPY, CONFIG set-max-intset-entries) do with sets.

Every expectation in the first part of this file was checked against Redis
7.0.15 (ENGRAM_TEST_REDIS=1). Replies are compared byte for byte through raw
sockets, in RESP2 and RESP3, because the reply type is part of the contract:
SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count reply a RESP3 set
(`~`), SRANDMEMBER with a count an array (`*`, it may repeat members). Where
Redis leaves the order unspecified (hash tables, random picks) the members
are compared as sorted lists or multisets; an intset's order (ascending) is
deterministic in Redis and is compared exactly.

The last part is engram only (skipped with ENGRAM_TEST_REDIS=1): rollback of
an EXEC that touched sets (docs/transactions.md), and durability: sets of
both encodings, with TTLs, after a kill -9 and a restart from the WAL alone
and from a snapshot plus the WAL. SPOP writes the SREM of the members it
chose to the WAL, so after a restart a set holds exactly what it held before
the kill. A last test watches used_memory across rounds of every set command,
since LeakSanitizer never runs in a server the fixtures SIGKILL.
"""
import os
import signal
import subprocess
import time

import pytest

import conftest
from conftest import Server, encode_command
from rawconn import Conn, arity, bulk, c, c3, integer  # noqa: F401 (fixtures)

cmd = encode_command

OK = b"+OK\r\n"
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
NOT_INT = b"-ERR value is not an integer or out of range\r\n"
SYNTAX = b"-ERR syntax error\r\n"
POSITIVE = b"-ERR value is out of range, must be positive\r\n"
INVALID_CURSOR = b"-ERR invalid cursor\r\n"
NUMKEYS = b"-ERR numkeys should be greater than 0\r\n"
NUMKEYS_ARGS = b"-ERR Number of keys can't be greater than number of args\r\n"
LIMIT_NEG = b"-ERR LIMIT can't be negative\r\n"
NULL2 = b"$-1\r\n"
NULL3 = b"_\r\n"
EMPTY_ARRAY = b"*0\r\n"
EMPTY_SET3 = b"~0\r\n"
EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"
INTSET = b"$6\r\nintset\r\n"
HASHTABLE = b"$9\r\nhashtable\r\n"
INTSET_ENTRIES_DEFAULT = 512


def agg(kind, items):
    """An aggregate reply of bulk strings, in the given order."""
    return b"%s%d\r\n" % (kind, len(items)) + b"".join(bulk(i) for i in items)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

@pytest.fixture
def limit_reset(server):
    """Tests that change set-max-intset-entries put the default back."""
    yield
    conn = Conn(server)
    assert conn("CONFIG", "SET", "set-max-intset-entries", str(INTSET_ENTRIES_DEFAULT)) == OK
    conn.close()


def parse(raw):
    """Parse one complete reply into Python values: bulk/simple strings as
    bytes, integers as int, nulls as None, errors as ("-", text), aggregates
    as (type byte, [items])."""
    value, end = _parse(raw, 0)
    assert end == len(raw), raw
    return value


def _parse(buf, pos):
    t = buf[pos:pos + 1]
    eol = buf.index(b"\r\n", pos)
    line = buf[pos + 1:eol]
    nxt = eol + 2
    if t == b"+":
        return line, nxt
    if t == b"-":
        return ("-", line), nxt
    if t == b":":
        return int(line), nxt
    if t == b"_":
        return None, nxt
    if t == b"$":
        n = int(line)
        if n < 0:
            return None, nxt
        assert buf[nxt + n:nxt + n + 2] == b"\r\n", buf
        return buf[nxt:nxt + n], nxt + n + 2
    if t in (b"*", b"~"):
        n = int(line)
        items = []
        for _ in range(n):
            item, nxt = _parse(buf, nxt)
            items.append(item)
        return (t, items), nxt
    raise AssertionError("unexpected reply type %r in %r" % (t, buf[pos:pos + 60]))


def elems(raw, kind):
    """The bulk strings of an aggregate reply of type kind (b"*" or b"~")."""
    value = parse(raw)
    assert isinstance(value, tuple) and value[0] == kind, raw[:200]
    for item in value[1]:
        assert isinstance(item, bytes), raw[:200]
    return value[1]


def sorted_elems(raw, kind):
    return sorted(elems(raw, kind))


def members(conn, key, kind=b"*"):
    """SMEMBERS key as a sorted list (kind: b"~" on a RESP3 connection)."""
    return sorted_elems(conn("SMEMBERS", key), kind)


def bset(*items):
    return sorted(i.encode() if isinstance(i, str) else i for i in items)


def scan_reply(raw):
    """An SSCAN/SCAN reply: (cursor, [members])."""
    value = parse(raw)
    assert isinstance(value, tuple) and value[0] == b"*" and len(value[1]) == 2, raw[:200]
    cursor, inner = value[1]
    assert isinstance(cursor, bytes), raw[:200]
    assert isinstance(inner, tuple) and inner[0] == b"*", raw[:200]
    return int(cursor), inner[1]


def full_sscan(conn, key, *opts):
    """Every member an SSCAN iteration returns (a list: repeats allowed)."""
    seen, cursor, calls = [], 0, 0
    while True:
        cursor, batch = scan_reply(conn("SSCAN", key, cursor, *opts))
        seen += batch
        calls += 1
        assert calls < 100000
        if cursor == 0:
            return seen


def encoding(conn, key):
    return conn("OBJECT", "ENCODING", key)


# --------------------------------------------------------------------------
# SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
# --------------------------------------------------------------------------

def test_sadd_counts_new_members(c):
    assert c("SADD", "s", "a", "b", "a", "c") == integer(3)
    assert c("SADD", "s", "a", "d") == integer(1)
    assert c("SADD", "s", "a") == integer(0)
    assert c("SCARD", "s") == integer(4)
    assert c("TYPE", "s") == b"+set\r\n"
    assert members(c, "s") == bset("a", "b", "c", "d")


def test_srem_counts_removed_members(c):
    assert c("SADD", "s", "a", "b", "c", "d") == integer(4)
    assert c("SREM", "s", "a", "a", "x") == integer(1)
    assert c("SREM", "s", "x", "y") == integer(0)
    assert c("SREM", "missing", "a") == integer(0)
    assert c("SCARD", "s") == integer(3)
    assert members(c, "s") == bset("b", "c", "d")


def test_sismember_and_smismember(c):
    assert c("SADD", "s", "a", "1") == integer(2)
    assert c("SISMEMBER", "s", "a") == integer(1)
    assert c("SISMEMBER", "s", "b") == integer(0)
    assert c("SISMEMBER", "missing", "a") == integer(0)
    assert c("SMISMEMBER", "s", "a", "b", "1", "a") == b"*4\r\n:1\r\n:0\r\n:1\r\n:1\r\n"
    assert c("SMISMEMBER", "missing", "a", "b") == b"*2\r\n:0\r\n:0\r\n"


def test_smismember_resp3_is_an_array(c3):
    assert c3("SADD", "s", "a") == integer(1)
    assert c3("SMISMEMBER", "s", "a", "b") == b"*2\r\n:1\r\n:0\r\n"
    assert c3("SMISMEMBER", "missing", "a") == b"*1\r\n:0\r\n"


def test_scard_missing_is_zero(c):
    assert c("SCARD", "missing") == integer(0)


def test_smembers_intset_is_sorted_resp2_and_resp3(c, server):
    assert c("SADD", "s", "3", "-5", "1", "2", "100", "-100") == integer(6)
    assert c("SMEMBERS", "s") == agg(b"*", ["-100", "-5", "1", "2", "3", "100"])
    c3 = Conn(server, resp3=True)
    try:
        assert c3("SMEMBERS", "s") == agg(b"~", ["-100", "-5", "1", "2", "3", "100"])
        assert c3("SMEMBERS", "missing") == EMPTY_SET3
    finally:
        c3.close()
    assert c("SMEMBERS", "missing") == EMPTY_ARRAY


def test_smembers_hashtable_resp3_is_a_set(c3):
    assert c3("SADD", "s", "b", "a", "1", "c") == integer(4)
    assert sorted_elems(c3("SMEMBERS", "s"), b"~") == bset("1", "a", "b", "c")


def test_members_are_binary_safe(c):
    weird = [b"", b"\x00", b"a\x00b", b"\r\n", b"$3\r\nfoo", b"\xff\xfe", b" 1", b"1 ",
             b"x" * 100000]
    assert c("SADD", "s", *weird) == integer(len(weird))
    assert c("SADD", "s", *weird) == integer(0)
    assert c("SCARD", "s") == integer(len(weird))
    assert members(c, "s") == sorted(weird)
    for w in weird:
        assert c("SISMEMBER", "s", w) == integer(1), w[:20]
    assert c("SISMEMBER", "s", b"a\x00") == integer(0)
    assert c("SREM", "s", b"\x00", b"") == integer(2)
    assert members(c, "s") == sorted(weird[2:])
    assert sorted(full_sscan(c, "s")) == sorted(weird[2:])
    assert c("SSCAN", "s", "0", "MATCH", b"a\x00*") == b"*2\r\n$1\r\n0\r\n*1\r\n$3\r\na\x00b\r\n"


# --------------------------------------------------------------------------
# Arity, WRONGTYPE, missing keys
# --------------------------------------------------------------------------

ARITY_CASES = [
    ("SADD", "s"), ("SREM", "s"), ("SMEMBERS",), ("SMEMBERS", "s", "t"),
    ("SISMEMBER", "s"), ("SISMEMBER", "s", "a", "b"), ("SMISMEMBER", "s"), ("SCARD",),
    ("SCARD", "s", "t"), ("SPOP",), ("SRANDMEMBER",), ("SMOVE", "s", "t"),
    ("SMOVE", "s", "t", "a", "b"), ("SINTER",), ("SINTERCARD", "1"), ("SINTERSTORE", "d"),
    ("SUNION",), ("SUNIONSTORE", "d"), ("SDIFF",), ("SDIFFSTORE", "d"), ("SSCAN", "s"),
]


@pytest.mark.parametrize("args", ARITY_CASES, ids=lambda a: " ".join(a))
def test_wrong_arity(c, args):
    assert c(*args) == arity(args[0].lower())


def test_spop_srandmember_extra_arguments_are_syntax_errors(c):
    assert c("SADD", "s", "a") == integer(1)
    assert c("SPOP", "s", "1", "2") == SYNTAX
    assert c("SRANDMEMBER", "s", "1", "2") == SYNTAX
    assert c("SPOP", "missing", "1", "2") == SYNTAX
    assert c("SCARD", "s") == integer(1)


SET_COMMANDS_ON_STRING = [
    ("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"),
    ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"), ("SCARD", "str"),
    ("SPOP", "str"), ("SPOP", "str", "2"), ("SPOP", "str", "0"), ("SRANDMEMBER", "str"),
    ("SRANDMEMBER", "str", "2"), ("SRANDMEMBER", "str", "0"), ("SRANDMEMBER", "str", "-2"),
    ("SMOVE", "str", "s", "a"), ("SMOVE", "s", "str", "a"), ("SINTER", "str"),
    ("SINTER", "s", "str"), ("SINTERCARD", "2", "s", "str"), ("SINTERSTORE", "d", "s", "str"),
    ("SUNION", "s", "str"), ("SUNIONSTORE", "d", "str"), ("SDIFF", "str", "s"),
    ("SDIFF", "s", "str"), ("SDIFFSTORE", "d", "s", "str"), ("SSCAN", "str", "0"),
    ("SSCAN", "str", "0", "MATCH", "*", "COUNT", "5"),
    # A missing key before the wrong one does not hide it (Redis 7 checks them all).
    ("SINTER", "missing", "str"), ("SINTERCARD", "2", "missing", "str"),
    ("SINTERSTORE", "d", "missing", "str"), ("SUNION", "missing", "str"),
    ("SDIFF", "missing", "str"), ("SDIFFSTORE", "d", "missing", "str"),
]


@pytest.mark.parametrize("args", SET_COMMANDS_ON_STRING, ids=lambda a: " ".join(a))
def test_set_commands_on_a_string_are_wrongtype(c, args):
    assert c("SET", "str", "v") == OK
    assert c("SADD", "s", "a", "1") == integer(2)
    assert c("SET", "d", "dst") == OK
    assert c(*args) == WRONGTYPE
    # Nothing changed.
    assert c("GET", "str") == bulk("v")
    assert c("GET", "d") == bulk("dst")
    assert members(c, "s") == bset("1", "a")


def test_set_commands_on_a_hash_are_wrongtype(c):
    assert c("HSET", "h", "f", "v") == integer(1)
    for args in [("SADD", "h", "a"), ("SMEMBERS", "h"), ("SCARD", "h"), ("SPOP", "h"),
                 ("SUNION", "h"), ("SSCAN", "h", "0")]:
        assert c(*args) == WRONGTYPE, args
    assert c("HGET", "h", "f") == bulk("v")


OTHER_COMMANDS_ON_SET = [
    ("GET", "s"), ("APPEND", "s", "x"), ("INCR", "s"), ("STRLEN", "s"), ("GETRANGE", "s", "0", "1"),
    ("SETRANGE", "s", "0", "x"), ("HSET", "s", "f", "v"), ("HGET", "s", "f"), ("HLEN", "s"),
    ("HGETALL", "s"),
]


@pytest.mark.parametrize("args", OTHER_COMMANDS_ON_SET, ids=lambda a: " ".join(a))
def test_other_commands_on_a_set_are_wrongtype(c, args):
    assert c("SADD", "s", "a", "1") == integer(2)
    assert c(*args) == WRONGTYPE
    assert members(c, "s") == bset("1", "a")


def test_set_overwrites_a_set(c):
    assert c("SADD", "s", "a") == integer(1)
    assert c("SET", "s", "v") == OK
    assert c("GET", "s") == bulk("v")
    assert c("SADD", "s", "a") == WRONGTYPE


def test_missing_keys_resp2(c):
    assert c("SMEMBERS", "m") == EMPTY_ARRAY
    assert c("SPOP", "m") == NULL2
    assert c("SPOP", "m", "3") == EMPTY_ARRAY
    assert c("SPOP", "m", "0") == EMPTY_ARRAY
    assert c("SRANDMEMBER", "m") == NULL2
    assert c("SRANDMEMBER", "m", "3") == EMPTY_ARRAY
    assert c("SRANDMEMBER", "m", "-3") == EMPTY_ARRAY
    assert c("SINTER", "m") == EMPTY_ARRAY
    assert c("SUNION", "m", "n") == EMPTY_ARRAY
    assert c("SDIFF", "m") == EMPTY_ARRAY
    assert c("SINTERCARD", "1", "m") == integer(0)
    assert c("SSCAN", "m", "0") == EMPTY_SCAN
    assert c("SMOVE", "m", "n", "a") == integer(0)
    assert c("EXISTS", "m", "n") == integer(0)


def test_missing_keys_resp3(c3):
    assert c3("SMEMBERS", "m") == EMPTY_SET3
    assert c3("SPOP", "m") == NULL3
    assert c3("SPOP", "m", "3") == EMPTY_SET3
    assert c3("SPOP", "m", "0") == EMPTY_SET3
    assert c3("SRANDMEMBER", "m") == NULL3
    assert c3("SRANDMEMBER", "m", "3") == EMPTY_ARRAY
    assert c3("SRANDMEMBER", "m", "-3") == EMPTY_ARRAY
    assert c3("SINTER", "m") == EMPTY_SET3
    assert c3("SUNION", "m", "n") == EMPTY_SET3
    assert c3("SDIFF", "m") == EMPTY_SET3
    assert c3("SSCAN", "m", "0") == EMPTY_SCAN


# --------------------------------------------------------------------------
# Empty sets disappear
# --------------------------------------------------------------------------

def assert_gone(c, key):
    assert c("EXISTS", key) == integer(0)
    assert c("TYPE", key) == b"+none\r\n"
    assert c("SCARD", key) == integer(0)


@pytest.mark.parametrize("member", ["a", "7"], ids=["hashtable", "intset"])
def test_srem_of_the_last_member_deletes_the_key(c, member):
    assert c("SADD", "s", member) == integer(1)
    assert c("EXPIRE", "s", "100") == integer(1)
    assert c("SREM", "s", member) == integer(1)
    assert_gone(c, "s")
    # A new set under the same name starts without the old TTL.
    assert c("SADD", "s", member) == integer(1)
    assert c("TTL", "s") == integer(-1)


@pytest.mark.parametrize("member", ["a", "7"], ids=["hashtable", "intset"])
def test_spop_of_the_last_member_deletes_the_key(c, member):
    assert c("SADD", "s", member) == integer(1)
    assert c("SPOP", "s") == bulk(member)
    assert_gone(c, "s")
    assert c("SADD", "s", member, "x", "9") == integer(3)
    assert sorted_elems(c("SPOP", "s", "3"), b"*") == bset(member, "x", "9")
    assert_gone(c, "s")
    assert c("SADD", "s", member) == integer(1)
    assert c("SPOP", "s", "100") == agg(b"*", [member])
    assert_gone(c, "s")


@pytest.mark.parametrize("member", ["a", "7"], ids=["hashtable", "intset"])
def test_smove_of_the_last_member_deletes_the_source(c, member):
    assert c("SADD", "src", member) == integer(1)
    assert c("SMOVE", "src", "dst", member) == integer(1)
    assert_gone(c, "src")
    assert c("SMEMBERS", "dst") == agg(b"*", [member])


# --------------------------------------------------------------------------
# Encodings: intset and hashtable
# --------------------------------------------------------------------------

def test_encoding_intset_then_hashtable(c):
    assert c("SADD", "s", "1", "2", "-3") == integer(3)
    assert encoding(c, "s") == INTSET
    assert c("SADD", "s", "a") == integer(1)
    assert encoding(c, "s") == HASHTABLE
    assert c("SREM", "s", "a") == integer(1)
    assert encoding(c, "s") == HASHTABLE   # never goes back
    assert members(c, "s") == bset("-3", "1", "2")
    assert c("SADD", "t", "a") == integer(1)
    assert encoding(c, "t") == HASHTABLE
    assert c("SADD", "t", "1") == integer(1)
    assert encoding(c, "t") == HASHTABLE
    assert encoding(c, "missing") == NULL2


# Strings that are not canonical decimal long longs: stored as strings, so a
# set holding one is a hashtable, and they are not equal to the number.
NOT_INTEGERS = ["007", "+1", "-0", " 1", "1 ", "01", "00", "1.0", "0x10", "1e3", "",
                "9223372036854775808", "-9223372036854775809", "99999999999999999999",
                "--1", "-", "1\x00"]


@pytest.mark.parametrize("s", NOT_INTEGERS, ids=repr)
def test_non_canonical_integers_are_strings(c, s):
    assert c("SADD", "fresh", s) == integer(1)
    assert encoding(c, "fresh") == HASHTABLE
    assert c("SADD", "ints", "0", "1", "7", "-1", "10", "100", "1000") == integer(7)
    assert encoding(c, "ints") == INTSET
    assert c("SISMEMBER", "ints", s) == integer(0)
    assert c("SREM", "ints", s) == integer(0)
    assert encoding(c, "ints") == INTSET
    assert c("SADD", "ints", s) == integer(1)
    assert encoding(c, "ints") == HASHTABLE
    assert c("SISMEMBER", "ints", s) == integer(1)
    assert c("SCARD", "ints") == integer(8)
    assert members(c, "ints") == bset("0", "1", "7", "-1", "10", "100", "1000", s)


def test_integer_boundaries(c):
    lo, hi = "-9223372036854775808", "9223372036854775807"
    assert c("SADD", "s", hi, lo, "0", "-1", "1") == integer(5)
    assert encoding(c, "s") == INTSET
    assert c("SMEMBERS", "s") == agg(b"*", [lo, "-1", "0", "1", hi])
    assert c("SISMEMBER", "s", lo) == integer(1)
    assert c("SISMEMBER", "s", hi) == integer(1)
    assert c("SREM", "s", lo, hi) == integer(2)
    assert c("SMEMBERS", "s") == agg(b"*", ["-1", "0", "1"])
    assert c("SADD", "s", "9223372036854775808") == integer(1)
    assert encoding(c, "s") == HASHTABLE


def test_zero_and_minus_zero_are_different_members(c):
    assert c("SADD", "s", "0") == integer(1)
    assert c("SADD", "s", "-0") == integer(1)
    assert members(c, "s") == bset("-0", "0")
    assert c("SREM", "s", "0") == integer(1)
    assert c("SMEMBERS", "s") == agg(b"*", ["-0"])


def test_intset_converts_above_max_entries(c):
    n = INTSET_ENTRIES_DEFAULT
    assert c("SADD", "s", *range(n)) == integer(n)
    assert encoding(c, "s") == INTSET
    assert c("SADD", "s", "0", str(n - 1)) == integer(0)   # no new member: stays
    assert encoding(c, "s") == INTSET
    assert c("SADD", "s", str(n)) == integer(1)
    assert encoding(c, "s") == HASHTABLE
    assert c("SCARD", "s") == integer(n + 1)
    assert c("SADD", "t", *range(n + 1)) == integer(n + 1)   # one call
    assert encoding(c, "t") == HASHTABLE
    assert members(c, "t") == sorted(str(i).encode() for i in range(n + 1))


def test_config_set_max_intset_entries(c, limit_reset):
    assert c("CONFIG", "GET", "set-max-intset-entries") == \
        b"*2\r\n$22\r\nset-max-intset-entries\r\n$3\r\n512\r\n"
    assert c("CONFIG", "SET", "set-max-intset-entries", "3") == OK
    assert c("CONFIG", "GET", "set-max-intset-entries") == \
        b"*2\r\n$22\r\nset-max-intset-entries\r\n$1\r\n3\r\n"
    assert c("SADD", "i", "1", "2", "3") == integer(3)
    assert encoding(c, "i") == INTSET
    assert c("SADD", "j", "1", "2", "3", "4") == integer(4)
    assert encoding(c, "j") == HASHTABLE
    # Lowering the limit converts nothing until a member is added.
    assert c("CONFIG", "SET", "set-max-intset-entries", "2") == OK
    assert encoding(c, "i") == INTSET
    assert c("SADD", "i", "3") == integer(0)
    assert encoding(c, "i") == INTSET
    assert c("SREM", "i", "3") == integer(1)
    assert encoding(c, "i") == INTSET
    assert c("SADD", "i", "5") == integer(1)
    assert encoding(c, "i") == HASHTABLE
    # 0: every set is a hashtable.
    assert c("CONFIG", "SET", "set-max-intset-entries", "0") == OK
    assert c("SADD", "z", "1") == integer(1)
    assert encoding(c, "z") == HASHTABLE
    assert c("SMOVE", "i", "z2", "1") == integer(1)
    assert encoding(c, "z2") == HASHTABLE
    assert c("CONFIG", "SET", "set-max-intset-entries", "abc") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries')"
        b" - argument couldn't be parsed into an integer\r\n")
    assert c("CONFIG", "SET", "set-max-intset-entries", "-1") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries')"
        b" - argument must be between 0 and 9223372036854775807 inclusive\r\n")
    assert c("CONFIG", "GET", "set-max-intset-entries") == \
        b"*2\r\n$22\r\nset-max-intset-entries\r\n$1\r\n0\r\n"
    assert c("CONFIG", "SET", "set-max-intset-entries", "3000000000") == OK
    assert c("CONFIG", "GET", "set-max-intset-entries") == \
        b"*2\r\n$22\r\nset-max-intset-entries\r\n$10\r\n3000000000\r\n"
    assert c("SADD", "big", *range(600)) == integer(600)
    assert encoding(c, "big") == INTSET


def test_store_results_encoding(c, limit_reset):
    assert c("SADD", "a", "1", "2", "3", "4") == integer(4)
    assert c("SADD", "b", "3", "4", "5") == integer(3)
    assert c("SADD", "x", "x", "3") == integer(2)
    assert c("SUNIONSTORE", "d", "a", "b") == integer(5)
    assert encoding(c, "d") == INTSET
    assert c("SMEMBERS", "d") == agg(b"*", ["1", "2", "3", "4", "5"])
    assert c("SUNIONSTORE", "d", "a", "x") == integer(5)
    assert encoding(c, "d") == HASHTABLE
    assert c("SINTERSTORE", "d", "x", "a") == integer(1)   # {3} from a hashtable
    assert encoding(c, "d") == INTSET
    assert c("SDIFFSTORE", "d", "x", "a") == integer(1)
    assert encoding(c, "d") == HASHTABLE
    assert c("CONFIG", "SET", "set-max-intset-entries", "3") == OK
    assert c("SUNIONSTORE", "d", "a") == integer(4)
    assert encoding(c, "d") == HASHTABLE
    assert c("SDIFFSTORE", "d", "a", "b") == integer(2)
    assert encoding(c, "d") == INTSET


def test_smove_encodings(c, limit_reset):
    assert c("CONFIG", "SET", "set-max-intset-entries", "3") == OK
    assert c("SADD", "src", "1", "2", "x") == integer(3)
    assert c("SMOVE", "src", "new", "1") == integer(1)
    assert encoding(c, "new") == INTSET
    assert c("SMOVE", "src", "new2", "x") == integer(1)
    assert encoding(c, "new2") == HASHTABLE
    assert c("SADD", "full", "7", "8", "9") == integer(3)
    assert c("SMOVE", "src", "full", "2") == integer(1)
    assert encoding(c, "full") == HASHTABLE
    assert members(c, "full") == bset("2", "7", "8", "9")


# --------------------------------------------------------------------------
# SMOVE
# --------------------------------------------------------------------------

def test_smove_moves(c):
    assert c("SADD", "src", "a", "b", "1") == integer(3)
    assert c("SADD", "dst", "c") == integer(1)
    assert c("SMOVE", "src", "dst", "a") == integer(1)
    assert members(c, "src") == bset("1", "b")
    assert members(c, "dst") == bset("a", "c")
    assert c("SMOVE", "src", "dst", "a") == integer(0)   # not in src any more
    assert c("SMOVE", "src", "dst", "zz") == integer(0)
    assert members(c, "src") == bset("1", "b")
    assert members(c, "dst") == bset("a", "c")


def test_smove_member_already_in_destination(c):
    assert c("SADD", "src", "a", "b") == integer(2)
    assert c("SADD", "dst", "a") == integer(1)
    assert c("SMOVE", "src", "dst", "a") == integer(1)
    assert members(c, "src") == bset("b")
    assert members(c, "dst") == bset("a")


def test_smove_creates_destination(c):
    assert c("SADD", "src", "a", "b") == integer(2)
    assert c("SMOVE", "src", "dst", "b") == integer(1)
    assert c("TYPE", "dst") == b"+set\r\n"
    assert c("SMEMBERS", "dst") == agg(b"*", ["b"])
    assert c("TTL", "dst") == integer(-1)


def test_smove_keeps_ttls(c):
    assert c("SADD", "src", "a", "b") == integer(2)
    assert c("SADD", "dst", "c") == integer(1)
    assert c("EXPIRE", "src", "1000") == integer(1)
    assert c("EXPIRE", "dst", "2000") == integer(1)
    assert c("SMOVE", "src", "dst", "a") == integer(1)
    assert 900 < int(c("TTL", "src")[1:-2]) <= 1000
    assert 1900 < int(c("TTL", "dst")[1:-2]) <= 2000


def test_smove_order_of_checks(c):
    assert c("SET", "str", "v") == OK
    assert c("SADD", "s", "a") == integer(1)
    # A missing source answers 0 before the destination's type is looked at.
    assert c("SMOVE", "missing", "str", "a") == integer(0)
    # A source of the wrong type, or a destination of the wrong type: WRONGTYPE,
    # even when the member is not in the source.
    assert c("SMOVE", "str", "s", "a") == WRONGTYPE
    assert c("SMOVE", "str", "missing", "a") == WRONGTYPE
    assert c("SMOVE", "s", "str", "a") == WRONGTYPE
    assert c("SMOVE", "s", "str", "not-there") == WRONGTYPE
    assert c("SMOVE", "str", "str", "a") == WRONGTYPE
    assert members(c, "s") == bset("a")
    assert c("GET", "str") == bulk("v")
    assert c("EXISTS", "missing") == integer(0)


def test_smove_to_itself(c):
    assert c("SADD", "s", "a") == integer(1)
    assert c("SMOVE", "s", "s", "a") == integer(1)
    assert c("SMOVE", "s", "s", "b") == integer(0)
    assert c("SMEMBERS", "s") == agg(b"*", ["a"])   # the last member stays
    assert c("SADD", "i", "5") == integer(1)
    assert c("SMOVE", "i", "i", "5") == integer(1)
    assert c("SMEMBERS", "i") == agg(b"*", ["5"])


# --------------------------------------------------------------------------
# SPOP
# --------------------------------------------------------------------------

@pytest.mark.parametrize("count", ["-1", "-100", "abc", "1.5", "", " 1", "99999999999999999999"])
def test_spop_count_errors(c, count):
    assert c("SADD", "s", "a") == integer(1)
    assert c("SPOP", "s", count) == POSITIVE
    # The count is checked before the key: even a missing or wrong-typed key.
    assert c("SPOP", "missing", count) == POSITIVE
    assert c("SET", "str", "v") == OK
    assert c("SPOP", "str", count) == POSITIVE
    assert c("SCARD", "s") == integer(1)


def test_spop_count_zero(c, c3):
    assert c("SADD", "s", "a", "b") == integer(2)
    assert c("SPOP", "s", "0") == EMPTY_ARRAY
    assert c3("SPOP", "s", "0") == EMPTY_SET3
    assert c("SCARD", "s") == integer(2)


@pytest.mark.parametrize("kind", ["intset", "hashtable", "big"])
def test_spop_removes_what_it_returns(c, kind):
    if kind == "intset":
        original = [str(i).encode() for i in range(-10, 30)]
    elif kind == "hashtable":
        original = [b"m%d" % i for i in range(40)]
    else:
        original = [b"m%d" % i for i in range(2000)]
    assert c("SADD", "s", *original) == integer(len(original))
    popped = []
    one = c("SPOP", "s")
    value = parse(one)
    assert isinstance(value, bytes) and value in original
    popped.append(value)
    for count in (1, 3, 7, (len(original) - 11) * 2 // 3):
        got = elems(c("SPOP", "s", count), b"*")
        assert len(got) == count
        assert len(set(got)) == count               # distinct
        popped += got
    assert len(set(popped)) == len(popped)
    rest = members(c, "s")
    assert sorted(popped + rest) == sorted(original)
    assert c("SCARD", "s") == integer(len(original) - len(popped))
    # A count above the size pops everything and deletes the key.
    got = elems(c("SPOP", "s", len(rest) + 10), b"*")
    assert sorted(got) == rest
    assert_gone(c, "s")


def test_spop_resp3_types(c3):
    assert c3("SADD", "s", "a", "b", "c", "1") == integer(4)
    one = parse(c3("SPOP", "s"))
    assert isinstance(one, bytes)
    got = elems(c3("SPOP", "s", "1"), b"~")
    assert len(got) == 1
    got += elems(c3("SPOP", "s", "5"), b"~")
    assert sorted(got + [one]) == bset("a", "b", "c", "1")
    assert c3("EXISTS", "s") == integer(0)
    assert c3("SADD", "i", "1", "2") == integer(2)
    # All of an intset. (Redis answers in intset order here, as SUNION would;
    # the order is unspecified, so it is not checked.)
    assert sorted_elems(c3("SPOP", "i", "2"), b"~") == bset("1", "2")


def test_spop_largest_count(c):
    assert c("SADD", "s", "a", "b", "1") == integer(3)
    assert sorted_elems(c("SPOP", "s", "9223372036854775807"), b"*") == bset("1", "a", "b")
    assert_gone(c, "s")


def test_spop_count_one_resp2_is_an_array(c):
    assert c("SADD", "s", "x") == integer(1)
    assert c("SPOP", "s", "1") == agg(b"*", ["x"])


def test_spop_keeps_ttl_of_the_rest(c):
    assert c("SADD", "s", "a", "b", "c") == integer(3)
    assert c("EXPIRE", "s", "1000") == integer(1)
    elems(c("SPOP", "s", "2"), b"*")
    assert 900 < int(c("TTL", "s")[1:-2]) <= 1000


# --------------------------------------------------------------------------
# SRANDMEMBER
# --------------------------------------------------------------------------

def test_srandmember_without_count(c):
    assert c("SADD", "s", "a", "b", "c") == integer(3)
    seen = set()
    for _ in range(200):
        v = parse(c("SRANDMEMBER", "s"))
        assert v in (b"a", b"b", b"c")
        seen.add(v)
    assert seen == {b"a", b"b", b"c"}
    assert c("SCARD", "s") == integer(3)


@pytest.mark.parametrize("kind,size", [("intset", 50), ("hashtable", 50), ("hashtable", 1000)])
def test_srandmember_positive_count_is_distinct_and_capped(c, c3, kind, size):
    original = [str(i).encode() for i in range(size)] if kind == "intset" else \
        [b"m%d" % i for i in range(size)]
    assert c("SADD", "s", *original) == integer(size)
    for count in sorted({1, 2, 10, size // 4, size // 2, size - 1, size}):
        got = elems(c("SRANDMEMBER", "s", count), b"*")
        assert len(got) == count and len(set(got)) == count
        assert set(got) <= set(original)
        got = elems(c3("SRANDMEMBER", "s", count), b"*")   # an array in RESP3 too
        assert len(got) == count and len(set(got)) == count
    for count in (size + 1, size * 20, 9223372036854775807):
        assert sorted_elems(c("SRANDMEMBER", "s", count), b"*") == sorted(original)
        assert sorted_elems(c3("SRANDMEMBER", "s", count), b"*") == sorted(original)
    assert members(c, "s") == sorted(original)


def test_srandmember_negative_count_repeats(c, c3):
    assert c("SADD", "s", "a", "b", "c") == integer(3)
    for conn in (c, c3):
        got = elems(conn("SRANDMEMBER", "s", "-300"), b"*")
        assert len(got) == 300
        assert set(got) == {b"a", b"b", b"c"}   # all three, with repeats
        got = elems(conn("SRANDMEMBER", "s", "-2"), b"*")
        assert len(got) == 2 and set(got) <= {b"a", b"b", b"c"}
    assert c("SADD", "one", "x") == integer(1)
    assert c("SRANDMEMBER", "one", "-4") == agg(b"*", ["x"] * 4)
    assert c("SADD", "i", "5") == integer(1)
    assert c("SRANDMEMBER", "i", "-3") == agg(b"*", ["5"] * 3)


def test_srandmember_count_zero_and_errors(c, c3):
    assert c("SADD", "s", "a") == integer(1)
    assert c("SRANDMEMBER", "s", "0") == EMPTY_ARRAY
    assert c3("SRANDMEMBER", "s", "0") == EMPTY_ARRAY
    for bad in ("abc", "1.5", "", " 1", "99999999999999999999"):
        assert c("SRANDMEMBER", "s", bad) == NOT_INT, bad
        assert c("SRANDMEMBER", "missing", bad) == NOT_INT, bad


def test_srandmember_llong_min_count(c):
    assert c("SADD", "s", "a") == integer(1)
    expected = (b"-ERR value is out of range, value must between -9223372036854775807 and "
                b"9223372036854775807\r\n")
    assert c("SRANDMEMBER", "s", "-9223372036854775808") == expected
    assert c("SRANDMEMBER", "missing", "-9223372036854775808") == expected


# --------------------------------------------------------------------------
# SINTER SUNION SDIFF and their STORE forms
# --------------------------------------------------------------------------

@pytest.fixture
def abc(c):
    assert c("SADD", "a", "1", "2", "3", "4", "x") == integer(5)
    assert c("SADD", "b", "3", "4", "5", "x", "y") == integer(5)
    assert c("SADD", "c", "4", "x", "z") == integer(3)
    assert c("SADD", "i", "2", "3", "4") == integer(3)   # intset
    return c


def test_sinter(abc, c3):
    c = abc
    assert sorted_elems(c("SINTER", "a", "b"), b"*") == bset("3", "4", "x")
    assert sorted_elems(c("SINTER", "a", "b", "c"), b"*") == bset("4", "x")
    assert sorted_elems(c("SINTER", "b", "i"), b"*") == bset("3", "4")
    assert c("SINTER", "i", "a") == agg(b"*", ["2", "3", "4"])   # intset order
    assert sorted_elems(c("SINTER", "a"), b"*") == members(c, "a")
    assert sorted_elems(c("SINTER", "a", "a"), b"*") == members(c, "a")
    assert c("SINTER", "a", "missing") == EMPTY_ARRAY
    assert c("SINTER", "missing", "a") == EMPTY_ARRAY
    assert c("SINTER", "i", "c", "missing") == EMPTY_ARRAY
    assert c3("SINTER", "a", "b", "c") != EMPTY_SET3
    assert sorted_elems(c3("SINTER", "a", "b", "c"), b"~") == bset("4", "x")
    assert c3("SINTER", "a", "missing") == EMPTY_SET3
    assert c3("SINTER", "i", "c") == agg(b"~", ["4"])


def test_sunion(abc, c3):
    c = abc
    assert sorted_elems(c("SUNION", "a", "b"), b"*") == \
        bset("1", "2", "3", "4", "5", "x", "y")
    assert sorted_elems(c("SUNION", "a", "missing", "c"), b"*") == \
        bset("1", "2", "3", "4", "x", "z")
    assert c("SUNION", "i") == agg(b"*", ["2", "3", "4"])
    assert c("SUNION", "missing", "missing2") == EMPTY_ARRAY
    assert sorted_elems(c3("SUNION", "a", "b", "c", "i"), b"~") == \
        bset("1", "2", "3", "4", "5", "x", "y", "z")


def test_sdiff(abc, c3):
    c = abc
    assert sorted_elems(c("SDIFF", "a", "b"), b"*") == bset("1", "2")
    assert sorted_elems(c("SDIFF", "b", "a"), b"*") == bset("5", "y")
    assert sorted_elems(c("SDIFF", "a", "b", "c"), b"*") == bset("1", "2")
    assert sorted_elems(c("SDIFF", "a", "missing"), b"*") == members(c, "a")
    assert sorted_elems(c("SDIFF", "a", "missing", "i"), b"*") == bset("1", "x")
    assert c("SDIFF", "i", "c") == agg(b"*", ["2", "3"])
    assert c("SDIFF", "a", "a") == EMPTY_ARRAY
    assert c("SDIFF", "missing", "a") == EMPTY_ARRAY
    assert sorted_elems(c3("SDIFF", "b", "a", "c"), b"~") == bset("5", "y")
    assert c3("SDIFF", "a", "a") == EMPTY_SET3


def test_store_commands(abc):
    c = abc
    assert c("SINTERSTORE", "d", "a", "b") == integer(3)
    assert members(c, "d") == bset("3", "4", "x")
    assert c("SUNIONSTORE", "d", "a", "c") == integer(6)
    assert members(c, "d") == bset("1", "2", "3", "4", "x", "z")
    assert c("SDIFFSTORE", "d", "a", "b") == integer(2)
    assert members(c, "d") == bset("1", "2")
    # The sources are unchanged.
    assert members(c, "a") == bset("1", "2", "3", "4", "x")
    assert members(c, "b") == bset("3", "4", "5", "x", "y")


@pytest.mark.parametrize("op", ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"])
def test_store_overwrites_other_types_and_clears_ttl(abc, op):
    c = abc
    assert c("SET", "d", "string") == OK
    assert c("EXPIRE", "d", "100") == integer(1)
    n = {"SINTERSTORE": 3, "SUNIONSTORE": 7, "SDIFFSTORE": 2}[op]
    assert c(op, "d", "a", "b") == integer(n)
    assert c("TYPE", "d") == b"+set\r\n"
    assert c("TTL", "d") == integer(-1)
    assert c("HSET", "h", "f", "v") == integer(1)
    assert c(op, "h", "a", "b") == integer(n)
    assert c("TYPE", "h") == b"+set\r\n"
    assert c("EXPIRE", "h", "100") == integer(1)
    assert c(op, "h", "a", "b") == integer(n)   # a set with a TTL: replaced, TTL gone
    assert c("TTL", "h") == integer(-1)


@pytest.mark.parametrize("args", [
    ("SINTERSTORE", "d", "a", "missing"), ("SINTERSTORE", "d", "i", "c", "1"),
    ("SINTERSTORE", "d", "missing"), ("SUNIONSTORE", "d", "missing"),
    ("SUNIONSTORE", "d", "missing", "missing2"), ("SDIFFSTORE", "d", "a", "a"),
    ("SDIFFSTORE", "d", "missing", "a"), ("SDIFFSTORE", "d", "i", "a"),
], ids=lambda a: " ".join(a))
def test_store_of_an_empty_result_deletes_destination(abc, args):
    c = abc
    for old in (("SET", "d", "v"), ("SADD", "d", "old"), None):
        if old:
            c(*old)
            assert c("EXISTS", "d") == integer(1)
        assert c(*args) == integer(0)
        assert_gone(c, "d")


def test_store_destination_is_also_a_source(abc):
    c = abc
    assert c("SUNIONSTORE", "a", "a", "c") == integer(6)
    assert members(c, "a") == bset("1", "2", "3", "4", "x", "z")
    assert c("SINTERSTORE", "a", "a", "b") == integer(3)
    assert members(c, "a") == bset("3", "4", "x")
    assert c("SDIFFSTORE", "a", "a", "c") == integer(1)
    assert members(c, "a") == bset("3")
    assert c("SDIFFSTORE", "a", "a", "i") == integer(0)
    assert_gone(c, "a")


def test_store_wrongtype_source_leaves_destination(abc):
    c = abc
    assert c("SET", "str", "v") == OK
    assert c("SADD", "d", "keep") == integer(1)
    for op in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
        assert c(op, "d", "a", "str") == WRONGTYPE
        assert c(op, "d", "missing", "str") == WRONGTYPE
    assert members(c, "d") == bset("keep")


def test_setops_with_a_large_hashtable(c):
    big = [b"m%d" % i for i in range(3000)]
    assert c("SADD", "big", *big) == integer(3000)
    assert c("SADD", "evens", *[b"m%d" % i for i in range(0, 3000, 2)]) == integer(1500)
    assert c("SADD", "ints", *range(100)) == integer(100)
    assert c("SCARD", "big") == integer(3000)
    assert sorted_elems(c("SDIFF", "big", "evens"), b"*") == \
        sorted(b"m%d" % i for i in range(1, 3000, 2))
    assert c("SINTERCARD", "2", "big", "evens") == integer(1500)
    assert c("SUNIONSTORE", "u", "big", "ints") == integer(3100)
    assert c("SINTER", "big", "ints") == EMPTY_ARRAY


# --------------------------------------------------------------------------
# SINTERCARD
# --------------------------------------------------------------------------

def test_sintercard(abc):
    c = abc
    assert c("SINTERCARD", "2", "a", "b") == integer(3)
    assert c("SINTERCARD", "3", "a", "b", "c") == integer(2)
    assert c("SINTERCARD", "1", "a") == integer(5)
    assert c("SINTERCARD", "2", "a", "missing") == integer(0)
    assert c("SINTERCARD", "1", "missing") == integer(0)
    assert c("SINTERCARD", "2", "i", "b") == integer(2)
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "0") == integer(3)
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "1") == integer(1)
    assert c("SINTERCARD", "2", "a", "b", "limit", "2") == integer(2)
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "3") == integer(3)
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "100") == integer(3)
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "0") == integer(3)
    assert c("SINTERCARD", "1", "i", "LIMIT", "2") == integer(2)
    # numkeys counts keys: "LIMIT" here is a (missing) key name.
    assert c("SINTERCARD", "2", "a", "LIMIT") == integer(0)


def test_set_algebra_on_big_sets_and_repeated_keys(c):
    """Hash-table sets walked while other sets are looked up, the same key
    given twice (the walked set is not looked up in itself: a lookup can
    take a rehash step), and SINTERCARD's LIMIT stopping the walk early."""
    a = ["m%d" % i for i in range(6000)]
    b = ["m%d" % i for i in range(3000, 9000)]
    for i in range(0, 6000, 1000):
        c("SADD", "a", *a[i:i + 1000])
        c("SADD", "b", *b[i:i + 1000])
    assert c("SINTERCARD", "2", "a", "b") == integer(3000)
    assert c("SINTERCARD", "2", "a", "b", "LIMIT", "5") == integer(5)
    assert c("SINTERCARD", "2", "a", "a", "LIMIT", "7") == integer(7)
    assert c("SINTERCARD", "2", "a", "a") == integer(6000)
    assert c("SDIFF", "a", "a") == b"*0\r\n"
    assert c("SDIFFSTORE", "d", "a", "b", "a") == integer(0)
    assert c("SDIFFSTORE", "d", "a", "b") == integer(3000)
    assert c("SINTERSTORE", "d", "a", "a", "b") == integer(3000)
    assert c("SUNIONSTORE", "d", "a", "b", "a") == integer(9000)
    assert c("SDIFFSTORE", "d", "b", "a") == integer(3000)
    assert c("SISMEMBER", "d", "m8999") == integer(1)
    assert c("SISMEMBER", "d", "m2999") == integer(0)


@pytest.mark.parametrize("args,expected", [
    (("0", "a"), NUMKEYS),
    (("-1", "a"), NUMKEYS),
    (("abc", "a"), NUMKEYS),
    (("1.5", "a"), NUMKEYS),
    (("99999999999999999999", "a"), NUMKEYS),
    (("2", "a"), NUMKEYS_ARGS),
    (("3", "a", "b"), NUMKEYS_ARGS),
    (("1", "a", "LIMIT"), SYNTAX),
    (("1", "a", "FOO", "1"), SYNTAX),
    (("1", "a", "b"), SYNTAX),
    (("1", "a", "LIMIT", "1", "b"), SYNTAX),
    (("1", "a", "LIMIT", "-1"), LIMIT_NEG),
    (("1", "a", "LIMIT", "abc"), LIMIT_NEG),
    (("1", "a", "LIMIT", "1.5"), LIMIT_NEG),
    (("1", "a", "LIMIT", "99999999999999999999"), LIMIT_NEG),
    (("1", "missing", "LIMIT", "-5"), LIMIT_NEG),
], ids=lambda a: " ".join(a) if isinstance(a, tuple) else "")
def test_sintercard_errors(abc, args, expected):
    assert abc("SINTERCARD", *args) == expected


def test_sintercard_option_errors_come_before_wrongtype(abc):
    c = abc
    assert c("SET", "str", "v") == OK
    assert c("SINTERCARD", "1", "str", "LIMIT", "-1") == LIMIT_NEG
    assert c("SINTERCARD", "1", "str", "FOO") == SYNTAX
    assert c("SINTERCARD", "1", "str") == WRONGTYPE


# --------------------------------------------------------------------------
# SSCAN
# --------------------------------------------------------------------------

def test_sscan_intset_returns_everything_at_once(c):
    assert c("SADD", "s", "5", "1", "-3") == integer(3)
    expected = b"*2\r\n$1\r\n0\r\n*3\r\n$2\r\n-3\r\n$1\r\n1\r\n$1\r\n5\r\n"
    assert c("SSCAN", "s", "0") == expected
    assert c("SSCAN", "s", "0", "COUNT", "1") == expected
    assert c("SSCAN", "s", "12345") == expected   # the cursor means nothing for an intset
    assert c("SSCAN", "s", "0", "MATCH", "-*") == b"*2\r\n$1\r\n0\r\n*1\r\n$2\r\n-3\r\n"
    assert c("SSCAN", "s", "0", "MATCH", "9*") == EMPTY_SCAN


def test_sscan_resp3_reply_shape(c3):
    assert c3("SADD", "s", "5", "1") == integer(2)
    assert c3("SSCAN", "s", "0") == b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n5\r\n"


@pytest.mark.parametrize("count", [None, 1, 3, 10, 1000])
def test_sscan_full_iteration_hashtable(c, count):
    original = [b"member:%d" % i for i in range(1000)]
    assert c("SADD", "s", *original) == integer(1000)
    opts = () if count is None else ("COUNT", count)
    seen = full_sscan(c, "s", *opts)
    assert set(seen) == set(original)
    assert len(seen) < 2 * len(original)


def test_sscan_small_hashtable(c):
    assert c("SADD", "s", "a", "b", "c") == integer(3)
    assert sorted(full_sscan(c, "s")) == bset("a", "b", "c")


def test_sscan_match(c):
    original = [b"user:%d" % i for i in range(300)] + [b"other:%d" % i for i in range(300)]
    assert c("SADD", "s", *original) == integer(600)
    seen = full_sscan(c, "s", "MATCH", "user:1*", "COUNT", "20")
    assert set(seen) == {m for m in original if m.startswith(b"user:1")}
    assert full_sscan(c, "s", "MATCH", "nomatch*") == []
    seen = full_sscan(c, "s", "MATCH", "other:?", "COUNT", "1000")
    assert sorted(seen) == sorted(b"other:%d" % i for i in range(10))


def test_sscan_members_present_throughout_are_returned(c):
    original = [b"k%d" % i for i in range(500)]
    assert c("SADD", "s", *original) == integer(500)
    seen, cursor, step = [], 0, 0
    while True:
        cursor, batch = scan_reply(c("SSCAN", "s", cursor, "COUNT", "5"))
        seen += batch
        step += 1
        # The set grows (and rehashes) and loses other members while the scan runs.
        c("SADD", "s", *[b"new%d:%d" % (step, j) for j in range(10)])
        c("SREM", "s", b"new%d:0" % (step - 1))
        if cursor == 0:
            break
        assert step < 100000
    assert set(original) <= set(seen)


@pytest.mark.parametrize("cursor", ["abc", "1x", " 1", "1 ", "18446744073709551616", "1.0"])
def test_sscan_invalid_cursor(c, cursor):
    assert c("SADD", "s", "a", "1") == integer(2)
    assert c("SSCAN", "s", cursor) == INVALID_CURSOR
    assert c("SSCAN", "missing", cursor) == INVALID_CURSOR
    assert c("SET", "str", "v") == OK
    assert c("SSCAN", "str", cursor) == INVALID_CURSOR


@pytest.mark.parametrize("opts,expected", [
    (("COUNT", "0"), SYNTAX),
    (("COUNT", "-1"), SYNTAX),
    (("COUNT", "abc"), NOT_INT),
    (("COUNT",), SYNTAX),
    (("MATCH",), SYNTAX),
    (("FOO", "bar"), SYNTAX),
    (("TYPE", "set"), SYNTAX),
    (("NOVALUES",), SYNTAX),
], ids=lambda a: " ".join(a) if isinstance(a, tuple) else "")
def test_sscan_option_errors(c, opts, expected):
    assert c("SADD", "s", "a", "1") == integer(2)
    assert c("SSCAN", "s", "0", *opts) == expected


@pytest.mark.parametrize("opts", [("COUNT", "0"), ("COUNT", "abc"), ("TYPE", "set"), ("FOO",)],
                         ids=" ".join)
def test_sscan_missing_key_ignores_options(c, opts):
    # Redis looks the key up before it parses the options.
    assert c("SSCAN", "missing", "0", *opts) == EMPTY_SCAN


@pytest.mark.parametrize("opts", [("COUNT", "0"), ("COUNT", "abc"), ("TYPE", "set"), ("FOO",)],
                         ids=" ".join)
def test_sscan_wrongtype_before_options(c, opts):
    assert c("SET", "str", "v") == OK
    assert c("SSCAN", "str", "0", *opts) == WRONGTYPE


def test_sscan_cursor_accepted_like_redis(c):
    # strtoul: the largest unsigned long is a cursor (an intset ignores it),
    # and so is the empty string (0).
    assert c("SADD", "s", "1") == integer(1)
    expected = b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\n1\r\n"
    assert c("SSCAN", "s", "18446744073709551615") == expected
    assert c("SSCAN", "s", "") == expected
    assert c("SSCAN", "missing", "") == EMPTY_SCAN
    assert c("SSCAN", "s", "0", "MATCH", "*", "COUNT", "1", "MATCH", "1") == expected


# --------------------------------------------------------------------------
# Keyspace commands with sets: TYPE, SCAN TYPE, RENAME, MOVE, COPY
# --------------------------------------------------------------------------

def test_type_and_scan_type(c):
    assert c("SADD", "s1", "a") == integer(1)
    assert c("SADD", "s2", "1") == integer(1)
    assert c("SET", "str", "v") == OK
    assert c("HSET", "h", "f", "v") == integer(1)
    assert c("TYPE", "s1") == b"+set\r\n"
    assert c("TYPE", "s2") == b"+set\r\n"
    cursor, keys = scan_reply(c("SCAN", "0", "TYPE", "set", "COUNT", "1000"))
    assert cursor == 0 and sorted(keys) == [b"s1", b"s2"]
    cursor, keys = scan_reply(c("SCAN", "0", "TYPE", "SET", "COUNT", "1000"))
    assert sorted(keys) == [b"s1", b"s2"]
    cursor, keys = scan_reply(c("SCAN", "0", "TYPE", "string", "COUNT", "1000"))
    assert keys == [b"str"]


@pytest.mark.parametrize("kind", ["intset", "hashtable"])
def test_rename_and_move(c, kind):
    items = ["1", "2", "3"] if kind == "intset" else ["a", "b", "1"]
    assert c("SADD", "s", *items) == integer(3)
    assert c("EXPIRE", "s", "1000") == integer(1)
    assert c("RENAME", "s", "t") == OK
    assert c("EXISTS", "s") == integer(0)
    assert members(c, "t") == bset(*items)
    assert encoding(c, "t") == (INTSET if kind == "intset" else HASHTABLE)
    assert 900 < int(c("TTL", "t")[1:-2]) <= 1000
    assert c("SET", "str", "v") == OK
    assert c("RENAME", "t", "str") == OK   # overwrites the string
    assert c("TYPE", "str") == b"+set\r\n"
    assert c("MOVE", "str", "1") == integer(1)
    assert c("EXISTS", "str") == integer(0)
    assert c("SELECT", "1") == OK
    assert members(c, "str") == bset(*items)
    assert encoding(c, "str") == (INTSET if kind == "intset" else HASHTABLE)
    assert c("SADD", "str", "more") == integer(1)
    assert c("SELECT", "0") == OK


@pytest.mark.parametrize("kind", ["intset", "hashtable"])
def test_copy_is_deep(c, kind):
    items = [str(i) for i in range(20)] if kind == "intset" else ["m%d" % i for i in range(20)]
    assert c("SADD", "s", *items) == integer(20)
    assert c("EXPIRE", "s", "1000") == integer(1)
    assert c("COPY", "s", "t") == integer(1)
    assert encoding(c, "t") == (INTSET if kind == "intset" else HASHTABLE)
    assert 900 < int(c("TTL", "t")[1:-2]) <= 1000
    assert c("SADD", "t", "new") == integer(1)
    assert c("SREM", "t", items[0], items[1]) == integer(2)
    assert members(c, "s") == bset(*items)
    assert c("SREM", "s", items[5]) == integer(1)
    assert c("SISMEMBER", "t", items[5]) == integer(1)
    assert c("SCARD", "t") == integer(19)
    # Into another database, and over an existing key only with REPLACE.
    assert c("COPY", "s", "t", "DB", "1") == integer(1)
    assert c("SET", "str", "v") == OK
    assert c("COPY", "s", "str") == integer(0)
    assert c("COPY", "s", "str", "REPLACE") == integer(1)
    assert members(c, "str") == members(c, "s")
    assert c("SELECT", "1") == OK
    assert c("SCARD", "t") == integer(19)
    assert c("SPOP", "t", "100") != EMPTY_ARRAY
    assert c("SELECT", "0") == OK
    assert c("SCARD", "s") == integer(19)


# --------------------------------------------------------------------------
# Pipelines and MULTI (Redis-compatible part)
# --------------------------------------------------------------------------

def test_set_commands_in_multi_without_errors(c):
    assert c("MULTI") == OK
    for args in [("SADD", "s", "a", "b", "1"), ("SREM", "s", "b"), ("SCARD", "s"),
                 ("SMOVE", "s", "t", "a"), ("SINTERSTORE", "d", "s", "t")]:
        assert c(*args) == b"+QUEUED\r\n"
    assert c("EXEC") == b"*5\r\n:3\r\n:1\r\n:2\r\n:1\r\n:0\r\n"
    assert c("SMEMBERS", "s") == agg(b"*", ["1"])
    assert c("SMEMBERS", "t") == agg(b"*", ["a"])


# Which commands count as a change of a key for WATCH: only those that
# changed it (Redis signals a modified key only then).
WATCH_CASES = [
    (("SADD", "s", "new"), True),
    (("SADD", "s", "a"), False),
    (("SREM", "s", "a"), True),
    (("SREM", "s", "zz"), False),
    (("SPOP", "s"), True),
    (("SPOP", "s", "1"), True),
    (("SPOP", "s", "0"), False),
    (("SRANDMEMBER", "s", "-5"), False),
    (("SMOVE", "s", "t", "a"), True),
    (("SMOVE", "s", "t", "zz"), False),
    (("SMOVE", "s", "s", "a"), False),
    (("SMOVE", "t", "s", "t1"), True),        # s is the destination
    (("SMOVE", "t", "s", "a"), False),        # already in s: s does not change
    (("SINTERSTORE", "s", "t", "u"), True),   # empty result deletes s
    (("SINTERSTORE", "s", "t", "t"), True),
    (("SUNIONSTORE", "s", "t"), True),
    (("SDIFFSTORE", "s", "t", "t"), True),
    (("SINTERSTORE", "missing", "t", "u"), False),   # nothing to delete
    (("SINTERCARD", "1", "s"), False),
    (("SSCAN", "s", "0"), False),
]


@pytest.mark.parametrize("change,touches", WATCH_CASES, ids=lambda a: " ".join(a)
                         if isinstance(a, tuple) else str(a))
def test_watch_sees_set_changes(c, server, change, touches):
    other = Conn(server)
    try:
        assert c("SADD", "s", "a", "b", "1") == integer(3)
        assert c("SADD", "t", "t1", "a") == integer(2)
        assert c("SADD", "u", "u1") == integer(1)
        watched = "missing" if change[1] == "missing" else "s"
        assert c("WATCH", watched) == OK
        assert other(*change)[:1] != b"-"
        assert c("MULTI") == OK
        assert c("PING") == b"+QUEUED\r\n"
        assert c("EXEC") == (b"*-1\r\n" if touches else b"*1\r\n+PONG\r\n")
    finally:
        other.close()


def test_expired_sets(c):
    assert c("SADD", "s", "a", "b") == integer(2)
    assert c("SADD", "i", "1", "2") == integer(2)
    assert c("PEXPIRE", "s", "1") == integer(1)
    assert c("PEXPIRE", "i", "1") == integer(1)
    time.sleep(0.05)
    assert c("SCARD", "s") == integer(0)
    assert c("SMOVE", "i", "t", "1") == integer(0)
    assert c("SUNION", "s", "i") == EMPTY_ARRAY
    assert c("SADD", "s", "c") == integer(1)
    assert c("SMEMBERS", "s") == agg(b"*", ["c"])
    assert c("TTL", "s") == integer(-1)
    assert c("EXISTS", "i", "t") == integer(0)


def test_pipelined_sadds(c):
    replies = c.pipeline([("SADD", "s", str(i), "m%d" % i) for i in range(200)])
    assert replies == [integer(2)] * 200
    assert c("SCARD", "s") == integer(400)


# ==========================================================================
# engram only: rollback, durability
# ==========================================================================

engram_only = pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram's rollback/durability")


def snapshot_state(c, db_count=2):
    """Every key of the first db_count databases: type, members (sorted),
    encoding, TTL bucket. Leaves database 0 selected."""
    state = {}
    for db in range(db_count):
        assert c("SELECT", db) == OK
        keys = elems(c("KEYS", "*"), b"*")
        for k in keys:
            t = c("TYPE", k)
            if t == b"+set\r\n":
                value = tuple(members(c, k))
            else:
                value = c("GET", k)
            pttl = int(c("PTTL", k)[1:-2])
            state[(db, k)] = (t, value, encoding(c, k), pttl >= 0)
    assert c("SELECT", "0") == OK
    return state


@engram_only
def test_rollback_restores_sets(c):
    assert c("SADD", "ints", "1", "2", "3") == integer(3)
    assert c("SADD", "strs", "a", "b", "c") == integer(3)
    assert c("SADD", "one", "x") == integer(1)
    assert c("SADD", "other", "q") == integer(1)
    assert c("PEXPIRE", "strs", "500000") == integer(1)
    assert c("SET", "str", "notanumber") == OK
    before = snapshot_state(c)
    assert c("MULTI") == OK
    queued = [
        ("SADD", "ints", "x"),                 # converts to a hashtable
        ("SREM", "strs", "a"),
        ("SPOP", "one"),                       # deletes "one"
        ("SMOVE", "strs", "created", "b"),     # creates "created"
        ("SINTERSTORE", "other", "ints", "strs"),   # empty: deletes "other"
        ("SUNIONSTORE", "u", "ints", "strs"),
        ("SDIFFSTORE", "str", "ints"),         # overwrites a string
        ("SPOP", "ints", "2"),
        ("SADD", "new", "1"),
        ("INCR", "str"),                       # fails: WRONGTYPE (str is a set now)
    ]
    for q in queued:
        assert c(*q) == b"+QUEUED\r\n", q
    assert c("EXEC") == (b"-EXECABORT Transaction rolled back: command 10 (INCR) failed: "
                         b"WRONGTYPE Operation against a key holding the wrong kind of value"
                         b"\r\n")
    assert snapshot_state(c) == before
    assert encoding(c, "ints") == INTSET
    assert c("SMEMBERS", "ints") == agg(b"*", ["1", "2", "3"])
    for k in ("created", "u", "new"):
        assert c("EXISTS", k) == integer(0)
    assert c("GET", "str") == bulk("notanumber")


@engram_only
def test_rollback_of_a_failing_set_command(c):
    assert c("SADD", "s", "a") == integer(1)
    assert c("SET", "str", "v") == OK
    assert c("MULTI") == OK
    assert c("SADD", "s", "b") == b"+QUEUED\r\n"
    assert c("SPOP", "s", "-1") == b"+QUEUED\r\n"
    assert c("EXEC") == (b"-EXECABORT Transaction rolled back: command 2 (SPOP) failed: "
                         b"ERR value is out of range, must be positive\r\n")
    assert c("SMEMBERS", "s") == agg(b"*", ["a"])
    assert c("MULTI") == OK
    assert c("SADD", "s", "b") == b"+QUEUED\r\n"
    assert c("SMOVE", "s", "str", "a") == b"+QUEUED\r\n"
    assert c("EXEC") == (b"-EXECABORT Transaction rolled back: command 2 (SMOVE) failed: "
                         b"WRONGTYPE Operation against a key holding the wrong kind of value"
                         b"\r\n")
    assert c("SMEMBERS", "s") == agg(b"*", ["a"])


# ---- durability ----------------------------------------------------------

def restart(srv):
    """kill -9 the server and start it again on the same directory and port."""
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=10)
    srv.log.close()
    new = Server.__new__(Server)
    new.dir, new.port, new.unixsocket = srv.dir, srv.port, srv.unixsocket
    new.log_path = srv.log_path
    new.log = open(new.log_path, "a")
    new.proc = subprocess.Popen(list(srv.proc.args), stdout=new.log,
                                stderr=subprocess.STDOUT, cwd=srv.dir)
    new._wait_ready()
    return new


def wait_loaded(conn, timeout=30):
    deadline = time.monotonic() + timeout
    while b"loading:0" not in conn("INFO", "persistence"):
        assert time.monotonic() < deadline, "still loading"
        time.sleep(0.02)


def bgsave(conn, timeout=30):
    assert conn("BGSAVE") == b"+Background saving started\r\n"
    deadline = time.monotonic() + timeout
    while b"rdb_bgsave_in_progress:0" not in conn("INFO", "persistence"):
        assert time.monotonic() < deadline, "snapshot did not finish"
        time.sleep(0.02)
    assert b"rdb_last_bgsave_status:ok" in conn("INFO", "persistence")


def fill_sets(c):
    """Sets of every kind, changed by every writing set command."""
    assert c("SADD", "ints", *range(-50, 50)) == integer(100)
    assert c("SADD", "bounds", "-9223372036854775808", "9223372036854775807", "0") == integer(3)
    assert c("SADD", "strs", *["s%d" % i for i in range(100)]) == integer(100)
    assert c("SADD", "bigints", *range(1000)) == integer(1000)          # hashtable
    assert c("SADD", "binary", b"", b"\x00", b"\r\n", b"a\x00b", b"\xff" * 300) == integer(5)
    assert c("SADD", "noncanon", "007", "-0", "+1", " 1") == integer(4)
    assert c("SADD", "mixed", "1", "2", "x") == integer(3)
    assert c("SREM", "mixed", "x") == integer(1)   # a hashtable of integers
    assert c("SADD", "ttl_ints", "1", "2") == integer(2)
    assert c("PEXPIRE", "ttl_ints", "500000") == integer(1)
    assert c("SADD", "ttl_strs", "a", "b") == integer(2)
    assert c("PEXPIRE", "ttl_strs", "600000") == integer(1)
    assert c("SREM", "strs", "s0", "s1") == integer(2)
    elems(c("SPOP", "ints", "10"), b"*")
    popped = parse(c("SPOP", "strs"))
    elems(c("SPOP", "bigints", "300"), b"*")
    # a member SPOP left (it takes one at random: 1 time in 98, s5)
    assert c("SMOVE", "strs", "moved", "s6" if popped == b"s5" else "s5") == integer(1)
    assert c("SMOVE", "ints", "strs", "0") in (integer(0), integer(1))
    assert c("SINTERSTORE", "inter", "ints", "bigints") != integer(0)
    assert c("SUNIONSTORE", "union", "ints", "strs", "binary") != integer(0)
    assert c("SDIFFSTORE", "diff", "bigints", "ints") != integer(0)
    assert c("SADD", "gone", "1") == integer(1)
    assert c("SPOP", "gone") == bulk("1")
    assert c("SADD", "gone2", "a", "b") == integer(2)
    assert c("SINTERSTORE", "gone2", "ints", "missing") == integer(0)
    assert c("SELECT", "1") == OK
    assert c("SADD", "db1set", "x", "1") == integer(2)
    assert c("SELECT", "0") == OK
    assert c("COPY", "strs", "strs_copy", "DB", "1") == integer(1)


def spop_more(c):
    """More SPOPs after the first restart or snapshot (their choice is random)."""
    elems(c("SPOP", "bigints", "77"), b"*")
    parse(c("SPOP", "ints"))
    elems(c("SPOP", "union", "5"), b"*")
    elems(c("SPOP", "ttl_strs", "1"), b"*")
    assert c("SADD", "late", "z", "1") == integer(2)


def check_restart_keeps(srv, c, before):
    c.close()
    srv = restart(srv)
    try:
        c = Conn(srv)
        wait_loaded(c)
        after = snapshot_state(c)
        assert set(after) == set(before)
        for k in before:
            t, value, enc, has_ttl = before[k]
            assert after[k][:2] == (t, value), k
            assert after[k][3] == has_ttl, k
            if k[1] != b"mixed":   # a snapshot stores members, not the encoding
                assert after[k][2] == enc, k
        assert 0 < int(c("PTTL", "ttl_ints")[1:-2]) <= 500000
    except BaseException:
        srv.stop()  # the caller only knows the server it passed in
        raise
    return srv, c


@engram_only
def test_sets_survive_restart_from_the_wal():
    srv = Server()
    c = None
    try:
        c = Conn(srv)
        fill_sets(c)
        before = snapshot_state(c)
        assert before[(0, b"ints")][2] == INTSET
        assert before[(0, b"bigints")][2] == HASHTABLE
        assert before[(0, b"mixed")][2] == HASHTABLE
        srv, c = check_restart_keeps(srv, c, before)
        assert encoding(c, "mixed") == HASHTABLE   # replayed: SADD x, SREM x
        spop_more(c)
        before = snapshot_state(c)
        srv, c = check_restart_keeps(srv, c, before)
    finally:
        if c:
            c.close()
        srv.stop()


@engram_only
def test_sets_survive_restart_from_a_snapshot():
    srv = Server()
    c = None
    try:
        c = Conn(srv)
        fill_sets(c)
        bgsave(c)
        spop_more(c)   # in the WAL after the snapshot
        before = snapshot_state(c)
        srv, c = check_restart_keeps(srv, c, before)
        assert any(os.scandir(os.path.join(srv.dir, "snap")))
        loaded = c("INFO", "persistence").split(b"snapshot_loaded_keys:", 1)[1]
        assert int(loaded.split(b"\r\n", 1)[0]) >= 15   # the sets came from the snapshot
        assert c("SAVE") == OK   # a snapshot with nothing after it
        before = snapshot_state(c)
        srv, c = check_restart_keeps(srv, c, before)
        assert encoding(c, "ints") == INTSET
        assert encoding(c, "bigints") == HASHTABLE
        assert encoding(c, "noncanon") == HASHTABLE
    finally:
        if c:
            c.close()
        srv.stop()


@engram_only
def test_spop_replays_the_same_members():
    srv = Server()
    c = None
    try:
        c = Conn(srv)
        for name, items in (("a", range(1000)), ("b", ["m%d" % i for i in range(1000)]),
                            ("c", range(100))):
            assert c("SADD", name, *items) == integer(len(items))
        expected = {}
        for _ in range(20):
            elems(c("SPOP", "a", "13"), b"*")
            parse(c("SPOP", "b"))
            elems(c("SPOP", "b", "7"), b"*")
            parse(c("SPOP", "c"))
        for name in ("a", "b", "c"):
            expected[name] = members(c, name)
        assert len(expected["a"]) == 1000 - 20 * 13
        assert len(expected["c"]) == 80
        c.close()
        c = None
        srv = restart(srv)
        c = Conn(srv)
        wait_loaded(c)
        for name in ("a", "b", "c"):
            assert members(c, name) == expected[name], name
    finally:
        if c:
            c.close()
        srv.stop()


@engram_only
def test_store_commands_replay_after_their_sources_expired():
    """The WAL replays SINTERSTORE & co. against the keyspace as it was when
    they ran, not against a clock that has moved past a source's TTL."""
    srv = Server()
    c = None
    try:
        c = Conn(srv)
        assert c("SADD", "a", "1", "2", "x") == integer(3)
        assert c("PEXPIRE", "a", "1000") == integer(1)
        assert c("SADD", "b", "1", "2", "x", "y") == integer(4)
        assert c("SINTERSTORE", "inter", "a", "b") == integer(3)
        assert c("SUNIONSTORE", "union", "a") == integer(3)
        assert c("SDIFFSTORE", "diff", "b", "a") == integer(1)
        assert c("SMOVE", "a", "moved", "x") == integer(1)
        time.sleep(1.5)
        c.close()
        c = None
        srv = restart(srv)
        c = Conn(srv)
        wait_loaded(c)
        assert c("EXISTS", "a") == integer(0)
        assert members(c, "inter") == bset("1", "2", "x")
        assert members(c, "union") == bset("1", "2", "x")
        assert members(c, "diff") == bset("y")
        assert members(c, "moved") == bset("x")
        assert members(c, "b") == bset("1", "2", "x", "y")
    finally:
        if c:
            c.close()
        srv.stop()


def used_memory(conn):
    info = conn("INFO", "memory")
    return int(info.split(b"used_memory:", 1)[1].split(b"\r\n", 1)[0])


def set_workload(c):
    """Every set command once or more, ending with an empty keyspace."""
    c("SADD", "a", *range(100))
    c("SADD", "b", *["m%d" % j for j in range(100)], *range(50))
    c("SADD", "big", *range(600))
    for args in [("SMEMBERS", "a"), ("SMEMBERS", "b"), ("SRANDMEMBER", "b", "-50"),
                 ("SRANDMEMBER", "b", "30"), ("SRANDMEMBER", "a"), ("SPOP", "a", "10"),
                 ("SPOP", "b"), ("SPOP", "big", "3"), ("SINTER", "a", "b"), ("SUNION", "a", "b"),
                 ("SDIFF", "b", "a"), ("SINTERCARD", "2", "a", "b", "LIMIT", "5"),
                 ("SINTERSTORE", "d1", "a", "b"), ("SUNIONSTORE", "d2", "a", "b", "big"),
                 ("SDIFFSTORE", "d3", "b", "a"), ("SMOVE", "b", "a", "m1"),
                 ("SMOVE", "a", "n", "1"),
                 ("SREM", "b", "m2", "m3"), ("SSCAN", "b", "0", "MATCH", "m*", "COUNT", "5"),
                 ("SSCAN", "a", "0"), ("SISMEMBER", "b", "m5"), ("SMISMEMBER", "a", "1", "x"),
                 ("SCARD", "b"), ("SADD", "b", "7"), ("SADD", "a", "new")]:
        assert c(*args)[:1] != b"-", args
    assert c("MULTI") == OK
    for q in (("SADD", "a", "zz"), ("SPOP", "b", "5"), ("SINTERSTORE", "d1", "a", "big"),
              ("INCR", "b")):
        c(*q)
    assert c("EXEC").startswith(b"-EXECABORT")
    assert c("COPY", "b", "bc") == integer(1)
    assert c("RENAME", "bc", "bd") == OK
    c("DEL", "a", "b", "big", "d1", "d2", "d3", "n", "bd")
    assert c("DBSIZE") == integer(0)


@engram_only
def test_set_commands_leak_nothing(c):
    """Leaks in a server that the tests SIGKILL are invisible to ASan: watch
    used_memory instead. Some buffer grows once, by a few KB, at a random
    early round; a leak grows in every window, so one of two windows of 60
    rounds must stay flat (a leak of one 16-byte block per round is 960)."""
    for _ in range(40):
        set_workload(c)
    marks = [used_memory(c)]
    for _ in range(2):
        for _ in range(60):
            set_workload(c)
        marks.append(used_memory(c))
    growth = [marks[1] - marks[0], marks[2] - marks[1]]
    assert min(growth) < 512, growth


@engram_only
def test_rolled_back_exec_leaves_nothing_in_the_wal():
    srv = Server()
    c = None
    try:
        c = Conn(srv)
        assert c("SADD", "s", "1", "2", "3") == integer(3)
        assert c("SET", "str", "v") == OK
        assert c("MULTI") == OK
        for q in (("SPOP", "s", "2"), ("SADD", "s", "x"), ("SADD", "t", "y"), ("INCR", "str")):
            assert c(*q) == b"+QUEUED\r\n"
        assert c("EXEC").startswith(b"-EXECABORT Transaction rolled back: command 4 (INCR)")
        c.close()
        c = None
        srv = restart(srv)
        c = Conn(srv)
        wait_loaded(c)
        assert c("SMEMBERS", "s") == agg(b"*", ["1", "2", "3"])
        assert encoding(c, "s") == INTSET
        assert c("EXISTS", "t") == integer(0)
    finally:
        if c:
            c.close()
        srv.stop()
