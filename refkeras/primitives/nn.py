"""Neural-network primitives whose fused form is both faster and more stable than composing
elementwise primitives: softmax and log-softmax."""

from __future__ import annotations

import numpy as np


def softmax(x, *, axis=-1):
    """y_i = e^(x_i - max x) / sum_j e^(x_j - max x) along ``axis``."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_vjp(g, out, x, *, axis=-1):
    """dx = y * (g - sum(g * y))"""
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


def log_softmax(x, *, axis=-1):
    """y_i = x_i - max x - ln sum_j e^(x_j - max x) along ``axis``."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax_vjp(g, out, x, *, axis=-1):
    """dx = g - softmax(x) * sum(g)"""
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)
