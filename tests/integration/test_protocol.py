"""
Wire-protocol tests: RESP2, inline commands, RESP3 via HELLO, protocol errors,
robustness against hostile input, and pipelining.

Almost everything here talks to the server over a plain socket and compares
exact bytes. Every expected byte string was checked against Redis 7.0.15
(ENGRAM_TEST_REDIS=1).
"""
import random
import re
import socket
import threading
import time

import pytest

import conftest
from conftest import Server, read_reply

PROTO_ERR_INVALID_MBULK = b"-ERR Protocol error: invalid multibulk length\r\n"
PROTO_ERR_INVALID_BULK = b"-ERR Protocol error: invalid bulk length\r\n"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

cmd = conftest.encode_command


def roundtrip(server, data, nreplies=1, timeout=5.0):
    """Send `data` on a fresh connection, read `nreplies` replies, return them."""
    with server.raw(timeout=timeout) as s:
        s.sendall(data)
        reader = ReplyReader(s, timeout=timeout)
        return [reader.next() for _ in range(nreplies)]


class ReplyReader:
    """Reads consecutive replies from a socket, keeping leftover bytes."""

    def __init__(self, sock, timeout=5.0):
        self.sock = sock
        self.buf = b""
        self.timeout = timeout
        sock.settimeout(timeout)

    def next(self):
        deadline = time.monotonic() + self.timeout
        while True:
            n = conftest._reply_end(self.buf, 0)
            if n is not None:
                reply, self.buf = self.buf[:n], self.buf[n:]
                return reply
            if time.monotonic() > deadline:
                raise TimeoutError("incomplete reply: %r" % self.buf[:200])
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed after %r" % self.buf[:200])
            self.buf += chunk


def assert_closed(sock, timeout=5.0):
    """Assert that the peer closes the connection (EOF or RST) within timeout,
    without sending anything more."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    extra = b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        except socket.timeout:
            pytest.fail("connection still open after %.1fs" % timeout)
        if not chunk:
            break
        extra += chunk
    else:
        pytest.fail("connection still open after %.1fs" % timeout)
    assert extra == b""


def assert_open(sock, timeout=5.0):
    """The connection still answers PING."""
    sock.sendall(b"PING\r\n")
    assert read_reply(sock, timeout) == b"+PONG\r\n"


def send_quietly(sock, data):
    """sendall that tolerates the server closing the connection first."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def protocol_error(server, data, expected, timeout=5.0):
    """Send bad input, expect exactly `expected` and then a closed connection."""
    with server.raw(timeout=timeout) as s:
        send_quietly(s, data)
        assert read_reply(s, timeout) == expected
        assert_closed(s, timeout)
    assert_server_ok(server)


def assert_server_ok(server):
    assert server.alive()
    with server.raw() as s:
        s.sendall(b"PING\r\n")
        assert read_reply(s) == b"+PONG\r\n"


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.fixture
def flushed(server):
    with server.raw() as s:
        s.sendall(b"FLUSHALL\r\n")
        assert read_reply(s) == b"+OK\r\n"
    return server


# --------------------------------------------------------------------------
# RESP2 basics
# --------------------------------------------------------------------------

def test_resp2_ping(server):
    assert roundtrip(server, cmd("PING")) == [b"+PONG\r\n"]
    assert roundtrip(server, cmd("PING", "hi")) == [b"$2\r\nhi\r\n"]


def test_resp2_set_get_types(flushed):
    data = (cmd("SET", "k", "v") + cmd("GET", "k") + cmd("GET", "missing") +
            cmd("INCR", "n") + cmd("INCRBY", "n", "-5") + cmd("MGET", "k", "missing") +
            cmd("KEYS", "nomatch*") + cmd("INCR", "k") +
            cmd("SET", "e", "") + cmd("GET", "e"))
    assert roundtrip(flushed, data, 10) == [
        b"+OK\r\n",
        b"$1\r\nv\r\n",
        b"$-1\r\n",
        b":1\r\n",
        b":-4\r\n",
        b"*2\r\n$1\r\nv\r\n$-1\r\n",
        b"*0\r\n",
        b"-ERR value is not an integer or out of range\r\n",
        b"+OK\r\n",
        b"$0\r\n\r\n",
    ]


def test_resp2_binary_safe_values(flushed):
    value = b"a\r\nb\x00c\xff$3\r\n*1\r\n"
    data = cmd("SET", b"bin\r\nkey", value) + cmd("GET", b"bin\r\nkey")
    assert roundtrip(flushed, data, 2) == [
        b"+OK\r\n", b"$%d\r\n%s\r\n" % (len(value), value)]


