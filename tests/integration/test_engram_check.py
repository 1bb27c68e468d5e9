"""
Tests of tools/engram-check (verify, dump, repair) on WAL files written by
a real server: write data, stop the server, then check, damage and repair
the files and start the server on them again.

The tool is $ENGRAM_CHECK (default: build/asan/engram-check, built by
`make asan`). Some cases need WAL files a server does not write in a short
test (several segments, an lsn out of sequence, a bad body with a good
checksum); those are built from the real records with the small encoder
below, which follows docs/formats/wal.md (format version 3).
"""
import glob
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest

import conftest
from conftest import Server

pytestmark = pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram's WAL only")

CHECK = os.environ.get("ENGRAM_CHECK",
                       os.path.join(conftest.ROOT, "build", "asan", "engram-check"))
WAL_VERSION = 3
SEG_HEADER_BYTES = 32
BATCH_HEADER_BYTES = 32
REC_HEADER_BYTES = 24
SEG1 = "00000000000000000001.wal"
TIME_RE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


# ---- WAL encoding (docs/formats/wal.md) ---------------------------------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def seg_header(first_lsn, version=WAL_VERSION):
    h = b"ENGRMWAL" + struct.pack("<IIQI", version, SEG_HEADER_BYTES, first_lsn, 0)
    return h + struct.pack("<I", crc32c(h))


def batch(first_lsn, records):
    """A batch header for the encoded records (first_lsn, first_lsn+1, ...), then them."""
    body = b"".join(records)
    h = struct.pack("<IIQQ", 0x54414245, len(records), first_lsn, len(body))
    return h + struct.pack("<II", crc32c(h), 0) + body


def bare_record(lsn, time_ms, body):
    """A record: body size, lsn, time, CRC32C of header bytes 0..19 and the body; the body."""
    h = struct.pack("<IQq", len(body), lsn, time_ms)
    return h + struct.pack("<I", crc32c(body, crc32c(h))) + body


def record(lsn, time_ms, body):
    """A batch of one record."""
    return batch(lsn, [bare_record(lsn, time_ms, body)])


def varint(v):
    """Unsigned LEB128: 7 bits per byte, low bits first, the top bit set on all but the last."""
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | 0x80 if v else b)
        if not v:
            return bytes(out)


def effect(db, *args):
    """One effect of a record body: varint db, varint k (the command and its
    arguments), then k times a varint length and the bytes."""
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return varint(db) + varint(len(parts)) + b"".join(varint(len(p)) + p for p in parts)


def legacy_record(lsn, time_ms, body):
    """A record of WAL format versions 1 and 2: a 32-byte header with a magic
    and a reserved field (body: RESP arrays)."""
    h = struct.pack("<IIQq", 0x4C415745, len(body), lsn, time_ms)
    return h + struct.pack("<II", crc32c(body, crc32c(h)), 0) + body


