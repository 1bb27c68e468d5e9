"""
Lists: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT
LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP and the blocking BLPOP BRPOP BLMOVE
BRPOPLPUSH BLMPOP, plus lists seen by the generic commands (TYPE, OBJECT
ENCODING, RENAME, COPY, MOVE, SWAPDB) and by the other types' commands.

Every expectation in the Redis-compatible part was checked against Redis
7.0.15 (ENGRAM_TEST_REDIS=1). Replies are compared byte for byte through raw
sockets, RESP2 and RESP3, where the exact shape matters (a missing key is a
null bulk for LPOP key but a null array for LPOP key count; a blocking
timeout is a null array even for BLMOVE); redis-py is used for the bulkier
property checks.

Blocking tests use several raw connections: a client sends its blocking
command and the test waits until INFO reports it blocked (wait_blocked())
before another client acts, so the order of events does not depend on
sleeps. Every wait is bounded (socket timeouts, deadlines).

Notes
  * Redis 7.0 reports every list as "quicklist" (the listpack encoding for
    small lists came in 7.2), and so does engram.
  * In Redis 7.0 a client blocked on several keys is served by the key that
    got data first (the order keys were signalled), not by the first key of
    its command that has data: this matters when one EXEC pushes to several
    of them, or when a served BLMOVE moves an element into another of them.
  * LPOS RANK -9223372036854775808: 7.0.15 negates it with an overflow and
    answers as for RANK -1; 7.2 answers "value is out of range", and so
    does engram (tested engram only).
  * Not tested, on purpose: a tiny negative timeout such as BLPOP k -0.0001
    (7.0.15 rounds it to 0 ms, which means wait forever), a Redis 7.0
    artefact no client relies on.
  * The last parts are engram only: rollback of a failed EXEC that touched
    lists, and which must not serve a blocked client (docs/transactions.md),
    lists surviving a restart through WAL replay and through a snapshot, and
    a served blocked pop being in the WAL.
"""
import random
import threading
import time

import pytest

import conftest
from conftest import Server, encode_command
from rawconn import (Conn, arity, array, block, blocked_count, bulk, c, c2, c3, conns,
                     integer, wait_blocked)  # noqa: F401 (fixtures)

cmd = encode_command

OK = b"+OK\r\n"
QUEUED = b"+QUEUED\r\n"
PONG = b"+PONG\r\n"
NIL = b"$-1\r\n"
NIL_ARRAY = b"*-1\r\n"
NULL3 = b"_\r\n"
EMPTY = b"*0\r\n"
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
NOT_INT = b"-ERR value is not an integer or out of range\r\n"
SYNTAX = b"-ERR syntax error\r\n"
MUST_BE_POSITIVE = b"-ERR value is out of range, must be positive\r\n"
NO_SUCH_KEY = b"-ERR no such key\r\n"
INDEX_OUT_OF_RANGE = b"-ERR index out of range\r\n"
TIMEOUT_NOT_FLOAT = b"-ERR timeout is not a float or out of range\r\n"
TIMEOUT_NEGATIVE = b"-ERR timeout is negative\r\n"
NUMKEYS = b"-ERR numkeys should be greater than 0\r\n"
COUNT_POSITIVE = b"-ERR count should be greater than 0\r\n"
RANK_ZERO = (b"-ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
             b"second ... or use negative to start from the end of the list\r\n")
COUNT_NEGATIVE = b"-ERR COUNT can't be negative\r\n"
MAXLEN_NEGATIVE = b"-ERR MAXLEN can't be negative\r\n"

I64_MAX = 9223372036854775807
I64_MIN = -9223372036854775808

# How long a test waits to be sure that nothing arrives.


def ints(*items):
    """A RESP2 array of integers."""
    return b"*%d\r\n" % len(items) + b"".join(integer(i) for i in items)


def popped(key, *elems):
    """The reply of BLPOP/BRPOP: key and element."""
    return array(key, *elems)


def mpopped(key, *elems):
    """The reply of LMPOP/BLMPOP: key and an array of elements."""
    return b"*2\r\n" + bulk(key) + array(*elems)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

@pytest.fixture
def own():
    """A server for this test only."""
    s = Server()
    yield s
    s.stop()


def lrange(conn, key):
    return conn("LRANGE", key, "0", "-1")


def client_flags(r, name):
    """The CLIENT LIST fields of the client called name."""
    for fields in r.client_list():
        if fields.get("name") == name:
            return fields
    raise AssertionError("client %s not in CLIENT LIST" % name)


# --------------------------------------------------------------------------
# LPUSH RPUSH LPUSHX RPUSHX
# --------------------------------------------------------------------------

def test_push_order_and_lengths(c):
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("RPUSH", "l", "b", "c") == integer(3)
    assert c("LPUSH", "l", "x", "y", "z") == integer(6)
    # LPUSH pushes one argument after the other at the head
    assert lrange(c, "l") == array("z", "y", "x", "a", "b", "c")
    assert c("LLEN", "l") == integer(6)
    assert c("TYPE", "l") == b"+list\r\n"
    assert c("OBJECT", "ENCODING", "l") == bulk("quicklist")


def test_pushx_only_on_existing_lists(c):
    assert c("LPUSHX", "l", "a") == integer(0)
    assert c("RPUSHX", "l", "a", "b") == integer(0)
    assert c("EXISTS", "l") == integer(0)
    assert c("RPUSH", "l", "m") == integer(1)
    assert c("LPUSHX", "l", "x", "y", "z") == integer(4)
    assert c("RPUSHX", "l", "1", "2") == integer(6)
    assert lrange(c, "l") == array("z", "y", "x", "m", "1", "2")


def test_push_binary_and_empty_elements(c):
    elems = [b"", b"\x00", b"a\r\nb", b"\xff\xfe\x00\r\n", b"x" * 100000, b"$-1\r\n", b"*1"]
    assert c("RPUSH", "l", *elems) == integer(len(elems))
    assert lrange(c, "l") == array(*elems)
    for i, e in enumerate(elems):
        assert c("LINDEX", "l", str(i)) == bulk(e)
    # an element that looks like an integer stays a string, byte for byte
    assert c("RPUSH", "n", "007", "-0", "1e3", "9223372036854775808") == integer(4)
    assert lrange(c, "n") == array("007", "-0", "1e3", "9223372036854775808")


def test_push_many_arguments(c):
    elems = ["e%d" % i for i in range(3000)]
    assert c("RPUSH", "l", *elems) == integer(3000)
    assert c("LPUSH", "l", *elems) == integer(6000)
    assert c("LLEN", "l") == integer(6000)
    assert c("LINDEX", "l", "0") == bulk("e2999")
    assert c("LINDEX", "l", "2999") == bulk("e0")
    assert c("LINDEX", "l", "3000") == bulk("e0")
    assert c("LINDEX", "l", "-1") == bulk("e2999")


def test_push_arity_and_wrongtype(c):
    for name in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
        assert c(name) == arity(name.lower())
        assert c(name, "l") == arity(name.lower())
    assert c("SET", "s", "v") == OK
    for name in ("LPUSH", "RPUSH", "LPUSHX", "RPUSHX"):
        assert c(name, "s", "a") == WRONGTYPE
    assert c("GET", "s") == bulk("v")


def test_string_commands_on_a_list_are_wrongtype(c):
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("GET", "l") == WRONGTYPE
    assert c("APPEND", "l", "x") == WRONGTYPE
    assert c("INCR", "l") == WRONGTYPE
    assert c("HSET", "l", "f", "v") == WRONGTYPE
    assert c("SADD", "l", "m") == WRONGTYPE
    # SET overwrites whatever type
    assert c("SET", "l", "v") == OK
    assert c("LLEN", "l") == WRONGTYPE


# --------------------------------------------------------------------------
# LPOP RPOP
# --------------------------------------------------------------------------

def test_pop_single(c):
    assert c("RPUSH", "l", "a", "b", "c") == integer(3)
    assert c("LPOP", "l") == bulk("a")
    assert c("RPOP", "l") == bulk("c")
    assert c("LPOP", "l") == bulk("b")
    # the emptied list is gone
    assert c("EXISTS", "l") == integer(0)
    assert c("LPOP", "l") == NIL
    assert c("RPOP", "l") == NIL


def test_pop_with_count(c):
    assert c("RPUSH", "l", "a", "b", "c", "d", "e") == integer(5)
    assert c("LPOP", "l", "2") == array("a", "b")
    assert c("RPOP", "l", "1") == array("e")
    assert c("LPOP", "l", "0") == EMPTY
    assert c("RPOP", "l", "0") == EMPTY
    assert c("RPOP", "l", "10") == array("d", "c")
    assert c("EXISTS", "l") == integer(0)
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LPOP", "l", str(I64_MAX)) == array("a")
    assert c("EXISTS", "l") == integer(0)


def test_pop_missing_key_reply_shapes(c, c3):
    # without count a null bulk, with count (even 0) a null array
    assert c("LPOP", "nokey") == NIL
    assert c("RPOP", "nokey") == NIL
    assert c("LPOP", "nokey", "1") == NIL_ARRAY
    assert c("RPOP", "nokey", "5") == NIL_ARRAY
    assert c("LPOP", "nokey", "0") == NIL_ARRAY
    for args in (("LPOP", "nokey"), ("RPOP", "nokey"), ("LPOP", "nokey", "3"),
                 ("RPOP", "nokey", "0")):
        assert c3(*args) == NULL3, args
    assert c3("RPUSH", "l", "a", "b") == integer(2)
    assert c3("LPOP", "l", "1") == array("a")
    assert c3("RPOP", "l") == bulk("b")


def test_pop_count_errors(c):
    assert c("RPUSH", "l", "a") == integer(1)
    for bad in ("-1", "abc", "1.5", "", str(I64_MAX + 1), str(I64_MIN)):
        assert c("LPOP", "l", bad) == MUST_BE_POSITIVE, bad
        assert c("RPOP", "nokey", bad) == MUST_BE_POSITIVE, bad
    # the count is checked before the type
    assert c("SET", "s", "v") == OK
    assert c("LPOP", "s", "-1") == MUST_BE_POSITIVE
    assert c("LPOP", "s") == WRONGTYPE
    assert c("RPOP", "s", "1") == WRONGTYPE
    assert c("LLEN", "l") == integer(1)


def test_pop_arity(c):
    assert c("LPOP") == arity("lpop")
    assert c("RPOP") == arity("rpop")
    assert c("RPUSH", "l", "a", "b") == integer(2)
    # one argument too many is an arity error (not a syntax error), key or not
    assert c("LPOP", "l", "1", "2") == arity("lpop")
    assert c("RPOP", "l", "1", "2") == arity("rpop")
    assert c("LPOP", "nokey", "a", "b") == arity("lpop")
    assert c("LLEN", "l") == integer(2)


# --------------------------------------------------------------------------
# LLEN LRANGE LINDEX
# --------------------------------------------------------------------------

def test_llen(c):
    assert c("LLEN", "nokey") == integer(0)
    assert c("RPUSH", "l", "a", "b") == integer(2)
    assert c("LLEN", "l") == integer(2)
    assert c("LLEN") == arity("llen")
    assert c("LLEN", "l", "x") == arity("llen")
    assert c("SET", "s", "v") == OK
    assert c("LLEN", "s") == WRONGTYPE


