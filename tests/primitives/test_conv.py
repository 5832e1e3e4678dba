"""Tests for the convolution primitives in refkeras.primitives.conv.

Forward and VJP are checked against ``keras.ops.conv`` / ``keras.ops.depthwise_conv`` on the JAX
backend (VJP through ``jax.vjp``), against central finite differences in float64, and the fast
im2col implementation against the loop version.
"""

import os

import numpy as np
import pytest

from refkeras.primitives import conv as C


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def jax(keras):
    return pytest.importorskip("jax")


def _arrays(x_shape, k_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=x_shape).astype(dtype)
    k = rng.uniform(-1, 1, size=k_shape).astype(dtype)
    return x, k


def keras_fwd_vjp(jax, fn, args, g):
    """``(fn(*args), vjp(g))`` from JAX, compiled as one program (much faster than op by op)."""

    def both(args, g):
        out, vjp = jax.vjp(fn, *args)
        return out, vjp(g)

    out, grads = jax.jit(both)(args, g)
    return np.asarray(out), [np.asarray(a) for a in grads]


def numeric_vjp(f, args, g, eps=1e-6):
    """``<g, df/da>`` for each array ``a`` in ``args``, by central differences (float64)."""
    grads = []
    for i, a in enumerate(args):
        grad = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = [list(args), list(args)]
            plus[i], minus[i] = a.copy(), a.copy()
            plus[i][idx] += eps
            minus[i][idx] -= eps
            grad[idx] = np.sum(g * (f(*plus) - f(*minus))) / (2 * eps)
        grads.append(grad)
    return grads


# (x_shape, kernel_shape, strides, padding, dilation_rate): ranks 1-3, odd and even sizes and
# kernels (even kernels make "same" padding asymmetric), strides not dividing the size, mixed
# per-dimension strides/dilations, groups (kernel in_channels < x channels), batch 1.
CASES = [
    ((2, 7, 3), (3, 3, 4), 1, "valid", 1),
    ((1, 8, 3), (2, 3, 4), 1, "same", 1),
    ((2, 10, 3), (4, 3, 2), 3, "same", 1),
    ((2, 11, 3), (3, 3, 2), 1, "same", 2),
    ((2, 11, 3), (3, 3, 2), 2, "same", 2),
    ((2, 9, 4), (3, 2, 6), 1, "same", 1),
    ((1, 6, 6, 3), (2, 2, 3, 4), 1, "same", 1),
    ((2, 7, 6, 3), (3, 2, 3, 4), (2, 1), "same", 1),
    ((2, 7, 8, 3), (3, 3, 3, 2), (2, 3), "valid", 1),
    ((2, 8, 7, 3), (3, 3, 3, 2), 1, "same", (2, 1)),
    ((1, 6, 7, 6), (3, 2, 2, 6), 1, "same", 2),
    ((2, 5, 6, 5, 2), (3, 2, 3, 2, 3), (2, 1, 2), "same", 1),
    ((1, 7, 5, 6, 2), (2, 2, 2, 2, 2), 1, "same", (2, 1, 2)),
    ((1, 5, 5, 4, 4), (2, 2, 2, 2, 4), 2, "valid", 1),
]


def _groups(x_shape, k_shape):
    return x_shape[-1] // k_shape[-2]


@pytest.mark.parametrize("x_shape,k_shape,strides,padding,dilation", CASES)
def test_conv_matches_keras_forward_and_vjp(
    keras, jax, x_shape, k_shape, strides, padding, dilation
):
    x, k = _arrays(x_shape, k_shape, "float32")
    kw = dict(strides=strides, padding=padding, dilation_rate=dilation)
    groups = _groups(x_shape, k_shape)
    out = C.conv(x, k, groups=groups, **kw)
    g = np.random.default_rng(1).uniform(-1, 1, size=out.shape).astype("float32")
    dx, dk = C.conv_vjp(g, out, x, k, groups=groups, **kw)
    ref, (rdx, rdk) = keras_fwd_vjp(jax, lambda a, b: keras.ops.conv(a, b, **kw), (x, k), g)
    assert out.dtype == dx.dtype == dk.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, rdx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dk, rdk, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("strides,dilation", [(2, 1), (1, 2)])
