"""npdeep.distributed on a 2-worker local Dask cluster bound to 127.0.0.1.

One cluster serves the whole file (module fixture); the two worker-kill tests start their own.
Every test runs under a SIGALRM deadline so a hang fails instead of stalling CI. Nothing here
asserts on time.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

pytest.importorskip("distributed", reason="npdeep.distributed needs dask[distributed]")

import dask.array as da  # noqa: E402
from distributed import futures_of, wait  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import npdeep  # noqa: E402
from npdeep import ConfigurationError, DataError, TrainingError  # noqa: E402
from npdeep.distributed import (  # noqa: E402
    DataParallelTrainer,
    check_loopback,
    check_picklable,
    connect,
    data_parallel_fit,
    fit_chunks,
    listening_sockets,
    local_cluster,
    loss_and_gradients,
    search,
    shard_loss_and_gradients,
)
from npdeep.distributed.cluster import scheduler_identity  # noqa: E402
from npdeep.schedules import ReduceOnPlateau, StepDecay  # noqa: E402

DEFAULT_TIMEOUT_S = 60


@pytest.fixture(autouse=True)
def deadline():
    """Fail the test with TimeoutError after DEFAULT_TIMEOUT_S seconds (main thread only)."""
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"test exceeded its {DEFAULT_TIMEOUT_S} s deadline")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, DEFAULT_TIMEOUT_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def client():
    with local_cluster(n_workers=2, threads_per_worker=1) as c:
        c.wait_for_workers(2, timeout=30)
        yield c


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)


def _problem(seed=0, n_x=6, n_L=3, N=96):
    rng = np.random.default_rng(seed)
    X = rng.random((n_x, N))
    Y = np.eye(n_L)[:, rng.integers(n_L, size=N)]
    return X, Y


def _single_process(net, X, Y, *, epochs, learning_rate, batch_size, seed, optimizer="sgd"):
    """The reference: net.gradients on each global batch, then the optimizer, in one process."""
    rng = np.random.default_rng(seed)
    opt = npdeep.optimizers.get(optimizer)
    opt.setup(net.layout)
    N = X.shape[1]
    for _ in range(epochs):
        order = rng.permutation(N) if batch_size < N else np.arange(N)
        for start in range(0, N, batch_size):
            idx = order[start : start + batch_size]
            net.gradients(X[:, idx], Y[:, idx])
            opt.step(net.parameters.flat, net.grad_flat, learning_rate)
    return net


# --------------------------------------------------------------------------------- cluster
def test_local_cluster_listens_on_loopback_only(client):
    roles = check_loopback(client)
    assert roles["scheduler"].startswith("tcp://127.0.0.1:")
    assert sum(r.startswith("worker ") for r in roles) == 2
    assert sum(r.startswith("nanny of ") for r in roles) == 2
    assert roles["dashboard"].startswith("127.0.0.1:")
    sockets = listening_sockets(client)
    worker_pids = set(client.run(os.getpid).values())
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids  # separate processes
    assert {pid for pid, _, _ in sockets} >= worker_pids
    for pid, ip, port in sockets:
        assert ipaddress.ip_address(ip).is_loopback, f"pid {pid} listens on {ip}:{port}"


def test_local_cluster_unsets_malloc_trim_threshold(client):
    assert set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == {None}
    assert set(client.run(lambda: os.environ.get("OPENBLAS_NUM_THREADS")).values()) == {"1"}


@pytest.mark.parametrize("kwargs, match", [
    ({"host": "0.0.0.0"}, "does not accept host"),
    ({"dashboard_address": ":8787"}, "does not accept dashboard_address"),
    ({"worker_dashboard_address": ":0"}, "does not accept worker_dashboard_address"),
    ({"processes": False}, "does not accept processes"),
    ({"n_workers": 0}, "n_workers must be a positive integer, got 0"),
])
def test_local_cluster_refuses_other_bindings(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        with local_cluster(**kwargs):
            pass  # pragma: no cover


def test_connect_joins_a_running_scheduler(client):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no allocator warning: the workers are clean
        with connect(client.scheduler.address, timeout=10) as other:
            assert len(scheduler_identity(other)["workers"]) == 2
            assert other.submit(sum, [1, 2, 3]).result(timeout=10) == 6


@pytest.mark.parametrize("timeout", [-1, 0, "x", float("nan")])
def test_connect_names_a_bad_timeout(timeout):
    with pytest.raises(ConfigurationError, match="timeout must be a number of seconds > 0"):
        connect("tcp://127.0.0.1:8786", timeout=timeout)


def test_connect_rejects_a_non_address():
    with pytest.raises(ConfigurationError, match="address must be a scheduler address"):
        connect(8786)


# ----------------------------------------------------------------------- gradient function
def test_loss_and_gradients_sums_match_network_gradients():
    X, Y = _problem(1)
    net = npdeep.Network([6, 5, 4, 3], seed=2)
    theta = net.parameters.flat.copy()
    cost_sum, grad_sum, m = loss_and_gradients(net.get_config(), theta, X, Y)
    expected = np.concatenate([g.ravel() for g in net.gradients(X, Y).values()])
    assert m == X.shape[1]
    np.testing.assert_allclose(grad_sum / m, expected, rtol=1e-12, atol=1e-15)
    assert cost_sum / m == pytest.approx(net.cost(X, Y), rel=1e-12)
    # two shards add up to the whole
    # 33 and 63 columns: both padded (to 34 and 64) with weight-0 columns that add nothing
    a = shard_loss_and_gradients(net.get_config(), theta, X.T, Y.T, np.arange(0, 33))
    b = shard_loss_and_gradients(net.get_config(), theta, X.T, Y.T, np.arange(33, 96))
    np.testing.assert_allclose(a[1] + b[1], grad_sum, rtol=1e-12, atol=1e-14)
    assert a[0] + b[0] == pytest.approx(cost_sum, rel=1e-12)
    assert a[2] + b[2] == m
    np.testing.assert_array_equal(theta, net.parameters.flat)  # pure: theta untouched


def test_loss_and_gradients_checks_shapes():
    net = npdeep.Network([6, 5, 3], seed=0)
    X, Y = _problem()
    with pytest.raises(DataError,
                       match=r"theta must be the flat parameter buffer of shape \(53,\)"):
        loss_and_gradients(net.get_config(), np.zeros(7), X, Y)
    with pytest.raises(DataError, match=r"X must be \(n_x, m\) = \(6, m\), got shape \(96, 6\)"):
        loss_and_gradients(net.get_config(), net.parameters.flat, X.T, Y)
    with pytest.raises(DataError, match=r"Y must be \(n_L, m\) = \(3, 96\)"):
        loss_and_gradients(net.get_config(), net.parameters.flat, X, Y[:2])


# --------------------------------------------------------------------------- data parallel
@pytest.mark.parametrize("batch_size", [32, 96])
def test_data_parallel_equals_single_process(client, batch_size):
    X, Y = _problem(3)
    kwargs = dict(epochs=3, learning_rate=0.5, batch_size=batch_size, seed=7)
    ref = _single_process(npdeep.Network([6, 8, 3], seed=4, l2=0.1), X, Y, **kwargs)
    net = npdeep.Network([6, 8, 3], seed=4, l2=0.1)
    result = data_parallel_fit(net, X, Y, client, **kwargs)
    assert result.steps == 3 * -(-96 // batch_size) and result.retries == 0
    assert result.shards == [(0, 48), (48, 96)]
    np.testing.assert_allclose(net.parameters.flat, ref.parameters.flat, rtol=1e-12, atol=1e-14)
    assert not np.allclose(net.parameters.flat, npdeep.Network([6, 8, 3], seed=4).parameters.flat)
    assert len(result.cost) == 3 and result.cost[-1] < result.cost[0]


def test_data_parallel_draws_the_batches_of_network_fit(client):
    X, Y = _problem(4)
    kwargs = dict(epochs=2, learning_rate=0.5, batch_size=40, optimizer="sgd", seed=11)
    ref = npdeep.Network([6, 8, 3], seed=2, l2=0.05)
    history = ref.fit(X, Y, verbose=0, **kwargs)
    net = npdeep.Network([6, 8, 3], seed=2, l2=0.05)
    result = data_parallel_fit(net, X, Y, client, **kwargs)
    np.testing.assert_allclose(net.parameters.flat, ref.parameters.flat, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(result.cost, history.cost, rtol=1e-12)


@pytest.mark.parametrize("batch_size, optimizer", [(None, "sgd"), (40, "adam"), (7, "sgd")])
def test_data_parallel_with_sample_weights_matches_network_fit(client, batch_size, optimizer):
    # before: TypeError "unexpected keyword argument 'sample_weight'"
    X, Y = _problem(6)
    w = np.random.default_rng(1).random(96) * 3
    w[[3, 50, 90]] = 0.0
    kwargs = dict(epochs=2, learning_rate=0.5, batch_size=batch_size, optimizer=optimizer,
                  seed=11, sample_weight=w)
    ref = npdeep.Network([6, 8, 3], seed=2, l2=0.05)
    history = ref.fit(X, Y, verbose=0, diagnose=False, **kwargs)
    net = npdeep.Network([6, 8, 3], seed=2, l2=0.05)
    result = data_parallel_fit(net, X, Y, client, **kwargs)
    np.testing.assert_allclose(net.parameters.flat, ref.parameters.flat, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(result.cost, history.cost, rtol=1e-12)
    with pytest.raises(DataError, match="sample_weight has 3 entries for m = 96 samples"):
        data_parallel_fit(net, X, Y, client, sample_weight=np.ones(3))
    if batch_size == 7:  # local steps: equal weights train as none do
        a, b = npdeep.Network([6, 8, 3], seed=2), npdeep.Network([6, 8, 3], seed=2)
        kwargs = dict(epochs=2, learning_rate=0.5, batch_size=7, seed=1, local_steps=3)
        data_parallel_fit(a, X, Y, client, **kwargs)
        data_parallel_fit(b, X, Y, client, sample_weight=np.full(96, 2.5), **kwargs)
        np.testing.assert_allclose(b.parameters.flat, a.parameters.flat, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("schedule, clip_norm, optimizer", [
    (StepDecay(step_size=1, factor=0.5), None, "sgd"),
    ("cosine", 0.05, "adam"),
    (ReduceOnPlateau(monitor="val_cost", patience=0, factor=0.3, min_delta=10.0), 0.2, "sgd"),
])
def test_data_parallel_schedule_and_clip_norm_match_network_fit(client, schedule, clip_norm,
                                                                 optimizer):
    # before: TypeError "unexpected keyword argument 'schedule'" (and 'clip_norm')
    X, Y = _problem(8)
    kwargs = dict(epochs=3, learning_rate=0.5, batch_size=40, optimizer=optimizer, seed=3,
                  schedule=schedule, clip_norm=clip_norm)
    ref = npdeep.Network([6, 8, 3], seed=2, l2=0.05)
    history = ref.fit(X, Y, verbose=0, diagnose=False, **kwargs)
    net = npdeep.Network([6, 8, 3], seed=2, l2=0.05)
    result = data_parallel_fit(net, X, Y, client, **kwargs)
    np.testing.assert_allclose(net.parameters.flat, ref.parameters.flat, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(result.cost, history.cost, rtol=1e-12)
    assert result.learning_rate == pytest.approx(history.learning_rate, rel=1e-12)
    assert len(set(result.learning_rate)) >= 2  # the schedule moved the rate
    if clip_norm is not None:  # clipping changed the run
        plain = npdeep.Network([6, 8, 3], seed=2, l2=0.05)
        data_parallel_fit(plain, X, Y, client, **dict(kwargs, clip_norm=None))
        assert not np.allclose(plain.parameters.flat, net.parameters.flat)


def test_data_parallel_schedule_and_clip_norm_bad_input(client):
    X, Y = _problem(8)
    net = npdeep.Network([6, 8, 3], seed=2)
    with pytest.raises(ConfigurationError, match=r"clip_norm must be a finite number > 0, got 0"):
        data_parallel_fit(net, X, Y, client, clip_norm=0)
    with pytest.raises(ConfigurationError, match=r"clip_norm clips the averaged gradient of each "
                                                 r"step, which local_steps=2 never forms"):
        data_parallel_fit(net, X, Y, client, clip_norm=1.0, local_steps=2, batch_size=8)
    with pytest.raises(ConfigurationError, match=r"unknown schedule 'linear'; valid names"):
        data_parallel_fit(net, X, Y, client, schedule="linear")
    with pytest.raises(ConfigurationError, match=r"min_lr=1 is above learning_rate=0.5"):
        data_parallel_fit(net, X, Y, client, learning_rate=0.5,
                          schedule={"name": "cosine", "min_lr": 1.0})
    with pytest.raises(ConfigurationError, match=r"monitor 'accuracy' is not logged; logged "
                                                 r"names: \['cost', 'learning_rate'\]"):
        data_parallel_fit(net, X, Y, client, schedule=ReduceOnPlateau(monitor="accuracy"))


def test_data_parallel_local_steps_take_the_epochs_rate(client):
    X, Y = _problem(9)
    kwargs = dict(epochs=2, learning_rate=0.5, batch_size=8, seed=1, local_steps=3)
    a, b = npdeep.Network([6, 8, 3], seed=2), npdeep.Network([6, 8, 3], seed=2)
    data_parallel_fit(a, X, Y, client, **kwargs)
    result = data_parallel_fit(b, X, Y, client, schedule=StepDecay(step_size=1, factor=0.0001),
                               **kwargs)
    assert result.learning_rate == pytest.approx([0.5, 0.5e-4])
    first = npdeep.Network([6, 8, 3], seed=2)
    data_parallel_fit(first, X, Y, client, **dict(kwargs, epochs=1))
    # the second epoch barely moved b: the workers stepped with the decayed rate
    assert np.abs(b.parameters.flat - first.parameters.flat).max() < \
        1e-2 * np.abs(a.parameters.flat - first.parameters.flat).max()


def test_data_parallel_local_steps_average_parameters(client):
    X, Y = _problem(5)
    net = npdeep.Network([6, 8, 3], seed=1)
    before = net.cost(X, Y)
    result = data_parallel_fit(net, X, Y, client, epochs=4, learning_rate=0.5, batch_size=16,
                               seed=0, local_steps=3)
    assert result.steps == 4 * 2  # 6 batches per epoch, 3 per averaging
    assert net.cost(X, Y) < before
    # one local step of plain gradient descent is the synchronous step (no L2)
    a = npdeep.Network([6, 8, 3], seed=1)
    b = npdeep.Network([6, 8, 3], seed=1)
    data_parallel_fit(a, X, Y, client, epochs=2, learning_rate=0.5, batch_size=16, seed=0)
    data_parallel_fit(b, X, Y, client, epochs=2, learning_rate=0.5, batch_size=16, seed=0,
                      local_steps=1)
    np.testing.assert_array_equal(a.parameters.flat, b.parameters.flat)


def test_data_parallel_refusals(client):
    X, Y = _problem()
    with pytest.raises(ConfigurationError, match="does not support dropout"):
        data_parallel_fit(npdeep.Network([6, 8, 3], dropout=0.2, seed=0), X, Y, client)
    with pytest.raises(ConfigurationError, match="local_steps=2 .* needs optimizer='sgd'"):
        data_parallel_fit(npdeep.Network([6, 8, 3], seed=0), X, Y, client, local_steps=2,
                          optimizer="adam")
    with pytest.raises(ConfigurationError, match="net must be an npdeep.Network, got str"):
        data_parallel_fit("net", X, Y, client)


@pytest.mark.parametrize("kwargs, match", [
    (dict(seed="x"), "seed must be None, a numpy Generator or an integer >= 0, got 'x'"),
    (dict(shuffle="no"), "shuffle must be True or False, got 'no'"),
    (dict(step_timeout=-1), "step_timeout must be a finite number > 0, got -1"),
    (dict(epochs=0), "epochs must be an integer >= 1, got 0"),
])
def test_data_parallel_names_a_bad_argument(client, kwargs, match):
    # before: a TypeError from numpy, "could not convert string to float: '1-1'" from Dask,
    # and shuffle="no" trained shuffled
    X, Y = _problem()
    with pytest.raises(ConfigurationError, match=match):
        data_parallel_fit(npdeep.Network([6, 8, 3], seed=0), X, Y, client,
                          **{"batch_size": 32, **kwargs})


def test_data_parallel_refuses_a_custom_activation_before_sending_anything(client):
    # before: each worker failed with "unknown activation 'mish'" (Dask logging its
    # traceback), though the user had passed a Mish object, not a name
    from npdeep.activations import Activation

    class Mish(Activation):  # (not "swish": that is npdeep's silu now)
        name = "mish"

        def forward(self, Z, out):
            return np.multiply(Z, np.tanh(np.logaddexp(0, Z)), out=out)  # pragma: no cover

        def derivative(self, Z, A):
            return Z  # pragma: no cover

    X, Y = _problem()
    net = npdeep.Network([6, 8, 3], activation=Mish(), seed=0)
    with pytest.raises(ConfigurationError, match=r"rebuilds the network on every worker from "
                                                 r"net.get_config\(\), which fails: unknown "
                                                 "activation 'mish'"):
        data_parallel_fit(net, X, Y, client)


def test_data_parallel_with_fewer_samples_than_workers(client):
    # before: "n_shards=2 exceeds the 1 samples", though n_shards was not given
    X, Y = _problem(N=1)
    net = npdeep.Network([6, 8, 3], seed=0)
    ref = _single_process(npdeep.Network([6, 8, 3], seed=0), X, Y, epochs=2, learning_rate=0.5,
                          batch_size=1, seed=0)
    result = data_parallel_fit(net, X, Y, client, epochs=2, learning_rate=0.5, seed=0)
    assert result.shards == [(0, 1)]
    np.testing.assert_allclose(net.parameters.flat, ref.parameters.flat, rtol=1e-12)
    with pytest.raises(ConfigurationError, match="n_shards=2 exceeds the 1 samples"):
        data_parallel_fit(net, X, Y, client, n_shards=2)


def _killer(cluster_client, at_step):
    """An on_step callback that SIGKILLs one worker after step ``at_step`` and waits for
    the scheduler to drop it (the nanny then starts a fresh one on a new port)."""
    def on_step(step, cost):
        if step != at_step:
            return
        address, pid = sorted(cluster_client.run(os.getpid).items())[0]
        os.kill(pid, signal.SIGKILL)
        stop = time.monotonic() + 20
        while address in scheduler_identity(cluster_client)["workers"]:
            assert time.monotonic() < stop, "the scheduler never noticed the dead worker"
            time.sleep(0.05)
    return on_step


def test_worker_killed_mid_training_run_completes_with_the_same_weights():
    X, Y = _problem(8)
    kwargs = dict(epochs=2, learning_rate=0.5, batch_size=32, seed=3)
    ref = _single_process(npdeep.Network([6, 8, 3], seed=5), X, Y, **kwargs)
    with local_cluster(n_workers=2, dashboard=False) as own:
        own.wait_for_workers(2, timeout=30)
        net = npdeep.Network([6, 8, 3], seed=5)
        result = data_parallel_fit(net, X, Y, own, on_step=_killer(own, 3), max_retries=3,
                                   step_timeout=30, **kwargs)
    assert result.retries >= 1 and result.errors
    assert result.steps == 6
    np.testing.assert_allclose(net.parameters.flat, ref.parameters.flat, rtol=1e-12, atol=1e-14)


def test_worker_killed_without_retries_stops_with_last_good_weights():
    X, Y = _problem(8)
    kwargs = dict(learning_rate=0.5, batch_size=32, seed=3)
    after_3_steps = _single_process(npdeep.Network([6, 8, 3], seed=5), X, Y, epochs=1, **kwargs)
    with local_cluster(n_workers=2, dashboard=False) as own:
        own.wait_for_workers(2, timeout=30)
        net = npdeep.Network([6, 8, 3], seed=5)
        with pytest.raises(TrainingError, match=r"stopped in epoch 2, step 4: 1 attempt\(s\) "
                                                r"failed.*keeps the weights of the last "
                                                r"completed step \(3 steps applied\)"):
            data_parallel_fit(net, X, Y, own, epochs=2, on_step=_killer(own, 3),
                              max_retries=0, step_timeout=30, **kwargs)
    np.testing.assert_allclose(net.parameters.flat, after_3_steps.parameters.flat,
                               rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------------- search
def _classifier(**kwargs):
    from npdeep.sklearn import DeepClassifier

    return DeepClassifier(**{"hidden_layer_sizes": (16,), "max_iter": 15, "random_state": 0,
                             **kwargs})


@pytest.mark.parametrize("kind", ["grid", "randomized"])
def test_search_on_dask_equals_serial_search(client, digits, kind):
    X_train, _, y_train, _ = digits
    X_train, y_train = X_train[:600], y_train[:600]
    grid = {"learning_rate": [0.003, 0.03], "hidden_layer_sizes": [(8,), (24,)]}

    def make():
        if kind == "grid":
            return GridSearchCV(_classifier(), grid, cv=3)
        return RandomizedSearchCV(_classifier(), grid, n_iter=3, cv=3, random_state=0)

    with threadpool_limits(1):  # the workers' BLAS runs one thread: same float rounding
        serial = make().fit(X_train, y_train)
    distributed = search(make(), X_train, y_train, client=client)
    assert distributed.best_params_ == serial.best_params_
    assert distributed.best_score_ == serial.best_score_
    np.testing.assert_array_equal(distributed.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(distributed.predict(X_train), serial.predict(X_train))


def test_search_refuses_an_unpicklable_estimator_before_submitting(client, digits):
    X_train, _, y_train, _ = digits
    unpicklable = _classifier(hidden_layer_sizes=(n for n in (8,)))  # a generator
    with pytest.raises(ConfigurationError, match=r"search_cv.estimator \(DeepClassifier\) "
                                                 r"cannot be sent to Dask workers"):
        search(GridSearchCV(unpicklable, {"learning_rate": [0.01]}, cv=2), X_train, y_train,
               client=client)
    with pytest.raises(ConfigurationError, match="must be a scikit-learn search"):
        search(_classifier(), X_train, y_train, client=client)
    check_picklable(_classifier())  # a plain estimator pickles


# ------------------------------------------------------------------------- chunked data
def test_fit_chunks_from_dask_array_matches_in_memory_accuracy(client, digits):
    """Mean test accuracy over 3 seeds (one seed alone moves by ~0.5 points either way)."""
    X_train, X_test, y_train, y_test = digits
    dX = da.from_array(X_train, chunks=(320, 64)).persist()
    dy = da.from_array(y_train, chunks=320).persist()
    wait([dX, dy])
    blocks = client.who_has(futures_of(dX))
    chunked, in_memory = [], []
    for seed in range(3):
        kw = dict(hidden_layer_sizes=(64,), learning_rate=0.01, random_state=seed)
        model = fit_chunks(_classifier(**kw), dX, dy, epochs=40, classes=np.arange(10),
                           seed=seed, client=client)
        chunked.append(model.score(X_test, y_test) * 100)
        full = _classifier(**kw).set_params(max_iter=40, tol=0.0, n_iter_no_change=10**6)
        with threadpool_limits(1):  # as on the workers; also much faster for small matrices
            in_memory.append(full.fit(X_train, y_train).score(X_test, y_test) * 100)
    assert abs(np.mean(chunked) - np.mean(in_memory)) <= 0.5, (chunked, in_memory)
    assert np.mean(chunked) > 95
    # the blocks stayed where they were: each still on exactly one, the same, worker
    after = client.who_has(futures_of(dX))
    assert len(after) == 4
    assert all(len(w) == 1 for w in after.values())
    assert {k: set(w) for k, w in after.items()} == {k: set(w) for k, w in blocks.items()}
    # (where persist put them is the scheduler's choice, usually two blocks on each worker: it
    # is not asserted. This test failed once in a full run, its message lost, and placement is
    # the one part of it that depends on timing. A block read by the other worker would have
    # been copied there, and the lines above fail)
    # the same plan in this process, from a list of in-memory chunks: the same model
    with threadpool_limits(1):
        local = fit_chunks(_classifier(hidden_layer_sizes=(64,), learning_rate=0.01,
                                       random_state=2),
                           [(X_train[i:i + 320], y_train[i:i + 320])
                            for i in range(0, len(X_train), 320)],
                           epochs=40, classes=np.arange(10), seed=2)
    assert local.score(X_test, y_test) * 100 == chunked[2]


def test_fit_chunks_shuffles_blocks_and_rows_each_epoch():
    seen = []

    class Recorder:
        def partial_fit(self, X, y, classes=None):
            seen.append(tuple(y))
            return self

    chunks = [(np.arange(4).reshape(-1, 1) + 10 * k, np.arange(4) + 10 * k) for k in range(3)]
    fit_chunks(Recorder(), chunks, epochs=2, seed=0)
    epoch1, epoch2 = seen[:3], seen[3:]
    assert sorted(sum(epoch1, ())) == sorted(sum(epoch2, ())) == sorted(
        v for k in range(3) for v in range(10 * k, 10 * k + 4))
    assert [b[0] // 10 for b in epoch1] != [b[0] // 10 for b in epoch2] or epoch1 != epoch2
    assert any(list(b) != sorted(b) for b in seen)  # rows shuffled within blocks
    seen.clear()
    fit_chunks(Recorder(), chunks, epochs=1, shuffle=False)
    assert seen == [tuple(range(10 * k, 10 * k + 4)) for k in range(3)]


def test_fit_chunks_refusals(client):
    with pytest.raises(ConfigurationError, match="estimator must have partial_fit"):
        fit_chunks(object(), [(np.zeros((2, 1)), np.zeros(2))])
    with pytest.raises(DataError, match="non-empty sequence of \\(X_block, y_block\\) pairs"):
        fit_chunks(_classifier(), np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(DataError, match="y must be a Dask array with X's row chunks"):
        fit_chunks(_classifier(), da.zeros((4, 2), chunks=2), np.zeros(4), client=client)
    with pytest.raises(ConfigurationError, match="epochs must be a positive integer, got 0"):
        fit_chunks(_classifier(), [(np.zeros((2, 1)), np.zeros(2))], epochs=0)
    # a NumPy integer is an integer (before: "epochs must be a positive integer, got
    # np.int64(2)")
    X, y = np.random.default_rng(0).random((8, 2)), np.arange(8) % 2
    assert fit_chunks(_classifier(), [(X, y)], classes=[0, 1], epochs=np.int64(2)).n_iter_ == 2
    # before: partial_fit's refusal, from the first block, after the blocks were persisted
    with pytest.raises(ConfigurationError, match=r"DeepClassifier\(early_stopping=True\) "
                                                 "cannot be trained by fit_chunks"):
        fit_chunks(_classifier(early_stopping=True), da.zeros((4, 2), chunks=2),
                   da.zeros(4, chunks=2), classes=[0, 1], client=client)


@pytest.mark.parametrize("kwargs, match", [
    (dict(seed="x"), "seed must be None, a numpy Generator or an integer >= 0, got 'x'"),
    (dict(shuffle="no"), "shuffle must be True or False, got 'no'"),
    (dict(timeout=-1), "timeout must be a finite number > 0, got -1"),
    (dict(on_epoch="print"), "on_epoch must be a function on_epoch"),
])
def test_fit_chunks_names_a_bad_argument(client, kwargs, match):
    # before: a TypeError from numpy, shuffle="no" shuffled, and Dask's "could not convert
    # string to float: '1-1'"
    dX, dy = da.zeros((4, 2), chunks=2), da.zeros(4, chunks=2)
    with pytest.raises(ConfigurationError, match=match):
        fit_chunks(_classifier(), dX, dy, classes=[0, 1], client=client, **kwargs)


def test_fit_chunks_with_sample_weights(client):
    # before: no way to pass them (TypeError, unexpected keyword argument 'sample_weight')
    rng = np.random.default_rng(0)
    X = rng.random((60, 4))
    y = (X[:, 0] > 0.5).astype(int)
    w = rng.random(60) * 2
    w[:5] = 0.0
    blocks = [(X[i:i + 20], y[i:i + 20], w[i:i + 20]) for i in range(0, 60, 20)]
    ref = _classifier()
    for Xb, yb, wb in blocks:
        ref.partial_fit(Xb, yb, classes=[0, 1], sample_weight=wb)
    in_order = fit_chunks(_classifier(), blocks, classes=[0, 1], shuffle=False)
    np.testing.assert_array_equal(in_order.network_.parameters.flat, ref.network_.parameters.flat)
    local = fit_chunks(_classifier(), blocks, classes=[0, 1], epochs=2, seed=3)
    on_dask = fit_chunks(_classifier(), da.from_array(X, chunks=(20, 4)),
                         da.from_array(y, chunks=20), classes=[0, 1], epochs=2, seed=3,
                         sample_weight=da.from_array(w, chunks=30), client=client)
    np.testing.assert_array_equal(on_dask.network_.parameters.flat,
                                  local.network_.parameters.flat)
    unweighted = fit_chunks(_classifier(), [b[:2] for b in blocks], classes=[0, 1], epochs=2,
                            seed=3)
    assert not np.allclose(unweighted.network_.parameters.flat, local.network_.parameters.flat)
    with pytest.raises(DataError, match="X has 60 rows but sample_weight has 59"):
        fit_chunks(_classifier(), da.from_array(X, chunks=(20, 4)), da.from_array(y, chunks=20),
                   classes=[0, 1], sample_weight=da.ones(59, chunks=30), client=client)
    with pytest.raises(DataError, match=r"block 0 \(rows 0:60\) in epoch 1: its sample weights "
                                        r"have shape \(3,\), expected one per row: \(60,\)"):
        fit_chunks(_classifier(), [(X, y, w[:3])], classes=[0, 1])
    with pytest.raises(DataError, match="with a sequence of blocks give each block's weights"):
        fit_chunks(_classifier(), [(X, y)], classes=[0, 1], sample_weight=w)


def test_fit_chunks_refuses_arguments_partial_fit_does_not_take():
    # before: TypeError "DeepRegressor.partial_fit() got an unexpected keyword argument
    # 'classes'", raised by the first block
    from npdeep.sklearn import DeepRegressor

    class NoWeights:
        def partial_fit(self, X, y):
            return self  # pragma: no cover

    X, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(ConfigurationError, match="DeepRegressor.partial_fit takes no classes, "
                                                 "but classes= was given"):
        fit_chunks(DeepRegressor(), [(X, y)], classes=[0, 1])
    with pytest.raises(ConfigurationError, match="NoWeights.partial_fit takes no "
                                                 "sample_weight, but X holds"):
        fit_chunks(NoWeights(), [(X, y, np.ones(4))])


def test_fit_chunks_keeps_the_column_names_of_dataframe_blocks():
    # before: the blocks became arrays, so feature_names_in_ was missing and predict on a
    # DataFrame warned "X has feature names, but DeepClassifier was fitted without"
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((40, 3)), columns=["a", "b", "c"])
    y = (frame["a"] > 0.5).astype(int)
    blocks = [(frame[:25], y[:25]), (frame[25:], y[25:])]
    model = fit_chunks(_classifier(), blocks, classes=[0, 1], seed=0, epochs=2)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(frame)
    plain = fit_chunks(_classifier(), [(f.to_numpy(), t.to_numpy()) for f, t in blocks],
                       classes=[0, 1], seed=0, epochs=2)
    np.testing.assert_array_equal(model.network_.parameters.flat, plain.network_.parameters.flat)


def test_fit_chunks_names_a_block_whose_x_and_y_differ_in_rows():
    # before: IndexError "index 29 is out of bounds for axis 0 with size 29"
    X, y = np.zeros((30, 2)), np.zeros(29)
    with pytest.raises(DataError, match=r"block 1 \(rows 4:34\) in epoch 1: X_block of shape "
                                        r"\(30, 2\) and y_block of shape \(29,\) must have"):
        fit_chunks(_classifier(), [(X[:4], y[:4]), (X, y)], classes=[0, 1], shuffle=False)


def test_fit_chunks_trains_on_sparse_blocks_as_on_dense_ones(client):
    # before: IndexError "tuple index out of range" (np.asarray made a 0-d object array)
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = rng.random((60, 4)) * (rng.random((60, 4)) < 0.5)
    y = (X[:, 0] > 0.2).astype(int)
    dense = fit_chunks(_classifier(), [(X[:25], y[:25]), (X[25:], y[25:])], classes=[0, 1],
                       epochs=2, seed=0)
    sparse = fit_chunks(_classifier(), [(sp.csr_array(X[:25]), y[:25]),
                                        (sp.coo_matrix(X[25:]), y[25:])],
                        classes=[0, 1], epochs=2, seed=0)
    np.testing.assert_allclose(sparse.network_.parameters.flat, dense.network_.parameters.flat,
                               rtol=1e-12, atol=1e-14)
    dX = da.from_array(X, chunks=(20, 4)).map_blocks(sp.csr_matrix)
    on_dask = fit_chunks(_classifier(), dX, da.from_array(y, chunks=20), classes=[0, 1],
                         epochs=2, seed=0, client=client)
    assert on_dask.n_iter_ == 6


# ------------------------------------------------------------------------------ the docs
def test_the_documented_example_runs(tmp_path):
    """docs/DISTRIBUTED.md's example, as a user would run it (it starts its own cluster)."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "docs" / "DISTRIBUTED.md"
    example = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)[0]
    script = tmp_path / "example_dask.py"
    script.write_text(example)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=DEFAULT_TIMEOUT_S - 5, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # no warning filter in the example: each fit of its search stops early by itself
    assert "Warning" not in proc.stderr, proc.stderr[-3000:]
    assert "dashboard: http://127.0.0.1:" in proc.stdout
    accuracy = float(re.search(r"chunked accuracy: ([0-9.]+)", proc.stdout).group(1))
    assert accuracy > 0.9
    assert re.search(r"data-parallel cost: [0-9.]+ accuracy: 0\.9", proc.stdout)



