"""Timing machinery: contestants, interleaved rounds, robust statistics, machine facts.

A *contestant* is one framework's way of doing one unit of work (an epoch, a step, a batch of
predictions). The harness runs every contestant of a configuration in interleaved rounds
(A, B, C, B, C, A, ...: the order rotates each round so no one always runs first after a pause),
and reports the median rate with its spread. Rates are work per second: samples/s, steps/s,
predictions/s.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Contestant:
    """One framework's unit of work inside a configuration.

    Parameters
    ----------
    name : str
        Column name in the report (``"npdeep"``, ``"torch"``, ``"sklearn"``, ``"article"``, ...).
    run : callable
        ``run(count) -> work``: repeat the unit ``count`` times and return the amount of work
        done (samples, steps or predictions). The harness divides it by the elapsed time.
    calibrate : bool
        If true, the harness picks ``count`` so that one measurement lasts about
        ``min_time`` seconds (tiny units: a step of a small network, one prediction). If false,
        ``count`` is always 1 (one epoch is already long enough).
    """

    name: str
    run: Callable[[int], float]
    calibrate: bool = False
    count: int = 1


@dataclass
class Stats:
    """Median and spread of one contestant's rates over the rounds."""

    median: float
    min: float
    max: float
    q1: float
    q3: float
    rounds: int
    count: int
    values: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, values: list[float], count: int) -> Stats:
        ordered = sorted(values)
        if len(ordered) >= 4:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1, q3 = ordered[0], ordered[-1]
        return cls(
            median=statistics.median(ordered), min=ordered[0], max=ordered[-1],
            q1=q1, q3=q3, rounds=len(ordered), count=count, values=list(values),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "median": self.median, "min": self.min, "max": self.max, "q1": self.q1,
            "q3": self.q3, "rounds": self.rounds, "count_per_round": self.count,
            "values": self.values,
        }


def _timed(contestant: Contestant, count: int, cooldown: float) -> float:
    """Run ``contestant`` once with ``count`` repetitions; return its rate (work per second).

    Sleeps ``cooldown`` seconds first: thread pools spin for a while after their last job
    (OpenBLAS about 0.1 s, OpenMP a few ms) and would steal the cores from the next framework,
    whose pool is another one. Measured here: PyTorch right after a NumPy GEMM run at 10-50% of
    its speed without the pause.
    """
    gc.collect()
    if cooldown > 0:
        time.sleep(cooldown)
    start = time.perf_counter()
    work = contestant.run(count)
    elapsed = time.perf_counter() - start
    return work / max(elapsed, 1e-9)


def _elapsed(contestant: Contestant, count: int) -> float:
    """Seconds one ``contestant.run(count)`` takes."""
    start = time.perf_counter()
    contestant.run(count)
    return time.perf_counter() - start


def _calibrate(contestant: Contestant, min_time: float) -> int:
    """Return the repetition count that makes one measurement last about ``min_time`` s.

    Every count is timed twice and the second timing decides: a first call can carry a
    one-off cost (lazy set-up, a cold cache) that a warm-up did not absorb, and would stop
    the search at a count far too small (the first ``Network.fit`` of a process took
    46-69 ms, which made a step of 0.2 ms look long enough at count 1).
    """
    count = 1
    while True:
        _elapsed(contestant, count)
        elapsed = _elapsed(contestant, count)
        if elapsed >= min_time / 4 or count >= 1 << 24:
            return max(1, math.ceil(count * min_time / max(elapsed, 1e-9)))
        count *= 4


def _prepare(contestant: Contestant, min_time: float) -> None:
    """Warm ``contestant`` up with one untimed call, then set its repetition count."""
    contestant.run(1)  # warm-up first: its one-off costs must not reach the calibration
    contestant.count = _calibrate(contestant, min_time) if contestant.calibrate else 1


def interleaved(
    contestants: list[Contestant], rounds: int, min_time: float, cooldown: float = 0.25
) -> tuple[dict[str, Stats], dict[str, str]]:
    """Measure every contestant ``rounds`` times in rotating interleaved order.

    One untimed warm-up run of each contestant comes first (workspaces, caches, page faults
    of freshly allocated buffers, lazy set-up), before its calibration. Every timed run
    starts after ``cooldown`` seconds of sleep (see :func:`_timed`). A contestant that raises
    during warm-up or calibration is dropped and its error reported, so one broken framework
    never stops the suite.

    Returns
    -------
    stats : dict
        ``{name: Stats}`` with rates in work per second.
    failed : dict
        ``{name: error message}`` for the contestants that were dropped.
    """
    failed: dict[str, str] = {}
    alive: list[Contestant] = []
    for c in contestants:
        try:
            _prepare(c, min_time)
        except Exception as exc:  # noqa: BLE001 - report, never stop the suite
            failed[c.name] = f"{type(exc).__name__}: {exc}"
            continue
        alive.append(c)
    contestants = alive
    if not contestants:
        return {}, failed
    rates: dict[str, list[float]] = {c.name: [] for c in contestants}
    for r in range(rounds):
        shift = r % len(contestants)
        for c in contestants[shift:] + contestants[:shift]:
            rates[c.name].append(_timed(c, c.count, cooldown))
    return {c.name: Stats.of(rates[c.name], c.count) for c in contestants}, failed


def thread_report() -> dict[str, Any]:
    """Thread pools as threadpoolctl and torch see them, plus the CPUs this process may use."""
    report: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }
    try:
        from threadpoolctl import threadpool_info

        report["threadpools"] = [
            {
                "user_api": p.get("user_api"), "internal_api": p.get("internal_api"),
                "num_threads": p.get("num_threads"), "library": Path(p.get("filepath", "")).name,
                "version": p.get("version"), "architecture": p.get("architecture"),
            }
            for p in threadpool_info()
        ]
    except ImportError:
        report["threadpools"] = "threadpoolctl not installed"
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        report["torch_num_threads"] = torch.get_num_threads()
        report["torch_num_interop_threads"] = torch.get_num_interop_threads()
    return report


def numpy_blas_threads() -> int | None:
    """Threads of numpy's own BLAS pool (the pool npdeep's hot path uses), if known."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for p in threadpool_info():
        if p.get("user_api") == "blas" and "numpy" in p.get("filepath", ""):
            return p.get("num_threads")
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
            text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_report() -> dict[str, Any]:
    """Versions, CPU, git commit and the BLAS-related environment of this process."""
    import numpy
    import scipy

    versions: dict[str, str | None] = {
        "python": platform.python_version(), "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    }
    for name in ("sklearn", "torch", "npdeep"):
        module = sys.modules.get(name)
        versions[name] = getattr(module, "__version__", None) if module else None
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "git_commit": _git_commit(),
        "versions": versions,
        "blas_env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_",
                                                                          "MKL_"))},
    }
