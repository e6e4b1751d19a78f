"""Plain records the catalog hands out: what is stored, never the data itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ColumnInfo:
    """A metadata column of a split: its name and a short type name.

    ``type`` is one of ``string``, ``int``, ``float``, ``bool``, ``timestamp``,
    ``date`` or ``other`` (kept and returned, not filterable). ``values`` is a
    string column's number of distinct values (nulls aside), recorded at
    ingest for the static cost of a breakdown; None for other types and for
    splits ingested before it was recorded.
    """

    name: str
    type: str
    values: int | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    task: str  # "multiclass" | "multilabel"
    labels: tuple[str, ...]  # the model's label order; code i is labels[i]
    labels_fixed: bool  # True when --labels fixed them at creation


@dataclass(frozen=True)
class RunInfo:
    model: str
    name: str
    created_at: datetime  # timezone-aware, UTC
    # --run-meta: parameters, commit, description (storage.run_meta); {} when none.
    meta: Mapping[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class SplitInfo:
    model: str
    run: str
    name: str
    row_count: int
    columns: tuple[ColumnInfo, ...]
    version: int  # changes whenever the split is replaced
    path: str  # data file, relative to the store root
    has_scores: bool
    # "sha256:<hex>" of the data file, kept at ingest for `evalql check`;
    # None for a file ingested before the catalog kept checksums.
    checksum: str | None = None
