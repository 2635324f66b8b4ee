#!/usr/bin/env bash
# Bridge-network figures of our daemon (`docker -d`, release build) against
# Debian's dockerd 20.10, side by side on this machine in one run, the same
# docker CLI v28 driving both, the same busybox image imported into each:
#   1. `docker run --rm busybox true` with the default bridge network (a
#      veth pair, an address, the iptables rules of each), wall time
#      (hyperfine);
#   2. TCP throughput to a container that discards what it reads, by three
#      paths: straight to the container's address on the bridge; through a
#      published port on the bridge's own (non-loopback) address, i.e. the
#      iptables DNAT path; and through the same port on 127.0.0.1, i.e. the
#      userland proxy (each daemon's own: ours in-process, dockerd's
#      docker-proxy).
# Each daemon runs in a network namespace of its own (`ip netns add`), with
# its default bridge made there on a subnet of this script's: the host's
# interfaces and iptables are not touched, the two daemons cannot see each
# other's rules, and every byte stays on this machine. Prints a markdown
# table and writes it to bench/results/network-latest.md (raw figures and
# logs go to bench/results/network-raw/). See bench/README.md.
#
# Knobs (environment):
#   BENCH_RUN_RUNS=30         hyperfine --runs for `docker run --rm`
#   BENCH_TPUT_MB=512         MiB sent per throughput sample
#   BENCH_TPUT_ROUNDS=5       samples per path and daemon (median reported)
#   BENCH_SKIP_BUILD=1        use target/release/docker as it is (no cargo build)
#   BENCH_OURS=path           our binary (default: target/release/docker)
set -euo pipefail
unset DEBUG RUST_LOG

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
RUN_RUNS=${BENCH_RUN_RUNS:-30}
TPUT_MB=${BENCH_TPUT_MB:-512}
TPUT_ROUNDS=${BENCH_TPUT_ROUNDS:-5}

[[ $(id -u) == 0 ]] || die "run as root (both daemons need it)"
[[ -x $CLI ]] || die "the docker CLI v28 is expected at $CLI"
need_tools dockerd:docker.io containerd:containerd hyperfine:hyperfine curl:curl python3:python3 \
    iptables:iptables nsenter:util-linux ip:iproute2 /bin/busybox:busybox-static
build_ours

WORK=$(mktemp -d /tmp/docker-network-bench.XXXXXX)
DATA=$WORK/data
mkdir -p "$DATA" "$RESULTS"
declare -A PID SOCK NS BIP
NS[ours]=dkbench-ours-$$
NS[dockerd]=dkbench-dockerd-$$
BIP[ours]=10.222.1.1/24
BIP[dockerd]=10.222.2.1/24

cleanup() {
    local rc=$? which
    set +e
    stop_daemons
    kill_leftovers "$WORK"
    # The bridges, veths and iptables rules of both daemons go with these.
    for which in ours dockerd; do ip netns del "${NS[$which]}" 2>/dev/null; done
    save_raw network-raw
    remove_state "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs the rest of the line inside daemon $1's network namespace.
in_ns() { local which=$1; shift; nsenter --net="/run/netns/${NS[$which]}" -- "$@"; }

start_daemon() {
    local which=$1 dir=$WORK/$1
    mkdir -p "$dir"
    ip netns add "${NS[$which]}"
    ip -n "${NS[$which]}" link set lo up
    case $which in
    ours)
        in_ns ours "$OURS" -d -H "unix://$dir/docker.sock" -g "$dir/root" -p "$dir/docker.pid" --bip="${BIP[ours]}" \
            </dev/null >"$dir/daemon.log" 2>&1 &
        ;;
    dockerd)
        echo '{}' >"$dir/daemon.json"
        in_ns dockerd dockerd --config-file "$dir/daemon.json" --bip="${BIP[dockerd]}" \
            --data-root "$dir/root" --exec-root "$dir/exec" -H "unix://$dir/docker.sock" \
            --pidfile "$dir/docker.pid" </dev/null >"$dir/daemon.log" 2>&1 &
        ;;
    esac
    PID[$which]=$!
    SOCK[$which]=$dir/docker.sock
    wait_ping "$dir/docker.sock" "${PID[$which]}" "$dir/daemon.log"
}

dk() { local which=$1; shift; "$CLI" -H "unix://${SOCK[$which]}" "$@"; }

ROOTFS=$WORK/rootfs
busybox_rootfs "$ROOTFS"
# The throughput sink: one `cat` per connection, reading to EOF.
printf '#!/bin/sh\nexec cat >/dev/null\n' >"$ROOTFS/sink"
chmod 755 "$ROOTFS/sink"
tar -C "$ROOTFS" -cf "$WORK/busybox.tar" .

for which in ours dockerd; do
    start_daemon "$which"
    dk "$which" import "$WORK/busybox.tar" busybox >/dev/null
    [[ $(dk "$which" run --rm busybox sh -c 'ip -4 addr show eth0 | grep -c inet') == 1 ]] ||
        die "$which: a container has no eth0 address"
done

{
    machine_env
    echo "iptables=$(iptables --version)"
    echo "hyperfine=$(hyperfine --version)"
    echo "run_runs=$RUN_RUNS"
    echo "tput_mb=$TPUT_MB"
    echo "tput_rounds=$TPUT_ROUNDS"
} >"$DATA/machine.env"
cat "$DATA/machine.env" >&2

# --- 1: docker run --rm busybox true, bridge network --------------------------
log "run --rm (bridge): $RUN_RUNS runs each"
hyperfine -N --warmup 3 --runs "$RUN_RUNS" --export-json "$DATA/run-hyperfine.json" \
    -n ours "$CLI -H unix://${SOCK[ours]} run --rm busybox true" \
    -n dockerd "$CLI -H unix://${SOCK[dockerd]} run --rm busybox true" >"$DATA/run-hyperfine.txt" 2>&1 ||
    die "hyperfine failed: $(tail -n 5 "$DATA/run-hyperfine.txt")"
