"""Default settings of ``npdeep train``, chosen from measurements (see the README)."""

from __future__ import annotations

#: Hidden layer widths n_1..n_{L-1} of the default network.
HIDDEN_UNITS: list[int] = [256, 128]

#: Training settings of ``npdeep train`` (keys are ``Network.fit`` arguments).
TRAIN: dict = {
    "activation": "relu",
    "epochs": 40,
    "learning_rate": 0.1,
    "batch_size": 32,
    "optimizer": "sgd",
    "dtype": "float32",
}
