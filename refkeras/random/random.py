"""Random ops (``keras.random.uniform``, ``normal``, ``dropout``...), all drawn from Philox streams
(see :mod:`refkeras.primitives.random`)."""

from __future__ import annotations

import numpy as np

from refkeras import config
from refkeras.backend import asarray, to_numpy
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.tensor import Tensor
from refkeras.ops.core import to_tensor
from refkeras.primitives import random as prng
from refkeras.random.seed_generator import draw_seed


def _dtype(dtype):
    return standardize_dtype(dtype or config.floatx())


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Floats uniformly distributed in [minval, maxval)."""
    key, draw = draw_seed(seed)
    u = prng.uniform01(key, draw, tuple(shape), "float64")
    return Tensor(asarray((minval + (maxval - minval) * u).astype(_dtype(dtype))))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normally distributed floats."""
    key, draw = draw_seed(seed)
    z = prng.normal01(key, draw, tuple(shape), "float64")
    return Tensor(asarray((mean + stddev * z).astype(_dtype(dtype))))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal floats with values more than two standard deviations from the mean redrawn."""
    key, draw = draw_seed(seed)
    z = prng.truncated_normal01(key, draw, tuple(shape), "float64")
    return Tensor(asarray((mean + stddev * z).astype(_dtype(dtype))))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers uniformly distributed in [minval, maxval)."""
    key, draw = draw_seed(seed)
    u = prng.uniform01(key, draw, tuple(shape), "float64")
    ints = (minval + np.floor(u * (maxval - minval))).astype(standardize_dtype(dtype))
    return Tensor(asarray(ints))


def shuffle(x, axis=0, seed=None) -> Tensor:
    """``x`` with its entries along ``axis`` in a random order."""
    key, draw = draw_seed(seed)
    x = to_tensor(x)
    perm = prng.permutation(key, draw, x.shape[axis])
    return Tensor(asarray(np.take(to_numpy(x.value), perm, axis=axis)))


def permutation(n: int, seed=None) -> np.ndarray:
    """A random permutation of ``range(n)`` (used by ``fit`` to shuffle)."""
    key, draw = draw_seed(seed)
    return prng.permutation(key, draw, n)


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
    keep = prng.uniform01(key, draw, shape, "float32") < np.float32(1.0 - rate)
    scale = np.asarray(1.0 / (1.0 - rate), dtype=x.dtype)
    mask = Tensor(asarray(np.where(keep, scale, np.zeros((), x.dtype)).astype(x.dtype)))
    return x * mask
