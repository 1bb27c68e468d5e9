"""
Keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME,
RENAMENX, MOVE, COPY, DBSIZE, FLUSHDB, FLUSHALL, SELECT, SWAPDB, TOUCH, OBJECT.

Every expectation here was checked against Redis 7.0.15
(ENGRAM_TEST_REDIS=1). Error texts are compared byte for byte, including the
"ERR " prefix, through a raw socket, because client libraries match on them.

Marker note: tests that need a non-string key create a list with RPUSH and are
marked `needs_list`; the marker is registered by the project's pytest config.
"""
import time

import pytest
import redis

import conftest
from conftest import read_reply

needs_list = pytest.mark.skipif(not conftest.AGAINST_REDIS, reason="lists arrive with issue 5")


# --------------------------------------------------------------------------
# helpers

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


@pytest.fixture
def raw(server, r):
    # depends on r so the server is flushed first
    c = Raw(server)
    yield c
    c.close()


@pytest.fixture
def db1(server, r):
    c = server.client(db=1, decode_responses=True)
    yield c
    c.close()


def full_scan(client, **kw):
    """Run a full SCAN loop; return the list of keys (with repeats)."""
    keys = []
    cursor = 0
    calls = 0
    while True:
        cursor, batch = client.scan(cursor, **kw)
        keys.extend(batch)
        calls += 1
        assert calls < 100000, "SCAN did not terminate"
        if cursor == 0:
            return keys


# --------------------------------------------------------------------------
# DEL / UNLINK / EXISTS / TOUCH / DBSIZE

def test_del_counts_removed_keys(rd):
    rd.mset({"a": 1, "b": 2, "c": 3})
    assert rd.delete("a", "b", "missing") == 2
    assert rd.exists("a", "b") == 0
    assert rd.get("c") == "3"
    assert rd.delete("missing") == 0


def test_del_duplicate_key_counts_once(raw):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("DEL", "a", "a", "a") == b":1\r\n"


def test_del_many_keys(rd):
    keys = ["k:%d" % i for i in range(1000)]
    p = rd.pipeline(transaction=False)
    for k in keys:
        p.set(k, k)
    p.execute()
    assert rd.dbsize() == 1000
    assert rd.delete(*(keys + ["nope:%d" % i for i in range(50)])) == 1000
    assert rd.dbsize() == 0


def test_unlink(rd):
    rd.mset({"a": 1, "b": 2})
    assert rd.unlink("a", "b", "c") == 2
    assert rd.unlink("a") == 0
    assert rd.dbsize() == 0


def test_exists_counts_duplicates(rd):
    rd.set("a", "1")
    assert rd.exists("a") == 1
    assert rd.exists("missing") == 0
    # the same key given three times counts three times
    assert rd.exists("a", "a", "a", "missing") == 3


def test_touch_counts_existing_keys(rd):
    rd.mset({"a": 1, "b": 2})
    # TOUCH counts duplicates like EXISTS does
    assert rd.touch("a", "a", "missing") == 2
    assert rd.touch("missing") == 0


@pytest.mark.parametrize("command", ["DEL", "UNLINK", "EXISTS", "TOUCH", "TYPE", "KEYS"])
def test_arity_errors_no_args(raw, command):
    assert raw.cmd(command) == err(
        "ERR wrong number of arguments for '%s' command" % command.lower())


@pytest.mark.parametrize("args", [("DBSIZE", "x"), ("RANDOMKEY", "x"), ("KEYS", "a", "b"),
                                  ("TYPE", "a", "b"), ("RENAME", "a"), ("RENAMENX", "a"),
                                  ("MOVE", "a"), ("COPY", "a"), ("SELECT",),
                                  ("SWAPDB", "0")])
def test_arity_errors(raw, args):
    assert raw.cmd(*args) == err(
        "ERR wrong number of arguments for '%s' command" % args[0].lower())


def test_dbsize(rd):
    assert rd.dbsize() == 0
    rd.set("a", "1")
    rd.set("b", "1")
    assert rd.dbsize() == 2
    rd.set("a", "2")
    assert rd.dbsize() == 2
    rd.delete("a")
    assert rd.dbsize() == 1


