"""Convolution primitives on CuPy arrays: N-D, channels_last (as ``refkeras/primitives/conv.py``,
whose module docstring states the formula and layouts).

``conv`` is im2col: the patch matrix is copied out of a strided sliding-window view of the padded
input (``cupy.lib.stride_tricks.sliding_window_view``) and multiplied by the kernel matrix in one
batched ``matmul`` (cuBLAS).  The VJP adds each kernel tap's block back with one strided slice
assignment per tap ("col2im"); within one tap distinct outputs read distinct inputs, so no
scatter-add is needed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import cupy as cp

# Window geometry is pure shape arithmetic (tuples of ints) and ``crop_padding`` is a basic
# slice, so these are the reference's own functions.
from refkeras.primitives.conv import (  # noqa: F401 - re-exported for pool.py
    _check_channels,
    as_tuple,
    crop_padding,
    padding_amounts,
    tap_slices,
    window_geometry,
)

# Matmuls keep the operands' dtype through the primitive (a bfloat16 ``@`` may return float32).
from .linalg import matmul as _mm


def _pad_input(x, kernel_size, strides, padding, dilation_rate):
    """``window_geometry`` plus the zero-padded input."""
    strides, dilation_rate, pads, out_shape = window_geometry(
        x.shape, kernel_size, strides, padding, dilation_rate
    )
    return strides, dilation_rate, pads, out_shape, cp.pad(x, [(0, 0), *pads, (0, 0)])


# A grouped conv is ``groups`` independent convs.  The arrays below carry the group axis first, so
# the whole conv is one batched matmul (a plain matmul, with no extra copies, when groups == 1):
#
#     cols  (groups, m, taps * Cg)   im2col patch matrix, m = batch * prod(out_spatial)
#     kmat  (groups, taps * Cg, Og)  the kernel as a matrix
#     omat  (groups, m, Og)          the output (or its cotangent) as a matrix
#
# Taps are in row-major kernel order, matching ``kernel.reshape(taps, Cg, O)``.


def _im2col(xp, kernel_size, groups, strides, dilation_rate, out_shape):
    """``cols`` from the padded input, built from a strided view with a single copy."""
    rank, batch, c_in = len(kernel_size), xp.shape[0], xp.shape[-1]
    spatial = range(1, rank + 1)
    span = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation_rate)]
    # (batch, *positions, C, *span): every dilated window, at every (unstrided) position ...
    view = cp.lib.stride_tricks.sliding_window_view(xp, span, axis=tuple(spatial))
    # ... keep every s-th position and every d-th element of each window: (batch, *out, C, *k)
    view = view[
        (slice(None), *(slice(None, None, s) for s in strides), slice(None))
        + tuple(slice(None, None, d) for d in dilation_rate)
    ]
    view = view.reshape(batch, *out_shape, groups, c_in // groups, *kernel_size)
    order = (rank + 1, 0, *spatial, *(i + rank + 3 for i in range(rank)), rank + 2)
    m, row = batch * math.prod(out_shape), math.prod(kernel_size) * (c_in // groups)
    return view.transpose(order).reshape(groups, m, row)


def _kernel_matrix(kernel, groups):
    *kernel_size, c_group, c_out = kernel.shape
    n_taps, o_group = math.prod(kernel_size), c_out // groups
    kmat = kernel.reshape(n_taps, c_group, groups, o_group).transpose(2, 0, 1, 3)
    return kmat.reshape(groups, n_taps * c_group, o_group)


def _kernel_from_matrix(kmat, kernel_shape):
    groups, _, o_group = kmat.shape
    n_taps, c_group = math.prod(kernel_shape[:-2]), kernel_shape[-2]
    kernel = kmat.reshape(groups, n_taps, c_group, o_group).transpose(1, 2, 0, 3)
    return kernel.reshape(kernel_shape)


def _output_matrix(y, groups):
    return y.reshape(-1, groups, y.shape[-1] // groups).transpose(1, 0, 2)


def conv(
    x: cp.ndarray,
    kernel: cp.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
    groups: int = 1,
) -> cp.ndarray:
    """N-D grouped, strided, dilated convolution (cross-correlation), channels_last.

    ``out[b, o, g*Og + j] = sum_{t, c} xpad[b, o*s + t*d, g*Cg + c] * kernel[t, c, g*Og + j]``

    Parameters
    ----------
    x : ``(batch, *spatial, in_channels)``.  Cast to ``kernel.dtype`` as Keras does.
    kernel : ``(*kernel_size, in_channels // groups, out_channels)``.
    strides, dilation_rate : int or tuple of length ``rank`` (number of spatial dims).
    padding : ``"valid"``, ``"same"`` (XLA SAME, see ``padding_amounts``) or ``"causal"`` (1-D).
    groups : number of feature groups (``feature_group_count`` in XLA).

    Returns
    -------
    ``(batch, *out_spatial, out_channels)`` in ``kernel.dtype``.
    """
    x = x.astype(kernel.dtype, copy=False)
    _check_channels(x, kernel, groups)
    kernel_size = kernel.shape[:-2]
    strides, dilation_rate, pads, out_shape, xp = _pad_input(
        x, kernel_size, strides, padding, dilation_rate
    )
    cols = _im2col(xp, kernel_size, groups, strides, dilation_rate, out_shape)
    omat = _mm(cols, _kernel_matrix(kernel, groups))
    return omat.transpose(1, 0, 2).reshape(x.shape[0], *out_shape, kernel.shape[-1])


def conv_vjp(
    g: cp.ndarray,
    out: cp.ndarray,
    x: cp.ndarray,
    kernel: cp.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
    groups: int = 1,
) -> tuple[cp.ndarray, cp.ndarray]:
    """VJP of ``conv``: ``(dx, dkernel)`` for the output cotangent ``g`` (shape of ``out``).

    The forward pass is ``out = cols @ kmat`` (per group), so

    * ``dkmat = cols^T @ g``;
    * ``dcols = g @ kmat^T``, and "col2im" adds each tap's block of ``dcols`` back onto the input
      positions that tap read, then crops the padding off.  The loop over taps forms one block
      at a time, so ``dcols`` is never held whole.

    Returns ``dx`` in ``x.dtype`` and ``dkernel`` in ``kernel.dtype``.
    """
    x_dtype = x.dtype
    x = x.astype(kernel.dtype, copy=False)
    _check_channels(x, kernel, groups)
    kernel_size = kernel.shape[:-2]
    strides, dilation_rate, pads, out_shape, xp = _pad_input(
        x, kernel_size, strides, padding, dilation_rate
    )
    cols = _im2col(xp, kernel_size, groups, strides, dilation_rate, out_shape)
    gmat = _output_matrix(g.astype(kernel.dtype, copy=False), groups)

    dkernel = _kernel_from_matrix(_mm(cols.transpose(0, 2, 1), gmat), kernel.shape)

    # Per tap rather than one big dcols matmul: needs taps times less memory.
    n_taps, c_group, o_group = math.prod(kernel_size), kernel.shape[-2], kernel.shape[-1] // groups
    kernel_t = kernel.reshape(n_taps, c_group, groups, o_group).transpose(0, 2, 3, 1)
    dxp = cp.zeros(xp.shape, dtype=kernel.dtype)
    for i, tap in enumerate(itertools.product(*map(range, kernel_size))):
        dpatch = _mm(gmat, kernel_t[i]).transpose(1, 0, 2).reshape(x.shape[0], *out_shape, -1)
        dxp[tap_slices(tap, out_shape, strides, dilation_rate)] += dpatch
    return crop_padding(dxp, pads).astype(x_dtype, copy=False), dkernel


# ----------------------------------------------------------------------------------------------
# Depthwise convolution
# ----------------------------------------------------------------------------------------------


def depthwise_conv(
    x: cp.ndarray,
    kernel: cp.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
) -> cp.ndarray:
    """Depthwise convolution: each input channel ``c`` gets its own ``depth_multiplier`` filters.

    ``out[b, o, c*M + m] = sum_t xpad[b, o*s + t*d, c] * kernel[t, c, m]``

    Parameters
    ----------
    x : ``(batch, *spatial, C)``.  Cast to ``kernel.dtype``.
    kernel : ``(*kernel_size, C, M)`` (Keras layout; ``M`` = depth multiplier).
    strides, dilation_rate, padding : as for ``conv``.

    Returns
    -------
    ``(batch, *out_spatial, C * M)``.  Keras's JAX backend computes this as a grouped conv,
    ``conv(x, kernel.reshape(*kernel_size, 1, C * M), groups=C)``, which gives the same result;
    here it is a loop over taps of elementwise products instead, because with one input
    channel per group the im2col matrix would be ``taps`` times the input for tiny matmuls.
    """
    x = x.astype(kernel.dtype, copy=False)
    kernel_size, (c, mult) = kernel.shape[:-2], kernel.shape[-2:]
    strides, dilation_rate, pads, out_shape, xp = _pad_input(
        x, kernel_size, strides, padding, dilation_rate
    )
    # Multiplier axis first so that every update is a contiguous channels-last product.
    out = cp.zeros((mult, x.shape[0], *out_shape, c), dtype=kernel.dtype)
    for tap in itertools.product(*map(range, kernel_size)):
        patch = xp[tap_slices(tap, out_shape, strides, dilation_rate)]
        for m in range(mult):
            out[m] += patch * kernel[(*tap, slice(None), m)]
    return cp.moveaxis(out, 0, -1).reshape(x.shape[0], *out_shape, c * mult)


def depthwise_conv_vjp(
    g: cp.ndarray,
    out: cp.ndarray,
    x: cp.ndarray,
    kernel: cp.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
) -> tuple[cp.ndarray, cp.ndarray]:
    """VJP of ``depthwise_conv``: ``(dx, dkernel)``.

    Per tap ``t`` and multiplier ``m``, with ``P_t`` the input patch tap ``t`` reads:
    ``dkernel[t, c, m] = sum_{b,o} P_t[b, o, c] * g[b, o, c*M + m]`` and
    ``dx[P_t] += g[..., c*M + m] * kernel[t, c, m]``.
    """
    x_dtype = x.dtype
    x = x.astype(kernel.dtype, copy=False)
    kernel_size, (c, mult) = kernel.shape[:-2], kernel.shape[-2:]
    strides, dilation_rate, pads, out_shape, xp = _pad_input(
        x, kernel_size, strides, padding, dilation_rate
    )
    g = g.astype(kernel.dtype, copy=False).reshape(x.shape[0], *out_shape, c, mult)
    g = cp.ascontiguousarray(cp.moveaxis(g, -1, 0))
    dxp = cp.zeros(xp.shape, dtype=kernel.dtype)
    dkernel = cp.zeros(kernel.shape, dtype=kernel.dtype)
    for tap in itertools.product(*map(range, kernel_size)):
        idx = tap_slices(tap, out_shape, strides, dilation_rate)
        for m in range(mult):
            dkernel[(*tap, slice(None), m)] = (xp[idx] * g[m]).reshape(-1, c).sum(axis=0)
            dxp[idx] += g[m] * kernel[(*tap, slice(None), m)]
    return crop_padding(dxp, pads).astype(x_dtype, copy=False), dkernel
