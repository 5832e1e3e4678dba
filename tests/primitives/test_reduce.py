"""Reduction primitives: VJPs against finite differences for several axis/keepdims combinations,
ties (max/min) and zeros (prod) against ``jax.grad``, dtypes as Keras gives them."""

import numpy as np
import pytest
from fd import TABLE, check_dtype_preserved, check_vjp

from refkeras.backend import load_backend
from refkeras.primitives import reduce as R
from refkeras.primitives.interface import PRIMITIVES

load_backend("numpy")

rng = np.random.default_rng(7)
X3 = rng.normal(size=(2, 3, 4))
AXES = [None, 0, 1, -1, (0, 2), (1,), (0, 1, 2), ()]

CASES = []
for _name in ("sum", "mean", "max", "min", "prod", "argmax", "argmin"):
    for _axis in AXES:
        if _name.startswith("arg") and isinstance(_axis, tuple):
            continue
        for _keepdims in (False, True):
            _params = {"axis": _axis, "keepdims": _keepdims}
            CASES.append(pytest.param(_name, [X3], _params, id=f"{_name}-{_axis}-{_keepdims}"))
    CASES.append(pytest.param(_name, [rng.normal(size=5)], {}, id=f"{_name}-1d"))
    CASES.append(pytest.param(_name, [np.asarray(0.7)], {}, id=f"{_name}-0d"))
for _axis in (0, 1, -1):
    CASES.append(pytest.param("cumsum", [X3], {"axis": _axis}, id=f"cumsum-{_axis}"))
CASES.append(pytest.param("cumsum", [rng.normal(size=5)], {"axis": 0}, id="cumsum-1d"))


def test_every_reduce_primitive_has_a_case():
    assert {p.values[0] for p in CASES} == set(PRIMITIVES["reduce"])


@pytest.mark.parametrize("name,arrays,params", CASES)
def test_vjp_matches_finite_differences(name, arrays, params):
    grads = check_vjp(name, arrays, params)
    if name.startswith("arg"):
        assert grads == (None,)


@pytest.mark.parametrize("name,arrays,params", CASES)
def test_float32_is_preserved(name, arrays, params):
    check_dtype_preserved(name, arrays, params, np.float32)


def test_forward_values():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(R.sum(x, axis=(0, 2)), x.sum(axis=(0, 2)))
    np.testing.assert_array_equal(R.mean(x, axis=1, keepdims=True), x.mean(1, keepdims=True))
    np.testing.assert_array_equal(R.cumsum(x, axis=2), np.cumsum(x, axis=2))
    assert R.argmax(np.array([1.0, 3.0, 3.0])) == 1  # the first maximum
    assert R.argmin(np.array([2.0, 1.0, 1.0])) == 1
    assert R.argmax(x, axis=1).dtype == np.int32
    assert R.mean(np.array([1, 2], np.int32)) == 1.5  # not truncated to the integer dtype
    assert R.mean(np.ones(3, np.float16)).dtype == np.float16


@pytest.mark.parametrize(
    "dtype,expected",
    [("int8", "int32"), ("int16", "int32"), ("int32", "int32"), ("int64", "int64"),
     ("uint8", "uint32"), ("uint32", "uint32"), ("bool", "int32"), ("float16", "float16")],
)  # fmt: skip
def test_integer_sums_and_products_have_keras_dtypes(dtype, expected):
    """Keras 3: sum/prod of bool and small ints give (u)int32, other dtypes are kept (NumPy would
    give the platform int64)."""
    x = np.ones((2, 3), dtype=dtype)
    assert R.sum(x).dtype == expected
    assert R.sum(x, axis=0, keepdims=True).dtype == expected
    assert R.prod(x, axis=1).dtype == expected


@pytest.mark.parametrize(
    "dtype,expected",
    [("int8", "int8"), ("int32", "int32"), ("uint8", "uint8"), ("bool", "int32")],
)
def test_integer_cumsum_keeps_dtype(dtype, expected):
    x = np.ones((2, 3), dtype=dtype)
    out = R.cumsum(x, axis=1)
    assert out.dtype == expected
    np.testing.assert_array_equal(out, [[1, 2, 3], [1, 2, 3]])


# --- ties and zeros, against JAX ---------------------------------------------------------------

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

TIED = np.array([[3.0, 1.0, 3.0, 3.0], [2.0, 2.0, -1.0, 0.0], [5.0, 5.0, 5.0, 5.0]], np.float32)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_ties_share_the_gradient_like_jax(name, axis, keepdims):
    forward, vjp = TABLE[name]
    jax_fn = {"max": jnp.max, "min": jnp.min}[name]
    out = forward(TIED, axis=axis, keepdims=keepdims)
    g = np.random.default_rng(1).normal(size=np.shape(out)).astype(np.float32)
    (ours,) = vjp(g, out, TIED, axis=axis, keepdims=keepdims)
    _, pullback = jax.vjp(lambda x: jax_fn(x, axis=axis, keepdims=keepdims), TIED)
    np.testing.assert_allclose(ours, np.asarray(pullback(g)[0]), rtol=1e-6)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_with_zeros_matches_jax(axis):
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, -2.0, 0.5]], np.float32)
    out = R.prod(x, axis=axis)
    g = np.random.default_rng(2).normal(size=np.shape(out)).astype(np.float32)
    (ours,) = R.prod_vjp(g, out, x, axis=axis)
    _, pullback = jax.vjp(lambda a: jnp.prod(a, axis=axis), x)
    np.testing.assert_allclose(ours, np.asarray(pullback(g)[0]), rtol=1e-6)
    assert np.all(np.isfinite(ours))
