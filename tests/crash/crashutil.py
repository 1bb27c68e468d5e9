"""
Helpers for engram's crash tests (tests/crash).

Unlike tests/integration's Server, an `Engram` keeps its data directory
across restarts: start() / kill() (SIGKILL of the pid it started) /
shutdown() can be repeated on the same directory, which is the whole point
of a crash test. Each start gets a fresh free port and its own log file
(kept outside the data directory so the server never sees it).

Also here: a buffered RESP reader for raw-socket pipelining (each reply is
seen the moment it arrives, so a test knows exactly which writes were
acknowledged before a crash), a reader for the WAL segment format (version
3) of src/storage/wal.c / docs/formats/wal.md, used to tear and corrupt
files, and effects_of, a decoder of the binary effects in a record body.

free_port and server_binary come from tests/integration/conftest.py, loaded
by file path under another module name. There is deliberately no
tests/crash/conftest.py: `make test-integration` runs tests/integration and
tests/crash in one session, pytest loads both directories' conftest.py up
front under the same module name, and the integration modules' `from
conftest import ...` would then find this directory's. The fixture lives
here instead and the test modules import it.
"""
import importlib.util
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest
import redis

_INTEGRATION_CONFTEST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                     "integration", "conftest.py")
_spec = importlib.util.spec_from_file_location("engram_integration_conftest",
                                               _INTEGRATION_CONFTEST)
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)

free_port = _integration.free_port
server_binary = _integration.server_binary
AGAINST_REDIS = _integration.AGAINST_REDIS

START_TIMEOUT_S = 30.0
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "AddressSanitizer:DEADLYSIGNAL", "=== ASSERTION FAILED ===", "=== PANIC ===")


class ServerExited(Exception):
    """The server exited while we waited for it to become ready."""

    def __init__(self, rc, output):
        super().__init__("server exited with %s:\n%s" % (rc, output))
        self.rc = rc
        self.output = output


