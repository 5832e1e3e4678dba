"""Convolutions on the Numba backend.

``conv`` is im2col + one BLAS matrix product, like the reference, but the patch matrix is built
by a Numba loop nest reading the *unpadded* input with bounds checks (no padded copy, no strided
view + transpose copy), and the VJP's "col2im" scatter is a Numba loop too:

    cols[g, r, t*Cg + c] = x[b, o*s + t*d - lo, g*Cg + c]      (0 in the padding)
    out   = cols @ kmat                     (per group; kmat = kernel as (taps*Cg, Og))
    dkmat = cols^T @ gmat                   dcols = gmat @ kmat^T
    dx[b, o*s + t*d - lo, g*Cg + c] += dcols[g, r, t*Cg + c]

with ``r`` the flat (batch, output position) index and taps in row-major kernel order.  With few
input channels (``groups == 1``, at most ``TRANSPOSED_MAX_CHANNELS``, e.g. a first layer on
grayscale images) the patch matrix is built transposed, ``(taps*C, rows)``, so that the copy loop
runs along output positions instead of over 1-channel runs.  1-D and 2-D convolutions run the 3-D
loop nests with unit spatial axes inserted (``_as_3d``).  The contraction stays in BLAS
(``np.matmul``): a Numba loop cannot beat OpenBLAS's GEMM.

The depthwise conv has no matmul to give to BLAS (one input channel per group): forward and VJP
are Numba loop nests over output positions and taps, channels innermost (contiguous).
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from accel.numba._common import Twins, _zero, as_dtype, computable, njit
from refkeras.primitives import conv as ref


def _as_3d(x_shape, kernel_size, strides, dilation_rate, pads, out_shape):
    """Geometry with unit spatial axes inserted in front so that every rank is 3-D:
    ``(x5_shape, k, s, d, lo, out3)`` (``k, s, d, lo`` as int64 arrays)."""
    extra = 3 - len(kernel_size)
    ones, zeros = (1,) * extra, (0,) * extra
    x5_shape = (x_shape[0], *ones, *x_shape[1:])
    return (
        x5_shape,
        np.array(ones + tuple(kernel_size), np.int64),
        np.array(ones + tuple(strides), np.int64),
        np.array(ones + tuple(dilation_rate), np.int64),
        np.array(zeros + tuple(lo for lo, _ in pads), np.int64),
        ones + tuple(out_shape),
    )


def _scalars(k, s, d, lo, out3):
    """The 3-D geometry as one tuple of 15 ints (what the im2col/col2im kernels take)."""
    return tuple(int(v) for v in (*k, *s, *d, *lo, *out3))


# Run helpers on flat arrays.  Their indices are unsigned on purpose: Numba wraps negative
# signed indices around (a select per access), which stops LLVM from vectorizing the loop;
# measured 2-3x faster copies with unsigned ones.


@njit
def _copy(dst, j, src, k, n):
    """``dst[j : j + n] = src[k : k + n]``"""
    uj, uk = numba.uint64(j), numba.uint64(k)
    for i in range(numba.uint64(n)):
        dst[uj + i] = src[uk + i]


@njit
def _accumulate(dst, j, src, k, n):
    """``dst[j : j + n] += src[k : k + n]``"""
    uj, uk = numba.uint64(j), numba.uint64(k)
    for i in range(numba.uint64(n)):
        dst[uj + i] += src[uk + i]


@njit
def _zero_fill(dst, j, n):
    """``dst[j : j + n] = 0``"""
    uj = numba.uint64(j)
    for i in range(numba.uint64(n)):
        dst[uj + i] = 0


@njit
def _gather(dst, j, src, k, stride, n):
    """``dst[j : j + n] = src[k : k + n * stride : stride]``"""
    uj, uk, us = numba.uint64(j), numba.uint64(k), numba.uint64(stride)
    for i in range(numba.uint64(n)):
        dst[uj + i] = src[uk + i * us]


@njit
def _scatter_add(dst, k, stride, src, j, n):
    """``dst[k : k + n * stride : stride] += src[j : j + n]``"""
    uj, uk, us = numba.uint64(j), numba.uint64(k), numba.uint64(stride)
    for i in range(numba.uint64(n)):
        dst[uk + i * us] += src[uj + i]


def _im2col_kernel(loop):
    def kernel(x, geometry, groups, cols):
        # cols[g, r, t*Cg + c] = x[b, p, g*Cg + c], p = o*s + t*dil - lo (zero outside x).
        # Per (output position, td, th) the kw taps along w are one contiguous run of x when
        # groups == 1, dil_w == 1 and the run is inside: one copy of kw*C elements.
        kd, kh, kw, sd, sh, sw, dd, dh, dw, lod, loh, low, od_n, oh_n, ow_n = geometry
        n_b, n_d, n_h, n_w, n_c = x.shape
        cg = n_c // groups
        row = kd * kh * kw * cg
        span = kw * cg
        xf = x.ravel()
        cf = cols.ravel()
        plane = cols.shape[1] * row  # one group's block of cols
        for b in loop(n_b):
            r = b * od_n * oh_n * ow_n
            for od in range(od_n):
                for oh in range(oh_n):
                    for ow in range(ow_n):
                        j = r * row
                        w0 = ow * sw - low
                        whole = groups == 1 and dw == 1 and w0 >= 0 and w0 + kw <= n_w
                        for td in range(kd):
                            d = od * sd + td * dd - lod
                            for th in range(kh):
                                h = oh * sh + th * dh - loh
                                if 0 <= d < n_d and 0 <= h < n_h:
                                    base = ((b * n_d + d) * n_h + h) * n_w
                                    if whole:
                                        _copy(cf, j, xf, (base + w0) * n_c, span)
                                    else:
                                        for tw in range(kw):
                                            w = w0 + tw * dw
                                            for g in range(groups):
                                                at = g * plane + j + tw * cg
                                                if 0 <= w < n_w:
                                                    src = (base + w) * n_c + g * cg
                                                    _copy(cf, at, xf, src, cg)
                                                else:
                                                    _zero_fill(cf, at, cg)
                                else:
                                    for g in range(groups):
                                        _zero_fill(cf, g * plane + j, span)
                                j += span
                        r += 1

    return kernel


def _col2im_kernel(loop):
    def kernel(dcols, geometry, groups, dx):
        # dx[b, p, g*Cg + c] += dcols[g, r, t*Cg + c]; parallel over the batch: the windows of
        # different samples never share an input element, so the scatter does not race
        kd, kh, kw, sd, sh, sw, dd, dh, dw, lod, loh, low, od_n, oh_n, ow_n = geometry
        n_b, n_d, n_h, n_w, n_c = dx.shape
        cg = n_c // groups
        row = kd * kh * kw * cg
        span = kw * cg
        gf = dcols.ravel()
        xf = dx.ravel()
        plane = dcols.shape[1] * row
        for b in loop(n_b):
            r = b * od_n * oh_n * ow_n
            for od in range(od_n):
                for oh in range(oh_n):
                    for ow in range(ow_n):
                        j = r * row
                        w0 = ow * sw - low
                        whole = groups == 1 and dw == 1 and w0 >= 0 and w0 + kw <= n_w
                        for td in range(kd):
                            d = od * sd + td * dd - lod
                            for th in range(kh):
                                h = oh * sh + th * dh - loh
                                if 0 <= d < n_d and 0 <= h < n_h:
                                    base = ((b * n_d + d) * n_h + h) * n_w
                                    if whole:
                                        _accumulate(xf, (base + w0) * n_c, gf, j, span)
                                    else:
                                        for tw in range(kw):
                                            w = w0 + tw * dw
                                            if 0 <= w < n_w:
                                                for g in range(groups):
                                                    dst = (base + w) * n_c + g * cg
                                                    at = g * plane + j + tw * cg
                                                    _accumulate(xf, dst, gf, at, cg)
                                j += span
                        r += 1

    return kernel


@njit
def _inside_range(t, s, dil, lo, n_out, n_in):
    """``[first, stop)``: the output positions ``o`` whose input ``o*s + t*dil - lo`` is in
    ``[0, n_in)`` along one axis."""
    first = 0
    while first < n_out and first * s + t * dil - lo < 0:
        first += 1
    stop = n_out
    while stop > first and (stop - 1) * s + t * dil - lo >= n_in:
        stop -= 1
    return first, stop


def _im2col_t_kernel(loop):
    def kernel(x, geometry, cols):
        # The transposed patch matrix, for few channels: cols[t*C + c, r] = x[b, p, c].  The
        # inner loop runs along the output's last axis, writing contiguously (with C = 1 the row
        # layout's innermost loop has length 1: measured ~6x slower).
        kd, kh, kw, sd, sh, sw, dd, dh, dw, lod, loh, low, od_n, oh_n, ow_n = geometry
        n_b, n_d, n_h, n_w, n_c = x.shape
        n_taps = kd * kh * kw
        xf = x.ravel()
        for k in loop(n_taps * n_c):
            tap, c = k // n_c, k % n_c
            td, th, tw = tap // (kh * kw), (tap // kw) % kh, tap % kw
            first, stop = _inside_range(tw, sw, dw, low, ow_n, n_w)
            dst = cols[k]
            for b in range(n_b):
                for od in range(od_n):
                    d = od * sd + td * dd - lod
                    for oh in range(oh_n):
                        h = oh * sh + th * dh - loh
                        r0 = ((b * od_n + od) * oh_n + oh) * ow_n
                        if 0 <= d < n_d and 0 <= h < n_h and first < stop:
                            _zero_fill(dst, r0, first)
                            at = ((b * n_d + d) * n_h + h) * n_w + first * sw + tw * dw - low
                            _gather(dst, r0 + first, xf, at * n_c + c, sw * n_c, stop - first)
                            _zero_fill(dst, r0 + stop, ow_n - stop)
                        else:
                            _zero_fill(dst, r0, ow_n)

    return kernel


def _col2im_t_kernel(loop):
    def kernel(dcols, geometry, dx):
        # dx[b, p, c] += dcols[t*C + c, r]; parallel over channels (distinct c never collide)
        kd, kh, kw, sd, sh, sw, dd, dh, dw, lod, loh, low, od_n, oh_n, ow_n = geometry
        n_b, n_d, n_h, n_w, n_c = dx.shape
        n_taps = kd * kh * kw
        xf = dx.ravel()
        for c in loop(n_c):
            for tap in range(n_taps):
                td, th, tw = tap // (kh * kw), (tap // kw) % kh, tap % kw
                first, stop = _inside_range(tw, sw, dw, low, ow_n, n_w)
                src = dcols[tap * n_c + c]
                for b in range(n_b):
                    for od in range(od_n):
                        d = od * sd + td * dd - lod
                        for oh in range(oh_n):
                            h = oh * sh + th * dh - loh
                            r0 = ((b * od_n + od) * oh_n + oh) * ow_n
                            if 0 <= d < n_d and 0 <= h < n_h and first < stop:
                                at = ((b * n_d + d) * n_h + h) * n_w + first * sw + tw * dw - low
                                n = stop - first
                                _scatter_add(xf, at * n_c + c, sw * n_c, src, r0 + first, n)

    return kernel


_im2col = Twins(_im2col_kernel)
_im2col_t = Twins(_im2col_t_kernel)
_col2im_t = Twins(_col2im_t_kernel)
_col2im = Twins(_col2im_kernel)


def _prepare(x, kernel, strides, padding, dilation_rate, groups):
    """Checks, the compute dtype, and the 3-D geometry of a conv."""
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    ref._check_channels(x, kernel, groups)
    kernel_size = kernel.shape[:-2]
    strides, dilation_rate, pads, out_shape = ref.window_geometry(
        x.shape, kernel_size, strides, padding, dilation_rate
    )
    kc = computable(kernel)
    x5_shape, k, s, d, lo, out3 = _as_3d(
        x.shape, kernel_size, strides, dilation_rate, pads, out_shape
    )
    x5 = np.ascontiguousarray(x.astype(kc.dtype, copy=False)).reshape(x5_shape)
    return x5, kc, (k, s, d, lo, out3), out_shape


#: at most this many input channels (groups == 1): the transposed patch matrix (measured: ~6x
#: faster to build with one channel, ~3x slower with 32)
TRANSPOSED_MAX_CHANNELS = 4


def _transposed(x5, groups):
    return groups == 1 and x5.shape[-1] <= TRANSPOSED_MAX_CHANNELS


def _cols(x5, geometry, groups, n_taps):
    """The patch matrix: ``(taps*C, rows)`` if :func:`_transposed`, else ``(groups, rows,
    taps*Cg)``."""
    rows = x5.shape[0] * math.prod(geometry[4])
    width = n_taps * (x5.shape[-1] // groups)
    if _transposed(x5, groups):
        cols = np.empty((width, rows), x5.dtype)
        _im2col_t(cols.size, x5, _scalars(*geometry), cols)
    else:
        cols = np.empty((groups, rows, width), x5.dtype)
        _im2col(cols.size, x5, _scalars(*geometry), groups, cols)
    return cols


@functools.cache
def _matmul_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of the reference ``matmul`` of two ``dtype`` matrices (it keeps bfloat16): the
    dtype of the reference conv's output and kernel cotangent."""
    from refkeras.primitives.linalg import matmul

    one = np.ones((1, 1), dtype)
    return matmul(one, one).dtype


