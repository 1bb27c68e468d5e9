"""
Server and connection commands: PING, ECHO, QUIT, RESET, SELECT, TIME, DBSIZE,
AUTH, CLIENT *, INFO, CONFIG *, COMMAND *, MONITOR, plus server options
(timeout, maxclients, unixsocket, config files) and shutdown.

Every expectation here was checked against Redis 7.0.15 (ENGRAM_TEST_REDIS=1).
Error texts are compared byte for byte through raw sockets.
"""
import fnmatch
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest
import redis

import conftest
from conftest import Server


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

cmd = conftest.encode_command


def decode(raw):
    """Decode one raw RESP2/RESP3 reply into Python values (bytes, int, list,
    dict, None, or Exception for errors)."""
    val, pos = _decode(raw, 0)
    assert pos == len(raw), raw
    return val


def _decode(buf, pos):
    t = buf[pos:pos + 1]
    end = buf.index(b"\r\n", pos)
    line = buf[pos + 1:end]
    nxt = end + 2
    if t == b"+":
        return line, nxt
    if t == b"-":
        return Exception(line.decode()), nxt
    if t == b":":
        return int(line), nxt
    if t == b",":
        return float(line), nxt
    if t == b"_":
        return None, nxt
    if t == b"#":
        return line == b"t", nxt
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return None, nxt
        return buf[nxt:nxt + n], nxt + n + 2
    if t in (b"*", b"~", b">"):
        n = int(line)
        if n < 0:
            return None, nxt
        out = []
        for _ in range(n):
            v, nxt = _decode(buf, nxt)
            out.append(v)
        return out, nxt
    if t == b"%":
        out = {}
        for _ in range(int(line)):
            k, nxt = _decode(buf, nxt)
            v, nxt = _decode(buf, nxt)
            out[k] = v
        return out, nxt
    raise ValueError(buf[pos:pos + 40])


class Conn:
    """A raw connection that keeps unread bytes between replies."""

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

    def call(self, data):
        self.send(data)
        return self.reply()

    def line(self, timeout=None):
        """Read one CRLF-terminated line (used for MONITOR output)."""
        timeout = self.timeout if timeout is None else timeout
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError(self.buf[:200])
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed after %r" % self.buf[:200])
            self.buf += chunk
        i = self.buf.index(b"\r\n")
        out, self.buf = self.buf[:i + 2], self.buf[i + 2:]
        return out

    def nothing_pending(self, wait=0.2):
        """True if the server sends nothing within `wait` seconds."""
        if self.buf:
            return False
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        self.buf += chunk
        return False

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

    def local_port(self):
        return self.sock.getsockname()[1]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parse_info(text):
    """INFO text -> {field: value} (strings)."""
    out = {}
    for line in text.split("\r\n"):
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition(":")
        out[k] = v
    return out


def info_sections(text):
    return [line[2:] for line in text.split("\r\n") if line.startswith("# ")]


def parse_client_line(line):
    out = {}
    for part in line.split(" "):
        k, _, v = part.partition("=")
        out[k] = v
    return out


def wait_exit(proc, timeout=10):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
        pytest.fail("server did not exit within %ss" % timeout)


@pytest.fixture
def c(server):
    """A raw connection on a flushed server."""
    with Conn(server) as conn:
        assert conn.call(b"FLUSHALL\r\n") == b"+OK\r\n"
        yield conn


# --------------------------------------------------------------------------
# PING, ECHO, QUIT, RESET, SELECT, TIME, DBSIZE
# --------------------------------------------------------------------------

def test_ping(c):
    assert c.call(b"PING\r\n") == b"+PONG\r\n"
    assert c.call(cmd("PING", "hello world")) == b"$11\r\nhello world\r\n"
    assert c.call(cmd("PING", "")) == b"$0\r\n\r\n"
    assert c.call(b"PING a b\r\n") == b"-ERR wrong number of arguments for 'ping' command\r\n"


def test_ping_redis_py(r):
    assert r.ping() is True


def test_echo(c):
    assert c.call(cmd("ECHO", "hi")) == b"$2\r\nhi\r\n"
    assert c.call(cmd("ECHO", b"\x00\r\n\xff")) == b"$4\r\n\x00\r\n\xff\r\n"
    assert c.call(b"ECHO\r\n") == b"-ERR wrong number of arguments for 'echo' command\r\n"
    assert c.call(b"ECHO a b\r\n") == b"-ERR wrong number of arguments for 'echo' command\r\n"


def test_quit(server):
    with Conn(server) as conn:
        assert conn.call(b"QUIT\r\n") == b"+OK\r\n"
        assert conn.is_closed()
    # QUIT ignores extra arguments (its arity is -1)
    with Conn(server) as conn:
        assert conn.call(b"QUIT now please\r\n") == b"+OK\r\n"
        assert conn.is_closed()


def test_quit_discards_later_pipelined_commands(server):
    with Conn(server) as conn:
        conn.send(b"PING\r\nQUIT\r\nPING\r\n")
        assert conn.reply() == b"+PONG\r\n"
        assert conn.reply() == b"+OK\r\n"
        assert conn.is_closed()
        assert conn.buf == b""


def test_reset(c):
    assert c.call(b"SELECT 1\r\n") == b"+OK\r\n"
    assert c.call(cmd("SET", "x", "1")) == b"+OK\r\n"
    assert c.call(b"CLIENT SETNAME nm\r\n") == b"+OK\r\n"
    assert c.call(b"HELLO 3\r\n").startswith(b"%7\r\n")
    assert c.call(b"GET missing\r\n") == b"_\r\n"
    assert c.call(b"RESET\r\n") == b"+RESET\r\n"
    # back to db 0, RESP2, no name
    assert c.call(b"GET x\r\n") == b"$-1\r\n"
    assert c.call(b"CLIENT GETNAME\r\n") == b"$-1\r\n"
    assert c.call(b"SELECT 1\r\n") == b"+OK\r\n"
    assert c.call(b"GET x\r\n") == b"$1\r\n1\r\n"


def test_reset_clears_multi_and_reply_off(c):
    assert c.call(b"MULTI\r\n") == b"+OK\r\n"
    assert c.call(b"RESET\r\n") == b"+RESET\r\n"
    assert c.call(b"EXEC\r\n") == b"-ERR EXEC without MULTI\r\n"
    c.send(b"CLIENT REPLY OFF\r\nPING\r\nRESET\r\nPING\r\n")
    assert c.reply() == b"+RESET\r\n"
    assert c.reply() == b"+PONG\r\n"


def test_select(c):
    assert c.call(b"SELECT 15\r\n") == b"+OK\r\n"
    assert c.call(b"SELECT 16\r\n") == b"-ERR DB index is out of range\r\n"
    assert c.call(b"SELECT -1\r\n") == b"-ERR DB index is out of range\r\n"
    assert c.call(b"SELECT abc\r\n") == b"-ERR value is not an integer or out of range\r\n"
    assert c.call(b"SELECT\r\n") == b"-ERR wrong number of arguments for 'select' command\r\n"
    # databases are separate
    assert c.call(cmd("SET", "k", "in15")) == b"+OK\r\n"
    assert c.call(b"SELECT 0\r\n") == b"+OK\r\n"
    assert c.call(b"GET k\r\n") == b"$-1\r\n"
    assert c.call(b"SELECT 15\r\n") == b"+OK\r\n"
    assert c.call(b"GET k\r\n") == b"$4\r\nin15\r\n"