# --------------------------------------------------------------------------
# TYPE

def test_type_string_and_none(rd):
    rd.set("s", "v")
    rd.set("n", "123")
    assert rd.type("s") == "string"
    assert rd.type("n") == "string"
    assert rd.type("missing") == "none"


@needs_list
def test_type_list(rd):
    rd.rpush("l", "x")
    assert rd.type("l") == "list"


@needs_list
def test_wrongtype_error_text(raw):
    raw.cmd("RPUSH", "l", "x")
    assert raw.cmd("GET", "l") == err(
        "WRONGTYPE Operation against a key holding the wrong kind of value")


# --------------------------------------------------------------------------
# KEYS

GLOB_KEYS = ["hello", "hallo", "hillo", "hllo", "heeello", "hbllo",
             "h*llo", "h?llo", "h[llo", "abc", "a\\b"]


@pytest.fixture
def glob_db(rd):
    rd.mset({k: "1" for k in GLOB_KEYS})
    return rd


@pytest.mark.parametrize("pattern,expected", [
    ("*", GLOB_KEYS),
    ("h?llo", ["hello", "hallo", "hillo", "hbllo", "h*llo", "h?llo", "h[llo"]),
    ("h*llo", ["hello", "hallo", "hillo", "hllo", "heeello", "hbllo",
               "h*llo", "h?llo", "h[llo"]),
    ("h[ae]llo", ["hello", "hallo"]),
    ("h[^e]llo", ["hallo", "hillo", "hbllo", "h*llo", "h?llo", "h[llo"]),
    ("h[a-c]llo", ["hallo", "hbllo"]),
    # a reversed range is accepted and means the same as [a-c]
    ("h[c-a]llo", ["hallo", "hbllo"]),
    # '!' is NOT a negation in Redis globs: [!e] is the set {'!', 'e'}
    ("h[!e]llo", ["hello"]),
    ("h\\*llo", ["h*llo"]),
    ("h\\?llo", ["h?llo"]),
    ("h\\[llo", ["h[llo"]),
    ("h[\\*]llo", ["h*llo"]),
    ("a\\\\b", ["a\\b"]),
    # a backslash escapes the next char, so 'a\b' matches the key "ab" only
    ("a\\b", []),
    ("[a-b]*", ["abc", "a\\b"]),
    ("hello", ["hello"]),
    ("H*", []),  # case-sensitive
    ("nomatch*", []),
])
def test_keys_glob(glob_db, pattern, expected):
    assert sorted(glob_db.keys(pattern)) == sorted(expected)


def test_keys_empty_db(rd):
    assert rd.keys("*") == []


def test_keys_binary_safe(r):
    r.set(b"a\x00b", b"1")
    r.set(b"a\xffb", b"2")
    assert sorted(r.keys(b"a?b")) == [b"a\x00b", b"a\xffb"]


# --------------------------------------------------------------------------
# SCAN

def test_scan_empty_db(rd):
    assert rd.scan(0) == (0, [])


def test_scan_returns_all_keys(rd):
    keys = {"key:%d" % i for i in range(500)}
    rd.mset({k: "v" for k in keys})
    assert set(full_scan(rd)) == keys
    assert set(full_scan(rd, count=1)) == keys
    assert set(full_scan(rd, count=1000)) == keys


def test_scan_match(rd):
    rd.mset({"user:%d" % i: "1" for i in range(200)})
    rd.mset({"item:%d" % i: "1" for i in range(200)})
    got = set(full_scan(rd, match="user:1*", count=20))
    assert got == {"user:%d" % i for i in range(200) if str(i).startswith("1")}
    assert full_scan(rd, match="nothing*") == []


def test_scan_large_count_single_call(rd):
    rd.mset({"k%d" % i: "1" for i in range(50)})
    cursor, keys = rd.scan(0, count=10000)
    assert cursor == 0
    assert sorted(keys) == sorted("k%d" % i for i in range(50))


def test_scan_type_string(rd):
    rd.mset({"a": "1", "b": "2"})
    assert sorted(full_scan(rd, _type="string")) == ["a", "b"]
    # the type name is case-insensitive
    assert sorted(full_scan(rd, _type="STRING")) == ["a", "b"]


