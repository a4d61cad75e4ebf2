"""Learning-rate schedules: values per epoch, plateau state, names, use in fit."""

import math
import warnings

import numpy as np
import pytest

import npdeep
from npdeep import schedules


def test_constant_step_exponential_cosine():
    assert [schedules.get("constant").learning_rate(e, 0.1) for e in (0, 5)] == [0.1, 0.1]
    step = schedules.StepDecay(step_size=2, factor=0.5)
    assert [step.learning_rate(e, 1.0) for e in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    exp = schedules.ExponentialDecay(gamma=0.9)
    assert exp.learning_rate(3, 2.0) == pytest.approx(2.0 * 0.9**3)
    cos = schedules.CosineDecay(period=4, min_lr=0.1)
    assert cos.learning_rate(0, 1.0) == pytest.approx(1.0)
    assert cos.learning_rate(2, 1.0) == pytest.approx(0.55)
    assert cos.learning_rate(4, 1.0) == pytest.approx(0.1)
    assert cos.learning_rate(9, 1.0) == pytest.approx(0.1)


def test_cosine_defaults_to_the_run_length(rng):
    X = rng.normal(size=(2, 16))
    net = npdeep.Network([2, 3, 1], activation="tanh", seed=0)
    h = net.fit(X, (X[0] > 0).astype(float), epochs=5, learning_rate=0.1, schedule="cosine",
                diagnose=False)
    expected = [0.1 * 0.5 * (1 + math.cos(math.pi * e / 5)) for e in range(5)]
    np.testing.assert_allclose(h.learning_rate, expected)


def test_plateau_reduces_after_patience_and_keeps_state():
    s = schedules.ReduceOnPlateau(monitor="cost", factor=0.5, patience=1, min_delta=0.0)
    lrs = []
    for epoch, cost in enumerate([1.0, 0.9, 0.95, 0.95, 0.95, 0.8]):
        lrs.append(s.learning_rate(epoch, 1.0))
        s.update(epoch, {"cost": cost})
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
    restored = schedules.ReduceOnPlateau(monitor="cost", factor=0.5, patience=1)
    restored.set_state(s.get_state())
    assert restored.get_state() == s.get_state()


def test_plateau_monitors_val_cost_or_falls_back_to_cost():
    s = schedules.get("reduce_on_plateau")
    s.update(0, {"cost": 1.0})
    assert s.best == 1.0


@pytest.mark.parametrize("spec,match", [
    ("warmup", "unknown schedule 'warmup'; valid names: constant, step, exponential, cosine, "
               "plateau"),
    (3, "schedule must be a name or a Schedule"),
    ({"name": "step", "step": 3}, r"invalid options for schedule 'step': \['step'\] \(its "
                                  r"options: step_size, factor\)$"),
    ({"period": 3}, r"a schedule config dict needs a 'name' key, got \{'period': 3\}; valid "
                    r"names: constant, step"),
    (schedules.CosineDecay, r"schedule must be a name or a Schedule, got the class "
                            r"CosineDecay: pass CosineDecay\(\) .*; valid names: constant"),
    ({"name": "step", "factor": 1.5}, r"factor must be in \(0, 1\], got 1.5"),
    ({"name": "exponential", "gamma": 0}, r"gamma must be in \(0, 1\], got 0"),
    ({"name": "plateau", "patience": -1}, "patience must be an integer >= 0, got -1"),
    ({"name": "step", "step_size": 0}, "step_size must be an integer >= 1, got 0"),
    # beyond float range or an int np.isfinite cannot take: named errors, not a ufunc message
    ({"name": "step", "factor": 10**400}, r"factor must be in \(0, 1\], got 1000000"),
    ({"name": "exponential", "gamma": 2**70}, r"gamma must be in \(0, 1\], got 1180591"),
    ({"name": "cosine", "min_lr": 10**400}, "min_lr must be a finite number >= 0, got 1000000"),
    ({"name": "plateau", "min_delta": -(10**400)}, "min_delta must be a finite number >= 0"),
    ({"name": "plateau", "min_lr": float("nan")}, "min_lr must be a finite number >= 0, got nan"),
    ({"name": "cosine", "min_lr": True}, "min_lr must be a finite number >= 0, got True"),
    ({"name": "exponential", "gamma": "0.9"}, r"gamma must be in \(0, 1\], got '0.9'"),
])
def test_bad_schedules(spec, match):
    with pytest.raises(npdeep.ConfigurationError, match=match):
        schedules.get(spec)


def test_direct_construction_names_the_parameter():
    """Not through get(): np.isfinite raised a raw TypeError on 10**400 before."""
    with pytest.raises(npdeep.ConfigurationError, match="min_lr must be a finite number >= 0"):
        schedules.CosineDecay(min_lr=10**400)
    with pytest.raises(npdeep.ConfigurationError, match=r"factor must be in \(0, 1\]"):
        schedules.StepDecay(factor=10**400)
    # an int period beyond float range overflowed in learning_rate, at fit's first epoch
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"period must be an integer >= 1 within float range, got 1000"):
        schedules.CosineDecay(period=10**400)
    assert schedules.CosineDecay(period=2**70).learning_rate(3, 1.0) == pytest.approx(1.0)


