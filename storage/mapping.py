"""A split file's memory mapping: which arrays are views of it, and giving its pages back.

A loaded split's columns are views of its memory-mapped Arrow file. The
pages a request reads stay mapped in the process, and count in its resident
set, until the kernel needs the memory. Columns read rarely and at random
(the ids of a page of rows) end up mapped whole: the kernel maps 64 KiB
around each page a read faults in, so 5,000 ids read at random positions
mapped all 109 MB of a 10M-row split's ids. ``Mapping.release`` gives such
pages back (``madvise(MADV_DONTNEED)``): the mapping stays, and a later read
maps the page again from the page cache (or the file).

Only pages of the file's own read-only mapping are ever released: an address
outside it (a copy in the process's memory, whose contents
``MADV_DONTNEED`` would erase) is never passed to the kernel. The
``Mapping`` holds a buffer of the whole file, so the mapping outlives every
call.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

_MADV_DONTNEED = 4  # Linux
_PAGE = mmap.PAGESIZE


def _madvise() -> ctypes._CFuncPtr | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    function.restype = ctypes.c_int
    return function


_MADVISE = _madvise()


@dataclass(frozen=True)
class Mapping:
    """The address range a memory-mapped file occupies in this process."""

    whole: pa.Buffer  # the file's bytes as mapped: keeps the mapping alive

    @classmethod
    def of(cls, source: pa.NativeFile) -> Mapping | None:
        """The mapping of ``source`` if it is a memory-mapped file, else None."""
        if not isinstance(source, pa.MemoryMappedFile) or source.size() == 0:
            return None
        position = source.tell()
        source.seek(0)
        whole = source.read_buffer(source.size())  # zero-copy: the mapping itself
        source.seek(position)
        return cls(whole)

    @property
    def start(self) -> int:
        """The mapping's first address."""
        return self.whole.address

    @property
    def end(self) -> int:
        """The address just past the mapping."""
        return self.whole.address + self.whole.size

    def holds(self, array: np.ndarray | pa.Array | pa.ChunkedArray) -> bool:
        """Whether every byte of ``array`` lies in the mapping (a view of the
        file, not a copy). ``holds(an empty array)`` is False."""
        spans = list(_spans(array))
        return bool(spans) and all(self.start <= lo and hi <= self.end for lo, hi in spans)

    def release(self, *arrays: np.ndarray | pa.Array | pa.ChunkedArray) -> int:
        """Give back the mapped pages lying wholly inside ``arrays``' buffers
        (those in the mapping; others are left alone); the bytes released."""
        if _MADVISE is None:
            return 0
        released = 0
        for array in arrays:
            for lo, hi in _spans(array):
                if not (self.start <= lo and hi <= self.end):
                    continue  # not the file's pages: never
                first = -(-lo // _PAGE) * _PAGE
                last = hi // _PAGE * _PAGE
                if last > first and _MADVISE(first, last - first, _MADV_DONTNEED) == 0:
                    released += last - first
        return released


def _spans(array: np.ndarray | pa.Array | pa.ChunkedArray) -> Iterator[tuple[int, int]]:
    """(first, end) addresses of the buffers ``array`` reads."""
    if isinstance(array, np.ndarray):
        if array.nbytes and array.flags.c_contiguous:  # others: never released
            address = array.__array_interface__["data"][0]
            yield address, address + array.nbytes
        return
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    for chunk in chunks:
        parts = [chunk]
        if isinstance(chunk, pa.DictionaryArray):
            parts = [chunk.indices, chunk.dictionary]
        for part in parts:
            for buffer in part.buffers():
                if buffer is not None and buffer.size:
                    yield buffer.address, buffer.address + buffer.size
