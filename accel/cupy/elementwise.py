"""Elementwise primitives on CuPy arrays: forward and VJP side by side (as
``refkeras/primitives/elementwise.py``, whose docstrings carry the formulas).

Every VJP has the signature ``name_vjp(g, out, *inputs) -> tuple`` with one cotangent per input
(``None`` for inputs that are not differentiable).  Binary primitives broadcast like NumPy; their
VJPs sum the cotangent back to each input's shape (:func:`unbroadcast`).
"""

from __future__ import annotations

import math

import cupy as cp
import cupyx.scipy.special

from refkeras.primitives._util import is_float  # dtype metadata only

from ._util import unbroadcast

# --- unary -------------------------------------------------------------------------------------


def negative(x):
    """y = -x"""
    return cp.negative(x)


def negative_vjp(g, out, x):
    return (-g,)


def exp(x):
    """y = e^x"""
    return cp.exp(x)


def exp_vjp(g, out, x):
    """dy/dx = e^x = y"""
    return (g * out,)


def log(x):
    """y = ln x"""
    return cp.log(x)


def log_vjp(g, out, x):
    """dy/dx = 1/x"""
    return (g / x,)


def log1p(x):
    """y = ln(1 + x)"""
    return cp.log1p(x)


def log1p_vjp(g, out, x):
    return (g / (1 + x),)


def expm1(x):
    """y = e^x - 1"""
    return cp.expm1(x)


def expm1_vjp(g, out, x):
    return (g * (out + 1),)


def sqrt(x):
    """y = sqrt(x)"""
    return cp.sqrt(x)


def sqrt_vjp(g, out, x):
    """dy/dx = 1 / (2 sqrt(x))"""
    return (g / (2 * out),)


def square(x):
    """y = x^2"""
    return cp.square(x)


def square_vjp(g, out, x):
    return (g * 2 * x,)


def abs(x):  # noqa: A001 - the Keras op is called abs
    """y = |x|"""
    return cp.abs(x)


def abs_vjp(g, out, x):
    """dy/dx = 1 where x >= 0 else -1 (so 1 at 0, as ``jax.grad(jnp.abs)``)"""
    return (cp.where(x >= 0, g, -g),)


def tanh(x):
    """y = tanh(x)"""
    return cp.tanh(x)


def tanh_vjp(g, out, x):
    """dy/dx = 1 - y^2"""
    return (g * (1 - out * out),)


def sigmoid(x):
    """y = 1 / (1 + e^-x), computed without overflow for large |x|."""
    e = cp.exp(-cp.abs(x))  # never overflows: the exponent is <= 0
    return cp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_vjp(g, out, x):
    """dy/dx = y (1 - y)"""
    return (g * out * (1 - out),)


def relu(x):
    """y = max(x, 0)"""
    return cp.maximum(x, 0).astype(x.dtype, copy=False)


def relu_vjp(g, out, x):
    """dy/dx = 1 where x > 0 else 0 (0 at 0, as JAX)"""
    return (g * (x > 0),)


def softplus(x):
    """y = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)"""
    return (cp.maximum(x, 0) + cp.log1p(cp.exp(-cp.abs(x)))).astype(x.dtype, copy=False)


def softplus_vjp(g, out, x):
    """dy/dx = sigmoid(x)"""
    return (g * sigmoid(x),)


def sin(x):
    return cp.sin(x)


def sin_vjp(g, out, x):
    return (g * cp.cos(x),)


def cos(x):
    return cp.cos(x)


def cos_vjp(g, out, x):
    return (-g * cp.sin(x),)


def erf(x):
    """y = 2/sqrt(pi) * integral_0^x e^(-t^2) dt (``cupyx.scipy.special.erf``), computed in
    float64 and cast back, as the reference's ``math.erf``."""
    return cupyx.scipy.special.erf(x.astype(cp.float64)).astype(x.dtype, copy=False)


def erf_vjp(g, out, x):
    """dy/dx = 2/sqrt(pi) e^(-x^2)"""
    return ((g * (2 / math.sqrt(math.pi)) * cp.exp(-x * x)).astype(x.dtype, copy=False),)


def sign(x):
    """y = sign(x); its gradient is zero everywhere."""
    return cp.sign(x)


def sign_vjp(g, out, x):
    return (cp.zeros_like(g),)


def floor(x):
    return cp.floor(x)


def floor_vjp(g, out, x):
    return (cp.zeros_like(g),)


def ceil(x):
    return cp.ceil(x)


def ceil_vjp(g, out, x):
    return (cp.zeros_like(g),)


def round(x, *, decimals=0):  # noqa: A001 - the Keras op is called round
    """Round half to even, as NumPy and JAX do."""
    return cp.round(x, decimals)


