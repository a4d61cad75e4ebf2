"""Reproducibility end to end: same seed, same data, same version, same weights, bit for bit.

Every check runs the same thing twice (or interrupted and continued) and compares the
weights' bytes and the history; none hard-codes a result or measures time. Only the thread
count of the BLAS may change the last bits of a sum, and nothing else (see
``test_the_blas_thread_count_changes_float_rounding_only``).
"""

import copy
import json
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from file_helpers import retouched
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV

import npdeep
from npdeep import DeepClassifier, DeepRegressor, Network
from npdeep.callbacks import Callback, EarlyStopping, ModelCheckpoint
from npdeep.checkpoint import resume
from npdeep.cli import run as cli
from npdeep.distributed import fit_chunks

SRC = Path(npdeep.__file__).parent
OPTIMIZERS = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]
ESTIMATOR_OPTIONS = dict(hidden_layer_sizes=(8,), max_iter=8, batch_size=16, dropout=0.1)


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and unscaled-data warnings
        yield


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), y


@pytest.fixture
def data(rng):
    X = rng.normal(size=(6, 90))
    return X, np.arange(90) % 3, rng.random(90)


def _bytes(obj) -> bytes:
    net = obj.network_ if hasattr(obj, "network_") else obj
    return net.parameters.flat.tobytes()


def _logged(history) -> dict:
    """The history without its wall-clock times."""
    return {k: v for k, v in history.to_dict().items() if k != "time"}


# ------------------------------------------------------------------------ global state
_GLOBAL_DRAWS = re.compile(
    r"np\.random\.(?!default_rng|Generator|RandomState|SeedSequence|PCG64)[a-z_]+\("
    r"|^\s*(import random|from random import)|os\.urandom|secrets\.|time\.time\(\)|hash\(",
    re.MULTILINE)


#: draws that never reach a result: the name of an atomic write's temporary file
_ALLOWED = {"atomic.py: secrets."}


def test_the_source_draws_from_no_global_state():
    found = {f"{path.relative_to(SRC)}: {m.group(0)}" for path in sorted(SRC.rglob("*.py"))
             for m in _GLOBAL_DRAWS.finditer(path.read_text())}
    assert found <= _ALLOWED


def test_training_neither_reads_nor_moves_numpy_s_global_state(data):
    X, y, _ = data
    results = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        before = np.random.get_state()[1].copy()
        net = Network([6, 8, 3], seed=0, dropout=0.2)
        net.fit(X, y, epochs=2, batch_size=16, validation_fraction=0.2, diagnose=False)
        DeepClassifier((4,), max_iter=2, random_state=0, early_stopping=True).fit(X.T, y)
        np.testing.assert_array_equal(np.random.get_state()[1], before)
        results.append(_bytes(net))
    assert results[0] == results[1]


# ---------------------------------------------------------------------------- Network
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("options", [
    {},
    {"batch_size": 16},
    {"batch_size": 16, "shuffle": False},
    {"batch_size": 16, "validation_fraction": 0.2, "schedule": "plateau", "clip_norm": 1.0},
    {"batch_size": 16, "class_weight": "balanced", "weights": True, "schedule": "cosine"},
], ids=["full_batch", "mini_batch", "no_shuffle", "validation", "weights"])
def test_fit_twice_with_the_same_seed_is_bit_identical(data, dtype, optimizer, options):
    X, y, w = data
    options = dict(options)
    if options.pop("weights", False):
        options["sample_weight"] = w
    runs = []
    for _ in range(2):
        net = Network([6, 8, 5, 3], dropout=0.2, l2=0.01, seed=3, dtype=dtype)
        history = net.fit(X, y, epochs=4, optimizer=optimizer, diagnose=False, **options)
        runs.append((_bytes(net), _logged(history), net.rng.bit_generator.state))
    assert runs[0] == runs[1]


@pytest.mark.parametrize("sparse", [False, True])
def test_early_stopping_stops_at_the_same_epoch_with_the_same_weights(data, sparse):
    X, y, _ = data
    if sparse:
        X = scipy.sparse.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    runs = []
    for _ in range(2):
        net = Network([6, 8, 3], seed=5, dropout=0.2, dtype="float32")
        stop = EarlyStopping(patience=1, min_delta=1e-3)
        history = net.fit(X, y, epochs=30, batch_size=8, learning_rate=0.05,
                          validation_fraction=0.3, callbacks=[stop], diagnose=False)
        runs.append((_bytes(net), _logged(history), stop.stopped_epoch))
    assert runs[0] == runs[1]