def test_time(c):
    reply = c.call(b"TIME\r\n")
    m = re.match(rb"^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$", reply)
    assert m, reply
    secs, usecs = int(m.group(1)), int(m.group(2))
    assert abs(secs - time.time()) < 5
    assert 0 <= usecs < 1000000
    assert c.call(b"TIME x\r\n") == b"-ERR wrong number of arguments for 'time' command\r\n"


def test_time_redis_py(r):
    secs, usecs = r.time()
    assert abs(secs + usecs / 1e6 - time.time()) < 5


def test_dbsize(c):
    assert c.call(b"DBSIZE\r\n") == b":0\r\n"
    c.send(cmd("SET", "a", "1") + cmd("SET", "b", "2") + cmd("SET", "a", "3"))
    for _ in range(3):
        assert c.reply() == b"+OK\r\n"
    assert c.call(b"DBSIZE\r\n") == b":2\r\n"
    assert c.call(b"SELECT 1\r\n") == b"+OK\r\n"
    assert c.call(b"DBSIZE\r\n") == b":0\r\n"
    assert c.call(b"DBSIZE x\r\n") == b"-ERR wrong number of arguments for 'dbsize' command\r\n"


# --------------------------------------------------------------------------
# AUTH
# --------------------------------------------------------------------------

NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"


@pytest.fixture(scope="module")
def auth_server():
    s = Server(args=["--requirepass", "secret"])
    yield s
    s.stop()


def test_noauth_before_auth(auth_server):
    with Conn(auth_server) as conn:
        assert conn.call(b"PING\r\n") == NOAUTH
        assert conn.call(b"GET a\r\n") == NOAUTH
        assert conn.call(b"CLIENT SETNAME x\r\n") == NOAUTH
        # unknown commands are reported as unknown even before AUTH
        assert conn.call(b"foo\r\n") == (
            b"-ERR unknown command 'foo', with args beginning with: \r\n")
        assert conn.call(b"AUTH\r\n") == b"-ERR wrong number of arguments for 'auth' command\r\n"
        assert conn.call(b"AUTH a b c\r\n") == b"-ERR syntax error\r\n"


def test_auth_wrong_password(auth_server):
    with Conn(auth_server) as conn:
        assert conn.call(b"AUTH wrong\r\n") == WRONGPASS
        assert conn.call(b"AUTH default wrong\r\n") == WRONGPASS
        assert conn.call(b"AUTH nosuchuser secret\r\n") == WRONGPASS
        assert conn.call(b"PING\r\n") == NOAUTH


def test_auth_password(auth_server):
    with Conn(auth_server) as conn:
        assert conn.call(b"AUTH secret\r\n") == b"+OK\r\n"
        assert conn.call(b"PING\r\n") == b"+PONG\r\n"
        # a later failed AUTH does not log the client out
        assert conn.call(b"AUTH wrong\r\n") == WRONGPASS
        assert conn.call(b"PING\r\n") == b"+PONG\r\n"


def test_auth_default_user(auth_server):
    with Conn(auth_server) as conn:
        assert conn.call(b"AUTH default secret\r\n") == b"+OK\r\n"
        assert conn.call(b"PING\r\n") == b"+PONG\r\n"


def test_reset_deauthenticates(auth_server):
    with Conn(auth_server) as conn:
        assert conn.call(b"AUTH secret\r\n") == b"+OK\r\n"
        assert conn.call(b"RESET\r\n") == b"+RESET\r\n"
        assert conn.call(b"PING\r\n") == NOAUTH


def test_auth_redis_py(auth_server):
    with pytest.raises(redis.AuthenticationError):
        auth_server.client().ping()
    cl = auth_server.client(password="secret")
    assert cl.ping() is True
    cl.close()
    cl = auth_server.client(username="default", password="secret")
    assert cl.ping() is True
    cl.close()


def test_auth_without_requirepass(c):
    msg = (b"-ERR AUTH <password> called without any password configured for the "
           b"default user. Are you sure your configuration is correct?\r\n")
    assert c.call(b"AUTH secret\r\n") == msg
    assert c.call(b"AUTH default\r\n") == msg
    # with a username, the passwordless default user accepts any password
    assert c.call(b"AUTH default anything\r\n") == b"+OK\r\n"
    assert c.call(b"AUTH nosuchuser anything\r\n") == WRONGPASS


# --------------------------------------------------------------------------
# CLIENT
# --------------------------------------------------------------------------

def test_client_id(server):
    with Conn(server) as a, Conn(server) as b:
        ida = decode(a.call(b"CLIENT ID\r\n"))
        idb = decode(b.call(b"CLIENT ID\r\n"))
        assert isinstance(ida, int) and isinstance(idb, int)
        assert idb > ida > 0
        assert decode(a.call(b"CLIENT ID\r\n")) == ida
        assert a.call(b"CLIENT ID x\r\n") == (
            b"-ERR wrong number of arguments for 'client|id' command\r\n")


def test_client_setname_getname(c):
    assert c.call(b"CLIENT GETNAME\r\n") == b"$-1\r\n"
    assert c.call(b"CLIENT SETNAME myconn\r\n") == b"+OK\r\n"
    assert c.call(b"CLIENT GETNAME\r\n") == b"$6\r\nmyconn\r\n"
    bad = b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    assert c.call(b'CLIENT SETNAME "a b"\r\n') == bad
    assert c.call(b'CLIENT SETNAME "a\\nb"\r\n') == bad
    assert c.call(cmd("CLIENT", "SETNAME", b"a\x01b")) == bad
    assert c.call(cmd("CLIENT", "SETNAME", b"caf\xc3\xa9")) == bad
    assert c.call(b"CLIENT GETNAME\r\n") == b"$6\r\nmyconn\r\n"
    # an empty name clears it
    assert c.call(b'CLIENT SETNAME ""\r\n') == b"+OK\r\n"
    assert c.call(b"CLIENT GETNAME\r\n") == b"$-1\r\n"
    assert c.call(b"CLIENT SETNAME\r\n") == (
        b"-ERR wrong number of arguments for 'client|setname' command\r\n")
    assert c.call(b"CLIENT GETNAME x\r\n") == (
        b"-ERR wrong number of arguments for 'client|getname' command\r\n")