@needs_list
def test_scan_type_filters(rd):
    rd.mset({"a": "1", "b": "2"})
    rd.rpush("l1", "x")
    rd.rpush("l2", "x")
    assert sorted(full_scan(rd, _type="string")) == ["a", "b"]
    assert sorted(full_scan(rd, _type="list")) == ["l1", "l2"]
    assert sorted(full_scan(rd, _type="string", match="a*")) == ["a"]


def test_scan_unknown_type_is_empty_not_error(rd):
    rd.mset({"a": "1", "b": "2"})
    # Redis 7.0 accepts an unknown TYPE name and just returns nothing
    assert full_scan(rd, _type="foo") == []


@pytest.mark.parametrize("cursor", ["abc", "1.5", "18446744073709551616", " 1", "1 "])
def test_scan_invalid_cursor(raw, cursor):
    assert raw.cmd("SCAN", cursor) == err("ERR invalid cursor")


def test_scan_empty_cursor_is_zero(raw):
    # Redis parses the cursor with strtoul, so an empty string is cursor 0
    assert raw.cmd("SCAN", "") == b"*2\r\n$1\r\n0\r\n*0\r\n"


@pytest.mark.parametrize("args,error", [
    (("COUNT", "0"), "ERR syntax error"),
    (("COUNT", "-1"), "ERR syntax error"),
    (("COUNT", "abc"), "ERR value is not an integer or out of range"),
    (("COUNT",), "ERR syntax error"),
    (("MATCH",), "ERR syntax error"),
    (("TYPE",), "ERR syntax error"),
    (("FOO", "bar"), "ERR syntax error"),
])
def test_scan_option_errors(raw, args, error):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("SCAN", "0", *args) == err(error)


def test_scan_arity(raw):
    assert raw.cmd("SCAN") == err("ERR wrong number of arguments for 'scan' command")


def test_scan_guarantee_with_concurrent_inserts_and_deletes(r):
    """Every key present for the whole iteration is returned at least once,
    while other keys are inserted (forcing the table to grow) and deleted
    between SCAN calls."""
    stable = {b"stable:%d" % i for i in range(5000)}
    doomed = [b"doomed:%d" % i for i in range(5000)]
    p = r.pipeline(transaction=False)
    for k in stable:
        p.set(k, b"1")
    for k in doomed:
        p.set(k, b"1")
    p.execute()

    seen = set()
    cursor = 0
    calls = 0
    added = 0
    while True:
        cursor, batch = r.scan(cursor, count=50)
        seen.update(batch)
        calls += 1
        assert calls < 20000, "SCAN did not terminate"
        if cursor == 0:
            break
        p = r.pipeline(transaction=False)
        for _ in range(60):
            p.set(b"added:%d" % added, b"1")
            added += 1
        for _ in range(40):
            if doomed:
                p.delete(doomed.pop())
        p.execute()

    missing = stable - seen
    assert not missing, "%d stable keys never returned, e.g. %r" % (
        len(missing), sorted(missing)[:5])
    # nothing that never existed shows up
    assert all(k.split(b":")[0] in (b"stable", b"doomed", b"added") for k in seen)


def test_scan_guarantee_while_table_shrinks(r):
    """Same guarantee while most of the keyspace is deleted mid-scan, which
    lets the server shrink its table."""
    stable = {b"s:%d" % i for i in range(300)}
    doomed = [b"d:%d" % i for i in range(12000)]
    p = r.pipeline(transaction=False)
    for k in stable:
        p.set(k, b"1")
    for k in doomed:
        p.set(k, b"1")
    p.execute()

    seen = set()
    cursor = 0
    calls = 0
    while True:
        cursor, batch = r.scan(cursor, count=20)
        seen.update(batch)
        calls += 1
        assert calls < 50000, "SCAN did not terminate"
        if cursor == 0:
            break
        if doomed:
            chunk, doomed = doomed[:500], doomed[500:]
            r.delete(*chunk)
            if not doomed:
                time.sleep(0.3)  # give a periodic resize a chance to run
    assert stable - seen == set()


# --------------------------------------------------------------------------
# RANDOMKEY

def test_randomkey_empty_db(rd):
    assert rd.randomkey() is None


