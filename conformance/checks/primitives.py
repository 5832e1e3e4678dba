"""Checks of the primitives: (a) ``forward`` against the float64 reference, (b) ``vjp``, the
backend's VJP against the float64 reference VJP with a random cotangent, and (c) ``vjp_fd``,
the reference VJP against central finite differences in float64 (the oracle checked from
outside; it does not involve the backend).

Inputs are drawn in the record's dtype; the reference runs on their exact float64 upcasts.  The
backend must also return what the reference returns *in that dtype*: the same structure, shapes
and dtypes (checked first, ratio ``inf`` on a mismatch).
"""

from __future__ import annotations

import zlib

import numpy as np

from conformance import tolerances as tol
from conformance.checks import Check, Context, Outcome
from conformance.tolerances import as_dtype, is_float


def _tuple(x) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _reference(name: str) -> tuple:
    from refkeras.primitives.interface import reference_table

    return reference_table()[name]


def upcast(arrays) -> tuple:
    """Float arrays as float64 (exact), everything else unchanged."""
    return tuple(
        np.asarray(a, np.float64) if a is not None and is_float(np.asarray(a).dtype) else a
        for a in arrays
    )


def to_backend(backend, arrays) -> tuple:
    return tuple(None if a is None else backend.asarray(a) for a in arrays)


def to_numpy(backend, values) -> tuple:
    return tuple(None if v is None else np.asarray(backend.to_numpy(v)) for v in values)


def _dtype_of(a):
    return None if a is None else np.asarray(a).dtype


def structure_mismatch(what: str, got: tuple, expected: tuple) -> str:
    """'' when ``got`` has the structure, shapes and dtypes of ``expected``, else why not."""
    if len(got) != len(expected):
        return f"{what}: {len(got)} values, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        if (g is None) != (e is None):
            return f"{what}[{i}]: got {'None' if g is None else 'an array'}, expected " + (
                "None" if e is None else "an array"
            )
        if g is None:
            continue
        if np.shape(g) != np.shape(e):
            return f"{what}[{i}]: shape {np.shape(g)}, expected {np.shape(e)}"
        if _dtype_of(g) != _dtype_of(e):
            return f"{what}[{i}]: dtype {_dtype_of(g)}, expected {_dtype_of(e)}"
    return ""


def compare(got: tuple, ref64: tuple, allowed: tuple, dtypes: tuple, what: str) -> Outcome:
    """The worst error/bound ratio over the outputs (``None`` entries skipped)."""
    worst = Outcome(0.0)
    for i, (g, r, b, d) in enumerate(zip(got, ref64, allowed, dtypes)):
        if g is None:
            continue
        ratio, detail = tol.error_ratio(g, r, b, d)
        if ratio > worst.ratio or (ratio == worst.ratio == np.inf and not worst.detail):
            worst = Outcome(ratio, f"{what}[{i}] {detail}" if detail else "")
    return worst


def cotangent(out: tuple, case) -> tuple:
    """A standard-normal cotangent for each float output (``None`` for the others), seeded from
    the inputs' bytes so that a saved case reproduces it."""
    crc = 0
    for a in case.arrays:
        if a is not None:
            crc = zlib.crc32(np.ascontiguousarray(a).view(np.uint8).tobytes(), crc)
    rng = np.random.default_rng(crc)
    return tuple(
        rng.standard_normal(np.shape(o)).astype(o.dtype) if is_float(o.dtype) else None for o in out
    )


def _flat_vjp(ref_vjp, n_out: int, tuple_out: bool, params: dict):
    """``f(*g, *out, *arrays)`` -> the reference VJP's cotangents (flat arguments, so that the
    tolerance module can perturb and upcast each one)."""

    def f(*args, **_):
        g, out, arrays = args[:n_out], args[n_out : 2 * n_out], args[2 * n_out :]
        if not tuple_out:
            g, out = g[0], out[0]
        return tuple(ref_vjp(g, out, *arrays, **params))

    return f


class Forward(Check):
    """(a) the backend's forward against the reference in float64."""

    name = "forward"

    def run(self, record, ctx: Context, case, dtype, factor: float = 1.0) -> Outcome:
        ref_fwd, _ = _reference(record.target)
        fwd, _ = ctx.primitives()[record.target]
        expected = _tuple(ref_fwd(*case.arrays, **case.params))
        arrays64 = upcast(case.arrays)
        ref64 = _tuple(ref_fwd(*arrays64, **case.params))
        got = to_numpy(
            ctx.backend, _tuple(fwd(*to_backend(ctx.backend, case.arrays), **case.params))
        )
        mismatch = structure_mismatch("output", got, expected)
        if mismatch:
            return Outcome(np.inf, mismatch)
        dtypes = tuple(e.dtype for e in expected)
        allowed = tol.bound(
            record.error, ref_fwd, arrays64, case.params, ref64, dtypes, case, factor, dtype
        )
        return compare(got, ref64, allowed, dtypes, "output")


