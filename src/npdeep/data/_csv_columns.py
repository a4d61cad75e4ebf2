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


def _dropped(drop: Sequence[str], header: list[str], t: int | Sequence[int],
             path: Path) -> set[int]:
    """The indices of the columns ``drop`` names; an unknown name or a target (``t``: the
    target's index, or the indices of several) is refused."""
    if isinstance(drop, str):
        drop = [drop]
    targets = [t] if isinstance(t, (int, np.integer)) else list(t)
    columns = ", ".join(repr(h) for h in header)
    indices = set()
    for name in drop:
        if name not in header:
            raise DataError(f"{path}: cannot drop column {name!r}, which it does not have; the "
                            f"columns are: {columns}{_nearest_column(str(name), header)}")
        if header.index(name) in targets:
            which = "the target" if len(targets) == 1 else "one of the targets"
            raise DataError(f"{path}: cannot drop column {name!r}: it is {which}")
        indices.add(header.index(name))
    if len(indices) == len(header) - len(targets):
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


def _plan_for(encoder: FeatureEncoder, header: list[str], skip: int | Sequence[int] | None,
              path: Path | str, what: str = "file", dialect: CsvDialect | None = None) -> Plan:
    """Match a stored encoding to a file's columns (or a DataFrame's: ``what="DataFrame"``).

    By name when the file holds every feature the model was trained on (in any order, extra
    columns ignored). By position only when *none* of the names occur (a file with generic
    or no meaningful names) and the count fits. A file that holds some of the names but not
    all is refused: matching it by position would silently feed one column as another.
    ``path`` and ``what`` name the source in the errors (a CSV's separator hints only for a file);
    ``skip``: the target column's index (or the indices of several), never a feature.
    """
    if all(name in header for name in encoder.input_names):
        return [(header.index(c.name), c) for c in encoder.columns]
    missing = [n for n in encoder.input_names if n not in header]
    shown = ", ".join(repr(m) for m in missing[:20]) + (", ..." if len(missing) > 20 else "")
    skipped = () if skip is None else [skip] if isinstance(skip, (int, np.integer)) else skip
    candidates = [j for j in range(len(header)) if j not in skipped]
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


def _resolve_targets(target, header: list[str], path: Path) -> list[int]:
    """The indices of the target columns: one (``_resolve_target``), or several named by a
    list or a comma-separated text of names or indices (``"a,b"``, ``"-2,-1"``).

    A text that is itself a column's name is that one column, commas and all. A repeated
    target, or targets that leave no feature column, is refused.
    """
    if isinstance(target, (list, tuple)):
        items = list(target)
        if not items:
            raise DataError(f"{path}: no target column named (an empty list); name one or more")
    elif isinstance(target, str) and target not in header and "," in target:
        items = [part.strip() for part in target.split(",")]
        if not all(items):
            raise DataError(f"{path}: target columns {target!r} has an empty name; expected "
                            "names or indices separated by commas, like a,b")
    else:
        return [_resolve_target(target, header, path)]
    indices = []
    for item in items:
        j = _resolve_target(item, header, path)
        if j in indices:
            raise DataError(f"{path}: target column {header[j]!r} is named twice in the "
                            f"targets ({', '.join(map(repr, map(str, items)))})")
        indices.append(j)
    if len(indices) >= len(header):
        raise DataError(f"{path}: the {len(indices)} target columns are all of its "
                        f"{len(header)} columns, leaving no feature column")
    return indices
