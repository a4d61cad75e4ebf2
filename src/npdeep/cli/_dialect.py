"""The CSV dialect options every command reading CSV shares: ``--delimiter``, ``--decimal``,
``--encoding``, ``--header/--no-header``.

``train`` records the dialect of its CSV in the model file; ``evaluate``, ``predict`` and
``gradcheck --data`` read a CSV in the model's dialect unless an option says otherwise
(:func:`resolve`), so a file written as the training data was needs no options repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..data.dialect import DECIMALS, _delimiter, _encoding, csv_dialect
from ..errors import ConfigurationError

#: The dialect's parameter names, as :func:`npdeep.data.load` takes them.
NAMES = ("delimiter", "decimal", "encoding", "header")


class _CheckedType(click.ParamType):
    """A value ``check`` returns, or click's usage error with its message (less the option's
    name, which click adds)."""

    def __init__(self, name: str, check: Callable, prefix: str):
        self.name, self._check, self._prefix = name, check, prefix

    def convert(self, value, param, ctx):
        try:
            return self._check(value)
        except ConfigurationError as exc:
            self.fail(str(exc).removeprefix(self._prefix), param, ctx)


def DelimiterType() -> click.ParamType:
    """One character separating the columns; ``tab`` or ``\\t`` for a tab."""
    return _CheckedType("char", _delimiter, "delimiter ")


def EncodingType() -> click.ParamType:
    """A text encoding Python knows: ``utf-8``, ``latin-1``, ``cp1252``..."""
    return _CheckedType("encoding", _encoding, "encoding ")


def dialect_options(f: Callable) -> Callable:
    """Add ``--delimiter``, ``--decimal``, ``--encoding`` and ``--header/--no-header``."""
    for option in reversed([
        click.option("--delimiter", type=DelimiterType(), default=None,
                     help="CSV column separator, one character ('tab' or '\\t' for a tab) "
                          "[default: tab for .tsv and .tab files, comma otherwise]."),
        click.option("--decimal", type=click.Choice(DECIMALS), default=None,
                     help="CSV decimal sign: ',' reads 1,5 as 1.5 (and refuses a '.' in a "
                          "number); it needs another --delimiter than a comma [default: .]."),
        click.option("--encoding", type=EncodingType(), default=None,
                     help="CSV text encoding: latin-1, cp1252, utf-16... [default: utf-8]."),
        click.option("--header/--no-header", "header", default=None,
                     help="Whether the CSV's first row names the columns; without one they "
                          "are named 0, 1, ... (--target 3, --drop 0) [default: header]."),
    ]):
        f = option(f)
    return f


def resolve(given: dict[str, Any], recorded: dict[str, Any] | None, source: str | None
            ) -> dict[str, Any]:
    """The dialect keywords to read DATA ``source`` with: the options given (``given``, None
    where not given) over the dialect a model recorded (``recorded``, for a CSV only).

    A combination that cannot be read (``--decimal ,`` with ``--delimiter ,``) is a usage error.
    """
    from ..data import sniff

    chosen = {k: v for k, v in given.items() if v is not None}
    inherited: dict[str, Any] = {}
    if recorded and source is not None and sniff(source) == "csv":
        inherited = {k: recorded[k] for k in NAMES if k in recorded and k not in chosen}
    try:
        csv_dialect(**{**inherited, **chosen})
    except ConfigurationError as exc:
        stored = [f"{k} {inherited[k]!r}" for k in ("delimiter", "decimal")  # what can clash
                  if inherited.get(k) not in (None, ".")]
        model = (f" ({', '.join(stored)}: the model's, recorded from its training CSV; give "
                 "the option to change it)" if stored else "")
        raise click.UsageError(f"{exc}{model}") from None
    return {**inherited, **chosen}
