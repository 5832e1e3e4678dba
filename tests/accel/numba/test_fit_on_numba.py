"""``fit`` on the Numba backend equals ``fit`` on the NumPy reference: an MLP, a CNN
(Conv2D + MaxPooling2D) and an LSTM, same seed and data, shuffle on; History and final weights
within a float32 tolerance."""

import numpy as np
import pytest

pytest.importorskip("numba")

import refkeras  # noqa: E402
from accel.numba import NumbaBackend  # noqa: E402
from refkeras import layers  # noqa: E402
from refkeras.backend import dispatch  # noqa: E402


def _mlp():
    return [layers.Input((12,)), layers.Dense(16, activation="relu"), layers.Dense(3, "softmax")]


def _cnn():
    return [
        layers.Input((8, 8, 1)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ]


def _lstm():
    return [layers.Input((5, 4)), layers.LSTM(6), layers.Dense(3, activation="softmax")]


MODELS = {"mlp": (_mlp, (12,)), "cnn": (_cnn, (8, 8, 1)), "lstm": (_lstm, (5, 4))}


def _fit(build, shape, optimizer):
    refkeras.utils.set_random_seed(11)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, *shape)).astype("float32")
    y = rng.integers(0, 3, size=40)
    model = refkeras.Sequential(build())
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=True, verbose=0)
    return history.history, model.get_weights()


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_fit_on_numba_equals_fit_on_numpy(model, optimizer):
    build, shape = MODELS[model]
    expected_history, expected_weights = _fit(build, shape, optimizer)
    with dispatch.using(NumbaBackend()):
        history, weights = _fit(build, shape, optimizer)
    assert history.keys() == expected_history.keys()
    for key in history:
        np.testing.assert_allclose(history[key], expected_history[key], rtol=1e-4, atol=1e-5)
    for w, e in zip(weights, expected_weights, strict=True):
        assert w.dtype == e.dtype
        np.testing.assert_allclose(w, e, rtol=1e-4, atol=1e-5)