def test_the_readme_example_runs(tmp_path):
    """README.md's Dask example, run as a script as its first line asks."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "README.md"
    [example] = [b for b in re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
                 if "npdeep.distributed" in b]
    script = tmp_path / "readme_dask.py"
    script.write_text(example)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=DEFAULT_TIMEOUT_S - 5, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Warning" not in proc.stderr, proc.stderr[-3000:]  # ConvergenceWarning per fit, before
    found = re.search(r"^(\{.*\}) ([0-9.]+)$", proc.stdout, re.M)
    assert found, proc.stdout
    assert "'learning_rate'" in found.group(1) and "'hidden_layer_sizes'" in found.group(1)
    assert float(found.group(2)) > 0.9

def test_fit_chunks_regressor_with_column_chunks_and_two_outputs(client):
    from npdeep.sklearn import DeepRegressor

    rng = np.random.default_rng(0)
    X = rng.random((400, 6))
    y = np.stack([X.sum(axis=1), X[:, 0] - X[:, 1]], axis=1)
    dX = da.from_array(X, chunks=(100, 3))  # column chunks are merged, rows stay in 4 blocks
    dy = da.from_array(y, chunks=(200, 1))  # rechunked to X's row blocks
    kw = dict(hidden_layer_sizes=(16,), learning_rate=0.01, random_state=0)
    model = fit_chunks(DeepRegressor(**kw), dX, dy, epochs=30, seed=0, client=client)
    with threadpool_limits(1):
        local = fit_chunks(DeepRegressor(**kw), [(X[i:i + 100], y[i:i + 100])
                                                 for i in range(0, 400, 100)],
                           epochs=30, seed=0)
    assert model.predict(X).shape == (400, 2)
    assert model.score(X, y) > 0.8
    np.testing.assert_allclose(model.predict(X), local.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("local_steps", [1, 2])
def test_data_parallel_stops_on_non_finite_gradients_with_last_good_weights(client, local_steps):
    X, Y = _problem(2)
    X = X * 1e150  # the first update throws the weights to ~1e300; the next step overflows
    net = npdeep.Network([6, 8, 3], seed=0)
    seen = [net.parameters.flat.copy()]
    with np.errstate(all="ignore"), pytest.raises(TrainingError, match="became NaN or inf"):
        data_parallel_fit(net, X, Y, client, epochs=3, learning_rate=1.0, batch_size=32,
                          seed=0, local_steps=local_steps,
                          on_step=lambda step, cost: seen.append(net.parameters.flat.copy()))
    assert len(seen) == (2 if local_steps == 1 else 1)  # one sync step went through first
    assert np.all(np.isfinite(net.parameters.flat))
    np.testing.assert_array_equal(net.parameters.flat, seen[-1])


def test_data_parallel_needs_a_client_by_name():
    net = npdeep.Network([2, 1], seed=0)
    X = np.zeros((2, 4))
    with pytest.raises(ConfigurationError, match="client must be a dask.distributed Client"):
        data_parallel_fit(net, X, np.zeros(4), None)


def test_data_parallel_undoes_an_update_that_overflows_the_weights(client):
    # lr * g overflowed into inf weights; the next step's NaN gradients then stopped training
    # with those inf weights as "the weights of the last completed step"
    X, Y = _problem(2)
    X = X * 1000  # gradients above 1: lr * g overflows
    net = npdeep.Network([6, 8, 3], seed=0)
    start = net.parameters.flat.copy()
    with np.errstate(all="ignore"), pytest.raises(
            TrainingError, match=r"step 1: the update made the parameters NaN or inf, so it "
                                 r"was undone; try a smaller learning_rate \(got 1.7e\+308\)"):
        data_parallel_fit(net, X, Y, client, epochs=2, learning_rate=1.7e308, batch_size=96,
                          seed=0)
    np.testing.assert_array_equal(net.parameters.flat, start)


# ------------------------------------------------------------------ clients, blocks, errors
def test_a_closed_client_is_refused_by_name(client, digits):
    """Before: RuntimeError 'IOLoop is closed', AttributeError "'NoneType' object has no
    attribute 'ncores'" or ClosedClientError, from deep inside Dask."""
    from distributed import Client

    closed = Client(client.scheduler.address, set_as_default=False, timeout=10)
    closed.close()
    X_train, _, y_train, _ = digits
    X, Y = _problem()
    match = r"got a closed Dask client \(status 'closed'\); call it inside"
    with pytest.raises(ConfigurationError, match="search " + match):
        search(GridSearchCV(_classifier(), {"learning_rate": [0.01]}, cv=2),
               X_train[:60], y_train[:60], client=closed)
    with pytest.raises(ConfigurationError, match="fit_chunks on a Dask array " + match):
        fit_chunks(_classifier(), da.zeros((4, 2), chunks=2), da.zeros(4, chunks=2),
                   classes=[0, 1], client=closed)
    with pytest.raises(ConfigurationError, match="data_parallel_fit " + match):
        data_parallel_fit(npdeep.Network([6, 8, 3], seed=0), X, Y, closed)


