# bench/lib.sh - helpers shared by the benchmark scripts (sourced, not run).
#
# The sourcing script sets PROG (name used in messages) and then calls
# lib_init, which finds redis-server / redis-benchmark / redis-cli, builds
# engram with make unless ENGRAM_BIN is set, creates the scratch directory
# $WORK and installs the cleanup trap. Servers started with start_engram /
# start_redis and background loads started with start_bg are stopped on exit.
# shellcheck shell=bash

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LIB_DIR/.." && pwd)
PROG=${PROG:-bench}

die() { echo "$PROG: $*" >&2; exit 1; }
log() { echo "[$PROG] $*" >&2; }

# ------------------------------------------------------------------ tools ---
lib_init() {
    REDIS_BIN=${REDIS_BIN:-$(command -v redis-server || true)}
    BENCH_BIN=$(command -v redis-benchmark || true)
    CLI_BIN=$(command -v redis-cli || true)
    [[ -n "$REDIS_BIN" && -x "$REDIS_BIN" ]] || die "redis-server not found (set REDIS_BIN)"
    [[ -n "$BENCH_BIN" ]] || die "redis-benchmark not found in PATH"
    [[ -n "$CLI_BIN" ]] || die "redis-cli not found in PATH"

    if [[ -z "${ENGRAM_BIN:-}" ]]; then
        # Always run make (a no-op when up to date): benchmarking a stale
        # bin/engram-server is an easy mistake to make and to miss.
        ENGRAM_BIN=$ROOT/bin/engram-server
        log "building engram: make -C $ROOT"
        make --no-print-directory -C "$ROOT" >&2 || die "make failed"
    fi
    [[ -x "$ENGRAM_BIN" ]] || die "engram binary not found or not executable: $ENGRAM_BIN"
    ENGRAM_EXTRA=()
    if [[ -n "${ENGRAM_ARGS:-}" ]]; then
        read -r -a ENGRAM_EXTRA <<<"$ENGRAM_ARGS"
    fi

    trap lib_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/engram-bench.XXXXXX")
    TMPDIRS+=("$WORK")
}

# ---------------------------------------------------------------- cleanup ---
declare -A LIVE=() # pid -> label, every process this script started and has not stopped
TMPDIRS=()

stop_pid() { # pid: SIGTERM, wait up to 5 s, then SIGKILL
    local pid=$1 i
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "LIVE[$pid]"
}

lib_cleanup() {
    local pid d
    for pid in "${!LIVE[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${!LIVE[@]}"; do
        stop_pid "$pid"
    done
    for d in "${TMPDIRS[@]}"; do
        rm -rf -- "$d"
    done
}

# ------------------------------------------------------------------ ports ---
declare -A USED_PORTS=()
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# Ports below the kernel's ephemeral range (ip_local_port_range, 32768 by
# default), so no client connection can take one between this check and the
# server's bind (seen: "Address already in use" at start-up).
free_port() {
    local p tries low=32768
    [[ ! -r /proc/sys/net/ipv4/ip_local_port_range ]] ||
        read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    ((low > 11000)) || low=32768
    for ((tries = 0; tries < 200; tries++)); do
        p=$((10000 + RANDOM % (low - 10000)))
        if [[ -z "${USED_PORTS[$p]:-}" ]] && ! port_in_use "$p"; then
            USED_PORTS[$p]=1
            echo "$p"
            return 0
        fi
    done
    die "could not find a free port"
}

# ---------------------------------------------------------------- servers ---
# Each server has a name; PORT[name], PID[name], DIR[name] describe it.
declare -A PORT=() PID=() DIR=()

