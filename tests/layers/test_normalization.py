"""Unit tests of BatchNormalization and LayerNormalization."""

from __future__ import annotations

import os
import warnings

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import refkeras  # noqa: E402
from refkeras import ops  # noqa: E402
from refkeras.layers.input_layer import Input  # noqa: E402
from refkeras.layers.normalization import BatchNormalization, LayerNormalization  # noqa: E402


def _x(shape=(8, 3), seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 2 + 1).astype("float32")


# --- BatchNormalization ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {
            "axis": 1,
            "momentum": 0.9,
            "epsilon": 1e-5,
            "center": False,
            "gamma_initializer": "random_normal",
            "gamma_regularizer": "l2",
            "beta_constraint": "non_neg",
        },
        {"renorm": True, "renorm_clipping": {"rmax": 2.0}, "renorm_momentum": 0.5},
    ],
)
def test_batchnorm_config_matches_keras(kwargs):
    ref = BatchNormalization(name="bn", **kwargs)
    assert ref.get_config() == keras.layers.BatchNormalization(name="bn", **kwargs).get_config()
    assert BatchNormalization.from_config(ref.get_config()).get_config() == ref.get_config()


def test_batchnorm_weights_and_shapes():
    layer = BatchNormalization()
    y = layer(Input((5, 4)))
    assert y.shape == (None, 5, 4)
    assert [w.path.split("/")[-1] for w in layer.weights] == [
        "gamma", "beta", "moving_mean", "moving_variance",
    ]  # fmt: skip
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(np.ones((2, 5, 3), "float32"))


def test_batchnorm_build_then_call_creates_weights_once():
    layer = BatchNormalization()
    layer.build((None, 3))
    layer(np.ones((2, 3), "float32"))
    assert len(layer.weights) == 4


def test_batchnorm_training_formula_and_moving_stats():
    x = _x()
    layer = BatchNormalization(momentum=0.9)
    out = np.asarray(layer(x, training=True))
    mean, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-6)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.9 * 0.1 * mean + 0.1 * mean, rtol=1e-5)


def test_batchnorm_inference_uses_moving_stats_and_does_not_update():
    x = _x()
    layer = BatchNormalization()
    layer(x)
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    mm, mv = np.array([0.5, -0.2, 1.0]), np.array([2.0, 0.5, 1.5])
    layer.set_weights([gamma, beta, mm, mv])
    for training in (None, False):
        out = layer(x, training=training)
        np.testing.assert_allclose(
            out, (x - mm) / np.sqrt(mv + 1e-3) * gamma + beta, rtol=1e-5, atol=1e-5
        )
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mm.astype("float32"))


def test_batchnorm_frozen_layer_runs_in_inference_mode():
    x = _x()
    layer = BatchNormalization()
    layer(x)
    layer.trainable = False
    out = layer(x, training=True)
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-3), rtol=1e-6)  # moving stats 0 / 1
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(3))
    np.testing.assert_array_equal(layer.moving_variance.numpy(), np.ones(3))
    assert layer.trainable_weights == []


def test_batchnorm_gradient_in_training():
    x = ops.convert_to_tensor(_x((6, 2)))
    layer = BatchNormalization()
    with refkeras.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, training=True)
        loss = ops.sum(out[:, 0])
    dx, dgamma, dbeta = tape.gradient(loss, [x, layer.gamma, layer.beta])
    # The output is normalized: its sum over the batch does not depend on x, and it sums to 0.
    np.testing.assert_allclose(np.asarray(dx), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(dgamma), [0.0, 0.0], atol=1e-5)
    np.testing.assert_allclose(np.asarray(dbeta), [6.0, 0.0])


def test_batchnorm_errors_as_keras():
    with pytest.raises(ValueError, match="synchronized=True is only supported with the TensorFlow"):
        BatchNormalization(synchronized=True)
    with pytest.raises(ValueError, match="Received invalid keys for `renorm_clipping`"):
        BatchNormalization(renorm=True, renorm_clipping={"foo": 1})
    with pytest.raises(ValueError, match="Axis 3 is out of bounds"):
        BatchNormalization(axis=3).compute_output_shape((2, 3))
    with pytest.raises(ValueError, match="The mask provided should be one dimension less"):
        BatchNormalization()(np.ones((2, 3, 4), "float32"), mask=np.ones((2, 3, 4), bool))


# --- LayerNormalization ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"axis": [1, 2], "epsilon": 1e-6, "center": False, "gamma_regularizer": "l1"}],
)
def test_layernorm_config_matches_keras(kwargs):
    ref = LayerNormalization(name="ln", **kwargs)
    k = keras.layers.LayerNormalization(name="ln", **kwargs)
    assert ref.get_config() == k.get_config()
    ref.build((2, 3, 4))
    k.build((2, 3, 4))
    assert ref.get_config() == k.get_config()  # axis becomes a sorted list when built
    assert LayerNormalization.from_config(ref.get_config()).get_config() == ref.get_config()


def test_layernorm_formula_and_weights():
    x = _x((4, 3, 5))
    layer = LayerNormalization(axis=[-2, -1])
    out = np.asarray(layer(x))
    assert layer.gamma.shape == (3, 5)
    assert [w.name for w in layer.weights] == ["gamma", "beta"]
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-5, atol=1e-5)
    assert layer(Input((3, 5))).shape == (None, 3, 5)


def test_layernorm_rms_scaling_and_errors():
    x = _x((2, 4))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = LayerNormalization(rms_scaling=True)
    assert any("deprecated" in str(w.message) for w in caught)
    out = np.asarray(layer(x))
    assert [w.name for w in layer.weights] == ["gamma"]
    np.testing.assert_allclose(out, x / np.sqrt(x.var(-1, keepdims=True) + 1e-3), rtol=1e-5)
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints"):
        LayerNormalization(axis="a")
    with pytest.raises(ValueError, match="Axis 2 is out of bounds"):
        LayerNormalization(axis=2).compute_output_shape((2, 3))
