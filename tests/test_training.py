"""The fit loop: validation, metrics, regularization, clipping, weights, NaN and bad input."""

import re
import warnings

import numpy as np
import pytest

import npdeep
from npdeep import ConfigurationError, DataError
from npdeep.callbacks import ModelCheckpoint
from npdeep.checkpoint import resume
from npdeep.schedules import CosineDecay
from npdeep.splits import class_sample_weight, validation_split


@pytest.fixture
def blobs(rng):
    """Three separable classes, features x samples: X (4, 90), labels (90,)."""
    centers = rng.normal(scale=3.0, size=(3, 4))
    y = np.repeat(np.arange(3), 30)
    X = (centers[y] + rng.normal(size=(90, 4))).T
    return X, y


def net3(**kw):
    return npdeep.Network([4, 8, 3], activation="tanh", seed=0, **kw)


def test_history_logs_every_epoch(blobs):
    X, y = blobs
    with np.errstate(all="raise"):
        h = net3().fit(X, y, epochs=4, learning_rate=0.01, optimizer="adam", batch_size=16,
                       validation_fraction=0.2, diagnose=False)
    for key in ("cost", "accuracy", "val_cost", "val_accuracy", "learning_rate",
                "gradient_norms", "time"):
        assert len(h.history[key]) == 4, key
    assert all(len(g) == 2 and min(g) > 0 for g in h.gradient_norms)
    assert h.learning_rate == [0.01] * 4
    assert 0 <= h.val_accuracy[-1] <= 1


def test_history_repr_says_what_it_holds(blobs):
    X, y = blobs
    assert repr(npdeep.History()) == "History(0 epochs, logged: nothing)"
    h = net3().fit(X, y, epochs=3, diagnose=False)
    assert repr(h) == (f"History(3 epochs, cost {h.cost[0]:.4g} -> {h.cost[-1]:.4g}, logged: "
                       "cost, accuracy, learning_rate, gradient_norms, time)")
    stopped = net3().fit(X, y, epochs=3, diagnose=False, callbacks=[StopAtOnce()])
    assert repr(stopped).startswith("History(1 epoch, cost ")
    assert repr(stopped).endswith(", stopped early (see .stop_reason))")


class StopAtOnce(npdeep.Callback):
    def on_epoch_end(self, epoch, logs):
        self.trainer.stop_training, self.trainer.stop_reason = True, "asked to"


@pytest.mark.parametrize("labels,output,why", [
    ([0, 1], "sigmoid", "every class has a single sample"),
    ([0, 1, 2], "softmax", "every class has a single sample"),
    ([0.5], "identity", "too few samples"),
])
def test_validation_fraction_that_leaves_nothing_says_why(rng, labels, output, why):
    m = len(labels)
    net = npdeep.Network([2, 3, 3 if output == "softmax" else 1], output_activation=output,
                         seed=0)
    with pytest.raises(DataError, match=f"leaves no validation sample out of m = {m} "
                                        rf"\({why}"):
        net.fit(rng.normal(size=(2, m)), np.array(labels), epochs=1, validation_fraction=0.5)


def test_validation_fraction_is_seeded_and_stratified(blobs):
    X, y = blobs
    net = net3()
    Y = net.check_Y(y, 90)
    tr, va = validation_split(net, X, Y, 0.2, seed=3)
    tr2, va2 = validation_split(net, X, Y, 0.2, seed=3)
    np.testing.assert_array_equal(va, va2)
    assert np.bincount(y[va]).tolist() == [6, 6, 6]
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(90))


def test_explicit_validation_cost_is_the_network_cost(blobs):
    X, y = blobs
    net = net3(l2=0.1)
    h = net.fit(X[:, :60], y[:60], epochs=3, learning_rate=0.05, optimizer="adam",
                validation_data=(X[:, 60:], y[60:]), diagnose=False)
    assert h.val_cost[-1] == net.cost(X[:, 60:], y[60:])


def test_full_batch_cost_matches_network_cost(blobs):
    X, y = blobs
    net = net3(l2=0.3)
    J0 = net.cost(X, y)
    h = net.fit(X, y, epochs=1, learning_rate=0.1, diagnose=False)
    assert h.cost[0] == pytest.approx(J0, rel=1e-12)


