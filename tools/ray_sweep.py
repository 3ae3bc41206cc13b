#!/usr/bin/env python3
"""Runs a strategy-host sweep on a Ray cluster: one Ray task per shard, then `backtest merge`.

Each task runs `strategy-host backtest --sweep FILE --shard I/N --sweep-json ...` on whichever
node Ray places it, and returns the shard's table; the driver writes the tables to --out and
merges them into the table one run on one machine gives (docs/backtest.md, "Sweeps on a
cluster"). The host binary, its plugins, the config, the sweep file and the data must be at the
same absolute paths on every node (a shared volume, or the same container image).

    python3 tools/ray_sweep.py --address auto --host-bin target/release/strategy-host \\
        --config bt.toml --data recordings --sweep sweep.toml --shards 8 --out sweep-out

A shard is deterministic, so a task Ray retries after a lost node gives the same rows.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--address", default=os.environ.get("RAY_ADDRESS"),
                   help="the Ray cluster (host:port or `auto`; default $RAY_ADDRESS, else a local Ray)")
    p.add_argument("--host-bin", required=True, help="the strategy-host binary (same path on every node)")
    p.add_argument("--config", required=True)
    p.add_argument("--data", required=True, nargs="+")
    p.add_argument("--sweep", required=True, help="the sweep file")
    p.add_argument("--shards", required=True, type=int, help="how many Ray tasks (shards)")
    p.add_argument("--threads", type=int, default=1, help="threads (and Ray CPUs) per shard")
    p.add_argument("--out", required=True, help="directory for the shards' tables and the merged table")
    a = p.parse_args(argv)
    if a.shards < 1 or a.threads < 1:
        p.error("--shards and --threads must be at least 1")
    for name in ("host_bin", "config", "sweep"):
        path = os.path.abspath(getattr(a, name))
        if not os.path.exists(path):
            p.error(f"--{name.replace('_', '-')} {path}: no such file")
        setattr(a, name, path)
    a.data = [d if "=" in d and not os.path.exists(d) else os.path.abspath(d) for d in a.data]
    return a


def shard_command(a, i, out):
    return [a.host_bin, "backtest", "--quiet", "--config", a.config, "--data", *a.data,
            "--sweep", a.sweep, "--shard", f"{i}/{a.shards}", "--threads", str(a.threads),
            "--sweep-json", out]


def run_shard(a, i):
    """One shard on this node: (shard, its table as JSON text, node, seconds)."""
    import socket
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, f"shard-{i}.json")
        t0 = time.monotonic()
        r = subprocess.run(shard_command(a, i, out), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"shard {i}/{a.shards} on {socket.gethostname()}: "
                               f"strategy-host exited {r.returncode}: {r.stderr.strip()}")
        with open(out) as f:
            return i, f.read(), socket.gethostname(), time.monotonic() - t0


def main(argv):
    a = parse_args(argv)
    import ray
    ray.init(address=a.address, logging_level="ERROR", log_to_driver=False)
    os.makedirs(a.out, exist_ok=True)
    task = ray.remote(num_cpus=a.threads, max_retries=2)(run_shard)
    t0 = time.monotonic()
    results = ray.get([task.remote(a, i) for i in range(a.shards)])
    files = []
    for i, table, node, secs in sorted(results):
        path = os.path.join(a.out, f"shard-{i}.json")
        with open(path, "w") as f:
            f.write(table)
        rows = len(json.loads(table)["rows"])
        print(f"shard {i}/{a.shards}: {rows} combinations on {node} in {secs:.2f} s")
        files.append(path)
    print(f"{a.shards} shard(s) on Ray in {time.monotonic() - t0:.2f} s")
    ray.shutdown()
    merged = subprocess.run(
        [a.host_bin, "backtest", "merge", *files,
         "--sweep-csv", os.path.join(a.out, "sweep.csv"),
         "--sweep-json", os.path.join(a.out, "sweep.json")],
        capture_output=True, text=True)
    sys.stdout.write(merged.stdout)
    if merged.returncode != 0:
        sys.stderr.write(merged.stderr)
        return merged.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
