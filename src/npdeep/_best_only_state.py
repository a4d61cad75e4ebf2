"""The state of the ``save_best_only`` ModelCheckpoints a checkpoint holds: checked when the
file loads, handed to the ModelCheckpoints passed to :func:`npdeep.checkpoint.resume`.

A checkpoint's ``training.model_checkpoint`` lists one object per ``save_best_only``
ModelCheckpoint of the run (:meth:`npdeep.monitors.ModelCheckpoint.get_state`): its path
template, monitor and mode (what it is matched by), its best value, best epoch and the
logged name it used, which decide its next write, and ``last_saved``, the file it wrote last
(null before its first; absent from the files of npdeep versions that did not store it). A
ModelCheckpoint that saves every ``every`` epochs writes at fixed epochs: it has no state to
keep (its ``last_saved`` after a resume is the file of the last multiple of ``every``, see
``last_saved`` of :class:`npdeep.monitors.ModelCheckpoint`).
"""

from __future__ import annotations

import warnings

from ._stopping_state import check_monitored
from ._validation import caller_level

__all__ = ["best_only_checkpoints", "load_model_checkpoint", "match_model_checkpoint"]

_MC_KEYS = ("path", "monitor", "mode", "best", "best_epoch", "used", "last_saved")
#: keys a checkpoint may lack: written before they were stored
_MC_OPTIONAL = ("last_saved",)


def best_only_checkpoints(callbacks) -> list:
    from .monitors import ModelCheckpoint

    return [c for c in callbacks or () if isinstance(c, ModelCheckpoint) and c.save_best_only]


def load_model_checkpoint(saved, epoch: int) -> list | None:
    """Check the saved ModelCheckpoint states; return them (None for an older checkpoint).

    Every entry must be one that a ``save_best_only`` ModelCheckpoint could have written
    after ``epoch`` epochs; raises ValueError naming it.
    """
    if saved is None:
        return None
    if not isinstance(saved, list):
        raise ValueError(f"model_checkpoint must be a list, got {saved!r:.80}")
    for i, state in enumerate(saved):
        _check_state(f"model_checkpoint[{i}]", state, epoch)
    return [dict(state) for state in saved]


def _check_state(name: str, state, epoch: int) -> None:
    """Raise ValueError unless ``state`` is one a ModelCheckpoint writes after ``epoch``
    epochs."""
    if not isinstance(state, dict) or not \
            set(_MC_KEYS) - set(_MC_OPTIONAL) <= set(state) <= set(_MC_KEYS):
        raise ValueError(f"{name} must be an object with the keys {list(_MC_KEYS)}, got "
                         f"{state!r:.120}")
    path = state["path"]
    if not isinstance(path, str) or not path:
        raise ValueError(f"{name} 'path' must be a file name or template, got {path!r:.80}")
    check_monitored(name, state, epoch)
    _check_last_saved(name, state.get("last_saved"), path)


def _check_last_saved(name: str, last, path: str) -> None:
    """Raise ValueError unless ``last`` is null or a file name; the name itself when the
    template ``path`` holds no ``{epoch}``."""
    if last is None:
        return
    if not isinstance(last, str) or not last:
        raise ValueError(f"{name} 'last_saved' must be null or a file name, got {last!r:.80}")
    try:
        fixed = path.format(epoch=1) == path.format(epoch=2)
    except (KeyError, IndexError, ValueError):
        return  # not a template a ModelCheckpoint takes: no callback matches the state
    if fixed and last != path.format(epoch=1):
        raise ValueError(f"{name} 'last_saved' must be null or {path.format(epoch=1)!r}, the "
                         f"only file its path names, got {last!r:.80}")


def _described(path: str, monitor: str, mode: str) -> str:
    return f"ModelCheckpoint({path!r}, save_best_only=True, monitor={monitor!r}, mode={mode!r})"


def match_model_checkpoint(callbacks, saved: list | None, where: str) -> list:
    """Hand each saved ModelCheckpoint state to the first passed one that matches it (same
    path template, monitor and mode, ``save_best_only``).

    A saved state that none matches is left out with a warning, as is a passed
    ``save_best_only`` ModelCheckpoint that gets no state (it starts afresh). Returns the
    callbacks that got a state.
    """
    passed = best_only_checkpoints(callbacks)
    free = list(passed)
    for state in saved or ():
        mc = next((c for c in free if c.matches(state)), None)
        if mc is None:
            warnings.warn(
                f"{where}: the checkpoint holds the state of "
                f"{_described(state['path'], state['monitor'], state['mode'])}, and no "
                "save_best_only ModelCheckpoint with that path, monitor and mode was passed "
                "to resume: the resumed run does not use that state", UserWarning,
                stacklevel=caller_level())
            continue
        free.remove(mc)
        mc._resume_from = state
    for mc in free:
        t = mc.tracker
        why = "was written before npdeep stored ModelCheckpoint state" if saved is None else \
            "holds no ModelCheckpoint state with that path, monitor and mode"
        warnings.warn(
            f"{where}: the checkpoint {why}: {_described(mc.path, t.monitor, t.mode)} starts "
            "afresh at the resume, with no best value: it writes at the first epoch and may "
            "overwrite a better file", UserWarning, stacklevel=caller_level())
    return [mc for mc in passed if mc not in free]
