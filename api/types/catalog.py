"""What is stored: models, their runs, and the runs' splits."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry

from evalql.api.context import Context
from evalql.api.errors import NotFound
from evalql.api.scalars import JSON, DateTime
from evalql.api.types.enums import Average, SummaryMetric, Task
from evalql.api.types.inputs import RowFilter
from evalql.api.types.metrics import Metrics
from evalql.api.views import ColumnInfo, HistoryValue, ModelInfo, RunInfo, SplitInfo, View, history

Info = strawberry.Info[Context, None]


@strawberry.type(description="A metadata column, usable in filters and returned with rows.")
class Column:
    name: str
    type: str = strawberry.field(
        description="string, int, float, bool, timestamp, date or other (not filterable)."
    )

    @classmethod
    def from_info(cls, c: ColumnInfo) -> Column:
        return cls(name=c.name, type=c.type)


@strawberry.type(description="The rows of one run on one part of the data (training, validation…).")
class Split:
    model_info: strawberry.Private[ModelInfo]
    info: strawberry.Private[SplitInfo]

    @strawberry.field
    def name(self) -> str:
        return self.info.name

    @strawberry.field
    def row_count(self) -> int:
        return self.info.row_count

    @strawberry.field(description="Metadata columns usable in filters and rows.")
    def columns(self) -> list[Column]:
        return [Column.from_info(c) for c in self.info.columns]

    @strawberry.field(
        graphql_type=Metrics,
        description=(
            "Metrics at a threshold (predictions with confidence below it count as "
            "None), over a class filter (labels, in order) and a row filter (where)."
        ),
    )
    def metrics(
        self,
        info: Info,
        threshold: float = 0.0,
        labels: list[str] | None = None,
        where: list[RowFilter] | None = None,
    ) -> Metrics | Awaitable[Metrics]:
        view = View.get(info.context, self.model_info, self.info, threshold, labels, where=where)
        return Metrics.of(view, info.selected_fields[0].selections)


@strawberry.type(description="One evaluation run of a model (a model version, a prompt iteration).")
class Run:
    model_info: strawberry.Private[ModelInfo]
    info: strawberry.Private[RunInfo]

    @strawberry.field
    def name(self) -> str:
        return self.info.name

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.info.created_at

    @strawberry.field(
        description=(
            "The run's metadata, such as its parameters, commit and description: an "
            "object of key to value, as given to evalql ingest --run-meta key=value "
            "(strings) or the ingest mutation's runMeta; {} when none."
        )
    )
    def meta(self) -> JSON:
        return dict(self.info.meta)

    @strawberry.field
    def splits(self, info: Info) -> list[Split]:
        found = info.context.store.catalog.splits(self.info.model, self.info.name)
        return [Split(model_info=self.model_info, info=s) for s in found]

    @strawberry.field(description="A split by name; null when the run has none of that name.")
    def split(self, info: Info, name: str) -> Split | None:
        found = info.context.store.catalog.split(self.info.model, self.info.name, name)
        return None if found is None else Split(model_info=self.model_info, info=found)


@strawberry.type(description="One run's value of a metric in a model's history.")
class HistoryPoint:
    run: str
    created_at: DateTime = strawberry.field(description="When the run was first ingested.")
    value: float | None = strawberry.field(
        description="The metric on the run's split, as its Metrics field; null where undefined."
    )

    @classmethod
    def from_value(cls, v: HistoryValue) -> HistoryPoint:
        return cls(run=v.run, created_at=v.created_at, value=v.value)


@strawberry.type(description="A classifier and its label set.")
class Model:
    info: strawberry.Private[ModelInfo]

    @strawberry.field
    def name(self) -> str:
        return self.info.name

    @strawberry.field
    def task(self) -> Task:
        return Task(self.info.task)

    @strawberry.field(description="The model's labels in their fixed order.")
    def labels(self) -> list[str]:
        return list(self.info.labels)

    @strawberry.field
    def runs(self, info: Info) -> list[Run]:
        found = info.context.store.catalog.runs(self.info.name)
        return [Run(model_info=self.info, info=r) for r in found]

    @strawberry.field(description="A run by name; null when the model has none of that name.")
    def run(self, info: Info, name: str) -> Run | None:
        found = info.context.store.catalog.run(self.info.name, name)
        return None if found is None else Run(model_info=self.info, info=found)

    @strawberry.field(
        description=(
            "A metric of split `split` in each run that has one, oldest run first "
            "(by createdAt): one point a run, at `threshold`, with no class or row "
            "filter, the value its Metrics field gives (null where undefined; "
            "`average` for PRECISION, RECALL and F1). Runs without the split are left "
            "out. A series a Grafana GraphQL or JSON data source plots as it is."
        )
    )
    async def history(
        self,
        info: Info,
        split: str,
        metric: SummaryMetric,
        threshold: float = 0.0,
        average: Average = Average.MACRO,
    ) -> list[HistoryPoint]:
        found = await history(info.context, self.info, split, metric.value, threshold,
                              average.value)
        return [HistoryPoint.from_value(v) for v in found]


def resolve_split(ctx: Context, ref_model: str, ref_run: str, ref_split: str) -> Split:
    """The split a SplitRef names, or a NOT_FOUND error naming the missing part."""
    catalog = ctx.store.catalog
    model = catalog.model(ref_model)
    if model is None:
        raise NotFound(f'no model "{ref_model}"')
    if catalog.run(ref_model, ref_run) is None:
        raise NotFound(f'model "{ref_model}" has no run "{ref_run}"')
    split = catalog.split(ref_model, ref_run, ref_split)
    if split is None:
        raise NotFound(f'run "{ref_model}/{ref_run}" has no split "{ref_split}"')
    return Split(model_info=model, info=split)
