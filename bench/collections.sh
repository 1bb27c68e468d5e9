#!/usr/bin/env bash
# bench/collections.sh - collections (issue 5): list, set, hash and sorted-set
# throughput and memory, engram vs redis-server.
#
# Throughput: redis-benchmark's collection tests,
#     redis-benchmark -c 50 -P <1|16> -n <n> -q --csv -t <test>
# for lpush, rpush, lpop, rpop, sadd, hset, spop, zadd, zpopmin and
# lrange_100,lrange_600 (one run: redis-benchmark first fills mylist with n
# LPUSHes, reported as "LPUSH (LRANGE fill)", then runs the two LRANGEs), on
# two like-for-like pairs, each freshly started on free loopback ports with
# its data dir in a scratch dir under ${TMPDIR:-/tmp}:
#   durable  engram with its defaults (appendonly yes, appendfsync always)
#            vs redis-server --appendonly yes --appendfsync always --save ''
#   off      engram --appendonly no vs redis-server --appendonly no --save ''
# One test at a time, in the order above, so each sees the state the ones
# before it left (the pops drain the lists the pushes filled, SPOP and ZPOPMIN
# pop what SADD and ZADD added, exactly as in a single redis-benchmark run
# with all the tests); the two servers of a pair take turns for every test
# (interleaved, so both see the same machine noise), and both are flushed
# before each round. Without -r (the default, as in issue 5's command) all
# requests of a test use the same key and the same member: SADD, SPOP, ZADD
# and ZPOPMIN then change data only on their first request (neither server
# logs the no-ops), so only LPUSH/RPUSH/LPOP/RPOP/HSET and the LRANGE fill are
# durable writes. RANDOM_KEYS=<k> adds -r <k> (random members for SADD, HSET
# fields, ZADD members and scores). A row counts as a durable write when
# redis's change counter (rdb_changes_since_last_save) grew by at least n/2
# during it; target engram/redis >= 1.5 on those rows of the durable pair,
# >= 1.0 on every other row. The durable table also shows engram's WAL
# records and fsyncs for each test.
#
# Errors: redis-benchmark 7 exits at the first error reply; its exit status
# and stderr are checked after every run, the servers' PIDs are checked for
# crashes after every run, and INFO stats total_error_replies is compared
# before and after each pair.
#
# Memory: MEM_KEYS (100000) hashes h:<i> of 10 fields (HSET h:<i> f0 <v> ..
# f9 <v>, 8-byte values) and, separately, MEM_KEYS sorted sets z:<i> of 10
# members (ZADD z:<i> 0 m0:<i> .. 9 m9:<i>), each loaded with redis-cli --pipe
# into a freshly started engram --appendonly no and redis-server --appendonly
# no --save ''; VmRSS growth, ratio engram/redis (target <= 1.2), DBSIZE,
# HLEN/ZCARD of the last key and OBJECT ENCODING of h:0 / z:0 on each side.
#
# Prints the tables and appends them to bench/RESULTS.md ("Collections
# (issue 5)"). A default run takes about 5 minutes on the 2-core dev VM.
#
# Usage: bench/collections.sh [--all | --durable | --off | --memory]
#
# Environment:
#   MODE          all (default), durable, off or memory; the flags set it too
#                 (durable/off: that throughput pair only, memory: memory only)
#   N             requests per redis-benchmark run, every row (default: 50000
#                 at -P 1, 1000000 at -P 16: a -P 16 run at 200000 lasted
#                 about 0.3 s, too short to read a ratio from)
#   ROUNDS        runs per server per row, server order rotating per round;
#                 the median is reported (default 1)
#   QUICK         1 = smoke test: tiny request counts and 10000 keys for memory
#   RANDOM_KEYS   if set, pass -r RANDOM_KEYS to redis-benchmark
#   SKIP_MEMORY   1 = skip the memory measurement
#   MEM_KEYS      number of hashes / sorted sets for the memory measurement
#                 (default 100000)
#   ENGRAM_BIN    engram binary (default: <repo>/bin/engram-server, brought up
#                 to date with make first)
#   ENGRAM_ARGS   extra arguments for every engram started (come last and so
#                 override the script's own options)
#   REDIS_BIN     redis-server binary (default: redis-server from PATH)
#   RESULTS_FILE  where to append the results (default: bench/RESULTS.md)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=collections.sh
# shellcheck source=bench/lib.sh
source "$SCRIPT_DIR/lib.sh"

