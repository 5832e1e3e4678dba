"""Helpers shared by the reference primitives' VJPs."""

from __future__ import annotations

import numpy as np


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, giving an array of ``shape``.

    This is the VJP of ``np.broadcast_to(x, g.shape)``: every input element was copied to several
    output positions, so its cotangent is the sum over those positions.
    """
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def normalize_axis(axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (int(axis),)
    return tuple(sorted(a % ndim if ndim else 0 for a in axis))


def expand_reduced(g: np.ndarray, x_shape: tuple, axis, keepdims: bool) -> np.ndarray:
    """Re-insert the reduced axes into ``g`` so that it broadcasts against the reduction input."""
    if keepdims or g.ndim == len(x_shape):
        return g
    axes = normalize_axis(axis, len(x_shape))
    shape = [1 if i in axes else n for i, n in enumerate(x_shape)]
    return g.reshape(shape)


def is_float(dtype) -> bool:
    """True for floating dtypes, ``bfloat16`` included (ml_dtypes' bfloat16 is not a NumPy
    ``inexact`` subtype, so ``np.issubdtype`` alone would call it non-float)."""
    dtype = np.dtype(dtype)
    return np.issubdtype(dtype, np.inexact) or dtype.name == "bfloat16"
