"""Unit tests of Flatten, Reshape, Permute and RepeatVector."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from refkeras.layers.input_layer import Input  # noqa: E402
from refkeras.layers.reshaping import Flatten, Permute, RepeatVector, Reshape  # noqa: E402

CONFIG_CASES = [
    (Flatten, keras.layers.Flatten, {}),
    (Flatten, keras.layers.Flatten, {"data_format": "channels_first"}),
    (Reshape, keras.layers.Reshape, {"target_shape": (2, -1)}),
    (Permute, keras.layers.Permute, {"dims": (2, 1)}),
    (RepeatVector, keras.layers.RepeatVector, {"n": 3}),
]


@pytest.mark.parametrize("ref_cls, keras_cls, kwargs", CONFIG_CASES)
def test_config_matches_keras_and_roundtrips(ref_cls, keras_cls, kwargs):
    ref = ref_cls(name="x", **kwargs)
    assert ref.get_config() == keras_cls(name="x", **kwargs).get_config()
    assert ref_cls.from_config(ref.get_config()).get_config() == ref.get_config()


@pytest.mark.parametrize(
    "layer, shape, expected",
    [
        (Flatten(), (None, 3, 4), (None, 12)),
        (Flatten(), (None, None, 4), (None, None)),
        (Flatten(), (5,), (5, 1)),
        (Reshape((2, -1)), (None, 3, 4), (None, 2, 6)),
        (Reshape((-1, 2)), (None, None, 4), (None, None, 2)),
        (Permute((3, 1, 2)), (None, 2, 3, 4), (None, 4, 2, 3)),
        (RepeatVector(5), (None, 3), (None, 5, 3)),
    ],
)
def test_symbolic_shapes(layer, shape, expected):
    batch, *rest = shape
    y = layer(Input(batch_shape=shape, dtype="int32"))
    assert y.shape == expected
    assert layer.compute_output_shape(shape) == expected
    if not isinstance(layer, RepeatVector):
        assert y.dtype == "int32"  # reshaping layers keep the input dtype


def test_values():
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    np.testing.assert_array_equal(Flatten()(x), x.reshape(2, 12))
    np.testing.assert_array_equal(Reshape((4, 3))(x), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(Permute((2, 1))(x), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(RepeatVector(2)(x[:, 0]), np.stack([x[:, 0]] * 2, axis=1))
    x4 = np.arange(24, dtype="float32").reshape(1, 2, 3, 4)  # channels_first (1, C=2, 3, 4)
    np.testing.assert_array_equal(
        Flatten(data_format="channels_first")(x4), x4.transpose(0, 2, 3, 1).reshape(1, 24)
    )
    np.testing.assert_array_equal(Flatten()(np.arange(3, dtype="float32")), [[0], [1], [2]])


def test_errors_as_keras():
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match="must be a non-negative integer"):
        Reshape((2, -3))
    with pytest.raises(ValueError, match="The total size of the tensor must be unchanged"):
        Reshape((4, 4))(np.ones((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="must be consecutive and start from 1"):
        Permute((1, 3))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        Permute((2, 1))(np.ones((1, 2, 3, 4), "float32"))
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        RepeatVector(2.0)
    with pytest.raises(ValueError, match="positive integer"):
        RepeatVector(0)
    with pytest.raises(ValueError, match="data_format"):
        Flatten(data_format="nchw")
