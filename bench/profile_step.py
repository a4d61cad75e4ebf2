"""Where does an npdeep training epoch spend its time? Manual timers around the hot path.

Usage::

    python bench/profile_step.py [--batch-size 128] [--optimizer sgd] [--samples 30000]
                                 [--layout rows|C] [--cprofile]

Wraps, for one epoch of ``fit`` on 784-512-256-10 (relu, softmax, float32), whichever of these
exist in the installed npdeep: the mini-batch gather (``batches.BatchSource.batches``),
``forward``, ``backward``, the loss's ``cost``, the optimizer's ``step``, every activation's
``forward``/``backward``, and the ``np.matmul`` / ``np.dot`` calls made from the engine and the
training loop (through a proxy of the ``np`` name those modules use). Nothing in npdeep's files
changes; the wrappers cost well under a microsecond per call. The GEMM-only time of the same
steps (``bench.numpy_side.gemm_ceiling_numpy``) is measured alongside for comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

TIMES: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[name] += time.perf_counter() - start
            CALLS[name] += 1

    return wrapper


def _timed_generator(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = fn(*args, **kwargs)
        while True:
            start = time.perf_counter()
            try:
                item = next(gen)
            except StopIteration:
                return
            finally:
                TIMES[name] += time.perf_counter() - start
                CALLS[name] += 1
            yield item

    return wrapper


class _NumpyProxy:
    """Stands in for ``np`` inside one npdeep module: times ``matmul`` and ``dot`` calls."""

    def __init__(self, np_module: Any, prefix: str) -> None:
        self._np = np_module
        self.matmul = _timed(f"{prefix}: np.matmul", np_module.matmul)
        self.dot = _timed(f"{prefix}: np.dot", np_module.dot)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._np, name)


def _patch(owner: Any, attr: str, name: str, generator: bool = False) -> bool:
    fn = getattr(owner, attr, None)
    if fn is None:
        return False
    setattr(owner, attr, (_timed_generator if generator else _timed)(name, fn))
    return True


def instrument(net: Any) -> list[str]:
    """Wrap npdeep's hot-path functions (those that exist); return what was wrapped."""
    import numpy as np

    import npdeep.engine as engine
    import npdeep.training as training

    try:  # the step's module since the loop was split (older versions: training itself)
        import npdeep.trainer as step_module
    except ImportError:
        step_module = training
    done = []
    for owner, attr, name, gen in (
        (step_module, "forward", "forward", False),
        (step_module, "backward", "backward", False),
        (getattr(training, "BatchSource", None), "batches", "gather batch", True),
        (type(net.loss), "cost", "loss cost", False),
    ):
        if owner is not None and _patch(owner, attr, name, gen):
            done.append(name)
    import npdeep.optimizers as optimizers

    base = getattr(optimizers, "Optimizer", None)
    if base is not None and _patch(base, "step", "optimizer step"):
        done.append("optimizer step")
    for g in {type(a) for a in net.activations if a is not None}:
        for attr in ("forward", "backward"):
            if attr in vars(g) and _patch(g, attr, f"  {g.__name__}.{attr}"):
                done.append(f"{g.__name__}.{attr}")
    engine.np = _NumpyProxy(np, "  engine")
    training.np = step_module.np = _NumpyProxy(np, "training")
    # a Workspace picks its product (np.dot or np.matmul) when it is built: those cached by
    # the untimed epochs hold the unwrapped functions, so drop them and let the next epoch
    # build its workspaces through the proxy (private: a profiling tool may look inside)
    vars(net._local).pop("workspaces", None)
    return done


def main(argv: list[str] | None = None) -> int:
    """Parse the options, profile one epoch; the exit code (2 for a bad option)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizer", default="sgd")
    parser.add_argument("--samples", type=int, default=30_000)
    parser.add_argument("--layout", choices=("rows", "C"), default="rows",
                        help="X as rows.T (F-ordered view, default) or a C-ordered (n_x, m)")
    parser.add_argument("--cprofile", action="store_true", help="also print cProfile's top 20")
    args = parser.parse_args(argv)
    for option in ("samples", "batch_size"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')}: got {getattr(args, option)}, "
                         "expected an integer >= 1")
    from npdeep.errors import NpdeepError

    try:
        _profile(args)
    except NpdeepError as exc:  # a bad --optimizer and the like: npdeep's message, no traceback
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _profile(args: argparse.Namespace) -> None:
    """Time one instrumented epoch and print where its time went."""
    import numpy as np

    import npdeep
    from bench.numpy_side import gemm_ceiling_numpy

    layers = [784, 512, 256, 10]
    rng = np.random.default_rng(0)
    m, batch = args.samples, args.batch_size
    X = rng.random((m, layers[0]), dtype=np.float32).T
    if args.layout == "C":
        X = np.ascontiguousarray(X)
    labels = rng.integers(layers[-1], size=m)
    Y = np.zeros((layers[-1], m), np.float32)
    Y[labels, np.arange(m)] = 1
    net = npdeep.Network(layers, activation="relu", output_activation="softmax",
                         loss="categorical_crossentropy", dtype="float32", seed=0)
    lr = 0.001 if args.optimizer == "adam" else 0.01

    def epoch() -> float:
        start = time.perf_counter()
        net.fit(X, Y, epochs=1, learning_rate=lr, batch_size=batch, optimizer=args.optimizer,
                verbose=0)
        return time.perf_counter() - start

    epoch()
    plain = min(epoch() for _ in range(2))
    gemm = gemm_ceiling_numpy("gemm", layers, batch, m, np.float32, rng)
    gemm.run(1)
    start = time.perf_counter()
    gemm.run(1)
    gemm_s = time.perf_counter() - start

    wrapped = instrument(net)
    TIMES.clear()
    CALLS.clear()
    total = epoch()
    steps = -(-m // batch)
    print(f"npdeep {npdeep.__version__}, 784-512-256-10 float32, batch {batch}, "
          f"{args.optimizer}, {m} samples, X layout {args.layout}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    print(f"epoch {plain * 1e3:.0f} ms uninstrumented ({m / plain:,.0f} samples/s), "
          f"{total * 1e3:.0f} ms instrumented; GEMM-only {gemm_s * 1e3:.0f} ms "
          f"({m / gemm_s:,.0f} samples/s); per step {total / steps * 1e6:.0f} us")
    print(f"{'phase':34s} {'ms':>8s} {'%':>6s} {'us/step':>9s} {'calls':>7s}")
    top = ("gather batch", "forward", "loss cost", "backward", "optimizer step",
           "training: np.dot", "training: np.matmul")
    for name in sorted(TIMES, key=lambda k: (k not in top, k.startswith(" "), -TIMES[k])):
        t = TIMES[name]
        print(f"{name:34s} {t * 1e3:8.1f} {100 * t / total:6.1f} {t / steps * 1e6:9.1f} "
              f"{CALLS[name]:7d}")
    rest = total - sum(TIMES[k] for k in top)
    print(f"{'rest of fit (outside the above)':34s} {rest * 1e3:8.1f} {100 * rest / total:6.1f}")
    print("wrapped:", ", ".join(wrapped))
    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.enable()
        epoch()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    sys.exit(main())