def test_resp2_request_split_into_single_bytes(flushed):
    """A request may arrive one byte at a time."""
    data = cmd("SET", "split", "value") + cmd("GET", "split")
    with flushed.raw() as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
        r = ReplyReader(s)
        assert r.next() == b"+OK\r\n"
        assert r.next() == b"$5\r\nvalue\r\n"


def test_resp2_empty_and_negative_multibulk_are_ignored(server):
    # Redis silently skips "*0" and any "*<negative>" header.
    assert roundtrip(server, b"*0\r\n*-1\r\n*-10\r\nPING\r\n") == [b"+PONG\r\n"]


def test_resp2_zero_length_command_name(server):
    assert roundtrip(server, b"*1\r\n$0\r\n\r\n") == [
        b"-ERR unknown command '', with args beginning with: \r\n"]


def test_resp2_crlf_after_bulk_payload_is_not_checked(server):
    # Surprising but real: Redis 7.0 skips the two bytes after a bulk payload
    # without checking that they are "\r\n".
    assert roundtrip(server, b"*1\r\n$4\r\nPINGxx" + b"PING\r\n", 2) == [
        b"+PONG\r\n", b"+PONG\r\n"]


# --------------------------------------------------------------------------
# Inline commands
# --------------------------------------------------------------------------

def test_inline_ping(server):
    assert roundtrip(server, b"PING\r\n") == [b"+PONG\r\n"]
    assert roundtrip(server, b"ping\r\n") == [b"+PONG\r\n"]


def test_inline_quoted_strings(flushed):
    data = (b'SET a "hello world"\r\nGET a\r\n'
            b"SET b 'single quoted'\r\nGET b\r\n"
            b'SET c "esc\\x41\\n\\t\\"q\\\\"\r\nGET c\r\n'
            b"SET d 'it\\'s'\r\nGET d\r\n"
            b"SET e 'no\\nescape'\r\nGET e\r\n")
    assert roundtrip(flushed, data, 10) == [
        b"+OK\r\n", b"$11\r\nhello world\r\n",
        b"+OK\r\n", b"$13\r\nsingle quoted\r\n",
        b"+OK\r\n", b'$9\r\nescA\n\t"q\\\r\n',
        b"+OK\r\n", b"$4\r\nit's\r\n",
        # inside single quotes only \' is an escape
        b"+OK\r\n", b"$10\r\nno\\nescape\r\n",
    ]


def test_inline_quote_edge_cases(server):
    data = (b'ECHO ""\r\n'
            b"ECHO ''\r\n"
            b'ECHO "\\xzz"\r\n'      # invalid hex escape: backslash dropped
            b'ECHO a"b"\r\n'         # a quote inside an unquoted token starts quoting
            b'ECHO "a" "b"\r\n')
    assert roundtrip(server, data, 5) == [
        b"$0\r\n\r\n",
        b"$0\r\n\r\n",
        b"$3\r\nxzz\r\n",
        b"$2\r\nab\r\n",
        b"-ERR wrong number of arguments for 'echo' command\r\n",
    ]


def test_inline_lf_only_line_endings(flushed):
    data = b"SET x 1\nINCR x\nGET x\n"
    assert roundtrip(flushed, data, 3) == [b"+OK\r\n", b":2\r\n", b"$1\r\n2\r\n"]


def test_inline_extra_whitespace(server):
    assert roundtrip(server, b"   PING   \r\n") == [b"+PONG\r\n"]
    assert roundtrip(server, b"ECHO \t  spaced\r\n") == [b"$6\r\nspaced\r\n"]
    # a stray \r before \r\n is just whitespace
    assert roundtrip(server, b"PING\r\r\n") == [b"+PONG\r\n"]


def test_inline_empty_lines_are_ignored(server):
    data = b"\r\n\r\n\n   \r\n\nPING\r\n\r\nPING\n"
    with server.raw() as s:
        s.sendall(data)
        r = ReplyReader(s)
        assert r.next() == b"+PONG\r\n"
        assert r.next() == b"+PONG\r\n"
        # nothing else was produced for the empty lines
        s.sendall(b"ECHO end\r\n")
        assert r.next() == b"$3\r\nend\r\n"


def test_inline_and_multibulk_mixed(server):
    data = b"PING\r\n" + cmd("ECHO", "mb") + b"ECHO inline\n" + cmd("PING")
    assert roundtrip(server, data, 4) == [
        b"+PONG\r\n", b"$2\r\nmb\r\n", b"$6\r\ninline\r\n", b"+PONG\r\n"]


