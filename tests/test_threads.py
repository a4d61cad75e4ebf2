"""Threads: what several threads may do at once, and the clear error for what they may not.

Every check compares with the same calls made one after the other (bit for bit), repeated
so that a race would show; none measures time.
"""

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from npdeep import DeepClassifier, Network
from npdeep.callbacks import Callback
from npdeep.errors import ConfigurationError
from npdeep.optimizers import Adam


@pytest.fixture
def data(rng):
    X = rng.normal(size=(8, 120))
    return X, np.arange(120) % 3


def _trained(X, y, seed, **options):
    net = Network([8, 12, 12, 3], seed=seed, dropout=0.2)
    net.fit(X, y, epochs=6, batch_size=16, optimizer="adam", validation_fraction=0.25,
            **options)
    return net.parameters.flat.copy()


def test_networks_fit_in_several_threads_at_once_train_as_they_do_one_by_one(data):
    # dropout, shuffling and the validation split each draw: from the network's own seed
    X, y = data
    seeds = [0, 1, 2, 3, 0, 1]
    serial = [_trained(X, y, s) for s in seeds]
    for _ in range(3):
        with ThreadPoolExecutor(len(seeds)) as pool:
            parallel = list(pool.map(lambda s: _trained(X, y, s), seeds))
        for a, b in zip(serial, parallel, strict=True):
            np.testing.assert_array_equal(a, b)


def test_sparse_and_small_predictions_from_threads_at_once_equal_serial_ones(rng):
    net = Network([300, 16, 4], seed=0)
    inputs = [rng.normal(size=(300, 1)), rng.normal(size=(300, 64)), rng.normal(size=(300, 65)),
              sp.random(300, 1, density=0.05, format="csr", random_state=1),
              sp.random(300, 40, density=0.005, format="csc", random_state=2),  # gathered W[1]
              sp.random(300, 40, density=0.5, format="coo", random_state=3)]
    labels = [np.arange(X.shape[1]) % 4 for X in inputs]
    expected = [(net.predict_proba(X), net.cost(X, y), net.evaluate(X, y))
                for X, y in zip(inputs, labels, strict=True)]

    def work(i):
        return [(net.predict_proba(inputs[i]), net.cost(inputs[i], labels[i]),
                 net.evaluate(inputs[i], labels[i])) for _ in range(40)]

    with ThreadPoolExecutor(len(inputs)) as pool:
        results = list(pool.map(work, range(len(inputs))))
    for i, runs in enumerate(results):
        for proba, cost, scores in runs:
            np.testing.assert_array_equal(proba, expected[i][0])
            assert (cost, scores) == expected[i][1:]


def test_an_estimator_answers_requests_from_a_thread_pool_as_it_does_serially(rng):
    X, y = rng.normal(size=(150, 6)), rng.integers(0, 3, 150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = DeepClassifier(hidden_layer_sizes=(10,), max_iter=30, random_state=0).fit(X, y)
    requests = [X[i : i + 1] for i in range(40)] + [X[:70], sp.csr_matrix(X[:5])]
    expected = [clf.predict_proba(r) for r in requests]
    for _ in range(3):
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(clf.predict_proba, requests))
        for a, b in zip(answers, expected, strict=True):
            np.testing.assert_array_equal(a, b)


class _Pause(Callback):
    """Hold the fit at its first epoch until ``go`` is set (``started`` tells it is there)."""

    def __init__(self):
        self.started, self.go = threading.Event(), threading.Event()

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 0:
            self.started.set()
            assert self.go.wait(30)


def _while_fitting(net, X, y, optimizer, during):
    """Fit ``net`` in a thread and call ``during()`` while that fit runs; return its weights."""
    pause, errors = _Pause(), []

    def run():
        try:
            net.fit(X, y, epochs=3, batch_size=16, optimizer=optimizer, callbacks=[pause])
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=run, name="first-fit")
    thread.start()
    try:
        assert pause.started.wait(30)
        during()
    finally:
        pause.go.set()
        thread.join()
    assert errors == []
    return net.parameters.flat.copy()


