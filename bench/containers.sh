#!/usr/bin/env bash
# Container figures of our daemon (`docker -d`, release build) against
# Debian's dockerd 20.10, side by side on this machine in one run, the same
# docker CLI v28 driving both, the same busybox image (Debian's static
# busybox imported into each):
#   1. `docker run --rm busybox true`, wall time (hyperfine); the floor is
#      `crun run` of the same rootfs as an OCI bundle (`runc run` on hosts
#      where crun refuses the cgroup set-up);
#   2. `docker ps -a` with 200 containers (hyperfine), and the daemon's own
#      time for GET /containers/json?all=1 (curl time_total);
#   3. 20 concurrent `docker run -d busybox sleep 600`, from launch until
#      all 20 CLIs have returned (each returns once its container runs);
#   4. the daemon's resident memory with 50 containers running (VmRSS of the
#      daemon process, and the PSS of everything that keeps the containers:
#      for dockerd that adds containerd and one shim per container; for
#      ours, one small monitor per container).
# Networking is off for both (-b none / --bridge none, no iptables). Prints a
# markdown table and writes it to bench/results/containers-latest.md (raw
# figures and logs go to bench/results/containers-raw/). See bench/README.md.
#
# Knobs (environment):
#   BENCH_RUN_RUNS=30         hyperfine --runs for `docker run --rm` and the floor
#   BENCH_PS_COUNT=200        containers for the `docker ps -a` figure
#   BENCH_PS_RUNS=30          hyperfine --runs for `docker ps -a`
#   BENCH_CONCURRENT=20       containers started at once for figure 3
#   BENCH_CONCURRENT_ROUNDS=3 rounds of figure 3 (alternating; medians)
#   BENCH_RSS_COUNT=50        running containers for the RSS figure
#   BENCH_SKIP_BUILD=1        use target/release/docker as it is (no cargo build)
#   BENCH_OURS=path           our binary (default: target/release/docker)
set -euo pipefail
unset DEBUG RUST_LOG

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
RUN_RUNS=${BENCH_RUN_RUNS:-30}
PS_COUNT=${BENCH_PS_COUNT:-200}
PS_RUNS=${BENCH_PS_RUNS:-30}
CONCURRENT=${BENCH_CONCURRENT:-20}
CONCURRENT_ROUNDS=${BENCH_CONCURRENT_ROUNDS:-3}
RSS_COUNT=${BENCH_RSS_COUNT:-50}

[[ $(id -u) == 0 ]] || die "run as root (both daemons need it)"
[[ -x $CLI ]] || die "the docker CLI v28 is expected at $CLI"
need_tools dockerd:docker.io containerd:containerd crun:crun hyperfine:hyperfine curl:curl python3:python3 \
    /bin/busybox:busybox-static
build_ours

# --- scratch space and clean-up ----------------------------------------------
WORK=$(mktemp -d /tmp/docker-containers-bench.XXXXXX)
DATA=$WORK/data
mkdir -p "$DATA" "$RESULTS"
declare -A PID SOCK

cleanup() {
    local rc=$?
    set +e
    stop_daemons
    kill_leftovers "$WORK"
    crun --root "$WORK/crun" delete -f floor >/dev/null 2>&1
    runc --root "$WORK/crun" delete -f floor >/dev/null 2>&1
    save_raw containers-raw
    remove_state "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# Starts daemon $1 ("ours" or "dockerd") under $WORK/$1 and waits for
# /_ping on its socket; PID[$1], SOCK[$1].
start_daemon() {
    local which=$1 dir=$WORK/$1
    mkdir -p "$dir"
    case $which in
    ours)
        "$OURS" -d -H "unix://$dir/docker.sock" -g "$dir/root" -p "$dir/docker.pid" -b none --iptables=false \
            </dev/null >"$dir/daemon.log" 2>&1 &
        ;;
    dockerd)
        echo '{}' >"$dir/daemon.json"
        dockerd --config-file "$dir/daemon.json" --bridge none --iptables=false --ip-masq=false \
            --data-root "$dir/root" --exec-root "$dir/exec" -H "unix://$dir/docker.sock" \
            --pidfile "$dir/docker.pid" </dev/null >"$dir/daemon.log" 2>&1 &
        ;;
    esac
    PID[$which]=$!
    SOCK[$which]=$dir/docker.sock
    wait_ping "$dir/docker.sock" "${PID[$which]}" "$dir/daemon.log"
}

