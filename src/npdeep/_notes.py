"""Add a note to an exception on every supported Python (``add_note`` came in 3.11)."""

from __future__ import annotations

__all__ = ["add_note"]


def add_note(exc: BaseException, note: str) -> None:
    """Append ``note`` to ``exc.__notes__``, as ``exc.add_note(note)`` does on Python 3.11+.

    On Python 3.10 the list is set by hand (PEP 678); tracebacks show it where the
    ``exceptiongroup`` backport is installed (pytest installs it).
    """
    if hasattr(exc, "add_note"):
        exc.add_note(note)
        return
    notes = getattr(exc, "__notes__", None)
    exc.__notes__ = [*(notes if isinstance(notes, list) else ()), note]
