"""Random ops (``keras.random.uniform``, ``normal``, ``dropout``...), all drawn from Philox streams
(see :mod:`refkeras.primitives.random`)."""

from __future__ import annotations

import numpy as np

from refkeras import config
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.tensor import Tensor
from refkeras.ops.core import call, to_tensor
from refkeras.primitives import random as prng
from refkeras.random.seed_generator import draw_seed


def philox_module(draw):
    """The Philox implementation for a draw: the reference (NumPy) for a concrete draw number,
    the active backend's own (``Backend.random()``, e.g. ``jax.numpy``) for a traced one.  Both
    give the same numbers."""
    if isinstance(draw, int | np.integer):
        return prng
    from refkeras.backend import dispatch

    backend = dispatch.active_backend()
    random = getattr(backend, "random", None)
    if random is None:
        raise TypeError(
            f"Backend {getattr(backend, 'name', backend)!r} traced a random draw but has no "
            "random() (a Philox generator on its arrays)."
        )
    return random()


def _dtype(dtype):
    return standardize_dtype(dtype or config.floatx())


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Floats uniformly distributed in [minval, maxval)."""
    key, draw = draw_seed(seed)
    u = philox_module(draw).uniform01(key, draw, tuple(shape), "float64")
    return Tensor((minval + (maxval - minval) * u).astype(_dtype(dtype)))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normally distributed floats."""
    key, draw = draw_seed(seed)
    z = philox_module(draw).normal01(key, draw, tuple(shape), "float64")
    return Tensor((mean + stddev * z).astype(_dtype(dtype)))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal floats with values more than two standard deviations from the mean redrawn."""
    key, draw = draw_seed(seed)
    z = prng.truncated_normal01(key, draw, tuple(shape), "float64")
    return Tensor((mean + stddev * z).astype(_dtype(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers uniformly distributed in [minval, maxval)."""
    key, draw = draw_seed(seed)
    u = prng.uniform01(key, draw, tuple(shape), "float64")
    return Tensor((minval + np.floor(u * (maxval - minval))).astype(standardize_dtype(dtype)))


def shuffle(x, axis=0, seed=None) -> Tensor:
    """``x`` with its entries along ``axis`` in a random order."""
    key, draw = draw_seed(seed)
    x = to_tensor(x)
    perm = prng.permutation(key, draw, x.shape[axis])
    return Tensor(np.take(np.asarray(x.value), perm, axis=axis))


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
        return x * Tensor(np.zeros((), x.dtype))  # everything dropped (no 1 / 0 scale)
    shape = (
        tuple(x.shape)
        if noise_shape is None
        else tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    )
    key, draw = draw_seed(seed)
    u = philox_module(draw).uniform01(key, draw, shape, "float32")
    if isinstance(u, np.ndarray):
        keep = u < np.float32(1.0 - rate)
        scale = np.asarray(1.0 / (1.0 - rate), dtype=x.dtype)
        return x * Tensor(np.where(keep, scale, np.zeros((), x.dtype)).astype(x.dtype))
    # a backend array (traced): the same mask, built with primitives
    keep = call("less", Tensor(u), np.asarray(1.0 - rate, np.float32))
    scale = np.asarray(1.0 / (1.0 - rate), dtype=x.dtype)
    return x * Tensor(call("where", keep, scale, np.zeros((), x.dtype)).value)
