"""Built-in data sets by name: scikit-learn's bundled ones (no download) and MNIST's test set."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from npdeep.data.dataset import Dataset, check_features, prepare_target
from npdeep.data.encoding import FeatureEncoder
from npdeep.data.idx import load_idx
from npdeep.errors import DataError

SKLEARN_NAMES = ("digits", "breast_cancer", "wine", "iris", "diabetes")
BUILTIN_NAMES = (*SKLEARN_NAMES, "mnist-t10k")

#: Where ``mnist-t10k`` is looked for, relative to the current folder and then to the repo root.
MNIST_RELATIVE = Path("..") / "shared" / "data" / "mnist-t10k"
MNIST_ENV = "NPDEEP_MNIST_DIR"


def _sklearn_loader(name: str) -> Callable:
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")


def mnist_candidates() -> list[Path]:
    """Folders searched for ``mnist-t10k`` when no folder is given, in order.

    Only ``$NPDEEP_MNIST_DIR`` when it is set: a wrong value is an error, not a fallback.
    """
    repo_root = Path(__file__).resolve().parents[3]
    if os.environ.get(MNIST_ENV):  # chosen by the user: no silent fallback elsewhere
        return [Path(os.environ[MNIST_ENV])]
    return [Path.cwd() / MNIST_RELATIVE, repo_root / MNIST_RELATIVE]


def find_mnist_dir(mnist_dir: str | Path | None = None) -> Path:
    """Return the folder holding MNIST's t10k IDX files; raise DataError naming where it looked."""
    candidates = [Path(mnist_dir)] if mnist_dir is not None else mnist_candidates()
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("t10k-images-idx3-ubyte*")):
            return folder
    raise DataError(
        "mnist-t10k: no 't10k-images-idx3-ubyte[.gz]' found in "
        + ", ".join(str(c) for c in candidates)
        + f"; give the folder holding MNIST's t10k IDX files: as the data itself (npdeep "
        f"train FOLDER), in ${MNIST_ENV}, or as mnist_dir=... in Python"
    )


def load_builtin(
    name: str, *, task: str | None = None, mnist_dir: str | Path | None = None
) -> Dataset:
    """Load a built-in data set by name.

    Parameters
    ----------
    name : {"digits", "breast_cancer", "wine", "iris", "diabetes", "mnist-t10k"}
    task : {"classification", "regression"}, optional
        Defaults to the data set's own task (diabetes is regression, the others classification).
    mnist_dir : str or Path, optional
        Folder of MNIST's t10k IDX files (default: ``../shared/data/mnist-t10k`` from the current
        folder, then from the repository root).

    Returns
    -------
    Dataset
        ``X: (n_samples, n_features)`` float64 with the data set's own feature names.
    """
    if name == "mnist-t10k":
        folder = find_mnist_dir(mnist_dir)
        from npdeep.data.idx import find_images

        return load_idx(find_images(folder, prefer="t10k"), task=task, name="mnist-t10k")
    if name not in SKLEARN_NAMES:
        raise DataError(
            f"unknown built-in data set {name!r}; "
            f"the built-in names are: {', '.join(BUILTIN_NAMES)}"
        )
    bunch = _sklearn_loader(name)()
    X = check_features(np.asarray(bunch.data), name)
    raw_names = getattr(bunch, "feature_names", None)
    if raw_names is None or len(raw_names) != X.shape[1]:
        raw_names = [f"x{i}" for i in range(X.shape[1])]
    names = [str(n) for n in raw_names]
    default_task = "regression" if name == "diabetes" else "classification"
    y, task, classes = prepare_target(np.asarray(bunch.target), task or default_task, "target")
    return Dataset(
        X=X,
        y=y,
        feature_names=names,
        target_name="target",
        task=task,
        classes=classes,
        source=f"{name} (built-in, scikit-learn, {X.shape[0]} samples x {X.shape[1]} features)",
        encoder=FeatureEncoder.numeric(names),
    )
