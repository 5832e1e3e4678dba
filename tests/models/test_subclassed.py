"""Subclassed models (layers in ``__init__``, forward pass in ``call``): training works "strictly in
the same way across every kind of Keras model" (guide); weights, sublayers and metrics are
tracked; ``training`` reaches the layers; weight order matches Keras."""

import os

import numpy as np
import pytest

import refkeras as keras
from refkeras import layers


class MLP(keras.Model):
    def __init__(self, hidden=5, classes=3, rate=0.5, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.classes = classes
        self.rate = rate
        self.dense_1 = layers.Dense(hidden, activation="relu")
        self.dropout = layers.Dropout(rate)
        self.dense_2 = layers.Dense(classes, activation="softmax")

    def call(self, inputs, training=False):
        return self.dense_2(self.dropout(self.dense_1(inputs), training=training))


def data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), (np.arange(n) % 3).astype("int32")


def test_weights_are_created_on_first_call_and_tracked():
    model = MLP()
    assert model.weights == []
    model(np.ones((2, 4), "float32"))
    assert [tuple(w.shape) for w in model.weights] == [(4, 5), (5,), (5, 3), (3,)]
    assert model.layers == [model.dense_1, model.dropout, model.dense_2]
    assert len(model.trainable_weights) == 4


def test_fit_evaluate_predict_like_any_model():
    x, y = data()
    model = MLP(rate=0.0)
    model.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, batch_size=4, epochs=4, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    p = model.predict(x, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.mean(-np.log(p[np.arange(12), y])), rtol=1e-5)


def test_training_flag_reaches_the_layers():
    # Dropout(0.99) in the model: predict/evaluate run in inference mode (deterministic, no
    # dropout); fit's steps run in training mode.
    x, y = data()
    model = MLP(rate=0.99)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    p1 = model.predict(x, verbose=0)
    np.testing.assert_array_equal(p1, model.predict(x, verbose=0))
    eval_loss = model.evaluate(x, y, batch_size=12, verbose=0)
    train_loss = model.fit(x, y, batch_size=12, verbose=0).history["loss"][0]
    assert abs(train_loss - eval_loss) > 1e-3
    np.testing.assert_allclose(np.asarray(model(x)), p1, rtol=1e-6)  # call default: inference
    assert not np.allclose(np.asarray(model(x, training=True)), p1)


class Block(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stack = [layers.Dense(3), layers.Dense(3)]
        self.by_name = {"out": layers.Dense(2)}
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, x):
        for layer in self.stack:
            x = layer(x)
        return self.by_name["out"](x) * self.scale


class Tracker(keras.Model):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = layers.Dense(1)
        self.extra = keras.metrics.Mean(name="mean_prediction")

    def call(self, x):
        out = self.head(self.block(x))
        return out


def test_sublayers_in_lists_dicts_and_own_weights_are_tracked():
    model = Tracker()
    model(np.ones((2, 4), "float32"))
    assert [tuple(w.shape) for w in model.weights] == [
        (),  # the block's own weight first
        (4, 3), (3,), (3, 3), (3,), (3, 2), (2,),
        (2, 1), (1,),
    ]  # fmt: skip
    assert "mean_prediction" in [m.name for m in model.metrics]


def test_subclassed_layers_have_no_functional_output():
    # FAQ: layer.output sub-models are "not possible with models that are subclasses of Model that
    # override call".
    model = MLP()
    model(np.ones((2, 4), "float32"))
    with pytest.raises((AttributeError, ValueError)):
        _ = model.dense_1.output


def test_summary_of_a_built_subclassed_model():
    model = MLP()
    model(np.ones((1, 4), "float32"))
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    text = "\n".join(lines)
    assert "Total params: 43" in text  # 4*5+5 + 5*3+3
    for layer in model.layers:
        assert layer.name in text


def test_nested_subclassed_models():
    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.inner = MLP(rate=0.0)
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(self.inner(x))

    x, _ = data()
    model = Outer()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, np.ones((12, 1), "float32"), batch_size=4, verbose=0)
    assert len(model.weights) == 6
    model.inner.trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = model.inner.get_weights()
    model.fit(x, np.zeros((12, 1), "float32"), batch_size=4, verbose=0)
    for a, b in zip(model.inner.get_weights(), before):
        np.testing.assert_array_equal(a, b)


# --- weight order compared with Keras -------------------------------------------------------------


def _make_subclassed(m):
    class Model(m.Model):
        def __init__(self):
            super().__init__()
            # Created in an order different from the order they are called in.
            self.late = m.layers.Dense(2, name="late")
            self.norm = m.layers.BatchNormalization(name="norm")
            self.early = m.layers.Dense(3, name="early")

        def call(self, x):
            return self.late(self.norm(self.early(x)))

    return Model()


@pytest.fixture(scope="module")
def real_keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def test_weight_order_matches_keras(real_keras):
    x = np.ones((2, 4), "float32")
    k_model = _make_subclassed(real_keras)
    k_model(x)
    r_model = _make_subclassed(keras)
    r_model(x)
    assert len(r_model.weights) == 8
    assert [tuple(w.shape) for w in r_model.get_weights()] == [
        tuple(w.shape) for w in k_model.get_weights()
    ]
    assert [w.name for w in r_model.weights] == [w.name for w in k_model.weights]
    assert [w.name for w in r_model.trainable_weights] == [
        w.name for w in k_model.trainable_weights
    ]