def test_l2_in_cost_and_gradient_check(rng):
    X, Y = rng.normal(size=(3, 10)), rng.random((2, 10))
    net = npdeep.Network([3, 5, 2], activation="tanh", output_activation="sigmoid", l2=0.7,
                         seed=1)
    plain = npdeep.Network([3, 5, 2], activation="tanh", output_activation="sigmoid", seed=1)
    penalty = 0.7 / (2 * 10) * sum(np.sum(net.parameters[k] ** 2) for k in ("W1", "W2"))
    assert net.cost(X, Y) == pytest.approx(plain.cost(X, Y) + penalty, rel=1e-12)
    with np.errstate(all="raise"):
        assert npdeep.gradient_check(net, X, Y).passed


def test_sample_and_class_weights_pass_gradient_check(rng, blobs):
    X, y = blobs
    X, y = X[:, ::6], y[::6]
    net = net3(l2=0.05)
    w = class_sample_weight(net, net.check_Y(y, y.size), {0: 2.0, 2: 0.5})
    assert w[y == 0].tolist() == [2.0] * int((y == 0).sum())
    with np.errstate(all="raise"):
        assert npdeep.gradient_check(net, X, y, sample_weight=w * rng.random(y.size)).passed


def test_class_weight_balanced_and_in_fit(blobs):
    X, y = blobs
    net = net3()
    w = class_sample_weight(net, net.check_Y(y[:40], 40), "balanced")  # 30 of class 0, 10 of 1
    assert w[0] == pytest.approx(40 / (2 * 30)) and w[-1] == pytest.approx(40 / (2 * 10))
    net.fit(X, y, epochs=2, class_weight={0: 1.0, 1: 3.0}, diagnose=False)


def test_class_weight_keys_may_be_the_float_labels_of_float_targets(tmp_path, blobs):
    X, y = blobs
    y = y.astype(float)  # labels 0., 1., 2.
    runs = [net3().fit(X, y, epochs=2, class_weight=cw, diagnose=False).cost
            for cw in ({0: 1.0, 1: 3.0}, {0.0: 1.0, 1.0: 3.0}, {np.float64(0): 1.0, 1.0: 3.0})]
    assert runs[0] == runs[1] == runs[2]
    # the checkpoint keeps the keys as numerals, so a resumed run finds the classes again
    net3().fit(X, y, epochs=2, class_weight={0.0: 1.0, 1.0: 3.0}, diagnose=False,
               callbacks=[ModelCheckpoint(tmp_path / "c.npz")])
    assert len(resume(tmp_path / "c.npz", X, y, epochs=3, diagnose=False).history) == 3


@pytest.mark.parametrize("weighted", [False, True])
def test_class_weights_of_zero_for_every_sample_say_so(blobs, weighted):
    X, y = blobs
    kwargs = {"sample_weight": (y == 2).astype(float)} if weighted else {}
    cw = {0: 1.0, 1: 1.0, 2: 0.0} if weighted else {0: 0.0, 1: 0.0, 2: 0.0}
    with pytest.raises(DataError, match=r"^class_weight gives every training sample weight 0"
                                        + (r" \(with sample_weight\)" if weighted else "")
                                        + "; give a positive weight to at least one class"):
        net3().fit(X, y, epochs=1, class_weight=cw, **kwargs)


def test_a_validation_split_holding_out_every_weighted_sample_says_so(blobs):
    X, y = blobs
    w = np.zeros(y.size)
    w[0] = 1.0  # one weighted sample: every split holds it out or trains on it
    held_out = next(seed for seed in range(50)
                    if 0 not in validation_split(net3(), X, net3().check_Y(y, y.size), 0.5,
                                                 seed)[0])
    with pytest.raises(DataError, match=r"^validation_fraction=0.5 held out every sample of "
                                        r"positive weight: the 45 left for training all weigh 0"):
        net3().fit(X, y, epochs=1, sample_weight=w, validation_fraction=0.5,
                   validation_seed=held_out)


def test_weighted_cost_differs_and_zero_weight_ignores_sample(blobs):
    X, y = blobs
    a, b = net3(), net3()
    w = np.ones(90)
    w[0] = 0.0
    y2 = y.copy()
    y2[0] = (y[0] + 1) % 3  # a flipped label that weight 0 must hide
    ha = a.fit(X, y, epochs=3, learning_rate=0.1, sample_weight=w, diagnose=False)
    hb = b.fit(X, y2, epochs=3, learning_rate=0.1, sample_weight=w, diagnose=False)
    np.testing.assert_allclose(ha.cost, hb.cost, rtol=1e-12)



