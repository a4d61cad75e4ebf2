"""Where W[l] and b[l] live: one flat buffer, with a view per parameter.

``Layout`` is the one place that builds the key set ``'W1', 'b1', ..., 'WL', 'bL'`` shared
by the parameters, their gradients and every optimizer state. Keeping all parameters in one
contiguous buffer lets an optimizer update the whole network in a fixed, small number of
NumPy calls, whatever the depth.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping

import numpy as np

from ._validation import real_float64
from .errors import ConfigurationError, DataError

__all__ = ["Layout", "Parameters"]


class Layout:
    """The shapes and offsets of every W[l] (n[l], n[l-1]) and b[l] (n[l], 1) in a flat buffer.

    Parameters
    ----------
    units : list of int
        ``[n_x, n_1, ..., n_L]``.
    dtype : numpy dtype
    """

    def __init__(self, units: list[int], dtype):
        self.units = list(units)
        self.dtype = np.dtype(dtype)
        self.L = len(units) - 1
        self.keys: list[str] = []
        self.shapes: dict[str, tuple[int, int]] = {}
        self.slices: dict[str, slice] = {}
        offset = 0
        for l in range(1, self.L + 1):
            for key, shape in ((f"W{l}", (units[l], units[l - 1])), (f"b{l}", (units[l], 1))):
                size = shape[0] * shape[1]
                self.keys.append(key)
                self.shapes[key] = shape
                self.slices[key] = slice(offset, offset + size)
                offset += size
        self.size = offset

    def zeros(self) -> np.ndarray:
        """Return a new zero flat buffer of shape (size,).

        Raises ConfigurationError naming the layer widths when the memory cannot be had
        (``units=[784, 10**6, 10]`` is a user's choice, not an internal failure).
        """
        try:
            return np.zeros(self.size, dtype=self.dtype)
        except (MemoryError, ValueError) as exc:  # ValueError: over NumPy's largest size
            gib = self.size * self.dtype.itemsize / 2**30
            raise ConfigurationError(
                f"units {self.units} need {self.size:,} parameters ({gib:,.1f} GiB as "
                f"{self.dtype.name} per copy), more memory than could be allocated; choose "
                "smaller layers"
            ) from exc

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Return ``{key: view}`` over ``flat``; writing a view writes the buffer."""
        return {k: flat[self.slices[k]].reshape(self.shapes[k]) for k in self.keys}

    def layer_views(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return ``[(W1, b1), ..., (WL, bL)]`` views over ``flat`` (index 0 is layer 1)."""
        v = self.views(flat)
        return [(v[f"W{l}"], v[f"b{l}"]) for l in range(1, self.L + 1)]


class Parameters(MutableMapping):
    """The article's parameter dictionary ``{'W1': W[1], 'b1': b[1], ...}`` over a flat buffer.

    Reading gives a view (``net.parameters['W1']`` is the live W[1]). Assigning
    (``net.parameters['W2'] = array``) checks the key, the shape and that every value is
    finite, then copies into the buffer. Assigning several at once (``update``, or
    ``net.parameters = {...}``) checks them all first: an error changes none. Keys cannot be
    added or deleted.
    """

    def __init__(self, layout: Layout, flat: np.ndarray | None = None):
        self.layout = layout
        self.flat = layout.zeros() if flat is None else flat
        self._views = layout.views(self.flat)

    def __getitem__(self, key: str) -> np.ndarray:
        try:
            return self._views[key]
        except KeyError:
            raise KeyError(self._unknown(key)) from None

    def __setitem__(self, key: str, value) -> None:
        arr = self._checked(key, value)
        np.copyto(self._views[key], arr)

    def assign(self, values) -> None:
        """Copy every ``{key: array}`` of ``values`` in, or none: all are checked first.

        A mapping may hold some of the keys; a bad key, shape or value raises before any
        parameter changes (``__setitem__`` one by one would leave the earlier keys written).
        """
        if isinstance(values, Parameters):
            values = dict(values)
        if not isinstance(values, Mapping):
            raise DataError(
                "parameters must be a mapping {'W1': W[1], 'b1': b[1], ...}, got "
                f"{type(values).__name__}"
            )
        checked = {key: self._checked(key, value) for key, value in values.items()}
        for key, arr in checked.items():
            np.copyto(self._views[key], arr)

    def update(self, other=(), /, **kwargs) -> None:
        """Assign like ``dict.update``, all or nothing (see :meth:`assign`)."""
        values = dict(other.items() if isinstance(other, Mapping) else other)
        self.assign({**values, **kwargs})

    def _checked(self, key: str, value) -> np.ndarray:
        """Return ``value`` for parameter ``key`` in the buffer's dtype; raise when it is bad."""
        if key not in self._views:
            raise KeyError(self._unknown(key))
        expected = self.layout.shapes[key]
        arr = real_float64(value, f"parameter {key!r}")
        if key.startswith("b") and arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.shape != expected:
            raise DataError(
                f"parameter {key!r} must have shape {expected} "
                f"(n[{key[1:]}], {'n[' + str(int(key[1:]) - 1) + ']' if key[0] == 'W' else '1'}), "
                f"got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise DataError(f"parameter {key!r} contains NaN or inf")
        dtype = self.layout.dtype
        with np.errstate(over="ignore"):
            cast = arr.astype(dtype)
        if not np.all(np.isfinite(cast)):  # 1e300 in a float32 network would become inf
            raise DataError(f"parameter {key!r} holds values too large for {dtype} "
                            f"(largest magnitude {np.abs(arr).max():g})")
        return cast

    def __delitem__(self, key: str) -> None:
        raise ConfigurationError("parameters cannot be deleted; the architecture fixes the keys")

    def __iter__(self) -> Iterator[str]:
        return iter(self.layout.keys)

    def __len__(self) -> int:
        return len(self.layout.keys)

    def _unknown(self, key) -> str:
        return f"unknown parameter {key!r}; valid keys: {', '.join(self.layout.keys)}"

    def copy(self) -> dict[str, np.ndarray]:
        """Return a plain dict of independent copies."""
        return {k: v.copy() for k, v in self._views.items()}

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {self.layout.shapes[k]}" for k in self.layout.keys)
        return f"Parameters({shapes})"
