"""Philox in ``jax.numpy`` against the NumPy reference generator, bit for bit, eagerly and under
``jax.jit`` with traced keys; and ``refkeras.random`` ops on the JAX backend (dropout inside a
jitted function whose seed state is traced) equal to the reference's draws."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from accel.jax import random as jr
from refkeras import config
from refkeras import random as rk_random
from refkeras.backend import StatelessScope, Tensor
from refkeras.primitives import random as ref

KEYS = [(0, 0), (123, 0), (0xFFFFFFFF, 0), (7, 0xDEADBEEF)]


def _bits_equal(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("key", KEYS)
def test_philox_words_equal(key):
    c = [np.arange(17, dtype=np.uint32) * np.uint32(w) for w in (1, 3, 0x9E3779B9, 5)]
    for got, want in zip(jr.philox(key, *c), ref.philox(key, *c)):
        _bits_equal(got, want)
    _bits_equal(
        jr.random_bits(key, 0xFFFFFFFF, 33, attempt=9), ref.random_bits(key, 2**32 - 1, 33, 9)
    )


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_uniform_bits_equal(dtype):
    for key in KEYS:
        _bits_equal(jr.uniform01(key, 5, (40, 25), dtype), ref.uniform01(key, 5, (40, 25), dtype))


def test_normal_and_truncated_normal_float32_bits_equal():
    """float32 normals (what float32 initializers and ``normal()`` produce) are identical."""
    for key in KEYS:
        _bits_equal(jr.normal01(key, 3, (20000,), "float32"), ref.normal01(key, 3, (20000,)))
        _bits_equal(
            jr.truncated_normal01(key, 3, (5000,), "float32"),
            ref.truncated_normal01(key, 3, (5000,), "float32"),
        )


def test_normal_float64_within_a_few_ulp():
    """XLA's float64 ``log1p``/``cos`` are not libm's: most values are identical, the rest
    differ in the last bits (absolute error ~1e-14 on values of order 1; relative error is
    larger only near the zeros of the cosine).  A known, documented deviation."""
    got = np.asarray(jr.normal01((11, 0), 2, (20000,), "float64"))
    want = ref.normal01((11, 0), 2, (20000,), "float64")
    assert np.mean(got == want) > 0.8
    np.testing.assert_allclose(got, want, rtol=0, atol=64 * np.finfo(np.float64).eps)


def test_permutation_equal():
    for key in KEYS:
        _bits_equal(jr.permutation(key, 4, 1000), ref.permutation(key, 4, 1000))


def test_traced_keys_give_the_same_streams():
    """Seed, draw and attempt as traced uint32 values (as inside a compiled training step)."""

    @jax.jit
    def draws(state):
        key, draw = (state[0], 0), state[1]
        return (
            jr.uniform01(key, draw, (300,), "float32"),
            jr.uniform01(key, draw, (30,), "float64"),
            jr.truncated_normal01(key, draw, (300,), "float32"),
            jr.permutation(key, draw, 64),
        )

    for seed, draw in [(123, 0), (0xFFFFFFFF, 7), (5, 0xFFFFFFFF)]:
        got = draws(jnp.asarray(np.array([seed, draw], np.uint32)))
        key = (seed, 0)
        _bits_equal(got[0], ref.uniform01(key, draw, (300,), "float32"))
        _bits_equal(got[1], ref.uniform01(key, draw, (30,), "float64"))
        _bits_equal(got[2], ref.truncated_normal01(key, draw, (300,), "float32"))
        _bits_equal(got[3], ref.permutation(key, draw, 64))


@pytest.fixture
def jax_backend():
    config.set_backend("jax")
    yield
    config.set_backend("numpy")


def _reference_dropouts(x, seed, calls):
    config.set_backend("numpy")
    gen = rk_random.SeedGenerator(seed)
    out = [np.asarray(rk_random.dropout(x, 0.3, seed=gen).value) for _ in range(calls)]
    config.set_backend("jax")
    return out, gen.state.numpy()


def test_dropout_under_jit_with_traced_seed_state_equals_reference(jax_backend):
    x = np.random.default_rng(0).normal(size=(8, 33)).astype(np.float32)
    gen = rk_random.SeedGenerator(1234)

    @jax.jit
    def step(state, x):
        with StatelessScope([(gen.state, state)]) as scope:
            a = rk_random.dropout(Tensor(x), 0.3, seed=gen).value
            b = rk_random.dropout(Tensor(x), 0.3, seed=gen, noise_shape=(None, 1)).value
            return a, b, scope.get_current_value(gen.state)

    a, b, state = step(jnp.asarray(gen.state.numpy()), x)
    config.set_backend("numpy")
    ref_gen = rk_random.SeedGenerator(1234)
    want_a = np.asarray(rk_random.dropout(x, 0.3, seed=ref_gen).value)
    want_b = np.asarray(rk_random.dropout(x, 0.3, seed=ref_gen, noise_shape=(None, 1)).value)
    _bits_equal(a, want_a)
    _bits_equal(b, want_b)
    np.testing.assert_array_equal(np.asarray(state), ref_gen.state.numpy())
    assert (want_a == 0).any() and (want_a != 0).any()


@pytest.mark.parametrize("op", ["uniform", "normal", "truncated_normal", "randint", "shuffle"])
def test_random_ops_on_the_jax_backend_equal_reference(jax_backend, op):
    def draw():
        gen = rk_random.SeedGenerator(77)
        if op == "randint":
            return [rk_random.randint((50,), 2, 9, seed=gen) for _ in range(2)]
        if op == "shuffle":
            x = np.arange(40, dtype=np.float32).reshape(20, 2)
            return [rk_random.shuffle(x, seed=gen) for _ in range(2)]
        return [getattr(rk_random, op)((300,), seed=gen) for _ in range(2)]

    got = draw()
    assert all(isinstance(t.value, jax.Array) for t in got)
    config.set_backend("numpy")
    want = draw()
    for g, w in zip(got, want):
        _bits_equal(g.value, w.value)
    assert not np.array_equal(np.asarray(want[0].value), np.asarray(want[1].value))