def test_mini_batches_of_zero_weights_add_nothing_and_never_stop_training(blobs):
    X, y = blobs
    w = np.zeros(90)
    w[::10] = 1.0  # batches of 4 often draw only zero weights
    h = net3().fit(X, y, epochs=5, learning_rate=0.1, batch_size=4, sample_weight=w,
                   optimizer="adam", diagnose=False)
    assert len(h) == 5 and h.stop_reason is None
    assert np.all(np.isfinite(h.cost))
    # with a negligible step, the epoch's cost is the whole set's weighted cost
    net = net3()
    h = net.fit(X, y, epochs=1, learning_rate=1e-12, batch_size=7, sample_weight=w,
                diagnose=False)
    np.testing.assert_allclose(h.cost[0], net.cost(X, y, sample_weight=w), rtol=1e-9)

def test_dropout_is_off_at_prediction(blobs):
    X, y = blobs
    net = net3(dropout=0.5)
    net.fit(X, y, epochs=2, learning_rate=0.1, batch_size=16, diagnose=False)
    p1, p2 = net.predict_proba(X), net.predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    W1, b1, W2, b2 = (net.parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z2 = W2 @ np.tanh(W1 @ X + b1) + b2
    expected = np.exp(Z2 - Z2.max(0)) / np.exp(Z2 - Z2.max(0)).sum(0)
    np.testing.assert_allclose(p1, expected, rtol=1e-10)


def test_dropout_changes_training(blobs):
    X, y = blobs
    a, b = net3(), net3(dropout=0.5)
    ha = a.fit(X, y, epochs=2, batch_size=30, diagnose=False)
    hb = b.fit(X, y, epochs=2, batch_size=30, diagnose=False)
    assert ha.cost != hb.cost


def test_gradient_clipping_bounds_the_step(rng):
    X = rng.normal(size=(3, 20)) * 50
    Y = rng.normal(size=(1, 20)) * 100
    net = npdeep.Network([3, 4, 1], activation="tanh", output_activation="identity", seed=0)
    before = net.parameters.flat.copy()
    net.fit(X, Y, epochs=1, learning_rate=0.5, clip_norm=1e-3, diagnose=False)
    assert np.linalg.norm(net.parameters.flat - before) == pytest.approx(0.5e-3, rel=1e-9)


@pytest.mark.parametrize("batch_size, steps", [(None, 1), (8, 2)])
def test_a_float32_gradient_past_1e19_is_clipped_not_taken_for_nan(rng, batch_size, steps):
    # ||g||^2 overflowed float32 (norm past ~1.8e19), so the NaN guard stopped training where
    # clip_norm could rescale the finite gradient
    X = rng.normal(size=(2, 16)) * 1e21              # finite cost (~1e21), gradient ~1e21
    y = (rng.random(16) > 0.5).astype(float)
    net = npdeep.Network([2, 3, 1], activation="identity", dtype="float32", seed=0)
    before = net.parameters.flat.astype(np.float64)
    with np.errstate(all="raise"):
        h = net.fit(X, y, epochs=1, learning_rate=0.5, clip_norm=1.0, batch_size=batch_size,
                    optimizer="sgd", diagnose=False)
    assert h.stop_reason is None and np.isfinite(h.cost[0])
    norms = h.gradient_norms[0]
    assert all(np.isfinite(norms)) and max(norms) > 1e20
    step = np.linalg.norm(net.parameters.flat.astype(np.float64) - before)
    if steps == 1:
        assert step == pytest.approx(0.5, rel=1e-5)   # learning_rate * clip_norm
    else:
        assert 0 < step <= 1.0 + 1e-5                 # two clipped steps


def test_the_gradient_norm_past_float32_squares_equals_the_float64_norm(rng):
    from npdeep.training import Trainer

    net = npdeep.Network([2, 3, 1], dtype="float32", seed=0)
    g = (rng.normal(size=net.grad_flat.shape) * 1e25).astype(np.float32)
    net.grad_flat[...] = g
    trainer = Trainer(net, npdeep.optimizers.get("sgd"), 0.1)
    scale, unit_norm = trainer.rescaled_norm(record=True)
    exact = g.astype(np.float64)
    assert scale == np.abs(exact).max()
    assert scale * unit_norm == pytest.approx(np.linalg.norm(exact), rel=1e-12)
    per_layer = [np.linalg.norm(np.concatenate([net.layout.views(exact)[f"{k}{l}"].ravel()
                                                for k in "Wb"])) for l in (1, 2)]
    np.testing.assert_allclose(trainer.gradient_norms, per_layer, rtol=1e-12)
    net.grad_flat[0] = np.inf
    assert trainer.rescaled_norm(record=False) is None


@pytest.mark.parametrize("units", [[4, 5, 3], [300, 256, 3]], ids=["squares", "per-layer"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_recorded_gradient_norms_are_each_layers_norm(rng, units, dtype):
    # a gradient of more than 65,536 values is summed a layer at a time (no buffer of squares)
    from npdeep.training import Trainer

    net = npdeep.Network(units, dtype=dtype, seed=0)
    g = rng.normal(size=net.grad_flat.shape)
    net.grad_flat[...] = g
    trainer = Trainer(net, npdeep.optimizers.get("sgd"), 0.1)
    exact = net.grad_flat.astype(np.float64)
    views = net.layout.views(exact)
    per_layer = [np.linalg.norm(np.concatenate([views[f"W{l}"].ravel(), views[f"b{l}"].ravel()]))
                 for l in (1, 2)]
    rtol = 1e-5 if dtype == "float32" else 1e-12
    assert trainer.record_gradient_norms() == pytest.approx(np.dot(exact, exact), rel=rtol)
    np.testing.assert_allclose(trainer.gradient_norms, per_layer, rtol=rtol)
    assert all(type(v) is float for v in trainer.gradient_norms)


@pytest.mark.parametrize("dtype, value", [("float32", 3e38), ("float64", 1e308)])
def test_a_gradient_whose_norm_is_past_the_dtype_is_still_clipped(rng, monkeypatch, dtype,
                                                                  value):
    # finite entries near the dtype's largest: ||g|| itself overflows, clip_norm / ||g|| is 0
    from npdeep import trainer as training

    def huge(layers, activations, loss, ws, Y, coef, grads, fused, dropout=False):
        for dW, db in grads:
            dW[...], db[...] = value, -value

    monkeypatch.setattr(training, "backward", huge)
    net = npdeep.Network([2, 3, 1], dtype=dtype, seed=0)
    before = net.parameters.flat.astype(np.float64)
    opt = npdeep.optimizers.get("sgd")
    opt.setup(net.layout)
    trainer = training.Trainer(net, opt, 0.5, clip_norm=1.0)
    with np.errstate(all="raise"):
        trainer.step(net.check_X(rng.normal(size=(2, 8))), net.check_Y(np.ones(8), 8), 1 / 8)
    assert not trainer.stop_training
    step = net.parameters.flat.astype(np.float64) - before
    assert np.linalg.norm(step) == pytest.approx(0.5, rel=1e-6)
    assert trainer.gradient_norm == np.inf or trainer.gradient_norm > 1e38


def test_nan_gradients_stop_with_reason_and_keep_last_good_weights(rng):
    X = rng.normal(size=(2, 16)) * 1e300
    Y = rng.normal(size=(1, 16))
    net = npdeep.Network([2, 3, 1], activation="relu", output_activation="identity", seed=0)
    before = net.parameters.flat.copy()
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match=r"^training stopped "
                                                 r"early: the gradients became NaN or inf") as w:
        h = net.fit(X, Y, epochs=5, learning_rate=0.1, diagnose=False)
    assert w[0].filename == __file__  # the user's line, not npdeep's
    assert len(h) == 1
    # the starting weights are kept; with such inputs their own cost is inf, and it says so
    assert "NaN or inf" in h.stop_reason and "last finite weights kept, but their cost on " \
        "this batch was already inf" in h.stop_reason
    np.testing.assert_array_equal(net.parameters.flat, before)


def test_a_nan_stop_is_said_once_by_the_progress_bar_or_else_by_a_warning(rng, capsys):
    X = rng.normal(size=(2, 16)) * 1e300
    Y = rng.normal(size=(1, 16))
    net = npdeep.Network([2, 3, 1], activation="relu", output_activation="identity", seed=0)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")  # the bar printed the reason: no warning on top
        net.fit(X, Y, epochs=5, learning_rate=0.1, diagnose=False, verbose=2)
    assert "stopped: the gradients became NaN or inf" in capsys.readouterr().err
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        net.fit(X, Y, epochs=5, learning_rate=0.1, diagnose=False, _warn_nan=False)


def test_a_diverged_run_says_its_kept_weights_are_not_good(rng):
    # the weights kept when the gradients overflow may already give an infinite cost: the
    # reason used to call them "the last good weights", and predict then blamed the inputs
    X = rng.normal(size=(2, 8))
    Y = X[:1]
    net = npdeep.Network([2, 2, 1], activation="identity", output_activation="identity",
                         seed=0)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="training stopped"):
        h = net.fit(X, Y, epochs=3, learning_rate=1e160, diagnose=False)
    assert len(h) == 2 and "last good weights" not in h.stop_reason
    assert re.search(r"last finite weights kept, but their cost on this batch was already "
                     r"(inf|nan) \(parameters up to \d\.\de\+1[56]\d in absolute value\)",
                     h.stop_reason)
    with np.errstate(all="ignore"), pytest.raises(
            npdeep.DataError, match=r"parameters up to \d\.\de\+1[56]\d in absolute value: rescale "
                                    r"X.*or, if training diverged, retrain with a smaller"):
        net.predict(X)


def test_an_update_that_overflows_the_weights_is_undone(rng):
    # lr * g overflows: the weights became inf after epoch 1, whose cost (measured before the
    # update) was finite, so TerminateOnNaN took them as its "good" copy and left them inf
    X = rng.normal(size=(2, 8))
    net = npdeep.Network([2, 2, 1], activation="identity", output_activation="identity",
                         seed=0)
    start = net.parameters.flat.copy()
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="training stopped early"):
        h = net.fit(X, X[:1], epochs=3, learning_rate=1.7e308, diagnose=False)
    np.testing.assert_array_equal(net.parameters.flat, start)
    assert "after an update had made the weights themselves NaN or inf; training stopped " \
        "and the last finite weights restored" in h.stop_reason


