"""History.plot / plot_history: the training curves as a matplotlib Figure, optionally a file."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import npdeep
from npdeep.errors import ConfigurationError

pytest.importorskip("matplotlib")


@pytest.fixture()
def history(rng):
    X, labels = rng.normal(size=(4, 60)), np.arange(60) % 3
    net = npdeep.Network([4, 6, 3], seed=0)
    return net.fit(X, labels, epochs=5, learning_rate=0.1, validation_data=(X, labels),
                   schedule="cosine", diagnose=False)


def test_plot_draws_each_logged_curve_with_its_values(history):
    fig = history.plot(title="digits")
    assert fig.drawn == ["cost", "val_cost", "accuracy", "val_accuracy", "learning_rate"]
    cost_ax, metric_ax, rate_ax = fig.axes
    assert [ax.get_ylabel() for ax in fig.axes] == ["cost", "accuracy", "learning rate"]
    x, y = cost_ax.lines[0].get_data()
    np.testing.assert_array_equal(x, [1, 2, 3, 4, 5])  # epochs counted from 1
    np.testing.assert_allclose(y, history.cost)
    np.testing.assert_allclose(cost_ax.lines[1].get_ydata(), history.val_cost)
    np.testing.assert_allclose(metric_ax.lines[1].get_ydata(), history.val_accuracy)
    np.testing.assert_allclose(rate_ax.lines[0].get_ydata(), history.learning_rate)
    assert fig.texts[0].get_text() == "digits"


def test_plot_history_takes_the_dict_a_model_file_stores(history):
    fig = npdeep.plot_history(history.to_dict())
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), history.cost)


@pytest.mark.parametrize("name, magic", [("c.png", b"\x89PNG"), ("c.pdf", b"%PDF"),
                                         ("c.svg", b"<?xml"), ("c", b"\x89PNG")])
def test_plot_writes_the_format_its_suffix_names(history, tmp_path, name, magic):
    history.plot(tmp_path / name)
    assert (tmp_path / name).read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left behind


def test_plot_refuses_an_unknown_format_before_drawing(history, tmp_path):
    with pytest.raises(ConfigurationError, match=r"cannot draw to a \.jpg file .* use a name "
                                                 r"ending in \.png, \.pdf, \.svg"):
        history.plot(tmp_path / "c.jpg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("costs", [[0.5], [float("nan"), float("inf")], [0.5, float("nan")]])
def test_plot_of_one_epoch_or_of_non_finite_costs_draws_what_there_is(costs, tmp_path):
    # a run whose cost was NaN at every epoch drew empty axes, with no word why
    h = npdeep.History()
    h.epoch = list(range(len(costs)))
    h.history = {"cost": list(costs), "learning_rate": [0.1] * len(costs)}
    fig = h.plot(tmp_path / "c.png")
    cost_ax = fig.axes[0]
    assert len(cost_ax.lines[0].get_ydata()) == len(costs)
    notes = [t.get_text() for t in cost_ax.texts]
    finite = np.isfinite(costs).any()
    assert notes == ([] if finite else ["no finite cost\n(NaN or inf at every epoch)"])
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")


def test_plot_of_an_untrained_history_says_so():
    with pytest.raises(ValueError, match="the history holds no trained epoch to plot"):
        npdeep.History().plot()
    with pytest.raises(TypeError, match="history must be a History, a dict, a trained Network "
                                        "or a fitted DeepClassifier or DeepRegressor, got list"):
        npdeep.plot_history([0.5, 0.4])


def test_plot_history_draws_an_estimator_a_pipeline_and_a_network(tmp_path):
    # as `npdeep plot` does for their files: loss_curve_, and validation_scores_ with early
    # stopping; a Network's own history
    from sklearn.datasets import load_iris
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    clf = npdeep.DeepClassifier((8,), early_stopping=True, max_iter=5, random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    for model in (clf, pipe):
        fig = npdeep.plot_history(model, tmp_path / "e.png")
        assert fig.drawn == ["cost", "val_accuracy"]
        assert list(fig.axes[0].lines[0].get_ydata()) == clf.loss_curve_
    net = npdeep.Network([4, 3, 3], seed=0)
    net.fit(X.T / 8, y, epochs=3)
    assert npdeep.plot_history(net).drawn == npdeep.plot_history(net.history).drawn


def test_plot_without_matplotlib_says_how_to_install_it(history, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ConfigurationError, match=r"pip install 'npdeep\[plot\]'"):
        history.plot()
