"""``npdeep inspect MODEL``: what a model file holds.

A network file (``npdeep train``, ``Network.save``, a checkpoint): the layer summary (W[l]
and b[l] shapes, activations, parameter counts), the architecture, the training options,
the history's key figures, the data it was trained on and its test scores; a checkpoint's
training state (epoch, optimizer and its step count, schedule, whether the random state is
saved) in words. A scikit-learn estimator or pipeline saved by ``npdeep.save``: its steps,
the estimator's parameters and fitted state, and the network's summary. Everything is read
from the file's JSON header and arrays, checked as a load would check them.
"""

from __future__ import annotations

import json
import math

import click

from ..errors import ModelFileError
from ..serialization import check_kind
from ._common import emit, fmt, json_option, jsonable, model_from_file, read_model_file
from ._options import max_elements_option
from ._output import without_address


def history_figures(history: dict | None) -> dict:
    """Key figures of a ``History.to_dict()``: epochs, first/last/best costs and metrics."""
    if not history or not history.get("epoch"):
        return {}
    figures: dict = {"epochs": len(history["epoch"]), "stop_reason": history.get("stop_reason")}
    for key in ("cost", "val_cost", "accuracy", "val_accuracy", "r2", "val_r2"):
        column = history.get(key) or []
        values = [v for v in column if v is not None and math.isfinite(v)]
        bad = [e for e, v in enumerate(column, start=1) if v is not None and not math.isfinite(v)]
        figure: dict = {}
        if values:  # first, last and best of the finite values
            best = (min if key.endswith("cost") else max)(values)
            figure = {"first": values[0], "last": values[-1], "best": best,
                      "best_epoch": column.index(best) + 1}
        if bad:  # a diverged run: its last finite value is not where it ended
            figure["not_finite"] = {"epochs": len(bad), "first_epoch": bad[0]}
        if figure:
            figures[key] = figure
    # skip the epochs without one: None (not logged, or NaN in an older file) and NaN
    lr = [v for v in history.get("learning_rate") or [] if v is not None and math.isfinite(v)]
    if lr:
        figures["learning_rate"] = {"first": lr[0], "last": lr[-1]}
    if history.get("time"):
        figures["seconds"] = float(sum(v for v in history["time"] if v is not None))
    return figures


def _history_lines(figures: dict) -> list[str]:
    if not figures:
        return ["  (no history)"]
    lines = [f"  epochs run: {figures['epochs']}"
             + (f" in {figures['seconds']:.1f} s" if "seconds" in figures else "")]
    for key, f in figures.items():
        if isinstance(f, dict) and ("best" in f or "not_finite" in f):
            lines.append(f"  {key}: {_curve_text(f)}")
    if "learning_rate" in figures:
        lr = figures["learning_rate"]
        lines.append(f"  learning rate: {lr['first']:g} -> {lr['last']:g}")
    if figures.get("stop_reason"):
        lines.append(f"  stopped: {figures['stop_reason']}")
    return lines


def _curve_text(f: dict) -> str:
    """``first 0.69, last 0.51, best 0.5 (epoch 9); NaN or inf at 2 epochs from epoch 11``."""
    parts = []
    if "best" in f:
        parts.append(f"first {fmt(f['first'])}, last {fmt(f['last'])}, best {fmt(f['best'])} "
                     f"(epoch {f['best_epoch']})")
    if "not_finite" in f:
        n, first = f["not_finite"]["epochs"], f["not_finite"]["first_epoch"]
        parts.append(("" if "best" in f else "no finite value: ")
                     + f"NaN or inf at {n} epoch{'s' if n > 1 else ''} from epoch {first}")
    return "; ".join(parts)


def _data_lines(data: dict) -> list[str]:
    if not data:
        return ["  (not recorded)"]
    lines = [f"  source:   {data.get('source')}",
             f"  samples:  {data.get('n_samples')} ({data.get('n_train', '-')} train, "
             f"{data.get('n_test', '-')} test), {data.get('n_features')} features",
             f"  target:   {data.get('target')} ({data.get('task')})"]
    if data.get("classes") is not None:
        lines.append(f"  classes:  {_shown(data['classes'], 20)}")
    names = data.get("feature_names") or []
    if names:
        lines.append(f"  features: {_shown(names, 8)}")
    if data.get("dialect"):
        lines.append(f"  csv:      {_dialect_text(data['dialect'])}")
    return lines