CMDLINE=""
for v in MODE N QUICK ROUNDS RANDOM_KEYS SKIP_MEMORY MEM_KEYS ENGRAM_BIN ENGRAM_ARGS REDIS_BIN \
    RESULTS_FILE; do
    if [[ -n "${!v+x}" ]]; then
        CMDLINE+="$v=$(printf '%q' "${!v}") "
    fi
done
CMDLINE+="bench/collections.sh"
if [[ $# -gt 0 ]]; then
    CMDLINE+=" $*"
fi

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

MODE=${MODE:-all}
for arg in "$@"; do
    case $arg in
    --all) MODE=all ;;
    --durable) MODE=durable ;;
    --off | --persistence-off) MODE=off ;;
    --memory) MODE=memory ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done
case $MODE in
all | durable | off | memory) ;;
persistence-off | nopersist) MODE=off ;;
*) die "MODE must be all, durable, off or memory (got '$MODE')" ;;
esac

QUICK=${QUICK:-0}
SKIP_MEMORY=${SKIP_MEMORY:-0}
ROUNDS=${ROUNDS:-1}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
RESULTS_FILE=${RESULTS_FILE:-$SCRIPT_DIR/RESULTS.md}
CLIENTS=50
PIPELINES=(1 16)
# One redis-benchmark run per entry, in this order (state carries over).
TEST_RUNS=(lpush rpush lpop rpop sadd hset spop zadd zpopmin "lrange_100,lrange_600")
# Report rows, in order (names as printed by redis-benchmark, shortened).
ROWS=(LPUSH RPUSH LPOP RPOP SADD HSET SPOP ZADD ZPOPMIN "LPUSH (LRANGE fill)" LRANGE_100 LRANGE_600)

RARGS=()
if [[ -n "${RANDOM_KEYS:-}" ]]; then
    [[ "$RANDOM_KEYS" =~ ^[1-9][0-9]*$ ]] || die "RANDOM_KEYS must be a positive integer"
    RARGS=(-r "$RANDOM_KEYS")
fi

if [[ "$QUICK" == 1 ]]; then
    N_P1=${N:-2000}
    N_P16=${N:-10000}
    MEM_KEYS=${MEM_KEYS:-10000}
else
    N_P1=${N:-50000}
    N_P16=${N:-1000000}
    MEM_KEYS=${MEM_KEYS:-100000}
fi
[[ "$MEM_KEYS" =~ ^[1-9][0-9]*$ ]] || die "MEM_KEYS must be a positive integer"

RUN_MEM=0 RUN_DURABLE=0 RUN_OFF=0
case $MODE in
all) RUN_MEM=1 RUN_DURABLE=1 RUN_OFF=1 ;;
durable) RUN_DURABLE=1 ;;
off) RUN_OFF=1 ;;
memory) RUN_MEM=1 ;;
esac
[[ "$SKIP_MEMORY" != 1 ]] || RUN_MEM=0

lib_init
T_START=$(now_s)
LOAD_START=$(loadavg)
log "mode $MODE, scratch dir $WORK ($(fs_desc "$WORK"))"

