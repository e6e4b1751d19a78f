"""Shared pieces of the benchmarks: reference data, the store, the server, timing, tables.

The reference data is generated deterministically (a seeded NumPy generator per
chunk of rows), written as Parquet under ``bench/data/`` and ingested through the
``evalql ingest`` command into ``bench/data/store-<name>``. Both steps are
skipped when their result already exists, so a rerun goes straight to timing.

The server is a real ``evalql serve`` subprocess on a free local port, queried
over one keep-alive HTTP connection; ``Server`` always stops it (by its PID).
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"

# The one model/run/split every reference store holds.
MODEL, RUN, SPLIT = "bench", "ref", "test"

# Bump when the generator changes: it is part of every cached file name.
GENERATOR_VERSION = 1
# Rows generated (and written as one Parquet row group) at a time, so memory
# stays bounded at any size; fixed, so the data does not depend on it.
CHUNK_ROWS = 2_000_000

ZIPF_EXPONENT = 1.1
P_CORRECT = 0.8
P_ACTUAL_NULL = 0.02
P_PREDICTED_NULL = 0.02
CHANNELS = ("email", "chat", "phone", "web")
CHANNEL_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
N_SEGMENTS = 50

# ---------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """One reference dataset: ``rows`` rows over ``labels`` labels."""

    rows: int
    labels: int
    seed: int = 0

    @property
    def name(self) -> str:
        """The file-name stem shared by its Parquet file and its store."""
        seed = f"-s{self.seed}" if self.seed else ""
        return f"{self.rows}x{self.labels}-v{GENERATOR_VERSION}{seed}"

    @property
    def title(self) -> str:
        """A short human name such as ``10M x 100``."""
        return f"{human_count(self.rows)} x {human_count(self.labels)}"

    @property
    def parquet(self) -> Path:
        return DATA_DIR / f"ref-{self.name}.parquet"

    @property
    def store(self) -> Path:
        return DATA_DIR / f"store-{self.name}"

    @property
    def label_names(self) -> tuple[str, ...]:
        """Zero-padded, so sorted order is frequency-rank order (code i = rank i)."""
        width = len(str(self.labels - 1))
        return tuple(f"label_{i:0{width}d}" for i in range(self.labels))

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(f"seg_{i:02d}" for i in range(N_SEGMENTS))


def human_count(n: int) -> str:
    """``10_000_000`` -> ``10M``, ``1_000`` -> ``1000``, ``200_000`` -> ``200k``."""
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 10_000 and n % 1_000 == 0:
        return f"{n / 1_000:g}k"
    return str(n)


def zipf_weights(k: int, exponent: float = ZIPF_EXPONENT) -> np.ndarray:
    """Probabilities proportional to rank^-exponent, rank 1..k."""
    weights = np.arange(1, k + 1, dtype=np.float64) ** -exponent
    return weights / weights.sum()


def _dictionary(codes: np.ndarray, names: Sequence[str], null: np.ndarray | None = None) -> pa.Array:
    indices = pa.array(codes.astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(names), pa.string()))


def generate_chunk(ds: Dataset, index: int, start: int, n: int) -> pa.Table:
    """Rows ``start .. start+n`` of ``ds``; chunk ``index`` has its own seeded generator."""
    rng = np.random.default_rng([ds.seed, ds.rows, ds.labels, index])
    k = ds.labels
    p = zipf_weights(k)
    actual = rng.choice(k, size=n, p=p).astype(np.int32)
    correct = rng.random(n) < P_CORRECT
    # A wrong prediction is another Zipf-ish label: draw one, and move a draw
    # that hit the actual label to a uniformly chosen different one.
    other = rng.choice(k, size=n, p=p).astype(np.int32)
    clash = other == actual
    if k > 1:
        shift = rng.integers(1, k, size=int(clash.sum()), dtype=np.int32)
        other[clash] = (actual[clash] + shift) % k
    predicted = np.where(correct, actual, other)
    # Confidence correlates with correctness: right ~ Beta(5, 2), wrong ~ Beta(2, 3).
    confidence = np.where(correct, rng.beta(5.0, 2.0, n), rng.beta(2.0, 3.0, n)).astype(np.float32)
    actual_null = rng.random(n) < P_ACTUAL_NULL
    predicted_null = rng.random(n) < P_PREDICTED_NULL
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_WEIGHTS)
    segment = rng.choice(N_SEGMENTS, size=n, p=zipf_weights(N_SEGMENTS, 0.5))
    length = np.maximum(1, rng.lognormal(5.0, 1.0, n)).astype(np.int64)
    labels = ds.label_names
    return pa.table({
        "id": pa.array(np.arange(start, start + n, dtype=np.int64)),
        "actual": _dictionary(actual, labels, actual_null),
        "predicted": _dictionary(predicted, labels, predicted_null),
        "confidence": pa.array(confidence),
        "channel": _dictionary(channel, CHANNELS),
        "segment": _dictionary(segment, ds.segment_names),
        "length": pa.array(length),
    })


def generate(ds: Dataset) -> Path:
    """Write ``ds`` as Parquet (once: an existing file is reused); returns its path."""
    if ds.parquet.exists():
        return ds.parquet
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = ds.parquet.with_suffix(".parquet.partial")
    writer: pq.ParquetWriter | None = None
    try:
        for index, start in enumerate(range(0, ds.rows, CHUNK_ROWS)):
            table = generate_chunk(ds, index, start, min(CHUNK_ROWS, ds.rows - start))
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema)
            writer.write_table(table, row_group_size=CHUNK_ROWS)
        assert writer is not None, "a dataset has at least one row"
        writer.close()
        writer = None
        os.replace(partial, ds.parquet)  # only a complete file gets the cached name
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    return ds.parquet


def evalql_command() -> str:
    """The ``evalql`` console script of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "evalql"
    return str(beside) if beside.exists() else (shutil.which("evalql") or "evalql")


