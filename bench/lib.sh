# Shared by the bench scripts (sourced; not run on its own). The script sets
# HERE and REPO first; OURS defaults to the release build.
# shellcheck shell=bash

OURS=${BENCH_OURS:-$REPO/target/release/docker}
CLI=/usr/local/bin/docker
RESULTS=$HERE/results

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Installs with apt-get whatever is missing of the COMMAND:PACKAGE pairs
# given (a COMMAND may be a path: /bin/busybox:busybox-static).
need_tools() {
    local need=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
    done
    if ((${#need[@]})); then
        log "installing ${need[*]} with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${need[@]}" >/dev/null
    fi
}

# `cargo build --release -p cli` unless BENCH_SKIP_BUILD or BENCH_OURS say
# otherwise; then our binary must exist.
build_ours() {
    if [[ -z ${BENCH_SKIP_BUILD:-} && -z ${BENCH_OURS:-} ]]; then
        log "cargo build --release -p cli"
        (cd "$REPO" && cargo build --release -p cli)
    fi
    [[ -x $OURS ]] || die "$OURS is missing (build with: cargo build --release -p cli)"
}

# Every descendant of $1 (by id, from /proc).
descendants() {
    local p c
    for p in $(pgrep -P "$1" 2>/dev/null || true); do
        echo "$p"
        for c in $(descendants "$p"); do echo "$c"; done
    done
}

# SIGTERM to $1, up to $2 seconds (default 20; daemons stop their containers
# first), then SIGKILL to it and whatever of its tree is left. Sets
# STOP_SECONDS to the time from the SIGTERM to the end of $1.
STOP_SECONDS=""
stop_tree() {
    local top=$1 limit=${2:-20} kids=() t0 t1 i
    mapfile -t kids < <(descendants "$top")
    t0=$(date +%s.%N)
    kill -TERM "$top" 2>/dev/null || true
    for ((i = 0; i < limit * 100; i++)); do
        kill -0 "$top" 2>/dev/null || break
        sleep 0.01
    done
    if kill -0 "$top" 2>/dev/null; then
        log "pid $top still running $limit s after SIGTERM: SIGKILL"
        kill -KILL "$top" 2>/dev/null || true
    fi
    wait "$top" 2>/dev/null || true
    t1=$(date +%s.%N)
    for i in "${kids[@]}"; do kill -KILL "$i" 2>/dev/null || true; done
    STOP_SECONDS=$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')
}

# Unmounts everything under $1 (deepest first), then removes it.
remove_state() {
    local dir=$1 m
    for m in $(awk -v w="$dir/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
        umount -R "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$dir"
}

# For scripts that keep their daemons in the associative arrays PID and
# SOCK (by "ours"/"dockerd"): removes every container of each, then stops it.
stop_daemons() {
    local which
    for which in "${!PID[@]}"; do
        "$CLI" -H "unix://${SOCK[$which]}" ps -aq 2>/dev/null | xargs -r "$CLI" -H "unix://${SOCK[$which]}" rm -f >/dev/null 2>&1
        stop_tree "${PID[$which]}" 30
    done
}

# Copies $DATA and both daemons' logs ($WORK/<which>/daemon.log) to
# $RESULTS/$1, for a look after the scratch space is gone.
save_raw() {
    local dest=$RESULTS/$1 which
    [[ -d $DATA ]] || return 0
    rm -rf "$dest"
    mkdir -p "$dest"
    cp -r "$DATA/." "$dest/" 2>/dev/null
    for which in ours dockerd; do
        cp "$WORK/$which/daemon.log" "$dest/$which.log" 2>/dev/null
    done
    return 0
}

# Kills, by id, anything still running from the scratch directory $1 (a
# dockerd or containerd whose parent died).
kill_leftovers() {
    local pid
    for pid in $(pgrep -f -- "$1/" 2>/dev/null); do
        [[ $pid == "$$" ]] || kill -KILL "$pid" 2>/dev/null
    done
}

# Waits (up to 30 s) until GET /_ping answers OK on the unix socket $1
# while pid $2 lives; otherwise fails with the end of the log file $3.
wait_ping() {
    local sock=$1 pid=$2 logfile=$3 i
    for ((i = 0; i < 600; i++)); do
        [[ $(curl -s --max-time 1 --unix-socket "$sock" http://localhost/_ping 2>/dev/null) == OK ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    die "no answer to /_ping on $sock (log: $(tail -n 5 "$logfile"))"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() { date +%s.%N; }

# A busybox root filesystem in $1: Debian's static busybox, a symlink per
# applet, /etc/passwd and /etc/group.
busybox_rootfs() {
    local root=$1 applet
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [[ $applet == busybox ]] || ln -sf busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
}

# The machine.env lines every report starts with (KEY=value).
machine_env() {
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc=$(nproc)"
    echo "kernel=$(uname -sr)"
    echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "ours=$("$OURS" -v)"
    echo "ours_path=$OURS"
    echo "ours_commit=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$REPO" && git diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
    echo "dockerd=$(dockerd --version)"
    echo "cli=$("$CLI" --version 2>/dev/null || echo '?')"
}
