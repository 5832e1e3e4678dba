"""Reduction primitives on CuPy arrays (as ``refkeras/primitives/reduce.py``): sum, mean, max,
min, prod, and the index reductions argmax/argmin.

VJPs re-insert the reduced axes (:func:`expand_reduced`) and broadcast the cotangent back.
"""

from __future__ import annotations

import math

import cupy as cp
import numpy as np  # dtype metadata only

from ._util import expand_reduced, normalize_axis


def _count(shape, axis) -> int:
    return math.prod(shape[a] for a in normalize_axis(axis, len(shape)))


def _int_accumulator(x):
    """The dtype of an integer sum or product, as Keras 3 gives it: bool and 8/16-bit integers
    accumulate in (u)int32, wider integers in their own dtype (NumPy would use the platform's
    int64).  ``None`` (NumPy's choice) for floats."""
    if x.dtype == np.bool_ or (x.dtype.kind == "i" and x.dtype.itemsize < 4):
        return np.dtype(np.int32)
    if x.dtype.kind == "u" and x.dtype.itemsize < 4:
        return np.dtype(np.uint32)
    return x.dtype if x.dtype.kind in "iu" else None


def sum(x, *, axis=None, keepdims=False):  # noqa: A001 - the Keras op is called sum
    """y = sum of x over ``axis``"""
    return cp.sum(x, axis=axis, keepdims=keepdims, dtype=_int_accumulator(x))


def sum_vjp(g, out, x, *, axis=None, keepdims=False):
    return (cp.broadcast_to(expand_reduced(g, x.shape, axis, keepdims), x.shape),)


def mean(x, *, axis=None, keepdims=False):
    """y = sum of x over ``axis`` / number of elements reduced, in x's float dtype (integers give
    float64 here; ``ops.mean`` casts them to floatx first)."""
    out = cp.mean(x, axis=axis, keepdims=keepdims)
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


def mean_vjp(g, out, x, *, axis=None, keepdims=False):
    n = _count(x.shape, axis)
    g = expand_reduced(g, x.shape, axis, keepdims) / g.dtype.type(n)
    return (cp.broadcast_to(g, x.shape),)


def max(x, *, axis=None, keepdims=False):  # noqa: A001 - the Keras op is called max
    """y = max of x over ``axis``"""
    return cp.max(x, axis=axis, keepdims=keepdims)


def max_vjp(g, out, x, *, axis=None, keepdims=False):
    """The cotangent is shared equally between tied maxima, as ``jax.grad(jnp.max)`` does."""
    return (_chooser_vjp(g, out, x, axis, keepdims),)


def min(x, *, axis=None, keepdims=False):  # noqa: A001 - the Keras op is called min
    """y = min of x over ``axis``"""
    return cp.min(x, axis=axis, keepdims=keepdims)


def min_vjp(g, out, x, *, axis=None, keepdims=False):
    return (_chooser_vjp(g, out, x, axis, keepdims),)


def _chooser_vjp(g, out, x, axis, keepdims):
    out = expand_reduced(out, x.shape, axis, keepdims)
    chosen = x == out
    count = cp.sum(chosen, axis=normalize_axis(axis, x.ndim), keepdims=True)
    return expand_reduced(g, x.shape, axis, keepdims) * chosen / count.astype(g.dtype)


def prod(x, *, axis=None, keepdims=False):
    """y = product of x over ``axis``"""
    return cp.prod(x, axis=axis, keepdims=keepdims, dtype=_int_accumulator(x))


def prod_vjp(g, out, x, *, axis=None, keepdims=False):
    """dy/dx_i = product of the other elements (computed without dividing, so zeros are exact)."""
    axes = normalize_axis(axis, x.ndim)
    moved = cp.moveaxis(x, axes, tuple(range(len(axes))))
    flat = moved.reshape((-1,) + moved.shape[len(axes) :])
    ones = cp.ones_like(flat[:1])
    before = cp.cumprod(cp.concatenate([ones, flat[:-1]]), axis=0)
    after = cp.cumprod(cp.concatenate([ones, flat[:0:-1]]), axis=0)[::-1]
    others = cp.moveaxis((before * after).reshape(moved.shape), tuple(range(len(axes))), axes)
    return (expand_reduced(g, x.shape, axis, keepdims) * others,)


def cumsum(x, *, axis):
    """y_i = sum_{j <= i} x_j along ``axis`` (in x's dtype; bool counts in int32, as Keras)."""
    return cp.cumsum(x, axis=axis, dtype=cp.int32 if x.dtype == cp.bool_ else x.dtype)


def cumsum_vjp(g, out, x, *, axis):
    """The reversed cumulative sum of the cotangent."""
    return (cp.flip(cp.cumsum(cp.flip(g, axis), axis=axis), axis),)


def argmax(x, *, axis=None, keepdims=False):
    """Index of the first maximum along ``axis`` (not differentiable)."""
    return cp.argmax(x, axis=axis, keepdims=keepdims).astype(cp.int32)


def argmax_vjp(g, out, x, *, axis=None, keepdims=False):
    return (None,)


def argmin(x, *, axis=None, keepdims=False):
    """Index of the first minimum along ``axis`` (not differentiable)."""
    return cp.argmin(x, axis=axis, keepdims=keepdims).astype(cp.int32)


def argmin_vjp(g, out, x, *, axis=None, keepdims=False):
    return (None,)
