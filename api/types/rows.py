"""Drill-down: the rows behind a count, as Relay-style connections.

``Metrics.rows`` selects rows by confusion cell and outcome, ``LabelMetrics.rows``
by a label's TP/FP/FN/TN; both page through ``engine.select`` (by scan) or
``engine.select_index`` (by walking the index). Pages are keyset pages: a
cursor holds the order key of the last row it returned (sort value and
position) and a fingerprint of the query that issued it, so a deep page costs
what the first costs, and a cursor of another query, view or version of the
split is refused instead of silently paging something else.

A multilabel view selects with ``engine.multilabel.rows.match_rows`` (a
``SetSelection``) and pages the flagged rows with the same keys and cursors:

- ``LabelMetrics.rows(outcome:)``: the label's TP (actual and kept), FP
  (kept, not actual), FN (actual, not kept), TN (neither), over every row of
  the view, as tp/fp/fn/tn count; ordered by the label's own stored
  confidence (also below the threshold; 0 where the row does not predict it).
- ``Metrics.rows``: on the view's labels S, ``actual: A`` is "A is actual",
  ``predicted: B`` "B is kept", null for either side "no such label at all",
  so ``(actual, predicted)`` selects the multilabel matrix cell; CORRECT /
  INCORRECT are exact match or not (``correct`` / ``total - correct``),
  ABSTAINED is "no kept label" (``total - predicted``), UNLABELED "no actual
  label"; all given conditions hold together. Ordered by the row's highest
  kept confidence (0 when nothing is kept), which is ``Row.confidence``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import math
import struct
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import strawberry

from evalql.api.errors import BadUserInput, one_of
from evalql.api.loaders import threshold_index
from evalql.api.scalars import JSON
from evalql.api.views import MAX_MATRIX_CELLS, View, label_code
from evalql.engine.confusion import as_threshold, kept_predictions
from evalql.engine.multilabel.rows import (
    RowTests,
    label_confidence,
    match_rows,
    top_confidence,
)
from evalql.engine.select import (
    ANY_RELATION,
    NO_CURSOR,
    OTHER_LABEL,
    SAME_LABEL,
    Page,
    Predicate,
    confidence_bits,
    matching_total,
    select_by_scan,
    select_flagged,
)
from evalql.engine.select_index import select_from_index
from evalql.storage.datasets import SplitData

MAX_FIRST = 1000


@strawberry.enum(
    description=(
        "What happened to a row at the view's threshold. The four outcomes "
        "partition the rows: UNLABELED = no actual label (whatever was predicted); "
        "otherwise ABSTAINED = no prediction (none given, or below the threshold), "
        "CORRECT = the actual label was predicted, INCORRECT = another label was. "
        "Multilabel, on the view's labels: CORRECT = the kept set equals the actual "
        "set (exact match, also when both are empty), INCORRECT = it does not (the "
        "two partition the rows); ABSTAINED = no label kept; UNLABELED = no actual "
        "label."
    )
)
class Outcome(Enum):
    CORRECT = "CORRECT"
    INCORRECT = "INCORRECT"
    ABSTAINED = "ABSTAINED"
    UNLABELED = "UNLABELED"


@strawberry.enum(description="A row's one-vs-rest outcome for one label.")
class LabelOutcome(Enum):
    TP = "TP"
    FP = "FP"
    FN = "FN"
    TN = "TN"


@strawberry.enum(
    description=(
        "Row order; ties go by position in the split. CONFIDENCE_* order by the "
        "stored confidence (also of predictions abstained at the threshold); ID "
        "orders ids as strings (code point order, so id 10 comes before id 9). "
        "Multilabel: LabelMetrics.rows orders by the label's stored confidence "
        "(0 where the row does not predict it), Metrics.rows by Row.confidence "
        "(the highest kept confidence, 0 when none is kept)."
    )
)
class RowOrder(Enum):
    CONFIDENCE_DESC = "CONFIDENCE_DESC"
    CONFIDENCE_ASC = "CONFIDENCE_ASC"
    ID = "ID"


@strawberry.enum(description="How a row changed between a comparison's baseline and candidate.")
class Change(Enum):
    FIXED = "FIXED"
    REGRESSED = "REGRESSED"


# --- cursors -----------------------------------------------------------------

_CURSOR = struct.Struct(">B8sq")  # format version, query fingerprint, order key
_CURSOR_VERSION = 1


def fingerprint(*parts: object) -> bytes:
    """8 bytes naming a query: the same parts give the same bytes."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()


