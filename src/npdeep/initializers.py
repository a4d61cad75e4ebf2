"""Weight initializers: how W[l] (n[l], n[l-1]) and b[l] (n[l], 1) start.

Each initializer draws from a ``numpy.random.Generator`` passed in, never from global
state, so the same seed gives the same weights bit for bit.

| name      | W[l]                                              | b[l] |
|-----------|---------------------------------------------------|------|
| article   | uniform [0, 1) (the article's ``np.random.rand``) | 0    |
| glorot    | uniform +-sqrt(6 / (n[l-1] + n[l]))               | 0    |
| he        | normal, std sqrt(2 / n[l-1])                      | 0    |
| lecun     | normal, std sqrt(1 / n[l-1])                      | 0    |
| normal    | normal, std 0.01                                  | 0    |

``article`` exists for fidelity only: all-positive weights saturate deep sigmoid
networks, which then barely learn. The default follows the first hidden layer's activation:
``he`` for the relu-like ones (relu, leaky_relu, elu, softplus, gelu, silu: about half of
each unit's input variance passes, He et al.'s factor 2 restores it), ``lecun`` for selu (the
LeCun-normal weights its self-normalizing fixed point of mean 0 and variance 1 assumes,
Klambauer et al. 2017), ``glorot`` otherwise (sigmoid, tanh, identity).
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigurationError

__all__ = ["initialize", "default_for", "NAMES"]


def _article(rng, n_out, n_in):
    return rng.random((n_out, n_in))


def _glorot(rng, n_out, n_in):
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_out, n_in))


def _he(rng, n_out, n_in):
    return rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)


def _lecun(rng, n_out, n_in):
    return rng.standard_normal((n_out, n_in)) * np.sqrt(1.0 / n_in)


def _normal(rng, n_out, n_in):
    return rng.standard_normal((n_out, n_in)) * 0.01


_REGISTRY = {"article": _article, "glorot": _glorot, "he": _he, "lecun": _lecun,
             "normal": _normal}
_ALIASES = {"xavier": "glorot", "kaiming": "he", "uniform": "article", "lecun_normal": "lecun"}

#: The hidden activations whose default initializer is ``he``.
HE_DEFAULT: tuple[str, ...] = ("relu", "leaky_relu", "elu", "softplus", "gelu", "silu")
#: The hidden activations whose default initializer is ``lecun``.
LECUN_DEFAULT: tuple[str, ...] = ("selu",)

#: The valid initializer names (aliases: xavier, kaiming, lecun_normal).
NAMES: tuple[str, ...] = tuple(_REGISTRY)


def check_name(name: str) -> str:
    """Return the canonical initializer name, or raise ConfigurationError listing valid ones."""
    key = _ALIASES.get(str(name).lower(), str(name).lower()) if isinstance(name, str) else None
    if key not in _REGISTRY:
        raise ConfigurationError(f"unknown initializer {name!r}; valid names: {', '.join(NAMES)}")
    return key


def default_for(hidden_activation_names: list[str]) -> str:
    """Return the default initializer for the first hidden layer's activation.

    ``"he"`` for the relu-like ones (:data:`HE_DEFAULT`), ``"lecun"`` for selu
    (:data:`LECUN_DEFAULT`), ``"glorot"`` otherwise (also without hidden layers).
    """
    first = hidden_activation_names[0] if hidden_activation_names else "sigmoid"
    if first in HE_DEFAULT:
        return "he"
    return "lecun" if first in LECUN_DEFAULT else "glorot"


def initialize(name: str, units: list[int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw float64 parameters for a network of ``units = [n_x, n_1, ..., n_L]``.

    Layers are drawn in order 1..L, W[l] before b[l]; biases start at zero.

    Returns
    -------
    dict with keys ``'W1', 'b1', ..., 'WL', 'bL'``: W[l] (n[l], n[l-1]), b[l] (n[l], 1).
    """
    draw = _REGISTRY[check_name(name)]
    params = {}
    for l in range(1, len(units)):
        params[f"W{l}"] = draw(rng, units[l], units[l - 1])
        params[f"b{l}"] = np.zeros((units[l], 1))
    return params
