#!/usr/bin/env bash
# bench/transfer.sh - durable transactions (issue 4): bank transfers with
# WATCH/MULTI/EXEC on engram and redis-server, and the same transfers as SQL
# transactions on PostgreSQL 15 (pgbench).
#
# Workload: CLIENTS (50) concurrent clients move money among ACCOUNTS (10000)
# accounts acct:0..acct:9999, each starting at 1000. One transfer on the
# Redis-protocol servers (bench/transfer.c: one TCP connection per client,
# driven by THREADS (2) epoll load threads, as pgbench drives PostgreSQL's
# with -j 2; each client has one request out at a time, 4 round trips as
# redis-py's pipeline.watch()/multi() does them):
#     WATCH acct:a acct:b; GET acct:a; GET acct:b;
#     (balance(a) < amt: UNWATCH, counted as skipped)
#     MULTI; DECRBY acct:a amt; INCRBY acct:b amt; EXEC      (one write)
# with a != b uniform and amt uniform in 1..10; EXEC returning a null array
# (*-1, a watched key changed) retries the transfer (counted in "retries").
# The load generator also checks that EXEC's replies equal the balances read
# after WATCH minus/plus amt (anything else is a WATCH bug: "stale").
# On PostgreSQL: pgbench -c CLIENTS -j THREADS -M prepared --max-tries 100 -n with
#     \set a random(0,9999)  \set b random(0,9999)  \set amt random(1,10)
#     BEGIN; UPDATE accounts SET balance = balance - :amt WHERE id = :a;
#     UPDATE accounts SET balance = balance + :amt WHERE id = :b; COMMIT;
# (also 4 round trips; a == b may happen and is harmless; deadlocks between
# two transfers over the same pair are retried by pgbench, "retries").
#
# Systems, one after the other, each freshly started on a free loopback port
# with its data in a scratch dir under ${TMPDIR:-/tmp}, stopped before the next:
#   engram        defaults: appendonly yes, appendfsync always
#   redis-always  redis-server --appendonly yes --appendfsync always --save ''
#   engram-nopersist engram --appendonly no: engram without its WAL, what
#                 durability costs engram (not durable; not a strict ceiling
#                 with THREADS=2: see bench/README.md)
#   redis-nopersist  redis-server --appendonly no --save '': no fsync at all,
#                 the ceiling any server reaches on this machine with this
#                 client (4 round trips per transfer); not durable
#   postgres      /usr/lib/postgresql/15/bin, initdb in a scratch dir, started
#                 with fsync=on synchronous_commit=on (the defaults, set
#                 explicitly), listening on 127.0.0.1 (pgbench connects over
#                 TCP, like the Redis clients). As root, PostgreSQL runs as
#                 the `postgres` user (or `nobody` if there is none) through
#                 setpriv, in its own scratch dir owned by that user. Skipped
#                 with a note if the binaries are missing.
# Each runs WARMUP s of the workload, then DURATION s measured: committed
# transfers/s, latency per committed transfer (first WATCH/BEGIN to the
# EXEC/COMMIT reply, retries included) p50/p99, retries. Then the sum of all
# balances must be ACCOUNTS * 1000 (OK/FAIL). Prints a table with the ratios
# engram/postgres (target >= 5) and engram/redis-always (target >= 1.5) and
# appends it to bench/RESULTS.md. Default run: about 60 s.
#
# Usage: bench/transfer.sh
#
# Environment:
#   ROUNDS        runs per system, the systems in rotating order each round
#                 (default 1); the table shows the median round of each
#                 system and the ratios are the medians of the per-round
#                 ratios (each round's systems run minutes apart at most)
#   DURATION      measured seconds per system (default 10)
#   WARMUP        warm-up seconds per system before measuring (default 2)
#   CLIENTS       concurrent clients (default 50)
#   THREADS       load threads of bench/transfer.c and pgbench's -j (default
#                 2: until 2026-11-25 transfer.c ran one blocking thread per
#                 client, and the 50 threads' context switches cost the
#                 2-core machine about a quarter of its transfers)
#   ACCOUNTS      number of accounts (default 10000)
#   SYSTEMS       which systems, space-separated (default
#                 "engram redis-always redis-nopersist engram-nopersist postgres")
#   PG_BINDIR     PostgreSQL server binaries (default /usr/lib/postgresql/15/bin)
#   PGBENCH_BIN   pgbench (default: PG_BINDIR/pgbench, else pgbench in PATH)
#   PG_USER       user to run PostgreSQL as when root (default postgres, else nobody)
#   ENGRAM_BIN    engram binary (default: <repo>/bin/engram-server, brought up
#                 to date with make first)
#   ENGRAM_ARGS   extra arguments for engram (come last, override the defaults)
#   REDIS_BIN     redis-server binary (default: redis-server from PATH)
#   RESULTS_FILE  where to append the results (default: bench/RESULTS.md)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=transfer.sh
# shellcheck source=bench/lib.sh
source "$SCRIPT_DIR/lib.sh"

