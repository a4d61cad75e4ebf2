"""Checkpoints: a model file that also holds what training needs to go on exactly.

A checkpoint is an ordinary network model file (:mod:`npdeep.serialization`) whose header
gains a ``training`` object and whose arrays gain the optimizer state under the parameters'
own keys (``'optimizer.m.W1'``, ``'optimizer.v.b2'``...)::

    "training": {
        "epoch": 3,                          # epochs completed
        "config": {...},                     # fit's settings: learning_rate, batch_size...
        "optimizer": {"name": "adam", ..., "t": 120},
        "schedule": {"config": {...}, "state": {...}},
        "rng_state": "<JSON of numpy's bit generator state>",
        "early_stopping": [{"monitor": "val_cost", "mode": "min", "min_delta": 0.0,
                            "patience": 5, "best": 0.31, "best_epoch": 2, "used": "val_cost",
                            "wait": 1, "stopped_epoch": null, "stop_reason": null}],
        "model_checkpoint": [{"path": "best.npz", "monitor": "val_cost", "mode": "min",
                              "best": 0.31, "best_epoch": 2, "used": "val_cost",
                              "last_saved": "best.npz"}]
    }

with each EarlyStopping's best weights as arrays ``'early_stopping.0.W1'``... (none while no
epoch has improved). Resuming from it (:func:`resume`) gives the same weights, bit for bit
(with the same number of BLAS threads), as a run that was never interrupted: same
parameters, optimizer moments and step count, learning-rate schedule, random stream
(shuffling and dropout, from any NumPy bit generator), and the state of each EarlyStopping
passed to :func:`resume` that matches a saved one (same monitor, mode and min_delta), so it
stops at the same epoch and restores the same weights, and of each
``save_best_only`` ModelCheckpoint passed that matches a saved one (same path template,
monitor and mode), so it writes the same files at the same epochs and reports the same
``last_saved``. Checkpoints written before those states were stored hold no
``early_stopping`` (or no ``model_checkpoint``, or no ``last_saved`` in it): their
EarlyStopping (or best-only ModelCheckpoint) starts afresh (keeps its ``last_saved``).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import optimizers as _optimizers
from . import schedules as _schedules
from ._best_only_state import best_only_checkpoints, load_model_checkpoint, match_model_checkpoint
from ._file_arrays import check_declared_arrays
from ._io_format import few
from ._registry import recorded_config
from ._stopping_state import count as _count
from ._stopping_state import early_stoppings, load_early_stopping, match_early_stopping
from ._validation import caller_level, check_positive_float, check_positive_int
from .callbacks import History, keep_copy
from .errors import ConfigurationError, ModelFileError
from .io import header_errors, load_model_file, merged_header, save_model_file
from .serialization import _check_network_file, check_finite_parameters, estimator_network_note
from .splits import weighted_validation

__all__ = ["Checkpoint", "save_checkpoint", "load_checkpoint", "checkpoint_from_header",
           "resume", "is_checkpoint", "TrainingState"]

#: Keys of a checkpoint's ``training`` object beside ``rng_state``.
_STATE_KEYS = ("epoch", "config", "optimizer", "schedule")


#: NumPy's bit generators, by the name their state gives (a checkpoint's ``rng_state``)
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


def _rng_state_json(rng: np.random.Generator) -> str:
    """Return ``rng``'s bit-generator state as JSON text (arrays, as Philox holds, as lists)."""
    def listed(value):
        if isinstance(value, (np.ndarray, np.generic)):
            return value.tolist()
        raise TypeError(f"cannot save a random state holding {type(value).__name__}")

    return json.dumps(rng.bit_generator.state, default=listed)


