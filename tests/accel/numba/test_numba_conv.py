"""The Numba conv and depthwise-conv kernels against the NumPy reference (forward and VJP with a
random cotangent), over the geometry cases of ``tests/primitives/test_conv.py`` (ranks 1-3,
strides, dilations, valid/same/causal, groups, batch 1) in float64 and float32, plus float16."""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

from accel.numba import conv as nconv  # noqa: E402
from refkeras.primitives import conv as ref  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[2] / "primitives"))
from test_conv import CASES  # noqa: E402

# the benchmark CNN's layers, and a grouped 2-D conv
EXTRA = [
    ((3, 28, 28, 1), (3, 3, 1, 8), 1, "valid", 1),
    ((3, 13, 13, 8), (3, 3, 8, 8), 1, "valid", 1),
    ((2, 9, 9, 6), (3, 3, 2, 6), (2, 2), "same", 1),
    ((2, 9, 4), (3, 4, 5), 1, "causal", 2),
]


def _check(expected, actual, what):
    expected, actual = np.asarray(expected), np.asarray(actual)
    assert actual.dtype == expected.dtype, what
    assert actual.shape == expected.shape, what
    tol = {np.float64: 1e-12, np.float32: 2e-5, np.float16: 2e-2}[expected.dtype.type]
    scale = max(np.max(np.abs(expected.astype(np.float64)), initial=0.0), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=what)


def _arrays(x_shape, k_shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=x_shape).astype(dtype), rng.normal(size=k_shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape,k_shape,strides,padding,dilation", CASES + EXTRA)
def test_conv_matches_reference(x_shape, k_shape, strides, padding, dilation, dtype):
    x, k = _arrays(x_shape, k_shape, dtype)
    kw = dict(strides=strides, padding=padding, dilation_rate=dilation)
    kw["groups"] = x_shape[-1] // k_shape[-2]
    out = ref.conv(x, k, **kw)
    _check(out, nconv.conv(x, k, **kw), "forward")
    g = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
    for i, (e, a) in enumerate(
        zip(ref.conv_vjp(g, out, x, k, **kw), nconv.conv_vjp(g, out, x, k, **kw))
    ):
        _check(e, a, f"cotangent {i}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape,k_shape,strides,padding,dilation", CASES + EXTRA)
def test_depthwise_conv_matches_reference(x_shape, k_shape, strides, padding, dilation, dtype):
    # depthwise kernel: (*kernel_size, C, M) with C = the input channels, M = k_shape[-1] % 3 + 1
    k_shape = (*k_shape[:-2], x_shape[-1], k_shape[-1] % 3 + 1)
    x, k = _arrays(x_shape, k_shape, dtype)
    kw = dict(strides=strides, padding=padding, dilation_rate=dilation)
    out = ref.depthwise_conv(x, k, **kw)
    _check(out, nconv.depthwise_conv(x, k, **kw), "forward")
    g = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
    expected = ref.depthwise_conv_vjp(g, out, x, k, **kw)
    actual = nconv.depthwise_conv_vjp(g, out, x, k, **kw)
    for i, (e, a) in enumerate(zip(expected, actual)):
        _check(e, a, f"cotangent {i}")


@pytest.mark.parametrize("name", ["conv", "depthwise_conv"])
def test_float16_and_mixed_dtypes_follow_the_reference(name):
    x, k = _arrays((2, 6, 6, 2), (3, 3, 2, 2), np.float16)
    kw = dict(strides=1, padding="same", dilation_rate=1)
    fwd, vjp = getattr(ref, name), getattr(ref, name + "_vjp")
    nfwd, nvjp = getattr(nconv, name), getattr(nconv, name + "_vjp")
    out = fwd(x, k, **kw)
    _check(out, nfwd(x, k, **kw), "forward float16")
    g = np.ones_like(out)
    for e, a in zip(vjp(g, out, x, k, **kw), nvjp(g, out, x, k, **kw)):
        _check(e, a, "vjp float16")
    # x float64, kernel float32: computed in the kernel's dtype, dx back in x's dtype
    x64 = x.astype(np.float64)
    k32 = k.astype(np.float32)
    out = fwd(x64, k32, **kw)
    _check(out, nfwd(x64, k32, **kw), "forward mixed")
    g = np.ones_like(out)
    for e, a in zip(vjp(g, out, x64, k32, **kw), nvjp(g, out, x64, k32, **kw)):
        _check(e, a, "vjp mixed")


def test_bad_channels_raise_like_the_reference():
    x, k = _arrays((1, 5, 5, 3), (3, 3, 2, 4), np.float32)
    with pytest.raises(ValueError, match="Input channels"):
        nconv.conv(x, k, strides=1, padding="valid", dilation_rate=1)


@pytest.mark.parametrize("x_shape,k_shape,strides,padding,dilation", CASES[::3] + EXTRA)
def test_parallel_kernels_match_the_reference(
    monkeypatch, x_shape, k_shape, strides, padding, dilation
):
    # every kernel takes its prange version (when Numba has more than one thread)
    monkeypatch.setattr("accel.numba._common.PARALLEL_MIN", 0)
    test_conv_matches_reference(x_shape, k_shape, strides, padding, dilation, np.float64)
    test_depthwise_conv_matches_reference(x_shape, k_shape, strides, padding, dilation, np.float64)
