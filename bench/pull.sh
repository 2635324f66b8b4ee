#!/usr/bin/env bash
# Image figures of our daemon (`docker -d`, release build) against Debian's
# dockerd 20.10, side by side on this machine in one run:
#   1. cold pull of a ~100 MB, 5-layer image from a loopback registry
#      (distribution 2.8, plain HTTP), wall time of `docker pull` with the
#      real docker CLI v28, a fresh data root per pull, rounds alternating
#      ours / dockerd / the floor;
#   2. the floor: the same blobs fetched with curl and unpacked with
#      `gunzip | tar -x` (one pipeline per layer, all layers at once);
#   3. the daemon's peak RSS during the pull (VmHWM of the daemon process);
#   4. `docker images` with 100 images loaded into each daemon, timed by
#      hyperfine (the CLI v28, and curl of GET /images/json without the CLI).
# Prints a markdown table and writes it to bench/results/pull-latest.md (raw
# figures and logs go to bench/results/pull-raw/). See bench/README.md.
#
# Knobs (environment):
#   BENCH_PULL_ROUNDS=5       pull rounds (each: ours, dockerd, floor)
#   BENCH_PULL_MB=100         size of the image (uncompressed)
#   BENCH_PULL_LAYERS=5       its layers
#   BENCH_IMAGES_COUNT=100    images for the `docker images` figure
#   BENCH_HYPERFINE_RUNS=50   hyperfine --runs for `docker images`
#   BENCH_SKIP_BUILD=1        use target/release/docker as it is (no cargo build)
#   BENCH_OURS=path           our binary (default: target/release/docker)
set -euo pipefail
unset DEBUG RUST_LOG

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
ROUNDS=${BENCH_PULL_ROUNDS:-5}
MB=${BENCH_PULL_MB:-100}
LAYERS=${BENCH_PULL_LAYERS:-5}
COUNT=${BENCH_IMAGES_COUNT:-100}
HF_RUNS=${BENCH_HYPERFINE_RUNS:-50}

[[ $(id -u) == 0 ]] || die "run as root (dockerd needs it)"
[[ -x $CLI ]] || die "the docker CLI v28 is expected at $CLI"
need_tools dockerd:docker.io containerd:containerd docker-registry:docker-registry skopeo:skopeo \
    hyperfine:hyperfine curl:curl python3:python3
build_ours

# --- scratch space and clean-up ----------------------------------------------
WORK=$(mktemp -d /tmp/docker-pull-bench.XXXXXX)
DATA=$WORK/data
mkdir -p "$DATA" "$RESULTS"
REG_PID=""
BG_PID=""

