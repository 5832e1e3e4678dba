"""TerminateOnNaN: stop flag, message and error for NaN/inf batch losses, against Keras 3."""

import os
from types import SimpleNamespace

import numpy as np
import pytest

from refkeras.callbacks.terminate_on_nan import TerminateOnNaN

os.environ["KERAS_BACKEND"] = "jax"
keras = pytest.importorskip("keras")


def drive(callback, losses):
    """Batches until the model is asked to stop; returns (batches run, stop_training)."""
    model = SimpleNamespace(stop_training=False)
    callback.set_model(model)
    ran = 0
    for batch, loss in enumerate(losses):
        callback.on_train_batch_begin(batch, {})
        callback.on_train_batch_end(batch, {} if loss is None else {"loss": loss})
        ran += 1
        if model.stop_training:
            break
    return ran, model.stop_training


CASES = {
    "finite": [1.0, 0.5, 0.25],
    "nan": [1.0, float("nan"), 0.5],
    "inf": [1.0, 2.0, float("inf")],
    "minus_inf": [float("-inf"), 1.0],
    "numpy_nan": [np.float32(1.0), np.float32("nan")],
    "no_loss_key": [None, None],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras(name, capsys):
    expected = drive(keras.callbacks.TerminateOnNaN(), CASES[name])
    expected_out = capsys.readouterr().out
    assert drive(TerminateOnNaN(), CASES[name]) == expected
    assert capsys.readouterr().out == expected_out


def test_stops_at_the_first_invalid_loss(capsys):
    assert drive(TerminateOnNaN(), [1.0, float("nan"), 0.5]) == (2, True)
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n"


def test_finite_losses_do_not_stop():
    assert drive(TerminateOnNaN(), [1.0, 1e30, -5.0]) == (3, False)


@pytest.mark.parametrize("loss", [float("nan"), float("inf")])
def test_raise_error_matches_keras(loss):
    with pytest.raises(RuntimeError) as ker:
        drive(keras.callbacks.TerminateOnNaN(raise_error=True), [1.0, loss])
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 1") as ref:
        drive(TerminateOnNaN(raise_error=True), [1.0, loss])
    assert str(ref.value) == str(ker.value)
