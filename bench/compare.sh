#!/usr/bin/env bash
# bench/compare.sh - throughput and memory comparison: engram vs redis-server.
#
# Starts one engram and one redis-server (persistence off) on free loopback
# ports, runs redis-benchmark against both in the same run (interleaved, engram
# then redis for every row, so both see the same machine noise), measures RSS
# after loading identical data, prints a table and appends it to
# bench/RESULTS.md.
#
# Environment:
#   N            requests per benchmark run (default: 200000 at -P 1,
#                1000000 at -P 16)
#   ENGRAM_BIN   engram binary (default: <repo>/bin/engram-server, built with
#                make if missing)
#   ENGRAM_ARGS  extra arguments for the engram binary (split on whitespace,
#                no quote handling)
#   REDIS_BIN    redis-server binary (default: redis-server from PATH)
#   SKIP_MEMORY  1 = skip the memory measurement
#   QUICK        1 = smoke test: tiny request counts and 10000 keys for memory
#   MEM_KEYS     number of keys for the memory measurement (default 1000000)
#   ROUNDS       runs per server per row, alternating engram/redis; the median
#                is reported (default 1)
#   RESULTS_FILE where to append the results (default: bench/RESULTS.md)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CMDLINE=""
for v in N QUICK SKIP_MEMORY MEM_KEYS ROUNDS ENGRAM_BIN ENGRAM_ARGS REDIS_BIN RESULTS_FILE; do
    if [[ -n "${!v+x}" ]]; then
        CMDLINE+="$v=$(printf '%q' "${!v}") "
    fi
