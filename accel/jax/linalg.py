"""Linear-algebra primitives in ``jax.numpy``: matmul and einsum (mirrors
:mod:`refkeras.primitives.linalg`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from accel.jax._util import as_dtype, numpy_dtype, unbroadcast

# Pure string manipulation of the subscripts (no array math): shared with the reference.
from refkeras.primitives.linalg import _spell_out

# Full float32/float64 precision on every device (TPUs and GPUs would otherwise use bf16/tf32
# passes for float32 matmuls and drift from the reference).
_PRECISION = jax.lax.Precision.HIGHEST


def matmul(a, b):
    """y = a @ b, with NumPy's rules for 1-D operands, batch broadcasting and dtypes.

    Shapes: ``(..., n, k) @ (..., k, m) -> (..., n, m)``.
    """
    dt = numpy_dtype(np.add, a, b)  # matmul promotes like add (np.matmul needs 1-D dummies)
    return jnp.matmul(as_dtype(a, dt), as_dtype(b, dt), precision=_PRECISION)


def matmul_vjp(g, out, a, b):
    """da = g @ b^T, db = a^T @ g (summed over broadcast batch axes); a 1-D operand is a matrix
    with a unit axis, as in the reference."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g[..., None] if b.ndim == 1 else g
    g2 = jnp.expand_dims(g2, -2) if a.ndim == 1 else g2
    da = jnp.matmul(g2, jnp.swapaxes(b2, -1, -2), precision=_PRECISION)
    db = jnp.matmul(jnp.swapaxes(a2, -1, -2), g2, precision=_PRECISION)
    return unbroadcast(da, a2.shape).reshape(a.shape), unbroadcast(db, b2.shape).reshape(b.shape)


def einsum(*operands, subscripts):
    """y = einsum(subscripts, *operands) for explicit subscripts (with ``->``), in NumPy's
    result dtype."""
    dt = np.result_type(*(o.dtype for o in operands))
    ops = [as_dtype(o, dt) for o in operands]
    return jnp.einsum(subscripts, *ops, precision=_PRECISION)


def einsum_vjp(g, out, *operands, subscripts):
    """Each operand's cotangent is another einsum (see the reference), then unbroadcast."""
    ins, res = _spell_out(subscripts, operands)
    grads = []
    for i, op in enumerate(operands):
        if len(set(ins[i])) != len(ins[i]):
            raise ValueError(f"einsum VJP does not support repeated indices: {subscripts!r}")
        others = [s for j, s in enumerate(ins) if j != i]
        other_ops = [o for j, o in enumerate(operands) if j != i]
        present = set(res).union(*others)
        kept = "".join(c for c in ins[i] if c in present)
        spec = ",".join([res, *others]) + "->" + kept
        grad = jnp.einsum(spec, g, *other_ops, precision=_PRECISION)
        kept_shape = [n for c, n in zip(ins[i], op.shape) if c in present]
        grad = unbroadcast(grad, tuple(kept_shape))
        if kept != ins[i]:
            grad = grad.reshape([n if c in present else 1 for c, n in zip(ins[i], op.shape)])
            grad = jnp.broadcast_to(grad, op.shape)
        grads.append(grad)
    return tuple(grads)
