"""Elementwise primitives: forward and VJP side by side.

Every VJP has the signature ``name_vjp(g, out, *inputs) -> tuple`` with one cotangent per input
(``None`` for inputs that are not differentiable).  Binary primitives broadcast like NumPy; their
VJPs sum the cotangent back to each input's shape (:func:`unbroadcast`).
"""

from __future__ import annotations

import math

import numpy as np

from refkeras.primitives._util import is_float, unbroadcast

# --- unary -------------------------------------------------------------------------------------


def negative(x):
    """y = -x"""
    return np.negative(x)


def negative_vjp(g, out, x):
    return (-g,)


def exp(x):
    """y = e^x"""
    return np.exp(x)


def exp_vjp(g, out, x):
    """dy/dx = e^x = y"""
    return (g * out,)


def log(x):
    """y = ln x"""
    return np.log(x)


def log_vjp(g, out, x):
    """dy/dx = 1/x"""
    return (g / x,)


def log1p(x):
    """y = ln(1 + x)"""
    return np.log1p(x)


def log1p_vjp(g, out, x):
    return (g / (1 + x),)


def expm1(x):
    """y = e^x - 1"""
    return np.expm1(x)


def expm1_vjp(g, out, x):
    return (g * (out + 1),)


def sqrt(x):
    """y = sqrt(x)"""
    return np.sqrt(x)


def sqrt_vjp(g, out, x):
    """dy/dx = 1 / (2 sqrt(x))"""
    return (g / (2 * out),)


def square(x):
    """y = x^2"""
    return np.square(x)


def square_vjp(g, out, x):
    return (g * 2 * x,)


def abs(x):  # noqa: A001 - the Keras op is called abs
    """y = |x|"""
    return np.abs(x)


def abs_vjp(g, out, x):
    """dy/dx = 1 where x >= 0 else -1 (so 1 at 0, as ``jax.grad(jnp.abs)``)"""
    return (np.where(x >= 0, g, -g),)


def tanh(x):
    """y = tanh(x)"""
    return np.tanh(x)


def tanh_vjp(g, out, x):
    """dy/dx = 1 - y^2"""
    return (g * (1 - out * out),)


def sigmoid(x):
    """y = 1 / (1 + e^-x), computed without overflow for large |x|."""
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_vjp(g, out, x):
    """dy/dx = y (1 - y)"""
    return (g * out * (1 - out),)


def relu(x):
    """y = max(x, 0)"""
    return np.maximum(x, 0).astype(x.dtype, copy=False)


def relu_vjp(g, out, x):
    """dy/dx = 1 where x > 0 else 0 (0 at 0, as JAX)"""
    return (g * (x > 0),)


def softplus(x):
    """y = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)"""
    return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype, copy=False)


def softplus_vjp(g, out, x):
    """dy/dx = sigmoid(x)"""
    return (g * sigmoid(x),)


def sin(x):
    return np.sin(x)


def sin_vjp(g, out, x):
    return (g * np.cos(x),)


def cos(x):
    return np.cos(x)


def cos_vjp(g, out, x):
    return (-g * np.sin(x),)


_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    """y = 2/sqrt(pi) * integral_0^x e^(-t^2) dt, exact to double precision (math.erf)."""
    return np.asarray(_erf(x), dtype=np.float64).astype(x.dtype, copy=False)


def erf_vjp(g, out, x):
    """dy/dx = 2/sqrt(pi) e^(-x^2)"""
    return ((g * (2 / math.sqrt(math.pi)) * np.exp(-x * x)).astype(x.dtype, copy=False),)


def sign(x):
    """y = sign(x); its gradient is zero everywhere."""
    return np.sign(x)


def sign_vjp(g, out, x):
    return (np.zeros_like(g),)


def floor(x):
    return np.floor(x)


def floor_vjp(g, out, x):
    return (np.zeros_like(g),)


def ceil(x):
    return np.ceil(x)


def ceil_vjp(g, out, x):
    return (np.zeros_like(g),)


def round(x, *, decimals=0):  # noqa: A001 - the Keras op is called round
    """Round half to even, as NumPy and JAX do."""
    return np.round(x, decimals)