class Vjp(Check):
    """(b) the backend's VJP (fed its own forward output) against the float64 reference VJP,
    with a random cotangent."""

    name = "vjp"

    def run(self, record, ctx: Context, case, dtype, factor: float = 1.0) -> Outcome:
        ref_fwd, ref_vjp = _reference(record.target)
        fwd, vjp = ctx.primitives()[record.target]
        b = ctx.backend
        out_d = ref_fwd(*case.arrays, **case.params)
        tuple_out = isinstance(out_d, tuple)
        out_d = _tuple(out_d)
        g = cotangent(out_d, case)
        n = len(out_d)
        arrays_b = to_backend(b, case.arrays)
        out_b = fwd(*arrays_b, **case.params)
        g_b = to_backend(b, g)
        got = vjp(g_b if tuple_out else g_b[0], out_b, *arrays_b, **case.params)
        if not isinstance(got, tuple):
            return Outcome(np.inf, f"the VJP returned {type(got).__name__}, expected a tuple")
        got = to_numpy(b, got)
        if all(e is None for e in g):  # nothing differentiable: every cotangent is None
            bad = [i for i, c in enumerate(got) if c is not None]
            if len(got) != len(case.arrays) or bad:
                return Outcome(np.inf, f"expected {len(case.arrays)} None cotangents, got {got}")
            return Outcome(0.0)
        expected = _tuple(
            ref_vjp(
                g if tuple_out else g[0],
                _tuple(out_d) if tuple_out else out_d[0],
                *case.arrays,
                **case.params,
            )
        )
        mismatch = structure_mismatch("cotangent", got, expected)
        if mismatch:
            return Outcome(np.inf, mismatch)
        out64 = _tuple(ref_fwd(*upcast(case.arrays), **case.params))
        flat = upcast((*g, *out64, *case.arrays))
        f = _flat_vjp(ref_vjp, n, tuple_out, case.params)
        ref64 = f(*flat)
        dtypes = tuple(None if e is None else e.dtype for e in expected)
        model = record.vjp_error or record.error
        allowed = tol.bound(
            model, f, flat, case.params, _fill_none(ref64), dtypes, case, factor, dtype
        )
        return compare(got, ref64, allowed, dtypes, "cotangent")


def _fill_none(values: tuple) -> tuple:
    return tuple(np.zeros(()) if v is None else v for v in values)


class VjpFiniteDifferences(Check):
    """(c) the reference VJP against central finite differences of the reference forward, all
    in float64 (see :func:`conformance.tolerances.fd_bound`).  The backend is not involved."""

    name = "vjp_fd"
    examples_scale = 0.5

    def dtypes(self, record) -> tuple[str, ...]:
        return ("float64",)

    def strategy(self, record, dtype):
        return (record.fd_strategy or record.strategy)(as_dtype("float64"))

    def run(self, record, ctx: Context, case, dtype, factor: float = 1.0) -> Outcome:
        ref_fwd, ref_vjp = _reference(record.target)
        arrays = upcast(case.arrays)
        out = ref_fwd(*arrays, **case.params)
        tuple_out = isinstance(out, tuple)
        g = cotangent(_tuple(out), case)
        got = ref_vjp(g if tuple_out else g[0], out, *arrays, **case.params)
        if len(got) != len(arrays):
            return Outcome(np.inf, f"{len(got)} cotangents for {len(arrays)} inputs")
        floats = [i for i, a in enumerate(arrays) if a is not None and is_float(a.dtype)]
        if all(e is None for e in g):
            bad = [c for c in got if c is not None]
            return Outcome(np.inf, "expected None cotangents") if bad else Outcome(0.0)
        worst = Outcome(0.0)
        scale = sum(
            float(np.sum(np.abs(gi * o))) for gi, o in zip(g, _tuple(out)) if gi is not None
        )

        def objective(args):
            outs = _tuple(ref_fwd(*args, **case.params))
            return sum(float(np.sum(gi * o)) for gi, o in zip(g, outs) if gi is not None)

        for i, a in enumerate(arrays):
            if i not in floats:
                if got[i] is not None:
                    return Outcome(np.inf, f"non-float input {i} got a cotangent")
                continue
            d_h, d_2h = _central(objective, arrays, i, tol.FD_STEP)
            analytic = np.zeros(a.shape) if got[i] is None else np.asarray(got[i], np.float64)
            if analytic.shape != a.shape:
                return Outcome(np.inf, f"cotangent {i}: shape {analytic.shape} != {a.shape}")
            allowed = tol.fd_bound(d_h, d_2h, scale, factor=factor)
            ratio, detail = tol.error_ratio(analytic, d_h, allowed, np.float64)
            if ratio > worst.ratio:
                worst = Outcome(ratio, f"cotangent[{i}] vs finite differences: {detail}")
        return worst


def _central(objective, arrays, i, h):
    """Central differences of ``objective`` w.r.t. every element of ``arrays[i]`` with steps
    ``h`` and ``2h``."""
    a = arrays[i]
    d_h, d_2h = np.zeros(a.shape), np.zeros(a.shape)
    args = list(arrays)
    for idx in np.ndindex(a.shape):
        values = []
        for step in (h, -h, 2 * h, -2 * h):
            moved = a.copy()
            moved[idx] += step
            args[i] = moved
            values.append(objective(args))
        d_h[idx] = (values[0] - values[1]) / (2 * h)
        d_2h[idx] = (values[2] - values[3]) / (4 * h)
    return d_h, d_2h


CHECKS = [Forward(), Vjp(), VjpFiniteDifferences()]
