"""Pooling on the Numba backend: one loop nest per primitive, over every output position and its
window, with padding handled by bounds checks (no padded copy).  1-D and 2-D pooling run the 3-D
kernels with unit spatial axes inserted.  Parallel over the batch (windows of different samples
never share an input element, so the VJP's scatter-adds do not race).

Semantics are the reference's (``refkeras/primitives/pool.py``): max pooling pads with ``-inf``
and routes the cotangent like XLA's ``select_and_scatter(ge)`` scan (the first maximum of each
window, moving on after NaN); average pooling divides by the number of unpadded elements.
"""

from __future__ import annotations

import numpy as np

from accel.numba._common import Twins, _zero, computable
from refkeras.primitives import pool as ref


def _as_3d(x, pool_size, strides, pads, out_shape):
    """Insert unit spatial axes so that every rank runs the 3-D kernels."""
    extra = 3 - (x.ndim - 2)
    x5 = x.reshape(x.shape[:1] + (1,) * extra + x.shape[1:])
    geometry = (
        np.array((1,) * extra + tuple(pool_size), np.int64),
        np.array((1,) * extra + tuple(strides), np.int64),
        np.array((0,) * extra + tuple(lo for lo, _ in pads), np.int64),
        (1,) * extra + tuple(out_shape),
    )
    return x5, geometry


def _max_pool_kernel(loop):
    def kernel(x, k, s, lo, out):
        # out[b, o, c] = max over the window's taps, NaN if any is NaN; padded taps (-inf) never
        # win, so they are skipped.  Channels innermost on 1-D rows: contiguous, vectorized.
        n_b, n_d, n_h, n_w, n_c = x.shape
        for b in loop(n_b):
            for od in range(out.shape[1]):
                for oh in range(out.shape[2]):
                    for ow in range(out.shape[3]):
                        peak = out[b, od, oh, ow]
                        peak[:] = -np.inf
                        for td in range(k[0]):
                            d = od * s[0] + td - lo[0]
                            for th in range(k[1]):
                                h = oh * s[1] + th - lo[1]
                                for tw in range(k[2]):
                                    w = ow * s[2] + tw - lo[2]
                                    if 0 <= d < n_d and 0 <= h < n_h and 0 <= w < n_w:
                                        row = x[b, d, h, w]
                                        for c in range(n_c):
                                            v = row[c]
                                            # v > peak, or v NaN; a NaN peak stays NaN
                                            if v > peak[c] or v != v:
                                                peak[c] = v

    return kernel


def _max_pool_vjp_kernel(loop):
    def kernel(x, g, k, s, lo, neg_inf, dx):
        # Per window, XLA's select_and_scatter(ge) scan over the taps in order (padded taps read
        # -inf and can be selected, which drops the cotangent): the selected tap ``at`` moves to
        # tap t unless best >= x_t.  Then g goes to the selected tap's input element.  Channels
        # innermost on 1-D rows, ``neg_inf`` in x's dtype (a float64 -inf would make every
        # comparison float64); scratch ``best``/``at`` per sample.  Parallel over the batch: the
        # windows of different samples never share an input element, so the scatter-adds do
        # not race.
        n_b, n_d, n_h, n_w, n_c = x.shape
        for b in loop(n_b):
            best = np.empty(n_c, x.dtype)
            at = np.empty(n_c, np.int32)
            for od in range(g.shape[1]):
                for oh in range(g.shape[2]):
                    for ow in range(g.shape[3]):
                        tap = 0
                        for td in range(k[0]):
                            d = od * s[0] + td - lo[0]
                            for th in range(k[1]):
                                h = oh * s[1] + th - lo[1]
                                for tw in range(k[2]):
                                    w = ow * s[2] + tw - lo[2]
                                    if 0 <= d < n_d and 0 <= h < n_h and 0 <= w < n_w:
                                        row = x[b, d, h, w]
                                        for c in range(n_c):
                                            v = row[c]
                                            if tap == 0 or not best[c] >= v:
                                                best[c] = v
                                                at[c] = tap
                                    else:
                                        for c in range(n_c):
                                            if tap == 0 or not best[c] >= neg_inf:
                                                best[c] = neg_inf
                                                at[c] = tap
                                    tap += 1
                        grow = g[b, od, oh, ow]
                        tap = 0
                        for td in range(k[0]):
                            d = od * s[0] + td - lo[0]
                            for th in range(k[1]):
                                h = oh * s[1] + th - lo[1]
                                for tw in range(k[2]):
                                    w = ow * s[2] + tw - lo[2]
                                    if 0 <= d < n_d and 0 <= h < n_h and 0 <= w < n_w:
                                        drow = dx[b, d, h, w]
                                        for c in range(n_c):
                                            if at[c] == tap:
                                                drow[c] += grow[c]
                                    tap += 1

    return kernel