def test_the_workers_are_read_afresh_not_from_the_clients_cache(client, monkeypatch):
    # The client's periodic refresh replaces its cached scheduler_info() with one whose
    # "workers" is empty; read then, data_parallel_fit raised ZeroDivisionError (integer
    # modulo by zero) and check_loopback saw no workers. The cache is made empty here for good.
    cached = dict(client.scheduler_info(), workers={})
    monkeypatch.setattr(client, "scheduler_info", lambda *a, **k: cached)
    X, Y = _problem()
    result = data_parallel_fit(npdeep.Network([6, 8, 3], seed=0), X, Y, client, epochs=1)
    assert result.shards == [(0, 48), (48, 96)]
    assert sum(r.startswith("worker ") for r in check_loopback(client)) == 2


def test_a_trainer_run_after_close_or_on_a_closed_client_is_refused_by_name(client):
    # before: IndexError "list index out of range", and Dask's ClosedClientError
    from distributed import Client

    from npdeep.distributed import DataParallelTrainer

    X, Y = _problem()
    with DataParallelTrainer(npdeep.Network([6, 8, 3], seed=0), X, Y, client) as trainer:
        trainer.run(1)
    with pytest.raises(ConfigurationError, match="this DataParallelTrainer is closed"):
        trainer.run(1)
    other = Client(client.scheduler.address, set_as_default=False, timeout=10)
    trainer = DataParallelTrainer(npdeep.Network([6, 8, 3], seed=0), X, Y, other)
    other.close()
    with pytest.raises(ConfigurationError, match=r"DataParallelTrainer.run got a closed Dask "
                                                 r"client \(status 'closed'\)"):
        trainer.run(1)
    with pytest.raises(ConfigurationError, match="on_step must be a function on_step"):
        data_parallel_fit(npdeep.Network([6, 8, 3], seed=0), X, Y, client, on_step=5)