done
CMDLINE+="bench/compare.sh"
if [[ $# -gt 0 ]]; then
    CMDLINE+=" $*"
fi

QUICK=${QUICK:-0}
SKIP_MEMORY=${SKIP_MEMORY:-0}
ROUNDS=${ROUNDS:-1}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: ROUNDS must be a positive integer" >&2; exit 1; }
RESULTS_FILE=${RESULTS_FILE:-$SCRIPT_DIR/RESULTS.md}
REDIS_BIN=${REDIS_BIN:-$(command -v redis-server || true)}
BENCH_BIN=$(command -v redis-benchmark || true)
CLI_BIN=$(command -v redis-cli || true)
CLIENTS=50
KEYSPACE=1000000
TESTS=(set get incr mset)
PIPELINES=(1 16)

if [[ "$QUICK" == 1 ]]; then
    N_P1=${N:-2000}
    N_P16=${N:-20000}
    MEM_KEYS=${MEM_KEYS:-10000}
else
    N_P1=${N:-200000}
    N_P16=${N:-1000000}
    MEM_KEYS=${MEM_KEYS:-1000000}
fi

die() { echo "compare.sh: $*" >&2; exit 1; }
log() { echo "[compare] $*" >&2; }

[[ -n "$REDIS_BIN" && -x "$REDIS_BIN" ]] || die "redis-server not found (set REDIS_BIN)"
[[ -n "$BENCH_BIN" ]] || die "redis-benchmark not found in PATH"
[[ -n "$CLI_BIN" ]] || die "redis-cli not found in PATH"

if [[ -z "${ENGRAM_BIN:-}" ]]; then
    ENGRAM_BIN=$ROOT/bin/engram-server
    if [[ ! -x "$ENGRAM_BIN" ]]; then
        log "building engram: make -C $ROOT"
        make -C "$ROOT" >&2
    fi
fi
[[ -x "$ENGRAM_BIN" ]] || die "engram binary not found or not executable: $ENGRAM_BIN"
ENGRAM_EXTRA=()
if [[ -n "${ENGRAM_ARGS:-}" ]]; then
    read -r -a ENGRAM_EXTRA <<<"$ENGRAM_ARGS"
fi

# ---------------------------------------------------------------- cleanup ---
PIDS=()
TMPDIRS=()
cleanup() {
    local pid i
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for d in "${TMPDIRS[@]}"; do
        rm -rf -- "$d"
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "${TMPDIR:-/tmp}/engram-bench.XXXXXX")
TMPDIRS+=("$WORK")
mkdir -p "$WORK/engram" "$WORK/redis"

# ------------------------------------------------------------------ ports ---
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
free_port() {
    local p tries
    for ((tries = 0; tries < 200; tries++)); do
        p=$((20000 + RANDOM % 40000))
        if ! port_in_use "$p"; then
            echo "$p"
            return 0
        fi
    done
    die "could not find a free port"
}

# ---------------------------------------------------------------- servers ---
wait_ping() { # name pid port logfile
    local name=$1 pid=$2 port=$3 logf=$4 i
    for ((i = 0; i < 100; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$logf" >&2 || true
            die "$name exited during startup (port $port)"
        fi
        if [[ "$("$CLI_BIN" -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" == PONG ]]; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$logf" >&2 || true
    die "$name did not answer PING within 10s (port $port)"
}

E_PORT=$(free_port)
R_PORT=$(free_port)
while [[ "$R_PORT" == "$E_PORT" ]]; do R_PORT=$(free_port); done

"$ENGRAM_BIN" --port "$E_PORT" --bind 127.0.0.1 --dir "$WORK/engram" \
    "${ENGRAM_EXTRA[@]}" >"$WORK/engram.log" 2>&1 &
E_PID=$!
PIDS+=("$E_PID")
"$REDIS_BIN" --port "$R_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK/redis" >"$WORK/redis.log" 2>&1 &
R_PID=$!
PIDS+=("$R_PID")

wait_ping engram "$E_PID" "$E_PORT" "$WORK/engram.log"
wait_ping redis "$R_PID" "$R_PORT" "$WORK/redis.log"
log "engram pid $E_PID port $E_PORT; redis pid $R_PID port $R_PORT"

cli() { # port args...
    local port=$1
    shift
    "$CLI_BIN" -h 127.0.0.1 -p "$port" "$@"
}

ratio() { # a b -> a/b with 2 decimals, or "-"
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b;
        else printf "-" }'
}

rss_mb() { # pid -> VmRSS in MB (1 decimal)
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) printf "n/a" }' \
        "/proc/$1/status" 2>/dev/null || echo n/a
}

# ----------------------------------------------------------------- memory ---
# Measured first, on freshly started servers, so allocator state left behind
# by the throughput runs does not distort the numbers.
MEM_TABLE=""
if [[ "$SKIP_MEMORY" != 1 ]]; then
    log "generating $MEM_KEYS SET commands (16-byte values)"
    awk -v n="$MEM_KEYS" 'BEGIN {
        for (i = 0; i < n; i++) {
            k = "key:" i
            v = sprintf("v%015d", i)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n", length(k), k, v
        }
    }' >"$WORK/load.resp"

    declare -A RSS0 RSS1 DBS
    for who in engram redis; do
        if [[ $who == engram ]]; then port=$E_PORT pid=$E_PID; else port=$R_PORT pid=$R_PID; fi
        cli "$port" flushall >/dev/null || log "$who: FLUSHALL failed"
        sleep 1
        RSS0[$who]=$(rss_mb "$pid")
        log "$who: loading $MEM_KEYS keys with redis-cli --pipe"
        if ! timeout 600 "$CLI_BIN" -h 127.0.0.1 -p "$port" --pipe <"$WORK/load.resp" \
            >"$WORK/pipe.$who.log" 2>&1; then
            log "$who: redis-cli --pipe failed:"
            tail -n 5 "$WORK/pipe.$who.log" >&2 || true
        fi
        grep -E 'errors:' "$WORK/pipe.$who.log" >&2 || true
        sleep 1
        RSS1[$who]=$(rss_mb "$pid")
        DBS[$who]=$(cli "$port" dbsize 2>/dev/null || echo n/a)
        [[ "${DBS[$who]}" =~ ^[0-9]+$ ]] || DBS[$who]=n/a
        cli "$port" flushall >/dev/null || true
    done
    delta() { awk -v a="$1" -v b="$2" 'BEGIN {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/) printf "%.1f", b - a; else printf "n/a" }'; }
    d_e=$(delta "${RSS0[engram]}" "${RSS1[engram]}")
    d_r=$(delta "${RSS0[redis]}" "${RSS1[redis]}")
    MEM_TABLE+="| metric | engram | redis | ratio engram/redis |"$'\n'
    MEM_TABLE+="|---|---:|---:|---:|"$'\n'
    MEM_TABLE+="| DBSIZE after load | ${DBS[engram]} | ${DBS[redis]} | |"$'\n'
    MEM_TABLE+="| RSS empty (MB) | ${RSS0[engram]} | ${RSS0[redis]} | $(ratio "${RSS0[engram]}" "${RSS0[redis]}") |"$'\n'
    MEM_TABLE+="| RSS with $MEM_KEYS keys (MB) | ${RSS1[engram]} | ${RSS1[redis]} | $(ratio "${RSS1[engram]}" "${RSS1[redis]}") |"$'\n'
    MEM_TABLE+="| RSS growth (MB) | $d_e | $d_r | $(ratio "$d_e" "$d_r") |"$'\n'
