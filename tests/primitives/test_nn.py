"""softmax and log_softmax: VJPs against finite differences on several axes and on large logits,
forward stability (no overflow, -inf logits) and float32 preservation."""

import numpy as np
import pytest
from fd import check_dtype_preserved, check_vjp

from refkeras.backend import load_backend
from refkeras.primitives import nn as N
from refkeras.primitives.interface import PRIMITIVES

load_backend("numpy")

rng = np.random.default_rng(5)
X3 = rng.normal(size=(2, 3, 4))
LARGE = rng.normal(size=(3, 4)) + np.array([[800.0], [-900.0], [0.0]])  # rows far from 0

CASES = [
    pytest.param(name, [x], {"axis": axis}, {}, id=f"{name}-{label}-{axis}")
    for name in ("softmax", "log_softmax")
    for label, x in [("3d", X3), ("1d", rng.normal(size=5))]
    for axis in ([-1, 0, 1] if label == "3d" else [0])
] + [
    pytest.param(name, [LARGE], {"axis": -1}, {"rtol": 1e-5}, id=f"{name}-large")
    for name in ("softmax", "log_softmax")
]


def test_every_nn_primitive_has_a_case():
    assert {p.values[0] for p in CASES} == set(PRIMITIVES["nn"])


@pytest.mark.parametrize("name,arrays,params,tol", CASES)
def test_vjp_matches_finite_differences(name, arrays, params, tol):
    check_vjp(name, arrays, params, **tol)


@pytest.mark.parametrize("name,arrays,params,tol", CASES)
def test_float32_is_preserved(name, arrays, params, tol):
    check_dtype_preserved(name, arrays, params, np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_logits_are_stable(dtype):
    x = np.array([[1e4, -1e4, 0.0], [1000.0, 1000.0, 999.0]], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = N.softmax(x)
        lp = N.log_softmax(x)
    assert p.dtype == lp.dtype == dtype
    e = np.exp(-1.0)
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / (2 + e), 1 / (2 + e), e / (2 + e)]], rtol=1e-6)
    np.testing.assert_allclose(lp[1], np.log(p[1]), rtol=1e-6)
    assert lp[0, 0] == 0.0 and lp[0, 1] == -2e4


def test_minus_infinity_logits_get_zero_probability_and_no_nan_gradient():
    x = np.array([[0.5, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]])
    p = N.softmax(x)
    np.testing.assert_allclose(p.sum(-1), 1.0)
    assert p[0, 1] == 0.0 and p[1, 1] == 1.0
    (gx,) = N.softmax_vjp(np.ones_like(p), p, x)
    assert np.all(np.isfinite(gx))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_matches_jax(name):
    jax = pytest.importorskip("jax")
    x = X3.astype(np.float32)
    fn = getattr(N, name)
    vjp = getattr(N, name + "_vjp")
    for axis in (-1, 1):
        out = fn(x, axis=axis)
        g = rng.normal(size=x.shape).astype(np.float32)
        expected, pullback = jax.vjp(lambda a, axis=axis: getattr(jax.nn, name)(a, axis=axis), x)
        np.testing.assert_allclose(out, np.asarray(expected), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(
            vjp(g, out, x, axis=axis)[0], pullback(g)[0], rtol=1e-5, atol=1e-6
        )
