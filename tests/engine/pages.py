"""What the paging tests share: random predicates, the naive answer, and a
walk through every page."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from evalql.engine.select import ANY_RELATION, NO_CURSOR, OTHER_LABEL, SAME_LABEL, Predicate
from tests.engine.strategies import View


@st.composite
def predicates(draw: st.DrawFn, n_labels: int) -> Predicate:
    size = n_labels + 1
    flags = st.lists(st.booleans(), min_size=size, max_size=size)
    return Predicate(
        np.array(draw(flags), dtype=np.bool_),
        np.array(draw(flags), dtype=np.bool_),
        draw(st.sampled_from([ANY_RELATION, SAME_LABEL, OTHER_LABEL])),
    )


def naive_rows(view: View, predicate: Predicate, descending: bool, mask=None) -> list[int]:
    """Matching rows sorted by (confidence, position), confidence descending or not."""
    k = view.n_labels
    found = []
    for i, (a, p) in enumerate(zip(view.actual, view.answers(), strict=True)):
        a = k if a < 0 else int(a)
        p = k if p < 0 else p
        if mask is not None and not mask[i]:
            continue
        if not (predicate.actual_ok[a] and predicate.predicted_ok[p]):
            continue
        if predicate.relation == SAME_LABEL and not (a == p and a < k):
            continue
        if predicate.relation == OTHER_LABEL and not (a != p and a < k and p < k):
            continue
        found.append(i)
    sign = -1 if descending else 1
    return sorted(found, key=lambda i: (sign * float(view.confidence[i]), i))


def walk(select, limit: int) -> tuple[list[int], list[int]]:
    """Every page of ``select(after, limit)``; the rows and each page's total."""
    rows: list[int] = []
    totals = []
    after = NO_CURSOR
    while True:
        page = select(after, limit)
        assert len(page.rows) <= limit
        rows += page.rows.tolist()
        totals.append(page.total)
        if not page.has_next:
            return rows, totals
        assert len(page.rows) == limit
        after = int(page.keys[-1])