def test_finite_weights_with_an_infinite_cost_are_kept_and_said_so(rng):
    # the squared error of targets near 1e155 overflows; its gradient does not
    X = rng.normal(size=(2, 8))
    net = npdeep.Network([2, 2, 1], activation="identity", output_activation="identity",
                         seed=0)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="training stopped early"):
        h = net.fit(X, np.full((1, 8), 1e155), epochs=3, learning_rate=1e-200,
                    diagnose=False)
    assert len(h) == 1 and np.isfinite(net.parameters.flat).all()
    assert h.stop_reason == ("the cost became NaN or inf at epoch 1; training stopped with its "
                             "finite weights kept, though their cost was not finite. Try a "
                             "smaller learning_rate, clip_norm, or rescaled data")


def test_exploding_run_stops_cleanly(rng):
    X = rng.normal(size=(2, 32))
    Y = rng.normal(size=(1, 32)) * 10
    net = npdeep.Network([2, 16, 16, 1], activation="relu", output_activation="identity",
                         seed=0)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="training stopped early"):
        h = net.fit(X, Y, epochs=200, learning_rate=50.0, batch_size=8, diagnose=False)
    assert h.stop_reason is not None and "NaN or inf" in h.stop_reason
    assert np.isfinite(net.parameters.flat).all()


