"""engine.warm: every kernel belongs to a warm group, and warming compiles each
with exactly the specialisation serving asks for, so a new kernel module
cannot be forgotten and a request never compiles a second version."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numba
import pytest
from numba.core.dispatcher import Dispatcher

import evalql.engine
from evalql.engine.warm import GROUPS, group_of

ROOT = Path(__file__).resolve().parents[2]
JIT_DISABLED = bool(numba.config.DISABLE_JIT) or os.environ.get("NUMBA_DISABLE_JIT") == "1"
pytestmark = pytest.mark.skipif(JIT_DISABLED, reason="no kernels without the JIT")

# Kernels over a numeric column's values, warmed for int64 and float64 columns.
VALUE_KERNELS = {
    "evalql.engine.breakdown._value_range",
    "evalql.engine.breakdown._binned_counts",
    "evalql.engine.breakdown._confusion_by_bin",
}

# Run in a process of its own: the tests of this process compile kernels for
# other argument types (writable arrays, say), which serving never does.
_SIGNATURES = """
import json
from tests.engine.test_warm import kernels
from evalql.engine.warm import warm

found = kernels()
warm()
print(json.dumps({name: len(kernel.signatures) for name, kernel in found.items()}))
"""


def engine_modules() -> list[ModuleType]:
    """Every module of the engine, packages' modules included, imported."""
    names = pkgutil.walk_packages(evalql.engine.__path__, "evalql.engine.")
    return [importlib.import_module(info.name) for info in names]


def kernels() -> dict[str, Dispatcher]:
    """Every jitted function of the engine by ``module.name``, each where it is defined."""
    return {
        f"{module.__name__}.{name}": value
        for module in engine_modules()
        for name, value in vars(module).items()
        if isinstance(value, Dispatcher) and value.py_func.__module__ == module.__name__
    }


def inlined(kernel: Dispatcher) -> bool:
    """Inlined into its callers' IR: never compiled on its own."""
    return kernel.targetoptions.get("inline") == "always"


def callees(found: dict[str, Dispatcher]) -> set[str]:
    """The kernels another kernel calls (by a global name of its module)."""
    by_id = {id(kernel): name for name, kernel in found.items()}
    called = set()
    for kernel in found.values():
        for global_name in kernel.py_func.__code__.co_names:
            target = kernel.py_func.__globals__.get(global_name)
            if id(target) in by_id and target is not kernel:
                called.add(by_id[id(target)])
    return called


def test_group_of_names_a_kernels_module_below_the_engine() -> None:
    assert group_of("evalql.engine.multilabel.counts") == "multilabel.counts"
    assert group_of("evalql.engine.confusion") == "confusion"
    assert group_of("numpy.linalg") is None


def test_every_kernel_belongs_to_a_warm_group() -> None:
    found = kernels()
    assert len(found) > 50  # the walk did find the engine's kernels
    orphans = [name for name, kernel in found.items()
               if group_of(kernel.py_func.__module__) not in GROUPS]
    assert not orphans, f"kernels of modules without a warm group: {orphans}"


def test_every_warm_group_is_a_module_with_kernels() -> None:
    modules = {group_of(kernel.py_func.__module__) for kernel in kernels().values()}
    assert set(GROUPS) == modules


def test_warming_compiles_each_kernel_once_for_the_types_serving_uses() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SIGNATURES], cwd=ROOT, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    signatures = json.loads(result.stdout.splitlines()[-1])
    found = kernels()
    called = callees(found)
    assert set(signatures) == set(found)
    for name, kernel in found.items():
        allowed = 2 if name in VALUE_KERNELS else 1
        if inlined(kernel):
            continue
        if name in called:
            # Compiled inside its callers: loaded from the cache with them, or
            # compiled once when they are.
            assert signatures[name] <= allowed, name
        else:
            assert signatures[name] == allowed, name
