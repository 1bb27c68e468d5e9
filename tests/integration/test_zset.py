"""
Sorted sets: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT
ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX
ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION ZUNIONSTORE ZINTER ZINTERSTORE
ZINTERCARD ZDIFF ZDIFFSTORE ZSCAN, the blocking BZPOPMIN BZPOPMAX BZMPOP,
the two encodings (listpack, skiplist) and CONFIG zset-max-listpack-*, and
sorted sets seen by the keyspace commands (TYPE, SCAN TYPE, OBJECT ENCODING,
RENAME, MOVE, COPY).

Every expectation in the Redis-compatible part was checked against Redis
7.0.15 (ENGRAM_TEST_REDIS=1). Replies are compared byte for byte through raw
sockets, in RESP2 and RESP3, because the reply shape is part of the
contract: a score is a bulk string in RESP2 and a double (`,`) in RESP3,
except in ZSCAN (bulk strings in both); WITHSCORES replies are flat in RESP2
and [member, score] pairs in RESP3; ZPOPMIN without a count is a flat pair
even in RESP3, with a count it is nested pairs; BZPOPMIN is a flat triple.

Scores are printed as Redis 7.0 prints them: "%.17g" (0.1 is
"0.10000000000000001"), "inf" and "-inf". Redis 7.0 stores a listpack's
scores as text made by d2string(), which has two visible consequences that
engram must copy: -0 becomes 0 in a listpack (but not in a skiplist), and
ZSCAN of a listpack prints an integral score in [-2^62, 2^62] as an integer
("100000000000000000", not "1e+17").

Other Redis 7.0 details pinned down here: a score bound (ZRANGE BYSCORE,
ZCOUNT, ...) is read by a bare strtod(), so "", "(" and " 1" are accepted
and 1e400 is inf; the range arguments are parsed before the key is looked
up, but ZUNION & co. check the types of their inputs before their options;
ZUNION/ZINTER aggregate the inputs smallest first, and in ZINTER a weighted
score that is NaN (inf * 0) counts as 0 only for the first input (in ZUNION,
for every input); by rank, ZRANGE takes LIMIT only with a count of -1.

Notes
  * ZRANGEBYLEX & co. on a set whose scores differ are unspecified in Redis
    (the result depends on its skiplist walk); the lex tests use one score.
  * Not tested, on purpose: ZRANDMEMBER with a huge negative count that
    passes the range check (Redis 7.0 tries to build the whole reply and
    runs out of memory).
  * Blocking tests use several raw connections: a client sends its
    blocking command and the test waits until INFO reports it blocked
    (wait_blocked()) before another client acts, so the order of events does
    not depend on sleeps.
  * test_random_operations_against_a_model runs a few thousand seeded
    random commands against a Python model of the sorted sets (values,
    encodings, reply bytes); test_random_differential_against_redis sends
    the same random commands to engram and to a real redis-server started
    for the test and compares the raw replies (engram runs only, when
    /usr/bin/redis-server exists). Both run with a low
    zset-max-listpack-entries so both encodings are exercised.
  * The last parts are engram only: rollback of a failed EXEC that touched
    sorted sets (docs/transactions.md), sorted sets surviving a restart
    through WAL replay and through a snapshot with bit-exact scores, and a
    used_memory leak check.
"""
import math
import os
import random
import shutil
import time

import pytest

import conftest
from conftest import Server, encode_command
from rawconn import (Conn, arity, array, block, blocked_count, bulk, c, c2, c3, conns,
                     hello3, integer, wait_blocked)  # noqa: F401 (fixtures)

cmd = encode_command

OK = b"+OK\r\n"
QUEUED = b"+QUEUED\r\n"
NIL = b"$-1\r\n"
NIL_ARRAY = b"*-1\r\n"
NULL3 = b"_\r\n"
EMPTY = b"*0\r\n"
EMPTY_SCAN = b"*2\r\n$1\r\n0\r\n*0\r\n"
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
NOT_INT = b"-ERR value is not an integer or out of range\r\n"
NOT_FLOAT = b"-ERR value is not a valid float\r\n"
NAN_SCORE = b"-ERR resulting score is not a number (NaN)\r\n"
SYNTAX = b"-ERR syntax error\r\n"
MINMAX_FLOAT = b"-ERR min or max is not a float\r\n"
MINMAX_LEX = b"-ERR min or max not valid string range item\r\n"
LIMIT_RANK = (b"-ERR syntax error, LIMIT is only supported in combination with either "
              b"BYSCORE or BYLEX\r\n")
WITHSCORES_LEX = b"-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
XX_NX = b"-ERR XX and NX options at the same time are not compatible\r\n"
GT_LT_NX = b"-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
INCR_PAIR = b"-ERR INCR option supports a single increment-element pair\r\n"
MUST_BE_POSITIVE = b"-ERR value is out of range, must be positive\r\n"
NUMKEYS = b"-ERR numkeys should be greater than 0\r\n"
COUNT_POSITIVE = b"-ERR count should be greater than 0\r\n"
WEIGHT_FLOAT = b"-ERR weight value is not a float\r\n"
LIMIT_NEG = b"-ERR LIMIT can't be negative\r\n"
INVALID_CURSOR = b"-ERR invalid cursor\r\n"
TIMEOUT_NOT_FLOAT = b"-ERR timeout is not a float or out of range\r\n"
TIMEOUT_NEGATIVE = b"-ERR timeout is negative\r\n"
LISTPACK = b"$8\r\nlistpack\r\n"
SKIPLIST = b"$8\r\nskiplist\r\n"

ENTRIES_DEFAULT = 128
VALUE_DEFAULT = 64
I64_MAX = 9223372036854775807
I64_MIN = -9223372036854775808

# How long a test waits to be sure that nothing arrives.


def at_least_one_key(name):
    return b"-ERR at least 1 input key is needed for '%s' command\r\n" % name.encode()


def dbl(s):
    """A RESP3 double: s is the score as Redis prints it ("1.5", "inf")."""
    if isinstance(s, bytes):
        s = s.decode()
    return b",%s\r\n" % str(s).encode()


def score(s, resp3=False):
    """A score reply: bulk in RESP2, double in RESP3."""
    return dbl(s) if resp3 else bulk(s)


def ws(*pairs, resp3=False):
    """A WITHSCORES reply of (member, score) pairs: flat in RESP2, pairs in RESP3."""
    if resp3:
        return b"*%d\r\n" % len(pairs) + b"".join(b"*2\r\n" + bulk(m) + dbl(s) for m, s in pairs)
    return b"*%d\r\n" % (2 * len(pairs)) + b"".join(bulk(m) + bulk(s) for m, s in pairs)


def nested(*pairs, resp3=False):
    """[[member, score], ...] (ZMPOP, ZPOPMIN with a count in RESP3)."""
    return b"*%d\r\n" % len(pairs) + b"".join(b"*2\r\n" + bulk(m) + score(s, resp3)
                                              for m, s in pairs)


def flat(*pairs, resp3=False):
    """[member, score, member, score, ...] (ZPOPMIN in RESP2, or without a count)."""
    return b"*%d\r\n" % (2 * len(pairs)) + b"".join(bulk(m) + score(s, resp3) for m, s in pairs)


def popped(key, member, s, resp3=False):
    """The reply of BZPOPMIN/BZPOPMAX: [key, member, score]."""
    return b"*3\r\n" + bulk(key) + bulk(member) + score(s, resp3)


def mpopped(key, *pairs, resp3=False):
    """The reply of ZMPOP/BZMPOP: [key, [[member, score], ...]]."""
    return b"*2\r\n" + bulk(key) + nested(*pairs, resp3=resp3)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

@pytest.fixture
def limits(r):
    """Restores zset-max-listpack-entries/-value after the test."""
    yield
    r.config_set("zset-max-listpack-entries", ENTRIES_DEFAULT)
    r.config_set("zset-max-listpack-value", VALUE_DEFAULT)


def set_limits(conn, entries, value):
    assert conn("CONFIG", "SET", "zset-max-listpack-entries", str(entries)) == OK
    assert conn("CONFIG", "SET", "zset-max-listpack-value", str(value)) == OK


def encoding(conn, key):
    return conn("OBJECT", "ENCODING", key)


def zall(conn, key):
    """ZRANGE key 0 -1 WITHSCORES, raw (RESP2 on a RESP2 connection)."""
    return conn("ZRANGE", key, "0", "-1", "WITHSCORES")


def parse(reply):
    """Parse a raw RESP2/RESP3 reply into Python values (bulk -> bytes,
    integer -> int, double -> float, aggregate -> list, null -> None)."""
    value, end = _parse(reply, 0)
    assert end == len(reply), reply
    return value


def _parse(buf, pos):
    t = buf[pos:pos + 1]
    nl = buf.index(b"\r\n", pos)
    line = buf[pos + 1:nl]
    nxt = nl + 2
    if t == b"+":
        return line, nxt
    if t == b"-":
        raise AssertionError("error reply: %r" % line)
    if t == b":":
        return int(line), nxt
    if t == b",":
        return float(line), nxt
    if t == b"_":
        return None, nxt
    if t == b"$":
        n = int(line)
        if n < 0:
            return None, nxt
        return buf[nxt:nxt + n], nxt + n + 2
    if t in (b"*", b"~", b"%"):
        n = int(line)
        if n < 0:
            return None, nxt
        if t == b"%":
            n *= 2
        out = []
        for _ in range(n):
            v, nxt = _parse(buf, nxt)
            out.append(v)
        return out, nxt
    raise ValueError("bad reply %r" % buf[pos:pos + 40])


def scan_all(conn, key, *opts):
    """Every (member, score string) a full ZSCAN returns, in order, and the
    number of calls it took."""
    cursor, seen, calls = b"0", [], 0
    while True:
        cursor, items = parse(conn("ZSCAN", key, cursor, *opts))
        calls += 1
        seen += list(zip(items[::2], items[1::2]))
        if cursor == b"0":
            return seen, calls
        assert calls < 100000


def fmt(x):
    """A score as Redis 7.0 prints it in a reply."""
    if x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    return "%.17g" % x


# --------------------------------------------------------------------------
# ZADD
# --------------------------------------------------------------------------

def test_zadd_adds_and_updates(c):
    assert c("ZADD", "z", "1", "a", "2", "b") == integer(2)
    assert c("ZADD", "z", "3", "a", "4", "c") == integer(1)    # a updated, c added
    assert zall(c, "z") == ws(("b", "2"), ("a", "3"), ("c", "4"))
    assert c("ZCARD", "z") == integer(3)
    assert c("TYPE", "z") == b"+zset\r\n"
    assert encoding(c, "z") == LISTPACK
    # the same member twice in one call: the last score wins, counted once
    assert c("ZADD", "z", "5", "d", "6", "d") == integer(1)
    assert c("ZSCORE", "z", "d") == bulk("6")
    assert c("ZADD", "z", "1", "a", "1", "a") == integer(0)


def test_zadd_ties_are_ordered_by_member_bytes(c):
    members = [b"b", b"a", b"ab", b"\xff", b"\x00", b"", b"a\x00", b"B", b"\x7f", b"\x80"]
    assert c("ZADD", "z", *[x for m in members for x in (b"0", m)]) == integer(10)
    # memcmp order, a prefix first
    assert c("ZRANGE", "z", "0", "-1") == array(*sorted(members))
    assert c("ZRANK", "z", b"\xff") == integer(9)
    assert c("ZRANK", "z", b"") == integer(0)
    assert c("ZREVRANK", "z", b"\xff") == integer(0)


def test_zadd_binary_members(c):
    members = [b"", b"\x00", b"a\r\nb", b"\xff\xfe\x00\r\n", b"x" * 100000, b"$-1\r\n"]
    for i, m in enumerate(members):
        assert c("ZADD", "z", str(i), m) == integer(1)
    assert c("ZRANGE", "z", "0", "-1") == array(*members)
    for i, m in enumerate(members):
        assert c("ZSCORE", "z", m) == bulk(str(i))
        assert c("ZRANK", "z", m) == integer(i)
    assert encoding(c, "z") == SKIPLIST     # a member over 64 bytes


def test_zadd_ch_counts_changed_scores(c):
    assert c("ZADD", "z", "1", "a", "2", "b") == integer(2)
    assert c("ZADD", "z", "CH", "1", "a", "3", "b", "4", "c") == integer(2)  # b changed, c new
    assert c("ZADD", "z", "ch", "1", "a") == integer(0)
    # the same member set twice to different scores, then back: both count
    assert c("ZADD", "z", "CH", "5", "dup", "6", "dup") == integer(2)
    assert c("ZSCORE", "z", "dup") == bulk("6")


def test_zadd_nx_xx(c):
    assert c("ZADD", "z", "1", "a") == integer(1)
    assert c("ZADD", "z", "NX", "5", "a", "2", "b") == integer(1)
    assert c("ZSCORE", "z", "a") == bulk("1")
    assert c("ZADD", "z", "XX", "5", "a", "3", "c") == integer(0)
    assert c("ZADD", "z", "XX", "CH", "6", "a", "3", "c") == integer(1)
    assert zall(c, "z") == ws(("b", "2"), ("a", "6"))
    assert c("ZADD", "z", "NX", "CH", "7", "a", "8", "zz") == integer(1)
    # XX on a missing key does not create it
    assert c("ZADD", "nokey", "XX", "1", "a") == integer(0)
    assert c("ZADD", "nokey", "XX", "CH", "1", "a") == integer(0)
    assert c("EXISTS", "nokey") == integer(0)


def test_zadd_gt_lt(c):
    assert c("ZADD", "z", "5", "a", "5", "b") == integer(2)
    assert c("ZADD", "z", "GT", "CH", "4", "a", "6", "b") == integer(1)
    assert c("ZADD", "z", "LT", "CH", "4", "a", "7", "b") == integer(1)
    assert zall(c, "z") == ws(("a", "4"), ("b", "6"))
    # new members are added whatever GT/LT say
    assert c("ZADD", "z", "GT", "1", "c") == integer(1)
    assert c("ZADD", "z", "LT", "100", "d") == integer(1)
    # with XX: update only, and only in one direction
    assert c("ZADD", "z", "XX", "GT", "CH", "0", "a", "9", "b", "9", "e") == integer(1)
    assert c("ZADD", "z", "LT", "XX", "CH", "0", "a", "9", "c") == integer(1)
    assert zall(c, "z") == ws(("a", "0"), ("c", "1"), ("b", "9"), ("d", "100"))
    # an equal score is no change
    assert c("ZADD", "z", "GT", "CH", "9", "b") == integer(0)
    assert c("ZADD", "z", "LT", "CH", "9", "b") == integer(0)


def test_zadd_incr(c, c3):
    assert c("ZADD", "z", "INCR", "1.5", "a") == bulk("1.5")
    assert c("ZADD", "z", "INCR", "2", "a") == bulk("3.5")
    assert c("ZADD", "z", "incr", "ch", "-3.5", "a") == bulk("0")
    assert c3("ZADD", "z", "INCR", "1", "a") == dbl("1")
    assert c("ZADD", "z", "INCR", "inf", "a") == bulk("inf")
    assert c("ZADD", "z", "INCR", "inf", "a") == bulk("inf")
    assert c("ZADD", "z", "INCR", "-inf", "a") == NAN_SCORE
    assert c("ZSCORE", "z", "a") == bulk("inf")
    assert c("ZADD", "z", "INCR", "-inf", "b") == bulk("-inf")


@pytest.mark.parametrize("flags,incr,member", [
    (("XX",), "1", "nope"), (("NX",), "1", "a"), (("GT",), "-1", "c"), (("LT",), "1", "c"),
    (("XX", "GT"), "-1", "c"), (("XX", "LT"), "1", "c"), (("XX", "GT"), "1", "nope"),
    (("GT",), "0", "c"), (("LT",), "0", "c"),
])
def test_zadd_incr_that_does_nothing_replies_nil(c, c3, flags, incr, member):
    assert c("ZADD", "z", "1", "a", "5", "c") == integer(2)
    assert c("ZADD", "z", *flags, "INCR", incr, member) == NIL
    assert c3("ZADD", "z", *flags, "INCR", incr, member) == NULL3
    assert c("ZADD", "z", *flags, "CH", "INCR", incr, member) == NIL
    assert zall(c, "z") == ws(("a", "1"), ("c", "5"))


def test_zadd_incr_on_missing_key_with_xx_is_nil(c):
    assert c("ZADD", "nokey", "XX", "INCR", "1", "a") == NIL
    assert c("EXISTS", "nokey") == integer(0)
    assert c("ZADD", "nokey", "GT", "INCR", "2", "a") == bulk("2")
    assert c("ZADD", "nokey2", "NX", "INCR", "-2", "a") == bulk("-2")


def test_zadd_incr_gt_lt_applies_to_the_result(c):
    assert c("ZADD", "z", "5", "a") == integer(1)
    assert c("ZADD", "z", "GT", "INCR", "1", "a") == bulk("6")
    assert c("ZADD", "z", "LT", "INCR", "-2", "a") == bulk("4")
    assert c("ZADD", "z", "GT", "INCR", "0", "a") == NIL    # 4 is not > 4
    assert c("ZSCORE", "z", "a") == bulk("4")


@pytest.mark.parametrize("args,expected", [
    (("NX", "XX", "1", "a"), XX_NX),
    (("nx", "xx", "incr", "ch", "1", "a"), XX_NX),
    (("GT", "LT", "1", "a"), GT_LT_NX),
    (("NX", "GT", "1", "a"), GT_LT_NX),
    (("NX", "LT", "1", "a"), GT_LT_NX),
    (("GT", "LT", "XX", "1", "a"), GT_LT_NX),
    (("INCR", "1", "a", "2", "b"), INCR_PAIR),
    (("1", "a", "2"), SYNTAX),
    (("INCR", "1"), SYNTAX),
    (("CH", "NX", "1"), SYNTAX),
    (("1", "a", "x", "b"), NOT_FLOAT),
    (("nan", "a"), NOT_FLOAT),
    (("FOO", "a"), NOT_FLOAT),           # an unknown option is taken as a score
    (("FOO", "1", "a"), SYNTAX),
])
def test_zadd_errors(c, args, expected):
    assert c("ZADD", "z", "1", "m") == integer(1)
    assert c("ZADD", "z", *args) == expected
    assert c("ZADD", "nokey", *args) == expected
    assert zall(c, "z") == ws(("m", "1"))
    assert c("EXISTS", "nokey") == integer(0)


def test_zadd_error_order(c):
    assert c("SET", "s", "v") == OK
    # option and score errors come before the type check
    assert c("ZADD", "s", "NX", "XX", "1", "a") == XX_NX
    assert c("ZADD", "s", "x", "a") == NOT_FLOAT
    assert c("ZADD", "s", "1", "a") == WRONGTYPE
    assert c("ZADD", "s", "XX", "1", "a") == WRONGTYPE
    # a bad score anywhere adds nothing
    assert c("ZADD", "z", "1", "a", "2", "b", "x", "c") == NOT_FLOAT
    assert c("EXISTS", "z") == integer(0)


def test_zadd_arity(c):
    assert c("ZADD") == arity("zadd")
    assert c("ZADD", "z") == arity("zadd")
    assert c("ZADD", "z", "1") == arity("zadd")
    assert c("ZADD", "z", "CH") == arity("zadd")


@pytest.mark.parametrize("bad", ["nan", "NaN", "-nan", "x", "", " 1", "1 ", "1.5.5", "1e",
                                 "1e400", "-1e400", "1e-400", "--1", "1,5", "inf1", "0x"])
def test_invalid_floats(c, bad):
    assert c("ZADD", "z", "1", "a") == integer(1)
    assert c("ZADD", "z", bad, "a") == NOT_FLOAT
    assert c("ZINCRBY", "z", bad, "a") == NOT_FLOAT
    assert c("ZADD", "z", "INCR", bad, "a") == NOT_FLOAT
    assert c("ZSCORE", "z", "a") == bulk("1")


@pytest.mark.parametrize("good,printed", [
    ("+inf", "inf"), ("INF", "inf"), ("Infinity", "inf"), ("-infinity", "-inf"),
    ("-INF", "-inf"), (".5", "0.5"), ("5.", "5"), ("+5", "5"), ("0x10", "16"),
    ("1E3", "1000"), ("1e-3", "0.001"), ("00012", "12"), ("1e308", "1e+308"),
    ("-1.5e-7", "-1.4999999999999999e-07"), ("4.9e-324", "4.9406564584124654e-324"),
])
def test_accepted_float_forms(c, good, printed):
    assert c("ZADD", "z", good, "a") == integer(1)
    assert c("ZSCORE", "z", "a") == bulk(printed)
    assert c("ZINCRBY", "y", good, "a") == bulk(printed)


# --------------------------------------------------------------------------
# Score formatting: RESP2 bulk and RESP3 double, both encodings
# --------------------------------------------------------------------------

