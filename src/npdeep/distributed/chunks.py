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

import asyncio
import copy
import math
import numbers
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from .._sparse import is_sparse
from .._validation import check_positive_float, check_seed
from ..errors import ConfigurationError, DataError
from .cluster import check_client, scheduler_identity
from .search import check_picklable

__all__ = ["fit_chunks"]


def _partial_fit_block(estimator, X_block, y_block, classes, seed, shuffle: bool, where="",
                       w_block=None, columns=None):
    """Run ``estimator.partial_fit`` on one block (rows shuffled with ``seed``); return it.

    ``w_block`` (m_k,): the block's sample weights, shuffled with its rows, or None.
    ``columns``: the column names of a block cut from a Dask DataFrame, which becomes a
    pandas DataFrame again (so the estimator learns ``feature_names_in_``), or None.

    An error keeps its type and message and gains a note (Python 3.11+) naming ``where``, the
    block and epoch, so that "Input X contains NaN" says which block holds the NaN. A sparse
    ``X_block`` stays sparse (as CSR when shuffled: rows are then cheap to permute), a pandas
    DataFrame stays one (the estimator keeps its column names, ``feature_names_in_``).
    """
    if columns is not None:
        import pandas as pd

        # an object block (a text column makes to_dask_array's blocks object): each column
        # gets its own type back, so an error names the text columns only
        X_block = pd.DataFrame(X_block, columns=columns).infer_objects()
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


def _is_dask_frame(obj) -> bool:
    """A Dask DataFrame or Series (checked without importing dask.dataframe)."""
    return type(obj).__module__.startswith("dask.dataframe") and hasattr(obj, "to_dask_array")


def _frame_to_array(client, frame):
    """Return a Dask DataFrame or Series as a Dask array with known row-chunk sizes.

    ``to_dask_array(lengths=True)`` would count the rows on the default scheduler; they are
    counted on ``client``'s cluster.
    """
    lengths = client.compute(frame.map_partitions(len)).result()
    return frame.to_dask_array(lengths=tuple(int(n) for n in lengths))


