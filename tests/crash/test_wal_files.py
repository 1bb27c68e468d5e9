"""
Torn and corrupt WAL files (D5), the on-disk record sequence (D3), and the
directory lock.

Each test writes acknowledged SETs (one record each), stops the server,
edits the newest segment in Python (crashutil.read_segment knows the format
of docs/formats/wal.md) and starts again on the same directory:

  - a damaged *last* record is a torn tail: the server starts, logs the file
    and the offset, truncates the segment to the end of the last good record
    and loses only that record (which a real crash would never have
    acknowledged);
  - a damaged record with valid records after it is corruption: the server
    refuses to start (exit 1), names file, offset and lsn, points to
    engram-check, and leaves the file as it was.
"""
import os
import random
import re
import time

import pytest

from crashutil import RECORD_HEADER, flip_byte, loaded_records, read_segment
from crashutil import engram  # noqa: F401 (fixture)
from crashutil import skip_against_redis

pytestmark = skip_against_redis

KEYS = 20


def fill(e, n=KEYS):
    with e.client() as c:
        for i in range(n):
            c.set("k%d" % i, "value-%d" % i)


def check_keys(e, present, absent=()):
    with e.client() as c:
        if present:
            names = ["k%d" % i for i in present]
            assert c.mget(names) == [b"value-%d" % i for i in present]
        for i in absent:
            assert c.exists("k%d" % i) == 0, "k%d should be gone" % i
        assert c.dbsize() == len(present)


def torn_line(output, path):
    lines = [l for l in output.splitlines() if path in l and "offset" in l]
    assert lines, "no log line naming %s and an offset:\n%s" % (path, output)
    return lines[0]


def stopped_with_records(engram, n=KEYS):
    e = engram("--save", "")
    fill(e, n)
    e.kill()
    path = e.newest_wal()
    first, recs, end = read_segment(path)
    assert first == 1 and len(recs) == n and end == os.path.getsize(path)
    assert [r.lsn for r in recs] == list(range(1, n + 1))
    return e, path, recs


def test_records_are_dense_and_canonical(engram):
    """D3 and the canonical effects of docs/formats/wal.md, across a restart."""
    e = engram("--save", "")
    with e.client() as c:
        c.set("a", "1")
        c.expire("a", 100)
        c.incrbyfloat("f", "2.5")
        c.delete("nonexistent")      # no effect, no record
    e.kill()
    e.start()
    with e.client() as c:
        c.set("b", "2")
    e.kill()
    first, recs, end = read_segment(e.newest_wal())
    assert end == os.path.getsize(e.newest_wal())
    assert [r.lsn for r in recs] == [1, 2, 3, 4]
    assert b"SET" in recs[0].body and b"PEXPIREAT" in recs[1].body.upper()
    assert b"EXPIRE\r\n" not in recs[1].body.upper()
    assert b"INCRBYFLOAT" not in recs[2].body.upper() and b"2.5" in recs[2].body
    assert recs[3].body.endswith(b"$1\r\nb\r\n$1\r\n2\r\n")
    assert all(recs[i].time_ms <= recs[i + 1].time_ms for i in range(3))


@pytest.mark.parametrize("cut", ["in-header", "in-body", "one-byte-short"])
def test_truncated_last_record_is_cut_at_a_record_boundary(engram, cut):
    e, path, recs = stopped_with_records(engram)
    last = recs[-1]
    size = {"in-header": last.offset + 10,
            "in-body": last.offset + RECORD_HEADER + (last.size - RECORD_HEADER) // 2,
            "one-byte-short": last.end - 1}[cut]
    os.truncate(path, size)
    e.start()
    line = torn_line(e.read_log(), path)
    assert "offset %d" % last.offset in line, line
    assert loaded_records(e.read_log()) == KEYS - 1
    check_keys(e, range(KEYS - 1), [KEYS - 1])
    assert os.path.getsize(path) == last.offset
    # The server goes on appending after the cut: lsn KEYS is reused, densely.
    with e.client() as c:
        c.set("after", "1")
    e.kill()
    first, recs2, end = read_segment(path)
    assert [r.lsn for r in recs2] == list(range(1, KEYS + 1))
    assert end == os.path.getsize(path)


