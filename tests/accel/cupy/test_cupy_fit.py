"""Whole training runs on the CuPy backend (the stand-in unless ``REFKERAS_TEST_REAL_CUPY=1``)
give the same History, weights, evaluation and predictions as the NumPy reference.

Under the stand-in every device array refuses implicit conversion to NumPy, so these runs also
prove that the core (layers, losses, metrics, optimizers, callbacks, saving) moves data between
host and device only through ``backend.asarray``/``backend.to_numpy``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import refkeras as keras
from refkeras import layers


@pytest.fixture
def backend_name(cupy_backend):
    """The name to give ``set_backend``; the reference is restored after the test."""
    name = "cupy" if cupy_backend.name == "cupy" else "accel.cupy_standin:CupyStandinBackend"
    yield name
    keras.config.set_backend("numpy")


def _cnn_run(tmp_path, tag):
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=(48,))
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    checkpoint = os.path.join(tmp_path, f"{tag}-best.keras")
    history = model.fit(
        x,
        y,
        batch_size=16,
        epochs=3,
        validation_split=0.25,
        shuffle=True,
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="loss", patience=1),
            keras.callbacks.ModelCheckpoint(checkpoint, save_best_only=True),
        ],
    )
    evaluation = model.evaluate(x, y, verbose=0)
    prediction = model.predict(x, verbose=0)
    path = os.path.join(tmp_path, f"{tag}.keras")
    model.save(path)
    reloaded = keras.models.load_model(path).predict(x, verbose=0)
    best = keras.models.load_model(checkpoint).predict(x[:4], verbose=0)
    return {
        "history": history.history,
        "weights": model.get_weights(),
        "evaluate": evaluation,
        "predict": prediction,
        "reloaded": reloaded,
        "checkpoint": best,
        "optimizer": [v.numpy() for v in model.optimizer.variables],
    }


def _lstm_run(tmp_path, tag):
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 20, size=(40, 6))
    y = (x.sum(axis=1) > 57).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6,), dtype="int32"),
            layers.Embedding(20, 5, mask_zero=True),
            layers.LSTM(7),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(0.01),
        loss="binary_crossentropy",
        metrics=["accuracy", keras.metrics.AUC(name="auc")],
    )
    history = model.fit(x, y, batch_size=8, epochs=2, validation_data=(x[:8], y[:8]), verbose=0)
    mlp = keras.Sequential([keras.Input((6,)), layers.Dense(4, activation="relu"), layers.Dense(3)])
    mlp.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy"],
    )
    mlp_history = mlp.fit(x.astype("float32") / 20, x[:, 0] % 3, epochs=2, verbose=0)
    return {
        "history": history.history,
        "mlp_history": mlp_history.history,
        "weights": model.get_weights() + mlp.get_weights(),
        "predict": model.predict(x, verbose=0),
    }


def _assert_same(reference, backend):
    assert reference.keys() == backend.keys()
    for key in reference:
        ref, got = reference[key], backend[key]
        if isinstance(ref, dict):
            assert ref.keys() == got.keys(), key
            for name in ref:
                np.testing.assert_allclose(got[name], ref[name], rtol=1e-5, atol=1e-6, err_msg=name)
        else:
            assert len(ref) == len(got), key
            for i, (r, g) in enumerate(zip(ref, got)):
                assert isinstance(g, np.ndarray | float), f"{key}[{i}] is {type(g)}, not host data"
                np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6, err_msg=f"{key}[{i}]")


@pytest.mark.parametrize("run", [_cnn_run, _lstm_run], ids=["cnn", "embedding-lstm-mlp"])
def test_fit_evaluate_predict_save_match_the_reference(tmp_path, backend_name, run):
    keras.config.set_backend("numpy")
    reference = run(tmp_path, "numpy")
    keras.config.set_backend(backend_name)
    backend = run(tmp_path, "backend")
    _assert_same(reference, backend)


def test_weights_live_on_the_device(backend_name, xp):
    keras.config.set_backend(backend_name)
    layer = layers.Dense(2)
    layer.build((None, 3))
    assert isinstance(layer.kernel._value, xp.ndarray)
    out = layer(np.ones((1, 3), "float32"))
    assert isinstance(out.value, xp.ndarray)
    assert isinstance(out.numpy(), np.ndarray)  # the explicit way back to the host
