"""Estimator and pipeline files as ``evaluate``, ``predict`` and ``plot`` use them.

``npdeep.save`` writes a fitted DeepClassifier, DeepRegressor or
``Pipeline(StandardScaler(), ..., Deep*())`` to a model file (kind ``'estimator'`` or
``'pipeline'``). :class:`EstimatorModel` gives the commands the face of a network file's
:class:`~npdeep.cli._common.Model`: the task, the class labels, the feature names, a
``predict_rows`` on samples as rows, the output columns of ``predict`` and the training
curves. The predictions are the estimator's own (``predict``, ``predict_proba``): the
pipeline's scaling is applied by the pipeline, not replayed here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError


@dataclass
class EstimatorModel:
    """A fitted estimator or pipeline loaded from a model file.

    Attributes
    ----------
    est : DeepClassifier, DeepRegressor or Pipeline
        As :func:`npdeep.load` gives it back.
    header : dict
        The file's JSON header (``kind`` is ``'estimator'`` or ``'pipeline'``).
    path : Path
    """

    est: Any
    header: dict
    path: Path

    @property
    def final(self):
        """The DeepClassifier or DeepRegressor (the pipeline's last step)."""
        return self.est.steps[-1][1] if hasattr(self.est, "steps") else self.est

    @property
    def _first(self):
        """The step that sees the data: the first that is not ``'passthrough'``."""
        if not hasattr(self.est, "steps"):
            return self.est
        return next(s for _, s in self.est.steps if not isinstance(s, str))

    @property
    def task(self) -> str:
        return "classification" if hasattr(self.final, "classes_") else "regression"

    @property
    def loss_name(self) -> str:
        """The name of the loss the fitted network trained with."""
        return self.final.network_.loss.name

    @property
    def multilabel(self) -> bool:
        return getattr(self.final, "_target_type", None) == "multilabel"

    @property
    def classes(self) -> np.ndarray | None:
        """``classes_`` (labels saved as Python strings come back as a text array)."""
        if self.task != "classification":
            return None
        classes = self.final.classes_
        return classes.astype(str) if classes.dtype.kind == "O" else classes

    @property
    def n_features(self) -> int:
        return int(self._first.n_features_in_)

    @property
    def feature_names(self) -> list[str] | None:
        """The column names it was fitted with (a DataFrame's), else None."""
        names = getattr(self._first, "feature_names_in_", None)
        return None if names is None else [str(n) for n in names]

    @property
    def data(self) -> dict:
        return {"feature_names": self.feature_names}

    @property
    def encoder_config(self) -> dict | None:
        """Numeric columns picked by name, when the names are known (see npdeep.data)."""
        from ..data import FeatureEncoder

        names = self.feature_names
        return None if names is None else FeatureEncoder.numeric(names).to_config()

    @property
    def what(self) -> str:
        """``'a DeepClassifier'`` or ``'a Pipeline ending in a DeepRegressor'``, for messages."""
        name = type(self.final).__name__
        return f"a Pipeline ending in a {name}" if hasattr(self.est, "steps") else f"a {name}"

    #: an estimator file records no CSV dialect: the options given, else the default
    csv_dialect = None

    def target_for(self, source: str, dialect: dict | None = None) -> str | None:
        """The target column of CSV ``source`` (read in ``dialect``, the keywords of
        :func:`npdeep.data.load`) when none is named (``--target``).

        Fitted with feature names: the one column that is not a feature (a DataFrame's
        ``y`` written beside it); none, or several, is an error asking for ``--target``.
        Without names, or a file in which none of them occur: None, the loaders' default
        (the last column, as for a network file; ``y`` in an .npz).
        """
        from ..data import csv_dialect, sniff
        from ..data.csv import read_header

        names = self.feature_names
        if names is None or sniff(source) != "csv":
            return None
        header = read_header(Path(source), csv_dialect(**(dialect or {})))
        others = [h for h in header if h not in names]
        if len(others) == len(header):  # none of the names: by position, as for any model
            return None
        if len(others) == 1:
            return others[0]
        if not others:
            raise DataError(
                f"{source}: holds only the feature columns of {self.path.name}, no target "
                "column to score against; add it, or name one with --target"
            )
        shown = ", ".join(repr(h) for h in others[:20]) + (", ..." if len(others) > 20 else "")
        raise DataError(
            f"{source}: has {len(others)} columns that are not features of {self.path.name} "
            f"({shown}); name the target column with --target"
        )

    def _frame(self, X: np.ndarray):
        """``X`` as the estimator was fitted: a DataFrame when it saw column names."""
        names = self.feature_names
        if names is None:
            return X
        try:
            import pandas as pd
        except ImportError:
            return X  # predict warns that X has no names; the columns are in the right order
        return pd.DataFrame(X, columns=names, copy=False)

    def predict_rows(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Predict for ``X: (n_samples, n_features)`` with the estimator's own methods.

        Returns
        -------
        labels_or_values : (n_samples,) labels, (n_samples, n_outputs) values for
            regression, or (n_samples, n_labels) 0/1 for a multi-label classifier
        probabilities : (n_samples, n_classes) or None
        """
        if X.shape[1] != self.n_features:
            raise DataError(f"the data has {X.shape[1]} features but the model expects "
                            f"{self.n_features} features")
        Xf = self._frame(X)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "X does not have valid feature names")
            pred = np.asarray(self.est.predict(Xf))
            proba = (np.asarray(self.est.predict_proba(Xf), dtype=np.float64)
                     if self.task == "classification" else None)
        if self.task == "regression":
            return pred.reshape(len(pred), -1), None  # (n_samples, n_outputs), as a network's
        if not self.multilabel and pred.dtype.kind == "O":
            pred = pred.astype(str)
        return pred, proba

    def output_columns(self) -> list[str]:
        """``predict``'s CSV columns, named as for a network file."""
        if self.task == "classification":
            labels = self.classes.tolist()
            first = [f"prediction_{c}" for c in labels] if self.multilabel else ["prediction"]
            return [*first, *(f"probability_{c}" for c in labels)]
        n = int(self.final.n_outputs_)
        return ["prediction"] if n == 1 else [f"prediction_{i}" for i in range(n)]

    def history(self) -> dict:
        """``loss_curve_`` and ``validation_scores_`` as a ``History.to_dict()``."""
        from ..plotting import estimator_history

        return estimator_history(self.final)


def estimator_model(p: Path, header: dict, arrays: dict) -> EstimatorModel:
    """Build the :class:`EstimatorModel` of a file read by ``read_model_file``."""
    from ..estimators import files

    where = f"model file {str(p)!r}"
    if header["kind"] == "estimator":
        est = files.estimator_from_header(header, arrays, where)
    else:
        est = files.pipeline_from_header(header, arrays, where)
    return EstimatorModel(est=est, header=header, path=p)
