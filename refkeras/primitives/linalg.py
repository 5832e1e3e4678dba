"""Linear-algebra primitives."""

from __future__ import annotations

import numpy as np

from refkeras.primitives._util import unbroadcast


def matmul(a, b):
    """y = a @ b, with NumPy's rules for 1-D operands and batch broadcasting.

    Shapes: ``(..., n, k) @ (..., k, m) -> (..., n, m)``.
    """
    return np.matmul(a, b)


def matmul_vjp(g, out, a, b):
    """da = g @ b^T, db = a^T @ g (summed over broadcast batch axes)."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    da = np.matmul(g2, np.swapaxes(b2, -1, -2))
    db = np.matmul(np.swapaxes(a2, -1, -2), g2)
    if a.ndim == 1:
        da = da.reshape(da.shape[:-2] + (a.shape[0],))
        da = da.reshape(-1, a.shape[0]).sum(0) if da.ndim > 1 else da
    if b.ndim == 1:
        db = db.reshape(db.shape[:-1])
        db = db.reshape(-1, b.shape[0]).sum(0) if db.ndim > 1 else db
    return unbroadcast(da, a.shape), unbroadcast(db, b.shape)


def einsum(*operands, subscripts):
    """y = einsum(subscripts, *operands) for explicit subscripts with ``->`` and no ellipsis."""
    return np.einsum(subscripts, *operands, optimize=True)


def einsum_vjp(g, out, *operands, subscripts):
    """Each operand's cotangent is another einsum: the output and the other operands contracted
    onto its subscripts (then broadcast for subscripts that appear only in that operand)."""
    ins, res = subscripts.replace(" ", "").split("->")
    ins = ins.split(",")
    grads = []
    for i, op in enumerate(operands):
        if len(set(ins[i])) != len(ins[i]):
            raise ValueError(f"einsum VJP does not support repeated indices: {subscripts!r}")
        others = [s for j, s in enumerate(ins) if j != i]
        other_ops = [o for j, o in enumerate(operands) if j != i]
        present = set(res).union(*others)
        kept = "".join(c for c in ins[i] if c in present)
        grad = np.einsum(",".join([res, *others]) + "->" + kept, g, *other_ops, optimize=True)
        if kept != ins[i]:
            grad = grad.reshape([n if c in present else 1 for c, n in zip(ins[i], op.shape)])
            grad = np.broadcast_to(grad, op.shape)
        grads.append(grad)
    return tuple(grads)
