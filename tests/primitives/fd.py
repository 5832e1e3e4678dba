"""Finite-difference checking of the reference primitives' VJPs (shared by the primitive tests).

``numeric_vjp(f, arrays, g)`` estimates ``<g, df/da>`` for every float array ``a`` by central
differences in float64; ``check_vjp(name, arrays, params)`` compares the VJP registered for
primitive ``name`` in :func:`refkeras.primitives.interface.reference_table` against it, with a
random cotangent ``g``.
"""

from __future__ import annotations

import numpy as np

from refkeras.primitives.interface import reference_table

EPS = 1e-6
TABLE = reference_table()


def is_float(a) -> bool:
    return np.issubdtype(np.asarray(a).dtype, np.floating)


def _as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def numeric_vjp(f, arrays, g, eps: float = EPS) -> list:
    """``<g, df/da>`` for each float array ``a`` of ``arrays`` (``None`` for the others).

    ``f(*arrays)`` returns an array or a tuple of arrays; ``g`` matches it.  Each element of each
    float input is nudged by ``±eps`` (float64) and the change of ``sum(g * f)`` is divided by
    ``2 eps``.
    """
    gs = _as_tuple(g)
    arrays = [np.array(a, dtype=np.float64) if is_float(a) else a for a in arrays]

    def objective(args):
        outs = _as_tuple(f(*args))
        return sum(float(np.sum(gi * np.asarray(o, np.float64))) for gi, o in zip(gs, outs))

    grads = []
    for i, a in enumerate(arrays):
        if not is_float(a):
            grads.append(None)
            continue
        grad = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            args = list(arrays)
            plus, minus = a.copy(), a.copy()
            plus[idx] += eps
            minus[idx] -= eps
            args[i] = plus
            up = objective(args)
            args[i] = minus
            grad[idx] = (up - objective(args)) / (2 * eps)
        grads.append(grad)
    return grads


def random_cotangent(out, seed: int = 0):
    """A random cotangent shaped like ``out`` (a float array or a tuple of them)."""
    rng = np.random.default_rng(seed)
    gs = tuple(rng.normal(size=np.shape(o)).astype(np.asarray(o).dtype) for o in _as_tuple(out))
    return gs if isinstance(out, tuple) else gs[0]


def check_vjp(name: str, arrays, params=None, rtol: float = 1e-6, atol: float = 1e-8, seed=0):
    """Assert that primitive ``name``'s VJP equals finite differences of its forward.

    Float ``arrays`` are converted to float64; integer and boolean arrays (indices, masks,
    conditions) are passed unchanged and must receive a ``None`` cotangent, as must every input of
    a primitive without a float output (comparisons, ``isnan``, ``argmax``).  Also checks that the
    VJP returns one cotangent per positional array, each with its input's shape and dtype.
    Returns the VJP's cotangents.
    """
    params = params or {}
    forward, vjp = TABLE[name]
    arrays = [np.array(a, dtype=np.float64) if is_float(a) else np.asarray(a) for a in arrays]
    out = forward(*arrays, **params)
    g = random_cotangent(out, seed)
    grads = vjp(g, out, *arrays, **params)
    assert isinstance(grads, tuple), f"{name}_vjp must return a tuple"
    assert len(grads) == len(arrays), f"{name}_vjp returned {len(grads)} cotangents"
    if not any(is_float(o) for o in _as_tuple(out)):
        assert all(gi is None for gi in grads), f"{name} is not differentiable: expected Nones"
        return grads
    expected = numeric_vjp(lambda *a: forward(*a, **params), arrays, g)
    for k, (ours, theirs, a) in enumerate(zip(grads, expected, arrays)):
        if theirs is None:
            assert ours is None, f"{name}: non-float input {k} must get a None cotangent"
            continue
        assert ours is not None, f"{name}: input {k} got no cotangent"
        ours = np.asarray(ours)
        assert ours.shape == a.shape, f"{name}: cotangent {k} shape {ours.shape} != {a.shape}"
        assert ours.dtype == a.dtype, f"{name}: cotangent {k} dtype {ours.dtype} != {a.dtype}"
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=f"{name} input {k}")
    return grads


def check_dtype_preserved(name: str, arrays, params=None, dtype=np.float32):
    """Assert that with ``dtype`` float inputs the forward's float outputs and the VJP's
    cotangents are ``dtype`` too (no silent promotion to float64)."""
    params = params or {}
    forward, vjp = TABLE[name]
    arrays = [np.asarray(a).astype(dtype) if is_float(a) else np.asarray(a) for a in arrays]
    out = forward(*arrays, **params)
    for o in _as_tuple(out):
        if is_float(o):
            assert o.dtype == dtype, f"{name} forward gave {o.dtype} for {np.dtype(dtype)} inputs"
    g = random_cotangent(out)
    grads = vjp(g, out, *arrays, **params)
    for k, (gi, a) in enumerate(zip(grads, arrays)):
        if gi is not None and is_float(a):
            assert np.asarray(gi).dtype == dtype, f"{name}_vjp cotangent {k}: {gi.dtype}"