def read_records(path):
    """[(batch offset, lsn, time_ms, body, record offset, batch end)] of a
    well-formed segment file (checksums are not checked)."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], SEG_HEADER_BYTES
    while off + BATCH_HEADER_BYTES <= len(data):
        magic, count, _first, size = struct.unpack_from("<IIQQ", data, off)
        if magic != 0x54414245:
            break
        end = off + BATCH_HEADER_BYTES + size
        at = off + BATCH_HEADER_BYTES
        for _ in range(count):
            n, lsn, t = struct.unpack_from("<IQq", data, at)
            out.append((off, lsn, t, data[at + REC_HEADER_BYTES:at + REC_HEADER_BYTES + n], at,
                        end))
            at += REC_HEADER_BYTES + n
        off = end
    return out


def test_encoder_matches_the_format():
    assert crc32c(b"123456789") == 0xE3069283
    assert effect(0, "SET", "k", "v") == b"\x00\x03\x03SET\x01k\x01v"
    assert varint(0) == b"\x00" and varint(127) == b"\x7f" and varint(300) == b"\xac\x02"
    assert len(bare_record(1, 0, b"x")) == REC_HEADER_BYTES + 1


# ---- helpers -------------------------------------------------------------

def check(*args):
    """Run engram-check; returns (exit code, stdout, stderr)."""
    assert os.path.exists(CHECK), "%s is missing: run `make asan`" % CHECK
    p = subprocess.run([CHECK] + [str(a) for a in args], capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def start(data_dir):
    """A server on data_dir (its own temp dir holds only the log); stop() keeps data_dir."""
    return Server(args=("--dir", data_dir))


def start_fails(data_dir):
    """Start a server on data_dir that must refuse to start; returns its output."""
    argv = [conftest.server_binary(), "--port", str(conftest.free_port()), "--bind", "127.0.0.1",
            "--dir", data_dir]
    p = subprocess.run(argv, capture_output=True, timeout=30)
    assert p.returncode != 0, "the server started on a corrupt WAL"
    return (p.stdout + p.stderr).decode(errors="replace")


def wal_path(data_dir, name=SEG1):
    return os.path.join(data_dir, "wal", name)


@pytest.fixture
def data_dir():
    d = tempfile.mkdtemp(prefix="engram-check-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def written(data_dir):
    """Write known records through a real server, then stop it (SIGKILL).

    lsn 1 SET foo bar; 2 INCRBY counter 5; 3 PEXPIREAT foo <abs ms>;
    4 SET of a binary key and value; 5 DEL counter; 6 SET x 1 PXAT;
    7 DEL x ; INCRBY x 1 (two effects: x expired lazily); 8 SET in db 3.
    """
    s = start(data_dir)
    try:
        r = s.client()
        assert r.set("foo", "bar")
        assert r.incrby("counter", 5) == 5
        before_ms = int(time.time() * 1000)
        assert r.expire("foo", 1000)
        after_ms = int(time.time() * 1000)
        assert r.set(b"k\x00\n\"", b"v\\\t\xff")
        assert r.delete("counter") == 1
        # SET x PX 20, a 50 ms pause, INCR x, in one write: INCR finds x
        # expired and deletes it before the active expiry cycle can.
        with s.raw() as sock:
            sock.sendall(b"SET x 1 PX 20\r\nDEBUG SLEEP 0.05\r\nINCR x\r\n")
            got = b""
            while got.count(b"\r\n") < 3:
                got += sock.recv(1024)
            assert got == b"+OK\r\n+OK\r\n:1\r\n"
        r3 = s.client(db=3)
        assert r3.set("k3", "v3")
        r.close()
        r3.close()
    finally:
        s.stop()
    return {"dir": data_dir, "expire_window": (before_ms + 1000000, after_ms + 1000000)}


# ---- verify --------------------------------------------------------------

def test_verify_ok(written):
    rc, out, err = check("verify", written["dir"])
    assert rc == 0, out + err
    assert "%s: 8 records, lsn 1..8, " % wal_path(written["dir"]) in out
    assert out.strip().splitlines()[-1] == "OK: 1 segment, 8 records, lsn 1..8"


def test_usage():
    rc, out, _ = check("--help")
    assert rc == 0 and "snapshot" in out.lower()
    assert check()[0] == 2
    assert check("verify")[0] == 2
    assert check("frobnicate", "/")[0] == 2
    assert check("verify", "/nonexistent-engram-dir")[0] == 2
    assert check("dump", "/", "--from-lsn")[0] == 2
    assert check("dump", "/", "--from-lsn", "x")[0] == 2
    assert check("dump", "/", "--bogus", "1")[0] == 2
    assert check("dump", "/", "--from-lsn", "5", "--to-lsn", "2")[0] == 2


def test_verify_without_wal_dir(data_dir):
    rc, _, err = check("verify", data_dir)
    assert rc == 1 and "wal" in err


# ---- dump ----------------------------------------------------------------

def test_dump_lines(written):
    rc, out, err = check("dump", written["dir"])
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 8
    for i, line in enumerate(lines):
        assert re.match(r"lsn=%d time=%s db=\d " % (i + 1, TIME_RE), line), line
    tails = [line.split(" ", 2)[2] for line in lines]
    assert tails[0] == 'db=0 SET "foo" "bar"'
    assert tails[1] == 'db=0 INCRBY "counter" "5"'
    m = re.fullmatch(r'db=0 PEXPIREAT "foo" "(\d+)"', tails[2])
    assert m, tails[2]
    lo, hi = written["expire_window"]
    assert lo <= int(m.group(1)) <= hi  # EXPIRE 1000 became an absolute time in ms
    assert tails[3] == r'db=0 SET "k\x00\n\"" "v\\\t\xff"'
    assert tails[4] == 'db=0 DEL "counter"'
    assert re.fullmatch(r'db=0 SET "x" "1" "PXAT" "\d+"', tails[5]), tails[5]
    assert tails[6] == 'db=0 DEL "x" ; db=0 INCRBY "x" "1"'
    assert tails[7] == 'db=3 SET "k3" "v3"'


def test_dump_time_is_the_record_time(written):
    recs = read_records(wal_path(written["dir"]))
    _, out, _ = check("dump", written["dir"], "--to-lsn", 1)
    t_ms = recs[0][2]
    want = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t_ms // 1000)) + ".%03dZ" % (t_ms % 1000)
    assert out.startswith("lsn=1 time=%s " % want)


def test_dump_lsn_range(written):
    d = written["dir"]
    _, out, _ = check("dump", d, "--from-lsn", 2, "--to-lsn", 3)
    assert [line.split()[0] for line in out.splitlines()] == ["lsn=2", "lsn=3"]
    _, out, _ = check("dump", d, "--from-lsn", 7)
    assert [line.split()[0] for line in out.splitlines()] == ["lsn=7", "lsn=8"]
    _, out, _ = check("dump", d, "--to-lsn", 1)
    assert [line.split()[0] for line in out.splitlines()] == ["lsn=1"]
    rc, out, _ = check("dump", d, "--from-lsn", 100)
    assert rc == 0 and out == ""


# ---- torn tail -------------------------------------------------------------

def test_torn_tail_is_valid(written):
    d = written["dir"]
    path = wal_path(d)
    size = read_records(path)[-1][5]  # the end of the last batch
    with open(path, "r+b") as f:  # half a batch header over the zeros: a crash mid-write
        f.seek(size)
        f.write(record(9, 0, effect(0, "SET", "lost", "1"))[:20])
    rc, out, err = check("verify", d)
    assert rc == 0, out + err
    assert "torn tail at %s offset %d (would be truncated at start)" % (path, size) in out
    assert "OK: 1 segment, 8 records, lsn 1..8" in out
    rc, out, err = check("dump", d)
    assert rc == 0 and len(out.splitlines()) == 8 and "torn tail" in err
    s = start(d)  # the server agrees: it cuts the tail and starts
    try:
        assert s.client().get("k3") is None  # db 0
        assert s.client(db=3).get("k3") == b"v3"
    finally:
        s.stop()
    assert os.path.getsize(path) == size


# ---- corruption and repair -------------------------------------------------

def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


def test_corrupt_early_record_then_repair(written):
    d = written["dir"]
    path = wal_path(d)
    recs = read_records(path)
    bad_off = recs[1][0]  # lsn 2, INCRBY counter 5, a batch of its own
    assert recs[2][0] != bad_off
    with open(path, "rb") as f:
        original = f.read()
    flipped = recs[1][4] + REC_HEADER_BYTES + 3 - bad_off  # in the record's body
    flip_byte(path, bad_off + flipped)

    rc, out, err = check("verify", d)
    assert rc == 1, out + err
    assert "CORRUPT: %s offset %d lsn 2:" % (path, bad_off) in out
    rc, out, err = check("dump", d)
    assert rc == 1 and "CORRUPT" in err
    assert len(out.splitlines()) == 1 and out.startswith("lsn=1 ")
    assert "corruption" in start_fails(d).lower()

    rc, out, err = check("repair", d)
    assert rc == 0, out + err
    cuts = glob.glob(path + ".cut-*")
    assert len(cuts) == 1, os.listdir(os.path.join(d, "wal"))
    assert re.fullmatch(re.escape(path) + r"\.cut-\d+", cuts[0])
    with open(cuts[0], "rb") as f:
        cut = f.read()
    assert len(cut) == len(original) - bad_off
    assert cut[:flipped] == original[bad_off:bad_off + flipped]
    assert cut[flipped] == original[bad_off + flipped] ^ 0xFF
    assert cut[flipped + 1:] == original[bad_off + flipped + 1:]
    assert os.path.getsize(path) == bad_off
    assert "truncated %s at offset %d" % (path, bad_off) in out
    assert "repaired: 1 segment, 1 record, lsn 1..1" in out

    assert check("verify", d)[0] == 0
    s = start(d)
    try:
        r = s.client()
        assert r.get("foo") == b"bar"  # lsn 1 survived
        assert r.get("counter") is None  # lsn 2 and later were cut
        assert r.ttl("foo") == -1
        assert r.set("after", "repair")  # the log continues at lsn 2
    finally:
        s.stop()
    _, out, _ = check("dump", d)
    assert [line.split()[0] for line in out.splitlines()] == ["lsn=1", "lsn=2"]
    assert out.splitlines()[1].endswith('SET "after" "repair"')


def test_repair_of_a_clean_wal_does_nothing(written):
    rc, out, _ = check("repair", written["dir"])
    assert rc == 0 and "nothing to repair" in out
    assert os.listdir(os.path.join(written["dir"], "wal")) == [SEG1]


def test_repair_refuses_while_a_server_runs(written):
    d = written["dir"]
    s = start(d)
    try:
        with open(wal_path(d), "rb") as f:
            before = f.read()
        rc, out, err = check("repair", d)
        assert rc == 1, out + err
        assert "locked by a running engram server (pid %d)" % s.proc.pid in err
        with open(wal_path(d), "rb") as f:
            assert f.read() == before
        assert glob.glob(wal_path(d) + ".cut-*") == []
    finally:
        s.stop()


# ---- crafted WALs: several segments, lsn order, bodies -----------------------

def split_segment(data_dir, first_of_second):
    """Rewrite the single segment as two, the second starting at lsn first_of_second."""
    path = wal_path(data_dir)
    recs = read_records(path)
    seg_a = seg_header(1) + b"".join(record(r[1], r[2], r[3]) for r in recs
                                     if r[1] < first_of_second)
    seg_b = seg_header(first_of_second) + b"".join(
        record(r[1], r[2], r[3]) for r in recs if r[1] >= first_of_second)
    with open(path, "wb") as f:
        f.write(seg_a)
    second = wal_path(data_dir, "%020d.wal" % first_of_second)
    with open(second, "wb") as f:
        f.write(seg_b)
    return path, second


def test_verify_several_segments(written):
    d = written["dir"]
    first, second = split_segment(d, 4)
    rc, out, err = check("verify", d)
    assert rc == 0, out + err
    assert "%s: 3 records, lsn 1..3, " % first in out
    assert "%s: 5 records, lsn 4..8, " % second in out
    assert "OK: 2 segments, 8 records, lsn 1..8" in out
    _, out, _ = check("dump", d, "--from-lsn", 3, "--to-lsn", 4)
    assert [line.split()[0] for line in out.splitlines()] == ["lsn=3", "lsn=4"]
    s = start(d)  # the server reads the crafted segments too
    try:
        assert s.client(db=3).get("k3") == b"v3"
    finally:
        s.stop()


def test_bad_record_in_an_older_segment_and_repair(written):
    d = written["dir"]
    first, second = split_segment(d, 4)
    bad_off = read_records(first)[2][0]
    with open(first, "r+b") as f:  # the last record of segment 1 loses its end
        f.truncate(os.path.getsize(first) - 5)
    rc, out, _ = check("verify", d)
    assert rc == 1
    assert "CORRUPT: %s offset %d lsn 3:" % (first, bad_off) in out
    assert "1 later segment(s) not checked" in out
    start_fails(d)

    rc, out, err = check("repair", d)
    assert rc == 0, out + err
    moved = glob.glob(second + ".after-repair-*")
    assert len(moved) == 1 and not os.path.exists(second)
    assert len(glob.glob(first + ".cut-*")) == 1
    assert "repaired: 1 segment, 2 records, lsn 1..2" in out
    s = start(d)
    try:
        assert s.client().get("foo") == b"bar"
        assert s.client(db=3).get("k3") is None
    finally:
        s.stop()


def test_missing_segment_is_corruption(written):
    d = written["dir"]
    _, second = split_segment(d, 4)
    recs = read_records(second)
    with open(second, "wb") as f:  # segment 4 keeps lsn 4..5; segment 7 holds 7..8
        f.write(seg_header(4) + b"".join(record(r[1], r[2], r[3]) for r in recs if r[1] <= 5))
    third = wal_path(d, "%020d.wal" % 7)
    with open(third, "wb") as f:
        f.write(seg_header(7) + b"".join(record(r[1], r[2], r[3]) for r in recs if r[1] >= 7))
    rc, out, _ = check("verify", d)
    assert rc == 1
    assert "CORRUPT: %s offset 32 lsn 6: segment starts at lsn 7" % third in out
    rc, out, _ = check("repair", d)
    assert rc == 0
    assert "removed %s" % third in out and len(glob.glob(third + ".cut-*")) == 1
    assert "repaired: 2 segments, 5 records, lsn 1..5" in out


def test_lsn_out_of_sequence(written):
    d = written["dir"]
    path = wal_path(d)
    recs = read_records(path)
    data = seg_header(1)
    offsets = []
    for r in recs:
        offsets.append(len(data))
        data += record(9 if r[1] == 3 else r[1], r[2], r[3])  # good checksums, wrong lsn
    with open(path, "wb") as f:
        f.write(data)
    rc, out, _ = check("verify", d)
    assert rc == 1
    assert "offset %d lsn 3: batch starts at lsn 9 where 3 was expected" % offsets[2] in out


def test_lsn_out_of_sequence_inside_a_batch(written):
    """A record whose lsn does not follow the one before it in its batch
    makes the batch bad; with a valid batch after it, that is corruption."""
    d = written["dir"]
    path = wal_path(d)
    recs = read_records(path)
    data = seg_header(1) + record(1, recs[0][2], recs[0][3])
    data += batch(2, [bare_record(2, recs[1][2], recs[1][3]), bare_record(9, recs[2][2], recs[2][3])])
    data += b"".join(record(r[1], r[2], r[3]) for r in recs[3:])
    with open(path, "wb") as f:
        f.write(data)
    rc, out, _ = check("verify", d)
    assert rc == 1
    assert "offset %d lsn 2: bad batch" % len(record(1, recs[0][2], recs[0][3]) + seg_header(1)) \
        in out, out


TRUNCATED = "an effect is truncated"


@pytest.mark.parametrize("body,why", [
    # the last element's bytes run past the end of the body
    (effect(0, "SET", "k", "v")[:-1], TRUNCATED),
    # an element length larger than the bytes left
    (b"\x00\x03\x03SET\x01k\x05v", TRUNCATED),
    # a length varint cut in the middle (its top bit set on the body's last byte)
    (b"\x00\x03\x03SET\x01k\x81", TRUNCATED),
    # a good effect, then only the db of a second one
    (effect(0, "SET", "k", "v") + b"\x00", TRUNCATED),
    # k == 0, alone and after a good effect
    (effect(0), "an effect has no command"),
    (effect(0, "SET", "k", "v") + effect(1), "an effect has no command"),
    # k larger than the bytes left
    (b"\x00" + varint(1000) + b"\x03SET\x01k\x01v", "an effect has more elements than bytes left"),
    (b"\x00\x09\x03SET\x01k\x01v", "an effect has more elements than bytes left"),
    # db > 2147483647
    (effect(2147483648, "SET", "k", "v"), "an effect's database is out of range"),
    (effect(0, "SET", "k", "v") + effect(1 << 40, "DEL", "k"),
     "an effect's database is out of range"),
    (b"", "empty body (a record holds at least one effect)"),
])
def test_bad_body_with_good_checksum(data_dir, body, why):
    os.mkdir(os.path.join(data_dir, "wal"))
    good = effect(0, "SET", "k", "v")
    with open(wal_path(data_dir), "wb") as f:
        f.write(seg_header(1) + record(1, 1700000000000, good) + record(2, 1700000000001, body)
                + record(3, 1700000000002, good))
    rc, out, _ = check("verify", data_dir)
    assert rc == 1
    assert "offset %d lsn 2: invalid effects in the record of lsn 2 (offset " % len(
        seg_header(1) + record(1, 0, good)) in out
    assert why in out


@pytest.mark.parametrize("body,why", [
    (effect(16, "SET", "k", "v"), "effect on database 16, but databases is 16"),
    (effect(0, "GET", "k"), "unknown effect 'GET'"),        # not a write
    (effect(0, "NOSUCH", "k"), "unknown effect 'NOSUCH'"),
    (effect(0, "SET", "k"), "wrong arity for effect 'set'"),
    (b"", "empty body"),
])
def test_server_refuses_effects_it_cannot_apply(data_dir, body, why):
    """Records that pass every checksum but hold effects the server cannot
    replay: the start is refused with the record's lsn and the reason."""
    os.mkdir(os.path.join(data_dir, "wal"))
    good = effect(0, "SET", "k", "v")
    with open(wal_path(data_dir), "wb") as f:
        f.write(seg_header(1) + record(1, 1700000000000, good) + record(2, 1700000000001, body))
    out = start_fails(data_dir)
    assert why in out, out
    assert "lsn 2" in out, out


