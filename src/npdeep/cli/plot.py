"""``npdeep plot MODEL -o curves.png``: the training curves stored in a model file.

Three panels, one point per epoch: the cost (training and validation), the metric (accuracy
or R^2, training and validation) and the learning rate. A scikit-learn estimator or pipeline
file (``npdeep.save``) has its ``loss_curve_`` and, with early stopping, its
``validation_scores_``. matplotlib is an optional extra
(``pip install 'npdeep[plot]'``); without it the command says so and exits 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ModelFileError
from ..plotting import check_matplotlib, plot_format, plot_history
from ._common import (
    check_not_input,
    check_output_path,
    emit,
    json_option,
    load_model,
)
from ._options import max_elements_option


def render_curves(history: dict, path: str | Path, title: str = "") -> list[str]:
    """Draw the curves of ``history`` (``History.to_dict()``) to ``path``, atomically.

    Returns the names of the curves drawn (see :func:`npdeep.plotting.plot_history`).
    """
    try:
        return plot_history(history, path, title=title).drawn
    except ModelFileError:  # a ValueError too: the file could not be written, say why
        raise
    except ValueError:
        raise ModelFileError("the model holds no training history to plot") from None


@click.command()
@click.argument("model")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="File to write, .png, .pdf or .svg [default: MODEL's name with -curves.png].")
@max_elements_option
@json_option
def plot(model, output, max_elements, as_json):
    """Draw MODEL's training curves: cost, metric and learning rate per epoch.

    MODEL is a model file from `npdeep train` or Network.save, or a DeepClassifier,
    DeepRegressor or Pipeline saved by npdeep.save: its loss_curve_ and, with early
    stopping, its validation_scores_ (accuracy, or R^2) per epoch.
    """
    check_matplotlib()
    if output is not None:
        check_output_path(output, "--output")  # '' would be Path(''), the current folder
    m = load_model(model, estimators=True, predicts=False, max_elements=max_elements)
    out = Path(output) if output is not None else m.path.with_name(m.path.stem + "-curves.png")
    check_output_path(out, "--output")
    check_not_input(out, "--output", {"the model file MODEL": model})
    plot_format(out, "--output")
    history = m.history()
    drawn = render_curves(history, out, title=m.path.name)
    emit(as_json, {"output": str(out), "curves": drawn, "epochs": len(history.get("epoch", []))},
         f"drew {', '.join(drawn)} over {_epochs(len(history.get('epoch', [])))} to {out}")


def _epochs(n: int) -> str:
    return "1 epoch" if n == 1 else f"{n} epochs"
