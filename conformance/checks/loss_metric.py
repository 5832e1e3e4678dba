"""Loss and metric checks.

- ``loss_value`` / ``loss_grad``: the loss (every reduction, with or without ``sample_weight``)
  and its gradient with respect to ``y_pred`` on the backend, in the case's dtype, against the
  float64 reference on the same (rounded) values.
- ``loss_fd``: the reference's gradient against central finite differences in float64.
- ``loss_config`` / ``metric_config``: ``from_config(get_config())`` has the same config and gives
  the same value bit for bit.
- ``metric_result``: ``update_state`` over several batches, then ``result()`` and every metric
  variable, backend against the float64 reference.

Bounds as in ``checks/layer.py``: ``8 eps sqrt(n) max|ref|`` plus 4 times the reference's change
when the inputs move by a relative ``eps`` (the sensitivity).
"""

from __future__ import annotations

import inspect

import numpy as np

from conformance import tolerances as tol
from conformance.checks.layer import _max_abs, _perturbed, on, with_dtype
from conformance.components import Comparison, LossCase, make_values
from refkeras import backend as B
from refkeras import losses, ops
from refkeras.autodiff import GradientTape

FD_EPS = tol.FD_STEP


def _resolve(kwargs: dict) -> dict:
    out = dict(kwargs)
    if isinstance(out.get("fn"), str):
        out["fn"] = getattr(losses, out["fn"])
    return out


def make(cls, case: LossCase, dtype: str):
    return cls(**_resolve(case.kwargs), dtype=dtype)


def make_batch(case: LossCase, index: int = 0) -> list:
    """``[y_true, y_pred, sample_weight or None]`` for batch ``index``, rounded to the case's
    dtype (then float64: the reference sees exactly the backend's values)."""
    base = 3 * index
    y_true = make_values(case.y_true, case.seed, "float64", salt=base)
    y_pred = make_values(case.y_pred, case.seed, "float64", salt=base + 1)
    sw = None
    if case.sample_weight:
        # one weight per value of the per-sample loss (the last axis is reduced), as Keras
        # requires: (batch,) for rank-2 predictions, () for rank 1
        shape = case.y_pred.shape[:-1]
        sw = np.random.default_rng([case.seed, base + 2]).uniform(0, 2, shape)
    arrays = [y_true, y_pred, sw]
    return [
        None if a is None else (a.astype(case.dtype).astype(np.float64) if a.dtype.kind == "f"
                                else a)
        for a in arrays
    ]  # fmt: skip


def _cast(arrays, dtype):
    return [None if a is None else (a.astype(dtype) if a.dtype.kind == "f" else a) for a in arrays]


def from_config(cls, config: dict, dtype: str):
    """``cls.from_config`` in ``dtype``.  A loss's config has no dtype (as in Keras), so it is
    passed to the constructor."""
    if "dtype" in config:
        return cls.from_config(with_dtype(config, dtype))
    return cls.from_config({**config, "dtype": dtype})


# --- losses ---------------------------------------------------------------------------------------


def loss_value_and_grad(loss, arrays, cot_seed: int, backend=None) -> tuple:
    """The loss value and ``d <cot, loss> / d y_pred`` (NumPy), on ``backend``."""
    with on(backend):
        be = B.active()
        y_true, y_pred, sw = (None if a is None else ops.convert_to_tensor(be.asarray(a))
                              for a in arrays)  # fmt: skip
        with GradientTape() as tape:
            tape.watch(y_pred)
            value = loss(y_true, y_pred, sample_weight=sw)
            cot = np.random.default_rng([cot_seed, 5]).standard_normal(tuple(value.shape))
            total = ops.sum(value * ops.cast(be.asarray(cot), value.dtype))
        grad = tape.gradient(total, y_pred)
        grad = np.zeros(np.shape(arrays[1])) if grad is None else B.to_numpy(grad)
        return B.to_numpy(value), grad


def check_loss(cls, case: LossCase, backend) -> Comparison:
    """``loss_value`` and ``loss_grad`` of one case."""
    with on(None):
        ref = make(cls, case, "float64")
        config = ref.get_config()
    arrays = make_batch(case)
    e_value, e_grad = loss_value_and_grad(ref, arrays, case.seed)
    moved = [arrays[0]] + _perturbed(arrays[1:2], case.dtype, case.seed) + [arrays[2]]
    if arrays[0].dtype.kind == "f":
        moved[0] = _perturbed([arrays[0]], case.dtype, case.seed + 1)[0]
    m_value, m_grad = loss_value_and_grad(ref, moved, case.seed)
    # the terms' magnitude: the reference on |y_true|, |y_pred| (Higham's |a| @ |b|)
    absolute = [None if a is None else (np.abs(a) if a.dtype.kind == "f" else a) for a in arrays]
    abs_value, abs_grad = loss_value_and_grad(ref, absolute, case.seed)
    with on(backend):
        loss = from_config(cls, config, case.dtype)
    a_value, a_grad = loss_value_and_grad(loss, _cast(arrays, case.dtype), case.seed, backend)
    with on(None):  # the reference itself in the case's dtype
        same = from_config(cls, config, case.dtype)
    s_value, s_grad = loss_value_and_grad(same, _cast(arrays, case.dtype), case.seed)
    comp = Comparison()
    n = int(np.prod(case.y_pred.shape))
    comp.check("value", a_value, e_value, case.dtype, n, moved=m_value,
               magnitude=_max_abs(abs_value), in_dtype=s_value)  # fmt: skip
    comp.check("grad y_pred", a_grad, e_grad, case.dtype, n, moved=m_grad,
               magnitude=_max_abs(abs_grad), in_dtype=s_grad)  # fmt: skip
    return comp


