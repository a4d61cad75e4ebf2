"""Measure one framework's memory over one training epoch, in a fresh process.

Run by case e of ``bench/run.py`` (one subprocess per framework, so no framework's imports,
caches or allocator pools leak into another's numbers)::

    python bench/memory_probe.py --framework npdeep --samples 60000 --batch-size 128

It prints one JSON line: resident set sizes in MB (after imports, before the epoch, peak during
the epoch sampled every millisecond, ``ru_maxrss``), the epoch's RSS growth and, for the NumPy
frameworks, the tracemalloc peak of a second epoch (Python-visible allocations at steady state).
Model 784-512-256-10, relu, softmax cross-entropy, float32, plain SGD.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

MB = 1024 * 1024
LAYERS = [784, 512, 256, 10]


def _rss() -> int:
    """Resident set size of this process in bytes (from /proc, no psutil needed)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler:
    """Sample the RSS every ``interval`` seconds in a thread; keep the maximum."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss())
            time.sleep(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _epoch_npdeep(m: int, batch: int, lr: float) -> Callable[[], None]:
    import numpy as np

    from bench.numpy_side import npdeep_network

    rng = np.random.default_rng(0)
    X = rng.random((m, LAYERS[0]), dtype=np.float32).T  # as a user with rows passes it
    Y = np.zeros((LAYERS[-1], m), np.float32)
    Y[rng.integers(LAYERS[-1], size=m), np.arange(m)] = 1.0
    net = npdeep_network(LAYERS, activation="relu", output_activation="softmax",
                         loss="categorical_crossentropy", dtype="float32")
    return lambda: net.fit(X, Y, epochs=1, learning_rate=lr, batch_size=batch,
                           optimizer="sgd", verbose=0)


def _rows(m: int):  # noqa: ANN202 - numpy imported lazily
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.random((m, LAYERS[0]), dtype=np.float32), rng.integers(LAYERS[-1], size=m)


def _epoch_torch(m: int, batch: int, lr: float) -> Callable[[], None]:
    from bench import torch_side

    X, y = _rows(m)
    contestant = torch_side.fit_epochs("torch", LAYERS, X, y, dtype="float32",
                                       batch_size=batch, optimizer="sgd", learning_rate=lr)
    return lambda: contestant.run(1)


def _epoch_sklearn(m: int, batch: int, lr: float) -> Callable[[], None]:
    from bench import sklearn_side

    X, y = _rows(m)
    contestant = sklearn_side.fit_epochs("sklearn", LAYERS[1:-1], X, y, batch_size=batch,
                                         optimizer="sgd", learning_rate=lr)
    return lambda: contestant.run(1)


def _pool_threads() -> dict[str, int] | None:
    """``{library file: threads}`` of the thread pools loaded now (None without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return {Path(p["filepath"]).name: p["num_threads"] for p in threadpool_info()}


EPOCHS = {"npdeep": _epoch_npdeep, "torch": _epoch_torch, "sklearn": _epoch_sklearn}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure one epoch of ``--framework``; print and return the JSON record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=sorted(EPOCHS), required=True)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)

    import numpy  # noqa: F401 - count numpy in every framework's import baseline

    if args.framework == "torch":
        import torch

        torch.set_num_threads(args.threads or len(os.sched_getaffinity(0)))
    elif args.framework == "npdeep":
        import npdeep  # noqa: F401
    else:
        import sklearn.neural_network  # noqa: F401
    if args.threads:  # every framework's BLAS/OpenMP pools, not only PyTorch's intra-op one
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    rss_import = _rss()
    epoch = EPOCHS[args.framework](args.samples, args.batch_size, args.learning_rate)
    rss_before = _rss()
    start = time.perf_counter()
    with PeakSampler() as sampler:
        epoch()
    seconds = time.perf_counter() - start
    record: dict[str, Any] = {
        "framework": args.framework,
        "samples": args.samples,
        "batch_size": args.batch_size,
        "rss_after_imports_mb": rss_import / MB,
        "rss_before_epoch_mb": rss_before / MB,
        "peak_rss_mb": sampler.peak / MB,
        "epoch_growth_mb": (sampler.peak - rss_before) / MB,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "epoch_seconds": seconds,
        "tracemalloc_peak_mb": None,
        "threadpools": None,
    }
    if args.framework != "torch":  # torch allocates outside Python's allocator: not visible
        tracemalloc.start()
        epoch()
        record["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
    record["threadpools"] = _pool_threads()
    print(json.dumps(record))
    return record


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
