"""scikit-learn's own estimator checks on both estimators, with their default parameters (and
the regressor with the robust losses, whose targets are standardized as the squared error's).

Nothing is skipped or marked as an expected failure by us. One check skips itself:
``check_array_api_input`` runs only when the environment variable ``SCIPY_ARRAY_API=1`` was set
before SciPy was first imported, which a test cannot arrange inside an already running pytest;
``test_array_api_input_check`` below runs it in a fresh interpreter with the variable set.
"""

import os
import subprocess
import sys

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from npdeep import DeepClassifier, DeepRegressor


@parametrize_with_checks([DeepClassifier(random_state=0), DeepRegressor(random_state=0),
                          DeepRegressor(loss="huber", random_state=0),
                          DeepRegressor(loss="mae", random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_array_api_input_check():
    code = (
        "import inspect\n"
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from npdeep import DeepClassifier, DeepRegressor\n"
        "options = {'expect_only_array_outputs': False}  # not in scikit-learn 1.6.0\n"
        "if 'expect_only_array_outputs' not in inspect.signature(\n"
        "        check_array_api_input).parameters:\n"
        "    options = {}\n"
        "from unittest import SkipTest\n"
        "try:\n"
        "    for E in (DeepClassifier, DeepRegressor):\n"
        "        check_array_api_input(E.__name__, E(random_state=0), array_namespace='numpy',\n"
        "                              **options)\n"
        "except SkipTest as skip:  # scikit-learn 1.6.0 needs array_api_compat installed\n"
        "    print('skipped:', skip)\n"
        "else:\n"
        "    print('checked')\n"
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    if done.stdout.startswith("skipped:"):
        pytest.skip(done.stdout.strip())
    assert "checked" in done.stdout
