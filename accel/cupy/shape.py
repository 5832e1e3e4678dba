"""Primitives on CuPy arrays that move, copy or select elements without arithmetic (as
``refkeras/primitives/shape.py``).

Their VJPs route each cotangent element back to the input position it came from (summing where
one input element fed several outputs).
"""

from __future__ import annotations

import cupy as cp
import numpy as np  # shape and index metadata only

from ._util import unbroadcast


def reshape(x, *, shape):
    """y = x with a new shape (same elements, C order)."""
    return cp.reshape(x, shape)


def reshape_vjp(g, out, x, *, shape):
    return (cp.reshape(g, x.shape),)


def transpose(x, *, axes):
    """y = x with its axes permuted: ``y.shape[i] == x.shape[axes[i]]``."""
    return cp.transpose(x, axes)


def transpose_vjp(g, out, x, *, axes):
    """The inverse permutation (axes normalized first: argsort of (-1, 0, 1) would be wrong)."""
    return (cp.transpose(g, tuple(np.argsort([a % x.ndim for a in axes]))),)


def broadcast_to(x, *, shape):
    """y = x broadcast to ``shape`` (a copy, so later writes cannot alias)."""
    return cp.broadcast_to(x, shape).copy()


def broadcast_to_vjp(g, out, x, *, shape):
    return (unbroadcast(g, x.shape),)


def concatenate(*xs, axis):
    """y = the inputs joined along ``axis``."""
    return cp.concatenate(xs, axis=axis)


def concatenate_vjp(g, out, *xs, axis):
    bounds = np.cumsum([x.shape[axis] for x in xs])[:-1].tolist()
    return tuple(cp.split(g, bounds, axis=axis))


def _device_key(key):
    """``key`` with its host index arrays (NumPy arrays and lists, as the core builds them from
    Python indices) copied to the device, so that CuPy indexes with device arrays only."""
    if isinstance(key, tuple):
        return tuple(_device_key(k) for k in key)
    if isinstance(key, np.ndarray | list):
        return cp.asarray(key)
    return key


def _selects_each_once(key) -> bool:
    """Whether indexing with ``key`` reads every element at most once: true unless it holds an
    integer array (slices, integers, ``None``, ``...`` and boolean masks never repeat)."""
    key = key if isinstance(key, tuple) else (key,)
    return all(getattr(k, "dtype", None) in (None, np.bool_) for k in key)


def getitem(x, *, key):
    """y = x[key] for any NumPy index ``key`` (slices, integers, integer or boolean arrays)."""
    return x[_device_key(key)]


def getitem_vjp(g, out, x, *, key):
    """Scatter the cotangent into zeros of x's shape: a plain assignment when no element was
    read twice, else a scatter-add (``cupy.add.at``) so that repeated indices accumulate."""
    key = _device_key(key)
    gx = cp.zeros(x.shape, dtype=g.dtype)
    if _selects_each_once(key):
        gx[key] = g
    else:
        cp.add.at(gx, key, g)
    return (gx,)


def _in_range(indices, n: int):
    """Indices into an axis of length ``n``: negative ones count from the end (as Python and
    ``jnp.take`` do), and out-of-range ones are clipped to the nearest end (as JAX's gathers in
    ``x[i]`` do; ``jnp.take`` would fill with NaN instead)."""
    return cp.clip(cp.where(indices < 0, indices + n, indices), 0, n - 1)


def take(x, indices, *, axis):
    """y = x gathered at ``indices`` along ``axis`` (``cp.take``); see :func:`_in_range`.

    Shapes: ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``.
    """
    return cp.take(x, _in_range(indices, x.shape[axis]), axis=axis)


def take_vjp(g, out, x, indices, *, axis):
    """Scatter-add the cotangent into zeros of x's shape along ``axis`` (indices may repeat)."""
    axis = axis % x.ndim
    gx = cp.zeros(x.shape, dtype=g.dtype)
    moved = cp.moveaxis(gx, axis, 0)  # a view: adding into it adds into gx
    idx = _in_range(indices, x.shape[axis]).reshape(-1)
    g_moved = cp.moveaxis(g, tuple(range(axis, axis + indices.ndim)), tuple(range(indices.ndim)))
    cp.add.at(moved, idx, g_moved.reshape((idx.size,) + moved.shape[1:]))
    return gx, None


def take_along_axis(x, indices, *, axis):
    """y = cp.take_along_axis(x, indices, axis): ``y[..., i, ...] = x[..., indices[..., i, ...],
    ...]`` along ``axis``; the other axes of x and indices broadcast against each other.
    ``axis=None`` gathers from the flattened x (``indices`` then 1-D)."""
    if axis is None:
        return cp.take_along_axis(x.reshape(-1), indices, axis=0)
    axis = axis % x.ndim
    shape = np.broadcast_shapes(_except(x.shape, axis), _except(indices.shape, axis))
    x = cp.broadcast_to(x, _with(shape, axis, x.shape[axis]))
    indices = cp.broadcast_to(indices, _with(shape, axis, indices.shape[axis]))
    return cp.take_along_axis(x, indices, axis=axis)


def take_along_axis_vjp(g, out, x, indices, *, axis):
    """Scatter-add the cotangent at the gathered positions (of x broadcast like the forward),
    then sum over the axes that broadcasting stretched."""
    if axis is None:
        gx, _ = take_along_axis_vjp(g, out, x.reshape(-1), indices, axis=0)
        return gx.reshape(x.shape), None
    axis = axis % x.ndim
    full = _with(g.shape, axis, x.shape[axis])
    gx = cp.zeros(full, dtype=g.dtype)
    idx = list(cp.ix_(*[cp.arange(n) for n in g.shape]))
    idx[axis] = cp.broadcast_to(indices, g.shape)
    cp.add.at(gx, tuple(idx), g)
    return unbroadcast(gx, x.shape), None


def _except(shape, axis):
    return tuple(1 if i == axis else n for i, n in enumerate(shape))


def _with(shape, axis, n):
    return tuple(n if i == axis else m for i, m in enumerate(shape))


def pad(x, *, pad_width, constant_values=0):
    """y = x padded with ``constant_values``; ``pad_width`` is ((before, after), ...) per axis."""
    return cp.pad(x, pad_width, mode="constant", constant_values=constant_values)


def pad_vjp(g, out, x, *, pad_width, constant_values=0):
    key = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
    return (g[key],)


def tile(x, *, repeats):
    """y = cp.tile(x, repeats)"""
    return cp.tile(x, repeats)


def tile_vjp(g, out, x, *, repeats):
    reps = (1,) * (g.ndim - len(repeats)) + tuple(repeats)
    shape = (1,) * (g.ndim - x.ndim) + x.shape
    split = []
    for r, n in zip(reps, shape):
        split += [r, n]
    gx = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
    return (gx.reshape(x.shape),)


def repeat(x, *, repeats, axis):
    """y = cp.repeat(x, repeats, axis) with an integer ``repeats``."""
    return cp.repeat(x, repeats, axis=axis)


def repeat_vjp(g, out, x, *, repeats, axis):
    axis = axis % x.ndim
    shape = x.shape[:axis] + (x.shape[axis], repeats) + x.shape[axis + 1 :]
    return (g.reshape(shape).sum(axis=axis + 1),)


def flip(x, *, axis):
    """y = x reversed along ``axis``."""
    return cp.flip(x, axis=axis)


def flip_vjp(g, out, x, *, axis):
    return (cp.flip(g, axis=axis),)
