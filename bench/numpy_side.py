"""The NumPy-side contestants: npdeep itself, the article's own loop, and the GEMM-only ceiling.

Orientation is the article's everywhere here: ``X: (n_x, m)``, ``Y: (n_L, m)``,
``W[l]: (n[l], n[l-1])``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bench.harness import Contestant


def npdeep_missing() -> str | None:
    """Return why npdeep cannot be benchmarked, or None when ``npdeep.Network`` is there."""
    try:
        import npdeep
    except Exception as exc:  # noqa: BLE001 - any import failure means "skip npdeep"
        return f"import npdeep failed: {type(exc).__name__}: {exc}"
    if not hasattr(npdeep, "Network"):
        return "npdeep.Network does not exist yet (the core has not landed)"
    return None


def npdeep_network(layers: list[int], *, activation: str, output_activation: str, loss: str,
                   dtype: str, seed: int = 0) -> Any:
    """Build ``npdeep.Network(layers, ...)`` with the suite's keyword names in one place."""
    import npdeep

    return npdeep.Network(layers, activation=activation, output_activation=output_activation,
                          loss=loss, dtype=dtype, seed=seed)


def npdeep_fit(name: str, net: Any, X: np.ndarray, Y: np.ndarray, *, batch_size: int,
               optimizer: str, learning_rate: float, calibrate: bool = False) -> Contestant:
    """Contestant: ``count`` epochs of ``net.fit`` over ``X: (n_x, m)``, ``Y: (n_L, m)``.

    Work is samples (``count * m``); with full-batch training (``batch_size == m``) divide by
    ``m`` for steps, which :func:`npdeep_steps` does.
    """
    m = X.shape[1]

    def run(count: int) -> float:
        net.fit(X, Y, epochs=count, learning_rate=learning_rate, batch_size=batch_size,
                optimizer=optimizer, verbose=0)
        return float(count * m)

    return Contestant(name, run, calibrate=calibrate)


def npdeep_steps(name: str, net: Any, X: np.ndarray, Y: np.ndarray, *,
                 learning_rate: float) -> Contestant:
    """Contestant: full-batch gradient-descent steps of ``net.fit`` (work = steps)."""
    m = X.shape[1]

    def run(count: int) -> float:
        net.fit(X, Y, epochs=count, learning_rate=learning_rate, batch_size=m,
                optimizer="sgd", verbose=0)
        return float(count)

    return Contestant(name, run, calibrate=True)


def npdeep_predict(name: str, net: Any, X: np.ndarray) -> Contestant:
    """Contestant: ``net.predict_proba(X)`` on ``X: (n_x, m)`` (work = predictions)."""
    m = X.shape[1]

    def run(count: int) -> float:
        for _ in range(count):
            net.predict_proba(X)
        return float(count * m)

    return Contestant(name, run, calibrate=True)


def article_loop(name: str, units: list[int], X: np.ndarray, Y: np.ndarray, alpha: float,
                 rng: np.random.Generator) -> Contestant:
    """Contestant: the article's own training loop, faithful, with its defects fixed.

    Kept as in the article: the dicts ``parameters`` and ``cache`` keyed ``'W1'``, ``'a0'``,
    ...; float64; ``np.dot`` plus broadcasting ``+ b``; the cost computed every epoch; a
    fresh array for every operation. Fixed: ``for epoch in range(epochs)`` (the article's
    ``for epoch in len(epochs)`` is not a loop), ``sigmoid`` defined before use, no
    ``print(cost)`` in the timed loop, weights drawn from the seeded generator (same
    uniform [0, 1) law as the article's ``np.random.rand``). Work is steps (epochs).
    """
    L = len(units) - 1
    m = X.shape[1]
    parameters: dict[str, np.ndarray] = {}
    for layer in range(1, L + 1):
        parameters["W" + str(layer)] = rng.random((units[layer], units[layer - 1]))
        parameters["b" + str(layer)] = np.zeros((units[layer], 1))

    def sigmoid(X: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-X))

    def inv_sigmoid(X: np.ndarray) -> np.ndarray:  # the article's name; it is sigmoid'
        return sigmoid(X) * (1 - sigmoid(X))

    cache: dict[str, Any] = {"a0": X}

    def run(epochs: int) -> float:
        # log(0) of a saturated sigmoid warns; silenced once per run, not per epoch (entering
        # np.errstate costs ~1.5 us, 1-2% of a step at m = 2, work the article does not do)
        with np.errstate(divide="ignore", invalid="ignore"):
            _epochs(epochs)
        return float(epochs)

    def _epochs(epochs: int) -> None:
        for _epoch in range(epochs):
            for layer in range(1, L + 1):
                cache["Z" + str(layer)] = (np.dot(parameters["W" + str(layer)],
                                                  cache["a" + str(layer - 1)])
                                           + parameters["b" + str(layer)])
                cache["a" + str(layer)] = sigmoid(cache["Z" + str(layer)])

            y_hat = cache["a" + str(L)]
            cache["cost"] = np.sum(-(1 / m) * (Y * np.log(y_hat) + (1 - Y) * np.log(1 - y_hat)))

            cache["dZ" + str(L)] = (1 / m) * (y_hat - Y)
            cache["dW" + str(L)] = np.dot(cache["dZ" + str(L)], cache["a" + str(L - 1)].T)
            cache["db" + str(L)] = np.sum(cache["dZ" + str(L)], axis=1, keepdims=True)

            for layer in range(L - 1, 0, -1):
                cache["dZ" + str(layer)] = (np.dot(parameters["W" + str(layer + 1)].T,
                                                   cache["dZ" + str(layer + 1)])
                                            * inv_sigmoid(cache["Z" + str(layer)]))
                cache["dW" + str(layer)] = np.dot(cache["dZ" + str(layer)],
                                                  cache["a" + str(layer - 1)].T)
                cache["db" + str(layer)] = np.sum(cache["dZ" + str(layer)], axis=1,
                                                  keepdims=True)

            for layer in range(1, L + 1):
                parameters["W" + str(layer)] = (parameters["W" + str(layer)]
                                                - alpha * cache["dW" + str(layer)])
                parameters["b" + str(layer)] = (parameters["b" + str(layer)]
                                                - alpha * cache["db" + str(layer)])

    return Contestant(name, run, calibrate=True)


