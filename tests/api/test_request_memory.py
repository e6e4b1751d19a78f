"""What a request made is freed when it ends, not at Python's next full collection."""

from __future__ import annotations

import gc

from evalql.api.views.multiclass import MulticlassView
from tests.api.conftest import Query
from tests.api.test_rows import SPLIT, data


def live_views() -> int:
    return sum(isinstance(o, MulticlassView) for o in gc.get_objects())


def test_a_breakdowns_views_and_their_counts_go_when_the_request_ends(gql: Query) -> None:
    """A request's views and its DataLoader's futures are in cycles with its
    context; emptied at the end, they go by reference counting alone (the
    server runs with gc.freeze, so full collections are rare)."""
    query = SPLIT % """metrics(threshold: 0.5) { accuracy
        breakdown(column: "channel") { key metrics { accuracy } } }"""
    data(gql(query))  # kernels compiled, caches warm
    gc.collect()
    before = live_views()
    gc.disable()
    try:
        for _ in range(3):
            data(gql(query))
        assert live_views() == before
    finally:
        gc.enable()
