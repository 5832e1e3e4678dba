"""ModelCheckpoint: filepath templates, save_freq (epochs, or N batches counted across epochs),
weights-only and full-model files, save_best_only — including across a restart with a new
callback — and Keras 3's errors.  The decisions are compared with Keras 3's own callback."""

import json
import os
import zipfile

import numpy as np
import pytest

import refkeras as keras
from refkeras.callbacks.model_checkpoint import ModelCheckpoint


def _model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(6), keras.layers.Dropout(0.2), keras.layers.Dense(1)]
    )
    model.compile("adam", "mse", metrics=["mae"])
    return model


def _fit(model, callbacks, epochs=3):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(35, 4)), rng.normal(size=(35, 1))
    # 28 training samples in batches of 4: 7 batches per epoch.
    return model.fit(
        x, y, batch_size=4, epochs=epochs, validation_split=0.2, callbacks=callbacks, verbose=0
    )


def _drive(callback, model, values, monitor="val_loss", initial_epoch=0):
    """Epoch ends with scripted ``monitor`` values; before each, the first bias is set to the
    epoch index so that a saved file tells which epoch it holds."""
    callback.set_model(model)
    callback.on_train_begin({})
    for epoch, value in enumerate(values, start=initial_epoch):
        callback.on_epoch_begin(epoch, {})
        model.layers[0].bias.assign(np.full(6, float(epoch), "float32"))
        callback.on_epoch_end(epoch, {monitor: value, "loss": 1.0})
    callback.on_train_end({})


def _saved_epoch(path) -> int:
    """The epoch index held by a weights file written during ``_drive``."""
    model = _model()
    model.load_weights(path)
    return int(model.layers[0].bias.numpy()[0])


