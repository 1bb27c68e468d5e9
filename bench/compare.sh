#!/usr/bin/env bash
# bench/compare.sh - throughput and memory comparison: engram vs redis-server.
#
# Two sections, both by default, each on freshly started servers with data
# dirs in one scratch directory under ${TMPDIR:-/tmp}:
#
#   persistence off  engram --appendonly no vs redis-server --save ''
#                    --appendonly no: memory after loading identical data,
#                    then SET/GET/INCR/MSET at -P 1 and -P 16.
#   durable          engram with its defaults (--appendonly yes --appendfsync
#                    always) vs redis-server --appendonly yes --appendfsync
#                    always --save '', with redis-server --appendonly no
#                    --save '' as the no-persistence ceiling: SET and INCR at
#                    -P 1 and -P 16 (these rows also run engram --appendonly
#                    no, engram-nopersist: engram without its WAL is the most
#                    a durable engram can reach with this client on this
#                    machine, so engram-nopersist/redis-always bounds what
#                    engram/redis-always can be), then GET throughput while a background
#                    SET load from LOAD_CLIENTS clients runs on the same server,
#                    plus engram's WAL statistics (fsync latency, group-commit
#                    batch size) for every engram run.
#
# Every row runs the servers one after the other (interleaved, so all see the
# same machine noise), prints a table and appends it to bench/RESULTS.md.
#
# Usage: bench/compare.sh [--all | --durable | --persistence-off]
#
# Environment:
#   MODE         all (default), durable, or off (= persistence off only);
#                the flags above set it too
#   N            requests per benchmark run (default: 200000 at -P 1 and
#                1000000 at -P 16; durable write rows 100000 / 500000)
#   ROUNDS       runs per server per row, in rotating server order; the median
#                is reported (default 1)
#   QUICK        1 = smoke test: tiny request counts and 10000 keys for memory
#   LOAD_CLIENTS clients of the background SET load in "GET under write load"
#                (default 8)
#   LOAD_WARMUP  seconds the background load runs before GET is measured
#                (default 1)
#   SKIP_MEMORY  1 = skip the memory measurement
#   MEM_KEYS     number of keys for the memory measurement (default 1000000)
#   ENGRAM_BIN   engram binary (default: <repo>/bin/engram-server, brought up
#                to date with make first)
#   ENGRAM_ARGS  extra arguments for every engram started (split on
#                whitespace, no quote handling; they come last and so override
#                the script's own options, e.g. --appendonly no)
#   REDIS_BIN    redis-server binary (default: redis-server from PATH)
#   RESULTS_FILE where to append the results (default: bench/RESULTS.md)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=compare.sh
# shellcheck source=bench/lib.sh
source "$SCRIPT_DIR/lib.sh"

CMDLINE=""
for v in MODE N QUICK ROUNDS LOAD_CLIENTS LOAD_WARMUP SKIP_MEMORY MEM_KEYS ENGRAM_BIN \
    ENGRAM_ARGS REDIS_BIN RESULTS_FILE; do
    if [[ -n "${!v+x}" ]]; then
        CMDLINE+="$v=$(printf '%q' "${!v}") "
    fi
done
CMDLINE+="bench/compare.sh"
if [[ $# -gt 0 ]]; then
    CMDLINE+=" $*"
fi

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

MODE=${MODE:-all}
for arg in "$@"; do
    case $arg in
    --all) MODE=all ;;
    --durable) MODE=durable ;;
    --persistence-off | --off) MODE=off ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done
case $MODE in
all | durable) ;;
off | persistence-off | nopersist) MODE=off ;;
*) die "MODE must be all, durable or off (got '$MODE')" ;;
esac
RUN_OFF=0 RUN_DURABLE=0
[[ $MODE == durable ]] || RUN_OFF=1
[[ $MODE == off ]] || RUN_DURABLE=1

