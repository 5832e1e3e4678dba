"""The stand-in's ``cupy.ndarray``: a NumPy array in a box that, like a real device array,
refuses to turn into a NumPy array by itself.

What it copies from CuPy, because each one is a way host code silently works on NumPy and then
breaks on a GPU:

* ``np.asarray(a)`` / ``np.array(a)`` raise ``TypeError`` (CuPy's ``__array__``); ``a.get()`` and
  ``cupy.asnumpy(a)`` are the explicit ways to the host.
* Operators and functions refuse NumPy arrays as operands (``device + host`` raises
  ``TypeError: Unsupported type <class 'numpy.ndarray'>``); Python and NumPy scalars are fine.
* Reductions and integer indexing give 0-d arrays, never NumPy scalars.
* NumPy functions called on it (``np.exp(a)``, ``np.mean(a)``) dispatch to the stand-in's own
  function of the same name through ``__array_ufunc__``/``__array_function__``, as CuPy's do; a
  NumPy function the stand-in does not provide raises ``TypeError`` instead of running on NumPy.
* ``float(a)``, ``int(a)``, ``bool(a)``, ``a.item()``, ``a.tolist()``, ``len(a)`` and iteration
  work, as on CuPy (they copy a scalar to the host).
"""

from __future__ import annotations

import numpy as np

IMPLICIT_CONVERSION_ERROR = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)


def unwrap(x):
    """The NumPy value inside an operand: stand-in arrays are opened, scalars pass, and host
    NumPy arrays are refused as CuPy refuses them."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, list | tuple):
        return type(x)(unwrap(v) for v in x)
    return x


def wrap(x):
    """Box NumPy results; NumPy scalars become 0-d arrays (CuPy returns no scalars)."""
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic):
        return ndarray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(wrap(v) for v in x)
    if isinstance(x, list):
        return [wrap(v) for v in x]
    return x


def _index(key):
    """An index for the boxed array.  Host NumPy index arrays are accepted (CuPy copies them to
    the device); stand-in arrays are opened."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    if type(key) is ndarray:
        return key._a
    return key


def _binary(name):
    ufunc = getattr(np, name)

    def method(self, other):
        return wrap(ufunc(self._a, unwrap(other)))

    def reflected(self, other):
        return wrap(ufunc(unwrap(other), self._a))

    def inplace(self, other):
        ufunc(self._a, unwrap(other), out=self._a)
        return self

    return method, reflected, inplace


