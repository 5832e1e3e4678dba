"""Recurrent layers against real Keras 3 on identical weights: outputs, states, masks, gradients,
and the fused primitive path against the step-by-step cell loop."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import pytest

import refkeras
from refkeras import ops

keras = pytest.importorskip("keras")
jax = pytest.importorskip("jax")

CASES = [
    ("LSTM", {}),
    ("LSTM", {"return_sequences": True, "return_state": True, "go_backwards": True}),
    ("LSTM", {"activation": "relu", "recurrent_activation": "hard_sigmoid"}),
    ("GRU", {"return_sequences": True}),
    ("GRU", {"go_backwards": True, "return_state": True}),
    ("SimpleRNN", {"return_sequences": True}),
    ("LSTM", {"use_bias": False}),
]


def _as_list(out):
    return [np.asarray(o) for o in (out if isinstance(out, tuple | list) else [out])]


def _pair(name, kwargs, x):
    k = getattr(keras.layers, name)(3, **kwargs)
    r = getattr(refkeras.layers, name)(3, **kwargs)
    k(x)
    r(x)
    r.set_weights(k.get_weights())
    return k, r


@pytest.mark.parametrize("name,kwargs", CASES)
def test_forward_matches_keras(name, kwargs):
    x = np.random.default_rng(0).normal(size=(4, 6, 5)).astype("float32")
    k, r = _pair(name, kwargs, x)
    for a, b in zip(_as_list(k(x)), _as_list(r(x)), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_loop_path_equals_fused_path(name, kwargs):
    x = np.random.default_rng(1).normal(size=(3, 5, 4)).astype("float32")
    layer = getattr(refkeras.layers, name)(3, **kwargs)
    fused = _as_list(layer(x))
    layer._can_fuse = lambda training: False
    loop = _as_list(layer(x))
    for a, b in zip(fused, loop, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_gradients_match_keras(name):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    k, r = _pair(name, {"return_sequences": True}, x)
    cot = rng.normal(size=(3, 5, 3)).astype("float32")

    def keras_loss(trainable, x):
        out, _ = k.stateless_call(trainable, non_trainable, x)
        return (out * cot).sum()

    tv = [v.value for v in k.trainable_variables]
    non_trainable = [v.value for v in k.non_trainable_variables]
    g_w, g_x = jax.grad(keras_loss, argnums=(0, 1))(tv, x)
    xt = ops.convert_to_tensor(x)
    with refkeras.GradientTape() as tape:
        tape.watch(xt)
        loss = ops.sum(r(xt) * cot)
    grads = tape.gradient(loss, [xt] + r.trainable_weights)
    np.testing.assert_allclose(np.asarray(grads[0]), np.asarray(g_x), rtol=1e-4, atol=1e-5)
    for a, b in zip(grads[1:], g_w, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


def test_masking_from_embedding_matches_keras():
    ids = np.array([[1, 2, 0, 0], [3, 0, 4, 5]])
    km = keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(6, 3, mask_zero=True),
            keras.layers.LSTM(2, return_sequences=True),
        ]
    )
    rm = refkeras.Sequential(
        [
            refkeras.Input((4,), dtype="int32"),
            refkeras.layers.Embedding(6, 3, mask_zero=True),
            refkeras.layers.LSTM(2, return_sequences=True),
        ]
    )
    rm.set_weights(km.get_weights())
    np.testing.assert_allclose(np.asarray(rm(ids)), np.asarray(km(ids)), rtol=1e-5, atol=1e-6)


def test_config_keys_match_keras():
    for name in ("LSTM", "GRU", "SimpleRNN"):
        ref = getattr(refkeras.layers, name)(4).get_config()
        ker = getattr(keras.layers, name)(4).get_config()
        assert set(ref) == set(ker)
        for key in ker:
            if key not in ("name",):
                assert ref[key] == ker[key], (name, key)
