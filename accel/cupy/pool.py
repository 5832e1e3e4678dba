"""Pooling primitives on CuPy arrays: N-D, channels_last (as ``refkeras/primitives/pool.py``,
whose module docstring states the padding rules and how the max-pool gradient is routed: to the
first maximum of each window in row-major order, as XLA's ``select_and_scatter(ge)``).

Each primitive is a loop over the window's taps of whole-array CuPy operations on strided views
of the padded input: ``prod(pool_size)`` kernel launches, independent of the data size.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cupy as cp
import numpy as np  # window counts are computed on the host from shapes, then copied once

from .conv import as_tuple, crop_padding, tap_slices, window_geometry


def _geometry(x, pool_size, strides, padding):
    """``(pool_size, strides, pads, out_shape)``; ``strides=None`` means ``pool_size`` (Keras)."""
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"Invalid padding {padding!r} for pooling; expected 'valid' or 'same'.")
    rank = x.ndim - 2
    pool_size = as_tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else strides
    strides, _, pads, out_shape = window_geometry(x.shape, pool_size, strides, padding, 1)
    return pool_size, strides, pads, out_shape


def _windows(xp, pool_size, strides, out_shape):
    """Yield, per window tap in row-major order, the ``(batch, *out, channels)`` index into the
    padded input that every output position reads at that tap."""
    ones = (1,) * len(pool_size)
    for tap in itertools.product(*map(range, pool_size)):
        yield tap_slices(tap, out_shape, strides, ones)


# ----------------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------------


def max_pool(
    x: cp.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> cp.ndarray:
    """N-D max pooling: ``out[b, o, c] = max_t xpad[b, o*s + t, c]`` with ``-inf`` padding.

    Parameters
    ----------
    x : ``(batch, *spatial, channels)``, floating point.
    pool_size : int or tuple of length ``rank``.
    strides : int, tuple of length ``rank``, or None (= ``pool_size``).
    padding : ``"valid"`` or ``"same"``.

    Returns
    -------
    ``(batch, *out_spatial, channels)``, same dtype as ``x``.  NaNs propagate.
    """
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    xp = cp.pad(x, [(0, 0), *pads, (0, 0)], constant_values=-cp.inf)
    out = None
    for idx in _windows(xp, pool_size, strides, out_shape):
        out = xp[idx].copy() if out is None else cp.maximum(out, xp[idx], out=out)
    return out


def _first_max_tap(xp, pool_size, strides, out_shape):
    """Index (row-major within the window) of the tap that XLA's ``select_and_scatter(ge)``
    picks for each output: the first maximum, with the NaN behaviour described above."""
    best = choice = None
    for i, idx in enumerate(_windows(xp, pool_size, strides, out_shape)):
        cand = xp[idx]
        if best is None:
            best, choice = cand, cp.zeros(cand.shape, dtype=cp.int32)
            continue
        move = ~(best >= cand)  # a larger candidate, or a NaN on either side: the scan moves on
        best = cp.where(move, cand, best)
        choice = cp.where(move, cp.int32(i), choice)
    return choice


def max_pool_vjp(
    g: cp.ndarray,
    out: cp.ndarray,
    x: cp.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> tuple[cp.ndarray]:
    """VJP of ``max_pool``: each window's cotangent ``g[b, o, c]`` goes to its selected element.

    ``dx[p] = sum over windows o whose selected tap reads p of g[o]`` (windows may overlap, so
    one element can collect from several windows).  Selection = first maximum in row-major
    window order, as JAX/XLA does (see the module docstring).  Returns ``(dx,)``.
    """
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    xp = cp.pad(x, [(0, 0), *pads, (0, 0)], constant_values=-cp.inf)
    choice = _first_max_tap(xp, pool_size, strides, out_shape)
    g = g.astype(x.dtype, copy=False)
    zero = g.dtype.type(0)
    dxp = cp.zeros(xp.shape, dtype=x.dtype)
    for i, idx in enumerate(_windows(xp, pool_size, strides, out_shape)):
        dxp[idx] += cp.where(choice == i, g, zero)  # a select: exact even for inf/nan in g
    return (crop_padding(dxp, pads),)


# ----------------------------------------------------------------------------------------------
# Average pooling
# ----------------------------------------------------------------------------------------------


def _window_counts(x_shape, pool_size, strides, pads, out_shape, dtype):
    """Number of unpadded elements in each window, ``(1, *out_spatial, 1)``, on the device.

    A window's valid region is a box, so its size is the product of per-dimension lengths
    ``min(start + k, n) - max(start, 0)`` with ``start = o * s - pad_before``.  This depends only
    on shapes, so it is computed on the host and copied over once.
    """
    counts = np.ones((1,) * (len(pool_size) + 2), dtype=dtype)
    for axis, (n, k, s, (lo, _), n_out) in enumerate(
        zip(x_shape[1:-1], pool_size, strides, pads, out_shape), start=1
    ):
        start = np.arange(n_out) * s - lo
        length = np.minimum(start + k, n) - np.maximum(start, 0)
        shape = [1] * counts.ndim
        shape[axis] = n_out
        counts = counts * length.astype(dtype).reshape(shape)
    return cp.asarray(counts)


def average_pool(
    x: cp.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> cp.ndarray:
    """N-D average pooling over the unpadded part of each window.

    ``out[b, o, c] = sum_{t : p valid} x[b, p, c] / count(o)``, ``p = o*s + t - pad_before``,
    ``count(o)`` the number of valid ``p`` (``prod(pool_size)`` everywhere for ``"valid"``).

    Parameters and returns as for ``max_pool``.
    """
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    xp = cp.pad(x, [(0, 0), *pads, (0, 0)])
    total = None
    for idx in _windows(xp, pool_size, strides, out_shape):
        total = xp[idx].copy() if total is None else cp.add(total, xp[idx], out=total)
    return total / _window_counts(x.shape, pool_size, strides, pads, out_shape, x.dtype)


def average_pool_vjp(
    g: cp.ndarray,
    out: cp.ndarray,
    x: cp.ndarray,
    *,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None,
    padding: str,
) -> tuple[cp.ndarray]:
    """VJP of ``average_pool``: ``dx[p] = sum over windows o containing p of g[o] / count(o)``.

    Returns ``(dx,)``.
    """
    pool_size, strides, pads, out_shape = _geometry(x, pool_size, strides, padding)
    counts = _window_counts(x.shape, pool_size, strides, pads, out_shape, x.dtype)
    share = g.astype(x.dtype, copy=False) / counts
    padded_shape = [n + lo + hi for n, (lo, hi) in zip(x.shape[1:-1], pads)]
    dxp = cp.zeros((x.shape[0], *padded_shape, x.shape[-1]), dtype=x.dtype)
    for idx in _windows(dxp, pool_size, strides, out_shape):
        dxp[idx] += share
    return (crop_padding(dxp, pads),)
