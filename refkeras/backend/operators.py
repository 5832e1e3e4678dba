"""Python operators for tensors, variables and symbolic tensors, all routed through ``refkeras.ops``
so that every one of them is differentiable (``y_true - y_pred``, ``0.5 - y``, ``x[:, 1]`` ...)."""

from __future__ import annotations

_ops = None  # refkeras.ops, bound on import of refkeras.ops (avoids an import cycle)


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

    @property
    def T(self):
        return _o().transpose(self)