def test_plateau_starts_afresh_at_every_fit(rng):
    """Reductions from one fit do not carry into the next (nor into another network)."""
    X = rng.normal(size=(4, 60))
    Y = (X[0] > 0).astype(float)
    # mode="max" on a falling cost: no epoch improves, so every one reduces the rate
    s = schedules.ReduceOnPlateau(monitor="cost", mode="max", patience=0, factor=0.1)
    first = npdeep.Network([4, 3, 1], seed=0).fit(X, Y, epochs=6, learning_rate=5.0, schedule=s,
                                                 diagnose=False)
    assert min(first.learning_rate) < 5.0, "the plateau must have reduced the rate"
    second = npdeep.Network([4, 3, 1], seed=0).fit(X, Y, epochs=6, learning_rate=5.0,
                                                  schedule=s, diagnose=False)
    assert second.learning_rate == first.learning_rate


def test_plateau_refuses_an_unlogged_monitor_and_maximises_accuracy(rng):
    X = rng.normal(size=(4, 60))
    Y = (X[0] > 0).astype(float)
    net = npdeep.Network([4, 3, 1], seed=0)
    with pytest.raises(npdeep.errors.ConfigurationError,
                       match=r"monitor 'val_loss' is not logged; logged names: \['cost', "):
        net.fit(X, Y, epochs=2, schedule={"name": "plateau", "monitor": "val_loss"},
                diagnose=False)
    s = schedules.ReduceOnPlateau(monitor="accuracy", patience=0, factor=0.5, min_delta=0.0)
    for epoch, accuracy in enumerate([0.5, 0.6, 0.7, 0.7]):
        s.update(epoch, {"cost": 1.0, "accuracy": accuracy})
    assert s.scale == 0.5 and s.best == 0.7  # rising accuracy is progress; the tie is not


@pytest.mark.parametrize("patience,factor,min_delta,min_lr,mode,cooldown", [
    (0, 0.5, 0.0, 0.0, "min", 0), (2, 0.1, 0.01, 0.02, "min", 0), (1, 0.5, 0.0, 0.1, "max", 0),
    (0, 0.5, 0.0, 0.0, "min", 2), (1, 0.7, 0.01, 0.0, "max", 3),
])
def test_plateau_matches_torch_reduce_lr_on_plateau(patience, factor, min_delta, min_lr, mode,
                                                    cooldown):
    """The docstring claims PyTorch's counting (threshold_mode='abs'), cooldown included."""
    torch = pytest.importorskip("torch")
    values = np.round(np.random.default_rng(patience).normal(size=30).cumsum() * 0.1, 2)
    s = schedules.ReduceOnPlateau(monitor="cost", factor=factor, patience=patience,
                                  min_delta=min_delta, min_lr=min_lr, mode=mode,
                                  cooldown=cooldown)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, factor=factor, patience=patience, threshold=min_delta,
        threshold_mode="abs", min_lr=min_lr, eps=0.0, cooldown=cooldown)
    ours, theirs = [], []
    for epoch, value in enumerate(values):
        ours.append(s.learning_rate(epoch, 1.0))
        theirs.append(opt.param_groups[0]["lr"])
        s.update(epoch, {"cost": float(value)})
        ref.step(float(value))
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    assert min(ours) < 1.0