def test_randomkey(rd):
    rd.mset({"a": "1", "b": "2", "c": "3"})
    got = {rd.randomkey() for _ in range(100)}
    assert got <= {"a", "b", "c"}
    assert len(got) >= 2
    rd.delete("a", "b")
    assert rd.randomkey() == "c"


# --------------------------------------------------------------------------
# RENAME / RENAMENX

def test_rename(rd):
    rd.set("a", "1")
    assert rd.rename("a", "b") is True
    assert rd.get("a") is None
    assert rd.get("b") == "1"


def test_rename_overwrites_destination(rd):
    rd.set("a", "1")
    rd.set("b", "2")
    rd.rename("a", "b")
    assert rd.get("b") == "1"
    assert rd.exists("a") == 0
    assert rd.dbsize() == 1


def test_rename_missing_source(raw):
    assert raw.cmd("RENAME", "nokey", "x") == err("ERR no such key")
    # even when source and destination are the same name
    assert raw.cmd("RENAME", "nokey", "nokey") == err("ERR no such key")
    assert raw.cmd("RENAMENX", "nokey", "x") == err("ERR no such key")


def test_rename_onto_itself(rd):
    rd.set("a", "1")
    rd.pexpire("a", 50000)
    assert rd.rename("a", "a") is True
    assert rd.get("a") == "1"
    assert 0 < rd.pttl("a") <= 50000


def test_renamenx_onto_itself_returns_zero(rd):
    rd.set("a", "1")
    assert rd.renamenx("a", "a") is False
    assert rd.get("a") == "1"


def test_rename_keeps_ttl(rd):
    rd.set("a", "1")
    rd.pexpire("a", 50000)
    rd.rename("a", "b")
    assert 0 < rd.pttl("b") <= 50000
    assert rd.pttl("a") == -2


def test_rename_destination_ttl_replaced(rd):
    rd.set("a", "1")
    rd.set("b", "2")
    rd.pexpire("b", 50000)
    rd.rename("a", "b")
    # the destination's old TTL is gone; the source had none
    assert rd.ttl("b") == -1


def test_renamenx(rd):
    rd.set("a", "1")
    rd.set("b", "2")
    assert rd.renamenx("a", "b") is False
    assert rd.get("a") == "1"
    assert rd.get("b") == "2"
    assert rd.renamenx("a", "c") is True
    assert rd.get("c") == "1"
    assert rd.exists("a") == 0


# --------------------------------------------------------------------------
# MOVE

def test_move(rd, db1):
    rd.set("a", "1")
    assert rd.move("a", 1) is True
    assert rd.exists("a") == 0
    assert db1.get("a") == "1"


def test_move_missing_key(rd):
    assert rd.move("missing", 1) is False


def test_move_target_exists(rd, db1):
    rd.set("a", "src")
    db1.set("a", "dst")
    assert rd.move("a", 1) is False
    assert rd.get("a") == "src"
    assert db1.get("a") == "dst"


def test_move_keeps_ttl(rd, db1):
    rd.set("a", "1")
    rd.pexpire("a", 50000)
    rd.move("a", 1)
    assert 0 < db1.pttl("a") <= 50000


def test_move_errors(raw):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("MOVE", "a", "0") == err("ERR source and destination objects are the same")
    assert raw.cmd("MOVE", "a", "16") == err("ERR DB index is out of range")
    assert raw.cmd("MOVE", "a", "-1") == err("ERR DB index is out of range")
    assert raw.cmd("MOVE", "a", "abc") == err("ERR value is not an integer or out of range")
    assert raw.cmd("MOVE", "a", "1.5") == err("ERR value is not an integer or out of range")
    assert raw.cmd("GET", "a") == b"$1\r\n1\r\n"


def test_move_from_selected_db(raw, rd):
    assert raw.cmd("SELECT", "3") == b"+OK\r\n"
    raw.cmd("SET", "a", "in3")
    assert raw.cmd("MOVE", "a", "0") == b":1\r\n"
    assert rd.get("a") == "in3"
    assert raw.cmd("MOVE", "b", "4") == b":0\r\n"
    assert raw.cmd("SET", "c", "1") == b"+OK\r\n"
    assert raw.cmd("MOVE", "c", "3") == err("ERR source and destination objects are the same")
    # the same-db check comes before the key lookup
    assert raw.cmd("MOVE", "missing", "3") == err(
        "ERR source and destination objects are the same")


