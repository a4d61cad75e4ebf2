"""``summary()``: a Keras-style table of the layers in the article's notation.

>>> import npdeep
>>> from npdeep.summary import summary
>>> print(summary(npdeep.Network([4, 3, 1], seed=0)))
Network: L = 2 layers, units [4, 3, 1], loss binary_crossentropy, dtype float64
=======================================================================
layer l     W[l] (n[l], n[l-1])   b[l] (n[l], 1)   g[l]      parameters
-----------------------------------------------------------------------
0 (input)   a[0] = X: (4, m)
1           (3, 4)                (3, 1)           relu              15
2           (1, 3)                (1, 1)           sigmoid            4
=======================================================================
Total parameters: 19 (152 B as float64)
"""

from __future__ import annotations

__all__ = ["summary", "layer_rows"]


def _network_of(model):
    """Return the Network behind a Network, a fitted estimator or a Pipeline ending in one."""
    steps = getattr(model, "steps", None)
    if steps is not None:
        model = steps[-1][1]
    if hasattr(model, "get_params") and hasattr(model, "hidden_layer_sizes") \
            and not hasattr(model, "network_"):
        from sklearn.exceptions import NotFittedError  # a ValueError and an AttributeError

        raise NotFittedError(f"summary: this {type(model).__name__} is not fitted yet, call fit "
                        "first (summary needs a Network, a fitted DeepClassifier/DeepRegressor "
                        "or a Pipeline ending in one)")
    net = getattr(model, "network_", model)
    if not hasattr(net, "units") or not hasattr(net, "activations"):
        raise TypeError(
            f"summary needs a Network, a fitted DeepClassifier/DeepRegressor or a Pipeline "
            f"ending in one, got {type(model).__name__}"
        )
    return net


def layer_rows(net) -> list[dict]:
    """Return one dict per layer l = 1..L: ``W`` (n[l], n[l-1]), ``b`` (n[l], 1), ``g``,
    ``dropout``, ``alpha_dropout`` (dropout there is alpha dropout: selu) and ``parameters`` =
    n[l] n[l-1] + n[l]."""
    rows = []
    dropout = list(getattr(net, "dropout", [])) + [0.0]  # hidden layers only; none on layer L
    for l in range(1, net.L + 1):
        n, n_prev = net.units[l], net.units[l - 1]
        g = net.activations[l]
        config = g.get_config()
        extra = ", ".join(f"{k}={v}" for k, v in config.items() if k != "name")
        rows.append({
            "l": l, "W": (n, n_prev), "b": (n, 1),
            "g": f"{g.name}({extra})" if extra else g.name,
            "dropout": float(dropout[l - 1]) if l - 1 < len(dropout) else 0.0,
            "alpha_dropout": getattr(g, "dropped_value", None) is not None,
            "parameters": n * n_prev + n,
        })
    return rows


def _bytes(count: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


def summary(model) -> str:
    """Return the table of ``model``'s layers: W[l] and b[l] shapes, g[l], parameter counts.

    Parameters
    ----------
    model : Network, DeepClassifier, DeepRegressor or Pipeline
        An estimator must be fitted (its ``network_`` is described).

    Returns
    -------
    str
        One row per layer l = 1..L after a row for the input a[0] = X: (n_x, m), then the
        total ``sum_l n[l] (n[l-1] + 1)``. A dropout column appears when any layer drops.
    """
    net = _network_of(model)
    rows = layer_rows(net)
    with_dropout = any(r["dropout"] for r in rows)
    cols = ["layer l", "W[l] (n[l], n[l-1])", "b[l] (n[l], 1)", "g[l]", "parameters"]
    cells = [[str(r["l"]), str(r["W"]), str(r["b"]), r["g"], f"{r['parameters']:,}"]
             for r in rows]
    if with_dropout:
        cols.append("dropout")
        for cell, r in zip(cells, rows, strict=True):
            alpha = " alpha" if r["alpha_dropout"] else ""
            cell.append(f"{r['dropout']:g}{alpha}" if r["dropout"] else "-")
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    widths[0] = max(widths[0], len("0 (input)"))

    def line(values):
        parts = [v.rjust(w) if i == 4 else v.ljust(w)
                 for i, (v, w) in enumerate(zip(values, widths, strict=True))]
        return "   ".join(parts).rstrip()

    total = sum(r["parameters"] for r in rows)
    header = line(cols)
    rule = len(header)
    itemsize = net.dtype.itemsize
    title = (f"{type(net).__name__}: L = {net.L} layers, units {list(net.units)}, "
             f"loss {net.loss.name}, dtype {net.dtype.name}")
    out = [title, "=" * rule, header, "-" * rule,
           f"{'0 (input)'.ljust(widths[0])}   a[0] = X: ({net.units[0]}, m)"]
    out += [line(c) for c in cells]
    out.append("=" * rule)
    out.append(f"Total parameters: {total:,} ({_bytes(total * itemsize)} as {net.dtype.name})")
    if getattr(net, "l2", 0):
        out.append(f"L2 penalty lambda: {net.l2:g}")
    return "\n".join(out)
