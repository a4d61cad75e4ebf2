"""What :class:`~npdeep.network.Network`'s constructor makes of its arguments.

Each function checks one argument (or the pair that decides another) and returns what the
network stores: layer widths ``[n_x, n_1, ..., n_L]``, the activations ``g[1..L]``, the
loss, the dtype and the dropout rates of the hidden layers. Errors name the argument, the value
received and what was expected.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from . import activations as _activations
from . import losses as _losses
from ._validation import caller_level, check_fraction, parse_dtype
from .errors import ConfigurationError

#: The dtypes a network computes in, by name.
DTYPES = {"float32": np.float32, "float64": np.float64}


def check_units(units) -> list[int]:
    """Return ``units`` ``[n_x, n_1, ..., n_L]`` as a list of ints, at least 2 of them."""
    if isinstance(units, np.ndarray) and units.ndim == 1:
        units = units.tolist()
    if isinstance(units, (str, bytes)) or not isinstance(units, Sequence):
        raise ConfigurationError(
            f"units must be a list of layer widths [n_x, n_1, ..., n_L], got {units!r}"
        )
    units = list(units)
    if len(units) < 2:
        raise ConfigurationError(
            f"units must have at least 2 entries [n_x, ..., n_L] (input and output), got {units!r}"
        )
    for i, n in enumerate(units):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ConfigurationError(
                f"units[{i}] must be a positive integer width, got {n!r} in {units!r}"
            )
    return [int(n) for n in units]


def default_loss_for(output_name: str, n_L: int) -> str:
    """Return the name of the loss that pairs with the output activation ``output_name``."""
    return {
        "sigmoid": "binary_crossentropy",
        "softmax": "categorical_crossentropy",
        "exp": "poisson",
    }.get(output_name, "mean_squared_error")


def resolve_hidden(activation, L: int):
    """Return ``([g[1], ..., g[L-1]], g[L] or None)`` from ``activation``.

    ``activation``: one name or Activation for every hidden layer, or a list of L-1 of them
    (L: the output layer's too, returned second; None otherwise).
    """
    if isinstance(activation, (list, tuple)):
        names = list(activation)
        if len(names) not in (L - 1, L):
            raise ConfigurationError(
                f"activation list must have {L - 1} entries (one per hidden layer) or {L} "
                f"(including the output layer), got {len(names)}"
            )
    else:
        names = [activation] * (L - 1)
        if L == 1 and _activations.get(activation).name != "relu":  # relu: the default
            warnings.warn(
                f"activation={_activations.get(activation).name!r} is for hidden layers, and "
                "this network has none (units [n_x, n_L]): it is not used; the output "
                "layer's is output_activation", UserWarning, stacklevel=caller_level())
    acts = [_activations.get(a) for a in names]
    output = acts.pop() if len(acts) == L else None
    for l, g in enumerate(acts, start=1):
        if g.output_only:
            raise ConfigurationError(
                f"{g.name} can only be the output activation, not hidden layer {l}'s"
            )
    return acts, output


def resolve_output(output_from_list, output_activation, loss, n_L: int):
    """Return ``(g[L], loss)``: the output activation and the loss, each defaulting to the
    other's canonical pair.

    ``output_from_list``: g[L] as the ``activation`` list gave it, or None. Without
    either, one output unit (``n_L = 1``) gets sigmoid and several get softmax.
    """
    if output_from_list is not None:
        if output_activation is not None and _activations.get(output_activation).name != \
                output_from_list.name:
            raise ConfigurationError(
                "activation lists an output activation "
                f"{output_from_list.name!r} that differs from output_activation="
                f"{output_activation!r}"
            )
        output_activation = output_from_list
    loss = _losses.get(loss) if loss is not None else None
    if output_activation is None:
        if loss is not None:
            output_activation = loss.canonical
            if not output_activation:  # a user's Loss with no canonical output
                raise ConfigurationError(
                    f"loss {type(loss).__name__} names no canonical output "
                    "activation: pass output_activation= (for instance 'sigmoid' or "
                    "'identity')"
                )
        else:
            output_activation = "sigmoid" if n_L == 1 else "softmax"
    g_L = _activations.get(output_activation)
    if loss is None:
        loss = _losses.get(default_loss_for(g_L.name, n_L))
    if loss.compatible is not None and g_L.name not in loss.compatible:
        raise ConfigurationError(
            f"loss {loss.name!r} needs an output activation in "
            f"{list(loss.compatible)}, got {g_L.name!r}"
        )
    if g_L.name == "softmax" and n_L < 2:
        raise ConfigurationError(
            "softmax needs at least 2 output units (got n_L = 1); for a binary target use "
            "output_activation='sigmoid' (--output-activation sigmoid) with 1 unit"
        )
    return g_L, loss


def resolve_dtype(dtype) -> np.dtype:
    """Return float32 or float64 from any spelling NumPy reads ("f4", np.float32...)."""
    dtype_name = getattr(parse_dtype(dtype), "name", None)
    if dtype_name not in DTYPES:
        raise ConfigurationError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return np.dtype(DTYPES[dtype_name])


def resolve_dropout(dropout, L: int) -> list[float]:
    """Return the drop probability of each hidden layer 1..L-1 (one value or one per layer)."""
    if dropout is None:
        dropout = 0.0
    if L == 1 and not isinstance(dropout, (list, tuple)) and check_fraction(
            dropout, "dropout") > 0:
        raise ConfigurationError(
            f"dropout={dropout!r} applies to hidden layers, and this network has none "
            "(units [n_x, n_L]); add hidden layers or leave dropout at 0"
        )
    rates = list(dropout) if isinstance(dropout, (list, tuple)) else [dropout] * (L - 1)
    if len(rates) != L - 1:
        raise ConfigurationError(
            f"dropout list must have {L - 1} entries (one per hidden layer), got {len(rates)}"
        )
    return [check_fraction(p, "dropout") for p in rates]
