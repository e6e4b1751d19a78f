"""The CLI's write commands besides ingest: init, delete, and token add and
revoke, which open the store for writing (migrated, orphans removed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalql.api.cli import main
from evalql.storage.catalog import SPLITS_DIR, TMP_DIR, Catalog
from evalql.storage.ingest import ingest_table
from tests.api.conftest import small_table


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    for run_name, split in (("v1", "test"), ("v1", "val"), ("v2", "test")):
        ingest_table(root, small_table(), "m", run_name, split)
    ingest_table(root, small_table(), "other", "v1", "test")
    return root


def _orphan(root: Path) -> Path:
    """A file a killed ingest left behind (no lock is held on it)."""
    path = root / TMP_DIR / "0123456789abcdef.arrow"
    path.write_bytes(b"partial")
    return path


def test_init_creates_an_empty_store_that_serve_and_models_accept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "new"
    status, out, err = run(capsys, "init", "--data", str(root))
    assert (status, err) == (0, "")
    assert out == f"an empty store at {root.resolve()}, ready for 'evalql ingest' or uploads\n"
    assert Catalog(root, create=False).is_empty()
    assert (root / SPLITS_DIR).is_dir() and (root / TMP_DIR).is_dir()
    assert run(capsys, "models", "--data", str(root))[0] == 0


def test_init_leaves_an_existing_store_as_it_is_but_for_its_orphans(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orphan = _orphan(stored)
    status, out, _ = run(capsys, "init", "--data", str(stored))
    assert status == 0 and out.startswith("a store of 2 models at ")
    assert len(Catalog(stored).splits("m", "v1")) == 2
    assert not orphan.exists()


@pytest.mark.parametrize(("path", "line", "left"), [
    ("m/v1/val", "deleted split m/v1/val (8 rows)", {"m/v1/test", "m/v2/test", "other/v1/test"}),
    ("m/v1", "deleted run m/v1 (2 splits, 16 rows)", {"m/v2/test", "other/v1/test"}),
    ("m", "deleted model m (2 runs, 3 splits, 24 rows)", {"other/v1/test"}),
])
def test_delete_removes_a_model_run_or_split_and_says_what_in_one_line(
    stored: Path, capsys: pytest.CaptureFixture[str], path: str, line: str, left: set[str]
) -> None:
    assert run(capsys, "delete", path, "--data", str(stored)) == (0, line + "\n", "")
    snapshot = Catalog(stored).snapshot()
    assert {f"{s.model}/{s.run}/{s.name}" for s in snapshot.all_splits()} == left
    files = {f"{SPLITS_DIR}/{p.name}" for p in (stored / SPLITS_DIR).iterdir()}
    assert files == Catalog(stored).paths()


def test_delete_sweeps_orphans_as_every_write_command_does(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orphan = _orphan(stored)
    assert run(capsys, "delete", "other", "--data", str(stored))[0] == 0
    assert not orphan.exists()


@pytest.mark.parametrize(("path", "err"), [
    ("m/v1/nope", "evalql delete: there is no split m/v1/nope in {root}\n"),
    ("m/nope", "evalql delete: there is no run m/nope in {root}\n"),
    ("nope", "evalql delete: there is no model nope in {root}\n"),
    ("m/v1/test/x", "evalql delete: 'm/v1/test/x' is not MODEL, MODEL/RUN or MODEL/RUN/SPLIT\n"),
    ("m//test", "evalql delete: 'm//test' is not MODEL, MODEL/RUN or MODEL/RUN/SPLIT\n"),
])
def test_delete_of_what_is_not_there_exits_1_with_one_line_and_changes_nothing(
    stored: Path, capsys: pytest.CaptureFixture[str], path: str, err: str
) -> None:
    before = Catalog(stored).snapshot()
    status, out, error = run(capsys, "delete", path, "--data", str(stored))
    assert (status, out, error) == (1, "", err.format(root=stored.resolve()))
    assert Catalog(stored).snapshot() == before


def test_delete_refuses_a_folder_that_is_not_a_store_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "delete", "m", "--data", str(tmp_path / "typo"))
    assert status == 1 and err.startswith("evalql delete: no evalql store at ")
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("action", [["add", "ci"], ["revoke", "ci"]])
def test_token_add_and_revoke_open_the_store_for_writing(
    stored: Path, capsys: pytest.CaptureFixture[str], action: list[str]
) -> None:
    if action[0] == "revoke":
        run(capsys, "token", "add", "ci", "--data", str(stored))
    orphan = _orphan(stored)
    assert run(capsys, "token", *action, "--data", str(stored))[0] == 0
    assert not orphan.exists()


def test_token_list_only_reads(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orphan = _orphan(stored)
    assert run(capsys, "token", "list", "--data", str(stored))[0] == 0
    assert orphan.exists()
