"""``Sequential``: building with and without an ``Input``, ``add``/``pop``, ``get_layer``,
``layer.input``/``layer.output`` and the FAQ's feature-extraction sub-models, and the order of
``get_weights()`` compared with real Keras."""

import os

import numpy as np
import pytest

import refkeras as keras
from refkeras import layers


def images(n=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 9, 9, 2)).astype("float32")


def manual_forward(model, x):
    """Each layer's output, computed by calling the layers one after another."""
    outs = []
    for layer in model.layers:
        x = layer(x)
        outs.append(np.asarray(x))
    return outs


# --- building -------------------------------------------------------------------------------------


def test_sequential_with_input_is_built_at_once():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(2)])
    assert model.built
    assert [layer.__class__.__name__ for layer in model.layers] == ["Dense", "Dense"]
    assert len(model.weights) == 4
    assert tuple(model.output_shape) == (None, 2)
    assert tuple(model.inputs[0].shape) == (None, 3)


def test_sequential_without_input_builds_on_first_call():
    model = keras.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built
    assert model.weights == []
    out = model(np.ones((5, 3), "float32"))
    assert model.built and tuple(np.shape(out)) == (5, 2)
    assert [tuple(w.shape) for w in model.weights] == [(3, 4), (4,), (4, 2), (2,)]


def test_sequential_without_input_builds_when_fitted():
    model = keras.Sequential([layers.Dense(4), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((6, 3), "float32"), np.ones((6, 1), "float32"), verbose=0)
    assert model.built and len(model.weights) == 4
    assert tuple(model.inputs[0].shape) == (None, 3)


def test_input_shape_argument_on_the_first_layer():
    model = keras.Sequential([layers.Dense(2, input_shape=(3,)), layers.Dense(3)])
    assert model.built
    assert [tuple(w.shape) for w in model.weights] == [(3, 2), (2,), (2, 3), (3,)]


def test_add_builds_incrementally():
    model = keras.Sequential()
    model.add(keras.Input((3,)))
    model.add(layers.Dense(4))
    assert model.built and tuple(model.output_shape) == (None, 4)
    model.add(layers.Dense(2))
    assert tuple(model.output_shape) == (None, 2)
    assert len(model.layers) == 2


def test_add_rejects_non_layers_and_duplicate_names():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="d")])
    with pytest.raises(ValueError, match="d"):
        model.add(layers.Dense(2, name="d"))
    with pytest.raises(ValueError, match="Layer"):
        model.add("dense")


def test_pop_removes_the_last_layer_and_rebuilds():
    model = keras.Sequential(
        [keras.Input((3,)), layers.Dense(4, name="a"), layers.Dense(2, name="b")]
    )
    popped = model.pop()
    assert popped.name == "b"
    assert [layer.name for layer in model.layers] == ["a"]
    assert tuple(model.output_shape) == (None, 4)
    x = np.ones((2, 3), "float32")
    a = model.get_layer("a")
    kernel, bias = a.get_weights()
    np.testing.assert_allclose(np.asarray(model(x)), x @ kernel + bias, rtol=1e-6)
    model.add(layers.Dense(5))
    assert tuple(model.output_shape) == (None, 5)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.ones((2, 5), "float32"), verbose=0)


def test_pop_on_an_empty_model_raises():
    with pytest.raises(TypeError, match="no layers"):
        keras.Sequential().pop()


def test_get_layer_by_name_and_index():
    model = keras.Sequential(
        [keras.Input((3,)), layers.Dense(4, name="first"), layers.Dense(2, name="second")]
    )
    assert model.get_layer("second") is model.layers[1]
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(ValueError, match="third"):
        model.get_layer("third")
    with pytest.raises(ValueError, match="5"):
        model.get_layer(index=5)


# --- inputs/outputs, sub-models -------------------------------------------------------------------


def faq_conv_stack():
    return keras.Sequential(
        [
            layers.Conv2D(3, 3, activation="relu"),
            layers.Conv2D(3, 3, activation="relu"),
            layers.Conv2D(3, 3, activation="relu"),
        ]
    )


def test_faq_feature_extractor_after_calling_a_sequential_without_input():
    # FAQ: extractor = keras.Model(inputs=model.inputs,
    #                              outputs=[layer.output for layer in model.layers])
    model = faq_conv_stack()
    data = images()
    model(data)
    extractor = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    features = extractor(data)
    assert len(features) == 3
    for got, want in zip(features, manual_forward(model, data)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)
    assert [tuple(np.shape(f)) for f in features] == [(2, 7, 7, 3), (2, 5, 5, 3), (2, 3, 3, 3)]


