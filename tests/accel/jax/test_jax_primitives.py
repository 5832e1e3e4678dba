"""Every JAX primitive against the NumPy reference: forward (values and exact dtypes) and VJP
with a random cotangent, in float32 and float64; and every primitive traceable by ``jax.jit``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax_cases import CASES, params_of
from jax_cases_windows import WINDOW_CASES

from accel.jax import JaxBackend
from refkeras.primitives.interface import ALL_PRIMITIVES, reference_table

REF = reference_table()
JAX = JaxBackend().primitives()
TOL = {np.dtype("float64"): (1e-10, 1e-12), np.dtype("float32"): (2e-5, 2e-6),
       np.dtype("float16"): (2e-3, 2e-3)}  # fmt: skip


def _as(arrays, dtype):
    return [a.astype(dtype) if a.dtype == np.float32 else a for a in arrays]


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _assert_same(got, want, what):
    assert (got is None) == (want is None), f"{what}: got {got!r}, want {want!r}"
    if want is None:
        return
    want = np.asarray(want)
    got_np = np.asarray(got)
    assert isinstance(got, jax.Array), f"{what}: not a jax.Array but {type(got)}"
    assert got_np.dtype == want.dtype, f"{what}: dtype {got_np.dtype}, reference {want.dtype}"
    assert got_np.shape == want.shape, f"{what}: shape {got_np.shape}, reference {want.shape}"
    if want.dtype.kind in "fc":
        rtol, atol = TOL.get(want.dtype, (1e-5, 1e-6))
        finite = np.abs(want[np.isfinite(want)])
        scale = max(1.0, float(finite.max(initial=0.0)))
        np.testing.assert_allclose(got_np, want, rtol=rtol, atol=atol * scale, err_msg=what)
    else:
        np.testing.assert_array_equal(got_np, want, err_msg=what)


def _cotangents(outs, seed=0):
    r = np.random.default_rng(seed)
    return tuple(r.normal(size=o.shape).astype(o.dtype) for o in outs)


def _differentiable(outs) -> bool:
    return all(np.asarray(o).dtype.kind == "f" for o in outs)


def test_every_primitive_has_a_case():
    covered = {c[0] for c in CASES + WINDOW_CASES}
    assert set(ALL_PRIMITIVES) - covered == set()


def test_every_primitive_is_implemented_in_accel_jax():
    """No fallback: every forward and VJP is a function of an ``accel.jax`` module."""
    for name in ALL_PRIMITIVES:
        forward, vjp = JAX[name]
        for fn in (forward, vjp):
            assert fn.__module__.startswith("accel.jax."), (name, fn.__module__)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,arrays,params", params_of(CASES))
def test_matches_reference(name, arrays, params, dtype):
    arrays = _as(arrays, dtype)
    ref_fwd, ref_vjp = REF[name]
    fwd, vjp = JAX[name]
    want = ref_fwd(*arrays, **params)
    got = fwd(*[jnp.asarray(a) for a in arrays], **params)
    for i, (o, w) in enumerate(zip(_tuple(got), _tuple(want))):
        _assert_same(o, w, f"{name} output {i}")
    if not _differentiable(_tuple(want)):
        return
    g = _cotangents(_tuple(want))
    g_ref = g if isinstance(want, tuple) else g[0]
    want_ct = ref_vjp(g_ref, want, *arrays, **params)
    g_jax = tuple(jnp.asarray(x) for x in g)
    got_ct = vjp(
        g_jax if isinstance(want, tuple) else g_jax[0],
        tuple(jnp.asarray(w) for w in want) if isinstance(want, tuple) else jnp.asarray(want),
        *[jnp.asarray(a) for a in arrays],
        **params,
    )
    assert len(got_ct) == len(want_ct) >= len(arrays)  # rnn VJPs always end with the mask's None
    for i, (c, w) in enumerate(zip(got_ct, want_ct)):
        _assert_same(c, w, f"{name} cotangent {i}")


def check_jit(name, arrays, params):
    """Forward and VJP of ``name`` compiled by ``jax.jit`` (params static, arrays traced) give
    the eager results."""
    fwd, vjp = JAX[name]
    xs = [jnp.asarray(a) for a in arrays]
    eager = fwd(*xs, **params)
    jitted = jax.jit(lambda *a: fwd(*a, **params))(*xs)
    for o, e in zip(_tuple(jitted), _tuple(eager)):
        np.testing.assert_allclose(np.asarray(o), np.asarray(e), rtol=1e-6, atol=1e-6)
        assert o.dtype == e.dtype
    if not _differentiable(_tuple(eager)):
        return
    g = tuple(jnp.asarray(x) for x in _cotangents(_tuple(eager)))
    g = g if isinstance(eager, tuple) else g[0]
    eager_ct = vjp(g, eager, *xs, **params)
    jit_ct = jax.jit(lambda g, out, *a: vjp(g, out, *a, **params))(g, eager, *xs)
    for c, e in zip(jit_ct, eager_ct):
        assert (c is None) == (e is None)
        if e is not None:
            np.testing.assert_allclose(np.asarray(c), np.asarray(e), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,arrays,params", params_of(CASES))
def test_traceable_by_jit(name, arrays, params):
    check_jit(name, arrays, params)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,arrays,params", params_of(WINDOW_CASES))
def test_window_primitives_match_reference(name, arrays, params, dtype):
    test_matches_reference(name, arrays, params, dtype)


@pytest.mark.parametrize("name,arrays,params", params_of(WINDOW_CASES))
def test_window_primitives_traceable_by_jit(name, arrays, params):
    check_jit(name, arrays, params)