def _kernel_matrix(kernel, groups):
    """``(groups, taps*Cg, Og)`` (a view when ``groups == 1``)."""
    return ref._kernel_matrix(kernel, groups)


def conv(x, kernel, *, strides, padding, dilation_rate, groups=1):
    """N-D grouped, strided, dilated convolution, channels_last (see the reference):
    ``out[b, o, g*Og + j] = sum_{t, c} xpad[b, o*s + t*d, g*Cg + c] * kernel[t, c, g*Og + j]``."""
    dtype = _matmul_dtype(np.asarray(kernel).dtype)  # the reference's output dtype
    x5, kc, geometry, out_shape = _prepare(x, kernel, strides, padding, dilation_rate, groups)
    n_taps = math.prod(kc.shape[:-2])
    cols = _cols(x5, geometry, groups, n_taps)
    kmat = _kernel_matrix(kc, groups)
    if _transposed(x5, groups):
        omat = cols.T @ kmat[0]
    elif groups == 1:
        omat = cols[0] @ kmat[0]
    else:
        omat = (cols @ kmat).transpose(1, 0, 2)
    out = omat.reshape(x5.shape[0], *out_shape, kc.shape[-1])
    return as_dtype(out, dtype)


def conv_vjp(g, out, x, kernel, *, strides, padding, dilation_rate, groups=1):
    """``(dx, dkernel)``: ``dkmat = cols^T @ gmat``; ``dcols = gmat @ kmat^T`` scattered back onto
    the input positions each tap read (col2im, a Numba loop)."""
    # the reference's cotangent dtypes: dx is cast to x's, dkernel comes out of a matmul
    dtypes = (np.asarray(x).dtype, _matmul_dtype(np.asarray(kernel).dtype))
    x_shape = np.shape(x)
    x5, kc, geometry, out_shape = _prepare(x, kernel, strides, padding, dilation_rate, groups)
    n_taps = math.prod(kc.shape[:-2])
    cols = _cols(x5, geometry, groups, n_taps)
    gmat = ref._output_matrix(np.asarray(g).astype(kc.dtype, copy=False), groups)
    kmat = _kernel_matrix(kc, groups)
    dx = np.zeros(x5.shape, kc.dtype)
    if _transposed(x5, groups):
        dkmat = (cols @ gmat[0])[None]
        dcols = np.ascontiguousarray(kmat[0] @ gmat[0].T)
        _col2im_t(dcols.size, dcols, _scalars(*geometry), dx)
    else:
        if groups == 1:
            dkmat = (cols[0].T @ gmat[0])[None]
            dcols = (gmat[0] @ kmat[0].T)[None]
        else:
            dkmat = cols.transpose(0, 2, 1) @ gmat
            dcols = np.ascontiguousarray(gmat @ kmat.transpose(0, 2, 1))
        _col2im(dcols.size, dcols, _scalars(*geometry), groups, dx)
    dkernel = ref._kernel_from_matrix(dkmat, kc.shape)
    return as_dtype(dx.reshape(x_shape), dtypes[0]), as_dtype(dkernel, dtypes[1])


