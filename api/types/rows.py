"""Drill-down: the rows behind a count, as Relay-style connections.

``Metrics.rows`` selects rows by confusion cell and outcome, ``LabelMetrics.rows``
by a label's TP/FP/FN/TN, ``Comparison.rows`` by change; the view pages them
(``View.rows``, ``View.label_rows``, ``Pair.rows``) and these types show the
page. Pages are keyset pages with cursors (``api/cursors.py``).
"""

from __future__ import annotations

import strawberry

from evalql.api.scalars import JSON
from evalql.api.views import RowPage, RowRecord, Sheet


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

    @classmethod
    def from_record(cls, r: RowRecord) -> Row:
        return cls(
            id=r.id, actual=r.actual, predicted=r.predicted, confidence=r.confidence,
            correct=r.correct, actual_labels=r.actual_labels,
            predicted_labels=r.predicted_labels, predicted_confidences=r.predicted_confidences,
            baseline=None if r.baseline is None else cls.from_record(r.baseline),
            sheet=r.sheet, at=r.at,
        )

    @strawberry.field(
        description="Metadata values by column name, as ingested (timestamps and dates "
        "as ISO 8601 strings); every column when names is omitted."
    )
    def fields(self, names: list[str] | None = None) -> JSON:
        assert self.sheet is not None
        return self.sheet.fields(names, self.at)


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
    def from_page(cls, page: RowPage) -> RowConnection:
        edges = [
            RowEdge(cursor=cursor, node=Row.from_record(record))
            for cursor, record in zip(page.cursors, page.records, strict=True)
        ]
        info = PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor)
        return cls(total_count=page.total, edges=edges, page_info=info)
