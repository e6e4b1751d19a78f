"""``evalql report``: a view's metrics in a terminal, without a server.

It computes what the GraphQL ``Metrics`` of the same view answers — the
summary, the MACRO / MICRO / WEIGHTED precision, recall and F1, and the
per-label table — with the same storage and engine calls, and prints it as
scikit-learn's ``classification_report`` does, with each label's TP, FP, FN
and Wilson intervals of its precision and recall added::

    evalql report --model m --run v1 --split test --threshold 0.5 --where channel=email

``--format json`` prints one object (numbers at full precision, null where
undefined), ``--format csv`` the per-label table with a header row.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine and storage load in build_report: `evalql --help` stays fast
    import numpy as np

    from evalql.engine.intervals import Interval
    from evalql.engine.metrics import LabelCounts, Summary
    from evalql.engine.multilabel.counts import MultilabelSummary
    from evalql.storage.catalog import Catalog
    from evalql.storage.datasets import SplitData
    from evalql.storage.model import ModelInfo, SplitInfo

FORMATS = ("table", "json", "csv")

class ReportError(Exception):
    """The report as asked cannot be made (unknown model, run, split or label,
    a malformed argument); the CLI prints it as one line."""


@dataclass(frozen=True)
class LabelRow:
    """One line of the per-label table. Ratios are NaN when undefined (0/0)."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision_interval: Interval | None  # Wilson, of tp / (tp + fp); None when 0/0
    recall_interval: Interval | None  # Wilson, of tp / (tp + fn); None when 0/0


@dataclass(frozen=True)
class Report:
    """Everything ``evalql report`` prints, for one view of a split."""

    model: str
    run: str
    split: str
    task: str
    threshold: float
    labels: tuple[str, ...] | None  # the class filter, None when absent
    where: dict[str, tuple[str, ...]]  # column -> accepted values
    level: float
    summary: Summary | MultilabelSummary
    averages: dict[str, dict[str, float]]  # "MACRO" -> {"precision": ..., ...}
    rows: list[LabelRow]

    @property
    def support(self) -> int:
        """Rows (multilabel: row-label pairs) whose actual label is one of the table's."""
        return sum(row.support for row in self.rows)