def _dask_blocks(client, X, y, w=None, timeout=None):
    """Persist ``X``, ``y`` (and ``w``) row-aligned; return the block futures and holders.

    Returns ``(xs, ys, ws, holders, sizes)``; ``ws`` is a list of None without ``w``.
    ``timeout``: seconds to wait for the blocks to be in the workers' memory.
    """
    from distributed import futures_of

    if X.ndim != 2:
        raise DataError(f"X must be a 2-D Dask array (m, n_x), got {X.ndim} dimensions")
    if y is None or not _is_dask_array(y):
        raise DataError(
            f"y must be a Dask array with X's row chunks, got {type(y).__name__}"
        )
    if y.ndim not in (1, 2):
        raise DataError(
            f"y must be a 1-D (m,) or 2-D (m, n_outputs) Dask array, got {y.ndim} dimensions "
            f"(shape {y.shape})"
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
                "(unknown, as after boolean indexing X[mask] or a Dask DataFrame's "
                f"to_dask_array()); call {name} = {name}.compute_chunk_sizes() first (and the "
                f"same for {'y' if name == 'X' else 'X'}), convert a Dask DataFrame with "
                "to_dask_array(lengths=True), or pass the Dask DataFrame itself"
            )
    for name, a in arrays[1:]:
        if a.shape[0] != X.shape[0]:
            transposed = ("; X looks transposed (features x samples): pass X.T, samples as "
                          "rows" if name == "y" and X.shape[1] == a.shape[0] else "")
            raise DataError(f"X has {X.shape[0]} rows but {name} has {a.shape[0]}{transposed}")
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    y = y.rechunk({0: X.chunks[0], **({1: -1} if y.ndim == 2 else {})})
    parts = [X, y] if w is None else [X, y, w.rechunk({0: X.chunks[0]})]
    parts = client.persist(parts)
    _wait_or_cancel(client, parts, timeout,
                    f"the {len(X.chunks[0])} blocks of X and y were not in the workers' memory "
                    f"within timeout={timeout} s, before the first epoch")
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
    on_epoch: Callable[[int, object], bool | None] | None = None,
    sample_weight=None,
):
    """Train ``estimator`` with ``partial_fit``, block by block, for ``epochs`` passes.

    Parameters
    ----------
    estimator : object with ``partial_fit`` (``DeepClassifier``, ``DeepRegressor``, ...)
        Not modified: a trained copy is returned.
    X : Dask array (m, n_x), Dask DataFrame, or a sequence of ``(X_block, y_block)`` pairs
        Samples as rows. A Dask array is split in row blocks by its chunks, a Dask DataFrame
        by its partitions (converted with ``to_dask_array``, its rows counted first; each
        block reaches ``partial_fit`` as a pandas DataFrame with its column names, so the
        model has ``feature_names_in_``). Sample weights in a sequence:
        ``(X_block, y_block, w_block)`` triples.
    y : Dask array (m,) or (m, n_outputs), or Dask Series or DataFrame
        With a Dask ``X``; rechunked to ``X``'s row blocks. Leave None for a sequence.
    epochs : int
        Passes over all the blocks.
    classes : array-like, optional
        Every class label, passed to each ``partial_fit`` (classifiers need it).
    seed : int or numpy.random.Generator, optional
        Source of the block orders and within-block permutations. Default: the estimator's
        ``random_state`` when it is an int (the same model on every call, as its ``fit``
        gives), else fresh entropy. With an int seed, the plans of the epochs the estimator
        already ran (``n_iter_ // blocks``) are skipped: ``fit_chunks(model, ..., epochs=1)``
        called three times, each time on the model the last call returned, trains as one
        call with ``epochs=3``. A Generator goes on from where it is.
    shuffle : bool
        Shuffle the block order and the rows within each block every epoch.
    client : distributed.Client, optional
        For a Dask ``X``; default: the current client.
    timeout : float, optional
        Seconds to wait for the blocks to be persisted, then for each epoch, before raising
        ``TimeoutError`` (the waited-for tasks are cancelled).
    on_epoch : callable, optional
        ``on_epoch(epoch, estimator)`` after each epoch (``epoch`` counts from 0 in this call),
        given the model being trained, fetched to this process: what it changes on it
        (``set_params(learning_rate=...)``) applies to the next epochs, on every kind of
        cluster and in memory alike; ``copy.deepcopy`` it to keep that epoch's state.
        Returning True stops training: ``fit_chunks`` returns the model as it is then
        (any other value goes on; one that is not False or None warns once). With a Dask
        ``X``, the model then travels from this process to the next epoch's first block.
    sample_weight : Dask array (m,) or Dask Series, optional
        With a Dask ``X``: the weights of its rows, passed block by block to ``partial_fit``.

    Returns
    -------
    The trained estimator (after fewer epochs when ``on_epoch`` returned True).

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
            "score held-out data in on_epoch(epoch, estimator) and return True to stop when it "
            "stops improving"
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

    if not (_is_dask_array(X) or _is_dask_frame(X)):
        if y is not None or not isinstance(X, Sequence) or not all(
                isinstance(c, (tuple, list)) and len(c) in (2, 3) for c in X) or not X:
            raise DataError(
                "X must be a Dask array or DataFrame (with y a Dask array or Series) or a "
                "non-empty sequence of "
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
        _skip_done_epochs(rng, estimator, len(keep), shuffle, seed)
        model = copy.deepcopy(estimator)
        for epoch in range(epochs):
            order, seeds = _epoch_plan(rng, len(keep), shuffle)
            for j in order:
                i = keep[j]
                model = _partial_fit_block(model, X[i][0], X[i][1], classes, seeds[j], shuffle,
                                           _where(i, starts, epoch),
                                           X[i][2] if len(X[i]) == 3 else None)
            if on_epoch is not None and _stop(on_epoch, epoch, model):
                break
        return model

    from distributed import Future

    client = check_client(client, "fit_chunks on a Dask array")
    columns = None
    if _is_dask_frame(X):  # the blocks become pandas DataFrames again on the workers
        columns = list(X.columns) if hasattr(X, "columns") else None
        X = _frame_to_array(client, X)
    if _is_dask_frame(y):
        y = _frame_to_array(client, y)
    if _is_dask_frame(sample_weight):
        sample_weight = _frame_to_array(client, sample_weight)
    if not scheduler_identity(client)["workers"]:  # persisting would wait for ever
        raise ConfigurationError("the Dask cluster has no workers; start some or wait for them "
                                 "(client.wait_for_workers(1))")
    if sample_weight is not None:
        _check_accepts(estimator, "sample_weight", "sample_weight= was given")
    check_picklable(estimator)
    xs, ys, ws, holders, sizes = _dask_blocks(client, X, y, sample_weight, timeout)
    keep, starts = _non_empty(sizes)
    _skip_done_epochs(rng, estimator, len(keep), shuffle, seed)
    # a copy: on a threads cluster (processes=False) the tasks would train the object given
    model = copy.deepcopy(estimator)
    for epoch in range(epochs):
        order, seeds = _epoch_plan(rng, len(keep), shuffle)
        for j in order:
            i = keep[j]
            model = client.submit(_partial_fit_block, model, xs[i], ys[i], classes,
                                  int(seeds[j]), shuffle, _where(i, starts, epoch), ws[i],
                                  columns, workers=holders[i], allow_other_workers=True,
                                  pure=False)
        _wait_or_cancel(client, model, timeout,
                        f"epoch {epoch + 1} of {epochs} did not finish within "
                        f"timeout={timeout} s ({len(keep)} blocks)")
        if model.status == "error":  # wait() does not raise: stop before the next epoch
            model.result()  # raises partial_fit's error, with its note naming the block
        if on_epoch is not None:
            # the model comes to this process; the next epoch trains this object, so the
            # callback's changes to it are kept on every kind of cluster, as in memory
            model = model.result()
            if _stop(on_epoch, epoch, model):
                return model
    return model.result() if isinstance(model, Future) else model


def _wait_or_cancel(client, futures, timeout, what: str) -> None:
    """Wait for ``futures``; past ``timeout`` seconds cancel them and raise TimeoutError saying
    ``what`` did not happen in time."""
    from distributed import wait

    try:
        wait(futures, timeout=timeout)
    except (TimeoutError, asyncio.TimeoutError) as exc:  # 3.10: asyncio's is not the built-in
        client.cancel(futures)
        raise TimeoutError(f"fit_chunks: {what}; their tasks were cancelled. Raise timeout, or "
                           "check the workers (client.dashboard_link)") from exc


def _stop(on_epoch, epoch: int, model) -> bool:
    """Call ``on_epoch(epoch, model)``; return True when it asks to stop (returns True).

    Any other value goes on, as Keras ignores what its callbacks return; a value that is
    neither a bool nor None (a score, say) warns once that only True stops: raising here,
    after the epochs paid for, would lose the model.
    """
    answer = on_epoch(epoch, model)
    if answer is True or answer is np.True_:
        return True
    if not (answer is None or answer is False or answer is np.False_):
        warnings.warn(
            f"on_epoch returned a {type(answer).__name__}, not True, False or None: training "
            "goes on (only True stops it)", UserWarning, stacklevel=2)
    return False


def _skip_done_epochs(rng, estimator, n_blocks: int, shuffle: bool, seed) -> None:
    """Draw (and drop) the plans of the epochs ``estimator`` already ran, for an int ``seed``.

    ``fit_chunks(model, ..., epochs=1)`` called in a loop then gives the block orders of one
    ``fit_chunks(model, ..., epochs=n)`` call instead of replaying the first epoch's each time.
    The epochs done are ``n_iter_ // n_blocks`` (one ``partial_fit`` per block and epoch); a
    Generator ``seed`` goes on by itself and is left alone.
    """
    if isinstance(seed, np.random.Generator):
        return
    done = getattr(estimator, "n_iter_", 0)
    if isinstance(done, numbers.Integral) and not isinstance(done, bool) and done > 0:
        for _ in range(int(done) // n_blocks):
            _epoch_plan(rng, n_blocks, shuffle)


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
