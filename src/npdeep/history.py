"""The record of a run: :class:`History`, one list per logged name, and :func:`jsonable`,
how a logged value is written as strict JSON (JSONLogger: NaN and inf as null). Model files
and checkpoints store :meth:`History.to_json`, which keeps NaN and inf as strings.

Re-exported by :mod:`npdeep.callbacks`, where the callback protocol it follows is described.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from .callbacks import Callback

__all__ = ["History", "jsonable", "NUMERIC_LOGS", "NONFINITE"]


def jsonable(value):
    """Return a logged ``value`` as strict JSON holds it: NaN/inf as None, NumPy scalars and
    arrays as Python numbers and lists, lists and dicts item by item, any other object (a
    callback may log anything) as its ``str``."""
    return _plain(value, lambda x: None)


def _plain(value, nonfinite):
    """``value`` as Python numbers, strings, lists and dicts; a non-finite float as
    ``nonfinite(value)``."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else nonfinite(float(value))
    if isinstance(value, (np.generic, np.ndarray)):
        return _plain(value.tolist(), nonfinite)
    if isinstance(value, (list, tuple)):
        return [_plain(v, nonfinite) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, nonfinite) for k, v in value.items()}
    return str(value)


#: How :meth:`History.to_json` writes a non-finite float (strict JSON has no NaN or inf).
NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _nonfinite_name(x: float) -> str:
    return "nan" if math.isnan(x) else "inf" if x > 0 else "-inf"


def _decoded(value):
    """``value`` with the strings of :data:`NONFINITE` back as floats, lists and dicts item by
    item."""
    if isinstance(value, str):
        return NONFINITE.get(value, value)
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    return value


#: Keras's names for what npdeep logs under its own
_KERAS_NAMES = {"loss": "cost", "val_loss": "val_cost", "acc": "accuracy",
                "val_acc": "val_accuracy", "lr": "learning_rate"}


def _missing(name, logged) -> str:
    """``"History has no 'loss'; logged: [...]; npdeep's name for it is 'cost'"``."""
    hint = _KERAS_NAMES.get(name) if isinstance(name, str) else None
    near = f"; npdeep's name for it is {hint!r}" if hint in logged else ""
    return f"History has no {name!r}; logged: {list(logged)}{near}"


class _Logs(dict):
    """``History.history``: a dict whose missing key names what is logged, and the npdeep
    name of a Keras one (``history.history["loss"]``: ``'cost'``)."""

    def __missing__(self, key):
        raise KeyError(_missing(key, self))