def test_inline_resp_type_prefixes_are_command_names(server):
    # Lines that don't start with '*' are inline commands, whatever they look like.
    data = b"$4\r\nPING\r\n+PING\r\n"
    assert roundtrip(server, data, 3) == [
        b"-ERR unknown command '$4', with args beginning with: \r\n",
        b"+PONG\r\n",
        b"-ERR unknown command '+PING', with args beginning with: \r\n",
    ]


# --------------------------------------------------------------------------
# RESP3 via HELLO
# --------------------------------------------------------------------------

HELLO_KEYS = [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]


def parse_flat_pairs(reply, header):
    """Parse a map (%7) or flat array (*14) of bulk-string keys to simple values."""
    assert reply.startswith(header), reply
    body = reply[len(header):]
    items = []
    pos = 0
    while pos < len(body):
        end = conftest._reply_end(body, pos)
        items.append(body[pos:end])
        pos = end
    keys = items[0::2]
    vals = items[1::2]
    return keys, dict(zip(keys, vals))


def test_hello3_reply_is_a_map(server):
    with server.raw() as s:
        s.sendall(b"CLIENT ID\r\n")
        cid = read_reply(s)
        s.sendall(b"HELLO 3\r\n")
        reply = read_reply(s)
    keys, vals = parse_flat_pairs(reply, b"%7\r\n")
    assert keys == [b"$%d\r\n%s\r\n" % (len(k), k) for k in HELLO_KEYS]
    v = {k: vals[b"$%d\r\n%s\r\n" % (len(k), k)] for k in HELLO_KEYS}
    assert v[b"server"] == b"$5\r\nredis\r\n"
    assert re.match(rb"^\$\d+\r\n\d+\.\d+\.\d+\r\n$", v[b"version"])
    assert v[b"proto"] == b":3\r\n"
    assert v[b"id"] == cid
    assert v[b"mode"] == b"$10\r\nstandalone\r\n"
    assert v[b"role"] == b"$6\r\nmaster\r\n"
    assert v[b"modules"] == b"*0\r\n"


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram-specific")
def test_hello_reports_version_7_0_15(server):
    with server.raw() as s:
        s.sendall(b"HELLO 3\r\n")
        reply = read_reply(s)
    assert b"$7\r\nversion\r\n$6\r\n7.0.15\r\n" in reply


def test_hello_without_args_stays_resp2(server):
    with server.raw() as s:
        s.sendall(b"HELLO\r\n")
        reply = read_reply(s)
        keys, vals = parse_flat_pairs(reply, b"*14\r\n")
        assert keys == [b"$%d\r\n%s\r\n" % (len(k), k) for k in HELLO_KEYS]
        assert vals[b"$5\r\nproto\r\n"] == b":2\r\n"
        s.sendall(b"GET missing\r\n")
        assert read_reply(s) == b"$-1\r\n"


def test_resp3_replies_and_back_to_resp2(flushed):
    with flushed.raw() as s:
        r = ReplyReader(s)
        s.sendall(b"HELLO 3\r\n")
        assert r.next().startswith(b"%7\r\n")
        s.sendall(cmd("GET", "missing") + cmd("SET", "a", "1") + cmd("EXISTS", "a") +
                  cmd("MGET", "a", "missing") + cmd("CONFIG", "GET", "databases") +
                  cmd("PING") + cmd("ECHO", "x") + cmd("INCR", "a") + cmd("DEL", "a"))
        assert r.next() == b"_\r\n"
        assert r.next() == b"+OK\r\n"
        assert r.next() == b":1\r\n"
        assert r.next() == b"*2\r\n$1\r\n1\r\n_\r\n"
        assert r.next() == b"%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"
        assert r.next() == b"+PONG\r\n"
        assert r.next() == b"$1\r\nx\r\n"
        assert r.next() == b":2\r\n"
        assert r.next() == b":1\r\n"
        s.sendall(b"HELLO 2\r\n")
        assert r.next().startswith(b"*14\r\n")
        s.sendall(cmd("GET", "missing") + cmd("CONFIG", "GET", "databases"))
        assert r.next() == b"$-1\r\n"
        assert r.next() == b"*2\r\n$9\r\ndatabases\r\n$2\r\n16\r\n"