def round_vjp(g, out, x, *, decimals=0):
    return (np.zeros_like(g),)


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
    return np.clip(x, x_min, x_max).astype(x.dtype, copy=False)


def clip_vjp(g, out, x, *, x_min, x_max):
    """The gradient of ``minimum(maximum(x, x_min), x_max)``, which is what ``jnp.clip``
    computes: 1 strictly inside, 0 outside, and a tie at a bound halves it (as ``maximum`` and
    ``minimum`` do), so x == x_min gives 1/2 (1/4 when x_min == x_max)."""
    lifted = np.maximum(x, x_min)
    through_max = (x > x_min) + 0.5 * (x == x_min)
    through_min = (lifted < x_max) + 0.5 * (lifted == x_max)
    return (g * (through_max * through_min).astype(g.dtype, copy=False),)


# --- binary ------------------------------------------------------------------------------------


def add(a, b):
    """y = a + b"""
    return np.add(a, b)


def add_vjp(g, out, a, b):
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)


def subtract(a, b):
    """y = a - b"""
    return np.subtract(a, b)


def subtract_vjp(g, out, a, b):
    return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


def multiply(a, b):
    """y = a * b"""
    return np.multiply(a, b)


def multiply_vjp(g, out, a, b):
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


def divide(a, b):
    """y = a / b"""
    return np.divide(a, b)


def divide_vjp(g, out, a, b):
    """dy/da = 1/b, dy/db = -a/b^2"""
    return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)


def power(a, b):
    """y = a ** b"""
    return np.power(a, b)


def power_vjp(g, out, a, b):
    """dy/da = b a^(b-1); dy/db = y ln a (taken as 0 where a == 0, as JAX does)."""
    ga = g * b * np.power(a, b - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
    gb = g * out * log_a
    return unbroadcast(ga.astype(a.dtype, copy=False), a.shape), unbroadcast(gb, b.shape)


def maximum(a, b):
    """y = max(a, b)"""
    return np.maximum(a, b)


def maximum_vjp(g, out, a, b):
    """Ties send half the cotangent to each side, as ``jax.grad(jnp.maximum)``."""
    wa = ((a > b) + 0.5 * (a == b)).astype(g.dtype, copy=False)
    return unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)


def minimum(a, b):
    """y = min(a, b)"""
    return np.minimum(a, b)


def minimum_vjp(g, out, a, b):
    """Ties send half the cotangent to each side, as ``jax.grad(jnp.minimum)``."""
    wa = ((a < b) + 0.5 * (a == b)).astype(g.dtype, copy=False)
    return unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)


def where(condition, a, b):
    """y = a where condition else b"""
    return np.where(condition, a, b)


def where_vjp(g, out, condition, a, b):
    zero = np.zeros((), dtype=g.dtype)
    return (
        None,
        unbroadcast(np.where(condition, g, zero), a.shape),
        unbroadcast(np.where(condition, zero, g), b.shape),
    )


# --- comparisons and logic (not differentiable) ------------------------------------------------


def _no_grad_vjp(g, out, *inputs, **params):
    return (None,) * len(inputs)


def equal(a, b):
    return np.equal(a, b)


def not_equal(a, b):
    return np.not_equal(a, b)


def less(a, b):
    return np.less(a, b)


def less_equal(a, b):
    return np.less_equal(a, b)


def greater(a, b):
    return np.greater(a, b)


def greater_equal(a, b):
    return np.greater_equal(a, b)


def logical_and(a, b):
    return np.logical_and(a, b)


def logical_or(a, b):
    return np.logical_or(a, b)


def logical_not(x):
    return np.logical_not(x)


def isnan(x):
    return np.isnan(x)


def isfinite(x):
    return np.isfinite(x)


equal_vjp = not_equal_vjp = less_vjp = less_equal_vjp = _no_grad_vjp
greater_vjp = greater_equal_vjp = logical_and_vjp = logical_or_vjp = _no_grad_vjp
logical_not_vjp = isnan_vjp = isfinite_vjp = _no_grad_vjp
