"""What the server holds resident after bench/run.py's scenarios, and why.

Starts ``evalql serve`` on the reference split (10M x 100 by default), runs
the warm scenarios of bench/run.py (the first 10 s after loading, then the
settled pages, new filters, curves, drill-down and breakdown, without
scikit-learn), and reads the server's resident set apart:

- from /proc/PID/smaps: anonymous memory, the split file's mapped pages, the
  libraries and everything else;
- the split file's pages by column: which of them the process has mapped
  (``/proc/PID/pagemap``'s present bit, page by page over each column's
  byte range in the file);
- what the memory budget counts (``evalql_cache_bytes`` on /metrics).

    python bench/resident.py [--rows 100000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import run
from common import Dataset, fmt_bytes, load_arrays, prepare, serving, split_file

PAGE = 4096


def smaps(pid: int) -> dict[str, dict[str, int]]:
    """Rss, Anonymous and Private_Dirty by mapping name ("[anon]" for none), in bytes."""
    found: dict[str, dict[str, int]] = {}
    name = ""
    header = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        if header.match(line):
            parts = line.split(None, 5)
            name = parts[5].strip() if len(parts) > 5 else "[anon]"
            continue
        key, _, value = line.partition(":")
        if key in ("Rss", "Anonymous", "Private_Dirty") and value.strip().endswith("kB"):
            entry = found.setdefault(name, {"Rss": 0, "Anonymous": 0, "Private_Dirty": 0})
            entry[key] += int(value.split()[0]) * 1024
    return found


def mapping_of(pid: int, path: Path) -> tuple[int, int, int] | None:
    """(start, end, file offset) of the process's mapping of ``path``."""
    target = str(path.resolve())
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split(None, 5)
        if len(parts) > 5 and parts[5].strip() == target:
            start, end = (int(x, 16) for x in parts[0].split("-"))
            return start, end, int(parts[2], 16)
    return None


def column_ranges(path: Path) -> dict[str, list[tuple[int, int]]]:
    """Each column's buffers as (first, last) byte offsets in the Arrow file
    (a dictionary column's values sit apart from its codes)."""
    source = pa.memory_map(str(path))
    base = source.read_buffer(1).address
    source.seek(0)
    table = ipc.open_file(source).read_all()
    return {name: [(b.address - base, b.address - base + b.size)
                   for chunk in table.column(name).chunks for b in _buffers(chunk)
                   if b is not None and b.size]
            for name in table.column_names}


def _buffers(array: pa.Array) -> list[pa.Buffer | None]:
    found = list(array.buffers())
    if isinstance(array, pa.DictionaryArray):
        found = list(array.indices.buffers()) + list(array.dictionary.buffers())
    return found


def resident_pages(pid: int, start: int, spans: list[tuple[int, int]]) -> int:
    """How many pages of the mapping at ``start`` covering the file bytes of
    ``spans`` are mapped in the process (pagemap bit 63)."""
    pages: set[int] = set()
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for first, last in spans:
            lo, hi = (start + first) // PAGE, (start + last + PAGE - 1) // PAGE
            pagemap.seek(lo * 8)
            data = pagemap.read((hi - lo) * 8)
            pages.update(lo + i for i in range(hi - lo) if data[i * 8 + 7] >> 7)
    return len(pages)


def brief(pid: int, path: Path, ranges: dict[str, list[tuple[int, int]]]) -> str:
    """One line: resident, anonymous, and the split file's resident bytes by column."""
    maps = smaps(pid)
    rss = sum(m["Rss"] for m in maps.values())
    anon = sum(m["Anonymous"] for m in maps.values())
    mapping = mapping_of(pid, path)
    parts = []
    if mapping is not None:
        start, _, offset = mapping
        parts = [f"{name} {resident_pages(pid, start - offset, spans) * PAGE / 1e6:.0f}"
                 for name, spans in ranges.items()]
    return f"resident {rss / 1e6:.0f} MB, anonymous {anon / 1e6:.0f}; file MB: " + ", ".join(parts)


def report(pid: int, path: Path, metrics: str, label: str) -> None:
    maps = smaps(pid)
    target = str(path.resolve())
    rss = sum(m["Rss"] for m in maps.values())
    anon = sum(m["Anonymous"] for m in maps.values())
    split = maps.get(target, {}).get("Rss", 0)
    print(f"\n## {label}\nresident {fmt_bytes(rss)}: anonymous {fmt_bytes(anon)}, "
          f"split file {fmt_bytes(split)}, other files {fmt_bytes(rss - anon - split)}")
    mapping = mapping_of(pid, path)
    if mapping is not None:
        start, _, offset = mapping
        for name, spans in column_ranges(path).items():
            pages = resident_pages(pid, start - offset, spans)
            size = sum(last - first for first, last in spans)
            print(f"  {name:14s} {fmt_bytes(size):>10s} in the file, "
                  f"{fmt_bytes(pages * PAGE):>10s} resident")
    for line in metrics.splitlines():
        if line.startswith("evalql_cache_bytes{"):
            kind = line.split('"')[1]
            value = float(line.split()[-1])
            if value:
                print(f"  budget counts {kind}: {fmt_bytes(int(value))}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--first-seconds", type=float, default=run.FIRST_SECONDS)
    args = parser.parse_args(argv)
    ds = Dataset(args.rows, args.labels)
    prepare(ds)
    path = split_file(ds)
    bench_args = argparse.Namespace(repeats=args.repeats, sklearn_repeats=1)
    arrays = load_arrays(ds)  # the drill-down picks its cell with them
    with serving(ds.store) as (server, client):
        report(server.pid, path, client.get("/metrics")[1].decode(), "idle (started, no query)")
        bench = run.Bench(ds, arrays, client, bench_args, bandwidth=1e10)
        bench.sklearn = lambda work: None  # type: ignore[method-assign,assignment,return-value]  # no scikit-learn here
        steps = [
            ("the first seconds", lambda: bench.first_seconds(args.first_seconds)),
            ("pages", lambda: bench.pages(run.TARGETS["page"])),
            ("new filters", bench.new_filter),
            ("curves", lambda: bench.curves(None)),
            ("drill-down", bench.drill_down),
            ("breakdown", bench.breakdown),
        ]
        ranges = column_ranges(path)
        for name, step in steps:
            step()
            print(f"after {name}: {brief(server.pid, path, ranges)}", flush=True)
        report(server.pid, path, client.get("/metrics")[1].decode(), "after the scenarios")
        for result in bench.results:
            print("  ", " | ".join(result.cells()[1:5]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
