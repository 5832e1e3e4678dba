"""Convolution primitives: N-D, channels_last, forward and VJP side by side.

Layouts follow Keras exactly: ``x`` is ``(batch, *spatial, in_channels)`` and ``kernel`` is
``(*kernel_size, in_channels // groups, out_channels)``.  With ``rank`` spatial dimensions,
output position ``o`` (a multi-index) and kernel tap ``t`` read input position

    p = o * strides + t * dilation_rate - pad_before            (elementwise over spatial dims)

and the convolution (a cross-correlation, as in every deep-learning framework) is

    out[b, o, g*Og + j] = sum_t sum_c  x[b, p, g*Cg + c] * kernel[t, c, g*Og + j]

where ``Cg = in_channels // groups`` and ``Og = out_channels // groups``; positions ``p`` that
fall in the padding contribute zero.

Each public primitive comes in two versions:

* the fast one (``conv``, ``conv_vjp``) copies the "im2col" patch matrix out of a strided
  sliding-window view of the padded input and does a single (batched over groups) ``matmul``;
* the naive one (``conv_naive``, ``conv_vjp_naive``) is the formula above written as python
  loops; it is slow and exists only as a readable statement of the math that the tests compare
  the fast version against.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

# Matmuls go through the primitive so they keep the operands' dtype (ml_dtypes' bfloat16 ``@``
# returns float32; Keras/JAX return a bfloat16 conv for bfloat16 inputs).
from refkeras.primitives.linalg import matmul as _mm

__all__ = [
    "as_tuple",
    "padding_amounts",
    "tap_slices",
    "window_geometry",
    "crop_padding",
    "conv",
    "conv_vjp",
    "conv_naive",
    "conv_vjp_naive",
    "depthwise_conv",
    "depthwise_conv_vjp",
]


# ----------------------------------------------------------------------------------------------
# Shared geometry helpers (also used by ``pool.py``)
# ----------------------------------------------------------------------------------------------


def as_tuple(value: int | Sequence[int], rank: int, name: str) -> tuple[int, ...]:
    """Broadcast an int to a ``rank``-tuple, or check that a sequence has length ``rank``."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * rank
    value = tuple(int(v) for v in value)
    if len(value) != rank:
        raise ValueError(f"`{name}` must have {rank} entries, got {value}.")
    return value