# --- depthwise ---------------------------------------------------------------------------------


def _depthwise_kernel(loop):
    def kernel(x, w, k, s, dil, lo, out):
        # out[b, o, c, m] = sum_t x[b, o*s + t*dil - lo, c] * w[t, c, m]  (w as (taps, C, M))
        n_b, n_d, n_h, n_w, n_c = x.shape
        mult = w.shape[2]
        for b in loop(n_b):
            for od in range(out.shape[1]):
                for oh in range(out.shape[2]):
                    for ow in range(out.shape[3]):
                        for c in range(n_c):
                            for m in range(mult):
                                out[b, od, oh, ow, c, m] = 0
                        tap = 0
                        for td in range(k[0]):
                            d = od * s[0] + td * dil[0] - lo[0]
                            for th in range(k[1]):
                                h = oh * s[1] + th * dil[1] - lo[1]
                                for tw in range(k[2]):
                                    wi = ow * s[2] + tw * dil[2] - lo[2]
                                    if 0 <= d < n_d and 0 <= h < n_h and 0 <= wi < n_w:
                                        for c in range(n_c):
                                            v = x[b, d, h, wi, c]
                                            for m in range(mult):
                                                out[b, od, oh, ow, c, m] += v * w[tap, c, m]
                                    tap += 1

    return kernel