def encode_cursor(query: bytes, key: int) -> str:
    """``encode_cursor(b"12345678", 7)`` -> ``"ATEyMzQ1Njc4AAAAAAAAAAc"``."""
    raw = _CURSOR.pack(_CURSOR_VERSION, query, key)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str | None, query: bytes) -> int:
    """The order key in cursor ``text`` (``NO_CURSOR`` for None).

    BAD_USER_INPUT for text that is not a cursor, and for a cursor another
    query issued (another view, filter, selection, order or split version).
    """
    if text is None:
        return NO_CURSOR
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        version, issuer, key = _CURSOR.unpack(raw)
    except (binascii.Error, ValueError, struct.error):
        version, issuer, key = -1, b"", -1
    if version != _CURSOR_VERSION or key < 0:
        raise BadUserInput(f'after: "{_clip(text)}" is not a cursor of this connection')
    if issuer != query:
        raise BadUserInput(
            "after: the cursor was issued for a different query (another view, "
            "filter, selection, order, or an older version of the split); "
            "ask for the first page again without after"
        )
    return key


def check_first(first: int) -> None:
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(f"first has to be within 1..{MAX_FIRST}, got {first}")


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# --- rows --------------------------------------------------------------------


class Sheet:
    """The metadata of one page's rows, taken column by column on first use."""

    def __init__(self, data: SplitData, positions: np.ndarray) -> None:
        self.table = data.metadata
        self.positions = pa.array(positions, pa.int64())
        self._columns: dict[str, list[Any]] = {}
        self._reported = False

    def column(self, name: str) -> list[Any]:
        if name not in self._columns:
            values = self.table.column(name).take(self.positions).to_pylist()
            self._columns[name] = [_json(v) for v in values]
        return self._columns[name]

    def fields(self, names: list[str] | None, i: int) -> dict[str, Any]:
        """Row ``i``'s metadata values (all columns when ``names`` is None)."""
        known = self.table.column_names
        unknown = [name for name in names or () if name not in known]
        if unknown:
            # Every row of the page asks; one error says it, the other rows stay empty.
            if self._reported:
                return {}
            self._reported = True
            raise BadUserInput(f'unknown column "{unknown[0]}"; the columns are {one_of(known)}')
        return {name: self.column(name)[i] for name in (known if names is None else names)}


def _json(value: Any) -> Any:
    """A metadata value as JSON: timestamps and dates as ISO 8601, NaN as null."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return value


@strawberry.type(description="One row of a split, as a view sees it.")
class Row:
    id: str
    actual: str | None = strawberry.field(
        description="The actual label; null = None. Null for multilabel models."
    )
    predicted: str | None = strawberry.field(
        description="The predicted label at the view's threshold; null when there is "
        "none or it is abstained (confidence below the threshold). Null for "
        "multilabel models."
    )
    confidence: float | None = strawberry.field(
        description="The stored confidence of the prediction, also when it is abstained "
        "at the threshold; 1.0 for a row ingested without one. Multilabel: the "
        "highest confidence of predictedLabels, null when no label is kept."
    )
    correct: bool = strawberry.field(
        description="A label was predicted at the threshold and it is the actual label. "
        "Multilabel: the kept labels are exactly the actual labels, on the view's "
        "labels (as Outcome CORRECT and Metrics.correct count)."
    )
    actual_labels: list[str] | None = strawberry.field(
        default=None,
        description="Multilabel: the row's actual labels in the model's label order "
        "(all of them, also those outside a class filter); null for multiclass models.",
    )
    predicted_labels: list[str] | None = strawberry.field(
        default=None,
        description="Multilabel: the row's labels kept at the view's threshold, highest "
        "confidence first (ties in label order; also those outside a class filter); "
        "null for multiclass models.",
    )
    predicted_confidences: list[float] | None = strawberry.field(
        default=None,
        description="Multilabel: the confidences of predictedLabels, in their order; "
        "null for multiclass models.",
    )
    baseline: Row | None = strawberry.field(
        default=None,
        description="In Comparison.rows, the same id's row in the baseline split "
        "(the node itself is the candidate's row); null elsewhere.",
    )
    sheet: strawberry.Private[Sheet | None] = None
    at: strawberry.Private[int] = 0

    @strawberry.field(
        description="Metadata values by column name, as ingested (timestamps and dates "
        "as ISO 8601 strings); every column when names is omitted."
    )
    def fields(self, names: list[str] | None = None) -> JSON:
        assert self.sheet is not None
        return self.sheet.fields(names, self.at)


def make_rows(view: View, positions: np.ndarray) -> list[Row]:
    """Rows at ``positions`` of the view's split, as the view sees them."""
    data = view._load()
    positions = np.asarray(positions, dtype=np.int64)
    if data.multilabel is not None:
        return _label_set_rows(view, data, positions)
    ids = data.ids.take(pa.array(positions)).to_pylist()
    actual = data.actual[positions]
    predicted = data.predicted[positions]
    confidence = data.confidence[positions]
    kept = kept_predictions(predicted, confidence, view.threshold)
    labels = view.model.labels
    sheet = Sheet(data, positions)
    return [
        Row(
            id=ids[i],
            actual=labels[actual[i]] if actual[i] >= 0 else None,
            predicted=labels[predicted[i]] if kept[i] else None,
            # No prediction at all has no confidence (ingest stored 1.0 for it).
            confidence=_shortest(confidence[i]) if predicted[i] >= 0 else None,
            correct=bool(kept[i] and predicted[i] == actual[i]),
            sheet=sheet,
            at=i,
        )
        for i in range(len(positions))
    ]