def is_ingested(ds: Dataset) -> bool:
    """True when the store of ``ds`` already holds its split."""
    from evalql.storage.catalog import Catalog

    return ds.store.exists() and Catalog(ds.store).split(MODEL, RUN, SPLIT) is not None


@dataclass(frozen=True)
class IngestRun:
    """What one ``evalql ingest`` child process cost: wall seconds, user and
    system CPU seconds, peak resident bytes (wait4), and the 1-minute load
    average when it started (other work on the machine moves every figure)."""

    wall: float
    user: float
    system: float
    peak_rss: int
    load: float

    @property
    def cpu(self) -> float:
        return self.user + self.system


def available_memory() -> int:
    """MemAvailable from /proc/meminfo, in bytes (0 when unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# Runs the command in its arguments, then prints its wall and CPU seconds and
# peak RSS (wait4) as the last line of stdout. A process between the bench
# and the measured one, because Linux keeps the peak RSS of the process that
# exec()s in the exec'd one's ru_maxrss: spawned from the bench, the child's
# figure would be the bench's own peak (gigabytes of arrays), not its own.
_MEASURED = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
print(json.dumps([wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss * 1024]), flush=True)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def ingest(ds: Dataset, store: Path | None = None) -> IngestRun:
    """Ingest the Parquet file of ``ds`` into ``store`` (its own store by
    default) through ``evalql ingest``, with its fixed label list, as a child
    process (its memory goes when it ends), and measure it.

    The child's stderr is ours: on a terminal it draws its progress bar there,
    off one it writes only errors. Its CPU and peak RSS come from wait4.
    """
    command = [
        sys.executable, "-c", _MEASURED,
        evalql_command(), "ingest", str(ds.parquet), "--model", MODEL, "--run", RUN,
        "--split", SPLIT, "--data", str(store or ds.store), "--labels", ",".join(ds.label_names),
    ]
    load = os.getloadavg()[0]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"evalql ingest of {ds.parquet} failed ({done.returncode}); its error is above")
    *summary, measured = done.stdout.strip().splitlines()
    log("  " + "\n  ".join(summary))
    wall, user, system, peak = json.loads(measured)
    return IngestRun(wall, user, system, int(peak), load)


def prepare(ds: Dataset, reingest: bool = False) -> IngestRun | None:
    """Generate and ingest ``ds`` unless already done (``reingest`` rebuilds the
    store). Returns the ingest's measurement, or None when the store was reused.

    A rebuild ingests into a new directory beside the store and replaces the
    old store only once it succeeded, so a failed ingest leaves the old one.
    """
    if not ds.parquet.exists():
        log(f"generating {ds.title} -> {ds.parquet.relative_to(BENCH_DIR.parent)}")
        started = time.perf_counter()
        generate(ds)
        log(f"  generated in {time.perf_counter() - started:.1f} s")
    if not reingest and is_ingested(ds):
        return None
    log(f"ingesting {ds.title} -> {ds.store.relative_to(BENCH_DIR.parent)}")
    partial = ds.store.with_name(ds.store.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        run = ingest(ds, partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(ds.store, ignore_errors=True)
    os.replace(partial, ds.store)
    log(f"  {run.wall:.1f} s wall, {run.cpu:.1f} s CPU, peak {fmt_bytes(run.peak_rss)} "
        f"(load {run.load:.1f})")
    return run


def split_file(ds: Dataset) -> Path:
    """The Arrow file holding the split's columns in the store."""
    from evalql.storage.catalog import Catalog

    info = Catalog(ds.store).split(MODEL, RUN, SPLIT)
    if info is None:
        raise RuntimeError(f"{ds.store} holds no split {MODEL}/{RUN}/{SPLIT}")
    return ds.store / info.path


