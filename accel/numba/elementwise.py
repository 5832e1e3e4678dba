"""Elementwise primitives on the Numba backend: every forward and VJP is a Numba-compiled ufunc.

One mechanism for all of them: a scalar function (the formula, exactly as the reference writes
it) becomes a NumPy ufunc with ``numba.vectorize`` (compiled lazily for each input dtype, cached
on disk).  NumPy's ufunc machinery does the broadcasting, so it is the reference's broadcasting by
construction; :func:`_map` then casts the result to the dtype the reference gives for the same
input dtypes (:func:`accel.numba._common.reference_dtypes`), so dtypes match exactly too.  VJPs
fuse their few operations into one pass (``g * (1 - y*y)`` is one loop, not three temporaries)
and sum broadcast axes back with :func:`unbroadcast` (the reference's helper, with the Numba
sum kernel as its reduction).

Scalar formulas that mix a Python constant with a float32 value compute in float64 inside the
kernel (Numba's typing rule) and are rounded back to float32: results differ from the reference
by rounding only.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from accel.numba import reduce as _reduce
from accel.numba._common import _zero, as_dtype, computable, reference_dtypes
from refkeras.primitives import elementwise as ref


def _ufunc(fn):
    """A NumPy ufunc computing scalar function ``fn`` elementwise, compiled by Numba."""
    return numba.vectorize(cache=True)(fn)


def _scalar(fn):
    """A scalar helper that several ufuncs call (inlined by LLVM)."""
    return numba.njit(cache=True, error_model="numpy")(fn)


def unbroadcast(g, shape):
    """The reference's ``unbroadcast`` (``refkeras/primitives/_util.py``): ``g`` summed over the
    axes broadcasting added or stretched, as an array of ``shape``; the sum is the Numba kernel
    (:func:`accel.numba.reduce.sum`, float64 accumulation; measured 4x faster than NumPy's for a
    conv bias gradient, which sums over every axis but the last)."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return _reduce.sum(g, axis=axes).reshape(shape) if axes else g.reshape(shape)


def _map(kernel, reference, *arrays, extra=(), **params):
    """``kernel(*arrays, *extra)`` cast to the dtype ``reference(*arrays, **params)`` has."""
    dtype = reference_dtypes(reference, *arrays, **params)
    return as_dtype(kernel(*[computable(a) for a in arrays], *extra), dtype)


def _cotangents(reference_vjp, g, out, arrays, grads, **params):
    """Cast each computed cotangent to the reference VJP's dtype (``None`` stays ``None``)."""
    dtypes = reference_dtypes(reference_vjp, g, out, *arrays, **params)
    return tuple(as_dtype(c, d) for c, d in zip(grads, dtypes))


# --- scalar formulas ---------------------------------------------------------------------------


@_scalar
def _sigmoid_s(x):
    # 1 / (1 + e^-x) without overflow: e = e^-|x| is at most 1.
    e = np.exp(-np.abs(x))
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


@_ufunc
def _negative(x):
    return -x


@_ufunc
def _exp(x):
    return np.exp(x)


@_ufunc
def _log(x):
    return np.log(x)


@_ufunc
def _log1p(x):
    return np.log1p(x)


@_ufunc
def _expm1(x):
    return np.expm1(x)


@_ufunc
def _sqrt(x):
    return np.sqrt(x)


@_ufunc
def _square(x):
    return x * x


@_ufunc
def _abs(x):
    return np.abs(x)


@_ufunc
def _tanh(x):
    return np.tanh(x)


@_ufunc
def _sigmoid(x):
    return _sigmoid_s(x)


@_ufunc
def _relu(x):
    return _zero(x) if x <= 0 else x  # NaN stays NaN, as np.maximum(x, 0)


@_ufunc
def _softplus(x):
    return (x if x > 0 else 0) + np.log1p(np.exp(-np.abs(x)))


@_ufunc
def _sin(x):
    return np.sin(x)


@_ufunc
def _cos(x):
    return np.cos(x)


@_ufunc
def _erf(x):
    return math.erf(float(x))  # in double precision, as the reference's math.erf