def _depthwise_vjp_kernel(loop):
    def kernel(g, x, w, k, s, dil, lo, dx, dw):
        # dx[b, p, c] += g[b, o, c, m] * w[t, c, m];  dw[b, t, c, m] += x[b, p, c] * g[b, o, c, m]
        # (dw per sample so that the batch loop can run in parallel; summed by the caller)
        n_b, n_d, n_h, n_w, n_c = x.shape
        mult = w.shape[2]
        for b in loop(n_b):
            for od in range(g.shape[1]):
                for oh in range(g.shape[2]):
                    for ow in range(g.shape[3]):
                        tap = 0
                        for td in range(k[0]):
                            d = od * s[0] + td * dil[0] - lo[0]
                            for th in range(k[1]):
                                h = oh * s[1] + th * dil[1] - lo[1]
                                for tw in range(k[2]):
                                    wi = ow * s[2] + tw * dil[2] - lo[2]
                                    if 0 <= d < n_d and 0 <= h < n_h and 0 <= wi < n_w:
                                        for c in range(n_c):
                                            v = x[b, d, h, wi, c]
                                            acc = _zero(v)
                                            for m in range(mult):
                                                gv = g[b, od, oh, ow, c, m]
                                                acc += gv * w[tap, c, m]
                                                dw[b, tap, c, m] += v * gv
                                            dx[b, d, h, wi, c] += acc
                                    tap += 1

    return kernel