def test_template_with_epoch_and_log_keys(tmp_path):
    template = str(tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.2f}.keras")
    history = _fit(_model(), [ModelCheckpoint(template)])
    expected = {f"{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(history.history["val_loss"])}
    assert set(os.listdir(tmp_path / "ckpt")) == expected
    path = tmp_path / "ckpt" / sorted(expected)[-1]
    assert zipfile.is_zipfile(path)
    restored = keras.saving.load_model(path)
    probe = np.ones((2, 4), "float32")
    assert np.array_equal(
        restored.predict(probe, verbose=0), history.model.predict(probe, verbose=0)
    )


def test_save_freq_batches_counts_across_epochs(tmp_path):
    template = str(tmp_path / "e{epoch}-b{batch}.weights.h5")
    _fit(_model(), [ModelCheckpoint(template, save_weights_only=True, save_freq=3)])
    # Global batches 3, 6, 9, ..., 21 of three 7-batch epochs (batch is 1-based, as Keras).
    expected = {"e1-b3", "e1-b6", "e2-b2", "e2-b5", "e3-b1", "e3-b4", "e3-b7"}
    assert set(os.listdir(tmp_path)) == {f"{n}.weights.h5" for n in expected}


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_weights_only_file_loads_into_a_fresh_model(tmp_path):
    path = str(tmp_path / "w.weights.h5")
    model = _model()
    _fit(model, [ModelCheckpoint(path, save_weights_only=True)])
    fresh = _model()
    fresh.load_weights(path)
    for a, b in zip(model.weights, fresh.weights):
        assert np.array_equal(a.numpy(), b.numpy())


def test_save_best_only_survives_a_restart(tmp_path):
    path = str(tmp_path / "best.weights.h5")
    model = _model()
    _drive(
        ModelCheckpoint(path, save_best_only=True, save_weights_only=True), model, [0.5, 0.3, 0.4]
    )
    assert _saved_epoch(path) == 1
    record = json.loads((tmp_path / ".best.weights.h5.best.json").read_text())
    assert record == {"monitor": "val_loss", "mode": "min", "best": 0.3, "filepath": path}
    # A new process: a new callback, the same file.  0.35 is its first value but worse than the
    # file's 0.3, so the file is kept; 0.2 is better.
    callback = ModelCheckpoint(path, save_best_only=True, save_weights_only=True)
    _drive(callback, model, [0.35, 0.32], initial_epoch=5)
    assert _saved_epoch(path) == 1 and callback.best == 0.3
    callback = ModelCheckpoint(path, save_best_only=True, save_weights_only=True)
    _drive(callback, model, [0.35, 0.2], initial_epoch=10)
    assert _saved_epoch(path) == 11
    assert json.loads((tmp_path / ".best.weights.h5.best.json").read_text())["best"] == 0.2


def test_save_best_only_max_mode_and_threshold(tmp_path):
    path = str(tmp_path / "acc.weights.h5")
    model = _model()
    kwargs = dict(monitor="val_acc", mode="max", save_best_only=True, save_weights_only=True)
    _drive(ModelCheckpoint(path, **kwargs), model, [0.6, 0.8, 0.7], monitor="val_acc")
    assert _saved_epoch(path) == 1
    # The better of the recorded best and initial_value_threshold counts.
    callback = ModelCheckpoint(path, initial_value_threshold=0.5, **kwargs)
    _drive(callback, model, [0.75], monitor="val_acc")
    assert callback.best == 0.8 and _saved_epoch(path) == 1
    callback = ModelCheckpoint(path, initial_value_threshold=0.9, **kwargs)
    _drive(callback, model, [0.85], monitor="val_acc")
    assert callback.best == 0.9 and _saved_epoch(path) == 1


def test_save_best_only_with_a_fit_and_auto_mode(tmp_path):
    path = str(tmp_path / "{epoch}.weights.h5")
    checkpoint = ModelCheckpoint(
        path, monitor="val_mae", save_best_only=True, save_weights_only=True
    )
    history = _fit(_model(), [checkpoint], epochs=4)
    values, best, saved = history.history["val_mae"], None, set()
    for e, v in enumerate(values):  # "auto": MeanAbsoluteError is minimized
        if best is None or v < best:
            best, saved = v, saved | {f"{e + 1}.weights.h5"}
    assert {f for f in os.listdir(tmp_path) if not f.startswith(".")} == saved


def test_errors():
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        ModelCheckpoint("m.h5", save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        ModelCheckpoint("m.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `.keras` \(Keras model format\)"):
        ModelCheckpoint("m.weights")
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint("m.keras", save_freq="batch")


def test_runtime_errors(tmp_path):
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _fit(_model(), [ModelCheckpoint(str(tmp_path / "{val_nope}.keras"))], epochs=1)
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(OSError, match="non-directory filepath"):
        _fit(_model(), [ModelCheckpoint(str(tmp_path / "dir.keras"))], epochs=1)


# --- parity with Keras 3 --------------------------------------------------------------------------


LOGS = [0.9, 0.7, 0.8, 0.7, 0.5, float("nan"), 0.4]


def _decisions(callback_class, model, tmp_path, **kwargs):
    """The files a ModelCheckpoint writes for scripted logs, epoch ends and batch ends."""
    name = "{epoch}-{batch}-{val_loss:.1f}" if "save_freq" in kwargs else "{epoch}-{val_loss:.1f}"
    callback = callback_class(str(tmp_path / f"{name}.weights.h5"), **kwargs)
    callback.set_model(model)
    callback.on_train_begin({})
    for epoch, value in enumerate(LOGS):
        callback.on_epoch_begin(epoch, {})
        for batch in range(3):
            callback.on_train_batch_begin(batch, {})
            callback.on_train_batch_end(batch, {"val_loss": value + batch, "loss": 0.0})
        callback.on_epoch_end(epoch, {"val_loss": value, "loss": 0.0})
    return sorted(f for f in os.listdir(tmp_path) if not f.startswith("."))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"save_best_only": True},
        {"save_best_only": True, "mode": "max"},
        {"save_best_only": True, "initial_value_threshold": 0.75},
        {"save_freq": 2},
        {"save_freq": 4, "save_best_only": True},
    ],
)
def test_decisions_match_keras(tmp_path, kwargs):
    os.environ["KERAS_BACKEND"] = "jax"
    real = pytest.importorskip("keras")
    theirs = real.Sequential([real.Input((4,)), real.layers.Dense(1)])
    theirs.compile("sgd", "mse")
    (tmp_path / "keras").mkdir()
    (tmp_path / "ours").mkdir()
    want = _decisions(
        real.callbacks.ModelCheckpoint, theirs, tmp_path / "keras", save_weights_only=True, **kwargs
    )
    got = _decisions(ModelCheckpoint, _model(), tmp_path / "ours", save_weights_only=True, **kwargs)
    assert got == want
