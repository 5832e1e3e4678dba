"""``fit`` / ``evaluate`` / ``predict`` as the training guide and the Keras 3 FAQ describe them.

Which samples a step sees is recorded by a model overriding ``train_step``/``test_step`` (the
FAQ's customization point) with distinct targets ``y = arange(n)``, so each assertion names the
exact samples.  Loss values are checked from first principles: with ``learning_rate=0`` the model
does not change during an epoch, so the reported loss must equal a NumPy computation on
``predict``'s outputs.
"""

import re

import numpy as np
import pytest

import refkeras as keras

# --- helpers --------------------------------------------------------------------------------------


class Recorder(keras.Model):
    """A one-Dense regression model recording the targets of every train/test batch."""

    def __init__(self, units=1, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(units)
        self.train_batches = []
        self.test_batches = []

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        _, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        self.train_batches.append(np.asarray(y).ravel().astype(int).tolist())
        return super().train_step(data)

    def test_step(self, data):
        _, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        self.test_batches.append(np.asarray(y).ravel().astype(int).tolist())
        return super().test_step(data)


def recorder(**compile_kwargs):
    model = Recorder()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse", **compile_kwargs)
    return model


def indexed_data(n):
    """``x[i] = [i, -i]`` and the distinct target ``y[i] = i``."""
    x = np.stack([np.arange(n), -np.arange(n)], axis=1).astype("float32") / n
    y = np.arange(n, dtype="float32")
    return x, y


def classifier(n_in=4, n_classes=3, lr=0.0, metrics=None, loss="sparse_categorical_crossentropy"):
    model = keras.Sequential(
        [keras.Input((n_in,)), keras.layers.Dense(n_classes, activation="softmax")]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr), loss=loss, metrics=metrics or []
    )
    return model


def class_data(n=12, n_in=4, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype("float32")
    y = (np.arange(n) % n_classes).astype("int32")
    return x, y


def sparse_ce(probs, y):
    return -np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0))


class EpochLogs(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.epochs, self.logs = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)
        self.logs.append(dict(logs or {}))


# --- validation_split -----------------------------------------------------------------------------


def test_validation_split_takes_the_last_fraction_before_shuffling():
    # Guide: "taking the last x% samples of the arrays received by the fit() call, before any
    # shuffling"; FAQ: "The same validation set is used for all epochs".
    x, y = indexed_data(20)
    model = recorder()
    model.fit(x, y, batch_size=4, epochs=3, validation_split=0.2, shuffle=True, verbose=0)
    train = model.train_batches
    assert len(train) == 3 * 4
    for epoch in range(3):
        seen = sum(train[epoch * 4 : (epoch + 1) * 4], [])
        assert sorted(seen) == list(range(16))
    # Validation: the last 4 samples, in order, at every epoch ("Validation data is never
    # shuffled").
    assert model.test_batches == [[16, 17, 18, 19]] * 3


def test_validation_split_rounds_the_training_part_down():
    # Keras: split_at = floor(n * (1 - validation_split)): 10 samples, 0.25 -> 7 train, 3 val.
    x, y = indexed_data(10)
    model = recorder()
    model.fit(x, y, batch_size=10, epochs=1, validation_split=0.25, shuffle=False, verbose=0)
    assert model.train_batches == [list(range(7))]
    assert model.test_batches == [[7, 8, 9]]


def test_validation_split_splits_sample_weights_too():
    # Zero weight on exactly the last 25%: validation loss must be 0 and training loss not.
    x, y = indexed_data(8)
    sw = np.array([1, 1, 1, 1, 1, 1, 0, 0], "float32")
    model = recorder()
    history = model.fit(
        x, y, sample_weight=sw, batch_size=8, validation_split=0.25, shuffle=False, verbose=0
    )
    assert history.history["val_loss"] == [0.0]
    assert history.history["loss"][0] > 0.0