def _avg_pool_kernel(loop):
    def kernel(x, k, s, lo, out):
        n_b, n_d, n_h, n_w, n_c = x.shape
        for b in loop(n_b):
            for od in range(out.shape[1]):
                for oh in range(out.shape[2]):
                    for ow in range(out.shape[3]):
                        d0, h0, w0 = od * s[0] - lo[0], oh * s[1] - lo[1], ow * s[2] - lo[2]
                        d1, h1, w1 = min(d0 + k[0], n_d), min(h0 + k[1], n_h), min(w0 + k[2], n_w)
                        d0, h0, w0 = max(d0, 0), max(h0, 0), max(w0, 0)
                        count = (d1 - d0) * (h1 - h0) * (w1 - w0)
                        for c in range(n_c):
                            total = _zero(x[b, 0, 0, 0, c])
                            for d in range(d0, d1):
                                for h in range(h0, h1):
                                    for w in range(w0, w1):
                                        total += x[b, d, h, w, c]
                            out[b, od, oh, ow, c] = total / count

    return kernel


def _avg_pool_vjp_kernel(loop):
    def kernel(g, k, s, lo, dx):
        n_b, n_d, n_h, n_w, n_c = dx.shape
        for b in loop(n_b):
            for od in range(g.shape[1]):
                for oh in range(g.shape[2]):
                    for ow in range(g.shape[3]):
                        d0, h0, w0 = od * s[0] - lo[0], oh * s[1] - lo[1], ow * s[2] - lo[2]
                        d1, h1, w1 = min(d0 + k[0], n_d), min(h0 + k[1], n_h), min(w0 + k[2], n_w)
                        d0, h0, w0 = max(d0, 0), max(h0, 0), max(w0, 0)
                        count = (d1 - d0) * (h1 - h0) * (w1 - w0)
                        for c in range(n_c):
                            share = g[b, od, oh, ow, c] / count
                            for d in range(d0, d1):
                                for h in range(h0, h1):
                                    for w in range(w0, w1):
                                        dx[b, d, h, w, c] += share

    return kernel


_max_pool = Twins(_max_pool_kernel)
_max_pool_vjp = Twins(_max_pool_vjp_kernel)
_avg_pool = Twins(_avg_pool_kernel)
_avg_pool_vjp = Twins(_avg_pool_vjp_kernel)


def _prepare(x, pool_size, strides, padding):
    pool_size, strides, pads, out_shape = ref._geometry(x, pool_size, strides, padding)
    x5, (k, s, lo, out3) = _as_3d(
        np.ascontiguousarray(computable(x)), pool_size, strides, pads, out_shape
    )
    out_full = (x.shape[0], *out3, x.shape[-1])
    return x5, k, s, lo, out_full, (x.shape[0], *out_shape, x.shape[-1])


def max_pool(x, *, pool_size, strides, padding):
    """N-D max pooling with ``-inf`` padding (see the reference)."""
    x5, k, s, lo, out_full, out_shape = _prepare(x, pool_size, strides, padding)
    out = np.empty(out_full, x5.dtype)
    _max_pool(x5.size * int(k.prod()), x5, k, s, lo, out)
    return out.reshape(out_shape).astype(x.dtype, copy=False)


def max_pool_vjp(g, out, x, *, pool_size, strides, padding):
    """Each window's cotangent goes to the element XLA's ``select_and_scatter(ge)`` selects."""
    x5, k, s, lo, out_full, out_shape = _prepare(x, pool_size, strides, padding)
    g5 = np.ascontiguousarray(computable(np.asarray(g, dtype=x.dtype))).reshape(out_full)
    g5 = g5.astype(x5.dtype, copy=False)
    dx = np.zeros(x5.shape, x5.dtype)
    neg_inf = x5.dtype.type(-np.inf)  # float inputs only, as the reference's -inf padding
    _max_pool_vjp(dx.size * int(k.prod()), x5, g5, k, s, lo, neg_inf, dx)
    return (dx.reshape(x.shape).astype(x.dtype, copy=False),)


def average_pool(x, *, pool_size, strides, padding):
    """N-D average pooling over the unpadded part of each window."""
    x5, k, s, lo, out_full, out_shape = _prepare(x, pool_size, strides, padding)
    out = np.empty(out_full, x5.dtype)
    _avg_pool(x5.size * int(k.prod()), x5, k, s, lo, out)
    return out.reshape(out_shape).astype(x.dtype, copy=False)


def average_pool_vjp(g, out, x, *, pool_size, strides, padding):
    """dx[p] = sum over windows o containing p of g[o] / count(o)"""
    x5, k, s, lo, out_full, out_shape = _prepare(x, pool_size, strides, padding)
    g5 = np.ascontiguousarray(computable(np.asarray(g, dtype=x.dtype))).reshape(out_full)
    dx = np.zeros(x5.shape, g5.dtype)
    _avg_pool_vjp(dx.size, g5, k, s, lo, dx)
    return (dx.reshape(x.shape).astype(x.dtype, copy=False),)