# --------------------------------------------------------------------------
# COPY

def test_copy(rd):
    rd.set("a", "1")
    assert rd.copy("a", "b") is True
    assert rd.get("a") == "1"
    assert rd.get("b") == "1"
    # independent values
    rd.set("a", "2")
    assert rd.get("b") == "1"


def test_copy_existing_destination(rd):
    rd.set("a", "1")
    rd.set("b", "2")
    assert rd.copy("a", "b") is False
    assert rd.get("b") == "2"
    assert rd.copy("a", "b", replace=True) is True
    assert rd.get("b") == "1"


def test_copy_missing_source(rd):
    assert rd.copy("missing", "b") is False
    assert rd.exists("b") == 0


def test_copy_to_other_db(rd, db1):
    rd.set("a", "1")
    assert rd.copy("a", "a", destination_db=1) is True
    assert db1.get("a") == "1"
    assert rd.get("a") == "1"
    assert rd.copy("a", "a", destination_db=1) is False
    rd.set("a", "new")
    assert rd.copy("a", "a", destination_db=1, replace=True) is True
    assert db1.get("a") == "new"


def test_copy_keeps_ttl(rd):
    rd.set("a", "1")
    rd.pexpire("a", 50000)
    rd.copy("a", "b")
    assert 0 < rd.pttl("b") <= 50000


def test_copy_replace_clears_destination_ttl(rd):
    rd.set("a", "1")
    rd.set("b", "2")
    rd.pexpire("b", 50000)
    rd.copy("a", "b", replace=True)
    assert rd.ttl("b") == -1


def test_copy_errors(raw):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("COPY", "a", "a") == err("ERR source and destination objects are the same")
    assert raw.cmd("COPY", "a", "a", "DB", "0") == err(
        "ERR source and destination objects are the same")
    assert raw.cmd("COPY", "a", "b", "DB", "16") == err("ERR DB index is out of range")
    assert raw.cmd("COPY", "a", "b", "DB", "abc") == err(
        "ERR value is not an integer or out of range")
    assert raw.cmd("COPY", "a", "b", "DB") == err("ERR syntax error")
    assert raw.cmd("COPY", "a", "b", "FOO") == err("ERR syntax error")
    # Options are checked in order, as Redis reads them
    assert raw.cmd("COPY", "a", "b", "DB", "16", "FOO") == err("ERR DB index is out of range")
    assert raw.cmd("COPY", "a", "b", "FOO", "DB", "16") == err("ERR syntax error")
    assert raw.cmd("COPY", "a", "b", "REPLACE", "REPLACE") == b":1\r\n"


# --------------------------------------------------------------------------
# FLUSHDB / FLUSHALL / SELECT / SWAPDB / database isolation

INT_RANGE_ERR = "ERR value is out of range, value must between -2147483648 and 2147483647"


def test_db_index_beyond_int(raw):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("MOVE", "a", "100000000000") == err(INT_RANGE_ERR)
    assert raw.cmd("COPY", "a", "b", "DB", "100000000000") == err(INT_RANGE_ERR)
    assert raw.cmd("SWAPDB", "0", "100000000000") == err("ERR invalid second DB index")


def test_databases_are_isolated(rd, db1):
    rd.set("k", "zero")
    db1.set("k", "one")
    db1.set("only1", "x")
    assert rd.get("k") == "zero"
    assert db1.get("k") == "one"
    assert rd.exists("only1") == 0
    assert rd.dbsize() == 1
    assert db1.dbsize() == 2
    assert rd.keys("*") == ["k"]
    rd.delete("k")
    assert db1.get("k") == "one"


def test_flushdb_only_current_db(rd, db1):
    rd.set("a", "1")
    db1.set("b", "1")
    assert rd.flushdb() is True
    assert rd.dbsize() == 0
    assert db1.dbsize() == 1


def test_flushall_all_dbs(rd, db1):
    rd.set("a", "1")
    db1.set("b", "1")
    assert rd.flushall() is True
    assert rd.dbsize() == 0
    assert db1.dbsize() == 0


