"""LearningRateScheduler: the learning-rate sequence, epoch logs, messages and errors, against
Keras 3 driven with the same schedules (Keras gets a real ``keras.optimizers.SGD``)."""

import math
import os
from types import SimpleNamespace

import numpy as np
import pytest

import refkeras
from refkeras.callbacks.learning_rate_scheduler import LearningRateScheduler

os.environ["KERAS_BACKEND"] = "jax"
keras = pytest.importorskip("keras")


def ref_model(learning_rate=0.01):
    return SimpleNamespace(optimizer=refkeras.optimizers.SGD(learning_rate), stop_training=False)


def keras_model(learning_rate=0.01):
    return SimpleNamespace(optimizer=keras.optimizers.SGD(learning_rate), stop_training=False)


def drive(callback, model, epochs=4):
    """Per epoch: the learning rate after on_epoch_begin, and the logs after on_epoch_end."""
    callback.set_model(model)
    callback.on_train_begin({})
    trace = []
    for epoch in range(epochs):
        callback.on_epoch_begin(epoch, {})
        lr = float(np.asarray(model.optimizer.learning_rate))
        logs = {"loss": 1.0}
        callback.on_epoch_end(epoch, logs)
        trace.append((lr, logs))
    callback.on_train_end({})
    return trace


SCHEDULES = {
    "halve": lambda epoch, lr: lr * 0.5,
    "one_argument": lambda epoch: 0.1 / (epoch + 1),
    "step": lambda epoch, lr: lr if epoch < 2 else lr * math.exp(-0.1),
    "numpy_float": lambda epoch, lr: np.float32(0.001 * (epoch + 1)),
    "constant": lambda epoch, lr: 0.3,
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("verbose", [0, 1])
def test_matches_keras(name, verbose, capsys):
    schedule = SCHEDULES[name]
    expected = drive(keras.callbacks.LearningRateScheduler(schedule, verbose), keras_model())
    expected_out = capsys.readouterr().out
    got = drive(LearningRateScheduler(schedule, verbose), ref_model())
    assert got == expected
    assert capsys.readouterr().out == expected_out


def test_sets_the_learning_rate_variable_in_place():
    model = ref_model(0.1)
    variable = model.optimizer.learning_rate
    trace = drive(LearningRateScheduler(lambda epoch, lr: lr * 0.5), model, epochs=3)
    assert model.optimizer.learning_rate is variable
    assert [lr for lr, _ in trace] == [
        float(np.float32(x)) for x in (0.05, np.float32(0.05) * 0.5, np.float32(0.025) * 0.5)
    ]


def test_learning_rate_is_added_to_epoch_logs():
    trace = drive(LearningRateScheduler(lambda epoch: 0.5), ref_model(), epochs=1)
    assert trace[0][1] == {"loss": 1.0, "learning_rate": 0.5}


def test_verbose_message(capsys):
    drive(LearningRateScheduler(lambda epoch: 0.5, verbose=1), ref_model(), epochs=1)
    assert capsys.readouterr().out == (
        "\nEpoch 1: LearningRateScheduler setting learning rate to 0.5.\n"
    )


@pytest.mark.parametrize("bad", [lambda epoch, lr: 1, lambda epoch, lr: "0.1"])
def test_non_float_schedule_output_is_an_error(bad):
    with pytest.raises(ValueError) as ker:
        drive(keras.callbacks.LearningRateScheduler(bad), keras_model())
    with pytest.raises(ValueError, match="should be a float") as ref:
        drive(LearningRateScheduler(bad), ref_model())
    assert str(ref.value) == str(ker.value)


def test_schedule_object_learning_rate_is_not_settable():
    def run(module):
        schedule = module.optimizers.schedules.ExponentialDecay(
            0.05, decay_steps=10, decay_rate=0.9
        )
        model = SimpleNamespace(optimizer=module.optimizers.SGD(schedule))
        callback = (
            LearningRateScheduler if module is refkeras else module.callbacks.LearningRateScheduler
        )
        with pytest.raises(TypeError) as error:
            drive(callback(lambda epoch, lr: lr), model)
        return str(error.value)

    assert "not settable" in run(refkeras)
    assert run(refkeras) == run(keras)


def test_optimizer_without_learning_rate():
    model = SimpleNamespace(optimizer=SimpleNamespace())
    with pytest.raises(ValueError, match='Optimizer must have a "learning_rate" attribute.'):
        drive(LearningRateScheduler(lambda epoch: 0.1), model)


def test_schedule_type_error_falls_back_to_one_argument_call():
    calls = []

    def schedule(epoch, lr=None):
        calls.append((epoch, lr))
        if lr is not None:
            raise TypeError("old API")
        return 0.2

    drive(LearningRateScheduler(schedule), ref_model(), epochs=1)
    assert calls == [(0, pytest.approx(0.01)), (0, None)]


def test_wrapper_with_several_optimizers_matches_keras(capsys):
    def run(callback_class, make_optimizer):
        optimizers = [make_optimizer(0.1, "first"), make_optimizer(0.2, "second")]
        callback = callback_class(lambda epoch, lr: lr * 0.5, verbose=1)
        callback.set_model(SimpleNamespace(optimizer=SimpleNamespace(optimizers=optimizers)))
        epoch_logs = []
        for epoch in range(2):
            callback.on_epoch_begin(epoch, {})
            logs = {"loss": 1.0}
            callback.on_epoch_end(epoch, logs)
            epoch_logs.append(logs)
        return epoch_logs, capsys.readouterr().out

    expected = run(
        keras.callbacks.LearningRateScheduler, lambda lr, n: keras.optimizers.SGD(lr, name=n)
    )
    got = run(LearningRateScheduler, lambda lr, n: refkeras.optimizers.SGD(lr, name=n))
    assert got == expected
    assert "learning_rate_second" in got[0][1]
