"""The main job: `npdeep train` with no arguments on the embedded digits data set."""

import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import npdeep


def test_npdeep_train_defaults_reach_97_percent_and_the_model_reloads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "npdeep", "train", "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", proc.stdout).group(1))
    assert accuracy >= 0.97
    saved = list(tmp_path.glob("npdeep-model*"))
    assert len(saved) == 1

    # the saved model predicts the same labels on the same split
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, _, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    with pytest.warns(UserWarning, match="takes standardized X"):  # the bare network
        net = npdeep.load(saved[0])
    mean, scale = X_tr.mean(axis=0), X_tr.std(axis=0)
    scale[scale == 0] = 1.0
    labels = net.predict(((X_te - mean) / scale).T)
    assert abs(np.mean(labels == y_te) - accuracy) < 1e-4
    # or with the file's own scaling, from raw features
    np.testing.assert_array_equal(npdeep.load_trained(saved[0]).predict(X_te), labels)


def test_help_describes_every_option():
    proc = subprocess.run([sys.executable, "-m", "npdeep", "train", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--units", "--epochs", "--learning-rate", "--batch-size", "--seed", "--output"):
        assert option in proc.stdout
