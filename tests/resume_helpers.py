"""Shared pieces of the resume tests with EarlyStopping and ModelCheckpoint state."""

import numpy as np

import npdeep
from npdeep.callbacks import Callback


def make_data():
    """X (5, 70) and binary labels y (70,), from a fixed seed."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 70))
    y = (X[0] - X[1] + 0.3 * rng.normal(size=70) > 0).astype(float)
    return X, y


def fresh():
    """The network every run starts from: relu, dropout, seed 7."""
    return npdeep.Network([5, 12, 6, 1], activation="relu", dropout=[0.2, 0.1], seed=7)


class InterruptAt(Callback):
    """Raise KeyboardInterrupt after the first batch of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, batch, logs):
        if self.trainer.epoch == self.epoch:
            raise KeyboardInterrupt