QUICK=${QUICK:-0}
SKIP_MEMORY=${SKIP_MEMORY:-0}
ROUNDS=${ROUNDS:-1}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
LOAD_CLIENTS=${LOAD_CLIENTS:-8}
[[ "$LOAD_CLIENTS" =~ ^[1-9][0-9]*$ ]] || die "LOAD_CLIENTS must be a positive integer"
RESULTS_FILE=${RESULTS_FILE:-$SCRIPT_DIR/RESULTS.md}
CLIENTS=50
KEYSPACE=1000000
TESTS=(set get incr mset)
DURABLE_TESTS=(set incr)
PIPELINES=(1 16)

if [[ "$QUICK" == 1 ]]; then
    N_P1=${N:-2000}
    N_P16=${N:-20000}
    DN_P1=${N:-2000}
    DN_P16=${N:-20000}
    MEM_KEYS=${MEM_KEYS:-10000}
    LOAD_WARMUP=${LOAD_WARMUP:-0.2}
else
    N_P1=${N:-200000}
    N_P16=${N:-1000000}
    DN_P1=${N:-100000}
    DN_P16=${N:-500000}
    MEM_KEYS=${MEM_KEYS:-1000000}
    LOAD_WARMUP=${LOAD_WARMUP:-1}
fi
[[ "$LOAD_WARMUP" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "LOAD_WARMUP must be a number of seconds"

lib_init
T_START=$(now_s)
LOAD_START=$(loadavg)
log "mode $MODE, scratch dir $WORK ($(fs_desc "$WORK"))"

# ============================================================ persistence off
OFF_REPORT=""
run_persistence_off() {
    start_engram engram --appendonly no
    start_redis redis --save '' --appendonly no
    wait_ping engram
    wait_ping redis
    log "persistence off: engram pid ${PID[engram]} port ${PORT[engram]};" \
        "redis pid ${PID[redis]} port ${PORT[redis]}"
    local e_aof
    e_aof=$(info_field engram persistence aof_enabled)
    [[ $e_aof == 0 || $e_aof == n/a ]] || log "warning: engram has aof_enabled:$e_aof in the persistence-off section"

    # ------------------------------------------------------------- memory ---
    # Measured first, on freshly started servers, so allocator state left
    # behind by the throughput runs does not distort the numbers.
    local mem_table="" who pid
    if [[ "$SKIP_MEMORY" != 1 ]]; then
        log "generating $MEM_KEYS SET commands (16-byte values)"
        awk -v n="$MEM_KEYS" 'BEGIN {
            for (i = 0; i < n; i++) {
                k = "key:" i
                v = sprintf("v%015d", i)
                printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n", length(k), k, v
            }
        }' >"$WORK/load.resp"

        local -A rss0 rss1 dbs
        for who in engram redis; do
            pid=${PID[$who]}
            cli "$who" flushall >/dev/null || log "$who: FLUSHALL failed"
            sleep 1
            rss0[$who]=$(rss_mb "$pid")
            log "$who: loading $MEM_KEYS keys with redis-cli --pipe"
            if ! timeout 600 "$CLI_BIN" -h 127.0.0.1 -p "${PORT[$who]}" --pipe <"$WORK/load.resp" \
                >"$WORK/pipe.$who.log" 2>&1; then
                log "$who: redis-cli --pipe failed:"
                tail -n 5 "$WORK/pipe.$who.log" >&2 || true
            fi
            grep -E 'errors:' "$WORK/pipe.$who.log" >&2 || true
            sleep 1
            rss1[$who]=$(rss_mb "$pid")
            dbs[$who]=$(cli "$who" dbsize 2>/dev/null || echo n/a)
            [[ "${dbs[$who]}" =~ ^[0-9]+$ ]] || dbs[$who]=n/a
            cli "$who" flushall >/dev/null || true
        done
        rm -f "$WORK/load.resp"
        local d_e d_r
        d_e=$(delta "${rss0[engram]}" "${rss1[engram]}")
        d_r=$(delta "${rss0[redis]}" "${rss1[redis]}")
        mem_table+="| metric | engram | redis | ratio engram/redis |"$'\n'
        mem_table+="|---|---:|---:|---:|"$'\n'
        mem_table+="| DBSIZE after load | ${dbs[engram]} | ${dbs[redis]} | |"$'\n'
        mem_table+="| RSS empty (MB) | ${rss0[engram]} | ${rss0[redis]} | $(ratio "${rss0[engram]}" "${rss0[redis]}") |"$'\n'
        mem_table+="| RSS with $MEM_KEYS keys (MB) | ${rss1[engram]} | ${rss1[redis]} | $(ratio "${rss1[engram]}" "${rss1[redis]}") |"$'\n'
        mem_table+="| RSS growth (MB) | $d_e | $d_r | $(ratio "$d_e" "$d_r") |"$'\n'
    fi

    # --------------------------------------------------------- throughput ---
    local tp_table p t n round s e r
    tp_table="| test | pipeline | n | engram rps | redis rps | ratio engram/redis |"$'\n'
    tp_table+="|---|---:|---:|---:|---:|---:|"$'\n'
    local cpu_table
    cpu_table=$(cpu_header engram redis)$'\n'
    for p in "${PIPELINES[@]}"; do
        if [[ $p == 1 ]]; then n=$N_P1; else n=$N_P16; fi
        for t in "${TESTS[@]}"; do
            local -A got=()
            local es=() rs=()
            cpu_reset engram redis
            for ((round = 0; round < ROUNDS; round++)); do
                for s in $(rotate "$round" engram redis); do
                    got[$s]=$(bench_rps "$s" "$t" "$p" "$n")
                    cpu_add "$s"
                done
                log "off: $t -P $p: engram ${got[engram]}, redis ${got[redis]}"
                es+=("${got[engram]}")
                rs+=("${got[redis]}")
            done
            e=$(median "${es[@]}")
            r=$(median "${rs[@]}")
            tp_table+="| ${t^^} | $p | $n | $e | $r | $(ratio "$e" "$r") |"$'\n'
            cpu_table+="| ${t^^} | $p |$(cpu_cells engram redis)"$'\n'
        done
    done
    stop_server engram
    stop_server redis

    OFF_REPORT="### Persistence off"$'\n\n'
    OFF_REPORT+="engram \`--appendonly no\` (aof_enabled:$e_aof) vs redis \`--save '' --appendonly no\`."
    OFF_REPORT+=" redis-benchmark per row: \`redis-benchmark -c $CLIENTS -P <pipeline> -n <n> -r $KEYSPACE -t <test> -q --csv\`"
    OFF_REPORT+=" (median of $ROUNDS round(s))."$'\n\n'
    OFF_REPORT+="$tp_table"$'\n'
    OFF_REPORT+="$CPU_NOTE"$'\n\n'"$cpu_table"
    if [[ -n "$mem_table" ]]; then
        OFF_REPORT+=$'\n'"Memory: $MEM_KEYS keys \`key:<i>\` with 16-byte values loaded with \`redis-cli --pipe\`; VmRSS from /proc/<pid>/status."$'\n\n'
        OFF_REPORT+="$mem_table"
    fi
}

# ==================================================================== durable
DUR_REPORT=""
SERVERS3=(engram redis-always redis-nopersist)
SERVERS_W=("${SERVERS3[@]}" engram-nopersist) # the write rows also run engram without its WAL

# wal_stats name -> "lsn fsyncs fsync_p50 fsync_p99 batch_p50 batch_p99"
wal_stats() {
    cli "$1" info persistence 2>/dev/null | tr -d '\r' | awk -F: '{ v[$1] = $2 } END {
        n = split("wal_lsn wal_fsyncs wal_fsync_us_p50 wal_fsync_us_p99 wal_batch_records_p50 wal_batch_records_p99", f, " ")
        for (i = 1; i <= n; i++) printf "%s%s", (f[i] in v ? v[f[i]] : "n/a"), (i < n ? " " : "\n") }'
}