PROBLEMS=() # error replies, failed runs and crashes, for the report
problem() {
    log "PROBLEM: $*"
    PROBLEMS+=("$*")
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

# check_alive name: note a crash (once) and show the end of its log.
declare -A CRASHED=()
check_alive() {
    local s=$1
    [[ -z "${CRASHED[$s]:-}" ]] || return 1
    if ! alive "$s"; then
        CRASHED[$s]=1
        local st=""
        wait "${PID[$s]}" 2>/dev/null || st=$?
        problem "$s (pid ${PID[$s]}) is gone (exit status ${st:-0}); end of its log: $(tail -n 5 "$WORK/$s.log" 2>/dev/null | tr '\n' ' ')"
        unset "LIVE[${PID[$s]}]"
        return 1
    fi
    return 0
}

stat_field() { # name section field -> value, or n/a (also when the server is gone)
    alive "$1" || { echo n/a; return; }
    info_field "$@"
}

# ================================================================ throughput
# run_tests name tests pipeline n: one redis-benchmark run; sets RUN_RPS[row]
# for every row it printed, and RUN_CLIENT to the share of a core the client
# used over the run (as bench_rps in lib.sh); returns non-zero if it failed.
declare -A RUN_RPS=()
RUN_CLIENT=n/a
run_tests() {
    local name=$1 t=$2 p=$3 n=$4 rc=0 line row rps
    RUN_RPS=()
    RUN_CLIENT=n/a
    check_alive "$name" || return 1
    { TIMEFORMAT='%U %S %R'; time timeout 600 "$BENCH_BIN" -h 127.0.0.1 -p "${PORT[$name]}" \
        -c "$CLIENTS" -P "$p" -n "$n" "${RARGS[@]}" -t "$t" -q --csv >"$WORK/bench.out" \
        2>"$WORK/bench.err" || rc=$?; } 2>"$WORK/bench.time"
    RUN_CLIENT=$(tail -n 1 "$WORK/bench.time" | awk '{ if ($3 + 0 > 0) printf "%.2f", ($1 + $2) / $3; else printf "n/a" }')
    while IFS= read -r line; do
        [[ $line =~ ^\"([^\"]+)\",\"([0-9.]+)\" ]] || continue
        row=${BASH_REMATCH[1]}
        rps=${BASH_REMATCH[2]}
        case $row in
        "LPUSH (needed to benchmark LRANGE)") row="LPUSH (LRANGE fill)" ;;
        LRANGE_*) row=${row%% *} ;;
        esac
        RUN_RPS[$row]=$rps
    done <"$WORK/bench.out"
    local err
    err=$(grep -v -E '^WARNING: Could not fetch server CONFIG$' "$WORK/bench.err" | tr '\n' ' ' || true)
    if [[ $rc != 0 || -n "$err" || ${#RUN_RPS[@]} == 0 ]]; then
        problem "$name: redis-benchmark -t $t -P $p -n $n exited $rc: ${err:-no output}"
        check_alive "$name" || true
        return 1
    fi
    check_alive "$name" || return 1
    return 0
}

ecount() { # before after -> after - before as an integer, or n/a
    if [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]]; then echo $(($2 - $1)); else echo n/a; fi
}

row_target() { # pair row is_write -> target ratio
    if [[ $1 == durable && $3 == 1 ]]; then echo 1.50; else echo 1.00; fi
}

meets() { # ratio target -> yes / NO / -
    awk -v r="$1" -v t="$2" 'BEGIN {
        if (r !~ /^[0-9.]+$/) print "-"; else if (r + 0 >= t + 0) print "yes"; else print "**NO**" }'
}

declare -A REPORT_PAIR=()
SUMMARY_BELOW=() # rows below target
# Medians kept for the ceiling table: MED[pair|engram|p|row], MED[pair|redis|p|row],
# and DURABLE_WRITES = "p|row" keys of the durable pair's durable-write rows.
declare -A MED=()
DURABLE_WRITES=()

# run_pair pair: pair is durable or off.
run_pair() {
    local pair=$1 e r
    e=engram-$pair
    r=redis-$pair
    if [[ $pair == durable ]]; then
        start_engram "$e"
        start_redis "$r" --appendonly yes --appendfsync always --save ''
    else
        start_engram "$e" --appendonly no
        start_redis "$r" --appendonly no --save ''
    fi
    wait_ping "$e"
    wait_ping "$r"
    log "$pair: $e pid ${PID[$e]} port ${PORT[$e]}; $r pid ${PID[$r]} port ${PORT[$r]}"
    local e_aof e_fsync r_aof r_fsync
    e_aof=$(info_field "$e" persistence aof_enabled)
    e_fsync=$(info_field "$e" persistence appendfsync)
    r_aof=$(config_value "$r" appendonly)
    r_fsync=$(config_value "$r" appendfsync)
    if [[ $pair == durable ]]; then
        [[ $e_aof == 1 && $e_fsync == always ]] ||
            log "warning: $e runs with aof_enabled:$e_aof appendfsync:$e_fsync, not the durable default"
        [[ $r_aof == yes && $r_fsync == always ]] || die "$r runs with appendonly $r_aof appendfsync $r_fsync"
    else
        [[ $e_aof == 0 ]] || log "warning: $e has aof_enabled:$e_aof in the persistence-off pair"
        [[ $r_aof == no ]] || die "$r runs with appendonly $r_aof"
    fi
    local -A err0=() err1=()
    local s
    for s in "$e" "$r"; do err0[$s]=$(stat_field "$s" stats total_error_replies); done

    # vals[server|p|row] = rps list; wal/fs[p|row] = engram WAL deltas;
    # chg[p|row] = redis change-counter deltas (one list entry per round)
    local -A vals=() walr=() walf=() chg=() got=() core=()
    local p n round t row k
    for p in "${PIPELINES[@]}"; do
        if [[ $p == 1 ]]; then n=$N_P1; else n=$N_P16; fi
        for ((round = 0; round < ROUNDS; round++)); do
            for s in "$e" "$r"; do
                check_alive "$s" && { cli "$s" flushall >/dev/null || problem "$s: FLUSHALL failed"; }
            done
            for t in "${TEST_RUNS[@]}"; do
                local l0="" f0="" c0="" wrow msg
                wrow=${t^^}
                [[ $t != lrange* ]] || wrow="LPUSH (LRANGE fill)"
                got=()
                for s in $(rotate "$round" "$e" "$r"); do
                    if [[ $s == "$e" ]]; then
                        l0=$(stat_field "$s" persistence wal_lsn)
                        f0=$(stat_field "$s" persistence wal_fsyncs)
                    else
                        c0=$(stat_field "$s" persistence rdb_changes_since_last_save)
                    fi
                    run_tests "$s" "$t" "$p" "$n" || true
                    for row in "${!RUN_RPS[@]}"; do
                        vals["$s|$p|$row"]+="${RUN_RPS[$row]} "
                        core["$s|$p|$row"]+="$RUN_CLIENT "
                        got["$s|$row"]=${RUN_RPS[$row]}
                    done
                    if [[ $s == "$e" ]]; then
                        walr["$p|$wrow"]+="$(delta "$l0" "$(stat_field "$s" persistence wal_lsn)") "
                        walf["$p|$wrow"]+="$(delta "$f0" "$(stat_field "$s" persistence wal_fsyncs)") "
                    else
                        chg["$p|$wrow"]+="$(delta "$c0" "$(stat_field "$s" persistence rdb_changes_since_last_save)") "
                    fi
                done
                msg="$pair -P $p -n $n -t $t:"
                for row in "${ROWS[@]}"; do
                    [[ -n "${got["$e|$row"]:-}${got["$r|$row"]:-}" ]] || continue
                    msg+=" $row engram ${got["$e|$row"]:-n/a} redis ${got["$r|$row"]:-n/a};"
                done
                log "${msg%;}"
            done
        done
    done

    for s in "$e" "$r"; do
        err1[$s]=$(stat_field "$s" stats total_error_replies)
        if [[ ${err0[$s]} =~ ^[0-9]+$ && ${err1[$s]} =~ ^[0-9]+$ ]]; then
            ((err1[$s] - err0[$s] == 0)) ||
                problem "$s: total_error_replies grew by $((err1[$s] - err0[$s])) during the $pair runs"
        else
            [[ -n "${CRASHED[$s]:-}" ]] || problem "$s: no total_error_replies in INFO stats"
        fi
    done
    local sizes=""
    if [[ $pair == durable ]]; then
        for s in "$e" "$r"; do
            sizes+="$s $(du -sm "${DIR[$s]}" 2>/dev/null | cut -f1) MB, "
        done
    fi
    for s in "$e" "$r"; do
        if [[ -z "${CRASHED[$s]:-}" ]]; then
            stop_server "$s"
        fi
    done

    # ------------------------------------------------------------ table ---
    local table ev rv ra tg iw wr wf ch m cc
    if [[ $pair == durable ]]; then
        table="| test | pipeline | n | engram rps | redis-always rps | engram/redis | target | met | durable write | engram WAL records | engram fsyncs | redis changes | client core engram / redis |"$'\n'
        table+="|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|"$'\n'
    else
        table="| test | pipeline | n | engram rps | redis rps | engram/redis | target | met | client core engram / redis |"$'\n'
        table+="|---|---:|---:|---:|---:|---:|---:|---|---:|"$'\n'
    fi
    for p in "${PIPELINES[@]}"; do
        if [[ $p == 1 ]]; then n=$N_P1; else n=$N_P16; fi
        for row in "${ROWS[@]}"; do
            k="$p|$row"
            # shellcheck disable=SC2086 # word splitting of the value lists is intended
            {
                ev=$(median ${vals["$e|$k"]:-})
                rv=$(median ${vals["$r|$k"]:-})
            }
            ra=$(ratio "$ev" "$rv")
            # shellcheck disable=SC2086
            cc="$(median ${core["$e|$k"]:-}) / $(median ${core["$r|$k"]:-})"
            iw=0
            wr="" wf="" ch=""
            if [[ -n "${chg[$k]+x}" ]]; then
                # shellcheck disable=SC2086
                {
                    wr=$(median ${walr[$k]:-})
                    wf=$(median ${walf[$k]:-})
                    ch=$(median ${chg[$k]})
                }
                awk -v c="$ch" -v n="$n" 'BEGIN { exit !(c ~ /^[0-9.]+$/ && c + 0 >= n / 2) }' && iw=1
            elif [[ $row == LRANGE_* ]]; then
                wr="(in fill)" wf="(in fill)" ch="(in fill)"
            fi
            MED["$pair|engram|$k"]=$ev
            MED["$pair|redis|$k"]=$rv
            [[ $pair != durable || $iw == 0 ]] || DURABLE_WRITES+=("$k")
            tg=$(row_target "$pair" "$row" "$iw")
            m=$(meets "$ra" "$tg")
            [[ $m != "**NO**" ]] || SUMMARY_BELOW+=("$pair $row -P $p: $ra (target $tg)")
            [[ $m != "-" ]] || SUMMARY_BELOW+=("$pair $row -P $p: no ratio (engram $ev, redis $rv)")
            if [[ $pair == durable ]]; then
                local dw=no
                [[ $iw == 0 ]] || dw=yes
                [[ $row != LRANGE_* ]] || dw="read"
                table+="| $row | $p | $n | $ev | $rv | $ra | $tg | $m | $dw | ${wr%.0} | ${wf%.0} | ${ch%.0} | $cc |"$'\n'
            else
                table+="| $row | $p | $n | $ev | $rv | $ra | $tg | $m | $cc |"$'\n'
            fi
        done
    done

    local rep
    if [[ $pair == durable ]]; then
        rep="### Durable pair"$'\n\n'
        rep+="engram with its defaults (aof_enabled:$e_aof appendfsync:$e_fsync) vs redis \`--appendonly yes --appendfsync always --save ''\`."
    else
        rep="### Persistence-off pair"$'\n\n'
        rep+="engram \`--appendonly no\` (aof_enabled:$e_aof) vs redis \`--appendonly no --save ''\`. Target engram/redis: 1.0 on every row."
    fi
    if [[ $pair == durable ]]; then
        rep+=" Target engram/redis: 1.5 on durable writes, 1.0 on the other rows."
        rep+=" durable write = redis's rdb_changes_since_last_save grew by >= n/2 during the test;"
        rep+=" WAL records / fsyncs = deltas of engram's wal_lsn / wal_fsyncs during its run (the LRANGE run's are on the fill row)."
    fi
    rep+=" Error replies during the runs (INFO stats total_error_replies delta): engram $(ecount "${err0[$e]}" "${err1[$e]}"), redis $(ecount "${err0[$r]}" "${err1[$r]}")."
    [[ -z "$sizes" ]] || rep+=" Data dirs at the end (du): ${sizes%, }."
    rep+=" client core = the share of one core the single-threaded redis-benchmark used over the run (median over rounds; near 1.00 the client's one core, not the server, limited the rate; for LRANGE rows, of the whole fill + LRANGE run)."
    rep+=$'\n\n'"$table"
    REPORT_PAIR[$pair]=$rep
}

# ==================================================================== memory
MEM_REPORT=""
gen_hashes() { # n -> RESP for HSET h:<i> f0 <v> .. f9 <v>, 8-byte values
    awk -v n="$1" 'BEGIN {
        for (i = 0; i < n; i++) {
            k = "h:" i
            printf "*22\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n", length(k), k
            for (j = 0; j < 10; j++) {
                v = sprintf("v%07d", (i * 10 + j) % 10000000)
                printf "$2\r\nf%d\r\n$8\r\n%s\r\n", j, v
            }
        }
    }'
}
gen_zsets() { # n -> RESP for ZADD z:<i> 0 m0:<i> .. 9 m9:<i>
    awk -v n="$1" 'BEGIN {
        for (i = 0; i < n; i++) {
            k = "z:" i
            printf "*22\r\n$4\r\nZADD\r\n$%d\r\n%s\r\n", length(k), k
            for (j = 0; j < 10; j++) {
                m = "m" j ":" i
                printf "$1\r\n%d\r\n$%d\r\n%s\r\n", j, length(m), m
            }
        }
    }'
}