@pytest.mark.parametrize("start,stop,expected", [
    ("0", "-1", "abcde"),
    ("-100", "100", "abcde"),
    ("1", "3", "bcd"),
    ("-2", "-1", "de"),
    ("2", "1", ""),
    ("-1", "-2", ""),
    ("5", "10", ""),
    ("4", "4", "e"),
    ("-5", "-5", "a"),
    ("-6", "0", "a"),
    ("0", "-6", ""),
    ("3", "-3", ""),
    (str(I64_MAX), str(I64_MIN), ""),
    (str(I64_MIN), str(I64_MAX), "abcde"),
    (str(I64_MIN), str(I64_MIN), ""),
    (str(I64_MAX), str(I64_MAX), ""),
])
def test_lrange(c, start, stop, expected):
    assert c("RPUSH", "l", *"abcde") == integer(5)
    assert c("LRANGE", "l", start, stop) == array(*expected)


def test_lrange_errors(c):
    assert c("LRANGE", "nokey", "0", "-1") == EMPTY
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LRANGE", "l", "a", "1") == NOT_INT
    assert c("LRANGE", "l", "1", "b") == NOT_INT
    assert c("LRANGE", "l", "0", str(I64_MAX + 1)) == NOT_INT
    assert c("LRANGE", "nokey", "a", "b") == NOT_INT
    assert c("LRANGE", "l", "0") == arity("lrange")
    assert c("LRANGE", "l", "0", "1", "2") == arity("lrange")
    assert c("SET", "s", "v") == OK
    assert c("LRANGE", "s", "0", "1") == WRONGTYPE


def test_lindex(c):
    assert c("RPUSH", "l", *"abcde") == integer(5)
    assert c("LINDEX", "l", "0") == bulk("a")
    assert c("LINDEX", "l", "4") == bulk("e")
    assert c("LINDEX", "l", "-1") == bulk("e")
    assert c("LINDEX", "l", "-5") == bulk("a")
    assert c("LINDEX", "l", "5") == NIL
    assert c("LINDEX", "l", "-6") == NIL
    assert c("LINDEX", "l", str(I64_MAX)) == NIL
    assert c("LINDEX", "l", str(I64_MIN)) == NIL
    assert c("LINDEX", "nokey", "0") == NIL
    assert c("LINDEX", "l", "x") == NOT_INT
    assert c("LINDEX", "l", "1.0") == NOT_INT
    assert c("LINDEX", "l") == arity("lindex")


def test_lindex_resp3(c3):
    assert c3("LINDEX", "nokey", "0") == NULL3
    assert c3("RPUSH", "l", "a") == integer(1)
    assert c3("LINDEX", "l", "1") == NULL3
    assert c3("LINDEX", "l", "0") == bulk("a")


def test_lindex_looks_up_the_key_before_parsing_the_index(c):
    # Redis 7.0: a missing key answers nil and a wrong type WRONGTYPE, whatever the index
    assert c("LINDEX", "nokey", "x") == NIL
    assert c("SET", "s", "v") == OK
    assert c("LINDEX", "s", "0") == WRONGTYPE
    assert c("LINDEX", "s", "x") == WRONGTYPE


# --------------------------------------------------------------------------
# LSET
# --------------------------------------------------------------------------

def test_lset(c):
    assert c("RPUSH", "l", *"abcde") == integer(5)
    assert c("LSET", "l", "0", "A") == OK
    assert c("LSET", "l", "-1", "E") == OK
    assert c("LSET", "l", "2", "") == OK
    assert c("LSET", "l", "-4", "x" * 1000) == OK
    assert lrange(c, "l") == array("A", "x" * 1000, "", "d", "E")
    assert c("LSET", "l", "5", "x") == INDEX_OUT_OF_RANGE
    assert c("LSET", "l", "-6", "x") == INDEX_OUT_OF_RANGE
    assert c("LSET", "l", str(I64_MAX), "x") == INDEX_OUT_OF_RANGE
    assert c("LSET", "l", str(I64_MIN), "x") == INDEX_OUT_OF_RANGE
    assert c("LSET", "l", "x", "y") == NOT_INT
    assert c("LSET", "nokey", "0", "x") == NO_SUCH_KEY
    assert c("EXISTS", "nokey") == integer(0)
    assert c("LSET", "l", "0") == arity("lset")
    assert lrange(c, "l") == array("A", "x" * 1000, "", "d", "E")


def test_lset_looks_up_the_key_before_parsing_the_index(c):
    # Redis 7.0: "no such key" and WRONGTYPE come before the index is parsed
    assert c("LSET", "nokey", "x", "v") == NO_SUCH_KEY
    assert c("SET", "s", "v") == OK
    assert c("LSET", "s", "0", "x") == WRONGTYPE
    assert c("LSET", "s", "x", "y") == WRONGTYPE


# --------------------------------------------------------------------------
# LINSERT
# --------------------------------------------------------------------------

def test_linsert(c):
    assert c("RPUSH", "l", "a", "b", "c", "b") == integer(4)
    assert c("LINSERT", "l", "BEFORE", "a", "z") == integer(5)
    assert c("LINSERT", "l", "after", "b", "b2") == integer(6)  # first match only
    assert c("LINSERT", "l", "After", "b", "b3") == integer(7)
    assert c("LINSERT", "l", "before", "b", "b0") == integer(8)
    assert c("LINSERT", "l", "AFTER", "c", "last?") == integer(9)
    assert c("LINSERT", "l", "AFTER", "b", "") == integer(10)
    assert lrange(c, "l") == array("z", "a", "b0", "b", "", "b3", "b2", "c", "last?", "b")
    assert c("LINSERT", "l", "BEFORE", "nosuch", "x") == integer(-1)
    assert c("LINSERT", "l", "BEFORE", "B", "x") == integer(-1)  # case-sensitive pivot
    assert c("LINSERT", "nokey", "BEFORE", "a", "b") == integer(0)
    assert c("EXISTS", "nokey") == integer(0)
    assert c("LLEN", "l") == integer(10)


def test_linsert_at_both_ends_of_a_long_list(c):
    n = 300
    assert c("RPUSH", "l", *[str(i) for i in range(n)]) == integer(n)
    assert c("LPOP", "l", "100") == array(*[str(i) for i in range(100)])
    assert c("RPUSH", "l", *[str(i) for i in range(n, n + 50)]) == integer(250)
    model = [str(i) for i in range(100, n + 50)]
    for pivot, where in (("100", "BEFORE"), ("100", "AFTER"), (str(n + 49), "AFTER"),
                         (str(n + 49), "BEFORE"), ("101", "BEFORE"), (str(n + 48), "AFTER"),
                         ("200", "BEFORE"), ("201", "AFTER")):
        i = model.index(pivot) + (1 if where == "AFTER" else 0)
        model.insert(i, "new-%s-%s" % (where, pivot))
        assert c("LINSERT", "l", where, pivot, model[i]) == integer(len(model))
    assert lrange(c, "l") == array(*model)


def test_linsert_errors(c):
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LINSERT", "l", "MIDDLE", "a", "x") == SYNTAX
    assert c("LINSERT", "nokey", "MIDDLE", "a", "x") == SYNTAX
    assert c("LINSERT", "l", "BEFORE", "a") == arity("linsert")
    assert c("LINSERT", "l", "BEFORE", "a", "x", "y") == arity("linsert")
    assert c("SET", "s", "v") == OK
    assert c("LINSERT", "s", "BEFORE", "a", "x") == WRONGTYPE
    assert c("LINSERT", "s", "MIDDLE", "a", "x") == SYNTAX
    assert lrange(c, "l") == array("a")


# --------------------------------------------------------------------------
# LREM
# --------------------------------------------------------------------------

def test_lrem_counts(c):
    assert c("RPUSH", "l", *"xaxbxcx") == integer(7)
    assert c("LREM", "l", "2", "x") == integer(2)        # the first two from the head
    assert lrange(c, "l") == array(*"abxcx")
    assert c("LREM", "l", "-1", "x") == integer(1)       # the last one
    assert lrange(c, "l") == array(*"abxc")
    assert c("LREM", "l", "0", "nosuch") == integer(0)
    assert c("RPUSH", "l", *"xxx") == integer(7)
    assert c("LREM", "l", "0", "x") == integer(4)        # all
    assert lrange(c, "l") == array(*"abc")
    assert c("LREM", "l", "5", "a") == integer(1)        # more than there are
    assert c("LREM", "l", "-5", "c") == integer(1)
    assert c("LREM", "l", "1", "b") == integer(1)
    # the emptied list is gone
    assert c("EXISTS", "l") == integer(0)
    assert c("LREM", "nokey", "0", "a") == integer(0)


def test_lrem_from_the_tail_keeps_order(c):
    assert c("RPUSH", "l", "a1", "x", "a2", "x", "a3", "x", "a4") == integer(7)
    assert c("LREM", "l", "-2", "x") == integer(2)
    assert lrange(c, "l") == array("a1", "x", "a2", "a3", "a4")


def test_lrem_extreme_counts(own):
    # on a server of its own: a crash here must not take the other tests along
    c = Conn(own)
    assert c("RPUSH", "l", *"xaxbxcx") == integer(7)
    assert c("LREM", "l", str(I64_MAX), "x") == integer(4)
    assert c("RPUSH", "l", *"xx") == integer(5)
    assert c("LREM", "l", str(I64_MIN), "x") == integer(2)
    assert lrange(c, "l") == array(*"abc")
    assert c("PING") == PONG


def test_lrem_errors(c):
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LREM", "l", "x", "a") == NOT_INT
    assert c("LREM", "nokey", "x", "a") == NOT_INT
    assert c("LREM", "l", "0") == arity("lrem")
    assert c("SET", "s", "v") == OK
    assert c("LREM", "s", "0", "a") == WRONGTYPE
    assert c("LREM", "s", "x", "a") == NOT_INT


# --------------------------------------------------------------------------
# LTRIM
# --------------------------------------------------------------------------

@pytest.mark.parametrize("start,stop,expected", [
    ("1", "-2", "bcde"),
    ("0", "-1", "abcdef"),
    ("-100", "100", "abcdef"),
    ("-1", "-1", "f"),
    ("0", "0", "a"),
    ("2", "3", "cd"),
    (str(I64_MIN), str(I64_MAX), "abcdef"),
    # everything trimmed away: the key disappears
    ("2", "1", None),
    ("6", "10", None),
    ("-1", "-2", None),
    ("0", "-7", None),
    (str(I64_MAX), str(I64_MIN), None),
])
def test_ltrim(c, start, stop, expected):
    assert c("RPUSH", "l", *"abcdef") == integer(6)
    assert c("LTRIM", "l", start, stop) == OK
    if expected is None:
        assert c("EXISTS", "l") == integer(0)
    else:
        assert lrange(c, "l") == array(*expected)


def test_ltrim_errors(c):
    assert c("LTRIM", "nokey", "0", "1") == OK
    assert c("EXISTS", "nokey") == integer(0)
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LTRIM", "l", "x", "1") == NOT_INT
    assert c("LTRIM", "l", "0", "y") == NOT_INT
    assert c("LTRIM", "nokey", "x", "1") == NOT_INT
    assert c("LTRIM", "l", "0") == arity("ltrim")
    assert c("SET", "s", "v") == OK
    assert c("LTRIM", "s", "0", "1") == WRONGTYPE
    assert c("LTRIM", "s", "x", "1") == NOT_INT
    assert lrange(c, "l") == array("a")


