"""Insights in words: the engine's findings with label names and a message."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

if TYPE_CHECKING:
    from evalql.api.views import Finding


def _percent(value: float) -> str:
    return f"{value:.0%}"


MESSAGES = {
    "confusion": lambda n, f: (
        f'{_percent(f.value)} of "{n[0]}" rows ({f.rows:,}) are predicted as "{n[1]}"'
    ),
    "low_recall": lambda n, f: (
        f'"{n[0]}" is found in only {_percent(f.value)} of its {f.rows:,} rows'
    ),
    "low_precision": lambda n, f: (
        f'only {_percent(f.value)} of the {f.rows:,} "{n[0]}" predictions are right'
    ),
    "abstention": lambda n, f: (
        f"the model gives no answer at this threshold for {_percent(f.value)} of rows ({f.rows:,})"
    ),
    "unlabeled": lambda n, f: f"{_percent(f.value)} of rows ({f.rows:,}) have no actual label",
}


@strawberry.type(description="Something worth telling about a view, most severe first.")
class Insight:
    kind: str = strawberry.field(
        description="confusion, low_recall, low_precision, abstention or unlabeled."
    )
    severity: str = strawberry.field(description="critical, warning or info.")
    labels: list[str]
    message: str
    value: float | None = strawberry.field(description="The rate the insight rests on.")

    @classmethod
    def from_finding(cls, finding: Finding, labels: tuple[str, ...]) -> Insight:
        names = [labels[code] for code in finding.codes]
        return cls(
            kind=finding.kind,
            severity=finding.severity,
            labels=names,
            message=MESSAGES[finding.kind](names, finding),
            value=finding.value,
        )
