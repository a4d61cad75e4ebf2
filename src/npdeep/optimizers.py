"""Update rules: how the parameters theta move given their gradient g.

Every optimizer works on the network's flat buffers (see :mod:`npdeep.parameters`):
``theta`` holds every W[l] and b[l], ``g`` every dW[l] and db[l], and each state buffer
(velocity, moments...) has the same layout, so its per-parameter views carry the
parameters' own keys ``'W1', 'b1', ...`` (:meth:`Optimizer.state_views`). An update is a
fixed, small number of NumPy calls on whole buffers, whatever the depth, and allocates
nothing: the gradient buffer is used as scratch.

| name      | update (t counts steps from 1, lr is the learning rate)                       |
|-----------|-------------------------------------------------------------------------------|
| sgd       | theta <- theta - lr g                                                         |
| momentum  | v <- mu v + g;  theta <- theta - lr v            (heavy ball, PyTorch's form) |
| nesterov  | v <- mu v + g;  theta <- theta - lr (g + mu v)   (PyTorch's form)             |
| rmsprop   | s <- rho s + (1 - rho) g^2;  theta <- theta - lr g / (sqrt(s) + eps)          |
| adam      | m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;                            |
|           | theta <- theta - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)           |
| adamw     | theta <- theta - lr wd theta (weights W[l] only), then the adam step          |
"""

from __future__ import annotations

import numpy as np

from ._registry import build, family
from ._validation import check_fraction, check_nonneg_float, check_positive_float
from .errors import ConfigurationError
from .parameters import Layout

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "RMSprop", "Adam", "AdamW", "get",
           "NAMES"]


