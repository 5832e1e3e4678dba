"""Reduction primitives: sum, mean, max, min, prod, and the index reductions argmax/argmin.

VJPs re-insert the reduced axes (:func:`expand_reduced`) and broadcast the cotangent back.
"""

from __future__ import annotations

import numpy as np

from refkeras.primitives._util import expand_reduced, normalize_axis


def _count(shape, axis) -> int:
    return int(np.prod([shape[a] for a in normalize_axis(axis, len(shape))], dtype=np.int64))


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
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=_int_accumulator(x))


def sum_vjp(g, out, x, *, axis=None, keepdims=False):
    return (np.broadcast_to(expand_reduced(g, x.shape, axis, keepdims), x.shape),)


def mean(x, *, axis=None, keepdims=False):
    """y = sum of x over ``axis`` / number of elements reduced, in x's float dtype (integers give
    float64 here; ``ops.mean`` casts them to floatx first)."""
    out = np.mean(x, axis=axis, keepdims=keepdims)
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


def mean_vjp(g, out, x, *, axis=None, keepdims=False):
    n = _count(x.shape, axis)
    g = expand_reduced(g, x.shape, axis, keepdims) / np.asarray(n, dtype=g.dtype)
    return (np.broadcast_to(g, x.shape),)


def max(x, *, axis=None, keepdims=False):  # noqa: A001 - the Keras op is called max
    """y = max of x over ``axis``"""
    return np.max(x, axis=axis, keepdims=keepdims)


def max_vjp(g, out, x, *, axis=None, keepdims=False):
    """The cotangent is shared equally between tied maxima, as ``jax.grad(jnp.max)`` does."""
    return (_chooser_vjp(g, out, x, axis, keepdims),)


def min(x, *, axis=None, keepdims=False):  # noqa: A001 - the Keras op is called min
    """y = min of x over ``axis``"""
    return np.min(x, axis=axis, keepdims=keepdims)


def min_vjp(g, out, x, *, axis=None, keepdims=False):
    return (_chooser_vjp(g, out, x, axis, keepdims),)


def _chooser_vjp(g, out, x, axis, keepdims):
    out = expand_reduced(out, x.shape, axis, keepdims)
    chosen = x == out
    count = np.sum(chosen, axis=normalize_axis(axis, x.ndim), keepdims=True)
    return expand_reduced(g, x.shape, axis, keepdims) * chosen / count.astype(g.dtype)


def prod(x, *, axis=None, keepdims=False):
    """y = product of x over ``axis``"""
    return np.prod(x, axis=axis, keepdims=keepdims, dtype=_int_accumulator(x))


def prod_vjp(g, out, x, *, axis=None, keepdims=False):
    """dy/dx_i = product of the other elements (computed without dividing, so zeros are exact)."""
    axes = normalize_axis(axis, x.ndim)
    moved = np.moveaxis(x, axes, tuple(range(len(axes))))
    flat = moved.reshape((-1,) + moved.shape[len(axes) :])
    ones = np.ones_like(flat[:1])
    before = np.cumprod(np.concatenate([ones, flat[:-1]]), axis=0)
    after = np.cumprod(np.concatenate([ones, flat[:0:-1]]), axis=0)[::-1]
    others = np.moveaxis((before * after).reshape(moved.shape), tuple(range(len(axes))), axes)
    return (expand_reduced(g, x.shape, axis, keepdims) * others,)


def cumsum(x, *, axis):
    """y_i = sum_{j <= i} x_j along ``axis`` (in x's dtype; bool counts in int32, as Keras)."""
    return np.cumsum(x, axis=axis, dtype=np.int32 if x.dtype == np.bool_ else x.dtype)


def cumsum_vjp(g, out, x, *, axis):
    """The reversed cumulative sum of the cotangent."""
    return (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


def argmax(x, *, axis=None, keepdims=False):
    """Index of the first maximum along ``axis`` (not differentiable)."""
    return np.argmax(x, axis=axis, keepdims=keepdims).astype(np.int32)


def argmax_vjp(g, out, x, *, axis=None, keepdims=False):
    return (None,)


def argmin(x, *, axis=None, keepdims=False):
    """Index of the first minimum along ``axis`` (not differentiable)."""
    return np.argmin(x, axis=axis, keepdims=keepdims).astype(np.int32)


def argmin_vjp(g, out, x, *, axis=None, keepdims=False):
    return (None,)