@_ufunc
def _sign(x):
    return np.sign(x)


@_ufunc
def _floor(x):
    return np.floor(x)


@_ufunc
def _ceil(x):
    return np.ceil(x)


@_ufunc
def _round(x, scale):
    # NumPy's np.round: round half to even of x * 10**decimals, scaled back.
    return np.rint(x * scale) / scale


@_ufunc
def _clip(x, lo, hi):
    return min(max(x, lo), hi) if x == x else x


@_ufunc
def _add(a, b):
    return a + b


@_ufunc
def _subtract(a, b):
    return a - b


@_ufunc
def _multiply(a, b):
    return a * b


@_ufunc
def _divide(a, b):
    return a / b


@_ufunc
def _power(a, b):
    return np.power(a, b)


@_ufunc
def _maximum(a, b):
    return np.maximum(a, b)


@_ufunc
def _minimum(a, b):
    return np.minimum(a, b)


@_ufunc
def _where(c, a, b):
    return a if c else b


@_ufunc
def _equal(a, b):
    return a == b


@_ufunc
def _not_equal(a, b):
    return a != b


@_ufunc
def _less(a, b):
    return a < b


@_ufunc
def _less_equal(a, b):
    return a <= b


@_ufunc
def _greater(a, b):
    return a > b


@_ufunc
def _greater_equal(a, b):
    return a >= b


@_ufunc
def _logical_and(a, b):
    return a != 0 and b != 0


@_ufunc
def _logical_or(a, b):
    return a != 0 or b != 0


@_ufunc
def _logical_not(x):
    return x == 0


@_ufunc
def _isnan(x):
    return x != x


@_ufunc
def _isfinite(x):
    return np.isfinite(x)


# --- fused VJP formulas (one pass each) --------------------------------------------------------


@_ufunc
def _log1p_grad(g, x):
    return g / (1 + x)


@_ufunc
def _expm1_grad(g, y):
    return g * (y + 1)


@_ufunc
def _sqrt_grad(g, y):
    return g / (2 * y)


@_ufunc
def _square_grad(g, x):
    return g * 2 * x


@_ufunc
def _abs_grad(g, x):
    return g if x >= 0 else -g


@_ufunc
def _tanh_grad(g, y):
    return g * (1 - y * y)


@_ufunc
def _sigmoid_grad(g, y):
    return g * y * (1 - y)


@_ufunc
def _relu_grad(g, x):
    return g * (x > 0)


@_ufunc
def _softplus_grad(g, x):
    return g * _sigmoid_s(x)


@_ufunc
def _sin_grad(g, x):
    return g * np.cos(x)


@_ufunc
def _cos_grad(g, x):
    return -g * np.sin(x)


@_ufunc
def _erf_grad(g, x):
    return g * (2 / math.sqrt(math.pi)) * np.exp(-x * x)


@_ufunc
def _clip_grad(g, x, lo, hi):
    # The gradient of minimum(maximum(x, lo), hi): ties at a bound halve it (see the reference).
    lifted = max(x, lo)
    through_max = (x > lo) + 0.5 * (x == lo)
    through_min = (lifted < hi) + 0.5 * (lifted == hi)
    return g * (through_max * through_min)


@_ufunc
def _divide_grad_b(g, a, b):
    return -g * a / (b * b)


@_ufunc
def _power_grad_a(g, a, b):
    return g * b * np.power(a, b - 1)


@_ufunc
def _power_grad_b(g, y, a):
    # dy/db = y ln a, taken as 0 where a <= 0 (as JAX)
    return g * y * (np.log(a) if a > 0 else 0)


@_ufunc
def _max_share(a, b):
    return (a > b) + 0.5 * (a == b)


@_ufunc
def _min_share(a, b):
    return (a < b) + 0.5 * (a == b)


@_ufunc
def _share_rest(g, w):
    return g * (1 - w)


@_ufunc
def _select_or_zero(c, g):
    return g if c else 0


@_ufunc
def _zero_or_select(c, g):
    return 0 if c else g


# --- unary primitives --------------------------------------------------------------------------


