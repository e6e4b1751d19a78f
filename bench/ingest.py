"""`evalql ingest` of a reference Parquet file: wall time, CPU and peak memory.

Each run is a child process (as a user runs it) into a fresh store under
bench/data/, removed afterwards; its wall time, user and system CPU, peak
resident set and minor page faults come from wait4, and the load average is
printed beside them, since other work on the machine moves every figure.

    python bench/ingest.py [--rows 10000000] [--labels 100] [--repeat 3]

The Parquet file is generated (bench/common.py) when missing. A run of 100M
rows needs about 8 GiB; the bench refuses to start with less than 9 GiB
available (MemAvailable).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA_DIR, MODEL, RUN, SPLIT, Dataset, evalql_command, generate  # noqa: E402

NEEDED_GIB_PER_100M = 9


@dataclass(frozen=True)
class Run:
    wall: float
    user: float
    system: float
    peak_gib: float
    faults: int
    load: float

    @property
    def cpu(self) -> float:
        return self.user + self.system


def available_gib() -> float:
    """MemAvailable from /proc/meminfo, in GiB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 2**20
    return float("inf")


def ingest_once(ds: Dataset) -> Run:
    """One ``evalql ingest`` of ``ds`` (with its labels, as bench/common.py
    ingests) into a new store; the store is removed afterwards."""
    store = Path(tempfile.mkdtemp(prefix="ingest-bench-", dir=DATA_DIR))
    command = [
        evalql_command(), "ingest", str(ds.parquet), "--model", MODEL, "--run", RUN,
        "--split", SPLIT, "--data", str(store), "--labels", ",".join(ds.label_names),
    ]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        out, err = child.communicate()
        if status != 0:
            raise RuntimeError(f"evalql ingest failed: {err.decode().strip()}")
    finally:
        shutil.rmtree(store, ignore_errors=True)
    return Run(wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 2**20, usage.ru_minflt, load)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ds = Dataset(args.rows, args.labels)
    if not ds.parquet.exists():
        print(f"generating {ds.title} -> {ds.parquet}", flush=True)
        generate(ds)
    needed = NEEDED_GIB_PER_100M * args.rows / 100_000_000
    if available_gib() < needed:
        print(f"only {available_gib():.1f} GiB available; {ds.title} needs about {needed:.1f}")
        return 1
    size = ds.parquet.stat().st_size / 2**30
    print(f"evalql ingest of {ds.parquet.name} ({size:.2f} GiB, {ds.title}), {os.cpu_count()} cores")
    runs = []
    for _ in range(args.repeat):
        run = ingest_once(ds)
        runs.append(run)
        print(
            f"  wall {run.wall:6.1f} s   CPU {run.cpu:6.1f} s (user {run.user:.1f}, system "
            f"{run.system:.1f})   peak {run.peak_gib:5.2f} GiB   {run.faults:,} minor faults"
            f"   load {run.load:.1f}",
            flush=True,
        )
    print(
        f"median: wall {statistics.median(r.wall for r in runs):.1f} s, CPU "
        f"{statistics.median(r.cpu for r in runs):.1f} s, peak "
        f"{statistics.median(r.peak_gib for r in runs):.2f} GiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