def test_a_seed_or_an_equal_generator_gives_the_same_weights(data):
    X, y, _ = data
    kwargs = dict(epochs=3, batch_size=16, diagnose=False)
    by_int = Network([6, 8, 3], seed=np.random.default_rng(4), dropout=0.1)
    by_int.fit(X, y, seed=9, **kwargs)
    by_generator = Network([6, 8, 3], seed=np.random.default_rng(4), dropout=0.1)
    by_generator.fit(X, y, seed=np.random.default_rng(9), **kwargs)
    assert _bytes(by_int) == _bytes(by_generator)


def test_the_order_of_keyword_arguments_and_of_class_weight_keys_changes_nothing(data):
    X, y, w = data
    options = dict(epochs=3, batch_size=16, optimizer={"name": "adam", "beta1": 0.8},
                   sample_weight=w, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, diagnose=False)
    reordered = dict(reversed(list(options.items())))
    reordered["optimizer"] = {"beta1": 0.8, "name": "adam"}
    reordered["class_weight"] = {2: 0.5, 1: 2.0, 0: 1.0}
    nets = [Network([6, 8, 3], seed=1, dropout=0.1) for _ in range(2)]
    for net, kwargs in zip(nets, (options, reordered), strict=True):
        net.fit(X, y, **kwargs)
    assert _bytes(nets[0]) == _bytes(nets[1])


def test_a_network_pickled_between_fits_trains_on_as_the_original(data):
    X, y, _ = data
    kwargs = dict(epochs=2, batch_size=16, diagnose=False)
    a, b = (Network([6, 8, 3], seed=2, dropout=0.2) for _ in range(2))
    a.fit(X, y, **kwargs)
    b.fit(X, y, **kwargs)
    b = pickle.loads(pickle.dumps(b))
    c = copy.deepcopy(b)
    for net in (a, b, c):
        net.fit(X, y, **kwargs)
    assert _bytes(a) == _bytes(b) == _bytes(c)