class Optimizer:
    """Base class. Subclasses name their state buffers and implement :meth:`update`.

    Attributes
    ----------
    state : dict
        ``{state_name: flat buffer (size,)}``; see :meth:`state_views` for per-parameter views.
    t : int
        Number of steps taken.
    """

    name: str = ""
    state_names: tuple[str, ...] = ()
    #: state buffers that hold running means of g^2: never negative (their square root is taken)
    squares: tuple[str, ...] = ()

    def __init__(self):
        self.layout: Layout | None = None
        self.state: dict[str, np.ndarray] = {}
        self.t = 0

    def setup(self, layout: Layout) -> None:
        """Allocate zeroed state buffers for ``layout``.

        The state is kept only for the very layout it was built for: the same network trained
        again continues (as a PyTorch or Keras optimizer does), while another network, even of
        the same size, starts from zero.
        """
        if self.layout is layout:
            return
        self.layout = layout
        self.state = {n: layout.zeros() for n in self.state_names}
        self.t = 0
        self._setup_scratch(layout)

    def _setup_scratch(self, layout: Layout) -> None:
        """Allocate buffers that are not state (not saved)."""

    def step(self, theta: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """Apply one update in place to ``theta`` (size,). ``grad`` (size,) is overwritten."""
        self.t += 1
        self.update(theta, grad, lr)

    def update(self, theta: np.ndarray, grad: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def state_views(self, name: str) -> dict[str, np.ndarray]:
        """Return state buffer ``name`` as ``{'W1': ..., 'b1': ...}`` views."""
        return self.layout.views(self.state[name])

    # -------------------------------------------------------------- saving and resuming
    def state_arrays(self, prefix: str = "optimizer.") -> dict[str, np.ndarray]:
        """Return every state buffer per parameter: ``{'optimizer.m.W1': view, ...}``."""
        return {f"{prefix}{n}.{k}": v for n in self.state_names
                for k, v in self.state_views(n).items()}

    def load_state(self, layout: Layout, t: int, arrays: dict, prefix: str = "optimizer.") -> None:
        """Restore ``t`` and the state buffers from :meth:`state_arrays`' mapping."""
        self.layout = None
        self.setup(layout)
        self.t = int(t)
        for n in self.state_names:
            for k, view in self.state_views(n).items():
                key = f"{prefix}{n}.{k}"
                if key not in arrays:
                    raise ConfigurationError(f"optimizer state {key!r} missing for {self.name}")
                value = np.asarray(arrays[key])
                if value.shape != view.shape:  # never broadcast a (1,) or () array over W
                    raise ConfigurationError(f"optimizer state {key!r} has shape {value.shape}, "
                                             f"the parameter needs {view.shape}")
                if value.dtype.kind not in "biuf" or not np.isfinite(value).all():
                    raise ConfigurationError(f"optimizer state {key!r} must hold finite real "
                                             f"numbers (dtype {value.dtype})")
                if n in self.squares and (value < 0).any():  # sqrt would make NaN steps
                    raise ConfigurationError(f"optimizer state {key!r} is a mean of squared "
                                             f"gradients: it must hold numbers >= 0")
                with np.errstate(over="ignore"):
                    np.copyto(view, value, casting="unsafe")
                if not np.isfinite(view).all():  # float64 values beyond a float32 network's
                    raise ConfigurationError(f"optimizer state {key!r} has values too large "
                                             f"for {view.dtype.name}, the network's dtype")

    def get_config(self) -> dict:
        """Return the JSON-serialisable hyper-parameters (``name`` included)."""
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain gradient descent, the article's rule: ``theta <- theta - lr * g``."""

    name = "sgd"

    def update(self, theta, grad, lr):
        grad *= lr
        theta -= grad


class Momentum(Optimizer):
    """Gradient descent with heavy-ball momentum (PyTorch's form, no dampening).

    ``v <- mu * v + g``, then ``theta <- theta - lr * v``. (The course form
    ``v <- mu v + (1 - mu) g`` is this one with the learning rate scaled by ``1 - mu``.)

    Parameters
    ----------
    momentum : float in [0, 1)
        ``mu``.
    """

    name = "momentum"
    state_names = ("velocity",)

    def __init__(self, momentum: float = 0.9):
        super().__init__()
        self.momentum = check_fraction(momentum, "momentum")

    def update(self, theta, grad, lr):
        v = self.state["velocity"]
        v *= self.momentum
        v += grad
        np.multiply(v, lr, out=grad)
        theta -= grad

    def get_config(self):
        return {"name": self.name, "momentum": self.momentum}


class Nesterov(Momentum):
    """Nesterov momentum (PyTorch's form): ``v <- mu v + g``, ``theta <- theta - lr (g + mu v)``."""

    name = "nesterov"

    def update(self, theta, grad, lr):
        v = self.state["velocity"]
        v *= self.momentum
        v += grad
        # g + mu v, built in the scratch gradient buffer
        np.multiply(v, self.momentum, out=self._tmp)
        grad += self._tmp
        grad *= lr
        theta -= grad

    def _setup_scratch(self, layout):
        self._tmp = layout.zeros()


class RMSprop(Optimizer):
    """RMSprop: ``s <- rho s + (1 - rho) g^2``, ``theta <- theta - lr g / (sqrt(s) + eps)``.

    Parameters
    ----------
    rho : float in [0, 1)
    epsilon : float > 0
    """

    name = "rmsprop"
    state_names = ("square_avg",)
    squares = ("square_avg",)

    def __init__(self, rho: float = 0.9, epsilon: float = 1e-8):
        super().__init__()
        self.rho = check_fraction(rho, "rho")
        self.epsilon = check_positive_float(epsilon, "epsilon")

    def _setup_scratch(self, layout):
        self._tmp = layout.zeros()

    def update(self, theta, grad, lr):
        s, tmp = self.state["square_avg"], self._tmp
        s *= self.rho
        np.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - self.rho
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.epsilon
        np.divide(grad, tmp, out=grad)
        grad *= lr
        theta -= grad

    def get_config(self):
        return {"name": self.name, "rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba, 2015), eps outside the square root.

    ``m <- b1 m + (1 - b1) g``; ``v <- b2 v + (1 - b2) g^2``;
    ``theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)``.

    Parameters
    ----------
    beta1, beta2 : float in [0, 1)
    epsilon : float > 0
    """

    name = "adam"
    state_names = ("m", "v")
    squares = ("v",)

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8):
        super().__init__()
        self.beta1 = check_fraction(beta1, "beta1")
        self.beta2 = check_fraction(beta2, "beta2")
        self.epsilon = check_positive_float(epsilon, "epsilon")

    def _setup_scratch(self, layout):
        self._tmp = layout.zeros()

    def update(self, theta, grad, lr):
        m, v, tmp = self.state["m"], self.state["v"], self._tmp
        b1, b2, t = self.beta1, self.beta2, self.t
        m *= b1
        np.multiply(grad, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(grad, grad, out=grad)
        grad *= 1.0 - b2
        v += grad
        # lr m_hat / (sqrt(v_hat) + eps) == (lr c2 / c1) m / (sqrt(v) + eps c2),
        # with c1 = 1 - b1^t and c2 = sqrt(1 - b2^t): one pass fewer over the buffers
        c2 = np.sqrt(1.0 - b2**t)
        np.sqrt(v, out=tmp)
        tmp += self.epsilon * c2
        np.divide(m, tmp, out=tmp)
        tmp *= lr * c2 / (1.0 - b1**t)
        theta -= tmp

    def get_config(self):
        return {"name": self.name, "beta1": self.beta1, "beta2": self.beta2,
                "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    ``theta <- theta - lr * wd * theta`` on the weights W[l] (biases are not decayed), then
    the :class:`Adam` step with the same ``lr``.

    Parameters
    ----------
    weight_decay : float >= 0
        ``wd``.
    """

    name = "adamw"

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(beta1, beta2, epsilon)
        self.weight_decay = check_nonneg_float(weight_decay, "weight_decay")

    def _setup_scratch(self, layout):
        super()._setup_scratch(layout)
        self._mask = layout.zeros()
        for key, view in layout.views(self._mask).items():
            if key.startswith("W"):
                view[...] = 1.0

    def update(self, theta, grad, lr):
        if self.weight_decay:
            np.multiply(theta, self._mask, out=self._tmp)
            self._tmp *= lr * self.weight_decay
            theta -= self._tmp
        super().update(theta, grad, lr)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


_REGISTRY: dict[str, type[Optimizer]] = {
    "sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "rmsprop": RMSprop,
    "adam": Adam, "adamw": AdamW,
}
_ALIASES = {"gd": "sgd", "gradient_descent": "sgd"}
family("optimizer", Optimizer, _REGISTRY, _ALIASES)

#: The valid optimizer names (alias: gd, gradient_descent for sgd).
NAMES: tuple[str, ...] = tuple(_REGISTRY)


def names() -> tuple[str, ...]:
    return NAMES


def get(spec) -> Optimizer:
    """Return a fresh optimizer from a name, a config dict or an Optimizer (returned as is).

    >>> get("adam")
    Adam(beta1=0.9, beta2=0.999, epsilon=1e-08)
    >>> get({"name": "momentum", "momentum": 0.5})
    Momentum(momentum=0.5)
    """
    return build(spec, "optimizer", Optimizer, _REGISTRY, _ALIASES)
