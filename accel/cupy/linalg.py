"""Linear-algebra primitives on CuPy arrays (as ``refkeras/primitives/linalg.py``)."""

from __future__ import annotations

import cupy as cp

# Pure subscript bookkeeping (strings and ndims), no array math: the reference's own helper.
from refkeras.primitives.linalg import _spell_out

from ._util import unbroadcast


def matmul(a, b):
    """y = a @ b, with NumPy's rules for 1-D operands and batch broadcasting.

    Shapes: ``(..., n, k) @ (..., k, m) -> (..., n, m)``.
    """
    return cp.matmul(a, b).astype(cp.result_type(a.dtype, b.dtype), copy=False)


def matmul_vjp(g, out, a, b):
    """da = g @ b^T, db = a^T @ g (summed over broadcast batch axes).

    A 1-D operand is a matrix with a unit axis, as in the forward (``(k,)`` is ``(1, k)`` on the
    left, ``(k, 1)`` on the right, the unit axis then dropped from the result); ``g`` gets that
    unit axis back so that both formulas apply unchanged.
    """
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g[..., None] if b.ndim == 1 else g
    g2 = cp.expand_dims(g2, -2) if a.ndim == 1 else g2
    da = cp.matmul(g2, cp.swapaxes(b2, -1, -2))
    db = cp.matmul(cp.swapaxes(a2, -1, -2), g2)
    da = unbroadcast(da, a2.shape).reshape(a.shape).astype(a.dtype, copy=False)
    return da, unbroadcast(db, b2.shape).reshape(b.shape).astype(b.dtype, copy=False)


def einsum(*operands, subscripts):
    """y = einsum(subscripts, *operands) for explicit subscripts (with ``->``); ``...`` and
    broadcasting of size-1 axes are allowed, repeated indices within one operand (traces,
    diagonals) only in the forward."""
    return cp.einsum(subscripts, *operands, optimize=True)


def einsum_vjp(g, out, *operands, subscripts):
    """Each operand's cotangent is another einsum: the output and the other operands contracted
    onto its subscripts.  Then it is summed over axes the forward broadcast (size 1 in the
    operand) and broadcast over subscripts that appear only in that operand (summed out)."""
    ins, res = _spell_out(subscripts, operands)
    grads = []
    for i, op in enumerate(operands):
        if len(set(ins[i])) != len(ins[i]):
            raise ValueError(f"einsum VJP does not support repeated indices: {subscripts!r}")
        others = [s for j, s in enumerate(ins) if j != i]
        other_ops = [o for j, o in enumerate(operands) if j != i]
        present = set(res).union(*others)
        kept = "".join(c for c in ins[i] if c in present)
        grad = cp.einsum(",".join([res, *others]) + "->" + kept, g, *other_ops, optimize=True)
        kept_shape = [n for c, n in zip(ins[i], op.shape) if c in present]
        grad = unbroadcast(grad, tuple(kept_shape))
        if kept != ins[i]:
            grad = grad.reshape([n if c in present else 1 for c, n in zip(ins[i], op.shape)])
            grad = cp.broadcast_to(grad, op.shape)
        grads.append(grad)
    return tuple(grads)