def test_bad_plateau_cooldown_and_cosine_without_period_outside_fit():
    err = npdeep.ConfigurationError
    with pytest.raises(err, match="cooldown must be an integer >= 0, got -1"):
        schedules.get({"name": "plateau", "cooldown": -1})
    with pytest.raises(err, match="cooldown must be an integer >= 0, got 1.5"):
        schedules.ReduceOnPlateau(cooldown=1.5)
    # it silently took a period of 1 epoch: lr0 at epoch 0, then min_lr for ever
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"CosineDecay\(period=None\) decays over fit's number of epochs, "
                             r"unknown outside fit; give period="):
        schedules.CosineDecay().learning_rate(3, 1.0)


def test_plateau_cooldown_counts_as_pytorch_does():
    """Hand-worked (PyTorch's ReduceLROnPlateau.step): patience 0, cooldown 2, a flat cost.

    epoch 0 improves (from inf); each later epoch is bad: epoch 1 cuts (wait 1 > 0) and
    starts 2 cooldown epochs (2 and 3, not counted); epoch 4 cuts again, and so on.
    """
    s = schedules.ReduceOnPlateau(monitor="cost", factor=0.5, patience=0, min_delta=0.0,
                                  cooldown=2)
    lrs = []
    for epoch in range(9):
        lrs.append(s.learning_rate(epoch, 1.0))
        s.update(epoch, {"cost": 1.0})
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    assert s.get_state()["cooldown_counter"] == 1
    assert s.get_config()["cooldown"] == 2
    # cooldown=0 keeps the counting of before: a cut at every bad epoch
    s0 = schedules.get({"name": "plateau", "monitor": "cost", "patience": 0, "min_delta": 0.0})
    for epoch in range(4):
        s0.update(epoch, {"cost": 1.0})
    assert s0.scale == 0.5**3


def test_plateau_state_carries_the_cooldown_and_reads_older_states():
    s = schedules.ReduceOnPlateau(monitor="cost", patience=0, cooldown=3)
    s.update(0, {"cost": 1.0})
    s.update(1, {"cost": 2.0})
    restored = schedules.ReduceOnPlateau(monitor="cost", patience=0, cooldown=3)
    restored.set_state(s.get_state())
    assert restored.get_state() == s.get_state() == {"scale": 0.5, "best": 1.0, "wait": 0,
                                                     "cooldown_counter": 3}
    restored.set_state({"scale": 0.5, "best": 1.0, "wait": 0})  # a checkpoint of before
    assert restored.cooldown_counter == 0
    with pytest.raises(npdeep.ConfigurationError,
                       match="plateau state 'cooldown_counter' must be an integer >= 0, got -2"):
        restored.set_state({"scale": 0.5, "cooldown_counter": -2})


class LogsScore(npdeep.callbacks.Callback):
    """Adds a name of its own to the epoch's logs, as a Keras custom-metric callback does."""

    def __init__(self, values):
        self.values = list(values)

    def on_epoch_end(self, epoch, logs):
        logs["score"] = self.values[epoch]