def test_causal_matches_keras_conv1d(keras, jax, strides, dilation):
    """Causal = what keras.layers.Conv1D does: left-pad (k-1)*d, then a valid conv.  (The layer
    refuses strides > 1 together with dilation > 1; the primitive does not care.)"""
    x, k = _arrays((2, 9, 3), (3, 3, 4), "float32", seed=2)
    layer = keras.layers.Conv1D(
        4, 3, strides=strides, padding="causal", dilation_rate=dilation, use_bias=False
    )
    layer.build(x.shape)
    layer.kernel.assign(k)
    kw = dict(strides=strides, padding="causal", dilation_rate=dilation)
    out = C.conv(x, k, **kw)
    g = np.random.default_rng(3).uniform(-1, 1, size=out.shape).astype("float32")
    np.testing.assert_allclose(out, layer(x), rtol=1e-5, atol=1e-5)

    def f(a, b):
        a = keras.ops.pad(a, [[0, 0], [2 * dilation, 0], [0, 0]])
        return keras.ops.conv(a, b, strides=strides, padding="valid", dilation_rate=dilation)

    _, grads = keras_fwd_vjp(jax, f, (x, k), g)
    for mine, ref in zip(C.conv_vjp(g, out, x, k, **kw), grads):
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "x_shape,k_shape,strides,padding,dilation",
    [
        ((1, 6, 2), (3, 2, 3), 2, "same", 1),
        ((2, 7, 2), (2, 2, 2), 1, "causal", 2),
        ((1, 4, 5, 2), (2, 3, 2, 3), (2, 1), "same", 1),
        ((1, 5, 5, 2), (2, 2, 2, 2), 1, "valid", 2),
        ((1, 5, 4, 4), (3, 2, 2, 4), 2, "same", 1),  # groups = 2
        ((1, 3, 4, 3, 2), (2, 2, 2, 2, 2), (1, 2, 1), "same", 1),
    ],
)
def test_conv_vjp_matches_finite_differences(x_shape, k_shape, strides, padding, dilation):
    x, k = _arrays(x_shape, k_shape, "float64", seed=4)
    kw = dict(strides=strides, padding=padding, dilation_rate=dilation)
    kw["groups"] = _groups(x_shape, k_shape)
    out = C.conv(x, k, **kw)
    g = np.random.default_rng(5).uniform(-1, 1, size=out.shape)
    dx, dk = C.conv_vjp(g, out, x, k, **kw)
    ndx, ndk = numeric_vjp(lambda a, b: C.conv(a, b, **kw), [x, k], g)
    assert dx.dtype == np.float64 and dk.dtype == np.float64
    np.testing.assert_allclose(dx, ndx, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dk, ndk, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "x_shape,k_shape,strides,padding,dilation",
    [
        ((2, 9, 3), (3, 3, 4), 2, "same", 1),
        ((2, 9, 3), (3, 3, 4), 1, "causal", 2),
        ((1, 6, 7, 4), (3, 2, 2, 6), (2, 1), "same", (1, 2)),
        ((2, 5, 5, 3), (2, 2, 3, 2), 1, "valid", 2),
        ((1, 4, 5, 3, 2), (2, 3, 2, 2, 3), (1, 2, 2), "same", 1),
    ],
)
def test_fast_matches_naive(dtype, x_shape, k_shape, strides, padding, dilation):
    x, k = _arrays(x_shape, k_shape, dtype, seed=6)
    kw = dict(strides=strides, padding=padding, dilation_rate=dilation)
    kw["groups"] = _groups(x_shape, k_shape)
    out = C.conv(x, k, **kw)
    ref = C.conv_naive(x, k, **kw)
    assert out.dtype == ref.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    g = np.random.default_rng(7).uniform(-1, 1, size=out.shape).astype(dtype)
    for mine, naive in zip(C.conv_vjp(g, out, x, k, **kw), C.conv_vjp_naive(g, out, x, k, **kw)):
        assert mine.dtype == naive.dtype == np.dtype(dtype)
        np.testing.assert_allclose(mine, naive, rtol=tol, atol=tol)


def test_same_padding_amounts_follow_xla():
    # n=5, k=3, s=2: out 3, total = (3-1)*2 + 3 - 5 = 2 -> (1, 1)
    assert C.padding_amounts([5], [3], [2], [1], "same") == [(1, 1)]
    # n=6, k=2, s=1: total 1, the odd element goes after
    assert C.padding_amounts([6], [2], [1], [1], "same") == [(0, 1)]
    # n=6, k=4, s=2: total = 2*2 + 4 - 6 = 2 -> (1, 1); n=6, k=1, s=4: total clipped at 0
    assert C.padding_amounts([6, 6], [4, 1], [2, 4], [1, 1], "same") == [(1, 1), (0, 0)]
    # dilation enlarges the window: k=3, d=2 -> w=5, n=7, s=1: total 4 -> (2, 2)
    assert C.padding_amounts([7], [3], [1], [2], "same") == [(2, 2)]
    assert C.padding_amounts([7], [3], [1], [2], "causal") == [(4, 0)]


