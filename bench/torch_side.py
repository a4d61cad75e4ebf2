"""PyTorch CPU contestants, written the way a PyTorch user writes them.

``nn.Sequential`` of ``nn.Linear`` and activations, ``nn.CrossEntropyLoss`` on logits (its
fused log-softmax), ``torch.optim`` (SGD's default single-tensor update, one ``add_`` per
parameter; Adam's ``fused=True`` kernel, see :func:`_optimizer`), a fresh
``torch.randperm`` shuffle every epoch and a gathered minibatch per step, like a DataLoader
over an in-memory tensor without its worker overhead. Samples are rows here (PyTorch's
orientation); the suite hands each framework the same numbers in its own layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.harness import Contestant


def torch_missing() -> str | None:
    """Return why PyTorch cannot be benchmarked, or None when it imports."""
    try:
        import torch  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "skip torch"
        return f"import torch failed: {type(exc).__name__}: {exc} (pip install -e '.[bench]')"
    return None


_TORCH_DTYPES = {"float32": "float32", "float64": "float64"}


def mlp(layers: list[int], activation: str, output_activation: str | None, dtype: str,
        seed: int = 0) -> Any:
    """``nn.Sequential`` for ``layers = [n_x, ..., n_L]``; no ``output_activation``: logits."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
    modules: list[nn.Module] = []
    for l in range(1, len(layers)):
        modules.append(nn.Linear(layers[l - 1], layers[l]))
        if l < len(layers) - 1:
            modules.append(act())
    if output_activation == "sigmoid":
        modules.append(nn.Sigmoid())
    return nn.Sequential(*modules).to(getattr(torch, _TORCH_DTYPES[dtype]))


def _optimizer(model: Any, name: str, learning_rate: float) -> Any:
    """``torch.optim`` SGD (no momentum) or Adam, in the fastest CPU implementation of each.

    On CPU, ``torch.optim``'s default is the single-tensor loop (``foreach`` is the default on
    CUDA only). For SGD without momentum that is one ``add_`` per parameter, as fast as any.
    For Adam it is about ten separate passes per parameter: measured here (784-512-256-10,
    batch 128, torch 2.13, 2 threads) 19.9k samples/s against 26.7k with ``foreach=True`` and
    33.5k with ``fused=True``. npdeep updates one flat buffer, so Adam is ``fused=True`` (the
    same rule: bias correction, ``eps`` outside the square root), as a user after speed writes it.
    """
    import torch

    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=learning_rate)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=learning_rate, betas=(0.9, 0.999),
                                eps=1e-8, fused=True)
    raise ValueError(f"optimizer: got {name!r}, expected 'sgd' or 'adam'")


def fit_epochs(name: str, layers: list[int], X_rows: np.ndarray, labels: np.ndarray, *,
               dtype: str, batch_size: int, optimizer: str, learning_rate: float,
               activation: str = "relu") -> Contestant:
    """Contestant: ``count`` shuffled epochs of softmax cross-entropy training.

    ``X_rows: (m, n_x)``, ``labels: (m,)`` integer classes. Work is samples.
    """
    import torch

    model = mlp(layers, activation, None, dtype)
    opt = _optimizer(model, optimizer, learning_rate)
    loss_fn = torch.nn.CrossEntropyLoss()
    X = torch.from_numpy(np.ascontiguousarray(X_rows))
    y = torch.from_numpy(labels.astype(np.int64))
    m = X.shape[0]
    gen = torch.Generator().manual_seed(0)

    def run(count: int) -> float:
        for _ in range(count):
            perm = torch.randperm(m, generator=gen)
            for i in range(0, m, batch_size):
                idx = perm[i:i + batch_size]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[idx]), y[idx])
                loss.backward()
                opt.step()
        return float(count * m)

    return Contestant(name, run)


def full_batch_steps(name: str, layers: list[int], X_rows: np.ndarray, Y_rows: np.ndarray, *,
                     dtype: str, learning_rate: float) -> Contestant:
    """Contestant: full-batch gradient descent, sigmoid everywhere, ``nn.BCELoss``.

    ``X_rows: (m, n_x)``, ``Y_rows: (m, 1)``. Work is steps.
    """
    import torch

    model = mlp(layers, "sigmoid", "sigmoid", dtype)
    opt = _optimizer(model, "sgd", learning_rate)
    loss_fn = torch.nn.BCELoss()
    X = torch.from_numpy(np.ascontiguousarray(X_rows))
    Y = torch.from_numpy(np.ascontiguousarray(Y_rows))

    def run(count: int) -> float:
        for _ in range(count):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(X), Y)
            loss.backward()
            opt.step()
        return float(count)

    return Contestant(name, run, calibrate=True)


def predict(name: str, layers: list[int], X_rows: np.ndarray, *, dtype: str) -> Contestant:
    """Contestant: ``softmax(model(X))`` under ``torch.inference_mode()``. Work is predictions."""
    import torch

    model = mlp(layers, "relu", None, dtype).eval()
    X = torch.from_numpy(np.ascontiguousarray(X_rows))
    m = X.shape[0]

    def run(count: int) -> float:
        with torch.inference_mode():
            for _ in range(count):
                torch.softmax(model(X), dim=1)
        return float(count * m)

    return Contestant(name, run, calibrate=True)