def test_regression_logs_r2(rng):
    X = rng.normal(size=(2, 40))
    Y = (X[0] - 2 * X[1]).reshape(1, -1)
    net = npdeep.Network([2, 8, 1], activation="tanh", output_activation="identity", seed=0)
    h = net.fit(X, Y, epochs=30, learning_rate=0.01, optimizer="adam", batch_size=8,
                validation_fraction=0.25, diagnose=False)
    assert "r2" in h.history and "val_r2" in h.history
    assert h.r2[-1] > h.r2[0]


@pytest.mark.parametrize("kwargs,error,match", [
    ({"validation_data": (np.zeros((5, 3)), np.zeros(3))}, DataError,
     "validation X has 5 rows but the network expects n_x = 4 features"),
    ({"validation_data": (np.zeros((4, 3)), np.zeros(5))}, DataError,
     "^validation X and validation Y have different sample counts: validation X has m = 3 "
     "columns, validation Y has 5"),
    ({"validation_data": np.zeros((4, 3))}, ConfigurationError,
     r"validation_data must be a pair \(X_val, Y_val\)"),
    ({"class_weight": {0: 1.0, 7: 2.0}}, DataError,
     r"class_weight has weights for unknown classes \[7\]; the network's classes are \[0, 1, 2\]"),
    ({"class_weight": "even"}, ConfigurationError, "class_weight must be a dict"),
    ({"optimizer": "adagrad"}, ConfigurationError,
     "unknown optimizer 'adagrad'; valid names: sgd, momentum, nesterov, rmsprop, adam, adamw"),
    ({"schedule": "warmup"}, ConfigurationError,
     "unknown schedule 'warmup'; valid names: constant, step, exponential, cosine, plateau"),
    ({"validation_fraction": 1.0}, ConfigurationError,
     r"validation_fraction must be in \(0, 1\), got 1.0"),
    ({"clip_norm": -1}, ConfigurationError, "clip_norm must be a finite number > 0, got -1"),
    ({"validation_fraction": 0.2, "validation_data": (np.zeros((4, 2)), np.zeros(2))},
     ConfigurationError, "give validation_data or validation_fraction, not both"),
    ({"verbose": "0"}, ConfigurationError, "verbose must be an integer >= 0, got '0'"),
    ({"diagnose": "no"}, ConfigurationError, "diagnose must be True or False, got 'no'"),
    ({"verbose": -1}, ConfigurationError, "verbose must be an integer >= 0, got -1"),
    ({"verbose": 0.5}, ConfigurationError, "verbose must be an integer >= 0, got 0.5"),
    ({"schedule": CosineDecay(min_lr=0.1)}, ConfigurationError,
     "schedule 'cosine': min_lr=0.1 is above learning_rate=0.01, so the rate would not decay"),
    ({"schedule": {"name": "plateau", "min_lr": 0.1}}, ConfigurationError,
     "schedule 'plateau': min_lr=0.1 is above learning_rate=0.01"),
])
def test_bad_fit_input(blobs, kwargs, error, match):
    X, y = blobs
    with pytest.raises(error, match=match):
        net3().fit(X, y, epochs=1, **kwargs)


