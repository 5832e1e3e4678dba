"""Helpers shared by the JAX primitives: broadcasting sums and NumPy's dtype rules.

Everything here works on traced arrays: it only looks at static metadata (shapes, dtypes).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

# Pure metadata on Python ints, shared with the reference on purpose (one definition of axes).
from refkeras.primitives._util import normalize_axis  # noqa: F401


def unbroadcast(g, shape: tuple):
    """Sum ``g`` over the axes that broadcasting added or stretched, giving an array of ``shape``
    (the VJP of ``broadcast_to(x, g.shape)``)."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def expand_reduced(g, x_shape: tuple, axis, keepdims: bool):
    """Re-insert the reduced axes into ``g`` so that it broadcasts against the reduction input."""
    if keepdims or g.ndim == len(x_shape):
        return g
    axes = normalize_axis(axis, len(x_shape))
    return g.reshape([1 if i in axes else n for i, n in enumerate(x_shape)])


@functools.cache
def _numpy_result(np_fn, dtypes: tuple) -> np.dtype:
    with np.errstate(all="ignore"):
        return np.asarray(np_fn(*(np.zeros((), d) for d in dtypes))).dtype


def numpy_dtype(np_fn, *arrays) -> np.dtype:
    """The dtype NumPy's ``np_fn`` gives for arrays of these dtypes (the reference's dtype).

    JAX promotes differently from NumPy (``exp(int32)``, ``int32 + float16``, weak types), so
    each primitive computes in the dtype the reference would produce, found by running the NumPy
    function on 0-d zeros of the input dtypes: only dtypes are looked at, never values.
    """
    return _numpy_result(np_fn, tuple(np.dtype(_dtype(a)) for a in arrays))


def _dtype(a):
    return a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype


def as_dtype(x, dtype):
    """``x`` as a JAX array of ``dtype`` (no-op when it already is)."""
    x = jnp.asarray(x)
    return x if x.dtype == dtype else x.astype(dtype)