class History(Callback):
    """Record every epoch's logs: ``history.cost`` is the list of epoch costs.

    ``history.history`` maps each logged name (``cost``, ``learning_rate``, ...) to one value
    per epoch; ``history.epoch`` lists the epoch numbers. Any logged name also reads as an
    attribute (``history.val_cost``).

    A History passed in ``callbacks`` records the fit it is given to: a new fit empties it
    (see :meth:`on_train_begin`); ``fit`` returns its own.

    ``fit`` runs it first of the callbacks, so a checkpoint written in a later one holds the
    epoch; a name a later callback adds to the epoch's ``logs`` (a custom metric, as in
    Keras) is recorded too, at the next epoch's end, at the end of training or when the
    history is read by :meth:`to_dict` (a checkpoint). Its list holds None for the epochs
    before it was first logged and any epoch where it was not, so every list lines up with
    ``epoch``.
    """

    def __init__(self):
        self.history: dict[str, list] = _Logs()
        self.epoch: list[int] = []
        self.stop_reason: str | None = None
        self.diagnosis = None

    _logs: dict | None = None  # the last epoch's logs, and how many names it had then
    _n = 0

    def on_train_begin(self, logs):
        """Start the record of this fit: a History given to a new fit (``initial_epoch`` 0)
        is emptied, rather than mix the runs (epochs 0, 1, 2, 0, 1); one continuing a run
        (a resume, an estimator's ``partial_fit`` or warm fit) keeps its epochs before
        ``initial_epoch`` and drops any after it (a resumed run trains those again)."""
        start = int(logs.get("initial_epoch") or 0)
        self._logs, self._n = None, 0
        self.stop_reason = self.diagnosis = None
        keep = [i for i, e in enumerate(self.epoch) if e < start]
        if len(keep) == len(self.epoch):
            return
        self.epoch = [self.epoch[i] for i in keep]
        self.history = _Logs({k: [v[i] for i in keep if i < len(v)]
                              for k, v in self.history.items()})

    def on_epoch_end(self, epoch, logs):
        if self._logs is not None and len(self._logs) != self._n:  # inline: every epoch
            self._record_late()
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        self._logs, self._n = logs, len(logs)

    def _record_late(self) -> None:
        """Record the names that callbacks after this one added to the last epoch's logs."""
        logs, n = self._logs, len(self.epoch)
        if logs is None or len(logs) == self._n:  # nothing added since it was recorded
            return
        self._n = len(logs)
        for key, value in logs.items():
            if key in ("epoch", "stop_reason"):  # the history's own: to_dict writes them
                continue
            values = self.history.setdefault(key, [])
            if len(values) < n:  # not recorded at that epoch: None for the epochs missed
                values.extend([None] * (n - 1 - len(values)))
                values.append(value)

    def on_train_end(self, logs):
        self._record_late()
        self._logs = None  # the history outlives the fit: it must not keep its logs
        n = len(self.epoch)
        for values in self.history.values():  # None for a name the last epochs did not log
            if len(values) < n:
                values.extend([None] * (n - len(values)))
        if self.trainer is not None and getattr(self.trainer, "stop_reason", None):
            self.stop_reason = self.trainer.stop_reason

    def __getattr__(self, name):
        if name.startswith("_") or name in ("history", "epoch", "diagnosis", "stop_reason"):
            raise AttributeError(name)
        try:
            return self.__dict__["history"][name]
        except KeyError:
            raise AttributeError(_missing(name, self.history)) from None

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        """``History(3 epochs, cost 0.6931 -> 0.5124, logged: cost, accuracy, ...)``."""
        def num(v):
            return f"{v:.4g}" if isinstance(v, (int, float)) else repr(v)

        parts = [f"{len(self)} epoch{'' if len(self) == 1 else 's'}"]
        cost = self.history.get("cost")
        if cost:
            parts.append(f"cost {num(cost[0])} -> {num(cost[-1])}")
        parts.append(f"logged: {', '.join(self.history) or 'nothing'}")
        if self.stop_reason:
            parts.append("stopped early (see .stop_reason)")
        return f"History({', '.join(parts)})"

    def plot(self, path=None, title: str = ""):
        """Draw the cost, metric and learning-rate curves; return the matplotlib Figure.

        With ``path``, also write the figure there (.png, .pdf or .svg). Needs matplotlib
        (``pip install 'npdeep[plot]'``); see :func:`npdeep.plotting.plot_history`.
        """
        from .plotting import plot_history

        return plot_history(self, path, title=title)

    def to_dict(self) -> dict:
        """Return a plain copy, every list as long as ``epoch``: Python numbers, strings,
        lists and dicts (NumPy values converted, any other object as its ``str``), with NaN
        and inf kept as floats. :meth:`to_json` is its strict-JSON form.

        During training (a checkpoint), a name a callback listed before the writer has not
        yet added to this epoch's logs is None at this epoch in the copy only: the history
        records it once added.
        """
        return self._copy(lambda x: x)

    def to_json(self) -> dict:
        """Return :meth:`to_dict` as strict JSON holds it, NaN and inf written as the strings
        ``"nan"``, ``"inf"`` and ``"-inf"`` (:data:`NONFINITE`): what a model file's header
        stores. :meth:`from_dict` reads them back as floats."""
        return self._copy(_nonfinite_name)

    def _copy(self, nonfinite) -> dict:
        self._record_late()
        n = len(self.epoch)
        return {"epoch": list(self.epoch), "stop_reason": self.stop_reason,
                **{k: [_plain(x, nonfinite) for x in v] + [None] * (n - len(v))
                   for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """Rebuild a history from :meth:`to_dict`'s or :meth:`to_json`'s output (a model
        file's, so untrusted): the strings ``"nan"``, ``"inf"`` and ``"-inf"`` are read as
        floats (in a callback's own logs too, so a logged string ``"nan"`` comes back a
        float). A file written before NaN was kept holds null for it, which stays None.

        Raises
        ------
        ValueError
            Not a dict of lists, epochs that are not integers, or a standard log
            (:data:`NUMERIC_LOGS`) holding anything but numbers and nulls, or more values
            than there are epochs.
        """
        if not isinstance(data, dict):
            raise ValueError(f"history must be a JSON object, got {type(data).__name__}")
        h = cls()
        data = dict(data)
        epoch = data.pop("epoch", [])
        if not isinstance(epoch, list) or not all(_is_int(e) for e in epoch):
            raise ValueError(f"history 'epoch' must be a list of integers, got {epoch!r:.100}")
        h.epoch = list(epoch)
        h.stop_reason = data.pop("stop_reason", None)
        if h.stop_reason is not None and not isinstance(h.stop_reason, str):
            raise ValueError(f"history 'stop_reason' must be a string, got {h.stop_reason!r:.100}")
        for key, values in data.items():
            if not isinstance(values, list):
                raise ValueError(f"history {key!r} must be a list, got {values!r:.100}")
            values = data[key] = _decoded(values)
            if key in NUMERIC_LOGS and not all(v is None or _is_number(v) for v in values):
                raise ValueError(f"history {key!r} must hold numbers, got {values!r:.100}")
            if key in NUMERIC_LOGS and len(values) > len(h.epoch):  # one value per epoch
                raise ValueError(f"history {key!r} holds {len(values)} values for "
                                 f"{len(h.epoch)} epochs")
        h.history = _Logs({k: list(v) for k, v in data.items()})
        return h


#: The logs every fit records, one number (NaN and inf included) or None per epoch.
NUMERIC_LOGS = ("cost", "val_cost", "accuracy", "val_accuracy", "r2", "val_r2",
                "learning_rate", "time")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    """A float, or an int a float holds (plotting and the diagnostics compute with them)."""
    return isinstance(v, float) or _is_int(v) and abs(v) <= _FLOAT_MAX


_FLOAT_MAX = sys.float_info.max
