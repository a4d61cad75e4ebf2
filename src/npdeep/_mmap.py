"""Memory-mapped inputs: find the file mapping behind an array and let go of its pages.

Reading a memory-mapped ``.npy`` through its mapping makes every page read part of the
process's resident memory, so one pass over a 2 GB file would grow it by 2 GB. Readers of such
data hand the pages back to the kernel (``madvise(MADV_DONTNEED)``) as they go: the finiteness
check every ``budget`` bytes (:meth:`PageReleaser.touch`), the mini-batch gather after every
:meth:`PageReleaser.rows_per_release` rows. The pages stay in the page cache, and the next read
of them is a cheap minor fault.

Only read-only (``mode='r'``) and shared writable (``'r+'``, ``'w+'``) mappings are released:
a shared mapping's written pages stay in the page cache and reach the file; for a
copy-on-write mapping (``'c'``) dropping pages would discard the user's changes.
"""

from __future__ import annotations

import mmap

import numpy as np

__all__ = ["PageReleaser", "is_memmap"]

_BUDGET = 32 << 20  # bytes mapped between two releases
_SHARED_MODES = ("r", "r+", "w+")  # np.memmap modes whose pages may be dropped safely
#: Linux maps up to this much around each page fault of a file mapping ("fault-around"), so a
#: randomly read small row costs this much resident memory, not its own size
FAULT_AROUND = 64 << 10


def _find(arr) -> tuple[np.memmap | None, mmap.mmap | None]:
    """Return the ``np.memmap`` and ``mmap.mmap`` behind ``arr`` (or Nones)."""
    memmap, obj = None, arr
    for _ in range(32):  # the base chain of a view is short; stop on anything odd
        if obj is None:
            break
        if isinstance(obj, np.memmap) and memmap is None:
            memmap = obj
        if isinstance(obj, mmap.mmap):
            return memmap, obj
        obj = getattr(obj, "base", None)
    return memmap, None


def is_memmap(arr) -> bool:
    """True when ``arr`` is (a view of) a memory-mapped array."""
    return _find(arr)[0] is not None


class PageReleaser:
    """Hand the pages of ``arr``'s file mapping back to the kernel every ``budget`` bytes read.

    A no-op for arrays that are not memory-mapped, for copy-on-write mappings and where the
    platform has no ``madvise``.
    """

    def __init__(self, arr, budget: int = _BUDGET):
        memmap, mapping = _find(arr)
        usable = (mapping is not None and getattr(memmap, "mode", "c") in _SHARED_MODES
                  and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"))
        self.mapping = mapping if usable else None
        self.budget = budget
        self.pending = 0

    @property
    def active(self) -> bool:
        """True when pages are being released."""
        return self.mapping is not None

    def rows_per_release(self, row_bytes: int) -> int:
        """How many randomly chosen rows of ``row_bytes`` to read between two releases."""
        return max(1, self.budget // max(row_bytes, FAULT_AROUND))

    def touch(self, nbytes: int) -> None:
        """Record ``nbytes`` read from the mapping; release its pages once over budget."""
        if self.mapping is None:
            return
        self.pending += nbytes
        if self.pending >= self.budget:
            self.release()

    def release(self) -> None:
        """Drop every resident page of the mapping from this process (data stay in the file)."""
        if self.mapping is None:
            return
        self.pending = 0
        try:
            self.mapping.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):  # closed mapping or a kernel that refuses: just keep pages
            self.mapping = None