wait_ping() { # name
    local name=$1 i
    local pid=${PID[$name]} port=${PORT[$name]} logf=$WORK/$name.log
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

# start_engram name [args...]: engram with its data dir in $WORK/name. The
# ENGRAM_ARGS words come last, so they override the script's own options.
start_engram() {
    local name=$1
    shift
    PORT[$name]=$(free_port)
    DIR[$name]=$WORK/$name
    mkdir -p "${DIR[$name]}"
    "$ENGRAM_BIN" --port "${PORT[$name]}" --bind 127.0.0.1 --dir "${DIR[$name]}" \
        "$@" "${ENGRAM_EXTRA[@]}" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    LIVE[$!]=$name
}

# start_redis name [args...]: redis-server with its data dir in $WORK/name.
start_redis() {
    local name=$1
    shift
    PORT[$name]=$(free_port)
    DIR[$name]=$WORK/$name
    mkdir -p "${DIR[$name]}"
    "$REDIS_BIN" --port "${PORT[$name]}" --bind 127.0.0.1 --dir "${DIR[$name]}" \
        "$@" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    LIVE[$!]=$name
}

stop_server() { # name
    stop_pid "${PID[$1]}"
}

cli() { # name args...
    local name=$1
    shift
    "$CLI_BIN" -h 127.0.0.1 -p "${PORT[$name]}" "$@"
}

info_field() { # name section field -> value, or n/a
    local v
    v=$(cli "$1" info "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2; exit }')
    echo "${v:-n/a}"
}

config_value() { # name parameter -> value, or n/a
    local v
    v=$(cli "$1" config get "$2" 2>/dev/null | sed -n 2p)
    echo "${v:-n/a}"
}

# commandstat_calls name command -> calls so far (0 if never called)
commandstat_calls() {
    cli "$1" info commandstats 2>/dev/null | tr -d '\r' |
        awk -F'[:=,]' -v c="cmdstat_$2" '$1 == c { print $3; found = 1; exit }
                                          END { if (!found) print 0 }'
}

rss_mb() { # pid -> VmRSS in MB (1 decimal)
    awk '/^VmRSS:/ { printf "%.1f", $2 / 1024; found = 1 } END { if (!found) printf "n/a" }' \
        "/proc/$1/status" 2>/dev/null || echo n/a
}

# -------------------------------------------------------------- benchmark ---
# redis-benchmark -q --csv prints a header line and one line per test:
#   "SET","476190.47","1.413",...
#
# It also writes "client server" to $WORK/cpu.<name> (bench_rps runs in a
# subshell, so a file is how the caller gets it): client = the share of one
# core redis-benchmark used over its run (near 1.00 means the single-threaded
# client, not the server, set the pace), server = the server's CPU time
# (all threads, user + system) per request in microseconds. n/a if unknown.
bench_rps() { # name test pipeline n [clients] -> rps or n/a
    local name=$1 t=$2 p=$3 n=$4 c=${5:-$CLIENTS} out rps times s0 s1
    s0=$(proc_cpu_ticks "${PID[$name]:-}")
    out=$({ TIMEFORMAT='%U %S %R'; time timeout 600 "$BENCH_BIN" -h 127.0.0.1 -p "${PORT[$name]}" \
        -c "$c" -P "$p" -n "$n" -r "$KEYSPACE" -t "$t" -q --csv 2>"$WORK/bench.err"; } \
        2>"$WORK/bench.time") || true
    s1=$(proc_cpu_ticks "${PID[$name]:-}")
    rps=$(awk -F'"' 'NR > 1 && $2 != "test" && $4 ~ /^[0-9.]+$/ { print $4; found = 1; exit }
                     END { if (!found) print "n/a" }' <<<"$out")
    if [[ $rps == n/a ]]; then
        log "$name: redis-benchmark -t $t -P $p failed:"
        tail -n 3 "$WORK/bench.err" >&2 || true
    fi
    times=$(tail -n 1 "$WORK/bench.time" 2>/dev/null || true)
    awk -v t="$times" -v s0="$s0" -v s1="$s1" -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN {
        split(t, f, " ")
        if (f[3] + 0 > 0) client = sprintf("%.2f", (f[1] + f[2]) / f[3]); else client = "n/a"
        if (s0 ~ /^[0-9]+$/ && s1 ~ /^[0-9]+$/ && n > 0) server = sprintf("%.1f", (s1 - s0) / hz * 1e6 / n)
        else server = "n/a"
        print client, server }' >"$WORK/cpu.$name"
    echo "$rps"
}

proc_cpu_ticks() { # pid -> utime + stime of the whole process in clock ticks, or n/a
    [[ -n "$1" ]] || { echo n/a; return; }
    # The command name (field 2) may hold spaces; count fields after its ')'.
    sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13; found = 1 }
        END { if (!found) print "n/a" }'
}

# bench_cpu name -> "client server" of the last bench_rps on that server
bench_cpu() { cat "$WORK/cpu.$1" 2>/dev/null || echo "n/a n/a"; }

# CPU of one table row over its rounds: cpu_reset the servers, cpu_add after
# each bench_rps, then cpu_header / cpu_cells give the markdown: per server
# the median client core share and server CPU us per request.
declare -A CPU_CLIENT=() CPU_SERVER=()
cpu_reset() { local s; for s in "$@"; do CPU_CLIENT[$s]="" CPU_SERVER[$s]=""; done; }
cpu_add() {
    local c v
    read -r c v <<<"$(bench_cpu "$1")"
    CPU_CLIENT[$1]+="$c " CPU_SERVER[$1]+="$v "
}
cpu_header() { # servers... -> the header and separator lines of a CPU table
    local s head="| test | pipeline |" sep="|---|---:|"
    for s in "$@"; do head+=" $s client core | $s server us/req |" sep+="---:|---:|"; done
    printf '%s\n%s\n' "$head" "$sep"
}
cpu_cells() { # servers... -> " a | b | ..." cells for one row
    local s out=""
    # shellcheck disable=SC2086 # word splitting of the value lists is intended
    for s in "$@"; do out+=" $(median ${CPU_CLIENT[$s]}) | $(median ${CPU_SERVER[$s]}) |"; done
    echo "$out"
}
# shellcheck disable=SC2034 # used by the scripts that source this file
CPU_NOTE="CPU per row (medians over the rounds): client core = CPU time of the single-threaded redis-benchmark / its wall time; near 1.00 the client's one core, not the server, limited the rate; server us/req = the server's CPU time, all threads, user + system, over the run / requests."

# start_bg name test clients pipeline: an open-ended redis-benchmark load
# (stopped with stop_bg; at most 20 minutes in any case). Sets BG_PID.
start_bg() {
    local name=$1 t=$2 c=$3 p=$4
    "$BENCH_BIN" -h 127.0.0.1 -p "${PORT[$name]}" -c "$c" -P "$p" -n 2000000000 \
        -r "$KEYSPACE" -t "$t" -q >/dev/null 2>"$WORK/bg.err" &
    BG_PID=$!
    LIVE[$BG_PID]="load on $name"
}

stop_bg() { # pid
    kill -0 "$1" 2>/dev/null || { log "background load $1 died early:"; tail -n 3 "$WORK/bg.err" >&2 || true; }
    stop_pid "$1"
}

now_s() { date +%s.%N; }

# ----------------------------------------------------------------- numbers ---
median() { # values... -> median of the numeric ones, or n/a
    printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) print "n/a";
            else if (NR % 2) print v[(NR + 1) / 2];
            else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { # a b -> a/b with 2 decimals, or "-"
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b;
        else printf "-" }'
}

rate() { # count seconds -> count/seconds with 2 decimals, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b;
        else printf "n/a" }'
}

