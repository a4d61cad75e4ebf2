"""Memory, never time: a training step allocates nothing proportional to the batch, and a data
set larger than memory (a memory-mapped ``.npy``) trains without being copied or held whole.
"""

import os
import shutil
import subprocess
import sys
import textwrap
import tracemalloc
import warnings

import numpy as np
import pytest

import npdeep
from npdeep.splits import Metric
from npdeep.training import BatchSource, Trainer

CASES = [
    # (hidden activation, output activation, loss, n_L, optimizer, extras)
    ("relu", "softmax", "categorical_crossentropy", 10, "sgd", {}),
    ("sigmoid", "sigmoid", "binary_crossentropy", 1, "adam", {}),
    ("tanh", "identity", "mean_squared_error", 3, "momentum", {}),
    ("leaky_relu", "softmax", "categorical_crossentropy", 4, "rmsprop",
     {"dropout": 0.3, "weights": True}),
    # Z[l] kept apart from a[l], and a second float scratch for the backward pass
    ("gelu", "softmax", "categorical_crossentropy", 4, "adam", {"dropout": 0.2}),
    # the regression losses fuse with their outputs too: their delta and cost in place
    ("relu", "identity", "mean_absolute_error", 3, "adam", {"weights": True}),
    ("tanh", "identity", {"name": "huber", "delta": 0.5}, 2, "sgd", {}),
    ("relu", "exp", "poisson", 2, "adam", {"weights": True}),
]