def test_resp3_hash_is_a_map(flushed):
    """Empty and non-empty hash -> map in RESP3, flat array in RESP2."""
    with flushed.raw() as s:
        r = ReplyReader(s)
        s.sendall(b"HELLO 3\r\n")
        assert r.next().startswith(b"%7\r\n")
        s.sendall(cmd("HGETALL", "missing") + cmd("HSET", "h", "f", "v") + cmd("HGETALL", "h"))
        assert r.next() == b"%0\r\n"
        assert r.next() == b":1\r\n"
        assert r.next() == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
        s.sendall(b"HELLO 2\r\n")
        assert r.next().startswith(b"*14\r\n")
        s.sendall(cmd("HGETALL", "missing") + cmd("HGETALL", "h"))
        assert r.next() == b"*0\r\n"
        assert r.next() == b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n"


@pytest.mark.skipif(not conftest.AGAINST_REDIS, reason="sets, zsets arrive with issue 5")
def test_resp3_collection_types(flushed):
    """Empty set -> set, zset score -> double (needs sets and sorted sets;
    the hash part is test_resp3_hash_is_a_map)."""
    with flushed.raw() as s:
        r = ReplyReader(s)
        s.sendall(b"HELLO 3\r\n")
        assert r.next().startswith(b"%7\r\n")
        s.sendall(cmd("SMEMBERS", "missing") +
                  cmd("ZADD", "z", "1.5", "m") + cmd("ZSCORE", "z", "m"))
        assert r.next() == b"~0\r\n"
        assert r.next() == b":1\r\n"
        assert r.next() == b",1.5\r\n"
        s.sendall(b"HELLO 2\r\n")
        assert r.next().startswith(b"*14\r\n")
        s.sendall(cmd("ZSCORE", "z", "m"))
        assert r.next() == b"$3\r\n1.5\r\n"


def test_hello_unsupported_versions(server):
    with server.raw() as s:
        for v in (b"4", b"1", b"0", b"-1"):
            s.sendall(b"HELLO " + v + b"\r\n")
            assert read_reply(s) == b"-NOPROTO unsupported protocol version\r\n"
        s.sendall(b"HELLO abc\r\n")
        assert read_reply(s) == b"-ERR Protocol version is not an integer or out of range\r\n"
        # still RESP2 and still open
        s.sendall(b"GET missing\r\n")
        assert read_reply(s) == b"$-1\r\n"


def test_hello_syntax_errors(server):
    with server.raw() as s:
        s.sendall(b"HELLO 3 SETNAME\r\n")
        assert read_reply(s) == b"-ERR Syntax error in HELLO option 'SETNAME'\r\n"
        s.sendall(b"HELLO 2 FOO\r\n")
        assert read_reply(s) == b"-ERR Syntax error in HELLO option 'FOO'\r\n"
        s.sendall(b"HELLO 3 AUTH default\r\n")
        assert read_reply(s) == b"-ERR Syntax error in HELLO option 'AUTH'\r\n"
        # none of the failed HELLOs switched the protocol
        s.sendall(b"GET missing\r\n")
        assert read_reply(s) == b"$-1\r\n"


def test_hello_setname(server):
    with server.raw() as s:
        s.sendall(b"HELLO 3 SETNAME myname\r\n")
        assert read_reply(s).startswith(b"%7\r\n")
        s.sendall(b"CLIENT GETNAME\r\n")
        assert read_reply(s) == b"$6\r\nmyname\r\n"
        s.sendall(b'HELLO 3 SETNAME "a b"\r\n')
        assert read_reply(s) == (b"-ERR Client names cannot contain spaces, newlines "
                                 b"or special characters.\r\n")
        s.sendall(b"CLIENT GETNAME\r\n")
        assert read_reply(s) == b"$6\r\nmyname\r\n"


def test_hello_auth_without_requirepass(server):
    # The default user has "nopass": any password is accepted.
    with server.raw() as s:
        s.sendall(b"HELLO 3 AUTH default whatever\r\n")
        assert read_reply(s).startswith(b"%7\r\n")


@pytest.fixture(scope="module")
def auth_server():
    s = Server(args=["--requirepass", "secret"])
    yield s
    s.stop()


def test_hello_auth_with_requirepass(auth_server):
    with auth_server.raw() as s:
        s.sendall(b"HELLO 3\r\n")
        assert read_reply(s) == (
            b"-NOAUTH HELLO must be called with the client already authenticated, "
            b"otherwise the HELLO AUTH <user> <pass> option can be used to authenticate "
            b"the client and select the RESP protocol version at the same time\r\n")
        s.sendall(b"HELLO 3 AUTH default wrong\r\n")
        assert read_reply(s) == (b"-WRONGPASS invalid username-password pair or "
                                 b"user is disabled.\r\n")
        s.sendall(b"GET a\r\n")
        assert read_reply(s) == b"-NOAUTH Authentication required.\r\n"
        s.sendall(b"HELLO 3 AUTH default secret SETNAME n1\r\n")
        assert read_reply(s).startswith(b"%7\r\n")
        s.sendall(b"GET a\r\nCLIENT GETNAME\r\n")
        r = ReplyReader(s)
        assert r.next() == b"_\r\n"
        assert r.next() == b"$2\r\nn1\r\n"


