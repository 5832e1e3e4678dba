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