class Engram:
    """A server on a data directory that outlives the process."""

    def __init__(self, args=()):
        self.root = tempfile.mkdtemp(prefix="engram-crash-")
        self.dir = os.path.join(self.root, "data")
        os.mkdir(self.dir)
        self.args = list(args)
        self.proc = None
        self.port = None
        self.runs = 0
        self.log_path = None
        self._log = None
        self.others = []  # extra processes started by this object (second server)

    # ---- process control ------------------------------------------------

    def _argv(self, port, extra=()):
        return ([server_binary(), "--port", str(port), "--bind", "127.0.0.1",
                 "--dir", self.dir] + self.args + list(extra))

    def _new_log(self):
        self.runs += 1
        path = os.path.join(self.root, "server.%d.log" % self.runs)
        return path, open(path, "w")

    def start(self, extra=(), timeout=START_TIMEOUT_S):
        """Start on self.dir and wait until loading is done."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        self.log_path, self._log = self._new_log()
        self.proc = subprocess.Popen(self._argv(self.port, extra), stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerExited(self.proc.returncode, self.read_log())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                    # PING answers while loading; DBSIZE gets -LOADING until done.
                    s.sendall(b"DBSIZE\r\n")
                    if s.recv(64).startswith(b":"):
                        return self
            except OSError:
                pass
            time.sleep(0.02)
        self.kill()
        raise RuntimeError("server did not become ready in %.0fs:\n%s"
                           % (timeout, self.read_log()))

    def run_expect_exit(self, extra=(), timeout=START_TIMEOUT_S):
        """Start a server that is expected to refuse to start; return (rc, output).
        rc is None if it started after all (it is then SIGKILLed)."""
        port = free_port()
        path, log = self._new_log()
        proc = subprocess.Popen(self._argv(port, extra), stdout=log,
                                stderr=subprocess.STDOUT, cwd=self.root)
        self.others.append(proc)
        deadline = time.monotonic() + timeout
        rc = None
        while time.monotonic() < deadline:
            rc = proc.poll()
            if rc is not None:
                break
            log.flush()
            with open(path) as f:
                if "Ready to accept connections" in f.read():
                    break  # it did start: rc None
            time.sleep(0.02)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
        with open(path) as f:
            out = f.read()
        check_sanitizers(out)
        return rc, out

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL the server this object started (by its pid) and reap it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_log()

    def shutdown(self, timeout=30.0):
        """SHUTDOWN through the protocol; return the exit code."""
        c = self.client()
        try:
            c.shutdown()
        except (redis.ConnectionError, redis.ResponseError):
            pass
        finally:
            c.close()
        rc = self.proc.wait(timeout=timeout)
        self._close_log()
        return rc

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None
            check_sanitizers(self.read_log())

    def cleanup(self):
        self.kill()
        for p in self.others:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- access ---------------------------------------------------------

    def read_log(self):
        if self._log is not None:
            self._log.flush()
        with open(self.log_path) as f:
            return f.read()

    def client(self, **kw):
        kw.setdefault("socket_timeout", 15)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def raw(self, timeout=10.0):
        return RespConn(socket.create_connection(("127.0.0.1", self.port), timeout=timeout))

    def info(self, section="persistence"):
        c = self.client(decode_responses=True)
        try:
            return c.info(section)
        finally:
            c.close()

    def wal_dir(self):
        return os.path.join(self.dir, "wal")

    def newest_wal(self):
        names = sorted(n for n in os.listdir(self.wal_dir()) if re.fullmatch(r"\d{20}\.wal", n))
        assert names, "no WAL segment in %s" % self.wal_dir()
        return os.path.join(self.wal_dir(), names[-1])


def check_sanitizers(output):
    for m in SANITIZER_MARKERS:
        assert m not in output, "sanitizer/assert report in server output:\n" + output[-6000:]


def loaded_line(output):
    """The "DB loaded from WAL: ..." line of a server log (or None)."""
    for line in output.splitlines():
        if "DB loaded from WAL" in line:
            return line
    return None


def loaded_records(output):
    line = loaded_line(output)
    assert line, "no 'DB loaded from WAL' line in:\n" + output
    return int(re.search(r"(\d+) records replayed", line).group(1))


# ---- RESP over a raw socket ---------------------------------------------

encode = _integration.encode_command


class RespError(Exception):
    pass


class RespConn:
    """A socket with a reply buffer: send pipelines, read replies one by one.

    Replies decode to bytes (simple/bulk strings), int, None, list, or a
    RespError instance (returned, not raised, for error replies). A closed
    connection raises ConnectionError."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, *commands):
        self.sock.sendall(b"".join(encode(*c) for c in commands))

    def call(self, *args):
        self.send(args)
        return self.read()

    def read(self):
        while True:
            r = _parse(self.buf, 0)
            if r is not None:
                val, pos = r
                self.buf = self.buf[pos:]
                return val
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed (buffer %r)" % self.buf[:200])
            self.buf += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _parse(buf, pos):
    if pos >= len(buf):
        return None
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None
    t, line, nxt = buf[pos:pos + 1], buf[pos + 1:end], end + 2
    if t == b"+":
        return line, nxt
    if t == b"-":
        return RespError(line.decode(errors="replace")), nxt
    if t == b":":
        return int(line), nxt
    if t == b"$":
        n = int(line)
        if n < 0:
            return None, nxt
        if len(buf) < nxt + n + 2:
            return None
        return buf[nxt:nxt + n], nxt + n + 2
    if t == b"*":
        n = int(line)
        if n < 0:
            return None, nxt
        out = []
        for _ in range(n):
            r = _parse(buf, nxt)
            if r is None:
                return None
            out.append(r[0])
            nxt = r[1]
        return out, nxt
    raise ValueError("unexpected reply type %r in %r" % (t, buf[pos:pos + 60]))


# ---- WAL segment files (docs/formats/wal.md) -----------------------------

WAL_VERSION = 3
SEGMENT_HEADER = 32
BATCH_HEADER = 32
BATCH_MAGIC = 0x54414245
# A record: u32 body size n (>= 1), u64 lsn, i64 time (unix ms), u32 CRC32C of
# header bytes 0..19 followed by the body; then the n bytes of the body.
RECORD_HEADER = 24
DB_MAX = 2147483647

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


class Record:
    """A record, and the batch it was written in: batch_offset is where its
    batch header starts (the cut point if that batch is torn), batch_end
    where the batch ends."""

    def __init__(self, offset, lsn, time_ms, body, batch_offset, batch_end):
        self.offset = offset
        self.batch_offset = batch_offset
        self.batch_end = batch_end
        self.lsn = lsn
        self.time_ms = time_ms
        self.body = body
        self.size = RECORD_HEADER + len(body)
        self.end = offset + self.size

    def __repr__(self):
        return "Record(off=%d lsn=%d body=%r)" % (self.offset, self.lsn, self.body[:60])