def test_unauthenticated_protocol_limits(auth_server):
    # Before AUTH, Redis refuses multibulk counts > 10 and bulk lengths > 16384.
    with auth_server.raw() as s:
        send_quietly(s, b"*11\r\n")
        assert read_reply(s) == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
        assert_closed(s)
    with auth_server.raw() as s:
        send_quietly(s, b"*1\r\n$16385\r\n")
        assert read_reply(s) == b"-ERR Protocol error: unauthenticated bulk length\r\n"
        assert_closed(s)
    with auth_server.raw() as s:
        s.sendall(cmd("ECHO", "x" * 16384))
        assert read_reply(s) == b"-NOAUTH Authentication required.\r\n"
        # unknown commands are reported as such even before AUTH
        s.sendall(b"foo\r\n")
        assert read_reply(s) == b"-ERR unknown command 'foo', with args beginning with: \r\n"


# --------------------------------------------------------------------------
# Protocol errors: exact text, then the connection is closed
# --------------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    (b"*abc\r\n", PROTO_ERR_INVALID_MBULK),
    (b"*\r\n", PROTO_ERR_INVALID_MBULK),
    (b"*+1\r\n$4\r\nPING\r\n", PROTO_ERR_INVALID_MBULK),
    (b"*01\r\n$4\r\nPING\r\n", PROTO_ERR_INVALID_MBULK),       # leading zero
    (b"*1 \r\n$4\r\nPING\r\n", PROTO_ERR_INVALID_MBULK),       # trailing space
    (b"*2147483648\r\n", PROTO_ERR_INVALID_MBULK),             # > INT_MAX
    (b"*-99999999999999999999999\r\n", PROTO_ERR_INVALID_MBULK),  # overflow
    (b"*1\r\n$-5\r\n", PROTO_ERR_INVALID_BULK),
    (b"*1\r\n$-1\r\n", PROTO_ERR_INVALID_BULK),
    (b"*1\r\n$abc\r\n", PROTO_ERR_INVALID_BULK),
    (b"*1\r\n$\r\n", PROTO_ERR_INVALID_BULK),
    (b"*2\r\n$4\r\nECHO\r\n$03\r\nabc\r\n", PROTO_ERR_INVALID_BULK),
    (b"*1\r\n$2147483648\r\n", PROTO_ERR_INVALID_BULK),        # 2 GB
    (b"*1\r\n$536870913\r\n", PROTO_ERR_INVALID_BULK),         # proto-max-bulk-len + 1
    (b"*1\r\n$9223372036854775807\r\n", PROTO_ERR_INVALID_BULK),
    (b"*1\r\n$-9223372036854775808\r\n", PROTO_ERR_INVALID_BULK),
    (b"*1\r\n$99999999999999999999\r\n", PROTO_ERR_INVALID_BULK),
    (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n"),
    (b'SET a "b\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"SET a 'b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b'ECHO "a"b\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
], ids=lambda v: repr(v)[:40] if isinstance(v, bytes) else None)
def test_protocol_error(server, data, expected):
    protocol_error(server, data, expected)


def test_protocol_error_after_valid_commands(server):
    """Replies to earlier commands in the same packet are delivered first."""
    with server.raw() as s:
        send_quietly(s, b"PING\r\nECHO ok\r\n*1\r\nfoo\r\nPING\r\n")
        r = ReplyReader(s)
        assert r.next() == b"+PONG\r\n"
        assert r.next() == b"$2\r\nok\r\n"
        assert r.next() == b"-ERR Protocol error: expected '$', got 'f'\r\n"
        assert r.buf == b""
        assert_closed(s)


def test_too_big_mbulk_count_string(server):
    protocol_error(server, b"*" + b"1" * 70000,
                   b"-ERR Protocol error: too big mbulk count string\r\n")


def test_too_big_bulk_count_string(server):
    protocol_error(server, b"*1\r\n$" + b"1" * 70000,
                   b"-ERR Protocol error: too big bulk count string\r\n")


def test_too_big_inline_request(server):
    protocol_error(server, b"A" * 70000,
                   b"-ERR Protocol error: too big inline request\r\n")


