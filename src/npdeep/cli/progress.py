"""Training progress for ``npdeep train``: a live bar on a terminal, plain lines otherwise.

On a terminal the bar counts batches over the whole run, so tqdm's rate and time left are
those of the run, and shows the epoch, the batch within it, the running cost of the epoch
and the last validation metric. Elsewhere (a pipe, a log file, a CI job) the library's
:class:`~npdeep.callbacks.ProgressBar` prints one plain line per epoch.
"""

from __future__ import annotations

import math
import os
import sys

from ..callbacks import ProgressBar


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (default: standard error) is a terminal a live bar can be drawn on.

    A terminal that reports no columns or no rows (``script`` in a CI job, ``docker run -t``
    without a terminal behind it) is not: tqdm draws nothing there, so plain lines are used.
    """
    stream = stream or sys.stderr
    if not (getattr(stream, "isatty", None) and stream.isatty()):
        return False
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return True  # a terminal whose size cannot be asked: tqdm falls back to 80 columns
    return size.columns > 0 and size.lines > 0


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
        self._last_val = ""

    def on_train_begin(self, logs):
        from tqdm.auto import tqdm

        self._epochs = logs.get("epochs") or 1
        samples = int(logs.get("samples") or 1)
        bs = self.batch_size
        self._n_batches = 1 if not bs or bs >= samples else math.ceil(samples / bs)
        start = int(logs.get("initial_epoch") or 0)
        self._bar = tqdm(total=self._epochs * self._n_batches, initial=start * self._n_batches,
                         unit="batch", file=self.stream or sys.stderr, dynamic_ncols=True,
                         leave=True, desc="training", mininterval=self.mininterval)

    def on_epoch_begin(self, epoch, logs):
        self._epoch = epoch
        self._cost_sum, self._seen = 0.0, 0

    def on_batch_end(self, batch, logs):
        size = int(logs.get("size", 1))
        self._cost_sum += float(logs.get("cost", 0.0)) * size
        self._seen += size
        if self._bar is not None:
            self._bar.set_postfix_str(self._status(batch), refresh=False)
            self._bar.update(1)

    def _status(self, batch: int) -> str:
        cost = self._cost_sum / self._seen if self._seen else float("nan")
        return (f"epoch {self._epoch + 1}/{self._epochs} batch {batch + 1}/{self._n_batches} "
                f"cost={cost:.4g}{self._last_val}")

    def on_epoch_end(self, epoch, logs):
        vals = [f" {k}={v:.4g}" for k, v in logs.items()
                if k.startswith("val_") and isinstance(v, float)]
        self._last_val = "".join(vals)
        if self._bar is None:
            return
        self._bar.set_postfix_str(
            f"epoch {epoch + 1}/{self._epochs} cost={logs.get('cost', float('nan')):.4g}"
            f"{self._last_val}", refresh=True)
