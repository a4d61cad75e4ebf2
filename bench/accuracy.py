"""Test accuracy and training time of npdeep's defaults beside scikit-learn's MLPClassifier.

Run from the repository root::

    python bench/accuracy.py              # every data set
    python bench/accuracy.py digits mnist # some of them
    python bench/accuracy.py --repeat 3   # best-of-3 training times
    python bench/accuracy.py --threads 1  # BLAS threads for both sides (needs threadpoolctl)

One line per data set. Both models train on the same split, one after the other in the same
process: npdeep with the defaults of ``npdeep train`` (:mod:`npdeep.defaults`), scikit-learn
with ``MLPClassifier(hidden_layer_sizes=(128, 64), random_state=0)``. Splits: scikit-learn's
data sets are standardized with the training statistics and split 75/25, stratified, seed 0;
MNIST is the first 8,000 images of ``../shared/data/mnist-t10k/`` for training and the last
2,000 for testing, pixels / 255 (skipped when the folder is absent). Two more lines train the
article's architecture [30, 4, 4, 4, 4, 3, 1], sigmoid everywhere, on breast cancer: with the
article's initialization and plain gradient descent (flagged as stuck by the diagnostics), and
with Glorot initialization and Adam.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import npdeep  # noqa: E402
from npdeep import defaults  # noqa: E402

MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist-t10k"
DATASETS = ("digits", "breast_cancer", "wine", "iris", "mnist")


def load(name: str):
    """Return ``(X_train, y_train, X_test, y_test)``, samples as rows, or None when absent."""
    if name == "mnist":
        if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
            return None
        from npdeep.data.idx import read_idx

        X = read_idx(MNIST_DIR / "t10k-images-idx3-ubyte.gz").reshape(10000, -1) / 255.0
        y = read_idx(MNIST_DIR / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
        return X[:8000], y[:8000], X[8000:], y[8000:]
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    mean, scale = X_tr.mean(axis=0), X_tr.std(axis=0)
    scale[scale == 0] = 1.0
    return (X_tr - mean) / scale, y_tr, (X_te - mean) / scale, y_te


def train_npdeep(X_tr, y_tr, settings=None, hidden=None, seed: int = 0):
    """Train npdeep's default network (samples as rows in, transposed inside)."""
    net_kw, fit_kw = defaults.split(settings or defaults.TRAIN)
    n_classes = int(y_tr.max()) + 1
    n_out = 1 if n_classes == 2 else n_classes
    net = npdeep.Network([X_tr.shape[1], *(hidden or defaults.HIDDEN_UNITS), n_out], seed=seed,
                         **net_kw)
    start = time.perf_counter()
    net.fit(X_tr.T, y_tr, diagnose=False, **fit_kw)
    return net, time.perf_counter() - start


def train_sklearn(X_tr, y_tr):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(128, 64), random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_tr, y_tr)
    return clf, time.perf_counter() - start


def compare(name: str, repeat: int = 1):
    data = load(name)
    if data is None:
        return None
    X_tr, y_tr, X_te, y_te = data
    X_tr32 = X_tr.astype(np.float32) if defaults.TRAIN.get("dtype") == "float32" else X_tr
    best_np = best_sk = np.inf
    for _ in range(repeat):  # interleaved: both see the same machine load
        net, t_np = train_npdeep(X_tr32, y_tr)
        clf, t_sk = train_sklearn(X_tr, y_tr)
        best_np, best_sk = min(best_np, t_np), min(best_sk, t_sk)
    acc_np = float(np.mean(net.predict(X_te.T) == y_te))
    acc_sk = float(clf.score(X_te, y_te))
    return {"data": name, "train": len(y_tr), "test": len(y_te), "npdeep_acc": acc_np,
            "npdeep_s": best_np, "sklearn_acc": acc_sk, "sklearn_s": best_sk}


def article_lines():
    """The article's [30, 4, 4, 4, 4, 3, 1] all-sigmoid network on breast cancer, two ways."""
    X_tr, y_tr, X_te, y_te = load("breast_cancer")
    rows = []
    for label, init, opt, lr, epochs, batch in (
        ("article init + GD", "article", "sgd", 0.01, 3000, None),
        ("glorot + adam", "glorot", "adam", 0.01, 300, 32),
    ):
        net = npdeep.Network([30, 4, 4, 4, 4, 3, 1], activation="sigmoid", init=init, seed=0)
        start = time.perf_counter()
        h = net.fit(X_tr.T, y_tr, epochs=epochs, learning_rate=lr, optimizer=opt,
                    batch_size=batch)
        seconds = time.perf_counter() - start
        acc = float(np.mean(net.predict(X_te.T) == y_te))
        rows.append((label, acc, seconds, h.diagnosis))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", metavar="DATA",
                        help=f"any of {', '.join(DATASETS)} (default: all)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="best-of-N training times (an integer >= 1, default 1)")
    parser.add_argument("--no-article", action="store_true", help="skip the article lines")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS threads of both sides (threadpoolctl; an integer "
                             ">= 1, default: the pools' own size)")
    args = parser.parse_args(argv)
    for option in ("repeat", "threads"):  # 0 repeats trained nothing; 0 threads meant default
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option}: got {value}, expected an integer >= 1")
    unknown = [d for d in args.datasets if d not in DATASETS]
    if unknown:
        parser.error(f"unknown data sets {unknown}; choose from {', '.join(DATASETS)}")
    args.datasets = args.datasets or list(DATASETS)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(args.threads):
            return _run(args)
    return _run(args)


def _run(args) -> int:
    print(f"npdeep {npdeep.__version__}: hidden {defaults.HIDDEN_UNITS}, {defaults.TRAIN}")
    print(f"BLAS threads: {args.threads or 'default'}")
    print(f"{'data':<14}{'train':>6}{'test':>6}  {'npdeep acc':>10}{'s':>7}  "
          f"{'sklearn acc':>11}{'s':>7}  {'speed-up':>8}")
    for name in args.datasets:
        row = compare(name, args.repeat)
        if row is None:
            print(f"{name:<14}skipped: {MNIST_DIR} not found")
            continue
        print(f"{row['data']:<14}{row['train']:>6}{row['test']:>6}  {row['npdeep_acc']:>10.4f}"
              f"{row['npdeep_s']:>7.2f}  {row['sklearn_acc']:>11.4f}{row['sklearn_s']:>7.2f}  "
              f"{row['sklearn_s'] / row['npdeep_s']:>7.1f}x", flush=True)
    if not args.no_article:
        for label, acc, seconds, diagnosis in article_lines():
            verdict = "STUCK" if diagnosis.stuck else "learns"
            print(f"article [30,4,4,4,4,3,1] sigmoid, {label:<18} acc {acc:.4f} "
                  f"{seconds:5.2f}s  diagnostics: {verdict}")
            if diagnosis.stuck:
                print("  " + diagnosis.reasons[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
