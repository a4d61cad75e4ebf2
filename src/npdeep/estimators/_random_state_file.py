"""An estimator's ``random_state`` given as a ``numpy.random.RandomState``, stored in a model
file's header as its MT19937 state (never pickled) and rebuilt, checked, on load.

``params.random_state`` is then the JSON object::

    {"__random_state__": {"bit_generator": "MT19937", "key": [624 integers in [0, 2**32)],
                          "pos": 0..624, "has_gauss": 0 or 1, "cached_gaussian": float}}

the fields of :meth:`numpy.random.RandomState.get_state`, as of the save: the loaded
estimator's RandomState draws what the saved one would have drawn next, so refitting either
gives the same weights. A ``numpy.random.Generator``, which scikit-learn's
``check_random_state`` does not take, is refused.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ConfigurationError, ModelFileError

__all__ = ["random_state_to_json", "random_state_from_json", "is_saved_random_state"]

TAG = "__random_state__"
N_KEYS = 624  # MT19937's state: 624 words of 32 bits
_FIELDS = ("bit_generator", "key", "pos", "has_gauss", "cached_gaussian")


def random_state_to_json(value: Any) -> Any:
    """Return a RandomState as its tagged state; refuse a Generator; anything else as is."""
    if isinstance(value, np.random.Generator):
        raise ConfigurationError(
            f"cannot save random_state=Generator({type(value.bit_generator).__name__}) in a "
            "model file: a numpy Generator is not "
            "stored (scikit-learn's check_random_state does not accept one either); pass an "
            "int or a numpy RandomState"
        )
    if not isinstance(value, np.random.RandomState):
        return value
    state = value.get_state(legacy=False)
    if state["bit_generator"] != "MT19937":
        raise ConfigurationError(
            f"cannot save random_state=RandomState({state['bit_generator']}) in a model file: "
            "only a RandomState of the MT19937 bit generator (np.random.RandomState(seed)) is "
            "stored; pass an int or such a RandomState"
        )
    return {TAG: {"bit_generator": "MT19937",
                  "key": state["state"]["key"].tolist(),
                  "pos": int(state["state"]["pos"]),
                  "has_gauss": int(state["has_gauss"]),
                  "cached_gaussian": float(state["gauss"])}}


def is_saved_random_state(value: Any) -> bool:
    """Tell whether a header's ``random_state`` is a tagged RandomState state."""
    return isinstance(value, dict) and set(value) == {TAG}


def _is_int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def random_state_from_json(value: dict, where: str) -> np.random.RandomState:
    """Return the RandomState a file's tagged state describes, every field checked."""
    state = value[TAG]

    def refuse(what: str, got: Any) -> ModelFileError:
        return ModelFileError(f"{where}: params random_state must be a RandomState's MT19937 "
                              f"state: {what}, got {got!r:.100}")

    if not isinstance(state, dict) or set(state) != set(_FIELDS):
        raise refuse(f"an object with exactly the keys {list(_FIELDS)}", state)
    if state["bit_generator"] != "MT19937":
        raise refuse("bit_generator 'MT19937'", state["bit_generator"])
    key = state["key"]
    if not isinstance(key, list) or len(key) != N_KEYS:
        got = f"a list of {len(key)}" if isinstance(key, list) else f"{key!r:.100}"
        raise ModelFileError(f"{where}: params random_state must be a RandomState's MT19937 "
                             f"state: key a list of {N_KEYS} integers, got {got}")
    bad = next((i for i, k in enumerate(key) if not _is_int(k, 0, 2**32 - 1)), None)
    if bad is not None:
        raise refuse(f"key integers in [0, 2**32) (key[{bad}])", key[bad])
    if key[0] < 2**31 and not any(key[1:]):  # MT19937 would draw zeros for ever
        raise refuse("key not all zero (a state MT19937 never reaches)", "zeros")
    if not _is_int(state["pos"], 0, N_KEYS):
        raise refuse(f"pos an integer in [0, {N_KEYS}]", state["pos"])
    if not _is_int(state["has_gauss"], 0, 1):
        raise refuse("has_gauss 0 or 1", state["has_gauss"])
    gauss = state["cached_gaussian"]
    if type(gauss) not in (int, float) or not math.isfinite(gauss):
        raise refuse("cached_gaussian a finite number", gauss)
    random_state = np.random.RandomState(0)
    random_state.set_state(("MT19937", np.array(key, dtype=np.uint32), state["pos"],
                            state["has_gauss"], float(gauss)))
    return random_state