def test_ltrim_long_list_then_use_it(c):
    assert c("RPUSH", "l", *[str(i) for i in range(2000)]) == integer(2000)
    assert c("LTRIM", "l", "1000", "1009") == OK
    assert lrange(c, "l") == array(*[str(i) for i in range(1000, 1010)])
    assert c("LPUSH", "l", "h") == integer(11)
    assert c("RPUSH", "l", "t") == integer(12)
    assert c("LINDEX", "l", "0") == bulk("h")
    assert c("LINDEX", "l", "-1") == bulk("t")
    assert c("LINDEX", "l", "5") == bulk("1004")


# --------------------------------------------------------------------------
# LPOS
# --------------------------------------------------------------------------

LPOS_LIST = ["a", "b", "c", "1", "2", "3", "c", "c", "a"]


@pytest.mark.parametrize("args,expected", [
    (("c",), integer(2)),
    (("a",), integer(0)),
    (("x",), NIL),
    (("c", "RANK", "2"), integer(6)),
    (("c", "RANK", "3"), integer(7)),
    (("c", "RANK", "4"), NIL),
    (("c", "RANK", "-1"), integer(7)),
    (("c", "RANK", "-2"), integer(6)),
    (("c", "RANK", "-3"), integer(2)),
    (("c", "RANK", "-4"), NIL),
    (("c", "RANK", str(I64_MAX)), NIL),
    (("a", "RANK", str(-I64_MAX)), NIL),
    (("c", "COUNT", "0"), ints(2, 6, 7)),
    (("c", "COUNT", "1"), ints(2)),
    (("c", "COUNT", "2"), ints(2, 6)),
    (("c", "COUNT", "100"), ints(2, 6, 7)),
    (("c", "COUNT", str(I64_MAX)), ints(2, 6, 7)),
    (("x", "COUNT", "0"), EMPTY),
    (("x", "COUNT", "2", "RANK", "-1"), EMPTY),
    (("c", "COUNT", "2", "RANK", "-1"), ints(7, 6)),
    (("c", "COUNT", "0", "RANK", "2"), ints(6, 7)),
    (("c", "COUNT", "0", "RANK", "-2"), ints(6, 2)),
    (("c", "COUNT", "0", "MAXLEN", "3"), ints(2)),
    (("c", "MAXLEN", "3"), integer(2)),
    (("c", "MAXLEN", "2"), NIL),
    (("c", "MAXLEN", "0"), integer(2)),
    (("c", "MAXLEN", str(I64_MAX)), integer(2)),
    (("c", "RANK", "-1", "MAXLEN", "2"), integer(7)),
    (("c", "RANK", "-1", "MAXLEN", "1"), NIL),
    (("c", "RANK", "2", "MAXLEN", "6"), NIL),
    (("c", "RANK", "2", "MAXLEN", "7"), integer(6)),
    (("c", "COUNT", "0", "RANK", "-1", "MAXLEN", "3"), ints(7, 6)),
    (("a", "COUNT", "0", "MAXLEN", "1"), ints(0)),
    (("c", "COUNT", "0", "MAXLEN", "1"), EMPTY),
    (("c", "rank", "1", "count", "1", "maxlen", "0"), ints(2)),
    # a repeated option: the last one counts
    (("c", "RANK", "1", "RANK", "2"), integer(6)),
    (("c", "COUNT", "5", "COUNT", "1"), ints(2)),
])
def test_lpos(c, args, expected):
    assert c("RPUSH", "l", *LPOS_LIST) == integer(len(LPOS_LIST))
    assert c("LPOS", "l", *args) == expected


def test_lpos_missing_key_and_resp3(c, c3):
    assert c("LPOS", "nokey", "a") == NIL
    assert c("LPOS", "nokey", "a", "COUNT", "0") == EMPTY
    assert c("LPOS", "nokey", "a", "COUNT", "1", "RANK", "-2") == EMPTY
    assert c3("LPOS", "nokey", "a") == NULL3
    assert c3("RPUSH", "l", "a", "b", "a") == integer(3)
    assert c3("LPOS", "l", "x") == NULL3
    assert c3("LPOS", "l", "a", "COUNT", "0") == ints(0, 2)


def test_lpos_errors(c):
    assert c("RPUSH", "l", "a") == integer(1)
    for key in ("l", "nokey"):
        assert c("LPOS", key, "a", "RANK", "0") == RANK_ZERO
        assert c("LPOS", key, "a", "COUNT", "-1") == COUNT_NEGATIVE
        assert c("LPOS", key, "a", "MAXLEN", "-1") == MAXLEN_NEGATIVE
        assert c("LPOS", key, "a", "RANK", "x") == NOT_INT
        assert c("LPOS", key, "a", "FOO", "1") == SYNTAX
        # the option's name is checked before its value
        assert c("LPOS", key, "a", "FOO", "bar") == SYNTAX
        assert c("LPOS", key, "a", "RANK", "1", "FOO", "x") == SYNTAX
        assert c("LPOS", key, "a", "RANK") == SYNTAX
        assert c("LPOS", key, "a", "RANK", "1", "COUNT") == SYNTAX
    assert c("LPOS", "l") == arity("lpos")
    assert c("SET", "s", "v") == OK
    assert c("LPOS", "s", "a") == WRONGTYPE
    # the options are checked before the type
    assert c("LPOS", "s", "a", "RANK", "0") == RANK_ZERO


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="7.0.15 takes it for RANK -1 (fixed in 7.2)")
def test_lpos_rank_int64_min_is_out_of_range(c):
    # -RANK would overflow: refused with Redis 7.2's error, before the type
    assert c("RPUSH", "l", "a", "a") == integer(2)
    assert c("SET", "s", "v") == OK
    for key in ("l", "nokey", "s"):
        assert c("LPOS", key, "a", "RANK", str(I64_MIN)) == \
            b"-ERR value is out of range, value must between -9223372036854775807 and " \
            b"9223372036854775807\r\n"
    assert c("LPOS", "l", "a", "RANK", str(I64_MIN + 1)) == NIL


def test_lpos_count_and_maxlen_that_are_not_integers(c):
    # Redis 7.0 parses COUNT and MAXLEN with the "can't be negative" message
    assert c("LPOS", "nokey", "a", "COUNT", "x") == COUNT_NEGATIVE
    assert c("LPOS", "nokey", "a", "MAXLEN", "x") == MAXLEN_NEGATIVE
    assert c("LPOS", "nokey", "a", "COUNT", "1.5") == COUNT_NEGATIVE


# --------------------------------------------------------------------------
# LMOVE RPOPLPUSH
# --------------------------------------------------------------------------

@pytest.mark.parametrize("wherefrom,whereto,moved,src,dst", [
    ("LEFT", "LEFT", "a", "bc", "axy"),
    ("LEFT", "RIGHT", "a", "bc", "xya"),
    ("RIGHT", "LEFT", "c", "ab", "cxy"),
    ("RIGHT", "RIGHT", "c", "ab", "xyc"),
])
def test_lmove_directions(c, wherefrom, whereto, moved, src, dst):
    assert c("RPUSH", "src", *"abc") == integer(3)
    assert c("RPUSH", "dst", *"xy") == integer(2)
    assert c("LMOVE", "src", "dst", wherefrom.lower(), whereto) == bulk(moved)
    assert lrange(c, "src") == array(*src)
    assert lrange(c, "dst") == array(*dst)


def test_lmove_creates_dst_and_deletes_emptied_src(c):
    assert c("RPUSH", "src", "only") == integer(1)
    assert c("LMOVE", "src", "dst", "LEFT", "RIGHT") == bulk("only")
    assert c("EXISTS", "src") == integer(0)
    assert lrange(c, "dst") == array("only")
    assert c("LMOVE", "src", "dst", "LEFT", "RIGHT") == NIL
    assert c("RPOPLPUSH", "src", "dst") == NIL
    assert c("EXISTS", "src") == integer(0)
    assert lrange(c, "dst") == array("only")


def test_lmove_same_key_rotates(c):
    assert c("RPUSH", "l", *"abcd") == integer(4)
    assert c("LMOVE", "l", "l", "LEFT", "RIGHT") == bulk("a")
    assert lrange(c, "l") == array(*"bcda")
    assert c("LMOVE", "l", "l", "RIGHT", "LEFT") == bulk("a")
    assert lrange(c, "l") == array(*"abcd")
    assert c("RPOPLPUSH", "l", "l") == bulk("d")
    assert lrange(c, "l") == array(*"dabc")
    assert c("LMOVE", "l", "l", "LEFT", "LEFT") == bulk("d")
    assert c("LMOVE", "l", "l", "RIGHT", "RIGHT") == bulk("c")
    assert lrange(c, "l") == array(*"dabc")
    # a single element list stays
    assert c("RPUSH", "one", "x") == integer(1)
    assert c("LMOVE", "one", "one", "LEFT", "RIGHT") == bulk("x")
    assert c("RPOPLPUSH", "one", "one") == bulk("x")
    assert lrange(c, "one") == array("x")


def test_rpoplpush(c):
    assert c("RPUSH", "src", *"abc") == integer(3)
    assert c("RPOPLPUSH", "src", "dst") == bulk("c")
    assert c("RPOPLPUSH", "src", "dst") == bulk("b")
    assert lrange(c, "dst") == array("b", "c")
    assert lrange(c, "src") == array("a")
    assert c("RPOPLPUSH", "src") == arity("rpoplpush")


def test_lmove_wrongtype(c):
    assert c("RPUSH", "l", *"abc") == integer(3)
    assert c("SET", "s", "v") == OK
    assert c("LMOVE", "s", "l", "LEFT", "LEFT") == WRONGTYPE
    # a wrong-type destination leaves the source alone
    assert c("LMOVE", "l", "s", "LEFT", "LEFT") == WRONGTYPE
    assert c("RPOPLPUSH", "l", "s") == WRONGTYPE
    assert c("RPOPLPUSH", "s", "l") == WRONGTYPE
    assert lrange(c, "l") == array(*"abc")
    assert c("GET", "s") == bulk("v")
    # a missing source is nil before the destination's type is looked at
    assert c("LMOVE", "nokey", "s", "LEFT", "LEFT") == NIL
    assert c("RPOPLPUSH", "nokey", "s") == NIL


def test_lmove_errors(c, c3):
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LMOVE", "l", "d", "UP", "LEFT") == SYNTAX
    assert c("LMOVE", "l", "d", "LEFT", "DOWN") == SYNTAX
    assert c("LMOVE", "nokey", "d", "LEFT", "DOWN") == SYNTAX
    assert c("LMOVE", "l", "d", "LEFT") == arity("lmove")
    assert c("LMOVE", "l", "d", "LEFT", "LEFT", "x") == arity("lmove")
    assert lrange(c, "l") == array("a")
    assert c3("LMOVE", "nokey", "d", "LEFT", "LEFT") == NULL3
    assert c3("RPOPLPUSH", "nokey", "d") == NULL3


# --------------------------------------------------------------------------
# LMPOP
# --------------------------------------------------------------------------

