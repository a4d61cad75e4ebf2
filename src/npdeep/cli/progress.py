"""Training progress for ``npdeep train``: a live bar on a terminal, plain lines otherwise.

On a terminal the bar counts batches over the whole run, so tqdm's rate and time left are
those of the run, and shows the epoch, the batch within it, the running cost of the epoch
and the last validation values, each whole: entries that do not fit the terminal's width
are left out (the validation values first, then the batch), never cut. Elsewhere (a pipe,
a log file, a CI job) the library's :class:`~npdeep.callbacks.ProgressBar` prints one
plain line per epoch.
"""

from __future__ import annotations

import math
import sys
import time

from ..callbacks import BAR_FORMAT, ProgressBar, fit_postfix, on_terminal

__all__ = ["LiveProgress", "on_terminal"]


class LiveProgress(ProgressBar):
    """A tqdm bar over every batch of the run: epoch, batch, cost, validation metric, ETA.

    Parameters
    ----------
    batch_size : int or None
        The mini-batch size (None: full batch, one step per epoch).
    stream : file, optional
        Where the bar goes (default: standard error).
    mininterval : float
        Least seconds between two redraws.
    """

    def __init__(self, batch_size: int | None, stream=None, mininterval: float = 0.1):
        super().__init__(stream=stream, force_plain=False)
        self.batch_size = batch_size
        self.mininterval = mininterval
        self._n_batches = 1
        self._epoch = 0
        self._cost_sum = 0.0
        self._seen = 0
        self._last_val: list[str] = []
        self._pending = 0
        self._drawn_at = 0.0

    def on_train_begin(self, logs):
        from tqdm.auto import tqdm

        self._epochs = logs.get("epochs") or 1
        samples = int(logs.get("samples") or 1)
        bs = self.batch_size
        self._n_batches = 1 if not bs or bs >= samples else math.ceil(samples / bs)
        start = int(logs.get("initial_epoch") or 0)
        self._bar = tqdm(total=self._epochs * self._n_batches, initial=start * self._n_batches,
                         unit="batch", file=self.stream or sys.stderr, dynamic_ncols=True,
                         leave=True, desc="training", mininterval=self.mininterval,
                         bar_format=BAR_FORMAT)
        self._pending, self._drawn_at = 0, time.perf_counter()

    def on_epoch_begin(self, epoch, logs):
        self._epoch = epoch
        self._cost_sum, self._seen = 0.0, 0

    def on_batch_end(self, batch, logs):
        size = int(logs.get("size", 1))
        self._cost_sum += float(logs.get("cost", 0.0)) * size
        self._seen += size
        if self._bar is None:
            return
        self._pending += 1
        now = time.perf_counter()
        if now - self._drawn_at >= self.mininterval:  # format and draw at most 10 times a second
            self._drawn_at = now
            self._bar.set_postfix_str(self._status(batch), refresh=False)
            self._bar.update(self._pending)
            self._pending = 0

    def _status(self, batch: int | None, cost: float | None = None) -> str:
        if cost is None:
            cost = self._cost_sum / self._seen if self._seen else float("nan")
        parts = [(0, f"epoch {self._epoch + 1}/{self._epochs}")]
        if batch is not None:
            parts.append((2, f"batch {batch + 1}/{self._n_batches}"))
        parts.append((1, f"cost={cost:.4g}"))
        parts += [(3, v) for v in self._last_val]
        return fit_postfix(self._bar, parts, self.stream or sys.stderr)

    def on_epoch_end(self, epoch, logs):
        self._last_val = [f"{k}={v:.4g}" for k, v in logs.items()
                          if k in ("val_cost", "val_accuracy", "val_r2")
                          and isinstance(v, (int, float))]
        if self._bar is None:
            return
        self._bar.update(self._pending)
        self._pending = 0
        self._epoch = epoch
        self._bar.set_postfix_str(self._status(None, logs.get("cost", float("nan"))),
                                  refresh=True)