def test_no_client_at_all_is_refused_by_name(monkeypatch, digits):
    import distributed

    def no_client():
        raise ValueError("No global client found and no address provided")

    monkeypatch.setattr(distributed, "get_client", no_client)
    X_train, _, y_train, _ = digits
    match = "needs a Dask client and none is running: pass client="
    with pytest.raises(ConfigurationError, match="search " + match):
        search(GridSearchCV(_classifier(), {"learning_rate": [0.01]}, cv=2),
               X_train[:60], y_train[:60])
    with pytest.raises(ConfigurationError, match="fit_chunks on a Dask array " + match):
        fit_chunks(_classifier(), da.zeros((4, 2), chunks=2), da.zeros(4, chunks=2))


def test_fit_chunks_skips_blocks_of_zero_rows(client):
    """Before: sklearn's 'Found array with 0 sample(s)' from the empty block."""
    rng = np.random.default_rng(0)
    X = rng.random((100, 4))
    y = (X.sum(axis=1) > 2).astype(int)
    kw = dict(epochs=3, classes=[0, 1], seed=0)
    dX = da.from_array(X, chunks=((25, 0, 25, 50), 4))
    dy = da.from_array(y, chunks=((25, 0, 25, 50),))
    model = fit_chunks(_classifier(hidden_layer_sizes=(4,)), dX, dy, client=client, **kw)
    with threadpool_limits(1):
        with_empty = fit_chunks(_classifier(hidden_layer_sizes=(4,)),
                                [(X[:25], y[:25]), (X[:0], y[:0]), (X[25:50], y[25:50]),
                                 (X[50:], y[50:])], **kw)
        without = fit_chunks(_classifier(hidden_layer_sizes=(4,)),
                             [(X[:25], y[:25]), (X[25:50], y[25:50]), (X[50:], y[50:])], **kw)
    np.testing.assert_array_equal(with_empty.predict_proba(X), without.predict_proba(X))
    np.testing.assert_allclose(model.predict_proba(X), without.predict_proba(X),
                               rtol=1e-9, atol=1e-12)
    with pytest.raises(DataError, match=r"every block of X is empty \(2 blocks of 0 rows\)"):
        fit_chunks(_classifier(), [(X[:0], y[:0]), (X[:0], y[:0])], classes=[0, 1])


