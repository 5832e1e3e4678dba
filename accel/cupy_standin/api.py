"""The stand-in ``cupy`` namespace: exactly the part of CuPy's API that refkeras uses, on NumPy.

Every name here exists in real CuPy with the same meaning (``tests/accel/cupy/test_standin.py``
checks each one against the installed ``cupy`` package).  Functions open their stand-in array
operands (refusing host NumPy arrays, as CuPy does), call the NumPy function of the same name and
box the result (:mod:`accel.cupy_standin.ndarray`).  The only ways to the host are ``asnumpy``
and ``ndarray.get``; the only ways to the device are ``asarray``/``array``.
"""

from __future__ import annotations

import math
import types

import numpy as np

from accel.cupy_standin import cuda  # noqa: F401 - the cupy.cuda namespace
from accel.cupy_standin.ndarray import ndarray, unwrap, wrap

__version__ = "14.2.0"  # the CuPy release whose API this stand-in follows

# dtypes and constants are NumPy's own objects in CuPy too
bool_, int8, int16, int32, int64 = np.bool_, np.int8, np.int16, np.int32, np.int64
uint8, uint16, uint32, uint64 = np.uint8, np.uint16, np.uint32, np.uint64
float16, float32, float64 = np.float16, np.float32, np.float64
dtype, inf, nan, newaxis = np.dtype, np.inf, np.nan, np.newaxis
finfo, iinfo = np.finfo, np.iinfo


def is_available() -> bool:
    """Real CuPy: whether a CUDA device can be used.  The stand-in's "device" is the CPU."""
    return True