def test_validation_split_splits_every_input_and_output():
    a_in = keras.Input((2,), name="a")
    b_in = keras.Input((3,), name="b")
    out_1 = keras.layers.Dense(1, name="out_1")(keras.layers.concatenate([a_in, b_in]))
    out_2 = keras.layers.Dense(1, name="out_2")(b_in)
    model = keras.Model({"a": a_in, "b": b_in}, [out_1, out_2])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    rng = np.random.default_rng(0)
    xa = rng.normal(size=(8, 2)).astype("float32")
    xb = rng.normal(size=(8, 3)).astype("float32")
    y1 = rng.normal(size=(8, 1)).astype("float32")
    y2 = rng.normal(size=(8, 1)).astype("float32")
    history = model.fit({"a": xa, "b": xb}, [y1, y2], batch_size=8, validation_split=0.5, verbose=0)
    p1, p2 = model.predict({"a": xa[4:], "b": xb[4:]}, verbose=0)
    expected = np.mean((p1 - y1[4:]) ** 2) + np.mean((p2 - y2[4:]) ** 2)
    np.testing.assert_allclose(history.history["val_loss"][0], expected, rtol=1e-5)


def test_validation_data_overrides_validation_split():
    x, y = indexed_data(8)
    model = recorder()
    model.fit(
        x, y, batch_size=8, validation_split=0.5, validation_data=(x[:2], y[:2]), shuffle=False,
        verbose=0,
    )  # fmt: skip
    assert model.train_batches == [list(range(8))]
    assert model.test_batches == [[0, 1]]


# --- shuffling ------------------------------------------------------------------------------------


def test_shuffle_true_reshuffles_globally_at_each_epoch():
    keras.utils.set_random_seed(3)
    x, y = indexed_data(16)
    model = recorder()
    model.fit(x, y, batch_size=4, epochs=3, shuffle=True, verbose=0)
    orders = [sum(model.train_batches[e * 4 : (e + 1) * 4], []) for e in range(3)]
    for order in orders:
        assert sorted(order) == list(range(16))
    assert orders[0] != orders[1] != orders[2]  # a new permutation each epoch
    assert orders[0] != list(range(16))
    # Global shuffling: batches mix samples from different contiguous blocks.
    assert any(max(b) - min(b) > 3 for b in model.train_batches[:4])


def test_shuffle_false_keeps_the_order():
    x, y = indexed_data(10)
    model = recorder()
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert model.train_batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] * 2


def test_validation_data_is_never_shuffled():
    x, y = indexed_data(12)
    xv, yv = x[::-1].copy(), y[::-1].copy() + 100
    model = recorder()
    model.fit(x, y, batch_size=4, epochs=2, shuffle=True, validation_data=(xv, yv), verbose=0)
    expected = [list(range(111, 107, -1)), list(range(107, 103, -1)), list(range(103, 99, -1))]
    assert model.test_batches == expected * 2


def test_validation_data_with_sample_weights():
    x, y = indexed_data(8)
    model = recorder()
    zero = np.zeros(8, "float32")
    history = model.fit(x, y, batch_size=4, validation_data=(x, y, zero), verbose=0)
    assert history.history["val_loss"] == [0.0]
    assert history.history["loss"][0] > 0.0


# --- sample_weight / class_weight -----------------------------------------------------------------


