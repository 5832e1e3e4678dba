"""Pooling primitives with ``lax.reduce_window`` (mirrors :mod:`refkeras.primitives.pool`).

``x`` is ``(batch, *spatial, channels)``; output position ``o`` covers inputs
``p = o * strides + t - pad_before`` for taps ``t`` in the window.  Padding never contributes:

* max pooling reduces with ``max`` from ``-inf`` over the ``-inf``-padded window;
* average pooling divides the zero-padded window sum by the number of unpadded elements.

VJPs are ``jax.vjp`` of the forward.  For max pooling that is XLA's
``select_and_scatter(ge)``: the whole cotangent of a window goes to its *first* maximum in
row-major order, which is the convention the reference implements by hand (see its module
docstring for ties, ``-inf`` and NaN).  Implementations are jitted with static geometry (see
:mod:`accel.jax.conv`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from refkeras.primitives.conv import as_tuple, window_geometry

# Integer geometry only (window sizes from static shapes), shared with the reference.
from refkeras.primitives.pool import _window_counts


def _geometry(x, pool_size, strides, padding):
    """``(pool_size, strides, pads, out_shape)`` as hashable tuples; ``strides=None`` means
    ``pool_size`` (Keras)."""
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"Invalid padding {padding!r} for pooling; expected 'valid' or 'same'.")
    rank = x.ndim - 2
    pool_size = as_tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else strides
    strides, _, pads, out_shape = window_geometry(x.shape, pool_size, strides, padding, 1)
    return pool_size, strides, tuple(tuple(p) for p in pads), out_shape


def _window(pool_size, strides, pads):
    return (1, *pool_size, 1), (1, *strides, 1), ((0, 0), *pads, (0, 0))


@functools.partial(jax.jit, static_argnames=("pool_size", "strides", "pads"))
def _max_pool(x, *, pool_size, strides, pads):
    dims, steps, padding = _window(pool_size, strides, pads)
    return lax.reduce_window(x, np.array(-np.inf, x.dtype), lax.max, dims, steps, padding)


@functools.partial(jax.jit, static_argnames=("pool_size", "strides", "pads"))
def _max_pool_vjp(g, x, *, pool_size, strides, pads):
    _, pullback = jax.vjp(
        lambda a: _max_pool(a, pool_size=pool_size, strides=strides, pads=pads), x
    )
    return pullback(g.astype(x.dtype))


@functools.partial(jax.jit, static_argnames=("pool_size", "strides", "pads", "out_shape"))
def _average_pool(x, *, pool_size, strides, pads, out_shape):
    dims, steps, padding = _window(pool_size, strides, pads)
    total = lax.reduce_window(x, np.array(0, x.dtype), lax.add, dims, steps, padding)
    counts = _window_counts(x.shape, pool_size, strides, pads, out_shape, x.dtype)
    return total / jnp.asarray(counts)


@functools.partial(jax.jit, static_argnames=("pool_size", "strides", "pads", "out_shape"))
def _average_pool_vjp(g, x, *, pool_size, strides, pads, out_shape):
    def f(a):
        return _average_pool(
            a, pool_size=pool_size, strides=strides, pads=pads, out_shape=out_shape
        )

    _, pullback = jax.vjp(f, x)
    return pullback(g.astype(x.dtype))


def max_pool(x, *, pool_size, strides, padding):
    """N-D max pooling ``out[b, o, c] = max_t xpad[b, o*s + t, c]`` with ``-inf`` padding; same
    dtype as ``x``, NaNs propagate."""
    pool_size, strides, pads, _ = _geometry(x, pool_size, strides, padding)
    return _max_pool(x, pool_size=pool_size, strides=strides, pads=pads)


def max_pool_vjp(g, out, x, *, pool_size, strides, padding):
    """VJP of ``max_pool``: each window's cotangent goes to its first maximum.  ``(dx,)``."""
    pool_size, strides, pads, _ = _geometry(x, pool_size, strides, padding)
    return _max_pool_vjp(g, x, pool_size=pool_size, strides=strides, pads=pads)


def average_pool(x, *, pool_size, strides, padding):
    """N-D average pooling over the unpadded part of each window."""
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    return _average_pool(x, pool_size=pool_size, strides=strides, pads=pads, out_shape=out_shape)


def average_pool_vjp(g, out, x, *, pool_size, strides, padding):
    """VJP of ``average_pool``: ``dx[p] = sum over windows o containing p of g[o] / count(o)``."""
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    return _average_pool_vjp(
        g, x, pool_size=pool_size, strides=strides, pads=pads, out_shape=out_shape
    )
