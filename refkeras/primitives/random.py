"""Counter-based random numbers: Philox-4x32-10, in plain NumPy.

Every random draw in refkeras (initial weights, dropout masks, shuffling) comes from
``philox(key, counters)`` so that any backend can reproduce it bit for bit: a draw is a pure
function of a 64-bit key (the seed) and 128-bit counters (element index, draw number, attempt).

Reference: Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011.
"""

from __future__ import annotations

import numpy as np

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)


def philox(key: tuple[int, int], c0, c1, c2, c3) -> tuple[np.ndarray, ...]:
    """Philox-4x32-10 of the counter words ``(c0, c1, c2, c3)`` (uint32 arrays) under ``key``.

    Returns four uint32 arrays of the broadcast counter shape.  Each round:
    ``(c0, c1, c2, c3) <- (hi(M1*c2) ^ c1 ^ k0, lo(M1*c2), hi(M0*c0) ^ c3 ^ k1, lo(M0*c0))``
    and the key is bumped by the Weyl constants between rounds.
    """
    c = [np.asarray(w, dtype=np.uint32) for w in np.broadcast_arrays(c0, c1, c2, c3)]
    k0, k1 = np.uint32(key[0] & 0xFFFFFFFF), np.uint32(key[1] & 0xFFFFFFFF)
    with np.errstate(over="ignore"):
        for i in range(10):
            if i:
                k0, k1 = k0 + _W0, k1 + _W1
            p0 = _M0 * c[0].astype(np.uint64)
            p1 = _M1 * c[2].astype(np.uint64)
            hi0, lo0 = (p0 >> np.uint64(32)).astype(np.uint32), (p0 & _MASK32).astype(np.uint32)
            hi1, lo1 = (p1 >> np.uint64(32)).astype(np.uint32), (p1 & _MASK32).astype(np.uint32)
            c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0]
    return tuple(c)


def random_bits(key: tuple[int, int], draw: int, n: int, attempt: int = 0) -> np.ndarray:
    """``n`` uint32 words for draw number ``draw``: element ``i`` uses counter (i, 0, draw, attempt)
    and keeps the first Philox output word."""
    i = np.arange(n, dtype=np.uint64)
    lo = (i & _MASK32).astype(np.uint32)
    hi = (i >> np.uint64(32)).astype(np.uint32)
    return philox(key, lo, hi, np.uint32(draw & 0xFFFFFFFF), np.uint32(attempt))[0]


def uniform01(key, draw, shape, dtype="float32", attempt: int = 0) -> np.ndarray:
    """Uniform floats in [0, 1) on the grid of multiples of 2^-p, p = the dtype's significand
    bits: the top p bits of a word (24 for float32, 11 for float16) or 53 bits of two words
    (float64).  Every grid value is exact in the dtype, so 1.0 is never produced (rounding 24
    bits to float16 would produce it)."""
    n = int(np.prod(shape, dtype=np.int64))
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        a = random_bits(key, draw, n, attempt).astype(np.uint64) >> np.uint64(5)
        b = random_bits(key, draw, n, attempt + 0x10000).astype(np.uint64) >> np.uint64(6)
        u = (a.astype(np.float64) * 67108864.0 + b.astype(np.float64)) * 2.0**-53
    else:
        p = np.finfo(dtype).nmant + 1
        u = (random_bits(key, draw, n, attempt) >> np.uint32(32 - p)).astype(np.float64) * 2.0**-p
    return u.reshape(shape).astype(dtype)


def normal01(key, draw, shape, dtype="float32", attempt: int = 0) -> np.ndarray:
    """Standard normal floats by Box-Muller: ``sqrt(-2 ln(1 - u1)) * cos(2 pi u2)``."""
    u1 = uniform01(key, draw, shape, "float64", attempt)
    u2 = uniform01(key, draw, shape, "float64", attempt + 0x20000)
    z = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
    return z.astype(dtype)


def truncated_normal01(key, draw, shape, dtype="float32") -> np.ndarray:
    """Standard normal floats restricted to [-2, 2] (as Keras's ``truncated_normal``): values
    outside are redrawn, each attempt from fresh counters, until none is left."""
    z = normal01(key, draw, shape, "float64")
    attempt = 1
    while True:
        bad = np.abs(z) > 2.0
        if not bad.any():
            return z.astype(dtype)
        z = np.where(bad, normal01(key, draw, shape, "float64", attempt * 0x40000), z)
        attempt += 1


def permutation(key, draw, n: int) -> np.ndarray:
    """A permutation of ``range(n)``: indices sorted by their random words (stable on ties)."""
    return np.argsort(random_bits(key, draw, n), kind="stable")
