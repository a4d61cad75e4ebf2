"""What ``fit`` makes of its data before the first epoch: checked, weighted, split.

:func:`_prepare_data` checks ``X`` (n_x, m) and ``Y`` (n_L, m) against the network (a
memory-mapped ``X`` keeps its dtype, others are cast once), combines ``sample_weight`` and
``class_weight``, and holds out the validation samples (given, or a fraction drawn with
``validation_seed``), never copying a memory-mapped ``X``.
"""

from __future__ import annotations

import numpy as np

from ._mmap import is_memmap
from ._sparse import is_sparse
from .batches import columns
from .errors import ConfigurationError, DataError
from .inputs import sample_weights
from .splits import check_validation_data, class_sample_weight, validation_split

__all__ = ["_prepare_data"]


def _prepare_data(net, X, Y, sample_weight, class_weight, validation_data,
                  validation_fraction, validation_seed, rows=None, resumed=None):
    """Check the data; return ``(X, Y, weights, val, train_idx, m_all)`` for the training loop.

    ``rows``: sorted indices of the columns of ``X`` (n_x, m) to train on (the rest held out
    by the caller). ``train_idx`` is the columns a dense X is trained on in place (None: all
    of the returned X); a sparse X is sliced here. ``m_all``: X's samples before
    any split. ``resumed``: fit's ``_resume``,
    whose ``samples`` (the checkpoint's m, when saved) X must match.
    """
    # a memory-mapped X keeps its dtype (mini-batches are cast one at a time); others are cast
    # once here, cheaper than at every batch of every epoch
    X = net.check_X(X, cast=not is_memmap(X))
    Y = net.check_Y(Y, X.shape[1])
    m_all = int(X.shape[1])
    if resumed is not None and resumed.get("samples") not in (None, X.shape[1]):
        raise DataError(
            f"{resumed['where']}: the checkpoint's run trained on m = {resumed['samples']} "
            f"samples, this X has {X.shape[1]}; pass the same X (and Y) to resume: the saved "
            "random state, validation split and history belong to that data (to go on "
            "training on other data, fit the loaded network instead)"
        )
    weights = given = sample_weights(X.shape[1], sample_weight)  # (m,) float64, or None
    if class_weight is not None:
        cw = class_sample_weight(net, Y, class_weight)
        weights = cw if weights is None else weights * cw
        if not np.any(weights > 0):
            raise DataError(
                "class_weight gives every training sample weight 0"
                + (" (with sample_weight)" if sample_weight is not None else "")
                + "; give a positive weight to at least one class present in Y"
            )
    val, train_idx = None, None
    if validation_data is not None and validation_fraction:
        raise ConfigurationError("give validation_data or validation_fraction, not both")
    if validation_data is not None:
        val = check_validation_data(net, validation_data)
    elif validation_fraction:
        tr, va = validation_split(net, X, Y, validation_fraction, validation_seed)
        # held-out samples keep their sample_weight in val_cost (a sample of weight 0 counts
        # in neither cost), not class_weight, which weighs the training cost only (as Keras's)
        val = (columns(net, X, va), Y[:, va], None if given is None else given[va])
        if val[2] is not None and not np.any(val[2] > 0):
            raise DataError(
                f"validation_fraction={validation_fraction:g} held out {va.shape[0]} samples "
                "whose sample_weight is 0 for all, so val_cost weighs nothing; give them "
                "positive weights, or hold out more"
            )
        weights = None if weights is None else weights[tr]
        if weights is not None and not np.any(weights > 0):
            raise DataError(
                f"validation_fraction={validation_fraction:g} held out every sample of positive "
                f"weight: the {tr.shape[0]} left for training all weigh 0; give more samples a "
                "positive sample_weight (or class_weight), or hold out fewer"
            )
        if not is_sparse(X):  # never copy a dense data set (a memmap, or 0.9 of X in
            # memory): batches index into it, as they would into X[:, tr]
            train_idx = np.sort(tr)
            weights = None if weights is None else weights[np.argsort(tr)]
        else:
            X, Y = X[:, tr], Y[:, tr]
    if rows is not None:
        assert val is None, "rows and a validation set of fit's own"
        weights = None if weights is None else weights[rows]
        if not is_sparse(X):
            train_idx = rows
        else:
            X, Y = X[:, rows], Y[:, rows]
    return X, Y, weights, val, train_idx, m_all