# mem_dataset label kind: fresh engram and redis, load, measure, stop.
mem_dataset() {
    local label=$1 kind=$2 s pid e=engram-mem-$2 r=redis-mem-$2
    local lenc=hlen first=h:0 last="h:$((MEM_KEYS - 1))"
    if [[ $kind == zset ]]; then lenc=zcard first=z:0 last="z:$((MEM_KEYS - 1))"; fi
    log "memory: generating $label"
    if [[ $kind == hash ]]; then gen_hashes "$MEM_KEYS"; else gen_zsets "$MEM_KEYS"; fi >"$WORK/load.resp"
    start_engram "$e" --appendonly no
    start_redis "$r" --appendonly no --save ''
    wait_ping "$e"
    wait_ping "$r"
    local -A rss0=() rss1=() dbs=() enc=() len=() errs=()
    sleep 1
    for s in "$e" "$r"; do
        pid=${PID[$s]}
        rss0[$s]=$(rss_mb "$pid")
        log "memory: $s: loading $MEM_KEYS $kind keys with redis-cli --pipe"
        if ! timeout 600 "$CLI_BIN" -h 127.0.0.1 -p "${PORT[$s]}" --pipe <"$WORK/load.resp" \
            >"$WORK/pipe.$s.log" 2>&1; then
            problem "$s: redis-cli --pipe of the $kind data failed: $(tail -n 3 "$WORK/pipe.$s.log" | tr '\n' ' ')"
        fi
        errs[$s]=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$WORK/pipe.$s.log" | tail -n 1)
        errs[$s]=${errs[$s]:-n/a}
        [[ ${errs[$s]} == 0 ]] || problem "$s: redis-cli --pipe of the $kind data reported errors: ${errs[$s]}"
        sleep 1
        if check_alive "$s"; then
            rss1[$s]=$(rss_mb "$pid")
            dbs[$s]=$(cli "$s" dbsize 2>/dev/null || echo n/a)
            enc[$s]=$(cli "$s" object encoding "$first" 2>/dev/null || echo n/a)
            len[$s]=$(cli "$s" "$lenc" "$last" 2>/dev/null || echo n/a)
        else
            rss1[$s]=n/a dbs[$s]=n/a enc[$s]=n/a len[$s]=n/a
        fi
    done
    for s in "$e" "$r"; do
        [[ -n "${CRASHED[$s]:-}" ]] || stop_server "$s"
    done
    rm -f "$WORK/load.resp"
    local d_e d_r ra
    d_e=$(delta "${rss0[$e]}" "${rss1[$e]}")
    d_r=$(delta "${rss0[$r]}" "${rss1[$r]}")
    ra=$(ratio "$d_e" "$d_r")
    local m
    m=$(awk -v r="$ra" 'BEGIN { if (r !~ /^[0-9.]+$/) print "-"; else if (r + 0 <= 1.2) print "yes"; else print "**NO**" }')
    [[ $m == yes ]] || SUMMARY_BELOW+=("memory $label: RSS growth ratio $ra (target <= 1.2)")
    MEM_ROWS+="| $label | ${dbs[$e]} / ${dbs[$r]} | ${len[$e]} / ${len[$r]} | ${rss0[$e]} / ${rss0[$r]} | ${rss1[$e]} / ${rss1[$r]} | $d_e | $d_r | $ra | $m | ${enc[$e]} / ${enc[$r]} |"$'\n'
    log "memory $label: engram +$d_e MB, redis +$d_r MB, ratio $ra; encoding ${enc[$e]} / ${enc[$r]}"
}

