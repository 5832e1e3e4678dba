"""Unit tests of the pooling layers."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from refkeras.layers import pooling  # noqa: E402
from refkeras.layers.input_layer import Input  # noqa: E402
from refkeras.saving.object_registration import builtin  # noqa: E402

CASES = [
    ("MaxPooling1D", {}, (None, 7, 3)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (None, None, 3)),
    ("MaxPooling2D", {"pool_size": (2, 3), "strides": (1, 2)}, (None, 5, 7, 2)),
    ("MaxPooling2D", {"padding": "same", "data_format": "channels_first"}, (None, 2, 5, 5)),
    ("MaxPooling3D", {"padding": "same"}, (None, 3, 4, 5, 2)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (None, 8, 2)),
    ("AveragePooling2D", {"pool_size": 2, "strides": 1}, (None, 4, 5, 3)),
    ("AveragePooling3D", {"pool_size": (2, 1, 2)}, (None, 4, 4, 5, 2)),
    ("GlobalMaxPooling1D", {}, (None, 5, 3)),
    ("GlobalMaxPooling2D", {"keepdims": True}, (None, 4, 3, 3)),
    ("GlobalMaxPooling3D", {"data_format": "channels_first"}, (None, 2, 3, 2, 3)),
    ("GlobalAveragePooling1D", {"keepdims": True}, (None, None, 3)),
    ("GlobalAveragePooling2D", {}, (None, 4, 3, 3)),
    (
        "GlobalAveragePooling3D",
        {"keepdims": True, "data_format": "channels_first"},
        (None, 2, 3, 2, 3),
    ),  # noqa: E501
]


@pytest.mark.parametrize("name, kwargs, shape", CASES)
def test_shape_and_config_match_keras(name, kwargs, shape):
    ref = getattr(pooling, name)(name="p", **kwargs)
    k = getattr(keras.layers, name)(name="p", **kwargs)
    assert ref(Input(batch_shape=shape)).shape == k(keras.Input(batch_shape=shape)).shape
    assert ref.compute_output_shape(shape) == k.compute_output_shape(shape)
    assert ref.get_config() == k.get_config()
    assert type(ref).from_config(ref.get_config()).get_config() == ref.get_config()
    assert ref.weights == []


def test_aliases_and_default_strides():
    for alias, name in [
        ("MaxPool1D", "MaxPooling1D"), ("MaxPool2D", "MaxPooling2D"),
        ("MaxPool3D", "MaxPooling3D"), ("AvgPool1D", "AveragePooling1D"),
        ("AvgPool2D", "AveragePooling2D"), ("AvgPool3D", "AveragePooling3D"),
        ("GlobalMaxPool1D", "GlobalMaxPooling1D"), ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
    ]:  # fmt: skip
        assert builtin("keras.layers", alias) is getattr(pooling, name)
    assert pooling.MaxPooling2D(3).strides == (3, 3)
    assert pooling.MaxPooling3D().pool_size == (2, 2, 2)


def test_values():
    x = np.arange(12, dtype="float32").reshape(1, 6, 2)
    np.testing.assert_array_equal(pooling.MaxPooling1D()(x), x[:, 1::2])
    np.testing.assert_array_equal(pooling.AveragePooling1D(2)(x), (x[:, 0::2] + x[:, 1::2]) / 2)
    # "same" average pooling counts only the real elements of the last window (5 -> 3 windows)
    out = pooling.AveragePooling1D(2, padding="same")(x[:, :5])
    np.testing.assert_array_equal(out[0, -1], x[0, 4])
    np.testing.assert_array_equal(pooling.GlobalMaxPooling1D()(x), x.max(axis=1))
    np.testing.assert_allclose(pooling.GlobalAveragePooling1D()(x), x.mean(axis=1))


def test_global_average_pooling1d_mask():
    x = np.arange(12, dtype="float32").reshape(2, 3, 2)
    mask = np.array([[True, False, True], [False, True, False]])
    layer = pooling.GlobalAveragePooling1D()
    out = layer(x, mask=mask)
    expected = np.stack([(x[0, 0] + x[0, 2]) / 2, x[1, 1]])
    np.testing.assert_allclose(out, expected)
    assert layer.compute_mask(x, mask) is None
    out = pooling.GlobalAveragePooling1D(keepdims=True)(x, mask=mask)
    np.testing.assert_allclose(out, expected[:, None, :])


def test_errors_as_keras():
    with pytest.raises(ValueError, match="The `pool_size` argument must be a tuple of 2 integers"):
        pooling.MaxPooling2D((2, 2, 2))
    with pytest.raises(ValueError, match="that do not satisfy `value > 0`"):
        pooling.MaxPooling1D(0)
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        pooling.MaxPooling2D()(np.ones((1, 4, 3), "float32"))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        pooling.GlobalAveragePooling1D()(np.ones((1, 4, 3, 2), "float32"))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        pooling.MaxPooling2D(3).compute_output_shape((1, 2, 2, 3))