def _gemm_shapes(layers: list[int], batch: int) -> list[tuple[int, int]]:
    return [(layers[l], layers[l - 1]) for l in range(1, len(layers))]


def gemm_flops_per_sample(layers: list[int]) -> float:
    """FLOPs of one training step's matmuls per sample, without ``dA[0]`` (never needed)."""
    total = 0.0
    for l in range(1, len(layers)):
        n, n_prev = layers[l], layers[l - 1]
        total += 2 * n * n_prev * (3 if l > 1 else 2)
    return total


def gemm_ceiling_numpy(name: str, layers: list[int], batch: int, m: int, dtype: Any,
                       rng: np.random.Generator) -> Contestant:
    """Contestant: only the matmuls of an epoch's training steps, ``np.matmul(out=)``.

    Per step and layer: ``Z[l] = W[l] @ A[l-1]`` forward; ``dW[l] = dZ[l] @ A[l-1].T`` and,
    for ``l >= 2``, ``dA[l-1] = W[l].T @ dZ[l]`` backward; all into preallocated buffers.
    Nothing else (no activation, bias, loss or update): the ceiling for this network.
    Work is ``steps * batch`` samples with ``steps = round(m / batch)``.
    """
    W = [None] + [rng.standard_normal(s).astype(dtype) for s in _gemm_shapes(layers, batch)]
    A = [rng.standard_normal((n, batch)).astype(dtype) for n in layers]
    dZ = [None] + [np.ones((n, batch), dtype) for n in layers[1:]]
    dA = [np.empty((n, batch), dtype) for n in layers]
    dW = [None] + [np.empty(w.shape, dtype) for w in W[1:]]
    Z = [None] + [np.empty((n, batch), dtype) for n in layers[1:]]
    L = len(layers) - 1
    steps = max(1, round(m / batch))
    matmul = np.matmul

    def run(count: int) -> float:
        for _ in range(count * steps):
            for l in range(1, L + 1):
                matmul(W[l], A[l - 1], out=Z[l])
            for l in range(L, 0, -1):
                matmul(dZ[l], A[l - 1].T, out=dW[l])
                if l > 1:
                    matmul(W[l].T, dZ[l], out=dA[l - 1])
        return float(count * steps * batch)

    return Contestant(name, run)


def gemm_ceiling_scipy(name: str, layers: list[int], batch: int, m: int, dtype: Any,
                       rng: np.random.Generator) -> Contestant:
    """Contestant: the same matmuls as :func:`gemm_ceiling_numpy` through scipy's ``?gemm``.

    C-ordered arrays are passed as their Fortran-ordered transposes with transpose flags, so
    BLAS writes straight into the preallocated outputs (checked once at build time).
    """
    from scipy.linalg import blas

    gemm: Callable[..., np.ndarray] = blas.sgemm if np.dtype(dtype) == np.float32 else blas.dgemm
    W = [None] + [rng.standard_normal(s).astype(dtype) for s in _gemm_shapes(layers, batch)]
    A = [rng.standard_normal((n, batch)).astype(dtype) for n in layers]
    dZ = [None] + [rng.standard_normal((n, batch)).astype(dtype) for n in layers[1:]]
    dA = [np.empty((n, batch), dtype) for n in layers]
    dW = [None] + [np.empty(w.shape, dtype) for w in W[1:]]
    Z = [None] + [np.empty((n, batch), dtype) for n in layers[1:]]
    L = len(layers) - 1
    steps = max(1, round(m / batch))

    def step() -> None:
        for l in range(1, L + 1):  # Z.T = A.T @ W.T
            gemm(1.0, A[l - 1].T, W[l].T, c=Z[l].T, overwrite_c=True)
        for l in range(L, 0, -1):
            gemm(1.0, A[l - 1].T, dZ[l].T, trans_a=True, c=dW[l].T, overwrite_c=True)
            if l > 1:  # dA.T = dZ.T @ W
                gemm(1.0, dZ[l].T, W[l].T, trans_b=True, c=dA[l - 1].T, overwrite_c=True)

    step()
    tol = 1e-3 if np.dtype(dtype) == np.float32 else 1e-10
    for l in range(1, L + 1):
        for got, want in ((Z[l], W[l] @ A[l - 1]), (dW[l], dZ[l] @ A[l - 1].T)):
            scale = max(1.0, float(np.abs(want).max()))
            assert np.allclose(got, want, atol=tol * scale), "scipy gemm ceiling is wrong"
        if l > 1:
            assert np.allclose(dA[l - 1], W[l].T @ dZ[l], atol=tol * max(1.0, float(
                np.abs(dA[l - 1]).max()))), "scipy gemm ceiling is wrong"

    def run(count: int) -> float:
        for _ in range(count * steps):
            step()
        return float(count * steps * batch)

    return Contestant(name, run)
