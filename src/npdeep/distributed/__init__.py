"""npdeep on Dask: distributed search, training from chunked data, data-parallel training.

This subpackage is the only place npdeep imports Dask; the core (``npdeep.Network``, the
engine, the estimators) never needs it. Install it with ``pip install 'npdeep[dask]'``.

Three tools, one per need (see ``docs/DISTRIBUTED.md`` for when to use which):

- :func:`search` runs a scikit-learn search (``GridSearchCV``, ``RandomizedSearchCV``) over npdeep
  estimators through joblib's ``dask`` backend, after checking the estimator pickles.
- :func:`fit_chunks` trains an estimator with ``partial_fit`` on a Dask array (or a list of
  ``(X, y)`` chunks): the model travels to each block, the blocks stay on their workers.
- :func:`data_parallel_fit` trains one :class:`npdeep.Network` synchronously: every worker computes
  the gradient sums of its shard with :func:`loss_and_gradients`, the driver averages them and
  steps the optimizer.

:func:`local_cluster` starts a loopback-only local cluster; :func:`connect` joins a scheduler.
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "npdeep.distributed needs Dask's distributed scheduler, which is not installed "
        f"({exc}); install it with: pip install 'npdeep[dask]'"
    ) from exc

from .chunks import fit_chunks
from .cluster import check_loopback, connect, listening_sockets, local_cluster
from .data_parallel import DataParallelResult, DataParallelTrainer, data_parallel_fit
from .gradients import loss_and_gradients, shard_loss_and_gradients
from .search import check_picklable, search

__all__ = [
    "local_cluster",
    "connect",
    "check_loopback",
    "listening_sockets",
    "search",
    "check_picklable",
    "fit_chunks",
    "data_parallel_fit",
    "DataParallelResult",
    "DataParallelTrainer",
    "loss_and_gradients",
    "shard_loss_and_gradients",
]