def test_fit_chunks_names_unknown_chunk_sizes(client):
    """Before: 'X has nan rows but y has nan'."""
    X = da.from_array(np.arange(40.0).reshape(20, 2), chunks=(5, 2))
    y = da.from_array(np.arange(20) % 2, chunks=5)
    mask = X[:, 0] > 10
    with pytest.raises(DataError, match=r"X must have known row-chunk sizes, got "
                                        r"X.chunks\[0\]=\(nan, nan, nan, nan\).*"
                                        r"X = X.compute_chunk_sizes\(\) first"):
        fit_chunks(_classifier(), X[mask], y[mask], classes=[0, 1], client=client)


def test_fit_chunks_timeout_says_which_epoch(client):
    """Before: a TimeoutError with an empty message."""

    class Slow:  # defined here: cloudpickle ships it by value to the worker processes
        def partial_fit(self, X, y, classes=None):
            time.sleep(4)
            return self

    X = client.persist(da.from_array(np.random.default_rng(0).random((40, 2)), chunks=(10, 2)))
    y = client.persist(da.from_array(np.arange(40) % 2, chunks=10))
    wait([X, y])
    with pytest.raises(TimeoutError, match=r"fit_chunks: epoch 1 of 2 did not finish within "
                                           r"timeout=1.5 s \(4 blocks\)"):
        fit_chunks(Slow(), X, y, epochs=2, classes=[0, 1], client=client, timeout=1.5)


