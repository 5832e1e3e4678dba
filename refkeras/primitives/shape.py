"""Primitives that move, copy or select elements without arithmetic.

Their VJPs route each cotangent element back to the input position it came from (summing where
one input element fed several outputs).
"""

from __future__ import annotations

import numpy as np

from refkeras.primitives._util import unbroadcast


def reshape(x, *, shape):
    """y = x with a new shape (same elements, C order)."""
    return np.reshape(x, shape)


def reshape_vjp(g, out, x, *, shape):
    return (np.reshape(g, x.shape),)


def transpose(x, *, axes):
    """y = x with its axes permuted: ``y.shape[i] == x.shape[axes[i]]``."""
    return np.transpose(x, axes)


def transpose_vjp(g, out, x, *, axes):
    """The inverse permutation (axes normalized first: argsort of (-1, 0, 1) would be wrong)."""
    return (np.transpose(g, np.argsort([a % x.ndim for a in axes])),)


def broadcast_to(x, *, shape):
    """y = x broadcast to ``shape`` (a copy, so later writes cannot alias)."""
    return np.array(np.broadcast_to(x, shape))


def broadcast_to_vjp(g, out, x, *, shape):
    return (unbroadcast(g, x.shape),)


def concatenate(*xs, axis):
    """y = the inputs joined along ``axis``."""
    return np.concatenate(xs, axis=axis)


def concatenate_vjp(g, out, *xs, axis):
    bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return tuple(np.split(g, bounds, axis=axis))


def _is_basic_index(key) -> bool:
    key = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, int | slice) for k in key)


def getitem(x, *, key):
    """y = x[key] for any NumPy index ``key`` (slices, integers, integer or boolean arrays)."""
    return np.asarray(x[key])


def getitem_vjp(g, out, x, *, key):
    """Scatter-add the cotangent into zeros of x's shape (indices may repeat)."""
    gx = np.zeros(x.shape, dtype=g.dtype)
    if _is_basic_index(key):
        gx[key] = g
    else:
        np.add.at(gx, key, g)
    return (gx,)


def _in_range(indices, n: int):
    """Indices into an axis of length ``n``: negative ones count from the end (as Python and
    ``jnp.take`` do), and out-of-range ones are clipped to the nearest end (as JAX's gathers in
    ``x[i]`` do; ``jnp.take`` would fill with NaN instead)."""
    return np.clip(np.where(indices < 0, indices + n, indices), 0, n - 1)


def take(x, indices, *, axis):
    """y = x gathered at ``indices`` along ``axis`` (``np.take``); see :func:`_in_range`.

    Shapes: ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``.
    """
    return np.take(x, _in_range(indices, x.shape[axis]), axis=axis)


def take_vjp(g, out, x, indices, *, axis):
    """Scatter-add the cotangent into zeros of x's shape along ``axis`` (indices may repeat)."""
    axis = axis % x.ndim
    gx = np.zeros(x.shape, dtype=g.dtype)
    moved = np.moveaxis(gx, axis, 0)  # a view: adding into it adds into gx
    idx = _in_range(indices, x.shape[axis]).reshape(-1)
    g_moved = np.moveaxis(g, tuple(range(axis, axis + indices.ndim)), tuple(range(indices.ndim)))
    np.add.at(moved, idx, g_moved.reshape((idx.size,) + moved.shape[1:]))
    return gx, None


def take_along_axis(x, indices, *, axis):
    """y = np.take_along_axis(x, indices, axis): ``y[..., i, ...] = x[..., indices[..., i, ...],
    ...]`` along ``axis``; the other axes of x and indices broadcast against each other.
    ``axis=None`` gathers from the flattened x (``indices`` then 1-D)."""
    if axis is None:
        return np.take_along_axis(x.reshape(-1), indices, axis=0)
    axis = axis % x.ndim
    shape = np.broadcast_shapes(_except(x.shape, axis), _except(indices.shape, axis))
    x = np.broadcast_to(x, _with(shape, axis, x.shape[axis]))
    indices = np.broadcast_to(indices, _with(shape, axis, indices.shape[axis]))
    return np.take_along_axis(x, indices, axis=axis)


def take_along_axis_vjp(g, out, x, indices, *, axis):
    """Scatter-add the cotangent at the gathered positions (of x broadcast like the forward),
    then sum over the axes that broadcasting stretched."""
    if axis is None:
        gx, _ = take_along_axis_vjp(g, out, x.reshape(-1), indices, axis=0)
        return gx.reshape(x.shape), None
    axis = axis % x.ndim
    full = _with(g.shape, axis, x.shape[axis])
    gx = np.zeros(full, dtype=g.dtype)
    idx = list(np.ix_(*[np.arange(n) for n in g.shape]))
    idx[axis] = np.broadcast_to(indices, g.shape)
    np.add.at(gx, tuple(idx), g)
    return unbroadcast(gx, x.shape), None


def _except(shape, axis):
    return tuple(1 if i == axis else n for i, n in enumerate(shape))


def _with(shape, axis, n):
    return tuple(n if i == axis else m for i, m in enumerate(shape))


def pad(x, *, pad_width, constant_values=0):
    """y = x padded with ``constant_values``; ``pad_width`` is ((before, after), ...) per axis."""
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


def pad_vjp(g, out, x, *, pad_width, constant_values=0):
    key = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
    return (g[key],)


def tile(x, *, repeats):
    """y = np.tile(x, repeats)"""
    return np.tile(x, repeats)


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
    return np.repeat(x, repeats, axis=axis)


def repeat_vjp(g, out, x, *, repeats, axis):
    axis = axis % x.ndim
    shape = x.shape[:axis] + (x.shape[axis], repeats) + x.shape[axis + 1 :]
    return (g.reshape(shape).sum(axis=axis + 1),)


def flip(x, *, axis):
    """y = x reversed along ``axis``."""
    return np.flip(x, axis=axis)


def flip_vjp(g, out, x, *, axis):
    return (np.flip(g, axis=axis),)
