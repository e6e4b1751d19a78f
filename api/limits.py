"""Every bound a request is held to, in one list.

A request over any bound is refused with a clear error before the work it
asks for is done, so no request can stall the others. ``LIMITS`` lists them
all with what each bounds and how an excess is answered; the README's table
("Security and Operations") is its output: ``python -m evalql.api.limits``.

Every module that enforces a bound imports it from here (and the dense
matrix test is ``is_dense``); ``tests/api/test_limits.py`` checks that no
other module of api/ declares one.
"""

from __future__ import annotations

from dataclasses import dataclass

# Run metadata is checked where it is stored (the CLI's ingest has no API);
# its bounds are listed here with the others.
from evalql.storage.run_meta import MAX_KEY_LENGTH as MAX_RUN_META_KEY_LENGTH
from evalql.storage.run_meta import MAX_KEYS as MAX_RUN_META_KEYS
from evalql.storage.run_meta import MAX_VALUE_LENGTH as MAX_RUN_META_VALUE_LENGTH

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30

# The HTTP request.
MAX_BODY_BYTES = 1 * MiB  # --max-body / EVALQL_MAX_BODY
MAX_UPLOAD_BYTES = 2 * GiB  # --max-upload / EVALQL_MAX_UPLOAD (multipart)
# Our variables nest 4 deep (variables, where, a RowFilter, its in list);
# anything far deeper is an attack on a recursive decoder.
MAX_JSON_DEPTH = 32

# The document, checked before anything runs (api/schema.py, api/cost.py).
MAX_TOKENS = 4_000
MAX_DEPTH = 12
MAX_ALIASES = 32
MAX_COST = 5_000
# What the static estimate cannot know (a string breakdown's real number of
# values, nested ones multiplying): the views one request may create, counted
# as they are made (api/views/base.py View.get).
MAX_VIEWS = 5_000
# Rows one request may scan, counted as each scan starts (api/context.py):
# every kernel pass over a split's rows and every filter's mask; answers
# from an index read none. A scan costs 2.5 to 5 ns of CPU a row on this
# machine (measured on 10M rows: a confusion scan 3.1 ns, masked 4.8, a
# filter's mask 2.5 to 3.5), so 10⁹ rows is at most about 5 s of CPU.
MAX_ROWS_SCANNED = 1_000_000_000

# Lists in arguments and variables.
MAX_WHERE_CONDITIONS = 64
MAX_IN_VALUES = 10_000  # summed over the conditions of one where
MAX_FIRST = 1_000  # first: of rows and cells
MAX_BINS = 1_000  # confidenceHistogram and numeric breakdown bins
MAX_SLICES = 1_000  # distinct values in a string breakdown
MAX_CURVE_POINTS = 1_001
# rocCurve / prCurve: exact vertices kept (a vertex per distinct score)
MAX_SCORE_CURVE_POINTS = 10_001
MAX_MATRIX_CELLS = 4_000_000  # (labels + 1)² of a dense confusion matrix
# Model.history: the runs one history reads (each run's split, one at a time).
MAX_HISTORY_RUNS = 1_000

# The F1 bootstrap (f1Interval): resamples per request, and the estimated
# time (engine.intervals.f_beta_interval_seconds) past which it is refused.
MAX_RESAMPLES = 10_000
MAX_INTERVAL_SECONDS = 5.0

# Observability: operation names are chosen by clients, so the metric labels
# they become are capped; later names are counted as "other".
MAX_OPERATION_NAMES = 200


@dataclass(frozen=True)
class Limit:
    """One bound: what it bounds, its value, and the answer past it."""

    bounds: str
    value: str
    answer: str
    setting: str = ""