CMDLINE=""
for v in ROUNDS DURATION WARMUP CLIENTS THREADS ACCOUNTS SYSTEMS PG_BINDIR PGBENCH_BIN PG_USER ENGRAM_BIN \
    ENGRAM_ARGS REDIS_BIN RESULTS_FILE; do
    if [[ -n "${!v+x}" ]]; then
        CMDLINE+="$v=$(printf '%q' "${!v}") "
    fi
done
CMDLINE+="bench/transfer.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
for arg in "$@"; do
    case $arg in
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CLIENTS=${CLIENTS:-50}
THREADS=${THREADS:-2}
ACCOUNTS=${ACCOUNTS:-10000}
SYSTEMS=${SYSTEMS:-engram redis-always redis-nopersist engram-nopersist postgres}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
RESULTS_FILE=${RESULTS_FILE:-$SCRIPT_DIR/RESULTS.md}
INITIAL=1000
[[ "$DURATION" =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a positive integer (seconds)"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer (seconds)"
[[ "$CLIENTS" =~ ^[1-9][0-9]*$ ]] || die "CLIENTS must be a positive integer"
[[ "$THREADS" =~ ^[1-9][0-9]*$ && $THREADS -le 64 && $THREADS -le $CLIENTS ]] || die "THREADS must be an integer from 1 to min(64, CLIENTS)"
[[ "$ACCOUNTS" =~ ^[1-9][0-9]*$ && $ACCOUNTS -ge 2 ]] || die "ACCOUNTS must be an integer >= 2"
EXPECTED_SUM=$((ACCOUNTS * INITIAL))

lib_init
T_START=$(now_s)
LOAD_START=$(loadavg)

# PostgreSQL is stopped with a fast shutdown (SIGINT) and given time for its
# shutdown checkpoint; lib_cleanup's SIGTERM (smart shutdown) + 5 s could end
# in a SIGKILL of the postmaster. Then lib_cleanup does the rest.
PG_PID=""
stop_pg() {
    local i
    [[ -n "$PG_PID" ]] || return 0
    kill -INT "$PG_PID" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$PG_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$PG_PID" 2>/dev/null; then
        log "postgres $PG_PID did not stop in 30 s: SIGQUIT"
        kill -QUIT "$PG_PID" 2>/dev/null || true
        sleep 1
    fi
    stop_pid "$PG_PID"
    PG_PID=""
}
transfer_cleanup() {
    stop_pg
    lib_cleanup
}
trap transfer_cleanup EXIT

log "scratch dir $WORK ($(fs_desc "$WORK")); $CLIENTS clients, $ACCOUNTS accounts," \
    "warm-up ${WARMUP}s, measured ${DURATION}s per system"

# ---------------------------------------------------------- load generator ---
GEN=$ROOT/build/bench/transfer
GEN_SRC=$SCRIPT_DIR/transfer.c
if [[ ! -x "$GEN" || "$GEN_SRC" -nt "$GEN" ]]; then
    log "building $GEN"
    mkdir -p "$(dirname "$GEN")"
    gcc -std=c11 -D_GNU_SOURCE -O2 -g -pthread -Wall -Wextra -Werror -Wshadow \
        -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
        -Wold-style-definition -Wpointer-arith -Wcast-align -Wformat=2 -Wvla -Wundef \
        -Wimplicit-fallthrough -Wnull-dereference -Wwrite-strings \
        -o "$GEN.tmp" "$GEN_SRC" || die "building the load generator failed"
    mv -f "$GEN.tmp" "$GEN"
fi

# --------------------------------------------------------------- results ---
# RES_<field>[system]: tps p50 p99 retries skipped check note
declare -A RES_TPS=() RES_P50=() RES_P99=() RES_RETRIES=() RES_EXTRA=() RES_CHECK=() RES_NOTE=()
BUGS=""

kv() { # "k=v k=v ..." key -> value, or n/a
    awk -v k="$2" '{ for (i = 1; i <= NF; i++) { split($i, f, "="); if (f[1] == k) { print f[2]; found = 1; exit } } }
                   END { if (!found) print "n/a" }' <<<"$1"
}

# CPU over one load-generator run, in cores (CPU seconds / wall seconds), from
# bash's `time` line "user sys real" and the server's CPU ticks before/after.
cores_of_times() {
    awk -v t="$1" 'BEGIN { split(t, f, " "); if (f[3] + 0 > 0) printf "%.2f", (f[1] + f[2]) / f[3]; else printf "n/a" }'
}
cores_of_ticks() { # ticks0 ticks1 times
    awk -v a="$1" -v b="$2" -v t="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(t, f, " ")
        if (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/ && f[3] + 0 > 0) printf "%.2f", (b - a) / hz / f[3]; else printf "n/a" }'
}

# ------------------------------------------------- Redis-protocol systems ---
run_resp() { # name
    local s=$1 port out rc sum w0 w1
    port=${PORT[$s]}
    wait_ping "$s"
    log "$s: pid ${PID[$s]} port $port dir ${DIR[$s]}"
    "$GEN" init -p "$port" -n "$ACCOUNTS" -b "$INITIAL" || die "$s: initialising the accounts failed"
    [[ $s != engram ]] || w0=$(cli engram info persistence | tr -d '\r')
    rc=0
    local t0 t1 times
    t0=$(proc_cpu_ticks "${PID[$s]}")
    out=$({ TIMEFORMAT='%U %S %R'; time "$GEN" run -p "$port" -c "$CLIENTS" -j "$THREADS" \
        -n "$ACCOUNTS" -d "$DURATION" -w "$WARMUP" 2>"$WORK/$s.gen.err"; } 2>"$WORK/$s.gen.time") || rc=$?
    t1=$(proc_cpu_ticks "${PID[$s]}")
    times=$(tail -n 1 "$WORK/$s.gen.time")
    [[ ! -s "$WORK/$s.gen.err" ]] || sed "s/^/    /" "$WORK/$s.gen.err" >&2
    log "$s: $out"
    RES_TPS[$s]=$(kv "$out" tps)
    RES_P50[$s]=$(kv "$out" p50_ms)
    RES_P99[$s]=$(kv "$out" p99_ms)
    RES_RETRIES[$s]=$(kv "$out" retries)
    RES_EXTRA[$s]="committed $(kv "$out" committed), skipped $(kv "$out" skipped), stale $(kv "$out" stale), errors $(kv "$out" errors)"
    RES_EXTRA[$s]+=", CPU cores used: client $(cores_of_times "$times"), server $(cores_of_ticks "$t0" "$t1" "$times")"
    RES_EXTRA[$s]+=", round trip us: WATCH/GET $(kv "$out" rt_plain_us), MULTI..EXEC $(kv "$out" rt_exec_us)"
    if [[ $rc != 0 ]]; then
        BUGS+="- $s: the load generator reported errors or WATCH violations (exit $rc): $out"$'\n'
        [[ ! -s "$WORK/$s.gen.err" ]] || BUGS+="$(head -n 5 "$WORK/$s.gen.err" | sed 's/^/    /')"$'\n'
    fi
    if [[ $s == engram ]]; then
        w1=$(cli engram info persistence | tr -d '\r')
        local lsn0 lsn1 fs0 fs1
        lsn0=$(awk -F: '$1 == "wal_lsn" { print $2 }' <<<"$w0")
        lsn1=$(awk -F: '$1 == "wal_lsn" { print $2 }' <<<"$w1")
        fs0=$(awk -F: '$1 == "wal_fsyncs" { print $2 }' <<<"$w0")
        fs1=$(awk -F: '$1 == "wal_fsyncs" { print $2 }' <<<"$w1")
        local recs fsyncs
        recs=$(delta "$lsn0" "$lsn1")
        fsyncs=$(delta "$fs0" "$fs1")
        RES_NOTE[$s]="WAL over warm-up + run: ${recs%.0} records, ${fsyncs%.0} fsyncs ($(rate "$recs" "$fsyncs") records/fsync),"
        RES_NOTE[$s]+=" fsync us p50/p99 $(awk -F: '$1 == "wal_fsync_us_p50" { print $2 }' <<<"$w1")/$(awk -F: '$1 == "wal_fsync_us_p99" { print $2 }' <<<"$w1")"
    fi
    sum=$("$GEN" sum -p "$port" -n "$ACCOUNTS") || sum="sum=n/a"
    if [[ "$(kv "$sum" sum)" == "$EXPECTED_SUM" && "$(kv "$sum" keys)" == "$ACCOUNTS" ]]; then
        RES_CHECK[$s]="OK"
    else
        RES_CHECK[$s]="FAIL ($sum)"
        BUGS+="- $s: balance check failed: $sum, expected sum=$EXPECTED_SUM keys=$ACCOUNTS"$'\n'
    fi
    log "$s: balances: $sum -> ${RES_CHECK[$s]}"
    if ! kill -0 "${PID[$s]}" 2>/dev/null; then
        BUGS+="- $s: the server died during the run; log tail:"$'\n'"$(tail -n 5 "$WORK/$s.log" | sed 's/^/    /')"$'\n'
    fi
    stop_server "$s"
    rm -rf "${DIR[$s]}" # the next round starts from an empty data dir
}

# --------------------------------------------------------------- postgres ---
PG_SKIP=""
PG_VERSION=""
PGBENCH_BIN=${PGBENCH_BIN:-}
if [[ -z "$PGBENCH_BIN" ]]; then
    if [[ -x "$PG_BINDIR/pgbench" ]]; then PGBENCH_BIN=$PG_BINDIR/pgbench; else PGBENCH_BIN=$(command -v pgbench || true); fi
fi
PSQL_BIN=$PG_BINDIR/psql
[[ -x "$PSQL_BIN" ]] || PSQL_BIN=$(command -v psql || true)
PG_AS=() # command prefix that runs a command as the PostgreSQL user
PG_RUN_AS="$(id -un)"

pg_check() { # -> sets PG_SKIP if PostgreSQL cannot run here
    local b
    for b in initdb postgres pg_isready; do
        [[ -x "$PG_BINDIR/$b" ]] || { PG_SKIP="$PG_BINDIR/$b not found (install postgresql-15)"; return; }
    done
    [[ -n "$PGBENCH_BIN" && -x "$PGBENCH_BIN" ]] || { PG_SKIP="pgbench not found"; return; }
    [[ -n "$PSQL_BIN" && -x "$PSQL_BIN" ]] || { PG_SKIP="psql not found"; return; }
    if [[ $(id -u) == 0 ]]; then
        # PostgreSQL refuses to run as root.
        local u=${PG_USER:-}
        if [[ -z "$u" ]]; then
            if getent passwd postgres >/dev/null; then u=postgres; else u=nobody; fi
        fi
        getent passwd "$u" >/dev/null || { PG_SKIP="user $u does not exist (PostgreSQL cannot run as root)"; return; }
        command -v setpriv >/dev/null || { PG_SKIP="setpriv not found (needed to run PostgreSQL as $u)"; return; }
        PG_AS=(setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups --)
        PG_RUN_AS=$u
    fi
    PG_VERSION=$("$PG_BINDIR/postgres" --version 2>/dev/null || true)
}

run_pg() {
    local pgw port i out rc sumline
    pgw=$(mktemp -d "${TMPDIR:-/tmp}/engram-bench-pg.XXXXXX")
    TMPDIRS+=("$pgw")
    if [[ $(id -u) == 0 ]]; then
        chown "$PG_RUN_AS:" "$pgw"
        "${PG_AS[@]}" test -w "$pgw" || {
            PG_SKIP="$PG_RUN_AS cannot write $pgw (TMPDIR not reachable?)"
            return 0
        }
    fi
    log "postgres: initdb in $pgw/data as $PG_RUN_AS"
    if ! "${PG_AS[@]}" "$PG_BINDIR/initdb" -D "$pgw/data" -U bench --auth=trust -E UTF8 \
        --locale=C --no-sync >"$WORK/initdb.log" 2>&1; then
        tail -n 5 "$WORK/initdb.log" >&2
        PG_SKIP="initdb failed"
        return 0
    fi
    port=$(free_port)
    PORT[postgres]=$port
    "${PG_AS[@]}" "$PG_BINDIR/postgres" -D "$pgw/data" -c listen_addresses=127.0.0.1 -c port="$port" \
        -c unix_socket_directories="$pgw" -c fsync=on -c synchronous_commit=on \
        -c max_connections=$((CLIENTS + 20)) >"$WORK/postgres.log" 2>&1 &
    PG_PID=$!
    LIVE[$PG_PID]=postgres
    for ((i = 0; i < 300; i++)); do
        kill -0 "$PG_PID" 2>/dev/null || break
        "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" && break
        sleep 0.1
    done
    if ! "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        tail -n 10 "$WORK/postgres.log" >&2 || true
        stop_pg
        PG_SKIP="postgres did not start"
        return 0
    fi
    log "postgres: pid $PG_PID port $port, running as $PG_RUN_AS"
    local psql=("$PSQL_BIN" -h 127.0.0.1 -p "$port" -U bench -d postgres -X -q -v ON_ERROR_STOP=1)
    "${psql[@]}" >"$WORK/psql.log" 2>&1 <<EOF || { cat "$WORK/psql.log" >&2; die "postgres: creating the accounts failed"; }
CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO accounts SELECT g, $INITIAL FROM generate_series(0, $((ACCOUNTS - 1))) g;
VACUUM ANALYZE accounts;
CHECKPOINT;
EOF
    local settings
    settings=$("${psql[@]}" -At -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
        WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers', 'deadlock_timeout')")
    log "postgres: $settings"
    cat >"$WORK/transfer.sql" <<EOF
\\set a random(0, $((ACCOUNTS - 1)))
\\set b random(0, $((ACCOUNTS - 1)))
\\set amt random(1, 10)
BEGIN;
UPDATE accounts SET balance = balance - :amt WHERE id = :a;
UPDATE accounts SET balance = balance + :amt WHERE id = :b;
COMMIT;
EOF
    local pgb=("$PGBENCH_BIN" -h 127.0.0.1 -p "$port" -U bench -n -c "$CLIENTS" -j "$THREADS" -M prepared
        --max-tries=100 -f "$WORK/transfer.sql" -d postgres)
    if [[ $WARMUP -gt 0 ]]; then
        log "postgres: warm-up ${WARMUP}s"
        "${pgb[@]}" -T "$WARMUP" >"$WORK/pgbench.warmup.log" 2>&1 || { log "postgres: warm-up pgbench failed:"; tail -n 5 "$WORK/pgbench.warmup.log" >&2; }
    fi
    mkdir -p "$WORK/pglog"
    rc=0
    out=$(cd "$WORK/pglog" && timeout $((DURATION + 120)) "${pgb[@]}" -T "$DURATION" -r -l \
        --log-prefix="$WORK/pglog/tx" 2>&1) || rc=$?
    echo "$out" >"$WORK/pgbench.log"
    echo "$out" | grep -E '^(number of|total number|latency|initial|tps)|^ +[0-9.]+ +[0-9]+ +[0-9]+ +[A-Z]' |
        sed 's/^/    /' >&2 || true
    if [[ $rc != 0 ]]; then
        log "postgres: pgbench exited with $rc:"
        tail -n 5 <<<"$out" >&2
        BUGS+="- postgres: pgbench exited with $rc: $(tail -n 1 <<<"$out")"$'\n'
    fi
    RES_TPS[postgres]=$(awk '/^tps = / { printf "%.1f", $3; exit }' <<<"$out")
    RES_TPS[postgres]=${RES_TPS[postgres]:-n/a}
    RES_RETRIES[postgres]=$(awk -F': ' '/^total number of retries/ { print $2; exit }' <<<"$out")
    RES_RETRIES[postgres]=${RES_RETRIES[postgres]:-n/a}
    local failed committed
    failed=$(awk -F': ' '/^number of failed transactions/ { split($2, f, " "); print f[1]; exit }' <<<"$out")
    committed=$(awk -F': ' '/^number of transactions actually processed/ { print $2; exit }' <<<"$out")
    # Per-transaction log (-l): client tx_no latency_us script epoch_s epoch_us
    # [retries]; the latency is "failed" for a transaction that failed.
    local pct
    pct=$({ cat "$WORK"/pglog/tx.* 2>/dev/null || true; } | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "n/a n/a"; exit }
            r50 = int(0.50 * NR + 0.999999); r99 = int(0.99 * NR + 0.999999)
            printf "%.3f %.3f\n", v[r50] / 1000, v[r99] / 1000 }')
    RES_P50[postgres]=${pct% *}
    RES_P99[postgres]=${pct#* }
    RES_EXTRA[postgres]="committed ${committed:-n/a}, failed ${failed:-n/a}, $(awk '/^latency average/ { print $0; exit }' <<<"$out")"
    sumline=$("${psql[@]}" -At -F' ' -c "SELECT sum(balance), count(*) FROM accounts" 2>&1) || sumline="n/a"
    if [[ "$sumline" == "$EXPECTED_SUM $ACCOUNTS" ]]; then
        RES_CHECK[postgres]="OK"
    else
        RES_CHECK[postgres]="FAIL (sum, rows: $sumline)"
    fi
    log "postgres: balances: sum, rows = $sumline -> ${RES_CHECK[postgres]}"
    RES_NOTE[postgres]="$PG_VERSION, run as user $PG_RUN_AS; $settings"
    stop_pg
}

# -------------------------------------------------------------------- run ---
ROUNDS=${ROUNDS:-1}
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || die "ROUNDS must be 1..99"
RES_FIELDS=(RES_TPS RES_P50 RES_P99 RES_RETRIES RES_EXTRA RES_CHECK RES_NOTE)
declare -A ROUND_OF=() # "<field> <system> <round>" -> value
read -r -a SYSTEM_LIST <<<"$SYSTEMS"
run_system() { # system; 1 if it ran
    local s=$1
    case $s in
    engram)
        start_engram engram
        run_resp engram
        ;;
    redis-always)
        start_redis redis-always --appendonly yes --appendfsync always --save ''
        run_resp redis-always
        ;;
    redis-nopersist)
        start_redis redis-nopersist --appendonly no --save ''
        run_resp redis-nopersist
        ;;
    engram-nopersist)
        start_engram engram-nopersist --appendonly no
        run_resp engram-nopersist
        ;;
    postgres)
        PG_SKIP="" # each round tries again
        pg_check
        [[ -n "$PG_SKIP" ]] || run_pg
        if [[ -n "$PG_SKIP" ]]; then
            log "postgres: skipped: $PG_SKIP"
            return 1
        fi
        ;;
    *) die "unknown system '$s' in SYSTEMS (engram, redis-always, redis-nopersist, engram-nopersist, postgres)" ;;
    esac
    return 0
}
RAN=()
for ((round = 1; round <= ROUNDS; round++)); do
    n=${#SYSTEM_LIST[@]}
    for ((i = 0; i < n; i++)); do
        s=${SYSTEM_LIST[$(((i + round - 1) % n))]}
        [[ $ROUNDS == 1 ]] || log "round $round of $ROUNDS: $s"
        run_system "$s" || continue
        for f in "${RES_FIELDS[@]}"; do
            declare -n field=$f
            ROUND_OF["$f $s $round"]=${field[$s]:-}
            unset -n field
        done
        [[ " ${RAN[*]} " == *" $s "* ]] || RAN+=("$s")
    done
done

# The median round of each system (by transfers/s) fills RES_*; the
# per-round ratios are kept for the report.
median() { tr ' ' '\n' | grep -E '^[0-9]+([.][0-9]+)?$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
ROUND_TPS=()
for s in "${RAN[@]}"; do
    all=""
    for ((round = 1; round <= ROUNDS; round++)); do all+="${ROUND_OF["RES_TPS $s $round"]:-} "; done
    ROUND_TPS[${#ROUND_TPS[@]}]="$s: $all"
    med=$(median <<<"$all")
    for ((round = 1; round <= ROUNDS; round++)); do
        if [[ "${ROUND_OF["RES_TPS $s $round"]:-}" == "$med" ]]; then
            for f in "${RES_FIELDS[@]}"; do
                declare -n field=$f
                field[$s]=${ROUND_OF["$f $s $round"]}
                unset -n field
            done
            break
        fi
    done
done
round_ratios() { # a b -> "median (r1 r2 ...)" of the per-round ratios a/b
    local out="" r
    for ((round = 1; round <= ROUNDS; round++)); do
        r=$(ratio "${ROUND_OF["RES_TPS $1 $round"]:-n/a}" "${ROUND_OF["RES_TPS $2 $round"]:-n/a}")
        out+="$r "
    done
    if [[ $ROUNDS == 1 ]]; then echo "${out% }"; else echo "$(median <<<"$out") (per round: ${out% })"; fi
}

# ----------------------------------------------------------------- report ---
ELAPSED=$(awk -v a="$T_START" -v b="$(now_s)" 'BEGIN { printf "%.0f", b - a }')
TABLE="| system | transfers/s | p50 ms | p99 ms | retries | balances | details |"$'\n'
TABLE+="|---|---:|---:|---:|---:|---|---|"$'\n'
for s in "${RAN[@]}"; do
    TABLE+="| $s | ${RES_TPS[$s]} | ${RES_P50[$s]} | ${RES_P99[$s]} | ${RES_RETRIES[$s]} | ${RES_CHECK[$s]} | ${RES_EXTRA[$s]} |"$'\n'
done
[[ -z "$PG_SKIP" || " ${RAN[*]} " == *" postgres "* ]] || TABLE+="| postgres | skipped | | | | | $PG_SKIP |"$'\n'
RATIOS="- engram/postgres: $(round_ratios engram postgres) (target >= 5)"$'\n'
RATIOS+="- engram/redis-always: $(round_ratios engram redis-always) (target >= 1.5)"$'\n'
RATIOS+="- engram/redis-nopersist: $(round_ratios engram redis-nopersist); redis-nopersist/redis-always: $(round_ratios redis-nopersist redis-always) (the most any server could gain over redis-always here without giving up round trips)"$'\n'
if [[ " ${RAN[*]} " == *" engram-nopersist "* ]]; then
    RATIOS+="- engram without its WAL: engram-nopersist/postgres: $(round_ratios engram-nopersist postgres);"
    RATIOS+=" engram-nopersist/redis-always: $(round_ratios engram-nopersist redis-always); engram/engram-nopersist: $(round_ratios engram engram-nopersist)"
    RATIOS+=" (what durability costs engram here; not a strict ceiling: with THREADS=2 on 2 cores, engram-nopersist's busy polling competes with the two load threads, which the durable engram, sleeping while a batch is in flight, does not)"$'\n'
fi
if [[ $ROUNDS != 1 ]]; then
    RATIOS+="- transfers/s per round:"
    for line in "${ROUND_TPS[@]}"; do RATIOS+=" ${line% };"; done
    RATIOS="${RATIOS%;}"$'\n'
fi

REPORT="## Transactions (issue 4): bench/transfer.sh, $(report_title)"$'\n\n'
REPORT+="Command: \`$CMDLINE\`"$'\n\n'
REPORT+="$CLIENTS clients, $ACCOUNTS accounts of $INITIAL, amounts 1..10; ${WARMUP}s warm-up then ${DURATION}s measured per system,"
REPORT+=" systems run one after the other, $ROUNDS round(s) in rotating order, each on a fresh server (table: each system's median round). engram (defaults: appendonly yes, appendfsync always) and $(redis_version)"
REPORT+=" \`--appendonly yes --appendfsync always --save ''\` (redis-always), \`--appendonly no --save ''\` (redis-nopersist, not durable), and engram \`--appendonly no\` (engram-nopersist, not durable): bench/transfer.c with $THREADS epoll threads, WATCH a b / GET a / GET b /"
REPORT+=" MULTI DECRBY INCRBY EXEC (4 round trips), retry on a null EXEC."
REPORT+=" postgres: \`pgbench -c $CLIENTS -j $THREADS -M prepared --max-tries=100 -n -T $DURATION -r -l\` over TCP,"
REPORT+=" BEGIN / UPDATE a / UPDATE b / COMMIT (4 round trips), p50/p99 from the -l log."
REPORT+=" Latency: per committed transfer, first WATCH/BEGIN to the EXEC/COMMIT reply, retries included."
REPORT+=" Round trip us (RESP systems, replies inside the measured window): the mean time from sending a request to its whole reply, over WATCH, GET a and GET b (one command each) and over MULTI DECRBY INCRBY EXEC (sent together); on a durable server the difference is about what waiting for the EXEC's fsync adds to a transfer."
REPORT+=" CPU cores used (RESP systems, over warm-up + run): the load generator's and the server's CPU time (user + system, all threads) / wall time; the machine has $(nproc) cores, so client + server near $(nproc) means the machine, not the server, set the pace."
REPORT+=" Load average at start $LOAD_START, at end $(loadavg); run took ${ELAPSED}s; data dirs under ${TMPDIR:-/tmp} ($(fs_desc "$WORK"))."$'\n\n'
REPORT+="$TABLE"$'\n'
REPORT+="$RATIOS"
for s in "${RAN[@]}"; do
    [[ -z "${RES_NOTE[$s]:-}" ]] || REPORT+="- $s: ${RES_NOTE[$s]}"$'\n'
done
if [[ -n "$BUGS" ]]; then
    REPORT+=$'\n'"Problems seen:"$'\n\n'"$BUGS"
fi

echo
echo "$REPORT"
append_results "$RESULTS_FILE" "$REPORT"
log "appended results to $RESULTS_FILE"
