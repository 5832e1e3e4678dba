"""Unit tests of Conv1D, Conv2D and Conv3D."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import refkeras  # noqa: E402
from refkeras import ops  # noqa: E402
from refkeras.layers.convolutional import Conv1D, Conv2D, Conv3D  # noqa: E402
from refkeras.layers.input_layer import Input  # noqa: E402
from refkeras.primitives.conv import conv_naive  # noqa: E402
from refkeras.saving.object_registration import builtin  # noqa: E402

LAYERS = {"Conv1D": Conv1D, "Conv2D": Conv2D, "Conv3D": Conv3D}

SHAPE_CASES = [
    ("Conv1D", {"filters": 4, "kernel_size": 3}, (None, 10, 2)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (None, 9, 2)),
    (
        "Conv1D",
        {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        (None, None, 2),
    ),  # noqa: E501
    ("Conv2D", {"filters": 3, "kernel_size": (3, 2), "strides": (2, 1)}, (None, 9, 8, 1)),
    ("Conv2D", {"filters": 3, "kernel_size": 3, "dilation_rate": 2}, (None, 9, 8, 1)),
    ("Conv2D", {"filters": 3, "kernel_size": 3, "data_format": "channels_first"}, (None, 2, 9, 8)),  # noqa: E501
    (
        "Conv3D",
        {"filters": 2, "kernel_size": 2, "padding": "same", "strides": 2},
        (None, 5, 4, 3, 1),
    ),  # noqa: E501
]


@pytest.mark.parametrize("name, kwargs, shape", SHAPE_CASES)
def test_symbolic_shape_and_config_match_keras(name, kwargs, shape):
    ref = LAYERS[name](name="c", **kwargs)
    k = getattr(keras.layers, name)(name="c", **kwargs)  # not built: no initializer compiles
    assert ref.get_config() == k.get_config()
    assert ref(Input(batch_shape=shape)).shape == k.compute_output_shape(shape)
    assert ref.compute_output_shape(shape) == k.compute_output_shape(shape)
    assert [w.path.split("/")[-1] for w in ref.weights] == ["kernel", "bias"]
    channels = shape[-1] if ref.data_format == "channels_last" else shape[1]
    assert ref.kernel.shape == (*ref.kernel_size, channels, kwargs["filters"])
    clone = type(ref).from_config(ref.get_config())
    assert clone.get_config() == ref.get_config()


def test_aliases_registered():
    assert builtin("keras.layers", "Convolution2D") is Conv2D
    assert builtin("keras.layers", "Convolution1D") is Conv1D


def test_matches_naive_formula():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 5, 3)).astype("float32")
    layer = Conv2D(4, (3, 2), strides=(2, 1), padding="same", bias_initializer="ones")
    out = np.asarray(layer(x))
    kernel = layer.kernel.numpy()
    expected = conv_naive(x, kernel, strides=(2, 1), padding="same", dilation_rate=1) + 1.0
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_causal_output_does_not_see_the_future():
    x = ops.convert_to_tensor(np.random.default_rng(1).standard_normal((1, 8, 2)), "float32")
    layer = Conv1D(3, 3, padding="causal", dilation_rate=2)
    with refkeras.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
        target = ops.sum(out[:, 4])
    grad = np.asarray(tape.gradient(target, x))
    assert out.shape == (1, 8, 3)
    assert np.all(grad[:, 5:] == 0) and np.all(grad[:, [0, 2, 4]] != 0)


def test_channels_first_equals_transposed_channels_last():
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 4)).astype("float32")  # NCHW
    first = Conv2D(2, 3, padding="same", data_format="channels_first")
    last = Conv2D(2, 3, padding="same")
    first(x)
    last(x.transpose(0, 2, 3, 1))
    last.set_weights(first.get_weights())
    np.testing.assert_allclose(
        np.asarray(first(x)),
        np.asarray(last(x.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2),
        rtol=1e-6,
    )


def test_groups_match_keras():
    x = np.random.default_rng(3).standard_normal((2, 6, 4)).astype("float32")
    k = keras.layers.Conv1D(6, 3, groups=2, bias_initializer="ones")
    ref = Conv1D(6, 3, groups=2, bias_initializer="ones")
    ref(x)
    assert ref.kernel.shape == (3, 2, 6)
    k.build(x.shape)
    k.set_weights(ref.get_weights())
    np.testing.assert_allclose(np.asarray(ref(x)), np.asarray(k(x)), rtol=1e-5, atol=1e-5)


def test_errors_as_keras():
    with pytest.raises(ValueError, match=r"one of \{'(same|valid)', '(same|valid)'\}"):
        Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="Expected a strictly positive value. Received filters=0"):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match="evenly divisible by the number of groups"):
        Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match="The number of groups must be a positive integer"):
        Conv2D(3, 3, groups=0)
    with pytest.raises(ValueError, match="input has 3 channels"):
        Conv2D(4, 3, groups=2)(np.ones((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="`strides > 1` not supported in conjunction"):
        Conv1D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"The `kernel_size` argument must be a tuple of 1"):
        Conv1D(4, (3, 3))
    with pytest.raises(ValueError, match="that do not satisfy `value > 0`"):
        Conv2D(4, (3, 0))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        Conv1D(4, 10)(np.ones((1, 5, 3), "float32"))
    layer = Conv2D(2, 3)
    layer(np.ones((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.ones((1, 5, 5, 2), "float32"))
    with pytest.raises(ValueError, match="expected min_ndim=5"):
        Conv3D(2, 2)(np.ones((1, 5, 5, 3), "float32"))