def test_long_inline_request_with_newline_is_fine(server):
    arg = b"x" * 70000
    assert roundtrip(server, b"ECHO " + arg + b"\r\n") == [b"$70000\r\n" + arg + b"\r\n"]


def test_64k_without_newline_is_still_pending(server):
    # The limit is "more than 64 KB buffered without a newline"; exactly
    # 64 KB (65536 bytes) is still accepted and completes when the newline arrives.
    with server.raw() as s:
        s.sendall(b"ECHO " + b"y" * (65536 - 5))
        time.sleep(0.2)
        s.sendall(b"\r\n")
        assert read_reply(s) == b"$65531\r\n" + b"y" * 65531 + b"\r\n"


# --------------------------------------------------------------------------
# Unknown command / arity errors keep the connection open
# --------------------------------------------------------------------------

def test_unknown_command_error_text(server):
    with server.raw() as s:
        r = ReplyReader(s)
        s.sendall(b"foo bar\r\n")
        assert r.next() == b"-ERR unknown command 'foo', with args beginning with: 'bar' \r\n"
        s.sendall(b"FOO\r\n")
        assert r.next() == b"-ERR unknown command 'FOO', with args beginning with: \r\n"
        s.sendall(b"foo a b c\r\n")
        assert r.next() == (b"-ERR unknown command 'foo', with args beginning with: "
                            b"'a' 'b' 'c' \r\n")
        assert_open(s)


def test_unknown_command_error_truncation(server):
    with server.raw() as s:
        r = ReplyReader(s)
        # the arguments part is cut at 128 characters
        s.sendall(b"foo " + b"x" * 200 + b" y\r\n")
        assert r.next() == (b"-ERR unknown command 'foo', with args beginning with: '"
                            + b"x" * 128 + b"' \r\n")
        s.sendall(b"foo " + b"x" * 100 + b" " + b"y" * 100 + b" z\r\n")
        assert r.next() == (b"-ERR unknown command 'foo', with args beginning with: '"
                            + b"x" * 100 + b"' '" + b"y" * 25 + b"' \r\n")
        # the command name is cut at 128 characters
        s.sendall(b"Z" * 200 + b" y\r\n")
        assert r.next() == (b"-ERR unknown command '" + b"Z" * 128
                            + b"', with args beginning with: 'y' \r\n")
        assert_open(s)


def test_unknown_command_error_sanitizes_newlines(server):
    # CR and LF inside an error message are replaced by spaces.
    with server.raw() as s:
        s.sendall(b"*2\r\n$3\r\nfoo\r\n$4\r\na\r\nb\r\n")
        assert read_reply(s) == b"-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n"
        assert_open(s)


def test_arity_errors(server):
    with server.raw() as s:
        r = ReplyReader(s)
        s.sendall(b"GET\r\n")
        assert r.next() == b"-ERR wrong number of arguments for 'get' command\r\n"
        s.sendall(b"get a b\r\n")
        assert r.next() == b"-ERR wrong number of arguments for 'get' command\r\n"
        s.sendall(b"SET a\r\n")
        assert r.next() == b"-ERR wrong number of arguments for 'set' command\r\n"
        s.sendall(b"PING a b\r\n")
        assert r.next() == b"-ERR wrong number of arguments for 'ping' command\r\n"
        s.sendall(b"CONFIG GET\r\n")
        assert r.next() == b"-ERR wrong number of arguments for 'config|get' command\r\n"
        assert_open(s)


def test_command_names_are_case_insensitive(server):
    assert roundtrip(server, cmd("pInG") + cmd("EcHo", "x"), 2) == [
        b"+PONG\r\n", b"$1\r\nx\r\n"]


# --------------------------------------------------------------------------
# Bad input never kills the server
# --------------------------------------------------------------------------

def test_random_garbage_does_not_kill_server(server):
    rng = random.Random(20240607)
    deadline = time.monotonic() + 20
    for _ in range(50):
        assert time.monotonic() < deadline
        blob = bytes(rng.getrandbits(8) for _ in range(4096))
        try:
            with server.raw(timeout=2) as s:
                send_quietly(s, blob)
                s.settimeout(0.05)
                try:
                    s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    pass
        except OSError:
            pass
        assert server.alive()
    assert_server_ok(server)


