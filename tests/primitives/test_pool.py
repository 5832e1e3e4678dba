"""Tests for the pooling primitives in refkeras.primitives.pool.

Forward and VJP are checked against ``keras.ops.max_pool`` / ``keras.ops.average_pool`` on the JAX
backend (VJP through ``jax.vjp``, including how max pooling routes the gradient on ties, -inf and
NaN), against central finite differences in float64, and against the loop versions.
"""

import os

import numpy as np
import pytest

from refkeras.primitives import pool as P


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def jax(keras):
    return pytest.importorskip("jax")


FORWARD = {"max": P.max_pool, "average": P.average_pool}
VJP = {"max": P.max_pool_vjp, "average": P.average_pool_vjp}
NAIVE = {"max": P.max_pool_naive, "average": P.average_pool_naive}
NAIVE_VJP = {"max": P.max_pool_vjp_naive, "average": P.average_pool_vjp_naive}


def keras_fwd_vjp(jax, keras, x, g, pool_size, strides, padding):
    """``{kind: (out, dx)}`` for max and average pooling: Keras's forward and ``jax.vjp``
    cotangent, all compiled as one program (much faster than op by op).

    ``strides`` is always passed explicitly: ``keras.ops.max_pool(x, k)`` with ``strides=None``
    crashes on the JAX backend in Keras 3.15 (it expands ``pool_size`` to rank N+2 before using it
    as the default strides, then expands it again).  The pooling layers never pass None.
    """

    def both(x, g):
        result = {}
        for kind in ("max", "average"):
            op = getattr(keras.ops, f"{kind}_pool")
            out, vjp = jax.vjp(lambda a, op=op: op(a, pool_size, strides, padding), x)
            result[kind] = (out, vjp(g)[0])
        return result

    result = jax.jit(both)(x, g)
    return {kind: (np.asarray(out), np.asarray(dx)) for kind, (out, dx) in result.items()}


def numeric_vjp(f, x, g, eps=1e-6):
    """``<g, df/dx>`` by central differences (float64)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        grad[idx] = np.sum(g * (f(plus) - f(minus))) / (2 * eps)
    return grad


# (x_shape, pool_size, strides, padding): ranks 1-3, odd/even sizes, overlapping windows
# (strides < pool), gaps (strides > pool), partial windows at the edge, batch 1.
CASES = [
    ((2, 7, 3), 2, 2, "valid"),
    ((2, 7, 3), 2, 2, "same"),
    ((1, 8, 3), 3, 1, "same"),
    ((2, 9, 2), 2, 3, "valid"),
    ((2, 10, 2), 4, 3, "same"),
    ((2, 5, 6, 3), 2, 2, "same"),
    ((2, 7, 8, 2), (3, 2), (2, 1), "same"),
    ((2, 7, 7, 2), (2, 3), (3, 2), "valid"),
    ((1, 4, 5, 3, 2), 2, 2, "same"),
    ((2, 5, 4, 6, 2), (3, 2, 2), (2, 1, 2), "same"),
    ((1, 6, 5, 5, 1), (2, 3, 2), (2, 2, 3), "valid"),
]


@pytest.mark.parametrize("x_shape,pool_size,strides,padding", CASES)
def test_matches_keras_forward_and_vjp(keras, jax, x_shape, pool_size, strides, padding):
    x = np.random.default_rng(0).normal(size=x_shape).astype("float32")
    kw = dict(pool_size=pool_size, strides=strides, padding=padding)
    out_shape = FORWARD["max"](x, **kw).shape
    g = np.random.default_rng(1).uniform(-1, 1, size=out_shape).astype("float32")
    reference = keras_fwd_vjp(jax, keras, x, g, pool_size, strides, padding)
    for kind, (ref, rdx) in reference.items():
        out = FORWARD[kind](x, **kw)
        (dx,) = VJP[kind](g, out, x, **kw)
        assert out.dtype == dx.dtype == np.float32 and out.shape == ref.shape
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5, err_msg=kind)
        np.testing.assert_allclose(dx, rdx, rtol=1e-5, atol=1e-5, err_msg=kind)


def _tie_inputs():
    """One batch entry per kind of tie: all zeros, few distinct values, signed zeros, all -inf,
    NaNs among few distinct values."""
    rng = np.random.default_rng(2)
    shape = (1, 6, 5, 2)
    return np.concatenate(
        [
            np.zeros(shape),
            rng.integers(0, 3, size=(2, *shape[1:])),
            np.where(rng.random(shape) < 0.5, -0.0, 0.0),
            np.full(shape, -np.inf),
            np.where(
                rng.random((2, *shape[1:])) < 0.2, np.nan, rng.integers(0, 2, (2, *shape[1:]))
            ),
        ]
    ).astype("float32")


@pytest.mark.parametrize(
    "pool_size,strides,padding", [(2, 2, "valid"), (3, 2, "same"), (3, 1, "same")]
)
def test_max_pool_ties_route_like_jax(keras, jax, pool_size, strides, padding):
    """First maximum in row-major window order wins; padding takes part as -inf (so an all -inf
    window starting in the padding loses its cotangent); NaNs follow XLA's ``ge`` scan."""
    x = _tie_inputs()
    kw = dict(pool_size=pool_size, strides=strides, padding=padding)
    out = P.max_pool(x, **kw)
    g = np.random.default_rng(3).uniform(0.5, 1.5, size=out.shape).astype("float32")
    (dx,) = P.max_pool_vjp(g, out, x, **kw)
    ref, rdx = keras_fwd_vjp(jax, keras, x, g, pool_size, strides, padding)["max"]
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_allclose(dx, rdx, rtol=1e-6, atol=0)
    (ndx,) = P.max_pool_vjp_naive(g, out, x, **kw)
    np.testing.assert_allclose(dx, ndx, rtol=1e-6, atol=0)