def _label_set_rows(view: View, data: SplitData, positions: np.ndarray) -> list[Row]:
    """Multilabel rows: label lists at the view's threshold, exact match on its labels."""
    sets = data.multilabel
    assert sets is not None
    ids = data.ids.take(pa.array(positions)).to_pylist()
    names = view.model.labels
    selected = np.zeros(len(names), dtype=np.bool_)
    selected[view.codes] = True
    threshold = as_threshold(view.threshold)
    sheet = Sheet(data, positions)
    rows = []
    for i, position in enumerate(positions):
        actual = np.sort(sets.actual_of(position))
        codes, confidence = sets.predicted_of(position)
        kept = confidence >= threshold
        order = np.lexsort((codes[kept], -confidence[kept]))  # confidence desc, then code
        kept_codes, kept_confidence = codes[kept][order], confidence[kept][order]
        exact = set(actual[selected[actual]].tolist()) == set(
            kept_codes[selected[kept_codes]].tolist()
        )
        shown = [_shortest(c) for c in kept_confidence]
        rows.append(Row(
            id=ids[i], actual=None, predicted=None,
            confidence=shown[0] if shown else None, correct=exact,
            actual_labels=[names[c] for c in actual],
            predicted_labels=[names[c] for c in kept_codes],
            predicted_confidences=shown, sheet=sheet, at=i,
        ))
    return rows


def _shortest(value: np.float32) -> float:
    """A float32 as the shortest decimal that reads back as it: 0.995, not
    0.9950000047683716, so it can be pasted back as a threshold."""
    return float(np.format_float_positional(value, unique=True))


@strawberry.type(description="A row and the cursor to ask for the rows after it.")
class RowEdge:
    cursor: str
    node: Row


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null on an empty page."
    )


@strawberry.type(
    description="A page of rows. totalCount counts every matching row, on every page."
)
class RowConnection:
    total_count: int
    edges: list[RowEdge]
    page_info: PageInfo

    @strawberry.field(description="The page's rows, as in edges.")
    def nodes(self) -> list[Row]:
        return [edge.node for edge in self.edges]

    @classmethod
    def of(cls, page: Page, rows: list[Row], query: bytes, total: int) -> RowConnection:
        edges = [
            RowEdge(cursor=encode_cursor(query, int(key)), node=row)
            for key, row in zip(page.keys, rows, strict=True)
        ]
        end = edges[-1].cursor if edges else None
        return cls(
            total_count=total, edges=edges, page_info=PageInfo(has_next_page=page.has_next,
                                                               end_cursor=end)
        )


# --- selections --------------------------------------------------------------


@dataclass(frozen=True)
class SetSelection:
    """Which rows of a multilabel view, and the confidence that orders them."""

    tests: RowTests
    labels: tuple[int, ...] | None  # the label columns the tests look at; None = all
    order_label: int | None  # order by this label's confidence; None = the row's top kept

    def fingerprint(self) -> bytes:
        return fingerprint(self.tests, self.labels, self.order_label)


