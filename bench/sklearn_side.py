"""scikit-learn contestants: ``MLPClassifier`` trained one epoch at a time with ``partial_fit``.

Settings match the other frameworks: no L2 penalty (``alpha=0``), plain SGD without momentum
(``momentum=0``, no Nesterov) or Adam with the usual betas, constant learning rate, shuffled
minibatches. Samples are rows (scikit-learn's orientation).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from bench.harness import Contestant


def classifier(hidden: list[int], *, batch_size: int, optimizer: str,
               learning_rate: float) -> Any:
    """An ``MLPClassifier`` with relu hidden layers and the suite's optimizer settings."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=tuple(hidden), activation="relu", solver=optimizer, alpha=0.0,
        batch_size=batch_size, learning_rate="constant", learning_rate_init=learning_rate,
        momentum=0.0, nesterovs_momentum=False, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        shuffle=True, random_state=0,
    )


def fit_epochs(name: str, hidden: list[int], X_rows: np.ndarray, labels: np.ndarray, *,
               batch_size: int, optimizer: str, learning_rate: float) -> Contestant:
    """Contestant: ``count`` epochs of ``partial_fit`` (one pass over ``X_rows: (m, n_x)``)."""
    clf = classifier(hidden, batch_size=batch_size, optimizer=optimizer,
                     learning_rate=learning_rate)
    classes = np.unique(labels)
    m = X_rows.shape[0]

    def run(count: int) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(count):
                clf.partial_fit(X_rows, labels, classes=classes)
        return float(count * m)

    return Contestant(name, run)


def predict(name: str, hidden: list[int], X_rows: np.ndarray, n_classes: int) -> Contestant:
    """Contestant: ``predict_proba`` of a classifier fitted for one step on a few samples."""
    clf = classifier(hidden, batch_size=32, optimizer="sgd", learning_rate=0.01)
    rng = np.random.default_rng(0)
    Xfit = rng.random((max(32, n_classes), X_rows.shape[1]), dtype=X_rows.dtype)
    yfit = np.arange(Xfit.shape[0]) % n_classes
    clf.partial_fit(Xfit, yfit, classes=np.arange(n_classes))
    m = X_rows.shape[0]

    def run(count: int) -> float:
        for _ in range(count):
            clf.predict_proba(X_rows)
        return float(count * m)

    return Contestant(name, run, calibrate=True)