# wal_row label before after -> a markdown row of the engram WAL table
wal_row() {
    local label=$1 a b
    read -r -a a <<<"$2"
    read -r -a b <<<"$3"
    local recs fs per
    recs=$(delta "${a[0]}" "${b[0]}")
    fs=$(delta "${a[1]}" "${b[1]}")
    per=$(rate "$recs" "$fs")
    recs=${recs%.0}
    fs=${fs%.0}
    echo "| $label | $recs | $fs | $per | ${b[2]} | ${b[3]} | ${b[4]} | ${b[5]} |"
}

run_durable() {
    local s
    start_engram engram
    start_redis redis-always --appendonly yes --appendfsync always --save ''
    start_redis redis-nopersist --appendonly no --save ''
    start_engram engram-nopersist --appendonly no
    for s in "${SERVERS_W[@]}"; do
        wait_ping "$s"
        log "durable: $s pid ${PID[$s]} port ${PORT[$s]} dir ${DIR[$s]}"
    done
    local e_aof e_fsync ra_aof ra_fsync
    e_aof=$(info_field engram persistence aof_enabled)
    e_fsync=$(info_field engram persistence appendfsync)
    [[ $(info_field engram persistence wal_lsn) != n/a ]] ||
        die "engram reports no wal_lsn in INFO persistence: binary without the WAL? ($ENGRAM_BIN)"
    [[ $e_aof == 1 && $e_fsync == always ]] ||
        log "warning: engram runs with aof_enabled:$e_aof appendfsync:$e_fsync, not the durable default"
    ra_aof=$(config_value redis-always appendonly)
    ra_fsync=$(config_value redis-always appendfsync)
    [[ $ra_aof == yes && $ra_fsync == always ]] || die "redis-always runs with appendonly $ra_aof appendfsync $ra_fsync"
    [[ $(info_field engram-nopersist persistence aof_enabled) == 0 ]] ||
        die "engram-nopersist runs with the WAL on"

    # --------------------------------------------------------- write rows ---
    local rows_table wal_table p t n round
    rows_table="| test | pipeline | n | engram rps | redis-always rps | redis-nopersist rps | engram-nopersist rps | engram/redis-always | engram/redis-nopersist | ceiling: engram-nopersist/redis-always |"$'\n'
    rows_table+="|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"$'\n'
    wal_table="| engram run | WAL records | fsyncs | records/fsync | fsync us p50 | fsync us p99 | batch records p50 | batch records p99 |"$'\n'
    wal_table+="|---|---:|---:|---:|---:|---:|---:|---:|"$'\n'
    local cpu_table
    cpu_table=$(cpu_header "${SERVERS_W[@]}")$'\n'
    for p in "${PIPELINES[@]}"; do
        if [[ $p == 1 ]]; then n=$DN_P1; else n=$DN_P16; fi
        for t in "${DURABLE_TESTS[@]}"; do
            local -A got=() vals=()
            local w0="" w1=""
            for s in "${SERVERS_W[@]}"; do vals[$s]=""; done
            cpu_reset "${SERVERS_W[@]}"
            for ((round = 0; round < ROUNDS; round++)); do
                for s in $(rotate "$round" "${SERVERS_W[@]}"); do
                    [[ $s != engram ]] || w0=$(wal_stats engram)
                    got[$s]=$(bench_rps "$s" "$t" "$p" "$n")
                    cpu_add "$s"
                    [[ $s != engram ]] || w1=$(wal_stats engram)
                    vals[$s]+="${got[$s]} "
                done
                log "durable: $t -P $p: engram ${got[engram]}, redis-always ${got[redis-always]}," \
                    "redis-nopersist ${got[redis-nopersist]}, engram-nopersist ${got[engram-nopersist]}"
            done
            local e ra rn en
            # shellcheck disable=SC2086 # word splitting of the value lists is intended
            {
                e=$(median ${vals[engram]})
                ra=$(median ${vals[redis-always]})
                rn=$(median ${vals[redis-nopersist]})
                en=$(median ${vals[engram-nopersist]})
            }
            rows_table+="| ${t^^} | $p | $n | $e | $ra | $rn | $en | $(ratio "$e" "$ra") | $(ratio "$e" "$rn") | $(ratio "$en" "$ra") |"$'\n'
            wal_table+="$(wal_row "${t^^} -c $CLIENTS -P $p" "$w0" "$w1")"$'\n'
            cpu_table+="| ${t^^} | $p |$(cpu_cells "${SERVERS_W[@]}")"$'\n'
        done
    done
    log "engram INFO persistence after the durable write rows:"
    cli engram info persistence | tr -d '\r' | grep -E '^(appendfsync|wal_)' | sed 's/^/    /' >&2 || true
    stop_server engram-nopersist

    # ---------------------------------------------- GET under write load ---
    local gl_table
    gl_table="| pipeline | n | engram GET rps | redis-always GET rps | redis-nopersist GET rps | engram/redis-always | engram/redis-nopersist (target 0.90) | bg SET rps engram | bg SET rps redis-always | bg SET rps redis-nopersist |"$'\n'
    gl_table+="|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"$'\n'
    for p in "${PIPELINES[@]}"; do
        if [[ $p == 1 ]]; then n=$N_P1; else n=$N_P16; fi
        local -A got=() bgr=() vals=() bgvals=()
        local w0="" w1=""
        for s in "${SERVERS3[@]}"; do vals[$s]="" bgvals[$s]=""; done
        for ((round = 0; round < ROUNDS; round++)); do
            for s in $(rotate "$round" "${SERVERS3[@]}"); do
                local bg c0 c1 t0 t1
                start_bg "$s" set "$LOAD_CLIENTS" 1
                bg=$BG_PID
                sleep "$LOAD_WARMUP"
                [[ $s != engram ]] || w0=$(wal_stats engram)
                c0=$(commandstat_calls "$s" set)
                t0=$(now_s)
                got[$s]=$(bench_rps "$s" get "$p" "$n")
                t1=$(now_s)
                c1=$(commandstat_calls "$s" set)
                [[ $s != engram ]] || w1=$(wal_stats engram)
                stop_bg "$bg"
                bgr[$s]=$(rate "$(delta "$c0" "$c1")" "$(delta "$t0" "$t1")")
                vals[$s]+="${got[$s]} "
                bgvals[$s]+="${bgr[$s]} "
            done
            log "GET -P $p under SET load (-c $LOAD_CLIENTS): engram ${got[engram]} (bg ${bgr[engram]})," \
                "redis-always ${got[redis-always]} (bg ${bgr[redis-always]})," \
                "redis-nopersist ${got[redis-nopersist]} (bg ${bgr[redis-nopersist]})"
        done
        local e ra rn be bra brn
        # shellcheck disable=SC2086
        {
            e=$(median ${vals[engram]})
            ra=$(median ${vals[redis-always]})
            rn=$(median ${vals[redis-nopersist]})
            be=$(median ${bgvals[engram]})
            bra=$(median ${bgvals[redis-always]})
            brn=$(median ${bgvals[redis-nopersist]})
        }
        gl_table+="| $p | $n | $e | $ra | $rn | $(ratio "$e" "$ra") | $(ratio "$e" "$rn") | $be | $bra | $brn |"$'\n'
        wal_table+="$(wal_row "background SET -c $LOAD_CLIENTS -P 1 (during GET -P $p)" "$w0" "$w1")"$'\n'
    done

    local snap_info rewrites sizes=""
    snap_info=$(info_field engram persistence rdb_last_bgsave_time_sec)
    rewrites=$(info_field redis-always persistence aof_rewrites)
    for s in engram redis-always; do
        sizes+="$s $(du -sm "${DIR[$s]}" 2>/dev/null | cut -f1) MB, "
    done
    for s in "${SERVERS3[@]}"; do stop_server "$s"; done

    DUR_REPORT="### Durable"$'\n\n'
    DUR_REPORT+="engram with its defaults (aof_enabled:$e_aof appendfsync:$e_fsync) vs redis \`--appendonly yes --appendfsync always --save ''\`"
    DUR_REPORT+=" (redis-always) and redis \`--appendonly no --save ''\` (redis-nopersist, the ceiling)."
    DUR_REPORT+=" The write rows also run engram \`--appendonly no\` (engram-nopersist): engram without its WAL is the most a durable"
    DUR_REPORT+=" engram can reach with this client on this machine, so the last column bounds what engram/redis-always can be here."
    DUR_REPORT+=" redis-benchmark per row: \`redis-benchmark -c $CLIENTS -P <pipeline> -n <n> -r $KEYSPACE -t <test> -q --csv\`"
    DUR_REPORT+=" (median of $ROUNDS round(s), server order rotating per round)."$'\n\n'
    DUR_REPORT+="$rows_table"$'\n'
    DUR_REPORT+="$CPU_NOTE"$'\n\n'"$cpu_table"$'\n'
    DUR_REPORT+="GET under write load: on each server in turn, a background \`redis-benchmark -t set -c $LOAD_CLIENTS -P 1 -r $KEYSPACE -n 2000000000 -q\`"
    DUR_REPORT+=" runs for ${LOAD_WARMUP}s, then GET is measured with \`redis-benchmark -c $CLIENTS -P <pipeline> -n <n> -r $KEYSPACE -t get -q --csv\`"
    DUR_REPORT+=" and the load is killed by its PID. bg SET rps = SET calls (INFO commandstats) during the GET run / its duration;"
    DUR_REPORT+=" the servers do not absorb the same write load, and one that accepts fewer writes has more CPU left for GET."$'\n\n'
    DUR_REPORT+="$gl_table"$'\n'
    DUR_REPORT+="engram WAL during each engram run (records and fsyncs are deltas of wal_lsn and wal_fsyncs over the run;"
    DUR_REPORT+=" p50/p99 are INFO persistence wal_fsync_us_* and wal_batch_records_* right after it, over the last 256 group commits):"$'\n\n'
    DUR_REPORT+="$wal_table"$'\n'
    DUR_REPORT+="Background work: engram rdb_last_bgsave_time_sec=$snap_info (-1 = no snapshot taken), redis-always aof_rewrites=$rewrites;"
    DUR_REPORT+=" disk usage of the data dirs at the end (du): ${sizes%, }."$'\n'
}

