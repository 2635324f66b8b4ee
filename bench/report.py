#!/usr/bin/env python3
"""Turns the raw data that bench/run.sh collected into the markdown table.

Usage: report.py DATA_DIR  (prints markdown on stdout)

DATA_DIR holds machine.env, ready-<which>-<run>.json (run 0 is the discarded
warm-up), wrk-<which>-<endpoint>.txt, wrk-<which>-after.txt,
wrk-<which>-stop.txt and the daemons' logs.
"""

import glob
import json
import os
import re
import statistics
import sys

DAEMONS = ("ours", "dockerd")
ENDPOINTS = ("_ping", "version")


def machine(data):
    env = {}
    with open(os.path.join(data, "machine.env")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            env[k] = v
    return env


def ready_runs(data, which):
    runs = []
    for path in glob.glob(os.path.join(data, f"ready-{which}-*.json")):
        n = int(re.search(r"-(\d+)\.json$", path).group(1))
        if n == 0:
            continue  # warm-up
        with open(path) as f:
            runs.append((n, json.load(f)))
    return [r for _, r in sorted(runs, key=lambda x: x[0])]


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def wrk(data, which, ep, mode):
    """The median over the rounds of one daemon, endpoint and set-up (errors summed)."""
    rounds = sorted(f for f in os.listdir(data) if re.fullmatch(rf"wrk-{which}-{re.escape(ep)}\.{mode}\.r\d+\.txt", f))
    runs = [wrk_one(os.path.join(data, f)) for f in rounds]
    out = {"rps": None, "p99_ms": None, "requests": None, "non2xx": 0, "socket": None, "raw": "", "rounds": len(runs),
           "all_rps": [r["rps"] for r in runs if r["rps"] is not None]}
    if not runs:
        return out
    out["rps"] = median([r["rps"] for r in runs])
    out["p99_ms"] = median([r["p99_ms"] for r in runs])
    out["requests"] = sum(r["requests"] or 0 for r in runs)
    out["non2xx"] = sum(r["non2xx"] for r in runs)
    sockets = [r["socket"] for r in runs if r["socket"]]
    if sockets:
        out["socket"] = {k: sum(s[k] for s in sockets) for k in sockets[0]}
    out["raw"] = "\n".join(r["raw"] for r in runs)
    return out


def wrk_one(path):
    out = {"rps": None, "p99_ms": None, "requests": None, "non2xx": 0, "socket": None, "raw": ""}
    if not os.path.exists(path):
        return out
    text = open(path).read()
    out["raw"] = text
    if m := re.search(r"Requests/sec:\s+([\d.]+)", text):
        out["rps"] = float(m.group(1))
    if m := re.search(r"^\s+99%\s+(\S+)", text, re.M):
        out["p99_ms"] = to_ms(m.group(1))
    if m := re.search(r"(\d+) requests in", text):
        out["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        out["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        out["socket"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    return out


MODES = ["shared", "pinned"]
MODE_NAMES = {"shared": "shared CPUs", "pinned": "daemon on CPU 1, wrk on CPU 0"}


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, digits=1):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"{r:.3g}×" if r >= 0.01 else f"{r:.2g}×"


def read(path, default=""):
    try:
        return open(path).read().strip()
    except OSError:
        return default


def main():
    data = sys.argv[1]
    env = machine(data)
    ready = {w: ready_runs(data, w) for w in DAEMONS}
    notes = []

    def col(which, key, scale=1.0):
        vals = [r[key] for r in ready[which] if r.get(key) is not None]
        return [v * scale for v in vals]

    ready_ms = {w: col(w, "ready_s", 1e3) for w in DAEMONS}
    rss = {w: col(w, "rss_kb", 1 / 1024) for w in DAEMONS}
    tree = {w: col(w, "tree_rss_kb", 1 / 1024) for w in DAEMONS}
    stop_ms = {w: col(w, "stop_s", 1e3) for w in DAEMONS}
    modes = [m for m in MODES if wrk(data, "ours", ENDPOINTS[0], m)["rounds"]]
    w = {(d, e, m): wrk(data, d, e, m) for d in DAEMONS for e in ENDPOINTS for m in modes}

    def tree_names(which):
        names = set()
        for r in ready[which]:
            for p in (r.get("tree") or [])[1:]:
                names.add(p["comm"])
        return ", ".join(sorted(names)) or "none"

    lines = []
    p = lines.append
    p("# Our `docker -d` vs dockerd 20.10 — side by side")
    p("")
    p(f"- Date: {env.get('date')}")
    p(f"- Machine: {env.get('nproc')} CPUs ({env.get('cpu')}), {env.get('mem')}, {env.get('os')}, kernel {env.get('kernel')}")
    p(f"- Ours: `{env.get('ours')}` (release build, {env.get('ours_path')}, tree at {env.get('ours_commit')})")
    p(f"- dockerd: `{env.get('dockerd')}`, with its managed `{env.get('containerd')}`")
    p(f"- wrk: `{env.get('wrk')}`, `wrk {env.get('wrk_args')}` after a {env.get('wrk_warmup')} s discarded warm-up, "
      f"{env.get('wrk_rounds')} rounds per daemon alternating (medians)")
    p(f"- READY/RSS: {env.get('runs')} runs per daemon (alternating, after one discarded warm-up each), fresh root each run, unix socket only")
    p("")
    p("| Metric | ours | dockerd 20.10 | ours / dockerd |")
    p("| --- | ---: | ---: | ---: |")

    def row(name, a, b, digits=1):
        p(f"| {name} | {fmt(a, digits)} | {fmt(b, digits)} | {ratio(a, b)} |")

    row("Spawn → READY=1, median (ms)", median(ready_ms["ours"]), median(ready_ms["dockerd"]))
    row("Spawn → READY=1, min (ms)", min(ready_ms["ours"], default=None), min(ready_ms["dockerd"], default=None))
    row("VmRSS 1 s after READY=1, daemon process, median (MiB)", median(rss["ours"]), median(rss["dockerd"]))
    row(f"VmRSS, daemon + children, median (MiB) (ours: {tree_names('ours')}; dockerd: {tree_names('dockerd')})",
        median(tree["ours"]), median(tree["dockerd"]))
    row("SIGTERM → exit, median (ms)", median(stop_ms["ours"]), median(stop_ms["dockerd"]))
    for m in modes:
        for ep in ENDPOINTS:
            a, b = w[("ours", ep, m)], w[("dockerd", ep, m)]
            row(f"`GET /{ep}` requests/s, {MODE_NAMES[m]} (wrk)", a["rps"], b["rps"], 0)
            row(f"`GET /{ep}` p99 latency, {MODE_NAMES[m]} (ms)", a["p99_ms"], b["p99_ms"], 2)

    def errors(d):
        parts = []
        for ep, m in ((e, m) for e in ENDPOINTS for m in modes):
            r = w[(d, ep, m)]
            bad = []
            if r["rps"] is None:
                bad.append("no result")
            if r["non2xx"]:
                bad.append(f"{r['non2xx']} non-2xx/3xx")
            if r["socket"] and any(r["socket"].values()):
                bad.append("socket errors " + ", ".join(f"{k} {v}" for k, v in r["socket"].items() if v))
            if bad:
                parts.append(f"⚠ /{ep} ({m}): " + "; ".join(bad))
        return " ".join(parts) or "none"

    p(f"| wrk non-2xx responses / socket errors | {errors('ours')} | {errors('dockerd')} | |")
    p("")
    p("Ratios are ours / dockerd: below 1× means ours is faster to READY=1, smaller in memory, quicker to stop or "
      "has lower p99 latency; above 1× on requests/s means ours serves more.")
    extra = []
    dv = read(os.path.join(data, "wrk-dockerd-version.json"))
    if '"runc"' in dv or '"containerd"' in dv:
        extra.append("dockerd's `/version` lists its components: on every request it asks containerd over gRPC "
                     "and runs `runc --version` and `docker-init --version`, hence its low requests/s there; ours "
                     "answers `/version` (the 1.24 shape, no `Components`) from memory")
    if median(tree["dockerd"]) is not None:
        extra.append(f"RSS of ours vs dockerd + containerd: {ratio(median(tree['ours']), median(tree['dockerd']))}")
    for ep, m in ((e, m) for m in modes for e in ENDPOINTS):
        a, b = w[("ours", ep, m)], w[("dockerd", ep, m)]
        n = lambda r: "n/a" if r["requests"] is None else f"{r['requests']:,}"
        rounds = lambda r: ", ".join(f"{x:,.0f}" for x in r["all_rps"]) or "n/a"
        extra.append(f"`/{ep}` {m}: ours completed {n(a)} requests in {a['rounds']} rounds ({rounds(a)} req/s), "
                     f"dockerd {n(b)} in {b['rounds']} ({rounds(b)} req/s); the table gives the medians")
    if extra:
        p("")
        for e in extra:
            p(f"- {e}")

    p("")
    p("Per-run figures (READY=1 ms / VmRSS MiB / VmRSS of the tree MiB / SIGTERM → exit ms):")
    p("")
    for d in DAEMONS:
        cells = [f"{r['ready_s'] * 1e3:.1f} / {r['rss_kb'] / 1024:.1f} / {r['tree_rss_kb'] / 1024:.1f} / "
                 f"{(r['stop_s'] or 0) * 1e3:.0f}"
                 for r in ready[d] if r.get("ready_s") is not None and r.get("rss_kb") is not None]
        p(f"- {d}: " + "; ".join(cells))

    # Things that would make the comparison unfair or that look wrong.
    for d in DAEMONS:
        for r in ready[d]:
            if r.get("killed"):
                notes.append(f"{d}: needed SIGKILL after 20 s of SIGTERM in a READY run")
            if r.get("exit_code") not in (0, None):
                notes.append(f"{d}: exited with {r.get('exit_code')} after SIGTERM in a READY run")
            if r.get("leftover_killed"):
                notes.append(f"{d}: processes left after it stopped were killed: {r['leftover_killed']}")
        after = read(os.path.join(data, f"wrk-{d}-after.txt"), "?")
        if after != "ok":
            notes.append(f"{d}: {after}")
        logs = glob.glob(os.path.join(data, f"*-{d}*.log"))
        debug = sum(1 for path in logs for line in open(path, errors="replace")
                    if " DEBUG " in line or "level=debug" in line)
        if debug:
            notes.append(f"{d}: {debug} debug-level log lines in its logs (debug logging was on?)")
    if "containerd" not in tree_names("dockerd"):
        notes.append("dockerd ran without a managed containerd child (a system containerd was used?): "
                     "its tree RSS leaves containerd out")
    stops = {d: read(os.path.join(data, f"wrk-{d}-stop.txt")) for d in DAEMONS}
    p("")
    p(f"SIGTERM → exit after the wrk runs: ours {stops['ours'] or 'n/a'} s, dockerd {stops['dockerd'] or 'n/a'} s.")
    p("")
    if notes:
        p("**Flags:**")
        p("")
        for n in notes:
            p(f"- ⚠ {n}")
    else:
        p("No flags: every run reached READY=1, stopped on SIGTERM, wrk saw only 2xx and no socket errors, "
          "and both daemons answered `/_ping` after the load.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