def test_client_list(server):
    with Conn(server) as a, Conn(server) as b:
        assert a.call(b"CLIENT SETNAME alpha\r\n") == b"+OK\r\n"
        assert b.call(b"SELECT 3\r\n") == b"+OK\r\n"
        assert b.call(b"PING\r\n") == b"+PONG\r\n"
        ida = decode(a.call(b"CLIENT ID\r\n"))
        idb = decode(b.call(b"CLIENT ID\r\n"))
        raw = decode(a.call(b"CLIENT LIST\r\n"))
        assert isinstance(raw, bytes)
        text = raw.decode()
        assert text.endswith("\n")
        lines = text[:-1].split("\n")
        clients = {int(f["id"]): f for f in map(parse_client_line, lines)}
        assert ida in clients and idb in clients
        fa, fb = clients[ida], clients[idb]
        for field in ("id", "addr", "laddr", "fd", "name", "age", "idle", "flags",
                      "db", "cmd", "resp"):
            assert field in fa, field
        assert fa["addr"] == "127.0.0.1:%d" % a.local_port()
        assert fa["laddr"] == "127.0.0.1:%d" % server.port
        assert fa["name"] == "alpha"
        assert fa["db"] == "0"
        assert fa["cmd"] == "client|list"
        assert fa["flags"] == "N"
        assert fa["resp"] == "2"
        assert fb["name"] == ""
        assert fb["db"] == "3"
        assert fb["cmd"] == "client|id"
        # filter by id
        raw = decode(a.call(b"CLIENT LIST ID %d\r\n" % idb)).decode()
        assert raw.count("\n") == 1
        assert parse_client_line(raw[:-1])["id"] == str(idb)
        assert a.call(b"CLIENT LIST ID abc\r\n") == b"-ERR Invalid client ID\r\n"
        assert a.call(b"CLIENT LIST TYPE foo\r\n") == b"-ERR Unknown client type 'foo'\r\n"
        assert a.call(b"CLIENT LIST foo\r\n") == b"-ERR syntax error\r\n"


def test_client_list_redis_py(r, server):
    r.client_setname("pyclient")
    names = [cl["name"] for cl in r.client_list()]
    assert "pyclient" in names


def test_client_info(server):
    with Conn(server) as a:
        assert a.call(b"CLIENT SETNAME me\r\n") == b"+OK\r\n"
        cid = decode(a.call(b"CLIENT ID\r\n"))
        raw = decode(a.call(b"CLIENT INFO\r\n")).decode()
        assert raw.endswith("\n") and raw.count("\n") == 1
        f = parse_client_line(raw[:-1])
        assert f["id"] == str(cid)
        assert f["name"] == "me"
        assert f["addr"] == "127.0.0.1:%d" % a.local_port()
        assert f["cmd"] == "client|info"
        assert f["db"] == "0"
        assert a.call(b"CLIENT INFO x\r\n") == (
            b"-ERR wrong number of arguments for 'client|info' command\r\n")


def test_client_kill_by_id(server):
    with Conn(server) as a, Conn(server) as b:
        idb = decode(b.call(b"CLIENT ID\r\n"))
        assert a.call(b"CLIENT KILL ID %d\r\n" % idb) == b":1\r\n"
        assert b.is_closed()
        assert a.call(b"CLIENT KILL ID %d\r\n" % idb) == b":0\r\n"
        assert a.call(b"CLIENT KILL ID 99999999\r\n") == b":0\r\n"
        assert a.call(b"CLIENT KILL ID abc\r\n") == b"-ERR client-id should be greater than 0\r\n"
        assert a.call(b"CLIENT KILL ID 0\r\n") == b"-ERR client-id should be greater than 0\r\n"
        assert a.call(b"PING\r\n") == b"+PONG\r\n"


def test_client_kill_by_addr(server):
    with Conn(server) as a, Conn(server) as b:
        assert b.call(b"PING\r\n") == b"+PONG\r\n"
        addr = b"127.0.0.1:%d" % b.local_port()
        assert a.call(b"CLIENT KILL ADDR " + addr + b"\r\n") == b":1\r\n"
        assert b.is_closed()
        assert a.call(b"CLIENT KILL ADDR 1.2.3.4:5\r\n") == b":0\r\n"
        # the new form skips the calling client by default (SKIPME yes)
        own = b"127.0.0.1:%d" % a.local_port()
        assert a.call(b"CLIENT KILL ADDR " + own + b"\r\n") == b":0\r\n"
        assert a.call(b"CLIENT KILL FOO bar\r\n") == b"-ERR syntax error\r\n"
        assert a.call(b"CLIENT KILL ADDR 1.2.3.4:5 SKIPME maybe\r\n") == b"-ERR syntax error\r\n"
        assert a.call(b"PING\r\n") == b"+PONG\r\n"


def test_client_kill_old_form(server):
    with Conn(server) as a, Conn(server) as b:
        assert b.call(b"PING\r\n") == b"+PONG\r\n"
        addr = b"127.0.0.1:%d" % b.local_port()
        assert a.call(b"CLIENT KILL " + addr + b"\r\n") == b"+OK\r\n"
        assert b.is_closed()
        assert a.call(b"CLIENT KILL " + addr + b"\r\n") == b"-ERR No such client\r\n"
        # with 3 arguments it is always the old form: "ID" is taken as an address
        assert a.call(b"CLIENT KILL ID\r\n") == b"-ERR No such client\r\n"
        assert a.call(b"CLIENT KILL\r\n") == (
            b"-ERR wrong number of arguments for 'client|kill' command\r\n")
        assert a.call(b"PING\r\n") == b"+PONG\r\n"


def test_client_kill_self_old_form(server):
    with Conn(server) as a:
        own = b"127.0.0.1:%d" % a.local_port()
        # the reply is delivered, then the connection is closed
        assert a.call(b"CLIENT KILL " + own + b"\r\n") == b"+OK\r\n"
        assert a.is_closed()


def test_client_kill_self_skipme_no(server):
    with Conn(server) as a:
        cid = decode(a.call(b"CLIENT ID\r\n"))
        assert a.call(b"CLIENT KILL ID %d SKIPME no\r\n" % cid) == b":1\r\n"
        assert a.is_closed()


def test_client_setinfo(c):
    # CLIENT SETINFO is Redis 7.2; 7.0.15 answers unknown subcommand.
    # engram may implement it. Either way the connection stays open.
    for sub in (b"CLIENT SETINFO LIB-NAME mylib\r\n", b"CLIENT SETINFO LIB-VER 1.2.3\r\n"):
        reply = c.call(sub)
        assert reply in (b"+OK\r\n",
                         b"-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n"), reply
    assert c.call(b"PING\r\n") == b"+PONG\r\n"


def test_client_no_evict(c):
    assert c.call(b"CLIENT NO-EVICT on\r\n") == b"+OK\r\n"
    assert c.call(b"CLIENT NO-EVICT off\r\n") == b"+OK\r\n"
    assert c.call(b"CLIENT NO-EVICT ON\r\n") == b"+OK\r\n"
    assert c.call(b"CLIENT NO-EVICT maybe\r\n") == b"-ERR syntax error\r\n"
    assert c.call(b"CLIENT NO-EVICT off\r\n") == b"+OK\r\n"


def test_client_no_touch(c):
    # CLIENT NO-TOUCH is Redis 7.2; accept either answer.
    reply = c.call(b"CLIENT NO-TOUCH on\r\n")
    assert reply in (b"+OK\r\n",
                     b"-ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.\r\n"), reply
    reply = c.call(b"CLIENT NO-TOUCH off\r\n")
    assert reply in (b"+OK\r\n",
                     b"-ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.\r\n"), reply
    assert c.call(b"PING\r\n") == b"+PONG\r\n"


def test_client_reply_off_on(c):
    # CLIENT REPLY OFF itself has no reply; ON replies +OK.
    c.send(b"CLIENT REPLY OFF\r\n" + cmd("SET", "k", "v") + b"PING\r\nGET k\r\n")
    assert c.nothing_pending(0.3)
    c.send(b"CLIENT REPLY ON\r\n")
    assert c.reply() == b"+OK\r\n"
    assert c.call(b"GET k\r\n") == b"$1\r\nv\r\n"
    assert c.nothing_pending(0.1)


