"""A split file's mapping: views of it are told from copies, and only its pages are given back."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from evalql.storage.catalog import Catalog
from evalql.storage.columns import categories
from evalql.storage.datasets import SplitStore, nbytes_of
from evalql.storage.ingest import ingest_table
from evalql.storage.mapping import Mapping
from tests.storage.conftest import predictions

ROWS = 1 << 18  # 1 MiB a column of 4-byte values: many whole pages


def mapped_table(tmp_path: Path) -> tuple[pa.Table, Mapping]:
    path = tmp_path / "t.arrow"
    table = pa.table({
        "codes": pa.array(np.arange(ROWS, dtype=np.int32)),
        "ids": pa.array([f"row-{i}" for i in range(ROWS)]),
    })
    with ipc.new_file(str(path), table.schema) as writer:
        writer.write_table(table)
    with pa.memory_map(str(path)) as source:
        mapping = Mapping.of(source)
        read = ipc.open_file(source).read_all()
    assert mapping is not None
    return read, mapping


def resident_pages(array: np.ndarray) -> int:
    """Pages of ``array`` mapped in this process (/proc/self/pagemap bit 63)."""
    page = os.sysconf("SC_PAGE_SIZE")
    address = array.__array_interface__["data"][0]
    first, last = address // page, (address + array.nbytes - 1) // page + 1
    with open("/proc/self/pagemap", "rb") as pagemap:
        pagemap.seek(first * 8)
        entries = np.frombuffer(pagemap.read((last - first) * 8), dtype=np.uint64)
    return int(np.count_nonzero(entries >> np.uint64(63)))


def test_a_view_of_the_file_is_held_and_a_copy_is_not(tmp_path: Path) -> None:
    table, mapping = mapped_table(tmp_path)
    codes = table.column("codes").chunk(0).to_numpy(zero_copy_only=True)
    assert mapping.holds(codes) and mapping.holds(table.column("ids"))
    assert not mapping.holds(codes.copy())
    assert not mapping.holds(codes[:0])


@pytest.mark.skipif(not Path("/proc/self/pagemap").exists(), reason="Linux only")
def test_released_pages_leave_the_process_and_read_back_the_same(tmp_path: Path) -> None:
    table, mapping = mapped_table(tmp_path)
    codes = table.column("codes").chunk(0).to_numpy(zero_copy_only=True)
    assert int(codes.sum(dtype=np.int64)) == ROWS * (ROWS - 1) // 2  # every page mapped
    before = resident_pages(codes)
    assert mapping.release(codes) >= codes.nbytes - 2 * os.sysconf("SC_PAGE_SIZE")
    assert resident_pages(codes) <= 2 < before  # at most the two partial pages stay
    np.testing.assert_array_equal(codes, np.arange(ROWS, dtype=np.int32))


def test_a_copy_is_never_released(tmp_path: Path) -> None:
    """MADV_DONTNEED would zero a copy's pages: it is never asked to."""
    table, mapping = mapped_table(tmp_path)
    copy = table.column("codes").chunk(0).to_numpy(zero_copy_only=True).copy()
    assert mapping.release(copy) == 0
    np.testing.assert_array_equal(copy, np.arange(ROWS, dtype=np.int32))


def test_a_file_not_memory_mapped_has_no_mapping(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    with pa.OSFile(str(path)) as source:
        assert Mapping.of(source) is None


def test_a_loaded_split_reads_its_ids_and_counts_mapped_codes_once(root: Path) -> None:
    ingest_table(root, predictions(region=pa.array(["eu", "us", "eu", "eu"])), "m", "r", "s")
    info = Catalog(root).split("m", "r", "s")
    assert info is not None
    data = SplitStore(root).load(info)
    assert data.mapping is not None and data.mapping.holds(data.ids)
    assert data.ids_at(np.array([3, 0])) == ["13", "10"]
    assert data.ids_at(np.array([1])) == ["11"]
    codes, values = categories(data.metadata, "region")
    assert values == ["eu", "us"] and codes.tolist() == [0, 1, 0, 0]
    # A view of the file: its bytes are the split's, not derived ones.
    assert data.mapping.holds(codes) and nbytes_of((codes, values), data.mapping) == 0
    assert nbytes_of((codes.copy(), values), data.mapping) == codes.nbytes