def _unary(name: str, kernel):
    reference = getattr(ref, name)

    def forward(x):
        return _map(kernel, reference, x)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"Numba ufunc for :func:`refkeras.primitives.elementwise.{name}`."
    return forward


negative = _unary("negative", _negative)
exp = _unary("exp", _exp)
log = _unary("log", _log)
log1p = _unary("log1p", _log1p)
expm1 = _unary("expm1", _expm1)
sqrt = _unary("sqrt", _sqrt)
square = _unary("square", _square)
abs = _unary("abs", _abs)  # noqa: A001 - the primitive is called abs
tanh = _unary("tanh", _tanh)
sigmoid = _unary("sigmoid", _sigmoid)
relu = _unary("relu", _relu)
softplus = _unary("softplus", _softplus)
sin = _unary("sin", _sin)
cos = _unary("cos", _cos)
erf = _unary("erf", _erf)
sign = _unary("sign", _sign)
floor = _unary("floor", _floor)
ceil = _unary("ceil", _ceil)
logical_not = _unary("logical_not", _logical_not)
isnan = _unary("isnan", _isnan)
isfinite = _unary("isfinite", _isfinite)


def round(x, *, decimals=0):  # noqa: A001 - the primitive is called round
    """Round half to even, as NumPy's ``np.round``."""
    return _map(_round, ref.round, x, extra=(10.0**decimals,), decimals=decimals)


def clip(x, *, x_min, x_max):
    """y = min(max(x, x_min), x_max)"""
    return _map(_clip, ref.clip, x, extra=(x_min, x_max), x_min=x_min, x_max=x_max)


# Conversion is NumPy's own astype loop (memory-bound, and it converts float16/bfloat16, which
# Numba cannot type): shared with the reference.
cast = ref.cast
cast_vjp = ref.cast_vjp


def _vjp1(reference_vjp, kernel, uses_out: bool):
    def vjp(g, out, x, **params):
        grad = kernel(computable(g), computable(out if uses_out else x))
        return _cotangents(reference_vjp, g, out, (x,), (grad,), **params)

    return vjp


negative_vjp = _vjp1(ref.negative_vjp, lambda g, _: _negative(g), False)
exp_vjp = _vjp1(ref.exp_vjp, _multiply, True)
log_vjp = _vjp1(ref.log_vjp, _divide, False)
log1p_vjp = _vjp1(ref.log1p_vjp, _log1p_grad, False)
expm1_vjp = _vjp1(ref.expm1_vjp, _expm1_grad, True)
sqrt_vjp = _vjp1(ref.sqrt_vjp, _sqrt_grad, True)
square_vjp = _vjp1(ref.square_vjp, _square_grad, False)
abs_vjp = _vjp1(ref.abs_vjp, _abs_grad, False)
tanh_vjp = _vjp1(ref.tanh_vjp, _tanh_grad, True)
sigmoid_vjp = _vjp1(ref.sigmoid_vjp, _sigmoid_grad, True)
relu_vjp = _vjp1(ref.relu_vjp, _relu_grad, False)
softplus_vjp = _vjp1(ref.softplus_vjp, _softplus_grad, False)
sin_vjp = _vjp1(ref.sin_vjp, _sin_grad, False)
cos_vjp = _vjp1(ref.cos_vjp, _cos_grad, False)
erf_vjp = _vjp1(ref.erf_vjp, _erf_grad, False)


def _zero_vjp(g, out, x, **params):
    """Piecewise-constant functions: the cotangent is zero."""
    return (np.zeros_like(g),)


sign_vjp = floor_vjp = ceil_vjp = round_vjp = _zero_vjp


def clip_vjp(g, out, x, *, x_min, x_max):
    grad = _clip_grad(computable(g), computable(x), x_min, x_max)
    return _cotangents(ref.clip_vjp, g, out, (x,), (grad,), x_min=x_min, x_max=x_max)


# --- binary primitives -------------------------------------------------------------------------


def _binary(name: str, kernel):
    reference = getattr(ref, name)

    def forward(a, b):
        return _map(kernel, reference, a, b)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"Numba ufunc for :func:`refkeras.primitives.elementwise.{name}`."
    return forward