def test_client_reply_skip(c):
    # SKIP suppresses its own reply and the next command's.
    c.send(b"CLIENT REPLY SKIP\r\nPING\r\nECHO x\r\n")
    assert c.reply() == b"$1\r\nx\r\n"
    assert c.nothing_pending(0.2)
    assert c.call(b"CLIENT REPLY FOO\r\n") == b"-ERR syntax error\r\n"


def test_client_reply_off_suppresses_errors_too(c):
    c.send(b"CLIENT REPLY OFF\r\nfoo\r\nGET\r\nCLIENT REPLY ON\r\n")
    assert c.reply() == b"+OK\r\n"
    assert c.nothing_pending(0.2)


def test_client_unknown_subcommand(c):
    assert c.call(b"CLIENT FOO\r\n") == b"-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"
    assert c.call(b"CLIENT foo bar\r\n") == b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
    assert c.call(b"CLIENT\r\n") == b"-ERR wrong number of arguments for 'client' command\r\n"
    assert c.call(b"PING\r\n") == b"+PONG\r\n"


# --------------------------------------------------------------------------
# INFO
# --------------------------------------------------------------------------

def info_text(conn, *sections):
    raw = conn.call(cmd("INFO", *sections))
    val = decode(raw)
    assert isinstance(val, bytes), raw[:100]
    return val.decode()


def test_info_default(c):
    text = info_text(c)
    assert text.startswith("# Server\r\n")
    assert text.endswith("\r\n")
    secs = info_sections(text)
    for s in ("Server", "Clients", "Memory", "Stats", "Keyspace"):
        assert s in secs
    f = parse_info(text)
    for field in ("redis_version", "redis_mode", "tcp_port", "uptime_in_seconds",
                  "connected_clients", "used_memory", "total_commands_processed",
                  "maxmemory_policy", "process_id"):
        assert field in f, field
    assert f["redis_mode"] == "standalone"
    assert f["tcp_port"] == str(c.sock.getpeername()[1])
    assert int(f["uptime_in_seconds"]) >= 0
    assert int(f["connected_clients"]) >= 1
    assert int(f["used_memory"]) > 0
    assert int(f["total_commands_processed"]) > 0
    assert f["maxmemory_policy"] == "noeviction"
    assert re.match(r"^\d+\.\d+\.\d+$", f["redis_version"])


def test_info_lines_are_well_formed(c):
    text = info_text(c)
    assert "\r\n\r\n# " in text  # sections are separated by an empty line
    for line in text.split("\r\n"):
        if line == "" or line.startswith("# "):
            continue
        assert re.match(r"^[a-z0-9_]+:", line) or re.match(r"^(db\d+|errorstat_\w+):", line), line


@pytest.mark.parametrize("section, fields", [
    ("server", ["redis_version", "redis_mode", "tcp_port", "uptime_in_seconds", "process_id"]),
    ("clients", ["connected_clients", "blocked_clients", "maxclients"]),
    ("memory", ["used_memory", "used_memory_human", "maxmemory", "maxmemory_policy"]),
    ("stats", ["total_connections_received", "total_commands_processed",
               "keyspace_hits", "keyspace_misses", "expired_keys", "evicted_keys"]),
])
def test_info_section(c, section, fields):
    text = info_text(c, section)
    assert info_sections(text) == [section.capitalize()]
    f = parse_info(text)
    for field in fields:
        assert field in f, field
    # section names are case-insensitive
    assert info_sections(info_text(c, section.upper())) == [section.capitalize()]


def test_info_keyspace(c):
    assert info_text(c, "keyspace") == "# Keyspace\r\n"
    c.send(cmd("SET", "a", "1") + cmd("SET", "b", "2") + cmd("SET", "t", "3", "EX", "1000"))
    for _ in range(3):
        assert c.reply() == b"+OK\r\n"
    assert c.call(b"SELECT 2\r\n") == b"+OK\r\n"
    assert c.call(cmd("SET", "x", "1")) == b"+OK\r\n"
    text = info_text(c, "keyspace")
    assert re.match(r"^# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=\d+\r\n"
                    r"db2:keys=1,expires=0,avg_ttl=0\r\n$", text), text


def test_info_multiple_and_unknown_sections(c):
    assert info_sections(info_text(c, "server", "clients")) == ["Server", "Clients"]
    assert c.call(b"INFO nosuchsection\r\n") == b"$0\r\n\r\n"


def test_info_stats_count_commands(c):
    before = int(parse_info(info_text(c, "stats"))["total_commands_processed"])
    for _ in range(10):
        assert c.call(b"PING\r\n") == b"+PONG\r\n"
    after = int(parse_info(info_text(c, "stats"))["total_commands_processed"])
    assert after - before == 11  # 10 PINGs + the first INFO


def test_commandstats_usec_excludes_idle_time(r):
    # Commands of one pipeline start where the one before ended (one clock
    # read per command); a command that arrives after the server sat idle
    # must not be charged for the idle time, and pipelined ones neither.
    r.config_resetstat()
    r.set("usec:k", "v")
    time.sleep(0.5)
    assert r.get("usec:k") == b"v"
    time.sleep(0.3)
    pipe = r.pipeline(transaction=False)
    for _ in range(20):
        pipe.get("usec:k")
    pipe.execute()
    stats = r.info("commandstats")
    assert stats["cmdstat_get"]["calls"] == 21
    assert stats["cmdstat_get"]["usec"] < 100000
    assert stats["cmdstat_set"]["calls"] == 1
    assert stats["cmdstat_set"]["usec"] < 100000


def test_info_connected_clients(server):
    with Conn(server) as a:
        base = int(parse_info(info_text(a, "clients"))["connected_clients"])
        extra = [Conn(server) for _ in range(3)]
        try:
            for e in extra:
                assert e.call(b"PING\r\n") == b"+PONG\r\n"
            assert int(parse_info(info_text(a, "clients"))["connected_clients"]) == base + 3
        finally:
            for e in extra:
                e.close()


def test_info_redis_py(r):
    info = r.info()
    assert info["redis_mode"] == "standalone"
    assert "used_memory" in r.info("memory")


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram-specific")
def test_info_engram_version(c):
    f = parse_info(info_text(c, "server"))
    assert "engram_version" in f
    assert f["engram_version"] != ""


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram-specific")
def test_info_reports_redis_7_0_15(c):
    f = parse_info(info_text(c, "server"))
    assert f["redis_version"] == "7.0.15"


# --------------------------------------------------------------------------
# CONFIG
# --------------------------------------------------------------------------

def config_get(conn, *patterns):
    val = decode(conn.call(cmd("CONFIG", "GET", *patterns)))
    assert isinstance(val, list) and len(val) % 2 == 0, val
    return dict(zip(val[0::2], val[1::2]))


def test_config_get_single(c, server):
    assert c.call(b"CONFIG GET port\r\n") == (
        b"*2\r\n$4\r\nport\r\n$%d\r\n%d\r\n" % (len(str(server.port)), server.port))
    assert c.call(b"CONFIG GET nosuchoption\r\n") == b"*0\r\n"
    assert c.call(b"CONFIG GET\r\n") == b"-ERR wrong number of arguments for 'config|get' command\r\n"


