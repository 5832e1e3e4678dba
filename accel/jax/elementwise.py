"""Elementwise primitives in ``jax.numpy``: forward and VJP side by side.

Mirrors :mod:`refkeras.primitives.elementwise`: same signatures, same output dtypes (NumPy's
rules, see :func:`numpy_dtype`) and the same conventions at kinks and ties (which the reference
chose to be JAX's).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from accel.jax._util import as_dtype, numpy_dtype, unbroadcast


def _unary(np_fn, jnp_fn):
    """A forward computing ``jnp_fn`` in the dtype NumPy's ``np_fn`` would return."""

    def forward(x):
        return jnp_fn(as_dtype(x, numpy_dtype(np_fn, x)))

    forward.__doc__ = f"y = {np_fn.__name__}(x), in NumPy's output dtype."
    return forward


def _binary(np_fn, jnp_fn):
    def forward(a, b):
        dt = numpy_dtype(np_fn, a, b)
        return jnp_fn(as_dtype(a, dt), as_dtype(b, dt))

    forward.__doc__ = f"y = {np_fn.__name__}(a, b), broadcasting, in NumPy's output dtype."
    return forward


def _zeros_like(g):
    return jnp.zeros(g.shape, g.dtype)


# --- unary -------------------------------------------------------------------------------------

negative = _unary(np.negative, jnp.negative)
exp = _unary(np.exp, jnp.exp)
log = _unary(np.log, jnp.log)
log1p = _unary(np.log1p, jnp.log1p)
expm1 = _unary(np.expm1, jnp.expm1)
sqrt = _unary(np.sqrt, jnp.sqrt)
square = _unary(np.square, jnp.square)
abs = _unary(np.abs, jnp.abs)  # noqa: A001 - the Keras op is called abs
tanh = _unary(np.tanh, jnp.tanh)
sin = _unary(np.sin, jnp.sin)
cos = _unary(np.cos, jnp.cos)
sign = _unary(np.sign, jnp.sign)
floor = _unary(np.floor, jnp.floor)
ceil = _unary(np.ceil, jnp.ceil)


def negative_vjp(g, out, x):
    return (-g,)


def exp_vjp(g, out, x):
    """dy/dx = e^x = y"""
    return (g * out,)


def log_vjp(g, out, x):
    """dy/dx = 1/x"""
    return (g / x,)


def log1p_vjp(g, out, x):
    return (g / (1 + x),)


def expm1_vjp(g, out, x):
    return (g * (out + 1),)


def sqrt_vjp(g, out, x):
    """dy/dx = 1 / (2 sqrt(x))"""
    return (g / (2 * out),)


def square_vjp(g, out, x):
    return (g * 2 * x,)


def abs_vjp(g, out, x):
    """dy/dx = 1 where x >= 0 else -1 (1 at 0, as ``jax.grad(jnp.abs)``)"""
    return (jnp.where(x >= 0, g, -g),)


def tanh_vjp(g, out, x):
    """dy/dx = 1 - y^2"""
    return (g * (1 - out * out),)


def sigmoid(x):
    """y = 1 / (1 + e^-x) (``jax.nn.sigmoid``, which does not overflow), in x's dtype."""
    return jax.nn.sigmoid(x)


def sigmoid_vjp(g, out, x):
    """dy/dx = y (1 - y)"""
    return (g * out * (1 - out),)


def relu(x):
    """y = max(x, 0), in x's dtype."""
    return jnp.maximum(x, jnp.zeros((), x.dtype))


def relu_vjp(g, out, x):
    """dy/dx = 1 where x > 0 else 0 (0 at 0, as JAX)"""
    return (g * (x > 0),)


def softplus(x):
    """y = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), in x's dtype."""
    return jnp.maximum(x, 0) + jnp.log1p(jnp.exp(-jnp.abs(x)))


def softplus_vjp(g, out, x):
    """dy/dx = sigmoid(x)"""
    return (g * sigmoid(x),)


def sin_vjp(g, out, x):
    return (g * jnp.cos(x),)


def cos_vjp(g, out, x):
    return (-g * jnp.sin(x),)


def erf(x):
    """y = 2/sqrt(pi) * integral_0^x e^(-t^2) dt, in x's dtype.

    The reference evaluates ``math.erf`` in double precision and rounds; here ``lax.erf`` runs
    in x's own dtype (within a few ulp of it)."""
    return jax.lax.erf(x)


def erf_vjp(g, out, x):
    """dy/dx = 2/sqrt(pi) e^(-x^2)"""
    return (g * (2 / math.sqrt(math.pi)) * jnp.exp(-x * x),)


def sign_vjp(g, out, x):
    return (_zeros_like(g),)


def floor_vjp(g, out, x):
    return (_zeros_like(g),)


def ceil_vjp(g, out, x):
    return (_zeros_like(g),)


def round(x, *, decimals=0):  # noqa: A001 - the Keras op is called round
    """Round half to even, as NumPy and JAX do."""
    return jnp.round(x, decimals)