def _step_peak(case, m, rng):
    """Peak bytes traced over three training steps of batch ``m`` after a warm-up step."""
    activation, output, loss, n_L, optimizer, extras = case
    n_x, N = 32, 4 * m
    net = npdeep.Network([n_x, 64, 48, n_L], activation=activation, output_activation=output,
                         loss=loss, dtype="float32", seed=0, dropout=extras.get("dropout"))
    X = rng.random((N, n_x), dtype=np.float32).T       # samples as rows, the usual layout
    if output == "identity":
        Y = rng.standard_normal((n_L, N)).astype(np.float32)
    elif output == "exp":
        Y = rng.poisson(2.0, (n_L, N)).astype(np.float32)
    elif n_L == 1:
        Y = (rng.random((1, N)) > 0.5).astype(np.float32)
    else:
        Y = np.eye(n_L, dtype=np.float32)[:, rng.integers(0, n_L, N)]
    coef = None
    if extras.get("weights"):
        coef = net.sample_coef(N, rng.random(N) + 0.5)
    opt = npdeep.optimizers.get(optimizer)
    opt.setup(net.layout)
    trainer = Trainer(net, opt, 0.01, rng=np.random.default_rng(0))
    source = BatchSource(net, X, Y, m, coef)
    metric = Metric(net, Y)
    batches = source.batches(np.random.default_rng(1))  # the epoch's permutation: drawn here
    trainer.step(*next(batches), metric, record=True)   # first step: buffers are allocated
    tracemalloc.start()
    try:
        for _ in range(3):
            trainer.step(*next(batches), metric, record=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not trainer.stop_training
    return peak


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_a_training_step_allocates_nothing_proportional_to_the_batch(case, rng):
    small, large = _step_peak(case, 256, rng), _step_peak(case, 4096, rng)
    # one (m,) boolean array at m = 4096 would add 3,840 bytes between the two sizes
    assert large - small < 2048, (small, large)
    # what remains is fixed: NumPy's 8,192-element iterator buffers for broadcasting or
    # casting ufuncs (the bias add: 32 KiB in float32) and per-step bookkeeping
    assert large < 128 * 1024, large


def test_a_second_fit_allocates_no_array_as_large_as_the_parameters(rng):
    """TerminateOnNaN's weight copies are the network's scratch, and the per-layer gradient
    norms of a large network need no buffer of squares: a fresh parameter-sized array at every
    fit is paid in page faults (a fit of one epoch, as partial_fit runs, pays it each call)."""
    net = npdeep.Network([32, 16384, 10], output_activation="softmax", dtype="float32", seed=0)
    X = rng.random((32, 64), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    kwargs = {"epochs": 2, "batch_size": 32, "learning_rate": 0.01, "verbose": 0,
              "diagnose": False}
    net.fit(X, y, **kwargs)
    tracemalloc.start()
    try:
        history = net.fit(X, y, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    parameter_bytes = net.layout.size * 4                  # 2.8 MB
    assert peak < parameter_bytes / 4, (peak, parameter_bytes)
    assert len(history.gradient_norms) == 2 and all(
        len(norms) == 2 and all(v > 0 for v in norms) for norms in history.gradient_norms)


def test_weight_copies_are_kept_between_fits_only_up_to_a_size(monkeypatch):
    import npdeep.network as network_module

    net = npdeep.Network([4, 8, 2], seed=0)
    kept = net.weight_copies(2)
    assert kept.shape == (2, net.layout.size) and net.weight_copies(2) is kept
    # a network whose two copies pass the cap gets fresh ones each fit: none is held at rest
    monkeypatch.setattr(network_module, "_KEPT_COPIES_BYTES", 2 * net.layout.size * 8 - 1)
    assert net.weight_copies(2) is not net.weight_copies(2)


def test_the_batch_gather_follows_the_memory_layout(rng):
    """C-ordered and F-ordered data give the same batches (each gathered its cheap way)."""
    net = npdeep.Network([5, 3, 2], output_activation="softmax", loss="categorical_crossentropy",
                         seed=0)
    X = rng.random((5, 40))
    Y = np.eye(2)[:, rng.integers(0, 2, 40)]
    a = BatchSource(net, np.ascontiguousarray(X), np.ascontiguousarray(Y), 16)
    b = BatchSource(net, np.asfortranarray(X), np.asfortranarray(Y), 16)
    assert not a.X.by_rows and b.X.by_rows
    for (xa, ya, _), (xb, yb, _) in zip(a.batches(np.random.default_rng(3)),
                                        b.batches(np.random.default_rng(3)), strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def _memmap(path, rows, cols, dtype, rng, chunk=1 << 16):
    arr = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(rows, cols))
    for start in range(0, rows, chunk):
        block = rng.random((min(chunk, rows - start), cols), dtype=np.float32)
        arr[start : start + chunk] = block if dtype == np.float32 else (block * 255).astype(dtype)
    arr.flush()
    del arr
    return path


def test_memmap_training_matches_in_memory_training(tmp_path, rng):
    path = _memmap(tmp_path / "X.npy", 600, 8, np.float32, rng)
    labels = rng.integers(0, 3, 600)
    kwargs = dict(epochs=3, batch_size=64, learning_rate=0.05, optimizer="adam", diagnose=False)
    results = []
    for X in (np.load(path, mmap_mode="r").T, np.load(path).T):
        net = npdeep.Network([8, 16, 3], output_activation="softmax",
                             loss="categorical_crossentropy", dtype="float32", seed=0)
        history = net.fit(X, labels, seed=7, **kwargs)
        results.append((history.cost, net.parameters.flat.copy()))
    # same batches, samples summed in another order within a batch: equal up to rounding
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-6)


def test_memmap_of_uint8_trains_with_batches_cast_one_at_a_time(tmp_path, rng):
    X = np.load(_memmap(tmp_path / "u8.npy", 500, 6, np.uint8, rng), mmap_mode="r").T
    net = npdeep.Network([6, 8, 1], dtype="float32", seed=0)
    history = net.fit(X, (X[0] > 127).astype(np.float32), epochs=2, batch_size=50,
                      validation_fraction=0.2, diagnose=False)
    assert np.isfinite(history.cost).all() and "val_cost" in history.history
    assert isinstance(X, np.memmap)  # nothing replaced the user's array


def test_memmap_with_nan_is_rejected_by_name(tmp_path, rng):
    path = tmp_path / "bad.npy"
    arr = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(3000, 400))
    arr[:] = 1.0
    arr[2999, 399] = np.nan
    arr.flush()
    del arr
    net = npdeep.Network([400, 4, 1], seed=0)
    with pytest.raises(npdeep.DataError, match="X contains NaN or inf"):
        net.fit(np.load(path, mmap_mode="r").T, np.zeros(3000), epochs=1, batch_size=100)


def _rss_script(setup: str, measured: str) -> str:
    """A script that runs ``setup``, then ``measured`` (which sets ``result``) while a thread
    samples resident memory; it prints the RSS before, the peak RSS and ``result``.
    ``sys.argv[1]`` is a ``.npy`` file, memory-mapped as ``X`` (n_x, m)."""
    return textwrap.dedent("""
        import sys, threading, time
        import numpy as np
        import npdeep

        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * 4096

        X = np.load(sys.argv[1], mmap_mode="r")
        X = X.T if X.shape[0] > X.shape[1] else X      # (n_x, m): samples outnumber features
        m = X.shape[1]
    """) + textwrap.dedent(setup) + textwrap.dedent("""
        peak, done = [rss()], threading.Event()

        def watch():
            while not done.is_set():
                peak.append(rss())
                time.sleep(0.002)

        before = rss()
        t = threading.Thread(target=watch)
        t.start()
    """) + textwrap.dedent(measured) + textwrap.dedent("""
        done.set()
        t.join()
        print(before, max(peak), result)
    """)


_RSS_SCRIPT = _rss_script("""
    y = (np.arange(m) % 2).astype(np.float32)
    net = npdeep.Network([X.shape[0], 16, 1], dtype="float32", seed=0)
""", """
    extra = eval(sys.argv[2]) if len(sys.argv) > 2 else {}
    history = net.fit(X, y, epochs=1, batch_size=4096, learning_rate=0.01, optimizer="adam",
                      **extra)
    result = history.cost[0]
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for RSS")
def test_training_on_a_2gb_memmap_keeps_resident_memory_growth_under_300mb(tmp_path, rng):
    if shutil.disk_usage(tmp_path).free < 3 << 30:
        pytest.skip("needs 3 GB of free disk for a 2 GB memory-mapped file")
    rows, cols = (2 << 30) // (512 * 4), 512          # 2 GiB of float32
    path = _memmap(tmp_path / "big.npy", rows, cols, np.float32, rng)
    assert os.path.getsize(path) >= 2 << 30
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(path)], capture_output=True,
                         text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    before, peak, cost = out.stdout.split()
    growth = int(peak) - int(before)
    assert growth < 300 << 20, f"resident memory grew by {growth / 2**20:.0f} MB"
    assert np.isfinite(float(cost))



@pytest.mark.parametrize("rows, cols", [(100, 8), (3000, 400)], ids=["one-block", "chunked"])
def test_memmap_float64_too_large_for_a_float32_network_is_refused_as_in_memory(
        tmp_path, rng, rows, cols):
    # a memory-mapped X is cast batch by batch: a value beyond float32 became inf in its
    # batch and training stopped on "the gradients became NaN", where in memory it is refused
    X = rng.random((rows, cols))
    X[rows - 1, cols - 1] = 1e300
    np.save(tmp_path / "f64.npy", X)
    y = np.zeros(rows)
    for data in (X.T, np.load(tmp_path / "f64.npy", mmap_mode="r").T):
        net = npdeep.Network([cols, 4, 1], dtype="float32", seed=0)
        with pytest.raises(npdeep.DataError, match="X has values too large for float32"):
            net.fit(data, y, epochs=1, batch_size=50, diagnose=False)
        with pytest.raises(npdeep.DataError, match="X has values too large for float32"):
            net.predict(data)


def test_predict_on_a_uint8_memmap_casts_one_chunk_at_a_time(tmp_path, rng):
    # predict cast the whole file into the network's dtype first: 4x the file in memory
    from npdeep.network import _PREDICT_CHUNK

    m, n_x = 5 * _PREDICT_CHUNK + 7, 128
    path = _memmap(tmp_path / "u8.npy", m, n_x, np.uint8, rng)
    net = npdeep.Network([n_x, 16, 3], output_activation="softmax",
                         loss="categorical_crossentropy", dtype="float32", seed=0)
    X = np.load(path, mmap_mode="r").T
    tracemalloc.start()
    try:
        proba = net.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    whole = m * n_x * 4                                  # X cast to float32: 21 MB
    assert peak < whole / 2, (peak, whole)               # one chunk cast: 4 MB, a[L]: 0.5 MB
    np.testing.assert_array_equal(proba, net.predict_proba(np.load(path).T))
    np.testing.assert_array_equal(net.predict(X), proba.argmax(axis=0))


def test_full_batch_on_a_memmap_warns_that_it_reads_the_whole_file(tmp_path, rng,
                                                                    monkeypatch):
    path = _memmap(tmp_path / "X.npy", 300, 8, np.uint8, rng)
    # below the size threshold nothing is said (joblib maps arrays of a few MB for workers)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        npdeep.Network([8, 4, 1], seed=0).fit(np.load(path, mmap_mode="r").T,
                                              rng.integers(0, 2, 300), epochs=1, diagnose=False)
    monkeypatch.setattr(npdeep.training, "_WHOLE_MEMMAP_WARNING_BYTES", 300 * 8 * 4)
    y = rng.integers(0, 2, 300)
    results = []
    for X in (np.load(path, mmap_mode="r").T, np.load(path).T):
        net = npdeep.Network([8, 4, 1], dtype="float32", seed=0)
        if isinstance(X, np.memmap):
            with pytest.warns(UserWarning, match=r"batch_size=None trains on all m = 300 "
                                                 r"samples of the memory-mapped X at once"):
                net.fit(X, y, epochs=2, diagnose=False)
        else:
            net.fit(X, y, epochs=2, diagnose=False)
        results.append(net.parameters.flat.copy())
    np.testing.assert_array_equal(results[0], results[1])  # still the same training
    # a batch_size of m or more is full-batch training too: it warned only for None
    with pytest.warns(UserWarning, match=r"batch_size=300 >= m trains on all m = 300 samples "
                                         r"of the memory-mapped X at once"):
        npdeep.Network([8, 4, 1], seed=0).fit(np.load(path, mmap_mode="r").T, y, epochs=1,
                                              batch_size=300, diagnose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # mini-batches: nothing to say
        npdeep.Network([8, 4, 1], seed=0).fit(np.load(path, mmap_mode="r").T, y, epochs=1,
                                              batch_size=64, diagnose=False)


def test_a_shared_writable_memmap_has_its_pages_released_and_keeps_its_data(tmp_path, rng):
    # np.memmap(mode="w+") is as shared as "r+", but was never released: training on a file
    # just written this way kept all of it resident (410 MB of a 400 MB file)
    from npdeep._mmap import PageReleaser

    path = tmp_path / "X.dat"
    X = np.memmap(path, mode="w+", dtype=np.float32, shape=(600, 8))
    values = rng.random((600, 8), dtype=np.float32)
    X[:] = values                                  # written, not flushed: dirty pages
    assert PageReleaser(X.T).active
    assert not PageReleaser(np.memmap(path, mode="c", dtype=np.float32)).active
    net = npdeep.Network([8, 4, 1], dtype="float32", seed=0)
    net.fit(X.T, values[:, 0] > 0.5, epochs=2, batch_size=64, diagnose=False)
    np.testing.assert_array_equal(X, values)      # dropped pages come back from the cache
    X.flush()
    del X
    np.testing.assert_array_equal(np.fromfile(path, np.float32).reshape(600, 8), values)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for RSS")
def test_a_validation_fraction_of_a_memmap_is_read_without_keeping_the_file_resident(tmp_path,
                                                                                      rng):
    # X[:, va] touched a page around every held-out sample and kept it: on this 256 MB file
    # resident memory grew by 280 MB, most of the file, for a 26 MB validation set
    rows, cols = (256 << 20) // (512 * 4), 512
    path = _memmap(tmp_path / "X.npy", rows, cols, np.float32, rng)
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(path),
                          "{'validation_fraction': 0.1}"], capture_output=True, text=True,
                         timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    before, peak, cost = out.stdout.split()
    growth = int(peak) - int(before)
    assert growth < 128 << 20, f"resident memory grew by {growth / 2**20:.0f} MB"
    assert np.isfinite(float(cost))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for RSS")
def test_a_features_by_samples_memmap_warns_and_keeps_resident_memory_small(tmp_path, rng):
    # a C-ordered (n_x, m) file: each batch took a value from every row in one np.take and
    # kept every page it touched until the batch was done, here all 256 MB of the file
    n_x, m = 512, (256 << 20) // (512 * 4)
    path = _memmap(tmp_path / "C.npy", n_x, m, np.float32, rng)
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", _RSS_SCRIPT, str(path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    before, peak, cost = out.stdout.split()
    growth = int(peak) - int(before)
    assert growth < 128 << 20, f"resident memory grew by {growth / 2**20:.0f} MB"
    small = _memmap(tmp_path / "small.npy", 8, 600, np.float32, rng)
    with pytest.warns(UserWarning, match=r"X is a memory-mapped file of shape \(8, 600\) in C "
                                         r"order, features as rows: each mini-batch reads"):
        npdeep.Network([8, 4, 1], seed=0).fit(np.load(small, mmap_mode="r"), np.zeros(600),
                                              epochs=1, batch_size=64, diagnose=False)


_PREDICT_RSS_SCRIPT = _rss_script("""
    net = npdeep.Network([X.shape[0], 16, 10], output_activation="softmax",
                         loss="categorical_crossentropy", dtype="float32", seed=0)
""", """
    result = net.predict(X).shape[0]
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for RSS")
@pytest.mark.parametrize("shape", [((256 << 20) // 2048, 512), (512, (256 << 20) // 2048)],
                         ids=["samples-as-rows", "features-as-rows"])
def test_predict_on_a_memmap_keeps_resident_memory_small(tmp_path, rng, shape):
    # predict read the file without handing its pages back: resident memory grew by the whole
    # 256 MB file (215 MB as (m, n_x), 270 MB as (n_x, m))
    path = _memmap(tmp_path / "X.npy", *shape, np.float32, rng)
    out = subprocess.run([sys.executable, "-c", _PREDICT_RSS_SCRIPT, str(path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    before, peak, m = out.stdout.split()
    growth = int(peak) - int(before)
    assert growth < 128 << 20, f"resident memory grew by {growth / 2**20:.0f} MB"
    assert int(m) == max(shape)


def _whole_pass(net, X, Y, coef):
    """The unchunked reference: one forward pass over all of ``X`` in one workspace."""
    from npdeep.engine import Workspace, forward

    ws = Workspace(net.units, net.activations, net.dtype, X.shape[1])
    A_L = forward(net.layers, net.activations, X, ws)
    metric = Metric(net, Y)
    metric.add(A_L, Y, ws)
    return net.batch_cost(ws, A_L, Y, coef), metric.result()


@pytest.mark.parametrize("output, n_L", [("softmax", 3), ("sigmoid", 1), ("identity", 2)])
def test_cost_and_evaluate_on_a_memmap_cast_one_chunk_at_a_time(tmp_path, rng, output, n_L):
    # cost and evaluate cast the whole memory-mapped X into the network's dtype first
    from npdeep.network import _PREDICT_CHUNK

    m, n_x = 5 * _PREDICT_CHUNK + 7, 128
    path = _memmap(tmp_path / "u8.npy", m, n_x, np.uint8, rng)
    Y = rng.integers(0, 3, m) if output == "softmax" else \
        rng.integers(0, 2, (n_L, m)) if output == "sigmoid" else rng.normal(size=(n_L, m))
    weights = rng.random(m)
    net = npdeep.Network([n_x, 16, n_L], output_activation=output, dtype="float32", l2=0.5,
                         seed=0)
    X = np.load(path, mmap_mode="r").T
    tracemalloc.start()
    try:
        cost, weighted, scores = net.cost(X, Y), net.cost(X, Y, weights), net.evaluate(X, Y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    whole = m * n_x * 4                                  # X cast to float32: 21 MB
    assert peak < whole / 2, (peak, whole)               # one chunk cast: 4 MB
    in_memory = np.load(path).T
    assert cost == pytest.approx(net.cost(in_memory, Y), rel=1e-6)
    assert weighted == pytest.approx(net.cost(in_memory, Y, weights), rel=1e-6)
    assert scores == pytest.approx(net.evaluate(in_memory, Y), rel=1e-6)
    # and the sums over chunks equal one pass over the whole set, to float32 rounding
    Xf, Yf = net.check_X(in_memory), net.check_Y(Y, m)
    whole_cost, whole_metric = _whole_pass(net, Xf, Yf, 1.0 / m)
    assert cost == pytest.approx(whole_cost, rel=1e-5)
    assert scores["cost"] == pytest.approx(whole_cost, rel=1e-5)
    assert list(scores.values())[1] == pytest.approx(whole_metric, rel=1e-5, abs=1e-9)
    assert weighted == pytest.approx(_whole_pass(net, Xf, Yf, net.sample_coef(m, weights))[0],
                                     rel=1e-5)


def test_evaluate_on_a_features_by_samples_memmap_equals_in_memory(tmp_path, rng):
    from npdeep.network import _PREDICT_CHUNK

    n_x, m = 16, 2 * _PREDICT_CHUNK + 300
    path = _memmap(tmp_path / "C.npy", n_x, m, np.float32, rng)   # (n_x, m), C order
    y = rng.integers(0, 2, m)
    net = npdeep.Network([n_x, 8, 1], dtype="float32", seed=0)
    scores = net.evaluate(np.load(path, mmap_mode="r"), y)
    assert scores == pytest.approx(net.evaluate(np.load(path), y), rel=1e-6)


def test_memmap_validation_data_is_evaluated_one_chunk_at_a_time(tmp_path, rng):
    # validation_data=(X_val memmap, y_val) was cast whole at the start of fit
    from npdeep.network import _PREDICT_CHUNK

    m_val, n_x = 5 * _PREDICT_CHUNK + 7, 128
    path = _memmap(tmp_path / "val.npy", m_val, n_x, np.uint8, rng)
    y_val = rng.integers(0, 2, m_val)
    X, y = rng.random((n_x, 200)) * 255, rng.integers(0, 2, 200)
    histories = []
    for X_val in (np.load(path, mmap_mode="r").T, np.load(path).T):
        net = npdeep.Network([n_x, 16, 1], dtype="float32", seed=0)
        net.fit(X, y, epochs=1, batch_size=50, diagnose=False)    # workspaces and warm-up
        tracemalloc.start()
        try:
            h = net.fit(X, y, epochs=2, batch_size=50, validation_data=(X_val, y_val),
                        diagnose=False)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        histories.append(h)
        if isinstance(X_val.base, np.memmap):
            assert peak < m_val * n_x * 4 / 2, peak      # one chunk cast: 4 MB of 21 MB
    assert histories[0].val_cost == pytest.approx(histories[1].val_cost, rel=1e-6)
    assert histories[0].val_accuracy == histories[1].val_accuracy
    assert histories[0].cost == histories[1].cost


@pytest.mark.parametrize("method", ["decision_function", "predict_log_proba", "predict_proba"])
def test_estimator_outputs_on_a_memmap_cast_one_chunk_at_a_time(tmp_path, rng, method):
    # decision_function and predict_log_proba propagated the whole X at once (every layer's
    # (n[l], m) activations), and a memmap was cast whole by the input check
    from npdeep import DeepClassifier
    from npdeep.network import _PREDICT_CHUNK

    m, n_x = 5 * _PREDICT_CHUNK + 7, 128
    path = _memmap(tmp_path / "u8.npy", m, n_x, np.uint8, rng)
    X_train = rng.normal(size=(90, n_x))
    clf = DeepClassifier((16,), dtype="float32", max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X_train, rng.integers(0, 3, 90))
    X = np.load(path, mmap_mode="r")
    tracemalloc.start()
    try:
        out = getattr(clf, method)(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    whole = m * n_x * 4
    assert peak < whole / 2, (peak, whole)
    assert out.shape == (m, 3)
    in_memory = np.load(path)
    np.testing.assert_allclose(out, getattr(clf, method)(in_memory), rtol=1e-6)
    if method == "decision_function":   # the logits of one pass over all the samples
        A = in_memory.T.astype(np.float32)
        for l, (W, b) in enumerate(clf.network_.layers, start=1):
            Z = W @ A + b
            A = clf.network_.activations[l](Z)
        np.testing.assert_allclose(out, Z.T, rtol=1e-4, atol=1e-4)


_EVALUATE_RSS_SCRIPT = _rss_script("""
    y = (np.arange(m) % 10)
    net = npdeep.Network([X.shape[0], 16, 10], output_activation="softmax",
                         loss="categorical_crossentropy", dtype="float32", seed=0)
""", """
    result = net.evaluate(X, y)["cost"] + net.cost(X, y)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for RSS")
def test_evaluate_and_cost_on_a_memmap_keep_resident_memory_small(tmp_path, rng):
    # both read the whole 256 MB file into a float32 copy, and kept its pages resident
    path = _memmap(tmp_path / "X.npy", (256 << 20) // 2048, 512, np.float32, rng)
    out = subprocess.run([sys.executable, "-c", _EVALUATE_RSS_SCRIPT, str(path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    before, peak, cost = out.stdout.split()
    growth = int(peak) - int(before)
    assert growth < 128 << 20, f"resident memory grew by {growth / 2**20:.0f} MB"
    assert np.isfinite(float(cost))


@pytest.mark.parametrize("call", ["predict", "evaluate"])
def test_a_memmap_of_one_chunk_has_its_pages_released_too(tmp_path, rng, monkeypatch, call):
    from npdeep import _mmap

    released = []
    monkeypatch.setattr(_mmap.PageReleaser, "release",
                        lambda self: released.append(self.active))
    X = np.load(_memmap(tmp_path / "X.npy", 300, 8, np.float32, rng), mmap_mode="r").T
    net = npdeep.Network([8, 4, 1], seed=0)
    net.predict(X) if call == "predict" else net.evaluate(X, np.zeros(300))
    assert True in released