def test_feature_extractor_after_fitting_a_sequential_without_input():
    model = keras.Sequential([layers.Dense(4, activation="relu", name="hidden"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    model.fit(x, np.ones((6, 1), "float32"), verbose=0)
    extractor = keras.Model(inputs=model.input, outputs=model.get_layer("hidden").output)
    kernel, bias = model.get_layer("hidden").get_weights()
    np.testing.assert_allclose(
        np.asarray(extractor(x)), np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6
    )
    # The extractor shares the layers (and so the weights) with the model.
    assert extractor.get_layer("hidden") is model.get_layer("hidden")


def test_layer_input_and_output_in_a_sequential():
    model = keras.Sequential(
        [keras.Input((3,)), layers.Dense(4, name="a"), layers.Dense(2, name="b")]
    )
    a, b = model.layers
    assert b.input is a.output
    assert a.input is model.inputs[0]
    assert b.output is model.outputs[0]
    assert tuple(a.output.shape) == (None, 4)


def test_predict_equals_call_in_inference_mode():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            layers.Dense(8),
            layers.Dropout(0.5),
            layers.BatchNormalization(),
            layers.Dense(2),
        ]
    )
    x = np.random.default_rng(1).normal(size=(10, 3)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x, batch_size=4, verbose=0), np.asarray(model(x)), rtol=1e-5, atol=1e-6
    )


def test_nested_sequential():
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(4)], name="inner")
    outer = keras.Sequential([keras.Input((3,)), inner, layers.Dense(1)])
    assert outer.layers[0] is inner
    assert len(outer.weights) == 4
    x = np.ones((2, 3), "float32")
    k1, b1 = inner.get_weights()
    k2, b2 = outer.layers[1].get_weights()
    np.testing.assert_allclose(np.asarray(outer(x)), (x @ k1 + b1) @ k2 + b2, rtol=1e-5)


# --- get_weights order compared with Keras --------------------------------------------------------


def _architectures(m):
    return {
        "mlp_bn": lambda: m.Sequential(
            [
                m.Input((5,)),
                m.layers.Dense(4),
                m.layers.BatchNormalization(),
                m.layers.Dropout(0.1),
                m.layers.Dense(2, use_bias=False),
            ]
        ),
        "cnn": lambda: m.Sequential(
            [
                m.Input((8, 8, 3)),
                m.layers.Conv2D(4, 3),
                m.layers.BatchNormalization(),
                m.layers.MaxPooling2D(),
                m.layers.Conv2D(2, 1, use_bias=False),
                m.layers.Flatten(),
                m.layers.Dense(3),
            ]
        ),
        "nested": lambda: m.Sequential(
            [
                m.Input((5,)),
                m.Sequential([m.Input((5,)), m.layers.Dense(3), m.layers.LayerNormalization()]),
                m.layers.Dense(2),
            ]
        ),
        "embedding_lstm": lambda: m.Sequential(
            [
                m.Input((6,), dtype="int32"),
                m.layers.Embedding(10, 4),
                m.layers.LSTM(3, return_sequences=True),
                m.layers.LSTM(2),
                m.layers.Dense(1),
            ]
        ),
    }


@pytest.fixture(scope="module")
def real_keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name", ["mlp_bn", "cnn", "nested", "embedding_lstm"])
def test_get_weights_order_matches_keras(name, real_keras):
    k_model = _architectures(real_keras)[name]()
    r_model = _architectures(keras)[name]()
    k_shapes = [tuple(w.shape) for w in k_model.get_weights()]
    r_shapes = [tuple(w.shape) for w in r_model.get_weights()]
    assert r_shapes == k_shapes
    k_names = [w.name for w in k_model.weights]
    r_names = [w.name for w in r_model.weights]
    assert r_names == k_names
    assert [tuple(w.shape) for w in r_model.trainable_weights] == [
        tuple(w.shape) for w in k_model.trainable_weights
    ]
    if name not in ("mlp_bn", "nested"):
        return  # (running Keras eagerly on conv/LSTM models is slow; the layers have parity tests)
    # Weights from Keras load into refkeras and give the same outputs.
    r_model.set_weights([np.asarray(w) for w in k_model.get_weights()])
    shape = tuple(d for d in k_model.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, *shape)).astype("float32")
    np.testing.assert_allclose(np.asarray(r_model(x)), np.asarray(k_model(x)), rtol=1e-4, atol=1e-5)