def test_class_weight_matches_the_equivalent_sample_weight():
    # Guide: class_weight maps class index -> weight of the samples of that class.
    x, y = class_data(12)
    class_weight = {0: 1.0, 1: 2.0, 2: 0.25}
    sample_weight = np.array([class_weight[int(c)] for c in y], "float32")
    a = classifier(lr=0.5)
    b = classifier(lr=0.5)
    b.set_weights(a.get_weights())
    ha = a.fit(x, y, class_weight=class_weight, batch_size=5, shuffle=False, verbose=0)
    hb = b.fit(x, y, sample_weight=sample_weight, batch_size=5, shuffle=False, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_class_weight_loss_from_first_principles():
    # One batch, learning rate 0: loss = sum_i(cw[y_i] * ce_i) / batch_size (Keras's
    # "sum_over_batch_size" reduction).
    x, y = class_data(12)
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    model = classifier()
    history = model.fit(x, y, class_weight=class_weight, batch_size=12, verbose=0)
    probs = model.predict(x, verbose=0)
    cw = np.array([class_weight[int(c)] for c in y])
    np.testing.assert_allclose(
        history.history["loss"][0], np.sum(cw * sparse_ce(probs, y)) / 12, rtol=1e-5
    )


def test_class_weight_with_one_hot_targets_uses_the_argmax_class():
    x, y = class_data(9)
    one_hot = np.eye(3, dtype="float32")[y]
    class_weight = {0: 2.0, 1: 0.0, 2: 1.0}
    model = classifier(loss="categorical_crossentropy")
    history = model.fit(x, one_hot, class_weight=class_weight, batch_size=9, verbose=0)
    probs = model.predict(x, verbose=0)
    cw = np.array([class_weight[int(c)] for c in y])
    np.testing.assert_allclose(
        history.history["loss"][0], np.sum(cw * sparse_ce(probs, y)) / 9, rtol=1e-5
    )


def test_sample_weight_zeros_mask_samples_out():
    # Guide: "When the weights used are ones and zeros, the array can be used as a mask".
    x, y = class_data(8)
    sw = np.array([1, 0, 1, 0, 1, 0, 1, 0], "float32")
    model = classifier(lr=0.3)
    before = model.get_weights()
    masked = classifier(lr=0.3)
    masked.set_weights(before)
    model.fit(x, y, sample_weight=sw, batch_size=8, verbose=0)
    # Same step as training on the kept samples only, with the loss still divided by 8:
    # scale the learning rate by 4/8 for the 4-sample batch.
    masked.compile(optimizer=keras.optimizers.SGD(learning_rate=0.15), loss=masked.loss)
    masked.fit(x[::2], y[::2], batch_size=4, verbose=0)
    for a, b in zip(model.get_weights(), masked.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_sample_weight_and_class_weight_together_raise():
    x, y = class_data(6)
    model = classifier(lr=0.1)
    before = model.get_weights()
    with pytest.raises(ValueError, match="class_weight.*sample_weight"):
        model.fit(x, y, sample_weight=np.ones(6), class_weight={0: 1.0}, batch_size=6, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations) == 0


# --- reported loss --------------------------------------------------------------------------------


def test_reported_loss_is_the_epoch_mean_over_batches():
    # FAQ: "the training loss that Keras displays is the average of the losses for each batch of
    # training data, over the current epoch".  Unequal batches (4, 4, 2) are weighted by size.
    x, y = class_data(10)
    model = classifier()
    history = model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], sparse_ce(probs, y).mean(), rtol=1e-5)


def test_validation_loss_uses_the_model_at_the_end_of_the_epoch():
    x, y = class_data(12)
    xv, yv = class_data(6, seed=1)
    model = classifier(lr=0.5, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=2, validation_data=(xv, yv), verbose=0)
    result = model.evaluate(xv, yv, verbose=0, return_dict=True)
    np.testing.assert_allclose(history.history["val_loss"][-1], result["loss"], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_accuracy"][-1], result["accuracy"])
    probs = model.predict(xv, verbose=0)
    np.testing.assert_allclose(result["loss"], sparse_ce(probs, yv).mean(), rtol=1e-5)
    np.testing.assert_allclose(result["accuracy"], np.mean(probs.argmax(-1) == yv))


# --- History --------------------------------------------------------------------------------------


def test_history_keys_values_and_epochs():
    x, y = class_data(12)
    model = classifier(lr=0.5, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=3, validation_split=0.25, verbose=0)
    assert isinstance(history, keras.callbacks.History)
    assert model.history is history
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == [0, 1, 2]
    for values in history.history.values():
        assert len(values) == 3
        assert all(isinstance(v, float) for v in values)
    assert history.params["epochs"] == 3
    assert history.params["steps"] == 3  # 9 training samples in batches of 4


def test_history_loss_decreases_when_learning():
    x, y = class_data(24)
    model = classifier(lr=0.5)
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# --- evaluate / predict ---------------------------------------------------------------------------


def test_evaluate_returns_scalar_list_or_dict():
    x, y = class_data(10)
    model = classifier()
    loss = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float)
    model = classifier(metrics=["accuracy", "sparse_categorical_crossentropy"])
    results = model.evaluate(x, y, batch_size=3, verbose=0)
    as_dict = model.evaluate(x, y, batch_size=3, verbose=0, return_dict=True)
    assert set(as_dict) == {"loss", "accuracy", "sparse_categorical_crossentropy"}
    # The list follows `metrics`: the loss, then the compiled metrics in compile order.
    assert results == [
        as_dict["loss"],
        as_dict["accuracy"],
        as_dict["sparse_categorical_crossentropy"],
    ]
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(as_dict["loss"], sparse_ce(probs, y).mean(), rtol=1e-5)
    np.testing.assert_allclose(as_dict["sparse_categorical_crossentropy"], as_dict["loss"])