MEM_ROWS=""
if [[ $RUN_MEM == 1 ]]; then
    mem_dataset "$MEM_KEYS hashes x 10 fields" hash
    mem_dataset "$MEM_KEYS sorted sets x 10 members" zset
    MEM_REPORT="### Memory"$'\n\n'
    MEM_REPORT+="Each data set loaded with \`redis-cli --pipe\` into a freshly started engram \`--appendonly no\` and redis \`--appendonly no --save ''\`;"
    MEM_REPORT+=" hashes: \`HSET h:<i> f0 <v> .. f9 <v>\` with 8-byte values; sorted sets: \`ZADD z:<i> 0 m0:<i> .. 9 m9:<i>\`."
    MEM_REPORT+=" VmRSS from /proc/<pid>/status, 1 s after the load; encoding = OBJECT ENCODING of h:0 / z:0."
    MEM_REPORT+=" Cells with two values are engram / redis. Target: RSS growth engram/redis <= 1.2."$'\n\n'
    MEM_REPORT+="| data set | DBSIZE | HLEN/ZCARD of last key | RSS empty MB | RSS loaded MB | engram growth MB | redis growth MB | ratio engram/redis | met | encoding |"$'\n'
    MEM_REPORT+="|---|---|---|---|---|---:|---:|---:|---|---|"$'\n'
    MEM_REPORT+="$MEM_ROWS"
