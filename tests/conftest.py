import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator: every test draws from it, never from global state."""
    return np.random.default_rng(12345)
