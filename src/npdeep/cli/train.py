"""``npdeep train [DATA]``: train a deep network on a data file or a built-in data set.

With no DATA this is the main job: scikit-learn's handwritten digits, standardized, 75/25
stratified split with the seed, the default network of :mod:`npdeep.defaults`.

Steps: load the data (:func:`npdeep.data.load`); hold out ``--test-fraction`` of the samples
(stratified for classification); fit a :class:`~npdeep.data.Standardizer` on the training
split only; train; print the test accuracy (or R^2); save the model with the data
description, the feature scaling, the class labels and the options used in its header.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from .. import activations, defaults, initializers, losses, optimizers, schedules
from ..errors import ConfigurationError, DataError
from . import _dialect
from ._common import (
    SEED,
    FiniteFloatRange,
    check_not_input,
    check_output_path,
    check_output_suffix,
    data_name,
    data_source,
    emit,
    fmt,
    json_option,
)
from ._config import read_config
from ._dialect import dialect_options, resolve
from ._train_steps import (  # noqa: F401  (BestWeights: tests patch it through this module)
    BestWeights,
    _build_network,
    _data_notes,
    _diverged,
    _final_logs,
    _split,
    _target_scaler,
    _targets,
    _test_lines,
    _test_scores,
    _unit_notes,
)
from ._types import (
    ClassWeightType,
    ColumnsType,
    DropoutType,
    RegistryChoice,
    TargetsType,
    UnitsType,
    _choice,
    class_weight_indices,
    named_choice,
)
from .plot import check_matplotlib, plot_format, render_curves
from .progress import LiveProgress, on_terminal

DEFAULT_MODEL_PATH = "npdeep-model.npz"
DEFAULT_DATA = "digits"
#: Used where :data:`npdeep.defaults.TRAIN` has no entry.
FALLBACK = {"schedule": "constant", "l2": 0.0, "dropout": 0.0, "validation_fraction": 0.0,
            "patience": 10, "early_stopping": False, "test_fraction": 0.25, "categorical": "reject",
            "output": DEFAULT_MODEL_PATH, "clip_norm": None, "drop": [], "class_weight": None,
            "delimiter": None, "decimal": ".", "encoding": "utf-8", "header": True}
#: Validation share used by ``--early-stopping`` when no ``--validation-fraction`` is given.
EARLY_STOPPING_VALIDATION = 0.1
INTERRUPTED_EXIT = 130


def default(name: str) -> Any:
    """The default of option ``name``: :mod:`npdeep.defaults` first, then FALLBACK."""
    train = defaults.TRAIN
    if name == "units":
        return list(defaults.HIDDEN_UNITS)
    if name == "early_stopping" and "early_stopping_patience" in train:
        return train["early_stopping_patience"] is not None
    if name == "patience" and train.get("early_stopping_patience") is not None:
        return train["early_stopping_patience"]
    value = train.get(name)
    return FALLBACK.get(name) if value is None else value


def _d(name: str) -> str:
    value = default(name)
    if isinstance(value, list):
        value = ",".join(map(str, value)) or "none"
    return f" [default: {value}]"


CONFIG_KEYS = ["data", "target", "task", "categorical", "drop", "delimiter", "decimal",
               "encoding", "header", "test_fraction", "units",
               "activation", "output_activation", "loss", "init", "optimizer", "schedule",
               "learning_rate", "epochs", "batch_size", "clip_norm", "l2", "dropout",
               "validation_fraction", "early_stopping", "patience", "seed", "dtype", "output",
               "plot", "quiet", "class_weight"]


#: config keys that may be a table of options (``schedule = {name = "step", step_size = 5}``),
#: each checked and completed by its registry
CONFIG_TABLES = {"activation": lambda t: activations.get(t).get_config(),
                 "output_activation": lambda t: activations.get(t).get_config(),
                 "loss": lambda t: losses.get(t).get_config(),
                 "optimizer": lambda t: optimizers.get(t).get_config(),
                 "schedule": lambda t: schedules.get(t).get_config(),
                 "class_weight": lambda t: ClassWeightType().from_table(t)}


@click.command()
@click.argument("data", required=False)
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML file holding any of these options (flags override it).")
@click.option("--target", type=TargetsType(),
              help="CSV: target column by name or index [default: last column], or several, "
              "comma-separated (a,b: one output per target; columns of only 0 and 1 are "
              "multi-label); .npz: the target array [default: y]; .npy: the .npy file "
              "holding y.")
@click.option("--task", type=_choice(["classification", "regression", "multilabel"]),
              help="Override the task detected from the target (multilabel: several 0/1 "
              "columns, a sigmoid unit each).")
@click.option("--categorical", type=_choice(["reject", "onehot"]),
              help="CSV text feature columns: refuse them, or one-hot encode them."
              + _d("categorical"))
@click.option("--drop", type=ColumnsType(),
              help="CSV columns to leave out of the features, comma-separated (an identifier, "
              "free text); evaluate and predict then ignore them too. [default: none]")
@dialect_options
@click.option("--test-fraction", type=click.FloatRange(0, 1, max_open=True),
              help="Share held out for the test score (stratified for classification)."
              + _d("test_fraction"))
@click.option("--units", type=UnitsType(),
              help="Hidden layer widths n_1..n_{L-1}, comma-separated ('none': no hidden layer)."
              + _d("units"))
@click.option("--activation", type=named_choice(activations, activations.HIDDEN_NAMES),
              help="Hidden activation." + _d("activation"))
@click.option("--output-activation", type=named_choice(activations),
              help="Output activation. [default: the canonical one of --loss when it is given "
              "(identity for mean_squared_error, mean_absolute_error and huber, exp for "
              "poisson); else softmax (several classes), sigmoid "
              "(two), identity (regression)].")
@click.option("--loss", type=named_choice(losses),
              help="Loss; huber's delta (1) is in standard deviations of the target, which "
              "the identity output standardizes; a config file sets it (loss = {name = "
              "\"huber\", delta = 0.5}) [default: the output activation's canonical pair].")
@click.option("--init", type=RegistryChoice(initializers.NAMES, initializers.check_name),
              help="Weight initializer [default: he for relu, leaky_relu, elu, softplus, gelu "
              "and silu, lecun for selu, glorot otherwise].")
@click.option("--optimizer", type=named_choice(optimizers),
              help="Update rule." + _d("optimizer"))
@click.option("--schedule", type=named_choice(schedules),
              help="Learning-rate schedule over the epochs." + _d("schedule"))
@click.option("--learning-rate", type=FiniteFloatRange(0, min_open=True),
              help="Learning rate alpha." + _d("learning_rate"))
@click.option("--epochs", type=click.IntRange(1), help="Passes over the data." + _d("epochs"))
@click.option("--batch-size", type=click.IntRange(0),
              help="Mini-batch size (0: full batch, as the article)." + _d("batch_size"))
@click.option("--clip-norm", type=FiniteFloatRange(0, min_open=True),
              help="Rescale the whole gradient when its L2 norm exceeds this [default: no "
              "clipping].")
@click.option("--l2", type=FiniteFloatRange(0), help="L2 penalty lambda." + _d("l2"))
@click.option("--dropout", type=DropoutType(),
              help="Drop probability of the hidden layers (one, or one per layer)." + _d("dropout"))
@click.option("--class-weight", type=ClassWeightType(),
              help="Classification: weigh each class in the cost, 'balanced' (inversely to "
                   "its frequency in the training split) or LABEL=WEIGHT,... with the "
                   "labels as the data holds them (yes=5,no=1; others 1) [default: none].")
@click.option("--validation-fraction", type=click.FloatRange(0, 1, max_open=True),
              help="Share of the training split held out to validate each epoch."
              + _d("validation_fraction"))
@click.option("--early-stopping/--no-early-stopping", default=None,
              help="Stop when the validation cost stops improving; keep the best weights "
              f"(validates on {EARLY_STOPPING_VALIDATION:g} of the training split unless "
              "--validation-fraction is given)." + _d("early_stopping"))
@click.option("--patience", type=click.IntRange(0),
              help="Epochs without improvement before early stopping." + _d("patience"))
@click.option("--seed", type=SEED, help="Seed of every random draw (split, weights, batches)."
              " [default: 0]")
@click.option("--dtype", type=_choice(["float32", "float64"]), help="Precision." + _d("dtype"))
@click.option("-o", "--output", type=click.Path(), help="Where to save the model." + _d("output"))
@click.option("--plot", type=click.Path(),
              help="Also draw the training curves to this file (.png, .pdf or .svg).")
@click.option("-q", "--quiet", is_flag=True, default=None, help="No progress output.")
@json_option
@click.pass_context
def train(ctx: click.Context, config_path, as_json, **given):
    """Train a deep network on DATA and save it.

    DATA is a CSV file (header row, or --no-header; the target is the last column unless
    --target says otherwise; --delimiter, --decimal and --encoding for other dialects, which
    the model records for predict and evaluate), an .npz (arrays X and y), an .npy of
    features with --target y.npy, an IDX images file or folder (MNIST's format), or a
    built-in name: digits, breast_cancer, wine, iris, diabetes, mnist-t10k; - reads it from
    standard input. With no DATA: the digits default job.
    """
    if config_path == "":  # an unset variable, most likely: never silently no config
        raise click.BadParameter("is empty; give the path of a TOML file", ctx,
                                 param_hint="'--config'")
    configured = read_config(config_path, ctx, CONFIG_KEYS, CONFIG_TABLES) if config_path else {}
    flags = {k: v for k, v in given.items() if v is not None}
    opts = {**configured, **flags}
    o = {k: opts.get(k, default(k)) for k in CONFIG_KEYS}
    if not o["units"] and "dropout" not in opts:
        o["dropout"] = 0.0  # the default dropout needs hidden layers; one asked for is kept
    # a patience with early stopping off is a mistake when both come from one place; a flag
    # that turns off the config file's early stopping leaves its patience unused
    if not o["early_stopping"] and ("patience" in flags or (
            "patience" in configured and "early_stopping" not in flags)):
        where = "--patience" if "patience" in flags else f"{config_path!r}: patience ="
        raise click.UsageError(
            f"{where} {o['patience']} has no effect with early stopping off: add "
            "--early-stopping (or drop the patience)", ctx)
    if isinstance(o["dropout"], list) and len(o["dropout"]) != len(o["units"]):
        origin = f" from {config_path!r}" if "dropout" not in flags else ""
        raise click.BadParameter(
            f"{len(o['dropout'])} drop probabilities{origin} for {len(o['units'])} hidden "
            f"layer{'' if len(o['units']) == 1 else 's'} "
            f"(--units {','.join(map(str, o['units'])) or 'none'}): give one for all, or one "
            "per hidden layer", ctx, param_hint="'--dropout'")
    o["seed"] = 0 if o["seed"] is None else o["seed"]
    if o["data"] == "":  # not the default data set: an unset variable, most likely
        raise DataError("DATA is empty; give a file, a folder or a built-in name, or leave it "
                        "out for the digits default job")
    o["data"] = o["data"] or DEFAULT_DATA
    output = check_output_path(o["output"], "--output")
    inputs = {"the data file DATA": o["data"], "the config file --config": config_path}
    check_not_input(output, "--output", inputs)
    check_output_suffix(output, "--output", "model")
    plot_path = check_output_path(o["plot"], "--plot") if o["plot"] is not None else None
    if plot_path is not None:
        check_not_input(plot_path, "--plot", inputs)
        if plot_path.resolve() == output.resolve():
            raise ConfigurationError(
                f"--plot: {str(plot_path)!r} is also the model's --output; the drawing would "
                "replace the model, choose another path"
            )
        plot_format(plot_path, "--plot")
        check_matplotlib()
    if o["early_stopping"] and opts.get("validation_fraction") == 0:
        raise click.UsageError("--early-stopping needs held-out data, and --validation-fraction "
                               "0 leaves none: give a fraction such as 0.1, or leave it out "
                               f"({EARLY_STOPPING_VALIDATION:g} then)", ctx)
    if o["early_stopping"] and not o["validation_fraction"]:
        o["validation_fraction"] = EARLY_STOPPING_VALIDATION
    quiet = bool(o["quiet"]) or as_json

    from .. import data as npdata

    dialect = resolve({k: opts.get(k) for k in _dialect.NAMES}, None, None)
    with data_source(o["data"]) as source:
        ds = npdata.load(source, o["target"], task=o["task"], categorical=o["categorical"],
                         drop=o["drop"], **dialect)
        csv = npdata.sniff(source) == "csv"
    class_weight = o["class_weight"]
    if class_weight is not None and ds.task == "multilabel":
        raise click.BadParameter(
            f"weighs classes, but {ds.source} is a multi-label task (a 0/1 column per label); "
            "drop it", ctx, param_hint="'--class-weight'")
    if class_weight is not None and ds.task != "classification":
        raise click.BadParameter(
            f"weighs classes, but {ds.source} is a regression task; drop it (or give --task "
            "classification for integer class labels)", ctx, param_hint="'--class-weight'")
    if isinstance(class_weight, dict):
        class_weight = class_weight_indices(class_weight, ds.classes.tolist())
    try:
        split = _split(ds, o["test_fraction"], o["seed"])
    except DataError as exc:  # name the data (the split knows only its rows)
        raise DataError(f"{data_name(o['data'])}: {exc}") from None
    scaler = npdata.Standardizer().fit(split["X_train"])
    try:
        net = _build_network(ds, o)
    except ConfigurationError as exc:  # options that do not go together: a usage error
        if isinstance(exc.__cause__, MemoryError):  # layers too wide for this machine's memory:
            raise                                   # the command ran and refused (exit 1)
        raise click.UsageError(str(exc), ctx) from None
    target_scaler = None
    if ds.task == "regression":
        y2 = split["y_train"].reshape(len(split["y_train"]), -1)
        target_scaler = _target_scaler(y2, net.output_activation, ds, data_name(o["data"]))
    X_tr = scaler.transform(split.pop("X_train")).T  # (n_x, m); the unscaled copy is freed
    Y_tr = _targets(ds, split["y_train"], target_scaler)
    best = BestWeights()
    callbacks = [best]
    if o["early_stopping"]:
        from ..callbacks import EarlyStopping

        callbacks.append(EarlyStopping(monitor="val_cost", patience=o["patience"]))
    live = not quiet and on_terminal()
    if live:
        callbacks.append(LiveProgress(o["batch_size"] or None))
    notes = _data_notes(ds, o["task"] is not None)
    if ds.task == "regression":
        notes += _unit_notes(split["y_train"], net.output_activation, ds)
    if not as_json:  # --json gives them as "notes"
        for note in notes:
            click.echo(note, err=True)
    if not quiet:
        click.echo(f"training {net!r} on {ds.source}: {len(Y_tr.T)} training samples, "
                   f"{len(split['y_test'])} test samples", err=True)
    started = time.perf_counter()
    interrupted = False
    try:
        with np.errstate(all="ignore"):  # a diverging run says so itself, in one line
            net.fit(X_tr, Y_tr, epochs=o["epochs"], learning_rate=o["learning_rate"],
                    batch_size=o["batch_size"] or None, optimizer=o["optimizer"],
                    schedule=o["schedule"], clip_norm=o["clip_norm"],
                    validation_fraction=o["validation_fraction"] or None,
                    validation_seed=o["seed"], class_weight=class_weight,
                    callbacks=callbacks,
                    verbose=0 if quiet or live else 2,  # 2: plain lines, even on a 0-column tty
                    _warn_nan=False)  # a diverged run is reported below, in words
    except KeyboardInterrupt:
        interrupted = True
        if best.weights is None:
            message = "interrupted before the first epoch ended: no model saved"
            if as_json:
                click.echo(json.dumps({"ok": False, "error": message,
                                       "exit_code": INTERRUPTED_EXIT}))
            click.echo(message, err=True)
            ctx.exit(INTERRUPTED_EXIT)
        net.parameters.flat[...] = best.weights
    seconds = time.perf_counter() - started
    diverged = not interrupted and best.diverged
    if diverged:
        if best.weights is None:
            raise _diverged(f"before any epoch had a finite {best.monitor}", net, output, o)
        net.parameters.flat[...] = best.weights
    try:
        with np.errstate(all="ignore"):  # outputs that overflow raise a DataError saying so
            test = _test_scores(net, ds, split, scaler, target_scaler)
    except DataError as exc:
        if not diverged:
            raise
        raise _diverged(f"and the weights of its best epoch ({best.epoch + 1}) give outputs "
                        "that are not finite", net, output, o) from exc
    header = {
        "task": ds.task,
        "classes": None if ds.classes is None else ds.classes.tolist(),
        "data": {**ds.to_config(), "n_train": len(split["y_train"]),
                 "n_test": len(split["y_test"]), "test_fraction": o["test_fraction"],
                 "split_seed": o["seed"],
                 # what predict and evaluate read a CSV with, unless told otherwise
                 **({"dialect": npdata.csv_dialect(**dialect).to_config()} if csv else {})},
        "scaling": scaler.to_config(),
        "target_scaling": None if target_scaler is None else target_scaler.to_config(),
        "training": {k: o[k] for k in CONFIG_KEYS if k not in ("output", "plot", "quiet")},
        "test_scores": test,
        "train_seconds": seconds,
        "interrupted": interrupted,
    }
    net.save(output, **header)
    if plot_path is not None:
        render_curves(net.history.to_dict() if net.history else {}, plot_path,
                      title=f"{Path(output).name} on {ds.source}")
    history = net.history
    result = {
        "model": str(output), "plot": None if plot_path is None else str(plot_path),
        "data": ds.summary(), "task": ds.task, "test": test,
        "epochs_run": len(history) if history is not None else 0,
        "final": _final_logs(history), "stop_reason": getattr(history, "stop_reason", None),
        "train_seconds": seconds, "interrupted": interrupted,
        "notes": [n.removeprefix("note: ") for n in notes],
    }
    lines = [f"{name}: {fmt(value)}" for name, value in _test_lines(test)]
    if interrupted or diverged:
        lines.append(f"{'interrupted' if interrupted else 'diverged'}: saved the best model so "
                     f"far (epoch {best.epoch + 1}, {best.monitor} {best.best:.4g}) to {output}")
        if diverged:
            lines.append(f"training diverged after that epoch; for a better model try a smaller "
                         f"--learning-rate (got {o['learning_rate']:g}), --clip-norm, or another "
                         "--optimizer")
    else:
        lines.append(f"model saved to {output}")
    if plot_path is not None:
        lines.append(f"training curves drawn to {plot_path}")
    if interrupted:  # "ok" is true only with exit 0, as for every other outcome
        result.update(ok=False, exit_code=INTERRUPTED_EXIT)
    emit(as_json, result, "\n".join(lines))
    if interrupted:
        ctx.exit(INTERRUPTED_EXIT)
