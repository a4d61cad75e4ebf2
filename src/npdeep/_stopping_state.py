"""The EarlyStopping state a checkpoint holds: checked when the file loads, handed to the
EarlyStopping callbacks passed to :func:`npdeep.checkpoint.resume`.

A checkpoint's ``training.early_stopping`` lists one object per EarlyStopping of the run
(:meth:`npdeep.monitors.EarlyStopping.get_state`); the arrays ``'early_stopping.<i>.W1'``...
hold the ``i``-th one's best weights, absent while no epoch has improved.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._validation import caller_level

__all__ = ["early_stoppings", "load_early_stopping", "match_early_stopping", "count"]


def count(value, name: str) -> int:
    """Return a count read from a checkpoint, or raise: an int >= 0 (1.7 is not truncated)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r:.80}")  # file named above
    return value


def early_stoppings(callbacks) -> list:
    from .monitors import EarlyStopping

    return [c for c in callbacks or () if isinstance(c, EarlyStopping)]


_ES_KEYS = ("monitor", "mode", "min_delta", "patience", "best", "best_epoch", "used", "wait",
            "stopped_epoch", "stop_reason")


def load_early_stopping(saved, arrays: dict, layout, epoch: int) -> list | None:
    """Check the saved EarlyStopping states; return ``[(state, weights or None)]``.

    None for a checkpoint written before they were stored. Every entry must be one that an
    EarlyStopping could have written after ``epoch`` epochs; raises ValueError naming it.
    """
    if saved is None:
        return None
    if not isinstance(saved, list):
        raise ValueError(f"early_stopping must be a list, got {saved!r:.80}")
    states = []
    for i, state in enumerate(saved):
        _check_state(f"early_stopping[{i}]", state, epoch)
        states.append((dict(state), _best_weights(arrays, layout, i,
                                                  state["best_epoch"] is not None)))
    return states


def _check_state(name: str, state, epoch: int) -> None:
    """Raise ValueError unless ``state`` is one an EarlyStopping writes after ``epoch`` epochs."""
    if not isinstance(state, dict) or set(state) != set(_ES_KEYS):
        raise ValueError(f"{name} must be an object with the keys {list(_ES_KEYS)}, got "
                         f"{state!r:.120}")
    check_monitored(name, state, epoch)
    if not _real(state["min_delta"]) or state["min_delta"] < 0:
        raise ValueError(f"{name} 'min_delta' must be a finite number >= 0, got "
                         f"{state['min_delta']!r:.80}")
    for key in ("patience", "wait"):
        count(state[key], f"{name} {key!r}")
    stopped = state["stopped_epoch"]
    if stopped is not None and count(stopped, f"{name} 'stopped_epoch'") >= epoch:
        raise ValueError(f"{name} 'stopped_epoch' must be an epoch before the checkpoint's "
                         f"{epoch} (counted from 0), got {stopped!r}")
    if (stopped is None) != (state["stop_reason"] is None) or \
            not isinstance(state["stop_reason"], (str, type(None))):
        raise ValueError(f"{name} 'stop_reason' must be a string with a stopped_epoch, null "
                         f"without one, got {state['stop_reason']!r:.80}")


def check_monitored(name: str, state: dict, epoch: int) -> None:
    """Check the entries an EarlyStopping and a best-only ModelCheckpoint both save after
    ``epoch`` epochs: ``monitor``, ``mode``, ``best`` with ``best_epoch``, and ``used``."""
    monitor, mode = state["monitor"], state["mode"]
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(f"{name} 'monitor' must be a logged name, got {monitor!r:.80}")
    if mode not in ("min", "max"):
        raise ValueError(f"{name} 'mode' must be 'min' or 'max', got {mode!r:.80}")
    best_epoch = state["best_epoch"]
    if best_epoch is not None and count(best_epoch, f"{name} 'best_epoch'") >= epoch:
        raise ValueError(f"{name} 'best_epoch' must be an epoch before the checkpoint's "
                         f"{epoch} (counted from 0), got {best_epoch!r}")
    if (best_epoch is None) != (state["best"] is None) or \
            (state["best"] is not None and not _real(state["best"])):
        raise ValueError(f"{name} 'best' must be a finite number with a best_epoch, null "
                         f"without one, got {state['best']!r:.80} at best_epoch "
                         f"{best_epoch!r}")
    if state["used"] not in (None, monitor, monitor[4:] if monitor.startswith("val_")
                             else monitor):
        raise ValueError(f"{name} 'used' must be null, {monitor!r} or (without validation "
                         f"data) its training name, got {state['used']!r:.80}")


def _best_weights(arrays: dict, layout, i: int, expected: bool) -> np.ndarray | None:
    """The flat best weights of the ``i``-th EarlyStopping from its arrays (checked)."""
    prefix = f"early_stopping.{i}."
    given = sorted(k for k in arrays if k.startswith(prefix))
    if not expected:
        if given:
            raise ValueError(f"arrays {given} are best weights of early_stopping[{i}], which "
                             "has no best_epoch")
        return None
    flat = layout.zeros()
    for key, view in layout.views(flat).items():
        value = arrays.get(prefix + key)
        if value is None:
            raise ValueError(f"best weights {prefix + key!r} of early_stopping[{i}] missing")
        if value.shape != view.shape:
            raise ValueError(f"best weights {prefix + key!r} have shape {value.shape}, the "
                             f"parameter needs {view.shape}")
        if value.dtype.kind not in "biuf" or not np.isfinite(value).all():
            raise ValueError(f"best weights {prefix + key!r} must hold finite real numbers "
                             f"(dtype {value.dtype})")
        np.copyto(view, value, casting="unsafe")
    extra = sorted(set(given) - {prefix + k for k in layout.views(flat)})
    if extra:
        raise ValueError(f"arrays {extra} are not parameters of the network")
    return flat


def _real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def match_early_stopping(callbacks, saved: list | None, where: str) -> list:
    """Hand each saved EarlyStopping state to the first passed one that matches it.

    A saved state that none matches is left out with a warning, as is a passed EarlyStopping
    that gets no state (it starts afresh). Returns the callbacks that got a state.
    """
    passed = early_stoppings(callbacks)
    free = list(passed)
    for state, weights in saved or ():
        es = next((c for c in free if c.matches(state)), None)
        if es is None:
            warnings.warn(
                f"{where}: the checkpoint holds the state of EarlyStopping(monitor="
                f"{state['monitor']!r}, mode={state['mode']!r}, min_delta={state['min_delta']:g})"
                ", and no EarlyStopping with that monitor, mode and min_delta was passed to "
                "resume: the resumed run does not use that state", UserWarning,
                stacklevel=caller_level())
            continue
        free.remove(es)
        es._resume_from = (state, weights)
    for es in free:
        t = es.tracker
        why = "was written before npdeep stored EarlyStopping state" if saved is None else \
            "holds no EarlyStopping state with that monitor, mode and min_delta"
        warnings.warn(
            f"{where}: the checkpoint {why}: EarlyStopping(monitor={t.monitor!r}, mode="
            f"{t.mode!r}, min_delta={es.min_delta:g}) starts afresh at the resume, so it may "
            "stop and restore differently from an uninterrupted run", UserWarning,
            stacklevel=caller_level())
    return [es for es in passed if es not in free]
