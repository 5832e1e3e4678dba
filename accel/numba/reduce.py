"""Reductions on the Numba backend.

Every reduction is brought to one layout: ``x`` as ``(outer, K, inner)`` with the ``K`` reduced
elements in the middle (a free reshape when the reduced axes are adjacent, as for ``axis=-1``,
``axis=0`` or ``axis=None``; otherwise one transposing copy first).  One kernel per reduction loops
over that layout, in parallel over ``outer`` for large inputs.  Float sums accumulate in float64,
so they differ from NumPy's pairwise float32 sums by rounding only.
"""

from __future__ import annotations

import math

import numpy as np

from accel.numba._common import Twins, computable
from refkeras.primitives import reduce as ref
from refkeras.primitives._util import normalize_axis


def _layout(x, axis):
    """``x`` as ``(outer, K, inner)`` and the reduced shape with size-1 axes kept.

    (Sizes with ``math.prod`` on Python ints: ``np.prod`` costs ~8 us a call, which dominated
    the reductions of a small model's loss and metrics.)"""
    axes = normalize_axis(axis, x.ndim)
    kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    k = math.prod([x.shape[a] for a in axes])
    if not axes:
        return x.reshape(-1, 1, 1), kept
    if axes == tuple(range(axes[0], axes[-1] + 1)):
        outer = math.prod(x.shape[: axes[0]])
        inner = math.prod(x.shape[axes[-1] + 1 :])
        return np.ascontiguousarray(x).reshape(outer, k, inner), kept
    rest = tuple(i for i in range(x.ndim) if i not in axes)
    return np.ascontiguousarray(np.transpose(x, rest + axes)).reshape(-1, k, 1), kept


def _finish(out2, kept, axis, ndim, keepdims, dtype):
    """The ``(outer, inner)`` result in the reference's shape and dtype."""
    out = out2.reshape(kept).astype(dtype, copy=False)
    if not keepdims:
        axes = normalize_axis(axis, ndim)
        out = out.reshape([n for i, n in enumerate(kept) if i not in axes])
    return out if out.ndim or keepdims else out[()]  # NumPy gives a scalar for a full reduction


def _sum_kernel(loop):
    def kernel(x, out):
        for o in loop(x.shape[0]):
            for k in range(x.shape[1]):
                for i in range(x.shape[2]):
                    out[o, i] += x[o, k, i]

    return kernel


def _extreme_kernel(loop):
    def kernel(x, out, sign):
        # max (sign 1) or min (sign -1); the first NaN wins, as np.max propagates NaN
        for o in loop(x.shape[0]):
            for i in range(x.shape[2]):
                best = x[o, 0, i]
                for k in range(1, x.shape[1]):
                    v = x[o, k, i]
                    if best == best and (v != v or (v > best if sign > 0 else v < best)):
                        best = v
                out[o, i] = best

    return kernel


def _arg_kernel(loop):
    def kernel(x, out, sign):
        # index of the first max (sign 1) / min (sign -1); the first NaN if any, as np.argmax
        for o in loop(x.shape[0]):
            for i in range(x.shape[2]):
                best, at = x[o, 0, i], 0
                for k in range(1, x.shape[1]):
                    v = x[o, k, i]
                    if best == best and (v != v or (v > best if sign > 0 else v < best)):
                        best, at = v, k
                out[o, i] = at

    return kernel


def _chooser_vjp_kernel(loop):
    def kernel(g, out, x, dx, zero):
        # dx[o, k, i] = (g[o, i] * chosen) / count[o, i], chosen = (x[o, k, i] == out[o, i]),
        # count = the number of chosen k: the reference's tie sharing, operation for operation
        # (a NaN max chooses nothing: 0 / 0 = NaN, as the reference)
        for o in loop(x.shape[0]):
            count = np.zeros(x.shape[2], np.int64)
            for k in range(x.shape[1]):
                for i in range(x.shape[2]):
                    if x[o, k, i] == out[o, i]:
                        count[i] += 1
            for k in range(x.shape[1]):
                for i in range(x.shape[2]):
                    chosen = g[o, i] if x[o, k, i] == out[o, i] else g[o, i] * zero
                    dx[o, k, i] = chosen / g.dtype.type(count[i])

    return kernel


_sum = Twins(_sum_kernel)
_chooser_vjp = Twins(_chooser_vjp_kernel)
_extreme = Twins(_extreme_kernel)
_arg = Twins(_arg_kernel)


def sum(x, *, axis=None, keepdims=False):  # noqa: A001 - the primitive is called sum
    """y = sum of x over ``axis`` (float64 accumulation for floats)."""
    x = np.asarray(x)
    dtype = ref._int_accumulator(x) or x.dtype
    x3, kept = _layout(computable(x), axis)
    acc = np.float64 if x3.dtype.kind == "f" else dtype
    out = np.zeros((x3.shape[0], x3.shape[2]), acc)
    _sum(x3.size, x3, out)
    return _finish(out, kept, axis, x.ndim, keepdims, dtype)


