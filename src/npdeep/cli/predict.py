"""``npdeep predict MODEL DATA -o OUT.csv``: labels (and class probabilities) for new data.

A CSV is streamed ``--chunk-rows`` rows at a time (:func:`npdeep.data.iter_csv_chunks`), so
memory stays bounded whatever its size; its columns are picked by the names the model was
trained on (a target column or other extra columns are ignored). The output is written to a
temporary file beside OUT and renamed over it at the end: an interrupted or failed run leaves
no partial file. Without ``-o`` (or with ``-o -``) the rows go to standard output. MODEL may
also be a scikit-learn estimator or pipeline saved by ``npdeep.save``: the rows are its own
``predict`` and ``predict_proba``, in the same columns.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator

import click
import numpy as np

from ._common import (
    atomic_write_text,
    check_not_input,
    check_output_path,
    check_output_suffix,
    data_source,
    emit,
    json_option,
    load_model,
)
from ._dialect import dialect_options, resolve
from ._options import max_elements_option
from ._types import ColumnsType

DEFAULT_CHUNK_ROWS = 10_000


def _chunks(m, source: str, chunk_rows: int, keep=(), dialect: dict | None = None
            ) -> Iterator[tuple[np.ndarray, list]]:
    """Yield ``(X, kept)``: ``X: (n_chunk, n_features)`` blocks of DATA, each checked against
    the model, and each row's cells of the CSV columns ``keep`` (lists of str); a CSV is
    read in ``dialect`` (the keywords of :func:`npdeep.data.load`)."""
    from .. import data as npdata

    names = m.data.get("feature_names")
    dialect = dialect or {}
    if npdata.sniff(source) == "csv":
        chunks = npdata.iter_csv_chunks(
            source, chunk_rows, feature_names=None if m.encoder_config else names,
            encoder_config=m.encoder_config,
            n_features=None if m.encoder_config or names else m.n_features, keep=keep,
            **dialect)
        yield from chunks if keep else ((X, [[]] * len(X)) for X in chunks)
        return
    if keep:
        raise click.UsageError("--keep copies columns of a CSV DATA; this DATA is not a CSV")
    ds = npdata.load_features(source, feature_names=names if names else None,
                              encoder_config=m.encoder_config, **dialect)
    for start in range(0, ds.n_samples, chunk_rows):
        X = ds.X[start: start + chunk_rows]
        yield X, [[]] * len(X)


def columns(m) -> list[str]:
    """Output column names: ``prediction`` then ``probability_<class>`` per class (a
    multi-label classifier: ``prediction_<label>`` then ``probability_<label>``)."""
    return m.output_columns()


def write_predictions(m, source: str, fh, chunk_rows: int, delimiter: str = ",",
                      keep=(), dialect: dict | None = None) -> dict:
    """Write the header and one row per sample to ``fh``; return counts and class totals.

    ``m`` is a network's :class:`Model` or an estimator file's ``EstimatorModel``;
    ``delimiter``: "," (CSV) or a tab (TSV) of the output; ``keep``: CSV columns copied
    before the predictions; ``dialect``: how DATA is read (see :mod:`._dialect`).
    """
    keep = list(keep)
    clash = [k for k in keep if k in columns(m)]
    if clash:
        raise click.UsageError(f"--keep {clash[0]!r}: the predictions have a column of that "
                               f"name ({', '.join(columns(m))})")
    writer = csv.writer(fh, lineterminator="\n", delimiter=delimiter)
    rows = 0
    counts: dict = {}
    for X, kept in _chunks(m, source, chunk_rows, keep, dialect):
        pred, proba = m.predict_rows(X)
        if rows == 0:  # the header only once the first chunk proved the data fits the model
            writer.writerow([*keep, *columns(m)])
        # labels, or rows of values or of 0/1 per label; a float is written as Python's repr,
        # the shortest text that reads back as the same float64 (8 digits rounded a target
        # near 1.7e9 to steps of 100)
        first = [[v] for v in pred.tolist()] if pred.ndim == 1 else pred.tolist()
        first = [[*k, *a] for k, a in zip(kept, first, strict=True)]
        if proba is not None:
            text = np.char.mod("%.6g", proba).tolist()
            writer.writerows([*a, *p] for a, p in zip(first, text, strict=True))
        else:
            writer.writerows(first)
        if m.task == "classification" and pred.ndim == 1:
            labels, n = np.unique(pred, return_counts=True)
            for lab, k in zip(labels.tolist(), n.tolist(), strict=True):
                counts[lab] = counts.get(lab, 0) + k
        rows += len(X)
    if rows == 0:
        writer.writerow([*keep, *columns(m)])
    return {"rows": rows, "predicted_counts": {str(k): v for k, v in counts.items()}}


@click.command()
@click.argument("model")
@click.argument("data")
@click.option("-o", "--output", type=click.Path(allow_dash=True), default=None,
              help="CSV file to write (.tsv: tab-separated; .gz: compressed; '-': standard "
                   "output) [default: standard output].")
@click.option("--chunk-rows", type=click.IntRange(1), default=DEFAULT_CHUNK_ROWS,
              show_default=True, help="Rows read and predicted at a time (bounds memory).")
@click.option("--keep", type=ColumnsType(), default=None,
              help="CSV columns of DATA to copy into the output before the predictions, "
                   "comma-separated (an identifier, such as one `train --drop` left out). "
                   "[default: none]")
@dialect_options
@max_elements_option
@json_option
def predict(model, data, output, chunk_rows, keep, max_elements, as_json, **dialect):
    """Predict labels (and class probabilities) for DATA with MODEL, as CSV.

    DATA is a file or built-in name as for train, or - to read standard input:

    \b
        zcat new.csv.gz | npdeep predict model.npz - > predictions.csv

    MODEL is a model file from `npdeep train` or Network.save, or a DeepClassifier,
    DeepRegressor or Pipeline saved by npdeep.save (fitted on a DataFrame: the CSV's
    columns are picked by name).

    A CSV DATA is read in the dialect the model was trained on (--delimiter, --decimal,
    --encoding, --header/--no-header); an option given overrides it. The output is always
    written with '.' decimals, in UTF-8, comma-separated (tabs for a .tsv name).
    """
    m = load_model(model, estimators=True, max_elements=max_elements)
    if output is None or output == "-":
        if as_json:
            raise click.UsageError("--json needs -o/--output FILE (the predictions go to the file, "
                                   "the JSON summary to standard output)")
        with data_source(data) as source:
            write_predictions(m, source, sys.stdout, chunk_rows, keep=keep or (),
                              dialect=resolve(dialect, m.csv_dialect, source))
        return
    out = check_output_path(output, "--output")
    check_not_input(out, "--output", {"the model file MODEL": model, "the data file DATA": data})
    check_output_suffix(out, "--output", "predictions")
    # the name says the format, as for DATA: .tsv (or .tab) tab-separated, .gz compressed
    compress = out.name.lower().endswith(".gz")
    tabs = out.name.lower().removesuffix(".gz").endswith((".tsv", ".tab"))
    with data_source(data) as source:
        read = resolve(dialect, m.csv_dialect, source)
        summary = atomic_write_text(
            out, lambda fh: write_predictions(m, source, fh, chunk_rows, "\t" if tabs else ",",
                                              keep or (), read),
            "predictions file", compress=compress)
    emit(as_json, {"model": str(m.path), "output": str(out),
                   "columns": [*(keep or ()), *columns(m)], **summary},
         f"wrote {summary['rows']} predictions to {out}")

