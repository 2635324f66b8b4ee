#!/usr/bin/env python3
"""Time from spawn to READY=1 (systemd sd_notify) of a daemon.

Usage: ready.py [options] -- COMMAND [ARG...]

Binds a unixgram socket at a fresh temporary path, spawns COMMAND with
NOTIFY_SOCKET pointing at it, and measures with time.perf_counter() from just
before Popen to the receipt of a datagram containing READY=1. Prints those
seconds on stdout (one line). Then, optionally, waits --rss-after seconds and
samples VmRSS of the daemon and of its whole process tree, and finally stops
the daemon: SIGTERM, wait up to --kill-after seconds, then SIGKILL. Whatever
is left of its process tree is killed too, and the socket removed.

With --json FILE, writes every figure (ready_s, rss_kb, tree_rss_kb,
tree, stop_s, exit code, killed) to FILE as JSON.
Exit status: 0 when READY=1 came, 1 otherwise.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def vmrss_kb(pid):
    """VmRSS of pid in kB, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return 0  # a zombie has no VmRSS line


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def children_map():
    """ppid -> [pid] for every process on the machine."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        kids.setdefault(int(fields[1]), []).append(int(name))
    return kids


def descendants(pid):
    """pid's descendants (not pid itself), depth first."""
    kids = children_map()
    out, todo = [], list(kids.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timeout", type=float, default=120.0, help="give up waiting for READY=1 after this many seconds")
    ap.add_argument("--rss-after", type=float, default=None, metavar="SECS",
                    help="sample VmRSS this many seconds after READY=1")
    ap.add_argument("--kill-after", type=float, default=20.0, help="SIGKILL if SIGTERM has not ended the daemon after this")
    ap.add_argument("--log", default=None, help="file for the daemon's stdout and stderr (default: /dev/null)")
    ap.add_argument("--json", default=None, help="write all figures as JSON to this file")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        ap.error("no daemon command given")

    sockdir = tempfile.mkdtemp(prefix="bench-notify-", dir="/tmp")
    sockpath = os.path.join(sockdir, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sockpath)
    env = dict(os.environ, NOTIFY_SOCKET=sockpath)
    log = open(args.log, "ab") if args.log else subprocess.DEVNULL

    result = {"command": cmd, "ready_s": None, "rss_kb": None, "tree_rss_kb": None, "tree": None,
              "stop_s": None, "exit_code": None, "killed": False, "leftover_killed": [], "messages": []}
    proc = None
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        deadline = t0 + args.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                print(f"ready.py: no READY=1 within {args.timeout} s", file=sys.stderr)
                break
            sock.settimeout(min(left, 0.2))
            try:
                data = sock.recv(65536)
            except socket.timeout:
                if proc.poll() is not None:
                    print(f"ready.py: daemon exited with {proc.returncode} before READY=1", file=sys.stderr)
                    break
                continue
            t1 = time.perf_counter()
            text = data.decode("utf-8", "replace")
            result["messages"].append(text)
            if "READY=1" in text.split("\n"):
                result["ready_s"] = t1 - t0
                break

        if result["ready_s"] is not None:
            print(f"{result['ready_s']:.6f}", flush=True)
            if args.rss_after is not None:
                time.sleep(args.rss_after)
                result["rss_kb"] = vmrss_kb(proc.pid)
                tree = []
                for p in [proc.pid] + descendants(proc.pid):
                    rss = vmrss_kb(p)
                    if rss is not None:
                        tree.append({"pid": p, "comm": comm(p), "rss_kb": rss})
                result["tree"] = tree
                result["tree_rss_kb"] = sum(t["rss_kb"] for t in tree)
    finally:
        if proc is not None:
            kids_before = descendants(proc.pid)
            if proc.poll() is None:
                ts = time.perf_counter()
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=args.kill_after)
                except subprocess.TimeoutExpired:
                    print(f"ready.py: daemon still running {args.kill_after} s after SIGTERM; SIGKILL",
                          file=sys.stderr)
                    result["killed"] = True
                    proc.kill()
                    proc.wait()
                result["stop_s"] = time.perf_counter() - ts
            result["exit_code"] = proc.returncode
            # Anything of its tree still alive (a managed containerd, say).
            for p in kids_before + descendants(proc.pid):
                if vmrss_kb(p) is not None:
                    try:
                        os.kill(p, signal.SIGKILL)
                        result["leftover_killed"].append({"pid": p, "comm": comm(p)})
                    except ProcessLookupError:
                        pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        sock.close()
        shutil.rmtree(sockdir, ignore_errors=True)
        if log is not subprocess.DEVNULL:
            log.close()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
    return 0 if result["ready_s"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
