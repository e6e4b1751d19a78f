"""Custom scalars: JSON, DateTime and Matrix, registered through ``SCALARS``."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, NewType

import numpy as np
import strawberry
from strawberry.types.scalar import ScalarDefinition

JSON = NewType("JSON", object)
DateTime = NewType("DateTime", datetime)
Matrix = NewType("Matrix", object)


def nullable(value: float | None) -> float | None:
    """A float for the API: NaN (undefined, 0/0) is null, as is None.

    The one NaN-to-null rule of the API (the GraphQL types, the views and
    ``evalql report --format json`` call it): ``nullable(float("nan"))`` is None.
    """
    return None if value is None or math.isnan(value) else float(value)


def _serialize_matrix(value: np.ndarray | list[list[int]]) -> list[list[int]]:
    # One scalar serialises a whole matrix: graphql-core would otherwise
    # complete a typed [[Int!]!]! value by value, which is slow at 1000 labels.
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _output_only(_: Any) -> Any:
    raise ValueError("this scalar is output only")


SCALARS: dict[object, ScalarDefinition] = {
    JSON: strawberry.scalar(
        name="JSON",
        description="Any JSON value.",
        serialize=lambda v: v,
        parse_value=lambda v: v,
    ),
    DateTime: strawberry.scalar(
        name="DateTime",
        description="An ISO 8601 date and time with its UTC offset.",
        serialize=lambda v: v.isoformat(),
        parse_value=datetime.fromisoformat,
    ),
    Matrix: strawberry.scalar(
        name="Matrix",
        description=(
            "A list of rows, each a list of non-negative numbers: integers for counts, "
            "floats for shares."
        ),
        serialize=_serialize_matrix,
        parse_value=_output_only,
    ),
}
