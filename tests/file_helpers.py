"""Tampering with model files in tests: rewrite a file's header or arrays."""

import json
import warnings
import zipfile

import numpy as np

from npdeep.io import load_model_file, save_model_file


def edit_header(src, dst, edit):
    """Copy the model file ``src`` to ``dst``, passing its parsed header.json through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            raw = zin.read(name)
            if name == "header.json":
                header = json.loads(raw)
                edit(header)
                raw = json.dumps(header).encode()
            zout.writestr(name, raw)


def retouched(src, dst, edit):
    """Copy a model file, passing its header and arrays through ``edit`` (a valid container)."""
    header, arrays = load_model_file(src)
    header = {k: v for k, v in header.items()
              if k not in ("format", "format_version", "npdeep_version", "arrays")}
    edit(header, arrays)
    return save_model_file(dst, header, arrays)


def valid_files(folder, X):
    """Write one valid file of each kind, trained on ``X`` (m, 3), into ``folder``: network,
    estimator, pipeline, checkpoint; return ``{kind: path}``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import npdeep
    from npdeep.callbacks import ModelCheckpoint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = npdeep.DeepClassifier((4,), max_iter=2, random_state=0).fit(X, X[:, 0] > 0)
    npdeep.Network([3, 4, 1], seed=0).save(folder / "net.npz")
    npdeep.save(clf, folder / "est.npz")
    npdeep.save(make_pipeline(StandardScaler().fit(X), clf), folder / "pipe.npz")
    npdeep.Network([3, 4, 1], seed=0).fit(
        X.T, np.asarray(X[:, 0] > 0)[None], epochs=2, optimizer="adam", batch_size=16,
        verbose=0, callbacks=[ModelCheckpoint(folder / "ck.npz")], diagnose=False)
    return {kind: folder / f"{kind}.npz" for kind in ("net", "est", "pipe", "ck")}
