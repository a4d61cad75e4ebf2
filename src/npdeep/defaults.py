"""Default settings of ``npdeep train``, chosen from measurements (see docs/TRAINING.md).

``TRAIN`` mixes :class:`~npdeep.Network` options (``NETWORK_KEYS``) and
:func:`~npdeep.training.fit` options; :func:`split` separates them::

    net_kw, fit_kw = split(TRAIN)
    net = Network([n_x, *HIDDEN_UNITS, n_out], seed=0, **net_kw)
    net.fit(X, Y, **fit_kw)
"""

from __future__ import annotations

#: Hidden layer widths n_1..n_{L-1} of the default network.
HIDDEN_UNITS: list[int] = [256, 128]

#: Keys of ``TRAIN`` that configure the Network rather than ``fit``.
NETWORK_KEYS: tuple[str, ...] = ("activation", "dtype", "dropout", "l2", "init")

#: Training settings of ``npdeep train``.
TRAIN: dict = {
    "activation": "relu",
    "dtype": "float32",
    "dropout": 0.2,
    "l2": 0.0,
    "optimizer": "adam",
    "learning_rate": 0.003,
    "schedule": "cosine",
    "epochs": 40,
    "batch_size": 64,
    "validation_fraction": None,
    "early_stopping_patience": None,
}

#: Keys of ``TRAIN`` that configure callbacks, not ``fit`` arguments.
CALLBACK_KEYS: tuple[str, ...] = ("early_stopping_patience",)


def split(settings: dict) -> tuple[dict, dict]:
    """Return ``(network_kwargs, fit_kwargs)`` from a ``TRAIN``-like dict.

    ``early_stopping_patience`` (when not None) becomes an EarlyStopping callback in
    ``fit_kwargs['callbacks']``.
    """
    net_kw = {k: v for k, v in settings.items() if k in NETWORK_KEYS}
    fit_kw = {k: v for k, v in settings.items()
              if k not in NETWORK_KEYS and k not in CALLBACK_KEYS}
    patience = settings.get("early_stopping_patience")
    if patience is not None:
        from .callbacks import EarlyStopping

        fit_kw["callbacks"] = [EarlyStopping(patience=patience)]
    return net_kw, fit_kw
