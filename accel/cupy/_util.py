"""Helpers shared by the CuPy primitives' VJPs (the same rules as ``refkeras/primitives/_util``).

``normalize_axis`` is pure metadata (a tuple of ints from an ``axis`` argument), so it is the
reference's own function; the two that touch arrays use only array methods and are restated here
so that nothing in ``accel/cupy`` calls NumPy on a device array.
"""

from __future__ import annotations

from refkeras.primitives._util import normalize_axis  # shape metadata only

__all__ = ["normalize_axis", "unbroadcast", "expand_reduced"]


def unbroadcast(g, shape: tuple):
    """Sum ``g`` over the axes that broadcasting added or stretched, giving an array of ``shape``
    (the VJP of ``broadcast_to(x, g.shape)``)."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def expand_reduced(g, x_shape: tuple, axis, keepdims: bool):
    """Re-insert the reduced axes into ``g`` so that it broadcasts against the reduction input."""
    if keepdims or g.ndim == len(x_shape):
        return g
    axes = normalize_axis(axis, len(x_shape))
    shape = [1 if i in axes else n for i, n in enumerate(x_shape)]
    return g.reshape(shape)
