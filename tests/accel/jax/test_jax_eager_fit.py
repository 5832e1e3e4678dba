"""Eager training on the JAX backend: a Keras-style model with Conv2D, MaxPooling2D,
BatchNormalization, LSTM, Dropout and Dense gives the NumPy reference's initial weights, History,
final weights, evaluate and predict results (within float32 tolerance), holds its weights as
``jax.Array``, and saves/loads ``.keras`` files."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import refkeras
from refkeras import config, layers


@pytest.fixture(autouse=True)
def restore_numpy_backend():
    yield
    config.set_backend("numpy")


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=(48,))
    return x, y


def _model():
    return refkeras.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.BatchNormalization(),
            layers.Reshape((9, 4)),
            layers.LSTM(5),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ]
    )


def _run(backend, tmp_path):
    config.set_backend(backend)
    refkeras.random.set_random_seed(7)
    x, y = _data()
    model = _model()
    initial = [np.asarray(w) for w in model.get_weights()]
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    # One batch shape everywhere (16): eager JAX compiles every op once per shape.
    history = model.fit(
        x[:32], y[:32], batch_size=16, epochs=2, validation_data=(x[32:], y[32:]), verbose=0
    )
    result = {
        "initial": initial,
        "history": history.history,
        "weights": [np.asarray(w) for w in model.get_weights()],
        "evaluate": model.evaluate(x, y, batch_size=16, verbose=0),
        "predict": np.asarray(model.predict(x, batch_size=16, verbose=0)),
        "value_types": {type(v.value.value) for v in model.weights},
    }
    path = tmp_path / f"{backend}.keras"
    model.save(path)
    loaded = refkeras.models.load_model(path)
    result["loaded_predict"] = np.asarray(loaded.predict(x, batch_size=16, verbose=0))
    return result


def test_fit_evaluate_predict_save_load_equal_reference(tmp_path):
    want = _run("numpy", tmp_path)
    got = _run("jax", tmp_path)
    assert all(issubclass(t, jax.Array) for t in got["value_types"]), got["value_types"]
    for g, w in zip(got["initial"], want["initial"]):
        np.testing.assert_array_equal(g, w)  # same Philox streams: identical initial weights
    assert got["history"].keys() == want["history"].keys()
    for key in want["history"]:
        np.testing.assert_allclose(got["history"][key], want["history"][key], rtol=1e-5, atol=1e-6)
    for g, w in zip(got["weights"], want["weights"]):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got["evaluate"], want["evaluate"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["predict"], want["predict"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got["loaded_predict"], got["predict"], rtol=1e-6, atol=1e-7)
    # training moved the weights (so the comparison above is not between two initial states)
    assert max(np.abs(w - i).max() for w, i in zip(want["weights"], want["initial"])) > 1e-3