def test_config_get_glob(c):
    got = config_get(c, "*max*")
    for k in (b"maxclients", b"proto-max-bulk-len"):
        assert k in got, k
    for k in got:
        assert fnmatch.fnmatchcase(k.decode(), "*max*"), k
    assert got[b"proto-max-bulk-len"] == b"536870912"
    got = config_get(c, "proto*")
    assert b"proto-max-bulk-len" in got
    assert all(k.startswith(b"proto") for k in got)
    # pattern matching is case-insensitive
    assert b"maxclients" in config_get(c, "MAXCL*")
    if conftest.AGAINST_REDIS:
        # engram has no maxmemory/eviction yet (the cache issue); INFO reports noeviction.
        got = config_get(c, "maxmemory*")
        assert got[b"maxmemory"] == b"0" and got[b"maxmemory-policy"] == b"noeviction"


def test_config_get_multiple_patterns(c, server):
    # order of the pairs is not specified (Redis returns timeout before port)
    got = config_get(c, "port", "timeout")
    assert got == {b"port": str(server.port).encode(), b"timeout": b"0"}
    got = config_get(c, "port", "port", "nosuch")
    assert got == {b"port": str(server.port).encode()}
    got = config_get(c, "hz", "proto*")
    assert b"hz" in got and b"proto-max-bulk-len" in got


def test_config_set(c):
    try:
        assert c.call(b"CONFIG SET timeout 300\r\n") == b"+OK\r\n"
        assert config_get(c, "timeout") == {b"timeout": b"300"}
        assert c.call(b"CONFIG SET hz 50\r\n") == b"+OK\r\n"
        assert config_get(c, "hz") == {b"hz": b"50"}
        assert c.call(b"CONFIG SET loglevel verbose\r\n") == b"+OK\r\n"
        assert config_get(c, "loglevel") == {b"loglevel": b"verbose"}
        assert c.call(b"CONFIG SET proto-max-bulk-len 2mb\r\n") == b"+OK\r\n"
        assert config_get(c, "proto-max-bulk-len") == {b"proto-max-bulk-len": b"2097152"}
        # several at once; names are case-insensitive
        assert c.call(b"CONFIG SET timeout 7 HZ 11\r\n") == b"+OK\r\n"
        assert config_get(c, "timeout", "hz") == {b"timeout": b"7", b"hz": b"11"}
    finally:
        c.send(b"CONFIG SET timeout 0 hz 10 loglevel notice proto-max-bulk-len 512mb\r\n")
        assert c.reply() == b"+OK\r\n"


def test_config_set_hz_is_clamped(c):
    try:
        assert c.call(b"CONFIG SET hz 0\r\n") == b"+OK\r\n"
        assert config_get(c, "hz") == {b"hz": b"1"}
        assert c.call(b"CONFIG SET hz 1000\r\n") == b"+OK\r\n"
        assert config_get(c, "hz") == {b"hz": b"500"}
    finally:
        assert c.call(b"CONFIG SET hz 10\r\n") == b"+OK\r\n"


def test_config_busy_poll_us(c, server):
    """engram's own option (ev.c, "Busy polling"): 0..1000, default 50, or
    0 when the server may run on one CPU only."""
    if conftest.AGAINST_REDIS:
        pytest.skip("engram option")
    default = b"50" if len(os.sched_getaffinity(server.proc.pid)) >= 2 else b"0"
    assert config_get(c, "busy-poll-us") == {b"busy-poll-us": default}
    try:
        for v in (b"0", b"1000", b"7"):
            assert c.call(b"CONFIG SET busy-poll-us " + v + b"\r\n") == b"+OK\r\n"
            assert config_get(c, "busy-poll-us") == {b"busy-poll-us": v}
        for v in (b"1001", b"-1"):
            assert c.call(b"CONFIG SET busy-poll-us " + v + b"\r\n") == (
                b"-ERR CONFIG SET failed (possibly related to argument 'busy-poll-us') - "
                b"argument must be between 0 and 1000 inclusive\r\n")
        assert c.call(b"PING\r\n") == b"+PONG\r\n"
    finally:
        assert c.call(b"CONFIG SET busy-poll-us " + default + b"\r\n") == b"+OK\r\n"


def test_busy_poll_default_off_on_one_cpu():
    """Confined to one CPU the polling takes CPU from the clients: the
    default is then 0, and an explicit value still counts."""
    if conftest.AGAINST_REDIS:
        pytest.skip("engram option")
    mine = os.sched_getaffinity(0)
    servers = []
    os.sched_setaffinity(0, {min(mine)})  # the servers inherit it
    try:
        servers.append(Server())
        servers.append(Server(args=["--busy-poll-us", "20"]))
    finally:
        os.sched_setaffinity(0, mine)
    try:
        assert len(os.sched_getaffinity(servers[0].proc.pid)) == 1
        with redis.Redis(port=servers[0].port) as r:
            assert r.config_get("busy-poll-us") == {"busy-poll-us": "0"}
        with redis.Redis(port=servers[1].port) as r:
            assert r.config_get("busy-poll-us") == {"busy-poll-us": "20"}
    finally:
        for s in servers:
            s.stop()