@pytest.mark.parametrize("dropout", [1.0, -0.1, 1.5])
def test_bad_dropout(dropout):
    with pytest.raises(ConfigurationError, match=rf"dropout must be in \[0, 1\), got {dropout}"):
        net3(dropout=dropout)


def test_class_weight_needs_a_classifier(rng):
    net = npdeep.Network([2, 3, 1], output_activation="identity", seed=0)
    with pytest.raises(ConfigurationError, match="class weights and stratified validation need"):
        net.fit(rng.normal(size=(2, 5)), rng.normal(size=(1, 5)), class_weight={0: 1.0})


def test_default_settings_reach_98_percent_on_digits():
    """The acceptance split of issue 3: digits, standardized, 75/25 stratified, seed 0."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    from npdeep import defaults

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    mean, scale = X_tr.mean(0), X_tr.std(0)
    scale[scale == 0] = 1.0
    X_tr, X_te = (X_tr - mean) / scale, (X_te - mean) / scale
    net_kw, fit_kw = defaults.split(defaults.TRAIN)
    net = npdeep.Network([64, *defaults.HIDDEN_UNITS, 10], seed=0, **net_kw)
    with threadpool_limits(1):  # small products: threads only add contention on a busy machine
        net.fit(X_tr.T, y_tr, diagnose=False, **fit_kw)
    assert np.mean(net.predict(X_te.T) == y_te) >= 0.98


def test_defaults_split_builds_early_stopping():
    from npdeep import defaults
    from npdeep.callbacks import EarlyStopping

    net_kw, fit_kw = defaults.split({**defaults.TRAIN, "early_stopping_patience": 3})
    assert set(net_kw) <= set(defaults.NETWORK_KEYS)
    assert isinstance(fit_kw["callbacks"][0], EarlyStopping)
    assert "early_stopping_patience" not in fit_kw


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": "a"}, r"seed must be None, a numpy Generator or an integer >= 0, got 'a'"),
    ({"seed": -1}, r"seed must be None, a numpy Generator or an integer >= 0, got -1"),
    ({"validation_seed": 1.5}, r"validation_seed must be None or an integer >= 0, got 1.5"),
    ({"shuffle": "no"}, r"shuffle must be True or False, got 'no'"),
    ({"callbacks": [print]}, r"callbacks must be Callback objects \(npdeep.callbacks\), got "
                             r"<built-in function print>"),
])
def test_fit_refuses_bad_options_by_name(kwargs, match):
    X = np.random.default_rng(0).normal(size=(2, 8))
    net = npdeep.Network([2, 1], seed=0)
    with pytest.raises(npdeep.errors.ConfigurationError, match=match):
        net.fit(X, (X[0] > 0).astype(float), epochs=1, **kwargs)


class _Terminal:
    """A standard error that says it is a terminal and keeps what is written."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text

    def flush(self):
        pass