def test_int_and_tuple_parameters_agree():
    x, k = _arrays((1, 6, 7, 2), (3, 3, 2, 3), "float64")
    a = C.conv(x, k, strides=2, padding="same", dilation_rate=1)
    b = C.conv(x, k, strides=(2, 2), padding="SAME", dilation_rate=(1, 1))
    np.testing.assert_array_equal(a, b)


def test_x_is_cast_to_kernel_dtype_and_dx_back():
    x, k = _arrays((1, 6, 2), (3, 2, 3), "float64")
    out = C.conv(x, k.astype("float32"), strides=1, padding="same", dilation_rate=1)
    assert out.dtype == np.float32
    dx, dk = C.conv_vjp(
        np.ones_like(out), out, x, k.astype("float32"), strides=1, padding="same", dilation_rate=1
    )
    assert dx.dtype == np.float64 and dk.dtype == np.float32


def test_invalid_arguments_raise():
    x, k = _arrays((1, 6, 6, 2), (3, 3, 2, 3), "float32")
    with pytest.raises(ValueError, match="causal"):
        C.conv(x, k, strides=1, padding="causal", dilation_rate=1)
    with pytest.raises(ValueError, match="padding"):
        C.conv(x, k, strides=1, padding="full", dilation_rate=1)
    with pytest.raises(ValueError, match="groups"):
        C.conv(x, k, strides=1, padding="same", dilation_rate=1, groups=2)
    with pytest.raises(ValueError, match="empty"):
        C.conv(x[:, :2], k, strides=1, padding="valid", dilation_rate=1)
    with pytest.raises(ValueError, match="strides"):
        C.conv(x, k, strides=(1, 1, 1), padding="valid", dilation_rate=1)


# ---------------------------------------------------------------------------------------------
# Depthwise
# ---------------------------------------------------------------------------------------------

DEPTHWISE_CASES = [
    ((2, 9, 3), (3, 3, 1), 1, "same", 1),
    ((2, 10, 3), (4, 3, 2), 3, "valid", 1),
    ((2, 7, 6, 3), (3, 3, 3, 2), (2, 1), "same", 1),
    ((1, 8, 7, 2), (2, 3, 2, 3), 1, "same", (2, 1)),
    ((1, 5, 4, 5, 2), (2, 3, 2, 2, 2), (1, 2, 1), "same", 1),
]


@pytest.mark.parametrize("x_shape,k_shape,strides,padding,dilation", DEPTHWISE_CASES)
def test_depthwise_matches_keras(keras, jax, x_shape, k_shape, strides, padding, dilation):
    x, k = _arrays(x_shape, k_shape, "float32", seed=8)
    kw = dict(strides=strides, padding=padding, dilation_rate=dilation)
    out = C.depthwise_conv(x, k, **kw)
    g = np.random.default_rng(9).uniform(-1, 1, size=out.shape).astype("float32")
    fn = lambda a, b: keras.ops.depthwise_conv(a, b, **kw)  # noqa: E731
    ref, grads = keras_fwd_vjp(jax, fn, (x, k), g)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    for mine, theirs in zip(C.depthwise_conv_vjp(g, out, x, k, **kw), grads):
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("x_shape,k_shape,strides,padding,dilation", DEPTHWISE_CASES[1:4])
def test_depthwise_is_grouped_conv_and_vjp_matches_finite_differences(
    x_shape, k_shape, strides, padding, dilation
):
    x, k = _arrays(x_shape, k_shape, "float64", seed=10)
    kw = dict(strides=strides, padding=padding, dilation_rate=dilation)
    out = C.depthwise_conv(x, k, **kw)
    c, m = k_shape[-2:]
    grouped = C.conv(x, k.reshape(*k_shape[:-2], 1, c * m), groups=c, **kw)
    np.testing.assert_allclose(out, grouped, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(11).uniform(-1, 1, size=out.shape)
    dx, dk = C.depthwise_conv_vjp(g, out, x, k, **kw)
    ndx, ndk = numeric_vjp(lambda a, b: C.depthwise_conv(a, b, **kw), [x, k], g)
    np.testing.assert_allclose(dx, ndx, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dk, ndk, rtol=1e-6, atol=1e-8)
