"""Custom scalars: JSON, DateTime and Matrix."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import numpy as np
import strawberry


def _serialize_matrix(value: np.ndarray | list[list[int]]) -> list[list[int]]:
    # One scalar serialises a whole matrix: graphql-core would otherwise
    # complete a typed [[Int!]!]! value by value, which is slow at 1000 labels.
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _no_input(_: Any) -> Any:
    raise ValueError("this scalar is output only")


JSON = strawberry.scalar(
    NewType("JSON", object),
    description="Any JSON value.",
    serialize=lambda v: v,
    parse_value=lambda v: v,
)

DateTime = strawberry.scalar(
    NewType("DateTime", datetime),
    description="An ISO 8601 date and time with its UTC offset.",
    serialize=lambda v: v.isoformat(),
    parse_value=datetime.fromisoformat,
)

Matrix = strawberry.scalar(
    NewType("Matrix", object),
    description="A list of rows, each a list of non-negative integers.",
    serialize=_serialize_matrix,
    parse_value=_no_input,
)
