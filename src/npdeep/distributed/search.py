"""Run scikit-learn's hyper-parameter searches over npdeep estimators on a Dask cluster.

scikit-learn's ``GridSearchCV`` and ``RandomizedSearchCV`` already spread their fits through
joblib; joblib's ``dask`` backend sends each fit to a Dask worker. :func:`search` adds what that
path lacks: it checks first that the search pickles (cloudpickle, the format Dask sends tasks
in), since an estimator that cannot be pickled makes the joblib ``dask`` backend hang instead of
failing. The result is the serial search's: same candidates, same folds, same scores.
"""

from __future__ import annotations

import warnings

import cloudpickle
import dask
import joblib
from distributed import Client

from ..errors import ConfigurationError, DataError
from .cluster import check_client

__all__ = ["search", "check_picklable"]


def check_picklable(obj, name: str = "estimator") -> None:
    """Check that ``obj`` survives a cloudpickle round trip, as Dask needs to ship it.

    Raises
    ------
    ConfigurationError
        Naming ``name``, the object's type and cloudpickle's error.
    """
    try:
        cloudpickle.loads(cloudpickle.dumps(obj))
    except Exception as exc:  # noqa: BLE001 - any failure means Dask cannot ship it
        raise ConfigurationError(
            f"{name} ({type(obj).__name__}) cannot be sent to Dask workers: pickling it failed "
            f"with {type(exc).__name__}: {exc}; keep only picklable values (module-level "
            "functions, no open files, locks or generators) in its parameters"
        ) from exc


def search(search_cv, X, y=None, *, client: Client | None = None, **fit_params):
    """Fit a scikit-learn search on the Dask cluster of ``client`` and return it.

    Equivalent to ``search_cv.fit(X, y, **fit_params)`` under
    ``joblib.parallel_backend("dask")``, after checking that the search (its estimator,
    parameter grid or distributions and scorer) pickles.

    Parameters
    ----------
    search_cv : GridSearchCV, RandomizedSearchCV or another joblib-parallel search
        Leave its ``n_jobs`` at None (or -1): ``n_jobs=1`` would run the fits one by one here.
    X : (m, n_x) array-like
        Samples as rows, the scikit-learn convention; in memory (not a Dask collection).
    y : (m,) or (m, n_outputs) array-like, optional
    client : distributed.Client, optional
        Default: the current Dask client (the last one created).
    **fit_params
        Passed to ``search_cv.fit``.

    Returns
    -------
    search_cv, fitted (``best_params_``, ``best_score_``, ``cv_results_``).

    Raises
    ------
    ConfigurationError
        When the search, its estimator or its parameters cannot be pickled, or when there is
        no running client (none given and none current, or a closed one).
    DataError
        When ``X`` or ``y`` is a Dask collection (array, DataFrame, Series): ``search`` takes
        in-memory data.

    Examples
    --------
    Needs a cluster, so not run as a doctest::

        from sklearn.model_selection import GridSearchCV
        from npdeep.sklearn import DeepClassifier
        from npdeep.distributed import local_cluster, search
        grid = GridSearchCV(DeepClassifier(), {"learning_rate": [0.01, 0.1]}, cv=3)
        with local_cluster() as client:
            search(grid, X, y, client=client).best_params_
    """
    if not hasattr(search_cv, "fit") or not hasattr(search_cv, "estimator"):
        raise ConfigurationError(
            f"search_cv must be a scikit-learn search such as GridSearchCV, got "
            f"{type(search_cv).__name__}"
        )
    for name, value in (("X", X), ("y", y)):
        if dask.is_dask_collection(value):
            # before: AttributeError "'DataFrame' object has no attribute 'take'" from a fold
            raise DataError(
                f"search takes in-memory data (NumPy arrays, pandas DataFrames): each fit "
                f"gets its folds' rows from it, but {name} is a Dask "
                f"{type(value).__name__}; pass {name}.compute() when it fits in memory (a "
                "sample of it, say), or train on the Dask collection with fit_chunks"
            )
    check_picklable(search_cv.estimator, "search_cv.estimator")
    check_picklable(search_cv, "search_cv")
    if getattr(search_cv, "n_jobs", None) == 1:
        warnings.warn(
            "search_cv has n_jobs=1, so joblib runs its fits one by one in this process; "
            "leave n_jobs=None to use the Dask workers",
            RuntimeWarning,
            stacklevel=2,
        )
    client = check_client(client, "search")
    with joblib.parallel_backend("dask", client=client):
        return search_cv.fit(X, y, **fit_params)