add = _binary("add", _add)
subtract = _binary("subtract", _subtract)
multiply = _binary("multiply", _multiply)
divide = _binary("divide", _divide)
power = _binary("power", _power)
maximum = _binary("maximum", _maximum)
minimum = _binary("minimum", _minimum)
equal = _binary("equal", _equal)
not_equal = _binary("not_equal", _not_equal)
less = _binary("less", _less)
less_equal = _binary("less_equal", _less_equal)
greater = _binary("greater", _greater)
greater_equal = _binary("greater_equal", _greater_equal)
logical_and = _binary("logical_and", _logical_and)
logical_or = _binary("logical_or", _logical_or)


def where(condition, a, b):
    """y = a where condition else b"""
    return _map(_where, ref.where, condition, a, b)


def _shape(a):
    return np.shape(a)


def add_vjp(g, out, a, b):
    grads = (unbroadcast(g, _shape(a)), unbroadcast(g, _shape(b)))
    return _cotangents(ref.add_vjp, g, out, (a, b), grads)


def subtract_vjp(g, out, a, b):
    grads = (unbroadcast(g, _shape(a)), unbroadcast(_negative(computable(g)), _shape(b)))
    return _cotangents(ref.subtract_vjp, g, out, (a, b), grads)


def multiply_vjp(g, out, a, b):
    g_, a_, b_ = computable(g), computable(a), computable(b)
    grads = (unbroadcast(_multiply(g_, b_), _shape(a)), unbroadcast(_multiply(g_, a_), _shape(b)))
    return _cotangents(ref.multiply_vjp, g, out, (a, b), grads)


def divide_vjp(g, out, a, b):
    """dy/da = 1/b, dy/db = -a/b^2"""
    g_, a_, b_ = computable(g), computable(a), computable(b)
    grads = (
        unbroadcast(_divide(g_, b_), _shape(a)),
        unbroadcast(_divide_grad_b(g_, a_, b_), _shape(b)),
    )
    return _cotangents(ref.divide_vjp, g, out, (a, b), grads)


def power_vjp(g, out, a, b):
    """dy/da = b a^(b-1); dy/db = y ln a (0 where a <= 0, as JAX)."""
    g_, a_, b_, y_ = computable(g), computable(a), computable(b), computable(out)
    ga = as_dtype(_power_grad_a(g_, a_, b_), np.result_type(a))  # as the reference
    grads = (unbroadcast(ga, _shape(a)), unbroadcast(_power_grad_b(g_, y_, a_), _shape(b)))
    return _cotangents(ref.power_vjp, g, out, (a, b), grads)


def _chooser_vjp(reference_vjp, share):
    def vjp(g, out, a, b):
        """Ties send half the cotangent to each side (as ``jax.grad``)."""
        g_ = computable(g)
        w = share(computable(a), computable(b))
        grads = (
            unbroadcast(_multiply(g_, w), _shape(a)),
            unbroadcast(_share_rest(g_, w), _shape(b)),
        )
        return _cotangents(reference_vjp, g, out, (a, b), grads)

    return vjp


maximum_vjp = _chooser_vjp(ref.maximum_vjp, _max_share)
minimum_vjp = _chooser_vjp(ref.minimum_vjp, _min_share)


def where_vjp(g, out, condition, a, b):
    g_, c = computable(g), condition
    grads = (
        None,
        unbroadcast(_select_or_zero(c, g_), _shape(a)),
        unbroadcast(_zero_or_select(c, g_), _shape(b)),
    )
    return _cotangents(ref.where_vjp, g, out, (condition, a, b), grads)


# Comparisons and logic are not differentiable: no computation, one None per input.
_no_grad_vjp = ref._no_grad_vjp
equal_vjp = not_equal_vjp = less_vjp = less_equal_vjp = _no_grad_vjp
greater_vjp = greater_equal_vjp = logical_and_vjp = logical_or_vjp = _no_grad_vjp
logical_not_vjp = isnan_vjp = isfinite_vjp = _no_grad_vjp
