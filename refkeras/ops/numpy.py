"""The NumPy-like Keras ops (``keras.ops.add``, ``mean``, ``reshape``...), differentiable.

Each op converts its inputs (:func:`binary_operands` applies Keras's dtype promotion) and calls
primitives; ops with no primitive of their own are short compositions of ops, so their gradient is
the chain rule over those.
"""

from __future__ import annotations

import builtins

import numpy as np

from refkeras.backend import asarray, to_numpy
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.tensor import Tensor
from refkeras.ops.core import binary_operands, call, float_operand, op, to_tensor


def _axis_tuple(axis, ndim):
    if axis is None:
        return None
    if isinstance(axis, list | tuple):
        return tuple(int(a) % ndim for a in axis)
    return int(axis) % ndim if ndim else 0


# --- elementwise -------------------------------------------------------------------------------


def _unary(name, float_only=True):
    def fn(x):
        return call(name, float_operand(x) if float_only else to_tensor(x))

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (see ``refkeras.primitives.elementwise.{name}``)."
    return op(fn)


exp = _unary("exp")
log = _unary("log")
log1p = _unary("log1p")
expm1 = _unary("expm1")
sqrt = _unary("sqrt")
tanh = _unary("tanh")
sin = _unary("sin")
cos = _unary("cos")
square = _unary("square", float_only=False)
negative = _unary("negative", float_only=False)
sign = _unary("sign", float_only=False)
floor = _unary("floor")
ceil = _unary("ceil")
isnan = _unary("isnan", float_only=False)
isfinite = _unary("isfinite", float_only=False)
logical_not = _unary("logical_not", float_only=False)


@op
def absolute(x):
    """|x|"""
    return call("abs", to_tensor(x))


abs = absolute  # noqa: A001


@op
def round(x, decimals=0):  # noqa: A001
    return call("round", to_tensor(x), decimals=decimals)


@op
def clip(x, x_min, x_max):
    """``min(max(x, x_min), x_max)``; the gradient passes where ``x_min <= x <= x_max``."""
    x = to_tensor(x)
    if isinstance(x_min, int | float) and isinstance(x_max, int | float):
        return call("clip", x, x_min=x_min, x_max=x_max)
    return minimum(maximum(x, x_min), x_max)


