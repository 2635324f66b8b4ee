#!/usr/bin/env bash
# Our daemon (`docker -d`, release build) against Debian's dockerd 20.10, side
# by side on this machine in one run:
#   1. spawn -> READY=1 (sd_notify), BENCH_RUNS times each, unix socket only;
#   2. VmRSS 1 s after READY=1 (daemon alone; dockerd also with containerd);
#   3. wrk over TCP loopback on GET /_ping and GET /version, one daemon at a
#      time.
# Prints a markdown table and writes it to bench/results/latest.md (raw data
# and daemon logs go to bench/results/raw/). See bench/README.md.
#
# Knobs (environment):
#   BENCH_RUNS=5              READY/RSS runs per daemon (plus one discarded warm-up)
#   BENCH_WRK_SECONDS=10      duration of each measured wrk run
#   BENCH_WRK_ROUNDS=3        wrk rounds per daemon, alternating (median reported)
#   BENCH_WRK_WARMUP=2        seconds of discarded wrk warm-up per endpoint (0: none)
#   BENCH_WRK_THREADS=2       wrk -t
#   BENCH_WRK_CONNECTIONS=64  wrk -c
#   BENCH_SKIP_BUILD=1        use target/release/docker as it is (no cargo build)
#   BENCH_OURS=path           our binary (default: target/release/docker)
set -euo pipefail
# Debug logging off for both daemons: ours turns it on with DEBUG in the
# environment, as Docker 1.2 did.
unset DEBUG RUST_LOG

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
RUNS=${BENCH_RUNS:-5}
WRK_SECONDS=${BENCH_WRK_SECONDS:-10}
WRK_ROUNDS=${BENCH_WRK_ROUNDS:-3}
WRK_WARMUP=${BENCH_WRK_WARMUP:-2}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
WRK_CONNS=${BENCH_WRK_CONNECTIONS:-64}

[[ $(id -u) == 0 ]] || die "run as root (dockerd needs it)"
need_tools dockerd:docker.io containerd:containerd wrk:wrk taskset:util-linux curl:curl python3:python3
build_ours

# --- scratch space and clean-up ----------------------------------------------
WORK=$(mktemp -d /tmp/docker-bench.XXXXXX)
DATA=$WORK/data
mkdir -p "$DATA" "$RESULTS"
WRK_PREFIX=()     # taskset for wrk in the pinned set-up
DAEMON_PREFIX=()  # taskset for the daemon in the pinned set-up
BG_PID=""  # the daemon under wrk
FG_PID=""  # the wrk run under way

cleanup() {
    local rc=$?
    set +e
    if [[ -n $FG_PID ]]; then kill -TERM "$FG_PID" 2>/dev/null; wait "$FG_PID" 2>/dev/null; fi
    if [[ -n $BG_PID ]]; then stop_tree "$BG_PID"; fi
    # Anything still running from our scratch space (a dockerd or its
    # containerd whose parent died): found by our unique directory, killed by id.
    kill_leftovers "$WORK"
    if [[ -d $DATA ]]; then
        rm -rf "$RESULTS/raw"
        mkdir -p "$RESULTS/raw"
        cp -r "$DATA/." "$RESULTS/raw/" 2>/dev/null
    fi
    # dockerd may leave mounts under its data or exec root.
    remove_state "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs wrk with the arguments given, its output to the file $1, in the
# background so that a signal to this script is acted on at once.
run_wrk() {
    local out=$1
    shift
    "${WRK_PREFIX[@]}" wrk "$@" >"$out" 2>&1 &
    FG_PID=$!
    wait "$FG_PID" || die "wrk $* failed: $(tail -n 3 "$out")"
    FG_PID=""
}

# Sets CMD to the command line of daemon $1 ("ours" or "dockerd") with its
# state in $2 and listening on the -H hosts that follow. dockerd gets an empty
# config file of its own so that /etc/docker/daemon.json plays no part.
daemon_cmd() {
    local which=$1 dir=$2 h
    shift 2
    mkdir -p "$dir"
    case $which in
    ours)
        CMD=("$OURS" -d)
        for h in "$@"; do CMD+=(-H "$h"); done
        CMD+=(-g "$dir/root" -p "$dir/docker.pid" -b none --iptables=false)
        ;;
    dockerd)
        echo '{}' >"$dir/daemon.json"
        CMD=(dockerd --config-file "$dir/daemon.json" --bridge none --iptables=false --ip-masq=false
            --data-root "$dir/root" --exec-root "$dir/exec")
        for h in "$@"; do CMD+=(-H "$h"); done
        CMD+=(--pidfile "$dir/docker.pid")
        ;;
    esac
}

# --- the machine ---------------------------------------------------------------
{
    machine_env
    echo "containerd=$(containerd --version)"
    echo "wrk=$(wrk --version 2>&1 | head -n1 || true)"
    echo "runs=$RUNS"
    echo "wrk_args=-t$WRK_THREADS -c$WRK_CONNS -d${WRK_SECONDS}s --latency"
    echo "wrk_warmup=$WRK_WARMUP"
    echo "wrk_rounds=$WRK_ROUNDS"
} >"$DATA/machine.env"
cat "$DATA/machine.env" >&2

