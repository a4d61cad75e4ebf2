"""The benchmark cases of issue 6, one function per case, and their registry ``CASES``.

Each case function takes a :class:`Context` and returns a dict::

    {"title": str, "unit": str, "higher_is_better": bool,
     "configs": [{"id": str, "params": {...},
                  "results": {contestant: Stats.as_dict() or a memory record},
                  "skipped": {contestant: reason},
                  "ratios": {"npdeep/torch": [numerator, denominator], ...},
                  "targets": {"npdeep/torch": 1.5, ...}}]}

``ratios`` names the pairs to compare; :mod:`bench.report` computes them from the medians and
checks ``targets`` (minimum ratios; for memory, where lower is better, maximum ratios).
To add a case: write ``def case_x(ctx) -> dict`` and register it in ``CASES``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench import numpy_side, sklearn_side, torch_side
from bench.harness import Contestant, Stats, interleaved

MLP = [784, 512, 256, 10]
ARTICLE_UNITS = [3, 4, 4, 4, 4, 3, 1]

#: Problem sizes per mode. ``full`` fits in a few minutes on 2 cores.
SIZES: dict[str, dict[str, Any]] = {
    "full": {"rounds": 5, "min_time": 0.3, "cooldown": 2.0, "a_samples": 60_000,
             "c_deep_samples": 20_000, "c_wide_samples": 6_000, "e_samples": 60_000},
    "quick": {"rounds": 3, "min_time": 0.1, "cooldown": 0.25, "a_samples": 8_000,
              "c_deep_samples": 4_000, "c_wide_samples": 1_500, "e_samples": 10_000},
    "tiny": {"rounds": 2, "min_time": 0.01, "cooldown": 0.0, "a_samples": 512,
             "c_deep_samples": 512, "c_wide_samples": 256, "e_samples": 512},
}


@dataclass
class Context:
    """What every case needs: sizes, timing settings and which frameworks are out (and why)."""

    mode: str
    rounds: int
    min_time: float
    skip: dict[str, str] = field(default_factory=dict)
    threads: int | None = None
    seed: int = 0
    cooldown: float | None = None  # seconds of sleep before each timed run; None: the mode's

    @property
    def sizes(self) -> dict[str, Any]:
        return SIZES[self.mode]

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)


def _config(ctx: Context, config_id: str, params: dict[str, Any],
            builders: dict[str, Callable[[], Contestant]], ratios: dict[str, list[str]],
            targets: dict[str, float] | None = None) -> dict[str, Any]:
    """Build the contestants that are not skipped, measure them interleaved, pack the record."""
    skipped: dict[str, str] = {}
    contestants: list[Contestant] = []
    for name, build in builders.items():
        framework = name.split("_")[0]
        if framework in ctx.skip:
            skipped[name] = ctx.skip[framework]
            continue
        try:
            contestants.append(build())
        except Exception as exc:  # noqa: BLE001 - report, never stop the suite
            skipped[name] = f"setup failed: {type(exc).__name__}: {exc}"
    stats, failed = interleaved(contestants, ctx.rounds, ctx.min_time,
                                ctx.sizes["cooldown"] if ctx.cooldown is None else ctx.cooldown)
    skipped.update(failed)
    print(f"  {config_id}: " + ", ".join(f"{k} {v.median:,.0f}" for k, v in stats.items()),
          file=sys.stderr, flush=True)
    return {"id": config_id, "params": params,
            "results": {k: v.as_dict() for k, v in stats.items()},
            "skipped": skipped, "ratios": ratios, "targets": targets or {}}


def _classification_data(rng: np.random.Generator, n_x: int, n_classes: int, m: int,
                          dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random data for both layouts: ``X: (n_x, m)``, one-hot ``Y: (n_L, m)``, rows, labels.

    The samples are stored once, as rows ``X_rows: (m, n_x)`` (how data sets arrive), and
    npdeep gets ``X = X_rows.T``, the call a user with such data writes (``fit(data.T, ...)``).
    """
    X_rows = rng.random((m, n_x), dtype=np.float32).astype(dtype, copy=False)
    labels = rng.integers(n_classes, size=m)
    Y = np.zeros((n_classes, m), dtype)
    Y[labels, np.arange(m)] = 1
    return X_rows.T, Y, X_rows, labels


def _training_builders(ctx: Context, layers: list[int], X: np.ndarray, Y: np.ndarray,
                       X_rows: np.ndarray, labels: np.ndarray, batch: int, optimizer: str,
                       lr: float, with_sklearn: bool) -> dict[str, Callable[[], Contestant]]:
    builders: dict[str, Callable[[], Contestant]] = {
        "npdeep": lambda: numpy_side.npdeep_fit(
            "npdeep", numpy_side.npdeep_network(
                layers, activation="relu", output_activation="softmax",
                loss="categorical_crossentropy", dtype="float32", seed=ctx.seed),
            X, Y, batch_size=batch, optimizer=optimizer, learning_rate=lr),
        "torch": lambda: torch_side.fit_epochs(
            "torch", layers, X_rows, labels, dtype="float32", batch_size=batch,
            optimizer=optimizer, learning_rate=lr),
    }
    if with_sklearn:
        builders["sklearn"] = lambda: sklearn_side.fit_epochs(
            "sklearn", layers[1:-1], X_rows, labels, batch_size=batch, optimizer=optimizer,
            learning_rate=lr)
    return builders