def proc_cpu_s(pid):
    """User + system CPU seconds of a process, all threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_busy_poll_stops_when_traffic_stops(server, c):
    """Dense traffic turns busy polling on (the widest window, 1 ms); once
    it stops, the loop must go back to sleeping: a second of idleness costs
    a few milliseconds of CPU, not the second a poll that never ends would,
    and neither do sparse requests (one per 20 ms). That polling switches
    off after one empty poll is checked in tests/unit/test_ev.c."""
    if conftest.AGAINST_REDIS:
        pytest.skip("engram option")
    before_value = config_get(c, "busy-poll-us")[b"busy-poll-us"]
    try:
        assert c.call(b"CONFIG SET busy-poll-us 1000\r\n") == b"+OK\r\n"
        for _ in range(2000):  # one request at a time: gaps of a round trip
            assert c.call(b"PING\r\n") == b"+PONG\r\n"
        before = proc_cpu_s(server.proc.pid)
        time.sleep(1.0)
        idle = proc_cpu_s(server.proc.pid) - before
        assert idle < 0.3, "the idle server used %.2f s of CPU in 1 s" % idle
        before = proc_cpu_s(server.proc.pid)
        for _ in range(50):
            assert c.call(b"PING\r\n") == b"+PONG\r\n"
            time.sleep(0.02)
        sparse = proc_cpu_s(server.proc.pid) - before
        assert sparse < 0.3, "50 requests 20 ms apart cost %.2f s of CPU" % sparse
    finally:
        assert c.call(b"CONFIG SET busy-poll-us " + before_value + b"\r\n") == b"+OK\r\n"


def test_config_set_errors(c):
    assert c.call(b"CONFIG SET hz abc\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'hz') - "
        b"argument couldn't be parsed into an integer\r\n")
    assert c.call(b"CONFIG SET timeout -1\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'timeout') - "
        b"argument must be between 0 and 2147483647 inclusive\r\n")
    assert c.call(b"CONFIG SET loglevel foo\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'loglevel') - "
        b"argument(s) must be one of the following: debug, verbose, notice, warning\r\n")
    if conftest.AGAINST_REDIS:  # engram has no eviction policies yet (cache issue)
      assert c.call(b"CONFIG SET maxmemory-policy foo\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - "
        b"argument(s) must be one of the following: volatile-lru, volatile-lfu, "
        b"volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, "
        b"noeviction\r\n")
    assert c.call(b"CONFIG SET nope 1\r\n") == (
        b"-ERR Unknown option or number of arguments for CONFIG SET - 'nope'\r\n")
    assert c.call(b"CONFIG SET hz 10 hz 11\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter\r\n")
    assert c.call(b"CONFIG SET hz 10 timeout\r\n") == b"-ERR syntax error\r\n"
    assert c.call(b"CONFIG SET hz\r\n") == (
        b"-ERR wrong number of arguments for 'config|set' command\r\n")
    assert c.call(b"CONFIG FOO\r\n") == b"-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"
    assert config_get(c, "hz") == {b"hz": b"10"}


def test_config_set_is_atomic(c):
    assert c.call(b"CONFIG SET timeout 5 hz abc\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'hz') - "
        b"argument couldn't be parsed into an integer\r\n")
    assert config_get(c, "timeout") == {b"timeout": b"0"}


def test_config_set_redis_py(r):
    try:
        assert r.config_set("timeout", 123) is True
        assert r.config_get("timeout") == {"timeout": "123"}
        with pytest.raises(redis.ResponseError):
            r.config_set("hz", "abc")
    finally:
        r.config_set("timeout", 0)


def test_config_resetstat(c):
    for _ in range(5):
        assert c.call(b"PING\r\n") == b"+PONG\r\n"
    assert c.call(b"CONFIG RESETSTAT\r\n") == b"+OK\r\n"
    f = parse_info(info_text(c, "stats"))
    # the RESETSTAT itself is counted after the reset
    assert f["total_commands_processed"] == "1"
    assert f["total_connections_received"] == "0"
    assert f["keyspace_hits"] == "0"
    assert f["keyspace_misses"] == "0"


def test_config_rewrite_without_config_file(c):
    assert c.call(b"CONFIG REWRITE\r\n") == b"-ERR The server is running without a config file\r\n"


def test_config_rewrite():
    srv = Server(config_text="# my config\nhz 15\n# trailing comment\n")
    try:
        with Conn(srv) as conn:
            assert config_get(conn, "hz") == {b"hz": b"15"}
            assert conn.call(b"CONFIG SET hz 20\r\n") == b"+OK\r\n"
            assert conn.call(b"CONFIG SET proto-max-bulk-len 2mb\r\n") == b"+OK\r\n"
            assert conn.call(b"CONFIG SET timeout 30\r\n") == b"+OK\r\n"
            assert conn.call(b"CONFIG REWRITE\r\n") == b"+OK\r\n"
        with open(os.path.join(srv.dir, "test.conf")) as f:
            lines = f.read().split("\n")
        # the existing line is updated in place, comments are kept
        assert lines[0] == "# my config"
        assert lines[1] == "hz 20"
        assert lines[2] == "# trailing comment"
        assert "hz 15" not in lines
        assert "proto-max-bulk-len 2mb" in lines
        assert "timeout 30" in lines
        # the rewritten file is a valid config file for a new server
        # (minus its "dir", which is about to be deleted)
        text = "\n".join(x for x in lines if not x.startswith("dir "))
    finally:
        srv.stop()
    srv2 = Server(config_text=text)
    try:
        with Conn(srv2) as conn:
            assert config_get(conn, "hz", "proto-max-bulk-len") == {
                b"hz": b"20", b"proto-max-bulk-len": b"2097152"}
    finally:
        srv2.stop()


# --------------------------------------------------------------------------
# COMMAND
# --------------------------------------------------------------------------

def test_command_count(c):
    n = decode(c.call(b"COMMAND COUNT\r\n"))
    assert isinstance(n, int) and n > 50
    # COMMAND INFO with no names lists every (top-level) command
    assert len(decode(c.call(b"COMMAND INFO\r\n"))) == n
    assert c.call(b"COMMAND COUNT x\r\n") == (
        b"-ERR wrong number of arguments for 'command|count' command\r\n")


def test_command_info_get_set(c):
    info = decode(c.call(b"COMMAND INFO get set\r\n"))
    assert len(info) == 2
    get, set_ = info
    assert get[0] == b"get"
    assert get[1] == 2
    assert b"readonly" in get[2] and b"fast" in get[2]
    assert get[3:6] == [1, 1, 1]
    assert b"@read" in get[6] and b"@string" in get[6]
    assert set_[0] == b"set"
    assert set_[1] == -3
    assert b"write" in set_[2] and b"denyoom" in set_[2]
    assert set_[3:6] == [1, 1, 1]
    assert b"@write" in set_[6]
    assert len(get) == 10 and len(set_) == 10
    # names are case-insensitive; unknown names give a null entry
    info = decode(c.call(b"COMMAND INFO GET nosuchcommand\r\n"))
    assert info[0][0] == b"get"
    assert info[1] is None
    assert c.call(b"COMMAND INFO nope\r\n") == b"*1\r\n$-1\r\n"


def test_command_info_mset_keys(c):
    (mset,) = decode(c.call(b"COMMAND INFO mset\r\n"))
    assert mset[0] == b"mset"
    assert mset[1] == -3
    assert mset[3:6] == [1, -1, 2]


def test_command_docs(c):
    docs = decode(c.call(b"COMMAND DOCS get\r\n"))
    assert docs[0] == b"get"
    d = dict(zip(docs[1][0::2], docs[1][1::2]))
    # engram writes its own summaries (Redis's doc text is not ours to copy)
    assert isinstance(d[b"summary"], bytes) and d[b"summary"]
    assert d[b"group"] == b"string"
    assert c.call(b"COMMAND DOCS nosuchcommand\r\n") == b"*0\r\n"
    # in RESP3 it is a map
    assert c.call(b"HELLO 3\r\n").startswith(b"%7\r\n")
    docs = decode(c.call(b"COMMAND DOCS get\r\n"))
    assert isinstance(docs, dict)
    assert docs[b"get"][b"group"] == b"string"


def test_command_list(c):
    names = decode(c.call(b"COMMAND LIST\r\n"))
    for n in (b"get", b"set", b"ping", b"config", b"client", b"command", b"info"):
        assert n in names, n
    assert all(n == n.lower() for n in names)
    filtered = decode(c.call(b"COMMAND LIST FILTERBY pattern ge*\r\n"))
    assert b"get" in filtered and b"getrange" in filtered
    assert all(n.startswith(b"ge") for n in filtered)
    assert c.call(b"COMMAND LIST FILTERBY\r\n") == b"-ERR syntax error\r\n"


def test_command_getkeys(c):
    assert c.call(b"COMMAND GETKEYS set a b\r\n") == b"*1\r\n$1\r\na\r\n"
    assert c.call(b"COMMAND GETKEYS mset a 1 b 2\r\n") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert c.call(b"COMMAND GETKEYS ping x\r\n") == b"-ERR The command has no key arguments\r\n"
    assert c.call(b"COMMAND GETKEYS nope x\r\n") == b"-ERR Invalid command specified\r\n"
    assert c.call(b"COMMAND GETKEYS get a b\r\n") == (
        b"-ERR Invalid number of arguments specified for command\r\n")
    # COMMAND GETKEYS has arity -4 in Redis 7.0, so a bare command name (even a
    # keyless one) is an arity error of COMMAND GETKEYS itself.
    assert c.call(b"COMMAND GETKEYS get\r\n") == (
        b"-ERR wrong number of arguments for 'command|getkeys' command\r\n")
    assert c.call(b"COMMAND GETKEYS ping\r\n") == (
        b"-ERR wrong number of arguments for 'command|getkeys' command\r\n")


def test_command_unknown_subcommand(c):
    assert c.call(b"COMMAND FOO\r\n") == b"-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"


# --------------------------------------------------------------------------
# MONITOR
# --------------------------------------------------------------------------

MONITOR_LINE = re.compile(rb'^\+(\d+)\.(\d{6}) \[(\d+) 127\.0\.0\.1:(\d+)\] (.*)\r\n$')


def test_monitor(server):
    with Conn(server) as mon, Conn(server) as cl:
        assert mon.call(b"MONITOR\r\n") == b"+OK\r\n"
        port = cl.local_port()
        cl.send(b'SET k "v w"\r\n' + cmd("set", b"k\x01", b'a"\\\n') +
                b"SELECT 2\r\nGET k\r\n")
        for _ in range(4):
            cl.reply()
        expected = [
            (b"0", b'"SET" "k" "v w"'),
            (b"0", b'"set" "k\\x01" "a\\"\\\\\\n"'),
            (b"2", b'"SELECT" "2"'),  # logged after it ran, so with the new db
            (b"2", b'"GET" "k"'),
        ]
        for db, args in expected:
            line = mon.line()
            m = MONITOR_LINE.match(line)
            assert m, line
            assert abs(int(m.group(1)) - time.time()) < 5
            assert m.group(3) == db
            assert int(m.group(4)) == port
            assert m.group(5) == args


def test_monitor_redacts_auth_and_hides_admin_commands(server):
    with Conn(server) as mon, Conn(server) as cl:
        assert mon.call(b"MONITOR\r\n") == b"+OK\r\n"
        cl.send(b"AUTH default pw\r\nCONFIG GET hz\r\nHELLO 2 AUTH default pw\r\nPING\r\n")
        for _ in range(4):
            cl.reply()
        lines = [mon.line() for _ in range(3)]
        args = [MONITOR_LINE.match(x).group(5) for x in lines]
        # CONFIG is an admin command and is never shown
        assert args == [b'"AUTH" "(redacted)" "(redacted)"',
                        b'"HELLO" "2" "AUTH" "(redacted)" "(redacted)"',
                        b'"PING"']


def test_monitor_client_state(server):
    with Conn(server) as mon:
        assert mon.call(b"MONITOR\r\n") == b"+OK\r\n"
        port = mon.local_port()
        # the monitor's own commands are answered and also monitored
        mon.send(b"PING\r\n")
        assert mon.line() == b"+PONG\r\n"
        m = MONITOR_LINE.match(mon.line())
        assert m and m.group(5) == b'"PING"' and int(m.group(4)) == port
        # Redis 7.0 treats a monitor like a replica: keyspace commands fail
        mon.send(b"GET x\r\n")
        assert mon.line() == b"-ERR Replica can't interact with the keyspace\r\n"
        assert mon.call(b"RESET\r\n") == b"+RESET\r\n"
        assert mon.call(b"GET x\r\n") == b"$-1\r\n"


def test_monitor_stops_on_disconnect(server):
    mon = Conn(server)
    assert mon.call(b"MONITOR\r\n") == b"+OK\r\n"
    mon.close()
    with Conn(server) as cl:
        for _ in range(20):
            assert cl.call(b"PING\r\n") == b"+PONG\r\n"
    assert server.alive()


# --------------------------------------------------------------------------
# Server options: timeout, maxclients, unixsocket
# --------------------------------------------------------------------------

def test_idle_timeout():
    srv = Server(args=["--timeout", "1"])
    try:
        idle = Conn(srv)
        busy = Conn(srv)
        assert idle.call(b"PING\r\n") == b"+PONG\r\n"
        t0 = time.monotonic()
        closed_at = None
        # keep the busy client active while waiting for the idle one to go
        while time.monotonic() - t0 < 4:
            assert busy.call(b"PING\r\n") == b"+PONG\r\n"
            if idle.is_closed(timeout=0.2):
                closed_at = time.monotonic() - t0
                break
        assert closed_at is not None, "idle client not closed within 4 s"
        assert 0.9 <= closed_at <= 3.5, closed_at
        # the active client survived
        assert busy.call(b"PING\r\n") == b"+PONG\r\n"
        idle.close()
        busy.close()
    finally:
        srv.stop()


def test_maxclients():
    srv = Server(args=["--maxclients", "5"])
    conns = []
    try:
        # the startup probe connection may still be closing
        time.sleep(0.2)
        for _ in range(5):
            cn = Conn(srv)
            assert cn.call(b"PING\r\n") == b"+PONG\r\n"
            conns.append(cn)
        extra = Conn(srv)
        conns.append(extra)
        # the error is sent right away, without waiting for a command
        assert extra.reply() == b"-ERR max number of clients reached\r\n"
        assert extra.is_closed()
        with Conn(srv) as cn:
            assert cn.reply() == b"-ERR max number of clients reached\r\n"
        # the existing ones still work
        for cn in conns[:5]:
            assert cn.call(b"PING\r\n") == b"+PONG\r\n"
        info = parse_info(info_text(conns[0], "stats", "clients"))
        assert info["maxclients"] == "5"
        assert int(info["rejected_connections"]) >= 2
        # after one leaves, a new one can get in
        conns[0].close()
        deadline = time.monotonic() + 3
        while True:
            with Conn(srv) as cn:
                cn.send(b"PING\r\n")
                rep = cn.reply()
            if rep == b"+PONG\r\n" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert rep == b"+PONG\r\n"
    finally:
        for cn in conns:
            cn.close()
        srv.stop()


def test_unix_socket():
    d = tempfile.mkdtemp(prefix="engram-sock-")
    path = os.path.join(d, "s.sock")
    srv = Server(args=["--unixsocket", path, "--unixsocketperm", "700"])
    try:
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
        cl = redis.Redis(unix_socket_path=path, socket_timeout=10)
        assert cl.ping() is True
        assert cl.set("viaunix", "1") is True
        assert srv.client().get("viaunix") == b"1"
        me = cl.client_list()
        mine = [x for x in me if x["id"] == str(cl.client_id())]
        assert mine and mine[0]["addr"] == path + ":0"
        assert mine[0]["flags"] == "U"
        cl.close()
        with Conn(srv) as conn:
            assert config_get(conn, "unixsocket") == {b"unixsocket": path.encode()}
            assert config_get(conn, "unixsocketperm") == {b"unixsocketperm": b"700"}
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# Shutdown
# --------------------------------------------------------------------------

def test_shutdown_command():
    srv = Server()
    try:
        with Conn(srv) as conn:
            assert conn.call(b"SHUTDOWN foo\r\n") == b"-ERR syntax error\r\n"
            conn.send(b"SHUTDOWN\r\n")
            # on success there is no reply; the connection is just closed
            assert conn.is_closed(timeout=10)
            assert conn.buf == b""
        assert wait_exit(srv.proc) == 0
    finally:
        srv.stop()


def test_shutdown_redis_py():
    srv = Server()
    try:
        cl = srv.client()
        cl.shutdown(nosave=True)
        assert wait_exit(srv.proc) == 0
    finally:
        srv.stop()


def test_sigterm():
    srv = Server()
    try:
        with Conn(srv) as conn:
            assert conn.call(b"SET k v\r\n") == b"+OK\r\n"
        srv.proc.send_signal(signal.SIGTERM)
        assert wait_exit(srv.proc) == 0
    finally:
        srv.stop()


def test_sigterm_during_traffic_at_hz_1():
    """A signal wakes the loop through its eventfd wherever it lands (in a
    busy poll, between before_sleep and epoll_wait): with hz 1 a missed
    wake-up would wait for the next cron tick, up to a second."""
    for _ in range(3):
        srv = Server(args=["--hz", "1", "--busy-poll-us", "1000"])
        try:
            with Conn(srv) as conn:
                for _ in range(300):
                    assert conn.call(b"PING\r\n") == b"+PONG\r\n"
                t0 = time.monotonic()
                srv.proc.send_signal(signal.SIGTERM)
                assert wait_exit(srv.proc) == 0
                took = time.monotonic() - t0
            assert took < 0.9, "exit took %.2f s after SIGTERM" % took
        finally:
            srv.stop()


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram's error injection")
def test_signals_without_signal_eventfd():
    """When eventfd() fails at start-up (injected: ENGRAM_ERRINJ, debug and
    ASan builds), the server says so and still starts; SIGTERM and SIGINT
    still shut it down cleanly (epoll_wait returns EINTR, or the next cron
    tick sees the flag), and a write made before stays after a restart."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            srv = Server(env={"ENGRAM_ERRINJ": "signal-eventfd 1"})
        except RuntimeError as e:
            if "debug and ASan builds only" in str(e):
                pytest.skip("error injection needs a debug or ASan build")
            raise
        try:
            assert "No signal eventfd" in srv.read_log()
            with Conn(srv) as conn:
                assert conn.call(b"SET k v\r\n") == b"+OK\r\n"
                for _ in range(100):
                    assert conn.call(b"PING\r\n") == b"+PONG\r\n"
            srv.proc.send_signal(sig)
            assert wait_exit(srv.proc) == 0
            again = Server(args=["--dir", srv.dir])
            try:
                assert again.client().get("k") == b"v"
            finally:
                again.stop()
        finally:
            srv.stop()