def test_max_pool_tie_rule_by_hand():
    x = np.array([[0.0, 1.0], [1.0, 0.0]]).reshape(1, 2, 2, 1)
    (dx,) = P.max_pool_vjp(np.ones((1, 1, 1, 1)), None, x, pool_size=2, strides=1, padding="valid")
    # row-major order: (0, 1) comes before (1, 0)
    np.testing.assert_array_equal(dx[0, ..., 0], [[0.0, 1.0], [0.0, 0.0]])
    # n=5, k=3, s=2, same: windows [-1, 1], [1, 3], [3, 5]; the first starts in the padding
    x = np.full((1, 5, 1), -np.inf)
    (dx,) = P.max_pool_vjp(np.ones((1, 3, 1)), None, x, pool_size=3, strides=2, padding="same")
    np.testing.assert_array_equal(dx.ravel(), [0.0, 1.0, 0.0, 1.0, 0.0])
    # after a NaN the scan always moves on: [1, nan, 2] -> 2, [2, nan, 1] -> 1
    x = np.array([1.0, np.nan, 2.0, np.nan, 1.0]).reshape(1, 5, 1)
    (dx,) = P.max_pool_vjp(np.ones((1, 2, 1)), None, x, pool_size=3, strides=2, padding="valid")
    np.testing.assert_array_equal(dx.ravel(), [0.0, 0.0, 1.0, 0.0, 1.0])


def test_max_pool_vjp_with_infinite_cotangent_only_touches_winners():
    x = np.array([1.0, 3.0, 2.0, 0.0]).reshape(1, 4, 1)
    g = np.array([np.inf, 1.0]).reshape(1, 2, 1)
    (dx,) = P.max_pool_vjp(g, None, x, pool_size=2, strides=2, padding="valid")
    np.testing.assert_array_equal(dx.ravel(), [0.0, np.inf, 1.0, 0.0])


@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize(
    "x_shape,pool_size,strides,padding",
    [
        ((2, 7, 2), 3, 2, "same"),
        ((1, 5, 6, 2), (2, 3), (1, 2), "same"),
        ((1, 4, 5, 2), 2, 1, "valid"),
        ((1, 3, 4, 3, 1), 2, (2, 1, 2), "same"),
    ],
)
def test_vjp_matches_finite_differences(kind, x_shape, pool_size, strides, padding):
    # distinct values, so max pooling is differentiable at x
    x = np.random.default_rng(4).permutation(np.prod(x_shape)).reshape(x_shape) / 10.0
    kw = dict(pool_size=pool_size, strides=strides, padding=padding)
    out = FORWARD[kind](x, **kw)
    g = np.random.default_rng(5).uniform(-1, 1, size=out.shape)
    (dx,) = VJP[kind](g, out, x, **kw)
    assert out.dtype == dx.dtype == np.float64
    ndx = numeric_vjp(lambda a: FORWARD[kind](a, **kw), x, g)
    np.testing.assert_allclose(dx, ndx, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["max", "average"])
@pytest.mark.parametrize(
    "x_shape,pool_size,strides,padding",
    [
        ((2, 9, 3), 3, 2, "same"),
        ((2, 6, 7, 2), (2, 3), (2, 1), "same"),
        ((1, 5, 5, 2), 2, 3, "valid"),
        ((1, 4, 5, 3, 2), 2, (1, 2, 2), "same"),
    ],
)
def test_fast_matches_naive(dtype, kind, x_shape, pool_size, strides, padding):
    # integers, so max pooling has ties
    x = np.random.default_rng(6).integers(-2, 3, size=x_shape).astype(dtype)
    kw = dict(pool_size=pool_size, strides=strides, padding=padding)
    out = FORWARD[kind](x, **kw)
    ref = NAIVE[kind](x, **kw)
    assert out.dtype == ref.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6)
    g = np.random.default_rng(7).uniform(-1, 1, size=out.shape).astype(dtype)
    (dx,) = VJP[kind](g, out, x, **kw)
    (ndx,) = NAIVE_VJP[kind](g, out, x, **kw)
    assert dx.dtype == np.dtype(dtype)
    np.testing.assert_allclose(dx, ndx, rtol=1e-6, atol=1e-6)


def test_average_pool_same_divides_by_valid_count():
    x = np.ones((1, 5, 1))
    # n=5, k=3, s=2: windows [-1, 1], [1, 3], [3, 5] -> counts 2, 3, 2, so all means are 1
    out = P.average_pool(x, pool_size=3, strides=2, padding="same")
    np.testing.assert_array_equal(out.ravel(), [1.0, 1.0, 1.0])
    (dx,) = P.average_pool_vjp(np.ones_like(out), out, x, pool_size=3, strides=2, padding="same")
    np.testing.assert_allclose(dx.ravel(), [1 / 2, 1 / 2 + 1 / 3, 1 / 3, 1 / 3 + 1 / 2, 1 / 2])


@pytest.mark.parametrize("kind", ["max", "average"])
def test_strides_none_means_pool_size_and_invalid_padding_raises(kind):
    x = np.random.default_rng(8).normal(size=(1, 6, 7, 2))
    a = FORWARD[kind](x, pool_size=(2, 3), strides=None, padding="same")
    b = FORWARD[kind](x, pool_size=(2, 3), strides=(2, 3), padding="SAME")
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="padding"):
        FORWARD[kind](x, pool_size=2, strides=1, padding="causal")
    with pytest.raises(ValueError, match="pool_size"):
        FORWARD[kind](x, pool_size=(2, 2, 2), strides=1, padding="valid")
