"""The pure, picklable function a worker runs in data-parallel training.

:func:`loss_and_gradients` returns *sums* over the samples of a shard, not means, so the driver
divides by the global batch size ``m`` exactly, whatever the split::

    J     = (1/m) sum_shards cost_sum_k            (+ the L2 term, added by the driver)
    dW[l] = (1/m) sum_shards dW_sum[l]_k

It runs the engine's own kernels (:func:`npdeep.engine.forward` and
:func:`npdeep.engine.backward` with ``coef = 1``), the same code as single-process training.
This module does not import Dask: it can run anywhere.
"""

from __future__ import annotations

import importlib
import json
import threading

import numpy as np

from .. import optimizers as _optimizers
from .._fp_errors import quieted
from .._registry import modules_naming
from ..engine import backward, forward
from ..errors import DataError
from ..network import Network

__all__ = ["loss_and_gradients", "shard_loss_and_gradients", "shard_local_steps"]

_local = threading.local()


#: The key of a config that lists the modules registering the classes it names (custom
#: activations or losses, ``npdeep.register``): a worker imports them before building the network.
MODULES_KEY = "_registered_modules"


def with_registered_modules(config: dict) -> dict:
    """Return ``config`` (``Network.get_config()``) with the modules of the registered classes
    it names under :data:`MODULES_KEY`, as an estimator's pickle carries them; unchanged when
    it names none. Classes registered in ``__main__`` are left out (no worker can import it)."""
    modules = modules_naming(config.values())
    return dict(config, **{MODULES_KEY: modules}) if modules else config


def _network(config: dict) -> Network:
    """Return this thread's Network for ``config`` (built once; its weights are never used).

    The modules listed under :data:`MODULES_KEY` are imported first: a process worker then
    knows the custom activations and losses registered on the driver.
    """
    cache = getattr(_local, "networks", None)
    if cache is None:
        cache = _local.networks = {}
    key = json.dumps(config, sort_keys=True)
    net = cache.get(key)
    if net is None:
        if len(cache) >= 8:
            cache.clear()
        config = dict(config)
        for module in config.pop(MODULES_KEY, ()):
            importlib.import_module(module)  # registers its classes (npdeep.register)
        net = cache[key] = Network.from_config(dict(config, seed=0))
    return net


def loss_and_gradients(
    config: dict, theta: np.ndarray, X: np.ndarray, Y: np.ndarray
) -> tuple[float, np.ndarray, int]:
    """Return the cost sum, the gradient sum and the sample count of a shard.

    Pure: the result depends only on the arguments (a per-thread cache keeps the built network
    and its buffers between calls). No dropout and no L2 term: the driver adds
    ``(lambda / m) W[l]`` once it knows the global ``m``.

    Parameters
    ----------
    config : dict
        The architecture, ``Network.get_config()``; under ``"_registered_modules"``
        (:func:`with_registered_modules`), the modules to import first, which register the
        custom classes it names.
    theta : (size,) array
        Every W[l] and b[l] in the flat layout of :class:`npdeep.parameters.Layout`.
    X : (n_x, m_k) array
        The shard's samples, features x samples.
    Y : (n_L, m_k) array
        Their targets.

    Returns
    -------
    cost_sum : float
        ``sum_i loss(a[L]_i, y_i)`` over the shard's ``m_k`` samples.
    grad_sum : (size,) array
        ``sum_i`` of the per-sample gradients, in theta's layout (dW[l] and db[l] views).
    m_k : int
        The shard's sample count.

    Examples
    --------
    >>> import numpy as np, npdeep
    >>> net = npdeep.Network([2, 3, 1], seed=0)
    >>> X, Y = np.ones((2, 4)), np.ones((1, 4))
    >>> cost, grad, m = loss_and_gradients(net.get_config(), net.parameters.flat, X, Y)
    >>> bool(np.allclose(grad / m, np.concatenate(
    ...     [g.ravel() for g in net.gradients(X, Y).values()])))
    True
    """
    return _sums(config, theta, X, Y, None)


def _sums(config: dict, theta, X, Y, weight, count=None) -> tuple[float, np.ndarray, int]:
    """:func:`loss_and_gradients` with optional per-sample coefficients ``weight`` (1, m) (0 on
    padding) and the number of real samples ``count`` (default: m)."""
    net = _network(config)
    theta = np.asarray(theta)
    if theta.shape != (net.layout.size,):
        raise DataError(
            f"theta must be the flat parameter buffer of shape ({net.layout.size},) for units "
            f"{net.units}, got shape {theta.shape}"
        )
    X = np.asarray(X, dtype=net.dtype)
    Y = np.asarray(Y, dtype=net.dtype)
    m = X.shape[1] if X.ndim == 2 else -1
    if X.ndim != 2 or X.shape[0] != net.n_x:
        raise DataError(f"X must be (n_x, m) = ({net.n_x}, m), got shape {X.shape}")
    if Y.shape != (net.units[-1], m):
        raise DataError(f"Y must be (n_L, m) = ({net.units[-1]}, {m}), got shape {Y.shape}")
    grad = net.layout.zeros()
    if m == 0:
        return 0.0, grad, 0
    coef = 1.0 if weight is None else weight
    theta = theta.astype(net.dtype, copy=False)
    layers = net.layout.layer_views(theta)
    ws = net.workspace(m, train=False)
    # a diverging run overflows here first: the driver reports it once, in words (the NaN
    # guard), as a single-process fit does, without each worker printing NumPy's warnings
    with np.errstate(**quieted(np.geterr())):
        A_L = forward(layers, net.activations, X, ws)
        cost = net.loss.cost(A_L, Y, coef, ws.Z[net.L] if net.fused else None)
        backward(layers, net.activations, net.loss, ws, Y, coef, net.layout.layer_views(grad),
                 net.fused)
    return float(cost), grad, m if count is None else count