def test_random_resp_shaped_garbage_does_not_kill_server(server):
    """Fuzz closer to the grammar: random headers, lengths and payloads."""
    rng = random.Random(7)
    pieces = [b"*", b"$", b"\r\n", b"\n", b"\r", b"-1", b"0", b"1", b"3", b"100",
              b"2147483648", b"-99999", b"PING", b"SET", b"GET", b'"', b"'", b"\\x",
              b" ", b"\x00", b"abc"]
    for _ in range(50):
        blob = b"".join(rng.choice(pieces) for _ in range(400))[:4096]
        try:
            with server.raw(timeout=2) as s:
                send_quietly(s, blob)
                s.settimeout(0.05)
                try:
                    s.recv(65536)
                except (socket.timeout, ConnectionResetError):
                    pass
        except OSError:
            pass
        assert server.alive()
    assert_server_ok(server)


def test_huge_multibulk_count_then_silence(server):
    """A client announcing 1,000,000 arguments and then sending nothing must
    not make the server preallocate for them or stop serving others."""
    rss_before = rss_kb(server.proc.pid)
    socks = []
    try:
        for _ in range(10):
            s = server.raw()
            s.sendall(b"*1000000\r\n$4\r\nECHO\r\n")
            socks.append(s)
        time.sleep(0.3)
        assert_server_ok(server)
        rss_after = rss_kb(server.proc.pid)
        # 10 x 1M pointers would be 80 MB; allow generous slack.
        assert rss_after - rss_before < 64 * 1024, (rss_before, rss_after)
        # the pending connections are still open and waiting
        socks[0].settimeout(0.2)
        with pytest.raises(socket.timeout):
            socks[0].recv(1)
    finally:
        for s in socks:
            s.close()
    assert_server_ok(server)


def test_huge_negative_lengths(server):
    # negative multibulk counts are ignored, whatever their size
    assert roundtrip(server, b"*-9999999999\r\n*-9223372036854775808\r\nPING\r\n") == [
        b"+PONG\r\n"]
    protocol_error(server, b"*1\r\n$-9999999999\r\n", PROTO_ERR_INVALID_BULK)
    protocol_error(server, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$-2147483649\r\n",
                   PROTO_ERR_INVALID_BULK)
    assert_server_ok(server)


def test_slow_loris_does_not_block_others(flushed):
    server = flushed
    data = cmd("SET", "slow", "loris")  # 34 bytes, one every 50 ms = ~1.7 s
    errors = []
    done = threading.Event()

    def slow():
        try:
            with server.raw(timeout=10) as s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for i in range(len(data)):
                    s.sendall(data[i:i + 1])
                    time.sleep(0.05)
                if read_reply(s) != b"+OK\r\n":
                    errors.append("bad slow reply")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            done.set()

    t = threading.Thread(target=slow, daemon=True)
    t.start()
    try:
        checks = 0
        with server.raw() as s:
            while not done.is_set() and checks < 100:
                t0 = time.monotonic()
                s.sendall(b"PING\r\n")
                assert read_reply(s) == b"+PONG\r\n"
                assert time.monotonic() - t0 < 0.5
                checks += 1
                time.sleep(0.05)
        assert checks >= 5
    finally:
        t.join(timeout=10)
    assert not t.is_alive()
    assert errors == []
    assert roundtrip(server, cmd("GET", "slow")) == [b"$5\r\nloris\r\n"]


def test_client_disconnecting_mid_command(server):
    for partial in (b"*3\r\n$3\r\nSET\r\n$1\r\nk", b"*2\r\n$4\r\nECHO\r\n$100000\r\nabc",
                    b"SET a \"unterminated"):
        with server.raw() as s:
            s.sendall(partial)
    assert_server_ok(server)


def test_client_disconnecting_with_unread_replies(server):
    """Closing with lots of unread output must not hurt the server."""
    for _ in range(3):
        s = server.raw()
        s.sendall(cmd("SET", "big", "x" * 100000) + cmd("GET", "big") * 50)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST with unread data
    time.sleep(0.1)
    assert_server_ok(server)


# --------------------------------------------------------------------------
# Pipelining
# --------------------------------------------------------------------------