_depthwise = Twins(_depthwise_kernel)
_depthwise_vjp = Twins(_depthwise_vjp_kernel)


def _prepare_depthwise(x, kernel, strides, padding, dilation_rate):
    x = np.asarray(x)
    kc = computable(np.asarray(kernel))
    kernel_size, (c, mult) = kc.shape[:-2], kc.shape[-2:]
    strides, dilation_rate, pads, out_shape = ref.window_geometry(
        x.shape, kernel_size, strides, padding, dilation_rate
    )
    x5_shape, k, s, d, lo, out3 = _as_3d(
        x.shape, kernel_size, strides, dilation_rate, pads, out_shape
    )
    x5 = np.ascontiguousarray(x.astype(kc.dtype, copy=False)).reshape(x5_shape)
    w = np.ascontiguousarray(kc).reshape(-1, c, mult)
    return x5, w, (k, s, d, lo), (x.shape[0], *out3, c, mult), out_shape


def depthwise_conv(x, kernel, *, strides, padding, dilation_rate):
    """``out[b, o, c*M + m] = sum_t xpad[b, o*s + t*d, c] * kernel[t, c, m]`` (see the
    reference)."""
    dtype = np.asarray(kernel).dtype  # the reference's output dtype
    x5, w, geometry, full, out_shape = _prepare_depthwise(
        x, kernel, strides, padding, dilation_rate
    )
    out = np.empty(full, w.dtype)
    _depthwise(out.size * w.shape[0], x5, w, *geometry, out)
    return as_dtype(out.reshape(x5.shape[0], *out_shape, -1), dtype)


def depthwise_conv_vjp(g, out, x, kernel, *, strides, padding, dilation_rate):
    """``dx[p] += g[o, c*M + m] * kernel[t, c, m]``, ``dkernel[t, c, m] = sum x[p, c] g[o, c*M+m]``
    over every (output position ``o``, tap ``t``) pair reading input position ``p``."""
    dtypes = (np.asarray(x).dtype, np.asarray(kernel).dtype)  # the reference's cotangent dtypes
    x_shape, kernel_shape = np.shape(x), np.shape(kernel)
    x5, w, geometry, full, _ = _prepare_depthwise(x, kernel, strides, padding, dilation_rate)
    g6 = np.ascontiguousarray(np.asarray(g).astype(w.dtype, copy=False)).reshape(full)
    dx = np.zeros(x5.shape, w.dtype)
    dw = np.zeros((x5.shape[0], *w.shape), w.dtype)
    _depthwise_vjp(g6.size * w.shape[0], g6, x5, w, *geometry, dx, dw)
    dkernel = dw.sum(axis=0).reshape(kernel_shape)
    return as_dtype(dx.reshape(x_shape), dtypes[0]), as_dtype(dkernel, dtypes[1])
