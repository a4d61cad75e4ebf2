"""The constants of the model file format (see :mod:`npdeep.io`) that saving and loading share,
and the nesting check both apply to ``header.json``."""

from __future__ import annotations

import re
from typing import Any

FORMAT_NAME = "npdeep"
FORMAT_VERSION = 1
#: Default cap on the total number of array elements a file may declare (2**28: 2 GiB of float64).
DEFAULT_MAX_ELEMENTS = 2**28
#: Default cap on the size of ``header.json`` (16 MiB).
DEFAULT_MAX_HEADER_BYTES = 16 * 2**20

HEADER_MEMBER = "header.json"
RESERVED_KEYS = ("format", "format_version", "npdeep_version", "arrays")
NUMERIC_KINDS = frozenset("biufc")  # bool, int, uint, float, complex
MAX_NDIM = 32
#: Most arrays a file may declare (npdeep writes two per layer, eight in an Adam checkpoint
#: with EarlyStopping): each costs a zip member to open and a .npy header to parse.
MAX_ARRAYS = 10_000
#: Bytes ``max_elements`` allows per element: a cap of n elements is n float64 of memory.
BYTES_PER_ELEMENT = 8
NPY_MAX_HEADER_SIZE = 10_000  # bytes of .npy header text numpy itself accepts by default
#: Deepest nesting of lists and objects accepted in ``header.json`` (npdeep writes about 8).
MAX_HEADER_DEPTH = 64
CHUNK_BYTES = 16 * 2**20
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamp: reproducible files


def few(names, limit: int = 10) -> str:
    """Return ``list(names)`` as its repr, the first ``limit`` only when there are more:
    ``['a', 'b', ... (60000 in all)]`` (a hostile file's list must not fill the message)."""
    names = list(names)
    if len(names) <= limit:
        return repr(names)
    return repr(names[:limit])[:-1] + f", ... ({len(names)} in all)]"


def _nesting_depth(value: Any, limit: int) -> int:
    """Return how deep lists and dicts nest in ``value``; stop counting past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, dict) else item
            # only containers go on the stack: a list of a million numbers costs one pass
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, (dict, list, tuple)))
    return deepest