def test_lmpop(c, c3):
    assert c("RPUSH", "b", *"abcde") == integer(5)
    assert c("LMPOP", "2", "a", "b", "LEFT") == mpopped("b", "a")
    assert c("LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2") == mpopped("b", "e", "d")
    assert c("LMPOP", "1", "b", "left", "count", "10") == mpopped("b", "b", "c")
    assert c("EXISTS", "b") == integer(0)
    assert c("LMPOP", "2", "a", "b", "LEFT") == NIL_ARRAY
    assert c("LMPOP", "1", "b", "RIGHT", "COUNT", str(I64_MAX)) == NIL_ARRAY
    assert c3("LMPOP", "2", "a", "b", "LEFT") == NULL3
    assert c("RPUSH", "a", "x") == integer(1)
    assert c("RPUSH", "b", "y") == integer(1)
    # the first non-empty key in argument order
    assert c3("LMPOP", "3", "z", "b", "a", "RIGHT", "COUNT", "5") == mpopped("b", "y")
    assert c("LMPOP", "1", "a", "RIGHT", "COUNT", str(I64_MAX)) == mpopped("a", "x")


def test_lmpop_wrongtype(c):
    assert c("SET", "s", "v") == OK
    assert c("RPUSH", "l", "a") == integer(1)
    # keys are looked at in order: a string before the first list is an error
    assert c("LMPOP", "2", "nokey", "s", "LEFT") == WRONGTYPE
    assert c("LMPOP", "2", "s", "l", "LEFT") == WRONGTYPE
    assert c("LMPOP", "2", "l", "s", "LEFT") == mpopped("l", "a")


@pytest.mark.parametrize("args,expected", [
    (("0", "l", "LEFT"), NUMKEYS),
    (("-1", "l", "LEFT"), NUMKEYS),
    (("1", "l", "MIDDLE"), SYNTAX),
    (("1", "l", "LEFT", "COUNT"), SYNTAX),
    (("1", "l", "LEFT", "COUNT", "0"), COUNT_POSITIVE),
    (("1", "l", "LEFT", "COUNT", "-1"), COUNT_POSITIVE),
    (("1", "l", "LEFT", "COUNT", "abc"), COUNT_POSITIVE),
    (("1", "l", "LEFT", "COUNT", "1", "COUNT", "2"), SYNTAX),
    (("1", "l", "LEFT", "FOO", "1"), SYNTAX),
    (("1", "l", "LEFT", "x"), SYNTAX),
    (("2", "l", "LEFT"), SYNTAX),             # LEFT taken as the second key
])
def test_lmpop_errors(c, args, expected):
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LMPOP", *args) == expected
    assert c("BLMPOP", "0", *args) == expected
    assert lrange(c, "l") == array("a")


def test_lmpop_numkeys_that_is_not_an_integer(c):
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LMPOP", "abc", "l", "LEFT") == NUMKEYS
    assert c("BLMPOP", "0", "abc", "l", "LEFT") == NUMKEYS


@pytest.mark.parametrize("numkeys", ["3", "100", "2147483648", str(I64_MAX)])
def test_lmpop_numkeys_larger_than_the_arguments(c, numkeys):
    # Redis 7.0: a syntax error (there is no "Number of keys" check for LMPOP)
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("LMPOP", numkeys, "l", "LEFT") == SYNTAX
    assert c("BLMPOP", "0", numkeys, "l", "LEFT") == SYNTAX
    assert lrange(c, "l") == array("a")


def test_lmpop_arity(c):
    assert c("LMPOP") == arity("lmpop")
    assert c("LMPOP", "1") == arity("lmpop")
    assert c("LMPOP", "1", "l") == arity("lmpop")
    assert c("BLMPOP", "0", "1", "l") == arity("blmpop")


# --------------------------------------------------------------------------
# Blocking commands that do not block (data present, errors, timeouts)
# --------------------------------------------------------------------------

def test_blocking_commands_with_data_present(r, c):
    assert c("RPUSH", "a", *"abcdef") == integer(6)
    assert c("BLPOP", "nokey", "a", "0") == popped("a", "a")
    assert c("BRPOP", "nokey", "a", "0") == popped("a", "f")
    assert c("BLMOVE", "a", "d", "LEFT", "RIGHT", "0") == bulk("b")
    assert c("BRPOPLPUSH", "a", "d", "0") == bulk("e")
    assert c("BLMPOP", "0", "2", "nokey", "a", "RIGHT", "COUNT", "5") == mpopped("a", "d", "c")
    assert c("EXISTS", "a") == integer(0)
    assert lrange(c, "d") == array("e", "b")
    assert blocked_count(r) == 0


def test_blpop_same_key_twice(c):
    assert c("RPUSH", "d", "1", "2") == integer(2)
    assert c("BLPOP", "d", "d", "0") == popped("d", "1")
    assert lrange(c, "d") == array("2")


@pytest.mark.parametrize("timeout", ["0.05", "0.01"])
def test_timeout_replies_are_null_arrays(c, c3, timeout):
    for conn, null in ((c, NIL_ARRAY), (c3, NULL3)):
        assert conn("BLPOP", "a", "b", timeout) == null
        assert conn("BRPOP", "a", timeout) == null
        # Redis 7.0: BLMOVE and BRPOPLPUSH time out with a null array too
        assert conn("BLMOVE", "a", "b", "LEFT", "RIGHT", timeout) == null
        assert conn("BRPOPLPUSH", "a", "b", timeout) == null
        assert conn("BLMPOP", timeout, "2", "a", "b", "LEFT") == null
    assert c("EXISTS", "a", "b") == integer(0)


@pytest.mark.parametrize("bad", ["abc", "nan", "1.5abc", " 1", "1 ", "", "0,5"])
def test_timeout_not_a_float(c, bad):
    assert c("BLPOP", "a", bad) == TIMEOUT_NOT_FLOAT
    assert c("BRPOP", "a", bad) == TIMEOUT_NOT_FLOAT
    assert c("BLMOVE", "a", "b", "LEFT", "LEFT", bad) == TIMEOUT_NOT_FLOAT
    assert c("BRPOPLPUSH", "a", "b", bad) == TIMEOUT_NOT_FLOAT
    assert c("BLMPOP", bad, "1", "a", "LEFT") == TIMEOUT_NOT_FLOAT


@pytest.mark.parametrize("bad", ["-1", "-0.5", "-inf", "inf", "1e300", "9223372036854776",
                                 "9223372036854775.9"])
def test_timeout_negative(c, bad):
    assert c("RPUSH", "a", "x") == integer(1)
    assert c("BLPOP", "a", bad) == TIMEOUT_NEGATIVE
    assert c("BRPOP", "a", bad) == TIMEOUT_NEGATIVE
    assert c("BLMOVE", "a", "b", "LEFT", "LEFT", bad) == TIMEOUT_NEGATIVE
    assert c("BRPOPLPUSH", "a", "b", bad) == TIMEOUT_NEGATIVE
    assert c("BLMPOP", bad, "1", "a", "LEFT") == TIMEOUT_NEGATIVE
    assert lrange(c, "a") == array("x")


@pytest.mark.parametrize("good", ["0", "-0", "0.0", "1e-300", "+1", ".5", "5.", "1e3", "0x10",
                                  "10000000000000"])
def test_timeout_accepted_forms(c, good):
    # with data present the command answers at once, whatever the timeout
    assert c("RPUSH", "a", "x", "y", "z", "w") == integer(4)
    assert c("BLPOP", "a", good) == popped("a", "x")
    assert c("BRPOP", "a", good) == popped("a", "w")
    assert c("BLMOVE", "a", "a", "LEFT", "RIGHT", good) == bulk("y")
    assert c("BLMPOP", good, "1", "a", "LEFT") == mpopped("a", "z")


def test_timeout_is_checked_before_the_keys(c):
    assert c("SET", "s", "v") == OK
    assert c("BLPOP", "s", "x") == TIMEOUT_NOT_FLOAT
    assert c("BLPOP", "s", "0") == WRONGTYPE
    assert c("BLMOVE", "s", "d", "LEFT", "LEFT", "-1") == TIMEOUT_NEGATIVE
    # BLMOVE checks its directions first
    assert c("BLMOVE", "s", "d", "UP", "LEFT", "x") == SYNTAX
    assert c("BLMOVE", "s", "d", "LEFT", "LEFT", "0") == WRONGTYPE
    assert c("BLMPOP", "x", "1", "s", "LEFT") == TIMEOUT_NOT_FLOAT
    assert c("BLMPOP", "0", "1", "s", "LEFT") == WRONGTYPE


def test_blocking_wrongtype(c):
    assert c("SET", "s", "v") == OK
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("BLPOP", "nokey", "s", "0") == WRONGTYPE
    # the first key with data is served before a later wrong-type key is seen
    assert c("BLPOP", "l", "s", "0") == popped("l", "a")
    assert c("RPUSH", "l", "a") == integer(1)
    assert c("BRPOP", "s", "l", "0") == WRONGTYPE
    assert c("BLMOVE", "l", "s", "LEFT", "LEFT", "0") == WRONGTYPE
    assert c("BRPOPLPUSH", "l", "s", "0") == WRONGTYPE
    assert c("BLMPOP", "0", "2", "s", "l", "LEFT") == WRONGTYPE
    assert lrange(c, "l") == array("a")


def test_blocking_arity(c):
    assert c("BLPOP", "a") == arity("blpop")
    assert c("BRPOP", "a") == arity("brpop")
    assert c("BLMOVE", "a", "b", "LEFT", "LEFT") == arity("blmove")
    assert c("BRPOPLPUSH", "a", "b") == arity("brpoplpush")
    assert c("BLMPOP", "0", "1", "a") == arity("blmpop")


def test_blocking_commands_inside_multi_do_not_block(r, c, c3):
    for conn, null in ((c, NIL_ARRAY), (c3, NULL3)):
        assert conn("MULTI") == OK
        assert conn("BLPOP", "a", "0") == QUEUED
        assert conn("BRPOP", "a", "b", "0") == QUEUED
        assert conn("BLMPOP", "0", "1", "a", "LEFT") == QUEUED
        assert conn("EXEC") == b"*3\r\n" + null * 3
    # with data they pop as usual
    assert c("RPUSH", "a", "1", "2", "3") == integer(3)
    assert c("MULTI") == OK
    assert c("BLPOP", "a", "0") == QUEUED
    assert c("BRPOP", "a", "0") == QUEUED
    assert c("BLMOVE", "a", "d", "LEFT", "LEFT", "0") == QUEUED
    assert c("BLPOP", "a", "0") == QUEUED
    assert c("EXEC") == b"*4\r\n" + popped("a", "1") + popped("a", "3") + bulk("2") + NIL_ARRAY
    assert blocked_count(r) == 0


def test_blmove_inside_multi_on_an_empty_source_is_a_null_bulk(c, c3):
    # Redis 7.0: unlike its timeout reply (a null array), BLMOVE/BRPOPLPUSH
    # inside MULTI answer a null bulk
    assert c("MULTI") == OK
    assert c("BLMOVE", "a", "b", "LEFT", "LEFT", "0") == QUEUED
    assert c("BRPOPLPUSH", "a", "b", "0") == QUEUED
    assert c("EXEC") == b"*2\r\n" + NIL + NIL
    assert c3("MULTI") == OK
    assert c3("BLMOVE", "a", "b", "LEFT", "LEFT", "0") == QUEUED
    assert c3("EXEC") == b"*1\r\n" + NULL3


# --------------------------------------------------------------------------
# Blocking: waiting and being served
# --------------------------------------------------------------------------