def test_fit_chunks_timeout_covers_persisting_the_blocks(client):
    """Before: the blocks were persisted without a timeout (for ever with no worker)."""
    X = da.random.random((40, 2), chunks=(10, 2))
    y = da.zeros(40, chunks=10, dtype=int)
    with pytest.raises(TimeoutError, match=r"fit_chunks: the 4 blocks of X and y were not in "
                                           r"the workers' memory within timeout=1e-09 s"):
        fit_chunks(_classifier(), X, y, classes=[0, 1], client=client, timeout=1e-9)


def test_fit_chunks_refuses_a_cluster_without_workers():
    """Before: it waited for ever to persist the blocks, whatever timeout= said."""
    from distributed import Client, LocalCluster

    X = da.from_array(np.zeros((20, 2)), chunks=(10, 2))
    y = da.from_array(np.arange(20) % 2, chunks=10)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, \
            Client(cluster, set_as_default=False) as empty:
        with pytest.raises(ConfigurationError, match="the Dask cluster has no workers"):
            fit_chunks(_classifier(), X, y, classes=[0, 1], client=empty, timeout=3)


def test_fit_chunks_stops_at_the_epoch_of_a_failed_block(client, monkeypatch):
    """Before: every remaining epoch's tasks were still submitted (wait() does not raise)."""
    rng = np.random.default_rng(0)
    X = rng.random((200, 3))
    X[5, 1] = np.nan
    y = (rng.random(200) > 0.5).astype(int)
    submitted = []
    submit = client.submit

    def counting(*args, **kwargs):
        submitted.append(args[0])
        return submit(*args, **kwargs)

    monkeypatch.setattr(client, "submit", counting)
    with pytest.raises(ValueError, match="Input X contains NaN") as info:
        fit_chunks(_classifier(), da.from_array(X, chunks=(20, 3)), da.from_array(y, chunks=20),
                   epochs=40, classes=[0, 1], client=client)
    assert len(submitted) == 10  # one epoch of 10 blocks, not 40
    if hasattr(info.value, "__notes__"):
        assert info.value.__notes__ == [
            "fit_chunks: raised by partial_fit on block 0 (rows 0:20) in epoch 1"]


