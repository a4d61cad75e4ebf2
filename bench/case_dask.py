"""Benchmark case f (issue 7): data-parallel training on a 2-worker local Dask cluster, beside
single-process training of the same network on the same data.

Registered in ``bench/cases.py``'s ``CASES`` as ``"f"``. Contestants, one shuffled epoch each:

- ``npdeep``: ``Network.fit`` in this process, with the suite's BLAS threads (``--threads``);
- ``npdeep_1thread``: the same with one BLAS thread (what one worker has);
- ``npdeep_dask2``: :class:`npdeep.distributed.DataParallelTrainer` on
  :func:`npdeep.distributed.local_cluster` with 2 workers x 1 thread (shards scattered once,
  before the timing; each step sends the parameters to the workers and gathers 2 gradient sums).

The ratio ``npdeep_dask2/npdeep`` is the data-parallel speed-up; it pays only when a step's
compute dwarfs the 30-50 ms a step of this network costs in scheduling and transport
(2 MiB of parameters out and 2 MiB of gradient sums back per worker), i.e. for large batches.
On a machine with as many cores as workers, compare also ``npdeep_dask2/npdeep_1thread``.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from bench.harness import Contestant

LAYERS = [784, 512, 256, 10]
#: samples per epoch and the batch sizes, per mode
SIZES: dict[str, dict[str, Any]] = {
    "full": {"samples": 65_536, "batches": [1024, 8192, 32_768]},
    "quick": {"samples": 8_192, "batches": [4096]},
    "tiny": {"samples": 512, "batches": [256]},
}
LEARNING_RATE = 0.01


def _dask_missing() -> str | None:
    try:
        import distributed  # noqa: F401

        import npdeep.distributed  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
        return f"import npdeep.distributed failed: {type(exc).__name__}: {exc}"
    return None


def _network(seed: int):
    import npdeep

    return npdeep.Network(LAYERS, activation="relu", output_activation="softmax",
                          loss="categorical_crossentropy", dtype="float32", seed=seed)


def _single(name: str, X: np.ndarray, Y: np.ndarray, batch: int, seed: int,
            threads: int | None) -> Contestant:
    """Contestant: ``count`` epochs of ``Network.fit`` in this process (work = samples)."""
    from threadpoolctl import threadpool_limits

    net = _network(seed)
    m = X.shape[1]

    def run(count: int) -> float:
        with threadpool_limits(threads) if threads else nullcontext():
            net.fit(X, Y, epochs=count, learning_rate=LEARNING_RATE, batch_size=batch,
                    optimizer="sgd", verbose=0)
        return float(count * m)

    return Contestant(name, run)


def _data_parallel(name: str, client, X: np.ndarray, Y: np.ndarray, batch: int,
                   seed: int, trainers: list) -> Contestant:
    """Contestant: ``count`` epochs of a DataParallelTrainer whose shards are already out."""
    from npdeep.distributed import DataParallelTrainer

    trainer = DataParallelTrainer(_network(seed), X, Y, client, learning_rate=LEARNING_RATE,
                                  batch_size=batch, optimizer="sgd", seed=seed)
    trainers.append(trainer)
    m = X.shape[1]

    def run(count: int) -> float:
        trainer.run(count)
        return float(count * m)

    return Contestant(name, run)


def case_f(ctx) -> dict[str, Any]:
    """784-512-256-10 epochs: single process vs synchronous data parallelism on 2 Dask workers."""
    from bench.cases import _classification_data, _config

    sizes = SIZES[ctx.mode]
    m = sizes["samples"]
    X, Y, _, _ = _classification_data(ctx.rng(), LAYERS[0], LAYERS[-1], m, np.float32)
    title = ("f. Data-parallel training on 2 Dask workers vs one process "
             "(784-512-256-10, SGD, float32)")
    ratios = {"npdeep_dask2/npdeep": ["npdeep_dask2", "npdeep"],
              "npdeep_dask2/npdeep_1thread": ["npdeep_dask2", "npdeep_1thread"]}
    missing = _dask_missing()
    configs = []
    if missing is not None:
        for batch in sizes["batches"]:
            configs.append({"id": f"b{batch}", "params": {"batch_size": batch, "samples": m},
                            "results": {}, "skipped": {"npdeep_dask2": missing},
                            "ratios": ratios, "targets": {}})
        return {"title": title, "unit": "samples/s", "higher_is_better": True,
                "configs": configs}

    from npdeep.distributed import local_cluster

    with local_cluster(n_workers=2, threads_per_worker=1, dashboard=False) as client:
        client.wait_for_workers(2, timeout=60)
        for batch in sizes["batches"]:
            trainers: list = []
            builders = {
                "npdeep": lambda b=batch: _single("npdeep", X, Y, b, ctx.seed, ctx.threads),
                "npdeep_1thread": lambda b=batch: _single("npdeep_1thread", X, Y, b, ctx.seed, 1),
                "npdeep_dask2": lambda b=batch, t=trainers: _data_parallel(
                    "npdeep_dask2", client, X, Y, b, ctx.seed, t),
            }
            configs.append(_config(
                ctx, f"b{batch}",
                {"layers": LAYERS, "batch_size": batch, "samples": m, "optimizer": "sgd",
                 "learning_rate": LEARNING_RATE, "dtype": "float32", "workers": 2,
                 "threads_per_worker": 1},
                builders, ratios))
            for trainer in trainers:
                trainer.close()
    return {"title": title, "unit": "samples/s", "higher_is_better": True, "configs": configs}


__all__ = ["case_f"]
