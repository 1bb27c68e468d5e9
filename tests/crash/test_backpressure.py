"""
Back-pressure (STYLE.md C10): when the disk is slower than the clients, the
batch of records waiting for the WAL thread is bounded (WAL_OPEN_BYTES_MAX,
64 MB): the loop stops executing a client's commands until the batch has
been handed over, and every acknowledged write is still there after kill -9.
"""
import socket
import threading
import time

import pytest

from crashutil import encode, skip_against_redis
from crashutil import engram  # noqa: F401 (fixture)

pytestmark = skip_against_redis

LIMIT = 64 * 1024 * 1024


def test_open_batch_is_bounded_on_a_slow_disk(engram):
    e = engram()
    with e.client() as c:
        assert c.execute_command("DEBUG", "ERRINJ", "wal-fsync-delay", "1500") in (b"OK", "OK", True)
    value = b"v" * (1024 * 1024)
    n = 200  # 200 MB of SETs in one pipeline: well past the limit
    payload = b"".join(encode("SET", "big:%d" % i, value) for i in range(n))
    s = socket.create_connection(("127.0.0.1", e.port), timeout=120)
    sender = threading.Thread(target=s.sendall, args=(payload,))
    sender.start()
    got = b""
    deadline = time.monotonic() + 120
    while got.count(b"+OK\r\n") < n and time.monotonic() < deadline:
        got += s.recv(65536)
    sender.join(timeout=60)
    s.close()
    assert got.count(b"+OK\r\n") == n
    with e.client() as c:
        peak = int(e.info()["wal_open_bytes_peak"])
        # One record may go over the line before the check: 1 MB + header.
        print("wal_open_bytes_peak", peak)
        assert peak <= LIMIT + 2 * 1024 * 1024, peak
        assert peak > 0
        c.execute_command("DEBUG", "ERRINJ", "wal-fsync-delay", "off")
    e.kill()
    e.start(timeout=120)
    with e.client() as c:
        assert c.dbsize() == n
        assert c.strlen("big:%d" % (n - 1)) == len(value)
