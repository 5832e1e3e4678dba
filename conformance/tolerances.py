"""Every tolerance of the suite: per-dtype roundoff, bounds scaled by reduction length and
operand magnitudes, and the error/bound ratio a check reports.

A backend computes in dtype ``d`` (unit roundoff ``u = 2**-p``, ``p`` the significand bits:
float64 2^-53, float32 2^-24, float16 2^-11, bfloat16 2^-8); the reference computes the same
function in float64 on the same (exactly upcast) inputs.  For one output element ``y`` the
allowed error is

    bound = factor * ( ulps * (u * |y| + S)       rounding of the result and of elementwise steps
                       + u * n * M                 accumulation (Higham: |error| <= gamma_n M)
                       + ulps * tiny_d )           underflow: subnormals may flush to zero

* ``n`` is the number of terms summed into ``y`` and ``M`` its magnitude, e.g. ``(|a| @ |b|)``
  for ``a @ b``: the classical bound ``|fl(a.b) - a.b| <= n u |a|.|b|``;
* ``S = sum_k |f(.., x_k (1 + u), ..) - f(..)|`` over the float operands ``x_k``: the first-order
  effect of one rounding of each operand (it is what lets ``tanh_vjp = g (1 - out^2)`` lose
  accuracy when ``out`` is near 1, or ``subtract`` cancel);
* ``factor`` is 1 unless a declared deviation widens it.

``error = |y_backend - y_reference|`` and a check passes when ``max(error / bound) <= 1``
(:func:`error_ratio`).  Integer and boolean results, and :data:`ErrorModel.exact` ones, must be
equal.  NaN must meet NaN and infinities must match in sign; a float64 reference beyond the
largest finite value of ``d`` expects the infinity that correct rounding gives.

Finite differences (:func:`fd_bound`) have their own model, see there.
"""

from __future__ import annotations

import numpy as np

from conformance.registry import Case, ErrorModel

try:  # bfloat16 is not a NumPy dtype; ml_dtypes (a jax dependency) provides it
    import ml_dtypes
except ImportError:  # pragma: no cover - ml_dtypes is installed wherever bfloat16 is used
    ml_dtypes = None


def as_dtype(name) -> np.dtype:
    """``np.dtype`` for a name, including ``"bfloat16"`` (through ml_dtypes)."""
    if isinstance(name, str) and name == "bfloat16":
        if ml_dtypes is None:
            raise ImportError("bfloat16 needs the ml_dtypes package (pip install ml_dtypes)")
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _finfo(dtype):
    dtype = as_dtype(dtype)
    return ml_dtypes.finfo(dtype) if ml_dtypes is not None else np.finfo(dtype)


def is_float(dtype) -> bool:
    """True for float64/32/16 and bfloat16."""
    dtype = as_dtype(dtype)
    return dtype.kind == "f" or (ml_dtypes is not None and dtype == ml_dtypes.bfloat16)


def unit_roundoff(dtype) -> float:
    """``u = eps / 2``: the largest relative error of rounding a real number to ``dtype``."""
    return float(_finfo(dtype).eps) / 2


def tiny(dtype) -> float:
    """The smallest positive normal number of ``dtype``."""
    return float(_finfo(dtype).tiny)


def largest(dtype) -> float:
    return float(_finfo(dtype).max)


def _tuple(x) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def magnitude(model: ErrorModel, fn, arrays64: tuple, params: dict, ref: tuple) -> tuple:
    """``M`` for each output of ``fn`` (see the module docstring)."""
    if model.magnitude == "abs_output":
        return tuple(np.abs(_f64(r)) for r in ref)
    if model.magnitude == "max_abs_output":  # errors that spread across a whole array
        return tuple(np.full(np.shape(r), np.max(np.abs(_f64(r)), initial=0.0)) for r in ref)
    if model.magnitude == "abs_inputs":
        absolute = [
            np.abs(a) if a is not None and is_float(np.asarray(a).dtype) else a for a in arrays64
        ]
        return tuple(np.abs(_f64(m)) for m in _tuple(fn(*absolute, **params)))
    return tuple(np.abs(_f64(m)) for m in _tuple(model.magnitude(fn, arrays64, params)))


def sensitivity(fn, arrays64: tuple, params: dict, ref: tuple, u: float) -> tuple:
    """``S``: the summed change of every float output when each float operand in turn is scaled
    by ``1 + u``, computed in float64.  ``1 + 2**-53`` is not a float64, so the operand is scaled
    by ``1 + delta`` with ``delta = max(u, 2**-30)`` and the change by ``u / delta`` (first order:
    the change is linear in a perturbation that small)."""
    total = [np.zeros(np.shape(r)) for r in ref]
    delta = max(u, 2.0**-30)
    for k, a in enumerate(arrays64):
        if a is None or not is_float(np.asarray(a).dtype):
            continue
        moved = list(arrays64)
        moved[k] = a * (1 + delta)
        with np.errstate(all="ignore"):
            for i, (r, m) in enumerate(zip(ref, _tuple(fn(*moved, **params)))):
                if m is not None and is_float(np.asarray(r).dtype):
                    change = np.abs(_f64(m) - _f64(r)) * (u / delta)
                    total[i] = total[i] + np.where(np.isfinite(change), change, 0)
    return tuple(total)