def _dialect_text(dialect: dict) -> str:
    """``delimiter ';', decimal ',', encoding cp1252, header``: how predict reads a CSV."""
    from ..data.dialect import shown

    delimiter = dialect.get("delimiter")
    return (f"delimiter {'by extension' if delimiter is None else shown(delimiter)}, "
            f"decimal {dialect.get('decimal')!r}, encoding {dialect.get('encoding')}, "
            f"{'header' if dialect.get('header', True) else 'no header'}")


def _shown(items, limit: int) -> str:
    """``a, b, c`` for a short list; the first ``limit`` and the count for a long one."""
    items = [str(v) for v in items]
    more = f" ... ({len(items)} in all)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _n_parameters(net) -> int:
    return sum(net.units[l] * (net.units[l - 1] + 1) for l in range(1, net.L + 1))


def _file_facts(p, header: dict) -> dict:
    return {"model": str(p), "file_bytes": p.stat().st_size,
            "format_version": header.get("format_version"),
            "npdeep_version": header.get("npdeep_version")}


def _file_line(result: dict) -> str:
    return (f"{result['model']} ({result['file_bytes']:,} bytes, format "
            f"{result['format_version']}, npdeep {result['npdeep_version']})")


# ---------------------------------------------------------------------- checkpoints
def _rng(training: dict) -> dict:
    """What a checkpoint's ``rng_state`` (numpy's bit-generator state as JSON text) holds."""
    raw = training.get("rng_state")
    if not raw:
        return {"saved": False}
    try:
        state = json.loads(raw)
        name = state["bit_generator"]
    except (TypeError, ValueError, KeyError, RecursionError):
        return {"saved": True, "bit_generator": None}  # resume would say what is wrong
    return {"saved": True, "bit_generator": name, "state": state}


def checkpoint_state(header: dict) -> dict:
    """The training state of a checkpoint (:mod:`npdeep.checkpoint`), in plain fields."""
    training = header["training"]
    optimizer = dict(training.get("optimizer") or {})
    schedule = training.get("schedule") or {}
    slots = sorted({name.split(".")[1] for name in header.get("arrays", {})
                    if name.startswith("optimizer.") and name.count(".") >= 2})
    return {"epoch": training.get("epoch"), "optimizer": optimizer,
            "optimizer_state": slots, "schedule": schedule, "rng": _rng(training),
            "early_stopping": training.get("early_stopping"),
            "model_checkpoint": training.get("model_checkpoint")}


def _best(state: dict) -> str:
    if state.get("best_epoch") is None:
        return "no best yet"
    value = state.get("best")
    value = f"{value:.6g}" if isinstance(value, (int, float)) else repr(value)
    return f"best {value} at epoch {state['best_epoch'] + 1}"


def _early_stopping_line(state: dict) -> str:
    best = _best(state)
    stopped = ", stopped the run" if state.get("stopped_epoch") is not None else ""
    return (f"  EarlyStopping: {state.get('monitor')} ({state.get('mode')}), {best}, "
            f"{state.get('wait')} epochs without improvement of patience "
            f"{state.get('patience')}{stopped}")


def _checkpoint_lines(state: dict) -> list[str]:
    opt = dict(state["optimizer"])
    name, steps = opt.pop("name", "?"), opt.pop("t", None)
    options = ", ".join(f"{k} {v}" for k, v in opt.items())
    slots = ", ".join(state["optimizer_state"]) or "none"
    schedule = dict(state["schedule"].get("config") or {})
    sched_name = schedule.pop("name", "?")
    sched_options = ", ".join(f"{k} {v}" for k, v in schedule.items())
    rng = state["rng"]
    rng_line = ("saved" + (f" ({rng['bit_generator']})" if rng.get("bit_generator") else "")
                if rng["saved"] else "not saved")
    return [f"  epochs completed: {state['epoch']}",
            f"  optimizer: {name}" + (f" ({options})" if options else "")
            + (f", {steps} steps taken" if steps is not None else "")
            + f"; state buffers: {slots}",
            f"  schedule: {sched_name}" + (f" ({sched_options})" if sched_options else "")
            + (f", state {state['schedule']['state']}" if state["schedule"].get("state")
               else ""),
            f"  RNG state: {rng_line}",
            *(_early_stopping_line(es) for es in state.get("early_stopping") or ()
              if isinstance(es, dict)),
            *(f"  ModelCheckpoint: {mc.get('path')} (best only), {mc.get('monitor')} "
              f"({mc.get('mode')}), {_best(mc)}"
              + (f", last saved {mc['last_saved']}" if mc.get("last_saved") else "")
              for mc in state.get("model_checkpoint") or () if isinstance(mc, dict))]


