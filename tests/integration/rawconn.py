"""
Raw RESP connections and reply builders shared by the collection tests
(test_list.py, test_zset.py, test_set.py): a Conn that returns raw reply bytes and can
tell that nothing arrives (a client still blocked), the c/c2/c3/conns
fixtures, and waiting for INFO's blocked_clients.
"""
import socket
import time

import pytest

import conftest
from conftest import encode_command as cmd

NIL = b"$-1\r\n"
QUIET_S = 0.3


def arity(name):
    return b"-ERR wrong number of arguments for '%s' command\r\n" % name.encode()


def bulk(b):
    if isinstance(b, (int, float)):
        b = str(b)
    if isinstance(b, str):
        b = b.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


def integer(n):
    return b":%d\r\n" % n


def array(*items):
    """A RESP2 array of bulk strings (None -> $-1)."""
    return b"*%d\r\n" % len(items) + b"".join(NIL if i is None else bulk(i) for i in items)


class Conn:
    """A raw connection; calling it sends one command and returns the raw
    reply bytes. Unread bytes are kept between replies, so pipelined replies
    that arrive in one read are not lost."""

    def __init__(self, server, resp3=False, timeout=10.0):
        self.sock = server.raw(timeout=timeout)
        self.buf = b""
        self.timeout = timeout
        if resp3:
            hello3(self)

    def send(self, *args):
        self.sock.sendall(cmd(*args))

    def send_raw(self, data):
        self.sock.sendall(data)

    def reply(self, timeout=None):
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            n = conftest._reply_end(self.buf, 0)
            if n is not None:
                out, self.buf = self.buf[:n], self.buf[n:]
                return out
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(self.buf[:200])
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise TimeoutError(self.buf[:200])
            if not chunk:
                raise ConnectionError("closed after %r" % self.buf[:200])
            self.buf += chunk

    def nothing_within(self, seconds=QUIET_S):
        """True if no byte arrives within seconds (the client is still blocked)."""
        if self.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            return True
        self.buf += chunk
        return False

    def __call__(self, *args):
        self.send(*args)
        return self.reply()

    def pipeline(self, commands):
        """Send every command at once, then read one reply per command."""
        self.sock.sendall(b"".join(cmd(*a) for a in commands))
        return [self.reply() for _ in commands]

    def close(self):
        self.sock.close()


def hello3(conn):
    reply = conn("HELLO", "3")
    assert reply.startswith(b"%"), reply


@pytest.fixture
def c(server, r):
    """A raw RESP2 connection on a flushed server (r flushes first)."""
    conn = Conn(server)
    yield conn
    conn.close()


@pytest.fixture
def c2(server, r):
    """Another raw RESP2 connection: 'another client'."""
    conn = Conn(server)
    yield conn
    conn.close()


@pytest.fixture
def c3(server, r):
    """A raw RESP3 connection."""
    conn = Conn(server)
    hello3(conn)
    yield conn
    conn.close()


@pytest.fixture
def conns(server, r):
    """A factory of extra raw connections, closed at the end of the test."""
    made = []

    def make(resp3=False):
        conn = Conn(server)
        if resp3:
            hello3(conn)
        made.append(conn)
        return conn

    yield make
    for conn in made:
        conn.close()


def blocked_count(r):
    return r.info("clients")["blocked_clients"]


def wait_blocked(r, n, timeout=5.0):
    """Wait until INFO says n clients are blocked."""
    deadline = time.monotonic() + timeout
    while True:
        got = blocked_count(r)
        if got == n:
            return
        assert time.monotonic() < deadline, "blocked_clients is %d, expected %d" % (got, n)
        time.sleep(0.005)


def block(conn, r, n, *args):
    """Send a blocking command on conn and wait until n clients are blocked."""
    conn.send(*args)
    wait_blocked(r, n)