def check_loss_fd(cls, case: LossCase) -> Comparison:
    """``loss_fd``: the float64 reference gradient wrt ``y_pred`` against central differences."""
    with on(None):
        ref = make(cls, case, "float64")
    arrays = make_batch(case)
    _, grad = loss_value_and_grad(ref, arrays, case.seed)
    y_pred = arrays[1]
    with on(None):
        value = np.asarray(B.to_numpy(ref(*arrays[:2], sample_weight=arrays[2])))
        cot = np.random.default_rng([case.seed, 5]).standard_normal(value.shape)
        scale = [0.0]

        def objective(p):
            v = np.asarray(B.to_numpy(ref(arrays[0], p, sample_weight=arrays[2])), np.float64)
            # intermediate terms are of order 1 at least (log 2, clip bounds, 1 - p): their
            # roundoff, not only the objective's, reaches the differences
            scale[0] = max(scale[0], float(np.sum(np.abs(v * cot)) + np.sum(np.abs(cot))))
            return float(np.sum(v * cot))

        def differences(step):
            numeric = np.zeros_like(y_pred)
            for idx in np.ndindex(y_pred.shape):
                up, down = y_pred.copy(), y_pred.copy()
                up[idx] += step
                down[idx] -= step
                numeric[idx] = (objective(up) - objective(down)) / (2 * step)
            return numeric

        d_h, d_2h = differences(FD_EPS), differences(2 * FD_EPS)
    comp = Comparison()
    r, detail = tol.error_ratio(grad, d_h, tol.fd_bound(d_h, d_2h, scale[0]), "float64")
    comp.ratios["grad y_pred vs finite differences"] = r
    if detail:
        comp.details["grad y_pred vs finite differences"] = detail
    return comp


def check_config(cls, case: LossCase, kind: str) -> Comparison:
    """``loss_config`` / ``metric_config``: same config after the round trip, same value."""
    with on(None):
        obj = make(cls, case, "float64")
        config = obj.get_config()
        clone = cls.from_config(config)
        if clone.get_config() != config:
            raise AssertionError(
                f"config round trip changed the config:\n{config}\n!=\n{clone.get_config()}"
            )
        clone = from_config(cls, config, "float64")
    comp = Comparison()
    if kind == "loss":
        a = loss_value_and_grad(obj, make_batch(case), case.seed)
        b = loss_value_and_grad(clone, make_batch(case), case.seed)
    else:
        a, b = metric_run(obj, case), metric_run(clone, case)
    for i, (x, y) in enumerate(zip(a, b)):
        comp.exact(f"clone {i}", y, x)
    return comp


# --- metrics --------------------------------------------------------------------------------------


def metric_run(metric, case: LossCase, backend=None, dtype=None, perturb=False) -> list:
    """``result()`` then every metric variable after ``case.batches`` ``update_state`` calls."""
    with on(backend):
        be = B.active()
        for b in range(case.batches):
            arrays = make_batch(case, b)
            if perturb:
                arrays = [arrays[0]] + _perturbed(arrays[1:2], case.dtype, case.seed + b) + [
                    arrays[2]]  # fmt: skip
            if dtype is not None:
                arrays = _cast(arrays, dtype)
            y_true, y_pred, sw = (None if a is None else be.asarray(a) for a in arrays)
            if "y_pred" not in inspect.signature(metric.update_state).parameters:
                # Mean, Sum: update_state(values, sample_weight)
                metric.update_state(y_pred, sample_weight=sw)
            else:
                metric.update_state(y_true, y_pred, sample_weight=sw)
        result = B.to_numpy(metric.result())
        return [result] + [B.to_numpy(v) for v in metric.variables]


def check_metric(cls, case: LossCase, backend) -> Comparison:
    """``metric_result`` of one case."""
    with on(None):
        ref = make(cls, case, "float64")
        config = ref.get_config()
        moved_metric = from_config(cls, config, "float64")
    expected = metric_run(ref, case)
    moved = metric_run(moved_metric, case, perturb=True)
    with on(backend):
        metric = from_config(cls, config, case.dtype)
    actual = metric_run(metric, case, backend, case.dtype)
    with on(None):
        same_metric = from_config(cls, config, case.dtype)
    same = metric_run(same_metric, case, None, case.dtype)
    comp = Comparison()
    n = case.batches * int(np.prod(case.y_pred.shape))
    names = ["result"] + [f"variable[{i}]" for i in range(len(expected) - 1)]
    for name, a, e, m, sd in zip(names, actual, expected, moved, same, strict=True):
        comp.check(name, a, e, case.dtype, n, moved=m, in_dtype=sd)
    return comp