def _options_lines(options: dict, none: str) -> list[str]:
    return [f"  {k}: {none if v is None else v}" for k, v in options.items()] or [
        "  (not recorded)"]


# -------------------------------------------------------------------------- networks
def _network(p, header: dict, arrays: dict) -> tuple[dict, str]:
    from ..checkpoint import checkpoint_from_header, is_checkpoint
    from ..serialization import estimator_network_note

    m = model_from_file(p, header, arrays, predicts=False)
    h = m.header
    if is_checkpoint(h):  # the training state is shown: check it as resume would
        checkpoint_from_header(h, arrays, str(p))
    arch = h["architecture"]
    figures = history_figures(m.net.history.to_dict() if m.net.history else None)
    checkpoint = checkpoint_state(h) if is_checkpoint(h) else None
    # a checkpoint's options are fit's settings; `npdeep train` stores its own options
    training = (h["training"].get("config") if checkpoint else h.get("training")) or {}
    result = {
        **_file_facts(m.path, h), "kind": "checkpoint" if checkpoint else "network",
        "architecture": arch, "parameters": _n_parameters(m.net), "task": m.task,
        "training": training, "history": figures,
        "data": {k: v for k, v in m.data.items() if k != "encoder"},
        "test_scores": h.get("test_scores"), "interrupted": h.get("interrupted", False),
    }
    if checkpoint:
        result["checkpoint"] = checkpoint
    note = estimator_network_note(h)
    if note:
        result["estimator_network"] = h["estimator_network"]
    lines = [_file_line(result), "", m.net.summary(), "",
             f"loss {arch.get('loss')}, init {arch.get('init')}, dtype {arch.get('dtype')}, "
             f"l2 {arch.get('l2')}, dropout {arch.get('dropout')}", ""]
    if checkpoint:
        lines += ["checkpoint (npdeep.checkpoint.resume goes on from here, bit for bit):",
                  *_checkpoint_lines(checkpoint), "", "training options (fit's settings):",
                  *_options_lines(training, "none")]
    else:
        lines += ["training options:", *_options_lines(training, "(auto)")]
    lines += ["", "history:", *_history_lines(figures), "", "data:", *_data_lines(m.data)]
    if h.get("test_scores"):
        lines += ["", "test scores: " + ", ".join(f"{k} {fmt(v)}"
                                                  for k, v in h["test_scores"].items())]
    if result["interrupted"]:
        lines.append("note: training was interrupted (Ctrl-C); these are the best weights so far")
    if note:
        lines += ["", f"note: {note}; npdeep predict, evaluate and export refuse it (save the "
                  "fitted estimator or pipeline with npdeep.save for predictions)"]
    return result, "\n".join(lines)


# ------------------------------------------------------- scikit-learn (npdeep.save)
def _one_line(obj) -> str:
    # scikit-learn's repr: the non-default parameters (a RandomState without its address)
    return without_address(" ".join(repr(obj).split()))


def _estimator(est) -> dict:
    """Parameters and fitted state of a DeepClassifier or DeepRegressor."""
    net = est.network_
    task = "classification" if hasattr(est, "classes_") else "regression"
    curve = list(getattr(est, "loss_curve_", None) or [])
    scores = list(getattr(est, "validation_scores_", None) or [])
    figures = history_figures({"epoch": list(range(1, len(curve) + 1)), "cost": curve,
                               ("val_accuracy" if task == "classification" else "val_r2"):
                               scores})
    names = getattr(est, "feature_names_in_", None)
    return {
        "estimator": type(est).__name__, "repr": _one_line(est),
        "params": jsonable(est.get_params(deep=False)), "task": task,
        "classes": est.classes_.tolist() if task == "classification" else None,
        "n_features_in": getattr(est, "n_features_in_", net.n_x),
        "feature_names": None if names is None else [str(n) for n in names],
        "n_iter": getattr(est, "n_iter_", None), "out_activation": est.out_activation_,
        "best_validation_score": getattr(est, "best_validation_score_", None),
        "history": figures, "architecture": net.get_config(),
        "parameters": _n_parameters(net),
    }