def _binary(name):
    def fn(x1, x2):
        a, b = binary_operands(x1, x2)
        return call(name, a, b)

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` with broadcasting."
    return op(fn)


add = _binary("add")
subtract = _binary("subtract")
multiply = _binary("multiply")
maximum = _binary("maximum")
minimum = _binary("minimum")
equal = _binary("equal")
not_equal = _binary("not_equal")
less = _binary("less")
less_equal = _binary("less_equal")
greater = _binary("greater")
greater_equal = _binary("greater_equal")
logical_and = _binary("logical_and")
logical_or = _binary("logical_or")


@op
def true_divide(x1, x2):
    """x1 / x2 (integers are divided as floats)."""
    a, b = binary_operands(x1, x2)
    if a.value.dtype.kind in "iub":
        a, b = float_operand(a), float_operand(b)
    return call("divide", a, b)


divide = true_divide


@op
def power(x1, x2):
    a, b = binary_operands(x1, x2)
    return call("power", a, b)


@op
def floor_divide(x1, x2):
    """floor(x1 / x2); integer inputs stay integers."""
    a, b = binary_operands(x1, x2)
    if a.value.dtype.kind in "iu":
        return Tensor(np.floor_divide(a.value, b.value))
    return floor(call("divide", a, b))


@op
def mod(x1, x2):
    """x1 - floor(x1 / x2) * x2 (the sign of the divisor, as NumPy)."""
    a, b = binary_operands(x1, x2)
    if a.value.dtype.kind in "iu":
        return Tensor(np.mod(a.value, b.value))
    return subtract(a, multiply(floor_divide(a, b), b))


@op
def where(condition, x1=None, x2=None):
    """Elements of ``x1`` where ``condition`` else ``x2``."""
    if x1 is None and x2 is None:
        return tuple(Tensor(asarray(i, np.int32)) for i in np.nonzero(to_numpy(condition)))
    a, b = binary_operands(x1, x2)
    cond = to_tensor(condition)
    if cond.value.dtype != np.bool_:
        cond = Tensor(cond.value.astype(bool))
    return call("where", cond, a, b)


# --- reductions --------------------------------------------------------------------------------


def _reduce(name, x, axis, keepdims):
    x = to_tensor(x)
    return call(name, x, axis=_axis_tuple(axis, x.ndim), keepdims=keepdims)


@op
def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum over ``axis`` (all axes by default)."""
    x = to_tensor(x)
    if x.value.dtype == np.bool_:
        x = to_tensor(x, "int32")
    return _reduce("sum", x, axis, keepdims)


@op
def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``; integer inputs give floatx."""
    return _reduce("mean", float_operand(x), axis, keepdims)


@op
def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    out = _reduce("max", x, axis, keepdims)
    return out if initial is None else maximum(out, initial)


amax = max


@op
def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    out = _reduce("min", x, axis, keepdims)
    return out if initial is None else minimum(out, initial)


amin = min


@op
def prod(x, axis=None, keepdims=False, dtype=None):
    return _reduce("prod", to_tensor(x, dtype), axis, keepdims)


@op
def var(x, axis=None, keepdims=False):
    """Biased variance: mean((x - mean(x))^2)."""
    x = float_operand(x)
    centered = subtract(x, mean(x, axis=axis, keepdims=True))
    return mean(square(centered), axis=axis, keepdims=keepdims)


@op
def std(x, axis=None, keepdims=False):
    return sqrt(var(x, axis=axis, keepdims=keepdims))


@op
def any(x, axis=None, keepdims=False):  # noqa: A001
    return Tensor(np.any(to_tensor(x).value, axis=_axis(axis), keepdims=keepdims))


@op
def all(x, axis=None, keepdims=False):  # noqa: A001
    return Tensor(np.all(to_tensor(x).value, axis=_axis(axis), keepdims=keepdims))


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


@op
def count_nonzero(x, axis=None):
    return Tensor(asarray(np.count_nonzero(to_tensor(x).value, axis=_axis(axis)), np.int32))


@op
def argmax(x, axis=None, keepdims=False):
    x = to_tensor(x)
    return call("argmax", x, axis=axis, keepdims=keepdims)


@op
def argmin(x, axis=None, keepdims=False):
    x = to_tensor(x)
    return call("argmin", x, axis=axis, keepdims=keepdims)


@op
def argsort(x, axis=-1):
    return Tensor(np.argsort(to_tensor(x).value, axis=axis, kind="stable").astype(np.int32))


@op
def sort(x, axis=-1):
    """Sorted along ``axis``; differentiable (a gather by ``argsort``)."""
    return take_along_axis(x, argsort(x, axis=axis), axis=axis)


@op
def cumsum(x, axis=None, dtype=None):
    x = to_tensor(x, dtype)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    return call("cumsum", x, axis=axis)


# --- linear algebra ----------------------------------------------------------------------------


@op
def matmul(x1, x2):
    """Matrix product with NumPy's broadcasting rules."""
    a, b = binary_operands(x1, x2)
    return call("matmul", a, b)


@op
def dot(x1, x2):
    """``np.dot``: matmul for 1-D/2-D operands, sum over the last axis of ``x1`` and the
    second-to-last of ``x2`` in general."""
    a, b = binary_operands(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


@op
def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes``, by transposing and reshaping to one matmul."""
    a, b = binary_operands(x1, x2)
    if isinstance(axes, int):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, int) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, int) else list(axes_b)
    axes_a = [i % a.ndim for i in axes_a]
    axes_b = [i % b.ndim for i in axes_b]
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a], dtype=np.int64))
    a2 = reshape(transpose(a, free_a + axes_a), (-1, k))
    b2 = reshape(transpose(b, axes_b + free_b), (k, -1))
    out_shape = [a.shape[i] for i in free_a] + [b.shape[i] for i in free_b]
    return reshape(matmul(a2, b2), out_shape)


@op
def einsum(subscripts, *operands):
    """``np.einsum`` with explicit output subscripts."""
    ts = [float_operand(o) for o in operands]
    if "->" not in subscripts:
        ins = subscripts.replace(" ", "")
        letters = [c for c in ins.replace(",", "") if c.isalpha()]
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
        subscripts = ins + "->" + out
    return call("einsum", *ts, subscripts=subscripts)


@op
def outer(x1, x2):
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


# --- shapes ------------------------------------------------------------------------------------


@op
def reshape(x, newshape):
    x = to_tensor(x)
    newshape = (newshape,) if isinstance(newshape, int) else tuple(int(d) for d in newshape)
    return call("reshape", x, shape=newshape)


@op
def transpose(x, axes=None):
    x = to_tensor(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(int(a) for a in axes)
    return call("transpose", x, axes=axes)


@op
def expand_dims(x, axis):
    x = to_tensor(x)
    axes = [axis] if isinstance(axis, int) else list(axis)
    shape = list(x.shape)
    for a in sorted(a % (x.ndim + len(axes)) for a in axes):
        shape.insert(a, 1)
    return reshape(x, shape)


@op
def squeeze(x, axis=None):
    x = to_tensor(x)
    if axis is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        axes = [a % x.ndim for a in ([axis] if isinstance(axis, int) else axis)]
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"Cannot squeeze axis {a} of shape {x.shape}: its size is not 1.")
    return reshape(x, [n for i, n in enumerate(x.shape) if i not in axes])


@op
def moveaxis(x, source, destination):
    """``x`` with axes ``source`` moved to positions ``destination`` (others keep their order)."""
    x = to_tensor(x)
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    source = [a % x.ndim for a in source]
    destination = [a % x.ndim for a in destination]
    order = [a for a in range(x.ndim) if a not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(x, order)


@op
def swapaxes(x, axis1, axis2):
    x = to_tensor(x)
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


@op
def broadcast_to(x, shape):
    return call("broadcast_to", to_tensor(x), shape=tuple(shape))


@op
def concatenate(xs, axis=0):
    """Join tensors along ``axis`` (promoting to a common dtype)."""
    ts = [to_tensor(x) for x in xs]
    dt = ts[0].value.dtype
    for t in ts[1:]:
        if t.value.dtype != dt:
            dt = np.dtype(binary_operands(Tensor(np.zeros((), dt)), t)[0].value.dtype)
    ts = [to_tensor(t, dt) for t in ts]
    return call("concatenate", *ts, axis=axis)


@op
def stack(x, axis=0):
    return concatenate([expand_dims(t, axis) for t in x], axis=axis)


@op
def split(x, indices_or_sections, axis=0):
    x = to_tensor(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(
                f"array split does not result in an equal division: {n} into "
                f"{indices_or_sections} sections"
            )
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step))
    else:
        bounds = [0, *indices_or_sections, n]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        key = [slice(None)] * x.ndim
        key[axis] = slice(lo, hi)
        out.append(get_item(x, tuple(key)))
    return out


@op
def get_item(x, key):
    """``x[key]`` for any NumPy index; tensor indices are converted to arrays."""
    x = to_tensor(x)
    key = _static_key(key)
    return call("getitem", x, key=key)


def _static_key(key):
    if isinstance(key, tuple):
        return tuple(_static_key(k) for k in key)
    if isinstance(key, Tensor):
        return to_numpy(key.value)
    if isinstance(key, list):
        return np.asarray(key)
    return key


@op
def take(x, indices, axis=None):
    x = to_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    idx = to_tensor(indices).value  # the backend's array (traced inside a compiled step)
    if idx.dtype.kind not in "iu":
        idx = idx.astype(np.int64)
    return call("take", x, idx, axis=axis)


@op
def take_along_axis(x, indices, axis=None):
    x = to_tensor(x)
    idx = to_tensor(indices).value.astype(np.int64)
    return call("take_along_axis", x, idx, axis=axis)


@op
def pad(x, pad_width, mode="constant", constant_values=None):
    if mode != "constant":
        raise ValueError(f"`pad` supports mode='constant' only. Received: mode={mode}")
    x = to_tensor(x)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    pw = tuple((int(a), int(b)) for a, b in pw)
    return call("pad", x, pad_width=pw, constant_values=constant_values or 0)


@op
def tile(x, repeats):
    reps = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    return call("tile", to_tensor(x), repeats=reps)


@op
def repeat(x, repeats, axis=None):
    x = to_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    return call("repeat", x, repeats=int(repeats), axis=axis)


@op
def flip(x, axis=None):
    x = to_tensor(x)
    axis = tuple(range(x.ndim)) if axis is None else axis
    return call("flip", x, axis=axis)


def size(x) -> int:
    return int(np.prod(to_tensor(x).shape, dtype=np.int64))


def ndim(x) -> int:
    return len(x.shape)


# --- creation (not differentiable) -------------------------------------------------------------


def _dt(dtype, default=None):
    from refkeras import config

    return np.dtype(standardize_dtype(dtype or default or config.floatx()))


def zeros(shape, dtype=None):
    return Tensor(asarray(np.zeros(shape, _dt(dtype))))


def ones(shape, dtype=None):
    return Tensor(asarray(np.ones(shape, _dt(dtype))))


def full(shape, fill_value, dtype=None):
    return Tensor(asarray(np.full(shape, fill_value, _dt(dtype))))


def eye(N, M=None, k=0, dtype=None):
    return Tensor(asarray(np.eye(N, M, k, dtype=_dt(dtype))))


identity = eye


def zeros_like(x, dtype=None):
    return Tensor(asarray(np.zeros(x.shape, _dt(dtype, standardize_dtype(x.dtype)))))


def ones_like(x, dtype=None):
    return Tensor(asarray(np.ones(x.shape, _dt(dtype, standardize_dtype(x.dtype)))))


def full_like(x, fill_value, dtype=None):
    return Tensor(asarray(np.full(x.shape, fill_value, _dt(dtype, standardize_dtype(x.dtype)))))


def arange(start, stop=None, step=1, dtype=None):
    if dtype is None:
        ints = builtins.all(isinstance(v, int) for v in (start, stop or 0, step))
        dtype = "int32" if ints else None
    return Tensor(asarray(np.arange(start, stop, step, dtype=_dt(dtype))))


def linspace(start, stop, num=50, endpoint=True, dtype=None):
    return Tensor(asarray(np.linspace(start, stop, num, endpoint=endpoint, dtype=_dt(dtype))))


def array(x, dtype=None):
    return to_tensor(x, dtype)


def copy(x):
    """An independent copy of ``x`` (differentiable)."""
    x = to_tensor(x)
    return call("broadcast_to", x, shape=tuple(x.shape))


__all__ = [
    name
    for name, value in list(globals().items())
    if callable(value) and not name.startswith("_") and getattr(value, "__module__", "") == __name__
]