@dataclass(frozen=True)
class Arrays:
    """The columns of a dataset as NumPy arrays, labels as codes (-1 = None)."""

    actual: np.ndarray  # int32
    predicted: np.ndarray  # int32
    confidence: np.ndarray  # float32
    channel: np.ndarray  # int32 codes into CHANNELS
    segment: np.ndarray  # int32 codes into Dataset.segment_names


def _codes(column: pa.ChunkedArray, names: Sequence[str]) -> np.ndarray:
    """int32 codes of a (dictionary or string) column against ``names``; null -> -1."""
    lookup = {name: i for i, name in enumerate(names)}
    out = np.empty(len(column), dtype=np.int32)
    position = 0
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            # Map the chunk's own dictionary, with an extra last entry for null
            # so that index -1 lands on it.
            mapping = np.array([lookup[v] for v in chunk.dictionary.to_pylist()] + [-1], np.int32)
            indices = pc.fill_null(chunk.indices, -1).to_numpy()
            out[position:position + len(chunk)] = mapping[indices]
        else:
            found = pc.index_in(chunk, value_set=pa.array(list(names), pa.string()))
            out[position:position + len(chunk)] = pc.fill_null(found, -1).to_numpy()
        position += len(chunk)
    return out


def load_arrays(ds: Dataset) -> Arrays:
    """The dataset's columns, read back from its Parquet file."""
    table = pq.read_table(ds.parquet, columns=["actual", "predicted", "confidence", "channel", "segment"])
    confidence = table.column("confidence").to_numpy().astype(np.float32, copy=False)
    return Arrays(
        actual=_codes(table.column("actual"), ds.label_names),
        predicted=_codes(table.column("predicted"), ds.label_names),
        confidence=confidence,
        channel=_codes(table.column("channel"), CHANNELS),
        segment=_codes(table.column("segment"), ds.segment_names),
    )


# ---------------------------------------------------------------------------
# scikit-learn equivalents
# ---------------------------------------------------------------------------


