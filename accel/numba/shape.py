"""Shape primitives on the Numba backend.

Most of these are NumPy metadata changes (views) or block copies that run at memcpy speed, so the
reference functions are re-exported on purpose (listed in ``SHARED_WITH_REFERENCE``).  The one
with real work is the scatter-add of ``take``'s VJP (the Embedding gradient), where NumPy's
``np.add.at`` is slow: that is a Numba kernel.
"""

from __future__ import annotations

import numpy as np

from accel.numba._common import computable, njit
from refkeras.primitives import shape as ref

# Views or memcpy-speed copies (and VJPs that are the same kind of operation): NumPy's own.
reshape, reshape_vjp = ref.reshape, ref.reshape_vjp
transpose, transpose_vjp = ref.transpose, ref.transpose_vjp
broadcast_to, broadcast_to_vjp = ref.broadcast_to, ref.broadcast_to_vjp
concatenate, concatenate_vjp = ref.concatenate, ref.concatenate_vjp
getitem, getitem_vjp = ref.getitem, ref.getitem_vjp
pad, pad_vjp = ref.pad, ref.pad_vjp
tile, tile_vjp = ref.tile, ref.tile_vjp
repeat, repeat_vjp = ref.repeat, ref.repeat_vjp
flip, flip_vjp = ref.flip, ref.flip_vjp
# Gathers are one fancy-indexing copy in NumPy; their index clipping is the reference's helper.
take = ref.take
take_along_axis, take_along_axis_vjp = ref.take_along_axis, ref.take_along_axis_vjp


@njit
def _scatter_rows(g2, idx, out2):
    """out2[idx[j]] += g2[j] for every row j (rows may repeat, so serial)."""
    for j in range(idx.shape[0]):
        out2[idx[j]] += g2[j]


def take_vjp(g, out, x, indices, *, axis):
    """Scatter-add the cotangent into zeros of x's shape along ``axis`` (indices may repeat)."""
    axis = axis % x.ndim
    moved_shape = (x.shape[axis],) + x.shape[:axis] + x.shape[axis + 1 :]
    idx = ref._in_range(np.asarray(indices), x.shape[axis]).reshape(-1).astype(np.int64)
    g_moved = np.moveaxis(
        g, tuple(range(axis, axis + np.ndim(indices))), tuple(range(np.ndim(indices)))
    )
    g2 = np.ascontiguousarray(computable(g_moved)).reshape(idx.size, -1)
    out2 = np.zeros((moved_shape[0], g2.shape[1]), g2.dtype)
    _scatter_rows(g2, idx, out2)
    gx = np.moveaxis(out2.reshape(moved_shape), 0, axis).astype(g.dtype, copy=False)
    return np.ascontiguousarray(gx), None
