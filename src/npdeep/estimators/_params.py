"""The estimators' parameters: nested ``optimizer__<option>`` access and the checks of fit.

scikit-learn's ``get_params``/``set_params`` see each constructor argument; the optimizer and
the schedule are also reachable option by option (``optimizer__momentum=0.5``), as
GridSearchCV needs. Every fit checks every parameter here first, so a typo is refused with its
name before any training (scikit-learn's MLP does the same with its parameter constraints).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import optimizers as _optimizers
from .. import schedules as _schedules
from .._validation import check_nonneg_float
from ..callbacks import Callback
from ..errors import ConfigurationError

__all__ = ["EstimatorParams"]

# parameters whose options are reachable as ``<name>__<option>`` (GridSearchCV, set_params)
_NESTED = {"optimizer": _optimizers, "schedule": _schedules}


def _full_config(registry, value) -> dict:
    """Return the complete config of an optimizer/schedule/loss spec (defaults filled in),
    ``registry`` the module that builds it."""
    spec = value.get_config() if hasattr(value, "get_config") else value
    return registry.get(spec).get_config()


#: MLP's ``learning_rate`` schedules, which are npdeep's ``schedule`` (docs/MIGRATING.md)
_MLP_SCHEDULES = {
    "constant": "; MLP's learning_rate='constant' is schedule=None here",
    "adaptive": "; MLP's learning_rate='adaptive' is schedule=ReduceOnPlateau(monitor='cost', "
                "factor=0.2, patience=n_iter_no_change, min_delta=tol) here "
                "(npdeep.schedules)",
    "invscaling": "; MLP's learning_rate='invscaling' has no equivalent here: the nearest "
                  "schedules are 'exponential' and 'step'",
}


#: scikit-learn MLP's and Keras's names for the estimators' parameters (docs/MIGRATING.md)
_FOREIGN_PARAMS = {
    "alpha": "l2 (the same (alpha / 2m) sum ||W||^2 term; MLP's default is 1e-4, npdeep's 0)",
    "solver": "optimizer ('adam', MLP's default and npdeep's; MLP's 'sgd' with its default "
              "momentum is 'nesterov')",
    "learning_rate_init": "learning_rate", "lr": "learning_rate",
    "momentum": "optimizer='momentum' (or 'nesterov') with optimizer__momentum",
    "nesterovs_momentum": "optimizer='nesterov' (False: optimizer='momentum')",
    "beta_1": "optimizer__beta1", "beta_2": "optimizer__beta2", "epsilon": "optimizer__epsilon",
    "power_t": "schedule (MLP's invscaling has no equivalent; the nearest schedules are "
               "'exponential' and 'step')",
    "max_fun": "none: npdeep trains by gradient descent only (no lbfgs)",
    "epochs": "max_iter", "validation_split": "validation_fraction", "seed": "random_state",
}


def foreign_param_hint(name: str) -> str:
    """``'; npdeep's name for it is l2 (...)'`` for an MLP or Keras name, else ``''``."""
    return f"; npdeep's name for it is {_FOREIGN_PARAMS[name]}" if name in _FOREIGN_PARAMS \
        else ""


