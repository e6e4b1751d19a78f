"""Run metadata: a run's parameters, commit and description, as key → value.

Given at ingest (``evalql ingest --run-meta key=value``, the ``ingest``
mutation's ``runMeta``), kept in the catalog's ``runs.meta`` column as a JSON
object (``storage.schema`` version 3) and returned by ``Run.meta``. A later
ingest into the same run merges its keys in: a key given again takes the later
value, a key not given keeps its value, and a null value (the mutation only)
removes the key. ``merge({"lr": "0.1"}, {"lr": "0.01", "commit": "ab12"})`` ->
``{"lr": "0.01", "commit": "ab12"}``.

Values are JSON scalars: strings (all the CLI gives), numbers and booleans
(as a script sends them to the mutation). Keys and values are bounded, so a
run's metadata stays a few kilobytes the catalog snapshot can hold.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

Meta = Mapping[str, object]

MAX_KEYS = 100  # keys of one run, after the merge
MAX_KEY_LENGTH = 200  # characters, as a model, run or split name
MAX_VALUE_LENGTH = 10_000  # characters of a string value (a description)


def meta_problem(meta: object) -> str | None:
    """What is wrong with run metadata as given, or None when it is fine.

    ``meta_problem({"": "x"})`` -> ``"run metadata has an empty key"``.
    """
    if not isinstance(meta, Mapping):
        return f"run metadata has to be an object of key → value, not {_kind(meta)}"
    for key, value in meta.items():
        problem = _key_problem(key) or _value_problem(value)
        if problem is not None:
            return f"run metadata {problem}"
    if len(meta) > MAX_KEYS:
        return f"run metadata has {len(meta):,} keys; at most {MAX_KEYS} are allowed"
    return None


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"keys have to be strings, not {_kind(key)}"
    if not key.strip():
        return "has an empty key"
    if len(key) > MAX_KEY_LENGTH:
        return f"key {_shown(key)} is longer than {MAX_KEY_LENGTH} characters"
    if not key.isprintable():
        return f"key {_shown(key)} has to be printable (no tabs, newlines or control characters)"
    return None


def _value_problem(value: object) -> str | None:
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"value {value} is not a finite number"
    if isinstance(value, str):
        if len(value) > MAX_VALUE_LENGTH:
            return f"value of {len(value):,} characters is over the limit of {MAX_VALUE_LENGTH:,}"
        return None
    return f"values have to be strings, numbers or booleans, not {_kind(value)}"


def merge(old: Meta, new: Meta) -> dict[str, object]:
    """``old`` with ``new``'s keys: later values win, a None value removes its key."""
    merged = {**old, **new}
    return {key: value for key, value in merged.items() if value is not None}


def merged_problem(merged: Meta) -> str | None:
    """The bound the merged metadata of a run has to keep, or None."""
    if len(merged) > MAX_KEYS:
        return f"the run's metadata would have {len(merged):,} keys; at most {MAX_KEYS} are allowed"
    return None


def dumps(meta: Meta) -> str:
    """The catalog's form: compact JSON, keys sorted."""
    return json.dumps(dict(meta), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> dict[str, object]:
    """A run's metadata from the catalog; ``{}`` for null (none, or a store before version 3)."""
    return {} if text is None else json.loads(text)


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57]) + "..."