class ndarray:  # noqa: N801 - the name of the class it stands in for
    """``cupy.ndarray`` on the CPU (see the module docstring for what it refuses)."""

    __slots__ = ("_a",)
    __array_priority__ = 100  # a NumPy array on the left defers to us (and is then refused)

    def __init__(self, array: np.ndarray):
        if not isinstance(array, np.ndarray):
            raise TypeError(f"ndarray wraps a numpy.ndarray, received {type(array)}")
        self._a = array

    # --- the refusal ----------------------------------------------------------------------------

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT_CONVERSION_ERROR)

    def get(self, stream=None, order="C", out=None, blocking=True) -> np.ndarray:
        """The value as a NumPy array (a copy, as a device-to-host transfer is)."""
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from accel.cupy_standin import api

        own = getattr(api, ufunc.__name__, None)
        if not isinstance(own, api.ufunc):
            return NotImplemented
        if method == "__call__":
            return own(*inputs, **kwargs)
        if method == "at":
            return own.at(*inputs, **kwargs)
        return NotImplemented

    def __array_function__(self, func, types, args, kwargs):
        from accel.cupy_standin import api

        if func.__module__.split(".")[0] != "numpy" or func.__name__ not in api.__all__:
            return NotImplemented
        return getattr(api, func.__name__)(*args, **kwargs)

    # --- metadata -------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple:
        return self._a.shape

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._a.dtype

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def itemsize(self) -> int:
        return self._a.itemsize

    @property
    def nbytes(self) -> int:
        return self._a.nbytes

    @property
    def strides(self) -> tuple:
        return self._a.strides

    @property
    def T(self) -> ndarray:  # noqa: N802
        return ndarray(self._a.T)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        for i in range(len(self._a)):
            yield self[i]

    def __repr__(self) -> str:
        return repr(self._a)

    def __str__(self) -> str:
        return str(self._a)

    def __format__(self, spec: str) -> str:
        return format(self._a, spec)

    __hash__ = None

    # --- scalar conversions (allowed: they copy one value to the host) ---------------------------

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    # --- methods --------------------------------------------------------------------------------

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True) -> ndarray:
        return ndarray(self._a.astype(dtype, copy=copy))

    def copy(self, order="C") -> ndarray:
        return ndarray(self._a.copy(order=order))

    def reshape(self, *shape, order="C") -> ndarray:
        return ndarray(self._a.reshape(*shape, order=order))

    def transpose(self, *axes) -> ndarray:
        return ndarray(self._a.transpose(*axes))

    def swapaxes(self, axis1: int, axis2: int) -> ndarray:
        return ndarray(self._a.swapaxes(axis1, axis2))

    def ravel(self, order="C") -> ndarray:
        return ndarray(self._a.ravel(order=order))

    def squeeze(self, axis=None) -> ndarray:
        return ndarray(self._a.squeeze(axis=axis))

    def view(self, dtype=None) -> ndarray:
        return ndarray(self._a.view() if dtype is None else self._a.view(dtype))

    def fill(self, value) -> None:
        self._a.fill(unwrap(value))

    def sum(self, axis=None, dtype=None, out=None, keepdims=False) -> ndarray:
        return wrap(self._a.sum(axis=axis, dtype=dtype, keepdims=keepdims))

    def mean(self, axis=None, dtype=None, out=None, keepdims=False) -> ndarray:
        return wrap(self._a.mean(axis=axis, dtype=dtype, keepdims=keepdims))

    def max(self, axis=None, out=None, keepdims=False) -> ndarray:
        return wrap(self._a.max(axis=axis, keepdims=keepdims))

    def min(self, axis=None, out=None, keepdims=False) -> ndarray:
        return wrap(self._a.min(axis=axis, keepdims=keepdims))

    def prod(self, axis=None, dtype=None, out=None, keepdims=False) -> ndarray:
        return wrap(self._a.prod(axis=axis, dtype=dtype, keepdims=keepdims))

    def any(self, axis=None, out=None, keepdims=False) -> ndarray:
        return wrap(self._a.any(axis=axis, keepdims=keepdims))

    def all(self, axis=None, out=None, keepdims=False) -> ndarray:
        return wrap(self._a.all(axis=axis, keepdims=keepdims))

    def argmax(self, axis=None, out=None, dtype=None, keepdims=False) -> ndarray:
        return wrap(self._a.argmax(axis=axis, keepdims=keepdims))

    def argmin(self, axis=None, out=None, dtype=None, keepdims=False) -> ndarray:
        return wrap(self._a.argmin(axis=axis, keepdims=keepdims))

    def cumsum(self, axis=None, dtype=None, out=None) -> ndarray:
        return wrap(self._a.cumsum(axis=axis, dtype=dtype))

    def clip(self, min=None, max=None, out=None) -> ndarray:  # noqa: A002
        return wrap(self._a.clip(unwrap(min), unwrap(max)))

    # --- indexing -------------------------------------------------------------------------------

    def __getitem__(self, key) -> ndarray:
        return wrap(self._a[_index(key)])

    def __setitem__(self, key, value) -> None:
        self._a[_index(key)] = unwrap(value)

    # --- operators ------------------------------------------------------------------------------

    __add__, __radd__, __iadd__ = _binary("add")
    __sub__, __rsub__, __isub__ = _binary("subtract")
    __mul__, __rmul__, __imul__ = _binary("multiply")
    __truediv__, __rtruediv__, __itruediv__ = _binary("true_divide")
    __floordiv__, __rfloordiv__, __ifloordiv__ = _binary("floor_divide")
    __mod__, __rmod__, __imod__ = _binary("remainder")
    __pow__, __rpow__, __ipow__ = _binary("power")
    __matmul__, __rmatmul__, _ = _binary("matmul")
    __and__, __rand__, __iand__ = _binary("bitwise_and")
    __or__, __ror__, __ior__ = _binary("bitwise_or")
    __xor__, __rxor__, __ixor__ = _binary("bitwise_xor")
    __eq__, _, _ = _binary("equal")
    __ne__, _, _ = _binary("not_equal")
    __lt__, __gt__ = _binary("less")[0], _binary("greater")[0]
    __le__, __ge__ = _binary("less_equal")[0], _binary("greater_equal")[0]
    del _

    def __neg__(self) -> ndarray:
        return wrap(np.negative(self._a))

    def __pos__(self) -> ndarray:
        return wrap(np.positive(self._a))

    def __abs__(self) -> ndarray:
        return wrap(np.abs(self._a))

    def __invert__(self) -> ndarray:
        return wrap(np.invert(self._a))
