"""A diverging run is said once, by npdeep, in words: no NumPy RuntimeWarning before it.

Each test records every warning (``simplefilter("always")``) under NumPy's default errstate
(``"warn"``), as a user's script runs: before the fix, "overflow encountered in dot",
"invalid value encountered in multiply"... came from the kernels epochs before the NaN guard
spoke.
"""

import re
import warnings

import numpy as np
import pytest
from cli_helpers import call
from sklearn.exceptions import ConvergenceWarning

import npdeep
from npdeep import DataError, DeepClassifier, DeepRegressor
from npdeep.callbacks import Callback, LambdaCallback

#: what NumPy says of a floating-point error (never npdeep's words)
NUMPY_SAYS = re.compile(r"(overflow|invalid value|divide by zero) encountered")


def _recorded(run):
    """Run ``run()`` under NumPy's default errstate; return (its result, the warnings)."""
    with np.errstate(all="warn", under="ignore"), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        result = run()
    return result, w


def _numpy_warnings(record) -> list[str]:
    return [str(w.message) for w in record if NUMPY_SAYS.search(str(w.message))]


def _diverging_data(rng):
    X = rng.normal(size=(4, 200))
    return X, (X[:1] > 0).astype(float)


def test_a_network_that_diverges_says_so_once_and_numpy_says_nothing(rng):
    X, Y = _diverging_data(rng)
    net = npdeep.Network([4, 8, 1], seed=0)
    history, record = _recorded(lambda: net.fit(X, Y, learning_rate=1e6, epochs=50))
    assert _numpy_warnings(record) == []
    said = [str(w.message) for w in record]
    assert said == [f"training stopped early: {history.stop_reason}"]
    assert record[0].category is RuntimeWarning
    assert re.match(r"training stopped early: the cost became NaN or inf at epoch \d+; "
                    r".*Try a smaller learning_rate, clip_norm, or rescaled data$", said[0])


def test_mini_batches_and_a_diagnosis_of_a_diverged_run_stay_quiet_too(rng):
    X = rng.normal(size=(4, 200))
    net = npdeep.Network([4, 8, 8, 1], activation="tanh", output_activation="identity", seed=0)
    history, record = _recorded(lambda: net.fit(X, 3 * X[:1], learning_rate=1e3, epochs=20,
                                                batch_size=16, optimizer="momentum"))
    assert _numpy_warnings(record) == []
    assert history.stop_reason is not None and "NaN or inf" in history.stop_reason
    assert [str(w.message) for w in record] == [f"training stopped early: "
                                                f"{history.stop_reason}"]


class _Overflowing(Callback):
    """A user's callback whose own arithmetic overflows at every epoch's end."""

    def on_epoch_end(self, epoch, logs):
        np.float64(1e308) * 10.0


def test_a_users_callback_still_hears_numpy_about_its_own_overflow(rng):
    # silencing the kernels' warnings for the fit must not silence the user's code in it
    X, Y = _diverging_data(rng)
    for callback in (_Overflowing(),
                     LambdaCallback(on_epoch_end=lambda e, logs: np.float64(1e308) * 10.0)):
        net = npdeep.Network([4, 3, 1], seed=0)
        _, record = _recorded(lambda net=net, cb=callback: net.fit(X, Y, epochs=2,
                                                                   callbacks=[cb]))
        assert _numpy_warnings(record) == ["overflow encountered in scalar multiply"] * 2


def test_a_callers_errstate_raise_still_raises_in_the_kernels(rng):
    X, Y = _diverging_data(rng)
    net = npdeep.Network([4, 8, 1], activation="identity", output_activation="identity",
                         seed=0)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError, match="overflow"):
        net.fit(X * 1e200, Y, epochs=3, learning_rate=1e200, diagnose=False)


def test_predict_cost_and_gradients_of_a_huge_weight_network_say_why_only_once(rng):
    X, Y = _diverging_data(rng)
    net = npdeep.Network([4, 8, 1], activation="identity", output_activation="identity",
                         seed=0)
    net.parameters.flat[:] *= 1e200
    said = r"output a\[L\] is not finite .* W\[l\]·a\[l-1\] overflows float64"
    for call_ in (lambda: net.predict(X), lambda: net.evaluate(X, Y),
                  lambda: net.gradients(X, Y)):
        with pytest.raises(DataError, match=said):
            _recorded(call_)
    with np.errstate(all="warn"), warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at all, before the DataError
        for call_ in (lambda: net.predict(X), lambda: net.gradients(X, Y)):
            with pytest.raises(DataError, match=said):
                call_()


