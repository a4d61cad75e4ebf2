"""summary(): the layers in the article's notation, Keras-style."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import npdeep
from npdeep import DeepClassifier, Network
from npdeep.summary import layer_rows, summary


def test_article_cat_network_rows_and_total():
    net = Network([12288, 20, 7, 5, 1], activation="relu", seed=0)
    rows = layer_rows(net)
    assert [r["W"] for r in rows] == [(20, 12288), (7, 20), (5, 7), (1, 5)]
    assert [r["b"] for r in rows] == [(20, 1), (7, 1), (5, 1), (1, 1)]
    assert [r["g"] for r in rows] == ["relu", "relu", "relu", "sigmoid"]
    assert [r["parameters"] for r in rows] == [245_780, 147, 40, 6]
    text = summary(net)
    assert "Total parameters: 245,973 (1.9 MiB as float64)" in text
    assert "a[0] = X: (12288, m)" in text
    assert "W[l] (n[l], n[l-1])" in text and "b[l] (n[l], 1)" in text
    assert net.summary() == text
    # one row per layer, in order, with its shapes
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("1 "))
    assert lines[first].split()[:5] == ["1", "(20,", "12288)", "(20,", "1)"]
    assert lines[first + 3].split()[0] == "4"


def test_total_equals_the_real_parameter_count():
    net = Network([6, 5, 4, 3], activation="tanh", output_activation="softmax", seed=1)
    expected = net.parameters.flat.size
    assert f"Total parameters: {expected:,}" in summary(net)
    assert sum(r["parameters"] for r in layer_rows(net)) == expected


def test_dropout_column_activation_options_l2_and_float32():
    net = Network([3, 4, 4, 1], activation=["relu", {"name": "leaky_relu", "alpha": 0.2}],
                  dropout=[0.5, 0.0], l2=0.1, dtype="float32", seed=0)
    text = summary(net)
    assert "dropout" in text.splitlines()[2]
    assert "leaky_relu(alpha=0.2)" in text
    assert "L2 penalty lambda: 0.1" in text
    assert "dtype float32" in text and "as float32" in text
    assert "dropout" not in summary(Network([3, 2, 1], seed=0)).splitlines()[2]


def test_the_dropout_column_says_where_dropout_is_alpha_dropout():
    net = Network([3, 4, 4, 1], activation=["selu", "relu"], dropout=0.25, seed=0)
    rows = summary(net).splitlines()[5:8]
    assert rows[0].startswith("1") and rows[0].endswith("0.25 alpha")   # selu
    assert rows[1].startswith("2") and rows[1].endswith("   0.25")       # relu: inverted
    assert rows[2].startswith("3") and rows[2].endswith("-")            # the output layer


def test_summary_of_estimators_and_pipelines():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(30, 4))
    y = np.arange(30) % 3
    clf = DeepClassifier((5,), max_iter=2, random_state=0).fit(X, y)
    assert "units [4, 5, 3]" in summary(clf)
    assert "softmax" in summary(clf)
    pipe = make_pipeline(StandardScaler(), DeepClassifier((5,), max_iter=2, random_state=0))
    assert summary(pipe.fit(X, y)) == summary(pipe[-1])
    for unfitted in (DeepClassifier(), make_pipeline(StandardScaler(), DeepClassifier())):
        with pytest.raises(NotFittedError, match="this DeepClassifier is not fitted yet, call "
                           r"fit first \(summary needs a Network"):
            summary(unfitted)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        DeepClassifier().summary()  # the method, as sklearn's check_is_fitted would raise
    assert npdeep.Network is Network