dk() { local which=$1; shift; "$CLI" -H "unix://${SOCK[$which]}" "$@"; }

# Removes every container of daemon $1 (not timed).
clear_containers() {
    dk "$1" ps -aq | xargs -r -n 50 "$CLI" -H "unix://${SOCK[$1]}" rm -f >/dev/null
    [[ -z $(dk "$1" ps -aq) ]] || die "$1 still lists containers after rm -f"
}

# Resident memory (KiB) of pid $1 alone.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# Proportional set size (KiB) summed over the given pids: pages shared by
# several processes (one binary mapped by 50 monitors) count once in all.
pss_kb() {
    local total=0 p
    for p in "$@"; do
        total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
# Everything daemon $1 runs to keep containers, but not the containers'
# own processes: ours, the daemon and its monitors (its descendants minus
# the containers); dockerd, itself, its containerd, and the shims, which
# leave its tree (they are re-parented) but hold this daemon's exec root
# in their command line.
support_pids() {
    local which=$1 top=${PID[$1]} payload
    payload=" $(for id in $(dk "$which" ps -q --no-trunc); do dk "$which" inspect -f '{{.State.Pid}}' "$id"; done | tr '\n' ' ') "
    { echo "$top"; descendants "$top"; pgrep -f -- "containerd-shim.*$WORK/$which/" || true; } | sort -u |
        while read -r p; do [[ $payload == *" $p "* ]] || echo "$p"; done
}

# --- the image and the floor's bundle ----------------------------------------
ROOTFS=$WORK/rootfs
busybox_rootfs "$ROOTFS"
tar -C "$ROOTFS" -cf "$WORK/busybox.tar" .

BUNDLE=$WORK/bundle
mkdir -p "$BUNDLE" "$WORK/crun"
(cd "$BUNDLE" && crun spec)
python3 - "$BUNDLE/config.json" "$ROOTFS" <<'EOF'
import json, sys
path, rootfs = sys.argv[1], sys.argv[2]
spec = json.load(open(path))
spec["root"] = {"path": rootfs, "readonly": False}
spec["process"]["args"] = ["true"]
spec["process"]["terminal"] = False
json.dump(spec, open(path, "w"), indent=1)
EOF
# crun is the floor the issue names, but crun 1.8 refuses a cgroup v1/v2
# hybrid host ("cgroups in hybrid mode not supported"); runc, the runtime
# dockerd itself uses, is the floor there.
FLOOR_RT=crun
if ! crun --root "$WORK/crun" run --bundle "$BUNDLE" floor 2>"$DATA/crun.err"; then
    log "crun cannot run here ($(head -n 1 "$DATA/crun.err")): runc is the floor"
    FLOOR_RT=runc
    runc --root "$WORK/crun" run --bundle "$BUNDLE" floor || die "runc run of the bundle failed"
fi

for which in ours dockerd; do
    start_daemon "$which"
    dk "$which" import "$WORK/busybox.tar" busybox >/dev/null
    [[ $(dk "$which" run --rm busybox echo ok) == ok ]] || die "$which cannot run busybox"
done

{
    machine_env
    echo "floor=$($FLOOR_RT --version | head -n 1)"
    echo "hyperfine=$(hyperfine --version)"
    echo "run_runs=$RUN_RUNS"
    echo "ps_count=$PS_COUNT"
    echo "concurrent=$CONCURRENT"
    echo "concurrent_rounds=$CONCURRENT_ROUNDS"
    echo "rss_count=$RSS_COUNT"
} >"$DATA/machine.env"
cat "$DATA/machine.env" >&2

# --- 1: docker run --rm busybox true -----------------------------------------
# Both daemons are up and idle; hyperfine alternates nothing, so each command
# gets its own warm-up before its runs.
log "run --rm: $RUN_RUNS runs each"
hyperfine -N --warmup 3 --runs "$RUN_RUNS" --export-json "$DATA/run-hyperfine.json" \
    -n ours "$CLI -H unix://${SOCK[ours]} run --rm busybox true" \
    -n dockerd "$CLI -H unix://${SOCK[dockerd]} run --rm busybox true" \
    -n floor "$FLOOR_RT --root $WORK/crun run --bundle $BUNDLE floor" >"$DATA/run-hyperfine.txt" 2>&1 ||
    die "hyperfine failed: $(tail -n 5 "$DATA/run-hyperfine.txt")"
for which in ours dockerd; do
    [[ -z $(dk "$which" ps -aq) ]] || die "$which kept a --rm container"
done

# --- 2: docker ps -a with PS_COUNT containers --------------------------------
for which in ours dockerd; do
    log "$which: creating $PS_COUNT containers"
    seq 1 "$PS_COUNT" | xargs -P 4 -I{} "$CLI" -H "unix://${SOCK[$which]}" create --name "c{}" busybox true >/dev/null
    n=$(dk "$which" ps -aq | wc -l)
    ((n == PS_COUNT)) || die "$which lists $n containers, expected $PS_COUNT"
done
hyperfine -N --warmup 3 --runs "$PS_RUNS" --export-json "$DATA/ps-hyperfine.json" \
    -n ours "$CLI -H unix://${SOCK[ours]} ps -a" \
    -n dockerd "$CLI -H unix://${SOCK[dockerd]} ps -a" >"$DATA/ps-hyperfine.txt" 2>&1 ||
    die "hyperfine failed: $(tail -n 5 "$DATA/ps-hyperfine.txt")"
for which in ours dockerd; do
    for _ in $(seq 1 "$PS_RUNS"); do
        curl -sf --unix-socket "${SOCK[$which]}" -o /dev/null -w '%{time_total}\n' \
            'http://localhost/v1.24/containers/json?all=1'
    done >"$DATA/ps-api-$which.times"
    clear_containers "$which"
done

# --- 3: CONCURRENT docker run -d at once -------------------------------------
for ((round = 1; round <= CONCURRENT_ROUNDS; round++)); do
    for which in ours dockerd; do
        pids=()
        t0=$(now)
        for i in $(seq 1 "$CONCURRENT"); do
            "$CLI" -H "unix://${SOCK[$which]}" run -d busybox sleep 600 >"$DATA/concurrent-$which-$round-$i.txt" 2>&1 &
            pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || die "$which: a docker run -d failed"; done
        t1=$(now)
        n=$(dk "$which" ps -q | wc -l)
        ((n == CONCURRENT)) || die "$which runs $n containers, expected $CONCURRENT"
        echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >"$DATA/concurrent-$which-$round.secs"
        log "concurrent round $round/$CONCURRENT_ROUNDS $which: $(cat "$DATA/concurrent-$which-$round.secs") s"
        clear_containers "$which"
    done
done

# --- 4: RSS with RSS_COUNT containers running --------------------------------
for which in ours dockerd; do
    log "$which: starting $RSS_COUNT containers"
    seq 1 "$RSS_COUNT" | xargs -P 4 -I{} "$CLI" -H "unix://${SOCK[$which]}" run -d busybox sleep 600 >/dev/null
    n=$(dk "$which" ps -q | wc -l)
    ((n == RSS_COUNT)) || die "$which runs $n containers, expected $RSS_COUNT"
    sleep 2 # let both settle (allocator caches, containerd's gc) before the one sample
    rss_kb "${PID[$which]}" >"$DATA/rss-$which.kb"
    mapfile -t support < <(support_pids "$which")
    echo "${#support[@]}" >"$DATA/rss-support-$which.count"
    pss_kb "${support[@]}" >"$DATA/rss-support-$which.kb"
    clear_containers "$which"
done

# --- the table ---------------------------------------------------------------
python3 - "$DATA" >"$RESULTS/containers-latest.md" <<'EOF'
import json, os, statistics, sys
d = sys.argv[1]
env = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(d, "machine.env")) if "=" in l)
def hf(name):
    return {r["command"]: r for r in json.load(open(os.path.join(d, name)))["results"]}
