"""Reduction primitives in ``jax.numpy``: sum, mean, max, min, prod, cumsum, argmax, argmin.

Mirrors :mod:`refkeras.primitives.reduce` (dtypes included: integer sums accumulate as Keras 3
does, index reductions give int32, ties in max/min share the cotangent equally).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from accel.jax._util import expand_reduced, normalize_axis

# The accumulator dtype rule is pure dtype metadata: one definition, shared with the reference.
from refkeras.primitives.reduce import _int_accumulator


def _axis(axis):
    """``axis`` as JAX wants it (a tuple, not a list)."""
    return tuple(axis) if isinstance(axis, list) else axis


def _count(shape, axis) -> int:
    return math.prod(shape[a] for a in normalize_axis(axis, len(shape)))


def sum(x, *, axis=None, keepdims=False):  # noqa: A001 - the Keras op is called sum
    """y = sum of x over ``axis``"""
    return jnp.sum(x, axis=_axis(axis), keepdims=keepdims, dtype=_int_accumulator(x))


def sum_vjp(g, out, x, *, axis=None, keepdims=False):
    return (jnp.broadcast_to(expand_reduced(g, x.shape, axis, keepdims), x.shape),)


def mean(x, *, axis=None, keepdims=False):
    """y = sum of x over ``axis`` / number of elements reduced (integers give float64, as NumPy;
    floats keep their dtype)."""
    dtype = x.dtype if x.dtype.kind == "f" or x.dtype == jnp.bfloat16 else np.float64
    return jnp.mean(x, axis=_axis(axis), keepdims=keepdims, dtype=dtype)


def mean_vjp(g, out, x, *, axis=None, keepdims=False):
    n = _count(x.shape, axis)
    g = expand_reduced(g, x.shape, axis, keepdims) / jnp.asarray(n, dtype=g.dtype)
    return (jnp.broadcast_to(g, x.shape),)


def max(x, *, axis=None, keepdims=False):  # noqa: A001 - the Keras op is called max
    """y = max of x over ``axis``"""
    return jnp.max(x, axis=_axis(axis), keepdims=keepdims)


def max_vjp(g, out, x, *, axis=None, keepdims=False):
    """The cotangent is shared equally between tied maxima, as ``jax.grad(jnp.max)`` does."""
    return (_chooser_vjp(g, out, x, axis, keepdims),)


def min(x, *, axis=None, keepdims=False):  # noqa: A001 - the Keras op is called min
    """y = min of x over ``axis``"""
    return jnp.min(x, axis=_axis(axis), keepdims=keepdims)


def min_vjp(g, out, x, *, axis=None, keepdims=False):
    return (_chooser_vjp(g, out, x, axis, keepdims),)


def _chooser_vjp(g, out, x, axis, keepdims):
    out = expand_reduced(out, x.shape, axis, keepdims)
    chosen = x == out
    count = jnp.sum(chosen, axis=normalize_axis(axis, x.ndim), keepdims=True)
    return expand_reduced(g, x.shape, axis, keepdims) * chosen / count.astype(g.dtype)


def prod(x, *, axis=None, keepdims=False):
    """y = product of x over ``axis``"""
    return jnp.prod(x, axis=_axis(axis), keepdims=keepdims, dtype=_int_accumulator(x))


def prod_vjp(g, out, x, *, axis=None, keepdims=False):
    """dy/dx_i = product of the other elements: exclusive cumulative products from both ends
    (no division, so zeros are exact)."""
    axes = normalize_axis(axis, x.ndim)
    front = tuple(range(len(axes)))
    moved = jnp.moveaxis(x, axes, front)
    flat = moved.reshape((-1,) + moved.shape[len(axes) :])
    ones = jnp.ones_like(flat[:1])
    before = jnp.cumprod(jnp.concatenate([ones, flat[:-1]]), axis=0)
    after = jnp.flip(jnp.cumprod(jnp.concatenate([ones, jnp.flip(flat[1:], 0)]), axis=0), 0)
    others = jnp.moveaxis((before * after).reshape(moved.shape), front, axes)
    return (expand_reduced(g, x.shape, axis, keepdims) * others,)


def cumsum(x, *, axis):
    """y_i = sum_{j <= i} x_j along ``axis`` (in x's dtype; bool counts in int32, as Keras)."""
    return jnp.cumsum(x, axis=axis, dtype=np.int32 if x.dtype == np.bool_ else x.dtype)


def cumsum_vjp(g, out, x, *, axis):
    """The reversed cumulative sum of the cotangent."""
    return (jnp.flip(jnp.cumsum(jnp.flip(g, axis), axis=axis), axis),)


def argmax(x, *, axis=None, keepdims=False):
    """Index of the first maximum along ``axis`` (int32, not differentiable)."""
    return jnp.argmax(x, axis=axis, keepdims=keepdims).astype(np.int32)


def argmax_vjp(g, out, x, *, axis=None, keepdims=False):
    return (None,)


def argmin(x, *, axis=None, keepdims=False):
    """Index of the first minimum along ``axis`` (int32, not differentiable)."""
    return jnp.argmin(x, axis=axis, keepdims=keepdims).astype(np.int32)


def argmin_vjp(g, out, x, *, axis=None, keepdims=False):
    return (None,)