def test_dump_of_a_crafted_record(data_dir):
    os.mkdir(os.path.join(data_dir, "wal"))
    body = effect(0, "DEL", "a") + effect(2, "SET", b"\x01\r", "q\"")
    with open(wal_path(data_dir), "wb") as f:
        f.write(seg_header(1) + record(1, 1700000000123, body))
    rc, out, _ = check("dump", data_dir)
    assert rc == 0
    assert out == ('lsn=1 time=2023-11-14T22:13:20.123Z db=0 DEL "a" ; '
                   'db=2 SET "\\x01\\r" "q\\""\n')


def test_interrupted_segment_creation_is_a_torn_tail(written):
    d = written["dir"]
    empty = wal_path(d, "%020d.wal" % 9)
    open(empty, "wb").close()
    rc, out, _ = check("verify", d)
    assert rc == 0
    assert "torn tail at %s offset 0" % empty in out


def test_gap_covered_by_a_snapshot_is_accepted(written):
    d = written["dir"]
    _, second = split_segment(d, 4)
    os.remove(second)
    recs = read_records(wal_path(written["dir"]))  # lsn 1..3
    assert [r[1] for r in recs] == [1, 2, 3]
    seven = wal_path(d, "%020d.wal" % 7)
    body = effect(0, "SET", "k", "v")
    with open(seven, "wb") as f:
        f.write(seg_header(7) + record(7, 1700000000000, body))
    assert check("verify", d)[0] == 1  # lsn 4..6 are nowhere
    os.mkdir(os.path.join(d, "snap"))
    open(os.path.join(d, "snap", "%020d.snap" % 6), "wb").close()
    rc, out, err = check("verify", d)
    # The gap rule looks at the snapshot's name; the snapshot itself is then
    # checked too, and an empty file is not a snapshot.
    assert "lsn 4..6 not in the WAL: covered by the snapshot at lsn 6" in out
    assert rc == 1, out + err
    assert "CORRUPT: snapshot" in out and "00000000000000000006.snap" in out


