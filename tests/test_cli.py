"""The command line in-process, through ``npdeep.cli.run(argv)``: every command, as a new user
would try them on a CSV written from a scikit-learn data set."""

import importlib
import json
import re
import sys

import numpy as np
import pytest
from cli_helpers import call, call_json
from sklearn.datasets import load_wine

from npdeep.cli import run

# explicit training options: the tests must not hang on defaults tuned elsewhere
FIT = ["--optimizer", "adam", "--learning-rate", "0.01", "--schedule", "constant"]
FAST = ["--units", "16", "--epochs", "12", "--batch-size", "16", "-q", *FIT]


@pytest.fixture(scope="module")
def wine_csv(tmp_path_factory):
    """wine as a CSV with text class labels, and the same rows without the target column."""
    folder = tmp_path_factory.mktemp("wine")
    frame = load_wine(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    frame.to_csv(folder / "wine.csv", index=False)
    frame.drop(columns="target").to_csv(folder / "wine_features.csv", index=False)
    return folder / "wine.csv"


@pytest.fixture(scope="module")
def wine_model(wine_csv, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "wine.npz"
    assert run(["train", str(wine_csv), *FAST, "-o", str(path)]) == 0
    return path


def test_new_user_walk_through_train_evaluate_predict_inspect_plot(wine_csv, tmp_path, capsys):
    model = tmp_path / "wine-model.npz"
    code, out, _ = call(capsys, "train", wine_csv, *FAST, "--validation-fraction", "0.2",
                        "-o", model)
    assert code == 0
    accuracy = float(out.split("test accuracy: ")[1].split()[0])
    assert accuracy > 0.85
    assert f"model saved to {model}" in out

    scores = call_json(capsys, "evaluate", model, wine_csv)
    assert scores["accuracy"] > 0.85
    assert [row["class"] for row in scores["per_class"]] == ["barbera", "barolo", "grignolino"]
    matrix = np.array(scores["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 178
    assert abs(np.trace(matrix) / 178 - scores["accuracy"]) < 1e-12

    code, out, _ = call(capsys, "evaluate", model, wine_csv)
    assert code == 0 and "precision" in out and "confusion matrix" in out

    out_csv = tmp_path / "predictions.csv"
    result = call_json(capsys, "predict", model, wine_csv.with_name("wine_features.csv"),
                       "-o", out_csv)
    assert result["rows"] == 178
    lines = out_csv.read_text().splitlines()
    assert lines[0] == ("prediction,probability_barbera,probability_barolo,"
                        "probability_grignolino")
    assert len(lines) == 179
    rows = [line.split(",") for line in lines[1:]]
    assert {r[0] for r in rows} <= {"barbera", "barolo", "grignolino"}
    probs = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    truth = load_wine().target
    names = np.array(["barolo", "grignolino", "barbera"])[truth]
    assert np.mean(np.array([r[0] for r in rows]) == names) == pytest.approx(
        scores["accuracy"])

    code, out, _ = call(capsys, "inspect", model)
    assert code == 0
    for text in ("W[l]", "(16, 13)", "softmax", "training options", "epochs run: 12",
                 "wine.csv (CSV, 178 rows", "barbera", "alcohol", "test scores"):
        assert text in out

    png = tmp_path / "curves.png"
    code, out, _ = call(capsys, "plot", model, "-o", png)
    assert code == 0 and "val_cost" in out and "val_accuracy" in out
    check_png(png)


def check_png(path):
    """A valid PNG of non-trivial content: decodes, is large, and is not one flat colour."""
    import matplotlib.image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] >= 200 and pixels.shape[1] >= 600
    assert pixels[..., :3].var() > 1e-3
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 20


def test_train_without_data_is_the_digits_job(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = call_json(capsys, "train", "--units", "32", "--epochs", "3", "-q", *FIT)
    assert result["data"]["source"].startswith("digits")
    assert result["test"]["n_test"] == 450 and result["test"]["accuracy"] > 0.8
    assert (tmp_path / "npdeep-model.npz").is_file()


def test_config_file_sets_options_and_flags_override_it(wine_csv, tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(f'data = "{wine_csv}"\nunits = [8, 4]\nepochs = 5\n'
                      'learning-rate = 0.05\nquiet = true\ndtype = "float64"\n')
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", "--config", config, "--epochs", "3", "-o", model)
    assert result["epochs_run"] == 3
    code, out, _ = call(capsys, "inspect", model, "--json")
    info = json.loads(out)
    assert info["architecture"]["units"] == [13, 8, 4, 3]
    assert info["architecture"]["dtype"] == "float64"
    assert info["training"]["learning_rate"] == 0.05


def test_config_train_table(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('[train]\ndata = "iris"\nepochs = 2\nunits = "4"\nquiet = true\n')
    result = call_json(capsys, "train", "--config", config, "-o", tmp_path / "m.npz")
    assert result["epochs_run"] == 2 and result["data"]["n_samples"] == 150


def test_config_optimizer_and_schedule_may_be_tables_of_options(tmp_path, capsys):
    """Only names were accepted ('must be a value, not a table'): a step schedule was always
    step_size 10, a plateau always watched val_cost with patience 5."""
    config = tmp_path / "run.toml"
    config.write_text('data = "iris"\nepochs = 4\nunits = "4"\nquiet = true\n'
                      'learning_rate = 0.1\nbatch_size = 0\n'
                      'optimizer = {name = "momentum", momentum = 0.5}\n'
                      '[schedule]\nname = "step"\nstep_size = 1\nfactor = 0.5\n')
    model = tmp_path / "m.npz"
    assert call_json(capsys, "train", "--config", config, "-o", model)["epochs_run"] == 4
    info = call_json(capsys, "inspect", model)
    assert info["training"]["optimizer"] == {"name": "momentum", "momentum": 0.5}
    assert info["training"]["schedule"] == {"name": "step", "step_size": 1, "factor": 0.5}
    import npdeep

    assert npdeep.load_trained(model).net.history.learning_rate == [0.1, 0.05, 0.025, 0.0125]
    # a flag still overrides the file
    result = call_json(capsys, "train", "--config", config, "--schedule", "constant", "-o",
                       tmp_path / "c.npz")
    assert result["epochs_run"] == 4
    assert npdeep.load_trained(tmp_path / "c.npz").net.history.learning_rate == [0.1] * 4


def test_config_activations_may_be_tables_of_options(tmp_path, capsys):
    """elu's and leaky_relu's alpha could not be set from the command line ('must be a value,
    not a table')."""
    config = tmp_path / "run.toml"
    config.write_text('data = "iris"\nepochs = 2\nunits = "4"\nquiet = true\n'
                      'activation = {name = "elu", alpha = 0.5}\n')
    model = tmp_path / "m.npz"
    assert call_json(capsys, "train", "--config", config, "-o", model)["epochs_run"] == 2
    import npdeep

    assert npdeep.load_trained(model).net.activations[1].get_config() == {"name": "elu",
                                                                          "alpha": 0.5}
    # a table naming an output-only activation for the hidden layers is a usage error
    config.write_text('data = "iris"\nactivation = {name = "softmax"}\n')
    code, _, err = call(capsys, "train", "--config", config, "-o", tmp_path / "s.npz")
    assert code == 2 and "softmax can only be the output activation" in err


@pytest.mark.parametrize("line, message", [
    ('schedule = {name = "step", step = 3}',
     r"run.toml': table 'schedule': invalid options for schedule 'step': \['step'\] \(its "
     r"options: step_size, factor\)"),
    ('optimizer = {momentum = 0.5}',
     r"run.toml': table 'optimizer': an optimizer config dict needs a 'name' key"),
    ('units = {a = 3}', r"key 'units' must be a value, not a table \(only activation, "
                        r"output_activation, loss, optimizer, schedule, class_weight may be "
                        r"tables\)"),
    ('activation = {name = "elu", alpha = -1}',
     r"run.toml': table 'activation': elu alpha must be a finite number >= 0, got -1"),
])
def test_config_tables_are_checked_naming_the_file_and_key(tmp_path, capsys, line, message):
    config = tmp_path / "run.toml"
    config.write_text(line + "\n")
    code, _, err = call(capsys, "train", "--config", config, "-o", tmp_path / "m.npz")
    assert code == 2
    assert re.search(message, " ".join(err.split())), err


def test_config_with_a_byte_order_mark_is_read(tmp_path, capsys):
    config = tmp_path / "run.toml"  # Notepad's "UTF-8 with BOM"
    config.write_bytes(b"\xef\xbb\xbf" + b'data = "iris"\nepochs = 2\nunits = "4"\nquiet = true\n')
    result = call_json(capsys, "train", "--config", config, "-o", tmp_path / "m.npz")
    assert result["epochs_run"] == 2


def test_regression_reports_r2_and_evaluate_gives_mse_mae_r2(tmp_path, capsys):
    model = tmp_path / "d.npz"
    result = call_json(capsys, "train", "diabetes", "--units", "8", "--epochs", "20",
                       "--learning-rate", "0.01", "-q", "-o", model)
    assert result["task"] == "regression" and set(result["test"]) >= {"r2", "mse"}
    code, out, _ = call(capsys, "train", "diabetes", "--units", "8", "--epochs", "2", "-q",
                        "-o", model)
    assert "test R^2:" in out
    scores = call_json(capsys, "evaluate", model, "diabetes")
    assert {"mse", "mae", "r2"} <= set(scores)
    out_csv = tmp_path / "p.csv"
    assert call_json(capsys, "predict", model, "diabetes", "-o", out_csv)["rows"] == 442
    values = np.loadtxt(out_csv, delimiter=",", skiprows=1)
    assert values.shape == (442,) and 50 < values.mean() < 300  # the target's own units


def test_categorical_columns_refused_unless_onehot(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 80
    colour = rng.choice(["red", "green", "blue"], n)
    x = rng.normal(size=n)
    y = ((colour == "red") ^ (x > 0)).astype(int)
    lines = ["x,colour,y"] + [f"{a:.4f},{c},{t}" for a, c, t in zip(x, colour, y, strict=True)]
    data = tmp_path / "mixed.csv"
    data.write_text("\n".join(lines) + "\n")
    model = tmp_path / "m.npz"
    code, _, err = call(capsys, "train", data, "-q", "-o", model)
    assert code == 1 and "colour" in err and not model.exists()
    result = call_json(capsys, "train", data, "--categorical", "onehot", "--units", "8",
                       "--epochs", "30", "-q", *FIT, "-o", model)
    assert result["data"]["n_features"] == 4  # x and three one-hot columns
    out_csv = tmp_path / "p.csv"
    assert call_json(capsys, "predict", model, data, "-o", out_csv)["rows"] == n
    assert out_csv.read_text().splitlines()[0] == "prediction,probability_0,probability_1"


def test_predict_streams_in_chunks_with_the_same_result(wine_model, wine_csv, tmp_path,
                                                        capsys):
    whole, chunked = tmp_path / "a.csv", tmp_path / "b.csv"
    call_json(capsys, "predict", wine_model, wine_csv, "-o", whole)
    call_json(capsys, "predict", wine_model, wine_csv, "-o", chunked, "--chunk-rows", "7")
    a, b = (f.read_text().splitlines() for f in (whole, chunked))
    assert len(a) == len(b) == 179 and a[0] == b[0]
    assert [r.split(",")[0] for r in a] == [r.split(",")[0] for r in b]
    pa, pb = (np.array([[float(v) for v in r.split(",")[1:]] for r in rows[1:]])
              for rows in (a, b))
    np.testing.assert_allclose(pa, pb, atol=1e-5)  # float32: BLAS blocking varies with m
    code, out, _ = call(capsys, "predict", wine_model, wine_csv)
    assert code == 0 and out.replace("\r\n", "\n") == whole.read_text()


def test_binary_target_gets_two_probability_columns(tmp_path, capsys):
    model = tmp_path / "bc.npz"
    result = call_json(capsys, "train", "breast_cancer", "--units", "8", "--epochs", "5", "-q",
                       *FIT, "-o", model)
    assert result["test"]["accuracy"] > 0.85
    out_csv = tmp_path / "p.csv"
    call_json(capsys, "predict", model, "breast_cancer", "-o", out_csv)
    assert out_csv.read_text().splitlines()[0] == "prediction,probability_0,probability_1"


def test_early_stopping_validates_and_records_val_figures(tmp_path, capsys):
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", "iris", "--units", "8", "--epochs", "60",
                       "--early-stopping", "--patience", "0", "--optimizer", "sgd",
                         "--learning-rate", "0.5", "--schedule", "constant", "-q",
                       "-o", model)
    assert "val_cost" in result["final"]
    assert result["epochs_run"] < 60 and "early stopping" in result["stop_reason"]


def test_train_plot_option_draws_curves(tmp_path, capsys):
    png = tmp_path / "c.png"
    code, out, _ = call(capsys, "train", "iris", "--units", "4", "--epochs", "4", "-q",
                        "-o", tmp_path / "m.npz", "--plot", png)
    assert code == 0 and f"training curves drawn to {png}" in out
    check_png(png)


def test_plot_of_a_one_epoch_model_says_epoch(tmp_path, capsys):
    model, png = tmp_path / "m.npz", tmp_path / "c.png"
    assert call(capsys, "train", "iris", "--units", "4", "--epochs", "1", "-q", "-o", model)[0] == 0
    code, out, err = call(capsys, "plot", model, "-o", png)
    assert code == 0, err
    assert out.strip() == f"drew cost, accuracy, learning_rate over 1 epoch to {png}"
    check_png(png)


def test_gradcheck_passes_on_options_and_on_a_model(wine_model, wine_csv, capsys):
    code, out, _ = call(capsys, "gradcheck", "--units", "4,3", "--activation", "sigmoid")
    assert code == 0 and "PASSED" in out and "W3" in out
    result = call_json(capsys, "gradcheck", wine_model, "--data", wine_csv, "--samples", "5",
                       "--max-checks", "20")
    assert result["passed"] and [r["parameter"] for r in result["parameters"]] == [
        "W1", "b1", "W2", "b2"]


def test_gradcheck_exits_1_when_it_fails(capsys, monkeypatch):
    # a wrong backward pass (the last layer's dW doubled); an --epsilon of 0.5 failed on right
    # gradients before the check learnt to go down to smaller steps, and passes now
    network_module = importlib.import_module("npdeep.network")
    original = network_module.backward

    def doubled_dW(layers, activations, loss, ws, Y, coef, grads, fused, dropout=False):
        original(layers, activations, loss, ws, Y, coef, grads, fused, dropout)
        grads[-1][0][...] *= 2.0

    code, out, _ = call(capsys, "gradcheck", "--epsilon", "0.5")
    assert code == 0 and "PASSED" in out and "checked again with smaller steps" in out
    monkeypatch.setattr(network_module, "backward", doubled_dW)
    code, out, _ = call(capsys, "gradcheck")
    assert code == 1 and "FAILED" in out and "FAIL" in out
    code, out, _ = call(capsys, "gradcheck", "--json")
    doc = json.loads(out)  # exit 1 with --json: ok false, as for every other failure
    assert code == 1 and doc["ok"] is False and doc["exit_code"] == 1
    assert doc["error"] == "gradient check failed" and doc["passed"] is False


def test_gradcheck_json_holds_the_notes_and_each_parameter_s_size(tmp_path, capsys):
    # the notes (a float64 copy, dropout off) were in the text only; JSON had no way to tell
    # a sampled parameter from a fully checked one
    import npdeep

    npdeep.Network([4, 30, 3], dtype="float32", dropout=0.2, seed=0).save(tmp_path / "m.npz")
    result = call_json(capsys, "gradcheck", str(tmp_path / "m.npz"), "--max-checks", "40")
    assert result["notes"] == [
        "checked on a float64 copy of this float32 network (same parameters, activations and "
        "loss)", "dropout off: the check differentiates the cost without dropout masks"]
    assert [(r["checked"] + r["skipped"], r["entries"]) for r in result["parameters"]] == [
        (40, 120), (30, 30), (40, 90), (3, 3)]


def test_ctrl_c_saves_the_best_model_so_far(tmp_path, capsys, monkeypatch):
    train_module = importlib.import_module("npdeep.cli.train")

    original = train_module.BestWeights.on_epoch_end

    def interrupt_at_third_epoch(self, epoch, logs):
        original(self, epoch, logs)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module.BestWeights, "on_epoch_end", interrupt_at_third_epoch)
    model = tmp_path / "m.npz"
    code, out, _ = call(capsys, "train", "iris", "--units", "4", "--epochs", "50", "-q",
                        "-o", model)
    assert code == 130
    best = int(re.search(r"saved the best model so far \(epoch (\d+)", out).group(1))
    assert str(model) in out
    info = json.loads(call(capsys, "inspect", model, "--json")[1])
    assert info["interrupted"] is True and info["history"]["epochs"] == 3
    assert info["history"]["cost"]["best_epoch"] == best
    code, out, _ = call(capsys, "train", "iris", "--units", "4", "--epochs", "50", "--json",
                        "-o", model)
    doc = json.loads(out)  # said "ok": true while exiting 130
    assert code == 130 and doc["ok"] is False and doc["exit_code"] == 130
    assert doc["interrupted"] is True and doc["model"] == str(model)


def test_ctrl_c_before_any_epoch_saves_nothing(tmp_path, capsys, monkeypatch):
    train_module = importlib.import_module("npdeep.cli.train")

    def interrupt(self, epoch, logs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module.BestWeights, "on_epoch_end", interrupt)
    code, _, err = call(capsys, "train", "iris", "-q", "-o", tmp_path / "m.npz")
    assert code == 130 and "no model saved" in err
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_is_a_clear_message(wine_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = call(capsys, "plot", wine_model, "-o", tmp_path / "c.png")
    assert code == 1 and "pip install 'npdeep[plot]'" in err and "Traceback" not in err
    code, _, err = call(capsys, "train", "iris", "-q", "-o", tmp_path / "m.npz",
                        "--plot", tmp_path / "c.png")
    assert code == 1 and "matplotlib" in err
    assert list(tmp_path.iterdir()) == []


def test_bench_without_a_checkout_says_so(capsys, monkeypatch):
    bench_module = importlib.import_module("npdeep.cli.bench")

    monkeypatch.setattr(bench_module, "__file__", "/nowhere/site-packages/npdeep/cli/bench.py")
    code, _, err = call(capsys, "bench", "--quick")
    assert code == 1 and "source checkout" in err


def test_json_errors_are_json_too(tmp_path, capsys):
    code, out, err = call(capsys, "evaluate", tmp_path / "none.npz", "iris", "--json")
    assert code == 1
    assert json.loads(out) == {"ok": False, "exit_code": 1,
                               "error": f"{tmp_path / 'none.npz'}: no such model file"}


DIVERGING = ["--optimizer", "sgd", "--schedule", "constant", "--batch-size", "8", "--dropout",
             "0", "--epochs", "30"]


@pytest.mark.parametrize("rate, how", [
    ("1.7e308", "before any epoch had a finite cost"),  # the first update overflows
    ("2", r"and the weights of its best epoch \(1\) give outputs that are not finite"),
])
def test_a_diverged_run_saves_nothing_and_keeps_the_old_model(rate, how, wine_model, tmp_path,
                                                                capsys):
    # a model of a diverged run (the starting weights, or ones whose outputs overflow) was
    # saved over the old file with exit 0, and numpy's RuntimeWarnings reached the terminal
    model = tmp_path / "m.npz"
    model.write_bytes(wine_model.read_bytes())
    code, out, err = call(capsys, "train", "iris", *DIVERGING, "--learning-rate", rate,
                          "-o", model)
    assert code == 1 and "RuntimeWarning" not in err and "Traceback" not in err
    assert re.search(rf"Error: training diverged {how}, so no model was saved \({model} is "
                     rf"unchanged\): the gradients became NaN or inf at epoch \d, batch \d.*"
                     rf"Try a smaller --learning-rate \(got {re.escape(f'{float(rate):g}')}\), "
                     rf"--clip-norm, or another --optimizer$", err.strip())
    assert model.read_bytes() == wine_model.read_bytes()


def test_a_run_that_diverges_late_saves_its_best_epoch(tmp_path, capsys):
    model = tmp_path / "m.npz"
    code, out, err = call(capsys, "train", "iris", *DIVERGING, "--learning-rate", "2.5",
                          "-o", model)
    assert code == 0 and "RuntimeWarning" not in err
    assert re.search(r"diverged: saved the best model so far \(epoch 1, cost [\d.e+]+\)", out)
    assert ("training diverged after that epoch; for a better model try a smaller "
            "--learning-rate (got 2.5), --clip-norm, or another --optimizer") in out
    info = json.loads(call(capsys, "inspect", model, "--json")[1])
    assert info["history"]["cost"]["best_epoch"] == 1


def test_clip_norm_reaches_training_and_the_model_file(tmp_path, capsys):
    model = tmp_path / "m.npz"
    config = tmp_path / "c.toml"
    config.write_text("clip_norm = 0.5\n")
    doc = call_json(capsys, "train", "iris", *DIVERGING, "--learning-rate", "2", "--config",
                    config, "-o", model)  # diverges without clipping (test above)
    assert doc["stop_reason"] is None
    info = json.loads(call(capsys, "inspect", model, "--json")[1])
    assert info["training"]["clip_norm"] == 0.5
    code, _, err = call(capsys, "train", "iris", "--clip-norm", "0", "-o", model)
    assert code == 2 and "--clip-norm" in err


def test_help_lists_every_command_and_train_option(capsys):
    code, out, _ = call(capsys, "--help")
    assert code == 0
    for command in ("train", "evaluate", "predict", "gradcheck", "inspect", "plot", "bench"):
        assert command in out
    code, out, _ = call(capsys, "train", "--help")
    for option in ("--target", "--task", "--categorical", "--units", "--activation",
                   "--output-activation", "--loss", "--optimizer", "--learning-rate",
                   "--epochs", "--batch-size", "--clip-norm", "--l2", "--dropout",
                   "--validation-fraction",
                   "--early-stopping", "--patience", "--seed", "--dtype", "--output",
                   "--config", "--plot", "--quiet", "--json"):
        assert option in out


def write_idx(path, array):
    """Write ``array`` (uint8) as a gzipped IDX file: magic 0x0000 08 ndim, sizes, bytes."""
    import gzip
    import struct

    header = struct.pack(">HBB", 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_idx_folder_trains_and_evaluates(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 40)
    images = (rng.random((120, 4, 4)) * 60).astype(np.uint8)
    for k in range(3):  # each class lights its own row of pixels
        images[labels == k, k, :] += 150
    folder = tmp_path / "idx"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte.gz", images)
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", folder, "--units", "8", "--epochs", "15", "-q",
                       *FIT, "-o", model)
    assert result["data"]["n_features"] == 16 and result["test"]["accuracy"] > 0.9
    assert call_json(capsys, "evaluate", model, folder)["accuracy"] > 0.9


def test_npz_trains_and_npy_predicts(tmp_path, capsys):
    X, y = load_wine(return_X_y=True)
    np.savez(tmp_path / "wine.npz", X=X, y=y)
    np.save(tmp_path / "features.npy", X[:10])
    model = tmp_path / "m.npdeep"
    assert call_json(capsys, "train", tmp_path / "wine.npz", "--units", "8", "--epochs", "10",
                     "--batch-size", "16",
                     "-q", *FIT, "-o", model)["test"]["accuracy"] > 0.8
    out_csv = tmp_path / "p.csv"
    assert call_json(capsys, "predict", model, tmp_path / "features.npy",
                     "-o", out_csv)["rows"] == 10


def test_mnist_t10k_by_name(tmp_path, capsys):
    from npdeep.data import find_mnist_dir
    from npdeep.errors import DataError

    try:
        find_mnist_dir()
    except DataError:
        pytest.skip("MNIST t10k files not found")
    result = call_json(capsys, "train", "mnist-t10k", "--units", "32", "--epochs", "1", "-q",
                       *FIT, "-o", tmp_path / "m.npz")
    assert result["data"]["n_samples"] == 10000 and result["test"]["accuracy"] > 0.8


def test_mnist_dir_from_the_environment_is_not_second_guessed(tmp_path, monkeypatch):
    """A wrong $NPDEEP_MNIST_DIR is an error naming it, not a silent fallback elsewhere."""
    from npdeep.data import find_mnist_dir
    from npdeep.errors import DataError

    monkeypatch.setenv("NPDEEP_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="nowhere"):
        find_mnist_dir()


def test_live_progress_bar_shows_epoch_batch_cost_and_validation(tmp_path):
    import io

    import npdeep
    from npdeep.cli.progress import LiveProgress

    X, y = load_wine(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    stream = io.StringIO()
    net = npdeep.Network([13, 8, 3], seed=0)
    net.fit(X.T, y, epochs=3, batch_size=32, learning_rate=0.1, validation_fraction=0.2,
            callbacks=[LiveProgress(32, stream=stream, mininterval=0)])
    text = stream.getvalue()
    assert "epoch 3/3" in text and "batch 5/5" in text and "val_accuracy=" in text
    assert "15/15" in text  # 3 epochs x 5 batches of 142 training samples


def test_live_progress_bar_counts_full_batch_epochs_once():
    import io

    import npdeep
    from npdeep.cli.progress import LiveProgress

    X, y = load_wine(return_X_y=True)
    stream = io.StringIO()
    net = npdeep.Network([13, 8, 3], seed=0)
    net.fit(X.T / X.max(), y, epochs=3, learning_rate=0.1, diagnose=False,
            callbacks=[LiveProgress(None, stream=stream, mininterval=0)])
    frames = stream.getvalue().split("\r")
    assert "| 3/3 [" in frames[-1] and "epoch 3/3" in frames[-1]
    assert not any("4/3" in f or "6/3" in f for f in frames)


def test_bench_runs_the_checkout_suite_with_its_arguments(capfd):
    from pathlib import Path

    if not (Path(__file__).resolve().parents[1] / "bench" / "run.py").is_file():
        pytest.skip("no bench/ checkout")
    code = run(["bench", "--help"])
    out = capfd.readouterr().out
    assert code == 0 and "--quick" in out and "--cases" in out
    assert out.startswith("usage: npdeep bench [-h]")  # was bench/run.py, a name not typed
    assert run(["bench", "--cases", "z"]) == 2
    assert "npdeep bench: error: --cases: got 'z'" in capfd.readouterr().err


def test_bench_reads_a_relative_out_in_the_caller_s_folder(tmp_path, monkeypatch, capfd):
    # the suite ran in the checkout's root: --out results wrote into the checkout
    from pathlib import Path

    if not (Path(__file__).resolve().parents[1] / "bench" / "run.py").is_file():
        pytest.skip("no bench/ checkout")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").write_text("")
    assert run(["bench", "--tiny", "--out", "taken"]) == 2  # refused here: it is this file
    assert "--out: 'taken' is a file, expected a folder" in capfd.readouterr().err


def test_classifier_with_a_non_probability_output_still_predicts_labels(tmp_path, capsys):
    model = tmp_path / "m.npz"
    call_json(capsys, "train", "iris", "--units", "8", "--epochs", "20", "-q", *FIT,
              "--output-activation", "identity", "--loss", "mean_squared_error", "-o", model)
    assert call_json(capsys, "evaluate", model, "iris")["accuracy"] > 0.6
    out_csv = tmp_path / "p.csv"
    call_json(capsys, "predict", model, "iris", "-o", out_csv)
    lines = out_csv.read_text().splitlines()
    assert lines[0] == "prediction" and set(lines[1:]) <= {"0", "1", "2"}


def test_predict_to_stdout_prints_nothing_when_the_data_does_not_fit(wine_model, capsys):
    code, out, err = call(capsys, "predict", wine_model, "iris")
    assert code == 1 and out == "" and "the model expects 13 features" in err


@pytest.mark.parametrize("batch_size", [None, 16])
def test_ctrl_c_best_weights_are_those_that_had_the_best_cost(batch_size):
    """Full batch: an epoch's cost is measured before its update, so the weights kept for it
    are the epoch's starting ones; with mini-batches, the epoch's end (as EarlyStopping)."""
    import numpy as np

    import npdeep
    from npdeep.cli.train import BestWeights

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 60))
    y = (X[0] + X[1] > 0).astype(int)
    net = npdeep.Network([3, 5, 1], activation="tanh", seed=0)
    best = BestWeights()
    history = net.fit(X, y, epochs=6, learning_rate=0.1, batch_size=batch_size,
                      callbacks=[best], diagnose=False)
    assert best.epoch == int(np.argmin(history.cost)) == 5  # the cost still falls
    if batch_size is None:
        net.parameters.flat[...] = best.weights
        assert net.cost(X, y) == pytest.approx(history.cost[best.epoch], rel=1e-12)
    else:
        assert np.array_equal(best.weights, net.parameters.flat)


def test_predict_dash_output_is_standard_output(wine_model, wine_csv, tmp_path, capsys,
                                                monkeypatch):
    """``-o -`` means standard output, as for most command-line tools: no file named '-'."""
    monkeypatch.chdir(tmp_path)
    code, out, _ = call(capsys, "predict", wine_model, wine_csv, "-o", "-")
    assert code == 0 and not (tmp_path / "-").exists()
    lines = out.splitlines()
    assert lines[0].startswith("prediction,probability_") and len(lines) == 179
    code, out, err = call(capsys, "predict", wine_model, wine_csv, "-o", "-", "--json")
    assert code == 2 and "--json needs -o/--output FILE" in json.loads(out)["error"]


@pytest.mark.parametrize("argv", [["train", "iris", "--epochs", "1", "-q"],
                                  ["train", "iris", "--epochs", "1", "-q", "-o", "m.npz",
                                   "--plot", "-"]])
def test_a_dash_for_a_model_or_a_drawing_is_refused(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = argv + (["-o", "-"] if "-o" not in argv else [])
    code, _, err = call(capsys, *argv)
    assert code == 1 and "'-' (standard output) cannot take this file" in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_before_the_first_epoch_still_answers_json(tmp_path, capsys, monkeypatch):
    import npdeep

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(npdeep.Network, "fit", interrupted)
    code, out, err = call(capsys, "train", "iris", "-o", tmp_path / "m.npz", "--json")
    assert code == 130 and "no model saved" in err
    assert json.loads(out) == {"ok": False, "exit_code": 130, "error": "interrupted before "
                               "the first epoch ended: no model saved"}
    assert not (tmp_path / "m.npz").exists()


def test_ctrl_c_outside_training_still_answers_json(wine_model, capsys, monkeypatch):
    inspect_module = importlib.import_module("npdeep.cli.inspect")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(inspect_module, "read_model_file", interrupted)
    code, out, err = call(capsys, "inspect", wine_model, "--json")
    assert code == 1 and "Aborted!" in err
    assert json.loads(out) == {"ok": False, "error": "interrupted (Ctrl-C)", "exit_code": 1}


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")
@pytest.mark.parametrize("rows, columns, live", [(24, 80, True), (0, 0, False), (0, 120, False)])
def test_a_terminal_without_a_size_gets_plain_lines(rows, columns, live):
    """tqdm draws nothing on a terminal of 0 rows or columns (``script`` in CI, ``docker run
    -t`` without a terminal behind it): there the epochs must be printed as plain lines."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    from npdeep.cli.progress import on_terminal

    leader, follower = pty.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        with open(follower, "w", closefd=False) as stream:
            assert on_terminal(stream) is live
    finally:
        os.close(leader)
        os.close(follower)


def test_train_prints_plain_epoch_lines_wherever_the_live_bar_is_not_drawn(tmp_path,
                                                                          monkeypatch):
    import io

    train_module = importlib.import_module("npdeep.cli.train")

    class SizelessTerminal(io.StringIO):
        def isatty(self):
            return True

    stream = SizelessTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(train_module, "on_terminal", lambda: False)
    assert run(["train", "iris", "--units", "8", "--epochs", "2", "-o",
                str(tmp_path / "m.npz")]) == 0
    lines = stream.getvalue().splitlines()
    assert [line.split()[1] for line in lines if line.startswith("epoch ")] == ["1/2", "2/2"]


@pytest.mark.parametrize("name", ["train", "evaluate", "predict", "gradcheck", "inspect",
                                  "plot"])
def test_every_option_of_every_command_is_explained_in_its_help(name):
    import click

    from npdeep.cli import main

    command = main.commands[name]
    silent = [p.opts[0] for p in command.params
              if isinstance(p, click.Option) and not p.help]
    assert silent == []


def test_npy_features_with_an_npy_target_train_and_evaluate(tmp_path, capsys):
    """docs/CLI.md and train --help: an .npy of features takes its target as --target y.npy."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    model = tmp_path / "m.npz"
    call_json(capsys, "train", tmp_path / "X.npy", "--target", tmp_path / "y.npy", *FAST,
              "-o", model)
    scores = call_json(capsys, "evaluate", model, tmp_path / "X.npy", "--target",
                       tmp_path / "y.npy")
    assert scores["accuracy"] > 0.8 and sum(r["support"] for r in scores["per_class"]) == 150


def test_missing_mnist_says_how_to_give_its_folder_on_the_command_line(tmp_path, capsys,
                                                                       monkeypatch):
    """The message once pointed only at a Python argument (mnist_dir=...), which a command-line
    user cannot pass."""
    monkeypatch.setenv("NPDEEP_MNIST_DIR", str(tmp_path / "nowhere"))
    code, _, err = call(capsys, "train", "mnist-t10k", "-q")
    assert code == 1 and "as the data itself (npdeep train FOLDER), in $NPDEEP_MNIST_DIR" in err


@pytest.mark.parametrize("activation, init", [("relu", "he"), ("leaky_relu", "he"),
                                              ("gelu", "he"), ("selu", "lecun"),
                                              ("tanh", "glorot"), ("sigmoid", "glorot")])
def test_the_default_initializer_is_the_one_train_help_names(activation, init, tmp_path,
                                                              capsys):
    from npdeep.cli import main

    help_text = next(p.help for p in main.commands["train"].params if p.name == "init")
    # "he for relu, leaky_relu, ... and silu, lecun for selu, glorot otherwise"
    named_he = help_text.split("he for ")[1].split(", lecun for ")[0]
    named_lecun = help_text.split("lecun for ")[1].split(",")[0]
    assert (activation in named_he.replace(" and ", ", ").split(", ")) == (init == "he")
    assert (activation == named_lecun) == (init == "lecun")
    model = tmp_path / "m.npz"
    call_json(capsys, "train", "iris", "--units", "4", "--epochs", "1", "-q",
              "--activation", activation, "-o", model)
    assert call_json(capsys, "inspect", model)["architecture"]["init"] == init


@pytest.mark.parametrize("command, argv", [
    ("train", ["train", "iris", "--units", "4", "--epochs", "1", "-q"]),
    ("gradcheck", ["gradcheck"])])
def test_a_loss_alone_gets_its_canonical_output_as_the_help_says(command, argv, tmp_path,
                                                                  capsys):
    from npdeep.cli import main

    help_text = next(p.help for p in main.commands[command].params
                     if p.name == "output_activation")
    assert "identity for mean_squared_error" in help_text
    if command == "train":
        model = tmp_path / "m.npz"
        call_json(capsys, *argv, "--loss", "mean_squared_error", "-o", model)
        architecture = call_json(capsys, "inspect", model)["architecture"]
        assert architecture["output_activation"]["name"] == "identity"
    else:
        doc = call_json(capsys, *argv, "--loss", "mean_squared_error")
        assert "output_activation='identity'" in doc["network"]


def test_the_aliases_python_accepts_are_accepted_by_the_command_line(tmp_path, capsys):
    # Network(loss="mse", activation="logistic", init="xavier") works, so the flags do too,
    # stored under their canonical names
    model = tmp_path / "m.npz"
    call_json(capsys, "train", "iris", "--units", "4", "--epochs", "1", "-q", "-o", model,
              "--loss", "MSE", "--activation", "logistic", "--init", "xavier",
              "--optimizer", "gd", "--schedule", "none")
    info = call_json(capsys, "inspect", model)
    assert info["architecture"]["loss"] == "mean_squared_error"
    assert info["architecture"]["init"] == "glorot"
    options = info["training"]
    assert (options["activation"], options["optimizer"], options["schedule"]) == (
        "sigmoid", "sgd", "constant")
    doc = call_json(capsys, "gradcheck", "--units", "3", "--loss", "bce",
                    "--output-activation", "logistic")
    assert "loss='binary_crossentropy'" in doc["network"]


@pytest.mark.parametrize("argv, message", [
    (["--loss", "msee"], "'msee' is not one of 'binary_crossentropy', "),
    (["--activation", "softmax"], "'softmax' is not one of 'sigmoid', 'tanh'"),
])
def test_an_unknown_name_or_a_misplaced_one_is_still_a_usage_error(argv, message, capsys):
    code, _, err = call(capsys, "train", "iris", "-q", *argv)
    assert code == 2 and message in err


def test_drop_leaves_columns_out_of_training_and_of_evaluate_and_predict(tmp_path, capsys):
    # an identifier and a free-text column, with a gap, that the model must not see
    rows = ["id,name,size,weight,kind"] + [
        f"{'' if i == 3 else i},pet{i},{i % 5},{(i % 5) * 2 + 0.1 * (i % 3)},{'ab'[i % 5 > 1]}"
        for i in range(60)]
    data = tmp_path / "pets.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    model = tmp_path / "m.npz"
    code, _, err = call(capsys, "train", data, *FAST, "-o", model)
    assert code == 1 and "line 5, column 'id': empty cell" in err
    config = tmp_path / "c.toml"
    config.write_text('drop = ["id", "name"]\n', encoding="utf-8")
    result = call_json(capsys, "train", data, *FAST, "-o", model, "--config", config)
    assert result["data"]["n_features"] == 2
    info = call_json(capsys, "inspect", model)
    assert info["data"]["feature_names"] == ["size", "weight"]
    assert info["training"]["drop"] == ["id", "name"]
    assert call_json(capsys, "evaluate", model, data)["data"]["n_samples"] == 60
    code, out, _ = call(capsys, "predict", model, data)
    assert code == 0 and len(out.splitlines()) == 61
    flag = call_json(capsys, "train", data, *FAST, "-o", model, "--drop", "id, name")
    assert flag["data"]["n_features"] == 2
    code, _, err = call(capsys, "train", data, *FAST, "-o", model, "--drop", "id,,name")
    assert code == 2 and "expected comma-separated column names like id,name" in err



def _diabetes_csv(folder, target):
    """Write diabetes as a CSV with ``target(y)`` as its last column 'y'; return (path, target)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    y = target(y)
    path = folder / "diabetes.csv"
    lines = [",".join([*(f"x{j}" for j in range(10)), "y"])]
    lines += [",".join(f"{v:.17g}" for v in (*row, t)) for row, t in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path, y


@pytest.mark.parametrize("loss", [[], ["--loss", "mse"]])
def test_regression_with_a_sigmoid_output_predicts_values_in_the_target_s_units(tmp_path,
                                                                                capsys, loss):
    # before: train failed scoring its test split ("Standardizer.inverse_transform: X has
    # shape (111,)"): predict gave 0/1 labels, and the targets were standardized, below 0
    data, y = _diabetes_csv(tmp_path, lambda y: (y - y.min()) / (y.max() - y.min()))
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", data, "--output-activation", "sigmoid", *loss,
                       "--units", "16", "--epochs", "30", "-o", model)
    assert result["test"]["r2"] > 0.1
    assert call_json(capsys, "evaluate", model, data)["r2"] > 0.1
    out_csv = tmp_path / "p.csv"
    call_json(capsys, "predict", model, data, "-o", out_csv)
    values = np.loadtxt(out_csv, delimiter=",", skiprows=1)
    assert values.shape == y.shape and len(np.unique(values)) > 100  # values, not labels
    assert y.min() < values.mean() < y.max()  # the target's own units


def test_regression_targets_a_sigmoid_output_cannot_reach_are_refused(tmp_path, capsys):
    # before: "binary cross-entropy targets must lie in [0, 1], got values in [-1.605,
    # 2.45424]" (the standardized targets, not the file's) and "encode the classes as 0/1"
    data, y = _diabetes_csv(tmp_path, lambda y: y)
    code, _, err = call(capsys, "train", data, "--output-activation", "sigmoid",
                        "-o", tmp_path / "m.npz")
    assert code == 1 and not (tmp_path / "m.npz").exists()
    assert re.search(r"target 'y' has values in \[25, 346\], outside \[0, 1\] where "
                     r"--output-activation sigmoid can reach; shift or scale the target", err)


def test_regression_with_a_softplus_output_keeps_the_target_as_given(tmp_path, capsys):
    # before: the target was standardized, and a softplus output (values > 0) could then
    # predict nothing below the training mean (151.9 on diabetes: R^2 0.04, silently)
    from npdeep import load_trained

    data, y = _diabetes_csv(tmp_path, lambda y: y)
    model = tmp_path / "m.npz"
    result = call_json(capsys, "train", data, "--output-activation", "softplus",
                       "--epochs", "60", "-o", model)
    assert result["test"]["r2"] > 0.2
    trained = load_trained(model)
    assert trained.header["target_scaling"]["mean"] == [0.0]
    X = np.loadtxt(data, delimiter=",", skiprows=1)[:, :-1]
    assert trained.predict(X).min() < y.mean() - 50


@pytest.mark.parametrize("g, shift, reach", [("tanh", 0.0, r"\[-1, 1\]"),
                                             ("relu", -200.0, r"\[0, inf\]"),
                                             ("selu", -200.0, r"\[-1.758, inf\]")])
def test_regression_targets_a_bounded_output_cannot_reach_are_refused(tmp_path, capsys, g,
                                                                       shift, reach):
    data, y = _diabetes_csv(tmp_path, lambda y: y + shift)
    code, _, err = call(capsys, "train", data, "--output-activation", g, "-o", tmp_path / "m.npz")
    assert code == 1 and not (tmp_path / "m.npz").exists()
    assert re.search(rf"target 'y' has values in \[{y.min():g}, {y.max():g}\], outside {reach} "
                     rf"where --output-activation {g} can reach; shift or scale the target",
                     err), err


@pytest.fixture
def imbalanced_csv(tmp_path):
    """1 sample in 20 is 'yes', shifted along a; the rest 'no'."""
    rng = np.random.default_rng(0)
    yes = rng.random(600) < 0.05
    a = rng.normal(size=600) + 1.5 * yes
    rows = [f"{x:.5f},{b:.5f},{'yes' if p else 'no'}"
            for x, b, p in zip(a, rng.normal(size=600), yes, strict=True)]
    path = tmp_path / "imbalanced.csv"
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    return path


def _yes_recall(capsys, model, data):
    report = call_json(capsys, "evaluate", model, data)
    return next(c["recall"] for c in report["per_class"] if c["class"] == "yes")


def test_class_weight_weighs_the_classes_by_their_labels(imbalanced_csv, tmp_path, capsys):
    # the estimators had class_weight, the command line had none: a rare class went unseen
    base = ["train", imbalanced_csv, "--target", "label", "--epochs", "15", "-q"]
    call_json(capsys, *base, "-o", tmp_path / "plain.npz")
    call_json(capsys, *base, "--class-weight", "balanced", "-o", tmp_path / "balanced.npz")
    call_json(capsys, *base, "--class-weight", "yes=8", "-o", tmp_path / "yes8.npz")
    (tmp_path / "cw.toml").write_text("class_weight = {yes = 8}\n")
    call_json(capsys, *base, "--config", tmp_path / "cw.toml", "-o", tmp_path / "toml.npz")
    plain = _yes_recall(capsys, tmp_path / "plain.npz", imbalanced_csv)
    assert _yes_recall(capsys, tmp_path / "balanced.npz", imbalanced_csv) > plain
    assert _yes_recall(capsys, tmp_path / "yes8.npz", imbalanced_csv) > plain
    header = npdeep_header(tmp_path / "yes8.npz")
    assert header["training"]["class_weight"] == {"yes": 8.0}
    same = [np.load(tmp_path / f"{n}.npz")["W1"] for n in ("yes8", "toml")]
    np.testing.assert_array_equal(*same)  # the config table trains as the flag


def npdeep_header(path):
    from npdeep.io import load_model_file

    return load_model_file(path)[0]


@pytest.mark.parametrize("args, message", [
    (["--class-weight", "maybe=3"], "the data has no class 'maybe'; its classes are no, yes"),
    (["--class-weight", "yes"], "expected 'balanced', 'none' or LABEL=WEIGHT pairs"),
    (["--class-weight", "yes=-1"], "the weight of class 'yes' must be a number >= 0, got '-1'"),
    (["--class-weight", "yes=1,yes=2"], "class 'yes' is given twice"),
    (["--class-weight", "balanced", "--target", "a", "--drop", "label"],
     "weighs classes, but imbalanced.csv (CSV, 600 rows, target 'a') is a regression task"),
])
def test_bad_class_weights_are_usage_errors(imbalanced_csv, tmp_path, capsys, args, message):
    code, out, err = call(capsys, "train", imbalanced_csv, "--target", "label", "-q",
                          *args, "-o", tmp_path / "m.npz")
    assert code == 2 and message in " ".join(err.split()), err
    assert not (tmp_path / "m.npz").exists()


def test_load_trained_predicts_from_raw_features_as_npdeep_predict(wine_model, wine_csv,
                                                                    tmp_path, capsys):
    # npdeep.load gave the bare network, which takes standardized features: on raw wine rows
    # it predicted other classes, silently
    import pandas as pd

    import npdeep

    features = pd.read_csv(wine_csv).drop(columns="target").to_numpy()
    code, _, err = call(capsys, "predict", wine_model, wine_csv.with_name("wine_features.csv"),
                        "-o", tmp_path / "p.csv")
    assert code == 0, err
    cli = pd.read_csv(tmp_path / "p.csv")
    model = npdeep.load_trained(wine_model)
    np.testing.assert_array_equal(model.predict(features), cli["prediction"].to_numpy())
    proba = model.predict_proba(features)
    np.testing.assert_allclose(proba, cli[[f"probability_{c}" for c in model.classes]],
                               rtol=0, atol=1e-5)  # the CSV's 6 significant digits
    with pytest.warns(UserWarning, match=r"saved by `npdeep train`, which standardizes the "
                                         r"features.*npdeep\.load_trained\(path\)"):
        bare = npdeep.load(wine_model)
    np.testing.assert_array_equal(bare.parameters.flat, model.net.parameters.flat)
    with pytest.raises(npdeep.DataError, match="X must be a 2-D array of numbers"):
        model.predict(features[0])


def test_load_trained_refuses_what_a_regression_model_cannot_give(tmp_path, capsys):
    import npdeep

    path = tmp_path / "reg.npz"
    assert call(capsys, "train", "diabetes", *FAST, "-o", path)[0] == 0
    model = npdeep.load_trained(path)
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    values = model.predict(X)
    assert values.shape == (len(y),) and abs(values.mean() - y.mean()) < y.std()
    with pytest.raises(npdeep.ConfigurationError, match="a regression model gives no "
                                                        "probabilities; use predict"):
        model.predict_proba(X)


def test_predict_writes_regression_values_at_full_precision(tmp_path, capsys):
    # written with 8 significant digits, values near 1.7e9 came out in steps of 100
    from npdeep import load_trained

    data, y = _diabetes_csv(tmp_path, lambda y: y * 5 + 1.7e9)
    model, out = tmp_path / "m.npz", tmp_path / "p.csv"
    call_json(capsys, "train", data, "--epochs", "3", "-o", model)
    call_json(capsys, "predict", model, data, "-o", out)
    written = np.loadtxt(out, delimiter=",", skiprows=1)
    X = np.loadtxt(data, delimiter=",", skiprows=1)[:, :-1]
    np.testing.assert_array_equal(written, load_trained(model).predict(X))  # read back exactly
    assert len(np.unique(np.round(written, -2))) < len(np.unique(written))  # finer than 100


def test_train_notes_a_task_read_from_integers_and_an_identifier_column(tmp_path, capsys):
    # an ID column leaked the answer (0.98 on noise, 0.48 without it) and 20 distinct room
    # counts became 20 classes, with no word of either
    rng = np.random.default_rng(0)
    m = 600  # up to 30 distinct integers (5% of the rows) read as classes
    noise = rng.normal(size=(m, 2))
    rows = [f"{100001 + i},{a:.4f},{b:.4f},{rng.integers(1, 21)}"
            for i, (a, b) in enumerate(noise)]
    data = tmp_path / "d.csv"
    data.write_text("customer_id,a,b,rooms\n" + "\n".join(rows) + "\n")
    code, _, err = call(capsys, "train", data, "--epochs", "1", "-q", "-o", tmp_path / "m.npz")
    assert code == 0
    assert ("note: classification, as 'rooms' holds 20 distinct integers; --task regression "
            "treats them as numbers") in err
    assert ("note: column 'customer_id' holds distinct integers in increasing order, like a "
            "row identifier") in err and "--drop customer_id leaves it out" in err
    result = call_json(capsys, "train", data, "--epochs", "1", "--task", "regression",
                       "--drop", "customer_id", "-o", tmp_path / "r.npz")
    assert result["notes"] == []  # the task given, the column dropped: nothing to say
    # class numbers 0..k-1 (iris, digits) are plainly classes: no note
    code, _, err = call(capsys, "train", "iris", "--epochs", "1", "-q", "-o", tmp_path / "i.npz")
    assert code == 0 and "note:" not in err


def test_a_config_drop_list_names_a_column_with_a_comma(tmp_path, capsys):
    # the list was joined with "," before it was read: 'note, free text' became two names
    import csv

    data = tmp_path / "d.csv"
    with open(data, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["note, free text", "a", "y"])
        writer.writerows([f"text {i}", i % 7, i % 2] for i in range(40))
    config = tmp_path / "run.toml"
    config.write_text('drop = ["note, free text"]\nepochs = 1\n')
    result = call_json(capsys, "train", data, "--config", config, "-o", tmp_path / "m.npz")
    assert result["data"]["n_features"] == 1


@pytest.mark.parametrize("name", ["p.csv.gz", "p.tsv", "p.tsv.gz"])
def test_predict_writes_the_format_its_output_name_says(tmp_path, capsys, name):
    # a .gz name got plain text ("not in gzip format") and a .tsv name commas
    import gzip

    model = tmp_path / "m.npz"
    call_json(capsys, "train", "iris", "--epochs", "1", "-o", model)
    plain, out = tmp_path / "p.csv", tmp_path / name
    call_json(capsys, "predict", model, "iris", "-o", plain)
    call_json(capsys, "predict", model, "iris", "-o", out)
    raw = out.read_bytes()
    text = gzip.decompress(raw).decode() if name.endswith(".gz") else raw.decode()
    expected = plain.read_text()
    assert text == (expected.replace(",", "\t") if ".tsv" in name else expected)


def test_small_scores_keep_their_digits():
    # an MSE of 2.3e-9 was printed "test MSE: 0.0000"
    from npdeep.cli._output import fmt

    assert [fmt(v) for v in (2.31771e-09, 0.5, 0.9844444, 1.7e9, 0.0)] == \
        ["2.318e-09", "0.5000", "0.9844", "1.7e+09", "0.0000"]


@pytest.mark.parametrize("first", [0, 1])
def test_train_notes_regression_of_class_numbers(tmp_path, capsys, first):
    # 60 classes numbered 0..59 were fitted as numbers (R^2 -0.1), with no word
    rng = np.random.default_rng(0)
    rows = [f"{a:.4f},{first + i % 60}" for i, a in enumerate(rng.normal(size=600))]
    data = tmp_path / "c60.csv"
    data.write_text("a,label\n" + "\n".join(rows) + "\n")
    note = (f"regression, as 'label' holds 60 distinct integers ({first}..{first + 59}), too "
            "many to be read as classes; if they are class numbers, --task classification "
            "treats them so")
    code, _, err = call(capsys, "train", data, "--epochs", "1", "-q", "-o", tmp_path / "m.npz")
    assert code == 0 and f"note: {note}" in err
    result = call_json(capsys, "train", data, "--epochs", "1", "-o", tmp_path / "m.npz")
    assert result["notes"] == [note]
    result = call_json(capsys, "train", data, "--epochs", "1", "--task", "regression",
                       "-o", tmp_path / "m.npz")
    assert result["notes"] == []
    code, _, err = call(capsys, "train", "diabetes", "--epochs", "1", "-q",
                        "-o", tmp_path / "d.npz")
    assert code == 0 and "note:" not in err


def test_gradcheck_with_a_tiny_epsilon_is_incomplete_not_passed(capsys):
    # round-off of central differences at 1e-12 is a sizeable part of the gradient: the
    # check used to print PASSED whatever the derivative
    code, out, _ = call(capsys, "gradcheck", "--units", "4,5,1", "--activation", "tanh",
                        "--epsilon", "1e-12")
    assert code == 1 and "INCOMPLETE" in out and "PASSED" not in out
    assert "round-off" in out and "larger epsilon" in out


@pytest.mark.parametrize("k", [8, 30, 60])
def test_evaluate_text_of_many_classes_stays_readable(tmp_path, capsys, k):
    # 600 classes printed 1,207 lines of up to 4,207 characters: the whole matrix and table
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(3 * k, 3)), np.repeat(np.arange(k), 3)
    data = tmp_path / "d.csv"
    data.write_text("a,b,c,y\n" + "".join(f"{r[0]:.6f},{r[1]:.6f},{r[2]:.6f},{t}\n"
                                           for r, t in zip(X, y, strict=True)))
    model = tmp_path / "m.npz"
    call_json(capsys, "train", data, "--task", "classification", "--epochs", "2",
              "--test-fraction", "0", "-o", model)
    code, out, _ = call(capsys, "evaluate", model, data)
    assert code == 0
    assert ("confusion matrix (rows: true class" in out) == (k <= 20)
    assert ("most confused (true -> predicted" in out) == (k > 20)
    assert ("macro avg" in out) == (k > 50)
    assert max(map(len, out.splitlines())) < 200 and len(out.splitlines()) < 80
    full = call_json(capsys, "evaluate", model, data)  # --json keeps every class and cell
    assert len(full["per_class"]) == k and np.asarray(full["confusion_matrix"]).shape == (k, k)
