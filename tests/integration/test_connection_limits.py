"""
Connection-level limits found in review: a client that kills itself while
its replies are off must still be closed (it would otherwise hold a
maxclients slot forever), and maxclients is fitted to the process's file
descriptor limit at start-up.
"""
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import conftest
from conftest import Server, free_port, read_reply

pytestmark = pytest.mark.skipif(conftest.AGAINST_REDIS, reason="engram-specific limits")


def test_self_kill_with_replies_off_frees_the_slot():
    srv = Server(args=["--maxclients", "3"])
    try:
        for _ in range(5):
            s = srv.raw()
            s.sendall(b"CLIENT ID\r\n")
            cid = int(read_reply(s)[1:-2])
            s.sendall(b"CLIENT REPLY OFF\r\nCLIENT KILL ID %d SKIPME no\r\n" % cid)
            # The server closes the connection although it sends nothing.
            s.settimeout(5)
            assert s.recv(100) == b""
            s.close()
        deadline = time.monotonic() + 5
        while True:
            s = srv.raw()
            s.sendall(b"PING\r\n")
            got = read_reply(s)
            s.close()
            if got == b"+PONG\r\n" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert got == b"+PONG\r\n"
    finally:
        srv.stop()


def test_maxclients_fitted_to_fd_limit():
    d = tempfile.mkdtemp(prefix="engram-test-")
    port = free_port()

    def low_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    proc = subprocess.Popen([conftest.server_binary(), "--port", str(port), "--dir", d],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=low_nofile)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"CONFIG GET maxclients\r\n")
                    got = read_reply(s)
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
        assert got == b"*2\r\n$10\r\nmaxclients\r\n$2\r\n32\r\n"
        # Past the fitted limit: the documented error, never an accept() spin.
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        socks[-1].settimeout(5)
        assert socks[-1].recv(100) == b"-ERR max number of clients reached\r\n"
        for s in socks:
            s.close()
    finally:
        proc.kill()
        out = proc.communicate(timeout=10)[0].decode()
        shutil.rmtree(d, ignore_errors=True)
    assert "maxclients is now 32" in out
