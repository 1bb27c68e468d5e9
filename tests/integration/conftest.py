"""
Fixtures for engram's integration tests.

Each test module gets a fresh server process on a free 127.0.0.1 port with
its own temporary data directory; it is SIGKILLed in teardown. The binary is
$ENGRAM_SERVER (default: build/asan/engram-server). With ENGRAM_TEST_REDIS=1
the same tests run against Debian's redis-server instead, which is how the
expected behaviour in these tests was checked against Redis 7.0.15.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGAINST_REDIS = os.environ.get("ENGRAM_TEST_REDIS") == "1"
START_TIMEOUT_S = 10.0


def free_port():
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_asan_build(path=None):
    """True if the server binary is built with AddressSanitizer (False if it
    cannot be read: a missing binary fails the tests that start it, not the
    collection of the module)."""
    try:
        with open(path or server_binary(), "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def server_binary():
    if AGAINST_REDIS:
        return shutil.which("redis-server") or "/usr/bin/redis-server"
    return os.environ.get("ENGRAM_SERVER", os.path.join(ROOT, "build", "asan", "engram-server"))


class Server:
    """One running server process. `args` are extra `--name value` options;
    `binary` another server than the one under test (default server_binary());
    `env` variables added to the server's environment."""

    def __init__(self, args=(), config_text=None, binary=None, env=None):
        self.dir = tempfile.mkdtemp(prefix="engram-test-")
        self.port = free_port()
        self.unixsocket = os.path.join(self.dir, "engram.sock")
        argv = [binary or server_binary()]
        if config_text is not None:
            path = os.path.join(self.dir, "test.conf")
            with open(path, "w") as f:
                f.write(config_text)
            argv.append(path)
        argv += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        if AGAINST_REDIS:
            argv += ["--save", "", "--appendonly", "no"]
        argv += list(args)
        self.log_path = os.path.join(self.dir, "server.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, env=dict(os.environ, **(env or {})))
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # no process or scratch directory left behind
            raise

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s:\n%s" % (self.proc.returncode,
                                                                  self.read_log()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith((b"+PONG", b"-NOAUTH", b"-LOADING")):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("server did not start:\n" + self.read_log())

    def read_log(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def client(self, **kw):
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def raw(self, timeout=5.0):
        """A plain socket connected to the server, for protocol-level tests."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def r(server):
    """A RESP2 redis-py client on a flushed server."""
    c = server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def rd(server):
    """Like r, with decode_responses=True."""
    c = server.client(decode_responses=True)
    c.flushall()
    yield c
    c.close()


def encode_command(*args):
    """Encode a command (str, bytes or int arguments) as a RESP multibulk request."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = str(a)
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_reply(sock, timeout=5.0):
    """Read one complete RESP2/RESP3 reply from a raw socket; return its raw bytes."""
    sock.settimeout(timeout)
    buf = b""
    while True:
        n = _reply_end(buf, 0)
        if n is not None:
            return buf[:n]
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed after %r" % buf)
        buf += chunk


def _line(buf, pos):
    i = buf.find(b"\r\n", pos)
    return (None, None) if i < 0 else (buf[pos:i], i + 2)


def _reply_end(buf, pos):
    """Return the end offset of the reply starting at pos, or None if incomplete."""
    if pos >= len(buf):
        return None
    t = buf[pos:pos + 1]
    line, nxt = _line(buf, pos + 1)
    if line is None:
        return None
    if t in (b"+", b"-", b":", b",", b"#", b"_", b"("):
        return nxt
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return nxt
        return nxt + n + 2 if len(buf) >= nxt + n + 2 else None
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(line)
        if n < 0:
            return nxt
        if t in (b"%", b"|"):
            n *= 2
        for _ in range(n):
            nxt = _reply_end(buf, nxt)
            if nxt is None:
                return None
        return nxt
    raise ValueError("bad reply type %r in %r" % (t, buf[pos:pos + 40]))


def reference_redis():
    """A redis-server 7.0 to compare engram with, in the differential tests
    (error texts changed in 7.2); skips when there is none."""
    if AGAINST_REDIS:
        pytest.skip("the server under test is redis-server itself")
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(path):
        pytest.skip("no redis-server to compare with")
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    if " v=7.0." not in version:
        pytest.skip("the reference must be redis-server 7.0, not: " + version.strip())
    return Server(args=["--save", "", "--appendonly", "no"], binary=path)