def _estimator_lines(info: dict) -> list[str]:
    lines = [f"  task: {info['task']}" + (f", {len(info['classes'])} classes: "
                                          f"{_shown(info['classes'], 20)}"
                                          if info["classes"] is not None else ""),
             f"  features in: {info['n_features_in']}"
             + (f" ({_shown(info['feature_names'], 8)})" if info["feature_names"] else ""),
             f"  output activation: {info['out_activation']}",
             f"  iterations: {info['n_iter']}"]
    cost = info["history"].get("cost")
    if cost:
        lines.append(f"  loss: {_curve_text(cost)}")
    if info["best_validation_score"] is not None:
        lines.append(f"  best validation score: {fmt(info['best_validation_score'])}")
    return lines


def _step(name: str, step) -> dict:
    if isinstance(step, str):
        return {"name": name, "type": step}
    info = {"name": name, "type": type(step).__name__, "repr": _one_line(step),
            "params": jsonable(step.get_params(deep=False))}
    if type(step).__name__ == "StandardScaler":
        seen = jsonable(step.n_samples_seen_)  # a count, or one per feature (with NaNs)
        info["n_features_in"] = int(step.n_features_in_)
        info["n_samples_seen"] = (int(seen) if isinstance(seen, float) and seen.is_integer()
                                  else seen)
        names = getattr(step, "feature_names_in_", None)
        info["feature_names"] = None if names is None else [str(n) for n in names]
    return info


def _step_line(i: int, info: dict, width: int) -> str:
    text = info.get("repr", info["type"])
    if "n_samples_seen" in info:
        seen = info["n_samples_seen"]
        text += (f": {info['n_features_in']} features"
                 + (f" ({_shown(info['feature_names'], 8)})" if info["feature_names"] else "")
                 + (f", fitted on {seen} samples" if isinstance(seen, int) else ""))
    return f"  {i}. {info['name']:<{width}}  {text}"


def _sklearn(p, header: dict, arrays: dict) -> tuple[dict, str]:
    from ..estimators import files

    kind = header["kind"]
    where = f"model file {str(p)!r}"
    if kind == "estimator":
        est, steps = files.estimator_from_header(header, arrays, where), None
    else:
        pipeline = files.pipeline_from_header(header, arrays, where)
        (name, est), steps = pipeline.steps[-1], [_step(n, s) for n, s in pipeline.steps[:-1]]
        steps.append({"name": name, "type": type(est).__name__, "repr": _one_line(est)})
    info = _estimator(est)
    result = {**_file_facts(p, header), "kind": kind, **({"steps": steps} if steps else {}),
              **{k: info[k] for k in ("architecture", "parameters", "task")},
              "estimator": {k: v for k, v in info.items()
                            if k not in ("architecture", "parameters", "task")}}
    lines = [_file_line(result),
             f"a scikit-learn {'Pipeline' if steps else info['estimator']} saved by npdeep.save "
             "(npdeep.load(path) gives it back in Python)", ""]
    if steps:
        width = max(len(s["name"]) for s in steps)
        lines += ["steps:", *(_step_line(i, s, width) for i, s in enumerate(steps, 1)), ""]
    else:
        lines += [info["repr"], ""]
    lines += [est.network_.summary(), "", f"{info['estimator']}:", *_estimator_lines(info)]
    return result, "\n".join(lines)


@click.command()
@click.argument("model")
@max_elements_option
@json_option
def inspect(model, max_elements, as_json):
    """Show MODEL's layers, training options, history and the data it was trained on.

    MODEL is a model file from `npdeep train`, Network.save or a training checkpoint, or a
    scikit-learn DeepClassifier, DeepRegressor or Pipeline saved by npdeep.save.
    """
    p, header, arrays = read_model_file(model, max_elements=max_elements)
    kind = check_kind(header, str(p))
    if kind in ("estimator", "pipeline"):
        result, text = _sklearn(p, header, arrays)
    elif kind == "network":
        result, text = _network(p, header, arrays)
    else:
        raise ModelFileError(f"{p}: unknown kind {kind!r}; expected network, estimator or "
                             "pipeline")
    emit(as_json, result, text)