cleanup() {
    local rc=$?
    set +e
    [[ -n $BG_PID ]] && stop_tree "$BG_PID"
    [[ -n $REG_PID ]] && stop_tree "$REG_PID"
    kill_leftovers "$WORK"
    remove_state "$WORK/daemons"
    if [[ -d $DATA ]]; then
        rm -rf "$RESULTS/pull-raw"
        mkdir -p "$RESULTS/pull-raw"
        cp -r "$DATA/." "$RESULTS/pull-raw/" 2>/dev/null
    fi
    remove_state "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts daemon $1 ("ours" or "dockerd") with its state in $2, in the
# background (BG_PID), and waits until /_ping answers on $2/docker.sock.
start_daemon() {
    local which=$1 dir=$2
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
    BG_PID=$!
    wait_ping "$dir/docker.sock" "$BG_PID" "$dir/daemon.log"
}

stop_daemon() {
    local which=$1 dir=$2
    stop_tree "$BG_PID"
    BG_PID=""
    cp "$dir/daemon.log" "$DATA/$which-$3.log" 2>/dev/null || true
    remove_state "$dir"
}

# --- the registry and the seed images ------------------------------------------
REG_PORT=$(free_port)
REG=127.0.0.1:$REG_PORT
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: $REG
EOF
docker-registry serve "$WORK/registry.yml" >"$DATA/registry.log" 2>&1 &
REG_PID=$!
for ((i = 0; i < 200; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/" 2>/dev/null) == 200 ]] && break
    sleep 0.05
done
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/") == 200 ]] || die "the registry does not answer on $REG"
log "registry (distribution $(docker-registry --version | awk '{print $3}')) on $REG"
python3 "$HERE/seed_images.py" big --registry "$REG" --out "$WORK/seed" --mb "$MB" --layers "$LAYERS"
python3 "$HERE/seed_images.py" many --out "$WORK/seed/many.tar" --count "$COUNT"
cp "$WORK/seed/big.json" "$DATA/big.json"
IMAGE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reference"])' "$WORK/seed/big.json")
WANT_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image_id"])' "$WORK/seed/big.json")
mapfile -t BLOBS < <(python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$WORK/seed/big.json")

{
    machine_env
    echo "registry=$(docker-registry --version)"
    echo "hyperfine=$(hyperfine --version)"
    echo "rounds=$ROUNDS"
    echo "image=$IMAGE"
    echo "count=$COUNT"
} >"$DATA/machine.env"
cat "$DATA/machine.env" >&2

# --- 1-3: cold pulls, alternating, and the floor ------------------------------------
# Each pull: a fresh daemon on a fresh root; the clock runs around the CLI's
# `docker pull` only (the daemon is up and idle before it). VmHWM of the
# daemon process is read after the pull: its peak RSS since start, which for
# a daemon that was idle until the pull is its peak during the pull.
floor() {
    local dir=$1 d pids=() p
    mkdir -p "$dir"
    curl -sf -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        "http://$REG/v2/bench/big/manifests/latest"
    for d in "${BLOBS[@]}"; do
        mkdir -p "$dir/${d:7:12}"
        (set -o pipefail; curl -sf "http://$REG/v2/bench/big/blobs/$d" | gunzip | tar -x -C "$dir/${d:7:12}") &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || die "the floor's download/unpack of a layer failed"; done
}

for ((round = 1; round <= ROUNDS; round++)); do
    for which in ours dockerd floor; do
        dir=$WORK/daemons/$which-$round
        if [[ $which == floor ]]; then
            t0=$(now)
            floor "$dir"
            t1=$(now)
            du -sb "$dir" | awk '{print $1}' >"$DATA/floor-$round.bytes"
            remove_state "$dir"
        else
            start_daemon "$which" "$dir"
            t0=$(now)
            "$CLI" -H "unix://$dir/docker.sock" pull "$IMAGE" >"$DATA/$which-$round.pull.txt" 2>&1 ||
                die "$which: docker pull failed: $(tail -n 3 "$DATA/$which-$round.pull.txt")"
            t1=$(now)
            awk '/^VmHWM/ {print $2}' "/proc/$BG_PID/status" >"$DATA/$which-$round.hwm_kb"
            got=$("$CLI" -H "unix://$dir/docker.sock" inspect -f '{{.Id}}' "$IMAGE")
            [[ $got == "$WANT_ID" ]] || die "$which pulled $got, expected $WANT_ID"
            stop_daemon "$which" "$dir" "$round"
        fi
        echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >"$DATA/$which-$round.secs"
        log "pull round $round/$ROUNDS $which: $(cat "$DATA/$which-$round.secs") s"
    done
done

# --- 4: `docker images` with COUNT images ------------------------------------------
# Both daemons up at once, each with the same COUNT images loaded from one
# save-format tar; hyperfine runs the real CLI against each.
declare -A SOCK
PIDS=()
for which in ours dockerd; do
    dir=$WORK/daemons/images-$which
    start_daemon "$which" "$dir"
    PIDS+=("$BG_PID")
    SOCK[$which]=$dir/docker.sock
    "$CLI" -H "unix://$dir/docker.sock" load -i "$WORK/seed/many.tar" >"$DATA/images-$which.load.txt" 2>&1 ||
        die "$which: docker load failed: $(tail -n 3 "$DATA/images-$which.load.txt")"
    n=$("$CLI" -H "unix://$dir/docker.sock" images -q | wc -l)
    echo "$n" >"$DATA/images-$which.count"
    ((n == COUNT)) || die "$which lists $n images after loading $COUNT"
done
BG_PID=""
hyperfine -N --warmup 5 --runs "$HF_RUNS" --export-json "$DATA/images-hyperfine.json" \
    -n ours "$CLI -H unix://${SOCK[ours]} images" \
    -n dockerd "$CLI -H unix://${SOCK[dockerd]} images" >"$DATA/images-hyperfine.txt" 2>&1 ||
    die "hyperfine failed: $(tail -n 5 "$DATA/images-hyperfine.txt")"
# The same list without the CLI's start-up: curl of GET /images/json.
hyperfine -N --warmup 5 --runs "$HF_RUNS" --export-json "$DATA/images-api-hyperfine.json" \
    -n ours "curl -sf --unix-socket ${SOCK[ours]} -o /dev/null http://localhost/images/json" \
    -n dockerd "curl -sf --unix-socket ${SOCK[dockerd]} -o /dev/null http://localhost/images/json" \
    >"$DATA/images-api-hyperfine.txt" 2>&1 ||
    die "hyperfine failed: $(tail -n 5 "$DATA/images-api-hyperfine.txt")"
# And the daemon's own time for it, without any process start: curl's
# time_total (request sent → last byte) of each of HF_RUNS requests.
for which in ours dockerd; do
    for _ in $(seq 1 "$HF_RUNS"); do
        curl -sf --unix-socket "${SOCK[$which]}" -o /dev/null -w '%{time_total}\n' http://localhost/images/json
    done >"$DATA/images-api-$which.times"
done
for pid in "${PIDS[@]}"; do stop_tree "$pid"; done
remove_state "$WORK/daemons"

# --- the table ---------------------------------------------------------------------
python3 - "$DATA" >"$RESULTS/pull-latest.md" <<'EOF'
import json, os, statistics, sys
d = sys.argv[1]
env = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(d, "machine.env")) if "=" in l)
rounds = int(env["rounds"])
def nums(which, ext):
    out = []
    for r in range(1, rounds + 1):
        p = os.path.join(d, "%s-%d.%s" % (which, r, ext))
        if os.path.exists(p):
            out.append(float(open(p).read().split()[0]))
    return out
big = json.load(open(os.path.join(d, "big.json")))
tar_mb = sum(l["tar_size"] for l in big["layers"]) / 1e6
gz_mb = sum(l["size"] for l in big["layers"]) / 1e6
secs = {w: nums(w, "secs") for w in ("ours", "dockerd", "floor")}
hwm = {w: [k / 1024 for k in nums(w, "hwm_kb")] for w in ("ours", "dockerd")}
med = {w: statistics.median(v) for w, v in secs.items()}
hf = {r["command"]: r for r in json.load(open(os.path.join(d, "images-hyperfine.json")))["results"]}
print("- Date: %s" % env["date"])
print("- Machine: %s CPUs (%s), %s, kernel %s" % (env["nproc"], env["cpu"], env["os"], env["kernel"]))
print("- Ours: `%s` (release build, tree at %s)" % (env["ours"], env["ours_commit"]))
print("- dockerd: `%s`; client for both: `%s`" % (env["dockerd"], env["cli"]))
print("- Registry: `%s` on loopback, plain HTTP" % env["registry"])
print("- Image: %d layers, %.1f MB of tar, %.1f MB gzip'd; %d rounds alternating ours / dockerd / floor, fresh root each (medians)"
      % (len(big["layers"]), tar_mb, gz_mb, rounds))
print()
print("| Metric | ours | dockerd 20.10 | floor | ours / dockerd | ours / floor |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
print("| Cold pull, wall time, median (s) | %.2f | %.2f | %.2f | %.2f× | %.2f× |"
      % (med["ours"], med["dockerd"], med["floor"], med["ours"] / med["dockerd"], med["ours"] / med["floor"]))
print("| Cold pull, wall time, min (s) | %.2f | %.2f | %.2f | %.2f× | %.2f× |"
      % (min(secs["ours"]), min(secs["dockerd"]), min(secs["floor"]),
         min(secs["ours"]) / min(secs["dockerd"]), min(secs["ours"]) / min(secs["floor"])))
mo, md = statistics.median(hwm["ours"]), statistics.median(hwm["dockerd"])
print("| Daemon peak RSS (VmHWM) during the pull, median (MiB) | %.1f | %.1f | | %.2f× | |" % (mo, md, mo / md))
o, k = hf["ours"], hf["dockerd"]
print("| `docker images` with %s images, mean ± σ (ms) | %.1f ± %.1f | %.1f ± %.1f | | %.2f× | |"
      % (env["count"], o["mean"] * 1e3, o["stddev"] * 1e3, k["mean"] * 1e3, k["stddev"] * 1e3, o["mean"] / k["mean"]))
print("| `docker images` with %s images, median (ms) | %.1f | %.1f | | %.2f× | |"
      % (env["count"], o["median"] * 1e3, k["median"] * 1e3, o["median"] / k["median"]))
api = {r["command"]: r for r in json.load(open(os.path.join(d, "images-api-hyperfine.json")))["results"]}
o, k = api["ours"], api["dockerd"]
print("| `GET /images/json` with %s images (curl), median (ms) | %.1f | %.1f | | %.2f× | |"
      % (env["count"], o["median"] * 1e3, k["median"] * 1e3, o["median"] / k["median"]))
srv = {w: statistics.median(float(x) for x in open(os.path.join(d, "images-api-%s.times" % w)) if x.strip()) * 1e3
       for w in ("ours", "dockerd")}
print("| `GET /images/json` with %s images, daemon time (curl time_total), median (ms) | %.2f | %.2f | | %.2f× | |"
      % (env["count"], srv["ours"], srv["dockerd"], srv["ours"] / srv["dockerd"]))
print()
print("Per round (s): " + "; ".join("%s %s" % (w, ", ".join("%.2f" % s for s in v)) for w, v in secs.items()))
print()
print("Peak RSS per round (MiB): " + "; ".join("%s %s" % (w, ", ".join("%.1f" % s for s in v)) for w, v in hwm.items()))
print()
print("The floor: curl of the manifest, then one `curl | gunzip | tar -x` per layer, all layers at once. "
      "`docker images` runs the docker CLI v28 (`hyperfine -N`, 5 warm-up runs), so both figures include the CLI's own start.")
EOF
cat "$RESULTS/pull-latest.md"
log "written to $RESULTS/pull-latest.md (raw data and logs in $RESULTS/pull-raw/)"
