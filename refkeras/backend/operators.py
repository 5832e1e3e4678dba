"""Python operators for tensors, variables and symbolic tensors, all routed through ``refkeras.ops``
so that every one of them is differentiable (``y_true - y_pred``, ``0.5 - y``, ``x[:, 1]`` ...)."""

from __future__ import annotations

import numpy as np

from refkeras import autodiff
from refkeras.utils import tree

_ops = None  # refkeras.ops, bound on import of refkeras.ops (avoids an import cycle)

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

# Bitwise ufuncs on booleans are the logical ops (``mask_array | tensor``).
_BOOL_UFUNC_OPS = {
    "bitwise_and": "logical_and",
    "bitwise_or": "logical_or",
    "invert": "logical_not",
}


def _tracked(x) -> bool:
    """Whether ``x`` takes part in the autodiff graph being recorded."""
    return getattr(x, "node", None) is not None or type(x).__name__ == "Variable"


def _plain(x):
    return np.asarray(x) if isinstance(x, OperatorMixin) else x


def _not_differentiable(name):
    return TypeError(
        f"np.{name} is not differentiable in refkeras; use the matching `refkeras.ops` "
        "function inside a GradientTape."
    )


def _o():
    return _ops


class OperatorMixin:
    __array_priority__ = 1000  # NumPy defers `ndarray (op) Tensor` to us

    def __add__(self, other):
        return _o().add(self, other)

    def __radd__(self, other):
        return _o().add(other, self)

    def __sub__(self, other):
        return _o().subtract(self, other)

    def __rsub__(self, other):
        return _o().subtract(other, self)

    def __mul__(self, other):
        return _o().multiply(self, other)

    def __rmul__(self, other):
        return _o().multiply(other, self)

    def __truediv__(self, other):
        return _o().true_divide(self, other)

    def __rtruediv__(self, other):
        return _o().true_divide(other, self)

    def __floordiv__(self, other):
        return _o().floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _o().floor_divide(other, self)

    def __mod__(self, other):
        return _o().mod(self, other)

    def __rmod__(self, other):
        return _o().mod(other, self)

    def __pow__(self, other):
        return _o().power(self, other)

    def __rpow__(self, other):
        return _o().power(other, self)

    def __matmul__(self, other):
        return _o().matmul(self, other)

    def __rmatmul__(self, other):
        return _o().matmul(other, self)

    def __neg__(self):
        return _o().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _o().absolute(self)

    def __eq__(self, other):
        return _o().equal(self, other)

    def __ne__(self, other):
        return _o().not_equal(self, other)

    def __lt__(self, other):
        return _o().less(self, other)

    def __le__(self, other):
        return _o().less_equal(self, other)

    def __gt__(self, other):
        return _o().greater(self, other)

    def __ge__(self, other):
        return _o().greater_equal(self, other)

    def __and__(self, other):
        return _o().logical_and(self, other)

    def __rand__(self, other):
        return _o().logical_and(other, self)

    def __or__(self, other):
        return _o().logical_or(self, other)

    def __ror__(self, other):
        return _o().logical_or(other, self)

    def __invert__(self):
        return _o().logical_not(self)

    def __getitem__(self, key):
        return _o().get_item(self, key)

    __hash__ = object.__hash__

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(t)``, ``np_array * t``...: routed to the differentiable ops; anything else
        computes on plain arrays, or raises inside a tape rather than dropping the gradient."""
        name = _UFUNC_OPS.get(ufunc.__name__)
        if name is None and ufunc.__name__ in _BOOL_UFUNC_OPS:
            if all(np.asarray(i).dtype == np.bool_ for i in inputs):
                name = _BOOL_UFUNC_OPS[ufunc.__name__]
        if method == "__call__" and name is not None and not kwargs:
            return getattr(_ops, name)(*inputs)
        if autodiff.recording() and any(_tracked(i) for i in inputs):
            raise _not_differentiable(f"{ufunc.__name__} (method {method!r})")
        out = getattr(ufunc, method)(*[_plain(i) for i in inputs], **kwargs)
        return out

    def __array_function__(self, func, types, args, kwargs):
        """NumPy functions (``np.mean(t)``, ``np.concatenate``...) compute on plain arrays; inside
        a tape, on a tensor being differentiated, they raise instead of dropping the gradient."""
        if autodiff.recording() and any(_tracked(a) for a in tree.flatten([args, kwargs])):
            raise _not_differentiable(func.__name__)
        args = tree.map_structure(_plain, list(args))
        kwargs = {k: tree.map_structure(_plain, v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    @property
    def T(self):
        return _o().transpose(self)
