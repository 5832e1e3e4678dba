"""Random ops (``keras.random.uniform``, ``normal``, ``dropout``...), all drawn from Philox streams
(see :mod:`refkeras.primitives.random`).

The numbers come from the active backend's generator (``Backend.random()``, the NumPy reference
unless the backend has its own, such as JAX's, which accepts traced seeds inside a compiled step
and draws the same streams).  The arithmetic after the draw uses only operators and ``astype``,
which work on every backend's arrays.
"""

from __future__ import annotations

import numpy as np

from refkeras import config
from refkeras.backend import dispatch
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.tensor import Tensor
from refkeras.ops.core import to_tensor
from refkeras.primitives import random as prng
from refkeras.random.seed_generator import draw_seed


def _prng():
    """The active backend's Philox module (the reference for backends without ``random()``)."""
    backend = dispatch.active_backend()
    return prng if backend is None or not hasattr(backend, "random") else backend.random()


def _dtype(dtype):
    return standardize_dtype(dtype or config.floatx())


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Floats uniformly distributed in [minval, maxval)."""
    key, draw = draw_seed(seed)
    u = _prng().uniform01(key, draw, tuple(shape), "float64")
    return Tensor((minval + (maxval - minval) * u).astype(_dtype(dtype)))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normally distributed floats."""
    key, draw = draw_seed(seed)
    z = _prng().normal01(key, draw, tuple(shape), "float64")
    return Tensor((mean + stddev * z).astype(_dtype(dtype)))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal floats with values more than two standard deviations from the mean redrawn."""
    key, draw = draw_seed(seed)
    z = _prng().truncated_normal01(key, draw, tuple(shape), "float64")
    return Tensor((mean + stddev * z).astype(_dtype(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers uniformly distributed in [minval, maxval)."""
    key, draw = draw_seed(seed)
    u = _prng().uniform01(key, draw, tuple(shape), "float64")
    floor = u * (maxval - minval) // 1  # floor of non-negative floats, on any backend's arrays
    return Tensor((minval + floor).astype(standardize_dtype(dtype)))


def shuffle(x, axis=0, seed=None) -> Tensor:
    """``x`` with its entries along ``axis`` in a random order."""
    key, draw = draw_seed(seed)
    from refkeras.ops.numpy import take

    x = to_tensor(x)
    perm = _prng().permutation(key, draw, x.shape[axis])
    return take(x, Tensor(perm), axis=axis)


def permutation(n: int, seed=None) -> np.ndarray:
    """A random permutation of ``range(n)`` as a NumPy array (``fit`` shuffles on the host)."""
    key, draw = draw_seed(seed)
    return np.asarray(_prng().permutation(key, draw, n))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each element with probability ``rate`` and scale the rest by 1 / (1 - rate).

    The kept mask is ``u < 1 - rate`` for ``u`` uniform in [0, 1) (broadcast from ``noise_shape``).
    Differentiable in ``inputs`` (a multiplication by a constant mask).
    """
    x = to_tensor(inputs)
    if rate >= 1.0:
        return x * Tensor(np.zeros((), x.dtype))  # everything dropped (no 1 / 0 scale)
    shape = (
        tuple(x.shape)
        if noise_shape is None
        else tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    )
    key, draw = draw_seed(seed)
    keep = _prng().uniform01(key, draw, shape, "float32") < np.float32(1.0 - rate)
    scale = np.asarray(1.0 / (1.0 - rate), dtype=x.dtype)
    return x * Tensor(keep.astype(x.dtype) * scale)  # scale where kept, exactly 0 elsewhere
