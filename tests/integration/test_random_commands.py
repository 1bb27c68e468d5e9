"""
test_random_commands.py - the server survives random command lines.

Design
  A seeded generator sends thousands of collection, transaction and
  keyspace commands with arguments drawn from a vocabulary of edge values
  (infinities, NaN, -0, int64 limits, option words, long members) and
  checks, every 50 commands, that the server still answers. It found the
  NaN-in-ZINTER abort of the sorted-set work; any ASSERT reachable from the
  network is a denial of service. Replies are not compared (the
  differential tests against Redis do that); this test is about staying up.
  Blocking commands get short timeouts so nothing waits for long.

Invariants
  Bounded: a fixed number of commands per seed, socket timeouts on every
  read.
"""
import random
import time

import pytest

import conftest

COMMANDS = """HSET HSETNX HMSET HGET HMGET HGETALL HDEL HLEN HSTRLEN HEXISTS HKEYS HVALS
HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN
LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE
RPOPLPUSH LMPOP BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE
ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE
ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX
ZMPOP BZPOPMIN BZPOPMAX BZMPOP ZRANDMEMBER ZUNION ZUNIONSTORE ZINTER ZINTERSTORE ZINTERCARD
ZDIFF ZDIFFSTORE ZSCAN MULTI EXEC DISCARD WATCH UNWATCH SET GET DEL INCR APPEND EXPIRE
RENAME COPY MOVE SWAPDB SELECT TYPE OBJECT""".split()

WORDS = ["k1", "k2", "k3", "s", "z", "l", "h", "-1", "0", "1", "2", "3", "5", "-5", "100",
         "inf", "-inf", "+inf", "nan", "(1", "[a", "(b", "-", "+", "a", "b", "c", "x" * 70,
         "1.5", "1e300", "-0", "9223372036854775807", "-9223372036854775808", "LEFT", "RIGHT",
         "MIN", "MAX", "COUNT", "LIMIT", "WITHSCORES", "WITHVALUES", "BYSCORE", "BYLEX", "REV",
         "WEIGHTS", "AGGREGATE", "SUM", "NX", "XX", "GT", "LT", "CH", "INCR", "MATCH", "*",
         "BEFORE", "AFTER", "RANK", "MAXLEN", "DB", "REPLACE", "ENCODING", ""]

PER_SEED = 4000


@pytest.mark.skipif(conftest.AGAINST_REDIS, reason="about engram staying up")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_command_lines_keep_the_server_up(server, seed):
    rng = random.Random(seed)
    s = server.raw(timeout=10)
    try:
        for n in range(1, PER_SEED + 1):
            name = rng.choice(COMMANDS)
            args = [name] + [rng.choice(WORDS) for _ in range(rng.randint(0, 7))]
            if name.startswith("B"):
                args.append("0.01")
                if name in ("BLMPOP", "BZMPOP") and len(args) > 1:
                    args[1] = "0.01"  # their timeout comes first
            s.sendall(conftest.encode_command(*args))
            if n % 50 == 0:
                # EXEC ends a transaction the random lines may have opened.
                s.sendall(conftest.encode_command("EXEC") + conftest.encode_command("PING"))
                data = b""
                deadline = time.monotonic() + 10
                while not data.endswith(b"+PONG\r\n"):
                    assert time.monotonic() < deadline, "no PONG after %d commands" % n
                    chunk = s.recv(1 << 20)
                    assert chunk, "the server closed the connection after %d commands" % n
                    data += chunk
    finally:
        s.close()
    assert server.client().ping()
