"""Hypothesis strategies for engine inputs, and the string view sklearn needs.

Confidences come mostly from a small set of round values so that ties at the
threshold happen often; thresholds come from the same set (as float64, so a
confidence stored as float32(0.7) meets a threshold of 0.7) or anywhere in
[0, 1].
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numba
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from evalql.engine.confusion import confusion_counts
from tests.naive import abstain

# CI also runs tests/engine as plain Python (NUMBA_DISABLE_JIT=1, .ci/run),
# where the point is to run every kernel line: fewer examples do that, and
# keep that run within a few minutes on two cores.
JIT_DISABLED = bool(numba.config.DISABLE_JIT) or os.environ.get("NUMBA_DISABLE_JIT") == "1"
SETTINGS = settings(max_examples=50 if JIT_DISABLED else 150, deadline=None)
# For tests whose examples cost more (paging walks, several kernels at once).
FEW = settings(max_examples=25 if JIT_DISABLED else 60, deadline=None)

ROUND_VALUES = (0.0, 0.25, 0.5, 0.7, 1.0)
# float32-exact versions of the round values, so hnp.arrays accepts them.
CONFIDENCES = st.sampled_from([float(np.float32(v)) for v in ROUND_VALUES]) | st.floats(
    0, 1, width=32
)
THRESHOLDS = st.sampled_from(ROUND_VALUES) | st.floats(0, 1)

NONE_NAME = "__none__"


@dataclass(frozen=True)
class View:
    """One split at one threshold: int32 codes (-1 = None), float32 confidences."""

    actual: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    threshold: float
    n_labels: int

    def counts(self, mask: np.ndarray | None = None) -> np.ndarray:
        return confusion_counts(
            self.actual, self.predicted, self.confidence, self.threshold, self.n_labels, mask
        )

    def answers(self) -> list[int]:
        """The predictions after abstention, by the naive reference."""
        return abstain(self.predicted, self.confidence, self.threshold)


@st.composite
def views(draw: st.DrawFn, min_rows: int = 0, max_rows: int = 300) -> View:
    n_labels = draw(st.integers(1, 6))
    n_rows = draw(st.integers(min_rows, max_rows))
    codes = st.integers(-1, n_labels - 1)
    return View(
        actual=draw(hnp.arrays(np.int32, n_rows, elements=codes)),
        predicted=draw(hnp.arrays(np.int32, n_rows, elements=codes)),
        confidence=draw(hnp.arrays(np.float32, n_rows, elements=CONFIDENCES)),
        threshold=draw(THRESHOLDS),
        n_labels=n_labels,
    )


def masks(n_rows: int) -> st.SearchStrategy[np.ndarray | None]:
    """No row mask, or a random one."""
    return st.none() | hnp.arrays(np.bool_, n_rows)


@st.composite
def class_filters(draw: st.DrawFn, n_labels: int) -> list[int]:
    """A non-empty subset of ``0 .. K-1`` in a random order (all of them included)."""
    order = draw(st.permutations(range(n_labels)))
    return order[: draw(st.integers(1, n_labels))]


def names(codes: list[int] | np.ndarray, none: str = NONE_NAME) -> list[str]:
    """Codes as the string labels sklearn sees; None becomes a sentinel label.

    The sentinel is never passed in ``labels=``, so it is never averaged over:
    None is not a label.
    """
    return [none if c < 0 else f"L{c}" for c in codes]
