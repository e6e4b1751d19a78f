"""The CSR columns of a multilabel split, as the kernels read them.

A row's actual labels are ``actual_codes[actual_offsets[i]:actual_offsets[i+1]]``
(the layout of an Arrow list array), and likewise its predicted labels and
their confidences. ``csr_arrays`` checks and freezes them once per call; a
class filter S becomes ``filter_codes`` (its codes) and ``filter_flags`` (S
as the kernels read it); ``joined`` puts per-row results of row ranges back
in row order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from evalql.engine.arrays import frozen


class LabelSetColumns(Protocol):
    """The CSR columns of a multilabel split (storage's ``MultilabelColumns`` is one).

    ``actual_offsets`` and ``predicted_offsets`` are int64 of length N + 1;
    ``predicted_confidence`` is aligned with ``predicted_codes``.
    """

    @property
    def actual_offsets(self) -> np.ndarray: ...
    @property
    def actual_codes(self) -> np.ndarray: ...
    @property
    def predicted_offsets(self) -> np.ndarray: ...
    @property
    def predicted_codes(self) -> np.ndarray: ...
    @property
    def predicted_confidence(self) -> np.ndarray: ...


@dataclass(frozen=True)
class LabelSets:
    """A concrete ``LabelSetColumns``: the five CSR arrays as they are."""

    actual_offsets: np.ndarray
    actual_codes: np.ndarray
    predicted_offsets: np.ndarray
    predicted_codes: np.ndarray
    predicted_confidence: np.ndarray


def csr_arrays(columns: LabelSetColumns) -> tuple[np.ndarray, ...]:
    """The five CSR arrays as kernels read them (int64 offsets, int32 codes,
    float32 confidences, read-only; no copy when they already have the dtype),
    after the O(1) checks that keep the compiled loops in bounds."""
    arrays = (
        frozen(columns.actual_offsets, np.int64),
        frozen(columns.actual_codes, np.int32),
        frozen(columns.predicted_offsets, np.int64),
        frozen(columns.predicted_codes, np.int32),
        frozen(columns.predicted_confidence, np.float32),
    )
    actual_offsets, actual_codes, predicted_offsets, predicted_codes, confidence = arrays
    if len(actual_offsets) == 0 or len(actual_offsets) != len(predicted_offsets):
        raise ValueError("actual and predicted offsets have to be two arrays of length N + 1")
    if predicted_codes.shape != confidence.shape:
        raise ValueError("predicted codes and confidences have to be the same length")
    for offsets, codes in ((actual_offsets, actual_codes), (predicted_offsets, predicted_codes)):
        if offsets[0] < 0 or offsets[-1] > len(codes):
            raise ValueError("offsets have to lie within their codes")
    return arrays


def filter_codes(labels: np.ndarray | Sequence[int] | None, n_labels: int) -> np.ndarray:
    """Codes of the class filter S; every label when there is none."""
    if labels is None:
        return np.arange(n_labels, dtype=np.intp)
    codes = np.asarray(labels, dtype=np.intp).reshape(-1)
    if len(codes) and (codes.min() < 0 or codes.max() >= n_labels):
        raise ValueError(f"label codes have to lie in [0, {n_labels})")
    return codes


def filter_flags(codes: np.ndarray, n_labels: int) -> np.ndarray:
    """S as the kernels read it: read-only bool flags of the K labels."""
    flags = np.zeros(n_labels, dtype=np.bool_)
    flags[codes] = True
    return frozen(flags, np.bool_)


def joined(parts: list[np.ndarray]) -> np.ndarray:
    """The ranges' slices of a per-row result, in row order (no copy for one)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