for which in ours dockerd; do
    [[ -z $(dk "$which" ps -aq) ]] || die "$which kept a --rm container"
done

# --- 2: TCP throughput by path -----------------------------------------------
cat >"$WORK/tput.py" <<'EOF'
# Sends MiB megabytes to HOST:PORT ROUNDS times; prints one Gbit/s figure per
# round. A round ends when the sink closes after reading everything.
import socket, sys, time
host, port, mib, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
chunk = b"\0" * (1 << 20)
deadline = time.time() + 20
while True:  # the sink starts in the background: its first accept is the signal
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) == b"":
            s.close()
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("no sink at %s:%d" % (host, port))
    time.sleep(0.1)
for _ in range(rounds):
    s = socket.create_connection((host, port))
    t0 = time.perf_counter()
    for _ in range(mib):
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    t1 = time.perf_counter()
    s.close()
    print("%.3f" % (mib * 8 * (1 << 20) / (t1 - t0) / 1e9))
EOF
declare -A SINK_IP
for which in ours dockerd; do
    dk "$which" run -d --name sink -p 15001:5001 busybox nc -ll -p 5001 -e /sink >/dev/null
    SINK_IP[$which]=$(dk "$which" inspect -f '{{.NetworkSettings.IPAddress}}' sink)
    [[ -n ${SINK_IP[$which]} ]] || die "$which: the sink has no address"
done
# Samples alternate daemon and path, round after round, so that drift on
# this shared machine hits both alike.
for ((round = 1; round <= TPUT_ROUNDS; round++)); do
    for path in direct dnat proxy; do
        for which in ours dockerd; do
            case $path in
            direct) target=("${SINK_IP[$which]}" 5001) ;;
            dnat) target=("${BIP[$which]%/*}" 15001) ;;
            proxy) target=(127.0.0.1 15001) ;;
            esac
            log "round $round/$TPUT_ROUNDS: $which $path ${target[*]}, $TPUT_MB MiB"
            in_ns "$which" python3 "$WORK/tput.py" "${target[@]}" "$TPUT_MB" 1 >>"$DATA/tput-$which-$path.gbps" ||
                die "$which $path: the throughput client failed"
        done
    done
done
for which in ours dockerd; do dk "$which" rm -f sink >/dev/null; done

python3 - "$DATA" >"$RESULTS/network-latest.md" <<'EOF'
import json, os, statistics, sys
d = sys.argv[1]
env = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(d, "machine.env")) if "=" in l)
run = {r["command"]: r for r in json.load(open(os.path.join(d, "run-hyperfine.json")))["results"]}
def tput(w, p):
    return statistics.median(float(x) for x in open(os.path.join(d, "tput-%s-%s.gbps" % (w, p))) if x.strip())
print("- Date: %s" % env["date"])
print("- Machine: %s CPUs (%s), %s, kernel %s" % (env["nproc"], env["cpu"], env["os"], env["kernel"]))
print("- Ours: `%s` (release build, tree at %s)" % (env["ours"], env["ours_commit"]))
print("- dockerd: `%s`; client for both: `%s`; `%s`" % (env["dockerd"], env["cli"], env["iptables"]))
print("- Each daemon in its own network namespace with its default bridge (made there), iptables on, userland proxy on")
print()
print("| Metric | ours | dockerd 20.10 | ours / dockerd | goal |")
print("| --- | ---: | ---: | ---: | --- |")
o, k = run["ours"], run["dockerd"]
r = o["median"] / k["median"]
print("| `docker run --rm busybox true`, bridge network, median (ms) | %.1f | %.1f | %.2f× | ≤ 0.2×: %s |"
      % (o["median"] * 1e3, k["median"] * 1e3, r, "met" if r <= 0.2 else "not met"))
print("| the same, mean ± σ (ms) | %.1f ± %.1f | %.1f ± %.1f | %.2f× | |"
      % (o["mean"] * 1e3, o["stddev"] * 1e3, k["mean"] * 1e3, k["stddev"] * 1e3, o["mean"] / k["mean"]))
names = {"direct": "straight to the container's IP", "dnat": "published port on the bridge address (iptables DNAT)",
         "proxy": "published port on 127.0.0.1 (userland proxy)"}
for p in ("direct", "dnat", "proxy"):
    o, k = tput("ours", p), tput("dockerd", p)
    print("| TCP throughput, %s, median of %s × %s MiB (Gbit/s) | %.2f | %.2f | %.2f× | |"
          % (names[p], env["tput_rounds"], env["tput_mb"], o, k, o / k))
print()
print("DNAT vs direct, ours: %.2f×; dockerd: %.2f×. Proxy vs direct, ours: %.2f×; dockerd: %.2f×."
      % (tput("ours", "dnat") / tput("ours", "direct"), tput("dockerd", "dnat") / tput("dockerd", "direct"),
         tput("ours", "proxy") / tput("ours", "direct"), tput("dockerd", "proxy") / tput("dockerd", "direct")))
print()
print("`docker run` runs the docker CLI v28 (`hyperfine -N`, 3 warm-up runs), so it includes the CLI's own start. "
      "Throughput: a Python client in the daemon's namespace sends to a busybox `nc -ll -e cat>/dev/null` sink in the "
      "container; a sample ends when the sink has read everything and closed.")
EOF
cat "$RESULTS/network-latest.md"
log "written to $RESULTS/network-latest.md (raw data and logs in $RESULTS/network-raw/)"