def test_blpop_waits_until_served(r, c, c2):
    block(c, r, 1, "BLPOP", "k", "0")
    assert c.nothing_within(0.5)
    assert c2("RPUSH", "k", "v") == integer(1)
    assert c.reply() == popped("k", "v")
    assert c2("EXISTS", "k") == integer(0)
    assert blocked_count(r) == 0


@pytest.mark.parametrize("args,reply", [
    (("BLPOP", "k", "0"), popped("k", "a")),
    (("BRPOP", "k", "0"), popped("k", "c")),
    (("BLMOVE", "k", "d", "RIGHT", "LEFT", "0"), bulk("c")),
    (("BRPOPLPUSH", "k", "d", "0"), bulk("c")),
    (("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2"), mpopped("k", "a", "b")),
])
def test_each_blocking_command_is_served(r, c, c2, args, reply):
    block(c, r, 1, *args)
    assert c2("RPUSH", "k", "a", "b", "c") == integer(3)
    assert c.reply() == reply
    assert blocked_count(r) == 0


def test_pusher_sees_the_length_before_the_waiter_pops(r, c, c2):
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("LPUSH", "k", "a", "b", "c") == integer(3)
    assert c.reply() == popped("k", "c")
    assert lrange(c2, "k") == array("b", "a")
    block(c, r, 1, "BLPOP", "k2", "0")
    assert c2("LPUSH", "k2", "a") == integer(1)
    assert c.reply() == popped("k2", "a")
    assert c2("EXISTS", "k2") == integer(0)


def test_waiters_are_served_fifo(r, conns):
    a, b, c, pusher = conns(), conns(), conns(), conns()
    block(a, r, 1, "BLPOP", "k", "0")
    block(b, r, 2, "BRPOP", "k", "0")
    block(c, r, 3, "BLPOP", "k", "0")
    assert pusher("RPUSH", "k", "1") == integer(1)
    assert a.reply() == popped("k", "1")
    assert b.nothing_within(0.1) and c.nothing_within(0.1)
    assert pusher("RPUSH", "k", "2") == integer(1)
    assert b.reply() == popped("k", "2")
    assert pusher("RPUSH", "k", "3") == integer(1)
    assert c.reply() == popped("k", "3")
    assert blocked_count(r) == 0


def test_one_push_of_several_elements_serves_several_waiters(r, conns):
    waiters = [conns() for _ in range(4)]
    for i, w in enumerate(waiters):
        block(w, r, i + 1, "BLPOP", "k", "0")
    pusher = conns()
    assert pusher("RPUSH", "k", "x", "y", "z") == integer(3)
    assert [w.reply() for w in waiters[:3]] == [popped("k", e) for e in "xyz"]
    assert waiters[3].nothing_within()
    assert blocked_count(r) == 1
    assert pusher("EXISTS", "k") == integer(0)
    assert pusher("RPUSH", "k", "w") == integer(1)
    assert waiters[3].reply() == popped("k", "w")


def test_blmpop_waiter_takes_up_to_count(r, c, c2):
    block(c, r, 1, "BLMPOP", "0", "2", "k1", "k2", "RIGHT", "COUNT", "2")
    assert c2("RPUSH", "k2", "a", "b", "c") == integer(3)
    assert c.reply() == mpopped("k2", "c", "b")
    assert lrange(c2, "k2") == array("a")


def test_served_by_the_key_that_gets_data(r, c, c2):
    block(c, r, 1, "BLPOP", "k1", "k2", "k3", "0")
    assert c2("RPUSH", "k3", "x") == integer(1)
    assert c.reply() == popped("k3", "x")
    block(c, r, 1, "BRPOP", "k1", "k2", "k3", "0")
    assert c2("RPUSH", "k2", "y") == integer(1)
    assert c.reply() == popped("k2", "y")
    assert blocked_count(r) == 0


def test_served_by_the_key_signalled_first_in_one_exec(r, c, c2):
    # Redis 7.0 serves a client from the key that became ready first, even
    # when a key earlier in its command got data in the same transaction
    block(c, r, 1, "BLPOP", "k1", "k2", "0")
    assert c2("MULTI") == OK
    assert c2("RPUSH", "k2", "x") == QUEUED
    assert c2("RPUSH", "k1", "y") == QUEUED
    assert c2("EXEC") == b"*2\r\n:1\r\n:1\r\n"
    assert c.reply() == popped("k2", "x")
    assert lrange(c2, "k1") == array("y")
    assert c2("EXISTS", "k2") == integer(0)