# --- crossing between host and device ------------------------------------------------------------


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False) -> ndarray:
    """A device array with the value of ``a``: host data is copied (as a transfer is), a device
    array of the right dtype is returned as is."""
    if type(a) is ndarray:
        return a if dtype is None or a.dtype == np.dtype(dtype) else a.astype(dtype)
    return ndarray(np.array(a, dtype=dtype, order=order or "K"))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    """A new device array (always a copy)."""
    if type(obj) is ndarray:
        return ndarray(np.array(obj._a, dtype=dtype, order=order, ndmin=ndmin))
    return ndarray(np.array(obj, dtype=dtype, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True) -> np.ndarray:
    """A host NumPy array with the value of ``a`` (device arrays are copied off the device)."""
    if type(a) is ndarray:
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


# --- ufuncs ---------------------------------------------------------------------------------------


class ufunc:  # noqa: N801 - the name of the class it stands in for
    """``cupy.ufunc``: call it, or ``ufunc.at`` for an unbuffered in-place scatter."""

    def __init__(self, np_ufunc):
        self._f = np_ufunc
        self.__name__ = np_ufunc.__name__
        self.nin, self.nout = np_ufunc.nin, np_ufunc.nout

    def __call__(self, *args, out=None, dtype=None, **kwargs):
        if out is not None:
            if type(out) is not ndarray:
                raise TypeError(f"Output must be a cupy.ndarray, received {type(out)}")
            self._f(*unwrap(args), out=out._a, dtype=dtype, **kwargs)
            return out
        return wrap(self._f(*unwrap(args), dtype=dtype, **kwargs))

    def at(self, a, indices, b=None) -> None:
        """``a[indices] (op)= b`` with repeated indices accumulating."""
        if type(a) is not ndarray:
            raise TypeError(f"ufunc.at needs a cupy.ndarray, received {type(a)}")
        args = () if b is None else (unwrap(b),)
        self._f.at(a._a, unwrap(indices), *args)

    def __repr__(self) -> str:
        return f"<ufunc '{self.__name__}'>"


_UFUNCS = (
    "negative", "exp", "log", "log1p", "expm1", "sqrt", "square", "absolute", "tanh", "sin",
    "cos", "sign", "floor", "ceil", "add", "subtract", "multiply", "divide", "true_divide",
    "floor_divide", "remainder", "power", "maximum", "minimum", "fmax", "equal", "not_equal",
    "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_not",
    "bitwise_and", "bitwise_or", "invert", "isnan", "isfinite", "matmul",
)  # fmt: skip
for _name in _UFUNCS:
    globals()[_name] = ufunc(getattr(np, _name))
abs = absolute  # noqa: A001, F821 - cupy.abs is cupy.absolute


# --- functions ------------------------------------------------------------------------------------


def _function(np_function):
    """A CuPy-style function: stand-in operands opened (host arrays refused), result boxed."""

    def function(*args, **kwargs):
        return wrap(np_function(*unwrap(args), **{k: unwrap(v) for k, v in kwargs.items()}))

    function.__name__ = function.__qualname__ = np_function.__name__
    function.__doc__ = f"``cupy.{np_function.__name__}`` (NumPy's, on stand-in arrays)."
    return function


_FUNCTIONS = (
    "where", "clip", "round", "sum", "mean", "max", "min", "prod", "cumsum", "cumprod",
    "argmax", "argmin", "any", "all", "einsum", "reshape", "transpose", "moveaxis", "swapaxes",
    "broadcast_to", "concatenate", "stack", "split", "take", "take_along_axis", "pad", "tile",
    "repeat", "flip", "expand_dims", "squeeze", "zeros_like", "ones_like", "empty_like",
    "full_like", "ascontiguousarray", "result_type", "ix_", "count_nonzero", "nonzero", "argsort",
    "sort", "searchsorted", "isclose", "allclose", "array_equal",
)  # fmt: skip
for _name in _FUNCTIONS:
    globals()[_name] = _function(getattr(np, _name))


def zeros(shape, dtype=float, order="C") -> ndarray:
    return ndarray(np.zeros(shape, dtype=dtype, order=order))


def ones(shape, dtype=float, order="C") -> ndarray:
    return ndarray(np.ones(shape, dtype=dtype, order=order))


def empty(shape, dtype=float, order="C") -> ndarray:
    return ndarray(np.empty(shape, dtype=dtype, order=order))


def full(shape, fill_value, dtype=None, order="C") -> ndarray:
    return ndarray(np.full(shape, unwrap(fill_value), dtype=dtype, order=order))


def arange(start, stop=None, step=1, dtype=None) -> ndarray:
    return ndarray(np.arange(start, stop, step, dtype=dtype))


# --- submodules -----------------------------------------------------------------------------------

lib = types.ModuleType("cupy.lib")
lib.stride_tricks = types.ModuleType("cupy.lib.stride_tricks")
lib.stride_tricks.as_strided = _function(np.lib.stride_tricks.as_strided)
lib.stride_tricks.sliding_window_view = _function(np.lib.stride_tricks.sliding_window_view)

_erf = np.frompyfunc(math.erf, 1, 1)


def _special_erf(x, out=None):
    """``cupyx.scipy.special.erf``: exact to double precision (``math.erf``), in x's float
    dtype (float64 for integers)."""
    a = np.asarray(unwrap(x))
    result_dtype = a.dtype if a.dtype.kind == "f" else np.float64
    return wrap(np.asarray(_erf(a), dtype=np.float64).astype(result_dtype))


#: the stand-in ``cupyx`` package (only ``cupyx.scipy.special.erf`` is used)
cupyx = types.ModuleType("cupyx")
cupyx.scipy = types.ModuleType("cupyx.scipy")
cupyx.scipy.special = types.ModuleType("cupyx.scipy.special")
cupyx.scipy.special.erf = _special_erf

__all__ = sorted(
    {"ndarray", "ufunc", "asarray", "array", "asnumpy", "is_available", "cuda", "lib"}
    | {"zeros", "ones", "empty", "full", "arange", "abs", "__version__"}
    | set(_UFUNCS)
    | set(_FUNCTIONS)
    | {"bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
    | {"float16", "float32", "float64", "dtype", "inf", "nan", "newaxis", "finfo", "iinfo"}
)
