"""Primitives that move, copy or select elements, in ``jax.numpy`` (mirrors
:mod:`refkeras.primitives.shape`).

VJPs route each cotangent element back to where it came from with ``.at[...].add`` (a
scatter-add: repeated indices sum, as ``np.add.at`` does in the reference).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from accel.jax._util import as_dtype, unbroadcast

# Pure shape-tuple helpers (no array math): shared with the reference.
from refkeras.primitives.shape import _except, _with


def _static_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def reshape(x, *, shape):
    """y = x with a new shape (same elements, C order)."""
    return jnp.reshape(x, shape)


def reshape_vjp(g, out, x, *, shape):
    return (jnp.reshape(g, x.shape),)


def transpose(x, *, axes):
    """y = x with its axes permuted: ``y.shape[i] == x.shape[axes[i]]``."""
    return jnp.transpose(x, axes)


def transpose_vjp(g, out, x, *, axes):
    """The inverse permutation (of the normalized axes)."""
    return (jnp.transpose(g, tuple(np.argsort([a % x.ndim for a in axes]))),)


def broadcast_to(x, *, shape):
    """y = x broadcast to ``shape``."""
    return jnp.broadcast_to(x, shape)


def broadcast_to_vjp(g, out, x, *, shape):
    return (unbroadcast(g, x.shape),)


def concatenate(*xs, axis):
    """y = the inputs joined along ``axis`` (NumPy's promotion of their dtypes)."""
    dt = np.result_type(*(x.dtype for x in xs))
    return jnp.concatenate([as_dtype(x, dt) for x in xs], axis=axis)


def concatenate_vjp(g, out, *xs, axis):
    bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return tuple(jnp.split(g, bounds, axis=axis))


def _jax_key(key):
    """A NumPy index as JAX takes it: lists become arrays (JAX refuses list indices).  The
    index is a static parameter, so boolean masks are concrete and fine under ``jax.jit``."""
    parts = key if isinstance(key, tuple) else (key,)
    parts = tuple(np.asarray(k) if isinstance(k, list) else k for k in parts)
    return parts if isinstance(key, tuple) else parts[0]


def getitem(x, *, key):
    """y = x[key] for any NumPy index ``key`` (slices, integers, integer or boolean arrays)."""
    return jnp.asarray(x)[_jax_key(key)]


def getitem_vjp(g, out, x, *, key):
    """Scatter-add the cotangent into zeros of x's shape (indices may repeat)."""
    return (jnp.zeros(x.shape, g.dtype).at[_jax_key(key)].add(g),)


def _in_range(indices, n: int):
    """Negative indices count from the end; out-of-range ones clip to the nearest end (see the
    reference's ``_in_range``)."""
    indices = jnp.asarray(indices)
    return jnp.clip(jnp.where(indices < 0, indices + n, indices), 0, n - 1)


def take(x, indices, *, axis):
    """y = x gathered at ``indices`` along ``axis``.

    Shapes: ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``.
    """
    return jnp.take(x, _in_range(indices, x.shape[axis]), axis=axis, mode="clip")


def take_vjp(g, out, x, indices, *, axis):
    """Scatter-add the cotangent into zeros of x's shape along ``axis``."""
    axis = axis % x.ndim
    nd = jnp.ndim(indices)
    idx = _in_range(indices, x.shape[axis]).reshape(-1)
    moved = jnp.zeros((x.shape[axis],) + x.shape[:axis] + x.shape[axis + 1 :], g.dtype)
    g_moved = jnp.moveaxis(g, tuple(range(axis, axis + nd)), tuple(range(nd)))
    moved = moved.at[idx].add(g_moved.reshape((idx.shape[0],) + moved.shape[1:]))
    return jnp.moveaxis(moved, 0, axis), None


def take_along_axis(x, indices, *, axis):
    """``y[..., i, ...] = x[..., indices[..., i, ...], ...]`` along ``axis``; the other axes of
    x and indices broadcast.  ``axis=None`` gathers from the flattened x."""
    if axis is None:
        return take_along_axis(x.reshape(-1), indices, axis=0)
    axis = axis % x.ndim
    shape = np.broadcast_shapes(_except(x.shape, axis), _except(jnp.shape(indices), axis))
    x = jnp.broadcast_to(x, _with(shape, axis, x.shape[axis]))
    indices = jnp.broadcast_to(indices, _with(shape, axis, jnp.shape(indices)[axis]))
    return jnp.take_along_axis(x, _in_range(indices, x.shape[axis]), axis=axis, mode="clip")


def take_along_axis_vjp(g, out, x, indices, *, axis):
    """Scatter-add the cotangent at the gathered positions, then sum broadcast axes."""
    if axis is None:
        gx, _ = take_along_axis_vjp(g, out, x.reshape(-1), indices, axis=0)
        return gx.reshape(x.shape), None
    axis = axis % x.ndim
    idx = list(np.ix_(*[np.arange(n) for n in g.shape]))
    idx[axis] = jnp.broadcast_to(_in_range(indices, x.shape[axis]), g.shape)
    gx = jnp.zeros(_with(g.shape, axis, x.shape[axis]), g.dtype).at[tuple(idx)].add(g)
    return unbroadcast(gx, x.shape), None


def pad(x, *, pad_width, constant_values=0):
    """y = x padded with ``constant_values``; ``pad_width`` is ((before, after), ...) per axis."""
    return jnp.pad(x, pad_width, mode="constant", constant_values=constant_values)


def pad_vjp(g, out, x, *, pad_width, constant_values=0):
    key = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
    return (g[key],)


def tile(x, *, repeats):
    """y = np.tile(x, repeats)"""
    return jnp.tile(x, repeats)


def tile_vjp(g, out, x, *, repeats):
    reps = (1,) * (g.ndim - len(repeats)) + tuple(repeats)
    shape = (1,) * (g.ndim - x.ndim) + x.shape
    split = []
    for r, n in zip(reps, shape):
        split += [r, n]
    gx = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
    return (gx.reshape(x.shape),)


def repeat(x, *, repeats, axis):
    """y = np.repeat(x, repeats, axis) with an integer ``repeats``."""
    return jnp.repeat(x, repeats, axis=axis)


def repeat_vjp(g, out, x, *, repeats, axis):
    axis = axis % x.ndim
    shape = x.shape[:axis] + (x.shape[axis], repeats) + x.shape[axis + 1 :]
    return (g.reshape(shape).sum(axis=axis + 1),)


def flip(x, *, axis):
    """y = x reversed along ``axis``."""
    return jnp.flip(x, axis=_static_axis(axis))


def flip_vjp(g, out, x, *, axis):
    return (jnp.flip(g, axis=_static_axis(axis)),)
