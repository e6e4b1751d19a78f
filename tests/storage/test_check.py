"""evalql check: the catalog against the files, checksums, orphans and --repair."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalql.api.cli import main
from evalql.storage.catalog import Catalog
from evalql.storage.check import check_store
from evalql.storage.datasets import SplitStore
from evalql.storage.errors import CorruptSplitError
from evalql.storage.ingest import ingest_table
from evalql.storage.staging import Staging
from tests.storage.conftest import predictions, snapshot
from tests.storage.test_schema import old_store  # noqa: F401 (a fixture)


@pytest.fixture
def two(root: Path) -> Path:
    ingest_table(root, predictions(), "m", "r", "a")
    ingest_table(root, predictions(), "m", "r", "b")
    return root


def check(root: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, list[str]]:
    status = main(["check", "--data", str(root), *flags])
    out, err = capsys.readouterr()
    return status, (out + err).splitlines()


def path_of(root: Path, split: str) -> str:
    return Catalog(root).split("m", "r", split).path


def test_a_healthy_store_passes_with_one_line_and_exit_0(
    two: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(two, capsys) == (0, [f"store {two.resolve()}: 2 splits checked, no problems"])


def test_an_orphan_is_reported_and_only_repair_removes_it(
    two: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (two / "tmp/dead.arrow").write_bytes(b"partial")
    before = snapshot(two)
    assert check(two, capsys) == (1, [
        "orphan tmp/dead.arrow: not in the catalog and no running ingest holds it",
        f"store {two.resolve()}: 2 splits checked, 1 problem "
        "('evalql check --repair' removes the orphan files)",
    ])
    assert snapshot(two) == before  # without --repair, check only reads
    assert check(two, capsys, "--repair") == (0, [
        "removed orphan tmp/dead.arrow",
        f"store {two.resolve()}: 2 splits checked, no problems",
    ])
    assert not (two / "tmp/dead.arrow").exists()


def test_the_files_of_a_running_ingest_are_not_orphans(
    two: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Staging(two) as live:
        live.staged.write_bytes(b"being written")
        assert check(two, capsys, "--repair")[0] == 0
        assert live.staged.exists()


def test_a_missing_file_is_a_problem_that_repair_leaves_in_the_catalog(
    two: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = path_of(two, "a")
    (two / missing).unlink()
    expected = [
        f"split m/r/a: its file {missing} is missing",
        f"store {two.resolve()}: 2 splits checked, 1 problem",
    ]
    assert check(two, capsys) == (1, expected)
    assert check(two, capsys, "--repair") == (1, expected)
    assert Catalog(two).split("m", "r", "a") is not None  # nothing marked destroyed


def test_a_damaged_file_fails_its_checksum_and_the_other_splits_still_load(
    two: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = two / path_of(two, "a")
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert check(two, capsys) == (1, [
        f"split m/r/a: {path_of(two, 'a')} does not match its checksum (the file is damaged)",
        f"store {two.resolve()}: 2 splits checked, 1 problem",
    ])
    store = SplitStore(two)
    assert store.load(Catalog(two).split("m", "r", "b")).n_rows == 4


def test_a_truncated_file_makes_only_its_split_unavailable(two: Path) -> None:
    truncated = two / path_of(two, "a")
    truncated.write_bytes(truncated.read_bytes()[:100])
    store = SplitStore(two)
    with pytest.raises(CorruptSplitError):
        store.load(store.catalog.split("m", "r", "a"))
    assert store.load(store.catalog.split("m", "r", "b")).n_rows == 4


def test_repair_migrates_an_old_store_and_notes_splits_without_checksums(
    old_store: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    root = old_store.resolve()
    assert check(old_store, capsys) == (0, [
        "the catalog is at schema version 0; the next write or "
        "'evalql check --repair' migrates it to 3",
        "1 split ingested before checksums were kept: read, not checksummed",
        f"store {root}: 1 split checked, no problems",
    ])
    assert check(old_store, capsys, "--repair") == (0, [
        "migrated the catalog from schema version 0 to 3",
        "1 split ingested before checksums were kept: read, not checksummed",
        f"store {root}: 1 split checked, no problems",
    ])
    assert check_store(old_store).notes == (
        "1 split ingested before checksums were kept: read, not checksummed",
    )


def test_an_unreadable_file_without_a_checksum_is_a_problem(
    old_store: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    path = Catalog(old_store).split("m", "r", "s").path
    (old_store / path).write_bytes(b"not arrow")
    status, lines = check(old_store, capsys)
    assert status == 1
    assert lines[0].startswith(f"split m/r/s: cannot read {path}: ")


def test_check_refuses_a_folder_that_holds_no_store_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "typo"
    assert check(folder, capsys) == (1, [
        f"evalql check: no evalql store at {folder.resolve()} "
        "(create one with 'evalql ingest' or 'evalql demo')",
    ])
    assert not folder.exists()