# --------------------------------------------------------------------------
# Config files
# --------------------------------------------------------------------------

CONFIG_FILE = """\
# engram test configuration
   # an indented comment

databases 4
proto-max-bulk-len 1mb
timeout "17"
loglevel 'notice'
tcp-keepalive 60   
hz 12
"""


@pytest.fixture(scope="module")
def conf_server():
    s = Server(config_text=CONFIG_FILE)
    yield s
    s.stop()


def test_config_file_values(conf_server):
    with Conn(conf_server) as conn:
        got = config_get(conn, "databases", "proto-max-bulk-len", "timeout",
                         "loglevel", "tcp-keepalive", "hz")
        assert got == {
            b"databases": b"4",
            b"proto-max-bulk-len": b"1048576",
            b"timeout": b"17",
            b"loglevel": b"notice",
            b"tcp-keepalive": b"60",
            b"hz": b"12",
        }
        info = parse_info(info_text(conn, "server"))
        assert info["config_file"] == os.path.join(conf_server.dir, "test.conf")


def test_config_file_databases(conf_server):
    with Conn(conf_server) as conn:
        assert conn.call(b"SELECT 3\r\n") == b"+OK\r\n"
        assert conn.call(b"SELECT 4\r\n") == b"-ERR DB index is out of range\r\n"