def case_a(ctx: Context) -> dict[str, Any]:
    """784-512-256-10 training epochs, batch 128 and 1024, SGD and Adam, plus the GEMM ceiling."""
    m = ctx.sizes["a_samples"]
    X, Y, X_rows, labels = _classification_data(ctx.rng(), MLP[0], MLP[-1], m, np.float32)
    configs = []
    for batch in (128, 1024):
        for optimizer, lr in (("sgd", 0.01), ("adam", 0.001)):
            builders = _training_builders(ctx, MLP, X, Y, X_rows, labels, batch, optimizer,
                                          lr, with_sklearn=True)
            builders["gemm_numpy"] = lambda b=batch: numpy_side.gemm_ceiling_numpy(
                "gemm_numpy", MLP, b, m, np.float32, ctx.rng())
            builders["gemm_scipy"] = lambda b=batch: numpy_side.gemm_ceiling_scipy(
                "gemm_scipy", MLP, b, m, np.float32, ctx.rng())
            targets = {}
            if batch == 128 and optimizer == "sgd":
                targets = {"npdeep/torch": 1.5, "npdeep/sklearn": 2.0}
                # the same epoch from a C-ordered (n_x, m) array (features-major in memory)
                builders["npdeep_Corder"] = lambda b=batch, o=optimizer, lr=lr: \
                    numpy_side.npdeep_fit(
                        "npdeep_Corder", numpy_side.npdeep_network(
                            MLP, activation="relu", output_activation="softmax",
                            loss="categorical_crossentropy", dtype="float32", seed=ctx.seed),
                        np.ascontiguousarray(X), Y, batch_size=b, optimizer=o, learning_rate=lr)
            if batch == 1024 and optimizer == "sgd":
                targets = {"npdeep/gemm_ceiling": 0.9}
            config = _config(
                ctx, f"b{batch}-{optimizer}",
                {"layers": MLP, "batch_size": batch, "optimizer": optimizer,
                 "learning_rate": lr, "samples": m, "dtype": "float32"},
                builders,
                {"npdeep/torch": ["npdeep", "torch"], "npdeep/sklearn": ["npdeep", "sklearn"],
                 "npdeep/gemm_ceiling": ["npdeep", "gemm_ceiling"],
                 "torch/gemm_ceiling": ["torch", "gemm_ceiling"],
                 "npdeep_Corder/npdeep": ["npdeep_Corder", "npdeep"]},
                targets)
            _add_ceiling(config)
            configs.append(config)
    return {"title": "a. MLP 784-512-256-10 training, one epoch of random data",
            "unit": "samples/s", "higher_is_better": True, "configs": configs}


def _add_ceiling(config: dict[str, Any]) -> None:
    """Add ``gemm_ceiling``: the faster of the two GEMM-only contestants (by median)."""
    gemms = {k: v for k, v in config["results"].items() if k.startswith("gemm_")}
    if gemms:
        best = max(gemms, key=lambda k: gemms[k]["median"])
        config["results"]["gemm_ceiling"] = dict(gemms[best], source=best)


def case_b(ctx: Context) -> dict[str, Any]:
    """The article's [3,4,4,4,4,3,1] sigmoid network, full-batch gradient descent, float64."""
    configs = []
    lr = 0.01
    for m in (2, 256):
        rng = ctx.rng()
        X = rng.random((ARTICLE_UNITS[0], m))
        Y = (rng.random((1, m)) > 0.5).astype(np.float64)
        builders: dict[str, Callable[[], Contestant]] = {
            "npdeep": lambda X=X, Y=Y: numpy_side.npdeep_steps(
                "npdeep", numpy_side.npdeep_network(
                    ARTICLE_UNITS, activation="sigmoid", output_activation="sigmoid",
                    loss="binary_crossentropy", dtype="float64", seed=ctx.seed),
                X, Y, learning_rate=lr),
            "article": lambda X=X, Y=Y: numpy_side.article_loop(
                "article", ARTICLE_UNITS, X, Y, lr, ctx.rng()),
            "torch": lambda X=X, Y=Y: torch_side.full_batch_steps(
                "torch", ARTICLE_UNITS, X.T, Y.T, dtype="float64", learning_rate=lr),
        }
        configs.append(_config(
            ctx, f"m{m}",
            {"units": ARTICLE_UNITS, "m": m, "learning_rate": lr, "dtype": "float64",
             "loss": "binary cross-entropy", "optimizer": "full-batch gradient descent"},
            builders,
            {"npdeep/article": ["npdeep", "article"], "npdeep/torch": ["npdeep", "torch"]},
            {"npdeep/article": 2.0, "npdeep/torch": 8.0}))
    return {"title": "b. The article's network [3,4,4,4,4,3,1], sigmoid, full batch",
            "unit": "steps/s", "higher_is_better": True, "configs": configs}


