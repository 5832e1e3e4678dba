"""Customizing training, as the guide and the FAQ show it: low-level loops with a ``GradientTape``,
``train_step``/``test_step`` overrides (subclassed, functional and Sequential models), custom losses
and metrics, and losses added with ``add_loss`` (including a loss-less ``compile``)."""

import numpy as np
import pytest

import refkeras as keras
from refkeras import layers, ops


def data(n=12, n_in=4, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype("float32")
    y = (np.arange(n) % n_classes).astype("int32")
    return x, y


def mlp(n_in=4, n_classes=3):
    inputs = keras.Input(shape=(n_in,), name="digits")
    x = layers.Dense(5, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(n_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def twin(model_fn):
    a, b = model_fn(), model_fn()
    b.set_weights(a.get_weights())
    return a, b


def assert_same_weights(a, b, rtol=1e-5):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=1e-6)


# --- low-level loops ------------------------------------------------------------------------------


def test_gradient_tape_loop_equals_fit():
    # The FAQ's custom loop: forward pass in a tape, gradients of the loss with respect to
    # model.trainable_weights, optimizer.apply_gradients(zip(...)).
    x, y = data()
    a, b = twin(mlp)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = keras.optimizers.SGD(learning_rate=0.5)
    losses = []
    for start in range(0, 12, 4):
        inputs, targets = x[start : start + 4], y[start : start + 4]
        with keras.GradientTape() as tape:
            predictions = a(inputs, training=True)
            loss_value = loss_fn(targets, predictions)
        gradients = tape.gradient(loss_value, a.trainable_weights)
        optimizer.apply_gradients(zip(gradients, a.trainable_weights))
        losses.append(float(loss_value))
    b.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss=loss_fn)
    history = b.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert_same_weights(a, b)
    np.testing.assert_allclose(history.history["loss"][0], np.mean(losses), rtol=1e-5)


def test_gradient_tape_loop_with_a_frozen_layer():
    x, y = data()
    model = mlp()
    model.layers[1].trainable = False  # dense_1 (layers[0] is the InputLayer)
    frozen = [w.copy() for w in model.layers[1].get_weights()]
    assert len(model.trainable_weights) == 2
    optimizer = keras.optimizers.Adam(0.1)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    top_before = [w.copy() for w in model.layers[2].get_weights()]
    for _ in range(2):
        with keras.GradientTape() as tape:
            loss_value = loss_fn(y, model(x, training=True))
        gradients = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
    for a, b in zip(model.layers[1].get_weights(), frozen):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(model.layers[2].get_weights()[0], top_before[0])


# --- train_step / test_step overrides -------------------------------------------------------------


class CustomModel(keras.Model):
    """The Keras guide's train_step override (with a GradientTape)."""

    def train_step(self, data):
        x, y = data
        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_train_step_override_on_a_functional_model():
    # FAQ: the pattern works with the Functional API by instantiating the subclass with
    # inputs and outputs.
    x, y = data()
    template = mlp()
    inputs = keras.Input(shape=(4,))
    hidden = layers.Dense(5, activation="relu")(inputs)
    outputs = layers.Dense(3, activation="softmax")(hidden)
    model = CustomModel(inputs, outputs)
    model.set_weights(template.get_weights())
    model.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    template.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss="sparse_categorical_crossentropy",
        metrics=["sparse_categorical_accuracy"],
    )
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    reference = template.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert set(history.history) == {"loss", "sparse_categorical_accuracy"}
    # The guide's step updates the loss tracker without a batch-size weight; with the partial
    # batch absent (12 = 3 x 4) the epoch means agree.
    for key in reference.history:
        np.testing.assert_allclose(history.history[key], reference.history[key], rtol=1e-5)
    assert_same_weights(model, template)


class CustomSequential(keras.Sequential):
    def train_step(self, data):
        self.steps_taken = getattr(self, "steps_taken", 0) + 1
        return super().train_step(data)


def test_train_step_override_on_a_sequential_subclass():
    # FAQ: "subclass keras.Sequential and override its train_step".
    x, y = data()
    model = CustomSequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert model.steps_taken == 6


class CustomTestModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.abs_error = keras.metrics.Mean(name="abs_error")

    def call(self, x):
        return self.dense(x)

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.abs_error.update_state(ops.abs(y - y_pred))
        return {"abs_error": self.abs_error.result()}

    @property
    def metrics(self):
        return [self.abs_error]


def test_test_step_override_drives_evaluate_and_validation():
    x, _ = data()
    y = x[:, :1] * 2.0
    model = CustomTestModel()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    result = model.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    expected = np.mean(np.abs(y - model.predict(x, verbose=0)))
    assert set(result) == {"abs_error"}
    np.testing.assert_allclose(result["abs_error"], expected, rtol=1e-5)
    history = model.fit(x, y, batch_size=4, validation_data=(x, y), verbose=0)
    np.testing.assert_allclose(history.history["val_abs_error"], [expected], rtol=1e-5)


# --- custom losses --------------------------------------------------------------------------------


def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor

    def get_config(self):
        return {"regularization_factor": self.regularization_factor, "name": self.name}


