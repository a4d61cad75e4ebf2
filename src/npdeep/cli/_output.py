"""What commands print: one JSON object (``--json``), or text for a person."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import click
import numpy as np


def jsonable(obj: Any) -> Any:
    """Return ``obj`` with NumPy values, paths, non-finite floats and a RandomState (as
    ``"RandomState(MT19937)"``) made JSON-safe."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.random.RandomState):  # an estimator's random_state, from its file
        return without_address(repr(obj))
    return obj


def without_address(text: str) -> str:
    """Return an object's repr without its ``at 0x7f...`` (which changes every run)."""
    return re.sub(r" at 0x[0-9A-Fa-f]+", "", text)


def emit(as_json: bool, result: dict, text: str | None) -> None:
    """Print ``result`` as JSON, or ``text`` for a person."""
    if as_json:
        click.echo(json.dumps(jsonable({"ok": True, **result}), indent=2))
    elif text:
        click.echo(text)


def fmt(value: Any, digits: int = 4) -> str:
    """Format a number for people (``-`` for None): ``digits`` decimals, or ``digits``
    significant digits for values of 1e5 and more, or below 1e-3 (an MSE of 2.3e-9 read
    ``0.0000``)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        plain = value == 0 or 1e-3 <= abs(value) < 1e5 or not math.isfinite(value)
        return f"{value:.{digits}f}" if plain else f"{value:.{digits}g}"
    return str(value)
