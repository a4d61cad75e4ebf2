"""The training hot path: forward and backward propagation into preallocated buffers.

The equations are the article's, layer by layer (``l`` runs 1..L, ``a[0] = X``)::

    Z[l]  = W[l] . a[l-1] + b[l]                 forward
    a[l]  = g[l](Z[l])
    dZ[L] = c * (a[L] - Y)                       fused output delta (c = 1/m; the robust
                                                 losses clip or take the sign of a[L] - Y)
    dZ[l] = (W[l+1]^T . dZ[l+1]) * g'[l](Z[l])   backward
    dW[l] = dZ[l] . a[l-1]^T
    db[l] = sum over samples of dZ[l]

A :class:`Workspace` holds every ``Z[l]``, ``a[l]`` and ``dZ[l]`` for one batch size, so a
training step allocates nothing proportional to the batch. Hidden layers whose activation can
work in place store ``a[l]`` over ``Z[l]`` (their derivative is read from ``a[l]``); the output
layer keeps both, since the cost is computed from the logits ``Z[L]``. ``dA[0]`` is never
computed: training does not need it.

``a[0] = X`` may be a scipy.sparse matrix (CSC, see :mod:`npdeep._sparse`): only the two
products that read it, ``W[1] . a[0]`` and ``dZ[1] . a[0]^T``, then change, chosen once per
pass outside the per-layer loops.
"""

from __future__ import annotations

import numpy as np

from ._sparse import delta_times_sparse_T, weights_times_sparse
from .activations import Activation
from .losses import Loss

__all__ = ["Workspace", "alpha_dropout_scale", "forward", "backward"]

_DOT_SIZE = 4096  # largest n[l] * m computed with np.dot


class Workspace:
    """Preallocated arrays for a batch of ``m`` samples.

    Attributes
    ----------
    Z, A, dZ : lists indexed by layer ``l`` (index 0 unused, ``A[0]`` set per batch)
        ``Z[l]``, ``A[l]``, ``dZ[l]``: (n[l], m).
    D : list
        ``D[l]``: (n[l], m) dropout output for hidden layers with dropout, else None: inverted
        dropout ``a[l] * mask / keep``, or alpha dropout (:func:`alpha_dropout_scale`).
        ``mask[l]``: the scaled mask, ``mask / keep`` or ``s * mask``, of the same shape:
        ``dD[l]/da[l]`` in both cases.
    ones : (m, 1) array of ones (``db[l] = dZ[l] . ones``).
    S, B : lists indexed by layer ``l``
        ``S[l]``: (n[l], m) float scratch, ``B[l]``: (n[l], m) boolean scratch, for derivatives
        computed in the backward pass (views of one shared buffer each: one layer at a time).
    work : list indexed by layer ``l``
        ``(S[l], B[l])``, the ``work`` argument of g[l]'s backward; ``(S[l], B[l], S2[l])`` when
        g[l].backward_floats is 2 (gelu, silu), ``S2[l]`` the next (n[l], m) of the shared
        float buffer.
    loss_work : tuple
        ``(T1, T2, T3, r)``: three (n[L], m) float arrays and one (m,) array, scratch for the
        cost (views of the same shared buffer: the cost is computed before the backward pass).
    rows : (2, m) float scratch (the cost's and the accuracy count's per-sample values).
    hits : (2 n[L], m) boolean scratch (the accuracy count).
    """

    def __init__(self, units, activations: list[Activation], dtype, m: int, keep=None):
        L = len(units) - 1
        dtype = np.dtype(dtype)
        self.m = m
        self.Z: list = [None] * (L + 1)
        self.A: list = [None] * (L + 1)
        self.dZ: list = [None] * (L + 1)
        self.D: list = [None] * (L + 1)
        self.mask: list = [None] * (L + 1)
        self.uniform: list = [None] * (L + 1)
        for l in range(1, L + 1):
            shape = (units[l], m)
            self.Z[l] = np.empty(shape, dtype)
            share = activations[l].inplace_ok and l < L
            self.A[l] = self.Z[l] if share else np.empty(shape, dtype)
            self.dZ[l] = np.empty(shape, dtype)
            if keep is not None and l < L and keep[l] < 1.0:
                self.D[l] = np.empty(shape, dtype)
                self.mask[l] = np.empty(shape, dtype)
                self.uniform[l] = np.empty(shape, dtype)
        self.ones = np.ones((m, 1), dtype)
        n_L = units[L]
        floats = [getattr(g, "backward_floats", 1) if g is not None else 1
                  for g in activations]
        width = max(max(units[l] * floats[l] for l in range(1, L + 1)), 3 * n_L)
        scratch = np.empty(width * m, dtype)
        bools = np.empty(max(max(units[1:]), 2 * n_L) * m, np.bool_)
        self.S = [None] + [scratch[: n * m].reshape(n, m) for n in units[1:]]
        self.B = [None] + [bools[: n * m].reshape(n, m) for n in units[1:]]
        T1, T2, T3 = (scratch[k * n_L * m : (k + 1) * n_L * m].reshape(n_L, m) for k in range(3))
        self.rows = np.empty((2, m), dtype)
        self.loss_work = (T1, T2, T3, self.rows[0])
        # np.dot costs about half of np.matmul's fixed overhead per call (tiny layers are bound
        # by it); at real sizes np.matmul is as fast or faster and never copies strided input
        self.mm = np.dot if max(units) * m <= _DOT_SIZE else np.matmul
        self.hits = bools[: 2 * n_L * m].reshape(2 * n_L, m)
        self.work: list = [None]
        for l in range(1, L + 1):
            work = (self.S[l], self.B[l])
            if floats[l] >= 2:  # gelu, silu: a second float scratch, after the first
                n = units[l]
                work += (scratch[n * m : 2 * n * m].reshape(n, m),)
            self.work.append(work)