@pytest.mark.parametrize("command", ["FLUSHDB", "FLUSHALL"])
@pytest.mark.parametrize("option", ["ASYNC", "SYNC", "async", "sync"])
def test_flush_options(raw, command, option):
    raw.cmd("SET", "a", "1")
    assert raw.cmd(command, option) == b"+OK\r\n"
    assert raw.cmd("DBSIZE") == b":0\r\n"


@pytest.mark.parametrize("command", ["FLUSHDB", "FLUSHALL"])
@pytest.mark.parametrize("args", [("foo",), ("ASYNC", "SYNC"), ("SYNC", "SYNC")])
def test_flush_bad_options(raw, command, args):
    raw.cmd("SET", "a", "1")
    assert raw.cmd(command, *args) == err("ERR syntax error")
    assert raw.cmd("DBSIZE") == b":1\r\n"


def test_select(raw, db1):
    assert raw.cmd("SELECT", "1") == b"+OK\r\n"
    assert raw.cmd("SET", "a", "one") == b"+OK\r\n"
    assert db1.get("a") == "one"
    assert raw.cmd("SELECT", "15") == b"+OK\r\n"
    assert raw.cmd("GET", "a") == b"$-1\r\n"
    assert raw.cmd("SELECT", "0") == b"+OK\r\n"
    assert raw.cmd("GET", "a") == b"$-1\r\n"


@pytest.mark.parametrize("index,error", [
    ("16", "ERR DB index is out of range"),
    ("-1", "ERR DB index is out of range"),
    ("2147483647", "ERR DB index is out of range"),
    # beyond a C int: the generic range error (with Redis's own grammar)
    ("2147483648", INT_RANGE_ERR),
    ("100000000000", INT_RANGE_ERR),
    ("abc", "ERR value is not an integer or out of range"),
    ("1.5", "ERR value is not an integer or out of range"),
    ("", "ERR value is not an integer or out of range"),
    (" 1", "ERR value is not an integer or out of range"),
    # leading zeros are not accepted as integers
    ("01", "ERR value is not an integer or out of range"),
])
def test_select_errors(raw, index, error):
    assert raw.cmd("SELECT", index) == err(error)


def test_select_error_keeps_current_db(raw):
    raw.cmd("SELECT", "2")
    raw.cmd("SET", "a", "two")
    assert raw.cmd("SELECT", "99").startswith(b"-ERR")
    assert raw.cmd("GET", "a") == b"$3\r\ntwo\r\n"


def test_swapdb(rd, db1, raw):
    rd.set("a", "zero")
    db1.mset({"a": "one", "b": "one"})
    assert rd.swapdb(0, 1) is True
    # already-connected clients see the swapped data
    assert rd.get("a") == "one"
    assert rd.dbsize() == 2
    assert db1.get("a") == "zero"
    assert db1.dbsize() == 1
    assert raw.cmd("GET", "b") == b"$3\r\none\r\n"
    assert rd.swapdb(1, 0) is True
    assert rd.get("a") == "zero"


def test_swapdb_same_db(rd):
    rd.set("a", "1")
    assert rd.swapdb(0, 0) is True
    assert rd.get("a") == "1"


def test_swapdb_keeps_ttl(rd, db1):
    rd.set("a", "1")
    rd.pexpire("a", 50000)
    rd.swapdb(0, 1)
    assert 0 < db1.pttl("a") <= 50000


@pytest.mark.parametrize("a,b,error", [
    ("0", "16", "ERR DB index is out of range"),
    ("16", "0", "ERR DB index is out of range"),
    ("-1", "0", "ERR DB index is out of range"),
    ("0", "-1", "ERR DB index is out of range"),
    ("abc", "0", "ERR invalid first DB index"),
    ("1.5", "0", "ERR invalid first DB index"),
    ("0", "abc", "ERR invalid second DB index"),
    ("abc", "abc", "ERR invalid first DB index"),
])
def test_swapdb_errors(raw, a, b, error):
    assert raw.cmd("SWAPDB", a, b) == err(error)


# --------------------------------------------------------------------------
# OBJECT