@pytest.mark.parametrize("verbose,plain", [(1, False), (True, False), (2, True), (3, True)])
def test_verbose_2_prints_one_plain_line_per_epoch_even_on_a_terminal(blobs, monkeypatch,
                                                                      verbose, plain):
    X, y = blobs
    err = _Terminal()
    monkeypatch.setattr("sys.stderr", err)
    net3().fit(X, y, epochs=2, verbose=verbose, diagnose=False)
    lines = [ln.split()[:2] for ln in err.text.splitlines()]
    assert (lines == [["epoch", "1/2"], ["epoch", "2/2"]]) == plain
    assert ("\r" in err.text) == (not plain)


@pytest.mark.parametrize("batch_size, batches", [(None, 1), (10, 10), (30, 4)])
def test_epoch_cost_holds_the_l2_term_once_per_batch(rng, batch_size, batches):
    X = rng.normal(size=(4, 100))
    y = (X[0] > 0).astype(int)
    net = npdeep.Network([4, 6, 1], activation="tanh", seed=0, l2=1.0)
    data_cost = net.cost(X, y) - net.l2_cost(100)
    history = net.fit(X, y, epochs=1, learning_rate=1e-300, batch_size=batch_size,
                      diagnose=False)  # an update too small to move any weight
    assert history.cost[0] == pytest.approx(data_cost + batches * net.l2_cost(100), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_accuracy_of_tied_softmax_outputs_is_the_one_predict_gives(dtype):
    # every relu unit dead (b[1] = -100) and balanced classes: the outputs stay uniform, and
    # the one-hot count took each column's tie with the true class for a hit: fit logged and
    # evaluate returned accuracy 1.0 for a network that predicts class 0 for every sample
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4, 30)), np.arange(30) % 3
    net = npdeep.Network([4, 5, 3], activation="relu", dtype=dtype, seed=0)
    net.parameters["b1"] = np.full((5, 1), -100.0)
    history = net.fit(X, y, epochs=3, learning_rate=0.1, diagnose=False,
                      validation_data=(X, y))
    reference = float(np.mean(net.predict(X) == y))     # argmax of tied outputs: class 0
    assert reference == pytest.approx(1 / 3)
    assert history.accuracy == pytest.approx([1 / 3] * 3)
    assert history.history["val_accuracy"] == pytest.approx([1 / 3] * 3)
    assert net.evaluate(X, y)["accuracy"] == pytest.approx(reference)
    # a tie that argmax resolves to the true class still counts as a hit
    net.parameters["W2"] = np.zeros((3, 5))
    assert net.evaluate(X, np.zeros(30, dtype=int))["accuracy"] == 1.0