def test_served_by_the_ready_key_not_the_first_key_with_data(r, conns):
    # Redis 7.0: b waits on dst and src; src gets data, a's BLMOVE (older)
    # moves x from src to dst, then b is served from src (the key that was
    # signalled for it), not from dst (its first key with data)
    a, b, pusher = conns(), conns(), conns()
    block(a, r, 1, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    block(b, r, 2, "BLPOP", "dst", "src", "0")
    assert pusher("RPUSH", "src", "x", "y") == integer(2)
    assert a.reply() == bulk("x")
    assert b.reply() == popped("src", "y")
    assert pusher("EXISTS", "src") == integer(0)
    assert lrange(pusher, "dst") == array("x")


def test_moves_served_in_one_exec(r, conns):
    mover, w1, w2, pusher = conns(), conns(), conns(), conns()
    block(mover, r, 1, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    block(w1, r, 2, "BLPOP", "dst", "0")
    block(w2, r, 3, "BLPOP", "dst", "0")
    assert pusher("MULTI") == OK
    assert pusher("RPUSH", "src", "s1") == QUEUED
    assert pusher("RPUSH", "dst", "d1") == QUEUED
    assert pusher("EXEC") == b"*2\r\n:1\r\n:1\r\n"
    assert mover.reply() == bulk("s1")
    assert w1.reply() == popped("dst", "s1")
    assert w2.reply() == popped("dst", "d1")
    assert pusher("EXISTS", "src", "dst") == integer(0)


def test_rotating_waiter_then_popping_waiter(r, conns):
    rot, popper, pusher = conns(), conns(), conns()
    block(rot, r, 1, "BLMOVE", "k", "k", "LEFT", "RIGHT", "0")
    block(popper, r, 2, "BLPOP", "k", "0")
    assert pusher("RPUSH", "k", "x") == integer(1)
    assert rot.reply() == bulk("x")
    assert popper.reply() == popped("k", "x")
    assert pusher("EXISTS", "k") == integer(0)


def test_blmove_cycle(r, conns):
    a, b, pusher = conns(), conns(), conns()
    block(a, r, 1, "BLMOVE", "k1", "k2", "LEFT", "LEFT", "0")
    block(b, r, 2, "BLMOVE", "k2", "k1", "LEFT", "LEFT", "0")
    assert pusher("RPUSH", "k1", "x") == integer(1)
    assert a.reply() == bulk("x")
    assert b.reply() == bulk("x")
    assert lrange(pusher, "k1") == array("x")
    assert pusher("EXISTS", "k2") == integer(0)
    assert blocked_count(r) == 0


def test_waiting_on_the_same_key_twice(r, c, c2):
    block(c, r, 1, "BLPOP", "d", "d", "0")
    assert c2("RPUSH", "d", "1", "2") == integer(2)
    assert c.reply() == popped("d", "1")
    assert lrange(c2, "d") == array("2")
    assert blocked_count(r) == 0


@pytest.mark.parametrize("timeout", ["0.2", "0.25"])
def test_fractional_timeout(r, c, timeout):
    t0 = time.monotonic()
    c.send("BLPOP", "k", timeout)
    assert c.reply(timeout=5) == NIL_ARRAY
    elapsed = time.monotonic() - t0
    assert float(timeout) - 0.01 <= elapsed < 1.0, elapsed
    assert blocked_count(r) == 0


def test_fractional_timeouts_of_every_blocking_command(r, conns):
    cases = [(("BLPOP", "a", "b", "0.2"), NIL_ARRAY),
             (("BRPOP", "a", "0.2"), NIL_ARRAY),
             (("BLMOVE", "a", "b", "LEFT", "RIGHT", "0.2"), NIL_ARRAY),
             (("BRPOPLPUSH", "a", "b", "0.2"), NIL_ARRAY),
             (("BLMPOP", "0.2", "1", "a", "LEFT"), NIL_ARRAY)]
    clients = [conns() for _ in cases]
    t0 = time.monotonic()
    for conn, (args, _) in zip(clients, cases):
        conn.send(*args)
    for conn, (args, reply) in zip(clients, cases):
        assert conn.reply(timeout=5) == reply, args
    elapsed = time.monotonic() - t0
    assert 0.19 <= elapsed < 1.0, elapsed
    assert blocked_count(r) == 0


def test_timeouts_expire_in_deadline_order(r, conns):
    late, early = conns(resp3=True), conns()
    late.send("BLPOP", "k", "0.6")
    early.send("BLPOP", "k", "0.15")
    t0 = time.monotonic()
    assert early.reply(timeout=5) == NIL_ARRAY
    t_early = time.monotonic() - t0
    assert late.reply(timeout=5) == NULL3
    t_late = time.monotonic() - t0
    assert 0.1 <= t_early < 0.5, t_early
    assert 0.5 <= t_late < 1.5, t_late


def test_timeout_and_served_clients_are_independent(r, conns):
    short, forever, pusher = conns(), conns(), conns()
    block(forever, r, 1, "BLPOP", "k", "0")
    short.send("BLPOP", "k", "0.1")
    assert short.reply(timeout=5) == NIL_ARRAY
    assert forever.nothing_within(0.2)
    assert pusher("RPUSH", "k", "v") == integer(1)
    assert forever.reply() == popped("k", "v")


def test_push_inside_multi_wakes_the_waiter_after_exec(r, c, c2):
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("MULTI") == OK
    assert c2("RPUSH", "k", "a", "b") == QUEUED
    assert c.nothing_within(0.2)
    assert c2("LLEN", "k") == QUEUED
    assert c2("EXEC") == b"*2\r\n:2\r\n:2\r\n"
    assert c.reply() == popped("k", "a")
    assert lrange(c2, "k") == array("b")


def test_push_then_delete_inside_multi_serves_nobody(r, c, c2):
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("MULTI") == OK
    assert c2("RPUSH", "k", "x") == QUEUED
    assert c2("DEL", "k") == QUEUED
    assert c2("EXEC") == b"*2\r\n:1\r\n:1\r\n"
    assert c.nothing_within()
    assert c2("MULTI") == OK
    assert c2("RPUSH", "k", "x") == QUEUED
    assert c2("LPOP", "k") == QUEUED
    assert c2("EXEC") == b"*2\r\n:1\r\n$1\r\nx\r\n"
    assert c.nothing_within()
    assert blocked_count(r) == 1
    assert c2("RPUSH", "k", "z") == integer(1)
    assert c.reply() == popped("k", "z")


def test_key_of_another_type_does_not_wake_the_waiter(r, c, c2):
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("SET", "k", "str") == OK
    assert c.nothing_within()
    assert c2("DEL", "k") == integer(1)
    assert c2("HSET", "k", "f", "v") == integer(1)
    assert c.nothing_within()
    assert blocked_count(r) == 1
    assert c2("DEL", "k") == integer(1)
    assert c2("RPUSH", "k", "x") == integer(1)
    assert c.reply() == popped("k", "x")


def test_del_and_set_of_the_waited_key(r, c, c2):
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("DEL", "k") == integer(0)
    assert c2("SET", "k", "v", "PX", "50") == OK
    assert c.nothing_within()
    time.sleep(0.1)  # the string expires
    assert c2("RPUSH", "k", "x") == integer(1)
    assert c.reply() == popped("k", "x")


def test_served_blmove_into_a_wrong_type_destination(r, c, c2):
    # Redis 7.0: the waiter gets WRONGTYPE and the element stays in the source
    block(c, r, 1, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    assert c2("SET", "dst", "s") == OK
    assert c2("RPUSH", "src", "e") == integer(1)
    assert c.reply() == WRONGTYPE
    assert lrange(c2, "src") == array("e")
    assert c2("GET", "dst") == bulk("s")
    assert blocked_count(r) == 0


def test_blmove_chain(r, conns):
    a, b, z, pusher = conns(), conns(), conns(), conns()
    block(a, r, 1, "BLMOVE", "src", "mid", "RIGHT", "LEFT", "0")
    block(b, r, 2, "BRPOPLPUSH", "mid", "dst", "0")
    block(z, r, 3, "BLPOP", "dst", "0")
    assert pusher("RPUSH", "src", "x") == integer(1)
    assert a.reply() == bulk("x")
    assert b.reply() == bulk("x")
    assert z.reply() == popped("dst", "x")
    assert pusher("EXISTS", "src", "mid", "dst") == integer(0)
    assert blocked_count(r) == 0


def test_blmove_same_key_waiter(r, c, c2):
    block(c, r, 1, "BLMOVE", "k", "k", "RIGHT", "LEFT", "0")
    assert c2("RPUSH", "k", "a") == integer(1)
    assert c.reply() == bulk("a")
    assert lrange(c2, "k") == array("a")


def test_moves_and_pops_into_the_waited_key_serve_it(r, c, c2):
    block(c, r, 1, "BLPOP", "w", "0")
    assert c2("RPUSH", "src", "v", "v2") == integer(2)
    assert c2("LMOVE", "src", "w", "LEFT", "LEFT") == bulk("v")
    assert c.reply() == popped("w", "v")
    assert c2("EXISTS", "w") == integer(0)
    block(c, r, 1, "BLPOP", "w", "0")
    assert c2("RPOPLPUSH", "src", "w") == bulk("v2")
    assert c.reply() == popped("w", "v2")


@pytest.mark.parametrize("how", ["RENAME", "COPY", "MOVE"])
def test_generic_commands_bring_data_to_a_waiter(r, c, c2, how):
    block(c, r, 1, "BLPOP", "w", "0")
    if how == "MOVE":
        assert c2("SELECT", "1") == OK
        assert c2("RPUSH", "w", "v", "v2") == integer(2)
        assert c2("MOVE", "w", "0") == integer(1)
        assert c2("SELECT", "0") == OK
    else:
        assert c2("RPUSH", "src", "v", "v2") == integer(2)
        assert c2(how, "src", "w") == (OK if how == "RENAME" else integer(1))
    assert c.reply() == popped("w", "v")
    assert lrange(c2, "w") == array("v2")


def test_swapdb_brings_data_to_a_waiter(r, c, c2):
    block(c, r, 1, "BLPOP", "sw", "0")
    assert c2("SELECT", "1") == OK
    assert c2("RPUSH", "sw", "v1", "v2") == integer(2)
    assert c2("SWAPDB", "0", "1") == OK
    assert c.reply() == popped("sw", "v1")
    assert c2("LRANGE", "sw", "0", "-1") == EMPTY       # db 1 now has db 0's old data
    assert c2("SELECT", "0") == OK
    assert lrange(c2, "sw") == array("v2")


def test_waiters_are_per_database(r, c, c2):
    assert c("SELECT", "1") == OK
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("RPUSH", "k", "db0") == integer(1)
    assert c.nothing_within()
    assert c2("SELECT", "1") == OK
    assert c2("RPUSH", "k", "db1") == integer(1)
    assert c.reply() == popped("k", "db1")
    assert c2("SELECT", "0") == OK
    assert lrange(c2, "k") == array("db0")


def test_flushall_then_push(r, c, c2):
    block(c, r, 1, "BLPOP", "f", "0")
    assert c2("FLUSHALL") == OK
    assert c.nothing_within(0.1)
    assert c2("RPUSH", "f", "1") == integer(1)
    assert c.reply() == popped("f", "1")


def test_push_and_blocking_pop_in_one_exec_serves_nobody_else(r, c, c2):
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("MULTI") == OK
    assert c2("RPUSH", "k", "x") == QUEUED
    assert c2("BLPOP", "k", "0") == QUEUED
    assert c2("BLPOP", "k", "0") == QUEUED
    assert c2("EXEC") == b"*3\r\n:1\r\n" + popped("k", "x") + NIL_ARRAY
    assert c.nothing_within()
    assert blocked_count(r) == 1
    assert c2("RPUSH", "k", "y") == integer(1)
    assert c.reply() == popped("k", "y")


@pytest.mark.parametrize("name", ["BLPOP", "BLMPOP"])
def test_waiting_on_many_keys(r, c, c2, name):
    keys = ["key:%d" % i for i in range(150)]
    if name == "BLPOP":
        block(c, r, 1, "BLPOP", *keys, "0")
    else:
        block(c, r, 1, "BLMPOP", "0", str(len(keys)), *keys, "LEFT", "COUNT", "2")
    assert c2("RPUSH", "key:149", "a", "b", "c") == integer(3)
    if name == "BLPOP":
        assert c.reply() == popped("key:149", "a")
    else:
        assert c.reply() == mpopped("key:149", "a", "b")
    # the client left every key's waiting list: pushes to them stay
    assert c2("RPUSH", "key:0", "z") == integer(1)
    assert c2("LLEN", "key:0") == integer(1)
    assert blocked_count(r) == 0


def test_client_kill_of_a_blocked_client(r, c, c2):
    cid = int(c("CLIENT", "ID")[1:-2])
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("CLIENT", "KILL", "ID", str(cid)) == integer(1)
    wait_blocked(r, 0)
    with pytest.raises((ConnectionError, OSError)):
        c.reply(timeout=2)
    assert c2("RPUSH", "k", "v") == integer(1)
    assert lrange(c2, "k") == array("v")


def test_pipelined_commands_of_a_blocked_client_run_after_it_is_served(r, c, c2):
    c.send_raw(cmd("BLPOP", "k", "0") + cmd("PING") + cmd("LLEN", "k") + cmd("RPUSH", "k", "me"))
    wait_blocked(r, 1)
    assert c.nothing_within()
    assert c2("RPUSH", "k", "a", "b") == integer(2)
    assert c.reply() == popped("k", "a")
    assert c.reply() == PONG
    assert c.reply() == integer(1)
    assert c.reply() == integer(2)
    assert lrange(c2, "k") == array("b", "me")


def test_commands_sent_while_blocked_wait(r, c, c2):
    block(c, r, 1, "BRPOP", "k", "0")
    c.send("PING")
    c.send("ECHO", "hi")
    assert c.nothing_within()
    assert c2("RPUSH", "k", "v") == integer(1)
    assert c.reply() == popped("k", "v")
    assert c.reply() == PONG
    assert c.reply() == bulk("hi")


def test_pipelined_commands_after_a_timeout(r, c):
    c.send_raw(cmd("BLPOP", "k", "0.1") + cmd("PING") + cmd("BLMOVE", "k", "d", "LEFT", "LEFT",
                                                            "0.1") + cmd("ECHO", "x"))
    assert c.reply() == NIL_ARRAY
    assert c.reply() == PONG
    assert c.reply() == NIL_ARRAY
    assert c.reply() == bulk("x")


def test_blocked_client_in_client_list_and_info(r, c, c2):
    assert c("CLIENT", "SETNAME", "waiter") == OK
    assert blocked_count(r) == 0
    block(c, r, 1, "BLPOP", "k", "0")
    fields = client_flags(r, "waiter")
    assert "b" in fields["flags"]
    assert fields["cmd"] == "blpop"
    assert c2("RPUSH", "k", "v") == integer(1)
    assert c.reply() == popped("k", "v")
    assert blocked_count(r) == 0
    assert "b" not in client_flags(r, "waiter")["flags"]


def test_client_that_disconnects_while_blocked_is_forgotten(r, server, conns):
    a, b, pusher = conns(), conns(), conns()
    block(a, r, 1, "BLPOP", "k", "0")
    block(b, r, 2, "BLMOVE", "k", "d", "LEFT", "LEFT", "0")
    a.close()
    wait_blocked(r, 1)
    b.close()
    wait_blocked(r, 0)
    assert pusher("RPUSH", "k", "v") == integer(1)
    assert lrange(pusher, "k") == array("v")
    assert pusher("EXISTS", "d") == integer(0)
    # a later waiter is served normally
    w = conns()
    assert w("BLPOP", "k", "0") == popped("k", "v")


def test_disconnect_of_the_first_waiter_serves_the_next(r, conns):
    a, b, pusher = conns(), conns(), conns()
    block(a, r, 1, "BLPOP", "k", "0")
    block(b, r, 2, "BLPOP", "k", "0")
    a.close()
    wait_blocked(r, 1)
    assert pusher("RPUSH", "k", "v") == integer(1)
    assert b.reply() == popped("k", "v")


def test_resp3_waiters(r, conns):
    a, pusher = conns(resp3=True), conns()
    block(a, r, 1, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "3")
    assert pusher("RPUSH", "k", "x", "y") == integer(2)
    assert a.reply() == mpopped("k", "x", "y")
    block(a, r, 1, "BLPOP", "k", "0")
    assert pusher("RPUSH", "k", "z") == integer(1)
    assert a.reply() == popped("k", "z")


def test_many_waiters_on_many_keys(r, conns):
    """20 clients each wait on two of 5 keys; single-element pushes go round
    the keys. The outcome is computed by a model of FIFO serving: each push
    serves the longest-waiting client among those waiting on that key."""
    keys = ["k%d" % i for i in range(5)]
    waits = [(keys[i % 5], keys[(i + 1) % 5]) for i in range(20)]
    waiters = []
    for i, ks in enumerate(waits):
        w = conns()
        block(w, r, i + 1, "BLPOP", *ks, "0")
        waiters.append(w)
    pending = list(range(20))
    expected = {}
    left = {k: [] for k in keys}
    pusher = conns()
    for rnd_i in range(4):
        for k in keys:
            elem = "%s-%d" % (k, rnd_i)
            assert pusher("RPUSH", k, elem) == integer(len(left[k]) + 1)
            who = next((i for i in pending if k in waits[i]), None)
            if who is None:
                left[k].append(elem)
            else:
                pending.remove(who)
                expected[who] = popped(k, elem)
    for i, reply in sorted(expected.items()):
        assert waiters[i].reply() == reply, i
    for i in pending:
        assert waiters[i].nothing_within(0.05), i
    assert blocked_count(r) == len(pending)
    for k in keys:
        assert lrange(pusher, k) == array(*left[k]), k
    # serve the rest, oldest first
    for i in list(pending):
        k = waits[i][0]
        assert not left[k]  # nobody waits on a key that has data
        assert pusher("RPUSH", k, "last") == integer(1)
        assert waiters[i].reply() == popped(k, "last"), i
    assert blocked_count(r) == 0


def test_redis_py_blocking_with_threads(r, server):
    """The way an application uses BLPOP: a consumer thread and a producer."""
    results = []

    def consume():
        cons = server.client()
        try:
            for _ in range(50):
                results.append(cons.blpop(["q1", "q2"], timeout=5))
        finally:
            cons.close()

    t = threading.Thread(target=consume)
    t.start()
    for i in range(50):
        r.rpush("q1" if i % 2 else "q2", "m%d" % i)
        if i % 10 == 0:
            time.sleep(0.01)
    t.join(timeout=30)
    assert not t.is_alive()
    assert sorted(v for _, v in results) == sorted(b"m%d" % i for i in range(50))
    assert r.exists("q1", "q2") == 0


# --------------------------------------------------------------------------
# Lists and the generic commands
# --------------------------------------------------------------------------

def test_generic_commands_on_lists(c):
    assert c("RPUSH", "a", "1", "2") == integer(2)
    assert c("COPY", "a", "b") == integer(1)
    assert c("RPUSH", "b", "3") == integer(3)
    assert c("LSET", "a", "0", "one") == OK
    # the copy is deep
    assert lrange(c, "a") == array("one", "2")
    assert lrange(c, "b") == array("1", "2", "3")
    assert c("RENAME", "b", "c") == OK
    assert c("EXISTS", "b") == integer(0)
    assert lrange(c, "c") == array("1", "2", "3")
    assert c("TYPE", "c") == b"+list\r\n"
    assert c("OBJECT", "ENCODING", "c") == bulk("quicklist")
    assert c("MOVE", "c", "2") == integer(1)
    assert c("SELECT", "2") == OK
    assert lrange(c, "c") == array("1", "2", "3")
    assert c("SELECT", "0") == OK
    assert c("PEXPIRE", "a", "50") == integer(1)
    time.sleep(0.1)
    assert c("LLEN", "a") == integer(0)
    assert c("LPOP", "a") == NIL
    assert c("RPUSH", "d", "x") == integer(1)
    assert c("DEL", "d") == integer(1)
    assert c("LRANGE", "d", "0", "-1") == EMPTY
    assert c("SCAN", "0", "TYPE", "list") == b"*2\r\n$1\r\n0\r\n*0\r\n"
    assert c("RPUSH", "e", "x") == integer(1)
    assert c("SCAN", "0", "TYPE", "list") == b"*2\r\n$1\r\n0\r\n" + array("e")


# --------------------------------------------------------------------------
# A randomized comparison against a model (both servers)
# --------------------------------------------------------------------------

def _norm(i, n):
    return i + n if i < 0 else i


def _lrange_model(lst, start, stop):
    n = len(lst)
    start = max(_norm(start, n), 0)
    stop = min(_norm(stop, n), n - 1)
    return lst[start:stop + 1] if start <= stop else []


def test_random_operations_against_a_model(rd):
    rnd = random.Random(20240607)
    model = {"a": [], "b": []}
    vals = ["v%d" % i for i in range(12)] + [""]

    def check(k):
        assert rd.lrange(k, 0, -1) == model[k]
        assert rd.exists(k) == (1 if model[k] else 0)

    for step in range(4000):
        k = rnd.choice("ab")
        lst = model[k]
        op = rnd.randrange(13)
        ctx = (step, op, k)
        if op == 0:
            xs = [rnd.choice(vals) for _ in range(rnd.randint(1, 30))]
            assert rd.rpush(k, *xs) == len(lst) + len(xs), ctx
            lst.extend(xs)
        elif op == 1:
            xs = [rnd.choice(vals) for _ in range(rnd.randint(1, 30))]
            assert rd.lpush(k, *xs) == len(lst) + len(xs), ctx
            lst[:0] = xs[::-1]
        elif op == 2:
            n = rnd.randint(0, 12)
            got = rd.lpop(k, n)
            assert got == (lst[:n] if lst else None), ctx
            del lst[:n]
        elif op == 3:
            n = rnd.randint(1, 12)
            got = rd.rpop(k, n)
            assert got == (lst[::-1][:n] if lst else None), ctx
            del lst[max(len(lst) - n, 0):]
        elif op == 4 and lst:
            i = rnd.randint(-len(lst) - 2, len(lst) + 1)
            expect = lst[i] if -len(lst) <= i < len(lst) else None
            assert rd.lindex(k, i) == expect, ctx
        elif op == 5 and lst:
            i = rnd.randint(-len(lst), len(lst) - 1)
            v = rnd.choice(vals)
            assert rd.lset(k, i, v) is True
            lst[i] = v
        elif op == 6:
            pivot, v = rnd.choice(vals), rnd.choice(vals)
            where = rnd.choice(["BEFORE", "AFTER"])
            got = rd.linsert(k, where, pivot, v)
            if not lst:
                assert got == 0, ctx
            elif pivot not in lst:
                assert got == -1, ctx
            else:
                i = lst.index(pivot) + (1 if where == "AFTER" else 0)
                lst.insert(i, v)
                assert got == len(lst), ctx
        elif op == 7:
            v, count = rnd.choice(vals), rnd.randint(-3, 3)
            idxs = [i for i, x in enumerate(lst) if x == v]
            if count > 0:
                idxs = idxs[:count]
            elif count < 0:
                idxs = idxs[count:]
            assert rd.lrem(k, count, v) == len(idxs), ctx
            for i in reversed(idxs):
                del lst[i]
        elif op == 8 and len(lst) > 20:
            start = rnd.randint(-len(lst) - 3, len(lst) + 3)
            stop = rnd.randint(-len(lst) - 3, len(lst) + 3)
            kept = _lrange_model(lst, start, stop)
            if rnd.random() < 0.9 and not kept:
                continue  # keep the lists long most of the time
            assert rd.ltrim(k, start, stop) is True
            lst[:] = kept
        elif op == 9:
            start = rnd.randint(-len(lst) - 3, len(lst) + 3)
            stop = rnd.randint(-len(lst) - 3, len(lst) + 3)
            assert rd.lrange(k, start, stop) == _lrange_model(lst, start, stop), ctx
        elif op == 10:
            v = rnd.choice(vals)
            rank = rnd.choice([1, 2, -1, -3])
            maxlen = rnd.choice([0, 5, 50])
            n = len(lst)
            order = range(n) if rank > 0 else range(n - 1, -1, -1)
            scanned = list(order)[:maxlen] if maxlen else list(order)
            hits = [i for i in scanned if lst[i] == v][abs(rank) - 1:]
            assert rd.execute_command("LPOS", k, v, "RANK", rank, "COUNT", 0,
                                      "MAXLEN", maxlen) == hits, ctx
        elif op == 11:
            other = "b" if k == "a" else rnd.choice("ab")
            wf, wt = rnd.choice(["LEFT", "RIGHT"]), rnd.choice(["LEFT", "RIGHT"])
            got = rd.lmove(k, other, wf, wt)
            if not lst:
                assert got is None, ctx
            else:
                x = lst.pop(0 if wf == "LEFT" else -1)
                assert got == x, ctx
                if wt == "LEFT":
                    model[other].insert(0, x)
                else:
                    model[other].append(x)
        elif op == 12:
            count = rnd.randint(1, 5)
            got = rd.execute_command("LMPOP", 2, k, "b" if k == "a" else "a", "RIGHT",
                                     "COUNT", count)
            first = k if lst else ("b" if k == "a" else "a")
            src = model[first]
            if not src:
                assert got is None, ctx
            else:
                n = min(count, len(src))
                assert got[0] == first, ctx
                assert got[1] == src[::-1][:n], ctx
                del src[len(src) - n:]
        if step % 50 == 0:
            check("a")
            check("b")
    check("a")
    check("b")


# --------------------------------------------------------------------------
# ROLLBACK (engram only)
# --------------------------------------------------------------------------

engram_only = pytest.mark.skipif(conftest.AGAINST_REDIS,
                                 reason="engram's rollback (docs/transactions.md)")


def rolled_back(n, name, error):
    return b"-EXECABORT Transaction rolled back: command %d (%s) failed: %s\r\n" % (
        n, name.encode(), error.encode())


@engram_only
def test_rollback_restores_lists(c, c2):
    assert c("RPUSH", "l", *"abc") == integer(3)
    assert c("RPUSH", "gone", "x") == integer(1)
    assert c("MULTI") == OK
    for q in (("RPUSH", "l", "d"), ("LPOP", "l"), ("LINSERT", "l", "BEFORE", "c", "X"),
              ("LSET", "l", "0", "Y"), ("LREM", "l", "0", "b"), ("LTRIM", "l", "0", "1"),
              ("LMOVE", "l", "new", "LEFT", "LEFT"), ("LPOP", "gone"), ("RPUSH", "new2", "z"),
              ("LMPOP", "1", "l", "RIGHT", "COUNT", "9"), ("LSET", "l", "99", "x")):
        assert c(*q) == QUEUED, q
    assert c("EXEC") == rolled_back(11, "LSET", "ERR no such key")
    assert lrange(c2, "l") == array(*"abc")
    assert lrange(c2, "gone") == array("x")
    assert c2("EXISTS", "new", "new2") == integer(0)


@engram_only
def test_rolled_back_exec_does_not_serve_a_waiter(r, c, c2):
    assert c2("SET", "s", "notanumber") == OK
    block(c, r, 1, "BLPOP", "k", "0")
    assert c2("MULTI") == OK
    assert c2("RPUSH", "k", "x") == QUEUED
    assert c2("INCR", "s") == QUEUED
    assert c2("EXEC") == rolled_back(2, "INCR", "ERR value is not an integer or out of range")
    assert c.nothing_within()
    assert blocked_count(r) == 1
    assert c2("EXISTS", "k") == integer(0)
    assert c2("RPUSH", "k", "y") == integer(1)
    assert c.reply() == popped("k", "y")
    assert c2("EXISTS", "k") == integer(0)


@engram_only
def test_rolled_back_swapdb_does_not_serve_a_waiter(r, c, c2):
    block(c, r, 1, "BLPOP", "sw", "0")
    assert c2("SELECT", "1") == OK
    assert c2("RPUSH", "sw", "v") == integer(1)
    assert c2("SET", "s", "notanumber") == OK     # db 0 after the SWAPDB below
    assert c2("MULTI") == OK
    assert c2("SWAPDB", "0", "1") == QUEUED
    assert c2("SELECT", "0") == QUEUED
    assert c2("INCR", "s") == QUEUED
    assert c2("EXEC") == rolled_back(3, "INCR", "ERR value is not an integer or out of range")
    assert c.nothing_within()
    assert lrange(c2, "sw") == array("v")          # still db 1's (c2 is back in db 1)
    assert c2("SWAPDB", "0", "1") == OK
    assert c.reply() == popped("sw", "v")


@engram_only
def test_rolled_back_exec_with_a_blocking_pop_inside(r, c, c2):
    assert c("RPUSH", "k", "a", "b") == integer(2)
    assert c("MULTI") == OK
    assert c("BLPOP", "k", "0") == QUEUED
    assert c("BLMOVE", "k", "d", "LEFT", "LEFT", "0") == QUEUED
    assert c("LSET", "nokey", "0", "x") == QUEUED
    assert c("EXEC") == rolled_back(3, "LSET", "ERR no such key")
    assert lrange(c2, "k") == array("a", "b")
    assert c2("EXISTS", "d") == integer(0)


# --------------------------------------------------------------------------
# DURABILITY (engram only): WAL replay, snapshots, served blocked pops
# --------------------------------------------------------------------------

persistence_only = pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram's persistence")


def _persistence_helpers():
    import test_persistence
    return test_persistence.restart, test_persistence.wait_loaded, test_persistence.wait_bgsave_done


BIN = [b"", b"\x00", b"\r\n", b"\xff" * 300, b"x" * 70000]


def build_lists(c):
    """Write lists through every list command; return {key: contents}."""
    assert c("RPUSH", "plain", *"abcdef") == integer(6)
    assert c("LPUSH", "plain", "h1", "h0") == integer(8)
    assert c("LPOP", "plain") == bulk("h0")
    assert c("RPOP", "plain", "2") == array("f", "e")
    assert c("LSET", "plain", "1", "A") == OK
    assert c("LINSERT", "plain", "AFTER", "A", "A2") == integer(6)
    assert c("LREM", "plain", "1", "c") == integer(1)
    assert c("RPUSH", "bin", *BIN) == integer(len(BIN))
    assert c("RPUSH", "long", *[str(i) for i in range(3000)]) == integer(3000)
    assert c("LTRIM", "long", "100", "-100") == OK
    assert c("LPOP", "long", "50") == array(*[str(i) for i in range(100, 150)])
    assert c("RPUSH", "src", "1", "2", "3") == integer(3)
    assert c("LMOVE", "src", "dst", "LEFT", "RIGHT") == bulk("1")
    assert c("RPOPLPUSH", "src", "dst") == bulk("3")
    assert c("LMPOP", "2", "nokey", "src", "LEFT") == mpopped("src", "2")   # src emptied
    assert c("RPUSH", "rot", *"abc") == integer(3)
    assert c("LMOVE", "rot", "rot", "LEFT", "RIGHT") == bulk("a")
    assert c("RPUSH", "ttl", "x") == integer(1)
    assert c("PEXPIRE", "ttl", "100000") == integer(1)
    assert c("RPUSH", "trimmed", "x") == integer(1)
    assert c("LTRIM", "trimmed", "1", "0") == OK
    assert c("RPUSH", "pushx", "a") == integer(1)
    assert c("LPUSHX", "pushx", "b") == integer(2)
    assert c("RPUSHX", "pushx", "c") == integer(3)
    assert c("LPUSHX", "nopushx", "b") == integer(0)
    assert c("SELECT", "3") == OK
    assert c("RPUSH", "indb3", "v") == integer(1)
    assert c("SELECT", "0") == OK
    return {
        "plain": [b"h1", b"A", b"A2", b"b", b"d"],
        "bin": BIN,
        "long": [str(i).encode() for i in range(150, 2901)],
        "dst": [b"3", b"1"],
        "rot": [b"b", b"c", b"a"],
        "ttl": [b"x"],
        "pushx": [b"b", b"a", b"c"],
    }


def check_lists(c, expected):
    for k, v in expected.items():
        assert lrange(c, k) == array(*v), k
        assert c("OBJECT", "ENCODING", k) == bulk("quicklist")
    assert c("EXISTS", "src", "trimmed", "nopushx", "nokey") == integer(0)
    pttl = int(c("PTTL", "ttl")[1:-2])
    assert 0 < pttl <= 100000
    assert c("PTTL", "plain") == integer(-1)
    assert c("SELECT", "3") == OK
    assert lrange(c, "indb3") == array("v")
    assert c("SELECT", "0") == OK
    # and they still work
    assert c("RPUSH", "plain", "z") == integer(len(expected["plain"]) + 1)
    assert c("LINDEX", "long", "-1") == bulk("2900")


@persistence_only
def test_lists_survive_a_restart_through_wal_replay():
    restart, wait_loaded, _ = _persistence_helpers()
    srv = Server()
    try:
        c = Conn(srv)
        expected = build_lists(c)
        c.close()
        srv = restart(srv)
        wait_loaded(srv.client())
        c = Conn(srv)
        check_lists(c, expected)
        c.close()
    finally:
        srv.stop()


@persistence_only
@pytest.mark.parametrize("how", ["BGSAVE", "SAVE"])
def test_lists_survive_a_restart_through_a_snapshot(how):
    restart, wait_loaded, wait_bgsave_done = _persistence_helpers()
    srv = Server()
    try:
        c = Conn(srv)
        expected = build_lists(c)
        if how == "BGSAVE":
            assert c("BGSAVE") == b"+Background saving started\r\n"
            wait_bgsave_done(srv.client())
        else:
            assert c("SAVE") == OK
        assert srv.client().info("persistence")["rdb_last_bgsave_status"] == "ok"
        # writes after the snapshot come from the WAL
        assert c("RPUSH", "late", "1", "2") == integer(2)
        assert c("LPOP", "plain") == bulk("h1")
        assert c("LMOVE", "dst", "late", "LEFT", "LEFT") == bulk("3")
        expected["late"] = [b"3", b"1", b"2"]
        expected["plain"] = expected["plain"][1:]
        expected["dst"] = [b"1"]
        c.close()
        srv = restart(srv)
        wait_loaded(srv.client())
        assert srv.client().info("persistence")["snapshot_loaded_keys"] >= 7
        c = Conn(srv)
        check_lists(c, expected)
        c.close()
        # once more, the snapshot taken after a replay
        c = Conn(srv)
        assert c("SAVE") == OK
        c.close()
        srv = restart(srv)
        wait_loaded(srv.client())
        c = Conn(srv)
        expected["plain"].append(b"z")
        check_lists_after_second_restart(c, expected)
        c.close()
    finally:
        srv.stop()


def check_lists_after_second_restart(c, expected):
    for k, v in expected.items():
        assert lrange(c, k) == array(*v), k


@persistence_only
def test_served_blocked_pops_are_in_the_wal():
    restart, wait_loaded, _ = _persistence_helpers()
    srv = Server()
    try:
        r = srv.client()
        a, b, m, pusher = Conn(srv), Conn(srv), Conn(srv), Conn(srv)
        block(a, r, 1, "BLPOP", "k", "0")
        block(b, r, 2, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "2")
        block(m, r, 3, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
        assert pusher("RPUSH", "k", "1", "2", "3", "4") == integer(4)
        assert a.reply() == popped("k", "1")
        assert b.reply() == mpopped("k", "2", "3")
        assert pusher("RPUSH", "src", "x", "y") == integer(2)
        assert m.reply() == bulk("y")
        for conn in (a, b, m, pusher):
            conn.close()
        r.close()
        srv = restart(srv)                 # kill -9, then start again
        wait_loaded(srv.client())
        c = Conn(srv)
        assert lrange(c, "k") == array("4")
        assert lrange(c, "src") == array("x")
        assert lrange(c, "dst") == array("y")
        c.close()
    finally:
        srv.stop()


@persistence_only
def test_served_waiter_that_empties_the_list_is_durable():
    restart, wait_loaded, _ = _persistence_helpers()
    srv = Server()
    try:
        r = srv.client()
        a, pusher = Conn(srv), Conn(srv)
        block(a, r, 1, "BRPOP", "k", "0")
        assert pusher("LPUSH", "k", "only") == integer(1)
        assert a.reply() == popped("k", "only")
        assert pusher("EXISTS", "k") == integer(0)
        a.close()
        pusher.close()
        r.close()
        srv = restart(srv)
        wait_loaded(srv.client())
        c = Conn(srv)
        assert c("EXISTS", "k") == integer(0)
        c.close()
    finally:
        srv.stop()


# --------------------------------------------------------------------------
# CLIENT UNBLOCK
# --------------------------------------------------------------------------

def client_id(conn):
    reply = conn("CLIENT", "ID")
    assert reply.startswith(b":"), reply
    return int(reply[1:].strip())


def test_client_unblock_timeout_and_error(r, c, conns):
    """The default (TIMEOUT) ends the blocking command with its timeout reply
    (RESP2 null array, RESP3 null), ERROR with -UNBLOCKED; the connection
    then runs its later input; a client that is not blocked gives 0."""
    b2, b3 = conns(), conns(resp3=True)
    id2, id3 = client_id(b2), client_id(b3)
    block(b2, r, 1, "BLPOP", "q", "0")
    block(b3, r, 2, "BZPOPMIN", "z", "0")
    b2.send_raw(cmd("PING"))  # waits in its query buffer meanwhile
    assert c("CLIENT", "UNBLOCK", str(id2)) == integer(1)
    assert b2.reply() == NIL_ARRAY
    assert b2.reply() == PONG
    assert c("CLIENT", "UNBLOCK", str(id3), "timeout") == integer(1)
    assert b3.reply() == NULL3
    assert blocked_count(r) == 0
    assert c("CLIENT", "UNBLOCK", str(id2)) == integer(0)  # no longer blocked
    block(b2, r, 1, "BLMOVE", "q", "d", "LEFT", "RIGHT", "0")
    assert c("CLIENT", "UNBLOCK", str(id2), "ErRoR") == integer(1)
    assert b2.reply() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    # unblocked clients are gone from the waiters: a push is not served to them
    assert c("RPUSH", "q", "x") == integer(1)
    assert c("LRANGE", "q", "0", "-1") == array("x")
    assert c("EXISTS", "d") == integer(0)
    assert b2("PING") == PONG


def test_client_unblock_keeps_fifo_order_of_the_others(r, c, conns):
    first, second, third = conns(), conns(), conns()
    block(first, r, 1, "BLPOP", "q", "0")
    block(second, r, 2, "BLPOP", "q", "0")
    block(third, r, 3, "BLPOP", "q", "0")
    assert c("CLIENT", "UNBLOCK", str(client_id_of(r, 2))) == integer(1)
    assert second.reply() == NIL_ARRAY
    assert c("RPUSH", "q", "a", "b") == integer(2)
    assert first.reply() == popped("q", "a")
    assert third.reply() == popped("q", "b")


def client_id_of(r, nth):
    """The id of the nth client (1-based, by id) blocked in BLPOP."""
    blocked = sorted(int(cl["id"]) for cl in r.client_list() if cl["cmd"] == "blpop")
    return blocked[nth - 1]


def test_client_unblock_errors(c):
    """Redis 7.0's checks, in its order: the reason, then the id, then the
    lookup (an unknown client is 0, not an error)."""
    assert c("CLIENT", "UNBLOCK") == arity("client|unblock")
    assert c("CLIENT", "UNBLOCK", "abc") == NOT_INT
    assert c("CLIENT", "UNBLOCK", "99999999999999999999") == NOT_INT
    assert c("CLIENT", "UNBLOCK", "abc", "foo") == (
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n")
    assert c("CLIENT", "UNBLOCK", "abc", "error") == NOT_INT
    assert c("CLIENT", "UNBLOCK", "123456", "foo") == (
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n")
    assert c("CLIENT", "UNBLOCK", "123456") == integer(0)
    assert c("CLIENT", "UNBLOCK", "123456", "ERROR") == integer(0)
    assert c("CLIENT", "UNBLOCK", "-1") == integer(0)
    assert c("CLIENT", "UNBLOCK", "0") == integer(0)
    assert c("CLIENT", "UNBLOCK", str(client_id(c))) == integer(0)  # itself: not blocked
    assert c("CLIENT", "unblock", "1", "a", "b") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'unblock'. "
        b"Try CLIENT HELP.\r\n")
