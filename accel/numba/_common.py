"""What every file of the Numba backend shares: the compile options, the dtypes Numba can compute
in, and the "same dtypes as the reference" rule.

Numba compiles lazily, on the first call with each combination of argument types, and caches the
machine code on disk (``cache=True``: ``__pycache__/*.nbi|*.nbc`` beside the source), so only the
very first run on a machine pays the compile time.  ``fastmath`` stays off: results must equal the
reference up to rounding, and fastmath would reorder sums and drop NaN/inf handling.
``error_model="numpy"`` makes ``x / 0`` give inf/nan (as NumPy) instead of raising.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import overload

#: options for serial kernels (small arrays: starting threads would cost more than the work)
SERIAL = {"cache": True, "fastmath": False, "error_model": "numpy", "nogil": True}
#: options for parallel kernels (``prange`` loops)
PARALLEL = {**SERIAL, "parallel": True}

#: below this many elements a kernel runs its serial version (a parallel launch costs ~10-20 us)
PARALLEL_MIN = 1 << 16


def njit(fn=None, **options):
    """``numba.njit`` with :data:`SERIAL` options (plus ``options``)."""
    if fn is None:
        return lambda f: numba.njit(**{**SERIAL, **options})(f)
    return numba.njit(**SERIAL)(fn)


def pjit(fn):
    """``numba.njit`` with :data:`PARALLEL` options (``prange`` loops run on all threads)."""
    return numba.njit(**PARALLEL)(fn)


class Twins:
    """A kernel compiled twice from one source: serially (``range``) for small inputs, where
    starting threads would cost more than the work, and in parallel (``prange``) for large ones.

    ``make(loop)`` returns the kernel's Python function with ``loop`` as its outer loop.  (The two
    are closures over different ``loop`` values, which keeps their on-disk cache entries apart.)
    """

    def __init__(self, make):
        self.serial = numba.njit(**SERIAL)(make(range))
        self.parallel = numba.njit(**PARALLEL)(make(numba.prange))

    def __call__(self, size: int, *args):
        # One thread (NUMBA_NUM_THREADS=1, or numba.set_num_threads(1)): the parallel version
        # would only add its launch cost.
        if size >= PARALLEL_MIN and numba.get_num_threads() > 1:
            return self.parallel(*args)
        return self.serial(*args)


def computable(a):
    """``a`` in a dtype Numba computes in: float16 and ml_dtypes' bfloat16 (and the like) are
    widened to float32, which is what NumPy and ml_dtypes do internally for their ufuncs too;
    the caller casts the result back to the reference's dtype."""
    if isinstance(a, np.ndarray | np.generic):
        kind, size = a.dtype.kind, a.dtype.itemsize
        if kind == "V" or (kind == "f" and size < 4):
            return np.asarray(a, dtype=np.float32)
    return a


def float_dtype_for(dtype) -> np.dtype:
    """The dtype a float kernel computes in for arrays of ``dtype`` (float32 or float64)."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def sample(a):
    """A zero-size stand-in for array ``a`` (same dtype and rank) or ``a`` itself for Python
    scalars: running a reference function on samples gives its result dtypes cheaply."""
    if isinstance(a, np.ndarray | np.generic):
        return np.empty((0,) * max(np.ndim(a), 1), dtype=a.dtype)
    return a


def _key(a):
    if isinstance(a, np.ndarray | np.generic):
        return a.dtype
    return type(a) if not isinstance(a, tuple) else tuple(_key(x) for x in a)


_DTYPES: dict = {}


def reference_dtypes(reference, *args, **params):
    """The dtype of each output of ``reference(*args, **params)`` (``None`` where it returns
    ``None``), computed once per combination of argument dtypes on zero-size samples: the
    backend's results are cast to these, so they carry exactly the reference's dtypes."""
    try:
        key = (reference, tuple(_key(a) for a in args), tuple(params.items()))
        hash(key)
    except TypeError:  # unhashable params (lists): compute without caching
        key = None
    if key is not None and key in _DTYPES:
        return _DTYPES[key]
    samples = [tuple(sample(x) for x in a) if isinstance(a, tuple) else sample(a) for a in args]
    out = reference(*samples, **params)
    dtypes = (
        tuple(None if o is None else np.asarray(o).dtype for o in out)
        if isinstance(out, tuple)
        else np.asarray(out).dtype
    )
    if key is not None:
        _DTYPES[key] = dtypes
    return dtypes


def as_dtype(a, dtype):
    """``a`` as an array (or NumPy scalar, for 0-d results) of ``dtype``."""
    if a is None:
        return None
    if isinstance(a, np.ndarray):
        return a.astype(dtype, copy=False)
    return np.asarray(a, dtype=dtype)[()]


def _zero(x):
    """A zero of ``x``'s type (Numba compiles :func:`_zero_overload` instead)."""
    return type(x)(0)


@overload(_zero)
def _zero_overload(x):
    # ``x``'s own type: a literal ``0`` makes Numba unify branches to float64 for float32 ``x``
    # (measured: relu 5x slower, plus a cast back), and ``x * 0`` is NaN for infinite ``x``.
    zero = numba.np.numpy_support.as_dtype(x).type(0)
    return lambda x: zero