def test_snapshots_are_verified_and_dumped(data_dir):
    s = start(data_dir)
    try:
        r = s.client()
        r.set("str", "v")
        r.hset("h", mapping={"f": "1", "g": "x y"})
        r.sadd("s", "1", "2")
        r.rpush("l", "a", "b")
        r.zadd("z", {"m": 1.5, "n": float("inf")})
        assert r.save()
    finally:
        s.stop()
    rc, out, err = check("verify", data_dir)
    assert rc == 0, out + err
    assert re.search(r"snap/\d{20}\.snap: 5 keys, covers lsn \d+", out), out
    rc, out, err = check("dump-snapshot", data_dir)
    assert rc == 0, out + err
    lines = sorted(out.splitlines())
    assert lines == sorted([
        'db=0 type=string expire=-1 key="str" value="v"',
        'db=0 type=hash expire=-1 key="h" value= "f":"1","g":"x y"',
        'db=0 type=set expire=-1 key="s" value= "1","2"',
        'db=0 type=list expire=-1 key="l" value= "a","b"',
        'db=0 type=zset expire=-1 key="z" value= "m"=1.5,"n"=inf',
    ]), out
    snap = glob.glob(os.path.join(data_dir, "snap", "*.snap"))[0]
    with open(snap, "r+b") as f:  # one flipped byte inside the keys
        f.seek(40)
        b = f.read(1)
        f.seek(40)
        f.write(bytes([b[0] ^ 0x55]))
    rc, out, err = check("verify", data_dir)
    assert rc == 1 and "CORRUPT: snapshot" in out, out + err


@pytest.mark.parametrize("version", [1, 2])
def test_a_segment_of_another_format_version_is_refused_not_repaired(data_dir, version):
    """A data directory written by a build with WAL format version 1 (no
    batch headers) or 2 (32-byte record headers, RESP bodies): the server
    refuses to start and says how to upgrade, engram-check reports it, and
    repair refuses to touch it (it would have cut the whole segment: every
    record lost)."""
    os.mkdir(os.path.join(data_dir, "wal"))
    rec = legacy_record(1, 1700000000000,
                        b"*4\r\n$1\r\n0\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
    old = seg_header(1, version) + (rec if version == 1 else batch(1, [rec]))
    path = wal_path(data_dir)
    with open(path, "wb") as f:
        f.write(old)
    out = start_fails(data_dir)
    assert "format version %d" % version in out and "do NOT run engram-check repair" in out, out
    rc, out, err = check("verify", data_dir)
    assert rc == 1 and "format version %d" % version in out, out + err
    rc, out, err = check("repair", data_dir)
    assert rc == 1 and "refusing to repair" in err, out + err
    with open(path, "rb") as f:
        assert f.read() == old
    assert glob.glob(path + ".*") == []