def _bytes(n: int) -> str:
    """``_bytes(1 << 20)`` -> ``"1 MiB"``."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


BAD_INPUT = "BAD_USER_INPUT"
COST = "COST_LIMIT"

LIMITS: list[Limit] = [
    Limit("request body (JSON)", _bytes(MAX_BODY_BYTES), "HTTP 413 PAYLOAD_TOO_LARGE",
          "--max-body, EVALQL_MAX_BODY"),
    Limit("request body (multipart upload)", _bytes(MAX_UPLOAD_BYTES),
          "HTTP 413 PAYLOAD_TOO_LARGE", "--max-upload, EVALQL_MAX_UPLOAD"),
    Limit("JSON nesting of a body or of variables", str(MAX_JSON_DEPTH),
          "HTTP 400 BAD_REQUEST"),
    Limit("tokens in a document", f"{MAX_TOKENS:,}", BAD_INPUT),
    Limit("depth of a query (introspection not counted)", str(MAX_DEPTH), COST),
    Limit("aliases in a document", str(MAX_ALIASES), COST),
    Limit("estimated cost of a query (api/cost.py)", f"{MAX_COST:,}", COST),
    Limit("views one request creates (counted as it runs)", f"{MAX_VIEWS:,}", COST),
    Limit("rows one request scans (counted as it runs)", f"{MAX_ROWS_SCANNED:,}", COST),
    Limit("`where` conditions", str(MAX_WHERE_CONDITIONS), BAD_INPUT),
    Limit("`in` values, summed over one `where`", f"{MAX_IN_VALUES:,}", BAD_INPUT),
    Limit("`labels` (class filter)", "the model's label count", BAD_INPUT),
    Limit("`first` of rows and cells", f"1..{MAX_FIRST:,}", BAD_INPUT),
    Limit("`bins` of confidenceHistogram and breakdown", f"1..{MAX_BINS:,}", BAD_INPUT),
    Limit("slices of a string breakdown", f"{MAX_SLICES:,}", COST),
    Limit("`points` of a curve", f"2..{MAX_CURVE_POINTS:,}", BAD_INPUT),
    Limit("`points` of rocCurve and prCurve (vertices kept)",
          f"2..{MAX_SCORE_CURVE_POINTS:,}", BAD_INPUT),
    Limit("cells of a dense confusion matrix, (labels + 1)²", f"{MAX_MATRIX_CELLS:,}", COST),
    Limit("runs one `history` reads (runs with the split)", f"{MAX_HISTORY_RUNS:,}", COST),
    Limit("`resamples` of f1Interval", f"1..{MAX_RESAMPLES:,}", BAD_INPUT),
    Limit("estimated time of one f1Interval bootstrap", f"{MAX_INTERVAL_SECONDS:g} s", COST),
    Limit("keys of a run's metadata (`runMeta`, after the merge)", str(MAX_RUN_META_KEYS),
          BAD_INPUT),
    Limit("characters of a run metadata key", f"1..{MAX_RUN_META_KEY_LENGTH:,}", BAD_INPUT),
    Limit("characters of a run metadata string value", f"{MAX_RUN_META_VALUE_LENGTH:,}",
          BAD_INPUT),
    Limit("operation names kept apart in /metrics", str(MAX_OPERATION_NAMES),
          'counted as "other"'),
]


def check_length(argument: str, length: int, most: int, noun: str, why: str = "") -> None:
    """Refuse a list argument longer than ``most``, before any work on it.

    ``check_length("where", 65, 64, "conditions")`` raises BAD_USER_INPUT
    "where has 65 conditions; the limit is 64".
    """
    if length > most:
        # Imported here: the CLI reads this module and must start without GraphQL.
        from evalql.api.errors import BadUserInput

        reason = f" ({why})" if why else ""
        raise BadUserInput(f"{argument} has {length:,} {noun}; the limit is {most:,}{reason}")


def check_within(argument: str, value: int, low: int, high: int, why: str = "") -> None:
    """Refuse an integer argument outside ``low..high``.

    ``check_within("first", 1001, 1, MAX_FIRST)`` raises BAD_USER_INPUT
    "first has to be within 1..1000, got 1001".
    """
    if not low <= value <= high:
        from evalql.api.errors import BadUserInput

        reason = f" ({why})" if why else ""
        raise BadUserInput(f"{argument} has to be within {low}..{high}{reason}, got {value}")


def check_seconds(what: str, seconds: float) -> None:
    """Refuse (COST_LIMIT) work estimated to take over ``MAX_INTERVAL_SECONDS``."""
    if seconds > MAX_INTERVAL_SECONDS:
        from evalql.api.errors import CostLimit

        raise CostLimit(
            f"{what} would take about {seconds:.1f} s, over the limit of "
            f"{MAX_INTERVAL_SECONDS:g} s; ask for fewer resamples"
        )


def is_dense(n_labels: int, matrices: int = 1) -> bool:
    """Whether ``matrices`` dense (K+1)x(K+1) confusion matrices of ``n_labels``
    labels fit ``MAX_MATRIX_CELLS``: ``is_dense(3)`` is True (16 cells)."""
    return matrices * (n_labels + 1) ** 2 <= MAX_MATRIX_CELLS


def matrices_within(n_labels: int) -> int:
    """How many dense matrices of ``n_labels`` labels fit ``MAX_MATRIX_CELLS``."""
    return MAX_MATRIX_CELLS // (n_labels + 1) ** 2


def check_dense(n_labels: int) -> None:
    """Refuse (COST_LIMIT) a dense confusion matrix of too many labels."""
    if not is_dense(n_labels):
        from evalql.api.errors import CostLimit

        raise CostLimit(
            f"a {n_labels}-label confusion matrix is over the limit of "
            f"{MAX_MATRIX_CELLS:,} cells for a dense view"
        )


def markdown_table() -> str:
    """The README's table of limits."""
    lines = ["| bounds | limit | past it | setting |", "|---|---|---|---|"]
    lines += [f"| {x.bounds} | {x.value} | {x.answer} | {x.setting} |" for x in LIMITS]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