def parse_where(texts: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``["channel=email", "channel=chat", "lang=en"]`` ->
    ``{"channel": ("email", "chat"), "lang": ("en",)}``.

    The values given for one column are alternatives (the API's ``in``);
    different columns must all hold. The value is everything after the first
    ``=``, so it may contain ``=`` itself.
    """
    where: dict[str, tuple[str, ...]] = {}
    for text in texts:
        column, sep, value = text.partition("=")
        if not sep or not column:
            raise ReportError(f"--where takes COLUMN=VALUE, got {text!r}")
        where[column] = (*where.get(column, ()), value)
    return where


def _lookup(catalog: Catalog, model: str, run: str, split: str) -> tuple[ModelInfo, SplitInfo]:
    """The model and split named, or a ReportError that lists the valid names."""
    from evalql.api.errors import one_of

    root = catalog.root.resolve()
    model_info = catalog.model(model)
    if model_info is None:
        known = one_of(m.name for m in catalog.models())
        raise ReportError(f'there is no model "{model}" in {root}; it has {known}')
    if catalog.run(model, run) is None:
        known = one_of(r.name for r in catalog.runs(model))
        raise ReportError(f'model "{model}" has no run "{run}"; it has {known}')
    split_info = catalog.split(model, run, split)
    if split_info is None:
        known = one_of(s.name for s in catalog.splits(model, run))
        raise ReportError(f'run "{model}/{run}" has no split "{split}"; it has {known}')
    return model_info, split_info


def _codes(model: ModelInfo, labels: Sequence[str] | None) -> np.ndarray:
    """The class filter's codes in its order (every label when None), checked
    as the API checks its ``labels`` argument."""
    import numpy as np

    from evalql.api.errors import one_of

    if labels is None:
        return np.arange(len(model.labels), dtype=np.intp)
    if not labels:
        raise ReportError("--labels has to name at least one label (or be omitted)")
    for name in labels:
        if name not in model.labels:
            raise ReportError(
                f'label "{name}" is not a label of model "{model.name}"; '
                f"it has {one_of(model.labels)}"
            )
    if len(set(labels)) != len(labels):
        raise ReportError("--labels has to list each label once")
    index = {name: i for i, name in enumerate(model.labels)}
    return np.array([index[name] for name in labels], dtype=np.intp)


def _count(
    data: SplitData, task: str, threshold: float, codes: np.ndarray,
    selected: bool, mask: np.ndarray | None,
) -> tuple[LabelCounts, Summary | MultilabelSummary]:
    """Per-label counts of ``codes`` and the row summary: one pass over the rows."""
    from evalql.api.limits import is_dense
    from evalql.engine.confusion import confusion_counts, label_totals
    from evalql.engine.metrics import Totals, label_counts, summary
    from evalql.engine.multilabel.counts import multilabel_counts

    columns = data.columns
    k = data.n_labels
    if task == "multilabel":
        counted = multilabel_counts(
            columns, threshold, k, mask, labels=codes if selected else None, matrix=False
        )
        return counted.label_counts(codes), counted.summary
    arrays = (columns.actual, columns.predicted, columns.confidence)
    # Past the API's dense-view limit (api/limits.py) the per-label sums come
    # from an O(K) scan instead of a (K+1)^2 matrix; the numbers are the same.
    if is_dense(k):
        totals = Totals.of_matrix(confusion_counts(*arrays, threshold, k, mask))
    else:
        totals = label_totals(*arrays, threshold, k, mask)
    return label_counts(totals, codes), summary(totals, codes if selected else None)


def build_report(
    root: Path,
    model: str,
    run: str,
    split: str,
    threshold: float = 0.0,
    labels: Sequence[str] | None = None,
    where: dict[str, tuple[str, ...]] | None = None,
    level: float = 0.95,
) -> Report:
    """The report of one view: (split, threshold, class filter, row filter).

    Raises ReportError for an unknown model, run, split or label, a threshold
    outside [0, 1] or a level outside (0, 1); storage's FilterError (a
    StoreError) for an unknown column or a value its type cannot hold.
    """
    from evalql.engine.averaging import AVERAGED_METRICS, AVERAGES, average
    from evalql.engine.intervals import wilson_interval
    from evalql.engine.metrics import f1, precision, recall
    from evalql.storage.datasets import SplitStore
    from evalql.storage.filters import Condition, row_mask

    if not 0.0 <= threshold <= 1.0:
        raise ReportError(f"--threshold has to be within [0, 1], got {threshold}")
    if not 0.0 < level < 1.0:
        raise ReportError(f"--level has to be between 0 and 1 (exclusive), got {level}")
    where = where or {}
    store = SplitStore(root)
    model_info, split_info = _lookup(store.catalog, model, run, split)
    codes = _codes(model_info, labels)
    data = store.load(split_info)
    conditions = [Condition(column, isin=values) for column, values in where.items()]
    mask = row_mask(data.metadata, conditions)
    c, s = _count(data, model_info.task, threshold, codes, labels is not None, mask)
    p, r, f = precision(c), recall(c), f1(c)
    rows = [
        LabelRow(
            label=model_info.labels[code],
            precision=float(p[i]), recall=float(r[i]), f1=float(f[i]),
            support=int(c.support[i]), predicted=int(c.predicted[i]),
            tp=int(c.tp[i]), fp=int(c.fp[i]), fn=int(c.fn[i]), tn=int(c.tn[i]),
            precision_interval=wilson_interval(int(c.tp[i]), int(c.predicted[i]), level),
            recall_interval=wilson_interval(int(c.tp[i]), int(c.support[i]), level),
        )
        for i, code in enumerate(codes)
    ]
    averages = {
        how: {metric: average(metric, c, how) for metric in AVERAGED_METRICS}
        for how in AVERAGES
    }
    return Report(
        model=model, run=run, split=split, task=model_info.task, threshold=threshold,
        labels=None if labels is None else tuple(labels), where=dict(where), level=level,
        summary=s, averages=averages, rows=rows,
    )


# --- formatting ---------------------------------------------------------------


def _interval_dict(interval: Interval | None) -> dict[str, float] | None:
    if interval is None:
        return None
    return {"low": interval.low, "high": interval.high, "level": interval.level}


def _summary_dict(s: Summary | MultilabelSummary) -> dict[str, Any]:
    from evalql.api.scalars import nullable  # strawberry: not loaded for `evalql --help`

    return {
        "total": s.total,
        "labeled": s.labeled,
        "predicted": s.predicted,
        "correct": s.correct,
        "coverage": nullable(s.coverage),
        "accuracy": nullable(s.accuracy),
        "selectiveAccuracy": nullable(s.selective_accuracy),
        "hammingScore": nullable(s.hamming_score),
        "subsetAccuracy": nullable(s.subset_accuracy),
    }


def as_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data, named as the GraphQL fields are (NaN as null)."""
    from evalql.api.scalars import nullable

    return {
        "model": report.model,
        "run": report.run,
        "split": report.split,
        "task": report.task,
        "threshold": report.threshold,
        "labels": None if report.labels is None else list(report.labels),
        "where": {column: list(values) for column, values in report.where.items()},
        "level": report.level,
        **_summary_dict(report.summary),
        "averages": report.averages,
        "perLabel": [
            {
                "label": row.label,
                "precision": nullable(row.precision),
                "recall": nullable(row.recall),
                "f1": nullable(row.f1),
                "support": row.support,
                "predicted": row.predicted,
                "tp": row.tp,
                "fp": row.fp,
                "fn": row.fn,
                "tn": row.tn,
                "precisionInterval": _interval_dict(row.precision_interval),
                "recallInterval": _interval_dict(row.recall_interval),
            }
            for row in report.rows
        ],
    }


def format_json(report: Report) -> str:
    """One JSON object; floats at full precision (``repr``), null for undefined."""
    return json.dumps(as_dict(report), allow_nan=False)


CSV_HEADER = (
    "label", "precision", "recall", "f1", "support", "predicted", "tp", "fp", "fn", "tn",
    "precision_low", "precision_high", "recall_low", "recall_high",
)


def format_csv(report: Report) -> str:
    """The per-label table with a header row; an undefined value is an empty field."""

    def cell(value: float | None) -> str:
        return "" if value is None or math.isnan(value) else repr(float(value))

    def ends(interval: Interval | None) -> list[str]:
        return ["", ""] if interval is None else [cell(interval.low), cell(interval.high)]

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        writer.writerow([
            row.label, cell(row.precision), cell(row.recall), cell(row.f1),
            row.support, row.predicted, row.tp, row.fp, row.fn, row.tn,
            *ends(row.precision_interval), *ends(row.recall_interval),
        ])
    return out.getvalue()


def _ratio(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _span(interval: Interval | None, digits: int) -> str:
    if interval is None:
        return "-"
    return f"{interval.low:.{digits}f}-{interval.high:.{digits}f}"


def format_table(report: Report, digits: int = 4) -> str:
    """The report as ``classification_report`` lays it out, plus the summary,
    TP / FP / FN and the Wilson intervals; "-" marks an undefined value."""
    s = report.summary
    view = [f"{report.model}/{report.run}/{report.split}", f"threshold {report.threshold:g}"]
    if report.labels is not None:
        view.append("labels " + ",".join(report.labels))
    for column, values in report.where.items():
        view.append(f"{column} in ({', '.join(values)})" if len(values) > 1
                    else f"{column}={values[0]}")
    lines = ["  ".join(view), ""]
    facts = [
        ("total", f"{s.total:,}"),
        ("labeled", f"{s.labeled:,}"),
        ("predicted", f"{s.predicted:,}"),
        ("correct", f"{s.correct:,}"),
        ("coverage", _ratio(s.coverage, digits)),
        ("accuracy", _ratio(s.accuracy, digits)),
        ("selective accuracy", _ratio(s.selective_accuracy, digits)),
    ]
    if report.task == "multilabel":
        facts += [("hamming score", _ratio(s.hamming_score, digits)),
                  ("subset accuracy", _ratio(s.subset_accuracy, digits))]
    key_width = max(len(key) for key, _ in facts)
    lines += [f"{key:>{key_width}}  {value}" for key, value in facts]
    lines.append("")

    percent = f"{report.level * 100:g}%"
    header = ["", "precision", "recall", "f1-score", "support", "TP", "FP", "FN",
              f"precision {percent}", f"recall {percent}"]
    body = [
        [row.label, _ratio(row.precision, digits), _ratio(row.recall, digits),
         _ratio(row.f1, digits), f"{row.support}", f"{row.tp}", f"{row.fp}", f"{row.fn}",
         _span(row.precision_interval, digits), _span(row.recall_interval, digits)]
        for row in report.rows
    ]
    names = {"MACRO": "macro avg", "MICRO": "micro avg", "WEIGHTED": "weighted avg"}
    averages = [
        [names[how], *(_ratio(values[m], digits) for m in ("precision", "recall", "f1")),
         f"{report.support}", "", "", "", "", ""]
        for how, values in report.averages.items()
    ]
    table = [header, *body, *averages]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]

    def render(line: list[str]) -> str:
        return "  ".join(text.rjust(width) for text, width in zip(line, widths, strict=True))

    lines.append(render(header).rstrip())
    lines += [render(line) for line in body]
    lines.append("")
    lines += [render(line).rstrip() for line in averages]
    return "\n".join(lines) + "\n"


FORMATTERS: dict[str, Callable[[Report], str]] = {
    "table": format_table,
    "json": lambda report: format_json(report) + "\n",
    "csv": format_csv,
}


# --- the command ----------------------------------------------------------------


def add_command(
    sub: argparse._SubParsersAction,
    formatter: type[argparse.HelpFormatter],
    data_help: str,
    read: Callable[[argparse.Namespace], Path],
    refused: type[Exception],
) -> None:
    """Register ``report`` on the CLI's subparsers.

    ``read`` opens the store (refusing a folder that holds none); ``refused``
    is the CLI's one-line error, which ``ReportError`` becomes.
    """
    summary = ("print a view's metrics as scikit-learn's classification_report does, "
               "computed from the store without a server")
    report = sub.add_parser("report", help=summary, formatter_class=formatter,
                            description=summary[0].upper() + summary[1:] + ".")
    report.add_argument("--model", required=True, metavar="NAME", help="model name (required)")
    report.add_argument("--run", required=True, metavar="NAME", help="run name (required)")
    report.add_argument("--split", required=True, metavar="NAME", help="split name (required)")
    report.add_argument("--threshold", type=float, default=0.0, metavar="T",
                        help="predictions with confidence below T count as None "
                             "(default: %(default)s, every prediction kept)")
    report.add_argument("--labels", metavar="A,B",
                        help="class filter: the labels to report, in this order "
                             "(default: every label)")
    report.add_argument("--where", action="append", metavar="COLUMN=VALUE",
                        help="keep the rows whose metadata COLUMN equals VALUE; repeat it: "
                             "values of one column are alternatives, columns must all hold "
                             "(default: every row)")
    report.add_argument("--format", choices=FORMATS, default="table", help="output format")
    report.add_argument("--level", type=float, default=0.95,
                        help="confidence level of the precision and recall intervals")
    report.add_argument("--data", metavar="DIR", help=data_help)

    def run(args: argparse.Namespace) -> int:
        root = read(args)
        labels = None if args.labels is None else [s.strip() for s in args.labels.split(",")]
        try:
            made = build_report(
                root, args.model, args.run, args.split, args.threshold, labels,
                parse_where(args.where or ()), args.level,
            )
        except ReportError as error:
            raise refused(str(error)) from error
        sys.stdout.write(FORMATTERS[args.format](made))
        return 0

    report.set_defaults(handler=run)
