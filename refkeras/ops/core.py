"""Core ops: conversion, casting, ``stop_gradient``, and the ``@op`` decorator that lets every op
accept symbolic :class:`KerasTensor` inputs (building a functional-graph node instead of computing).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from refkeras.backend import dispatch
from refkeras.backend.dtypes import result_type, standardize_dtype
from refkeras.backend.keras_tensor import KerasTensor, any_symbolic
from refkeras.backend.tensor import Tensor
from refkeras.backend.variable import Variable

call = dispatch.call


def op(fn: Callable) -> Callable:
    """Make ``fn`` accept KerasTensors: with a symbolic input it becomes a node of the functional
    graph (an :class:`~refkeras.layers.OperationLayer`) whose output spec is inferred by running
    ``fn`` on stand-in values."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if any_symbolic(args) or (kwargs and any_symbolic(kwargs.values())):
            from refkeras.layers.operation_layer import symbolic_call

            return symbolic_call(fn, args, kwargs)
        return fn(*args, **kwargs)

    wrapper.__wrapped_op__ = fn
    return wrapper


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def to_tensor(x, dtype=None) -> Tensor:
    """``x`` as a Tensor (variables are read, arrays and Python values wrapped) with ``dtype``."""
    if type(x) is Tensor:
        if dtype is None:
            return x
        t = x
    elif isinstance(x, Tensor):
        t = x
    elif isinstance(x, Variable):
        t = x.value
    elif isinstance(x, KerasTensor):
        raise ValueError(f"Cannot compute a symbolic KerasTensor eagerly: {x}")
    elif _is_backend_array(x):
        t = Tensor(x)  # e.g. a JAX array, or a tracer inside a compiled step: kept as it is
    else:
        device = dispatch.active_backend()
        on_device = isinstance(x, device.array_types) and not isinstance(x, np.generic)
        arr = x if on_device else np.asarray(x)
        if arr.dtype == np.float64 and not isinstance(x, np.ndarray | np.generic):
            arr = arr.astype(_floatx())  # Python floats and lists default to floatx, as Keras
        elif arr.dtype.kind in "OUS":
            raise TypeError(f"Cannot convert {x!r} (dtype {arr.dtype}) to a numeric tensor.")
        t = Tensor(device.asarray(arr))
    if dtype is not None:
        dtype = standardize_dtype(dtype)
        if t.value.dtype != np.dtype(dtype):
            t = call("cast", t, dtype=np.dtype(dtype))
    return t


def _is_backend_array(x) -> bool:
    """Whether ``x`` is an array of the active backend other than a NumPy one."""
    if isinstance(x, np.ndarray | np.generic | int | float | bool | list | tuple):
        return False
    backend = dispatch.active_backend()
    return backend is not None and isinstance(x, backend.array_types)


def _floatx() -> str:
    from refkeras import config

    return config.floatx()


@op
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> Tensor:
    """``x`` (array-like, tensor or variable) as a Tensor, optionally cast to ``dtype``."""
    return to_tensor(x, dtype)


def convert_to_numpy(x) -> np.ndarray:
    """``x`` as a NumPy array."""
    if isinstance(x, Tensor | Variable):
        return np.array(x)
    return dispatch.active_backend().to_numpy(x)


@op
def cast(x, dtype) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable for float targets)."""
    return to_tensor(x, standardize_dtype(dtype))


@op
def stop_gradient(variable) -> Tensor:
    """The same value, with no gradient flowing back through it."""
    return Tensor(to_tensor(variable).value)


def shape(x) -> tuple:
    """The shape of ``x`` as a tuple (``None`` for unknown sizes of symbolic tensors)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype(x) -> str:
    return standardize_dtype(x.dtype)


def binary_operands(a, b) -> tuple[Tensor, Tensor]:
    """Convert two operands to Tensors of one dtype.

    Python scalars are *weak*: they take the other operand's dtype (``x_float32 * 0.1`` stays
    float32); an integer tensor with a Python float goes to floatx.  Two arrays promote with
    :func:`refkeras.backend.dtypes.result_type` (floats win over integers, as in Keras).
    """
    if type(a) is Tensor and type(b) is Tensor and a.value.dtype == b.value.dtype:
        return a, b  # the common case: nothing to convert
    a_weak = isinstance(a, int | float | bool) and not isinstance(a, np.generic)
    b_weak = isinstance(b, int | float | bool) and not isinstance(b, np.generic)
    if a_weak and b_weak:
        return to_tensor(a), to_tensor(b)
    if a_weak or b_weak:
        strong = to_tensor(b if a_weak else a)
        scalar = a if a_weak else b
        dt = strong.value.dtype
        if isinstance(scalar, float) and dt.kind in "iub":
            strong, dt = to_tensor(strong, _floatx()), np.dtype(_floatx())
        elif isinstance(scalar, int) and not isinstance(scalar, bool) and dt.kind == "b":
            strong, dt = to_tensor(strong, "int32"), np.dtype("int32")
        weak = Tensor(dispatch.active_backend().asarray(scalar, dtype=dt))
        return (weak, strong) if a_weak else (strong, weak)
    ta, tb = to_tensor(a), to_tensor(b)
    if ta.value.dtype != tb.value.dtype:
        dt = result_type(ta.value.dtype, tb.value.dtype)
        ta, tb = to_tensor(ta, dt), to_tensor(tb, dt)
    return ta, tb


def float_operand(x) -> Tensor:
    """``x`` as a float Tensor (integers and bools are cast to floatx), for float-only math."""
    t = to_tensor(x)
    if t.value.dtype.kind not in "fc" and standardize_dtype(t.value.dtype) != "bfloat16":
        t = to_tensor(t, _floatx())
    return t