def num(name):
    return float(open(os.path.join(d, name)).read().split()[0])
run, ps = hf("run-hyperfine.json"), hf("ps-hyperfine.json")
print("- Date: %s" % env["date"])
print("- Machine: %s CPUs (%s), %s, kernel %s" % (env["nproc"], env["cpu"], env["os"], env["kernel"]))
print("- Ours: `%s` (release build, tree at %s)" % (env["ours"], env["ours_commit"]))
print("- dockerd: `%s`; client for both: `%s`; floor: `%s`" % (env["dockerd"], env["cli"], env["floor"]))
print("- Both daemons up at once, networking off (`-b none` / `--bridge none`), busybox imported into each")
print()
print("| Metric | ours | dockerd 20.10 | floor | ours / dockerd | ours / floor | goal |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
o, k, f = run["ours"], run["dockerd"], run["floor"]
r = o["median"] / k["median"]
print("| `docker run --rm busybox true`, median (ms) | %.1f | %.1f | %.1f | %.2f× | %.2f× | ≤ 0.15×: %s |"
      % (o["median"] * 1e3, k["median"] * 1e3, f["median"] * 1e3, r, o["median"] / f["median"], "met" if r <= 0.15 else "not met"))
print("| `docker run --rm busybox true`, mean ± σ (ms) | %.1f ± %.1f | %.1f ± %.1f | %.1f ± %.1f | %.2f× | %.2f× | |"
      % (o["mean"] * 1e3, o["stddev"] * 1e3, k["mean"] * 1e3, k["stddev"] * 1e3, f["mean"] * 1e3, f["stddev"] * 1e3,
         o["mean"] / k["mean"], o["mean"] / f["mean"]))
o, k = ps["ours"], ps["dockerd"]
r = o["median"] / k["median"]
print("| `docker ps -a`, %s containers, median (ms) | %.1f | %.1f | | %.2f× | | ≤ 0.3×: %s |"
      % (env["ps_count"], o["median"] * 1e3, k["median"] * 1e3, r, "met" if r <= 0.3 else "not met"))
srv = {w: statistics.median(float(x) for x in open(os.path.join(d, "ps-api-%s.times" % w)) if x.strip()) * 1e3
       for w in ("ours", "dockerd")}
print("| `GET /containers/json?all=1`, %s containers, daemon time (curl time_total), median (ms) | %.2f | %.2f | | %.2f× | | |"
      % (env["ps_count"], srv["ours"], srv["dockerd"], srv["ours"] / srv["dockerd"]))
rounds = int(env["concurrent_rounds"])
conc = {w: [num("concurrent-%s-%d.secs" % (w, i)) for i in range(1, rounds + 1)] for w in ("ours", "dockerd")}
mo, mk = statistics.median(conc["ours"]), statistics.median(conc["dockerd"])
print("| %s concurrent `docker run -d` until all run, median of %d (s) | %.2f | %.2f | | %.2f× | | ≤ 0.3×: %s |"
      % (env["concurrent"], rounds, mo, mk, mo / mk, "met" if mo / mk <= 0.3 else "not met"))
rss = {w: num("rss-%s.kb" % w) / 1024 for w in ("ours", "dockerd")}
tree = {w: num("rss-support-%s.kb" % w) / 1024 for w in ("ours", "dockerd")}
procs = {w: int(num("rss-support-%s.count" % w)) for w in ("ours", "dockerd")}
r = rss["ours"] / rss["dockerd"]
print("| daemon RSS with %s containers running (MiB) | %.1f | %.1f | | %.2f× | | ≤ 0.2×: %s |"
      % (env["rss_count"], rss["ours"], rss["dockerd"], r, "met" if r <= 0.2 else "not met"))
print("| the same, PSS of everything that keeps the containers: ours %d processes, dockerd %d (MiB) | %.1f | %.1f | | %.2f× | | |"
      % (procs["ours"], procs["dockerd"], tree["ours"], tree["dockerd"], tree["ours"] / tree["dockerd"]))
print()
print("Concurrent rounds (s): " + "; ".join("%s %s" % (w, ", ".join("%.2f" % s for s in v)) for w, v in conc.items()))
print()
print("`docker run` and `docker ps` run the docker CLI v28 (`hyperfine -N`, 3 warm-up runs), so they include the "
      "CLI's own start. The floor is `crun run` (or `runc run` where crun refuses the host's cgroups) of the same busybox "
      "rootfs as an OCI bundle (crun's default spec, `true`). dockerd's side is dockerd + containerd + one containerd-shim per container; ours is the daemon + one "
      "`dockerinit` monitor per container; the containers' own processes are left out of both.")
EOF
cat "$RESULTS/containers-latest.md"
log "written to $RESULTS/containers-latest.md (raw data and logs in $RESULTS/containers-raw/)"
