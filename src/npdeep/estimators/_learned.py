"""Assignment of ``coefs_`` and ``intercepts_``, as scikit-learn's MLP allows.

``coefs_[l-1]`` is ``W[l].T`` (n[l-1], n[l]) and ``intercepts_[l-1]`` is ``b[l]`` as (n[l],);
an assigned list is checked whole (its length, each array's shape, numbers, finiteness) and
then copied into the network's parameters in place, so ``W[l]`` (n[l], n[l-1]) stays the
one buffer that training, the optimizer's state and the live views share.
"""

from __future__ import annotations

import numpy as np

from .._validation import real_float64
from ..errors import DataError

__all__ = ["assign_layers"]


def _checked(value, attr: str, i: int, expected: tuple) -> np.ndarray:
    """Return ``value``, the array ``attr[i]``, as float64 of shape ``expected``; raise a
    DataError naming ``attr[i]`` when it is not."""
    arr = real_float64(value, f"{attr}[{i}]")
    if arr.shape != expected:
        l = i + 1
        what = f"(n[{l - 1}], n[{l}])" if attr == "coefs_" else f"(n[{l}],)"
        raise DataError(f"{attr}[{i}] must have shape {expected} {what}, as layer {l} of the "
                        f"fitted network, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{attr}[{i}] contains NaN or inf")
    return arr


def assign_layers(net, values, attr: str) -> None:
    """Copy ``values`` into ``net``'s weights (``attr="coefs_"``) or biases (``"intercepts_"``).

    Parameters
    ----------
    net : Network
        The fitted network, with units n[0], ..., n[L].
    values : list or tuple of L arrays
        ``coefs_``: ``W[l].T`` of shape (n[l-1], n[l]); ``intercepts_``: ``b[l]`` of shape
        (n[l],), for l = 1..L.
    attr : {"coefs_", "intercepts_"}
        The attribute assigned, named in the errors.

    Raises
    ------
    DataError
        When ``values`` is not a list of L arrays of those shapes, finite numbers; nothing is
        copied then.
    """
    n, L = net.units, net.L
    if not isinstance(values, (list, tuple)):
        raise DataError(f"{attr} must be a list of L = {L} arrays, one per layer, got "
                        f"{type(values).__name__}")
    if len(values) != L:
        raise DataError(f"{attr} must be a list of L = {L} arrays, one per layer (units "
                        f"{n}), got {len(values)}")
    if attr == "coefs_":
        checked = {f"W{l}": _checked(values[l - 1], attr, l - 1, (n[l - 1], n[l])).T
                   for l in range(1, L + 1)}
    else:
        checked = {f"b{l}": _checked(values[l - 1], attr, l - 1, (n[l],)).reshape(-1, 1)
                   for l in range(1, L + 1)}
    net.parameters.assign(checked)  # in place, all or nothing (too large for float32: named)