fi

# ================================================================ throughput
[[ $RUN_DURABLE == 0 ]] || run_pair durable
[[ $RUN_OFF == 0 ]] || run_pair off

# ==================================================================== report
ELAPSED=$(awk -v a="$T_START" -v b="$(now_s)" 'BEGIN { printf "%.0f", b - a }')
TITLE="Collections (issue 5): bench/collections.sh, $(report_title)"
[[ "$QUICK" != 1 ]] || TITLE+=" (QUICK smoke run, numbers not meaningful)"
REDIS_VER=$(redis_version)

REPORT="## $TITLE"$'\n\n'
REPORT+="Command: \`$CMDLINE\`"$'\n\n'
REPORT+="Reference: ${REDIS_VER:-redis-server}. Data dirs: a fresh \`$(dirname "$WORK")/engram-bench.*\` per run ($(fs_desc "$WORK"))."
REPORT+=" Load average at start $LOAD_START, at end $(loadavg); run took ${ELAPSED}s."
if [[ $RUN_DURABLE == 1 || $RUN_OFF == 1 ]]; then
    REPORT+=" Throughput: one \`redis-benchmark -c $CLIENTS -P <pipeline> -n <n>${RARGS[*]:+ ${RARGS[*]}} -t <test> -q --csv\` per test"
    REPORT+=" and server, tests in the order of the table (state carries over; \`-t lrange_100,lrange_600\` is one run that first fills mylist with n LPUSHes),"
    REPORT+=" the two servers of a pair alternating on every test, both flushed before each round; median of $ROUNDS round(s)."
    if [[ -z "${RANDOM_KEYS:-}" ]]; then
        REPORT+=" No -r: SADD/SPOP/ZADD/ZPOPMIN repeat one member on one key, so only their first request changes data."
    fi
