"""The driver's side of data-parallel training: the shards of the data and where they live."""

from __future__ import annotations

import numpy as np
from distributed import Client

from .cluster import scheduler_identity

__all__ = ["Shards"]


class Shards:
    """The driver's copy of every shard and the futures of their scattered copies."""

    def __init__(self, client: Client, X: np.ndarray, Y: np.ndarray, n_shards: int,
                 weights: np.ndarray | None = None):
        self.client = client
        N = X.shape[1]
        self.bounds = np.linspace(0, N, n_shards + 1).round().astype(np.intp)
        # samples-major (N_k, n_x) copies: a batch is then gathered as whole rows; the
        # per-sample coefficients (N_k,) ride along when there are sample weights
        self.data = [(np.ascontiguousarray(X[:, a:b].T), np.ascontiguousarray(Y[:, a:b].T),
                      *(() if weights is None else (weights[a:b].copy(),)))
                     for a, b in zip(self.bounds[:-1], self.bounds[1:], strict=True)]
        self.futures: list = []
        self.workers: list[str] = []
        self.scatter()

    def scatter(self) -> None:
        """Send shard k to worker k (mod the workers alive), replacing older copies."""
        alive = sorted(scheduler_identity(self.client)["workers"])
        if not alive:
            raise OSError("the Dask cluster has no workers left to hold the shards")
        self.workers = [alive[k % len(alive)] for k in range(len(self.data))]
        self.futures = [self.client.scatter(list(pair), workers=[w], hash=False)
                        for w, pair in zip(self.workers, self.data, strict=True)]

    def submit(self, k: int, func, *args):
        """Run ``func(*args[:2], X_k, Y_k, *args[2:], weights=u_k)`` on the worker holding
        shard ``k`` (``weights`` only with sample weights)."""
        X_k, Y_k, *u_k = self.futures[k]
        return self.client.submit(func, *args[:2], X_k, Y_k, *args[2:],
                                  **({"weights": u_k[0]} if u_k else {}),
                                  workers=[self.workers[k]], allow_other_workers=False,
                                  pure=False)

    def split(self, idx: np.ndarray | None) -> list[np.ndarray | None]:
        """Map global column indices ``idx`` to per-shard local indices (None: whole shards)."""
        if idx is None:
            return [None] * len(self.data)
        k = np.searchsorted(self.bounds, idx, side="right") - 1
        return [idx[k == s] - self.bounds[s] for s in range(len(self.data))]
