"""Split files on object storage, against moto's S3 on loopback (tests/s3.py):
ingest uploads, loads read through the local copy, replace and delete remove
objects, a missing or damaged object is that split's problem alone, and
check finds and removes orphan objects."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from evalql.storage import objects
from evalql.storage.catalog import Catalog
from evalql.storage.check import check_store
from evalql.storage.datasets import SplitStore, read_ids
from evalql.storage.errors import CorruptSplitError, StoreError
from evalql.storage.ingest import IngestOptions, ingest_table
from evalql.storage.object_cache import CACHE_DIR, ObjectCache
from evalql.storage.staging import Staging
from tests.s3 import S3, moto_endpoint, s3  # noqa: F401 (fixtures)
from tests.storage.conftest import IDS, predictions


def on_s3(s3: S3, **options: object) -> IngestOptions:  # noqa: F811
    return IngestOptions(objects=s3.location, **options)  # type: ignore[arg-type]


def path_of(root: Path, split: str) -> str:
    info = Catalog(root).split("m", "r", split)
    assert info is not None
    return info.path


def local_files(root: Path, folder: str) -> list[str]:
    return sorted(p.name for p in (root / folder).iterdir()) if (root / folder).exists() else []


# --- where files go --------------------------------------------------------------


def test_ingest_uploads_the_split_file_to_the_stores_own_folder_and_keeps_none_locally(
    root: Path, s3: S3  # noqa: F811
) -> None:
    summary = ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    catalog = Catalog(root)
    store_id = catalog.setting("store_id")
    path = path_of(root, "a")
    assert path.startswith(f"{s3.location}/store-{store_id}/splits/") and path.endswith(".arrow")
    assert s3.keys() == [s3.key_of(path)]
    assert local_files(root, "splits") == [] and local_files(root, "tmp") == []
    assert catalog.setting("objects") == s3.location
    assert summary.rows == 4


def test_the_store_remembers_its_location_so_later_ingests_need_no_flag(
    root: Path, s3: S3  # noqa: F811
) -> None:
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    ingest_table(root, predictions(), "m", "r", "b")
    assert objects.is_object_path(path_of(root, "b"))
    assert len(s3.keys()) == 2 and local_files(root, "splits") == []


def test_a_split_on_s3_loads_exactly_as_the_same_split_stored_locally(
    tmp_path: Path, s3: S3  # noqa: F811
) -> None:
    local, remote = tmp_path / "local", tmp_path / "remote"
    ingest_table(local, predictions(), "m", "r", "a")
    ingest_table(remote, predictions(), "m", "r", "a", on_s3(s3))
    want = SplitStore(local).load(Catalog(local).split("m", "r", "a"))
    got = SplitStore(remote).load(Catalog(remote).split("m", "r", "a"))
    for name in ("actual", "predicted", "confidence"):
        np.testing.assert_array_equal(getattr(got.columns, name), getattr(want.columns, name))
    assert got.ids.equals(want.ids) and got.metadata.equals(want.metadata)
    assert got.labels == want.labels


def test_a_local_store_can_move_to_s3_and_keeps_reading_its_local_splits(
    root: Path, s3: S3  # noqa: F811
) -> None:
    ingest_table(root, predictions(), "m", "r", "a")
    ingest_table(root, predictions(), "m", "r", "b", on_s3(s3))
    assert not objects.is_object_path(path_of(root, "a"))
    store = SplitStore(root)
    assert [store.load(Catalog(root).split("m", "r", s)).n_rows for s in "ab"] == [4, 4]


# --- reading through the local copy ----------------------------------------------


def test_the_first_load_copies_the_object_and_later_loads_never_read_s3(
    root: Path, s3: S3  # noqa: F811
) -> None:
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    info = Catalog(root).split("m", "r", "a")
    assert SplitStore(root).load(info).n_rows == 4
    assert local_files(root, CACHE_DIR) == [info.path.rsplit("/", 1)[1]]
    s3.delete(info.path)  # from here on, only the local copy can answer
    assert SplitStore(root).load(info).n_rows == 4


def test_the_local_copies_stay_within_the_budget_least_recently_loaded_first(
    root: Path, s3: S3  # noqa: F811
) -> None:
    for split in "abc":
        ingest_table(root, predictions(), "m", "r", split, on_s3(s3))
    catalog = Catalog(root)
    infos = {split: catalog.split("m", "r", split) for split in "abc"}
    cache = ObjectCache(root)
    size = len(s3.get(infos["a"].path))
    cache.budget_bytes = 2 * size  # room for two copies
    for split in "ab":
        cache.open(infos[split]).close()
    os.utime(cache.copy_of(infos["a"].path), (1, 1))  # "a" was loaded long ago
    cache.open(infos["c"]).close()
    assert not cache.copy_of(infos["a"].path).exists()
    assert cache.copy_of(infos["b"].path).exists() and cache.copy_of(infos["c"].path).exists()
    assert cache.cached_bytes == 2 * size


def test_one_split_larger_than_the_budget_is_still_served(root: Path, s3: S3) -> None:  # noqa: F811
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    store = SplitStore(root, budget_bytes=1)
    assert store.load(Catalog(root).split("m", "r", "a")).n_rows == 4
    assert len(local_files(root, CACHE_DIR)) == 1


def test_without_room_for_a_local_copy_the_object_is_read_into_memory(
    root: Path, s3: S3  # noqa: F811
) -> None:
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    (root / CACHE_DIR).write_text("a file where the folder should be")
    data = SplitStore(root).load(Catalog(root).split("m", "r", "a"))
    assert data.n_rows == 4 and list(data.columns.actual) == [1, 2, -1, 0]
    assert local_files(root, "tmp") == []


# --- replace and delete ------------------------------------------------------------


def test_replace_writes_a_new_object_and_removes_the_old_one_and_its_copy(
    root: Path, s3: S3  # noqa: F811
) -> None:
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    old = Catalog(root).split("m", "r", "a")
    store = SplitStore(root)
    assert store.load(old).n_rows == 4
    smaller = predictions().slice(0, 3)
    ingest_table(root, smaller, "m", "r", "a", on_s3(s3, replace=True))
    new = Catalog(root).split("m", "r", "a")
    assert new.version == 2 and new.path != old.path
    assert s3.keys() == [s3.key_of(new.path)]
    assert not ObjectCache(root).copy_of(old.path).exists()
    assert store.load(new).n_rows == 3


def test_deleting_a_split_removes_its_object_and_its_local_copy(
    root: Path, s3: S3  # noqa: F811
) -> None:
    delete = pytest.importorskip("evalql.storage.delete")
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    ingest_table(root, predictions(), "m", "r", "b", on_s3(s3))
    gone, kept = Catalog(root).split("m", "r", "a"), Catalog(root).split("m", "r", "b")
    assert SplitStore(root).load(gone).n_rows == 4
    assert str(delete.delete_split(root, "m", "r", "a")) == "deleted split m/r/a (4 rows)"
    assert Catalog(root).split("m", "r", "a") is None
    assert s3.keys() == [s3.key_of(kept.path)]
    assert not ObjectCache(root).copy_of(gone.path).exists()
    assert delete.delete_model(root, "m") is not None and s3.keys() == []


# --- failures: one split at a time, the store as it was --------------------------


def test_a_missing_object_makes_only_its_split_unavailable(root: Path, s3: S3) -> None:  # noqa: F811
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    ingest_table(root, predictions(), "m", "r", "b", on_s3(s3))
    s3.delete(path_of(root, "a"))
    store = SplitStore(root)
    with pytest.raises(CorruptSplitError, match=r"split m/r/a is corrupt: cannot read s3://"):
        store.load(Catalog(root).split("m", "r", "a"))
    assert store.load(Catalog(root).split("m", "r", "b")).n_rows == 4
    assert local_files(root, "tmp") == []


def test_a_damaged_object_fails_its_checksum_and_is_never_cached(root: Path, s3: S3) -> None:  # noqa: F811
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    path = path_of(root, "a")
    body = bytearray(s3.get(path))
    body[len(body) // 2] ^= 0xFF  # one flipped byte: Arrow alone might not notice
    s3.put(path, bytes(body))
    with pytest.raises(CorruptSplitError, match="does not match its checksum"):
        SplitStore(root).load(Catalog(root).split("m", "r", "a"))
    assert local_files(root, CACHE_DIR) == [] and local_files(root, "tmp") == []


def test_a_restored_object_is_served_again_without_a_restart(root: Path, s3: S3) -> None:  # noqa: F811
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    path = path_of(root, "a")
    body = s3.get(path)
    s3.delete(path)
    store = SplitStore(root)
    with pytest.raises(CorruptSplitError):
        store.load(Catalog(root).split("m", "r", "a"))
    s3.put(path, body)
    assert store.load(Catalog(root).split("m", "r", "a")).n_rows == 4


def test_a_damaged_local_copy_is_dropped_and_fetched_again_at_the_next_load(
    root: Path, s3: S3  # noqa: F811
) -> None:
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    info = Catalog(root).split("m", "r", "a")
    assert SplitStore(root).load(info).n_rows == 4
    copy = ObjectCache(root).copy_of(info.path)
    copy.write_bytes(copy.read_bytes()[:100])  # a disk that lost the end of the file
    with pytest.raises(CorruptSplitError):
        SplitStore(root).load(info)
    assert not copy.exists()
    assert SplitStore(root).load(info).n_rows == 4 and copy.exists()
    # reading only the ids (a compare's digest) drops a damaged copy the same way
    copy.write_bytes(copy.read_bytes()[:100])
    with pytest.raises(CorruptSplitError):
        read_ids(root, info, ObjectCache(root), (0, 4))
    assert not copy.exists()
    assert read_ids(root, info, ObjectCache(root), (0, 4)).to_pylist() == [str(i) for i in IDS]


def test_an_ingest_to_a_bucket_that_does_not_exist_says_so_and_changes_nothing(
    root: Path, s3: S3  # noqa: F811
) -> None:
    ingest_table(root, predictions(), "m", "r", "a")
    with pytest.raises(objects.ObjectStoreError) as caught:
        ingest_table(root, predictions(), "m", "r", "b", IngestOptions(objects="s3://no-such-bucket"))
    message = str(caught.value)
    assert message.startswith("s3://no-such-bucket/store-") and "cannot write" in message
    assert "\n" not in message
    catalog = Catalog(root)
    assert catalog.split("m", "r", "b") is None and catalog.setting("objects") is None
    assert local_files(root, "tmp") == []


def test_a_failed_commit_removes_the_uploaded_object(
    root: Path, s3: S3, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    import evalql.storage.ingest as ingest

    def refuse(*args: object) -> None:
        raise RuntimeError("the commit fails")

    monkeypatch.setattr(ingest, "_record", refuse)
    with pytest.raises(RuntimeError):
        ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    assert s3.keys() == [] and Catalog(root).split("m", "r", "a") is None
    assert Catalog(root).setting("objects") is None


@pytest.mark.parametrize("text, reason", [
    ("/data/objects", "not an object storage location"),
    ("gs://bucket/p", "not an object storage location"),
    ("s3://key:secret@bucket/p", "credentials"),
    ("s3://bucket:9000/p", "credentials or a port"),
    ("s3://Bucket_Name/p", "not an S3 bucket name"),
    ("s3://bucket/p?region=eu", "query"),
    ("s3://bucket/a/../b", "'.' or '..'"),
])
def test_a_location_that_is_not_an_s3_prefix_is_refused_with_the_reason(
    text: str, reason: str
) -> None:
    with pytest.raises(StoreError, match=reason):
        objects.parse_location(text)


def test_locations_are_kept_in_one_canonical_form() -> None:
    assert objects.parse_location(" s3://evals/team-a/ ") == "s3://evals/team-a"
    assert objects.parse_location("s3://evals//a///b") == "s3://evals/a/b"
    assert objects.parse_location("s3://evals") == "s3://evals"


# --- check ----------------------------------------------------------------------------


def test_check_verifies_every_object_against_its_checksum(root: Path, s3: S3) -> None:  # noqa: F811
    for split in "abc":
        ingest_table(root, predictions(), "m", "r", split, on_s3(s3))
    assert check_store(root).healthy
    s3.delete(path_of(root, "a"))
    s3.put(path_of(root, "b"), b"not arrow")
    report = check_store(root)
    assert report.problems == (
        f"split m/r/a: its object {path_of(root, 'a')} is missing",
        f"split m/r/b: {path_of(root, 'b')} does not match its checksum (the object is damaged)",
    )


def test_an_orphan_object_is_listed_and_only_repair_removes_it(root: Path, s3: S3) -> None:  # noqa: F811
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    folder = path_of(root, "a").rsplit("/splits/", 1)[0]
    # What a crash between the upload and the commit leaves behind.
    orphan = objects.split_uri(folder, "0" * 32)
    s3.put(orphan, b"an upload whose ingest died")
    report = check_store(root)
    assert report.problems == (
        f"orphan {orphan}: not in the catalog and no running ingest holds it",
    )
    assert "--repair" in report.summary()
    repaired = check_store(root, repair=True)
    assert repaired.repaired == (f"removed orphan {orphan}",) and repaired.healthy
    assert s3.keys() == [s3.key_of(path_of(root, "a"))]


def test_the_object_of_a_running_ingest_is_not_an_orphan(root: Path, s3: S3) -> None:  # noqa: F811
    ingest_table(root, predictions(), "m", "r", "a", on_s3(s3))
    folder = path_of(root, "a").rsplit("/splits/", 1)[0]
    with Staging(root) as live:
        s3.put(objects.split_uri(folder, live.id), b"still uploading")
        assert check_store(root, repair=True).healthy
        assert len(s3.keys()) == 2


def test_another_stores_objects_under_the_same_prefix_are_never_orphans(
    tmp_path: Path, s3: S3  # noqa: F811
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    ingest_table(first, predictions(), "m", "r", "a", on_s3(s3))
    ingest_table(second, predictions(), "m", "r", "a", on_s3(s3))
    assert check_store(first, repair=True).repaired == ()
    assert check_store(second).healthy and len(s3.keys()) == 2


def test_check_says_in_one_line_when_the_bucket_cannot_be_listed(
    root: Path, s3: S3  # noqa: F811
) -> None:
    Catalog(root)
    report = check_store(root, objects_location="s3://no-such-bucket/p")
    assert len(report.problems) == 1
    assert report.problems[0].startswith("cannot look for orphan objects: s3://no-such-bucket/p/")
