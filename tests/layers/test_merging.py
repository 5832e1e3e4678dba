"""Unit tests of the merge layers and their functional forms."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from refkeras import ops  # noqa: E402
from refkeras.layers import merging  # noqa: E402
from refkeras.layers.input_layer import Input  # noqa: E402

NAMES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]


@pytest.mark.parametrize("name", NAMES)
def test_config_matches_keras(name):
    ref = getattr(merging, name)(name="m")
    assert ref.get_config() == getattr(keras.layers, name)(name="m").get_config()
    assert type(ref).from_config(ref.get_config()).get_config() == ref.get_config()
    assert merging.Concatenate(axis=1).get_config()["axis"] == 1


@pytest.mark.parametrize(
    "fn, reference",
    [
        (merging.add, lambda a, b: a + b),
        (merging.subtract, lambda a, b: a - b),
        (merging.multiply, lambda a, b: a * b),
        (merging.average, lambda a, b: (a + b) / 2),
        (merging.maximum, np.maximum),
        (merging.minimum, np.minimum),
        (merging.concatenate, lambda a, b: np.concatenate([a, b], axis=-1)),
    ],
)
def test_functional_forms(fn, reference):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((3, 4)).astype("float32") for _ in range(2))
    np.testing.assert_allclose(fn([a, b]), reference(a, b), rtol=1e-6)
    y = fn([Input((4,)), Input((4,))])
    assert y.shape == ((None, 8) if fn is merging.concatenate else (None, 4))


@pytest.mark.parametrize(
    "layer, shapes, expected",
    [
        (merging.Add(), [(None, 3, 4), (None, 4)], (None, 3, 4)),
        (merging.Multiply(), [(None, 3, 1), (None, 3, 4)], (None, 3, 4)),
        (merging.Maximum(), [(2, 5), (None, 5)], (2, 5)),
        (merging.Concatenate(axis=1), [(None, 3, 4), (None, 2, 4)], (None, 5, 4)),
        (merging.Concatenate(), [(None, 3, 4), (None, 3, None)], (None, 3, None)),
    ],
)
def test_symbolic_shapes_match_keras(layer, shapes, expected):
    y = layer([Input(batch_shape=s) for s in shapes])
    assert y.shape == expected
    k_layer = getattr(keras.layers, type(layer).__name__)(
        **{k: v for k, v in layer.get_config().items() if k == "axis"}
    )
    assert k_layer([keras.Input(batch_shape=s) for s in shapes]).shape == expected


def test_different_ranks_are_aligned_after_the_batch_axis():
    a = np.ones((2, 3, 4), "float32")
    b = np.arange(8, dtype="float32").reshape(2, 4)
    np.testing.assert_array_equal(merging.Add()([a, b]), a + b[:, None, :])


def test_mask_is_or_of_input_masks():
    a = ops.convert_to_tensor(np.ones((2, 3, 1), "float32"))
    b = ops.convert_to_tensor(np.ones((2, 3, 1), "float32"))
    a._keras_mask = ops.convert_to_tensor(np.array([[1, 0, 0], [1, 1, 0]], bool))
    b._keras_mask = ops.convert_to_tensor(np.array([[0, 0, 1], [1, 0, 0]], bool))
    out = merging.Add()([a, b])
    np.testing.assert_array_equal(out._keras_mask, [[1, 0, 1], [1, 1, 0]])
    b._keras_mask = None
    assert merging.Add()([a, b])._keras_mask is None
    out = merging.Concatenate(axis=1)([a, b])  # unmasked input counts as all True
    np.testing.assert_array_equal(out._keras_mask, [[1, 0, 0, 1, 1, 1], [1, 1, 0, 1, 1, 1]])


def test_errors_as_keras():
    with pytest.raises(ValueError, match="should be called on exactly 2 inputs"):
        merging.Subtract()([np.ones((2, 3), "float32")] * 3)
    with pytest.raises(ValueError, match="requires inputs with matching shapes except for the"):
        merging.Concatenate()([np.ones((2, 3, 5), "float32"), np.ones((2, 4, 4), "float32")])
    with pytest.raises(ValueError, match="requires inputs with matching shapes except for the"):
        merging.Concatenate()([np.ones((2, 3), "float32"), np.ones((2, 3, 4), "float32")])
    with pytest.raises(ValueError, match="Cannot merge tensors with different batch sizes"):
        merging.Add()([np.ones((2, 3), "float32"), np.ones((3, 3), "float32")])
    with pytest.raises(
        ValueError, match=r"Inputs have incompatible shapes. Received shapes \(3,\)"
    ):
        merging.Add()([np.ones((2, 3), "float32"), np.ones((2, 4), "float32")])
    with pytest.raises(ValueError, match="A merge layer should be called on a list of inputs"):
        merging.Add()(np.ones((2, 3), "float32"))