SCORES = [
    ("0.1", "0.10000000000000001"),
    ("inf", "inf"),
    ("-inf", "-inf"),
    ("1e-300", "1e-300"),
    ("-1e300", "-1.0000000000000001e+300"),
    ("123456789012345678", "1.2345678901234568e+17"),
    ("1e17", "1e+17"),
    ("9223372036854775808", "9.2233720368547758e+18"),
    ("4503599627370497", "4503599627370497"),
    ("3", "3"),
    ("-3", "-3"),
    ("1.5", "1.5"),
    ("0", "0"),
    ("2.5e-5", "2.5000000000000001e-05"),
    ("0.30000000000000004", "0.30000000000000004"),
    ("1e21", "1e+21"),
    ("100000000000000000000", "1e+20"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
]


@pytest.mark.parametrize("kind", ["listpack", "skiplist"])
@pytest.mark.parametrize("given,printed", SCORES)
def test_score_formatting(c, c3, kind, given, printed):
    if kind == "skiplist":
        assert c("ZADD", "z", "7.25", "x" * 65) == integer(1)
    assert c("ZADD", "z", given, "m") == integer(1)
    assert encoding(c, "z") == (LISTPACK if kind == "listpack" else SKIPLIST)
    assert c("ZSCORE", "z", "m") == bulk(printed)
    assert c3("ZSCORE", "z", "m") == dbl(printed)
    assert c("ZMSCORE", "z", "m", "no") == b"*2\r\n" + bulk(printed) + NIL
    assert c3("ZMSCORE", "z", "m", "no") == b"*2\r\n" + dbl(printed) + NULL3
    assert c("ZRANGEBYSCORE", "z", given, given, "WITHSCORES") == ws(("m", printed))
    assert c3("ZRANGEBYSCORE", "z", given, given, "WITHSCORES") == ws(("m", printed),
                                                                       resp3=True)
    assert c("ZINCRBY", "z", "0", "m") == bulk(printed)
    assert c3("ZINCRBY", "z", "0", "m") == dbl(printed)


def test_incremented_scores_are_exact(c, c3):
    assert c("ZINCRBY", "z", "0.1", "m") == bulk("0.10000000000000001")
    assert c("ZINCRBY", "z", "0.2", "m") == bulk("0.30000000000000004")
    assert c3("ZSCORE", "z", "m") == dbl("0.30000000000000004")
    assert c("ZINCRBY", "z", "-0.30000000000000004", "m") == bulk("0")
    assert c("ZADD", "z", "1e-300", "t") == integer(1)
    assert c("ZINCRBY", "z", "1e-300", "t") == bulk("2.0000000000000001e-300")
    assert c("ZADD", "z", "9007199254740992", "big") == integer(1)
    assert c("ZINCRBY", "z", "1", "big") == bulk("9007199254740992")   # rounds
    assert c("ZINCRBY", "z", "2", "big") == bulk("9007199254740994")


def test_minus_zero_in_a_listpack_is_zero(c, c3):
    # Redis 7.0 stores a listpack's scores as text made by d2string(), which
    # prints -0.0 as "0"; the reply of the command itself still says -0
    assert c("ZADD", "z", "-0", "a", "0", "b") == integer(2)
    assert encoding(c, "z") == LISTPACK
    assert c("ZSCORE", "z", "a") == bulk("0")
    assert c3("ZSCORE", "z", "a") == dbl("0")
    assert zall(c, "z") == ws(("a", "0"), ("b", "0"))
    assert c("ZADD", "z", "INCR", "-0", "new") == bulk("-0")
    assert c("ZSCORE", "z", "new") == bulk("0")
    assert c("ZINCRBY", "z", "-0", "new2") == bulk("-0")
    assert c3("ZINCRBY", "z", "-0", "new3") == dbl("-0")
    assert c("ZSCORE", "z", "new2") == bulk("0")
    # 0 + -0 is 0
    assert c("ZINCRBY", "z", "-0", "a") == bulk("0")
    assert c("ZRANGESTORE", "d", "z", "0", "-1") == integer(5)
    assert c("ZSCORE", "d", "a") == bulk("0")
    assert c("ZSCAN", "z", "0", "MATCH", "a") == b"*2\r\n$1\r\n0\r\n" + array("a", "0")


def test_minus_zero_in_a_skiplist_stays(c, c3):
    assert c("ZADD", "z", "1", "x" * 65) == integer(1)
    assert c("ZADD", "z", "-0", "a", "0", "b") == integer(2)
    assert encoding(c, "z") == SKIPLIST
    assert c("ZSCORE", "z", "a") == bulk("-0")
    assert c3("ZSCORE", "z", "a") == dbl("-0")
    # -0 and 0 are equal scores: the members order by bytes
    assert c("ZRANGE", "z", "0", "1", "WITHSCORES") == ws(("a", "-0"), ("b", "0"))
    assert c("ZCOUNT", "z", "0", "0") == integer(2)
    assert c("ZCOUNT", "z", "(-0", "+inf") == integer(1)
    assert c("ZADD", "z", "CH", "0", "a") == integer(0)      # no change: -0 == 0
    assert c("ZSCORE", "z", "a") == bulk("-0")
    assert c("ZINCRBY", "z", "-0", "a") == bulk("-0")
    # a listpack converted to a skiplist keeps the 0 it stored
    assert c("ZADD", "y", "-0", "a") == integer(1)
    assert c("ZADD", "y", "1", "x" * 65) == integer(1)
    assert encoding(c, "y") == SKIPLIST
    assert c("ZSCORE", "y", "a") == bulk("0")


def test_minus_zero_new_key_with_a_long_member_is_a_skiplist(c):
    # The member is too long for a listpack, so the key is a skiplist from
    # its first member on, and its -0 stays (Redis converts before adding)
    assert c("ZADD", "z", "-0", "x" * 65) == integer(1)
    assert encoding(c, "z") == SKIPLIST
    assert c("ZSCORE", "z", "x" * 65) == bulk("-0")
    # ZRANGESTORE adds in rank order to a destination that starts packed
    assert c("ZRANGESTORE", "d", "z", "0", "-1") == integer(1)
    assert c("ZSCORE", "d", "x" * 65) == bulk("-0")


def test_minus_zero_through_zrangestore_follows_the_destination_size(c):
    # Redis sizes the destination for the result: more members than a
    # listpack takes make a skiplist from the first member on (-0 kept);
    # fewer start packed (-0 stored as 0)
    args = ["ZADD", "s", "-0", "x" * 70]
    for i in range(130):
        args += ["-0", "m%03d" % i]
    assert c(*args) == integer(131)
    assert c("ZSCORE", "s", "m000") == bulk("-0")
    assert c("ZRANGESTORE", "d", "s", "0", "-1") == integer(131)
    assert encoding(c, "d") == SKIPLIST
    assert c("ZSCORE", "d", "m000") == bulk("-0")
    assert c("ZRANGESTORE", "d2", "s", "0", "1") == integer(2)
    assert encoding(c, "d2") == LISTPACK
    assert c("ZSCORE", "d2", "m000") == bulk("0")


def test_lex_range_on_mixed_scores_is_empty_when_the_ends_miss(c):
    # Redis leaves lex ranges over different scores unspecified, but first
    # checks the last member against min and the first against max, and
    # answers empty when either misses (members outside the range were
    # returned here before)
    c("ZADD", "y", "0", "c", "1.5", "a")
    assert c("ZRANGEBYLEX", "y", "(b", "(m") == b"*0\r\n"
    assert c("ZLEXCOUNT", "y", "(b", "(m") == integer(0)
    assert c("ZRANGE", "y", "(m", "(b", "BYLEX", "REV") == b"*0\r\n"
    assert c("ZRANGESTORE", "d", "y", "(b", "(m", "BYLEX") == integer(0)
    assert c("ZREMRANGEBYLEX", "y", "(b", "(m") == integer(0)
    c("ZADD", "y3", "1", "z", "2", "a", "3", "m")
    assert c("ZRANGEBYLEX", "y3", "[b", "[n") == b"*0\r\n"
    assert c("ZRANGEBYLEX", "y3", "-", "+") == array("z", "a", "m")


def test_minus_zero_in_union_inter_diff(c, c3):
    # The result is computed as a skiplist: the reply keeps -0 (0 * -1); a
    # stored result is packed when it fits, and a listpack holds 0
    c("ZADD", "q", "0", "x", "0", "y")
    assert c("ZUNION", "1", "q", "WEIGHTS", "-1", "WITHSCORES") == ws(("x", "-0"), ("y", "-0"))
    assert c3("ZINTER", "1", "q", "WEIGHTS", "-1", "WITHSCORES").count(b",-0\r\n") == 2
    assert c("ZINTER", "2", "q", "q", "WEIGHTS", "-1", "-1", "WITHSCORES") == \
        ws(("x", "-0"), ("y", "-0"))
    assert c("ZUNIONSTORE", "s", "1", "q", "WEIGHTS", "-1") == integer(2)
    assert encoding(c, "s") == LISTPACK
    assert zall(c, "s") == ws(("x", "0"), ("y", "0"))
    # A result that does not fit a listpack stays a skiplist, -0 included
    c("ZADD", "big", "1", "m" * 70, "-0", "x")
    assert c("ZSCORE", "big", "x") == bulk("-0")
    assert c("ZUNIONSTORE", "u", "1", "big") == integer(2)
    assert encoding(c, "u") == SKIPLIST
    assert c("ZSCORE", "u", "x") == bulk("-0")
    assert c("ZDIFF", "1", "big", "WITHSCORES") == ws(("x", "-0"), ("m" * 70, "1"))
    # ... and a small one from a skiplist input is packed, its -0 made 0
    assert c("ZINTERSTORE", "i", "2", "big", "q") == integer(1)
    assert encoding(c, "i") == LISTPACK
    assert c("ZSCORE", "i", "x") == bulk("0")


@pytest.mark.parametrize("given,printed", [
    ("1e17", "100000000000000000"),
    ("123456789012345678", "123456789012345680"),
    ("4611686018427387904", "4611686018427387904"),       # 2^62
    ("-4611686018427387904", "-4611686018427387904"),
    ("5e18", "5e+18"),
    ("-9223372036854775808", "-9.2233720368547758e+18"),
    ("3", "3"),
    ("-0", "0"),
    ("0.1", "0.10000000000000001"),
    ("1e-300", "1e-300"),
    ("inf", "inf"),
    ("-inf", "-inf"),
])
def test_zscan_listpack_prints_integral_scores_as_integers(c, c3, given, printed):
    # ZSCAN of a listpack returns the stored text of each score (d2string():
    # an integral value in [-2^62, 2^62] as an integer, else "%.17g")
    assert c("ZADD", "z", given, "m") == integer(1)
    assert c("ZSCAN", "z", "0") == b"*2\r\n$1\r\n0\r\n" + array("m", printed)
    assert c3("ZSCAN", "z", "0") == b"*2\r\n$1\r\n0\r\n" + array("m", printed)


@pytest.mark.parametrize("given,printed", [
    ("1e17", "1e+17"),
    ("123456789012345678", "1.2345678901234568e+17"),
    ("-0", "-0"),
    ("0.1", "0.10000000000000001"),
    ("3", "3"),
    ("inf", "inf"),
])
def test_zscan_skiplist_prints_scores_with_17_digits(c, c3, given, printed):
    assert c("ZADD", "z", "0", "x" * 65) == integer(1)
    assert c("ZADD", "z", given, "m") == integer(1)
    assert c("ZSCAN", "z", "0", "MATCH", "m") == b"*2\r\n$1\r\n0\r\n" + array("m", printed)
    assert c3("ZSCAN", "z", "0", "MATCH", "m") == b"*2\r\n$1\r\n0\r\n" + array("m", printed)


# --------------------------------------------------------------------------
# ZINCRBY
# --------------------------------------------------------------------------

def test_zincrby(c, c3):
    assert c("ZINCRBY", "z", "2", "a") == bulk("2")      # creates the key
    assert c("ZINCRBY", "z", "-5.5", "a") == bulk("-3.5")
    assert c3("ZINCRBY", "z", "1", "b") == dbl("1")
    assert zall(c, "z") == ws(("a", "-3.5"), ("b", "1"))
    assert c("ZINCRBY", "z", "inf", "a") == bulk("inf")
    assert c("ZINCRBY", "z", "-inf", "a") == NAN_SCORE
    assert c("ZINCRBY", "z", "inf", "a") == bulk("inf")
    assert c("ZINCRBY", "z", "-inf", "c") == bulk("-inf")
    assert c("ZINCRBY", "z", "inf", "c") == NAN_SCORE
    assert c("ZSCORE", "z", "c") == bulk("-inf")
    # a NaN result on a missing key creates nothing
    assert c("ZINCRBY", "nokey", "nan", "a") == NOT_FLOAT
    assert c("EXISTS", "nokey") == integer(0)


def test_zincrby_errors(c):
    assert c("ZINCRBY", "z", "x", "a") == NOT_FLOAT
    # Redis's ZINCRBY is ZADD INCR: ZADD's flag words are flags there,
    # which leaves one argument for a score and member
    for flag in ("NX", "xx", "GT", "lt", "CH", "incr"):
        assert c("ZINCRBY", "z", flag, "a") == SYNTAX
        assert c("ZINCRBY", "z", flag, "1") == SYNTAX
    assert c("ZINCRBY", "z", "1") == arity("zincrby")
    assert c("ZINCRBY", "z", "1", "a", "b") == arity("zincrby")
    assert c("SET", "s", "v") == OK
    assert c("ZINCRBY", "s", "x", "a") == NOT_FLOAT
    assert c("ZINCRBY", "s", "1", "a") == WRONGTYPE
    assert c("EXISTS", "z") == integer(0)


# --------------------------------------------------------------------------
# ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK
# --------------------------------------------------------------------------

def test_zrem(c):
    assert c("ZADD", "z", "1", "a", "2", "b", "3", "c") == integer(3)
    assert c("ZREM", "z", "a", "nope", "a") == integer(1)
    assert c("ZREM", "z", "nope") == integer(0)
    assert c("ZREM", "nokey", "a") == integer(0)
    assert c("ZREM", "z", "b", "c") == integer(2)
    assert c("EXISTS", "z") == integer(0)            # the empty set is gone
    assert c("ZREM", "z") == arity("zrem")
    assert c("SET", "s", "v") == OK
    assert c("ZREM", "s", "a") == WRONGTYPE


def test_lookups(c, c3):
    assert c("ZADD", "z", "1", "a", "2", "b", "3", "c") == integer(3)
    assert c("ZCARD", "z") == integer(3)
    assert c("ZCARD", "nokey") == integer(0)
    assert c("ZSCORE", "z", "b") == bulk("2")
    assert c("ZSCORE", "z", "x") == NIL
    assert c("ZSCORE", "nokey", "x") == NIL
    assert c3("ZSCORE", "z", "x") == NULL3
    assert c("ZMSCORE", "z", "a", "x", "c") == b"*3\r\n" + bulk("1") + NIL + bulk("3")
    assert c("ZMSCORE", "nokey", "a", "b") == b"*2\r\n" + NIL + NIL
    assert c3("ZMSCORE", "z", "a", "x") == b"*2\r\n" + dbl("1") + NULL3
    assert c3("ZMSCORE", "nokey", "a") == b"*1\r\n" + NULL3
    assert c("ZRANK", "z", "a") == integer(0)
    assert c("ZRANK", "z", "c") == integer(2)
    assert c("ZREVRANK", "z", "a") == integer(2)
    assert c("ZREVRANK", "z", "c") == integer(0)
    assert c("ZRANK", "z", "x") == NIL
    assert c("ZREVRANK", "nokey", "x") == NIL
    assert c3("ZRANK", "z", "x") == NULL3
    assert c3("ZREVRANK", "nokey", "x") == NULL3


def test_lookups_arity_and_wrongtype(c):
    assert c("SET", "s", "v") == OK
    for args in (("ZCARD", "s"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"),
                 ("ZRANK", "s", "a"), ("ZREVRANK", "s", "a")):
        assert c(*args) == WRONGTYPE, args
    assert c("ZCARD") == arity("zcard")
    assert c("ZCARD", "a", "b") == arity("zcard")
    assert c("ZSCORE", "z") == arity("zscore")
    assert c("ZSCORE", "z", "a", "b") == arity("zscore")
    assert c("ZMSCORE", "z") == arity("zmscore")
    assert c("ZRANK", "z", "a", "WITHSCORE") == arity("zrank")   # 7.2 syntax
    assert c("ZREVRANK", "z") == arity("zrevrank")


def test_ranks_in_a_long_set(c):
    n = 1000
    assert c("ZADD", "z", *[x for i in range(n) for x in (str(i // 3), "m%04d" % i)]) == \
        integer(n)
    assert encoding(c, "z") == SKIPLIST
    for i in range(0, n, 37):
        assert c("ZRANK", "z", "m%04d" % i) == integer(i)
        assert c("ZREVRANK", "z", "m%04d" % i) == integer(n - 1 - i)
    assert c("ZRANK", "z", "m0999") == integer(n - 1)


# --------------------------------------------------------------------------
# Ranges: ZRANGE (by rank, BYSCORE, BYLEX, REV, LIMIT, WITHSCORES) and the
# older forms, ZCOUNT, ZLEXCOUNT
# --------------------------------------------------------------------------

FIVE = ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")


@pytest.fixture(params=["listpack", "skiplist"])
def five(request, c):
    """z = a:1 b:2 c:3 d:4 e:5, in either encoding."""
    if request.param == "skiplist":
        assert c("CONFIG", "SET", "zset-max-listpack-entries", "0") == OK
    try:
        assert c(*FIVE) == integer(5)
    finally:
        assert c("CONFIG", "SET", "zset-max-listpack-entries", str(ENTRIES_DEFAULT)) == OK
    assert encoding(c, "z") == (LISTPACK if request.param == "listpack" else SKIPLIST)
    return request.param


@pytest.mark.parametrize("start,stop,expected", [
    ("0", "-1", "abcde"), ("-100", "100", "abcde"), ("1", "3", "bcd"), ("-2", "-1", "de"),
    ("2", "1", ""), ("-1", "-2", ""), ("5", "10", ""), ("4", "4", "e"), ("-5", "-5", "a"),
    ("-6", "0", "a"), ("0", "-6", ""), ("3", "-3", ""),
    (str(I64_MAX), str(I64_MIN), ""), (str(I64_MIN), str(I64_MAX), "abcde"),
    (str(I64_MIN), str(I64_MIN), ""), (str(I64_MAX), str(I64_MAX), ""),
])
def test_zrange_by_rank(c, c3, five, start, stop, expected):
    scores = {m: str(i + 1) for i, m in enumerate("abcde")}
    assert c("ZRANGE", "z", start, stop) == array(*expected)
    assert c("ZRANGE", "z", start, stop, "REV") == array(*expected.translate(
        str.maketrans("abcde", "edcba")))
    assert c("ZREVRANGE", "z", start, stop) == array(*expected.translate(
        str.maketrans("abcde", "edcba")))
    assert c("ZRANGE", "z", start, stop, "WITHSCORES") == ws(*[(m, scores[m])
                                                                for m in expected])
    assert c3("ZRANGE", "z", start, stop, "WITHSCORES") == ws(*[(m, scores[m])
                                                                 for m in expected], resp3=True)
    assert c3("ZRANGE", "z", start, stop) == array(*expected)


@pytest.mark.parametrize("lo,hi,expected", [
    ("-inf", "+inf", "abcde"), ("-inf", "inf", "abcde"), ("(1", "(4", "bc"), ("1", "4", "abcd"),
    ("(1", "4", "bcd"), ("1", "(4", "abc"), ("3", "3", "c"), ("(3", "3", ""), ("3", "(3", ""),
    ("(3", "(3", ""), ("4", "2", ""), ("+inf", "-inf", ""), ("-inf", "-inf", ""),
    ("(-inf", "(+inf", "abcde"), ("2.5", "3.5", "c"), ("(0", "(1.0000001", "a"),
    ("5", "+inf", "e"), ("(5", "+inf", ""), ("-1e300", "1e300", "abcde"), ("0x2", "0x3", "bc"),
])
def test_zrange_byscore(c, c3, five, lo, hi, expected):
    rev = expected[::-1]
    scores = {m: str(i + 1) for i, m in enumerate("abcde")}
    assert c("ZRANGE", "z", lo, hi, "BYSCORE") == array(*expected)
    assert c("ZRANGEBYSCORE", "z", lo, hi) == array(*expected)
    assert c("ZRANGE", "z", hi, lo, "BYSCORE", "REV") == array(*rev)
    assert c("ZREVRANGEBYSCORE", "z", hi, lo) == array(*rev)
    assert c("ZCOUNT", "z", lo, hi) == integer(len(expected))
    assert c("ZRANGEBYSCORE", "z", lo, hi, "WITHSCORES") == ws(*[(m, scores[m])
                                                                  for m in expected])
    assert c3("ZREVRANGEBYSCORE", "z", hi, lo, "WITHSCORES") == ws(*[(m, scores[m])
                                                                      for m in rev], resp3=True)
    # without REV the bounds are not swapped: max first is an empty range
    if expected and lo != hi:
        assert c("ZRANGE", "z", hi, lo, "BYSCORE") == EMPTY


@pytest.mark.parametrize("lo,hi,expected", [
    ("-", "+", "abcde"), ("[a", "[c", "abc"), ("(a", "(c", "b"), ("[a", "(c", "ab"),
    ("(a", "[c", "bc"), ("[b", "[b", "b"), ("(b", "[b", ""), ("[c", "[a", ""), ("+", "-", ""),
    ("-", "-", ""), ("+", "+", ""), ("[", "+", "abcde"), ("(", "+", "abcde"), ("-", "[", ""),
    ("-", "(", ""), ("[aa", "[cc", "bc"), ("(aa", "(d", "bc"), ("[e", "+", "e"),
    ("(e", "+", ""), ("-", "[a", "a"), ("-", "(a", ""), ("[A", "[z", "abcde"),
])
def test_zrange_bylex(c, c3, lo, hi, expected):
    assert c("ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e") == integer(5)
    rev = expected[::-1]
    assert c("ZRANGE", "z", lo, hi, "BYLEX") == array(*expected)
    assert c("ZRANGEBYLEX", "z", lo, hi) == array(*expected)
    assert c("ZRANGE", "z", hi, lo, "BYLEX", "REV") == array(*rev)
    assert c("ZREVRANGEBYLEX", "z", hi, lo) == array(*rev)
    assert c3("ZREVRANGEBYLEX", "z", hi, lo) == array(*rev)
    assert c("ZLEXCOUNT", "z", lo, hi) == integer(len(expected))


def test_lex_ranges_with_binary_members(c):
    members = [b"", b"\x00", b"B", b"a", b"a\x00", b"ab", b"b", b"\x7f", b"\x80", b"\xff"]
    assert c("ZADD", "z", *[x for m in members for x in (b"0", m)]) == integer(10)
    assert c("ZRANGE", "z", "[a", "[ab", "BYLEX") == array(b"a", b"a\x00", b"ab")
    assert c("ZRANGE", "z", "(a", "(b", "BYLEX") == array(b"a\x00", b"ab")
    assert c("ZRANGE", "z", "[", "[a", "BYLEX") == array(b"", b"\x00", b"B", b"a")
    assert c("ZRANGE", "z", "(", "(a", "BYLEX") == array(b"\x00", b"B")
    assert c("ZRANGEBYLEX", "z", b"[\x80", "+") == array(b"\x80", b"\xff")
    assert c("ZLEXCOUNT", "z", "[", "(a") == integer(3)
    assert c("ZREVRANGEBYLEX", "z", b"(\xff", b"(\x7f") == array(b"\x80")
    assert c("ZREMRANGEBYLEX", "z", "(a", "[b") == integer(3)
    assert c("ZRANGE", "z", "0", "-1") == array(b"", b"\x00", b"B", b"a", b"\x7f", b"\x80",
                                                 b"\xff")


@pytest.mark.parametrize("offset,count,expected", [
    ("0", "2", "ab"), ("1", "2", "bc"), ("1", "-1", "bcde"), ("0", "-5", "abcde"),
    ("4", "-1", "e"), ("4", "10", "e"), ("5", "-1", ""), ("5", "1", ""), ("10", "2", ""),
    ("-1", "2", ""), ("-1", "-1", ""), ("0", "0", ""), ("2", "0", ""),
    (str(I64_MAX), "1", ""), ("0", str(I64_MAX), "abcde"), ("3", str(I64_MIN), "de"),
])
def test_limit(c, c3, five, offset, count, expected):
    rev = "edcba"
    rev_expected = rev[int(offset):][:int(count)] if int(offset) >= 0 and int(count) >= 0 \
        else ("" if int(offset) < 0 else rev[int(offset):])
    scores = {m: str(i + 1) for i, m in enumerate("abcde")}
    lim = ("LIMIT", offset, count)
    assert c("ZRANGE", "z", "-inf", "+inf", "BYSCORE", *lim) == array(*expected)
    assert c("ZRANGEBYSCORE", "z", "-inf", "+inf", *lim) == array(*expected)
    assert c("ZRANGE", "z", "-", "+", "BYLEX", *lim) == array(*expected)
    assert c("ZRANGEBYLEX", "z", "-", "+", *lim) == array(*expected)
    assert c("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", *lim) == array(*rev_expected)
    assert c("ZREVRANGEBYSCORE", "z", "+inf", "-inf", *lim) == array(*rev_expected)
    assert c("ZRANGE", "z", "+", "-", "BYLEX", "REV", *lim) == array(*rev_expected)
    assert c("ZREVRANGEBYLEX", "z", "+", "-", *lim) == array(*rev_expected)
    assert c("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", *lim) == \
        ws(*[(m, scores[m]) for m in expected])
    assert c3("ZRANGE", "z", "-inf", "+inf", "BYSCORE", *lim, "WITHSCORES") == \
        ws(*[(m, scores[m]) for m in expected], resp3=True)


def test_limit_applies_to_the_range_walked(c, five):
    assert c("ZRANGE", "z", "(1", "5", "BYSCORE", "LIMIT", "1", "2") == array("c", "d")
    assert c("ZRANGE", "z", "(5", "1", "BYSCORE", "REV", "LIMIT", "1", "2") == array("c", "b")
    assert c("ZRANGE", "z", "[b", "(e", "BYLEX", "LIMIT", "2", "5") == array("d")
    assert c("ZRANGE", "z", "(e", "[b", "BYLEX", "REV", "LIMIT", "2", "5") == array("b")
    # the last LIMIT wins
    assert c("ZRANGEBYSCORE", "z", "0", "10", "LIMIT", "0", "1", "LIMIT", "1", "1") == array("b")


def test_range_options_are_case_insensitive_and_repeatable(c, five):
    assert c("ZRANGE", "z", "(1", "3", "byscore", "withscores", "withscores") == \
        ws(("b", "2"), ("c", "3"))
    assert c("ZRANGE", "z", "3", "(1", "Rev", "ByScore", "Limit", "0", "1") == array("c")
    assert c("ZRANGEBYSCORE", "z", "0", "10", "WITHSCORES", "WITHSCORES", "LIMIT", "4", "1") \
        == ws(("e", "5"))
    assert c("ZREVRANGE", "z", "0", "1", "WITHSCORES", "WITHSCORES") == \
        ws(("e", "5"), ("d", "4"))
    assert c("ZREVRANGE", "z", "0", "0", "withscores") == ws(("e", "5"))


@pytest.mark.parametrize("args,expected", [
    (("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"), LIMIT_RANK),
    (("ZRANGE", "z", "0", "-1", "WITHSCORES", "LIMIT", "0", "1"), LIMIT_RANK),
    (("ZRANGE", "z", "x", "y", "LIMIT", "0", "1"), LIMIT_RANK),
    (("ZRANGE", "nokey", "0", "1", "LIMIT", "0", "1"), LIMIT_RANK),
    (("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"), WITHSCORES_LEX),
    (("ZRANGE", "z", "-", "+", "BYLEX", "LIMIT", "1", "1", "WITHSCORES"), WITHSCORES_LEX),
    (("ZRANGE", "z", "x", "y", "BYLEX", "WITHSCORES"), WITHSCORES_LEX),
    (("ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"), SYNTAX),
    (("ZRANGE", "z", "0", "-1", "BYLEX", "BYSCORE"), SYNTAX),
    (("ZRANGE", "z", "0", "-1", "BYSCORE", "BYSCORE"), SYNTAX),
    (("ZRANGE", "z", "-", "+", "BYLEX", "BYLEX"), SYNTAX),
    (("ZRANGE", "z", "0", "-1", "REV", "REV"), SYNTAX),
    (("ZRANGE", "z", "0", "-1", "REV", "BYSCORE", "REV"), SYNTAX),
    (("ZRANGE", "z", "0", "-1", "FOO"), SYNTAX),
    (("ZRANGE", "z", "0", "1", "LIMIT", "0"), SYNTAX),
    (("ZRANGE", "z", "0", "1", "LIMIT"), SYNTAX),
    (("ZRANGE", "z", "0", "-1", "BYSCORE", "LIMIT", "0"), SYNTAX),
    (("ZRANGE", "z", "0", "1", "LIMIT", "0", "1", "LIMIT"), SYNTAX),
    (("ZRANGE", "z", "0", "1", "LIMIT", "a", "1", "BYSCORE"), NOT_INT),
    (("ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0", "1.5"), NOT_INT),
    (("ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0", "9223372036854775808"), NOT_INT),
    (("ZRANGE", "z", "a", "b"), NOT_INT),
    (("ZRANGE", "z", "0", "1.5"), NOT_INT),
    (("ZRANGE", "nokey", "x", "y"), NOT_INT),
    (("ZRANGE", "z", "x", "1", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "(x", "1", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "((1", "2", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "1", "nan", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "(nan", "5", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "[1", "5", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "1 ", "5", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "1", "+", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "-", "+", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "", "2"), NOT_INT),
    (("ZRANGE", "z", " 1", "2"), NOT_INT),
    (("ZRANGE", "nokey", "x", "y", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGE", "z", "a", "+", "BYLEX"), MINMAX_LEX),
    (("ZRANGE", "z", "-", "b", "BYLEX"), MINMAX_LEX),
    (("ZRANGE", "z", "", "+", "BYLEX"), MINMAX_LEX),
    (("ZRANGE", "z", "--", "+", "BYLEX"), MINMAX_LEX),
    (("ZRANGE", "nokey", "x", "y", "BYLEX"), MINMAX_LEX),
    (("ZRANGE", "z", "0"), arity("zrange")),
    (("ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"), LIMIT_RANK),
    (("ZREVRANGE", "z", "0", "1", "LIMIT", "x", "y"), NOT_INT),
    (("ZREVRANGE", "z", "0", "1", "LIMIT", "0"), SYNTAX),
    (("ZREVRANGE", "z", "0", "1", "BYSCORE"), SYNTAX),
    (("ZREVRANGE", "z", "0", "1", "REV"), SYNTAX),
    (("ZREVRANGE", "z", "0", "1", "WITHSCORES", "x"), SYNTAX),
    (("ZREVRANGE", "z", "a", "1"), NOT_INT),
    (("ZREVRANGE", "z", "0"), arity("zrevrange")),
    (("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1"), SYNTAX),
    (("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "x", "1"), NOT_INT),
    (("ZRANGEBYSCORE", "z", "-inf", "+inf", "BYLEX"), SYNTAX),
    (("ZRANGEBYSCORE", "z", "-inf", "+inf", "BYSCORE"), SYNTAX),
    (("ZRANGEBYSCORE", "z", "0", "10", "REV"), SYNTAX),
    (("ZRANGEBYSCORE", "z", "x", "10"), MINMAX_FLOAT),
    (("ZRANGEBYSCORE", "nokey", "x", "y"), MINMAX_FLOAT),
    (("ZREVRANGEBYSCORE", "z", "10", "x"), MINMAX_FLOAT),
    (("ZRANGEBYSCORE", "z", "0"), arity("zrangebyscore")),
    (("ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"), WITHSCORES_LEX),
    (("ZREVRANGEBYLEX", "z", "+", "-", "WITHSCORES"), WITHSCORES_LEX),
    (("ZRANGEBYLEX", "z", "-", "+", "LIMIT", "0", "1", "WITHSCORES"), WITHSCORES_LEX),
    (("ZRANGEBYLEX", "z", "-", "+", "LIMIT", "0", "x"), NOT_INT),
    (("ZRANGEBYLEX", "z", "x", "+", "LIMIT", "0", "x"), NOT_INT),
    (("ZRANGEBYLEX", "z", "-", "+", "BYLEX"), SYNTAX),
    (("ZRANGEBYLEX", "z", "-", "+", "REV"), SYNTAX),
    (("ZRANGEBYLEX", "z", "x", "+", "FOO"), SYNTAX),
    (("ZRANGEBYLEX", "z", "a", "+"), MINMAX_LEX),
    (("ZREVRANGEBYLEX", "z", "+", "a"), MINMAX_LEX),
    (("ZRANGEBYLEX", "z", "-"), arity("zrangebylex")),
    (("ZCOUNT", "z", "x", "1"), MINMAX_FLOAT),
    (("ZCOUNT", "nokey", "a", "b"), MINMAX_FLOAT),
    (("ZCOUNT", "z", "1"), arity("zcount")),
    (("ZCOUNT", "z", "1", "2", "3"), arity("zcount")),
    (("ZLEXCOUNT", "z", "a", "+"), MINMAX_LEX),
    (("ZLEXCOUNT", "nokey", "a", "b"), MINMAX_LEX),
    (("ZLEXCOUNT", "z", "-"), arity("zlexcount")),
])
def test_range_errors(c, args, expected):
    assert c(*FIVE) == integer(5)
    assert c(*args) == expected


@pytest.mark.parametrize("lo,hi,expected", [
    ("", "5", "abcde"), ("(", "5", "abcde"), ("(", "(", ""), (" 1", "5", "abcde"),
    ("1", " 2", "ab"), ("\t2", "3", "bc"), ("\n2", "3", "bc"), ("-1e400", "1e400", "abcde"),
    ("(1e400", "+inf", ""), ("1e-400", "3", "abc"), ("(1e-400", "(1", ""), ("0x1p1", "3", "bc"),
    ("1", "infinity", "abcde"), ("", "", ""),
])
def test_score_bounds_are_parsed_by_strtod(c, five, lo, hi, expected):
    # Redis 7.0 parses a score bound with a bare strtod(): leading white
    # space, an empty string (0) and out-of-range values (+-inf, 0) pass
    assert c("ZRANGE", "z", lo, hi, "BYSCORE") == array(*expected)
    assert c("ZCOUNT", "z", lo, hi) == integer(len(expected))
    assert c("ZREVRANGEBYSCORE", "z", hi, lo) == array(*expected[::-1])
    assert c("ZREMRANGEBYSCORE", "nokey", lo, hi) == integer(0)


def test_ranges_on_missing_keys_and_wrong_types(c, c3):
    for conn in (c, c3):
        assert conn("ZRANGE", "nokey", "0", "-1") == EMPTY
        assert conn("ZRANGE", "nokey", "0", "-1", "WITHSCORES") == EMPTY
        assert conn("ZRANGE", "nokey", "-inf", "inf", "BYSCORE") == EMPTY
        assert conn("ZRANGE", "nokey", "-", "+", "BYLEX", "REV") == EMPTY
        assert conn("ZREVRANGE", "nokey", "0", "-1") == EMPTY
        assert conn("ZRANGEBYSCORE", "nokey", "0", "1") == EMPTY
        assert conn("ZREVRANGEBYLEX", "nokey", "+", "-") == EMPTY
    assert c("ZCOUNT", "nokey", "-inf", "inf") == integer(0)
    assert c("ZLEXCOUNT", "nokey", "-", "+") == integer(0)
    assert c("SET", "s", "v") == OK
    for args in (("ZRANGE", "s", "0", "-1"), ("ZRANGE", "s", "0", "1", "BYSCORE"),
                 ("ZREVRANGE", "s", "0", "1"), ("ZRANGEBYSCORE", "s", "0", "1"),
                 ("ZREVRANGEBYSCORE", "s", "1", "0"), ("ZRANGEBYLEX", "s", "-", "+"),
                 ("ZREVRANGEBYLEX", "s", "+", "-"), ("ZCOUNT", "s", "0", "1"),
                 ("ZLEXCOUNT", "s", "-", "+"), ("ZRANGESTORE", "d", "s", "0", "1")):
        assert c(*args) == WRONGTYPE, args
    # the range is parsed before the key is looked up
    for args, err in ((("ZRANGE", "s", "x", "y"), NOT_INT),
                      (("ZRANGE", "s", "x", "y", "BYSCORE"), MINMAX_FLOAT),
                      (("ZRANGE", "s", "x", "y", "BYLEX"), MINMAX_LEX),
                      (("ZREVRANGE", "s", "x", "1"), NOT_INT),
                      (("ZRANGEBYSCORE", "s", "x", "y"), MINMAX_FLOAT),
                      (("ZREVRANGEBYLEX", "s", "x", "y"), MINMAX_LEX),
                      (("ZCOUNT", "s", "x", "y"), MINMAX_FLOAT),
                      (("ZLEXCOUNT", "s", "x", "y"), MINMAX_LEX),
                      (("ZRANGESTORE", "d", "s", "x", "y"), NOT_INT),
                      (("ZRANGESTORE", "d", "s", "x", "y", "BYSCORE"), MINMAX_FLOAT),
                      (("ZREMRANGEBYRANK", "s", "x", "1"), NOT_INT),
                      (("ZREMRANGEBYSCORE", "s", "x", "1"), MINMAX_FLOAT),
                      (("ZREMRANGEBYLEX", "s", "x", "1"), MINMAX_LEX)):
        assert c(*args) == err, args
    # and so are the options
    assert c("ZRANGE", "s", "0", "1", "FOO") == SYNTAX
    assert c("ZRANGE", "s", "0", "1", "LIMIT", "0", "1") == LIMIT_RANK


def test_ranges_of_a_long_skiplist(c, c3):
    n = 3000
    pairs = [(str(i // 2), "m%05d" % i) for i in range(n)]
    assert c("ZADD", "z", *[x for p in pairs for x in p]) == integer(n)
    assert encoding(c, "z") == SKIPLIST
    names = [m for _, m in pairs]
    assert parse(c("ZRANGE", "z", "0", "-1")) == [m.encode() for m in names]
    assert parse(c("ZRANGE", "z", "0", "-1", "REV")) == [m.encode() for m in names[::-1]]
    for start in (0, 1, 2, 100, 1499, 2998, 2999):
        got = parse(c("ZRANGE", "z", str(start), str(start + 10)))
        assert got == [m.encode() for m in names[start:start + 11]]
        got = parse(c("ZRANGE", "z", str(start), str(start + 10), "REV"))
        assert got == [m.encode() for m in names[::-1][start:start + 11]]
    assert c("ZCOUNT", "z", "100", "(200") == integer(200)
    assert parse(c("ZRANGE", "z", "(700", "701", "BYSCORE")) == [b"m01402", b"m01403"]
    assert parse(c("ZRANGE", "z", "701", "(700", "BYSCORE", "REV")) == [b"m01403", b"m01402"]
    assert parse(c("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "2990", "100")) == \
        [m.encode() for m in names[2990:]]
    assert parse(c("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "2990", "100")) == \
        [m.encode() for m in names[::-1][2990:]]
    assert c3("ZRANGE", "z", "0", "0", "WITHSCORES") == ws(("m00000", "0"), resp3=True)
    assert c3("ZRANGE", "z", "0", "0", "REV", "WITHSCORES") == ws(("m02999", "1499"),
                                                                   resp3=True)


# --------------------------------------------------------------------------
# ZRANGESTORE
# --------------------------------------------------------------------------

def test_zrangestore(c, five):
    assert c("ZRANGESTORE", "d", "z", "1", "2") == integer(2)
    assert zall(c, "d") == ws(("b", "2"), ("c", "3"))
    assert c("ZRANGESTORE", "d", "z", "-", "+", "BYLEX", "LIMIT", "1", "2") == integer(2)
    assert zall(c, "d") == ws(("b", "2"), ("c", "3"))
    assert c("ZRANGESTORE", "d", "z", "+inf", "(2", "BYSCORE", "REV", "LIMIT", "0", "2") == \
        integer(2)
    assert zall(c, "d") == ws(("d", "4"), ("e", "5"))
    assert c("ZRANGESTORE", "d", "z", "0", "1", "REV") == integer(2)
    assert zall(c, "d") == ws(("d", "4"), ("e", "5"))
    assert encoding(c, "d") == LISTPACK
    # the source itself
    assert c("ZRANGESTORE", "z", "z", "1", "-2") == integer(3)
    assert zall(c, "z") == ws(("b", "2"), ("c", "3"), ("d", "4"))


def test_zrangestore_overwrites_and_deletes(c):
    assert c("ZADD", "z", "1", "a", "2", "b") == integer(2)
    assert c("SET", "d", "string") == OK
    assert c("PEXPIRE", "d", "100000") == integer(1)
    assert c("ZRANGESTORE", "d", "z", "0", "0") == integer(1)
    assert c("TYPE", "d") == b"+zset\r\n"
    assert c("PTTL", "d") == integer(-1)
    assert zall(c, "d") == ws(("a", "1"))
    # an empty result deletes the destination
    assert c("ZRANGESTORE", "d", "z", "5", "6") == integer(0)
    assert c("EXISTS", "d") == integer(0)
    assert c("RPUSH", "l", "x") == integer(1)
    assert c("ZRANGESTORE", "l", "nokey", "0", "-1") == integer(0)
    assert c("EXISTS", "l") == integer(0)
    assert c("ZRANGESTORE", "d", "nokey", "0", "-1") == integer(0)
    assert c("EXISTS", "d") == integer(0)


@pytest.mark.parametrize("args,expected", [
    (("0", "-1", "WITHSCORES"), SYNTAX),
    (("-", "+", "BYLEX", "WITHSCORES"), SYNTAX),
    (("0", "-1", "LIMIT", "0", "1"), LIMIT_RANK),
    (("0", "-1", "REV", "REV"), SYNTAX),
    (("0", "-1", "BYLEX", "BYSCORE"), SYNTAX),
    (("x", "-1"), NOT_INT),
    (("x", "1", "BYSCORE"), MINMAX_FLOAT),
    (("x", "+", "BYLEX"), MINMAX_LEX),
    (("0",), arity("zrangestore")),
])
def test_zrangestore_errors(c, args, expected):
    assert c(*FIVE) == integer(5)
    assert c("SET", "d", "v") == OK
    assert c("ZRANGESTORE", "d", "z", *args) == expected
    assert c("GET", "d") == bulk("v")


# --------------------------------------------------------------------------
# ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX
# --------------------------------------------------------------------------

@pytest.mark.parametrize("cmdname,lo,hi,removed", [
    ("ZREMRANGEBYRANK", "0", "1", "ab"), ("ZREMRANGEBYRANK", "-1", "-1", "e"),
    ("ZREMRANGEBYRANK", "1", "-2", "bcd"), ("ZREMRANGEBYRANK", "-100", "100", "abcde"),
    ("ZREMRANGEBYRANK", "3", "1", ""), ("ZREMRANGEBYRANK", "5", "10", ""),
    ("ZREMRANGEBYSCORE", "(1", "(3", "b"), ("ZREMRANGEBYSCORE", "-inf", "2", "ab"),
    ("ZREMRANGEBYSCORE", "(4", "+inf", "e"), ("ZREMRANGEBYSCORE", "-inf", "+inf", "abcde"),
    ("ZREMRANGEBYSCORE", "3", "2", ""), ("ZREMRANGEBYSCORE", "(3", "3", ""),
    ("ZREMRANGEBYLEX", "[c", "+", "cde"), ("ZREMRANGEBYLEX", "-", "(b", "a"),
    ("ZREMRANGEBYLEX", "(a", "[d", "bcd"), ("ZREMRANGEBYLEX", "-", "+", "abcde"),
    ("ZREMRANGEBYLEX", "+", "-", ""), ("ZREMRANGEBYLEX", "[x", "+", ""),
])
def test_zremrange(c, cmdname, lo, hi, removed):
    assert c("ZADD", "z", *[x for m in "abcde" for x in ("0" if "LEX" in cmdname else
                                                         str("abcde".index(m) + 1), m)]) == \
        integer(5)
    assert c(cmdname, "z", lo, hi) == integer(len(removed))
    left = [m for m in "abcde" if m not in removed]
    assert c("ZRANGE", "z", "0", "-1") == array(*left)
    assert c("EXISTS", "z") == integer(1 if left else 0)


def test_zremrange_errors(c):
    assert c(*FIVE) == integer(5)
    assert c("ZREMRANGEBYRANK", "z", "a", "1") == NOT_INT
    assert c("ZREMRANGEBYSCORE", "z", "x", "1") == MINMAX_FLOAT
    assert c("ZREMRANGEBYLEX", "z", "x", "y") == MINMAX_LEX
    assert c("ZREMRANGEBYRANK", "nokey", "x", "1") == NOT_INT
    assert c("ZREMRANGEBYSCORE", "nokey", "x", "1") == MINMAX_FLOAT
    assert c("ZREMRANGEBYLEX", "nokey", "x", "1") == MINMAX_LEX
    assert c("ZREMRANGEBYRANK", "nokey", "0", "-1") == integer(0)
    assert c("ZREMRANGEBYSCORE", "nokey", "-inf", "inf") == integer(0)
    assert c("ZREMRANGEBYLEX", "nokey", "-", "+") == integer(0)
    assert c("ZREMRANGEBYRANK", "z", "0") == arity("zremrangebyrank")
    assert c("ZREMRANGEBYSCORE", "z", "0", "1", "2") == arity("zremrangebyscore")
    assert c("ZREMRANGEBYLEX", "z") == arity("zremrangebylex")
    assert c("SET", "s", "v") == OK
    assert c("ZREMRANGEBYRANK", "s", "0", "1") == WRONGTYPE
    assert c("ZREMRANGEBYSCORE", "s", "0", "1") == WRONGTYPE
    assert c("ZREMRANGEBYLEX", "s", "-", "+") == WRONGTYPE
    assert c("ZCARD", "z") == integer(5)


def test_zremrange_in_a_long_skiplist(c):
    n = 2000
    assert c("ZADD", "z", *[x for i in range(n) for x in (str(i), "m%d" % i)]) == integer(n)
    assert c("ZREMRANGEBYRANK", "z", "100", "199") == integer(100)
    assert c("ZREMRANGEBYSCORE", "z", "(1000", "1500") == integer(500)
    assert c("ZCARD", "z") == integer(1400)
    assert c("ZRANK", "z", "m200") == integer(100)
    assert c("ZRANK", "z", "m1501") == integer(901)
    assert c("ZRANGE", "z", "99", "101") == array("m99", "m200", "m201")
    assert c("ZREMRANGEBYRANK", "z", "0", "-2") == integer(1399)
    assert zall(c, "z") == ws(("m1999", "1999"))
    assert encoding(c, "z") == SKIPLIST      # never back to a listpack


# --------------------------------------------------------------------------
# ZPOPMIN ZPOPMAX ZMPOP
# --------------------------------------------------------------------------

def test_zpop(c, c3, five):
    assert c("ZPOPMIN", "z") == flat(("a", "1"))
    assert c("ZPOPMAX", "z") == flat(("e", "5"))
    assert c("ZPOPMIN", "z", "2") == flat(("b", "2"), ("c", "3"))
    assert c("ZPOPMAX", "z", "0") == EMPTY
    assert c("ZPOPMAX", "z", "10") == flat(("d", "4"))
    assert c("EXISTS", "z") == integer(0)
    assert c("ZPOPMIN", "z") == EMPTY
    assert c("ZPOPMAX", "nokey", "3") == EMPTY
    assert c3("ZPOPMIN", "nokey") == EMPTY
    assert c3("ZPOPMIN", "nokey", "2") == EMPTY


def test_zpop_resp3_shapes(c3):
    assert c3("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e") == integer(5)
    # without a count a flat pair, with a count (even 1) nested pairs
    assert c3("ZPOPMIN", "z") == flat(("a", "1"), resp3=True)
    assert c3("ZPOPMAX", "z") == flat(("e", "5"), resp3=True)
    assert c3("ZPOPMIN", "z", "1") == nested(("b", "2"), resp3=True)
    assert c3("ZPOPMAX", "z", "2") == nested(("d", "4"), ("c", "3"), resp3=True)
    assert c3("ZPOPMIN", "z", "0") == EMPTY
    assert c3("ZADD", "z", "inf", "i", "-inf", "j") == integer(2)
    assert c3("ZPOPMIN", "z") == flat(("j", "-inf"), resp3=True)
    assert c3("ZPOPMAX", "z", "5") == nested(("i", "inf"), resp3=True)


def test_zpop_errors(c):
    assert c(*FIVE) == integer(5)
    for bad in ("-1", "x", "1.5", "", str(I64_MAX + 1)):
        assert c("ZPOPMIN", "z", bad) == MUST_BE_POSITIVE, bad
        assert c("ZPOPMAX", "nokey", bad) == MUST_BE_POSITIVE, bad
    assert c("ZPOPMIN", "z", "1", "2") == SYNTAX
    assert c("ZPOPMIN") == arity("zpopmin")
    assert c("SET", "s", "v") == OK
    assert c("ZPOPMIN", "s") == WRONGTYPE
    assert c("ZPOPMAX", "s", "-1") == MUST_BE_POSITIVE
    assert c("ZPOPMAX", "s", "0") == WRONGTYPE
    assert c("ZCARD", "z") == integer(5)


def test_zpop_a_long_skiplist(c):
    n = 500
    assert c("ZADD", "z", *[x for i in range(n) for x in (str(i), "m%d" % i)]) == integer(n)
    got = parse(c("ZPOPMIN", "z", "200"))
    assert got[::2] == [b"m%d" % i for i in range(200)]
    got = parse(c("ZPOPMAX", "z", "200"))
    assert got[::2] == [b"m%d" % i for i in range(499, 299, -1)]
    assert c("ZRANGE", "z", "0", "0") == array("m200")
    assert c("ZRANK", "z", "m299") == integer(99)


def test_zmpop(c, c3, five):
    assert c("ZMPOP", "1", "z", "MIN") == mpopped("z", ("a", "1"))
    assert c("ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "2") == mpopped("z", ("e", "5"),
                                                                          ("d", "4"))
    assert c3("ZMPOP", "1", "z", "min") == mpopped("z", ("b", "2"), resp3=True)
    assert c("ZMPOP", "1", "nokey", "MIN") == NIL_ARRAY
    assert c3("ZMPOP", "2", "nokey", "nokey2", "MAX") == NULL3
    assert c("ZMPOP", "1", "z", "MAX", "COUNT", "100") == mpopped("z", ("c", "3"))
    assert c("EXISTS", "z") == integer(0)


def test_zmpop_takes_the_first_non_empty_key(c):
    assert c("ZADD", "b", "1", "x") == integer(1)
    assert c("ZADD", "c", "2", "y") == integer(1)
    assert c("ZMPOP", "3", "a", "b", "c", "MAX") == mpopped("b", ("x", "1"))
    assert c("ZMPOP", "3", "a", "b", "c", "MAX") == mpopped("c", ("y", "2"))
    # a wrong type is an error only when reached
    assert c("SET", "s", "v") == OK
    assert c("ZADD", "z", "1", "m") == integer(1)
    assert c("ZMPOP", "2", "z", "s", "MIN") == mpopped("z", ("m", "1"))
    assert c("ZMPOP", "2", "z", "s", "MIN") == WRONGTYPE
    assert c("ZMPOP", "2", "s", "z", "MIN") == WRONGTYPE


@pytest.mark.parametrize("args,expected", [
    (("0", "z", "MIN"), NUMKEYS), (("-1", "z", "MIN"), NUMKEYS), (("x", "z", "MIN"), NUMKEYS),
    (("3", "z", "MIN"), SYNTAX), (("1", "z", "MINN"), SYNTAX),
    (("9223372036854775807", "z", "MIN"), SYNTAX), (("2147483648", "z", "MIN"), SYNTAX),
    (("1", "z", "MIN", "COUNT", "0"), COUNT_POSITIVE),
    (("1", "z", "MIN", "COUNT", "-1"), COUNT_POSITIVE),
    (("1", "z", "MIN", "COUNT", "x"), COUNT_POSITIVE),
    (("1", "z", "MIN", "COUNT"), SYNTAX),
    (("1", "z", "MIN", "COUNT", "1", "COUNT", "2"), SYNTAX),
    (("1", "z", "MIN", "FOO", "1"), SYNTAX),
    (("2", "z"), arity("zmpop")), (("1", "z"), arity("zmpop")),
])
def test_zmpop_errors(c, args, expected):
    assert c(*FIVE) == integer(5)
    assert c("ZMPOP", *args) == expected
    assert c("ZCARD", "z") == integer(5)


# --------------------------------------------------------------------------
# ZRANDMEMBER
# --------------------------------------------------------------------------

def build(c, key, n, kind):
    """key = m0:0 ... m<n-1>:<n-1>/2, as a listpack or (n > 128 or a long
    member) a skiplist. Returns {member: score string}."""
    pairs = {("m%d" % i).encode(): fmt(i / 2) for i in range(n)}
    if kind == "skiplist" and n <= ENTRIES_DEFAULT:
        pairs[b"x" * 65] = "-1"
    args = [x for m, s in pairs.items() for x in (s, m)]
    for i in range(0, len(args), 2000):
        c("ZADD", key, *args[i:i + 2000])
    assert encoding(c, key) == (LISTPACK if kind == "listpack" else SKIPLIST)
    return {m: s.encode() for m, s in pairs.items()}


@pytest.mark.parametrize("kind,n", [("listpack", 1), ("listpack", 5), ("listpack", 100),
                                    ("skiplist", 5), ("skiplist", 300)])
def test_zrandmember_positive_count_is_distinct_and_capped(c, c3, kind, n):
    pairs = build(c, "z", n, kind)
    size = len(pairs)
    for count in (1, 2, size - 1, size, size + 1, size * 3):
        if count <= 0:
            continue
        got = parse(c("ZRANDMEMBER", "z", str(count)))
        assert len(got) == min(count, size)
        assert len(set(got)) == len(got)
        assert set(got) <= set(pairs)
        got = parse(c("ZRANDMEMBER", "z", str(count), "WITHSCORES"))
        assert len(got) == 2 * min(count, size)
        assert len(set(got[::2])) == len(got) // 2
        for m, s in zip(got[::2], got[1::2]):
            assert pairs[m] == s
        got = parse(c3("ZRANDMEMBER", "z", str(count), "withscores"))
        assert len(got) == min(count, size)
        for m, s in got:
            assert float(pairs[m]) == s
    # asking for everything returns everything
    assert sorted(parse(c("ZRANDMEMBER", "z", str(size)))) == sorted(pairs)


def test_zrandmember_few_of_many(c, c3):
    """A positive count under a third of the members is served by random
    ranks (not a copy and shuffle of all): distinct, with their own scores,
    in both protocols, and spread over the whole set."""
    pairs = build(c, "z", 3000, "skiplist")
    for count in (1, 7, 999):
        got = parse(c("ZRANDMEMBER", "z", str(count), "WITHSCORES"))
        assert len(got) == 2 * count and len(set(got[::2])) == count
        for m, s in zip(got[::2], got[1::2]):
            assert pairs[m] == s
        got = parse(c3("ZRANDMEMBER", "z", str(count), "WITHSCORES"))
        assert len(got) == count and len({m for m, _ in got}) == count
        for m, s in got:
            assert float(pairs[m]) == s
    seen = set()
    for _ in range(200):
        seen.update(parse(c("ZRANDMEMBER", "z", "5")))
    assert len(seen) > 600  # 1000 picks of 3000: about 850 distinct
    # not in rank order: random order (a 999-element sorted reply is 1 in 999!)
    got = parse(c("ZRANDMEMBER", "z", "999"))
    ranks = [int(m[1:]) for m in got]
    assert ranks != sorted(ranks)


@pytest.mark.parametrize("kind", ["listpack", "skiplist"])
def test_zrandmember_negative_count_may_repeat(c, c3, kind):
    pairs = build(c, "z", 3, kind)
    got = parse(c("ZRANDMEMBER", "z", "-200"))
    assert len(got) == 200
    assert set(got) == set(pairs)       # 200 picks of 3 or 4: all of them, surely
    got = parse(c("ZRANDMEMBER", "z", "-50", "WITHSCORES"))
    assert len(got) == 100
    for m, s in zip(got[::2], got[1::2]):
        assert pairs[m] == s
    raw = c3("ZRANDMEMBER", "z", "-2", "WITHSCORES")
    assert raw.startswith(b"*2\r\n*2\r\n$")
    got = parse(raw)
    for m, s in got:
        assert float(pairs[m]) == s


def test_zrandmember_without_count(c, c3):
    assert c("ZRANDMEMBER", "nokey") == NIL
    assert c3("ZRANDMEMBER", "nokey") == NULL3
    assert c("ZADD", "z", "1", "a", "2", "b") == integer(2)
    seen = set()
    for _ in range(100):
        got = c("ZRANDMEMBER", "z")
        assert got in (bulk("a"), bulk("b"))
        seen.add(got)
    assert len(seen) == 2
    assert c3("ZRANDMEMBER", "z") in (bulk("a"), bulk("b"))


def test_zrandmember_shapes_and_errors(c, c3):
    assert c("ZADD", "z", "1", "a") == integer(1)
    assert c("SET", "s", "v") == OK
    assert c("ZRANDMEMBER", "z", "1", "WITHSCORES") == ws(("a", "1"))
    assert c3("ZRANDMEMBER", "z", "1", "WITHSCORES") == ws(("a", "1"), resp3=True)
    assert c("ZRANDMEMBER", "z", "-3", "WITHSCORES") == ws(("a", "1"), ("a", "1"), ("a", "1"))
    assert c3("ZRANDMEMBER", "z", "-2", "WITHSCORES") == ws(("a", "1"), ("a", "1"), resp3=True)
    assert c("ZRANDMEMBER", "z", "-2") == array("a", "a")
    assert c("ZRANDMEMBER", "z", "0") == EMPTY
    assert c("ZRANDMEMBER", "z", "0", "WITHSCORES") == EMPTY
    assert c("ZRANDMEMBER", "nokey", "1") == EMPTY
    assert c("ZRANDMEMBER", "nokey", "-1", "WITHSCORES") == EMPTY
    assert c3("ZRANDMEMBER", "nokey", "1") == EMPTY
    assert c("ZRANDMEMBER", "z", "x") == NOT_INT
    assert c("ZRANDMEMBER", "nokey", "x") == NOT_INT
    assert c("ZRANDMEMBER", "s", "x") == NOT_INT
    assert c("ZRANDMEMBER", "z", "1", "foo") == SYNTAX
    assert c("ZRANDMEMBER", "nokey", "0", "foo") == SYNTAX
    assert c("ZRANDMEMBER", "s", "1", "foo") == SYNTAX
    assert c("ZRANDMEMBER", "z", "1", "WITHSCORES", "x") == SYNTAX
    assert c("ZRANDMEMBER", "s") == WRONGTYPE
    assert c("ZRANDMEMBER", "s", "1") == WRONGTYPE
    assert c("ZRANDMEMBER", "z", str(I64_MIN)) == (
        b"-ERR value is out of range, value must between -9223372036854775807 and "
        b"9223372036854775807\r\n")
    assert c("ZRANDMEMBER", "s", str(I64_MIN)) == (
        b"-ERR value is out of range, value must between -9223372036854775807 and "
        b"9223372036854775807\r\n")
    for bad in (str(-I64_MAX), "-4611686018427387904", "4611686018427387904"):
        assert c("ZRANDMEMBER", "z", bad, "WITHSCORES") == b"-ERR value is out of range\r\n"
    assert c("ZRANDMEMBER", "z", "4611686018427387903", "WITHSCORES") == ws(("a", "1"))
    assert c("ZRANDMEMBER", "z", str(I64_MAX)) == array("a")
    assert c("ZRANDMEMBER") == arity("zrandmember")


# --------------------------------------------------------------------------
# ZUNION ZINTER ZDIFF and their STORE forms, ZINTERCARD
# --------------------------------------------------------------------------

@pytest.fixture
def ab(c):
    """a = x:1 y:2 i:inf, b = y:3 z:4 i:-inf, s = {x, z, w} (a plain set),
    str = a string."""
    assert c("ZADD", "a", "1", "x", "2", "y", "inf", "i") == integer(3)
    assert c("ZADD", "b", "3", "y", "4", "z", "-inf", "i") == integer(3)
    assert c("SADD", "s", "x", "z", "w") == integer(3)
    assert c("SET", "str", "v") == OK
    return c


@pytest.mark.parametrize("args,expected", [
    (("ZUNION", "2", "a", "b"), [("i", "0"), ("x", "1"), ("z", "4"), ("y", "5")]),
    (("ZUNION", "3", "a", "b", "s"), [("i", "0"), ("w", "1"), ("x", "2"), ("y", "5"),
                                      ("z", "5")]),
    (("ZUNION", "2", "a", "nokey"), [("x", "1"), ("y", "2"), ("i", "inf")]),
    (("ZUNION", "1", "s"), [("w", "1"), ("x", "1"), ("z", "1")]),
    (("ZUNION", "2", "a", "b", "WEIGHTS", "0", "1"), [("i", "-inf"), ("x", "0"), ("y", "3"),
                                                     ("z", "4")]),
    (("ZUNION", "2", "a", "b", "WEIGHTS", "2", "-1", "AGGREGATE", "MIN"),
     [("z", "-4"), ("y", "-3"), ("x", "2"), ("i", "inf")]),
    (("ZUNION", "2", "a", "b", "AGGREGATE", "MAX"), [("x", "1"), ("y", "3"), ("z", "4"),
                                                    ("i", "inf")]),
    (("ZUNION", "2", "a", "b", "AGGREGATE", "min"), [("i", "-inf"), ("x", "1"), ("y", "2"),
                                                    ("z", "4")]),
    (("ZUNION", "1", "a", "WEIGHTS", "0"), [("i", "0"), ("x", "0"), ("y", "0")]),
    (("ZUNION", "2", "a", "b", "WEIGHTS", "inf", "1"), [("i", "0"), ("z", "4"), ("x", "inf"),
                                                       ("y", "inf")]),
    (("ZUNION", "2", "a", "b", "WEIGHTS", "1", "2", "WEIGHTS", "3", "4"),
     [("i", "0"), ("x", "3"), ("z", "16"), ("y", "18")]),
    (("ZUNION", "2", "a", "b", "aggregate", "sum", "weights", "0.5", "0.25"),
     [("i", "0"), ("x", "0.5"), ("z", "1"), ("y", "1.75")]),
    (("ZUNION", "2", "a", "a"), [("x", "2"), ("y", "4"), ("i", "inf")]),
    (("ZINTER", "2", "a", "b"), [("i", "0"), ("y", "5")]),
    (("ZINTER", "2", "a", "s"), [("x", "2")]),
    (("ZINTER", "2", "s", "s"), [("w", "2"), ("x", "2"), ("z", "2")]),
    (("ZINTER", "2", "a", "b", "WEIGHTS", "1", "-1"), [("y", "-1"), ("i", "inf")]),
    (("ZINTER", "2", "a", "b", "AGGREGATE", "max"), [("y", "3"), ("i", "inf")]),
    (("ZINTER", "2", "a", "b", "AGGREGATE", "min"), [("i", "-inf"), ("y", "2")]),
    (("ZINTER", "2", "a", "b", "WEIGHTS", "0", "0"), [("i", "0"), ("y", "0")]),
    (("ZINTER", "2", "a", "nokey"), []),
    (("ZINTER", "3", "a", "b", "s"), []),
    (("ZDIFF", "2", "a", "b"), [("x", "1")]),
    (("ZDIFF", "2", "a", "s"), [("y", "2"), ("i", "inf")]),
    (("ZDIFF", "1", "s"), [("w", "1"), ("x", "1"), ("z", "1")]),
    (("ZDIFF", "2", "a", "nokey"), [("x", "1"), ("y", "2"), ("i", "inf")]),
    (("ZDIFF", "2", "nokey", "a"), []),
    (("ZDIFF", "2", "a", "a"), []),
    (("ZDIFF", "3", "a", "b", "s"), []),
])
def test_set_operations(ab, c3, args, expected):
    c = ab
    members = [m for m, _ in expected]
    assert c(*args) == array(*members)
    assert c(*args, "WITHSCORES") == ws(*expected)
    assert c3(*args, "WITHSCORES") == ws(*expected, resp3=True)
    assert c3(*args) == array(*members)
    store = args[0] + "STORE"
    assert c(store, "dst", *args[1:]) == integer(len(expected))
    if expected:
        assert zall(c, "dst") == ws(*expected)
        assert encoding(c, "dst") == LISTPACK
    else:
        assert c("EXISTS", "dst") == integer(0)
    # ZINTERCARD of the same keys counts what ZINTER returns
    keys = args[1:2 + int(args[1])]
    assert c("ZINTERCARD", *keys) == integer(len(parse(c("ZINTER", *keys))))


def test_zintercard_limit_on_big_sorted_sets(c):
    """LIMIT stops the walk early and counts exactly; with and without a
    set input, and the same key twice."""
    build(c, "x", 3000, "skiplist")
    c("ZADD", "y", *[v for i in range(1500, 4500) for v in (str(i), "m%d" % i)])
    c("SADD", "s", *["m%d" % i for i in range(0, 3000, 3)])
    assert c("ZINTERCARD", "2", "x", "y") == integer(1500)
    for limit in ("1", "10", "1499", "1500", "1501"):
        assert c("ZINTERCARD", "2", "x", "y", "LIMIT", limit) == \
            integer(min(int(limit), 1500))
    assert c("ZINTERCARD", "2", "x", "x", "LIMIT", "9") == integer(9)
    assert c("ZINTERCARD", "3", "x", "y", "s", "LIMIT", "4") == integer(4)
    assert c("ZINTERCARD", "3", "x", "y", "s") == integer(500)


@pytest.mark.parametrize("name", ["ZUNION", "ZINTER", "ZDIFF"])
def test_set_operation_errors(ab, name):
    c = ab
    lower = name.lower()
    assert c(name, "0", "a") == at_least_one_key(lower)
    assert c(name, "-1", "a") == at_least_one_key(lower)
    assert c(name, "x", "a") == NOT_INT
    assert c(name, "3", "a", "b") == SYNTAX
    assert c(name, "2", "a", "b", "FOO") == SYNTAX
    assert c(name, "2", "a", "str") == WRONGTYPE
    assert c(name, "2", "str", "nokey") == WRONGTYPE
    assert c(name, "2", "nokey", "str") == WRONGTYPE
    assert c(name, "1") == arity(lower)
    store = name + "STORE"
    assert c(store, "d", "0", "a") == at_least_one_key(store.lower())
    assert c(store, "d", "x", "a") == NOT_INT
    assert c(store, "d", "3", "a", "b") == SYNTAX
    assert c(store, "d", "2", "a", "b", "WITHSCORES") == SYNTAX
    assert c(store, "d", "2", "a", "str") == WRONGTYPE
    assert c(store, "d", "1") == arity(store.lower())
    assert c("EXISTS", "d") == integer(0)
    if name == "ZDIFF":
        assert c(name, "2", "a", "b", "WEIGHTS", "1", "1") == SYNTAX
        assert c(name, "2", "a", "b", "AGGREGATE", "SUM") == SYNTAX
        assert c(store, "d", "2", "a", "b", "WEIGHTS", "1", "1") == SYNTAX
    else:
        assert c(name, "2", "a", "b", "WEIGHTS", "1") == SYNTAX
        assert c(name, "2", "a", "b", "WEIGHTS", "1", "x") == WEIGHT_FLOAT
        assert c(name, "2", "a", "b", "WEIGHTS", "nan", "1") == WEIGHT_FLOAT
        assert c(name, "2", "a", "b", "AGGREGATE", "AVG") == SYNTAX
        assert c(name, "2", "a", "b", "AGGREGATE") == SYNTAX
        assert c(store, "d", "2", "a", "b", "WEIGHTS", "1", "x") == WEIGHT_FLOAT
    # the types of the inputs are checked before the options are parsed
    assert c(name, "2", "a", "str", "WEIGHTS", "x", "1") == WRONGTYPE
    assert c(name, "2", "a", "str", "FOO") == WRONGTYPE
    assert c(name, "2", "a", "str", "WITHSCORES", "FOO") == WRONGTYPE
    assert c(store, "d", "2", "a", "str", "WEIGHTS", "x") == WRONGTYPE
    assert c("ZINTERCARD", "2", "a", "str", "LIMIT", "x") == WRONGTYPE


@pytest.mark.parametrize("agg,expected", [("SUM", "0"), ("MIN", "5"), ("MAX", "5")])
def test_zinter_weighted_nan_of_a_later_input(c, c3, agg, expected):
    # inf * 0 is NaN: Redis makes it 0 for the first (smallest) input, but
    # aggregates it as NaN for the others: SUM gives NaN -> 0, MIN and MAX
    # keep the other value (a comparison with NaN is false)
    assert c("ZADD", "a", "5", "x") == integer(1)
    assert c("ZADD", "b", "inf", "x", "1", "y") == integer(2)
    args = ("2", "a", "b", "WEIGHTS", "1", "0", "AGGREGATE", agg)
    assert c("ZINTER", *args, "WITHSCORES") == ws(("x", expected))
    assert c3("ZINTER", *args, "WITHSCORES") == ws(("x", expected), resp3=True)
    assert c("ZINTERSTORE", "d", *args) == integer(1)
    assert zall(c, "d") == ws(("x", expected))
    # the same with the inputs the other way round: a is still the smallest
    args = ("2", "b", "a", "WEIGHTS", "0", "1", "AGGREGATE", agg)
    assert c("ZINTER", *args, "WITHSCORES") == ws(("x", expected))
    # as the first input, inf * 0 is 0
    assert c("ZINTER", "2", "b", "a", "WEIGHTS", "0", "1", "AGGREGATE", "MAX", "WITHSCORES") \
        == ws(("x", "5"))
    assert c("ZADD", "c", "-inf", "x") == integer(1)
    assert c("ZINTER", "2", "c", "b", "WEIGHTS", "0", "1", "AGGREGATE", "MAX", "WITHSCORES") \
        == ws(("x", "inf"))
    assert c("ZINTER", "2", "a", "c", "WEIGHTS", "-1", "0", "AGGREGATE", "MAX", "WITHSCORES") \
        == ws(("x", "-5"))


@pytest.mark.parametrize("agg,expected", [("SUM", "inf"), ("MIN", "0"), ("MAX", "inf")])
def test_zunion_weighted_nan_of_every_input_is_0(c, c3, agg, expected):
    """Unlike ZINTER, ZUNION makes a NaN weighted score (inf * 0) 0 for
    every input before aggregating: inf + 0, min(inf, 0), max(inf, 0)."""
    assert c("ZADD", "z", "inf", "a") == integer(1)
    args = ("2", "z", "z", "WEIGHTS", "1", "0", "AGGREGATE", agg)
    assert c("ZUNION", *args, "WITHSCORES") == ws(("a", expected))
    assert c3("ZUNION", *args, "WITHSCORES") == ws(("a", expected), resp3=True)
    assert c("ZUNIONSTORE", "d", *args) == integer(1)
    assert zall(c, "d") == ws(("a", expected))
    assert c("ZADD", "n", "-inf", "a") == integer(1)
    assert c("ZUNION", "2", "n", "n", "WEIGHTS", "-1", "0", "AGGREGATE", "MIN", "WITHSCORES") \
        == ws(("a", "0"))
    # -0 + 0 is 0
    assert c("ZADD", "p", "0", "b") == integer(1)
    assert c("ZADD", "q", "0", "b") == integer(1)
    assert c("ZUNION", "2", "p", "q", "WEIGHTS", "-1", "1", "WITHSCORES") == ws(("b", "0"))


def test_zrange_by_rank_takes_limit_with_a_count_of_minus_1(c):
    assert c("ZADD", "z", "1", "a", "2", "b", "3", "c") == integer(3)
    for offset in ("0", "1", "5", "-1"):
        assert c("ZRANGE", "z", "0", "-1", "LIMIT", offset, "-1") == array("a", "b", "c")
        assert c("ZRANGE", "z", "0", "-1", "REV", "LIMIT", offset, "-1") == array("c", "b", "a")
    assert c("ZRANGESTORE", "d", "z", "0", "1", "LIMIT", "1", "-1") == integer(2)
    for count in ("-2", "0", "5"):
        assert c("ZRANGE", "z", "0", "-1", "LIMIT", "0", count) == LIMIT_RANK
    # with -1 there is no error, so the others show
    assert c("SET", "s", "v") == OK
    assert c("ZRANGE", "s", "0", "1", "LIMIT", "0", "-1") == WRONGTYPE
    assert c("ZRANGE", "z", "x", "1", "LIMIT", "0", "-1") == NOT_INT


@pytest.mark.parametrize("agg,expected", [("SUM", "0"), ("MIN", "5"), ("MAX", "7")])
def test_zinter_aggregates_inputs_by_cardinality(c, agg, expected):
    # Redis sorts the inputs by size (a stable sort) and aggregates in that
    # order: 5 (a), then 7 (c, two members), then NaN (b, three members)
    assert c("ZADD", "a", "5", "x") == integer(1)
    assert c("ZADD", "b", "inf", "x", "1", "p", "2", "q") == integer(3)
    assert c("ZADD", "c", "7", "x", "1", "r") == integer(2)
    assert c("ZINTER", "3", "a", "b", "c", "WEIGHTS", "1", "0", "1", "AGGREGATE", agg,
             "WITHSCORES") == ws(("x", expected))


def test_zunion_sums_inputs_by_cardinality(c):
    # 1 + 1 + 1e16 is 10000000000000002 when the two 1s are added first (the
    # order of the sizes: a, c, b), 1e16 when 1e16 comes second
    assert c("ZADD", "a", "1", "x") == integer(1)
    assert c("ZADD", "b", "1e16", "x", "1", "p", "2", "q") == integer(3)
    assert c("ZADD", "c", "1", "x", "1", "r") == integer(2)
    assert c("ZUNION", "3", "a", "b", "c", "WITHSCORES") == ws(
        ("p", "1"), ("r", "1"), ("q", "2"), ("x", "10000000000000002"))
    assert c("ZINTER", "3", "a", "b", "c", "WITHSCORES") == ws(("x", "10000000000000002"))
    assert c("ZUNIONSTORE", "d", "3", "b", "c", "a") == integer(4)
    assert c("ZSCORE", "d", "x") == bulk("10000000000000002")


def test_store_overwrites_other_types_and_clears_ttl(ab):
    c = ab
    for store in ("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"):
        assert c("SET", "str", "v") == OK
        assert c("PEXPIRE", "str", "100000") == integer(1)
        assert c(store, "str", "2", "a", "s") == integer(
            {"ZUNIONSTORE": 5, "ZINTERSTORE": 1, "ZDIFFSTORE": 2}[store])
        assert c("TYPE", "str") == b"+zset\r\n"
        assert c("PTTL", "str") == integer(-1)
    assert c("RPUSH", "l", "x") == integer(1)
    assert c("ZUNIONSTORE", "l", "1", "a") == integer(3)
    assert zall(c, "l") == ws(("x", "1"), ("y", "2"), ("i", "inf"))


@pytest.mark.parametrize("args", [
    ("ZINTERSTORE", "dst", "2", "a", "nokey"), ("ZUNIONSTORE", "dst", "1", "nokey"),
    ("ZDIFFSTORE", "dst", "2", "a", "a"), ("ZDIFFSTORE", "dst", "1", "nokey"),
    ("ZINTERSTORE", "dst", "2", "a", "s", "WEIGHTS", "1", "1", "AGGREGATE", "MAX"),
])
def test_store_of_an_empty_result_deletes_destination(ab, args):
    c = ab
    if args[3] == "a" and args[4] == "s":
        assert c("SREM", "s", "x") == integer(1)
    assert c("SET", "dst", "v") == OK
    assert c(*args) == integer(0)
    assert c("EXISTS", "dst") == integer(0)
    assert c("ZADD", "dst", "1", "m") == integer(1)
    assert c(*args) == integer(0)
    assert c("EXISTS", "dst") == integer(0)


def test_store_destination_is_also_a_source(ab):
    c = ab
    assert c("ZUNIONSTORE", "a", "2", "a", "b") == integer(4)
    assert zall(c, "a") == ws(("i", "0"), ("x", "1"), ("z", "4"), ("y", "5"))
    assert c("ZINTERSTORE", "a", "2", "a", "s", "WEIGHTS", "2", "1") == integer(2)
    assert zall(c, "a") == ws(("x", "3"), ("z", "9"))
    assert c("ZDIFFSTORE", "b", "2", "b", "a") == integer(2)
    assert zall(c, "b") == ws(("i", "-inf"), ("y", "3"))


def test_store_wrongtype_source_leaves_destination(ab):
    c = ab
    assert c("ZADD", "dst", "1", "m") == integer(1)
    assert c("ZUNIONSTORE", "dst", "2", "a", "str") == WRONGTYPE
    assert c("ZINTERSTORE", "dst", "2", "str", "a") == WRONGTYPE
    assert c("ZDIFFSTORE", "dst", "2", "a", "str") == WRONGTYPE
    assert zall(c, "dst") == ws(("m", "1"))


def test_set_operations_with_large_inputs(c):
    a = {"m%d" % i: i for i in range(1000)}
    b = {"m%d" % i: -i for i in range(0, 2000, 2)}
    s = {"m%d" % i for i in range(0, 3000, 3)}
    assert c("ZADD", "a", *[x for m, v in a.items() for x in (str(v), m)]) == integer(1000)
    assert c("ZADD", "b", *[x for m, v in b.items() for x in (str(v), m)]) == integer(1000)
    assert c("SADD", "s", *s) == integer(1000)
    inter2 = set(a) & set(b)
    inter3 = inter2 & s
    union = set(a) | set(b) | s
    diff = set(a) - set(b) - s
    assert c("ZINTERSTORE", "i", "2", "a", "b") == integer(len(inter2))
    assert c("ZSCORE", "i", "m998") == bulk("0")
    assert c("ZINTERSTORE", "i3", "3", "a", "b", "s", "AGGREGATE", "MAX") == integer(len(inter3))
    assert c("ZSCORE", "i3", "m996") == bulk("996")
    assert c("ZUNIONSTORE", "u", "3", "a", "b", "s") == integer(len(union))
    assert c("ZSCORE", "u", "m1998") == bulk("-1997")
    assert c("ZSCORE", "u", "m2997") == bulk("1")
    assert c("ZSCORE", "u", "m6") == bulk("1")
    assert c("ZDIFFSTORE", "d", "3", "a", "b", "s") == integer(len(diff))
    assert parse(c("ZRANGE", "d", "0", "-1")) == [m.encode() for m in
                                                  sorted(diff, key=lambda m: a[m])]
    assert c("ZINTERCARD", "3", "a", "b", "s") == integer(len(inter3))
    assert c("ZINTERCARD", "3", "a", "b", "s", "LIMIT", "10") == integer(10)
    for k in ("i", "i3", "u", "d"):
        assert encoding(c, k) == SKIPLIST


def test_zintercard(ab):
    c = ab
    assert c("ZINTERCARD", "2", "a", "b") == integer(2)
    assert c("ZINTERCARD", "2", "a", "b", "LIMIT", "0") == integer(2)
    assert c("ZINTERCARD", "2", "a", "b", "LIMIT", "1") == integer(1)
    assert c("ZINTERCARD", "2", "a", "b", "limit", "5") == integer(2)
    assert c("ZINTERCARD", "2", "a", "s") == integer(1)
    assert c("ZINTERCARD", "1", "s") == integer(3)
    assert c("ZINTERCARD", "2", "a", "nokey") == integer(0)
    assert c("ZINTERCARD", "2", "nokey", "str") == WRONGTYPE
    assert c("ZINTERCARD", "2", "a", "str") == WRONGTYPE
    assert c("ZINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "0") == integer(2)


@pytest.mark.parametrize("args,expected", [
    (("2", "a", "b", "LIMIT", "-1"), LIMIT_NEG),
    (("2", "a", "b", "LIMIT", "x"), LIMIT_NEG),
    (("2", "a", "b", "LIMIT"), SYNTAX),
    (("2", "a", "b", "WITHSCORES"), SYNTAX),
    (("2", "a", "b", "WEIGHTS", "1", "1"), SYNTAX),
    (("2", "a", "b", "AGGREGATE", "SUM"), SYNTAX),
    (("0", "a"), at_least_one_key("zintercard")),
    (("-1", "a"), at_least_one_key("zintercard")),
    (("x", "a"), NOT_INT),
    (("3", "a", "b"), SYNTAX),
    (("2", "a", "str", "LIMIT", "-1"), WRONGTYPE),
    (("1",), arity("zintercard")),
])
def test_zintercard_errors(ab, args, expected):
    assert ab("ZINTERCARD", *args) == expected


# --------------------------------------------------------------------------
# ZSCAN
# --------------------------------------------------------------------------

def test_zscan_listpack_returns_everything_at_once(c, c3):
    assert c("ZADD", "z", "1", "a", "2.5", "b", "-3", "c") == integer(3)
    expected = b"*2\r\n$1\r\n0\r\n" + array("c", "-3", "a", "1", "b", "2.5")
    assert c("ZSCAN", "z", "0") == expected
    assert c("ZSCAN", "z", "0", "COUNT", "1") == expected
    # scores are bulk strings in RESP3 too
    assert c3("ZSCAN", "z", "0") == expected
    # a listpack ignores the cursor
    assert c("ZSCAN", "z", "12345") == expected
    assert c("ZSCAN", "z", "-1") == expected
    assert c("ZSCAN", "z", "18446744073709551615") == expected


@pytest.mark.parametrize("n,count", [(129, None), (300, "1"), (1000, "7"), (5000, "100"),
                                     (200, "1000")])
def test_zscan_full_iteration_skiplist(c, n, count):
    pairs = {("m%d" % i).encode(): fmt(i * 0.25).encode() for i in range(n)}
    assert c("ZADD", "z", *[x for m, s in pairs.items() for x in (s, m)]) == integer(n)
    assert encoding(c, "z") == SKIPLIST
    seen, calls = scan_all(c, "z", *(("COUNT", count) if count else ()))
    got = {}
    for m, s in seen:
        assert pairs[m] == s
        got[m] = s
    assert got == pairs          # every member at least once
    if count in (None, "1"):
        assert calls > 1


def test_zscan_sees_members_present_throughout(c):
    assert c("ZADD", "z", *[x for i in range(500) for x in (str(i), "m%d" % i)]) == \
        integer(500)
    cursor, seen, steps = b"0", set(), 0
    while True:
        cursor, items = parse(c("ZSCAN", "z", cursor, "COUNT", "20"))
        seen.update(items[::2])
        steps += 1
        # churn: add members and remove others between the calls
        c("ZADD", "z", str(steps), "new%d" % steps, str(steps), "new%d" % (steps + 1000))
        c("ZREM", "z", "new%d" % (steps - 1))
        if cursor == b"0":
            break
        assert steps < 10000
    assert {b"m%d" % i for i in range(500)} <= seen


def test_zscan_match_and_count(c):
    assert c("ZADD", "z", "1", "apple", "2", "banana", "3", "avocado", "4", "cherry") == \
        integer(4)
    assert c("ZSCAN", "z", "0", "MATCH", "a*") == b"*2\r\n$1\r\n0\r\n" + array(
        "apple", "1", "avocado", "3")
    assert c("ZSCAN", "z", "0", "MATCH", "x*") == EMPTY_SCAN
    assert c("ZSCAN", "z", "0", "MATCH", "*an*", "COUNT", "1000") == \
        b"*2\r\n$1\r\n0\r\n" + array("banana", "2")
    assert c("ZADD", "big", *[x for i in range(400) for x in (str(i), "k%d" % i)]) == \
        integer(400)
    seen, _ = scan_all(c, "big", "MATCH", "k1?", "COUNT", "50")
    assert sorted(m for m, _ in seen) == sorted(b"k1%d" % i for i in range(10))


@pytest.mark.parametrize("cursor", ["x", "1.5", "-", "18446744073709551616", " 0", "0 ", "+"])
def test_zscan_invalid_cursor(c, cursor):
    assert c("ZADD", "z", "1", "a") == integer(1)
    assert c("SET", "s", "v") == OK
    assert c("ZSCAN", "z", cursor) == INVALID_CURSOR
    assert c("ZSCAN", "s", cursor) == INVALID_CURSOR
    assert c("ZSCAN", "nokey", cursor) == INVALID_CURSOR


def test_zscan_cursor_accepted_forms(c):
    assert c("ZADD", "z", "1", "a") == integer(1)
    for cursor in ("", "00", "-1", "+5", "18446744073709551615"):
        assert c("ZSCAN", "z", cursor) == b"*2\r\n$1\r\n0\r\n" + array("a", "1"), cursor
    assert c("ZSCAN", "nokey", "") == EMPTY_SCAN


def test_zscan_errors(c):
    assert c("ZADD", "z", "1", "a") == integer(1)
    assert c("SET", "s", "v") == OK
    assert c("ZSCAN", "nokey", "0") == EMPTY_SCAN
    assert c("ZSCAN", "z", "0", "COUNT", "0") == SYNTAX
    assert c("ZSCAN", "z", "0", "COUNT", "x") == NOT_INT
    assert c("ZSCAN", "z", "0", "MATCH") == SYNTAX
    assert c("ZSCAN", "z", "0", "FOO", "1") == SYNTAX
    assert c("ZSCAN", "z", "0", "NOVALUES") == SYNTAX
    # a missing key ignores the options
    assert c("ZSCAN", "nokey", "0", "FOO", "1") == EMPTY_SCAN
    assert c("ZSCAN", "s", "0") == WRONGTYPE
    assert c("ZSCAN", "s", "0", "FOO") == WRONGTYPE
    assert c("ZSCAN", "z") == arity("zscan")


# --------------------------------------------------------------------------
# Encodings: listpack and skiplist, CONFIG zset-max-listpack-*
# --------------------------------------------------------------------------

def test_listpack_converts_at_129_members(c):
    assert c("ZADD", "z", *[x for i in range(128) for x in (str(i), "m%d" % i)]) == integer(128)
    assert encoding(c, "z") == LISTPACK
    assert c("ZADD", "z", "1", "m1") == integer(0)          # an update: no conversion
    assert c("ZINCRBY", "z", "1", "m1") == bulk("2")
    assert encoding(c, "z") == LISTPACK
    assert c("ZADD", "z", "XX", "1", "new") == integer(0)
    assert encoding(c, "z") == LISTPACK
    assert c("ZADD", "z", "1", "new") == integer(1)
    assert encoding(c, "z") == SKIPLIST
    # never back, even when small again
    assert c("ZREMRANGEBYRANK", "z", "0", "-3") == integer(127)
    assert c("ZPOPMIN", "z") == flat(("m126", "126"))
    assert encoding(c, "z") == SKIPLIST
    assert zall(c, "z") == ws(("m127", "127"))
    # 129 in one ZADD
    assert c("ZADD", "y", *[x for i in range(129) for x in (str(i), "m%d" % i)]) == integer(129)
    assert encoding(c, "y") == SKIPLIST
    assert c("ZCARD", "y") == integer(129)


def test_listpack_converts_for_a_member_over_64_bytes(c):
    assert c("ZADD", "z", "1", "x" * 64) == integer(1)
    assert encoding(c, "z") == LISTPACK
    assert c("ZADD", "z", "2", "y" * 65) == integer(1)
    assert encoding(c, "z") == SKIPLIST
    assert c("ZADD", "w", "1", "y" * 65) == integer(1)
    assert encoding(c, "w") == SKIPLIST
    assert c("ZINCRBY", "v", "1", "y" * 65) == bulk("1")
    assert encoding(c, "v") == SKIPLIST
    assert c("ZADD", "u", "1", "a", "2", "y" * 65, "3", "b") == integer(3)
    assert encoding(c, "u") == SKIPLIST
    assert zall(c, "u") == ws(("a", "1"), ("y" * 65, "2"), ("b", "3"))
    assert c("ZREM", "u", "y" * 65) == integer(1)
    assert encoding(c, "u") == SKIPLIST


def test_store_results_are_listpacks_when_they_fit(c):
    assert c("ZADD", "big", *[x for i in range(200) for x in (str(i), "m%d" % i)]) == \
        integer(200)
    assert c("ZADD", "long", "1", "y" * 65, "2", "a") == integer(2)
    assert c("ZUNIONSTORE", "u", "1", "big") == integer(200)
    assert encoding(c, "u") == SKIPLIST
    assert c("ZRANGESTORE", "r", "big", "0", "1") == integer(2)
    assert encoding(c, "r") == LISTPACK
    assert c("ZRANGESTORE", "r", "big", "0", "127") == integer(128)
    assert encoding(c, "r") == LISTPACK
    assert c("ZRANGESTORE", "r", "big", "0", "128") == integer(129)
    assert encoding(c, "r") == SKIPLIST
    assert c("ZRANGESTORE", "r2", "long", "0", "0") == integer(1)
    assert encoding(c, "r2") == SKIPLIST
    assert c("ZRANGESTORE", "r3", "long", "1", "1") == integer(1)
    assert encoding(c, "r3") == LISTPACK
    assert c("ZINTERSTORE", "i", "2", "big", "r") == integer(129)
    assert encoding(c, "i") == SKIPLIST
    assert c("ZINTERSTORE", "i", "2", "big", "long") == integer(0)
    assert c("ZDIFFSTORE", "d", "2", "big", "r") == integer(71)
    assert encoding(c, "d") == LISTPACK
    assert c("ZDIFFSTORE", "d", "1", "long") == integer(2)
    assert encoding(c, "d") == SKIPLIST
    assert c("ZUNIONSTORE", "u", "2", "r3", "nokey") == integer(1)
    assert encoding(c, "u") == LISTPACK


def test_config_set_limits(c, limits):
    assert c("CONFIG", "SET", "zset-max-ziplist-entries", "2") == OK
    assert c("CONFIG", "GET", "zset-max-listpack-entries") == array(
        "zset-max-listpack-entries", "2")
    assert c("ZADD", "z", "1", "a", "2", "b") == integer(2)
    assert encoding(c, "z") == LISTPACK
    assert c("ZADD", "z", "3", "c") == integer(1)
    assert encoding(c, "z") == SKIPLIST
    assert c("CONFIG", "SET", "zset-max-listpack-value", "1") == OK
    assert c("CONFIG", "GET", "zset-max-ziplist-value") == array("zset-max-ziplist-value", "1")
    assert c("ZADD", "e", "1", "ab") == integer(1)
    assert encoding(c, "e") == SKIPLIST
    assert c("ZADD", "e1", "1", "a") == integer(1)
    assert encoding(c, "e1") == LISTPACK
    assert c("CONFIG", "SET", "zset-max-listpack-value", "0") == OK
    assert c("ZADD", "e2", "1", "") == integer(1)
    assert encoding(c, "e2") == LISTPACK
    assert c("CONFIG", "SET", "zset-max-listpack-entries", "0") == OK
    assert c("ZADD", "f", "1", "") == integer(1)
    assert encoding(c, "f") == SKIPLIST
    assert c("ZUNIONSTORE", "f2", "1", "e2") == integer(1)
    assert encoding(c, "f2") == SKIPLIST
    assert c("ZRANGESTORE", "f3", "e2", "0", "-1") == integer(1)
    assert encoding(c, "f3") == SKIPLIST
    assert c("CONFIG", "SET", "zset-max-listpack-value", "1kb") == OK
    assert c("CONFIG", "GET", "zset-max-listpack-value") == array(
        "zset-max-listpack-value", "1024")
    assert c("CONFIG", "SET", "zset-max-listpack-entries", "-1") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'zset-max-listpack-entries') - "
        b"argument must be between 0 and 9223372036854775807 inclusive\r\n")
    # existing values keep their encoding
    assert encoding(c, "e1") == LISTPACK


def test_lowered_limits_convert_only_on_a_new_member(c, limits):
    assert c("ZADD", "z", "1", "abcdefghij", "2", "x") == integer(2)
    assert c("ZADD", "w", "1", "a", "2", "b", "3", "c") == integer(3)
    set_limits(c, 2, 5)
    # updating members that no longer fit keeps the listpack
    assert c("ZADD", "z", "5", "abcdefghij") == integer(0)
    assert c("ZINCRBY", "z", "1", "abcdefghij") == bulk("6")
    assert c("ZADD", "w", "5", "a") == integer(0)
    assert encoding(c, "z") == LISTPACK
    assert encoding(c, "w") == LISTPACK
    assert c("ZADD", "w", "6", "d") == integer(1)
    assert encoding(c, "w") == SKIPLIST
    assert c("ZADD", "z", "3", "y") == integer(1)       # 3 > 2 entries
    assert encoding(c, "z") == SKIPLIST
    assert zall(c, "z") == ws(("x", "2"), ("y", "3"), ("abcdefghij", "6"))


def _encoding_workload(c):
    pairs = [(str((i * 7919) % 50 - 25), "m%02d" % i) for i in range(40)]
    assert c("ZADD", "z", *[x for p in pairs for x in p]) == integer(40)
    enc = encoding(c, "z")
    replies = [zall(c, "z"), c("ZRANGE", "z", "5", "20", "REV", "WITHSCORES"),
               c("ZRANGE", "z", "(-3", "10", "BYSCORE", "LIMIT", "2", "5"),
               c("ZRANGE", "z", "10", "(-3", "BYSCORE", "REV", "LIMIT", "2", "5"),
               c("ZCOUNT", "z", "-10", "(10"), c("ZRANK", "z", "m07"), c("ZREVRANK", "z", "m07"),
               c("ZMSCORE", "z", "m01", "m39", "nope"),
               c("ZREMRANGEBYSCORE", "z", "(20", "+inf"), c("ZREMRANGEBYRANK", "z", "3", "5"),
               c("ZPOPMIN", "z", "3"), c("ZPOPMAX", "z"), c("ZRANGE", "z", "0", "-1"),
               c("ZINCRBY", "z", "100", "m10"), c("ZRANGE", "z", "-3", "-1", "WITHSCORES")]
    assert c("DEL", "z") == integer(1)
    return enc, replies


@pytest.mark.parametrize("entries", [0, 1, 3, 39, 40, 1000])
def test_both_encodings_answer_alike(c, limits, entries):
    """The same commands on the same data, with the encoding forced."""
    assert c("CONFIG", "SET", "zset-max-listpack-entries", "1000") == OK
    enc, baseline = _encoding_workload(c)
    assert enc == LISTPACK
    assert c("CONFIG", "SET", "zset-max-listpack-entries", str(entries)) == OK
    enc, replies = _encoding_workload(c)
    assert enc == (LISTPACK if 40 <= entries else SKIPLIST)
    assert replies == baseline


# --------------------------------------------------------------------------
# Keyspace commands and other types
# --------------------------------------------------------------------------

def test_wrongtype_both_ways(c):
    assert c("SET", "str", "x") == OK
    assert c("RPUSH", "l", "x") == integer(1)
    assert c("HSET", "h", "f", "v") == integer(1)
    assert c("SADD", "s", "m") == integer(1)
    for key in ("str", "l", "h", "s"):
        for args in (("ZADD", key, "1", "a"), ("ZINCRBY", key, "1", "a"), ("ZREM", key, "a"),
                     ("ZRANGE", key, "0", "-1"), ("ZPOPMIN", key), ("ZSCAN", key, "0"),
                     ("ZMPOP", "1", key, "MIN"), ("ZRANDMEMBER", key)):
            assert c(*args) == WRONGTYPE, args
    # a plain set is a valid input of the set operations, not the others
    assert c("ZUNION", "1", "s") == array("m")
    assert c("ZADD", "z", "1", "a") == integer(1)
    for args in (("GET", "z"), ("APPEND", "z", "x"), ("INCR", "z"), ("LPUSH", "z", "x"),
                 ("LRANGE", "z", "0", "-1"), ("SADD", "z", "x"), ("SMEMBERS", "z"),
                 ("SINTER", "z"), ("SUNIONSTORE", "d", "z"), ("HGET", "z", "f"),
                 ("HSET", "z", "f", "v"), ("STRLEN", "z"), ("SETRANGE", "z", "0", "x")):
        assert c(*args) == WRONGTYPE, args
    assert c("SET", "z", "v") == OK          # SET overwrites whatever type
    assert c("ZCARD", "z") == WRONGTYPE


def test_type_scan_type_and_object(c):
    assert c("ZADD", "z1", "1", "a") == integer(1)
    assert c("ZADD", "z2", *[x for i in range(200) for x in (str(i), "m%d" % i)]) == \
        integer(200)
    assert c("SADD", "s", "a") == integer(1)
    assert c("TYPE", "z1") == b"+zset\r\n"
    assert c("TYPE", "z2") == b"+zset\r\n"
    cursor, keys = b"0", []
    while True:
        cursor, got = parse(c("SCAN", cursor, "TYPE", "zset"))
        keys += got
        if cursor == b"0":
            break
    assert sorted(keys) == [b"z1", b"z2"]
    assert c("OBJECT", "ENCODING", "z1") == LISTPACK
    assert c("OBJECT", "ENCODING", "z2") == SKIPLIST
    assert c("DEL", "z1", "z2") == integer(2)
    assert c("SCAN", "0", "TYPE", "zset") == EMPTY_SCAN


@pytest.mark.parametrize("kind", ["listpack", "skiplist"])
def test_rename_move_copy(c, kind):
    pairs = build(c, "a", 5 if kind == "listpack" else 300, kind)
    before = zall(c, "a")
    assert c("COPY", "a", "b") == integer(1)
    assert encoding(c, "b") == encoding(c, "a")
    # the copy is deep
    assert c("ZADD", "b", "100", "only-in-b") == integer(1)
    assert c("ZINCRBY", "a", "1", "m0") == bulk("1")
    assert c("ZREM", "a", "m1") == integer(1)
    assert c("ZSCORE", "a", "only-in-b") == NIL
    assert c("ZSCORE", "b", "m0") == bulk("0")
    assert c("ZSCORE", "b", "m1") == bulk(pairs[b"m1"])
    assert c("ZCARD", "b") == integer(len(pairs) + 1)
    assert c("ZREM", "b", "only-in-b") == integer(1)
    assert zall(c, "b") == before
    assert c("RENAME", "b", "c") == OK
    assert c("EXISTS", "b") == integer(0)
    assert zall(c, "c") == before
    assert encoding(c, "c") == encoding(c, "a")
    assert c("MOVE", "c", "3") == integer(1)
    assert c("EXISTS", "c") == integer(0)
    assert c("SELECT", "3") == OK
    assert zall(c, "c") == before
    assert c("COPY", "c", "c2", "DB", "0") == integer(1)
    assert c("SELECT", "0") == OK
    assert zall(c, "c2") == before
    assert c("COPY", "c2", "a") == integer(0)
    assert c("COPY", "c2", "a", "REPLACE") == integer(1)
    assert zall(c, "a") == before


def test_expired_and_deleted_sorted_sets(c):
    assert c("ZADD", "z", "1", "a") == integer(1)
    assert c("PEXPIRE", "z", "50") == integer(1)
    time.sleep(0.1)
    assert c("ZCARD", "z") == integer(0)
    assert c("ZSCORE", "z", "a") == NIL
    assert c("ZADD", "z", "XX", "1", "a") == integer(0)
    assert c("EXISTS", "z") == integer(0)
    assert c("ZADD", "z", "2", "b") == integer(1)
    assert zall(c, "z") == ws(("b", "2"))
    assert c("PTTL", "z") == integer(-1)


@pytest.mark.parametrize("how", [
    ("ZREM", "z", "a", "b"), ("ZPOPMIN", "z", "5"), ("ZPOPMAX", "z", "2"),
    ("ZREMRANGEBYRANK", "z", "0", "-1"), ("ZREMRANGEBYSCORE", "z", "-inf", "+inf"),
    ("ZREMRANGEBYLEX", "z", "-", "+"), ("ZMPOP", "1", "z", "MIN", "COUNT", "2"),
    ("ZRANGESTORE", "z", "z", "5", "6"), ("ZINTERSTORE", "z", "2", "z", "nokey"),
    ("ZDIFFSTORE", "z", "2", "z", "z"),
])
def test_empty_sorted_sets_disappear(c, how):
    assert c("ZADD", "z", "0", "a", "0", "b") == integer(2)
    c(*how)
    assert c("EXISTS", "z") == integer(0)
    assert c("TYPE", "z") == b"+none\r\n"
    assert c("SCAN", "0", "TYPE", "zset") == EMPTY_SCAN


def test_commands_in_multi(c):
    assert c("MULTI") == OK
    for q in (("ZADD", "z", "1", "a", "2", "b"), ("ZINCRBY", "z", "0.5", "a"),
              ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZPOPMIN", "z"),
              ("ZCARD", "z")):
        assert c(*q) == QUEUED
    assert c("EXEC") == (b"*5\r\n" + integer(2) + bulk("1.5") +
                         ws(("a", "1.5"), ("b", "2")) + flat(("a", "1.5")) + integer(1))


# Which commands count as a change of the key for WATCH: those that changed it.
@pytest.mark.parametrize("change,touches", [
    (("ZADD", "z", "1", "a"), False),
    (("ZADD", "z", "2", "a"), True),
    (("ZADD", "z", "NX", "5", "a"), False),
    (("ZADD", "z", "XX", "1", "new"), False),
    (("ZINCRBY", "z", "0", "a"), False),
    (("ZINCRBY", "z", "1", "a"), True),
    (("ZREM", "z", "nope"), False),
    (("ZREM", "z", "a"), True),
    (("ZREMRANGEBYSCORE", "z", "5", "6"), False),
    (("ZREMRANGEBYRANK", "z", "0", "0"), True),
    (("ZPOPMIN", "z", "0"), False),
    (("ZPOPMAX", "z"), True),
    (("ZRANGE", "z", "0", "-1"), False),
    (("ZUNIONSTORE", "z", "1", "z"), True),
])
def test_watch_sees_sorted_set_changes(c, c2, change, touches):
    assert c("ZADD", "z", "1", "a", "2", "b") == integer(2)
    assert c("WATCH", "z") == OK
    c2(*change)
    assert c("MULTI") == OK
    assert c("PING") == QUEUED
    assert c("EXEC") == (NIL_ARRAY if touches else b"*1\r\n+PONG\r\n")


# --------------------------------------------------------------------------
# Blocking commands that do not block (data present, errors, timeouts)
# --------------------------------------------------------------------------

def test_blocking_commands_with_data_present(r, c, c3):
    assert c("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f") == \
        integer(6)
    assert c("BZPOPMIN", "nokey", "z", "0") == popped("z", "a", "1")
    assert c("BZPOPMAX", "z", "nokey", "0") == popped("z", "f", "6")
    assert c3("BZPOPMIN", "z", "0") == popped("z", "b", "2", resp3=True)
    assert c("BZMPOP", "0", "2", "nokey", "z", "MIN") == mpopped("z", ("c", "3"))
    assert c("BZMPOP", "0", "1", "z", "MAX", "COUNT", "5") == mpopped("z", ("e", "5"),
                                                                       ("d", "4"))
    assert c("EXISTS", "z") == integer(0)
    assert c3("ZADD", "z", "1.5", "x") == integer(1)
    assert c3("BZMPOP", "0", "1", "z", "MAX") == mpopped("z", ("x", "1.5"), resp3=True)
    assert blocked_count(r) == 0


def test_bzpop_same_key_twice(c):
    assert c("ZADD", "z", "1", "a", "2", "b") == integer(2)
    assert c("BZPOPMIN", "z", "z", "0") == popped("z", "a", "1")
    assert zall(c, "z") == ws(("b", "2"))


@pytest.mark.parametrize("timeout", ["0.05", "0.01", "1e-3"])
def test_timeout_replies_are_null_arrays(c, c3, timeout):
    for conn, null in ((c, NIL_ARRAY), (c3, NULL3)):
        assert conn("BZPOPMIN", "a", "b", timeout) == null
        assert conn("BZPOPMAX", "a", timeout) == null
        assert conn("BZMPOP", timeout, "2", "a", "b", "MIN") == null
        assert conn("BZMPOP", timeout, "1", "a", "MAX", "COUNT", "3") == null
    assert c("EXISTS", "a", "b") == integer(0)


@pytest.mark.parametrize("bad", ["abc", "nan", "1.5abc", " 1", "1 ", ""])
def test_timeout_not_a_float(c, bad):
    assert c("BZPOPMIN", "a", bad) == TIMEOUT_NOT_FLOAT
    assert c("BZPOPMAX", "a", bad) == TIMEOUT_NOT_FLOAT
    assert c("BZMPOP", bad, "1", "a", "MIN") == TIMEOUT_NOT_FLOAT


@pytest.mark.parametrize("bad", ["-1", "-0.5", "-inf", "inf", "1e300"])
def test_timeout_negative(c, bad):
    assert c("ZADD", "a", "1", "x") == integer(1)
    assert c("BZPOPMIN", "a", bad) == TIMEOUT_NEGATIVE
    assert c("BZPOPMAX", "a", bad) == TIMEOUT_NEGATIVE
    assert c("BZMPOP", bad, "1", "a", "MIN") == TIMEOUT_NEGATIVE
    assert zall(c, "a") == ws(("x", "1"))


def test_blocking_errors(c):
    assert c("SET", "s", "v") == OK
    assert c("ZADD", "z", "1", "a") == integer(1)
    assert c("BZPOPMIN", "s", "x") == TIMEOUT_NOT_FLOAT
    assert c("BZPOPMIN", "s", "0") == WRONGTYPE
    assert c("BZPOPMIN", "nokey", "s", "0") == WRONGTYPE
    assert c("BZPOPMAX", "s", "z", "0") == WRONGTYPE
    # the first key with data is served before a later wrong-type key is seen
    assert c("BZPOPMIN", "z", "s", "0") == popped("z", "a", "1")
    assert c("BZMPOP", "x", "1", "s", "MIN") == TIMEOUT_NOT_FLOAT
    assert c("BZMPOP", "-1", "1", "z", "MIN") == TIMEOUT_NEGATIVE
    assert c("BZMPOP", "0", "0", "z", "MIN") == NUMKEYS
    assert c("BZMPOP", "0", "1", "z", "FOO") == SYNTAX
    assert c("BZMPOP", "0", "3", "z", "MIN") == SYNTAX
    assert c("BZMPOP", "0", "1", "z", "MIN", "COUNT", "0") == COUNT_POSITIVE
    assert c("BZMPOP", "0", "1", "s", "MIN") == WRONGTYPE
    assert c("BZMPOP", "0", "2", "nokey", "s", "MIN") == WRONGTYPE
    assert c("BZPOPMIN", "z") == arity("bzpopmin")
    assert c("BZPOPMAX") == arity("bzpopmax")
    assert c("BZMPOP", "0", "1", "z") == arity("bzmpop")


def test_blocking_commands_inside_multi_do_not_block(r, c, c3):
    for conn, null in ((c, NIL_ARRAY), (c3, NULL3)):
        assert conn("MULTI") == OK
        assert conn("BZPOPMIN", "a", "0") == QUEUED
        assert conn("BZPOPMAX", "a", "b", "0") == QUEUED
        assert conn("BZMPOP", "0", "1", "a", "MIN") == QUEUED
        assert conn("EXEC") == b"*3\r\n" + null * 3
    assert c("ZADD", "a", "1", "x", "2", "y", "3", "z") == integer(3)
    assert c("MULTI") == OK
    assert c("BZPOPMIN", "a", "0") == QUEUED
    assert c("BZPOPMAX", "a", "0") == QUEUED
    assert c("BZMPOP", "0", "1", "a", "MIN", "COUNT", "9") == QUEUED
    assert c("BZPOPMIN", "a", "0") == QUEUED
    assert c("EXEC") == (b"*4\r\n" + popped("a", "x", "1") + popped("a", "z", "3") +
                         mpopped("a", ("y", "2")) + NIL_ARRAY)
    assert blocked_count(r) == 0


# --------------------------------------------------------------------------
# Blocking: waiting and being served
# --------------------------------------------------------------------------

@pytest.mark.parametrize("args,reply", [
    (("BZPOPMIN", "k", "0"), popped("k", "a", "1")),
    (("BZPOPMAX", "k", "0"), popped("k", "c", "3")),
    (("BZMPOP", "0", "1", "k", "MIN"), mpopped("k", ("a", "1"))),
    (("BZMPOP", "0", "1", "k", "MAX", "COUNT", "2"), mpopped("k", ("c", "3"), ("b", "2"))),
])
def test_each_blocking_command_is_served(r, c, c2, args, reply):
    block(c, r, 1, *args)
    assert c.nothing_within(0.2)
    assert c2("ZADD", "k", "1", "a", "2", "b", "3", "c") == integer(3)
    assert c.reply() == reply
    assert blocked_count(r) == 0


def test_resp3_waiters(r, conns):
    a, b, adder = conns(resp3=True), conns(resp3=True), conns()
    block(a, r, 1, "BZPOPMAX", "k", "0")
    block(b, r, 2, "BZMPOP", "0", "1", "k", "MIN", "COUNT", "2")
    assert adder("ZADD", "k", "1.5", "x", "inf", "y", "-inf", "z") == integer(3)
    assert a.reply() == popped("k", "y", "inf", resp3=True)
    assert b.reply() == mpopped("k", ("z", "-inf"), ("x", "1.5"), resp3=True)
    assert adder("EXISTS", "k") == integer(0)


def test_adder_sees_its_reply_before_the_waiter_pops(r, c, c2):
    block(c, r, 1, "BZPOPMIN", "k", "0")
    assert c2("ZADD", "k", "3", "c", "1", "a", "2", "b") == integer(3)
    assert c.reply() == popped("k", "a", "1")
    assert zall(c2, "k") == ws(("b", "2"), ("c", "3"))


def test_waiters_are_served_fifo(r, conns):
    a, b, c, adder = conns(), conns(), conns(), conns()
    block(a, r, 1, "BZPOPMIN", "k", "0")
    block(b, r, 2, "BZPOPMAX", "k", "0")
    block(c, r, 3, "BZMPOP", "0", "1", "k", "MIN")
    assert adder("ZADD", "k", "1", "x") == integer(1)
    assert a.reply() == popped("k", "x", "1")
    assert b.nothing_within(0.1) and c.nothing_within(0.1)
    assert adder("ZADD", "k", "2", "y") == integer(1)
    assert b.reply() == popped("k", "y", "2")
    assert adder("ZINCRBY", "k", "3", "z") == bulk("3")
    assert c.reply() == mpopped("k", ("z", "3"))
    assert blocked_count(r) == 0


def test_one_zadd_of_several_members_serves_several_waiters(r, conns):
    waiters = [conns() for _ in range(4)]
    for i, w in enumerate(waiters):
        block(w, r, i + 1, "BZPOPMIN", "k", "0")
    adder = conns()
    assert adder("ZADD", "k", "3", "z", "1", "x", "2", "y") == integer(3)
    assert [w.reply() for w in waiters[:3]] == [popped("k", "x", "1"), popped("k", "y", "2"),
                                                popped("k", "z", "3")]
    assert waiters[3].nothing_within()
    assert blocked_count(r) == 1
    assert adder("EXISTS", "k") == integer(0)
    assert adder("ZADD", "k", "4", "w") == integer(1)
    assert waiters[3].reply() == popped("k", "w", "4")


def test_served_by_the_key_that_gets_data(r, c, c2):
    block(c, r, 1, "BZPOPMIN", "k1", "k2", "k3", "0")
    assert c2("ZADD", "k3", "1", "x") == integer(1)
    assert c.reply() == popped("k3", "x", "1")
    block(c, r, 1, "BZMPOP", "0", "3", "k1", "k2", "k3", "MAX", "COUNT", "3")
    assert c2("ZADD", "k2", "1", "y", "2", "z") == integer(2)
    assert c.reply() == mpopped("k2", ("z", "2"), ("y", "1"))
    assert blocked_count(r) == 0


def test_served_by_the_key_signalled_first_in_one_exec(r, c, c2, conns):
    # Redis 7.0 serves a client from the key that became ready first, even
    # when a key earlier in its command got data in the same transaction
    block(c, r, 1, "BZPOPMIN", "k1", "k2", "0")
    assert c2("MULTI") == OK
    assert c2("ZADD", "k2", "1", "x") == QUEUED
    assert c2("ZADD", "k1", "2", "y") == QUEUED
    assert c2("EXEC") == b"*2\r\n:1\r\n:1\r\n"
    assert c.reply() == popped("k2", "x", "1")
    assert zall(c2, "k1") == ws(("y", "2"))
    assert c2("EXISTS", "k2") == integer(0)
    m = conns()
    block(m, r, 1, "BZMPOP", "0", "2", "k3", "k4", "MIN")
    assert c2("MULTI") == OK
    assert c2("ZADD", "k4", "1", "x") == QUEUED
    assert c2("ZADD", "k3", "2", "y") == QUEUED
    assert c2("EXEC") == b"*2\r\n:1\r\n:1\r\n"
    assert m.reply() == mpopped("k4", ("x", "1"))
    assert zall(c2, "k3") == ws(("y", "2"))


def test_waiting_on_the_same_key_twice(r, c, c2):
    block(c, r, 1, "BZPOPMAX", "d", "d", "0")
    assert c2("ZADD", "d", "1", "a", "2", "b") == integer(2)
    assert c.reply() == popped("d", "b", "2")
    assert zall(c2, "d") == ws(("a", "1"))
    assert blocked_count(r) == 0


def test_fractional_timeouts(r, conns):
    cases = [("BZPOPMIN", "a", "b", "0.2"), ("BZPOPMAX", "a", "0.2"),
             ("BZMPOP", "0.2", "1", "a", "MIN")]
    clients = [conns() for _ in cases] + [conns(resp3=True)]
    t0 = time.monotonic()
    for conn, args in zip(clients, cases + [cases[0]]):
        conn.send(*args)
    for conn in clients[:3]:
        assert conn.reply(timeout=5) == NIL_ARRAY
    assert clients[3].reply(timeout=5) == NULL3
    elapsed = time.monotonic() - t0
    assert 0.19 <= elapsed < 1.0, elapsed
    assert blocked_count(r) == 0


def test_timeout_and_served_clients_are_independent(r, conns):
    short, forever, adder = conns(), conns(), conns()
    block(forever, r, 1, "BZPOPMIN", "k", "0")
    short.send("BZPOPMIN", "k", "0.1")
    assert short.reply(timeout=5) == NIL_ARRAY
    assert forever.nothing_within(0.2)
    assert adder("ZADD", "k", "1", "v") == integer(1)
    assert forever.reply() == popped("k", "v", "1")


def test_zadd_inside_multi_wakes_the_waiter_after_exec(r, c, c2):
    block(c, r, 1, "BZPOPMIN", "k", "0")
    assert c2("MULTI") == OK
    assert c2("ZADD", "k", "1", "a", "2", "b") == QUEUED
    assert c.nothing_within(0.2)
    assert c2("ZCARD", "k") == QUEUED
    assert c2("EXEC") == b"*2\r\n:2\r\n:2\r\n"
    assert c.reply() == popped("k", "a", "1")
    assert zall(c2, "k") == ws(("b", "2"))


def test_zadd_then_delete_inside_multi_serves_nobody(r, c, c2):
    block(c, r, 1, "BZPOPMIN", "k", "0")
    assert c2("MULTI") == OK
    assert c2("ZADD", "k", "1", "a") == QUEUED
    assert c2("ZREM", "k", "a") == QUEUED
    assert c2("ZADD", "k", "2", "b") == QUEUED
    assert c2("DEL", "k") == QUEUED
    assert c2("EXEC") == b"*4\r\n:1\r\n:1\r\n:1\r\n:1\r\n"
    assert c.nothing_within()
    assert blocked_count(r) == 1
    assert c2("ZADD", "k", "3", "c") == integer(1)
    assert c.reply() == popped("k", "c", "3")


def test_key_of_another_type_does_not_wake_the_waiter(r, c, c2):
    block(c, r, 1, "BZPOPMIN", "k", "0")
    assert c2("RPUSH", "k", "x") == integer(1)
    assert c.nothing_within()
    assert c2("DEL", "k") == integer(1)
    assert c2("SADD", "k", "x") == integer(1)
    assert c.nothing_within()
    assert c2("DEL", "k") == integer(1)
    assert c2("ZADD", "k", "1", "m") == integer(1)
    assert c.reply() == popped("k", "m", "1")


def test_list_waiter_is_not_woken_by_a_sorted_set(r, c, c2):
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("ZADD", "k", "1", "m") == integer(1)
    assert c.nothing_within()
    assert c2("DEL", "k") == integer(1)
    assert c2("RPUSH", "k", "x") == integer(1)
    assert c.reply() == array("k", "x")


@pytest.mark.parametrize("how,got", [
    (("ZINCRBY", "k", "5", "m"), "5"),
    (("ZUNIONSTORE", "k", "1", "src"), "5"),
    (("ZINTERSTORE", "k", "2", "src", "src"), "10"),
    (("ZDIFFSTORE", "k", "1", "src"), "5"),
    (("ZRANGESTORE", "k", "src", "0", "0"), "5"),
    (("RENAME", "src", "k"), "5"),
    (("COPY", "src", "k"), "5"),
    (("ZADD", "k", "INCR", "5", "m"), "5"),
])
def test_other_writers_bring_data_to_a_waiter(r, c, c2, how, got):
    assert c2("ZADD", "src", "5", "m") == integer(1)
    block(c, r, 1, "BZPOPMIN", "k", "0")
    c2(*how)
    assert c.reply() == popped("k", "m", got)
    assert blocked_count(r) == 0


def test_move_and_swapdb_bring_data_to_a_waiter(r, c, c2):
    block(c, r, 1, "BZPOPMIN", "k", "0")
    assert c2("SELECT", "1") == OK
    assert c2("ZADD", "k", "1", "m") == integer(1)
    assert c2("MOVE", "k", "0") == integer(1)
    assert c.reply() == popped("k", "m", "1")
    block(c, r, 1, "BZPOPMAX", "k", "0")
    assert c2("ZADD", "k", "2", "n") == integer(1)
    assert c2("SWAPDB", "0", "1") == OK
    assert c.reply() == popped("k", "n", "2")


def test_waiters_are_per_database(r, c, c2):
    block(c, r, 1, "BZPOPMIN", "k", "0")
    assert c2("SELECT", "1") == OK
    assert c2("ZADD", "k", "1", "m") == integer(1)
    assert c.nothing_within()
    assert c2("SELECT", "0") == OK
    assert c2("ZADD", "k", "2", "n") == integer(1)
    assert c.reply() == popped("k", "n", "2")


def test_client_that_disconnects_while_blocked_is_forgotten(r, conns):
    a, b, adder = conns(), conns(), conns()
    block(a, r, 1, "BZPOPMIN", "k", "0")
    block(b, r, 2, "BZPOPMIN", "k", "0")
    a.close()
    wait_blocked(r, 1)
    assert adder("ZADD", "k", "1", "m") == integer(1)
    assert b.reply() == popped("k", "m", "1")
    assert adder("EXISTS", "k") == integer(0)


def test_pipelined_commands_of_a_blocked_client_run_after_it_is_served(r, c, c2):
    c.sock.sendall(cmd("BZPOPMIN", "k", "0") + cmd("ZCARD", "k") + cmd("ZADD", "k", "9", "z"))
    wait_blocked(r, 1)
    assert c2("ZADD", "k", "1", "a", "2", "b") == integer(2)
    assert c.reply() == popped("k", "a", "1")
    assert c.reply() == integer(1)
    assert c.reply() == integer(1)
    assert zall(c2, "k") == ws(("b", "2"), ("z", "9"))


def test_many_waiters_on_many_keys(r, conns):
    """20 clients wait on 3 of 5 keys each; every ZADD of one member serves
    the oldest client still waiting on that key (FIFO per key)."""
    rnd = random.Random(7)
    keys = ["k%d" % i for i in range(5)]
    waiting = []
    for i in range(20):
        w = conns(resp3=i % 3 == 0)
        mine = rnd.sample(keys, 3)
        if i % 2:
            block(w, r, i + 1, "BZPOPMIN", *mine, "0")
        else:
            block(w, r, i + 1, "BZMPOP", "0", "3", *mine, "MAX")
        waiting.append((i, w, mine))
    adder = conns()
    left = {k: 0 for k in keys}
    for round_ in range(30):
        k = rnd.choice(keys)
        assert adder("ZADD", k, str(round_), "m%d" % round_) == integer(1)
        first = next((x for x in waiting if k in x[2]), None)
        if first is None:
            left[k] += 1
            continue
        i, w, _ = first
        waiting.remove(first)
        if i % 2:
            assert w.reply() == popped(k, "m%d" % round_, str(round_), resp3=i % 3 == 0)
        else:
            assert w.reply() == mpopped(k, ("m%d" % round_, str(round_)), resp3=i % 3 == 0)
    assert blocked_count(r) == len(waiting)
    for _, w, _ in waiting:
        assert w.nothing_within(0.01)
    for k in keys:
        assert adder("ZCARD", k) == integer(left[k])


# --------------------------------------------------------------------------
# A randomized comparison against a model (both servers)
# --------------------------------------------------------------------------

MODEL_ENTRIES = 12
MODEL_VALUE = 6


class ZModel:
    """The sorted sets of one database: {key: {member: score}}, and the
    encoding each must have under MODEL_ENTRIES / MODEL_VALUE (a new member
    that does not fit converts a listpack for good; a stored result is a
    listpack iff it fits)."""

    def __init__(self):
        self.sets = {}
        self.enc = {}

    def get(self, key):
        return self.sets.get(key, {})

    def ordered(self, key):
        return sorted(self.get(key).items(), key=lambda kv: (kv[1], kv[0]))

    def insert(self, key, member, score):
        z = self.sets.setdefault(key, {})
        if key not in self.enc:
            self.enc[key] = "listpack"
        if member not in z and (len(z) + 1 > MODEL_ENTRIES or len(member) > MODEL_VALUE):
            self.enc[key] = "skiplist"
        if self.enc[key] == "listpack" and score == 0:
            score = 0.0        # a listpack stores -0 as "0"
        z[member] = score

    def remove(self, key, member):
        del self.sets[key][member]
        self.drop_if_empty(key)

    def drop_if_empty(self, key):
        if key in self.sets and not self.sets[key]:
            del self.sets[key]
            del self.enc[key]

    def store(self, key, items):
        """Replace key by {member: score} (a *STORE result)."""
        self.sets.pop(key, None)
        self.enc.pop(key, None)
        if items:
            self.sets[key] = dict(items)
            fits = len(items) <= MODEL_ENTRIES and \
                max(len(m) for m in self.sets[key]) <= MODEL_VALUE
            self.enc[key] = "listpack" if fits else "skiplist"
            if fits:
                for m, v in self.sets[key].items():
                    if v == 0:
                        self.sets[key][m] = 0.0


def rank_range(n, start, stop):
    """ZRANGE's rank arithmetic: the Python slice bounds, or None if empty."""
    if start < 0:
        start = max(start + n, 0)
    if stop < 0:
        stop += n
    stop = min(stop, n - 1)
    if start > stop or start >= n:
        return None
    return start, stop + 1


def in_score(x, lo, lo_ex, hi, hi_ex):
    return (x > lo if lo_ex else x >= lo) and (x < hi if hi_ex else x <= hi)


def in_lex(m, lo, hi):
    def above(b):
        if b == b"-":
            return True
        if b == b"+":
            return False
        return m > b[1:] if b[:1] == b"(" else m >= b[1:]

    def below(b):
        if b == b"+":
            return True
        if b == b"-":
            return False
        return m < b[1:] if b[:1] == b"(" else m <= b[1:]
    return above(lo) and below(hi)


def bound_text(x, ex):
    s = fmt(x) if not math.isinf(x) else ("+inf" if x > 0 else "-inf")
    return ("(" if ex else "") + s


def apply_limit(items, offset, count):
    if offset is None:
        return items
    if offset < 0:
        return []
    items = items[offset:]
    return items if count < 0 else items[:count]


def weighted(score, w):
    v = score * w
    return 0.0 if math.isnan(v) else v


def agg_sum(a, b):
    v = a + b
    return 0.0 if math.isnan(v) else v


class RandomZ:
    """Random sorted-set commands, each with the reply the model expects."""

    MEMBERS = [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"", b"\x00", b"\xff",
               b"ab", b"abc", b"longmember", b"longmember2", b"z" * 20, b"q1", b"q2", b"q3",
               b"r1", b"r2", b"r3", b"s", b"t"]
    SCORES = [-3.0, -2.5, -1.0, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 7.0, 10.0, 100.0,
              0.1, 1e300, -1e300, math.inf, -math.inf]
    INCRS = [1.0, -1.0, 0.5, 0.1, 2.5, -0.25, math.inf, -math.inf, 0.0]

    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.m = ZModel()

    def member(self):
        return self.rnd.choice(self.MEMBERS)

    def score(self):
        return self.rnd.choice(self.SCORES)

    def bounds(self):
        lo, hi = sorted([self.score(), self.score()])
        if self.rnd.random() < 0.15:
            lo, hi = hi, lo
        return lo, self.rnd.random() < 0.3, hi, self.rnd.random() < 0.3

    def lex_bound(self):
        r = self.rnd.random()
        if r < 0.15:
            return b"-"
        if r < 0.3:
            return b"+"
        return self.rnd.choice([b"[", b"("]) + self.member()

    def limit(self):
        if self.rnd.random() < 0.6:
            return None, None
        return self.rnd.randint(-1, 8), self.rnd.choice([-1, 0, 1, 2, 3, 5, 20])

    def pairs(self, items, withscores, resp3):
        if withscores:
            return ws(*[(m, fmt(s)) for m, s in items], resp3=resp3)
        return array(*[m for m, _ in items])

    # ---- commands: each returns (argv, expected reply bytes) ----

    def zadd(self, key, resp3):
        flags = self.rnd.choice([[], [], [], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"],
                                 ["XX", "LT"]])
        ch = self.rnd.random() < 0.3
        incr = self.rnd.random() < 0.2
        n = 1 if incr else self.rnd.randint(1, 5)
        items = [(self.score() if not incr else self.rnd.choice(self.INCRS), self.member())
                 for _ in range(n)]
        argv = ["ZADD", key] + flags + (["CH"] if ch else []) + (["INCR"] if incr else [])
        for s, m in items:
            argv += [bound_text(s, False), m]
        z = self.m.get(key)
        if "XX" in flags and not z:
            return argv, (NULL3 if resp3 else NIL) if incr else integer(0)
        added = changed = 0
        result = None
        for s, m in items:
            exists = m in z
            if (exists and "NX" in flags) or (not exists and "XX" in flags):
                continue
            new = s
            if incr and exists:
                new = z[m] + s
                if math.isnan(new):
                    self.m.drop_if_empty(key)
                    return argv, NAN_SCORE
            if exists and (("GT" in flags and not new > z[m]) or
                           ("LT" in flags and not new < z[m])):
                continue
            result = new
            if exists and new == z[m]:
                continue
            if exists:
                changed += 1
            else:
                added += 1
            self.m.insert(key, m, new)
            z = self.m.get(key)
        if incr:
            if result is None:
                return argv, NULL3 if resp3 else NIL
            return argv, score(fmt(result), resp3)
        return argv, integer(added + changed if ch else added)

    def zincrby(self, key, resp3):
        inc, m = self.rnd.choice(self.INCRS), self.member()
        z = self.m.get(key)
        new = z[m] + inc if m in z else inc
        argv = ["ZINCRBY", key, bound_text(inc, False), m]
        if math.isnan(new):
            return argv, NAN_SCORE
        self.m.insert(key, m, new)
        return argv, score(fmt(new), resp3)

    def zrem(self, key, resp3):
        ms = [self.member() for _ in range(self.rnd.randint(1, 4))]
        n = 0
        for m in ms:
            if m in self.m.get(key):
                self.m.remove(key, m)
                n += 1
        return ["ZREM", key] + ms, integer(n)

    def zrange_rank(self, key, resp3):
        items = self.m.ordered(key)
        n = len(items)
        start, stop = self.rnd.randint(-n - 2, n + 2), self.rnd.randint(-n - 2, n + 2)
        rev = self.rnd.random() < 0.4
        withscores = self.rnd.random() < 0.5
        src = items[::-1] if rev else items
        r = rank_range(n, start, stop)
        got = src[r[0]:r[1]] if r else []
        form = self.rnd.random()
        if rev and form < 0.5:
            argv = ["ZREVRANGE", key, start, stop]
        else:
            argv = ["ZRANGE", key, start, stop] + (["REV"] if rev else [])
        return argv + (["WITHSCORES"] if withscores else []), self.pairs(got, withscores, resp3)

    def zrange_score(self, key, resp3):
        lo, lo_ex, hi, hi_ex = self.bounds()
        rev = self.rnd.random() < 0.4
        withscores = self.rnd.random() < 0.5
        offset, count = self.limit()
        items = [kv for kv in self.m.ordered(key) if in_score(kv[1], lo, lo_ex, hi, hi_ex)]
        if rev:
            items = items[::-1]
        got = apply_limit(items, offset, count)
        a, b = bound_text(lo, lo_ex), bound_text(hi, hi_ex)
        tail = (["WITHSCORES"] if withscores else []) + \
            (["LIMIT", offset, count] if offset is not None else [])
        if self.rnd.random() < 0.5:
            argv = ["ZRANGE", key] + ([b, a, "BYSCORE", "REV"] if rev else [a, b, "BYSCORE"])
        else:
            argv = ["ZREVRANGEBYSCORE", key, b, a] if rev else ["ZRANGEBYSCORE", key, a, b]
        return argv + tail, self.pairs(got, withscores, resp3)

    def zrange_lex(self, key, resp3):
        lo, hi = self.lex_bound(), self.lex_bound()
        rev = self.rnd.random() < 0.4
        offset, count = self.limit()
        items = [kv for kv in self.m.ordered(key) if in_lex(kv[0], lo, hi)]
        if rev:
            items = items[::-1]
        got = apply_limit(items, offset, count)
        tail = ["LIMIT", offset, count] if offset is not None else []
        if self.rnd.random() < 0.5:
            argv = ["ZRANGE", key] + ([hi, lo, "BYLEX", "REV"] if rev else [lo, hi, "BYLEX"])
        else:
            argv = ["ZREVRANGEBYLEX", key, hi, lo] if rev else ["ZRANGEBYLEX", key, lo, hi]
        return argv + tail, self.pairs(got, False, resp3)

    def counts(self, key, resp3):
        if key != "lx":
            lo, lo_ex, hi, hi_ex = self.bounds()
            n = sum(1 for _, s in self.m.ordered(key) if in_score(s, lo, lo_ex, hi, hi_ex))
            return ["ZCOUNT", key, bound_text(lo, lo_ex), bound_text(hi, hi_ex)], integer(n)
        lo, hi = self.lex_bound(), self.lex_bound()
        n = sum(1 for m, _ in self.m.ordered(key) if in_lex(m, lo, hi))
        return ["ZLEXCOUNT", key, lo, hi], integer(n)

    def lookups(self, key, resp3):
        z = self.m.get(key)
        nil = NULL3 if resp3 else NIL
        m = self.member()
        r = self.rnd.randrange(5)
        if r == 0:
            return ["ZSCORE", key, m], score(fmt(z[m]), resp3) if m in z else nil
        if r == 1:
            ms = [self.member() for _ in range(self.rnd.randint(1, 4))]
            return ["ZMSCORE", key] + ms, b"*%d\r\n" % len(ms) + b"".join(
                score(fmt(z[x]), resp3) if x in z else nil for x in ms)
        if r == 2:
            names = [x for x, _ in self.m.ordered(key)]
            return ["ZRANK", key, m], integer(names.index(m)) if m in z else nil
        if r == 3:
            names = [x for x, _ in self.m.ordered(key)][::-1]
            return ["ZREVRANK", key, m], integer(names.index(m)) if m in z else nil
        return ["ZCARD", key], integer(len(z))

    def pops(self, key, resp3):
        items = self.m.ordered(key)
        mx = self.rnd.random() < 0.5
        name = "ZPOPMAX" if mx else "ZPOPMIN"
        src = items[::-1] if mx else items
        if self.rnd.random() < 0.3:
            got = src[:1]
            argv, reply = [name, key], flat(*[(m, fmt(s)) for m, s in got], resp3=resp3)
        else:
            count = self.rnd.randint(0, 4)
            got = src[:count]
            argv = [name, key, count]
            reply = (nested if resp3 else flat)(*[(m, fmt(s)) for m, s in got], resp3=resp3)
        for m, _ in got:
            self.m.remove(key, m)
        return argv, reply

    def zmpop(self, key, resp3):
        other = "b" if key == "a" else "a"
        mx = self.rnd.random() < 0.5
        count = self.rnd.randint(1, 4)
        argv = ["ZMPOP", "2", key, other, "MAX" if mx else "MIN", "COUNT", count]
        for k in (key, other):
            items = self.m.ordered(k)
            if items:
                got = (items[::-1] if mx else items)[:count]
                for m, _ in got:
                    self.m.remove(k, m)
                return argv, mpopped(k, *[(m, fmt(s)) for m, s in got], resp3=resp3)
        return argv, NULL3 if resp3 else NIL_ARRAY

    def remrange(self, key, resp3):
        items = self.m.ordered(key)
        r = 2 if key == "lx" else self.rnd.randrange(2)
        if r == 0:
            n = len(items)
            start, stop = self.rnd.randint(-n - 1, n + 1), self.rnd.randint(-n - 1, n + 1)
            rr = rank_range(n, start, stop)
            gone = items[rr[0]:rr[1]] if rr else []
            argv = ["ZREMRANGEBYRANK", key, start, stop]
        elif r == 1:
            lo, lo_ex, hi, hi_ex = self.bounds()
            gone = [kv for kv in items if in_score(kv[1], lo, lo_ex, hi, hi_ex)]
            argv = ["ZREMRANGEBYSCORE", key, bound_text(lo, lo_ex), bound_text(hi, hi_ex)]
        else:
            lo, hi = self.lex_bound(), self.lex_bound()
            gone = [kv for kv in items if in_lex(kv[0], lo, hi)]
            argv = ["ZREMRANGEBYLEX", key, lo, hi]
        for m, _ in gone:
            self.m.remove(key, m)
        return argv, integer(len(gone))

    def setop(self, key, resp3):
        op = self.rnd.choice(["UNION", "INTER", "DIFF"])
        other = "b" if key == "a" else "a"
        srcs = [key, other] if self.rnd.random() < 0.8 else [key]
        # no weight 0: 0 * -3 would be -0, whose listpack quirk has tests of
        # its own (inf * 0 too)
        weights = [self.rnd.choice([1, 2, 0.5, 3]) for _ in srcs]
        agg = self.rnd.choice(["SUM", "MIN", "MAX"])
        argv = [str(len(srcs))] + srcs
        if op != "DIFF":
            if self.rnd.random() < 0.6:
                argv += ["WEIGHTS"] + [bound_text(w, False) for w in weights]
            else:
                weights = [1] * len(srcs)
            argv += ["AGGREGATE", agg]
        zs = [self.m.get(k) for k in srcs]
        out = {}
        if op == "UNION":
            for z, w in zip(zs, weights):
                for m, s in z.items():
                    v = weighted(s, w)
                    if m not in out:
                        out[m] = v
                    elif agg == "SUM":
                        out[m] = agg_sum(out[m], v)
                    else:
                        out[m] = min(out[m], v) if agg == "MIN" else max(out[m], v)
        elif op == "INTER":
            # two inputs at most: the smaller first, its NaN made 0, the
            # other's aggregated as Redis does (see test_zinter_weighted_nan_*)
            order = sorted(range(len(zs)), key=lambda i: len(zs[i]))
            first = order[0]
            for m, s in zs[first].items():
                if all(m in z for z in zs):
                    v = weighted(s, weights[first])
                    for i in order[1:]:
                        x = zs[i][m] * weights[i]
                        if agg == "SUM":
                            v = agg_sum(v, x)
                        elif agg == "MIN":
                            v = x if x < v else v
                        else:
                            v = x if x > v else v
                    out[m] = v
        else:
            out = {m: s for m, s in zs[0].items() if all(m not in z for z in zs[1:])}
        items = sorted(out.items(), key=lambda kv: (kv[1], kv[0]))
        if self.rnd.random() < 0.5:
            withscores = self.rnd.random() < 0.5
            return (["Z" + op] + argv + (["WITHSCORES"] if withscores else []),
                    self.pairs(items, withscores, resp3))
        dst = self.rnd.choice(["c", "c", key])
        self.m.store(dst, items)
        return ["Z" + op + "STORE", dst] + argv, integer(len(items))

    def zrangestore(self, key, resp3):
        dst = self.rnd.choice(["c", "c", "b" if key == "a" else "a"])
        items = self.m.ordered(key)
        if self.rnd.random() < 0.5:
            n = len(items)
            start, stop = self.rnd.randint(-n - 1, n + 1), self.rnd.randint(-n - 1, n + 1)
            r = rank_range(n, start, stop)
            got = items[r[0]:r[1]] if r else []
            argv = ["ZRANGESTORE", dst, key, start, stop]
        else:
            lo, lo_ex, hi, hi_ex = self.bounds()
            offset, count = self.limit()
            got = apply_limit([kv for kv in items if in_score(kv[1], lo, lo_ex, hi, hi_ex)],
                              offset, count)
            argv = ["ZRANGESTORE", dst, key, bound_text(lo, lo_ex), bound_text(hi, hi_ex),
                    "BYSCORE"] + (["LIMIT", offset, count] if offset is not None else [])
        self.m.store(dst, got)
        return argv, integer(len(got))

    def zintercard(self, key, resp3):
        other = "b" if key == "a" else "a"
        n = len(set(self.m.get(key)) & set(self.m.get(other)))
        limit = self.rnd.choice([None, 0, 1, 2, 5])
        argv = ["ZINTERCARD", "2", key, other] + (["LIMIT", limit] if limit is not None else [])
        return argv, integer(min(n, limit) if limit else n)

    def choose(self):
        ops = [(self.zadd, 22), (self.zincrby, 8), (self.zrem, 8), (self.zrange_rank, 7),
               (self.zrange_score, 9), (self.counts, 5), (self.lookups, 8), (self.pops, 6),
               (self.zmpop, 3), (self.remrange, 4), (self.setop, 6), (self.zrangestore, 3),
               (self.zintercard, 2)]
        f = self.rnd.choices([o for o, _ in ops], [w for _, w in ops])[0]
        return f

    def lex_op(self, resp3):
        """Commands on "lx", whose scores are all 0."""
        r = self.rnd.randrange(5)
        if r == 0:
            ms = [self.member() for _ in range(self.rnd.randint(1, 4))]
            z = self.m.get("lx")
            new = {m for m in ms if m not in z}
            for m in ms:
                self.m.insert("lx", m, 0.0)
            return ["ZADD", "lx"] + [x for m in ms for x in ("0", m)], integer(len(new))
        if r in (1, 2):
            return self.zrange_lex("lx", resp3)
        if r == 3:
            return self.counts("lx", resp3)
        return self.remrange("lx", resp3)


def check_model(conn, m, keys, seen_encodings):
    for k in keys:
        items = m.ordered(k)
        assert conn("ZRANGE", k, "0", "-1", "WITHSCORES") == ws(*[(x, fmt(s)) for x, s in items])
        if items:
            assert encoding(conn, k) == (LISTPACK if m.enc[k] == "listpack" else SKIPLIST), k
            seen_encodings.add(m.enc[k])
        else:
            assert conn("EXISTS", k) == integer(0), k


def zscan_matches_model(conn, m, key):
    seen, _ = scan_all(conn, key, "COUNT", "3")
    z = m.get(key)
    got = {}
    for x, s in seen:
        assert float(s) == z[x]
        got[x] = float(s)
    assert got == z


def zrandmember_matches_model(conn, m, key, rnd):
    z = m.get(key)
    count = rnd.choice([-5, -1, 1, 3, 50])
    got = parse(conn("ZRANDMEMBER", key, count, "WITHSCORES"))
    if not z:
        assert got == []
        return
    assert len(got) == 2 * (abs(count) if count < 0 else min(count, len(z)))
    for x, s in zip(got[::2], got[1::2]):
        assert float(s) == z[x]
    if count > 0:
        assert len(set(got[::2])) == len(got) // 2


@pytest.mark.parametrize("seed", [20240611, 7, 424242])
def test_random_operations_against_a_model(server, r, limits, seed):
    conns_ = [Conn(server), Conn(server)]
    hello3(conns_[1])
    c2_, c3_ = conns_
    try:
        set_limits(c2_, MODEL_ENTRIES, MODEL_VALUE)
        gen = RandomZ(seed)
        keys = ["a", "b", "c", "lx"]
        seen_encodings = set()
        for step in range(3000):
            resp3 = gen.rnd.random() < 0.3
            conn = c3_ if resp3 else c2_
            if gen.rnd.random() < 0.15:
                argv, expected = gen.lex_op(resp3)
            else:
                f = gen.choose()
                argv, expected = f(gen.rnd.choice(["a", "a", "b"]), resp3)
            got = conn(*argv)
            assert got == expected, (step, argv)
            if step % 40 == 0:
                check_model(c2_, gen.m, keys, seen_encodings)
            if step % 150 == 0:
                for k in ("a", "b"):
                    zscan_matches_model(c2_, gen.m, k)
                    zrandmember_matches_model(c2_, gen.m, k, gen.rnd)
        check_model(c2_, gen.m, keys, seen_encodings)
        assert seen_encodings == {"listpack", "skiplist"}
    finally:
        for conn in conns_:
            conn.close()


@pytest.mark.parametrize("seed", [1, 2024])
def test_random_differential_against_redis(server, r, limits, seed):
    """The same random commands to engram and to redis-server: the raw
    replies (RESP2 and RESP3), the contents and the encodings must match."""
    ref = conftest.reference_redis()
    ours = [Conn(server), Conn(server)]
    theirs = [Conn(ref), Conn(ref)]
    try:
        for pair in (ours, theirs):
            hello3(pair[1])
            assert pair[0]("FLUSHALL") == OK
            set_limits(pair[0], MODEL_ENTRIES, MODEL_VALUE)
        gen = RandomZ(seed)
        gen.MEMBERS = gen.MEMBERS + [b"m%d" % i for i in range(20)]
        gen.SCORES = gen.SCORES + [gen.rnd.uniform(-1000, 1000) for _ in range(10)] + \
            [1e-310, 5e-324, 1.7976931348623157e308, 2.0 ** 53 + 2, 1e17, -4.5e15]
        gen.INCRS = gen.INCRS + [gen.rnd.uniform(-10, 10) for _ in range(5)] + [1e-310]
        for step in range(5000):
            resp3 = gen.rnd.random() < 0.3
            if gen.rnd.random() < 0.15:
                argv, _ = gen.lex_op(resp3)
            else:
                argv, _ = gen.choose()(gen.rnd.choice(["a", "a", "b"]), resp3)
            want = theirs[resp3](*argv)
            assert ours[resp3](*argv) == want, (step, argv)
            if step % 25 == 0:
                for k in ("a", "b", "c", "lx"):
                    for q in (("ZRANGE", k, "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", k),
                              ("ZCARD", k)):
                        assert ours[0](*q) == theirs[0](*q), (step, q)
    finally:
        for conn in ours + theirs:
            conn.close()
        ref.stop()


# ==========================================================================
# engram only: rollback, durability
# ==========================================================================

engram_only = pytest.mark.skipif(conftest.AGAINST_REDIS,
                                 reason="engram's rollback/durability (docs/transactions.md)")


def rolled_back(n, name, error):
    return b"-EXECABORT Transaction rolled back: command %d (%s) failed: %s\r\n" % (
        n, name.encode(), error.encode())


def keyspace_state(c, dbs=(0, 1)):
    """Every key of the given databases: type, contents (ZRANGE WITHSCORES
    for sorted sets), encoding, whether it has a TTL. Leaves db 0 selected."""
    state = {}
    for db in dbs:
        assert c("SELECT", db) == OK
        for k in parse(c("KEYS", "*")):
            t = c("TYPE", k)
            if t == b"+zset\r\n":
                value = zall(c, k)
            elif t == b"+string\r\n":
                value = c("GET", k)
            else:
                value = None
            state[(db, k)] = (t, value, encoding(c, k), int(c("PTTL", k)[1:-2]) >= 0)
    assert c("SELECT", "0") == OK
    return state


@engram_only
def test_rollback_restores_sorted_sets(c, limits):
    assert c("ZADD", "small", "1", "a", "2", "b", "3", "c") == integer(3)
    assert c("ZADD", "big", *[x for i in range(200) for x in (str(i), "m%d" % i)]) == \
        integer(200)
    assert c("ZADD", "one", "0.1", "x") == integer(1)
    assert c("ZINCRBY", "one", "0.2", "x") == bulk("0.30000000000000004")
    assert c("ZADD", "ttl", "1", "t") == integer(1)
    assert c("PEXPIRE", "ttl", "500000") == integer(1)
    assert c("SET", "str", "notanumber") == OK
    assert c("SADD", "plain", "a", "z") == integer(2)
    assert c("SELECT", "1") == OK
    assert c("ZADD", "db1", "5", "q") == integer(1)
    assert c("SELECT", "0") == OK
    before = keyspace_state(c)
    assert before[(0, b"small")][2] == LISTPACK
    assert c("MULTI") == OK
    queued = [
        ("ZADD", "small", *[x for i in range(150) for x in (str(i), "n%d" % i)]),  # converts
        ("ZINCRBY", "small", "10", "a"),
        ("ZREM", "big", "m1", "m2"),
        ("ZPOPMIN", "big", "50"),
        ("ZREMRANGEBYSCORE", "big", "100", "150"),
        ("ZADD", "big", "1e-300", "tiny"),
        ("ZPOPMAX", "one"),                                    # deletes "one"
        ("ZUNIONSTORE", "str", "2", "small", "plain"),         # overwrites a string
        ("ZINTERSTORE", "ttl", "2", "ttl", "nokey"),           # empty: deletes "ttl"
        ("ZRANGESTORE", "created", "big", "0", "9"),
        ("ZDIFFSTORE", "diff", "2", "big", "small"),
        ("ZMPOP", "2", "nokey", "small", "MAX", "COUNT", "3"),
        ("BZPOPMIN", "small", "0"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "1"),  # not data: stays
        ("ZADD", "new", "1", "a", "2", "b"),                   # a skiplist at once
        ("SELECT", "1"),
        ("ZADD", "db1", "INCR", "1", "q"),
        ("ZADD", "db1", "x", "bad"),                           # fails: not a float
    ]
    for q in queued:
        assert c(*q) == QUEUED, q
    assert c("EXEC") == rolled_back(len(queued), "ZADD", "ERR value is not a valid float")
    assert keyspace_state(c) == before
    assert encoding(c, "small") == LISTPACK
    assert zall(c, "small") == ws(("a", "1"), ("b", "2"), ("c", "3"))
    assert c("ZSCORE", "one", "x") == bulk("0.30000000000000004")
    for k in ("created", "diff", "new"):
        assert c("EXISTS", k) == integer(0)
    assert c("GET", "str") == bulk("notanumber")
    assert 0 < int(c("PTTL", "ttl")[1:-2]) <= 500000
    # CONFIG SET is not undone
    assert c("CONFIG", "GET", "zset-max-listpack-entries") == array(
        "zset-max-listpack-entries", "1")


@engram_only
def test_rollback_of_a_failing_sorted_set_command(c):
    assert c("ZADD", "z", "1", "a") == integer(1)
    assert c("SET", "s", "v") == OK
    cases = [
        (("ZINCRBY", "z", "-inf", "inf"), ("ZADD", "z", "INCR", "inf", "inf"),
         "ERR resulting score is not a number (NaN)"),
        (("ZADD", "z", "2", "b"), ("ZPOPMIN", "z", "-1"),
         "ERR value is out of range, must be positive"),
        (("ZADD", "z", "2", "b"), ("ZUNIONSTORE", "d", "2", "z", "s"),
         "WRONGTYPE Operation against a key holding the wrong kind of value"),
        (("ZREM", "z", "a"), ("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"),
         "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or "
         "BYLEX"),
        (("ZADD", "z", "2", "b"), ("ZMPOP", "1", "s", "MIN"),
         "WRONGTYPE Operation against a key holding the wrong kind of value"),
        (("ZADD", "z", "2", "b"), ("BZPOPMIN", "s", "0"),
         "WRONGTYPE Operation against a key holding the wrong kind of value"),
    ]
    for first, failing, error in cases:
        assert c("MULTI") == OK
        assert c(*first) == QUEUED
        assert c(*failing) == QUEUED
        assert c("EXEC") == rolled_back(2, failing[0], error), failing
        assert zall(c, "z") == ws(("a", "1"))
        assert c("EXISTS", "d") == integer(0)


@engram_only
def test_rolled_back_exec_does_not_serve_a_waiter(r, c, c2):
    assert c2("SET", "s", "notanumber") == OK
    block(c, r, 1, "BZPOPMIN", "k", "0")
    assert c2("MULTI") == OK
    assert c2("ZADD", "k", "1", "x") == QUEUED
    assert c2("INCR", "s") == QUEUED
    assert c2("EXEC") == rolled_back(2, "INCR", "ERR value is not an integer or out of range")
    assert c.nothing_within()
    assert blocked_count(r) == 1
    assert c2("EXISTS", "k") == integer(0)
    assert c2("ZADD", "k", "2", "y") == integer(1)
    assert c.reply() == popped("k", "y", "2")
    assert c2("EXISTS", "k") == integer(0)


@engram_only
def test_rolled_back_exec_with_a_blocking_pop_inside(r, c, c2):
    assert c("ZADD", "k", "1", "a", "2", "b") == integer(2)
    assert c("MULTI") == OK
    assert c("BZPOPMIN", "k", "0") == QUEUED
    assert c("BZMPOP", "0", "1", "k", "MAX") == QUEUED
    assert c("ZINCRBY", "k", "x", "m") == QUEUED
    assert c("EXEC") == rolled_back(3, "ZINCRBY", "ERR value is not a valid float")
    assert zall(c2, "k") == ws(("a", "1"), ("b", "2"))


# ---- durability ----------------------------------------------------------

def _persistence_helpers():
    import test_persistence
    return test_persistence.restart, test_persistence.wait_loaded, test_persistence.wait_bgsave_done


# Scores whose bits must survive: (member, how it is written, printed score)
EXACT = [
    (b"sum", ("ZINCRBY", "0.1", "0.2"), "0.30000000000000004"),
    (b"tiny", ("ZADD", "1e-300"), "1e-300"),
    (b"denormal", ("ZADD", "5e-324"), "4.9406564584124654e-324"),
    (b"inf", ("ZADD", "inf"), "inf"),
    (b"-inf", ("ZADD", "-inf"), "-inf"),
    (b"max", ("ZADD", "1.7976931348623157e308"), "1.7976931348623157e+308"),
    (b"third", ("ZINCRBY", "0.3333333333333333", "1e-17"), "0.33333333333333331"),
    (b"big", ("ZADD", "123456789012345678"), "1.2345678901234568e+17"),
    (b"neg", ("ZINCRBY", "-2.5", "-0.1"), "-2.6000000000000001"),
]


def build_zsets(c):
    """Sorted sets written by every writing command; returns the keys whose
    encoding a snapshot may change (a skiplist that became small)."""
    for key in ("exact_lp", "exact_sl"):
        if key == "exact_sl":
            assert c("ZADD", key, "0", b"x" * 65) == integer(1)
        for member, how, _ in EXACT:
            if how[0] == "ZADD":
                assert c("ZADD", key, how[1], member) == integer(1)
            else:
                for inc in how[1:]:
                    c("ZINCRBY", key, inc, member)
    assert c("ZADD", "exact_sl", "-0", "minus0") == integer(1)     # -0 in a skiplist
    assert c("ZADD", "big", *[x for i in range(500) for x in (str(i / 4), "m%d" % i)]) == \
        integer(500)
    assert c("ZREM", "big", "m0", "m1") == integer(2)
    assert len(parse(c("ZPOPMIN", "big", "3"))) == 6
    assert len(parse(c("ZPOPMAX", "big"))) == 2
    assert c("ZREMRANGEBYRANK", "big", "10", "19") == integer(10)
    assert c("ZREMRANGEBYSCORE", "big", "(50", "60") == integer(40)
    assert c("ZADD", "big", "XX", "GT", "CH", "1000", "m5", "0", "m6") == integer(1)
    assert c("ZADD", "lex", *[x for m in ("a", "b", "c", "d", "e") for x in ("0", m)]) == \
        integer(5)
    assert c("ZREMRANGEBYLEX", "lex", "[b", "(d") == integer(2)
    assert c("ZADD", "bin", "1", b"", "2", b"\x00", "3", b"\r\n", "4", b"\xff" * 300) == \
        integer(4)
    assert c("ZADD", "shrunk", *[x for i in range(200) for x in (str(i), "s%d" % i)]) == \
        integer(200)
    assert c("ZREMRANGEBYRANK", "shrunk", "3", "-1") == integer(197)
    assert c("ZADD", "ttl", "1", "a") == integer(1)
    assert c("PEXPIRE", "ttl", "500000") == integer(1)
    assert c("ZUNIONSTORE", "union", "2", "lex", "bin", "WEIGHTS", "2", "0.5") == integer(7)
    assert c("ZINTERSTORE", "inter", "2", "big", "big", "AGGREGATE", "MAX") == integer(444)
    assert c("ZDIFFSTORE", "diff", "2", "big", "inter") == integer(0)
    assert c("ZRANGESTORE", "rstore", "big", "20", "(10", "BYSCORE", "REV", "LIMIT", "1", "5") \
        == integer(5)
    assert c("ZMPOP", "2", "nokey", "rstore", "MIN", "COUNT", "2") != NIL_ARRAY
    assert c("ZADD", "gone", "1", "a") == integer(1)
    assert c("ZPOPMIN", "gone") == flat(("a", "1"))
    assert c("ZADD", "gone2", "1", "a") == integer(1)
    assert c("ZINTERSTORE", "gone2", "2", "gone2", "nokey") == integer(0)
    assert c("SELECT", "1") == OK
    assert c("ZADD", "db1", "1", "x") == integer(1)
    assert c("SELECT", "0") == OK
    assert c("COPY", "lex", "lexcopy", "DB", "1") == integer(1)
    return {(0, b"shrunk")}


def check_exact(c):
    c3 = c
    for key in ("exact_lp", "exact_sl"):
        for member, _, printed in EXACT:
            assert c3("ZSCORE", key, member) == bulk(printed), (key, member)
    assert c("ZSCORE", "exact_sl", "minus0") == bulk("-0")
    assert encoding(c, "exact_lp") == LISTPACK
    assert encoding(c, "exact_sl") == SKIPLIST


def check_restart_keeps(srv, c, before, snapshot_changes=()):
    restart, wait_loaded, _ = _persistence_helpers()
    c.close()
    srv = restart(srv)
    try:
        wait_loaded(srv.client())
        c = Conn(srv)
        after = keyspace_state(c)
        assert set(after) == set(before)
        for k in before:
            assert after[k][:2] == before[k][:2], k
            assert after[k][3] == before[k][3], k
            if k not in snapshot_changes:
                assert after[k][2] == before[k][2], k
        check_exact(c)
        assert 0 < int(c("PTTL", "ttl")[1:-2]) <= 500000
    except BaseException:
        srv.stop()  # the caller only knows the server it passed in
        raise
    return srv, c


@engram_only
def test_sorted_sets_survive_a_restart_through_wal_replay():
    srv = Server()
    c = None
    try:
        c = Conn(srv)
        build_zsets(c)
        check_exact(c)
        before = keyspace_state(c)
        assert before[(0, b"big")][2] == SKIPLIST
        assert before[(0, b"shrunk")][2] == SKIPLIST
        srv, c = check_restart_keeps(srv, c, before)
        assert encoding(c, "shrunk") == SKIPLIST   # replayed, not rebuilt
        # and they still work
        assert c("ZADD", "big", "-1", "first") == integer(1)
        assert c("ZRANGE", "big", "0", "0") == array("first")
        before = keyspace_state(c)
        srv, c = check_restart_keeps(srv, c, before)
    finally:
        if c:
            c.close()
        srv.stop()


@engram_only
@pytest.mark.parametrize("how", ["BGSAVE", "SAVE"])
def test_sorted_sets_survive_a_restart_through_a_snapshot(how):
    _, _, wait_bgsave_done = _persistence_helpers()
    srv = Server()
    c = None
    try:
        c = Conn(srv)
        changes = build_zsets(c)
        if how == "BGSAVE":
            assert c("BGSAVE") == b"+Background saving started\r\n"
            wait_bgsave_done(srv.client())
        else:
            assert c("SAVE") == OK
        assert srv.client().info("persistence")["rdb_last_bgsave_status"] == "ok"
        # writes after the snapshot come from the WAL
        assert c("ZINCRBY", "exact_lp", "0", "sum") == bulk("0.30000000000000004")
        assert c("ZADD", "late", "2", "b", "1", "a") == integer(2)
        assert c("ZPOPMIN", "big", "2") != EMPTY
        before = keyspace_state(c)
        srv, c = check_restart_keeps(srv, c, before, changes)
        # a snapshot stores members, not the encoding: a small skiplist
        # comes back as a listpack, as from a Redis RDB file
        assert encoding(c, "shrunk") == LISTPACK
        loaded = srv.client().info("persistence")["snapshot_loaded_keys"]
        assert loaded >= 12     # every key of build_zsets() came from the snapshot
        # once more, from a snapshot taken after a replay, with nothing after it
        assert c("SAVE") == OK
        before = keyspace_state(c)
        srv, c = check_restart_keeps(srv, c, before)
    finally:
        if c:
            c.close()
        srv.stop()


@engram_only
def test_served_blocked_pops_are_in_the_wal():
    restart, wait_loaded, _ = _persistence_helpers()
    srv = Server()
    try:
        r = srv.client()
        a, b, adder = Conn(srv), Conn(srv), Conn(srv)
        block(a, r, 1, "BZPOPMIN", "k", "0")
        block(b, r, 2, "BZMPOP", "0", "1", "k", "MAX", "COUNT", "2")
        assert adder("ZADD", "k", "1", "w", "2", "x", "3", "y", "4", "z") == integer(4)
        assert a.reply() == popped("k", "w", "1")
        assert b.reply() == mpopped("k", ("z", "4"), ("y", "3"))
        block(a, r, 1, "BZPOPMAX", "e", "0")
        assert adder("ZADD", "e", "0.1", "only") == integer(1)
        assert a.reply() == popped("e", "only", "0.10000000000000001")
        for conn in (a, b, adder):
            conn.close()
        r.close()
        srv = restart(srv)
        wait_loaded(srv.client())
        c = Conn(srv)
        assert zall(c, "k") == ws(("x", "2"))
        assert c("EXISTS", "e") == integer(0)
        c.close()
    finally:
        srv.stop()


@engram_only
def test_rolled_back_exec_leaves_nothing_in_the_wal():
    restart, wait_loaded, _ = _persistence_helpers()
    srv = Server()
    c = None
    try:
        c = Conn(srv)
        assert c("ZADD", "z", "1", "a", "2", "b") == integer(2)
        assert c("SET", "str", "v") == OK
        assert c("MULTI") == OK
        for q in (("ZPOPMIN", "z"), ("ZADD", "z", *[x for i in range(200)
                                                      for x in (str(i), "m%d" % i)]),
                  ("ZADD", "t", "1", "y"), ("INCR", "str")):
            assert c(*q) == QUEUED
        assert c("EXEC").startswith(b"-EXECABORT Transaction rolled back: command 4 (INCR)")
        c.close()
        c = None
        srv = restart(srv)
        wait_loaded(srv.client())
        c = Conn(srv)
        assert zall(c, "z") == ws(("a", "1"), ("b", "2"))
        assert encoding(c, "z") == LISTPACK
        assert c("EXISTS", "t") == integer(0)
    finally:
        if c:
            c.close()
        srv.stop()


def used_memory(conn):
    info = conn("INFO", "memory")
    return int(info.split(b"used_memory:", 1)[1].split(b"\r\n", 1)[0])


def zset_workload(c):
    """Every sorted-set command once or more, ending with an empty keyspace."""
    c("ZADD", "a", *[x for i in range(100) for x in (str(i), "m%d" % i)])
    c("ZADD", "b", *[x for i in range(50) for x in (str(-i), "m%d" % (i * 2))])
    c("ZADD", "small", "1", "x", "2", "y", "3", "z")
    c("SADD", "s", "m1", "m2", "x")
    for args in [("ZRANGE", "a", "0", "-1", "WITHSCORES"), ("ZRANGE", "a", "(5", "50", "BYSCORE",
                                                            "REV", "LIMIT", "1", "5"),
                 ("ZRANGE", "small", "-", "+", "BYLEX"), ("ZREVRANGE", "b", "0", "9"),
                 ("ZRANGEBYSCORE", "b", "-inf", "inf", "WITHSCORES"),
                 ("ZREVRANGEBYLEX", "small", "+", "-"), ("ZCOUNT", "a", "1", "9"),
                 ("ZLEXCOUNT", "small", "-", "+"), ("ZSCORE", "a", "m5"),
                 ("ZMSCORE", "a", "m1", "no"), ("ZRANK", "a", "m50"), ("ZREVRANK", "b", "m2"),
                 ("ZINCRBY", "a", "0.5", "m3"), ("ZADD", "a", "INCR", "1", "m4"),
                 ("ZRANDMEMBER", "a", "-20", "WITHSCORES"), ("ZRANDMEMBER", "small", "5"),
                 ("ZRANDMEMBER", "b"), ("ZUNION", "3", "a", "b", "s", "WITHSCORES"),
                 ("ZINTER", "2", "a", "b"), ("ZDIFF", "2", "a", "s"),
                 ("ZUNIONSTORE", "u", "2", "a", "b"), ("ZINTERSTORE", "i", "2", "a", "s"),
                 ("ZDIFFSTORE", "d", "2", "a", "b"), ("ZINTERCARD", "2", "a", "b", "LIMIT", "3"),
                 ("ZRANGESTORE", "r", "a", "0", "9"), ("ZSCAN", "a", "0", "MATCH", "m1*"),
                 ("ZSCAN", "small", "0"), ("ZPOPMIN", "a", "3"), ("ZPOPMAX", "b"),
                 ("ZMPOP", "2", "nokey", "a", "MAX", "COUNT", "2"),
                 ("BZPOPMIN", "small", "0"), ("BZMPOP", "0", "1", "b", "MIN"),
                 ("ZREMRANGEBYRANK", "a", "0", "4"), ("ZREMRANGEBYSCORE", "b", "-10", "-5"),
                 ("ZREMRANGEBYLEX", "small", "-", "+"), ("ZREM", "a", "m90", "m91"),
                 ("ZADD", "a", "x", "bad"), ("ZRANGE", "a", "0", "1", "LIMIT", "0", "1")]:
        c(*args)
    assert c("MULTI") == OK
    for q in (("ZADD", "a", "1", "zz"), ("ZPOPMIN", "b", "5"),
              ("ZADD", "small", *[x for i in range(150) for x in (str(i), "n%d" % i)]),
              ("ZUNIONSTORE", "u", "1", "a"), ("INCR", "a")):
        c(*q)
    assert c("EXEC").startswith(b"-EXECABORT")
    assert c("COPY", "b", "bc") == integer(1)
    assert c("RENAME", "bc", "bd") == OK
    c("DEL", "a", "b", "small", "s", "u", "i", "d", "r", "bd")
    assert c("DBSIZE") == integer(0)


@engram_only
def test_sorted_set_commands_leak_nothing(c):
    """Leaks in a server that the tests SIGKILL are invisible to ASan: watch
    used_memory instead. One of two windows of 60 rounds must stay flat (a
    leak of one 16-byte block per round is 960 bytes)."""
    for _ in range(40):
        zset_workload(c)
    marks = [used_memory(c)]
    for _ in range(2):
        for _ in range(60):
            zset_workload(c)
        marks.append(used_memory(c))
    growth = [marks[1] - marks[0], marks[2] - marks[1]]
    assert min(growth) < 512, growth