def _read_batch(data, off, check_crc):
    """The records of the batch at off, or None if it does not check out."""
    magic, count, first, body_bytes, hcrc, res = struct.unpack_from("<IIQQII", data, off)
    end = off + BATCH_HEADER + body_bytes
    if (magic != BATCH_MAGIC or res != 0 or count == 0 or end > len(data)
            or hcrc != crc32c(data[off:off + 24])):
        return None
    records, at = [], off + BATCH_HEADER
    for i in range(count):
        if at + RECORD_HEADER > end:
            return None
        n, lsn, time_ms, crc = struct.unpack_from("<IQqI", data, at)
        if n < 1 or at + RECORD_HEADER + n > end or lsn != first + i:
            return None
        body = data[at + RECORD_HEADER:at + RECORD_HEADER + n]
        if check_crc and crc32c(body, crc32c(data[at:at + 20])) != crc:
            return None
        records.append(Record(at, lsn, time_ms, body, off, end))
        at += RECORD_HEADER + n
    return records if at == end else None


def read_segment(path, check_crc=True):
    """Parse a segment; return (first_lsn, [Record], end of the last valid batch).

    Stops at the first batch that does not check out (what the server
    would call torn or corrupt). check_crc=False skips the (slow, pure
    Python) CRC of record bodies; batch headers are always checked."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"ENGRMWAL", "bad segment magic in %s" % path
    version, hdr_bytes, first_lsn, _res, hcrc = struct.unpack_from("<IIQII", data, 8)
    assert (version, hdr_bytes) == (WAL_VERSION, SEGMENT_HEADER), \
        "%s: format version %d, header size %d" % (path, version, hdr_bytes)
    assert hcrc == crc32c(data[:28])
    records, off = [], SEGMENT_HEADER
    while off + BATCH_HEADER <= len(data):
        batch = _read_batch(data, off, check_crc)
        if batch is None:
            break
        records += batch
        off = batch[-1].batch_end
    return first_lsn, records, off


def _varint(body, pos):
    """(value, next pos) of the LEB128 varint at pos; AssertionError if it
    is truncated or longer than 10 bytes (as core/varint.h)."""
    v = 0
    for i in range(10):
        if pos + i >= len(body):
            raise AssertionError("an effect is truncated: varint at %d of %r"
                                 % (pos, body[:80]))
        b = body[pos + i]
        if i == 9 and b > 1:
            raise AssertionError("varint longer than 64 bits at %d of %r" % (pos, body[:80]))
        v |= (b & 0x7F) << (7 * i)
        if not b & 0x80:
            return v, pos + i + 1
    raise AssertionError("varint longer than 10 bytes at %d of %r" % (pos, body[:80]))


def effects_of(body):
    """The effects of one record body (docs/formats/wal.md, format version 3):
    a list of [db, COMMAND, arg1, ...], all bytes, db in decimal (b"0").

    A body is one or more effects back to back; an effect is a varint db, a
    varint k >= 1 (the command name and its arguments), then k times a
    varint length and that many bytes. Raises AssertionError on a body that
    is not valid (the checks of src/proto/effect_codec.c)."""
    body = bytes(body)
    if not body:
        raise AssertionError("empty body (a record holds at least one effect)")
    out, pos = [], 0
    while pos < len(body):
        db, pos = _varint(body, pos)
        if db > DB_MAX:
            raise AssertionError("an effect's database is out of range: %d in %r"
                                 % (db, body[:80]))
        k, pos = _varint(body, pos)
        if k == 0:
            raise AssertionError("an effect has no command: %r" % body[:80])
        if k > len(body) - pos:
            raise AssertionError("an effect has more elements than bytes left: %d in %r"
                                 % (k, body[:80]))
        eff = [str(db).encode()]
        for _ in range(k):
            n, pos = _varint(body, pos)
            if n > len(body) - pos:
                raise AssertionError("an effect is truncated: %d bytes at %d of %r"
                                     % (n, pos, body[:80]))
            eff.append(body[pos:pos + n])
            pos += n
        out.append(eff)
    return out


def assert_zero_tail(path, end):
    """The newest segment ends at a record boundary: from end on, only the
    zeros the WAL thread writes ahead of the log (wal.c zero-ahead)."""
    with open(path, "rb") as f:
        f.seek(end)
        tail = f.read()
    assert tail.count(0) == len(tail), \
        "%s: non-zero byte at offset %d after the last record (offset %d)" % (
            path, end + len(tail) - len(tail.lstrip(b"\0")), end)


def flip_byte(path, offset, mask=0xFF):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ mask]))


# ---- fixtures (imported by the test modules) ------------------------------

skip_against_redis = pytest.mark.skipif(AGAINST_REDIS, reason="engram-specific crash tests")


@pytest.fixture
def engram():
    """A factory for servers whose data directory survives restarts.

    engram(args...) returns a started Engram; every one is SIGKILLed (by its
    own pid) and its directory removed at teardown."""
    made = []

    def make(*args, start=True):
        e = Engram(args=args)
        made.append(e)
        if start:
            e.start()
        return e

    yield make
    for e in made:
        e.cleanup()
