"""Softmax and log-softmax in ``jax.numpy`` (mirrors :mod:`refkeras.primitives.nn`)."""

from __future__ import annotations

import jax.numpy as jnp


def softmax(x, *, axis=-1):
    """y_i = e^(x_i - max x) / sum_j e^(x_j - max x) along ``axis``."""
    e = jnp.exp(x - jnp.max(x, axis=axis, keepdims=True))
    return e / jnp.sum(e, axis=axis, keepdims=True)


def softmax_vjp(g, out, x, *, axis=-1):
    """dx = y * (g - sum(g * y))"""
    return (out * (g - jnp.sum(g * out, axis=axis, keepdims=True)),)


def log_softmax(x, *, axis=-1):
    """y_i = x_i - max x - ln sum_j e^(x_j - max x) along ``axis``."""
    shifted = x - jnp.max(x, axis=axis, keepdims=True)
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis=axis, keepdims=True))


def log_softmax_vjp(g, out, x, *, axis=-1):
    """dx = g - softmax(x) * sum(g)"""
    return (g - jnp.exp(out) * jnp.sum(g, axis=axis, keepdims=True),)