[[ $RUN_OFF == 0 ]] || run_persistence_off
[[ $RUN_DURABLE == 0 ]] || run_durable

# ===================================================================== report
ELAPSED=$(awk -v a="$T_START" -v b="$(now_s)" 'BEGIN { printf "%.0f", b - a }')
TITLE=$(report_title)
[[ "$QUICK" != 1 ]] || TITLE+=" (QUICK smoke run, numbers not meaningful)"
REPO_FS=$(fs_desc "$ROOT")
WORK_FS=$(fs_desc "$WORK")
if [[ "$REPO_FS" == "$WORK_FS" ]]; then SAME_FS="same filesystem as the repo"; else SAME_FS="repo: $REPO_FS"; fi
REDIS_VER=$(redis_version)

REPORT="## $TITLE"$'\n\n'
REPORT+="Command: \`$CMDLINE\`"$'\n\n'
REPORT+="Reference: ${REDIS_VER:-redis-server}. Data dirs: a fresh \`$(dirname "$WORK")/engram-bench.*\` per run ($WORK_FS, $SAME_FS)."
REPORT+=" Load average at start $LOAD_START, at end $(loadavg); run took ${ELAPSED}s."$'\n'
[[ -z "$OFF_REPORT" ]] || REPORT+=$'\n'"$OFF_REPORT"
[[ -z "$DUR_REPORT" ]] || REPORT+=$'\n'"$DUR_REPORT"

echo
echo "$REPORT"
append_results "$RESULTS_FILE" "$REPORT"
log "appended results to $RESULTS_FILE"
