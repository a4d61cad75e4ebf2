"""A network's outputs and cost over a whole data set, a chunk of samples at a time, and the
error for outputs that are not finite.

:class:`~npdeep.network.Network` calls these for :meth:`~npdeep.network.Network.predict`,
:meth:`~npdeep.network.Network.cost` and :meth:`~npdeep.network.Network.evaluate`; the chunk
size comes from the network's module (``npdeep.network._PREDICT_CHUNK``).
"""

from __future__ import annotations

import numpy as np

from ._fp_errors import quieted
from .batches import blocks
from .engine import forward
from .errors import DataError


def outputs(net, X: np.ndarray, chunk: int, logits: bool = False) -> np.ndarray:
    """Return a new (n[L], m) array a[L] (or Z[L] with ``logits``) for a checked X (n_x, m).

    Computed in chunks of ``chunk`` samples (:func:`npdeep.batches.blocks`): memory holds
    one chunk's activations.
    """
    m, L = X.shape[1], net.L
    out = None
    with np.errstate(**quieted(np.geterr())):  # outputs that overflow: non_finite_error
        for start, A0 in blocks(X, net.dtype, chunk):
            k = A0.shape[1]
            ws = net.workspace(k, train=False)
            A_L = forward(net.layers, net.activations, A0, ws)
            result = ws.Z[L] if logits else A_L
            if k == m:  # one block: a copy of the workspace's array
                out = result.copy()
                continue  # (the generator goes on to release a memmap's pages)
            if out is None:
                out = np.empty((net.units[-1], m), dtype=net.dtype)
            out[:, start : start + k] = result
    net.release_inputs()
    return out


def data_cost(net, X: np.ndarray, Y: np.ndarray, coef, chunk: int, metric=None) -> float:
    """Return ``sum_i c_i loss_i`` (no L2 term) for checked X (n_x, m), Y (n_L, m).

    ``coef``: ``1/m`` or (1, m) normalised sample weights. Computed in chunks of ``chunk``
    samples (:func:`npdeep.batches.blocks`), each adding its samples' terms; ``metric`` (a
    :class:`~npdeep.splits.Metric`), if given, counts each chunk's outputs.
    """
    total = 0.0
    weighted = np.ndim(coef) != 0
    with np.errstate(**quieted(np.geterr())):  # a diverged network's cost: inf, said as such
        for start, A0 in blocks(X, net.dtype, chunk):
            k = A0.shape[1]
            ws = net.workspace(k, train=False)
            A_L = forward(net.layers, net.activations, A0, ws)
            Yb = Y[:, start : start + k]
            c = coef[:, start : start + k] if weighted else coef
            total += net.loss.cost(A_L, Yb, c, ws.Z[net.L] if net.fused else None,
                                   ws.loss_work)
            if metric is not None:
                metric.add(A_L, Yb, ws)
    net.release_inputs()
    return float(total)


def non_finite_error(A: np.ndarray, finite: np.ndarray, theta: np.ndarray, dtype: np.dtype,
                     what: str, output: str | None = None) -> DataError:
    """Return the DataError for an output ``A`` (n[L], m) with NaN or inf in some samples.

    ``finite``: (m,) whether each sample's column is finite; ``theta``: the flat parameters,
    whose values tell the cause (non-finite weights, an overflow of ``W[l]·a[l-1]``, or of
    the ``exp`` output itself: ``output`` is the output activation's name).
    """
    bad = np.flatnonzero(~finite)
    if not np.isfinite(theta).all():
        cause = "the parameters are not finite"
    elif output == "exp" and not np.isnan(A[:, bad]).any():
        # z is finite: exp(z) passed the dtype's largest value (z > 88.7 in float32)
        top = np.finfo(dtype).max
        cause = (f"the exp output overflows {dtype.name}: a predicted mean above {top:.1e} "
                 f"(z > {np.log(top):.1f}), far outside what the network was trained on"
                 + ("; a float64 network holds means up to 1.8e+308" if dtype != np.float64
                    else ""))
    else:  # too large inputs, or weights thrown far by a diverging training run
        cause = (f"W[l]·a[l-1] overflows {dtype.name} (|z| > "
                 f"{np.finfo(dtype).max:.1e}), with parameters up to "
                 f"{float(np.abs(theta).max()):.1e} in absolute value: rescale X, for "
                 "instance standardize it, or, if training diverged, retrain with a "
                 "smaller learning rate")
    return DataError(
        f"the network's output {what} is not finite (NaN or inf) for {bad.size} of the "
        f"{A.shape[1]} samples (the first: sample {int(bad[0])}): {cause}"
    )
