"""History.plot / plot_history: the training curves as a matplotlib Figure, optionally a file."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import npdeep
from npdeep.errors import ConfigurationError

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def _close_figures():
    """A plot without a path is a pyplot figure: close them all after each test."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


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


@pytest.mark.parametrize("costs, expected", [
    ([0.5], []),
    ([float("nan"), float("inf")], ["no finite cost\n(NaN or inf at every epoch)"]),
    ([0.5, float("nan"), 0.4], ["training: NaN or inf at epoch 2"]),
])
def test_plot_of_one_epoch_or_of_non_finite_costs_draws_what_there_is(costs, expected, tmp_path):
    # a run whose cost was NaN at every epoch drew empty axes, with no word why
    h = npdeep.History()
    h.epoch = list(range(len(costs)))
    h.history = {"cost": list(costs), "learning_rate": [0.1] * len(costs)}
    fig = h.plot(tmp_path / "c.png")
    cost_ax = fig.axes[0]
    assert len(cost_ax.lines[0].get_ydata()) == len(costs)
    assert [t.get_text() for t in cost_ax.texts] == expected
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")


def test_plot_of_an_untrained_history_says_so():
    with pytest.raises(ValueError, match="the history holds no trained epoch to plot"):
        npdeep.History().plot()
    with pytest.raises(TypeError, match="history must be a History, a dict, a pandas DataFrame "
                                        "of a CSVLogger's or JSONLogger's log, a trained Network "
                                        "or a fitted DeepClassifier or DeepRegressor, got list"):
        npdeep.plot_history([0.5, 0.4])
    with pytest.raises(ValueError, match=r"history is None: the network was not trained"):
        npdeep.plot_history(npdeep.Network([2, 1], seed=0))


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


@pytest.mark.parametrize("cost, val_cost, scale", [
    ([0.5, 0.4], [0.6, 0.0], "linear"),  # a validation cost of 0.0 vanished from a log axis
    ([0.5, 0.4], [0.6, -1.0], "linear"),
    ([0.5, float("nan")], [0.6, 0.3], "log"),  # one NaN epoch no longer turns the log off
    ([0.5, 0.4], None, "log"),
    ([0.0, 0.4], None, "linear"),
])
def test_the_cost_axis_is_logarithmic_only_when_every_finite_cost_is_positive(cost, val_cost,
                                                                             scale):
    data = {"epoch": [0, 1], "cost": cost, **({"val_cost": val_cost} if val_cost else {})}
    assert npdeep.plot_history(data).axes[0].get_yscale() == scale


def test_plot_history_reads_a_model_file_s_header_with_nan_as_text(tmp_path):
    h = npdeep.History()
    h.epoch, h.history = [0, 1, 2], {"cost": [0.7, float("nan"), 0.5]}
    fig = npdeep.plot_history(h.to_json())  # {"cost": [0.7, "nan", 0.5]}
    np.testing.assert_equal(fig.axes[0].lines[0].get_ydata(), [0.7, np.nan, 0.5])
    with pytest.raises(ValueError, match=r"history 'cost' must hold numbers, got \['a'\]"):
        npdeep.plot_history({"epoch": [0], "cost": ["a"]})  # was a TypeError from isfinite


def test_a_loaded_model_s_history_plots_with_its_nan_epoch(tmp_path, rng):
    X, labels = rng.normal(size=(4, 30)), np.arange(30) % 3
    net = npdeep.Network([4, 5, 3], seed=0)
    net.fit(X, labels, epochs=3, learning_rate=0.1, diagnose=False)
    net.history.history["cost"][1] = float("nan")
    net.save(tmp_path / "m.npz")
    fig = npdeep.load(tmp_path / "m.npz").history.plot(tmp_path / "c.png")
    np.testing.assert_equal(fig.axes[0].lines[0].get_ydata(), net.history.cost)


def test_plot_history_of_an_untrained_network_says_it_was_not_trained(tmp_path):
    npdeep.Network([2, 3, 1], seed=0).save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"no trained epoch to plot \(history is None: the "
                                         r"network was not trained\)"):
        npdeep.plot_history(npdeep.load(tmp_path / "m.npz").history)


@pytest.mark.parametrize("every, marker", [(1, "None"), (10, ".")])
def test_a_metric_logged_every_few_epochs_is_drawn_with_markers(every, marker):
    # a long run's line had no markers: values between None epochs were invisible
    n = 100
    val = [0.5 if e % every == 0 else None for e in range(n)]
    fig = npdeep.plot_history({"epoch": list(range(n)), "cost": [1.0] * n, "val_cost": val})
    assert [line.get_marker() for line in fig.axes[0].lines] == ["None", marker]


def test_every_panel_spans_every_epoch_with_whole_epoch_ticks_and_names_nan_epochs():
    # a run that turned NaN at epoch 2 drew its cost panel over epochs 0.96..1.04 and the
    # others over 1.0..2.0 in steps of 0.2, with no word of the NaN epoch
    h = npdeep.History()
    h.epoch = [0, 1, 2, 3]
    h.history = {"cost": [0.9, float("nan"), float("inf"), 0.5],
                 "val_cost": [1.0, 0.9, float("-inf"), 0.6],
                 "accuracy": [0.2, 0.3, 0.4, 0.5], "learning_rate": [0.1] * 4}
    fig = h.plot()
    for ax in fig.axes:
        assert ax.get_xlim() == (0.5, 4.5)
        assert all(t == int(t) for t in ax.get_xticks())
    assert [t.get_text() for t in fig.axes[0].texts] == [
        "training: NaN or inf at epoch 2 and 1 more\nvalidation: NaN or inf at epoch 3"]
    assert len(fig.axes[1].texts) == 0