def test_plateau_monitors_a_name_a_callback_adds_to_the_logs(rng):
    """Was a ConfigurationError ('monitor 'score' is not logged'): the schedule read the logs
    before the callbacks ran."""
    X = rng.normal(size=(4, 40))
    Y = (X[0] > 0).astype(float)
    s = schedules.ReduceOnPlateau(monitor="score", mode="max", patience=0, factor=0.5,
                                  min_delta=0.0)
    h = npdeep.Network([4, 3, 1], seed=0).fit(
        X, Y, epochs=5, learning_rate=0.1, schedule=s, diagnose=False,
        callbacks=[LogsScore([0.5, 0.6, 0.6, 0.7, 0.7])])
    # the tie at epoch 2 cuts the rate of epoch 3; the one at epoch 4 that of an epoch 5
    assert h.learning_rate == [0.1, 0.1, 0.1, 0.05, 0.05]
    assert s.scale == 0.25 and s.best == 0.7 and not s.pending
    assert h.score == [0.5, 0.6, 0.6, 0.7, 0.7]


def test_plateau_still_refuses_a_name_nobody_logs_listing_the_callbacks_names(rng):
    X = rng.normal(size=(4, 40))
    net = npdeep.Network([4, 3, 1], seed=0)
    with pytest.raises(npdeep.ConfigurationError,
                       match=r"monitor 'scroe' is not logged; logged names: \['cost', "
                             r"'accuracy', 'learning_rate', 'time', 'score'\]"):
        net.fit(X, X[0] > 0, epochs=3, schedule={"name": "plateau", "monitor": "scroe",
                                                 "mode": "min"},
                callbacks=[LogsScore([1.0] * 3)], diagnose=False)
    assert len(net.history) == 1  # at the first epoch's end


@pytest.mark.parametrize("make", [
    lambda mode: schedules.ReduceOnPlateau(monitor="val_auc", mode=mode),
    lambda mode: npdeep.callbacks.EarlyStopping(monitor="val_auc", mode=mode),
])
def test_auto_mode_warns_on_a_name_it_cannot_read(make):
    """A score of one's own (now monitorable by the plateau) was minimised silently: a plateau
    cut the rate whenever it improved. Keras 3 refuses such a name in mode 'auto'."""
    with pytest.warns(UserWarning, match=r"mode='auto' cannot tell whether monitor 'val_auc' "
                                         r"should fall or rise .* 'val_auc' is minimised; give "
                                         r"mode='min', or mode='max' for a score"):
        make("auto")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make("max")
        schedules.ReduceOnPlateau(monitor="val_my_loss")
        schedules.ReduceOnPlateau(monitor="val_accuracy")
        # Keras's spelling, as a callback may log it: maximised, as Keras maximises it
        assert schedules.ReduceOnPlateau(monitor="val_acc")._tracker.mode == "max"


def test_a_function_as_schedule_is_answered_with_the_subclass_to_write(rng):
    net = npdeep.Network([3, 4, 1], seed=0)
    X, y = rng.normal(size=(3, 10)), np.arange(10) % 2
    expected = (r"^schedule must be a name or a Schedule, got the function .*<lambda>; for a "
                r"schedule of your own, subclass npdeep\.schedules\.Schedule and define "
                r"learning_rate\(self, epoch, lr0\)")
    with pytest.raises(npdeep.ConfigurationError, match=expected):
        net.fit(X, y, epochs=1, schedule=lambda epoch, lr: lr * 0.5)
    expected = (r"got the function tanh; for an activation of your own, subclass "
                r"npdeep\.activations\.Activation")
    with pytest.raises(npdeep.ConfigurationError, match=expected):
        npdeep.Network([3, 4, 1], activation=np.tanh)


def test_a_callable_object_is_named_by_its_name_when_it_has_no_qualified_name():
    # NumPy 1.x ufuncs (np.tanh) and callable objects have __name__ but no __qualname__
    class Swish:
        __name__ = "swish"

        def __call__(self, z):
            return z / (1 + np.exp(-z))

    assert not hasattr(Swish(), "__qualname__")
    with pytest.raises(npdeep.ConfigurationError, match=r"got the function swish; for an "):
        npdeep.Network([3, 4, 1], activation=Swish())
