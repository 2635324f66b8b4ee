#!/usr/bin/env python3
"""Seeds the pull benchmark (bench/pull.sh) with images built here, no
network: nothing is fetched, every byte is made by this script.

  seed_images.py big --registry HOST:PORT --out DIR [--mb 100] [--layers 5]
      A ~MB multi-layer image (per layer 60% incompressible pseudo-random
      bytes, 40% text that gzip shrinks ~10x), gzip level 6 as `docker push`
      writes, laid out as skopeo's dir: transport and pushed verbatim with
      `skopeo copy` to HOST:PORT/bench/big:latest (Docker schema 2).
      Writes DIR/big.json: image id, manifest digest, layer digests and
      sizes (what the floor measurement downloads).

  seed_images.py many --out FILE [--count 100]
      One `docker save`-format tar holding COUNT distinct one-layer images
      (bench/many-N:latest), for `docker load` into both daemons and then
      `docker images` with COUNT images.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer_tar(files):
    """files: [(path, bytes)] -> uncompressed tar bytes (fixed mtimes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        dirs = set()
        for path, data in files:
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d)
                    ti.type = tarfile.DIRTYPE
                    ti.mode = 0o755
                    ti.mtime = 1700000000
                    t.addfile(ti)
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def config(diff_ids, arch="amd64", label=None):
    c = {
        "architecture": arch,
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:%s in / " % d[7:19]}
                    for d in diff_ids],
    }
    if label:
        c["config"]["Labels"] = {"bench.seed": label}
    return json.dumps(c, separators=(",", ":")).encode()


def text(seed, n):
    out = io.BytesIO()
    i = 0
    while out.tell() < n:
        out.write(b"%04d line %08d the quick brown fox jumps over the lazy dog\n" % (seed, i))
        i += 1
    return out.getvalue()[:n]


def big(args):
    per = args.mb * 1_000_000 // args.layers
    rng = random.Random(42)
    layers = []
    for i in range(args.layers):
        tar = layer_tar([
            ("big/%d/noise.bin" % i, rng.randbytes(per * 6 // 10)),
            ("big/%d/text.txt" % i, text(i, per * 4 // 10)),
        ])
        gz = gzip.compress(tar, compresslevel=6, mtime=0)
        layers.append((tar, gz))
    cfg = config([sha(t) for t, _ in layers])
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(cfg), "digest": sha(cfg)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(gz), "digest": sha(gz)}
                   for _, gz in layers],
    }, indent=3).encode()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.out) as d:
        with open(os.path.join(d, "version"), "w") as f:
            f.write("Directory Transport Version: 1.1\n")
        with open(os.path.join(d, "manifest.json"), "wb") as f:
            f.write(manifest)
        for blob in [cfg] + [gz for _, gz in layers]:
            with open(os.path.join(d, sha(blob)[7:]), "wb") as f:
                f.write(blob)
        subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                        "dir:" + d, "docker://%s/bench/big:latest" % args.registry], check=True)
    info = {
        "reference": "%s/bench/big:latest" % args.registry,
        "image_id": sha(cfg),
        "manifest_digest": sha(manifest),
        "layers": [{"digest": sha(gz), "size": len(gz), "diff_id": sha(tar), "tar_size": len(tar)} for tar, gz in layers],
    }
    with open(os.path.join(args.out, "big.json"), "w") as f:
        json.dump(info, f, indent=1)
    total_tar = sum(len(t) for t, _ in layers)
    total_gz = sum(len(g) for _, g in layers)
    print("pushed %s: %d layers, %.1f MB of tar, %.1f MB gzip'd, id %s" %
          (info["reference"], len(layers), total_tar / 1e6, total_gz / 1e6, info["image_id"]), file=sys.stderr)


def many(args):
    manifest = []
    with tarfile.open(args.out, "w") as out:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 1700000000
            out.addfile(ti, io.BytesIO(data))
        for n in range(args.count):
            tar = layer_tar([("seed/%d.txt" % n, b"image %d\n" % n)])
            cfg = config([sha(tar)], label=str(n))
            ldir = hashlib.sha256(b"layer-%d" % n).hexdigest()
            add(ldir + "/layer.tar", tar)
            add(ldir + "/VERSION", b"1.0")
            add(sha(cfg)[7:] + ".json", cfg)
            manifest.append({"Config": sha(cfg)[7:] + ".json", "RepoTags": ["bench/many-%d:latest" % n],
                             "Layers": [ldir + "/layer.tar"]})
        add("manifest.json", json.dumps(manifest).encode())
    print("wrote %s: %d images" % (args.out, args.count), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("big")
    b.add_argument("--registry", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--mb", type=int, default=100)
    b.add_argument("--layers", type=int, default=5)
    m = sub.add_parser("many")
    m.add_argument("--out", required=True)
    m.add_argument("--count", type=int, default=100)
    args = p.parse_args()
    {"big": big, "many": many}[args.cmd](args)


if __name__ == "__main__":
    main()
