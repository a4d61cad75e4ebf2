"""Callbacks that watch a logged quantity: early stopping and checkpoints (the log writers
live in :mod:`npdeep.loggers` and are re-exported here).

All follow the protocol of :mod:`npdeep.callbacks` (and are importable from there).
"""

from __future__ import annotations

# EarlyStopping and ModelCheckpoint live in early_stopping.py and model_checkpoint.py, what
# they share in _tracker.py; every name this module held before stays importable from here
from ._tracker import (  # noqa: F401
    _MAXIMISED,
    _MINIMISED,
    _keras_hint,
    _measured_before_update,
    _Monitor,
    _with_monitor,
)
from .early_stopping import EarlyStopping, _epochs  # noqa: F401
from .loggers import CSVLogger, JSONLogger
from .model_checkpoint import ModelCheckpoint

__all__ = ["EarlyStopping", "ModelCheckpoint", "CSVLogger", "JSONLogger"]