def round_vjp(g, out, x, *, decimals=0):
    return (_zeros_like(g),)


def cast(x, *, dtype):
    """y = x converted to ``dtype``."""
    return as_dtype(x, np.dtype(dtype))


def cast_vjp(g, out, x, *, dtype):
    """The cotangent cast back to the input dtype; ``None`` through integer or bool ends (see
    the reference)."""
    if not (jnp.issubdtype(x.dtype, jnp.inexact) and jnp.issubdtype(out.dtype, jnp.inexact)):
        return (None,)
    return (as_dtype(g, x.dtype),)


def clip(x, *, x_min, x_max):
    """y = min(max(x, x_min), x_max), in x's dtype (a ``None`` bound is no bound)."""
    y = x if x_min is None else jnp.maximum(x, x_min)
    y = y if x_max is None else jnp.minimum(y, x_max)
    return y.astype(x.dtype)


def clip_vjp(g, out, x, *, x_min, x_max):
    """1 strictly inside, 0 outside, a tie at a bound halves it (as ``maximum``/``minimum``)."""
    lifted = jnp.maximum(x, x_min)
    through_max = (x > x_min) + 0.5 * (x == x_min)
    through_min = (lifted < x_max) + 0.5 * (lifted == x_max)
    return (g * (through_max * through_min).astype(g.dtype),)


# --- binary ------------------------------------------------------------------------------------

add = _binary(np.add, jnp.add)
subtract = _binary(np.subtract, jnp.subtract)
multiply = _binary(np.multiply, jnp.multiply)
divide = _binary(np.divide, jnp.divide)
power = _binary(np.power, jnp.power)
maximum = _binary(np.maximum, jnp.maximum)
minimum = _binary(np.minimum, jnp.minimum)


def add_vjp(g, out, a, b):
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)


def subtract_vjp(g, out, a, b):
    return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


def multiply_vjp(g, out, a, b):
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


def divide_vjp(g, out, a, b):
    """dy/da = 1/b, dy/db = -a/b^2"""
    return unbroadcast(g / b, a.shape), unbroadcast(-g * a / (b * b), b.shape)


def power_vjp(g, out, a, b):
    """dy/da = b a^(b-1); dy/db = y ln a (0 where a <= 0, as the reference)."""
    ga = as_dtype(g * b * power(a, b - 1), a.dtype)
    log_a = jnp.where(a > 0, jnp.log(jnp.where(a > 0, a, 1)), 0)
    gb = g * out * log_a
    return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


def maximum_vjp(g, out, a, b):
    """Ties send half the cotangent to each side, as ``jax.grad(jnp.maximum)``."""
    wa = ((a > b) + 0.5 * (a == b)).astype(g.dtype)
    return unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)


def minimum_vjp(g, out, a, b):
    """Ties send half the cotangent to each side, as ``jax.grad(jnp.minimum)``."""
    wa = ((a < b) + 0.5 * (a == b)).astype(g.dtype)
    return unbroadcast(g * wa, a.shape), unbroadcast(g * (1 - wa), b.shape)


def where(condition, a, b):
    """y = a where condition else b (NumPy's promotion of a and b)."""
    dt = np.result_type(a.dtype, b.dtype)
    return jnp.where(condition, as_dtype(a, dt), as_dtype(b, dt))


def where_vjp(g, out, condition, a, b):
    zero = jnp.zeros((), g.dtype)
    return (
        None,
        unbroadcast(jnp.where(condition, g, zero), a.shape),
        unbroadcast(jnp.where(condition, zero, g), b.shape),
    )


# --- comparisons and logic (not differentiable) ------------------------------------------------


def _no_grad_vjp(g, out, *inputs, **params):
    return (None,) * len(inputs)


def _comparison(jnp_fn):
    def forward(a, b):
        dt = numpy_dtype(np.add, a, b)  # compare in the common dtype, as NumPy does
        return jnp_fn(as_dtype(a, dt), as_dtype(b, dt))

    forward.__doc__ = f"y = {jnp_fn.__name__}(a, b) (bool), broadcasting."
    return forward


equal = _comparison(jnp.equal)
not_equal = _comparison(jnp.not_equal)
less = _comparison(jnp.less)
less_equal = _comparison(jnp.less_equal)
greater = _comparison(jnp.greater)
greater_equal = _comparison(jnp.greater_equal)


def logical_and(a, b):
    return jnp.logical_and(a, b)


def logical_or(a, b):
    return jnp.logical_or(a, b)


def logical_not(x):
    return jnp.logical_not(x)


def isnan(x):
    return jnp.isnan(x)


def isfinite(x):
    return jnp.isfinite(x)


equal_vjp = not_equal_vjp = less_vjp = less_equal_vjp = _no_grad_vjp
greater_vjp = greater_equal_vjp = logical_and_vjp = logical_or_vjp = _no_grad_vjp
logical_not_vjp = isnan_vjp = isfinite_vjp = _no_grad_vjp
