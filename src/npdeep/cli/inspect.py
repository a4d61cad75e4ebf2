"""``npdeep inspect MODEL``: what a model file holds.

The layer summary (W[l] and b[l] shapes, activations, parameter counts), the architecture,
the training options, the history's key figures, the data it was trained on and its test
scores, all read from the file's JSON header and arrays.
"""

from __future__ import annotations

import math

import click

from ._common import emit, fmt, json_option, load_model


def history_figures(history: dict | None) -> dict:
    """Key figures of a ``History.to_dict()``: epochs, first/last/best costs and metrics."""
    if not history or not history.get("epoch"):
        return {}
    figures: dict = {"epochs": len(history["epoch"]), "stop_reason": history.get("stop_reason")}
    for key in ("cost", "val_cost", "accuracy", "val_accuracy", "r2", "val_r2"):
        values = [v for v in history.get(key) or [] if v is not None and math.isfinite(v)]
        if not values:
            continue
        pick = min if key.endswith("cost") else max
        best = pick(values)
        figures[key] = {"first": values[0], "last": values[-1], "best": best,
                        "best_epoch": history[key].index(best) + 1}
    # a history stores NaN as null: skip the nulls
    lr = [v for v in history.get("learning_rate") or [] if v is not None]
    if lr:
        figures["learning_rate"] = {"first": lr[0], "last": lr[-1]}
    if history.get("time"):
        figures["seconds"] = float(sum(v for v in history["time"] if v is not None))
    return figures


def _data_lines(data: dict) -> list[str]:
    if not data:
        return ["  (not recorded)"]
    lines = [f"  source:   {data.get('source')}",
             f"  samples:  {data.get('n_samples')} ({data.get('n_train', '-')} train, "
             f"{data.get('n_test', '-')} test), {data.get('n_features')} features",
             f"  target:   {data.get('target')} ({data.get('task')})"]
    if data.get("classes") is not None:
        classes = data["classes"]
        shown = ", ".join(map(str, classes[:20])) + (" ..." if len(classes) > 20 else "")
        lines.append(f"  classes:  {shown}")
    names = data.get("feature_names") or []
    if names:
        shown = ", ".join(names[:8]) + (f" ... ({len(names)} in all)" if len(names) > 8 else "")
        lines.append(f"  features: {shown}")
    return lines


@click.command()
@click.argument("model")
@json_option
def inspect(model, as_json):
    """Show MODEL's layers, training options, history and the data it was trained on."""
    m = load_model(model)
    h = m.header
    arch = h["architecture"]
    figures = history_figures(m.net.history.to_dict() if m.net.history else None)
    n_params = sum(m.net.units[l] * (m.net.units[l - 1] + 1) for l in range(1, m.net.L + 1))
    result = {
        "model": str(m.path), "file_bytes": m.path.stat().st_size,
        "format_version": h.get("format_version"), "npdeep_version": h.get("npdeep_version"),
        "architecture": arch, "parameters": n_params, "task": m.task,
        "training": h.get("training"), "history": figures, "data": m.data,
        "test_scores": h.get("test_scores"), "interrupted": h.get("interrupted", False),
    }
    if as_json:
        result["data"] = {k: v for k, v in m.data.items() if k != "encoder"}
        emit(True, result, None)
        return
    lines = [f"{m.path} ({result['file_bytes']:,} bytes, format {result['format_version']}, "
             f"npdeep {result['npdeep_version']})", "", m.net.summary(), "",
             f"loss {arch.get('loss')}, init {arch.get('init')}, dtype {arch.get('dtype')}, "
             f"l2 {arch.get('l2')}, dropout {arch.get('dropout')}", "", "training options:"]
    training = h.get("training") or {}
    lines += [f"  {k}: {'(auto)' if v is None else v}" for k, v in training.items()] or [
        "  (not recorded)"]
    lines += ["", "history:"]
    if figures:
        lines.append(f"  epochs run: {figures['epochs']}"
                     + (f" in {figures['seconds']:.1f} s" if "seconds" in figures else ""))
        for key, f in figures.items():
            if isinstance(f, dict) and "best" in f:
                lines.append(f"  {key}: first {fmt(f['first'])}, last {fmt(f['last'])}, "
                             f"best {fmt(f['best'])} (epoch {f['best_epoch']})")
        if "learning_rate" in figures:
            lr = figures["learning_rate"]
            lines.append(f"  learning rate: {lr['first']:g} -> {lr['last']:g}")
        if figures.get("stop_reason"):
            lines.append(f"  stopped: {figures['stop_reason']}")
    else:
        lines.append("  (no history)")
    lines += ["", "data:", *_data_lines(m.data)]
    if h.get("test_scores"):
        lines += ["", "test scores: " + ", ".join(f"{k} {fmt(v)}"
                                                  for k, v in h["test_scores"].items())]
    if result["interrupted"]:
        lines.append("note: training was interrupted (Ctrl-C); these are the best weights so far")
    emit(False, result, "\n".join(lines))
