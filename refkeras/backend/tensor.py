"""The eager tensor: a NumPy array plus, while a tape records, the graph node that produced it."""

from __future__ import annotations

import numpy as np

from refkeras import autodiff
from refkeras.backend import operators
from refkeras.backend.operators import OperatorMixin

# NumPy ufuncs that `np.exp(tensor)` and friends map to differentiable ops (by ops name).
_UFUNC_OPS = {
    "add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "true_divide",
    "true_divide": "true_divide", "power": "power", "negative": "negative", "exp": "exp",
    "log": "log", "log1p": "log1p", "expm1": "expm1", "sqrt": "sqrt", "square": "square",
    "absolute": "absolute", "tanh": "tanh", "sin": "sin", "cos": "cos", "maximum": "maximum",
    "minimum": "minimum", "sign": "sign", "floor": "floor", "ceil": "ceil", "equal": "equal",
    "not_equal": "not_equal", "less": "less", "less_equal": "less_equal", "greater": "greater",
    "greater_equal": "greater_equal", "matmul": "matmul", "logical_and": "logical_and",
    "logical_or": "logical_or", "logical_not": "logical_not", "isnan": "isnan",
    "isfinite": "isfinite", "floor_divide": "floor_divide", "remainder": "mod",
}  # fmt: skip


class Tensor(OperatorMixin):
    """An eager tensor of the active backend.

    ``value`` is the backend array; ``node``/``index`` locate it in the autodiff graph (``None``
    when nothing it depends on is being differentiated).  Supports Python operators, indexing,
    ``len``, iteration and NumPy interop (``np.asarray(t)``; ``np.exp(t)`` stays differentiable).
    """

    __slots__ = ("value", "node", "index", "_keras_mask")

    def __init__(self, value, node=None, index: int = 0):
        self.value = value
        self.node = node
        self.index = index
        self._keras_mask = None

    @property
    def shape(self) -> tuple:
        return tuple(self.value.shape)

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return int(self.value.size)

    def numpy(self) -> np.ndarray:
        return np.asarray(self.value)

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(self.value)
        return a if dtype is None else a.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = _UFUNC_OPS.get(ufunc.__name__)
        if method != "__call__" or name is None or kwargs:
            if autodiff.recording() and any(getattr(i, "node", None) for i in inputs):
                raise TypeError(
                    f"np.{ufunc.__name__} (method {method!r}) is not differentiable in refkeras; "
                    "use the matching `refkeras.ops` function inside a GradientTape."
                )
            arrays = [np.asarray(i) if isinstance(i, Tensor) else i for i in inputs]
            return getattr(ufunc, method)(*arrays, **kwargs)
        return getattr(operators._ops, name)(*inputs)

    def __len__(self) -> int:
        if not self.value.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.value.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def __format__(self, spec: str) -> str:
        if self.value.ndim == 0:
            return format(self.value.item(), spec)
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"<Tensor shape={self.shape}, dtype={self.dtype}, value=\n{np.asarray(self.value)}>"

    def __str__(self) -> str:
        return str(np.asarray(self.value))

    def astype(self, dtype):
        return operators._ops.cast(self, dtype)

    def reshape(self, *shape):
        return operators._ops.reshape(self, shape[0] if len(shape) == 1 else shape)
