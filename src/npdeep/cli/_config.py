"""TOML config files for ``npdeep train``: the same options as the flags; flags win.

A config file is a flat TOML table whose keys are the long option names, with ``_`` or ``-``
(``learning_rate = 0.05`` or ``learning-rate = 0.05``), plus ``data`` for the DATA argument.
A ``[train]`` table may hold them instead. An unknown key is a usage error naming the key and
the nearest valid one. The keys ``read_config`` is given ``tables`` for (``optimizer``,
``schedule``) may also be tables of options, ``schedule = {name = "step", step_size = 5}``.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _nearest(key: str, valid: list[str]) -> str:
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    return f"; did you mean {near[0]!r}?" if near else ""


def _kind_of(param: click.Parameter) -> tuple[tuple[type, ...], str] | None:
    """The TOML value types an option accepts and their description; None: any (custom type)."""
    t = param.type
    if getattr(param, "is_flag", False) or isinstance(t, click.types.BoolParamType):
        return (bool,), "true or false"
    if isinstance(t, click.types.IntParamType):
        return (int,), "an integer"
    if isinstance(t, click.types.FloatParamType):
        return (int, float), "a number"
    if isinstance(t, (click.Choice, click.Path)):
        return (str,), "a string"
    if isinstance(t, click.types.StringParamType):  # --target: a name or a column index
        return (str, int), "a string or an integer"
    return None


def _check_type(value: Any, param: click.Parameter) -> str | None:
    """Why a TOML ``value`` cannot set ``param`` (TOML is typed: no silent coercion), or None."""
    kind = _kind_of(param)
    if kind is None:
        return None
    types, described = kind
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        return f"must be {described}, got {value!r} ({type(value).__name__})"
    return None


def read_config(path: str | Path, ctx: click.Context, keys: list[str],
                tables: dict[str, Callable[[dict], Any]] | None = None) -> dict[str, Any]:
    """Read ``path`` and return ``{parameter name: converted value}``.

    Parameters
    ----------
    path : str or Path
    ctx : click.Context
        The command's context: each value is converted by its option's click type, so a
        config value is checked exactly like the flag.
    keys : list of str
        The parameter names a config file may set.
    tables : dict, optional
        ``{name: check}`` for the keys that may also be a table: ``check(table)`` returns the
        value to use, or raises :class:`~npdeep.errors.ConfigurationError` (a usage error
        naming the file and key).

    Raises
    ------
    click.BadParameter
        Unreadable file, invalid TOML, unknown key (with the nearest valid one) or bad value.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise click.BadParameter(f"{str(p)!r}: no such file", param_hint="--config") from None
    except OSError as exc:
        raise click.BadParameter(f"{str(p)!r}: {exc.strerror}", param_hint="--config") from None
    try:  # utf-8-sig: a byte-order mark (Notepad's "UTF-8 with BOM") is not TOML's, skip it
        table = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"{str(p)!r} is not UTF-8 text (byte {raw[exc.start]:#04x} at "
                                 f"position {exc.start}); TOML files are UTF-8, save it as such",
                                 param_hint="--config") from None
    except tomllib.TOMLDecodeError as exc:
        raise click.BadParameter(f"{str(p)!r} is not valid TOML ({exc})",
                                 param_hint="--config") from None
    if set(table) == {"train"} and isinstance(table["train"], dict):
        table = table["train"]
    elif isinstance(table.get("train"), dict):
        raise click.BadParameter(
            f"{str(p)!r} has options both at the top level and in a [train] table; put them "
            "all in one of the two", param_hint="--config")
    params = {prm.name: prm for prm in ctx.command.params}
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in keys:
            sep = "-" if "-" in key else "_"  # suggest in the file's own style
            shown = sorted(k.replace("_", sep) for k in keys)
            raise click.BadParameter(
                f"{str(p)!r}: unknown key {key!r}{_nearest(key, shown)} "
                f"(valid keys: {', '.join(shown)})",
                param_hint="--config",
            )
        if isinstance(value, dict):
            if name not in (tables or {}):
                also = f" (only {', '.join(tables)} may be tables)" if tables else ""
                raise click.BadParameter(f"{str(p)!r}: key {key!r} must be a value, not a "
                                         f"table{also}", param_hint="--config")
            from ..errors import ConfigurationError

            try:
                values[name] = tables[name](value)
            except ConfigurationError as exc:
                raise click.BadParameter(f"{str(p)!r}: table {key!r}: {exc}",
                                         param_hint="--config") from None
            continue
        param = params[name]
        problem = _check_type(value, param)
        if problem:
            raise click.BadParameter(f"{str(p)!r}: key {key!r} {problem}", param_hint="--config")
        try:
            if isinstance(value, list) and not param.multiple \
                    and not getattr(param.type, "takes_list", False):
                value = ",".join(str(v) for v in value)  # as the flag's comma-separated text
            values[name] = param.type.convert(value, param, ctx) if param.type else value
        except click.BadParameter as exc:
            raise click.BadParameter(f"{str(p)!r}: key {key!r}: {exc.message}",
                                     param_hint="--config") from None
    return values