def round_vjp(g, out, x, *, decimals=0):
    return (cp.zeros_like(g),)


def cast(x, *, dtype):
    """y = x converted to ``dtype``."""
    return x.astype(dtype, copy=False)


def cast_vjp(g, out, x, *, dtype):
    """The cotangent flows back cast to the input dtype.  Nothing flows into an integer input or
    out of an integer (or bool) result: rounding to an integer is piecewise constant (JAX's
    gradient there is zero)."""
    if not (is_float(x.dtype) and is_float(out.dtype)):
        return (None,)
    return (g.astype(x.dtype, copy=False),)


def clip(x, *, x_min, x_max):
    """y = min(max(x, x_min), x_max)"""
    return cp.clip(x, x_min, x_max).astype(x.dtype, copy=False)


def clip_vjp(g, out, x, *, x_min, x_max):
    """The gradient of ``minimum(maximum(x, x_min), x_max)``, which is what ``jnp.clip``
    computes: 1 strictly inside, 0 outside, and a tie at a bound halves it (as ``maximum`` and
    ``minimum`` do), so x == x_min gives 1/2 (1/4 when x_min == x_max)."""
    lifted = cp.maximum(x, x_min)
    through_max = (x > x_min) + 0.5 * (x == x_min)
    through_min = (lifted < x_max) + 0.5 * (lifted == x_max)
    return (g * (through_max * through_min).astype(g.dtype, copy=False),)


# --- binary ------------------------------------------------------------------------------------


def add(a, b):
    """y = a + b"""
    return cp.add(a, b)


def add_vjp(g, out, a, b):
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)


def subtract(a, b):
    """y = a - b"""
    return cp.subtract(a, b)


def subtract_vjp(g, out, a, b):
    return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


def multiply(a, b):
    """y = a * b"""
    return cp.multiply(a, b)


def multiply_vjp(g, out, a, b):
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


def divide(a, b):
    """y = a / b"""
    return cp.divide(a, b)


def divide_vjp(g, out, a, b):
    """dy/da = 1/b, dy/db = -a/b^2"""
    return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)


def power(a, b):
    """y = a ** b"""
    return cp.power(a, b)


def power_vjp(g, out, a, b):
    """dy/da = b a^(b-1); dy/db = y ln a (taken as 0 where a == 0, as JAX does)."""
    ga = g * b * cp.power(a, b - 1)
    log_a = cp.where(a > 0, cp.log(cp.where(a > 0, a, 1)), 0)
    gb = g * out * log_a
    return unbroadcast(ga.astype(a.dtype, copy=False), a.shape), unbroadcast(gb, b.shape)


def maximum(a, b):
    """y = max(a, b)"""
    return cp.maximum(a, b)


def maximum_vjp(g, out, a, b):
    """Ties send half the cotangent to each side, as ``jax.grad(jnp.maximum)``."""
    wa = ((a > b) + 0.5 * (a == b)).astype(g.dtype, copy=False)
    return unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)


def minimum(a, b):
    """y = min(a, b)"""
    return cp.minimum(a, b)


def minimum_vjp(g, out, a, b):
    """Ties send half the cotangent to each side, as ``jax.grad(jnp.minimum)``."""
    wa = ((a < b) + 0.5 * (a == b)).astype(g.dtype, copy=False)
    return unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)


def where(condition, a, b):
    """y = a where condition else b"""
    return cp.where(condition, a, b)


def where_vjp(g, out, condition, a, b):
    zero = g.dtype.type(0)
    return (
        None,
        unbroadcast(cp.where(condition, g, zero), a.shape),
        unbroadcast(cp.where(condition, zero, g), b.shape),
    )


# --- comparisons and logic (not differentiable) ------------------------------------------------


def _no_grad_vjp(g, out, *inputs, **params):
    return (None,) * len(inputs)


def equal(a, b):
    return cp.equal(a, b)


def not_equal(a, b):
    return cp.not_equal(a, b)


def less(a, b):
    return cp.less(a, b)


def less_equal(a, b):
    return cp.less_equal(a, b)


def greater(a, b):
    return cp.greater(a, b)


def greater_equal(a, b):
    return cp.greater_equal(a, b)


def logical_and(a, b):
    return cp.logical_and(a, b)


def logical_or(a, b):
    return cp.logical_or(a, b)


def logical_not(x):
    return cp.logical_not(x)


def isnan(x):
    return cp.isnan(x)


def isfinite(x):
    return cp.isfinite(x)


equal_vjp = not_equal_vjp = less_vjp = less_equal_vjp = _no_grad_vjp
greater_vjp = greater_equal_vjp = logical_and_vjp = logical_or_vjp = _no_grad_vjp
logical_not_vjp = isnan_vjp = isfinite_vjp = _no_grad_vjp