def test_config_file_proto_max_bulk_len(conf_server):
    with Conn(conf_server) as conn:
        # exactly 1 MB is fine
        val = b"x" * (1024 * 1024)
        assert conn.call(cmd("SET", "k", val)) == b"+OK\r\n"
        assert conn.call(b"STRLEN k\r\n") == b":1048576\r\n"
    with Conn(conf_server) as conn:
        # 2 MB is refused as soon as the length is read
        try:
            conn.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2097152\r\n" + b"x" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert conn.reply() == b"-ERR Protocol error: invalid bulk length\r\n"
        assert conn.is_closed()


def test_config_file_redis_py_big_value_refused(conf_server):
    cl = conf_server.client()
    with pytest.raises(redis.RedisError):
        cl.set("big", b"x" * (2 * 1024 * 1024))
    cl.close()
    with Conn(conf_server) as conn:
        assert conn.call(b"EXISTS big\r\n") == b":0\r\n"


def run_binary(argv, timeout=10):
    """Run the server binary expecting it to fail fast; return (rc, output)."""
    try:
        p = subprocess.run([conftest.server_binary()] + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        pytest.fail("server did not exit on a bad configuration")
    return p.returncode, p.stdout.decode(errors="replace")


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram-specific")
def test_config_file_unknown_option_is_fatal(tmp_path):
    path = tmp_path / "bad.conf"
    path.write_text("# comment\nport %d\nnosuchoption 1\n" % conftest.free_port())
    rc, out = run_binary([str(path), "--bind", "127.0.0.1"])
    assert rc != 0
    assert "bad.conf" in out
    assert re.search(r"\b3\b", out), out
    assert "nosuchoption" in out


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram-specific")
def test_config_file_bad_value_is_fatal(tmp_path):
    path = tmp_path / "bad2.conf"
    path.write_text("port %d\n\nhz abc\n" % conftest.free_port())
    rc, out = run_binary([str(path), "--bind", "127.0.0.1"])
    assert rc != 0
    assert "bad2.conf" in out
    assert re.search(r"\b3\b", out), out
    assert "hz" in out


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram-specific")
def test_command_line_bad_value_is_fatal():
    rc, out = run_binary(["--port", "notanumber", "--bind", "127.0.0.1"])
    assert rc != 0
    assert "port" in out
    assert "notanumber" in out


def test_client_list_id_and_kill_maxage_edge_cases(c):
    # Checked against redis-server 7.0.15: an id that cannot exist matches
    # nothing; a MAXAGE that is not a number is a syntax error.
    assert c.call(b"CLIENT LIST ID 0\r\n") == b"$0\r\n\r\n"
    assert c.call(b"CLIENT LIST ID abc\r\n") == b"-ERR Invalid client ID\r\n"
    assert c.call(b"CLIENT KILL MAXAGE abc\r\n") == b"-ERR syntax error\r\n"


def test_monitor_respects_client_reply_off(server):
    with Conn(server) as mon, Conn(server) as other:
        assert mon.call(b"MONITOR\r\n") == b"+OK\r\n"
        mon.send(b"CLIENT REPLY OFF\r\n")
        time.sleep(0.1)
        assert other.call(b"PING\r\n") == b"+PONG\r\n"
        assert mon.nothing_pending(0.3)