@pytest.mark.parametrize("value,encoding", [
    ("123", "int"),
    ("0", "int"),
    ("-5", "int"),
    ("9223372036854775807", "int"),
    ("-9223372036854775808", "int"),
    ("9223372036854775808", "embstr"),  # out of long long range
    ("0123", "embstr"),  # leading zero: not a canonical integer
    ("+1", "embstr"),
    ("1.5", "embstr"),
    ("", "embstr"),
    ("hello", "embstr"),
    ("x" * 44, "embstr"),
    ("x" * 45, "raw"),
    ("1" * 45, "raw"),
    ("y" * 1000, "raw"),
])
def test_object_encoding_strings(rd, value, encoding):
    rd.set("k", value)
    assert rd.object("encoding", "k") == encoding
    assert rd.get("k") == value


def test_object_encoding_missing_key(rd):
    assert rd.object("encoding", "missing") is None


@pytest.mark.parametrize("sub", ["ENCODING", "IDLETIME", "REFCOUNT", "FREQ"])
def test_object_missing_key_is_nil(raw, sub):
    # even FREQ returns nil for a missing key rather than the LFU error
    assert raw.cmd("OBJECT", sub, "missing") == b"$-1\r\n"


def test_object_subcommand_case_insensitive(raw):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("object", "Encoding", "a") == b"$3\r\nint\r\n"


def test_object_freq_needs_lfu_policy(raw):
    raw.cmd("SET", "a", "1")
    assert raw.cmd("OBJECT", "FREQ", "a") == err(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
        "Please note that when switching between policies at runtime LRU and LFU data "
        "will take some time to adjust.")


def test_object_refcount_is_integer(rd):
    rd.set("a", "hello")
    rd.set("n", "1")
    assert isinstance(rd.object("refcount", "a"), int)
    assert isinstance(rd.object("refcount", "n"), int)
    assert rd.object("refcount", "a") >= 1


def test_object_idletime(rd):
    rd.set("a", "1")
    t = rd.object("idletime", "a")
    assert isinstance(t, int)
    assert 0 <= t <= 1


def test_object_idletime_grows_and_touch_resets(rd):
    rd.set("a", "1")
    rd.set("b", "1")
    time.sleep(2.2)
    assert rd.object("idletime", "a") >= 1
    # OBJECT IDLETIME itself does not count as an access
    assert rd.object("idletime", "a") >= 1
    assert rd.touch("a") == 1
    assert rd.object("idletime", "a") == 0
    assert rd.get("b") == "1"
    assert rd.object("idletime", "b") == 0


def test_object_help(rd):
    lines = rd.execute_command("OBJECT HELP")
    assert isinstance(lines, list) and len(lines) > 5
    assert all(isinstance(x, str) for x in lines)
    assert lines[0].startswith("OBJECT <subcommand>")
    for word in ("ENCODING", "FREQ", "IDLETIME", "REFCOUNT", "HELP"):
        assert any(x.startswith(word) for x in lines), word


def test_object_unknown_subcommand(raw):
    assert raw.cmd("OBJECT", "foo") == err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    assert raw.cmd("OBJECT", "foo", "a") == err(
        "ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    # the subcommand is echoed with its original case
    assert raw.cmd("object", "FoO") == err("ERR unknown subcommand 'FoO'. Try OBJECT HELP.")


def test_object_unknown_subcommand_truncated(raw):
    # the echoed subcommand is cut at 128 bytes
    assert raw.cmd("OBJECT", "x" * 200) == err(
        "ERR unknown subcommand '%s'. Try OBJECT HELP." % ("x" * 128))


@pytest.mark.parametrize("args,name", [
    (("OBJECT",), "object"),
    (("OBJECT", "ENCODING"), "object|encoding"),
    (("OBJECT", "ENCODING", "a", "b"), "object|encoding"),
    (("OBJECT", "REFCOUNT"), "object|refcount"),
    (("OBJECT", "IDLETIME"), "object|idletime"),
    (("OBJECT", "FREQ"), "object|freq"),
    (("OBJECT", "HELP", "x"), "object|help"),
])
def test_object_arity(raw, args, name):
    assert raw.cmd(*args) == err("ERR wrong number of arguments for '%s' command" % name)
