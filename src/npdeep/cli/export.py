"""``npdeep export MODEL -o model.onnx``: the model as an ONNX graph, for other runtimes.

MODEL is a network file from ``npdeep train`` (the graph holds its feature scaling, classes
and target scaling, so it predicts as ``npdeep predict`` does) or a DeepClassifier,
DeepRegressor or Pipeline saved by ``npdeep.save`` (the graph of :func:`npdeep.to_onnx`).
Needs the ``onnx`` extra (``pip install 'npdeep[onnx]'``). The file is written atomically.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from ..errors import ConfigurationError
from ._common import (
    _NOT_A_MODEL,
    check_not_input,
    check_output_path,
    emit,
    json_option,
    load_model,
)
from ._options import max_elements_option

#: Suffixes that name something other than an ONNX graph: a mixed-up -o would overwrite it.
_NOT_ONNX = (".npz", ".npdeep", *_NOT_A_MODEL)


@click.command()
@click.argument("model")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="The .onnx file to write [default: MODEL's name with .onnx].")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default=None,
              help="Element type of the graph's input and arithmetic [default: the network's].")
@click.option("--opset", type=int, default=None,
              help="ONNX opset to declare, 13 up to the installed onnx's newest [default: 17].")
@click.option("--input-name", default="X", show_default=True,
              help="Name of the graph's input.")
@max_elements_option
@json_option
def export(model, output, dtype, opset, input_name, max_elements, as_json):
    """Write MODEL as an ONNX graph: input X (N, n_features), samples as rows.

    The graph's metadata holds npdeep's version and, when known, the feature names and the
    classes (JSON).

    Outputs: `label` and, for a sigmoid or softmax output, `probabilities` (classification),
    or `predictions` (regression), as `npdeep predict` computes them from the raw features.
    """
    from ..onnx_export import model_file_to_onnx, to_onnx

    m = load_model(model, estimators=True, max_elements=max_elements)
    out = Path(output) if output else m.path.with_suffix(".onnx")
    check_output_path(out, "--output")
    if out.suffix.lower() in _NOT_ONNX:
        raise ConfigurationError(
            f"--output: {str(out)!r} ends in {out.suffix}, which names a model file, data or a "
            "drawing, but this writes an ONNX graph; name it .onnx"
        )
    check_not_input(out, "--output", {"the model file MODEL": model})
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if hasattr(m, "est"):
                proto = to_onnx(m.est, out, dtype=dtype, opset=opset, input_name=input_name)
            else:
                proto = model_file_to_onnx(m, out, dtype=dtype, opset=opset,
                                           input_name=input_name)
    except ImportError as exc:  # the onnx extra is missing: its install hint, no traceback
        raise ConfigurationError(str(exc)) from None
    notes = []
    for w in caught:  # the float32 rounding warning becomes a note; others pass on
        text = str(w.message)
        if text.startswith("A float32 graph rounds its input X"):
            notes.append("note: a" + text[1:].replace("dtype='float64', ", ""))
            click.echo(notes[-1], err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    outputs = [o.name for o in proto.graph.output]
    emit(as_json, {"output": str(out), "outputs": outputs, **({"notes": notes} if notes else {})},
         f"wrote {out} (input {input_name}, outputs {', '.join(outputs)})")
