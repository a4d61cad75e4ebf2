"""The recipe that turns a table's input columns into the feature matrix, and back again.

A :class:`FeatureEncoder` lists the input columns a model was trained on, in order: numeric
columns pass through; categorical (text) columns are one-hot encoded over the categories
seen at training time. It round-trips through plain JSON (``to_config``/``from_config``) so
that it can be stored in a model file's header and replayed at predict time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from npdeep.errors import DataError, ModelFileError

CONFIG_VERSION = 1


@dataclass(frozen=True)
class Column:
    """One input column: its name, and its categories when it is one-hot encoded.

    Parameters
    ----------
    name : str
        Column name as in the data's header (or a generated name such as ``"x3"``).
    categories : tuple of str or None
        Sorted categories of a one-hot encoded text column; ``None`` for a numeric column.
    """

    name: str
    categories: tuple[str, ...] | None = None

    @property
    def is_categorical(self) -> bool:
        return self.categories is not None

    @property
    def feature_names(self) -> list[str]:
        """Names of the features this column becomes (``"color=red"`` for one-hot columns)."""
        if self.categories is None:
            return [self.name]
        return [f"{self.name}={c}" for c in self.categories]


@dataclass(frozen=True)
class FeatureEncoder:
    """Ordered input columns and how each becomes features.

    Parameters
    ----------
    columns : tuple of Column
        The input columns in the order their features appear in ``X: (n_samples, n_features)``.
    """

    columns: tuple[Column, ...]

    @classmethod
    def numeric(cls, names: Sequence[str]) -> FeatureEncoder:
        """Return an encoder of numeric columns only (arrays, IDX and built-in data sets)."""
        return cls(tuple(Column(str(n)) for n in names))

    @property
    def input_names(self) -> list[str]:
        """Names of the input columns, before one-hot encoding."""
        return [c.name for c in self.columns]

    @property
    def feature_names(self) -> list[str]:
        """Names of the encoded features, one per column of ``X``."""
        return [f for c in self.columns for f in c.feature_names]

    @property
    def n_features(self) -> int:
        """Number of columns of the encoded ``X``."""
        return sum(1 if c.categories is None else len(c.categories) for c in self.columns)

    @property
    def has_categorical(self) -> bool:
        return any(c.is_categorical for c in self.columns)

    def to_config(self) -> dict[str, Any]:
        """Return a JSON-serialisable description of the encoding."""
        return {
            "version": CONFIG_VERSION,
            "columns": [
                {"name": c.name, "kind": "numeric"}
                if c.categories is None
                else {"name": c.name, "kind": "categorical", "categories": list(c.categories)}
                for c in self.columns
            ],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FeatureEncoder:
        """Rebuild an encoder from :meth:`to_config`'s output; raise ModelFileError if malformed."""
        if not isinstance(config, dict) or not isinstance(config.get("columns"), list):
            raise ModelFileError(
                f"feature encoder config must be a dict with a 'columns' list, got {config!r:.200}"
            )
        if config.get("version", CONFIG_VERSION) != CONFIG_VERSION:
            raise ModelFileError(
                f"feature encoder config version {config.get('version')!r} is not supported "
                f"(expected {CONFIG_VERSION})"
            )
        columns = []
        for i, entry in enumerate(config["columns"]):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ModelFileError(f"feature encoder column {i} is malformed: {entry!r:.200}")
            kind = entry.get("kind", "numeric")
            if kind == "numeric":
                columns.append(Column(entry["name"]))
            elif kind == "categorical":
                cats = entry.get("categories")
                if (
                    not isinstance(cats, list)
                    or not cats
                    or not all(isinstance(c, str) for c in cats)
                ):
                    raise ModelFileError(
                        f"feature encoder column {entry['name']!r} needs a non-empty list of "
                        f"string categories, got {cats!r:.200}"
                    )
                columns.append(Column(entry["name"], tuple(cats)))
            else:
                raise ModelFileError(
                    f"feature encoder column {entry['name']!r} has kind {kind!r}; "
                    "expected 'numeric' or 'categorical'"
                )
        return cls(tuple(columns))


def one_hot(
    values: np.ndarray, column: Column, line_numbers: Sequence[int] | None = None
) -> np.ndarray:
    """One-hot encode text cells over the column's known categories.

    Parameters
    ----------
    values : ndarray of str or object (Python strings), shape (n_samples,)
    column : Column
        A categorical column (``column.categories`` is not None).
    line_numbers : sequence of int, optional
        File line of each value, used to name the line of an unknown category.

    Returns
    -------
    ndarray of float64, shape (n_samples, len(column.categories))
    """
    assert column.categories is not None
    index = {c: i for i, c in enumerate(column.categories)}
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    # a dict, not a text array: np.asarray would give every cell the longest one's width
    positions = [index.get(str(v), -1) for v in values]
    if -1 in positions:
        i = positions.index(-1)
        where = f"line {line_numbers[i]}" if line_numbers is not None else f"row {i}"
        shown = ", ".join(repr(c) for c in column.categories[:20])
        raise DataError(
            f"{where}, column {column.name!r}: category {str(values[i])!r} was not seen in "
            f"training; known categories: {shown}"
        )
    out = np.zeros((len(values), len(index)), dtype=np.float64)
    out[np.arange(len(values)), np.asarray(positions, dtype=np.intp)] = 1.0
    return out
