"""The eager tensor: a NumPy array plus, while a tape records, the graph node that produced it."""

from __future__ import annotations

import numpy as np

from refkeras.backend import operators
from refkeras.backend.operators import OperatorMixin


def _host(array) -> np.ndarray:
    """The value of a backend array as a NumPy array (a device-to-host copy on GPUs)."""
    from refkeras.backend import dispatch

    return dispatch.active_backend().to_numpy(array)


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
        return _host(self.value)

    def __array__(self, dtype=None, copy=None):
        a = _host(self.value)
        return a if dtype is None else a.astype(dtype)

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
        return f"<Tensor shape={self.shape}, dtype={self.dtype}, value=\n{_host(self.value)}>"

    def __str__(self) -> str:
        return str(_host(self.value))

    def astype(self, dtype):
        return operators._ops.cast(self, dtype)

    def reshape(self, *shape):
        return operators._ops.reshape(self, shape[0] if len(shape) == 1 else shape)