def abstained(arrays: Arrays, threshold: float, k: int, mask: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(actual, predicted) as int codes with None -> sentinel ``k``, predictions
    under ``threshold`` abstained (None), rows restricted to ``mask``."""
    actual, predicted, confidence = arrays.actual, arrays.predicted, arrays.confidence
    if mask is not None:
        actual, predicted, confidence = actual[mask], predicted[mask], confidence[mask]
    a = np.where(actual < 0, k, actual)
    p = np.where((predicted < 0) | (confidence < np.float32(threshold)), k, predicted)
    return a, p


def sklearn_page(arrays: Arrays, threshold: float, k: int, mask: np.ndarray | None = None,
                 parts: dict[str, float] | None = None) -> np.ndarray:
    """What a metrics page costs in scikit-learn: the (K+1)x(K+1) confusion
    matrix (None as label K) and precision/recall/F1/support per label and
    macro. Returns the matrix; ``parts``, when given, receives each step's seconds."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    clock = [time.perf_counter()]

    def step(name: str) -> None:
        clock.append(time.perf_counter())
        if parts is not None:
            parts[name] = clock[-1] - clock[-2]

    a, p = abstained(arrays, threshold, k, mask)
    step("row filter + abstention" if mask is not None else "abstention")
    matrix = confusion_matrix(a, p, labels=np.arange(k + 1))
    step("confusion_matrix")
    labels = np.arange(k)
    precision_recall_fscore_support(a, p, labels=labels, average=None, zero_division=0)
    step("prfs(average=None)")
    precision_recall_fscore_support(a, p, labels=labels, average="macro", zero_division=0)
    step("prfs(average='macro')")
    return matrix


def warm_sklearn() -> None:
    """Import scikit-learn and run its page once on tiny arrays, so no timed run
    pays for imports or first-call setup."""
    n = 64
    tiny = Arrays(np.arange(n, dtype=np.int32) % 3, np.arange(n, dtype=np.int32) % 2,
                  np.linspace(0, 1, n, dtype=np.float32), np.zeros(n, np.int32),
                  np.zeros(n, np.int32))
    sklearn_page(tiny, 0.5, 3)
    sklearn_page(tiny, 0.5, 3, tiny.channel == 0)


# ---------------------------------------------------------------------------
# The server and its client
# ---------------------------------------------------------------------------


class GraphQLFailure(RuntimeError):
    """A GraphQL response with errors; ``messages`` are theirs."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages

    @property
    def not_implemented(self) -> bool:
        """True when the query names a field or argument the schema lacks."""
        return any(
            "Cannot query field" in m or "Unknown argument" in m or "Unknown type" in m
            for m in self.messages
        )


class Client:
    """One keep-alive HTTP connection to a server's /graphql endpoint."""

    def __init__(self, port: int, timeout: float = 600.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.last_bytes = 0

    def close(self) -> None:
        self.conn.close()

    def _exchange(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the server closed the idle connection: reconnect once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes]:
        return self._exchange("GET", path, None)

    def post_timed(self, query: str, variables: dict[str, Any] | None = None
                   ) -> tuple[float, dict[str, Any]]:
        """(seconds from sending the request to the last byte of the answer, data).

        Raises GraphQLFailure when the answer has errors.
        """
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        started = time.perf_counter()
        status, raw = self._exchange("POST", "/graphql", body)
        elapsed = time.perf_counter() - started
        self.last_bytes = len(raw)
        try:
            answer = json.loads(raw)
        except ValueError:
            raise RuntimeError(f"HTTP {status}, not JSON: {raw[:300]!r}") from None
        if answer.get("errors"):
            raise GraphQLFailure([str(e.get("message")) for e in answer["errors"]])
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {raw[:300]!r}")
        return elapsed, answer["data"]

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a GraphQL answer; raises GraphQLFailure on errors."""
        return self.post_timed(query, variables)[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (bind to port 0 and ask)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """An ``evalql serve`` subprocess on a free port; use as a context manager,
    which waits for /healthz on entry and always stops the process on exit."""

    def __init__(self, store: Path, log_file: Path | None = None, timeout: float = 300.0) -> None:
        self.store = store
        self.log_file = log_file or DATA_DIR / "server.log"
        self.timeout = timeout
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0  # perf_counter at process start
        self.ready = 0.0  # perf_counter when /healthz first answered
        self.client: Client | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.port = free_port()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        command = [evalql_command(), "serve", "--data", str(self.store),
                   "--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log_file, "ab") as sink:
            sink.write(f"\n=== {' '.join(command)}\n".encode())
            sink.flush()
            self.started = time.perf_counter()
            self.proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        self._wait_healthy()
        self.client = Client(self.port)

    def _wait_healthy(self) -> None:
        assert self.proc is not None
        deadline = self.started + self.timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    self.ready = time.perf_counter()
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"no /healthz answer within {self.timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Terminate the process by its PID; kill it if it does not exit in 10 s."""
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak) of the server process, in bytes."""
        found: dict[str, int] = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(value.split()[0]) * 1024
        return found

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextmanager
def serving(store: Path) -> Iterator[tuple[Server, Client]]:
    """A started server and its client; the server is stopped however the block ends."""
    with Server(store) as server:
        assert server.client is not None
        yield server, server.client


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------

# The page's per-label table; at 10,000 labels it is a scenario of its own.
PER_LABEL_FIELDS = "perLabel { label precision recall f1 support tp fp fn tn }"
PAGE_FIELDS = f"""
    total predicted correct coverage accuracy selectiveAccuracy precision recall f1
    confusionMatrix {{ labels counts }}
    {PER_LABEL_FIELDS}
"""


def split_query(name: str, body: str, extra_vars: str = "") -> str:
    """A query ``name`` reaching the reference split, then ``metrics(threshold: $t,
    where: $where) { body }``; ``extra_vars`` declares more variables."""
    return f"""
query {name}($m: String!, $r: String!, $s: String!, $t: Float!, $where: [RowFilter!]{extra_vars}) {{
  model(name: $m) {{ run(name: $r) {{ split(name: $s) {{
    metrics(threshold: $t, where: $where) {{ {body} }}
  }} }} }}
}}"""


PAGE_QUERY = split_query("Page", PAGE_FIELDS)
EMAIL_FILTER = [{"column": "channel", "in": ["email"]}]


def split_vars(threshold: float, where: list[dict[str, Any]] | None = None, **more: Any
               ) -> dict[str, Any]:
    """Variables for ``split_query``."""
    return {"m": MODEL, "r": RUN, "s": SPLIT, "t": threshold, "where": where, **more}


def metrics_of(data: dict[str, Any]) -> dict[str, Any]:
    """The ``metrics`` object of a ``split_query`` answer."""
    return data["model"]["run"]["split"]["metrics"]


class Thresholds:
    """Thresholds never handed out twice in a run, so no cache can answer for them."""

    def __init__(self, start: float = 0.4, step: float = 0.0005, stop: float = 0.99) -> None:
        self.start, self.step, self.stop = start, step, stop
        self.i = 0

    def next(self) -> float:
        value = round(self.start + self.i * self.step, 6)
        if value > self.stop:
            raise RuntimeError("out of fresh thresholds; lower --repeats")
        self.i += 1
        return value


# ---------------------------------------------------------------------------
# Timing and reporting
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Seconds of repeated runs of one thing."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.samples, 95))


def time_runs(run: Callable[[int], float | None], repeats: int) -> Timing:
    """Call ``run(i)`` for i in 0..repeats-1. A run returns its own duration in
    seconds (e.g. an HTTP round trip) or None to be timed here around the call."""
    samples = []
    for i in range(repeats):
        started = time.perf_counter()
        measured = run(i)
        samples.append(time.perf_counter() - started if measured is None else measured)
    return Timing(tuple(samples))


def fmt_seconds(seconds: float | None) -> str:
    """A duration for a table: ``0.42 ms``, ``12.3 ms``, ``250 ms``, ``1.82 s``."""
    if seconds is None:
        return "—"
    ms = seconds * 1000
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 100:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def fmt_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain Markdown table, columns padded to line up in a terminal."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


def machine_info() -> list[tuple[str, str]]:
    """(name, value) pairs describing this machine and the library versions."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = fmt_bytes(int(line.split()[1]) * 1024)
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import numba
    import sklearn

    versions = (f"Python {platform.python_version()}, NumPy {np.__version__}, "
                f"Numba {numba.__version__}, PyArrow {pa.__version__}, "
                f"scikit-learn {sklearn.__version__}")
    return [
        ("cores (nproc)", str(usable)),
        ("CPU", cpu),
        ("memory", memory),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("software", versions),
    ]


def print_machine(measured: Sequence[tuple[str, str]] = ()) -> None:
    """The machine as a Markdown list, ``measured`` (name, value) pairs last;
    also makes stdout line-buffered, so the report interleaves with the
    progress on stderr in one log."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print("Machine:")
    for name, value in [*machine_info(), *measured]:
        print(f"- {name}: {value}")
    print()


def memory_bandwidth(gigabytes: float = 1.0, repeats: int = 5) -> float:
    """Read bandwidth in bytes/s: the median time NumPy takes to sum a
    ``gigabytes`` float64 array (one core, as a scan kernel's chunk sees it)."""
    values = np.ones(int(gigabytes * 1e9) // 8, dtype=np.float64)  # touched: pages are resident

    def read_all(_: int) -> None:
        values.sum()

    read_all(0)
    timing = time_runs(read_all, repeats)
    return values.nbytes / timing.median


def copy_bandwidth(gigabytes: float = 1.0, repeats: int = 5) -> float:
    """Copy bandwidth in bytes/s, bytes read plus bytes written: the median
    time NumPy takes to copy a ``gigabytes`` float64 array into another."""
    source = np.ones(int(gigabytes * 1e9) // 8, dtype=np.float64)
    target = np.zeros_like(source)  # touched: no page faults in the timing

    def copy(_: int) -> None:
        np.copyto(target, source)

    copy(0)
    timing = time_runs(copy, repeats)
    return 2 * source.nbytes / timing.median
