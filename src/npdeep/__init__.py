"""npdeep: deep L-layer neural networks in NumPy, true to the classic equations.

The public API::

    Network(units, activation=..., output_activation=..., loss=..., init=..., dtype=..., seed=...)
    gradient_check(net, X, Y)
    load(path)

Arrays follow the article: X is (n_x, m), features x samples; W[l] is (n[l], n[l-1]).
"""

from . import activations, callbacks, initializers, losses, optimizers
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
from .serialization import load, save

__version__ = "0.1.0"

__all__ = [
    "Network",
    "gradient_check",
    "GradientCheckResult",
    "load",
    "save",
    "Callback",
    "History",
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