@pytest.mark.parametrize("which", ["function", "subclass"])
def test_custom_losses_from_the_guide(which):
    x, y = data()
    y_one_hot = np.eye(3, dtype="float32")[y]
    model = mlp()
    loss = custom_mean_squared_error if which == "function" else CustomMSE()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0), loss=loss)
    history = model.fit(x, y_one_hot, batch_size=4, verbose=0)
    p = model.predict(x, verbose=0)
    expected = np.mean((y_one_hot - p) ** 2, axis=-1)
    if which == "subclass":
        expected = expected + 0.1 * np.mean((0.5 - p) ** 2, axis=-1)
    np.testing.assert_allclose(history.history["loss"][0], expected.mean(), rtol=1e-5)
    trained = mlp()
    trained.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    h = trained.fit(x, y_one_hot, batch_size=4, epochs=4, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_custom_loss_config_round_trip():
    loss = CustomMSE(regularization_factor=0.3)
    clone = CustomMSE.from_config(loss.get_config())
    assert clone.regularization_factor == 0.3 and clone.name == "custom_mse"


# --- custom metrics -------------------------------------------------------------------------------


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_guide_custom_metric_is_reset_each_epoch():
    x, y = data()
    model = mlp()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=0.0),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x, y.reshape(-1, 1), batch_size=4, epochs=3, verbose=0)
    correct = float(np.sum(model.predict(x, verbose=0).argmax(-1) == y))
    assert history.history["categorical_true_positives"] == [correct] * 3
    result = model.evaluate(x, y.reshape(-1, 1), verbose=0, return_dict=True)
    assert result["categorical_true_positives"] == correct


def test_metric_function_and_weighted_metrics():
    x, y = data()
    sw = np.linspace(0.0, 2.0, 12).astype("float32")

    def max_prob(y_true, y_pred):
        return ops.max(y_pred, axis=-1)

    model = mlp()
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),
        loss="sparse_categorical_crossentropy",
        metrics=[max_prob],
        weighted_metrics=["sparse_categorical_accuracy"],
    )
    history = model.fit(x, y, sample_weight=sw, batch_size=12, verbose=0)
    p = model.predict(x, verbose=0)
    np.testing.assert_allclose(history.history["max_prob"][0], p.max(-1).mean(), rtol=1e-5)
    weighted_acc = np.sum(sw * (p.argmax(-1) == y)) / np.sum(sw)
    np.testing.assert_allclose(
        history.history["sparse_categorical_accuracy"][0], weighted_acc, rtol=1e-5
    )


# --- add_loss -------------------------------------------------------------------------------------


class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(ops.sum(inputs) * 0.1)
        return inputs


def test_add_loss_is_added_to_the_compiled_loss():
    x, y = data()
    inputs = keras.Input(shape=(4,), name="digits")
    h = layers.Dense(5, activation="relu", name="dense_1")(inputs)
    h = ActivityRegularizationLayer()(h)
    outputs = layers.Dense(3, activation="softmax", name="predictions")(h)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.0),
        loss=keras.losses.SparseCategoricalCrossentropy(),
    )
    history = model.fit(x, y, batch_size=12, verbose=0)
    p = model.predict(x, verbose=0)
    hidden = keras.Model(inputs, model.get_layer("dense_1").output).predict(x, verbose=0)
    ce = -np.log(p[np.arange(12), y]).mean()
    expected = ce + 0.1 * hidden.sum()
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    # The added loss is part of the evaluation loss too, and is recomputed at each call.
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=12, verbose=0), expected, rtol=1e-5)
    assert len(model.losses) == 1


def test_add_loss_is_minimised():
    x, y = data()
    inputs = keras.Input(shape=(4,))
    h = layers.Dense(5, activation="relu")(inputs)
    h = ActivityRegularizationLayer()(h)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(h))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    hidden_model = keras.Model(inputs, model.layers[1].output)
    before = hidden_model.predict(x, verbose=0).sum()
    model.fit(x, y, batch_size=12, epochs=3, verbose=0)
    assert hidden_model.predict(x, verbose=0).sum() < before


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        loss = self.loss_fn(targets, logits, sample_weights)
        self.add_loss(loss)
        return ops.softmax(logits)


def logistic_endpoint_model():
    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    return keras.Model(inputs=[inputs, targets], outputs=predictions)


def test_loss_less_compile_with_the_logistic_endpoint():
    model = logistic_endpoint_model()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.0))  # No loss argument!
    rng = np.random.default_rng(0)
    data_ = {
        "inputs": rng.random((3, 3)).astype("float32"),
        "targets": rng.random((3, 10)).astype("float32"),
    }
    history = model.fit(data_, verbose=0)
    assert set(history.history) == {"loss"}
    kernel, bias = model.layers[2].get_weights()
    logits = data_["inputs"] @ kernel + bias
    t = data_["targets"]
    bce = np.maximum(logits, 0) - logits * t + np.log1p(np.exp(-np.abs(logits)))
    np.testing.assert_allclose(history.history["loss"][0], bce.mean(), rtol=1e-5)
    prediction = model.predict(data_, verbose=0)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(prediction, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)


def test_loss_less_compile_trains():
    model = logistic_endpoint_model()
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    rng = np.random.default_rng(1)
    data_ = {
        "inputs": rng.random((8, 3)).astype("float32"),
        "targets": (rng.random((8, 10)) > 0.5).astype("float32"),
    }
    history = model.fit(data_, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_no_loss_at_all_is_an_error():
    model = mlp()
    model.compile(optimizer="adam")
    x, y = data()
    with pytest.raises(ValueError, match="loss"):
        model.fit(x, y, verbose=0)