def _and(names: list[str]) -> str:
    """``'a, b and c'``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


class EstimatorParams:
    """Mixin before ``sklearn.base.BaseEstimator``: nested parameters and their checks."""

    #: the parameters reachable option by option, and the module that builds each
    #: (DeepRegressor adds ``loss``: ``loss__delta`` of huber)
    _nested = _NESTED

    def __new__(cls, *args, **kwargs):
        """Answer an MLP or Keras parameter name with npdeep's (``alpha``: ``l2``), as the
        TypeError Python would raise for it, before ``__init__`` runs."""
        import inspect

        own = inspect.signature(cls.__init__).parameters
        for name in kwargs:
            if name not in own and name in _FOREIGN_PARAMS:
                raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument "
                                f"{name!r}{foreign_param_hint(name)}")
        return super().__new__(cls)

    def get_params(self, deep: bool = True) -> dict:
        """Return the parameters; with ``deep``, also ``optimizer__<option>`` and
        ``schedule__<option>`` for every option of the optimizer and schedule (defaults too)."""
        params = super().get_params(deep=deep)
        if deep:
            for name, registry in self._nested.items():
                value = getattr(self, name, None)
                try:
                    config = {} if value is None else _full_config(registry, value)
                except (ConfigurationError, TypeError, ValueError):
                    continue  # an invalid spec is reported by fit, not by get_params
                params.update({f"{name}__{k}": v for k, v in config.items() if k != "name"})
        return params

    def set_params(self, **params):
        """Set parameters; ``optimizer__momentum=0.5`` changes one option of the optimizer.

        The optimizer (or schedule) becomes its config dict with that option replaced, e.g.
        ``{"name": "momentum", "momentum": 0.5}``; an option it does not have is refused.
        """
        nested: dict[str, dict] = {}
        for key in [k for k in params if k.partition("__")[0] in self._nested and "__" in k]:
            name, _, option = key.partition("__")
            if option == "name":
                raise ConfigurationError(
                    f"cannot set {key}: choose another {name} with {name}="
                    f"{params[key]!r:.60} (or a config dict), not {key}"
                )
            nested.setdefault(name, {})[option] = params.pop(key)
        valid = self.get_params(deep=False)
        for key in params:
            if key not in valid and key in _FOREIGN_PARAMS:  # scikit-learn's own ValueError
                raise ValueError(f"Invalid parameter {key!r} for estimator "
                                 f"{type(self).__name__}{foreign_param_hint(key)}. Valid "
                                 f"parameters are: {sorted(valid)!r}.")
            name, sep, _ = key.partition("__")
            if sep and name in valid and not hasattr(valid[name], "set_params"):
                # scikit-learn would call set_params on the value: an AttributeError
                raise ConfigurationError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}: "
                    f"{name} ({valid[name]!r:.60}) has no nested parameters; only "
                    f"{_and([f'{n}__<option>' for n in self._nested])} are nested"
                )
        super().set_params(**params)
        for name, options in nested.items():
            setattr(self, name, self._nested_config(name, options))
        return self

    def _nested_config(self, name: str, options: dict) -> dict:
        """Return parameter ``name``'s config with ``options`` replaced, checked."""
        keys = ", ".join(f"{name}__{k}" for k in options)
        value = getattr(self, name)
        if value is None:
            raise ConfigurationError(
                f"cannot set {keys}: {name} is None; give {name} a name or config dict first"
            )
        try:
            current = _full_config(self._nested[name], value)
            unknown = [k for k in options if k not in current]
            if unknown:
                own = [k for k in unknown if k in self.get_params(deep=False)]
                mine = f"; {own[0]} is a parameter of the estimator itself" if own else ""
                raise ConfigurationError(
                    f"invalid options for {name} {current['name']!r}: {unknown!r:.100} (its "
                    f"options: {', '.join(k for k in current if k != 'name') or 'none'}){mine}"
                )
            config = {**current, **options}
            self._nested[name].get(config)
        except ConfigurationError as exc:
            raise ConfigurationError(f"cannot set {keys}: {exc}") from None
        return value if config == current else config  # set_params(**get_params()) is a no-op

    def _units(self, n_x: int, n_L: int) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            hidden = list(sizes)
        except TypeError:
            hidden = None
        if hidden is None or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0 for n in hidden
        ):
            raise ConfigurationError(
                "hidden_layer_sizes must be a list of positive integers (n_1, ..., n_{L-1}), "
                f"got {self.hidden_layer_sizes!r}"
            )
        return [n_x, *(int(n) for n in hidden), n_L]

    def _check_flags(self) -> None:
        """Refuse an early_stopping or warm_start that is not a bool: "no" would be true."""
        for name in ("early_stopping", "warm_start"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ConfigurationError(f"{name} must be True or False, got {value!r:.60}")

    def _check_params(self) -> None:
        self._check_flags()
        if isinstance(self.learning_rate, str):  # MLP's learning_rate is its schedule
            hint = _MLP_SCHEDULES.get(self.learning_rate, "")
            raise ConfigurationError(
                f"learning_rate must be a finite number > 0 (MLP's learning_rate_init), got "
                f"{self.learning_rate!r:.60}{hint}"
            )
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ConfigurationError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.tol, bool) or not isinstance(self.tol, numbers.Real) \
                or not np.isfinite(self.tol) or self.tol < 0:
            raise ConfigurationError(f"tol must be a finite number >= 0, got {self.tol!r}")
        vf = self.validation_fraction
        if isinstance(vf, bool) or not isinstance(vf, numbers.Real) or not 0 <= vf < 1:
            raise ConfigurationError(f"validation_fraction must be a number in [0, 1), got {vf!r}")
        if self.early_stopping and vf == 0:
            raise ConfigurationError(
                "validation_fraction must be in (0, 1) with early_stopping=True, got 0"
            )
        rs = self.random_state
        if not (rs is None or isinstance(rs, (np.random.RandomState, np.random.Generator))
                or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and rs >= 0)):
            raise ConfigurationError(
                "random_state must be None, an integer >= 0, a numpy RandomState or a numpy "
                f"Generator, got {rs!r}"
            )
        check_nonneg_float(self.l2, "l2")
        cbs = self.callbacks
        if not (cbs is None or isinstance(cbs, (list, tuple))
                and all(isinstance(c, Callback) for c in cbs)):
            raise ConfigurationError(
                f"callbacks must be None or a list of Callback objects (npdeep.callbacks), got "
                f"{cbs!r:.100}"
            )
        bs = self.batch_size
        if not (bs is None or bs == "auto" or (isinstance(bs, numbers.Integral)
                                                and not isinstance(bs, bool) and bs > 0)):
            raise ConfigurationError(
                f"batch_size must be 'auto', None (full batch) or an integer >= 1, got {bs!r}"
            )