def test_metrics_names_label_the_evaluate_results():
    # Guide: `dict(zip(model.metrics_names, result))` gives {'loss': ..., '<metric>': ...}; the
    # Keras 3 `evaluate` docstring: "The attribute `model.metrics_names` will give you the display
    # labels for the scalar outputs."
    x, y = class_data(10)
    model = classifier(metrics=["sparse_categorical_accuracy"])
    result = model.evaluate(x, y, verbose=0)
    assert dict(zip(model.metrics_names, result)) == model.evaluate(
        x, y, verbose=0, return_dict=True
    )


def test_evaluate_does_not_train_and_runs_in_inference_mode():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.9), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, _ = class_data(8)
    y = np.ones((8, 1), "float32")
    before = model.get_weights()
    first = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, verbose=0) == first  # no dropout noise
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(first, np.mean((model.predict(x, verbose=0) - y) ** 2), rtol=1e-5)


class PredictRecorder(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2)
        self.dropout = keras.layers.Dropout(0.5)
        self.sizes = []

    def call(self, x, training=False):
        return self.dropout(self.dense(x), training=training)

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        self.sizes.append(int(np.shape(x)[0]))
        return super().predict_step(data)


def test_predict_batches_and_equals_calling_the_model():
    # FAQ: predict() loops over the data in batches and is equivalent to concatenating
    # model(x_batch) in inference mode.
    x, _ = class_data(10)
    model = PredictRecorder()
    out = model.predict(x, batch_size=3, verbose=0)
    assert model.sizes == [3, 3, 3, 1]
    assert isinstance(out, np.ndarray) and out.shape == (10, 2)
    np.testing.assert_allclose(out, np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    model.sizes = []
    model.predict(np.concatenate([x] * 7), verbose=0)  # 70 samples, default batch size 32
    assert model.sizes == [32, 32, 6]


def test_predict_multi_output_returns_arrays_per_output():
    inp = keras.Input((4,))
    a = keras.layers.Dense(2, name="a")(inp)
    b = keras.layers.Dense(3, name="b")(inp)
    model = keras.Model(inp, [a, b])
    x, _ = class_data(7)
    pa, pb = model.predict(x, batch_size=2, verbose=0)
    ca, cb = model(x)
    np.testing.assert_allclose(pa, np.asarray(ca), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pb, np.asarray(cb), rtol=1e-5, atol=1e-6)


# --- *_on_batch -----------------------------------------------------------------------------------


def test_train_on_batch_is_one_fit_step():
    x, y = class_data(6)
    a = classifier(lr=0.5, metrics=["accuracy"])
    b = classifier(lr=0.5, metrics=["accuracy"])
    b.set_weights(a.get_weights())
    probs = a.predict(x, verbose=0)
    result = a.train_on_batch(x, y)
    b.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)
    # The returned values are computed with the weights before the update.
    np.testing.assert_allclose(result[0], sparse_ce(probs, y).mean(), rtol=1e-5)
    np.testing.assert_allclose(result[1], np.mean(probs.argmax(-1) == y))
    assert int(a.optimizer.iterations) == 1
    logs = a.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert int(a.optimizer.iterations) == 2


def test_test_on_batch_and_predict_on_batch():
    x, y = class_data(6)
    model = classifier(lr=0.5, metrics=["accuracy"])
    before = model.get_weights()
    result = model.test_on_batch(x, y, return_dict=True)
    expected = model.evaluate(x, y, batch_size=6, verbose=0, return_dict=True)
    assert result == pytest.approx(expected)
    out = model.predict_on_batch(x)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations) == 0


def test_train_on_batch_with_class_weight():
    x, y = class_data(6)
    class_weight = {0: 0.0, 1: 1.0, 2: 2.0}
    model = classifier()
    loss = model.train_on_batch(x, y, class_weight=class_weight)
    probs = model.predict(x, verbose=0)
    cw = np.array([class_weight[int(c)] for c in y])
    np.testing.assert_allclose(loss, np.sum(cw * sparse_ce(probs, y)) / 6, rtol=1e-5)


# --- learning-rate schedules ----------------------------------------------------------------------


def test_schedule_as_learning_rate():
    # Linear model w*x, loss (w*x - y)^2 on one sample x=1, y=1: grad = 2(w - 1).  Step t uses
    # lr_t = 0.1 * 0.5^t (ExponentialDecay with decay_steps=1, evaluated at the iteration count).
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="mse")
    x = np.ones((1, 1), "float32")
    model.fit(x, x, epochs=4, batch_size=1, verbose=0)
    w = 0.0
    for t in range(4):
        w -= 0.1 * 0.5**t * 2 * (w - 1)
    np.testing.assert_allclose(model.get_weights()[0], [[w]], rtol=1e-6)