delta() { # a b -> b - a, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a ~ /^-?[0-9.]+$/ && b ~ /^-?[0-9.]+$/) printf "%.1f", b - a; else printf "n/a" }'
}

# rotate k items... -> the items starting at index k mod count, one per line
rotate() {
    local k=$1
    shift
    local n=$# i
    local items=("$@")
    for ((i = 0; i < n; i++)); do
        echo "${items[$(((k + i) % n))]}"
    done
}

# ----------------------------------------------------------------- report ---
report_title() { # -> "date, git, machine"
    local date git cpu
    date=$(date -u '+%Y-%m-%d %H:%M UTC')
    git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
    if [[ "$git" != "no commit" ]] && ! git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null; then
        git+="-dirty"
    fi
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
    echo "$date, $git, $(nproc) x ${cpu:-unknown cpu}"
}

redis_version() {
    "$REDIS_BIN" --version 2>/dev/null |
        awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^v=/) { print "redis-server " substr($i, 3); exit } }' ||
        true
}

fs_desc() { # path -> "fstype on device"
    findmnt -n -o FSTYPE,SOURCE -T "$1" 2>/dev/null | awk '{ print $1 " on " $2 }' ||
        df -P "$1" | awk 'NR == 2 { print $1 }'
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

append_results() { # file report
    local file=$1 report=$2
    if [[ ! -f "$file" ]]; then
        cat >"$file" <<'INTRO'
# Benchmark results

engram compared with redis-server on the same machine, in the same run, by
`bench/compare.sh`. Each section below is one run, appended by the script;
ratios above 1.00 mean engram is faster (throughput) or uses more memory
(RSS). See bench/README.md for how to run it.
INTRO
    fi
    {
        echo
        printf '%s' "$report"
    } >>"$file"
}
