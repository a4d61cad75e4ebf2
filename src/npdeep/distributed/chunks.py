"""Train a scikit-learn-style estimator with ``partial_fit`` on data split in blocks.

For a Dask array the *model travels to the data*: the blocks are persisted on the workers once,
and each ``partial_fit`` step is a task pinned to the worker that holds its block, taking the
previous step's model as input. Only the model (its parameters and optimizer state, kilobytes to
megabytes) crosses the network; a block never leaves its worker, unless that worker dies, in
which case Dask recomputes the block elsewhere from its recipe. The steps run one after the other
(stochastic gradient descent is sequential); the cluster provides memory, not parallel speed.

Shuffling, every epoch: a fresh order of the blocks and a fresh permutation of the samples
within each block, both drawn from the ``seed`` on the driver (by default the estimator's
int ``random_state``).

A list of in-memory ``(X, y)`` chunks runs the same loop in this process.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from .._sparse import is_sparse
from .._validation import check_positive_float, check_seed
from ..errors import ConfigurationError, DataError
from .cluster import check_client
from .search import check_picklable

__all__ = ["fit_chunks"]


def _partial_fit_block(estimator, X_block, y_block, classes, seed, shuffle: bool, where="",
                       w_block=None):
    """Run ``estimator.partial_fit`` on one block (rows shuffled with ``seed``); return it.

    ``w_block`` (m_k,): the block's sample weights, shuffled with its rows, or None.

    An error keeps its type and message and gains a note (Python 3.11+) naming ``where``, the
    block and epoch, so that "Input X contains NaN" says which block holds the NaN. A sparse
    ``X_block`` stays sparse (as CSR when shuffled: rows are then cheap to permute), a pandas
    DataFrame stays one (the estimator keeps its column names, ``feature_names_in_``).
    """
    if is_sparse(X_block):
        X_block = X_block.tocsr() if shuffle else X_block
    elif not hasattr(X_block, "iloc"):
        X_block = np.asarray(X_block)
    y_block = np.asarray(y_block)
    if X_block.ndim < 1 or y_block.ndim < 1 or X_block.shape[0] != y_block.shape[0]:
        raise DataError(
            f"fit_chunks: {where or 'a block'}: X_block of shape {X_block.shape} and y_block of "
            f"shape {y_block.shape} must have the same number of rows (samples)"
        )
    if w_block is not None:
        w_block = np.asarray(w_block)
        if w_block.shape != (X_block.shape[0],):
            raise DataError(
                f"fit_chunks: {where or 'a block'}: its sample weights have shape "
                f"{w_block.shape}, expected one per row: ({X_block.shape[0]},)"
            )
    try:
        if shuffle:
            perm = np.random.default_rng(seed).permutation(X_block.shape[0])
            X_block = X_block.iloc[perm] if hasattr(X_block, "iloc") else X_block[perm]
            y_block = y_block[perm]
            w_block = None if w_block is None else w_block[perm]
        kwargs = {} if classes is None else {"classes": classes}
        if w_block is not None:
            kwargs["sample_weight"] = w_block
        return estimator.partial_fit(X_block, y_block, **kwargs)
    except Exception as exc:
        if where and hasattr(exc, "add_note"):
            exc.add_note(f"fit_chunks: raised by partial_fit on {where}")
        raise


def _check_accepts(estimator, name: str, why: str) -> None:
    """Refuse, before any work, an argument that ``estimator.partial_fit`` does not take."""
    import inspect

    try:
        params = inspect.signature(estimator.partial_fit).parameters
    except (TypeError, ValueError):  # a builtin or C method: let partial_fit decide
        return
    if name in params or any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    raise ConfigurationError(
        f"{type(estimator).__name__}.partial_fit takes no {name}, but {why}"
    )


def _n_rows(X_block) -> int:
    shape = getattr(X_block, "shape", None)
    return int(shape[0]) if shape else len(X_block)


def _where(i: int, starts, epoch: int) -> str:
    return f"block {i} (rows {starts[i]}:{starts[i + 1]}) in epoch {epoch + 1}"


def _is_dask_array(obj) -> bool:
    return type(obj).__module__.startswith("dask.array") and hasattr(obj, "chunks")


def _dask_blocks(client, X, y, w=None):
    """Persist ``X``, ``y`` (and ``w``) row-aligned; return the block futures and holders.

    Returns ``(xs, ys, ws, holders, sizes)``; ``ws`` is a list of None without ``w``.
    """
    from distributed import futures_of, wait

    if X.ndim != 2:
        raise DataError(f"X must be a 2-D Dask array (m, n_x), got {X.ndim} dimensions")
    if y is None or not _is_dask_array(y):
        raise DataError(
            f"y must be a Dask array with X's row chunks, got {type(y).__name__}"
        )
    if w is not None and not (_is_dask_array(w) and w.ndim == 1):
        raise DataError(
            "sample_weight must be a 1-D Dask array (m,) with a Dask X, got "
            f"{type(w).__name__} of shape {getattr(w, 'shape', None)}"
        )
    arrays = (("X", X), ("y", y)) + ((("sample_weight", w),) if w is not None else ())
    for name, a in arrays:
        if any(map(math.isnan, a.chunks[0])):
            raise DataError(
                f"{name} must have known row-chunk sizes, got {name}.chunks[0]={a.chunks[0]} "
                "(unknown, as after boolean indexing X[mask]); call "
                f"{name} = {name}.compute_chunk_sizes() first (and the same for "
                f"{'y' if name == 'X' else 'X'})"
            )
    for name, a in arrays[1:]:
        if a.shape[0] != X.shape[0]:
            raise DataError(f"X has {X.shape[0]} rows but {name} has {a.shape[0]}")
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    y = y.rechunk({0: X.chunks[0], **({1: -1} if y.ndim == 2 else {})})
    parts = [X, y] if w is None else [X, y, w.rechunk({0: X.chunks[0]})]
    parts = client.persist(parts)
    wait(parts)
    n = len(X.chunks[0])
    blocks = []
    for a in parts:
        found = {f.key: f for f in futures_of(a)}
        blocks.append([found[(a.name, i) if a.ndim == 1 else (a.name, i, 0)] for i in range(n)])
    xs, ys = blocks[0], blocks[1]
    ws = blocks[2] if w is not None else [None] * n
    holders = client.who_has(xs)
    return xs, ys, ws, [sorted(holders[f.key]) for f in xs], [int(r) for r in parts[0].chunks[0]]


def _non_empty(sizes: list[int]) -> tuple[list[int], list[int]]:
    """Return the indices of the blocks with rows, and every block's first row (and the end).

    Raises DataError when every block is empty.
    """
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
    keep = [i for i, n in enumerate(sizes) if n > 0]
    if not keep:
        raise DataError(f"every block of X is empty ({len(sizes)} blocks of 0 rows): "
                        "no samples to train on")
    return keep, starts


def fit_chunks(
    estimator,
    X,
    y=None,
    *,
    epochs: int = 1,
    classes=None,
    seed=None,
    shuffle: bool = True,
    client=None,
    timeout: float | None = None,
    on_epoch: Callable[[int, object], None] | None = None,
    sample_weight=None,
):
    """Train ``estimator`` with ``partial_fit``, block by block, for ``epochs`` passes.

    Parameters
    ----------
    estimator : object with ``partial_fit`` (``DeepClassifier``, ``DeepRegressor``, ...)
        Not modified: a trained copy is returned.
    X : Dask array (m, n_x), or a sequence of ``(X_block, y_block)`` pairs
        Samples as rows. A Dask array is split in row blocks by its chunks. Sample weights
        in a sequence: ``(X_block, y_block, w_block)`` triples.
    y : Dask array (m,) or (m, n_outputs)
        With a Dask ``X``; rechunked to ``X``'s row blocks. Leave None for a sequence.
    epochs : int
        Passes over all the blocks.
    classes : array-like, optional
        Every class label, passed to each ``partial_fit`` (classifiers need it).
    seed : int or numpy.random.Generator, optional
        Source of the block orders and within-block permutations. Default: the estimator's
        ``random_state`` when it is an int (the same model on every call, as its ``fit``
        gives), else fresh entropy.
    shuffle : bool
        Shuffle the block order and the rows within each block every epoch.
    client : distributed.Client, optional
        For a Dask ``X``; default: the current client.
    timeout : float, optional
        Seconds to wait for each epoch before raising ``TimeoutError`` (its tasks are
        cancelled).
    on_epoch : callable, optional
        ``on_epoch(epoch, estimator)`` after each epoch (fetches the model to this process).
    sample_weight : Dask array (m,), optional
        With a Dask ``X``: the weights of its rows, passed block by block to ``partial_fit``.

    Returns
    -------
    The trained estimator.

    Each ``partial_fit`` call is one of the estimator's epochs (``n_iter_``): its learning-rate
    ``schedule`` steps once per block, so size a step or cosine schedule in blocks visited
    (``epochs`` times the number of blocks).

    Blocks of zero rows (after filtering, for example) are skipped. An error raised by
    ``partial_fit`` keeps its type and message and, on Python 3.11+, gains a note naming the
    block and epoch.
    """
    if not hasattr(estimator, "partial_fit"):
        raise ConfigurationError(
            f"estimator must have partial_fit (e.g. DeepClassifier), got {type(estimator).__name__}"
        )
    if getattr(estimator, "early_stopping", False) is True:  # partial_fit would refuse it
        raise ConfigurationError(
            f"{type(estimator).__name__}(early_stopping=True) cannot be trained by fit_chunks, "
            "which calls partial_fit: it holds no rows out; set early_stopping=False and "
            "score held-out data in on_epoch(epoch, estimator) to stop when it stops improving"
        )
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ConfigurationError(f"epochs must be a positive integer, got {epochs!r}")
    epochs = int(epochs)  # np.int64(3) from a parameter grid is an integer too
    check_seed(seed, "seed", generator_ok=True)
    if not isinstance(shuffle, (bool, np.bool_)):  # "no" would read as True
        raise ConfigurationError(f"shuffle must be True or False, got {shuffle!r}")
    if timeout is not None:  # Dask would fail on -1 with "could not convert '1-1'"
        timeout = check_positive_float(timeout, "timeout")
    if on_epoch is not None and not callable(on_epoch):
        raise ConfigurationError(
            f"on_epoch must be a function on_epoch(epoch, estimator) or None, got {on_epoch!r}")
    if seed is None:
        seed = _estimator_seed(estimator)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    classes = None if classes is None else np.asarray(classes)
    if classes is not None:
        _check_accepts(estimator, "classes", "classes= was given (leave it out for a regressor)")

    if not _is_dask_array(X):
        if y is not None or not isinstance(X, Sequence) or not all(
                isinstance(c, (tuple, list)) and len(c) in (2, 3) for c in X) or not X:
            raise DataError(
                "X must be a Dask array (with y a Dask array) or a non-empty sequence of "
                "(X_block, y_block) pairs or (X_block, y_block, w_block) triples with y=None; "
                f"got X of type {type(X).__name__}"
            )
        if sample_weight is not None:
            raise DataError(
                "sample_weight= goes with a Dask X; with a sequence of blocks give each "
                "block's weights in it: (X_block, y_block, w_block)"
            )
        if any(len(block) == 3 for block in X):
            _check_accepts(estimator, "sample_weight", "X holds (X_block, y_block, w_block) "
                           "triples")
        keep, starts = _non_empty([_n_rows(block[0]) for block in X])
        model = copy.deepcopy(estimator)
        for epoch in range(epochs):
            order, seeds = _epoch_plan(rng, len(keep), shuffle)
            for j in order:
                i = keep[j]
                model = _partial_fit_block(model, X[i][0], X[i][1], classes, seeds[j], shuffle,
                                           _where(i, starts, epoch),
                                           X[i][2] if len(X[i]) == 3 else None)
            if on_epoch is not None:
                on_epoch(epoch, model)
        return model

    from distributed import wait

    client = check_client(client, "fit_chunks on a Dask array")
    if sample_weight is not None:
        _check_accepts(estimator, "sample_weight", "sample_weight= was given")
    check_picklable(estimator)
    xs, ys, ws, holders, sizes = _dask_blocks(client, X, y, sample_weight)
    keep, starts = _non_empty(sizes)
    model = estimator
    for epoch in range(epochs):
        order, seeds = _epoch_plan(rng, len(keep), shuffle)
        for j in order:
            i = keep[j]
            model = client.submit(_partial_fit_block, model, xs[i], ys[i], classes,
                                  int(seeds[j]), shuffle, _where(i, starts, epoch), ws[i],
                                  workers=holders[i], allow_other_workers=True, pure=False)
        try:
            wait(model, timeout=timeout)
        except TimeoutError as exc:
            client.cancel(model)
            raise TimeoutError(
                f"fit_chunks: epoch {epoch + 1} of {epochs} did not finish within "
                f"timeout={timeout} s ({len(keep)} blocks); its tasks were cancelled. Raise "
                "timeout, or check the workers (client.dashboard_link)"
            ) from exc
        if on_epoch is not None:
            on_epoch(epoch, model.result())
    return model.result()


def _estimator_seed(estimator):
    """Return the estimator's ``random_state`` when it is an int >= 0, else None."""
    value = getattr(estimator, "random_state", None)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0:
        return int(value)
    return None


def _epoch_plan(rng: np.random.Generator, n_blocks: int, shuffle: bool):
    """Return the block order and one within-block seed per block for one epoch."""
    order = rng.permutation(n_blocks) if shuffle else np.arange(n_blocks)
    seeds = rng.integers(0, 2**63 - 1, size=n_blocks)
    return order, seeds
