"""Philox-4x32-10 in ``jax.numpy``: the same streams as :mod:`refkeras.primitives.random`, bit
for bit, but traceable (keys, draw numbers and attempts may be traced ``uint32`` values, e.g. a
``SeedGenerator`` state inside a compiled training step).  Shapes and dtypes are static.

Each round ``(c0, c1, c2, c3) <- (hi(M1*c2) ^ c1 ^ k0, lo(M1*c2), hi(M0*c0) ^ c3 ^ k1,
lo(M0*c0))``; the 32x32 -> 64-bit products are exact in ``uint64`` (x64 is on, see
:mod:`accel.jax.backend`).  Floats are made exactly as in the reference (integer grids scaled by
powers of two, computed in float64), so uniform draws and everything thresholded on them
(dropout masks, permutations) are identical.  ``normal01`` applies ``log1p``/``cos``/``sqrt``
in float64; XLA's float64 ``log1p`` and ``cos`` are not libm's, so those values may differ from
the reference in the last bits (measured in ``tests/accel/jax/test_random.py``).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)


def _u32(v):
    """A uint32 scalar from a Python int (taken mod 2^32) or an integer array."""
    if isinstance(v, int):
        return jnp.asarray(np.uint32(v & 0xFFFFFFFF))
    return jnp.asarray(v).astype(jnp.uint32)


def _mul_hi_lo(m, c):
    p = m * c.astype(jnp.uint64)
    return (p >> np.uint64(32)).astype(jnp.uint32), p.astype(jnp.uint32)


def philox(key, c0, c1, c2, c3):
    """Philox-4x32-10 of the counter words under ``key = (k0, k1)``; four uint32 arrays."""
    c = list(jnp.broadcast_arrays(*(_u32(w) for w in (c0, c1, c2, c3))))
    k0, k1 = _u32(key[0]), _u32(key[1])
    for i in range(10):
        if i:
            k0, k1 = k0 + _W0, k1 + _W1  # wraps mod 2^32, as the reference's uint32
        hi0, lo0 = _mul_hi_lo(_M0, c[0])
        hi1, lo1 = _mul_hi_lo(_M1, c[2])
        c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
    return tuple(c)


def random_bits(key, draw, n: int, attempt=0):
    """``n`` uint32 words for draw number ``draw``: element ``i`` uses counter
    ``(i mod 2^32, i >> 32, draw, attempt)`` and keeps the first output word."""
    i = jnp.arange(n, dtype=jnp.uint64)
    lo, hi = i.astype(jnp.uint32), (i >> np.uint64(32)).astype(jnp.uint32)
    return philox(key, lo, hi, _u32(draw), _u32(attempt))[0]


def _uniform01(key, draw, shape, dtype, attempt=0):
    """Uniform floats in [0, 1) on the grid of multiples of 2^-p (p = significand bits; 53 bits
    from two words for float64), exactly as the reference."""
    n = math.prod(shape)
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        a = random_bits(key, draw, n, attempt).astype(jnp.uint64) >> np.uint64(5)
        b = random_bits(key, draw, n, _u32(attempt) + np.uint32(0x10000))
        b = b.astype(jnp.uint64) >> np.uint64(6)
        u = (a.astype(jnp.float64) * 67108864.0 + b.astype(jnp.float64)) * 2.0**-53
    else:
        p = np.finfo(dtype).nmant + 1
        bits = random_bits(key, draw, n, attempt) >> np.uint32(32 - p)
        u = bits.astype(jnp.float64) * 2.0**-p
    return u.reshape(shape).astype(dtype)


def _normal01(key, draw, shape, dtype, attempt=0):
    """Standard normal floats by Box-Muller: ``sqrt(-2 ln(1 - u1)) * cos(2 pi u2)``."""
    u1 = _uniform01(key, draw, shape, "float64", attempt)
    u2 = _uniform01(key, draw, shape, "float64", _u32(attempt) + np.uint32(0x20000))
    z = jnp.sqrt(-2.0 * jnp.log1p(-u1)) * jnp.cos(2.0 * np.pi * u2)
    return z.astype(dtype)


def _truncated_normal01(key, draw, shape, dtype):
    """Standard normal floats in [-2, 2]: values outside are redrawn from fresh counters
    (attempt ``k * 0x40000``), until none is left (a ``lax.while_loop``)."""

    def redraw(state):
        z, attempt = state
        fresh = _normal01(key, draw, shape, "float64", attempt * np.uint32(0x40000))
        return jnp.where(jnp.abs(z) > 2.0, fresh, z), attempt + np.uint32(1)

    z0 = _normal01(key, draw, shape, "float64")
    z, _ = lax.while_loop(
        lambda s: jnp.any(jnp.abs(s[0]) > 2.0), redraw, (z0, jnp.asarray(np.uint32(1)))
    )
    return z.astype(dtype)


def _permutation(key, draw, n: int):
    """A permutation of ``range(n)``: indices sorted by their random words (stable on ties);
    int64 like the reference's ``np.argsort``."""
    return jnp.argsort(random_bits(key, draw, n), stable=True).astype(jnp.int64)


# --- the public draws: compiled once per (shape, dtype), with key, draw and attempt as uint32
# arrays so that new seeds and counters reuse the program (eager calls would otherwise run the
# ten Philox rounds op by op).  Inside an enclosing ``jax.jit`` they are inlined.


def _traced_words(key, draw, attempt=0):
    return (_u32(key[0]), _u32(key[1])), _u32(draw), _u32(attempt)


@functools.partial(jax.jit, static_argnames=("shape", "dtype"))
def _uniform01_jit(key, draw, attempt, *, shape, dtype):
    return _uniform01(key, draw, shape, dtype, attempt)


@functools.partial(jax.jit, static_argnames=("shape", "dtype"))
def _normal01_jit(key, draw, attempt, *, shape, dtype):
    return _normal01(key, draw, shape, dtype, attempt)


@functools.partial(jax.jit, static_argnames=("shape", "dtype"))
def _truncated_normal01_jit(key, draw, *, shape, dtype):
    return _truncated_normal01(key, draw, shape, dtype)


@functools.partial(jax.jit, static_argnames=("n",))
def _permutation_jit(key, draw, *, n):
    return _permutation(key, draw, n)


def uniform01(key, draw, shape, dtype="float32", attempt=0):
    """Uniform floats in [0, 1) on the grid of multiples of 2^-p (p = significand bits; 53 bits
    from two words for float64), exactly as the reference."""
    key, draw, attempt = _traced_words(key, draw, attempt)
    return _uniform01_jit(key, draw, attempt, shape=tuple(shape), dtype=np.dtype(dtype))


def normal01(key, draw, shape, dtype="float32", attempt=0):
    """Standard normal floats by Box-Muller: ``sqrt(-2 ln(1 - u1)) * cos(2 pi u2)``."""
    key, draw, attempt = _traced_words(key, draw, attempt)
    return _normal01_jit(key, draw, attempt, shape=tuple(shape), dtype=np.dtype(dtype))


def truncated_normal01(key, draw, shape, dtype="float32"):
    """Standard normal floats in [-2, 2], out-of-range values redrawn (see the reference)."""
    key, draw, _ = _traced_words(key, draw)
    return _truncated_normal01_jit(key, draw, shape=tuple(shape), dtype=np.dtype(dtype))


def permutation(key, draw, n: int):
    """A permutation of ``range(n)`` (int64): indices sorted by their random words."""
    key, draw, _ = _traced_words(key, draw)
    return _permutation_jit(key, draw, n=int(n))
