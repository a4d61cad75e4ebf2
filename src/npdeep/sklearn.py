"""scikit-learn estimators: ``from npdeep.sklearn import DeepClassifier, DeepRegressor``."""

from .estimators import DeepClassifier, DeepRegressor

__all__ = ["DeepClassifier", "DeepRegressor"]