def mean(x, *, axis=None, keepdims=False):
    """y = sum / count in x's float dtype (float64 for integers, as the reference)."""
    x = np.asarray(x)
    x3, kept = _layout(computable(x), axis)
    out = np.zeros((x3.shape[0], x3.shape[2]), np.float64)
    _sum(x3.size, x3, out)
    out /= x3.shape[1]
    dtype = x.dtype if x.dtype.kind == "f" else ref.mean(np.zeros(1, x.dtype)).dtype
    return _finish(out, kept, axis, x.ndim, keepdims, dtype)


def _extreme_reduce(x, axis, keepdims, sign, name):
    x = np.asarray(x)
    x3, kept = _layout(computable(x), axis)
    if x3.shape[1] == 0:
        raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
    out = np.empty((x3.shape[0], x3.shape[2]), x3.dtype)
    _extreme(x3.size, x3, out, sign)
    return _finish(out, kept, axis, x.ndim, keepdims, x.dtype)


def max(x, *, axis=None, keepdims=False):  # noqa: A001 - the primitive is called max
    """y = max of x over ``axis`` (NaN propagates)."""
    return _extreme_reduce(x, axis, keepdims, 1, "maximum")


def min(x, *, axis=None, keepdims=False):  # noqa: A001 - the primitive is called min
    """y = min of x over ``axis`` (NaN propagates)."""
    return _extreme_reduce(x, axis, keepdims, -1, "minimum")


def _arg_reduce(x, axis, keepdims, sign, name):
    x = np.asarray(x)
    if axis is None:  # over the flattened array, as np.argmax
        flat = _arg_reduce(x.reshape(-1), 0, False, sign, name)
        return flat.reshape((1,) * x.ndim) if keepdims else flat
    x3, kept = _layout(computable(x), axis)
    if x3.shape[1] == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
    out = np.empty((x3.shape[0], x3.shape[2]), np.int32)
    _arg(x3.size, x3, out, sign)
    return _finish(out, kept, axis, x.ndim, keepdims, np.int32)


def argmax(x, *, axis=None, keepdims=False):
    """Index of the first maximum along ``axis`` (int32)."""
    return _arg_reduce(x, axis, keepdims, 1, "argmax")


def argmin(x, *, axis=None, keepdims=False):
    """Index of the first minimum along ``axis`` (int32)."""
    return _arg_reduce(x, axis, keepdims, -1, "argmin")


def _chooser(g, out, x, axis, keepdims):
    """max_vjp / min_vjp: the cotangent shared equally between the elements equal to the result
    (``jax.grad(jnp.max)``'s tie rule), as ``g * (x == out) / count``."""
    x = np.asarray(x)
    g_dtype = np.asarray(g).dtype  # the reference's result: g * bool / count in g's dtype
    dtype = g_dtype if g_dtype.kind in "fcV" else np.dtype(np.float64)
    axes = normalize_axis(axis, x.ndim)
    rest = tuple(i for i in range(x.ndim) if i not in axes)
    x3, kept = _layout(computable(x), axis)
    gc = computable(np.asarray(g))
    g2 = np.ascontiguousarray(gc).reshape(x3.shape[0], x3.shape[2])
    out2 = np.ascontiguousarray(computable(np.asarray(out, dtype=x.dtype))).reshape(g2.shape)
    dx = np.empty(x3.shape, g2.dtype)
    _chooser_vjp(x3.size, g2, out2.astype(x3.dtype, copy=False), x3, dx, g2.dtype.type(0))
    if axes and axes != tuple(range(axes[0], axes[-1] + 1)):  # _layout transposed x
        moved = [x.shape[i] for i in rest + axes]
        dx = np.transpose(dx.reshape(moved), np.argsort(rest + axes))
    return (dx.reshape(x.shape).astype(dtype, copy=False),)


def max_vjp(g, out, x, *, axis=None, keepdims=False):
    """The cotangent shared equally between tied maxima (see the reference)."""
    return _chooser(g, out, x, axis, keepdims)


def min_vjp(g, out, x, *, axis=None, keepdims=False):
    """The cotangent shared equally between tied minima (see the reference)."""
    return _chooser(g, out, x, axis, keepdims)


# The VJPs of sum and mean broadcast the (small) reduced cotangent back: a NumPy view and one
# scalar division, nothing to compile.  prod, cumsum and their VJPs are NumPy's cumulative
# products/sums along an axis (memory-bound loops NumPy already runs at full speed).  Shared with
# the reference on purpose; see SHARED_WITH_REFERENCE in backend.py.
sum_vjp = ref.sum_vjp
mean_vjp = ref.mean_vjp
prod = ref.prod
prod_vjp = ref.prod_vjp
cumsum = ref.cumsum
cumsum_vjp = ref.cumsum_vjp
argmax_vjp = ref.argmax_vjp
argmin_vjp = ref.argmin_vjp
