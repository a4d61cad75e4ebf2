"""The trainer behind :func:`~npdeep.distributed.data_parallel.data_parallel_fit`.

The shards are scattered once; then each step's gradient sums are gathered, added and applied
on the driver, and re-run on a cluster failure (the algorithm and the fault handling:
:mod:`npdeep.distributed.data_parallel`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from distributed import Client, wait
from distributed.comm.core import CommClosedError
from distributed.scheduler import KilledWorker

from .. import optimizers as _optimizers
from .. import schedules as _schedules
from .._sparse import is_sparse
from .._validation import check_positive_float, check_positive_int, check_seed
from ..errors import ConfigurationError, DataError, TrainingError
from ..history import History
from ..network import Network
from ..trainer import _checked_rate
from ._shards import Shards as _Shards
from .cluster import check_client, scheduler_identity
from .gradients import shard_local_steps, shard_loss_and_gradients, with_registered_modules

__all__ = ["DataParallelTrainer", "DataParallelResult"]

#: Failures of the cluster (not of the computation) after which a step is re-run. On Python
#: 3.10 the timeouts of asyncio and concurrent.futures are not yet the built-in TimeoutError.
_TRANSIENT = (KilledWorker, concurrent.futures.CancelledError, asyncio.CancelledError,
              CommClosedError, TimeoutError, asyncio.TimeoutError,
              concurrent.futures.TimeoutError, OSError)


@dataclass
class DataParallelResult:
    """What :func:`data_parallel_fit` did.

    Attributes
    ----------
    cost : list of float
        One cost per epoch: the mean of its batch costs, each before its update (as ``fit``).
    learning_rate : list of float
        The rate each epoch used (the schedule's, as ``fit``'s history logs it).
    steps : int
        Updates applied (averagings of gradients, or of parameters with local steps).
    retries : int
        Steps re-run after a cluster failure.
    shards : list of (int, int)
        Column range ``[start, stop)`` of ``X`` in each shard.
    errors : list of str
        The failures that caused the retries.
    """

    cost: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    steps: int = 0
    retries: int = 0
    shards: list[tuple[int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _batches(N: int, batch_size: int | None, rng, shuffle: bool):
    """Yield the global batches of one epoch exactly as :func:`npdeep.training.fit` draws them."""
    if batch_size is None or batch_size >= N:
        yield None
        return
    order = rng.permutation(N) if shuffle else np.arange(N)
    for start in range(0, N, batch_size):
        yield order[start : start + batch_size]


def _run(client: Client, futures: list, timeout: float | None) -> list:
    wait(futures, timeout=timeout)
    return client.gather(futures)


class DataParallelTrainer:
    """Data-parallel training of one network: the shards stay scattered between runs.

    Build it once (it validates, splits ``X`` into one shard per worker and scatters them), then
    call :meth:`run` for as many epochs as wanted; :meth:`close` releases the shards. Also a
    context manager. The parameters are those of :func:`data_parallel_fit`.
    """

    def __init__(
        self,
        net: Network,
        X,
        Y,
        client: Client,
        *,
        learning_rate: float = 0.01,
        batch_size: int | None = None,
        optimizer="sgd",
        shuffle: bool = True,
        seed=None,
        local_steps: int = 1,
        n_shards: int | None = None,
        max_retries: int = 3,
        step_timeout: float | None = 120.0,
        on_step: Callable[[int, float], None] | None = None,
        sample_weight=None,
        schedule=None,
        clip_norm: float | None = None,
    ):
        if not isinstance(net, Network):
            raise ConfigurationError(f"net must be an npdeep.Network, got {type(net).__name__}")
        if is_sparse(X):
            raise DataError(
                f"data-parallel training takes a dense X, got a sparse {X.format} matrix of "
                f"shape {X.shape}; train on it with Network.fit (which takes sparse X), or "
                "pass X.toarray() when it fits in memory"
            )
        check_client(client, "data_parallel_fit", default=False)
        if any(net.dropout):
            raise ConfigurationError(
                f"data-parallel training does not support dropout (net has dropout="
                f"{net.dropout}); build the network with dropout=0"
            )
        self.learning_rate = check_positive_float(learning_rate, "learning_rate")
        self.batch_size = None if batch_size is None else check_positive_int(batch_size,
                                                                             "batch_size")
        self.local_steps = check_positive_int(local_steps, "local_steps")
        self.clip_norm = None if clip_norm is None else check_positive_float(clip_norm,
                                                                             "clip_norm")
        if self.clip_norm is not None and self.local_steps > 1:
            raise ConfigurationError(
                f"clip_norm clips the averaged gradient of each step, which local_steps="
                f"{self.local_steps} never forms (the workers step on their own); use "
                "local_steps=1 with clip_norm")
        self.schedule = _schedules.get(schedule)
        min_lr = getattr(self.schedule, "min_lr", 0.0)
        if min_lr > self.learning_rate:
            raise ConfigurationError(
                f"schedule {self.schedule.name!r}: min_lr={min_lr:g} is above learning_rate="
                f"{self.learning_rate:g}; give min_lr <= learning_rate")
        self.schedule.reset()  # a plateau schedule's reductions belong to the run that made them
        self.rate = self.learning_rate  # the current epoch's, from the schedule
        self.max_retries = check_positive_int(max_retries, "max_retries", minimum=0)
        if step_timeout is not None:  # Dask would fail on -1 with "could not convert '1-1'"
            step_timeout = check_positive_float(step_timeout, "step_timeout")
        if not isinstance(shuffle, (bool, np.bool_)):  # "no" would read as True
            raise ConfigurationError(f"shuffle must be True or False, got {shuffle!r}")
        check_seed(seed, "seed", generator_ok=True)
        if on_step is not None and not callable(on_step):
            raise ConfigurationError(
                f"on_step must be a function on_step(step, cost) or None, got {on_step!r}")
        workers = scheduler_identity(client)["workers"]
        if not workers:
            raise ConfigurationError("the Dask cluster has no workers; start some or wait for them")
        if n_shards is not None:
            n_shards = check_positive_int(n_shards, "n_shards")
        self.optimizer = _optimizers.get(optimizer)
        if self.local_steps > 1 and self.optimizer.name != "sgd":
            raise ConfigurationError(
                f"local_steps={self.local_steps} runs plain gradient descent on the workers and "
                f"needs optimizer='sgd', got {self.optimizer.name!r}; use local_steps=1 with "
                "other optimizers"
            )
        self.optimizer.setup(net.layout)
        X = net.check_X(X)
        self.N = X.shape[1]
        Y = net.check_Y(Y, self.N)
        weights = None
        if sample_weight is not None:  # u_i = N w_i / sum(w): fit's coefficients times m
            weights = net.sample_coef(self.N, sample_weight)[0] * self.N
        if n_shards is None:  # one per worker, but no empty shard when workers outnumber samples
            n_shards = min(len(workers), self.N)
        elif n_shards > self.N:
            raise ConfigurationError(f"n_shards={n_shards} exceeds the {self.N} samples")
        self.net, self.client = net, client
        self.shuffle, self.step_timeout, self.on_step = shuffle, step_timeout, on_step
        self.rng = net.rng if seed is None else np.random.default_rng(seed)
        config = net.get_config()
        try:  # what every worker does with it: a custom Activation object is not rebuilt
            Network.from_config(dict(config, seed=0))
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"data-parallel training rebuilds the network on every worker from "
                f"net.get_config(), which fails: {exc}; custom Activation or Loss objects do "
                "not travel to the workers: register their class (npdeep.register) in a "
                "module the workers can import and name it, use the built-in ones, or train "
                "with Network.fit"
            ) from exc
        # a registered class's module travels with the config; the workers import it
        self.config = with_registered_modules(config)
        self.shards = _Shards(client, X, Y, n_shards, weights)
        bounds = self.shards.bounds
        self.result = DataParallelResult(
            shards=[(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
        self.epoch = 0
        self.closed = False
        # what net.fit leaves in net.history, for npdeep inspect, plot and diagnostics: one
        # entry per epoch of this trainer's runs (numbered from 0, as a fit's), set after each
        # run; it replaces the history of an earlier fit, as a new fit's does
        self.history = History()
        self.history.optimizer_name = self.optimizer.name
        self.history.initial_learning_rate = self.learning_rate

    # ------------------------------------------------------------------------------ steps
    def _attempt(self, batches: list) -> tuple[float, int]:
        """Run one update over ``batches`` (global index arrays, or None for all); apply it.

        Returns ``(sum over the batches of m_b * J_b, samples seen)``.
        """
        net, shards = self.net, self.shards
        theta = net.parameters.flat.copy()
        if self.local_steps == 1:
            parts = shards.split(batches[0])
            futures = [shards.submit(k, shard_loss_and_gradients, self.config, theta, cols)
                       for k, cols in enumerate(parts) if cols is None or len(cols)]
            answers = _run(self.client, futures, self.step_timeout)
            m = sum(a[2] for a in answers)
            grad = net.grad_flat
            np.copyto(grad, answers[0][1])
            for _, g, _ in answers[1:]:
                grad += g
            grad /= m
            cost = sum(a[0] for a in answers) / m + net.l2_cost(m)
            net.add_l2_gradient(m)
            norm = math.sqrt(float(np.dot(grad, grad)))
            if not math.isfinite(norm):
                raise TrainingError(self._stopped(
                    "the gradients became NaN or inf, so that update was not applied; try a "
                    f"smaller learning_rate (got {self.rate}) or standardized inputs"))
            if self.clip_norm is not None and norm > self.clip_norm:  # as fit clips
                grad *= self.clip_norm / norm
            self.optimizer.step(net.parameters.flat, grad, self.rate)
            if not np.isfinite(net.parameters.flat).all():  # lr * g overflowed
                np.copyto(net.parameters.flat, theta)
                raise TrainingError(self._stopped(
                    "the update made the parameters NaN or inf, so it was undone; try a "
                    f"smaller learning_rate (got {self.rate})"))
            return cost * m, m
        per_shard = list(zip(*(shards.split(b) for b in batches), strict=True))
        futures = [shards.submit(k, shard_local_steps, self.config, theta,
                                 [c for c in cols if c is None or len(c)], self.rate)
                   for k, cols in enumerate(per_shard)]
        answers = [a for a in _run(self.client, futures, self.step_timeout) if a[2] > 0]
        m = sum(a[2] for a in answers)
        theta = sum(a[2] * a[0] for a in answers) / m
        if not np.all(np.isfinite(theta)):
            raise TrainingError(self._stopped(
                "the averaged parameters became NaN or inf, so they were not applied; try a "
                f"smaller learning_rate (got {self.rate}) or standardized inputs"))
        np.copyto(net.parameters.flat, theta)
        return sum(a[1] for a in answers), m

    def _stopped(self, what: str) -> str:
        return (f"data-parallel training stopped in epoch {self.epoch + 1}, step "
                f"{self.result.steps + 1}: {what}; the network keeps the weights of the last "
                f"completed step ({self.result.steps} steps applied)")

    def _step(self, batches: list) -> float:
        """Run :meth:`_attempt` with retries; count the step; return its cost * m."""
        result = self.result
        for tries in range(self.max_retries + 1):
            try:
                cost_m, m = self._attempt(batches)
            except _TRANSIENT as exc:
                message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
                result.errors.append(message)
                if tries == self.max_retries:
                    raise TrainingError(self._stopped(
                        f"{tries + 1} attempt(s) failed, last with {message}")) from exc
                result.retries += 1
                try:
                    self.client.wait_for_workers(1, timeout=self.step_timeout)
                    self.shards.scatter()
                except _TRANSIENT as lost:
                    raise TrainingError(self._stopped(
                        f"no worker could take the shards back after {message} "
                        f"({type(lost).__name__}: {lost})")) from lost
                continue
            result.steps += 1
            if self.on_step is not None:
                self.on_step(result.steps, cost_m / m)
            return cost_m
        raise AssertionError("unreachable")  # pragma: no cover

    def run(self, epochs: int = 1) -> DataParallelResult:
        """Train for ``epochs`` more epochs; return the accumulated :class:`DataParallelResult`.

        Afterwards (also when it raises) ``net.history`` is a :class:`~npdeep.callbacks.History`
        of every epoch this trainer ran, numbered on across runs from 0: ``cost``,
        ``learning_rate`` and ``time`` per epoch, as ``net.fit`` logs them (no accuracy: that
        would take another pass over the data), with ``stop_reason`` when a run failed. It
        replaces the history of an earlier ``fit``, as a new ``fit`` does, so ``net.save``,
        ``npdeep inspect`` and ``npdeep plot`` show this training.
        """
        epochs = check_positive_int(epochs, "epochs")
        if self.closed:
            raise ConfigurationError(
                "this DataParallelTrainer is closed: its shards were released from the workers; "
                "call run() inside its `with` block, or build a new trainer")
        check_client(self.client, "DataParallelTrainer.run", default=False)
        if self.epoch == 0 and hasattr(self.schedule, "set_epochs"):
            self.schedule.set_epochs(epochs)  # a cosine without a period: the first run's
        self.history.stop_reason = None
        try:
            self._run_epochs(epochs)
        except BaseException as exc:  # as fit: the epochs run so far, and why it stopped
            self.history.stop_reason = (f"error ({type(exc).__name__}) during epoch "
                                        f"{self.epoch + 1}")
            raise
        finally:
            self.net.history = self.history
        return self.result

    def _run_epochs(self, epochs: int) -> None:
        for _ in range(epochs):
            start = time.perf_counter()
            self.rate = _checked_rate(self.schedule.learning_rate(self.epoch, self.learning_rate),
                                      "learning_rate")
            total = 0.0
            pending: list = []
            for idx in _batches(self.N, self.batch_size, self.rng, self.shuffle):
                pending.append(idx)
                if len(pending) == self.local_steps:
                    total += self._step(pending)
                    pending = []
            if pending:
                total += self._step(pending)
            cost = total / self.N
            if not math.isfinite(cost):
                raise TrainingError(
                    f"the cost became {cost} in epoch {self.epoch + 1}; lower learning_rate "
                    f"(got {self.rate})"
                )
            self.result.cost.append(cost)
            self.result.learning_rate.append(self.rate)
            self.schedule.update(self.epoch, {"cost": cost, "learning_rate": self.rate})
            self.schedule.settle()  # no callbacks here to add a name a plateau waits for
            self.history.on_epoch_end(self.epoch, {
                "cost": cost, "learning_rate": self.rate,
                "time": time.perf_counter() - start})
            self.epoch += 1

    def close(self) -> None:
        """Release the scattered shards on the workers; :meth:`run` then refuses to run."""
        self.shards.futures = []
        self.closed = True

    def __enter__(self) -> DataParallelTrainer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
