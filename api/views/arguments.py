"""A view's arguments, checked: label names and row filters.

Each bad value is a BAD_USER_INPUT error that names it and lists the valid
ones; lists are bounded (api/limits.py) before any entry is looked up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evalql.api import limits
from evalql.api.errors import BadUserInput, one_of
from evalql.storage.filters import Condition
from evalql.storage.model import ModelInfo


def label_code(model: ModelInfo, name: str, argument: str = "label") -> int:
    """The code of ``name`` in the model's label order, or an error listing them."""
    if name not in model.labels:
        raise BadUserInput(
            f'{argument} "{name}" is not a label of model "{model.name}"; '
            f"it has {one_of(model.labels)}"
        )
    return model.labels.index(name)


def checked_labels(model: ModelInfo, names: list[str]) -> tuple[str, ...]:
    for name in names:
        label_code(model, name)
    if len(set(names)) != len(names):
        raise BadUserInput("labels has to list each label once")
    if not names:
        raise BadUserInput("labels has to name at least one label (or be omitted)")
    return tuple(names)


def conditions_of(where: Sequence[Any] | None) -> tuple[Condition, ...]:
    """The storage conditions of a ``where`` argument (RowFilters; empty when
    omitted), refused at once past the bounds of api/limits.py."""
    where = where or []
    limits.check_length("where", len(where), limits.MAX_WHERE_CONDITIONS, "conditions")
    values = sum(len(f.in_ or ()) for f in where)
    limits.check_length("where", values, limits.MAX_IN_VALUES, "`in` values in all")
    return tuple(
        Condition(column=f.column, isin=None if f.in_ is None else tuple(f.in_),
                  gt=f.gt, gte=f.gte, lt=f.lt, lte=f.lte, is_null=f.is_null)
        for f in where
    )