@pytest.mark.parametrize("layout", ["samples_as_rows", "features_as_rows"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_memory_mapped_file_trains_as_the_same_array_in_memory(tmp_path, rng, layout,
                                                                  dtype):
    # each batch is read in file order, then put back in the order drawn: the same batches,
    # so the same dropout masks on the same samples and the same sums (it once kept the file
    # order: other masks, other weights)
    m = 200
    X = rng.integers(0, 256, (m, 6), dtype=np.uint8)  # cast one batch at a time from the file
    np.save(tmp_path / "X.npy", X if layout == "samples_as_rows" else np.ascontiguousarray(X.T))
    y, w = np.arange(m) % 3, rng.random(m)
    runs = []
    for mmap_mode in ("r", None):
        data = np.load(tmp_path / "X.npy", mmap_mode=mmap_mode)
        data = data.T if layout == "samples_as_rows" else data
        net = Network([6, 8, 3], seed=0, dropout=0.2, dtype=dtype)
        history = net.fit(data, y, epochs=3, batch_size=32, validation_fraction=0.2,
                          sample_weight=w, diagnose=False)
        runs.append((_bytes(net), history.cost, history.val_cost))
        del data
    assert runs[0] == runs[1]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_an_estimator_fit_on_a_memory_mapped_file_equals_the_fit_in_memory(tmp_path, rng,
                                                                           early_stopping):
    np.save(tmp_path / "X.npy", rng.normal(size=(150, 4)))
    y, w = np.arange(150) % 3, rng.random(150)
    fitted = [DeepClassifier(random_state=0, early_stopping=early_stopping, n_iter_no_change=2,
                             **ESTIMATOR_OPTIONS).fit(X, y, sample_weight=w)
              for X in (np.load(tmp_path / "X.npy", mmap_mode="r"), np.load(tmp_path / "X.npy"))]
    assert _bytes(fitted[0]) == _bytes(fitted[1])
    assert fitted[0].loss_curve_ == fitted[1].loss_curve_


def test_the_blas_thread_count_changes_float_rounding_only(rng):
    # large enough for OpenBLAS to split the products between threads
    threadpoolctl = pytest.importorskip("threadpoolctl")
    X, y = rng.normal(size=(64, 1200)), np.arange(1200) % 5
    runs = {}
    for threads in (1, 2):
        with threadpoolctl.threadpool_limits(threads):
            net = Network([64, 128, 64, 5], seed=0, dropout=0.1)
            history = net.fit(X, y, epochs=2, batch_size=400, optimizer="adam",
                              validation_fraction=0.2, diagnose=False)
        runs[threads] = net, history
    (one, h1), (two, h2) = runs[1], runs[2]
    # the same draws (split, shuffles, masks) in the same number: the same random state
    assert one.rng.bit_generator.state == two.rng.bit_generator.state
    assert len(h1) == len(h2)
    np.testing.assert_allclose(one.parameters.flat, two.parameters.flat, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h1.cost, h2.cost, rtol=1e-12)


# ----------------------------------------------------------------- checkpoint, resume
class _InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, batch, logs):
        if self.trainer.epoch == self.epoch and batch == 1:
            raise KeyboardInterrupt


@pytest.mark.parametrize("dtype, optimizer, schedule, seed", [
    ("float32", "adam", {"name": "step", "step_size": 2}, None),
    ("float64", "nesterov", {"name": "plateau", "monitor": "val_cost", "patience": 1}, 5),
    ("float32", "rmsprop", "exponential", np.random.default_rng(5)),
], ids=["float32-adam-step", "float64-nesterov-plateau-seed", "float32-rmsprop-generator"])
def test_resume_equals_the_uninterrupted_run(tmp_path, data, dtype, optimizer, schedule, seed):
    X, y, w = data
    fresh = lambda: Network([6, 12, 6, 3], dropout=[0.2, 0.1], seed=7, dtype=dtype)  # noqa: E731
    options = dict(learning_rate=0.01, batch_size=16, optimizer=optimizer, schedule=schedule,
                   validation_fraction=0.2, class_weight="balanced", sample_weight=w,
                   diagnose=False)
    reference = fresh()
    history = reference.fit(X, y, epochs=6, seed=copy.deepcopy(seed), **options)
    path = tmp_path / "ck.npz"
    with pytest.raises(KeyboardInterrupt):
        fresh().fit(X, y, epochs=6, seed=copy.deepcopy(seed),
                    callbacks=[ModelCheckpoint(path), _InterruptAt(3)], **options)
    resumed = resume(path, X, y, sample_weight=w, diagnose=False)
    assert _bytes(resumed) == _bytes(reference)
    assert _logged(resumed.history) == _logged(history)


@pytest.mark.parametrize("bit_generator", ["Philox", "SFC64", "MT19937", "PCG64DXSM"])
def test_a_checkpoint_of_any_numpy_bit_generator_resumes_bit_for_bit(tmp_path, data,
                                                                     bit_generator):
    # their states hold arrays (Philox, SFC64, MT19937): the checkpoint failed to save them,
    # and a state not PCG64's could not be set on the rebuilt network's generator
    X, y, _ = data
    make = lambda: np.random.Generator(getattr(np.random, bit_generator)(1))  # noqa: E731
    options = dict(batch_size=16, optimizer="adam", diagnose=False)
    reference = Network([6, 8, 3], seed=make(), dropout=0.2)
    reference.fit(X, y, epochs=5, seed=make(), **options)
    path = tmp_path / "ck.npz"
    Network([6, 8, 3], seed=make(), dropout=0.2).fit(
        X, y, epochs=3, seed=make(), callbacks=[ModelCheckpoint(path)], **options)
    resumed = resume(path, X, y, epochs=5, diagnose=False)
    assert type(resumed.rng.bit_generator).__name__ == bit_generator
    assert _bytes(resumed) == _bytes(reference)


def test_a_checkpoint_naming_an_unknown_bit_generator_is_refused_naming_the_file(tmp_path,
                                                                                 data):
    X, y, _ = data
    path = tmp_path / "ck.npz"
    Network([6, 8, 3], seed=0).fit(X, y, epochs=1, callbacks=[ModelCheckpoint(path)],
                                   diagnose=False)

    def edit(header, arrays):
        state = json.loads(header["training"]["rng_state"])
        header["training"]["rng_state"] = json.dumps({**state, "bit_generator": "Os"})

    bad = retouched(path, tmp_path / "bad.npz", edit)
    with pytest.raises(npdeep.ModelFileError, match=r"bad\.npz.*bit generator 'Os'; expected "
                                                    r"one of PCG64, PCG64DXSM, Philox"):
        resume(bad, X, y, epochs=2)


# -------------------------------------------------------------------------- estimators
@pytest.mark.parametrize("estimator", [DeepClassifier, DeepRegressor])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_an_int_random_state_gives_the_same_model_on_every_fit(iris, estimator, dtype,
                                                               early_stopping):
    X, y = iris
    target = y if estimator is DeepClassifier else X[:, 0] - X[:, 1]
    est = estimator(random_state=3, dtype=dtype, early_stopping=early_stopping,
                    n_iter_no_change=2, **ESTIMATOR_OPTIONS)
    first = est.fit(X, target)
    weights, curve, scores = _bytes(first), first.loss_curve_, first.validation_scores_
    other = clone(est).fit(X, target)
    assert _bytes(other) == weights and other.loss_curve_ == curve
    assert other.validation_scores_ == scores
    assert _bytes(est.fit(X, target)) == weights  # an int: the same again on a refit


@pytest.mark.parametrize("make", [np.random.RandomState, np.random.default_rng],
                         ids=["RandomState", "Generator"])
def test_a_random_state_object_advances_from_fit_to_fit(iris, make):
    # scikit-learn's semantics: equal objects give equal sequences of models, each fit
    # drawing on from the object
    X, y = iris
    options = dict(ESTIMATOR_OPTIONS, early_stopping=True, n_iter_no_change=2)
    a = DeepClassifier(random_state=make(0), **options)
    b = DeepClassifier(random_state=make(0), **options)
    first = [_bytes(a.fit(X, y)), _bytes(a.fit(X, y))]
    assert first[0] != first[1]
    assert [_bytes(b.fit(X, y)), _bytes(b.fit(X, y))] == first
    assert _bytes(clone(a).fit(X, y)) == _bytes(clone(a).fit(X, y))


def _partial_fits(est, X, y, n, pickle_at=None):
    for i in range(n):
        if i == pickle_at:
            est = pickle.loads(pickle.dumps(est))
        est.partial_fit(X, y, classes=[0, 1, 2])
    return est


@pytest.mark.parametrize("random_state", [4, "RandomState", "Generator"])
def test_partial_fit_sequences_repeat_and_survive_a_pickle_midway(iris, random_state):
    X, y = iris
    make = {"RandomState": lambda: np.random.RandomState(4),
            "Generator": lambda: np.random.default_rng(4)}.get(random_state, lambda: 4)
    options = dict(ESTIMATOR_OPTIONS, optimizer="adam", schedule="plateau")
    straight = _partial_fits(DeepClassifier(random_state=make(), **options), X, y, 4)
    again = _partial_fits(DeepClassifier(random_state=make(), **options), X, y, 4)
    pickled = _partial_fits(DeepClassifier(random_state=make(), **options), X, y, 4,
                            pickle_at=2)
    assert _bytes(straight) == _bytes(again) == _bytes(pickled)
    assert straight.loss_curve_ == pickled.loss_curve_


def test_warm_start_repeats_and_survives_a_pickle_midway(iris):
    X, y = iris
    options = dict(ESTIMATOR_OPTIONS, warm_start=True, early_stopping=True, n_iter_no_change=2)
    a = DeepClassifier(random_state=5, **options).fit(X, y)
    b = pickle.loads(pickle.dumps(DeepClassifier(random_state=5, **options).fit(X, y)))
    assert _bytes(a.fit(X, y)) == _bytes(b.fit(X, y))
    assert a.validation_scores_ == b.validation_scores_


def test_set_params_in_any_order_gives_the_same_model(iris):
    X, y = iris
    a = DeepClassifier(**ESTIMATOR_OPTIONS).set_params(
        random_state=0, optimizer="adam", optimizer__beta1=0.8, class_weight={0: 1, 2: 3})
    b = DeepClassifier(**ESTIMATOR_OPTIONS).set_params(
        class_weight={2: 3, 0: 1}, optimizer__beta1=0.8, optimizer="adam", random_state=0)
    assert _bytes(a.fit(X, y)) == _bytes(b.fit(X, y))


@pytest.mark.parametrize("random_state", [0, "RandomState"])
def test_grid_search_in_two_processes_equals_the_serial_search(iris, random_state):
    # small products: one BLAS thread either way, so the scores are equal to the bit
    X, y = iris
    grid = {"learning_rate": [0.003, 0.03], "hidden_layer_sizes": [(4,), (8,)]}
    rs = np.random.RandomState(0) if random_state == "RandomState" else random_state
    searches = [GridSearchCV(DeepClassifier(max_iter=6, batch_size=32, dropout=0.1,
                                            random_state=copy.deepcopy(rs)), grid,
                             n_jobs=n_jobs).fit(X, y) for n_jobs in (1, 2)]
    serial, parallel = searches
    assert serial.best_params_ == parallel.best_params_
    assert serial.best_score_ == parallel.best_score_
    np.testing.assert_array_equal(serial.cv_results_["mean_test_score"],
                                  parallel.cv_results_["mean_test_score"])
    assert _bytes(serial.best_estimator_) == _bytes(parallel.best_estimator_)


# ------------------------------------------------------------------------ distributed
def test_fit_chunks_without_a_seed_follows_the_estimator_s_int_random_state(iris):
    X, y = iris
    order = np.random.default_rng(0).permutation(len(y))
    chunks = [(X[order[i:i + 50]], y[order[i:i + 50]]) for i in range(0, len(y), 50)]
    models = [fit_chunks(DeepClassifier((8,), random_state=seed, dropout=0.1), chunks,
                         epochs=3, classes=[0, 1, 2]) for seed in (0, 0, 1)]
    assert _bytes(models[0]) == _bytes(models[1]) != _bytes(models[2])
    explicit = fit_chunks(DeepClassifier((8,), random_state=0, dropout=0.1), chunks, epochs=3,
                          classes=[0, 1, 2], seed=0)
    assert _bytes(explicit) == _bytes(models[0])


def test_data_parallel_with_the_same_seed_twice_is_bit_identical(rng):
    pytest.importorskip("distributed", reason="npdeep.distributed needs dask[distributed]")
    from npdeep.distributed import data_parallel_fit, local_cluster

    X, y = rng.normal(size=(6, 120)), np.arange(120) % 3
    runs = []
    with local_cluster(n_workers=2, threads_per_worker=1, dashboard=False) as client:
        client.wait_for_workers(2, timeout=30)
        for _ in range(2):
            net = Network([6, 8, 3], seed=4, l2=0.01)
            result = data_parallel_fit(net, X, y, client, epochs=3, batch_size=32,
                                       optimizer="adam", schedule="cosine", seed=7)
            runs.append((_bytes(net), result.cost))
    assert runs[0] == runs[1]


# --------------------------------------------------------------------------------- CLI
_TIMINGS = {"train_seconds", "time"}  # wall-clock: the only fields two runs may differ in


def _header_without_timings(value):
    if isinstance(value, dict):
        return {k: _header_without_timings(v) for k, v in value.items() if k not in _TIMINGS}
    return value


def test_npdeep_train_twice_writes_the_same_model(tmp_path):
    paths = [tmp_path / f"m{i}.npz" for i in range(2)]
    for path in paths:
        assert cli(["train", "iris", "--units", "8", "--epochs", "4", "--batch-size", "16",
                    "--early-stopping", "--seed", "3", "-q", "-o", str(path)]) == 0
    files = [zipfile.ZipFile(path) for path in paths]
    names = files[0].namelist()
    assert names == files[1].namelist()
    for name in names:
        if name != "header.json":
            assert files[0].read(name) == files[1].read(name), name
    headers = [json.loads(f.read("header.json")) for f in files]
    assert _header_without_timings(headers[0]) == _header_without_timings(headers[1])