@dataclass(frozen=True)
class RowQuery:
    """Which rows of a view, in which order."""

    view: View
    predicate: Predicate | SetSelection
    order: RowOrder

    def fingerprint(self) -> bytes:
        split, view = self.view.split, self.view
        return fingerprint(
            "rows", split.model, split.run, split.name, split.version,
            float(as_threshold(view.threshold)), view.conditions,
            self.predicate.fingerprint(), self.order.value,
        )

    def page(self, after: int, limit: int) -> tuple[Page, list[Row]]:
        """Blocking: the rows after key ``after``, materialised."""
        page = self._select(after, limit)
        return page, make_rows(self.view, page.rows)

    @property
    def walks_index(self) -> bool:
        """Whether pages walk the split's threshold index (else: a scan).

        The index keeps every cell's rows in confidence order, so a page is a
        merge of runs; under a row filter the walk skips the rows outside it.
        Id order, and labels too many for a matrix, scan instead.
        """
        if isinstance(self.predicate, SetSelection):
            return False
        k = len(self.view.model.labels)
        return self.order is not RowOrder.ID and (k + 1) ** 2 <= MAX_MATRIX_CELLS

    def _select(self, after: int, limit: int) -> Page:
        if isinstance(self.predicate, SetSelection):
            return self._select_sets(self.predicate, after, limit)
        view = self.view
        data = view._load()
        mask = view._mask()
        descending = self.order is RowOrder.CONFIDENCE_DESC
        if self.walks_index:
            return select_from_index(
                threshold_index(data), view.threshold, self.predicate, descending,
                after, limit, mask,
            )
        if self.order is RowOrder.ID:
            bits, descending = id_rank(data), False
        else:
            bits = confidence_bits(data.confidence)
        return select_by_scan(
            data.actual, data.predicted, data.confidence, bits, view.threshold,
            self.predicate, descending, after, limit, mask,
        )

    def _select_sets(self, selection: SetSelection, after: int, limit: int) -> Page:
        """A multilabel page: flag the matching rows, then page them by key."""
        view = self.view
        data = view._load()
        sets = data.multilabel
        assert sets is not None
        flags = match_rows(
            sets, view.threshold, data.n_labels, selection.tests, view._mask(), selection.labels
        )
        if self.order is RowOrder.ID:
            return select_flagged(flags, id_rank(data), False, after, limit)
        if selection.order_label is None:
            confidence = top_confidence(sets, view.threshold)
        else:
            confidence = label_confidence(sets, selection.order_label)
        descending = self.order is RowOrder.CONFIDENCE_DESC
        return select_flagged(flags, confidence_bits(confidence), descending, after, limit)


async def connection(query: RowQuery, first: int, after: str | None) -> RowConnection:
    """The page of ``query`` after cursor ``after``."""
    check_first(first)
    issuer = query.fingerprint()
    key = decode_cursor(after, issuer)
    view = query.view
    if view.conditions and query.walks_index:
        # A filtered walk does not see every matching row; the view's matrix
        # (shared with its other fields) counts them.
        counts, (page, rows) = await asyncio.gather(
            view.counts(), view.ctx.run(query.page, key, first)
        )
        return RowConnection.of(page, rows, issuer, matching_total(counts, query.predicate))
    page, rows = await view.ctx.run(query.page, key, first)
    return RowConnection.of(page, rows, issuer, page.total)


async def view_rows(
    view: View,
    actual: str | None,
    predicted: str | None,
    outcome: Outcome | None,
    order: RowOrder,
    first: int,
    after: str | None,
) -> RowConnection:
    """``Metrics.rows``: ``actual``/``predicted`` are label names, null for None,
    ``strawberry.UNSET`` when not given."""
    predicate: Predicate | SetSelection
    if view.multilabel:
        predicate = set_selection(view, actual, predicted, outcome)
    else:
        predicate = cell_predicate(view, actual, predicted, outcome)
    return await connection(RowQuery(view, predicate, order), first, after)


async def label_rows(
    view: View, code: int, outcome: LabelOutcome, order: RowOrder, first: int, after: str | None
) -> RowConnection:
    """``LabelMetrics.rows``: label ``code``'s TP, FP, FN or TN rows."""
    predicate: Predicate | SetSelection
    if view.multilabel:
        predicate = SetSelection(label_tests(code, outcome), labels=None, order_label=code)
    else:
        predicate = label_predicate(len(view.model.labels), code, outcome)
    return await connection(RowQuery(view, predicate, order), first, after)