@pytest.mark.parametrize("garbage", ["random", "half-record", "header-only"])
def test_garbage_after_the_last_record_is_truncated(engram, garbage):
    e, path, recs = stopped_with_records(engram)
    size = os.path.getsize(path)
    rng = random.Random(1234)
    if garbage == "random":
        tail = bytes([0xA5]) + bytes(rng.randrange(256) for _ in range(300))
    else:
        # What a crash mid-append leaves: the start of a real next record.
        with open(path, "rb") as f:
            data = f.read()
        rec = bytearray(data[recs[-1].offset:recs[-1].end])
        rec[8:16] = (KEYS + 1).to_bytes(8, "little")
        tail = bytes(rec[:len(rec) // 2] if garbage == "half-record" else rec[:RECORD_HEADER])
    with open(path, "ab") as f:
        f.write(tail)
    e.start()
    line = torn_line(e.read_log(), path)
    assert "offset %d" % size in line, line
    check_keys(e, range(KEYS))
    assert os.path.getsize(path) == size


@pytest.mark.parametrize("where", ["body", "header-lsn", "crc"])
def test_flipped_byte_in_last_record_is_a_torn_tail(engram, where):
    e, path, recs = stopped_with_records(engram)
    last = recs[-1]
    off = {"body": last.offset + RECORD_HEADER + 20, "header-lsn": last.offset + 8,
           "crc": last.offset + 24}[where]
    flip_byte(path, off, 0x04)
    e.start()
    line = torn_line(e.read_log(), path)
    assert "offset %d" % last.offset in line, line
    check_keys(e, range(KEYS - 1), [KEYS - 1])
    assert os.path.getsize(path) == last.offset


def refused(e, path, rec):
    with open(path, "rb") as f:
        before = f.read()
    rc, out = e.run_expect_exit()
    assert rc == 1, "server did not refuse a corrupt WAL (rc %s):\n%s" % (rc, out)
    assert path in out and "offset %d" % rec.offset in out, out
    assert re.search(r"lsn %d\b" % rec.lsn, out), out
    assert "engram-check" in out, out
    with open(path, "rb") as f:
        assert f.read() == before, "a refused start modified the segment"
    return out


@pytest.mark.parametrize("where", ["body", "header-lsn", "crc", "magic", "reserved"])
def test_flipped_byte_in_early_record_refuses_to_start(engram, where):
    e, path, recs = stopped_with_records(engram, 60)
    rec = recs[4]
    off = {"body": rec.offset + RECORD_HEADER + 20, "header-lsn": rec.offset + 8,
           "crc": rec.offset + 24, "magic": rec.offset, "reserved": rec.offset + 29}[where]
    flip_byte(path, off, 0x10)
    refused(e, path, rec)


def test_flipped_length_field_in_early_record_refuses_to_start(engram):
    e, path, recs = stopped_with_records(engram, 60)
    rec = recs[4]
    flip_byte(path, rec.offset + 4, 0x01)
    refused(e, path, rec)


def test_zeroed_early_record_header_refuses_to_start(engram):
    e, path, recs = stopped_with_records(engram, 60)
    rec = recs[4]
    with open(path, "r+b") as f:
        f.seek(rec.offset)
        f.write(b"\0" * RECORD_HEADER)
    refused(e, path, rec)


def test_corrupt_segment_header_refuses_to_start(engram):
    e, path, recs = stopped_with_records(engram)
    flip_byte(path, 3)
    rc, out = e.run_expect_exit()
    assert rc == 1 and path in out and "engram-check" in out, out


def test_second_server_on_the_same_dir_is_refused(engram):
    e = engram("--save", "")
    fill(e, 5)
    rc, out = e.run_expect_exit()
    assert rc == 1, out
    assert "pid %d" % e.pid in out, out
    # The first one is unharmed and still owns the directory.
    with e.client() as c:
        c.set("k5", "value-5")
    check_keys(e, range(6))
    # A dead holder does not block (flock dies with the process).
    e.kill()
    e.start()
    check_keys(e, range(6))


MB = 1024 * 1024


def fill_big(e, n):
    with e.client() as c:
        for i in range(n):
            c.set("big%d" % i, (b"%08d" % i) * (MB // 8))


def check_big(e, count):
    with e.client() as c:
        assert c.dbsize() == count
        for i in range(count):
            assert c.strlen("big%d" % i) == MB
            assert c.getrange("big%d" % i, MB - 8, MB - 1) == b"%08d" % i


def test_segment_rollover_and_damage_in_an_older_segment(engram):
    """Past 64 MB the WAL goes on in a new segment named by its first lsn.
    A torn tail is only a torn tail in the newest segment; a bad last record
    in an older one is corruption."""
    e = engram("--save", "", "--wal-snapshot-bytes", "1gb")
    n = 70
    fill_big(e, n)
    e.kill()
    names = sorted(os.listdir(e.wal_dir()))
    assert len(names) == 2, names
    older, newer = (os.path.join(e.wal_dir(), x) for x in names)
    f1, recs1, end1 = read_segment(older, check_crc=False)
    f2, recs2, end2 = read_segment(newer, check_crc=False)
    assert f1 == 1 and f2 == int(names[1][:20]) == recs1[-1].lsn + 1
    assert [r.lsn for r in recs1 + recs2] == list(range(1, n + 1))
    assert end2 == os.path.getsize(newer)

    def check(count):
        check_big(e, count)

    e.start()
    assert loaded_records(e.read_log()) == n
    check(n)
    e.kill()
    # Torn tail of the newest segment: cut, the older segment untouched.
    os.truncate(newer, recs2[-1].offset + 100)
    e.start()
    assert "offset %d" % recs2[-1].offset in torn_line(e.read_log(), newer)
    check(n - 1)
    e.kill()
    # The last record of the older segment damaged: corruption, not a tail.
    flip_byte(older, recs1[-1].offset + RECORD_HEADER + 1000)
    rc, out = e.run_expect_exit()
    assert rc == 1 and older in out and "engram-check" in out, out


def test_snapshot_prunes_covered_segments_and_recovery_uses_it(engram):
    """D6: after 64 MB of WAL a background snapshot is taken; once it is
    done, segments wholly covered by it are deleted, and a kill -9 later the
    data comes back from the snapshot plus the WAL after its lsn."""
    e = engram("--save", "")
    fill_big(e, 70)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = e.info()
        if (not info["rdb_bgsave_in_progress"] and os.path.exists(e.dir + "/snap") and
                len(os.listdir(e.wal_dir())) == 1 and os.listdir(e.dir + "/snap")):
            break
        time.sleep(0.1)
    assert info["rdb_last_bgsave_status"] == "ok"
    snaps = os.listdir(e.dir + "/snap")
    assert len(snaps) == 1 and snaps[0].endswith(".snap"), snaps
    snap_lsn = int(snaps[0][:20])
    wal = os.listdir(e.wal_dir())
    assert len(wal) == 1 and int(wal[0][:20]) <= snap_lsn + 1, (wal, snap_lsn)
    with e.client() as c:
        for i in range(70, 75):
            c.set("big%d" % i, (b"%08d" % i) * (MB // 8))
    e.kill()
    e.start()
    log = e.read_log()
    assert "Snapshot" in log and loaded_records(log) == 75 - snap_lsn, log
    check_big(e, 75)


def test_random_damage_is_a_tail_cut_or_a_refusal(engram):
    """D5/D8 over random damage: a flipped bit or a cut anywhere in the
    newest segment. The server never crashes or hangs; damage in the last
    record (or a cut) is truncated at that record's start, damage before it
    refuses the start and leaves the file alone. (Flips in the body-length
    field of an early record are covered by the test above.)"""
    seed = int(os.environ.get("ENGRAM_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    e, path, recs = stopped_with_records(engram, 30)
    last = len(recs) - 1
    with open(path, "rb") as f:
        pristine = f.read()

    def record_at(off):
        return next(j for j, r in enumerate(recs) if r.offset <= off < r.end)

    done = 0
    while done < 24:
        if rng.random() < 0.6:
            off = rng.randrange(len(pristine))
            j = record_at(off) if off >= 32 else -1  # -1: the segment header
            if 0 <= j < last and off - recs[j].offset in (4, 5, 6, 7):
                continue
            damaged = bytearray(pristine)
            damaged[off] ^= 1 << rng.randrange(8)
            what, refuse, torn = "bit flip at %d" % off, j < 0 or j < last, True
        else:
            off = rng.randrange(33, len(pristine))
            j = record_at(off)
            damaged = pristine[:off]
            what, refuse, torn = "cut at %d" % off, False, off != recs[j].offset
        done += 1
        ctx = "%s (ENGRAM_CRASH_SEED=%d)" % (what, seed)
        with open(path, "wb") as f:
            f.write(damaged)
        if refuse:
            rc, out = e.run_expect_exit()
            assert rc == 1, "%s: expected a refusal, got rc %s:\n%s" % (ctx, rc, out)
            assert path in out and "engram-check" in out, ctx + "\n" + out
            with open(path, "rb") as f:
                assert f.read() == damaged, ctx + ": a refused start modified the file"
            continue
        e.start()
        check_keys(e, range(j), range(j, len(recs)))
        assert os.path.getsize(path) == recs[j].offset, ctx
        if torn:
            assert "offset %d" % recs[j].offset in torn_line(e.read_log(), path), ctx
        e.kill()