def test_fit_chunks_error_names_the_block(client):
    """A NaN in one block: sklearn's message, plus a note saying which block and epoch."""
    rng = np.random.default_rng(0)
    X = rng.random((100, 4))
    X[60, 1] = np.nan
    y = (rng.random(100) > 0.5).astype(int)
    note = "fit_chunks: raised by partial_fit on block 1 (rows 50:100) in epoch 1"
    with pytest.raises(ValueError, match="Input X contains NaN") as local:
        fit_chunks(_classifier(), [(X[:50], y[:50]), (X[50:], y[50:])], classes=[0, 1])
    assert local.value.__notes__ == [note]
    with pytest.raises(ValueError, match="Input X contains NaN") as remote:
        fit_chunks(_classifier(), da.from_array(X, chunks=(50, 4)), da.from_array(y, chunks=50),
                   classes=[0, 1], client=client)
    assert remote.value.__notes__ == [note]


def test_fit_chunks_string_labels_with_a_class_missing_from_a_block(client):
    """classes= makes every label known up front: the first block lacks 'c' and that is fine."""
    rng = np.random.default_rng(1)
    X = rng.random((60, 3))
    y = np.array(["a", "b"] * 20 + ["c"] * 20)
    model = fit_chunks(_classifier(hidden_layer_sizes=(4,)), da.from_array(X, chunks=(30, 3)),
                       da.from_array(y, chunks=30), classes=["a", "b", "c"], seed=0,
                       client=client)
    np.testing.assert_array_equal(model.classes_, ["a", "b", "c"])
    assert set(model.predict(X)) <= {"a", "b", "c"}


def test_local_cluster_warns_when_threads_outnumber_cores(monkeypatch):
    """Before: silently 2 threads on 1 core (the default 2 workers on a 1-core machine)."""
    import npdeep.distributed.cluster as cluster_module

    monkeypatch.setattr(cluster_module, "_usable_cores", lambda: 1)
    with pytest.warns(RuntimeWarning, match=r"local_cluster\(n_workers=1, threads_per_worker=2\) "
                                            r"runs 2 worker threads on 1 usable core\(s\)"):
        with local_cluster(n_workers=1, threads_per_worker=2, dashboard=False) as own:
            assert own.nthreads() and sum(own.nthreads().values()) == 2


def test_local_cluster_takes_numpy_integers(monkeypatch):
    # before: "n_workers must be a positive integer, got np.int64(2)"
    import npdeep.distributed.cluster as cluster_module

    seen = {}

    class Stop(Exception):
        pass

    def fake_cluster(**kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(cluster_module, "LocalCluster", fake_cluster)
    with pytest.raises(Stop), local_cluster(n_workers=np.int64(2), threads_per_worker=np.int32(1)):
        pass  # pragma: no cover
    assert seen["n_workers"] == 2 and type(seen["n_workers"]) is int


# ------------------------------------------------------------------ fit_chunks: on_epoch
def _separable(m=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 5))
    return X, (X[:, 0] > 0).astype(int)


def test_on_epoch_changes_apply_on_a_process_cluster_as_in_memory(client):
    """Before: on a process cluster the callback's changes were dropped (a fetched copy),
    in memory they applied."""
    X, y = _separable()
    chunks = [(X[i:i + 40], y[i:i + 40]) for i in range(0, 120, 40)]
    seen = []

    def lower(epoch, model):
        seen.append((epoch, model.learning_rate, model.n_iter_))
        model.set_params(learning_rate=1e-9)

    kw = dict(epochs=3, classes=[0, 1], seed=0)
    on_dask = fit_chunks(_classifier(), da.from_array(X, chunks=(40, 5)),
                         da.from_array(y, chunks=40), client=client, on_epoch=lower, **kw)
    assert seen == [(0, 0.001, 3), (1, 1e-9, 6), (2, 1e-9, 9)]
    seen.clear()
    with threadpool_limits(1):
        in_memory = fit_chunks(_classifier(), chunks, on_epoch=lower, **kw)
        undisturbed = fit_chunks(_classifier(), chunks, **kw)
    assert seen == [(0, 0.001, 3), (1, 1e-9, 6), (2, 1e-9, 9)]
    assert on_dask.learning_rate == in_memory.learning_rate == 1e-9
    np.testing.assert_allclose(on_dask.predict_proba(X), in_memory.predict_proba(X),
                               rtol=1e-9, atol=1e-12)
    assert not np.allclose(in_memory.predict_proba(X), undisturbed.predict_proba(X))


def test_on_epoch_returning_true_stops_training(client):
    """Before: the return value was ignored; raising to stop lost the model."""
    X, y = _separable()
    chunks = [(X[i:i + 40], y[i:i + 40]) for i in range(0, 120, 40)]
    dX, dy = da.from_array(X, chunks=(40, 5)), da.from_array(y, chunks=40)
    epochs_seen = []

    def stop_after_second(epoch, model):
        epochs_seen.append(epoch)
        return epoch == 1

    kw = dict(epochs=10, classes=[0, 1], seed=0)
    model = fit_chunks(_classifier(), dX, dy, client=client, on_epoch=stop_after_second, **kw)
    assert epochs_seen == [0, 1] and model.n_iter_ == 6  # 2 epochs of 3 blocks
    epochs_seen.clear()
    local = fit_chunks(_classifier(), chunks, on_epoch=stop_after_second, **kw)
    assert epochs_seen == [0, 1] and local.n_iter_ == 6
    assert model.score(X, y) == local.score(X, y)
    # a score returned goes on (Keras ignores what callbacks return), with one warning
    with pytest.warns(UserWarning, match=r"^on_epoch returned a float, not True, False or "
                                         r"None: training goes on \(only True stops it\)"):
        scored = fit_chunks(_classifier(), chunks, on_epoch=lambda e, m: 0.5,
                            **{**kw, "epochs": 3})
    assert scored.n_iter_ == 9  # 3 epochs of 3 blocks, the model kept