# --- 1 and 2: READY=1 time and RSS -----------------------------------------------
# One discarded warm-up run per daemon (cold page cache), then RUNS runs,
# alternating ours and dockerd so drift on the machine hits both alike. Unix
# socket only, for both: dockerd slows its start-up down on purpose when it
# binds TCP without TLS.
for ((run = 0; run <= RUNS; run++)); do
    for which in ours dockerd; do
        dir=$WORK/ready-$which-$run
        label=$([[ $run == 0 ]] && echo warm-up || echo "run $run/$RUNS")
        daemon_cmd "$which" "$dir" "unix://$dir/docker.sock"
        if ! secs=$(python3 "$HERE/ready.py" --rss-after 1 --kill-after 20 \
            --log "$DATA/ready-$which-$run.log" --json "$DATA/ready-$which-$run.json" -- "${CMD[@]}"); then
            die "$which did not send READY=1 (log: $RESULTS/raw/ready-$which-$run.log)"
        fi
        log "READY=1 $which $label: ${secs} s"
        remove_state "$dir"
    done
done

# --- 3: wrk over TCP loopback, one daemon at a time -------------------------------
# Two set-ups. "shared": daemon and wrk float over all CPUs, so wrk's own CPU
# use competes with the daemon's. "pinned" (with 2+ CPUs): the daemon on CPU 1,
# wrk on CPU 0, as a client on its own machine would be; the same for both
# daemons. Rounds alternate ours and dockerd; the table takes the median of
# the rounds, since one run on a shared VM can be 15% off either way.
MODES=(shared)
if (($(nproc) >= 2)) && command -v taskset >/dev/null; then MODES+=(pinned); fi
for mode in "${MODES[@]}"; do
if [[ $mode == pinned ]]; then
    DAEMON_PREFIX=(taskset -c 1)
    WRK_PREFIX=(taskset -c 0)
else
    DAEMON_PREFIX=()
    WRK_PREFIX=()
fi
for ((round = 1; round <= WRK_ROUNDS; round++)); do
for which in ours dockerd; do
    dir=$WORK/wrk-$which
    port=$(free_port)
    daemon_cmd "$which" "$dir" "unix://$dir/docker.sock" "tcp://127.0.0.1:$port"
    log "starting $which ($mode) on tcp://127.0.0.1:$port: ${DAEMON_PREFIX[*]} ${CMD[*]}"
    "${DAEMON_PREFIX[@]}" "${CMD[@]}" </dev/null >"$DATA/wrk-$which.log" 2>&1 &
    BG_PID=$!
    ok=""
    for ((i = 0; i < 600; i++)); do
        if [[ $(curl -s --max-time 1 "http://127.0.0.1:$port/_ping" 2>/dev/null) == OK ]] &&
            [[ $(curl -s --max-time 1 --unix-socket "$dir/docker.sock" http://localhost/_ping 2>/dev/null) == OK ]]; then
            ok=1
            break
        fi
        kill -0 "$BG_PID" 2>/dev/null || break
        sleep 0.1
    done
    [[ -n $ok ]] || die "$which does not answer /_ping on tcp://127.0.0.1:$port and unix://$dir/docker.sock"
    curl -s -D "$DATA/wrk-$which-version.headers" "http://127.0.0.1:$port/version" >"$DATA/wrk-$which-version.json"
    for ep in _ping version; do
        url=http://127.0.0.1:$port/$ep
        if ((WRK_WARMUP > 0)); then
            run_wrk "$DATA/wrk-$which-$ep.warmup.txt" -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_WARMUP}s" "$url"
        fi
        log "wrk -t$WRK_THREADS -c$WRK_CONNS -d${WRK_SECONDS}s --latency $url ($which, $mode, round $round)"
        run_wrk "$DATA/wrk-$which-$ep.$mode.r$round.txt" -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${WRK_SECONDS}s" --latency "$url"
        grep -E 'Requests/sec|99%|Non-2xx|Socket errors' "$DATA/wrk-$which-$ep.$mode.r$round.txt" | sed 's/^/    /' >&2 || true
    done
    # The daemon should still be healthy after the load.
    if [[ $(curl -s --max-time 5 "http://127.0.0.1:$port/_ping" 2>/dev/null) == OK ]]; then
        echo ok >"$DATA/wrk-$which-after.txt"
    else
        echo "no answer to /_ping after the load" >"$DATA/wrk-$which-after.txt"
    fi
    stop_tree "$BG_PID"
    echo "$STOP_SECONDS" >"$DATA/wrk-$which-stop.txt"
    BG_PID=""
    remove_state "$dir"
done
done
done
WRK_PREFIX=()

# --- the table -----------------------------------------------------------------------
python3 "$HERE/report.py" "$DATA" >"$RESULTS/latest.md"
cat "$RESULTS/latest.md"
log "written to $RESULTS/latest.md (raw data and logs in $RESULTS/raw/)"
