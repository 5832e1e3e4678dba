"""bfloat16 is a float: results keep it and gradients flow through it (ml_dtypes' bfloat16 is not
a NumPy ``inexact`` subtype and its matmul widens to float32; the reference corrects both)."""

import ml_dtypes
import numpy as np

from refkeras.primitives import elementwise, linalg

BF16 = np.dtype(ml_dtypes.bfloat16)


def test_matmul_keeps_bfloat16_and_its_vjp_too():
    a = np.array([[1.0, 2.0, 3.0]], BF16)
    b = np.array([[1.0], [0.5], [0.25]], BF16)
    out = linalg.matmul(a, b)
    assert out.dtype == BF16 and float(out[0, 0]) == 2.75
    da, db = linalg.matmul_vjp(np.ones((1, 1), BF16), out, a, b)
    assert da.dtype == BF16 and db.dtype == BF16
    np.testing.assert_array_equal(da.astype(np.float32), [[1.0, 0.5, 0.25]])


def test_gradient_flows_through_a_cast_from_and_to_bfloat16():
    x = np.array([1.5, -2.0], BF16)
    up = elementwise.cast(x, dtype="float32")
    (gx,) = elementwise.cast_vjp(np.array([3.0, 4.0], np.float32), up, x, dtype="float32")
    assert gx is not None and gx.dtype == BF16
    np.testing.assert_array_equal(gx.astype(np.float32), [3.0, 4.0])
    y = np.array([1.5], np.float32)
    down = elementwise.cast(y, dtype="bfloat16")
    (gy,) = elementwise.cast_vjp(np.ones(1, BF16), down, y, dtype="bfloat16")
    assert gy is not None and gy.dtype == np.float32


def test_erf_vjp_keeps_the_input_dtype():
    x = np.array([0.0, 1.0], BF16)
    (g,) = elementwise.erf_vjp(np.ones(2, BF16), elementwise.erf(x), x)
    assert g.dtype == BF16
    np.testing.assert_allclose(g.astype(np.float32), [2 / np.sqrt(np.pi), 0.4151], rtol=1e-2)
