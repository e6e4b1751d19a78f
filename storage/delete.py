"""Deleting a split, a run or a model: one catalog transaction, then the files.

``delete_split(root, "m", "v1", "test")`` -> ``Deleted`` (its ``str()`` is
``"deleted split m/v1/test (8 rows)"``), or None when there is no such split;
``delete_run`` and ``delete_model`` likewise, with everything under them.

Each delete is atomic: its rows go in one ``BEGIN IMMEDIATE`` transaction,
so a reader (the server's catalog snapshot) sees all of it or none, and the
next query after the commit no longer finds what was deleted. The data files
are unlinked only after the commit; a file whose unlink fails, or that a
killed process never got to, is an orphan that the next write command
removes (``storage.staging``). A query already reading a split keeps its
data: the file is memory-mapped, and on Linux a mapping outlives the unlink.
A split on object storage has its object and its local copy removed the same
way; an object left behind is an orphan that ``evalql check --repair`` removes.

A model whose labels were derived from its splits (no ``--labels``) gets the
union of the labels of the splits it has left, as an ingest that replaces a
split does; fixed labels stay. A run or a model left without splits stays,
empty, until it is deleted itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from evalql.storage.catalog import CatalogWriter
from evalql.storage.errors import store_io
from evalql.storage.model import SplitInfo
from evalql.storage.object_cache import remove_split_file
from evalql.storage.staging import open_for_writing


@dataclass(frozen=True)
class Deleted:
    """What one delete removed: ``kind`` is split, run or model, ``name`` its
    path such as ``m/v1``; ``splits`` every split that went with it."""

    kind: str
    name: str
    splits: tuple[SplitInfo, ...]
    runs: int = 0  # runs removed with a model

    @property
    def rows(self) -> int:
        return sum(split.row_count for split in self.splits)

    def __str__(self) -> str:
        parts = [_count(self.rows, "row")]
        if self.kind != "split":
            parts.insert(0, _count(len(self.splits), "split"))
        if self.kind == "model":
            parts.insert(0, _count(self.runs, "run"))
        return f"deleted {self.kind} {self.name} ({', '.join(parts)})"


Remove = Callable[[CatalogWriter], Deleted | None]


def delete_split(root: Path, model: str, run: str, split: str) -> Deleted | None:
    """Delete the split ``model/run/split``; None when there is none."""

    def remove(tx: CatalogWriter) -> Deleted | None:
        found = tx.split(model, run, split)
        if found is None:
            return None
        tx.remove_split(model, run, split)
        _relabel(tx, model)
        return Deleted("split", f"{model}/{run}/{split}", (found,))

    return _delete(root, remove)


def delete_run(root: Path, model: str, run: str) -> Deleted | None:
    """Delete the run ``model/run`` and its splits; None when there is none."""

    def remove(tx: CatalogWriter) -> Deleted | None:
        if tx.run(model, run) is None:
            return None
        splits = tx.splits_of(model, run)
        tx.remove_run(model, run)
        _relabel(tx, model)
        return Deleted("run", f"{model}/{run}", tuple(splits))

    return _delete(root, remove)


def delete_model(root: Path, model: str) -> Deleted | None:
    """Delete the model ``model``, its runs and their splits; None when there is none."""

    def remove(tx: CatalogWriter) -> Deleted | None:
        if tx.model(model) is None:
            return None
        splits = tx.splits_of(model)
        runs = tx.run_count(model)
        tx.remove_model(model)
        return Deleted("model", model, tuple(splits), runs)

    return _delete(root, remove)


def _delete(root: Path, remove: Remove) -> Deleted | None:
    """Run ``remove`` in one write transaction, then unlink the files it freed."""
    with store_io(Path(root), "write"):
        catalog = open_for_writing(Path(root))
        with catalog.transaction() as tx:
            deleted = remove(tx)
    if deleted is not None:
        for split in deleted.splits:
            # After the commit, so a failure here cannot undo the delete: a
            # file left behind is an orphan that the next write removes.
            remove_split_file(catalog.root, split.path)
    return deleted


def _relabel(tx: CatalogWriter, model: str) -> None:
    """Derived labels follow the splits that are left (fixed ones never change)."""
    info = tx.model(model)
    if info is None or info.labels_fixed:
        return
    labels = tuple(sorted(tx.labels_in_splits(model)))
    if labels != info.labels:
        tx.put_model(replace(info, labels=labels))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
