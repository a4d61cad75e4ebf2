"""npdeep: deep L-layer neural networks in NumPy, true to the classic equations.

The public API::

    Network(units, activation=..., output_activation=..., loss=..., init=..., dtype=..., seed=...)
    gradient_check(net, X, Y)
    net.fit(...).plot()                # training curves (needs the ``plot`` extra)
    save(obj, path) / load(path)       # Network, DeepClassifier/DeepRegressor, or a Pipeline
                                       # of StandardScaler steps ending in one
    load_trained(path).predict(X)      # a `npdeep train` file with its scaling and classes
    DeepClassifier(...), DeepRegressor(...)   # scikit-learn estimators (samples as rows)
    to_onnx(model, path=None)          # ONNX export (needs the ``onnx`` extra)
    register(cls)                      # your own Activation, Loss, Optimizer or Schedule
                                       # subclass, known by its name to files and estimators

Arrays follow the article: X is (n_x, m), features x samples; W[l] is (n[l], n[l-1]).
``npdeep.checkpoint``, ``npdeep.schedules``, ``npdeep.diagnostics``, ``npdeep.monitors``,
``npdeep.training`` and ``npdeep.defaults`` load on first use, so ``import npdeep`` then
``npdeep.checkpoint.resume(...)`` works as the docs write it.
"""

from . import activations, callbacks, initializers, losses, optimizers
from ._registry import register
from .callbacks import Callback, History, ProgressBar
from .errors import (
    ConfigurationError,
    DataError,
    ModelFileError,
    NpdeepError,
    TrainingError,
)
from .gradcheck import GradientCheckResult, gradient_check
from .network import Network
from .plotting import plot_history
from .serialization import load, load_trained, save

__version__ = "0.1.0"

_LAZY = {  # imported on first use, so ``import npdeep`` does not import scikit-learn or onnx
    "DeepClassifier": ("npdeep.estimators", "DeepClassifier"),
    "DeepRegressor": ("npdeep.estimators", "DeepRegressor"),
    "to_onnx": ("npdeep.onnx_export", "to_onnx"),
}


#: submodules the docs call as ``npdeep.checkpoint.resume(...)`` after a plain ``import npdeep``
_SUBMODULES = ("checkpoint", "defaults", "diagnostics", "monitors", "schedules", "training")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"npdeep.{name}")
    raise AttributeError(f"module 'npdeep' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The eager names, and the lazy ones (tab completion shows ``npdeep.DeepClassifier``)."""
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))

__all__ = [
    "Network",
    "DeepClassifier",
    "DeepRegressor",
    "to_onnx",
    "gradient_check",
    "GradientCheckResult",
    "load",
    "load_trained",
    "save",
    "register",
    "Callback",
    "History",
    "plot_history",
    "ProgressBar",
    "NpdeepError",
    "ConfigurationError",
    "DataError",
    "ModelFileError",
    "TrainingError",
    "activations",
    "callbacks",
    "initializers",
    "losses",
    "optimizers",
]