def test_plot_into_a_missing_folder_says_so_and_creates_nothing(history, tmp_path):
    from npdeep.errors import ModelFileError

    with pytest.raises(ModelFileError, match=r"cannot save plot '.*c\.png': folder '.*missing' "
                                             r"does not exist"):
        history.plot(tmp_path / "missing" / "c.png")
    assert list(tmp_path.iterdir()) == []


def test_a_plot_to_show_is_a_pyplot_figure_and_one_to_a_file_is_not(history, tmp_path):
    # a bare Figure could not be shown from a script: plt.show() showed nothing and
    # fig.show() raised "Figure.show works only for figures managed by pyplot"
    import matplotlib.pyplot as plt

    shown = history.plot()
    assert plt.get_fignums() == [shown.number]
    assert shown.drawn and npdeep.plot_history(history).number in plt.get_fignums()
    plt.close("all")
    written = history.plot(tmp_path / "c.png")
    assert plt.get_fignums() == [] and written.drawn == shown.drawn  # nothing left open
    assert (tmp_path / "c.png").stat().st_size > 0


def test_plot_history_draws_a_logger_s_file_read_by_pandas(rng, tmp_path):
    # pd.read_csv(log) has to_dict(), whose {column: {row: value}} was read as a history
    # and drew the row numbers
    pd = pytest.importorskip("pandas")
    from npdeep.callbacks import CSVLogger, JSONLogger

    X, y = rng.normal(size=(3, 50)), np.arange(50) % 2
    net = npdeep.Network([3, 4, 1], seed=0)
    h = net.fit(X, y, epochs=3, validation_fraction=0.2, diagnose=False,
                callbacks=[CSVLogger(tmp_path / "a.csv"), JSONLogger(tmp_path / "a.jsonl")])
    for frame in (pd.read_csv(tmp_path / "a.csv"), pd.read_json(tmp_path / "a.jsonl", lines=True)):
        fig = npdeep.plot_history(frame)
        assert fig.drawn == ["cost", "val_cost", "accuracy", "val_accuracy", "learning_rate"]
        x, y_ = fig.axes[0].lines[0].get_data()
        np.testing.assert_array_equal(x, [1, 2, 3])
        np.testing.assert_allclose(y_, h.cost)
        assert fig.axes[0].get_xlabel() == "epoch"
    # append=True: a second fit's epochs count from 1 again; its rows are drawn after
    net.fit(X, y, epochs=2, diagnose=False, callbacks=[CSVLogger(tmp_path / "a.csv", append=True)])
    fig = npdeep.plot_history(pd.read_csv(tmp_path / "a.csv"))
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [1, 2, 3, 4, 5])
    assert fig.axes[0].get_xlabel() == "epoch (the fits of the log, one after another)"
    with pytest.raises(ValueError, match=r"the DataFrame has no 'cost' column, so it is not a "
                                         r"CSVLogger or JSONLogger log \(columns: \['a'\]\)"):
        npdeep.plot_history(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(TypeError, match="history must be a History, a dict, a pandas DataFrame"
                                        ".* got Series"):
        npdeep.plot_history(pd.Series([1.0, 2.0]))


def test_plot_history_takes_history_history_without_epochs(history):
    # Keras's idiom plot(history.history): "history 'cost' holds 5 values for 0 epochs"
    fig = npdeep.plot_history(history.history)
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), history.cost)


def test_a_one_epoch_plot_has_one_whole_tick():
    fig = npdeep.plot_history({"epoch": [0], "cost": [0.7]})
    assert list(fig.axes[0].get_xticks()) == [1]


def test_a_notebook_shows_a_plot_once(history, closes_its_event_loops):
    # the inline backend shows every pyplot figure at the cell's end, and the Figure
    # returned as the cell's value was shown a second time
    pytest.importorskip("IPython")
    pytest.importorskip("matplotlib_inline")
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython.testing.globalipapp import start_ipython
    from IPython.utils.capture import capture_output

    backend = matplotlib.get_backend()
    ip = start_ipython()
    ip.display_formatter.active_types = ["text/plain", "image/png"]
    ip.run_cell("%matplotlib inline")
    ip.user_ns["h"] = history
    try:
        for code in ("h.plot()", "h.plot();", "fig = h.plot()"):
            with capture_output() as out:
                ip.run_cell(code)
            assert len(out.outputs) == 1, code
            assert "image/png" in out.outputs[0].data
        assert isinstance(ip.user_ns["fig"], __import__("matplotlib").figure.Figure)
    finally:
        plt.close("all")
        plt.switch_backend(backend)  # the tests after this one draw with the one they had
        # %matplotlib made the terminal shell an event loop for its prompt, never closed:
        # "ResourceWarning: unclosed event loop" at the exit of every run with IPython installed
        loop = getattr(ip, "pt_loop", None)
        if loop is not None and not loop.is_running():
            loop.close()


def test_a_log_read_with_nullable_dtypes_or_with_a_column_twice():
    import io

    pd = pytest.importorskip("pandas")
    log = pd.read_csv(io.StringIO("epoch,cost,val_accuracy\n1,0.5,\n2,0.4,0.8\n"),
                      dtype_backend="numpy_nullable")  # the empty cell is pd.NA
    fig = npdeep.plot_history(log)
    lines = [line for ax in fig.axes for line in ax.get_lines()]
    assert any(list(line.get_ydata()) == [0.5, 0.4] for line in lines)
    twice = pd.DataFrame([[1, 0.5, 0.4]], columns=["epoch", "cost", "cost"])
    with pytest.raises(ValueError, match=r"^the DataFrame has columns named twice, \['cost'\]"):
        npdeep.plot_history(twice)
