"""engine.warm: every kernel belongs to a warm group, and warming compiles each
with exactly the specialisation serving asks for, so a new kernel module
cannot be forgotten and a request never compiles a second version. The
compile process warms every group once, a group asked for on its stdin first."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from numba.core.dispatcher import Dispatcher

import evalql.engine
from evalql.engine import warm as warm_module
from evalql.engine.confusion import _confusion_counts
from evalql.engine.warm import GROUPS, group_of, warm
from tests.engine.strategies import JIT_DISABLED

ROOT = Path(__file__).resolve().parents[2]
needs_the_jit = pytest.mark.skipif(JIT_DISABLED, reason="no kernels without the JIT")

# Kernels over a numeric column's values, warmed for int64 and float64 columns.
VALUE_KERNELS = {
    "evalql.engine.breakdown._value_range",
    "evalql.engine.breakdown._binned_counts",
    "evalql.engine.breakdown._confusion_by_bin",
    "evalql.engine.breakdown._confusion_by_bin_masked",
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


@needs_the_jit
def test_every_kernel_belongs_to_a_warm_group() -> None:
    found = kernels()
    assert len(found) > 50  # the walk did find the engine's kernels
    orphans = [name for name, kernel in found.items()
               if group_of(kernel.py_func.__module__) not in GROUPS]
    assert not orphans, f"kernels of modules without a warm group: {orphans}"


@needs_the_jit
def test_every_warm_group_is_a_module_with_kernels() -> None:
    modules = {group_of(kernel.py_func.__module__) for kernel in kernels().values()}
    assert set(GROUPS) == modules


@needs_the_jit
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


def test_kernels_are_jitted_unless_numba_disable_jit_makes_them_plain_python() -> None:
    # CI runs tests/engine a second time with NUMBA_DISABLE_JIT=1 (.ci/run), so
    # every kernel line also runs as Python; this says which run this is.
    assert isinstance(_confusion_counts, Dispatcher) is not JIT_DISABLED


@pytest.mark.skipif(not JIT_DISABLED, reason="compiles every kernel: the subprocess test above")
def test_every_group_warms_as_plain_python() -> None:
    warm()


def test_the_compile_process_warms_each_group_once_a_group_asked_for_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, asked = threading.Event(), threading.Event()
    warmed: list[str] = []

    def group(name: str):
        def run() -> None:
            warmed.append(name)
            if name == "first":  # "third" is asked for while "first" warms
                started.set()
                assert asked.wait(10)
        return run

    def stdin() -> Iterator[str]:
        assert started.wait(10)
        yield "third\n"
        asked.set()  # once the line above was taken in

    monkeypatch.setattr(warm_module, "GROUPS", {n: group(n) for n in ("first", "second", "third")})
    lines: list[str] = []
    warm_module._serve(stdin(), lines.append)
    assert warmed == ["first", "third", "second"]
    assert lines[0] == "groups first second third"
    ready = [line.split() for line in lines[1:]]
    assert [(word, name, compiled) for word, name, _, compiled in ready] == [
        ("ready", "first", "0"), ("ready", "third", "0"), ("ready", "second", "0"),
    ]


def test_the_compile_process_ends_quietly_when_the_server_went_away(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def gone(stdin: object, out: object) -> None:
        raise BrokenPipeError

    monkeypatch.setattr(warm_module, "_serve", gone)
    assert warm_module.main() == 0
