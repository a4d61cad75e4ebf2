"""Exceptions that npdeep raises for user mistakes.

Every error a user can cause derives from :class:`NpdeepError`, so the command line can
print its message and exit non-zero instead of showing a traceback. Each also derives from
the built-in class a Python user would expect (``ValueError``, ``KeyError``...).
"""

from __future__ import annotations


class NpdeepError(Exception):
    """Base class of every error caused by input that npdeep rejects."""


class ConfigurationError(NpdeepError, ValueError):
    """A network, training or command option has an invalid value or name."""


class DataError(NpdeepError, ValueError):
    """Training or prediction data is malformed: shapes, NaN/inf, unreadable files, bad cells."""


class NonIntegerLabelsError(DataError):
    """A classification target holds non-integer numbers (likely a regression target).

    Attributes
    ----------
    target_name : str
    example : float, the first non-integer value.
    """

    def __init__(self, message: str, target_name: str, example: float):
        super().__init__(message)
        self.target_name = target_name
        self.example = example


class MixedTargetError(DataError):
    """A regression or multi-label target column holds numbers and a text cell.

    Attributes
    ----------
    target_name : str
    line : int, the file line of the first text cell.
    cell : str, that cell.
    """

    def __init__(self, message: str, target_name: str, line: int, cell: str):
        super().__init__(message)
        self.target_name = target_name
        self.line = line
        self.cell = cell


class ModelFileError(NpdeepError, ValueError):
    """A model file is corrupt, truncated, of an unknown version or otherwise unsafe to load."""


class TrainingError(NpdeepError, RuntimeError):
    """Training cannot go on (for example the gradients became NaN)."""
