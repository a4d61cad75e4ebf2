"""Click parameter types of ``npdeep train`` (and ``gradcheck``): hidden widths, CSV columns,
drop probabilities, registry names with their aliases, class weights. Each converts a flag's
text or a TOML config's value, and fails naming what it expected."""

from __future__ import annotations

import math

import click

__all__ = ["UnitsType", "ColumnsType", "TargetsType", "DropoutType", "RegistryChoice",
           "named_choice", "ClassWeightType"]


class UnitsType(click.ParamType):
    """Hidden layer widths: ``128,64`` (``none`` for no hidden layer)."""

    name = "units"

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        text = str(value).strip()
        if not text:  # an unset shell variable, most likely: never silently no hidden layer
            self.fail("is empty; give comma-separated widths like 128,64, or 'none' for no "
                      "hidden layer", param, ctx)
        if text.lower() == "none":
            return []
        try:
            units = [int(t) for t in text.split(",")]
        except ValueError:
            self.fail(f"expected comma-separated integers like 128,64, got {value!r}", param, ctx)
        bad = [n for n in units if n < 1]
        if bad:
            self.fail(f"widths must be positive integers, got {bad[0]} in {value!r}", param, ctx)
        return units


class ColumnsType(click.ParamType):
    """CSV column names, comma-separated: ``id,name`` (a TOML list for names with commas)."""

    name = "columns"
    takes_list = True  # a config file's list reaches convert as a list, commas in names kept

    def convert(self, value, param, ctx):
        items = value if isinstance(value, list) else str(value).split(",")
        if not all(isinstance(v, str) for v in items):
            self.fail(f"expected column names, got {value!r}", param, ctx)
        names = [v.strip() if not isinstance(value, list) else v for v in items]
        if not all(names):
            self.fail(f"expected comma-separated column names like id,name, got {value!r}",
                      param, ctx)
        return names


class TargetsType(click.ParamType):
    """The target column(s): a name or index, several comma-separated (``a,b``), or in a TOML
    config a list of names and indices (commas in names kept). Text is passed on as written:
    the loader tells one column whose name holds a comma from several."""

    name = "target"
    takes_list = True

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            if not value or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                    for v in value):
                self.fail(f"expected a list of column names or indices, got {value!r}", param,
                          ctx)
            return value[0] if len(value) == 1 else list(value)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.fail(f"must be a string, an integer or a list of them, got {value!r} "
                      f"({type(value).__name__})", param, ctx)
        return value


class DropoutType(click.ParamType):
    """One drop probability for all hidden layers, or one per layer: ``0.2`` or ``0.2,0.1``."""

    name = "dropout"
    takes_list = True

    def convert(self, value, param, ctx):
        items = value if isinstance(value, list) else str(value).split(",")
        try:
            rates = [float(t) for t in items]
        except (TypeError, ValueError):
            self.fail(f"expected a number in [0, 1) or a list like 0.2,0.1, got {value!r}",
                      param, ctx)
        bad = [r for r in rates if not 0.0 <= r < 1.0]  # False for nan too
        if bad:
            self.fail(f"drop probabilities must be in [0, 1), got {bad[0]:g} in {value!r}",
                      param, ctx)
        return rates[0] if len(rates) == 1 else rates


def _choice(names) -> click.Choice:
    return click.Choice(list(names), case_sensitive=False)


class RegistryChoice(click.Choice):
    """A registry's names, case-insensitive, its aliases too: ``--loss mse`` reads as
    ``mean_squared_error``, as ``Network(loss="mse")`` does. Help and errors list the names,
    those registered by ``npdeep --import MODULE`` too (``registered()`` gives them)."""

    def __init__(self, names, canonical, registered=tuple):
        self.registered = registered
        super().__init__(list(names), case_sensitive=False)
        self.canonical = canonical  # alias or name -> name; raises ValueError when unknown

    @property
    def choices(self):
        return (*self.names, *self.registered())

    @choices.setter
    def choices(self, names):
        self.names = tuple(names)

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            try:
                name = self.canonical(value)
            except (TypeError, ValueError):
                name = None
            if name in self.choices:
                value = name
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            exc.message += " Your own class? Import its module first: npdeep --import MODULE ..."
            raise


def named_choice(registry, names=None) -> RegistryChoice:
    """``names`` (default: all) of ``registry``, a module with ``NAMES`` and ``get``, aliases
    included, and the names npdeep.register adds (but an output-only one where ``names``
    leaves the built-in output-only ones out)."""
    def registered():
        return tuple(n for n, cls in registry._REGISTRY.items() if n not in registry.NAMES
                     and (names is None or not getattr(cls, "output_only", False)))
    return RegistryChoice(registry.NAMES if names is None else names,
                          lambda v: registry.get(v).name.lower(), registered)


class ClassWeightType(click.ParamType):
    """Weights of the classes in the cost: ``balanced``, ``none``, or ``LABEL=WEIGHT,...``
    with the labels as the data holds them (``yes=5,no=1``; a TOML table ``{yes = 5}``).

    Returns ``'balanced'``, None or ``{label text: weight}``; :func:`class_weight_indices`
    maps the labels to the network's classes once the data is read.
    """

    name = "class_weight"

    def convert(self, value, param, ctx):
        if isinstance(value, dict):
            pairs = [(str(k), w) for k, w in value.items()]
        else:
            text = str(value).strip()
            if text.lower() in ("balanced", "none"):
                return None if text.lower() == "none" else "balanced"
            pairs = []
            for item in text.split(","):
                label, sep, weight = item.rpartition("=")
                if not sep or not label.strip():
                    self.fail(f"expected 'balanced', 'none' or LABEL=WEIGHT pairs like "
                              f"yes=5,no=1, got {value!r}", param, ctx)
                pairs.append((label.strip(), weight.strip()))
        weights = {}
        for label, weight in pairs:
            try:
                w = float(weight) if not isinstance(weight, bool) else math.nan
            except (TypeError, ValueError):
                w = math.nan
            if not (math.isfinite(w) and w >= 0):
                self.fail(f"the weight of class {label!r} must be a number >= 0, got "
                          f"{weight!r}", param, ctx)
            if label in weights:
                self.fail(f"class {label!r} is given twice in {value!r}", param, ctx)
            weights[label] = w
        if not weights:
            self.fail("is empty; give 'balanced' or LABEL=WEIGHT pairs", param, ctx)
        return weights


    def from_table(self, table: dict):
        """A config file's ``class_weight = {yes = 5}``: raise ConfigurationError, which the
        config reader reports naming the file and key."""
        from ..errors import ConfigurationError

        try:
            return self.convert(table, None, None)
        except click.BadParameter as exc:
            raise ConfigurationError(exc.message) from None


def class_weight_indices(weights: dict, classes) -> dict[int, float]:
    """``{label text: weight}`` as ``{class index: weight}`` for the data's sorted ``classes``.

    A label matches a class written the same way, or equal as a number (``1`` for ``1.0``).
    """
    texts = [str(c) for c in classes]
    table = {}
    for label, weight in weights.items():
        index = texts.index(label) if label in texts else _numeric_match(label, classes)
        if index is None:
            raise click.BadParameter(f"the data has no class {label!r}; its classes are "
                                     f"{', '.join(texts)}", param_hint="'--class-weight'")
        table[index] = weight
    return table


def _numeric_match(label: str, classes) -> int | None:
    """The index of the class equal to ``label`` read as a number, or None."""
    try:
        value = float(label)
    except ValueError:
        return None
    for i, c in enumerate(classes):
        if not isinstance(c, (bool, str)) and isinstance(c, (int, float)) and c == value:
            return i
    return None
