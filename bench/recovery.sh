#!/usr/bin/env bash
# bench/recovery.sh - how fast engram comes back after a crash.
#
# Loads N keys (default 1,000,000 SETs of 16-byte values over a 100M-key
# random space, so nearly all keys are distinct) into a fresh engram with
# automatic snapshots off, kill -9s it, and restarts it twice:
#   1. WAL only: every record is replayed (target: >= 1M records/s);
#   2. after BGSAVE + kill -9: the snapshot is loaded (target: 1M keys < 1 s).
# Prints the server's own "loaded" log lines and appends them to
# bench/RESULTS.md. Starts only its own servers, on a free port, in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
BIN=${ENGRAM_BIN:-bin/engram-server}
[ -n "${ENGRAM_BIN:-}" ] || make -s release >/dev/null
WORK=$(mktemp -d /tmp/engram-recovery.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')

start() { # logfile
    "$BIN" --port "$PORT" --bind 127.0.0.1 --dir "$WORK/data" --save "" \
        --wal-snapshot-bytes 100gb >"$1" 2>&1 &
    PID=$!
    for _ in $(seq 1 600); do
        # PING answers during loading too: wait for loading:0.
        redis-cli -p "$PORT" info persistence 2>/dev/null | grep -q '^loading:0' && return 0
        sleep 0.05
    done
    echo "server did not start" >&2; cat "$1" >&2; exit 1
}

start "$WORK/load.log"
redis-benchmark -p "$PORT" -t set -n "$N" -r 100000000 -d 16 -c 50 -P 32 -q >/dev/null 2>&1
keys=$(redis-cli -p "$PORT" dbsize)
kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=
start "$WORK/wal.log"
wal_line=$(grep "DB loaded from WAL" "$WORK/wal.log" | sed 's/^.* \* //')
redis-cli -p "$PORT" bgsave >/dev/null
for _ in $(seq 1 600); do
    [ "$(redis-cli -p "$PORT" info persistence | tr -d '\r' | grep -c '^rdb_bgsave_in_progress:0')" = 1 ] && break
    sleep 0.1
done
kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=
start "$WORK/snap.log"
snap_line=$(grep "Snapshot .* loaded" "$WORK/snap.log" | sed 's/^.* \* //; s#/tmp/[^ ]*/##')
kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=

report=$(cat <<EOR

## Recovery, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo no-commit), $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')

Command: \`N=$N bench/recovery.sh\` ($N SETs, $keys distinct keys, kill -9 then restart).

- WAL replay: $wal_line
- Snapshot load: $snap_line
EOR
)
echo "$report"
echo "$report" >> bench/RESULTS.md
