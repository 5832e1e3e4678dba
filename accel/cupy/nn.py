"""Neural-network primitives on CuPy arrays (as ``refkeras/primitives/nn.py``): softmax and
log-softmax, fused because that is both faster and more stable than composing elementwise ones."""

from __future__ import annotations

import cupy as cp


def softmax(x, *, axis=-1):
    """y_i = e^(x_i - max x) / sum_j e^(x_j - max x) along ``axis``."""
    e = cp.exp(x - cp.max(x, axis=axis, keepdims=True))
    return e / cp.sum(e, axis=axis, keepdims=True)


def softmax_vjp(g, out, x, *, axis=-1):
    """dx = y * (g - sum(g * y))"""
    return (out * (g - cp.sum(g * out, axis=axis, keepdims=True)),)


def log_softmax(x, *, axis=-1):
    """y_i = x_i - max x - ln sum_j e^(x_j - max x) along ``axis``."""
    shifted = x - cp.max(x, axis=axis, keepdims=True)
    return shifted - cp.log(cp.sum(cp.exp(shifted), axis=axis, keepdims=True))


def log_softmax_vjp(g, out, x, *, axis=-1):
    """dx = g - softmax(x) * sum(g)"""
    return (g - cp.exp(out) * cp.sum(g, axis=axis, keepdims=True),)