def test_r2_is_scikit_learn_s_mean_over_outputs_and_finite_for_a_constant_target(rng):
    # it pooled the outputs (1 - sum SSE / sum SST: the large output's score alone, 0.092
    # where r2_score says -0.054) and gave NaN for a constant target
    from sklearn.metrics import r2_score

    X = rng.normal(size=(3, 200))
    Y = np.vstack([X[0] * 1000 + rng.normal(size=200) * 100,
                   X[1] * 0.01 + rng.normal(size=200) * 0.01])
    net = npdeep.Network([3, 16, 2], activation="tanh", output_activation="identity", seed=0)
    history = net.fit(X, Y, epochs=30, optimizer="adam", learning_rate=0.01, diagnose=False)
    expected = r2_score(Y.T, net.predict(X).T)
    assert net.evaluate(X, Y)["r2"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    per_output = r2_score(Y.T, net.predict(X).T, multioutput="raw_values")
    assert abs(per_output[0] - per_output[1]) > 0.05  # the two averages differ here
    assert np.isfinite(history.r2).all()
    constant = np.ones((1, 12))
    one = npdeep.Network([3, 4, 1], activation="relu", output_activation="identity", seed=0)
    Xc = X[:, :12]
    assert one.evaluate(Xc, constant)["r2"] == 0.0 == r2_score(constant[0], one.predict(Xc)[0])
    h = one.fit(Xc, constant, epochs=2, diagnose=False)
    assert h.r2 == [0.0, 0.0]


# ------------------------------------------------------- weighted validation (scikit-learn's MLP)
def test_evaluate_weighs_samples_as_scikit_learn_metrics(blobs, rng):
    from sklearn.metrics import accuracy_score, r2_score

    X, y = blobs
    w = rng.random(90)
    w[:30] = 0.0  # class 0 weighs nothing
    net = net3()
    net.fit(X, y, epochs=3, learning_rate=0.05, diagnose=False)
    got = net.evaluate(X, y, sample_weight=w)
    assert got["cost"] == pytest.approx(net.cost(X, y, sample_weight=w), rel=1e-12)
    assert got["accuracy"] == pytest.approx(accuracy_score(y, net.predict(X), sample_weight=w))
    assert got["accuracy"] != pytest.approx(net.evaluate(X, y)["accuracy"])
    Yr = X[:2] * 2 + rng.normal(size=(2, 90))
    reg = npdeep.Network([4, 6, 2], output_activation="identity", seed=0)
    reg.fit(X, Yr, epochs=20, learning_rate=0.01, optimizer="adam", diagnose=False)
    assert reg.evaluate(X, Yr, sample_weight=w)["r2"] == pytest.approx(
        r2_score(Yr.T, reg.predict(X).T, sample_weight=w), rel=1e-10)
    multi = npdeep.Network([4, 5, 2], output_activation="sigmoid", seed=0)
    Yb = (X[:2] > 0).astype(float)
    hits = (multi.predict(X) == Yb).mean(axis=0)
    assert multi.evaluate(X, Yb, sample_weight=w)["accuracy"] == pytest.approx(
        np.average(hits, weights=w))


def test_validation_data_takes_sample_weights_as_in_keras(blobs, rng):
    X, y = blobs
    w = rng.random(30)
    net = net3()
    h = net.fit(X[:, :60], y[:60], epochs=2, learning_rate=0.05,
                validation_data=(X[:, 60:], y[60:], w), diagnose=False)
    assert h.val_cost[-1] == net.cost(X[:, 60:], y[60:], sample_weight=w)
    # the metric counts samples, as the training accuracy beside it (Keras's metrics)
    assert h.val_accuracy[-1] == net.evaluate(X[:, 60:], y[60:])["accuracy"]
    with pytest.raises(DataError, match=r"^validation sample_weight has 5 entries for m = 30"):
        net.fit(X[:, :60], y[:60], epochs=1, validation_data=(X[:, 60:], y[60:], w[:5]))
    with pytest.raises(ConfigurationError, match=r"or a triple \(X_val, Y_val, "
                                                 r"sample_weight_val\), got a tuple of 4 items"):
        net.fit(X, y, epochs=1, validation_data=(X, y, None, None))


def test_a_validation_split_weighs_its_held_out_samples(blobs, rng):
    X, y = blobs
    w = rng.random(90)
    seed = 3
    train, val = validation_split(net3(), X, net3().check_Y(y, 90), 0.3, seed)
    net = net3()
    h = net.fit(X, y, epochs=1, learning_rate=1e-300, sample_weight=w, validation_fraction=0.3,
                validation_seed=seed, diagnose=False)  # a step that changes nothing
    assert h.val_cost[-1] == pytest.approx(
        net.cost(X[:, val], y[val], sample_weight=w[val]), rel=1e-12)
    assert h.val_cost[-1] != pytest.approx(net.cost(X[:, val], y[val]), rel=1e-6)
    # class_weight weighs the training cost only: the held-out samples keep sample_weight
    h2 = net3().fit(X, y, epochs=1, learning_rate=1e-300, sample_weight=w,
                    class_weight={0: 5.0, 1: 1.0, 2: 1.0}, validation_fraction=0.3,
                    validation_seed=seed, diagnose=False)
    assert h2.val_cost[-1] == pytest.approx(h.val_cost[-1], rel=1e-12)
    assert h2.cost[-1] != pytest.approx(h.cost[-1], rel=1e-6)
    w[val] = 0.0
    with pytest.raises(DataError, match=r"^validation_fraction=0.3 held out 27 samples whose "
                                        r"sample_weight is 0 for all, so val_cost weighs "
                                        r"nothing"):
        net3().fit(X, y, epochs=1, sample_weight=w, validation_fraction=0.3,
                   validation_seed=seed)
