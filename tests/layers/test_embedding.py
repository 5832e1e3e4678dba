"""Unit tests of Embedding."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import refkeras  # noqa: E402
from refkeras import ops  # noqa: E402
from refkeras.layers.embedding import Embedding  # noqa: E402
from refkeras.layers.input_layer import Input  # noqa: E402


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_dim": 10, "output_dim": 3},
        {
            "input_dim": 4,
            "output_dim": 2,
            "mask_zero": True,
            "embeddings_initializer": "ones",
            "embeddings_regularizer": "l2",
            "embeddings_constraint": "unit_norm",
            "activity_regularizer": "l1",
        },
    ],
)
def test_config_matches_keras(kwargs):
    ref = Embedding(name="e", **kwargs)
    assert ref.get_config() == keras.layers.Embedding(name="e", **kwargs).get_config()
    assert Embedding.from_config(ref.get_config()).get_config() == ref.get_config()


def test_lookup_shapes_and_float_ids():
    table = np.arange(12, dtype="float32").reshape(4, 3)
    layer = Embedding(4, 3, weights=[table])
    assert [w.name for w in layer.weights] == ["embeddings"]
    ids = np.array([[0, 3], [2, 2]], dtype="int32")
    np.testing.assert_array_equal(layer(ids), table[ids])
    out = layer(ids.astype("float32"))  # float ids are cast to int32, not autocast
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, table[ids])
    y = layer(Input((5,), dtype="int32"))
    assert y.shape == (None, 5, 3) and y.dtype == "float32"
    assert layer.compute_output_shape((None, 2, 7)) == (None, 2, 7, 3)


def test_mask_zero():
    ids = np.array([[1, 0, 2], [0, 0, 3]], dtype="int32")
    layer = Embedding(4, 2, mask_zero=True)
    out = layer(ids)
    np.testing.assert_array_equal(out._keras_mask, ids != 0)
    assert Embedding(4, 2).compute_mask(ids) is None
    assert Embedding(4, 2)(ids)._keras_mask is None


def test_gradient_scatter_adds_repeated_ids():
    ids = np.array([[1, 1, 2], [3, 1, 0]], dtype="int32")
    layer = Embedding(5, 2)
    cot = np.random.default_rng(0).standard_normal((2, 3, 2)).astype("float32")
    with refkeras.GradientTape() as tape:
        loss = ops.sum(layer(ids) * cot)
    grad = np.asarray(tape.gradient(loss, layer.embeddings))
    expected = np.zeros((5, 2), "float32")
    np.add.at(expected, ids.reshape(-1), cot.reshape(-1, 2))
    np.testing.assert_allclose(grad, expected, rtol=1e-6)
    assert np.all(grad[4] == 0)


def test_errors_as_keras():
    with pytest.raises(ValueError, match="`input_dim` must be a positive integer"):
        Embedding(0, 3)
    with pytest.raises(ValueError, match="`output_dim` must be a positive integer"):
        Embedding(3, True)
    with pytest.raises(ValueError, match="weight shape"):
        Embedding(3, 2, weights=[np.zeros((2, 2))])
