"""scikit-learn estimators over :class:`~npdeep.network.Network` (samples as rows here)."""

from .classifier import DeepClassifier
from .regressor import DeepRegressor

__all__ = ["DeepClassifier", "DeepRegressor"]
