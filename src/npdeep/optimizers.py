"""Update rules: how the parameters theta move given their gradient.

Every optimizer works on the network's flat buffers (see :mod:`npdeep.parameters`):
``theta`` holds every W[l] and b[l], ``grad`` every dW[l] and db[l], and each state buffer
(velocity, moments...) has the same layout, so its per-parameter views carry the
parameters' own keys ``'W1', 'b1', ...``. An update is a fixed, small number of NumPy
calls whatever the depth.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigurationError
from .parameters import Layout

__all__ = ["Optimizer", "SGD", "get", "NAMES"]


class Optimizer:
    """Base class. Subclasses name their state buffers and implement :meth:`update`."""

    name: str = ""
    state_names: tuple[str, ...] = ()

    def __init__(self):
        self.layout: Layout | None = None
        self.state: dict[str, np.ndarray] = {}
        self.t = 0

    def setup(self, layout: Layout) -> None:
        """Allocate zeroed state buffers for ``layout`` (kept when the layout is unchanged)."""
        if self.layout is not None and self.layout.size == layout.size \
                and self.layout.dtype == layout.dtype:
            return
        self.layout = layout
        self.state = {n: layout.zeros() for n in self.state_names}
        self.t = 0

    def step(self, theta: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """Apply one update in place. ``grad`` may be overwritten (it is scratch)."""
        self.t += 1
        self.update(theta, grad, lr)

    def update(self, theta: np.ndarray, grad: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def state_views(self, name: str) -> dict[str, np.ndarray]:
        """Return state buffer ``name`` as ``{'W1': ..., 'b1': ...}`` views."""
        return self.layout.views(self.state[name])

    def get_config(self) -> dict:
        """Return the JSON-serialisable hyper-parameters (``name`` included)."""
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain gradient descent, the article's rule: ``theta <- theta - lr * grad``."""

    name = "sgd"

    def update(self, theta, grad, lr):
        grad *= lr
        theta -= grad


_REGISTRY: dict[str, type[Optimizer]] = {"sgd": SGD}
_ALIASES = {"gd": "sgd", "gradient_descent": "sgd"}


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


NAMES = names()


def get(spec) -> Optimizer:
    """Return a fresh optimizer from a name, a config dict or an Optimizer (returned as is)."""
    if isinstance(spec, Optimizer):
        return spec
    config: dict = {}
    if isinstance(spec, dict):
        config = dict(spec)
        spec = config.pop("name", None)
    if not isinstance(spec, str):
        raise ConfigurationError(
            f"optimizer must be a name or an Optimizer, got {spec!r}; "
            f"valid names: {', '.join(_REGISTRY)}"
        )
    key = _ALIASES.get(spec.lower(), spec.lower())
    if key not in _REGISTRY:
        raise ConfigurationError(
            f"unknown optimizer {spec!r}; valid names: {', '.join(_REGISTRY)}"
        )
    return _REGISTRY[key](**config)
