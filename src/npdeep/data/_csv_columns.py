"""Which columns of a CSV file are read, and as what: the target, the dropped, the features.

The target and dropped columns are found by name or index, a near miss suggested; a stored
encoding (a trained model's) is matched to a file's columns by name, or by position only
when no name occurs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from npdeep.data._csv_rows import _separator_hint
from npdeep.data.cells import Plan
from npdeep.data.dialect import CsvDialect
from npdeep.data.encoding import FeatureEncoder
from npdeep.errors import DataError


def _nearest_column(name: str, header: list[str]) -> str:
    """``"; did you mean 'kind'?"`` for a name that differs from one column by case, spaces or
    a typo; empty otherwise."""
    import difflib

    folded = {h.strip().casefold(): h for h in header}
    if name.strip().casefold() in folded:
        return f"; did you mean {folded[name.strip().casefold()]!r}?"
    near = difflib.get_close_matches(name, header, n=1, cutoff=0.75)
    return f"; did you mean {near[0]!r}?" if near else ""


def _dropped(drop: Sequence[str], header: list[str], t: int, path: Path) -> set[int]:
    """The indices of the columns ``drop`` names; an unknown name or the target is refused."""
    if isinstance(drop, str):
        drop = [drop]
    columns = ", ".join(repr(h) for h in header)
    indices = set()
    for name in drop:
        if name not in header:
            raise DataError(f"{path}: cannot drop column {name!r}, which it does not have; the "
                            f"columns are: {columns}{_nearest_column(str(name), header)}")
        if header.index(name) == t:
            raise DataError(f"{path}: cannot drop column {name!r}: it is the target")
        indices.add(header.index(name))
    if len(indices) == len(header) - 1:
        raise DataError(f"{path}: dropping {', '.join(map(repr, drop))} leaves no feature column")
    return indices


def _kept_columns(keep: Sequence[str], header: list[str], path: Path) -> list[int]:
    """The indices of the columns ``keep`` names, in its order; an unknown name is refused."""
    columns = ", ".join(repr(h) for h in header)
    indices = []
    for name in keep:
        if name not in header:
            raise DataError(f"{path}: cannot keep column {name!r}, which it does not have; the "
                            f"columns are: {columns}{_nearest_column(str(name), header)}")
        if header.index(name) in indices:
            raise DataError(f"{path}: column {name!r} is named twice in --keep")
        indices.append(header.index(name))
    return indices


def _resolve_target(target: str | int | None, header: list[str], path: Path) -> int:
    columns = ", ".join(repr(h) for h in header)
    if target is None:
        return len(header) - 1
    if isinstance(target, str) and target in header:
        return header.index(target)
    index: int | None = None
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        index = int(target)
    elif isinstance(target, str) and target.strip().lstrip("-").isdigit():
        index = int(target.strip())
    if index is None:
        raise DataError(f"{path}: target column {target!r} not found; the columns are: {columns}"
                        f"{_nearest_column(target, header)}")
    if not -len(header) <= index < len(header):
        raise DataError(
            f"{path}: target column index {index} is out of range for {len(header)} columns "
            f"({columns})"
        )
    return index % len(header)


def _plan_for(encoder: FeatureEncoder, header: list[str], skip: int | None, path: Path | str,
              what: str = "file", dialect: CsvDialect | None = None) -> Plan:
    """Match a stored encoding to a file's columns (or a DataFrame's: ``what="DataFrame"``).

    By name when the file holds every feature the model was trained on (in any order, extra
    columns ignored). By position only when *none* of the names occur (a file with generic
    or no meaningful names) and the count fits. A file that holds some of the names but not
    all is refused: matching it by position would silently feed one column as another.
    ``path`` and ``what`` name the source in the errors (a CSV's separator hints only for a file).
    """
    if all(name in header for name in encoder.input_names):
        return [(header.index(c.name), c) for c in encoder.columns]
    missing = [n for n in encoder.input_names if n not in header]
    shown = ", ".join(repr(m) for m in missing[:20]) + (", ..." if len(missing) > 20 else "")
    candidates = [j for j in range(len(header)) if j != skip]
    if len(missing) < len(encoder.input_names):
        has = ", ".join(repr(h) for h in header[:20]) + (", ..." if len(header) > 20 else "")
        raise DataError(
            f"{path}: lacks {len(missing)} of the feature columns the model was trained on: "
            f"{shown} (the {what} has {has}); matching the rest by position could feed one "
            "column as another, so name the columns as in training"
        )
    hint = _separator_hint(header, Path(path), dialect or CsvDialect()) if what == "file" else ""
    if encoder.has_categorical:  # one-hot columns make more features than columns
        raise DataError(
            f"{path}: holds none of the {len(missing)} columns the model was trained on "
            f"({shown}); a model with one-hot encoded text columns matches columns by name "
            f"only, so name them as in training{hint}"
        )
    if len(candidates) == encoder.n_features:
        return list(zip(candidates, encoder.columns, strict=True))
    target = (
        f" (does the {what} still hold the target column?)"
        if len(candidates) > encoder.n_features
        else ""
    )
    raise DataError(
        f"{path}: has {len(candidates)} feature column{'' if len(candidates) == 1 else 's'} "
        f"but the model expects {encoder.n_features} features{target}; columns missing by "
        f"name: {shown}{hint}"
    )