def _generator(state: dict) -> np.random.Generator:
    """Return a Generator of the bit generator ``state`` names, set to that state."""
    name = state["bit_generator"]
    if name not in _BIT_GENERATORS:
        raise ValueError(f"rng_state names bit generator {name!r}; expected one of "
                         f"{', '.join(_BIT_GENERATORS)}")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def is_checkpoint(header: dict) -> bool:
    """Tell whether a model file's header is a checkpoint's (its ``training`` is the state
    :func:`save_checkpoint` writes, not the options ``npdeep train`` stores)."""
    training = header.get("training")
    return isinstance(training, dict) and all(k in training for k in _STATE_KEYS)


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns."""

    network: object
    optimizer: _optimizers.Optimizer | None
    epoch: int
    config: dict = field(default_factory=dict)
    schedule: _schedules.Schedule | None = None
    schedule_state: dict = field(default_factory=dict)
    history: dict | None = None
    #: each saved EarlyStopping's ``(state, best flat weights or None)``; None: an older file
    early_stopping: list | None = None
    #: each saved best-only ModelCheckpoint's state; None: an older file
    model_checkpoint: list | None = None


class TrainingState:
    """What a checkpoint holds of a run at one moment, copied to be written later.

    :func:`save_checkpoint` writes the state of the moment it is called. In full-batch
    training an epoch's ``cost`` describes the weights at the epoch's start, known to be the
    best only at its end, after the update: :class:`~npdeep.monitors.ModelCheckpoint` then
    captures the state at each epoch's start and writes that one. Its buffers (parameters,
    optimizer state) are reused from one capture to the next.
    """

    def __init__(self):
        self.flat = None
        self.optimizer_state: dict = {}
        self.t = 0
        self.rng_state: str | None = None
        self.schedule_state: dict = {}
        self.initial_learning_rate = 0.0
        self.epoch = 0
        self.n_history: int | None = None
        self.early_stopping: list[tuple[dict, np.ndarray | None]] = []
        self.model_checkpoint: list[dict] = []

    def capture(self, net, trainer, epoch: int) -> TrainingState:
        """Copy ``net``'s and ``trainer``'s state now, ``epoch`` epochs completed; return self."""
        self.flat = keep_copy(self.flat, net.parameters.flat)
        opt = trainer.optimizer
        self.t = int(opt.t)
        self.optimizer_state = {} if opt.layout is None else \
            {name: keep_copy(self.optimizer_state.get(name), opt.state[name])
             for name in opt.state_names}
        self.rng_state = _rng_state_json(trainer.rng) if trainer.rng is not None else None
        self.schedule_state = trainer.schedule.get_state()
        # a callback may have moved lr0 (trainer.initial_learning_rate): resume from it
        self.initial_learning_rate = float(trainer.initial_learning_rate)
        self.epoch = int(epoch)
        history = getattr(trainer, "history", None)
        self.n_history = None if history is None else len(history)
        kept = [w for _, w in self.early_stopping]
        self.early_stopping = []
        for i, es in enumerate(early_stoppings(getattr(trainer, "callbacks", ()))):
            old = kept[i] if i < len(kept) else None
            weights = None if es.best_weights is None else keep_copy(old, es.best_weights)
            self.early_stopping.append((es.get_state(), weights))
        self.model_checkpoint = [mc.get_state() for mc in
                                 best_only_checkpoints(getattr(trainer, "callbacks", ()))]
        return self

    def save(self, path, net, trainer, **extra):
        """Write this state as a checkpoint of ``net`` (architecture) and ``trainer``
        (settings), atomically."""
        opt, sched = trainer.optimizer, trainer.schedule
        training = {
            "epoch": self.epoch,
            "config": {**trainer.config, "learning_rate": self.initial_learning_rate},
            "optimizer": {**recorded_config(opt), "t": self.t},
            "schedule": {"config": recorded_config(sched), "state": self.schedule_state},
            "rng_state": self.rng_state,
            "early_stopping": [state for state, _ in self.early_stopping],
            "model_checkpoint": self.model_checkpoint,
        }
        history = getattr(trainer, "history", None)
        logged = None
        if history is not None:
            logged = history.to_json()
            n = self.n_history
            logged = {k: v[:n] if isinstance(v, list) else v for k, v in logged.items()}
        header = {
            "kind": "network",
            "architecture": net.get_config(),
            "history": logged,
            "training": training,
        }
        origin = getattr(trainer, "estimator", None)
        if origin:  # an estimator's fit: the file holds its network only
            header["estimator_network"] = origin
        arrays = dict(net.layout.views(self.flat))
        check_finite_parameters(arrays)
        if opt.layout is not None:
            arrays.update({f"optimizer.{name}.{k}": v for name, buf in
                           self.optimizer_state.items()
                           for k, v in opt.layout.views(buf).items()})
        for i, (_, weights) in enumerate(self.early_stopping):
            if weights is not None:
                arrays.update({f"early_stopping.{i}.{k}": v
                               for k, v in net.layout.views(weights).items()})
        return save_model_file(path, merged_header(header, extra), arrays)


def save_checkpoint(path, net, trainer, epoch: int | None = None, **extra):
    """Write ``net`` with ``trainer``'s optimizer, schedule and random state, atomically.

    ``epoch`` is the number of epochs completed (default: ``trainer.epoch + 1``).
    """
    epoch = trainer.epoch + 1 if epoch is None else epoch
    return TrainingState().capture(net, trainer, epoch).save(path, net, trainer, **extra)


def load_checkpoint(path, *, max_elements: int | None = None) -> Checkpoint:
    """Load a checkpoint written by :func:`save_checkpoint` (or a plain model file, at epoch 0
    without optimizer state). ``max_elements`` caps the total number of array elements read,
    optimizer state included (default 2**28, 2 GiB of float64)."""
    header, arrays = load_model_file(path, max_elements=max_elements,
                                     check_arrays=check_declared_arrays)
    return checkpoint_from_header(header, arrays, os.fspath(path))


def checkpoint_from_header(header: dict, arrays: dict, where: str) -> Checkpoint:
    """Rebuild a :class:`Checkpoint` from a file's header and arrays, checking every part of
    its training state (``where`` names the file in errors)."""
    from .network import Network

    header, parameters = _check_network_file(header, arrays, where)
    with header_errors(where, "model"):
        net = Network.from_config(header["architecture"])
        net.parameters = parameters
        history = None
        if header.get("history") is not None:  # resume continues it: check it now
            history = History.from_dict(header["history"]).to_dict()  # NaN as floats again
    training = header.get("training")
    # a plain model file, or one of `npdeep train`, whose `training` holds the command's
    # options (is_checkpoint: no epoch and config): no training state to resume from; a
    # checkpoint's state that lacks some of its parts is checked below, and refused
    if not training or (isinstance(training, dict) and not is_checkpoint(header)
                        and not {"epoch", "config"} & set(training)):
        return Checkpoint(net, None, 0, history=history)
    with header_errors(where, "training state in the checkpoint"):
        opt_config = dict(training["optimizer"])
        t = _count(opt_config.pop("t", 0), "optimizer step count t")
        opt = _optimizers.get(opt_config)
        opt.load_state(net.layout, t, arrays)
        epoch = _count(training["epoch"], "epoch")
    with header_errors(where, "EarlyStopping state in the checkpoint"):
        early_stopping = load_early_stopping(training.get("early_stopping"), arrays,
                                              net.layout, epoch)
    with header_errors(where, "ModelCheckpoint state in the checkpoint"):
        model_checkpoint = load_model_checkpoint(training.get("model_checkpoint"), epoch)
    with header_errors(where, "training state in the checkpoint"):
        own = {f"early_stopping.{i}.{k}" for i, (_, w) in enumerate(early_stopping or ())
               if w is not None for k in parameters}
        unexpected = sorted(set(arrays) - set(parameters) - set(opt.state_arrays()) - set(own))
        if unexpected:
            raise ModelFileError(f"{where}: arrays {few(unexpected)} are not state of the "
                                 f"{opt.name} optimizer")
        sched = _schedules.get(training["schedule"]["config"])
        if training.get("rng_state"):
            net.rng = _generator(json.loads(training["rng_state"]))
        config = dict(training["config"])
        check_positive_float(config["learning_rate"], "learning_rate")
        schedule_state = dict(training["schedule"].get("state") or {})
        sched.set_state(schedule_state)  # checked now, where the error can name the file
    return Checkpoint(net, opt, epoch, config, sched, schedule_state, history,
                      early_stopping, model_checkpoint)


def resume(path, X, Y, *, epochs: int | None = None, sample_weight=None, validation_data=None,
           callbacks=None, verbose: int = 0, diagnose: bool = True,
           max_elements: int | None = None):
    """Continue training from the checkpoint at ``path`` up to ``epochs`` in total.

    Uses the settings saved with the checkpoint (learning rate, batch size, optimizer and its
    state, schedule, clipping, validation split, class weights) and its random state, so the
    final weights equal those of an uninterrupted run. Pass the same ``X`` (n_x, m), ``Y``,
    ``sample_weight`` and ``validation_data`` as the first run, and the same EarlyStopping
    callbacks: each saved EarlyStopping state goes to the first one in ``callbacks`` with the
    same monitor, mode and min_delta, which then stops at the epoch and restores the weights
    of the uninterrupted run. Likewise each saved ``save_best_only`` ModelCheckpoint state
    goes to the first such ModelCheckpoint with the same path template, monitor and mode,
    which then writes the files of the uninterrupted run at the same epochs. A saved state
    that none matches is not used, and an EarlyStopping or best-only ModelCheckpoint that
    gets no state starts afresh (a ``UserWarning`` says so for each).

    A checkpoint saves its run's number of samples and whether it was weighted; an ``X``
    with another number of samples, or ``sample_weight`` given or left out unlike that run,
    is refused (older checkpoints, without them, are not checked), as is ``validation_data``
    left out for a run that validated on it, or given for one that validated on a
    ``validation_fraction`` of X (drawn again) or did not validate.

    ``max_elements`` caps the total number of array elements read from the file, optimizer
    state included (default 2**28, 2 GiB of float64); raise it for a larger checkpoint.

    Returns
    -------
    Network
        The trained network; ``net.history`` continues the saved history.
    """
    header, arrays = load_model_file(path, max_elements=max_elements,
                                     check_arrays=check_declared_arrays)
    note = estimator_network_note(header)
    if note:  # its targets were encoded and its features scaled by the estimator, not by X, Y
        raise ModelFileError(
            f"{os.fspath(path)}: is {note}: resuming would train that network on X and Y as "
            "given, which the estimator encoded and scaled before; to train the estimator "
            "further, save it with npdeep.save and fit the loaded one with warm_start=True "
            "(or partial_fit)"
        )
    ck = checkpoint_from_header(header, arrays, os.fspath(path))
    if ck.optimizer is None:
        raise ModelFileError(
            f"{os.fspath(path)}: a model file without optimizer state cannot be resumed "
            "(Network.save and `npdeep train` store the weights, not the training state); "
            "save checkpoints with npdeep.callbacks.ModelCheckpoint"
        )
    c = ck.config
    where = os.fspath(path)
    total = c.get("epochs", ck.epoch) if epochs is None else check_positive_int(epochs, "epochs")
    if total <= ck.epoch:
        raise ConfigurationError(
            f"{where}: epochs={total} is the total to reach, and the checkpoint has already "
            f"trained {ck.epoch} epochs; give epochs > {ck.epoch}"
        )
    _warn_if_cosine_stretched(ck, total, where)
    validated = any(k.startswith("val_") and v for k, v in (ck.history or {}).items())
    splits = c.get("validation_fraction") is not None
    if validated and not splits and validation_data is None:
        raise ConfigurationError(
            f"{where}: the checkpoint's run validated on validation_data; pass the same "
            "validation_data to resume (its history would lose the val_ columns)"
        )
    if validation_data is not None and splits:
        raise ConfigurationError(
            f"{where}: the checkpoint's run held out validation_fraction="
            f"{c['validation_fraction']:g} of X for validation; resume without "
            "validation_data (the same split is drawn again; with validation_data the "
            "resumed epochs would train on all of X and validate on other data)"
        )
    if validation_data is not None and ck.epoch and not validated:
        raise ConfigurationError(
            f"{where}: the checkpoint's run had no validation data; resume without "
            "validation_data (its history has no val_ columns to continue)"
        )
    weighted = c.get("weighted")  # None: a checkpoint from before it was saved
    if weighted is not None and bool(weighted) != (sample_weight is not None):
        raise ConfigurationError(
            f"{where}: the checkpoint's run trained with sample_weight; pass the same "
            "sample_weight to resume (without it the resumed epochs weigh the samples "
            "differently)" if weighted else
            f"{where}: the checkpoint's run had no sample_weight; resume without it"
        )
    val_weighted = c.get("validation_weighted")  # None: a checkpoint from before
    if validation_data is not None and val_weighted is not None \
            and bool(val_weighted) != weighted_validation(validation_data):
        raise ConfigurationError(
            f"{where}: the checkpoint's run weighed its validation data; pass the same "
            "(X_val, Y_val, sample_weight_val) to resume (unweighted, val_cost would change "
            "meaning mid-run)" if val_weighted else
            f"{where}: the checkpoint's run had no validation weights; resume with "
            "(X_val, Y_val)"
        )
    if not isinstance(callbacks, (list, tuple, type(None))):
        raise ConfigurationError(f"callbacks must be a list of Callback, got {callbacks!r}")
    matched = match_early_stopping(callbacks, ck.early_stopping, where) + \
        match_model_checkpoint(callbacks, ck.model_checkpoint, where)
    try:
        _fit(ck, X, Y, total, sample_weight, validation_data, callbacks, verbose, diagnose,
             where)
    finally:  # a fit refused before on_train_begin must not leave a state for another fit
        for cb in matched:
            cb._resume_from = None
    return ck.network


def _warn_if_cosine_stretched(ck, total: int, where: str) -> None:
    """Warn when resuming to ``total`` epochs stretches a cosine schedule that spans its run's
    number of epochs (``period=None``): the rate then rises again where training resumes."""
    planned = ck.config.get("epochs")
    if not isinstance(ck.schedule, _schedules.CosineDecay) or ck.schedule.period is not None \
            or planned is None or total == planned:
        return
    warnings.warn(
        f"{where}: the run's cosine schedule spans its {planned} epochs; resumed up to "
        f"{total}, it spans {total}, so the learning rate rises again at epoch {ck.epoch + 1} "
        f"(a cosine schedule with period={planned} keeps the first curve and then stays at "
        "its min_lr)", UserWarning, stacklevel=caller_level())


def _fit(ck, X, Y, total, sample_weight, validation_data, callbacks, verbose, diagnose,
         ck_where):
    from .training import fit

    c = ck.config
    fit(ck.network, X, Y, epochs=total,
        learning_rate=c["learning_rate"], batch_size=c.get("batch_size"),
        optimizer=ck.optimizer, schedule=ck.schedule, clip_norm=c.get("clip_norm"),
        shuffle=c.get("shuffle", True), sample_weight=sample_weight,
        class_weight=c.get("class_weight"), validation_data=validation_data,
        validation_fraction=c.get("validation_fraction") if validation_data is None else None,
        validation_seed=c.get("validation_seed", 0), callbacks=callbacks, verbose=verbose,
        diagnose=diagnose,
        _resume={"epoch": ck.epoch, "history": ck.history, "schedule_state": ck.schedule_state,
                 "samples": c.get("samples"), "where": ck_where})
