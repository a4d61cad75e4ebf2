"""What ``fit`` checks before it trains: its keyword names, and that no fit running in another
thread uses the same objects.

:func:`check_option_names` answers a keyword ``fit`` does not take with the option it has for it
(Keras's ``validation_split``: ``validation_fraction``). :func:`one_fit_at_a_time` wraps
:func:`npdeep.training.fit` so that the network, optimizer, schedule and callback objects a fit
changes are claimed while it runs: a second fit on one of them, in another thread, is refused
(two at once would mix their updates).
"""

from __future__ import annotations

import functools
import threading

from .errors import ConfigurationError

__all__ = ["check_option_names", "one_fit_at_a_time"]


#: fit's options under the names Keras and scikit-learn give them
_FOREIGN_OPTIONS = {
    "validation_split": "validation_fraction (a stratified random share; Keras's "
                        "validation_split takes the last rows)",
    "lr": "learning_rate", "learning_rate_init": "learning_rate", "max_iter": "epochs",
    "n_epochs": "epochs", "nb_epoch": "epochs", "class_weights": "class_weight",
    "sample_weights": "sample_weight", "random_state": "seed",
}
#: the network's own options, which a Keras or PyTorch user may look for in fit
_NETWORK_OPTIONS = ("loss", "l2", "dropout", "activation", "output_activation", "init", "dtype")


@functools.cache
def _fit_options() -> tuple[str, ...]:
    """fit's keyword options (read once: every fit checks its keywords against them)."""
    import inspect

    from .training import fit

    return tuple(p for p in inspect.signature(fit).parameters if p not in ("net", "X", "Y"))


def check_option_names(names) -> None:
    """Raise TypeError, as Python would, for a name ``fit`` has no option for; the message
    names fit's option for it (``validation_split``: ``validation_fraction``)."""
    import difflib

    options = _fit_options()
    valid = [p for p in options if not p.startswith("_")]  # the private ones go unnamed
    for name in names:
        if name in options:
            continue
        if name in _FOREIGN_OPTIONS:
            hint = f"; npdeep's name for it is {_FOREIGN_OPTIONS[name]}"
        elif name in _NETWORK_OPTIONS:
            hint = f"; {name} is an option of the network: Network(units, {name}=...)"
        else:
            near = difflib.get_close_matches(name, valid, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
        raise TypeError(f"fit() got an unexpected keyword argument {name!r}{hint} (fit's "
                        f"options: {', '.join(valid)})")


#: id() of every network, optimizer, schedule and callback a fit is running with right now
#: (in any thread), with the fit's thread: two fits on one of them would corrupt both
_RUNNING: dict[int, threading.Thread] = {}
_RUNNING_LOCK = threading.Lock()


def _claim(net, options: dict) -> list[int]:
    """Mark the objects of a fit as in use; raise ConfigurationError if one already is.

    A fit changes its network, its optimizer's state (Adam's moments, the step count), its
    schedule's and its callbacks' state: two fits sharing one of them at once, in two
    threads, would each read the other's half-done updates (NaN within a few epochs).
    """
    owned = [(net, "network")]
    for key in ("optimizer", "schedule"):
        value = options.get(key)
        if value is not None and not isinstance(value, (str, dict)):
            owned.append((value, key))
    callbacks = options.get("callbacks")
    for c in callbacks if isinstance(callbacks, (list, tuple)) else ():  # else: fit refuses it
        owned.append((c, "callback"))
    with _RUNNING_LOCK:
        for obj, kind in owned:
            if id(obj) in _RUNNING:
                raise _in_use(obj, kind, _RUNNING[id(obj)].name)
        keys = [id(obj) for obj, _ in owned]
        thread = threading.current_thread()
        for key in keys:
            _RUNNING[key] = thread
    return keys


def _in_use(obj, kind: str, thread: str) -> ConfigurationError:
    if kind == "network":
        what, advice = "this network", ("fit one network from one thread at a time: wait for "
                                        "the running fit to return, or fit a copy")
    elif kind == "callback":
        what, advice = f"the callback {type(obj).__name__}", ("give each fit its own callback "
                                                              "objects")
    else:
        what = f"the {kind} object {obj!r}"
        advice = f"give each fit its own {kind}: a name or config, or a new object"
    return ConfigurationError(f"{what} is in use by a fit running now (in thread {thread!r}); "
                              f"two fits at once would mix their updates: {advice}")


def one_fit_at_a_time(train):
    """Wrap ``train`` (:func:`fit`) so that the objects it changes are claimed while it runs."""
    @functools.wraps(train)
    def fit(net, X, Y, **options):
        keys = _claim(net, options)
        try:
            return train(net, X, Y, **options)
        finally:
            with _RUNNING_LOCK:
                for key in keys:
                    _RUNNING.pop(key, None)
    return fit
