"""ReduceLROnPlateau: the learning-rate sequence, counters, logs and messages for synthetic
monitored values, against Keras 3 (which gets a real ``keras.optimizers.SGD``)."""

import os
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import refkeras
from refkeras.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau

os.environ["KERAS_BACKEND"] = "jax"
keras = pytest.importorskip("keras")


def ref_model(learning_rate=0.01):
    return SimpleNamespace(optimizer=refkeras.optimizers.SGD(learning_rate), stop_training=False)


def keras_model(learning_rate=0.01):
    return SimpleNamespace(optimizer=keras.optimizers.SGD(learning_rate), stop_training=False)


def drive(callback, model, values, key="val_loss"):
    """Per epoch: (lr after the epoch, the epoch logs, wait, cooldown_counter, best)."""
    callback.set_model(model)
    callback.on_train_begin({})
    trace = []
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch, {})
        logs = {"loss": 1.0, key: value}
        callback.on_epoch_end(epoch, logs)
        best = None if callback.best is None else float(callback.best)
        lr = float(np.asarray(model.optimizer.learning_rate))
        trace.append((lr, logs, callback.wait, callback.cooldown_counter, best))
    callback.on_train_end({})
    return trace


FLAT = [1.0] * 8
CASES = {
    "defaults_flat": ({}, [1.0] * 12),
    "patience_1_flat": ({"patience": 1}, FLAT),
    "patience_2_factor_half": ({"patience": 2, "factor": 0.5}, [1.0, 0.9, 0.95, 0.91, 0.92, 0.5]),
    "min_delta": ({"patience": 1, "min_delta": 0.1}, [1.0, 0.95, 0.85, 0.84, 0.5]),
    "cooldown": ({"patience": 1, "cooldown": 2}, FLAT),
    "cooldown_with_improvement": ({"patience": 1, "cooldown": 2}, [1.0, 1.0, 0.5, 0.6, 0.6, 0.6]),
    "min_lr_floor": ({"patience": 1, "min_lr": 0.0005}, FLAT),
    "min_lr_equal_to_lr": ({"patience": 0, "min_lr": 0.01}, FLAT),
    "patience_0": ({"patience": 0}, [1.0, 2.0, 3.0]),
    "mode_max": ({"mode": "max", "patience": 1}, [0.5, 0.6, 0.6, 0.55, 0.9]),
    "monitor_loss": ({"monitor": "loss", "patience": 1}, FLAT),
    "nan_values": ({"patience": 1}, [1.0, float("nan"), float("nan")]),
    "verbose": ({"patience": 1, "verbose": 1, "factor": 0.2}, FLAT),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras(name, capsys):
    kwargs, values = CASES[name]
    expected = drive(keras.callbacks.ReduceLROnPlateau(**kwargs), keras_model(), values)
    expected_out = capsys.readouterr().out
    got = drive(ReduceLROnPlateau(**kwargs), ref_model(), values)
    assert capsys.readouterr().out == expected_out
    assert got == pytest.approx(expected, nan_ok=True)


def test_reduces_after_patience_and_logs_the_rate_before_reducing():
    trace = drive(ReduceLROnPlateau(patience=2, factor=0.5), ref_model(0.5), [1.0, 1.0, 1.0, 1.0])
    assert [lr for lr, *_ in trace] == [0.5, 0.5, 0.25, 0.25]
    assert [logs["learning_rate"] for _, logs, *_ in trace] == [0.5, 0.5, 0.5, 0.25]


def test_min_lr_is_a_floor():
    trace = drive(ReduceLROnPlateau(patience=0, factor=0.1, min_lr=0.02), ref_model(0.5), FLAT)
    assert [lr for lr, *_ in trace][-1] == pytest.approx(0.02)


def test_verbose_message(capsys):
    drive(ReduceLROnPlateau(patience=0, factor=0.5, verbose=1), ref_model(0.5), [1.0, 1.0])
    assert (
        capsys.readouterr().out == "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.25.\n"
    )


def test_factor_at_least_one_is_an_error():
    with pytest.raises(ValueError) as ker:
        keras.callbacks.ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="does not support a factor >= 1.0") as ref:
        ReduceLROnPlateau(factor=1.0)
    assert str(ref.value) == str(ker.value)


def test_missing_monitor_warns_like_keras():
    messages = []
    for callback, model in (
        (keras.callbacks.ReduceLROnPlateau(), keras_model()),
        (ReduceLROnPlateau(), ref_model()),
    ):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            trace = drive(callback, model, [1.0, 1.0], key="other")
        messages.append([str(w.message) for w in record if "Learning rate" in str(w.message)])
        assert trace[-1][0] == pytest.approx(0.01)
    assert messages[1] == messages[0]
    assert messages[1][0].endswith("Available metrics are: loss,other,learning_rate.")


def test_schedule_object_learning_rate_is_not_settable():
    schedule = refkeras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=10, decay_rate=0.9)
    model = SimpleNamespace(optimizer=refkeras.optimizers.SGD(schedule))
    callback = ReduceLROnPlateau(patience=0)
    callback.set_model(model)
    callback.on_train_begin({})
    logs = {"val_loss": 1.0}
    callback.on_epoch_end(0, logs)
    assert logs["learning_rate"] == pytest.approx(0.05)  # the schedule's value at step 0
    with pytest.raises(TypeError, match="not settable"):
        callback.on_epoch_end(1, {"val_loss": 1.0})


def test_defaults_match_keras():
    ref, ker = ReduceLROnPlateau(), keras.callbacks.ReduceLROnPlateau()
    for attr in ("monitor", "factor", "patience", "verbose", "mode", "min_delta", "cooldown",
                 "min_lr"):  # fmt: skip
        assert getattr(ref, attr) == getattr(ker, attr), attr


def test_wrapper_with_several_optimizers_matches_keras(capsys):
    def run(callback_class, make_optimizer):
        optimizers = [make_optimizer(0.1, "first"), make_optimizer(0.0, "second")]
        callback = callback_class(patience=0, verbose=1)
        callback.set_model(SimpleNamespace(optimizer=SimpleNamespace(optimizers=optimizers)))
        callback.on_train_begin({})
        epoch_logs = []
        for epoch in range(3):
            logs = {"val_loss": 1.0}
            callback.on_epoch_end(epoch, logs)
            epoch_logs.append(logs)
        return epoch_logs, callback.cooldown_counter, capsys.readouterr().out

    expected = run(
        keras.callbacks.ReduceLROnPlateau, lambda lr, name: keras.optimizers.SGD(lr, name=name)
    )
    assert run(ReduceLROnPlateau, lambda lr, n: refkeras.optimizers.SGD(lr, name=n)) == expected
