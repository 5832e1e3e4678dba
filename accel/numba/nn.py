"""Softmax and log-softmax on the Numba backend: one pass per row (max, exp-sum, normalise) over
the softmax axis moved last, in parallel over rows for large inputs; the VJPs likewise."""

from __future__ import annotations

import numpy as np

from accel.numba._common import Twins, computable


def _rows(x, axis):
    """``x`` with ``axis`` last, as a contiguous ``(rows, n)`` array."""
    moved = np.moveaxis(computable(x), axis, -1)
    return np.ascontiguousarray(moved).reshape(
        -1, moved.shape[-1] if moved.ndim else 1
    ), moved.shape


def _unrows(y2, moved_shape, axis, dtype):
    return np.moveaxis(y2.reshape(moved_shape), -1, axis).astype(dtype, copy=False)


def _softmax_kernel(loop):
    def kernel(x, out, log):
        for r in loop(x.shape[0]):
            m = x[r, 0]
            for j in range(1, x.shape[1]):
                m = max(m, x[r, j]) if x[r, j] == x[r, j] else x[r, j]
            s = 0.0
            for j in range(x.shape[1]):
                s += np.exp(x[r, j] - m)
            if log:
                ls = np.log(s)
                for j in range(x.shape[1]):
                    out[r, j] = x[r, j] - m - ls
            else:
                for j in range(x.shape[1]):
                    out[r, j] = np.exp(x[r, j] - m) / s

    return kernel


def _softmax_vjp_kernel(loop):
    def kernel(g, y, dx, log):
        # softmax: dx = y * (g - sum(g * y));  log_softmax: dx = g - exp(y) * sum(g)
        for r in loop(g.shape[0]):
            s = 0.0
            for j in range(g.shape[1]):
                s += g[r, j] if log else g[r, j] * y[r, j]
            for j in range(g.shape[1]):
                dx[r, j] = g[r, j] - np.exp(y[r, j]) * s if log else y[r, j] * (g[r, j] - s)

    return kernel


_softmax = Twins(_softmax_kernel)
_softmax_vjp = Twins(_softmax_vjp_kernel)


def _forward(x, axis, log):
    x = np.asarray(x)
    x2, moved_shape = _rows(x, axis)
    out = np.empty_like(x2)
    _softmax(x2.size, x2, out, log)
    return _unrows(out, moved_shape, axis, x.dtype)


def _backward(g, out, axis, log):
    g2, moved_shape = _rows(np.asarray(g, dtype=out.dtype), axis)
    y2, _ = _rows(out, axis)
    dx = np.empty_like(g2)
    _softmax_vjp(g2.size, g2, y2, dx, log)
    return (_unrows(dx, moved_shape, axis, out.dtype),)


def softmax(x, *, axis=-1):
    """y_i = e^(x_i - max x) / sum_j e^(x_j - max x) along ``axis``."""
    return _forward(x, axis, False)


def softmax_vjp(g, out, x, *, axis=-1):
    """dx = y * (g - sum(g * y))"""
    return _backward(g, out, axis, False)


def log_softmax(x, *, axis=-1):
    """y_i = x_i - max x - ln sum_j e^(x_j - max x) along ``axis``."""
    return _forward(x, axis, True)


def log_softmax_vjp(g, out, x, *, axis=-1):
    """dx = g - softmax(x) * sum(g)"""
    return _backward(g, out, axis, True)