def bound(
    model: ErrorModel,
    fn,
    arrays64: tuple,
    params: dict,
    ref: tuple,
    out_dtypes: tuple,
    case: Case,
    factor: float = 1.0,
    compute_dtype=None,
) -> tuple:
    """The allowed error of each output of ``fn(*arrays64, **params)`` returned in
    ``out_dtypes`` (one per output; non-float outputs get bound 0).  ``u`` is that of the output
    dtype or of ``compute_dtype`` (the inputs' float dtype), whichever is coarser: a result may
    be returned wider than it was computed (NumPy's bfloat16 matmul returns float32)."""
    if model.exact:
        return tuple(np.zeros(np.shape(r)) for r in ref)
    n = model.n_terms(case)
    mags = magnitude(model, fn, arrays64, params, ref) if n > 1 else None
    u_compute = unit_roundoff(compute_dtype) if compute_dtype and is_float(compute_dtype) else 0
    us = [
        max(unit_roundoff(d), u_compute) if d is not None and is_float(d) else 0.0
        for d in out_dtypes
    ]
    u_max = max(us, default=0.0)
    sens = sensitivity(fn, arrays64, params, ref, u_max) if model.sensitivity else None
    bounds = []
    for i, (r, d, u) in enumerate(zip(ref, out_dtypes, us)):
        if not u:
            bounds.append(np.zeros(np.shape(r)))
            continue
        with np.errstate(all="ignore"):
            b = model.ulps * (u * np.abs(_f64(r)) + (sens[i] if sens else 0) + tiny(d))
            if mags is not None:
                b = b + u * n * mags[i]
        bounds.append(factor * np.where(np.isfinite(b), b, np.inf))
    return tuple(bounds)


def error_ratio(actual, expected, allowed, dtype) -> tuple[float, str]:
    """``(max(|actual - expected| / allowed), where)`` for one output: ``actual`` is the
    backend's result (a NumPy array in ``dtype``), ``expected`` the float64 (or exact)
    reference, ``allowed`` from :func:`bound`.  Non-finite values must agree exactly (``inf``
    ratio otherwise); ``where`` describes the worst element."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if not is_float(dtype) or not is_float(expected.dtype):
        bad = actual != expected
        if np.any(bad):
            i = tuple(int(j) for j in np.argwhere(bad)[0])
            return np.inf, f"index {i}: got {actual[i]!r}, expected {expected[i]!r}"
        return 0.0, ""
    a, e = _f64(actual), _f64(expected)
    with np.errstate(over="ignore"):
        rounded = e.astype(as_dtype(dtype)).astype(np.float64)
    # Beyond the largest finite value, correct rounding gives +-inf.
    e = np.where(np.isfinite(e) & ~np.isfinite(rounded), rounded, e)
    mismatch = (np.isnan(a) != np.isnan(e)) | (np.isinf(e) & (a != e)) | (np.isinf(a) & (a != e))
    if np.any(mismatch):
        i = tuple(int(j) for j in np.argwhere(mismatch)[0])
        return np.inf, f"index {i}: got {a[i]!r}, expected {e[i]!r}"
    finite = np.isfinite(e) & np.isfinite(a)
    if not np.any(finite):
        return 0.0, ""
    with np.errstate(all="ignore"):
        err = np.where(finite, np.abs(a - e), 0.0)
        ratio = np.where(err == 0, 0.0, err / np.where(allowed > 0, allowed, 0.0))
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    worst = tuple(int(j) for j in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
    r = float(ratio[worst]) if ratio.ndim else float(ratio)
    detail = (
        f"index {worst}: got {a[worst]!r}, expected {e[worst]!r}, "
        f"error {err[worst]:.3g} > bound {np.asarray(allowed)[worst]:.3g}"
        if r > 1
        else ""
    )
    return r, detail


# --- finite differences ------------------------------------------------------------------------

#: central-difference step for float64 (about the cube root of 2^-53: truncation and roundoff
#: balance there)
FD_STEP = 2.0**-18


def fd_bound(d_h, d_2h, objective_scale, step: float = FD_STEP, factor: float = 1.0):
    """Allowed gap between an analytic VJP and the central difference ``d_h`` (step ``h``).

    Central differences err by ``h^2 f'''/6`` (truncation) plus ``u64 * F / h`` (roundoff of the
    objective ``F = sum |g * f|``).  Truncation is estimated from a second difference at ``2h``:
    ``|d_2h - d_h| ~ 3 h^2 |f'''|/6``, so ``bound = 4 (|d_2h - d_h| + u64 F / h) + 64 u64 |d_h|``.
    """
    u64 = unit_roundoff(np.float64)
    return factor * (
        4 * (np.abs(d_2h - d_h) + u64 * objective_scale / step) + 64 * u64 * np.abs(d_h)
    )