def test_staircase_schedule_with_rmsprop_from_the_guide():
    schedule = keras.optimizers.schedules.ExponentialDecay(
        0.1, decay_steps=100000, decay_rate=0.96, staircase=True
    )
    model = classifier()
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=schedule), loss=model.loss)
    x, y = class_data(8)
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert int(model.optimizer.iterations) == 4


# --- callbacks ------------------------------------------------------------------------------------


class LossHistory(keras.callbacks.Callback):
    """The guide's callback recording per-batch losses."""

    def on_train_begin(self, logs):
        self.per_batch_losses = []

    def on_batch_end(self, batch, logs):
        self.per_batch_losses.append(logs.get("loss"))


def test_guide_loss_history_callback():
    x, y = class_data(10)
    callback = LossHistory()
    classifier(lr=0.1).fit(x, y, batch_size=4, epochs=2, callbacks=[callback], verbose=0)
    assert len(callback.per_batch_losses) == 6
    assert all(isinstance(v, float) for v in callback.per_batch_losses)


class HookOrder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(f"batch_begin {batch}")

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(f"batch_end {batch}")

    def on_test_begin(self, logs=None):
        self.calls.append("test_begin")

    def on_test_end(self, logs=None):
        self.calls.append("test_end")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_callback_hooks_order_and_model_access():
    x, y = class_data(6)
    callback = HookOrder()
    model = classifier(lr=0.1)
    model.fit(x, y, batch_size=4, epochs=2, validation_split=0.5, callbacks=[callback], verbose=0)
    assert callback.model is model
    epoch = [
        "batch_begin 0",
        "batch_end 0",
        "test_begin",
        "test_end",
    ]
    assert callback.calls == (
        ["train_begin", "epoch_begin 0"]
        + epoch
        + ["epoch_end 0 ['loss', 'val_loss']", "epoch_begin 1"]
        + epoch
        + ["epoch_end 1 ['loss', 'val_loss']", "train_end"]
    )


def test_early_stopping_on_val_loss_from_the_faq():
    # A model that cannot learn (zero learning rate): val_loss never improves.
    x, y = class_data(10)
    model = classifier(lr=0.0)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    history = model.fit(
        x, y, validation_split=0.2, epochs=20, callbacks=[stop], batch_size=4, verbose=0
    )
    assert len(history.history["loss"]) == 3
    assert history.epoch == [0, 1, 2]


def test_stop_training_from_a_callback():
    class StopAfterFirst(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    x, y = class_data(6)
    history = classifier(lr=0.1).fit(
        x, y, epochs=5, batch_size=3, callbacks=[StopAfterFirst()], verbose=0
    )
    assert history.epoch == [0]


# --- steps_per_epoch / validation_steps / validation_freq / initial_epoch -------------------------


def test_steps_per_epoch_with_arrays_keeps_drawing_the_next_batches():
    # 5 batches of 4; 2 steps per epoch: the epochs see batches 0-1 then 2-3 (the data is not
    # restarted at each epoch, as the guide describes for steps_per_epoch).
    x, y = indexed_data(20)
    model = recorder()
    model.fit(x, y, batch_size=4, epochs=2, steps_per_epoch=2, shuffle=False, verbose=0)
    assert model.train_batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]
    assert int(model.optimizer.iterations) == 4


def test_steps_per_epoch_with_a_generator_continues_across_epochs():
    x, y = indexed_data(40)

    def batches():
        i = 0
        while True:
            yield x[i : i + 2], y[i : i + 2]
            i = (i + 2) % 40

    model = recorder()
    history = model.fit(batches(), epochs=3, steps_per_epoch=2, verbose=0)
    assert model.train_batches == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]
    assert len(history.history["loss"]) == 3


def test_validation_steps_limits_and_restarts_validation():
    # Guide: only `validation_steps` batches are used, and the validation data is reset after each
    # use "so that you will always be evaluating on the same samples from epoch to epoch".
    x, y = indexed_data(12)
    model = recorder()
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(x, y), validation_steps=2, verbose=0)
    assert model.test_batches == [[0, 1, 2, 3], [4, 5, 6, 7]] * 2


