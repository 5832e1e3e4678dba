"""The Numba pooling kernels against the NumPy reference over the geometry cases of
``tests/primitives/test_pool.py`` (ranks 1-3, overlapping windows, gaps, partial windows), with
ties and NaNs, serial and parallel (``prange``) versions."""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

from accel.numba import pool as npool  # noqa: E402
from refkeras.primitives import pool as ref  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[2] / "primitives"))
from test_pool import CASES  # noqa: E402


def _input(x_shape, dtype):
    # small integers: many ties inside windows; one NaN and one -inf
    x = np.random.default_rng(0).integers(-3, 3, size=x_shape).astype(dtype)
    x.flat[1] = np.nan
    x.flat[-2] = -np.inf
    return x


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["max_pool", "average_pool"])
@pytest.mark.parametrize("x_shape,pool_size,strides,padding", CASES)
def test_pool_matches_reference(
    monkeypatch, x_shape, pool_size, strides, padding, name, dtype, parallel
):
    if parallel:
        monkeypatch.setattr("accel.numba._common.PARALLEL_MIN", 0)
    x = _input(x_shape, dtype)
    kw = dict(pool_size=pool_size, strides=strides, padding=padding)
    out = getattr(ref, name)(x, **kw)
    actual = getattr(npool, name)(x, **kw)
    assert actual.dtype == out.dtype and actual.shape == out.shape
    np.testing.assert_allclose(actual, out, rtol=1e-6)
    g = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
    (expected_dx,) = getattr(ref, name + "_vjp")(g, out, x, **kw)
    (dx,) = getattr(npool, name + "_vjp")(g, out, x, **kw)
    assert dx.dtype == expected_dx.dtype and dx.shape == expected_dx.shape
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize(
    "shape,axis,keepdims",
    [((4, 5, 6), 1, False), ((4, 5, 6), (0, 2), True), ((4, 5, 6), None, False),
     ((2, 3, 3, 4), (1, 2), False), ((3, 4), -1, True)],
)  # fmt: skip
@pytest.mark.parametrize(
    "x_dtype,g_dtype", [("f8", "f8"), ("f4", "f4"), ("f8", "f4"), ("i4", "f8")]
)
def test_max_min_vjp_share_ties_like_the_reference(
    monkeypatch, shape, axis, keepdims, name, x_dtype, g_dtype, parallel
):
    from accel.numba import reduce as nreduce
    from refkeras.primitives import reduce as rreduce

    if parallel:
        monkeypatch.setattr("accel.numba._common.PARALLEL_MIN", 0)
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, size=shape).astype(x_dtype)  # many ties
    if x.dtype.kind == "f":
        x.flat[3] = np.nan  # a NaN result chooses nothing: 0 / 0
    out = getattr(rreduce, name)(x, axis=axis, keepdims=keepdims)
    g = rng.normal(size=np.shape(out)).astype(g_dtype)
    with np.errstate(invalid="ignore"):
        (expected,) = getattr(rreduce, name + "_vjp")(g, out, x, axis=axis, keepdims=keepdims)
    (actual,) = getattr(nreduce, name + "_vjp")(g, out, x, axis=axis, keepdims=keepdims)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-6)