def test_fit_chunks_one_epoch_at_a_time_equals_one_call(client):
    """Before: each call replayed the first epoch's block order (seed from random_state)."""
    X, y = _separable()
    chunks = [(X[i:i + 30], y[i:i + 30]) for i in range(0, 120, 30)]
    with threadpool_limits(1):
        whole = fit_chunks(_classifier(), chunks, epochs=3, classes=[0, 1])
        looped = _classifier()
        for _ in range(3):
            looped = fit_chunks(looped, chunks, epochs=1, classes=[0, 1])
        np.testing.assert_array_equal(looped.network_.parameters.flat,
                                      whole.network_.parameters.flat)
    dX, dy = da.from_array(X, chunks=(30, 5)), da.from_array(y, chunks=30)
    on_dask = _classifier()
    for _ in range(3):
        on_dask = fit_chunks(on_dask, dX, dy, epochs=1, classes=[0, 1], client=client)
    assert on_dask.n_iter_ == 12
    np.testing.assert_allclose(on_dask.predict_proba(X), whole.predict_proba(X),
                               rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------ fit_chunks: input checks
def test_fit_chunks_names_a_bad_y_and_a_transposed_x(client):
    X, y = _separable(300)
    with pytest.raises(DataError, match=r"y must be a 1-D \(m,\) or 2-D \(m, n_outputs\) Dask "
                                        r"array, got 3 dimensions \(shape \(300, 1, 1\)\)"):
        fit_chunks(_classifier(), da.from_array(X, chunks=(100, 5)),
                   da.from_array(y.reshape(300, 1, 1), chunks=100), classes=[0, 1],
                   client=client)
    with pytest.raises(DataError, match=r"X has 5 rows but y has 300; X looks transposed "
                                        r"\(features x samples\): pass X.T"):
        fit_chunks(_classifier(), da.from_array(X.T, chunks=(5, 100)),
                   da.from_array(y, chunks=100), classes=[0, 1], client=client)
    with pytest.raises(DataError, match="X has 300 rows but y has 299$"):
        fit_chunks(_classifier(), da.from_array(X, chunks=(100, 5)),
                   da.from_array(y[:299], chunks=100), classes=[0, 1], client=client)


def test_fit_chunks_trains_on_a_dask_dataframe_with_its_column_names(client):
    """Before: 'X must be a Dask array ... got X of type DataFrame'; the column names lost."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y = _separable()
    frame = pd.DataFrame(X, columns=list("abcde")).assign(label=y)
    ddf = dd.from_pandas(frame, npartitions=3)
    kw = dict(epochs=2, classes=[0, 1], seed=0)
    model = fit_chunks(_classifier(), ddf[list("abcde")], ddf["label"], client=client, **kw)
    assert list(model.feature_names_in_) == list("abcde")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names, but ... fitted without"
        proba = model.predict_proba(frame[list("abcde")])
    sizes = ddf.map_partitions(len).compute().tolist()
    bounds = np.cumsum([0, *sizes])
    with threadpool_limits(1):
        local = fit_chunks(_classifier(), [(frame.iloc[a:b][list("abcde")], y[a:b])
                                           for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
                           **kw)
    np.testing.assert_allclose(proba, local.predict_proba(frame[list("abcde")]),
                               rtol=1e-9, atol=1e-12)
    with pytest.raises(DataError, match=r"X must have known row-chunk sizes.*"
                                        r"to_dask_array\(lengths=True\)"):
        fit_chunks(_classifier(), ddf[list("abcde")].to_dask_array(),
                   ddf["label"].to_dask_array(), client=client, **kw)


def test_search_refuses_dask_collections_by_name(client):
    """Before: AttributeError "'DataFrame' object has no attribute 'take'" from a fold."""
    X, y = _separable()
    grid = GridSearchCV(_classifier(max_iter=2), {"learning_rate": [0.01, 0.1]}, cv=2)
    with pytest.raises(DataError, match=r"search takes in-memory data .* but X is a Dask "
                                        r"Array; pass X.compute\(\) when it fits"):
        search(grid, da.from_array(X, chunks=(40, 5)), y, client=client)
    with pytest.raises(DataError, match=r"but y is a Dask Array; pass y.compute\(\)"):
        search(grid, X, da.from_array(y, chunks=40), client=client)


# ---------------------------------------------------------- data-parallel: net.history
def test_data_parallel_sets_the_networks_history(client, tmp_path, capsys):
    """Before: net.history kept an earlier fit's epochs (or stayed None): npdeep inspect showed
    the old training, npdeep plot said there was no history."""
    from cli_helpers import call, call_json

    X, Y = _problem(3)
    net = npdeep.Network([6, 8, 3], output_activation="softmax", seed=0)
    net.fit(X, Y, epochs=3, learning_rate=0.05, seed=0)
    result = data_parallel_fit(net, X, Y, client, epochs=5, learning_rate=0.5, batch_size=32,
                               optimizer="momentum", seed=0, schedule=StepDecay(2, 0.5))
    history = net.history
    assert history.epoch == [0, 1, 2, 3, 4]
    assert history.cost == result.cost
    assert history.learning_rate == result.learning_rate == [0.5, 0.5, 0.25, 0.25, 0.125]
    assert len(history.time) == 5 and all(t >= 0 for t in history.time)
    assert history.optimizer_name == "momentum" and history.initial_learning_rate == 0.5
    path = tmp_path / "dp.npz"
    net.save(path)
    info = call_json(capsys, "inspect", path)
    assert info["history"]["epochs"] == 5
    assert info["history"]["cost"]["last"] == pytest.approx(result.cost[-1])
    pytest.importorskip("matplotlib")
    code, out, err = call(capsys, "plot", path, "-o", tmp_path / "dp.png")
    assert code == 0, err
    assert "over 5 epochs" in out and (tmp_path / "dp.png").stat().st_size > 0


def test_a_data_parallel_trainer_numbers_its_epochs_on_across_runs(client):
    X, Y = _problem(4)
    net = npdeep.Network([6, 8, 3], seed=0)
    assert net.history is None
    with DataParallelTrainer(net, X, Y, client, learning_rate=0.5, seed=0) as trainer:
        trainer.run(2)
        assert net.history.epoch == [0, 1]
        result = trainer.run(3)
    assert net.history.epoch == [0, 1, 2, 3, 4] and net.history.cost == result.cost
    assert net.history.stop_reason is None


def test_a_failed_data_parallel_run_leaves_its_epochs_and_stop_reason(client):
    X, Y = _problem(2)
    net = npdeep.Network([6, 8, 3], seed=0)
    with DataParallelTrainer(net, X, Y, client, learning_rate=1.0, batch_size=32,
                             seed=0) as trainer:
        trainer.run(2)
        trainer.shards.data = [(x * 1e150, y) for x, y in trainer.shards.data]
        trainer.shards.scatter()
        with np.errstate(all="ignore"), pytest.raises(TrainingError, match="became NaN or inf"):
            trainer.run(3)
    assert net.history.epoch == [0, 1]
    assert net.history.stop_reason == "error (TrainingError) during epoch 3"


# ------------------------------------------------- data-parallel: registered activations
_SOFTSIGN_MODULE = '''
import numpy as np
import npdeep
from npdeep.activations import Activation


@npdeep.register
class DpSoftsign(Activation):
    name = "dp_softsign"

    def forward(self, Z, out, work=None):
        np.abs(Z, out=out)
        out += 1
        return np.divide(Z, out, out=out)

    def derivative(self, Z, A):
        return 1.0 / (1.0 + np.abs(Z)) ** 2
'''


def test_data_parallel_ships_registered_activations_to_process_workers(client, tmp_path):
    """Before: each worker process failed with "unknown activation" (search and fit_chunks
    carried the registering module in the estimator's pickle, data_parallel_fit did not)."""
    import copy
    import importlib
    import sys

    from npdeep.distributed.gradients import MODULES_KEY, with_registered_modules

    (tmp_path / "dp_softsign_module.py").write_text(_SOFTSIGN_MODULE)
    folder = str(tmp_path)

    def add_path(folder=folder):
        import sys
        if folder not in sys.path:
            sys.path.insert(0, folder)
        return "dp_softsign_module" in sys.modules

    sys.path.insert(0, folder)
    try:
        assert set(client.run(add_path).values()) == {False}  # not imported there yet
        importlib.import_module("dp_softsign_module")
        X, Y = _problem(6)
        net = npdeep.Network([6, 8, 3], activation="dp_softsign", output_activation="softmax",
                             dtype="float64", seed=0)
        config = with_registered_modules(net.get_config())
        assert config[MODULES_KEY] == ["dp_softsign_module"]
        plain = npdeep.Network([6, 3]).get_config()
        assert with_registered_modules(plain) == plain  # nothing registered named: unchanged
        reference = copy.deepcopy(net)
        history = reference.fit(X, Y, epochs=3, learning_rate=0.5, batch_size=32, seed=0)
        result = data_parallel_fit(net, X, Y, client, epochs=3, learning_rate=0.5,
                                   batch_size=32, seed=0)
        np.testing.assert_allclose(result.cost, history.cost, rtol=1e-9)
        np.testing.assert_allclose(net.parameters.flat, reference.parameters.flat,
                                   rtol=1e-9, atol=1e-12)
        assert set(client.run(add_path).values()) == {True}  # the workers imported it
    finally:
        sys.path.remove(folder)


def test_a_frame_block_with_one_text_column_names_only_that_column():
    pd = pytest.importorskip("pandas")
    from npdeep.distributed.chunks import _partial_fit_block

    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 3.0, 4.0, 5.0],
                       "s": ["x", "y", "x", "y"]})
    # a Dask DataFrame's blocks arrive as one object array, as df.to_numpy() gives it
    with pytest.raises(DataError, match=r"X has columns of text or categories, which the "
                                        r"network cannot take as numbers: \['s'\] "):
        _partial_fit_block(_classifier(), df.to_numpy(), np.array([0, 1, 0, 1]), [0, 1], 0,
                           False, columns=list(df.columns))