def test_validation_batch_size():
    x, y = indexed_data(6)
    model = recorder()
    model.fit(
        x, y, batch_size=2, validation_data=(x, y), validation_batch_size=4, shuffle=False,
        verbose=0,
    )  # fmt: skip
    assert model.test_batches == [[0, 1, 2, 3], [4, 5]]


@pytest.mark.parametrize(
    "validation_freq, validated", [(2, [1, 3]), ([1, 3], [0, 2]), (1, [0, 1, 2, 3])]
)
def test_validation_freq(validation_freq, validated):
    x, y = class_data(8)
    logs = EpochLogs()
    history = classifier(lr=0.1).fit(
        x,
        y,
        batch_size=4,
        epochs=4,
        validation_split=0.25,
        validation_freq=validation_freq,
        callbacks=[logs],
        verbose=0,
    )
    assert [e for e, log in zip(logs.epochs, logs.logs) if "val_loss" in log] == validated
    assert len(history.history["val_loss"]) == len(validated)
    assert len(history.history["loss"]) == 4


def test_initial_epoch():
    x, y = class_data(8)
    logs = EpochLogs()
    model = classifier(lr=0.1)
    history = model.fit(x, y, batch_size=4, epochs=3, initial_epoch=1, callbacks=[logs], verbose=0)
    assert logs.epochs == [1, 2]
    assert history.epoch == [1, 2]
    assert len(history.history["loss"]) == 2
    assert int(model.optimizer.iterations) == 4


# --- progress bar ---------------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _final_lines(text):
    """What a terminal shows: each line's content after its last carriage return, without ANSI
    colours or backspaces."""
    out = []
    for line in text.split("\n"):
        line = ANSI.sub("", line.split("\r")[-1]).replace("\b", "").rstrip()
        if line:
            out.append(line)
    return out


def _metrics_of(line):
    return dict(re.findall(r" - ([a-z_]+): (-?\d+\.\d{4}(?:e[-+]\d+)?)", line))


def _progbar_fit(module, verbose, capsys, initial=None):
    model = module.Sequential([module.Input((4,)), module.layers.Dense(3, activation="softmax")])
    if initial is not None:
        model.set_weights(initial)
    model.compile(
        optimizer=module.optimizers.SGD(learning_rate=0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x, y = class_data(10)
    capsys.readouterr()
    model.fit(x, y, batch_size=4, epochs=2, validation_split=0.2, shuffle=False, verbose=verbose)
    return _final_lines(capsys.readouterr().out), [np.asarray(w) for w in model.get_weights()]


@pytest.fixture(scope="module")
def real_keras():
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_bar_matches_keras(verbose, capsys, real_keras):
    k_model = real_keras.Sequential(
        [real_keras.Input((4,)), real_keras.layers.Dense(3, activation="softmax")]
    )
    initial = [np.asarray(w) for w in k_model.get_weights()]
    k_lines, _ = _progbar_fit(real_keras, verbose, capsys, initial)
    r_lines, _ = _progbar_fit(keras, verbose, capsys, initial)
    assert [line for line in r_lines if line.startswith("Epoch")] == ["Epoch 1/2", "Epoch 2/2"]
    assert [line for line in k_lines if line.startswith("Epoch")] == ["Epoch 1/2", "Epoch 2/2"]
    k_bars = [line for line in k_lines if not line.startswith("Epoch")]
    r_bars = [line for line in r_lines if not line.startswith("Epoch")]
    assert len(r_bars) == len(k_bars) == 2
    if verbose == 2:
        pattern = r"^2/2 - \d+s - \d+(us|ms|s)/step( - [a-z_]+: \S+)+$"
    else:
        pattern = r"^2/2 ━{20} \d+s \d+(us|ms|s)/step( - [a-z_]+: \S+)+$"
    for r_line, k_line in zip(r_bars, k_bars):
        assert re.match(pattern, k_line), k_line
        assert re.match(pattern, r_line), r_line
        r_metrics, k_metrics = _metrics_of(r_line), _metrics_of(k_line)
        assert set(r_metrics) == set(k_metrics) == {
            "loss", "accuracy", "val_loss", "val_accuracy"
        }  # fmt: skip
        for key in k_metrics:
            assert abs(float(r_metrics[key]) - float(k_metrics[key])) <= 1.5e-4, (key, r_line)


def test_verbose_0_prints_nothing(capsys):
    x, y = class_data(6)
    model = classifier(lr=0.1)
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""