def case_c(ctx: Context) -> dict[str, Any]:
    """Deep narrow (20 hidden layers of 64) and wide shallow (one of 4096), batch 256, SGD."""
    shapes = {
        "deep-20x64": ([784] + [64] * 20 + [10], ctx.sizes["c_deep_samples"]),
        "wide-1x4096": ([784, 4096, 10], ctx.sizes["c_wide_samples"]),
    }
    configs = []
    for config_id, (layers, m) in shapes.items():
        X, Y, X_rows, labels = _classification_data(ctx.rng(), layers[0], layers[-1], m,
                                                    np.float32)
        builders = _training_builders(ctx, layers, X, Y, X_rows, labels, 256, "sgd", 0.01,
                                      with_sklearn=False)
        configs.append(_config(
            ctx, config_id,
            {"layers": layers, "batch_size": 256, "optimizer": "sgd", "learning_rate": 0.01,
             "samples": m, "dtype": "float32"},
            builders, {"npdeep/torch": ["npdeep", "torch"]}, {"npdeep/torch": 1.2}))
    return {"title": "c. Deep narrow and wide shallow networks, batch 256, SGD",
            "unit": "samples/s", "higher_is_better": True, "configs": configs}


def case_d(ctx: Context) -> dict[str, Any]:
    """Inference throughput of 784-512-256-10 (softmax probabilities) at batch 1 and 4096."""
    configs = []
    for batch, target in ((1, 5.0), (4096, 1.2)):
        rng = ctx.rng()
        X = rng.random((MLP[0], batch), dtype=np.float32)
        X_rows = np.ascontiguousarray(X.T)
        builders: dict[str, Callable[[], Contestant]] = {
            "npdeep": lambda X=X: numpy_side.npdeep_predict(
                "npdeep", numpy_side.npdeep_network(
                    MLP, activation="relu", output_activation="softmax",
                    loss="categorical_crossentropy", dtype="float32", seed=ctx.seed), X),
            "torch": lambda X_rows=X_rows: torch_side.predict(
                "torch", MLP, X_rows, dtype="float32"),
            "sklearn": lambda X_rows=X_rows: sklearn_side.predict(
                "sklearn", MLP[1:-1], X_rows, MLP[-1]),
        }
        configs.append(_config(
            ctx, f"batch{batch}", {"layers": MLP, "batch_size": batch, "dtype": "float32"},
            builders,
            {"npdeep/torch": ["npdeep", "torch"], "npdeep/sklearn": ["npdeep", "sklearn"]},
            {"npdeep/torch": target}))
    return {"title": "d. Inference, 784-512-256-10 softmax probabilities",
            "unit": "predictions/s", "higher_is_better": True, "configs": configs}


def case_e(ctx: Context) -> dict[str, Any]:
    """Peak memory of one SGD epoch of 784-512-256-10, batch 128, one fresh process each."""
    m = ctx.sizes["e_samples"]
    probe = Path(__file__).resolve().parent / "memory_probe.py"
    results: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for framework in ("npdeep", "torch", "sklearn"):
        if framework in ctx.skip:
            skipped[framework] = ctx.skip[framework]
            continue
        cmd = [sys.executable, str(probe), "--framework", framework, "--samples", str(m),
               "--batch-size", "128"]
        if ctx.threads:
            cmd += ["--threads", str(ctx.threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            skipped[framework] = f"probe failed (exit {proc.returncode}): {tail[0]}"
            continue
        record = json.loads(lines[-1])
        record["median"] = record["peak_rss_mb"]  # the headline the ratios compare
        results[framework] = record
    print("  epoch: " + ", ".join(f"{k} {v['peak_rss_mb']:,.0f} MB" for k, v in results.items()),
          file=sys.stderr, flush=True)
    return {"title": "e. Peak resident memory of one training epoch (784-512-256-10, batch 128)",
            "unit": "MB (peak RSS)", "higher_is_better": False,
            "cells": "one measurement per framework, each in a fresh process (no rounds, "
                     "no median, no min-max)",
            "configs": [{"id": "epoch", "params": {"layers": MLP, "samples": m,
                                                    "batch_size": 128, "optimizer": "sgd",
                                                    "dtype": "float32"},
                         "results": results, "skipped": skipped,
                         "ratios": {"npdeep/torch": ["npdeep", "torch"],
                                    "npdeep/sklearn": ["npdeep", "sklearn"]},
                         "targets": {"npdeep/torch": 1.0}}]}


#: The registry: case letter -> function. Add new cases here (for example Dask's "f").
CASES: dict[str, Callable[[Context], dict[str, Any]]] = {
    "a": case_a, "b": case_b, "c": case_c, "d": case_d, "e": case_e,
}

from bench.case_dask import case_f  # noqa: E402 - issue 7's case lives in its own file

CASES["f"] = case_f

__all__ = ["CASES", "Context", "SIZES", "Stats"]
