"""Synchronous data-parallel training of one :class:`npdeep.Network` on a Dask cluster.

The driver splits the samples into one contiguous shard per worker and scatters each shard
once. Every step, for the global batch the single-process loop would draw (same generator calls
as :func:`npdeep.training.fit`), each worker computes the gradient *sums* of the batch's samples
that live in its shard (:func:`~npdeep.distributed.gradients.shard_loss_and_gradients`); the
driver adds them, divides by the global ``m``, adds the L2 term and steps the npdeep optimizer on
the flat parameter buffer. The result equals single-process training to float rounding.

Faults: Dask schedules, transports and re-runs tasks; the driver keeps the data, so when a
worker dies with its shard, the driver re-scatters the shards to the workers left and re-runs
the step (``max_retries``). A step is applied only once every shard has answered, so a failure
never leaves a half-applied update: if the retries run out, :class:`npdeep.TrainingError` is
raised and the network holds the weights of the last completed step.
"""

from __future__ import annotations

from collections.abc import Callable

from distributed import Client

from .._validation import check_positive_int
from ..network import Network

# the trainer, its result and their helpers live in data_parallel_trainer.py; every name this
# module held before they moved out stays importable from here
from .data_parallel_trainer import (  # noqa: F401
    _TRANSIENT,
    DataParallelResult,
    DataParallelTrainer,
    _batches,
    _run,
)

__all__ = ["data_parallel_fit", "DataParallelTrainer", "DataParallelResult"]


def data_parallel_fit(
    net: Network,
    X,
    Y,
    client: Client,
    *,
    epochs: int = 10,
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
) -> DataParallelResult:
    """Train ``net`` in place, each step's gradient computed in parallel by the workers.

    With ``local_steps=1`` (default) this is synchronous data parallelism: every global batch is
    the one single-process training draws (a fresh permutation of the samples each epoch from
    ``seed``, cut in ``batch_size`` slices), and the update is the same to float rounding. With
    ``local_steps=k > 1`` every worker runs ``k`` plain gradient-descent steps on its part of
    ``k`` consecutive global batches, and the driver averages the parameters (weighted by the
    samples each worker saw): ``k`` times fewer round trips, a different (local SGD) trajectory.

    Parameters
    ----------
    net : Network
        Trained in place; without dropout (its random masks would differ from one process's).
    X : (n_x, N) array (dense: a scipy.sparse X is refused)
        Kept by the driver (to re-scatter a lost shard); each worker holds its (n_x, N_k) shard.
    Y : (n_L, N) array, or labels (N,) for a softmax output.
    client : distributed.Client
    epochs, learning_rate, batch_size, shuffle, seed
        As in :func:`npdeep.training.fit` (``batch_size=None``: full batch).
    optimizer : str, dict or Optimizer
        An npdeep optimizer, stepped on the driver. ``local_steps > 1`` needs ``"sgd"``.
    local_steps : int
        Global batches per averaging.
    n_shards : int, optional
        Shards of the data, at most the number of samples; default: one per worker (one per
        sample when the workers outnumber the samples).
    max_retries : int
        Times one step is re-run after a worker loss before giving up.
    step_timeout : float or None
        Seconds one step may take before it counts as failed.
    on_step : callable, optional
        ``on_step(step, cost)`` after each applied update (``step`` counts from 1).
    sample_weight : (N,) array, optional
        Weights >= 0 of the samples, as in :func:`npdeep.training.fit`: each batch's cost is
        ``sum_i c_i loss_i`` with ``c_i = w_i N / (m sum(w))``.
    schedule : str, dict or Schedule, optional
        The learning rate of each epoch, as in :func:`npdeep.training.fit`; ``'plateau'``
        watches the epoch's ``cost`` (there is no validation data here). A cosine without a
        period decays over ``epochs`` (with :class:`DataParallelTrainer`: over the epochs of
        the first :meth:`~DataParallelTrainer.run`). With ``local_steps > 1`` the workers
        take the epoch's rate.
    clip_norm : float > 0, optional
        Rescale each step's averaged gradient (L2 term included) to this norm when it is
        longer, as ``fit`` does; needs ``local_steps=1``.

    Returns
    -------
    DataParallelResult
        Also left in ``net.history`` as a :class:`~npdeep.callbacks.History` (``cost``,
        ``learning_rate`` and ``time`` per epoch), replacing an earlier fit's, as ``fit`` does
        (see :meth:`DataParallelTrainer.run`).

    Raises
    ------
    TrainingError
        When a step still fails after ``max_retries`` retries; ``net`` keeps the weights of the
        last completed step.

    Examples
    --------
    Needs a cluster, so not run as a doctest::

        import numpy as np, npdeep
        from npdeep.distributed import local_cluster, data_parallel_fit
        X = np.random.default_rng(0).random((4, 512)); Y = (X.sum(0, keepdims=True) > 2) * 1.0
        net = npdeep.Network([4, 8, 1], seed=0)
        with local_cluster(n_workers=2) as client:
            result = data_parallel_fit(net, X, Y, client, epochs=5, batch_size=128, seed=0)
    """
    epochs = check_positive_int(epochs, "epochs")
    trainer = DataParallelTrainer(
        net, X, Y, client, learning_rate=learning_rate, batch_size=batch_size,
        optimizer=optimizer, shuffle=shuffle, seed=seed, local_steps=local_steps,
        n_shards=n_shards, max_retries=max_retries, step_timeout=step_timeout, on_step=on_step,
        sample_weight=sample_weight, schedule=schedule, clip_norm=clip_norm)
    with trainer:
        return trainer.run(epochs)
