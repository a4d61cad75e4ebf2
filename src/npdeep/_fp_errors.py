"""NumPy's floating-point warnings during a fit: silenced once per fit, given back to the
callbacks' code that is not npdeep's.

A run that diverges overflows ``W[l]·a[l-1]``, ``exp`` and the cost's products epochs before
its gradients become NaN, and NumPy warns of each (``RuntimeWarning: overflow encountered in
dot``, ``invalid value encountered in multiply``...). npdeep says it itself, once and in
words: the NaN guard's stop reason, the diagnosis's "training diverged". So
:func:`npdeep.training.fit` enters ``np.errstate(**quieted(np.geterr()))`` once around its
loop (never per step: an errstate costs a tiny network's step a measurable share), and
:class:`~npdeep.callbacks.CallbackList` runs each hook written outside npdeep (a user's
Callback subclass, a LambdaCallback's functions) through :func:`in_callers_state`, under the
settings the caller had, so that its own overflows still warn. Code the loop itself calls
stays silenced with it, a registered activation, loss, optimizer or schedule of the user's
included: it is part of the kernels, whose overflow the NaN guard reports.

Only ``"warn"`` becomes ``"ignore"``: a caller's ``np.errstate(all="raise")`` still raises
FloatingPointError from the kernels, as it did.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["quieted", "in_callers_state"]

#: the floating-point errors a diverging run meets (underflow warns in no default setting)
_KINDS = ("over", "invalid", "divide")


def quieted(outer: dict) -> dict:
    """Return ``np.errstate`` keywords silencing what ``outer`` (``np.geterr()``) warns of.

    A kind set to anything but ``"warn"`` (``"raise"``, ``"ignore"``, ``"print"``...) is left
    as the caller set it; ``{}`` when none warns.
    """
    return {kind: "ignore" for kind in _KINDS if outer[kind] == "warn"}


def in_callers_state(hook, outer: dict | None):
    """Return ``hook``, or, for code written outside npdeep with ``outer`` given, a function
    that calls it under the caller's errstate ``outer`` (``np.geterr()`` before the fit).

    npdeep's own callbacks run silenced with the loop; a function counts as npdeep's when
    its ``__module__`` is npdeep's (a LambdaCallback's functions are the user's).
    """
    if outer is None or _npdeep_code(hook):
        return hook
    return functools.partial(_call_under, outer, hook)


def _npdeep_code(fn) -> bool:
    module = getattr(fn, "__module__", None) or ""
    return module == "npdeep" or module.startswith("npdeep.")


def _call_under(outer: dict, hook, *args):
    with np.errstate(**outer):
        return hook(*args)