def _padded_size(m: int) -> int:
    """Round ``m`` up to a multiple of 1/16 of its power of two (at most 6.25% more)."""
    step = max(1, (1 << (m.bit_length() - 1)) // 16)
    return -(-m // step) * step


def shard_loss_and_gradients(
    config: dict, theta: np.ndarray, X_rows: np.ndarray, Y_rows: np.ndarray, columns=None,
    weights=None,
) -> tuple[float, np.ndarray, int]:
    """Run :func:`loss_and_gradients` on the samples ``columns`` of a shard (None: all).

    The shard is stored samples-major, ``X_rows``: (N_k, n_x) and ``Y_rows``: (N_k, n_L) (the
    transposes of its (n_x, N_k) and (n_L, N_k) slices), so gathering a batch copies whole rows;
    the batch enters the engine as the (n_x, m) view ``X_rows[columns].T``. ``columns``: integer
    indices into N_k. ``weights``: (N_k,) per-sample coefficients ``u_i = N w_i / sum(w)`` (mean
    1 over the whole data set), or None for 1; the sums are then ``sum_i u_i loss_i`` and
    ``sum_i u_i grad_i``, and ``m_k`` still counts samples.

    The part of a global batch that falls in a shard varies in size from step to step; to keep
    reusing the network's cached buffers, the batch is padded to a few fixed sizes with
    repeated samples of weight 0, which add exactly nothing to the sums.
    """
    if columns is None:
        weight = None if weights is None else np.asarray(weights).reshape(1, -1)
        return _sums(config, theta, X_rows.T, Y_rows.T, weight, X_rows.shape[0])
    columns = np.asarray(columns, dtype=np.intp)
    m = columns.shape[0]
    if m == 0:
        return _sums(config, theta, X_rows[:0].T, Y_rows[:0].T, None)
    padded = _padded_size(m)
    if padded == m and weights is None:
        weight = None
    else:
        weight = np.zeros((1, padded), dtype=np.float64 if weights is None else weights.dtype)
        weight[0, :m] = 1.0 if weights is None else np.take(weights, columns)
        columns = np.concatenate([columns, np.full(padded - m, columns[0])])
    return _sums(config, theta, np.take(X_rows, columns, axis=0).T,
                 np.take(Y_rows, columns, axis=0).T, weight, m)


def shard_local_steps(
    config: dict,
    theta: np.ndarray,
    X_rows: np.ndarray,
    Y_rows: np.ndarray,
    batches: list,
    learning_rate: float,
    weights=None,
) -> tuple[np.ndarray, float, int]:
    """Run plain gradient-descent steps on a shard's own batches, starting from ``theta``.

    Each step is the single-process one on the shard's part of a global batch (``m_k``
    samples): ``theta <- theta - lr * (grad_sum / m_k + (lambda / m_k) W)``.

    Parameters
    ----------
    batches : list of integer arrays
        Column indices into the shard, one array per local step (empty arrays are skipped).
    weights : (N_k,) array, optional
        Per-sample coefficients, as in :func:`shard_loss_and_gradients`.

    Returns
    -------
    theta : (size,) array
        The parameters after the local steps.
    cost_sum : float
        Sum over the steps of ``m_k * J_k`` (each J_k before its step, L2 term included).
    m : int
        Samples visited.
    """
    net = _network(config)
    theta = np.array(theta, dtype=net.dtype, copy=True)
    layers = net.layout.layer_views(theta)
    sgd = _optimizers.get("sgd")
    total, seen = 0.0, 0
    for columns in batches:
        cost_sum, grad, m = shard_loss_and_gradients(config, theta, X_rows, Y_rows, columns,
                                                     weights)
        if m == 0:
            continue
        grad /= m
        l2_cost = 0.0
        if net.l2:
            for (W, _), (dW, _) in zip(layers, net.layout.layer_views(grad), strict=True):
                dW += (net.l2 / m) * W
            l2_cost = net.l2 / (2.0 * m) * float(sum(np.vdot(W, W) for W, _ in layers))
        total += cost_sum + m * l2_cost
        seen += m
        sgd.step(theta, grad, learning_rate)
    return theta, total, seen
