"""The callbacks inside a real ``model.fit``: one end-to-end test per callback.

Uses only the public API (``refkeras.callbacks.X``, ``Sequential``, ``Dense``, ``compile``,
``fit``), so these tests need the training loop and the callbacks' exports in place.
"""

import numpy as np
import pytest

import refkeras as keras


def make_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")  # SGD's default learning rate: 0.01
    return model


def random_data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1).astype("float32")
    return x, y


def zero_data(n=8):
    """All zeros: a zero-initialised bias and any kernel give loss 0 and zero gradients, so
    the loss never changes (a guaranteed plateau)."""
    return np.zeros((n, 3), "float32"), np.zeros((n, 1), "float32")


def lr_of(model):
    return float(np.asarray(model.optimizer.learning_rate))


# --- EarlyStopping ------------------------------------------------------------------------------


@pytest.mark.parametrize("patience", [0, 2])
def test_early_stopping_stops_on_a_plateau(patience):
    x, y = zero_data()
    callback = keras.callbacks.EarlyStopping(monitor="loss", patience=patience)
    history = make_model().fit(x, y, epochs=10, batch_size=4, verbose=0, callbacks=[callback])
    # Epoch 0 sets best; no epoch after it improves, and stopping never happens at epoch 0.
    assert callback.stopped_epoch == max(patience, 1)
    assert len(history.history["loss"]) == callback.stopped_epoch + 1


def test_early_stopping_restores_best_weights():
    x, y = random_data()
    model = make_model()
    after_epoch = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: after_epoch.append(model.get_weights())
    )
    # A huge min_delta: nothing after the first epoch counts as an improvement.
    stop = keras.callbacks.EarlyStopping(
        monitor="loss", min_delta=1e9, patience=2, restore_best_weights=True, verbose=0
    )
    history = model.fit(x, y, epochs=10, batch_size=4, verbose=0, callbacks=[record, stop])
    assert len(history.history["loss"]) == 3
    assert stop.stopped_epoch == 2
    assert stop.best_epoch == 0
    for restored, best in zip(model.get_weights(), after_epoch[0]):
        np.testing.assert_array_equal(restored, best)


def test_early_stopping_monitors_val_loss_by_default():
    x, y = random_data()
    callback = keras.callbacks.EarlyStopping(patience=100)
    make_model().fit(
        x, y, validation_data=(x[:4], y[:4]), epochs=2, verbose=0, callbacks=[callback]
    )
    assert callback.best is not None
    assert callback.stopped_epoch == 0


def test_early_stopping_auto_mode_maximizes_accuracy():
    # mode="auto" takes the direction from the compiled metric (accuracy: "up"), not the name.
    x, y = random_data()
    model = make_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["accuracy"])
    callback = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=100)
    model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[callback])
    assert callback.monitor_op(1.0, 0.0)  # greater is better
    assert callback.stopped_epoch == 0


# --- CSVLogger ----------------------------------------------------------------------------------


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = random_data()
    path = tmp_path / "log.csv"
    history = make_model().fit(
        x, y, validation_data=(x[:4], y[:4]), epochs=3, batch_size=8, verbose=0,
        callbacks=[keras.callbacks.CSVLogger(str(path))],
    )  # fmt: skip
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss"
    assert len(lines) == 4
    for epoch, line in enumerate(lines[1:]):
        fields = line.split(",")
        assert int(fields[0]) == epoch
        assert float(fields[1]) == pytest.approx(history.history["loss"][epoch])
        assert float(fields[2]) == pytest.approx(history.history["val_loss"][epoch])


# --- LambdaCallback -----------------------------------------------------------------------------


def test_lambda_callback_hooks_run_in_fit():
    x, y = random_data(n=12)
    counts = {"train_begin": 0, "epoch_begin": 0, "batch_end": 0, "epoch_end": 0, "train_end": 0}

    def bump(name):
        def hook(*args, **kwargs):  # Keras passes the batch hooks' logs as a keyword
            counts[name] += 1

        return hook

    callback = keras.callbacks.LambdaCallback(
        on_train_begin=bump("train_begin"),
        on_epoch_begin=bump("epoch_begin"),
        on_train_batch_end=bump("batch_end"),
        on_epoch_end=bump("epoch_end"),
        on_train_end=bump("train_end"),
    )
    make_model().fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[callback])
    assert counts == {
        "train_begin": 1, "epoch_begin": 2, "batch_end": 6, "epoch_end": 2, "train_end": 1
    }  # fmt: skip


# --- LearningRateScheduler ----------------------------------------------------------------------


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    x, y = random_data()
    model = make_model()
    callback = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[callback])
    expected = [float(np.float32(0.1 / (e + 1))) for e in range(3)]
    assert history.history["learning_rate"] == pytest.approx(expected)
    assert lr_of(model) == pytest.approx(expected[-1])


def test_learning_rate_scheduler_zero_rate_freezes_the_weights():
    x, y = random_data()
    model = make_model()
    before = model.get_weights()
    callback = keras.callbacks.LearningRateScheduler(lambda epoch: 0.0)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[callback])
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


# --- ReduceLROnPlateau --------------------------------------------------------------------------


def test_reduce_lr_on_plateau_in_fit():
    x, y = zero_data()
    model = make_model()
    callback = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    history = model.fit(x, y, epochs=4, batch_size=4, verbose=0, callbacks=[callback])
    lr0 = float(np.float32(0.01))
    lr1 = float(np.float32(lr0 * 0.5))
    lr2 = float(np.float32(lr1 * 0.5))
    lr3 = float(np.float32(lr2 * 0.5))
    # Logged before the reduction made at that epoch's end.
    assert history.history["learning_rate"] == pytest.approx([lr0, lr0, lr1, lr2])
    assert lr_of(model) == pytest.approx(lr3)


# --- TerminateOnNaN -----------------------------------------------------------------------------


def test_terminate_on_nan_stops_after_the_first_bad_batch(capsys):
    x, _ = random_data()
    y = np.full((16, 1), np.nan, "float32")
    batches = []
    history = make_model().fit(
        x, y, epochs=3, batch_size=4, verbose=0,
        callbacks=[
            keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b)),
            keras.callbacks.TerminateOnNaN(),
        ],
    )  # fmt: skip
    assert batches == [0]
    assert len(history.history["loss"]) == 1
    assert "Batch 0: Invalid loss, terminating training" in capsys.readouterr().out
