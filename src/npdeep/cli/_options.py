"""Options every command shares: ``--json``, and the option types for finite floats and seeds.

``--json`` records itself in the click context (``JSON_META``), so that :func:`npdeep.cli.run`
prints an error as JSON too.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import click

JSON_META = "npdeep.json"


def _remember_json(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta[JSON_META] = True
    return value


def json_option(f: Callable) -> Callable:
    """Add ``--json``: the result as one JSON object on standard output (errors too)."""
    return click.option(
        "--json", "as_json", is_flag=True, is_eager=True, callback=_remember_json,
        help="Print the result as one JSON object on standard output.",
    )(f)


class FiniteFloatRange(click.FloatRange):
    """:class:`click.FloatRange` that also refuses ``nan`` and ``inf`` (a usage error)."""

    def convert(self, value, param, ctx):
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


#: A seed every random draw accepts (scikit-learn's splits need it below 2**32).
SEED = click.IntRange(0, 2**32 - 1)


def max_elements_option(f: Callable) -> Callable:
    """Add ``--max-elements N``: the cap on the array elements read from MODEL."""
    return click.option(
        "--max-elements", "max_elements", type=click.IntRange(1), default=None, metavar="N",
        help="Largest total number of array elements to read from MODEL [default: 2**28, "
             "2 GiB of float64]; raise it for a larger model file you trust (a checkpoint's "
             "optimizer state is not counted, except by inspect, which checks it).",
    )(f)