def test_a_second_fit_with_the_optimizer_object_of_a_running_fit_is_refused(data):
    # before: both fits stepped one Adam's moments and step count, and trained to NaN
    X, y = data
    reference = Network([8, 12, 3], seed=0)
    reference.fit(X, y, epochs=3, batch_size=16, optimizer=Adam())
    shared = Adam()

    def second():
        with pytest.raises(ConfigurationError, match=r"the optimizer object Adam\(.*\) is in "
                                                     r"use by a fit running now \(in thread "
                                                     r"'first-fit'\); two fits at once would "
                                                     r"mix their updates: give each fit its "
                                                     r"own optimizer"):
            Network([8, 12, 3], seed=1).fit(X, y, epochs=3, optimizer=shared)

    weights = _while_fitting(Network([8, 12, 3], seed=0), X, y, shared, second)
    np.testing.assert_array_equal(weights, reference.parameters.flat)  # undisturbed
    Network([8, 12, 3], seed=1).fit(X, y, epochs=1, optimizer=shared)  # free again


def test_fitting_a_network_that_another_thread_is_fitting_is_refused(data):
    X, y = data
    net = Network([8, 12, 3], seed=0)
    reference = Network([8, 12, 3], seed=0)
    reference.fit(X, y, epochs=3, batch_size=16, optimizer="adam")
    expected_proba = []

    def second():
        with pytest.raises(ConfigurationError, match=r"this network is in use by a fit running "
                                                     r"now \(in thread 'first-fit'\); .*fit one "
                                                     r"network from one thread at a time"):
            net.fit(X, y, epochs=1)
        expected_proba.append(net.predict_proba(X[:, :3]))  # allowed: weights as they are

    weights = _while_fitting(net, X, y, "adam", second)
    np.testing.assert_array_equal(weights, reference.parameters.flat)
    assert expected_proba[0].shape == (3, 3)
    net.fit(X, y, epochs=1)  # free again


@pytest.mark.parametrize("callbacks, match", [
    ([object()], "callbacks must be Callback objects"),
    (Callback(), "callbacks must be a list of Callback"),  # not a list: still fit's message
])
def test_a_refused_fit_frees_its_objects(data, callbacks, match):
    X, y = data
    net, shared = Network([8, 4, 3], seed=0), Adam()
    with pytest.raises(ConfigurationError, match=match):
        net.fit(X, y, epochs=1, optimizer=shared, callbacks=callbacks)
    net.fit(X, y, epochs=1, optimizer=shared)


def test_a_gradient_check_never_moves_the_networks_own_parameters(rng, monkeypatch):
    # before: a float64 network was checked in place, each weight moved by +-epsilon in turn,
    # which the threads predicting with it meanwhile saw
    import importlib

    import npdeep

    module = importlib.import_module("npdeep.gradcheck")
    net = Network([4, 5, 2], activation="tanh", seed=0)
    X, y = rng.normal(size=(4, 10)), np.arange(10) % 2
    before, seen, original = net.parameters.flat.copy(), [], module._whole_cost

    def cost(*args):
        seen.append(np.array_equal(net.parameters.flat, before))
        return original(*args)

    monkeypatch.setattr(module, "_whole_cost", cost)
    result = npdeep.gradient_check(net, X, y, max_checks=None)
    assert result.passed, result
    assert len(seen) > 100 and all(seen)


def test_gradient_checks_and_predictions_in_threads_at_once_leave_the_network_unchanged(rng):
    # before: a check moved weights that the other threads read (and could restore a weight
    # to another check's perturbed value)
    import npdeep

    net = Network([4, 6, 2], activation="tanh", seed=0)
    X, y = rng.normal(size=(4, 12)), np.arange(12) % 2
    before, proba = net.parameters.flat.copy(), net.predict_proba(X)
    errors = npdeep.gradient_check(net, X, y, max_checks=None).errors

    def check(_):
        return npdeep.gradient_check(net, X, y, max_checks=None).errors

    def predict(_):
        return all(np.array_equal(net.predict_proba(X), proba) for _ in range(200))

    with ThreadPoolExecutor(4) as pool:
        checks = [pool.submit(check, i) for i in range(2)]
        predictions = [pool.submit(predict, i) for i in range(2)]
        assert all(p.result() for p in predictions)
        assert all(c.result() == errors for c in checks)
    np.testing.assert_array_equal(net.parameters.flat, before)


def test_a_search_on_joblibs_threading_backend_scores_as_a_serial_one(rng):
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV

    X, y = rng.normal(size=(90, 5)), rng.integers(0, 2, 90)
    X = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0))  # sparse, as after a vectorizer

    def search(n_jobs):
        grid = GridSearchCV(DeepClassifier(max_iter=8, batch_size=16, random_state=0),
                            {"hidden_layer_sizes": [(3,), (6,)], "l2": [0.0, 0.1]},
                            cv=3, n_jobs=n_jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return grid.fit(X, y).cv_results_["mean_test_score"]

    serial = search(None)
    with parallel_backend("threading"):
        np.testing.assert_array_equal(search(2), serial)