fi

# ------------------------------------------------------------- throughput ---
# redis-benchmark -q --csv prints a header line and one line per test:
#   "SET","476190.47","1.413",...
bench_rps() { # port test pipeline n -> rps or n/a
    local port=$1 t=$2 p=$3 n=$4 out
    out=$(timeout 600 "$BENCH_BIN" -h 127.0.0.1 -p "$port" -c "$CLIENTS" -P "$p" \
        -n "$n" -r "$KEYSPACE" -t "$t" -q --csv 2>"$WORK/bench.err") || true
    awk -F'"' 'NR > 1 && $2 != "test" && $4 ~ /^[0-9.]+$/ { print $4; found = 1; exit }
               END { if (!found) print "n/a" }' <<<"$out"
}

median() { # values... -> median of the numeric ones, or n/a
    printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) print "n/a";
            else if (NR % 2) print v[(NR + 1) / 2];
            else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

TP_TABLE="| test | pipeline | n | engram rps | redis rps | ratio engram/redis |"$'\n'
TP_TABLE+="|---|---:|---:|---:|---:|---:|"$'\n'
for p in "${PIPELINES[@]}"; do
    if [[ $p == 1 ]]; then n=$N_P1; else n=$N_P16; fi
    for t in "${TESTS[@]}"; do
        es=()
        rs=()
        for ((round = 0; round < ROUNDS; round++)); do
            e=$(bench_rps "$E_PORT" "$t" "$p" "$n")
            [[ $e != n/a ]] || { log "engram $t -P $p failed:"; tail -n 3 "$WORK/bench.err" >&2 || true; }
            r=$(bench_rps "$R_PORT" "$t" "$p" "$n")
            [[ $r != n/a ]] || { log "redis $t -P $p failed:"; tail -n 3 "$WORK/bench.err" >&2 || true; }
            log "$t -P $p: engram $e, redis $r"
            es+=("$e")
            rs+=("$r")
        done
        e=$(median "${es[@]}")
        r=$(median "${rs[@]}")
        TP_TABLE+="| ${t^^} | $p | $n | $e | $r | $(ratio "$e" "$r") |"$'\n'
    done
done

# ----------------------------------------------------------------- report ---
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [[ "$GIT" != "no commit" ]] && ! git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null; then
    GIT+="-dirty"
fi
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
MACHINE="$(nproc) x ${CPU:-unknown cpu}"
REDIS_VER=$("$REDIS_BIN" --version 2>/dev/null |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^v=/) { print "redis-server " substr($i, 3); exit } }' || true)
TITLE="$DATE, $GIT, $MACHINE"
[[ "$QUICK" != 1 ]] || TITLE+=" (QUICK smoke run, numbers not meaningful)"

REPORT="## $TITLE"$'\n\n'
REPORT+="Command: \`$CMDLINE\`"$'\n\n'
REPORT+="redis-benchmark per row: \`redis-benchmark -c $CLIENTS -P <pipeline> -n <n> -r $KEYSPACE -t <test> -q --csv\`"
REPORT+=" (engram, then redis; median of $ROUNDS round(s)). Reference: ${REDIS_VER:-redis-server} with \`--save '' --appendonly no\`."$'\n\n'
REPORT+="$TP_TABLE"
if [[ -n "$MEM_TABLE" ]]; then
    REPORT+=$'\n'"Memory: $MEM_KEYS keys \`key:<i>\` with 16-byte values loaded with \`redis-cli --pipe\`; VmRSS from /proc/<pid>/status."$'\n\n'
    REPORT+="$MEM_TABLE"
fi

echo
echo "$REPORT"

if [[ ! -f "$RESULTS_FILE" ]]; then
    cat >"$RESULTS_FILE" <<'INTRO'
# Benchmark results

engram compared with redis-server (persistence off) on the same machine, in
the same run, by `bench/compare.sh`. Each section below is one run, appended
by the script; ratios above 1.00 mean engram is faster (throughput) or uses
more memory (RSS). See bench/README.md for how to run it.
INTRO
fi
{
    echo
    printf '%s' "$REPORT"
} >>"$RESULTS_FILE"
log "appended results to $RESULTS_FILE"