@pytest.mark.parametrize("make, target", [
    (lambda: DeepClassifier((8,), optimizer="sgd", learning_rate=1e6, max_iter=50,
                            random_state=0), lambda X: (X[:, 0] > 0).astype(int)),
    (lambda: DeepRegressor((8,), optimizer="sgd", learning_rate=1e6, max_iter=50,
                           random_state=0), lambda X: 3 * X[:, 0]),
])
def test_an_estimator_that_diverges_warns_once_with_a_convergence_warning(make, target, rng):
    X = rng.normal(size=(200, 4))
    est = make()
    _, record = _recorded(lambda: est.fit(X, target(X)))
    assert _numpy_warnings(record) == []
    said = [(w.category, str(w.message)) for w in record]
    assert len(said) == 1 and said[0][0] is ConvergenceWarning
    assert re.match(r"training stopped early: the (gradients|cost) became NaN or inf at epoch "
                    r"\d+.*Try a smaller learning_rate, clip_norm, or (standardized inputs|"
                    r"rescaled data)$", said[0][1]) or re.match(
        r"training diverged: the cost rose from [\d.]+ in the first epoch to [\d.e+]+ in the "
        r"last \([\d.e+]+ times higher\); the steps are too large: lower learning_rate "
        r"\(1e\+06 now\) tenfold, or bound the steps with clip_norm; features far from unit "
        r"size need standardizing \(StandardScaler\)$", said[0][1])


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_classifier_whose_cost_explodes_without_nan_says_it_diverged(early_stopping, rng):
    # a sigmoid's bounded gradient never turns NaN: the cost rose from 0.88 to 1e115 and
    # n_iter_no_change ended the fit as if it had converged, without a word
    X = rng.normal(size=(200, 4))
    clf = DeepClassifier((8,), optimizer="sgd", learning_rate=1e6, max_iter=50,
                         early_stopping=early_stopping, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"^training diverged: the cost rose from "
                      r"0\.8\d+ in the first epoch to [\d.]+e\+\d+ in the last"):
        clf.fit(X, (X[:, 0] > 0).astype(int))
    assert clf.n_iter_ < 50 and np.isfinite(clf.predict_proba(X)).all()


def test_the_cli_says_a_run_diverged_in_words_without_numpys_warnings(tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(200, 4))
    rows = "\n".join(",".join(f"{v:.6f}" for v in (*x, 3 * x[0])) for x in X)
    data = tmp_path / "d.csv"
    data.write_text("a,b,c,d,y\n" + rows + "\n")
    (code, out, err), record = _recorded(lambda: call(
        capsys, "train", data, "--learning-rate", "1e6", "--optimizer", "sgd", "--units", "8",
        "--epochs", "10", "-o", tmp_path / "m.npz"))
    assert _numpy_warnings(record) == [] and "RuntimeWarning" not in err
    assert code == 1
    assert re.search(r"Error: training diverged before any epoch had a finite cost, so no model "
                     r"was saved: the gradients became NaN or inf at epoch 1, batch \d+", err)
    assert "Try a smaller --learning-rate (got 1e+06), --clip-norm, or another --optimizer" in err


def test_early_stopping_on_a_run_that_overflows_keeps_its_best_epoch_and_says_so(rng):
    # the validation outputs overflowed to inf: r2_score raised "Input contains infinity"
    # out of fit; now that epoch scores -inf and the best epoch's weights come back
    X = rng.normal(size=(300, 4))
    y = X @ np.array([1.0, 2.0, -1.0, 0.5])
    reg = DeepRegressor((16,), optimizer="sgd", learning_rate=3.0, max_iter=60,
                        early_stopping=True, n_iter_no_change=20, random_state=0)
    _, record = _recorded(lambda: reg.fit(X, y))
    assert _numpy_warnings(record) == []
    (warning,) = record
    assert warning.category is ConvergenceWarning
    best = int(np.argmax(reg.validation_scores_))
    assert reg.validation_scores_[-1] == -np.inf and best < len(reg.validation_scores_) - 1
    assert re.match(r"training stopped early: the gradients became NaN or inf at epoch \d+, "
                    r".*Try a smaller learning_rate, clip_norm, or standardized inputs\. "
                    rf"early_stopping then restored the weights of epoch {best + 1}, whose "
                    rf"validation score \({reg.best_validation_score_:.4g}\) was the best: the "
                    r"model keeps those$", str(warning.message))
    assert np.isfinite(reg.predict(X)).all() and np.isfinite(reg.score(X, y))


def test_a_classifiers_validation_counts_a_sample_with_nan_outputs_as_a_miss(rng):
    X = rng.normal(size=(60, 3))
    y = np.arange(60) % 3
    clf = DeepClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    net = clf.network_
    Yv = np.eye(3)[:, y]
    assert clf._validation_score(net, X.T, Yv) > 0
    net.parameters.flat[:] = np.nan  # argmax of a NaN column is 0: a third of "hits"
    assert clf._validation_score(net, X.T, Yv) == 0.0


def test_a_workers_gradients_of_a_diverged_network_print_no_numpy_warnings():
    # each Dask worker printed "overflow encountered in dot" per task of a diverging run; the
    # driver's NaN guard reports it once, in words
    pytest.importorskip("dask")
    from npdeep.distributed.gradients import loss_and_gradients

    net = npdeep.Network([3, 8, 1], seed=0)
    theta = net.parameters.flat * 1e200
    X, Y = np.full((3, 4), 1e10), np.ones((1, 4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cost, grad, m = loss_and_gradients(net.get_config(), theta, X, Y)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert m == 4 and not (np.isfinite(cost) and np.isfinite(grad).all())
