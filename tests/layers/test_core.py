"""Unit tests of Dense, Activation, Dropout, Identity, Masking and Lambda."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import refkeras  # noqa: E402
from refkeras import ops  # noqa: E402
from refkeras.layers import core  # noqa: E402
from refkeras.layers.core import (  # noqa: E402
    Activation,
    Dense,
    Dropout,
    Identity,
    Lambda,
    Masking,
)
from refkeras.layers.input_layer import Input  # noqa: E402


def assert_same_config(ref_layer, keras_layer):
    """refkeras's get_config equals Keras's for the same constructor arguments."""
    assert ref_layer.get_config() == keras_layer.get_config()


def roundtrip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone


# --- Dense -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": 3},
        {
            "units": 2,
            "activation": "relu",
            "use_bias": False,
            "kernel_initializer": "he_normal",
            "bias_initializer": "ones",
            "kernel_regularizer": "l2",
            "bias_regularizer": "l1",
            "activity_regularizer": "l1",
            "kernel_constraint": "max_norm",
            "bias_constraint": "non_neg",
        },
    ],
)
def test_dense_config_matches_keras(kwargs):
    ref = Dense(name="d", **kwargs)
    assert_same_config(ref, keras.layers.Dense(name="d", **kwargs))
    roundtrip(ref)


def test_dense_symbolic_shapes_and_weights():
    x = Input((4, 5))
    layer = Dense(3)
    y = layer(x)
    assert y.shape == (None, 4, 3)
    assert [w.path for w in layer.weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]
    assert layer.kernel.shape == (5, 3) and layer.bias.shape == (3,)
    assert layer.compute_output_shape((None, 7, 5)) == (None, 7, 3)


def test_dense_computes_matmul_plus_bias():
    layer = Dense(2, activation="relu", kernel_initializer="ones", bias_initializer="zeros")
    x = np.array([[1.0, -2.0, 0.5], [1.0, 1.0, 1.0]], dtype="float32")
    layer(x)
    layer.set_weights([np.arange(6, dtype="float32").reshape(3, 2), np.array([1.0, -1.0])])
    np.testing.assert_allclose(layer(x), np.maximum(x @ np.arange(6).reshape(3, 2) + [1, -1], 0))


def test_dense_errors_as_keras():
    with pytest.raises(ValueError, match="expected a positive integer. Received: units=0"):
        Dense(0)
    layer = Dense(3)
    layer(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 5"):
        layer(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        Dense(3)(np.ones((5,), "float32"))


def test_dense_gradient_finite_difference():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype("float64")
    layer = Dense(2, activation="tanh", dtype="float64")
    layer(x)
    with refkeras.GradientTape() as tape:
        loss = ops.sum(ops.square(layer(x)))
    g_kernel = np.asarray(tape.gradient(loss, layer.kernel))
    kernel = layer.kernel.numpy()
    eps, numeric = 1e-6, np.zeros_like(kernel)
    for idx in np.ndindex(kernel.shape):
        for sign in (1, -1):
            k = kernel.copy()
            k[idx] += sign * eps
            layer.kernel.assign(k)
            numeric[idx] += sign * float(ops.sum(ops.square(layer(x))))
    np.testing.assert_allclose(g_kernel, numeric / (2 * eps), rtol=1e-6)


# --- Activation / Identity ---------------------------------------------------------------------


def test_activation_layer():
    layer = Activation("relu", name="a")
    assert_same_config(layer, keras.layers.Activation("relu", name="a"))
    np.testing.assert_array_equal(layer(np.array([[-1.0, 2.0]], "float32")), [[0.0, 2.0]])
    assert layer(Input((3, 2))).shape == (None, 3, 2)
    roundtrip(layer)


def test_identity_passes_inputs_and_masks():
    layer = Identity(name="i")
    assert_same_config(layer, keras.layers.Identity(name="i"))
    x = ops.convert_to_tensor(np.ones((2, 3), "float32"))
    x._keras_mask = ops.convert_to_tensor(np.array([True, False]))
    out = layer(x)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(out._keras_mask, [True, False])
    y = layer(Input((3,), dtype="int32"))
    assert y.shape == (None, 3) and y.dtype == "int32"


# --- Dropout -----------------------------------------------------------------------------------


def test_dropout_config_and_errors():
    layer = Dropout(0.3, noise_shape=(None, 1), seed=7, name="dr")
    assert_same_config(layer, keras.layers.Dropout(0.3, noise_shape=(None, 1), seed=7, name="dr"))
    roundtrip(layer)
    with pytest.raises(
        ValueError, match="Expected a float value between 0 and 1. Received: rate=1.5"
    ):
        Dropout(1.5)
    with pytest.raises(ValueError, match="Received negative or zero value at index 1: 0"):
        Dropout(0.5, noise_shape=(2, 0))
    with pytest.raises(ValueError, match="Expected a tuple or list of integers"):
        Dropout(0.5, noise_shape="abc")


def test_dropout_inference_is_identity():
    x = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    layer = Dropout(0.5, seed=1)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True), x)


def test_dropout_training_deterministic_with_seed():
    x = np.ones((50, 40), "float32")
    a, b = Dropout(0.25, seed=3), Dropout(0.25, seed=3)
    out_a1, out_b1 = np.asarray(a(x, training=True)), np.asarray(b(x, training=True))
    np.testing.assert_array_equal(out_a1, out_b1)
    out_a2 = np.asarray(a(x, training=True))
    assert not np.array_equal(out_a1, out_a2)  # each call advances the layer's generator
    kept = out_a1 != 0
    np.testing.assert_allclose(out_a1[kept], 1 / 0.75, rtol=1e-6)
    assert abs(kept.mean() - 0.75) < 0.03


def test_dropout_noise_shape_broadcasts_and_gradient_is_the_mask():
    x = ops.convert_to_tensor(np.ones((3, 4, 5), "float32"))
    layer = Dropout(0.5, noise_shape=(None, 1, 5), seed=0)
    with refkeras.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = ops.sum(y)
    out = np.asarray(y)
    assert np.all(out == out[:, :1, :])  # the same mask at every step
    assert 0 < (out == 0).sum() < out.size
    grad = np.asarray(tape.gradient(loss, x))
    np.testing.assert_array_equal(grad, out)  # d(x * mask / keep)/dx = mask / keep; x is ones


def test_dropout_rate_one_gives_zeros():
    out = Dropout(1.0)(np.ones((2, 3), "float32"), training=True)
    np.testing.assert_array_equal(out, np.zeros((2, 3)))


def test_dropout_symbolic_shape():
    y = Dropout(0.5)(Input((3,)))
    assert y.shape == (None, 3)


# --- Masking -----------------------------------------------------------------------------------


def test_masking_mask_and_output():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]], "float32")
    layer = Masking(name="m")
    assert_same_config(layer, keras.layers.Masking(name="m"))
    out = layer(x)
    np.testing.assert_array_equal(out._keras_mask, [[True, False, True]])
    np.testing.assert_array_equal(out, x)
    out = Masking(mask_value=1.0)(np.array([[[1.0, 1.0], [1.0, 2.0]]], "float32"))
    np.testing.assert_array_equal(out, [[[0.0, 0.0], [1.0, 2.0]]])


# --- Lambda ------------------------------------------------------------------------------------


def test_lambda_call_arguments_and_shapes():
    layer = Lambda(lambda x, k: x * k, arguments={"k": 3.0})
    np.testing.assert_allclose(layer(np.ones((2, 2), "float32")), 3 * np.ones((2, 2)))
    y = Lambda(lambda x: ops.concatenate([x, x], axis=-1))(Input((3,)))
    assert y.shape == (None, 6)
    y = Lambda(lambda x: x[:, :2], output_shape=(2,))(Input((5,)))
    assert y.shape == (None, 2)
    y = Lambda(lambda x: x, output_shape=lambda s: (s[0], 9))(Input((5,)))
    assert y.shape == (None, 9)


def test_lambda_passes_training_and_mask():
    seen = {}

    def fn(x, training=None, mask=None):
        seen.update(training=training, mask=mask)
        return x

    x = ops.convert_to_tensor(np.ones((2, 3), "float32"))
    x._keras_mask = ops.convert_to_tensor(np.array([True, False]))
    Lambda(fn)(x, training=True)
    assert seen["training"] is True
    np.testing.assert_array_equal(seen["mask"], [True, False])
    out = Lambda(lambda x: x, mask=lambda inputs, mask: ops.logical_not(mask))(x)
    np.testing.assert_array_equal(out._keras_mask, [False, True])


def test_lambda_python_lambda_config_and_safe_mode():
    layer = Lambda(lambda x: x * 2.0 + 1.0, name="lam")
    config = layer.get_config()
    keras_config = keras.layers.Lambda(lambda x: x * 2.0 + 1.0, name="lam").get_config()
    assert set(config) == set(keras_config)
    assert config["function"]["class_name"] == "__lambda__"
    assert set(config["function"]["config"]) == {"code", "defaults", "closure"}
    with pytest.raises(ValueError, match="Requested the deserialization of a `Lambda` layer"):
        Lambda.from_config(config)
    with pytest.raises(ValueError, match="safe_mode=False"):
        Lambda.from_config(keras_config)
    # Keras's own bytecode loads (same Python) and runs on refkeras tensors.
    for cfg in (config, keras_config):
        clone = Lambda.from_config(cfg, safe_mode=False)
        np.testing.assert_allclose(clone(np.ones((1, 2), "float32")), [[3.0, 3.0]])


def test_lambda_unsafe_switch():
    config = Lambda(lambda x: x).get_config()
    core.enable_unsafe_deserialization()
    try:
        Lambda.from_config(config)
    finally:
        core.disable_unsafe_deserialization()
    with pytest.raises(ValueError):
        Lambda.from_config(config)
    with pytest.raises(ValueError):  # an explicit safe_mode wins over the switch
        core.enable_unsafe_deserialization()
        try:
            Lambda.from_config(config, safe_mode=True)
        finally:
            core.disable_unsafe_deserialization()


def test_lambda_closure_defaults_and_output_shape_roundtrip():
    scale = 4.0
    layer = Lambda(lambda x, b=1.0: x * scale + b, output_shape=(3,))
    config = layer.get_config()
    assert config["output_shape"] == (3,)
    clone = Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(clone(np.ones((1, 3), "float32")), 5 * np.ones((1, 3)))
    assert clone.compute_output_shape((None, 3)) == (None, 3)
