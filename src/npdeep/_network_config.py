"""How a :class:`~npdeep.network.Network` describes itself: the architecture as a JSON dict
(``get_config`` / ``from_config``), the state that pickling and ``copy.deepcopy`` carry, and
the ``repr`` that reads as Python.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ._registry import recorded_config
from .errors import ConfigurationError
from .parameters import Parameters

#: The keys of :meth:`Network.get_config`, the constructor's arguments.
CONFIG_KEYS = ("units", "activation", "output_activation", "loss", "init", "dtype", "l2",
               "dropout", "seed")


def _spec(component):
    """An activation's or a loss's name, or its config dict when it has options."""
    config = component.get_config()
    return config["name"] if len(config) == 1 else config


def get_config(net) -> dict:
    """Return the JSON-serialisable architecture of ``net`` (enough to rebuild it)."""
    loss = recorded_config(net.loss)
    return {
        "units": list(net.units),
        "activation": [recorded_config(g) for g in net.activations[1:-1]],
        "output_activation": recorded_config(net.output_activation),
        "loss": loss["name"] if len(loss) == 1 else loss,  # a registered loss's options too
        "init": net.init,
        "dtype": net.dtype.name,
        "l2": net.l2,
        "dropout": list(net.dropout),
        "seed": int(net.seed) if net.seed is not None else None,
    }


def from_config(cls, config: dict):
    """Return ``cls(**config)`` for :func:`get_config`'s dict, its keys checked first."""
    if not isinstance(config, Mapping):
        raise ConfigurationError(f"config must be a dict such as get_config() returns, got "
                                 f"{config!r:.100}")
    unknown = sorted(str(k) for k in set(config) - set(CONFIG_KEYS))
    if unknown or "units" not in config:
        problem = f"unknown keys {unknown}" if unknown else "no 'units'"
        raise ConfigurationError(f"config has {problem}; its keys are "
                                 f"{', '.join(CONFIG_KEYS)} (units required)")
    config = dict(config)
    acts = config.pop("activation", None) or "relu"
    return cls(activation=acts, **config)


#: Attributes rebuilt on unpickling rather than carried: views of a flat buffer, and scratch.
_REBUILT = ("_parameters", "layers", "grad_layers", "_local", "grad_flat")


def get_state(net) -> dict:
    """Return ``net``'s attributes without the views of its flat buffers, plus ``'_flat'``.

    ``'_flat'`` is the flat parameter buffer (every W[l] and b[l]); the gradient buffer,
    scratch of every step, is rebuilt as zeros.
    """
    state = net.__dict__.copy()
    for key in _REBUILT:
        state.pop(key)
    state["_flat"] = net._parameters.flat
    return state


def set_state(net, state: dict) -> None:
    """Restore ``net`` from :func:`get_state`'s dict: W[l], b[l] views of the one flat buffer."""
    flat = state.pop("_flat")
    net.__dict__.update(state)
    net._parameters = Parameters(net.layout, flat)
    net.layers = net.layout.layer_views(flat)
    net.grad_flat = net.layout.zeros()
    net.grad_layers = net.layout.layer_views(net.grad_flat)
    net._local = threading.local()


def network_repr(net) -> str:
    """Return valid Python for the architecture (weights aside): ``Network(units=[...], ...)``."""
    hidden = [_spec(g) for g in net.activations[1:-1]]
    activation = hidden[0] if hidden and all(h == hidden[0] for h in hidden) else hidden
    extra = ""
    if any(net.dropout):
        extra += f", dropout={list(net.dropout)!r}"
    if net.l2:
        extra += f", l2={net.l2!r}"
    if net.seed is not None:
        extra += f", seed={int(net.seed)!r}"
    return (
        f"Network(units={net.units}, activation={activation!r}, "
        f"output_activation={_spec(net.output_activation)!r}, loss={_spec(net.loss)!r}, "
        f"init={net.init!r}, dtype={net.dtype.name!r}{extra})"
    )
