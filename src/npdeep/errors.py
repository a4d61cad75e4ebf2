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


class ModelFileError(NpdeepError, ValueError):
    """A model file is corrupt, truncated, of an unknown version or otherwise unsafe to load."""


class TrainingError(NpdeepError, RuntimeError):
    """Training cannot go on (for example the gradients became NaN)."""


def add_note(exc: BaseException, note: str) -> None:
    """Add ``note`` to ``exc`` as ``exc.add_note(note)`` does (Python 3.11+).

    Python 3.10 has no ``add_note``: the note then joins ``exc.__notes__`` all the same (which
    3.10's tracebacks do not print), where calling ``add_note`` would replace ``exc`` by an
    AttributeError.
    """
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]