def alpha_dropout_scale(keep: float, dropped: float) -> float:
    """Return ``s`` of alpha dropout with keep probability ``keep`` and dropped value ``a'``.

    Alpha dropout (Klambauer et al. 2017) sets a dropped unit to ``a'`` (selu's saturation
    value) instead of 0, then maps ``x -> s x + t`` so that a[l] of zero mean and unit variance
    keeps both::

        D = s (a * mask + a' (1 - mask)) + t,   s = (keep (1 + a'^2 (1 - keep)))^(-1/2),
        t = -s a' (1 - keep)

    which :func:`forward` computes as ``D = (s mask)(a - a') + s a' keep``.
    """
    return (keep * (1.0 + dropped * dropped * (1.0 - keep))) ** -0.5


def forward(layers, activations, A0, ws: Workspace, keep=None, rng=None) -> np.ndarray:
    """Run forward propagation of a batch through every layer.

    Parameters
    ----------
    layers : list of (W, b)
        ``layers[l-1] = (W[l], b[l])``: W[l] (n[l], n[l-1]), b[l] (n[l], 1).
    activations : list of Activation, index ``l`` is g[l] (index 0 unused).
    A0 : (n_x, m) array or scipy.sparse matrix (CSC), the batch ``a[0] = X``.
    ws : Workspace for ``m`` samples; receives every Z[l] and a[l].
    keep : list of float or None
        Keep probability of dropout per layer (index ``l``); None: no dropout. Inverted
        dropout, or alpha dropout where g[l] has a ``dropped_value`` (selu).
    rng : numpy.random.Generator, needed when dropout is on.

    Returns
    -------
    a[L] : (n[L], m) array (a view of the workspace).
    """
    ws.A[0] = A0
    A_prev = A0
    mm, Zs, As, Ss, Ds = ws.mm, ws.Z, ws.A, ws.S, ws.D
    dropout = keep is not None
    # W[1] . a[0] is the sparse product for a sparse a[0]; after it, `product` is rebound to
    # the dense one (no test per layer)
    product = mm if isinstance(A0, np.ndarray) else weights_times_sparse
    for l, (W, b) in enumerate(layers, start=1):
        Z = Zs[l]
        product(W, A_prev, out=Z)
        product = mm
        Z += b
        A_prev = As[l]
        activations[l].forward(Z, A_prev, Ss[l])
        if dropout and Ds[l] is not None:
            U, M, D = ws.uniform[l], ws.mask[l], ws.D[l]
            rng.random(out=U, dtype=U.dtype)
            np.less(U, keep[l], out=M, casting="unsafe")
            dropped = activations[l].dropped_value
            if dropped is None:  # inverted dropout: D = a[l] * mask / keep
                M *= 1.0 / keep[l]
                np.multiply(A_prev, M, out=D)
            else:  # alpha dropout: D = (s mask)(a[l] - a') + s a' keep
                s = alpha_dropout_scale(keep[l], dropped)
                M *= s
                np.subtract(A_prev, dropped, out=D)
                D *= M
                D += s * dropped * keep[l]
            A_prev = D
    return ws.A[len(layers)]


def backward(
    layers,
    activations,
    loss: Loss,
    ws: Workspace,
    Y: np.ndarray,
    coef,
    grads,
    fused: bool,
    dropout: bool = False,
) -> None:
    """Run backpropagation after :func:`forward`, writing every dW[l] and db[l].

    Parameters
    ----------
    layers : list of (W, b) as in :func:`forward`.
    activations : list of Activation (index ``l`` is g[l]).
    loss : Loss
    ws : Workspace filled by :func:`forward`.
    Y : (n[L], m) targets.
    coef : float or (1, m) array
        ``1/m``, or ``w / sum(w)`` with sample weights.
    grads : list of (dW, db)
        ``grads[l-1] = (dW[l], db[l])``: (n[l], n[l-1]) and (n[l], 1), written in place.
    fused : bool
        True for a canonical output/loss pair: ``dZ[L] = loss.fused_delta(...)``, mostly
        ``coef * (a[L] - Y)``.
    dropout : bool
        True when :func:`forward` ran with dropout (masks in ``ws``).
    """
    L = len(layers)
    mm = ws.mm
    dZ = ws.dZ[L]
    if fused and loss.plain_delta:  # coef * (a[L] - Y), inline: no call per step
        np.subtract(ws.A[L], Y, out=dZ)
        dZ *= coef
    elif fused:
        loss.fused_delta(ws.A[L], Y, coef, dZ)
    else:
        dA = loss.gradient(ws.A[L], Y, coef)
        activations[L].backward(dA, ws.Z[L], ws.A[L], dZ, ws.work[L])
    ones, As, Ds, work = ws.ones, ws.A, ws.D, ws.work
    for l in range(L, 1, -1):
        dW, db = grads[l - 1]
        prev = l - 1
        A_prev = Ds[prev] if (dropout and Ds[prev] is not None) else As[prev]
        mm(dZ, A_prev.T, out=dW)
        mm(dZ, ones, out=db)
        dA_prev = ws.dZ[prev]
        mm(layers[l - 1][0].T, dZ, out=dA_prev)
        if dropout and Ds[prev] is not None:
            dA_prev *= ws.mask[prev]
        activations[prev].backward(dA_prev, ws.Z[prev], As[prev], dA_prev, work[prev])
        dZ = dA_prev
    # layer 1 reads a[0] = X (never dropped out), which may be sparse
    dW, db = grads[0]
    A0 = As[0]
    (mm if isinstance(A0, np.ndarray) else delta_times_sparse_T)(dZ, A0.T, out=dW)
    mm(dZ, ones, out=db)