def padding_amounts(
    spatial_shape: Sequence[int],
    window: Sequence[int],
    strides: Sequence[int],
    dilation_rate: Sequence[int],
    padding: str,
) -> list[tuple[int, int]]:
    """Per-dimension ``(before, after)`` padding for ``"valid"``, ``"same"`` or ``"causal"``.

    ``"same"`` is XLA's SAME (what Keras 3 uses on the JAX backend): with the effective
    (dilated) window ``w = (k - 1) * d + 1`` the output has ``ceil(n / s)`` positions and

        total = max((ceil(n / s) - 1) * s + w - n, 0),  before = total // 2,  after = rest

    so an odd total puts the extra element *after*.  ``"causal"`` (1-D only) pads ``w - 1`` before
    and nothing after, which is what ``keras.layers.Conv1D`` does before a ``"valid"`` conv.
    """
    padding = padding.lower()
    pads = []
    for n, k, s, d in zip(spatial_shape, window, strides, dilation_rate):
        w = (k - 1) * d + 1
        if padding == "valid":
            pads.append((0, 0))
        elif padding == "same":
            total = max((-(-n // s) - 1) * s + w - n, 0)
            pads.append((total // 2, total - total // 2))
        elif padding == "causal":
            if len(spatial_shape) != 1:
                raise ValueError("`padding='causal'` is only supported for 1-D convolutions.")
            pads.append((w - 1, 0))
        else:
            raise ValueError(f"Invalid padding {padding!r}; expected 'valid', 'same' or 'causal'.")
    return pads


def tap_slices(
    tap: Sequence[int],
    out_shape: Sequence[int],
    strides: Sequence[int],
    dilation_rate: Sequence[int],
) -> tuple[slice, ...]:
    """Index into a padded ``(batch, *spatial, channels)`` array giving, for kernel tap ``tap``,
    the input element that every output position reads: a ``(batch, *out_shape, channels)`` view.

    Within one tap distinct outputs read distinct inputs, so ``a[idx] += v`` is a safe scatter.
    """
    spatial = tuple(
        slice(t * d, t * d + (o - 1) * s + 1, s)
        for t, o, s, d in zip(tap, out_shape, strides, dilation_rate)
    )
    return (slice(None), *spatial, slice(None))


def window_geometry(
    x_shape: Sequence[int],
    kernel_size: Sequence[int],
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
) -> tuple[tuple[int, ...], tuple[int, ...], list[tuple[int, int]], tuple[int, ...]]:
    """``(strides, dilation_rate, pads, out_shape)`` of a window op on a channels_last ``x``.

    Output length per spatial dim: ``(n + before + after - ((k - 1) * d + 1)) // s + 1``.
    """
    rank = len(kernel_size)
    strides = as_tuple(strides, rank, "strides")
    dilation_rate = as_tuple(dilation_rate, rank, "dilation_rate")
    pads = padding_amounts(x_shape[1:-1], kernel_size, strides, dilation_rate, padding)
    out_shape = tuple(
        (n + lo + hi - ((k - 1) * d + 1)) // s + 1
        for n, (lo, hi), k, s, d in zip(x_shape[1:-1], pads, kernel_size, strides, dilation_rate)
    )
    if min(out_shape, default=1) <= 0:
        raise ValueError(
            f"The window operation produces an empty output: input spatial shape {x_shape[1:-1]}, "
            f"window {tuple(kernel_size)}, strides {strides}, dilation {dilation_rate}, "
            f"padding {padding!r}."
        )
    return strides, dilation_rate, pads, out_shape


def _check_channels(x, kernel, groups):
    if x.ndim != kernel.ndim or x.ndim < 3:
        raise ValueError(
            f"Expected x of rank N+2 and kernel of rank N+2 (N spatial dims), got shapes "
            f"{x.shape} and {kernel.shape}."
        )
    c_in, c_group, c_out = x.shape[-1], kernel.shape[-2], kernel.shape[-1]
    if c_group * groups != c_in or c_out % groups:
        raise ValueError(
            f"Input channels ({c_in}) must equal groups ({groups}) * kernel in_channels "
            f"({c_group}), and out_channels ({c_out}) must be divisible by groups."
        )


def _pad_input(x, kernel_size, strides, padding, dilation_rate):
    """``window_geometry`` plus the zero-padded input."""
    strides, dilation_rate, pads, out_shape = window_geometry(
        x.shape, kernel_size, strides, padding, dilation_rate
    )
    return strides, dilation_rate, pads, out_shape, np.pad(x, [(0, 0), *pads, (0, 0)])


def crop_padding(xp: np.ndarray, pads: Sequence[tuple[int, int]]) -> np.ndarray:
    """Undo ``np.pad(x, [(0, 0), *pads, (0, 0)])`` (a view)."""
    return xp[(slice(None), *(slice(lo, xp.shape[i + 1] - hi) for i, (lo, hi) in enumerate(pads)))]


# ----------------------------------------------------------------------------------------------
# Fast convolution
# ----------------------------------------------------------------------------------------------

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
    view = np.lib.stride_tricks.sliding_window_view(xp, span, axis=tuple(spatial))
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
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
    groups: int = 1,
) -> np.ndarray:
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
    x = np.asarray(x).astype(kernel.dtype, copy=False)
    _check_channels(x, kernel, groups)
    kernel_size = kernel.shape[:-2]
    strides, dilation_rate, pads, out_shape, xp = _pad_input(
        x, kernel_size, strides, padding, dilation_rate
    )
    cols = _im2col(xp, kernel_size, groups, strides, dilation_rate, out_shape)
    omat = _mm(cols, _kernel_matrix(kernel, groups))
    return omat.transpose(1, 0, 2).reshape(x.shape[0], *out_shape, kernel.shape[-1])


def conv_vjp(
    g: np.ndarray,
    out: np.ndarray,
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """VJP of ``conv``: ``(dx, dkernel)`` for the output cotangent ``g`` (shape of ``out``).

    The forward pass is ``out = cols @ kmat`` (per group), so

    * ``dkmat = cols^T @ g``;
    * ``dcols = g @ kmat^T``, and "col2im" adds each tap's block of ``dcols`` back onto the input
      positions that tap read, then crops the padding off.  The loop over taps forms one block
      at a time, so ``dcols`` is never held whole.

    Returns ``dx`` in ``x.dtype`` and ``dkernel`` in ``kernel.dtype``.
    """
    x_dtype = np.asarray(x).dtype
    x = np.asarray(x).astype(kernel.dtype, copy=False)
    _check_channels(x, kernel, groups)
    kernel_size = kernel.shape[:-2]
    strides, dilation_rate, pads, out_shape, xp = _pad_input(
        x, kernel_size, strides, padding, dilation_rate
    )
    cols = _im2col(xp, kernel_size, groups, strides, dilation_rate, out_shape)
    gmat = _output_matrix(np.asarray(g, dtype=kernel.dtype), groups)

    dkernel = _kernel_from_matrix(_mm(cols.transpose(0, 2, 1), gmat), kernel.shape)

    # Per tap rather than one big dcols matmul: measured faster, and needs less memory.
    n_taps, c_group, o_group = math.prod(kernel_size), kernel.shape[-2], kernel.shape[-1] // groups
    kernel_t = kernel.reshape(n_taps, c_group, groups, o_group).transpose(0, 2, 3, 1)
    dxp = np.zeros(xp.shape, dtype=kernel.dtype)
    for i, tap in enumerate(itertools.product(*map(range, kernel_size))):
        dpatch = _mm(gmat, kernel_t[i]).transpose(1, 0, 2).reshape(x.shape[0], *out_shape, -1)
        dxp[tap_slices(tap, out_shape, strides, dilation_rate)] += dpatch
    return crop_padding(dxp, pads).astype(x_dtype, copy=False), dkernel


# ----------------------------------------------------------------------------------------------
# Naive convolution: the formula, as loops
# ----------------------------------------------------------------------------------------------


def _naive_terms(x_shape, kernel_size, strides, padding, dilation_rate):
    """Yield ``(b, o, t, p)`` for every (output position, kernel tap) pair whose input position
    ``p = o*s + t*d - pad_before`` lies inside the unpadded input."""
    strides, dilation_rate, pads, out_shape = window_geometry(
        x_shape, kernel_size, strides, padding, dilation_rate
    )
    for b in range(x_shape[0]):
        for o in itertools.product(*map(range, out_shape)):
            for t in itertools.product(*map(range, kernel_size)):
                p = tuple(
                    oi * s + ti * d - lo
                    for oi, ti, s, d, (lo, _) in zip(o, t, strides, dilation_rate, pads)
                )
                if all(0 <= pi < n for pi, n in zip(p, x_shape[1:-1])):
                    yield b, o, t, p


def conv_naive(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
    groups: int = 1,
) -> np.ndarray:
    """Loop version of ``conv`` (same signature and result); for reading and testing only."""
    x = np.asarray(x).astype(kernel.dtype, copy=False)
    _check_channels(x, kernel, groups)
    kernel_size = kernel.shape[:-2]
    _, _, _, out_shape = window_geometry(x.shape, kernel_size, strides, padding, dilation_rate)
    c_group, o_group = kernel.shape[-2], kernel.shape[-1] // groups
    out = np.zeros((x.shape[0], *out_shape, kernel.shape[-1]), dtype=kernel.dtype)
    for b, o, t, p in _naive_terms(x.shape, kernel_size, strides, padding, dilation_rate):
        for grp in range(groups):
            cin = slice(grp * c_group, (grp + 1) * c_group)
            cout = slice(grp * o_group, (grp + 1) * o_group)
            out[(b, *o, cout)] += x[(b, *p, cin)] @ kernel[(*t, slice(None), cout)]
    return out


def conv_vjp_naive(
    g: np.ndarray,
    out: np.ndarray,
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
    groups: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Loop version of ``conv_vjp``: every term ``x[p] * kernel[t]`` of ``out[o]`` sends
    ``g[o] * kernel[t]`` to ``dx[p]`` and ``x[p] * g[o]`` to ``dkernel[t]``."""
    x_dtype = np.asarray(x).dtype
    x = np.asarray(x).astype(kernel.dtype, copy=False)
    _check_channels(x, kernel, groups)
    kernel_size = kernel.shape[:-2]
    c_group, o_group = kernel.shape[-2], kernel.shape[-1] // groups
    dx = np.zeros(x.shape, dtype=kernel.dtype)
    dkernel = np.zeros(kernel.shape, dtype=kernel.dtype)
    for b, o, t, p in _naive_terms(x.shape, kernel_size, strides, padding, dilation_rate):
        for grp in range(groups):
            cin = slice(grp * c_group, (grp + 1) * c_group)
            cout = slice(grp * o_group, (grp + 1) * o_group)
            dx[(b, *p, cin)] += kernel[(*t, slice(None), cout)] @ g[(b, *o, cout)]
            dkernel[(*t, slice(None), cout)] += np.outer(x[(b, *p, cin)], g[(b, *o, cout)])
    return dx.astype(x_dtype, copy=False), dkernel


# ----------------------------------------------------------------------------------------------
# Depthwise convolution
# ----------------------------------------------------------------------------------------------


def depthwise_conv(
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
) -> np.ndarray:
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
    x = np.asarray(x).astype(kernel.dtype, copy=False)
    kernel_size, (c, mult) = kernel.shape[:-2], kernel.shape[-2:]
    strides, dilation_rate, pads, out_shape, xp = _pad_input(
        x, kernel_size, strides, padding, dilation_rate
    )
    # Multiplier axis first so that every update is a contiguous channels-last product.
    out = np.zeros((mult, x.shape[0], *out_shape, c), dtype=kernel.dtype)
    for tap in itertools.product(*map(range, kernel_size)):
        patch = xp[tap_slices(tap, out_shape, strides, dilation_rate)]
        for m in range(mult):
            out[m] += patch * kernel[(*tap, slice(None), m)]
    return np.moveaxis(out, 0, -1).reshape(x.shape[0], *out_shape, c * mult)


def depthwise_conv_vjp(
    g: np.ndarray,
    out: np.ndarray,
    x: np.ndarray,
    kernel: np.ndarray,
    *,
    strides: int | Sequence[int],
    padding: str,
    dilation_rate: int | Sequence[int],
) -> tuple[np.ndarray, np.ndarray]:
    """VJP of ``depthwise_conv``: ``(dx, dkernel)``.

    Per tap ``t`` and multiplier ``m``, with ``P_t`` the input patch tap ``t`` reads:
    ``dkernel[t, c, m] = sum_{b,o} P_t[b, o, c] * g[b, o, c*M + m]`` and
    ``dx[P_t] += g[..., c*M + m] * kernel[t, c, m]``.
    """
    x_dtype = np.asarray(x).dtype
    x = np.asarray(x).astype(kernel.dtype, copy=False)
    kernel_size, (c, mult) = kernel.shape[:-2], kernel.shape[-2:]
    strides, dilation_rate, pads, out_shape, xp = _pad_input(
        x, kernel_size, strides, padding, dilation_rate
    )
    g = np.asarray(g, dtype=kernel.dtype).reshape(x.shape[0], *out_shape, c, mult)
    g = np.ascontiguousarray(np.moveaxis(g, -1, 0))
    dxp = np.zeros(xp.shape, dtype=kernel.dtype)
    dkernel = np.zeros(kernel.shape, dtype=kernel.dtype)
    for tap in itertools.product(*map(range, kernel_size)):
        idx = tap_slices(tap, out_shape, strides, dilation_rate)
        for m in range(mult):
            dkernel[(*tap, slice(None), m)] = (xp[idx] * g[m]).reshape(-1, c).sum(axis=0)
            dxp[idx] += g[m] * kernel[(*tap, slice(None), m)]
    return crop_padding(dxp, pads).astype(x_dtype, copy=False), dkernel