def cell_predicate(
    view: View, actual: str | None, predicted: str | None, outcome: Outcome | None
) -> Predicate:
    """The rows ``Metrics.rows`` selects, as a predicate on confusion cells.

    With a class filter the rows are those whose actual label is in it (the
    rows ``total`` counts), plus, when asked for explicitly (UNLABELED, or
    ``actual: null``), the rows without an actual label: the None row the
    filtered matrix still shows. An ``actual`` label outside the filter
    selects nothing.
    """
    k = len(view.model.labels)
    actual_ok = np.ones(k + 1, dtype=np.bool_)
    predicted_ok = np.ones(k + 1, dtype=np.bool_)
    relation = ANY_RELATION
    if view.class_filter is not None:
        actual_ok[:] = False
        actual_ok[view.codes] = True
        actual_ok[k] = outcome is Outcome.UNLABELED or actual is None
    if actual is not strawberry.UNSET:
        actual_ok &= _only(k, _code(view, actual, "actual"))
    if predicted is not strawberry.UNSET:
        predicted_ok &= _only(k, _code(view, predicted, "predicted"))
    if outcome is Outcome.CORRECT:
        relation = SAME_LABEL
    elif outcome is Outcome.INCORRECT:
        relation = OTHER_LABEL
    elif outcome is Outcome.ABSTAINED:
        actual_ok[k] = False
        predicted_ok &= _only(k, k)
    elif outcome is Outcome.UNLABELED:
        actual_ok &= _only(k, k)
    return Predicate(actual_ok, predicted_ok, relation)


def label_predicate(n_labels: int, code: int, outcome: LabelOutcome) -> Predicate:
    """A label's one-vs-rest rows, over every row of the view (as tp/fp/fn/tn count)."""
    only = _only(n_labels, code)
    actual_is, predicted_is = {
        LabelOutcome.TP: (True, True),
        LabelOutcome.FP: (False, True),
        LabelOutcome.FN: (True, False),
        LabelOutcome.TN: (False, False),
    }[outcome]
    return Predicate(only if actual_is else ~only, only if predicted_is else ~only)


def set_selection(
    view: View, actual: str | None, predicted: str | None, outcome: Outcome | None
) -> SetSelection:
    """The rows ``Metrics.rows`` selects in a multilabel view, on its labels S.

    ``actual: A`` means A is among the row's actual labels, ``actual: null``
    that none of S is; likewise ``predicted`` for the labels kept at the
    threshold. So ``(actual, predicted)`` is a cell of the multilabel matrix,
    whose count is the number of rows (a row adds at most 1 to a cell). A
    label outside S selects nothing. Conditions that cannot hold together
    (``predicted: B`` with ABSTAINED) select nothing.
    """
    actual_has = predicted_has = exact = None
    if actual is not strawberry.UNSET and actual is not None:
        actual_has = _code(view, actual, "actual")
    if predicted is not strawberry.UNSET and predicted is not None:
        predicted_has = _code(view, predicted, "predicted")
    if outcome in (Outcome.CORRECT, Outcome.INCORRECT):
        exact = outcome is Outcome.CORRECT
    # An explicit null (None) side is "no such label"; so are the outcomes.
    no_actual = actual is None or outcome is Outcome.UNLABELED
    no_predicted = predicted is None or outcome is Outcome.ABSTAINED
    tests = RowTests(
        actual_has=actual_has, actual_empty=True if no_actual else None,
        predicted_has=predicted_has, predicted_empty=True if no_predicted else None,
        exact=exact,
    )
    labels = None if view.class_filter is None else tuple(int(c) for c in view.codes)
    return SetSelection(tests, labels=labels, order_label=None)


def label_tests(code: int, outcome: LabelOutcome) -> RowTests:
    """A multilabel label's TP, FP, FN or TN rows: is it actual, is it kept."""
    actual_is, kept_is = {
        LabelOutcome.TP: (True, True),
        LabelOutcome.FP: (False, True),
        LabelOutcome.FN: (True, False),
        LabelOutcome.TN: (False, False),
    }[outcome]
    return RowTests(
        actual_has=code if actual_is else None,
        actual_lacks=None if actual_is else code,
        predicted_has=code if kept_is else None,
        predicted_lacks=None if kept_is else code,
    )


def _only(n_labels: int, code: int) -> np.ndarray:
    return np.arange(n_labels + 1) == code


def _code(view: View, name: str | None, argument: str) -> int:
    """A label's code; None (null) is K."""
    if name is None:
        return len(view.model.labels)
    return label_code(view.model, name, argument)


def id_rank(data: SplitData) -> np.ndarray:
    """Each row's rank by id (int32), sorted once per split and kept with it."""

    def build() -> np.ndarray:
        order = pc.sort_indices(data.ids).to_numpy()
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        rank.flags.writeable = False
        return rank

    return data.memo("id-rank", build)