fi
REPORT+=$'\n'
[[ -z "$MEM_REPORT" ]] || REPORT+=$'\n'"$MEM_REPORT"
[[ -z "${REPORT_PAIR[durable]:-}" ]] || REPORT+=$'\n'"${REPORT_PAIR[durable]}"
[[ -z "${REPORT_PAIR[off]:-}" ]] || REPORT+=$'\n'"${REPORT_PAIR[off]}"
# Both pairs ran: engram without its WAL (the off pair) is the most a durable
# engram can reach with this client on this machine, so off-engram /
# redis-always bounds the durable-write ratios.
if [[ -n "${REPORT_PAIR[durable]:-}" && -n "${REPORT_PAIR[off]:-}" && ${#DURABLE_WRITES[@]} -gt 0 ]]; then
    REPORT+=$'\n'"### Ceiling of the durable-write rows"$'\n\n'
    REPORT+="engram without its WAL (the persistence-off pair's engram, run minutes apart from the durable pair, not interleaved with it)"
    REPORT+=" is the most a durable engram can reach with this client on this machine; the last column bounds what engram/redis-always can be."$'\n\n'
    REPORT+="| test | pipeline | engram durable rps | redis-always rps | engram --appendonly no rps | engram/redis-always | ceiling: engram-nopersist/redis-always |"$'\n'
    REPORT+="|---|---:|---:|---:|---:|---:|---:|"$'\n'
    for k in "${DURABLE_WRITES[@]}"; do
        REPORT+="| ${k#*|} | ${k%%|*} | ${MED["durable|engram|$k"]} | ${MED["durable|redis|$k"]} | ${MED["off|engram|$k"]:-n/a}"
        REPORT+=" | $(ratio "${MED["durable|engram|$k"]}" "${MED["durable|redis|$k"]}") | $(ratio "${MED["off|engram|$k"]:-}" "${MED["durable|redis|$k"]}") |"$'\n'
    done
fi
REPORT+=$'\n'"Below target:"
if [[ ${#SUMMARY_BELOW[@]} == 0 ]]; then
    REPORT+=" none."$'\n'
else
    REPORT+=$'\n\n'
    for m in "${SUMMARY_BELOW[@]}"; do REPORT+="- $m"$'\n'; done
fi
REPORT+=$'\n'"Errors and crashes:"
if [[ ${#PROBLEMS[@]} == 0 ]]; then
    REPORT+=" none (every redis-benchmark run exited 0 with no error output, no server died, total_error_replies unchanged, redis-cli --pipe errors: 0)."$'\n'
else
    REPORT+=$'\n\n'
    for m in "${PROBLEMS[@]}"; do REPORT+="- $m"$'\n'; done
fi

echo
echo "$REPORT"
append_results "$RESULTS_FILE" "$REPORT"
log "appended results to $RESULTS_FILE"
