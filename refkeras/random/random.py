"""Random ops (``keras.random.uniform``, ``normal``, ``dropout``...), all drawn from Philox streams
(see :mod:`refkeras.primitives.random`).

A draw whose key and draw number are Python ints (every eager draw) runs on the NumPy reference
generator, so eager numbers are the reference's bit for bit.  A draw from an array state (a
``SeedGenerator`` whose state is traced inside a compiled step) runs on the active backend's
generator (``Backend.random()``, e.g. JAX's, which draws the same streams from traced values).
The arithmetic after the draw uses only operators and ``astype``, which work on every backend's
arrays.
"""

from __future__ import annotations

import numpy as np

from refkeras import config
from refkeras.backend import asarray, dispatch
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.tensor import Tensor
from refkeras.ops.core import to_tensor
from refkeras.primitives import random as prng
from refkeras.random.seed_generator import draw_seed


def _prng(key, draw):
    """The Philox module for a draw: the reference for concrete (int) key and draw number, the
    active backend's ``random()`` for array ones."""
    if all(isinstance(v, int | np.integer) for v in (*key, draw)):
        return prng
    backend = dispatch.active_backend()
    random = getattr(backend, "random", None)
    if random is None:
        raise TypeError(
            f"Backend {getattr(backend, 'name', backend)!r} drew random numbers from an array "
            "seed state but has no random() (a Philox generator on its arrays)."
        )
    return random()


def _dtype(dtype):
    return standardize_dtype(dtype or config.floatx())


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Floats uniformly distributed in [minval, maxval)."""
    key, draw = draw_seed(seed)
    u = _prng(key, draw).uniform01(key, draw, tuple(shape), "float64")
    return Tensor(asarray((minval + (maxval - minval) * u).astype(_dtype(dtype))))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normally distributed floats."""
    key, draw = draw_seed(seed)
    z = _prng(key, draw).normal01(key, draw, tuple(shape), "float64")
    return Tensor(asarray((mean + stddev * z).astype(_dtype(dtype))))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal floats with values more than two standard deviations from the mean redrawn."""
    key, draw = draw_seed(seed)
    z = _prng(key, draw).truncated_normal01(key, draw, tuple(shape), "float64")
    return Tensor(asarray((mean + stddev * z).astype(_dtype(dtype))))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers uniformly distributed in [minval, maxval)."""
    key, draw = draw_seed(seed)
    u = _prng(key, draw).uniform01(key, draw, tuple(shape), "float64")
    floor = u * (maxval - minval) // 1  # floor of non-negative floats, on any backend's arrays
    return Tensor(asarray((minval + floor).astype(standardize_dtype(dtype))))


def shuffle(x, axis=0, seed=None) -> Tensor:
    """``x`` with its entries along ``axis`` in a random order."""
    key, draw = draw_seed(seed)
    from refkeras.ops.numpy import take

    x = to_tensor(x)
    perm = _prng(key, draw).permutation(key, draw, x.shape[axis])
    return take(x, Tensor(asarray(perm)), axis=axis)


def permutation(n: int, seed=None) -> np.ndarray:
    """A random permutation of ``range(n)`` as a NumPy array (``fit`` shuffles on the host)."""
    key, draw = draw_seed(seed)
    return np.asarray(_prng(key, draw).permutation(key, draw, n))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each element with probability ``rate`` and scale the rest by 1 / (1 - rate).

    The kept mask is ``u < 1 - rate`` for ``u`` uniform in [0, 1) (broadcast from ``noise_shape``).
    Differentiable in ``inputs`` (a multiplication by a constant mask).
    """
    x = to_tensor(inputs)
    if rate >= 1.0:
        return x * Tensor(asarray(np.zeros((), x.dtype)))  # everything dropped (no 1 / 0 scale)
    shape = (
        tuple(x.shape)
        if noise_shape is None
        else tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    )
    key, draw = draw_seed(seed)
    keep = _prng(key, draw).uniform01(key, draw, shape, "float32") < np.float32(1.0 - rate)
    scale = np.asarray(1.0 / (1.0 - rate), dtype=x.dtype)
    # scale where kept, exactly 0 elsewhere
    return x * Tensor(asarray(keep.astype(x.dtype) * scale))