def test_pipeline_10000_commands_in_one_write(flushed):
    rng = random.Random(42)
    model = {}
    reqs = []
    expected = []
    for i in range(10000):
        key = "k%d" % rng.randrange(50)
        op = rng.randrange(3)
        if op == 0:
            val = str(rng.randrange(1000))
            reqs.append(cmd("SET", key, val))
            model[key] = val
            expected.append(b"+OK\r\n")
        elif op == 1:
            reqs.append(cmd("GET", key))
            v = model.get(key)
            expected.append(b"$-1\r\n" if v is None else b"$%d\r\n%s\r\n" % (len(v), v.encode()))
        else:
            reqs.append(cmd("INCR", key))
            v = int(model.get(key, "0")) + 1
            model[key] = str(v)
            expected.append(b":%d\r\n" % v)
    payload = b"".join(reqs)

    with flushed.raw(timeout=10) as s:
        err = []

        def writer():
            try:
                s.sendall(payload)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        r = ReplyReader(s, timeout=20)
        count = 0
        for i, exp in enumerate(expected):
            got = r.next()
            assert got == exp, "reply %d: %r != %r" % (i, got, exp)
            count += 1
        t.join(timeout=10)
        assert err == []
        assert count == 10000
        assert r.buf == b""
        s.sendall(b"DBSIZE\r\n")
        assert r.next() == b":%d\r\n" % len(model)


@pytest.mark.parametrize("big", [False, True], ids=["small-keyspace", "big-keyspace"])
def test_pipeline_mixed_batch_keys_and_databases(flushed, big):
    """One write holding what the loop's key look-ahead (prefetch.c) reads
    over: SELECT switching databases mid-batch, multi-key commands with more
    keys than one look-ahead batch takes, an MSET larger than the look-ahead
    parser keeps, wrong arity and unknown commands, and a request split at
    the end. The replies and the data are those of running them one by one.
    The look-ahead runs only on a database of PREFETCH_KEYSPACE_MIN (65536)
    keys or more: big-keyspace fills db 0 past that first."""
    if big:
        with flushed.raw(timeout=30) as s:
            fill = []
            for i in range(70000):
                fill += ["fill:%d" % i, "x"]
            s.sendall(cmd("MSET", *fill) + cmd("DBSIZE"))
            r = ReplyReader(s, timeout=30)
            assert r.next() == b"+OK\r\n"
            assert r.next() == b":70000\r\n"
    big = []
    for i in range(1500):
        big += ["b%d" % i, "v%d" % i]
    reqs = [cmd("SET", "a", "0"), cmd("SELECT", "3"), cmd("SET", "a", "3"),
            cmd("MSET", *big), cmd("GET", "b1499"), cmd("GET"), cmd("NOSUCH", "a"),
            cmd("DEL", *["b%d" % i for i in range(40)]), cmd("SELECT", "0"),
            cmd("INCR", "a"), cmd("MGET", "a", "b0", "b41")]
    expected = [b"+OK\r\n", b"+OK\r\n", b"+OK\r\n", b"+OK\r\n", b"$5\r\nv1499\r\n",
                b"-ERR wrong number of arguments for 'get' command\r\n",
                b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n",
                b":40\r\n", b"+OK\r\n", b":1\r\n", b"*3\r\n$1\r\n1\r\n$-1\r\n$-1\r\n"]
    tail = cmd("SELECT", "3")
    payload = b"".join(reqs * 3) + tail[:5]
    with flushed.raw(timeout=10) as s:
        s.sendall(payload)
        r = ReplyReader(s, timeout=20)
        for rnd in range(3):
            for i, exp in enumerate(expected):
                got = r.next()
                assert got == exp, "round %d reply %d: %r != %r" % (rnd, i, got, exp)
        s.sendall(tail[5:] + cmd("MGET", "a", "b41", "b1"))
        assert r.next() == b"+OK\r\n"
        assert r.next() == b"*3\r\n$1\r\n3\r\n$3\r\nv41\r\n$-1\r\n"


def test_pipeline_inline_commands(flushed):
    n = 2000
    payload = b"".join(b"INCR counter\r\n" for _ in range(n)) + b"GET counter\r\n"
    with flushed.raw(timeout=10) as s:
        s.sendall(payload)
        r = ReplyReader(s, timeout=20)
        for i in range(1, n + 1):
            assert r.next() == b":%d\r\n" % i
        assert r.next() == b"$4\r\n2000\r\n"


def test_redis_py_pipeline(r):
    p = r.pipeline(transaction=False)
    for i in range(1000):
        p.set("p%d" % i, i)
        p.incr("cnt")
        p.get("p%d" % i)
    res = p.execute()
    assert len(res) == 3000
    for i in range(1000):
        assert res[3 * i] is True
        assert res[3 * i + 1] == i + 1
        assert res[3 * i + 2] == str(i).encode()


def test_redis_py_pipeline_with_error_in_the_middle(r):
    r.set("s", "text")
    p = r.pipeline(transaction=False)
    p.set("a", 1)
    p.incr("s")
    p.get("a")
    res = p.execute(raise_on_error=False)
    assert res[0] is True
    assert str(res[1]) == "value is not an integer or out of range"
    assert res[2] == b"1"
