"""GraphQL enums of SPEC's core."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What kind of classifier a model is.")
class Task(Enum):
    MULTICLASS = "multiclass"
    MULTILABEL = "multilabel"


@strawberry.enum(description="How per-label precision, recall and F1 are averaged.")
class Average(Enum):
    MACRO = "MACRO"
    MICRO = "MICRO"
    WEIGHTED = "WEIGHTED"
