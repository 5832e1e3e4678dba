"""The component checks as :class:`~conformance.checks.Check` objects, and the bridge from
:class:`~conformance.components.ComponentRecord` (layers, losses, metrics, optimizers, schedules,
fused kernels, fit runs) to the registry's :class:`~conformance.registry.Record`.

A component case (a dataclass describing inputs by shape, pattern and seed) travels inside a
registry :class:`~conformance.registry.Case` as ``params={"case": <plain dict>}``, so the report
prints it and a repro file stores it without pickling.  Each check turns the case back into its
dataclass, runs the function of ``checks/layer.py``, ``loss_metric.py``, ``optimizer.py``,
``fused.py`` or ``fit.py`` and reports the worst error/bound ratio (a declared deviation's
``factor`` widens every bound).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from conformance import components as C
from conformance.checks import Check, Context, Outcome
from conformance.registry import Case, Record

# --- records --------------------------------------------------------------------------------------

_CASE_TYPES = {t.__name__: t for t in (C.InputSpec, C.LayerCase, C.LossCase, C.OptimizerCase,
                                       C.ScheduleCase, C.FusedCase, C.FitCase)}  # fmt: skip


def encode(value):
    """A component case as plain dicts/tuples (``{"__case__": type name, fields...}``)."""
    if dataclasses.is_dataclass(value):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__case__": type(value).__name__, **fields}
    if isinstance(value, tuple):
        return tuple(encode(v) for v in value)
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(value):
    if isinstance(value, dict) and "__case__" in value:
        fields = {k: decode(v) for k, v in value.items() if k != "__case__"}
        return _CASE_TYPES[value["__case__"]](**fields)
    if isinstance(value, tuple):
        return tuple(decode(v) for v in value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


def _wrap(case, dtype) -> Case:
    if hasattr(case, "dtype") and dtype is not None:
        case = dataclasses.replace(case, dtype=str(np.dtype(dtype)))
    return Case((), {"case": encode(case)})


def _example(case, dtype) -> Case:
    return _wrap(case, dtype)


def to_record(rec: C.ComponentRecord, dtypes=("float32",)) -> Record:
    """The registry record of component record ``rec``."""

    def strategy(dtype):
        return rec.cases.map(lambda c: _wrap(c, dtype))

    return Record(
        component=f"{rec.kind}.{rec.name}",
        checks=rec.checks,
        strategy=strategy,
        dtypes=dtypes,
        examples=tuple(functools.partial(_example, c) for c in rec.examples),
        extra={"component": rec, "fd_examples": True},
        notes=rec.notes,
    )


def public_classes(module, base: type) -> dict[str, type]:
    """``{public name: class}`` of the subclasses of ``base`` exported by ``module``."""
    return {
        n: getattr(module, n)
        for n in dir(module)
        if not n.startswith("_")
        and isinstance(getattr(module, n), type)
        and issubclass(getattr(module, n), base)
    }


def expected_names(module, base: type, abstract: dict, kind: str) -> list[str]:
    """``<kind>.<class name>`` of every public class of ``module`` (aliases are the same class:
    one record) except the abstract bases listed with their reason."""
    classes = {c for c in public_classes(module, base).values() if c not in abstract}
    return sorted(f"{kind}.{c.__name__}" for c in classes)


# --- checks ---------------------------------------------------------------------------------------


class ComponentCheck(Check):
    """Runs ``fn(component_record, case, ctx) -> Comparison | None`` (None: does not apply to
    this case, e.g. finite differences of a case too large or on a kink)."""

    def __init__(self, name: str, fn, examples_scale: float = 1.0, dtypes=None):
        self.name = name
        self.fn = fn
        self.examples_scale = examples_scale
        self._dtypes = dtypes

    def dtypes(self, record) -> tuple[str, ...]:
        return self._dtypes or record.dtypes

    def run(self, record, ctx: Context, case, dtype, factor: float = 1.0) -> Outcome:
        comp_case = decode(case.params["case"])
        with np.errstate(all="ignore"):
            comp = self.fn(record.extra["component"], comp_case, ctx)
        if comp is None:
            return Outcome(0.0, "not applicable to this case")
        _, worst = comp.worst()
        ratio = worst / factor
        return Outcome(ratio, comp.summary() if ratio > 1 else "")


def _cached(ctx: Context, key, compute):
    cache = ctx.cache.setdefault("components", {})
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        cache[key] = compute()
    return cache[key]


def _subset(comp: C.Comparison, prefixes: tuple[str, ...]) -> C.Comparison:
    out = C.Comparison()
    for k, r in comp.ratios.items():
        if k.startswith(prefixes):
            out.ratios[k] = r
            if k in comp.details:
                out.details[k] = comp.details[k]
    return out


def _layer_run(rec, case, ctx):
    from conformance.checks import layer

    key = ("layer", rec.name, repr(case))
    return _cached(ctx, key, lambda: layer.check_layer(rec.cls, case, ctx.backend))


def layer_forward(rec, case, ctx):
    return _subset(_layer_run(rec, case, ctx), ("outputs", "state"))


def layer_vjp(rec, case, ctx):
    return _subset(_layer_run(rec, case, ctx), ("input_grads", "weight_grads"))


def layer_fd(rec, case, ctx):
    from conformance.checks import layer

    if not (rec.fd and case.smooth):
        return None
    return layer.check_layer_fd(rec.cls, dataclasses.replace(case, dtype="float64"))


def layer_roundtrip(rec, case, ctx):
    """Check (d): the config round trip on the reference, and weights moved to the backend
    (``get_weights`` there returns exactly what ``set_weights`` received)."""
    from conformance.checks import layer

    comp = layer.check_config(rec.cls, case)
    if case.inputs:
        ref, xs, mask = layer.build_reference(rec.cls, case)
        start = layer._snapshot(ref)
        try:
            layer.run_in_dtype(rec.cls, ref, case, xs, mask, [], start, ctx.backend, True)
        except AssertionError as e:
            comp.fail("weights moved", str(e))
    return comp


def loss_value(rec, case, ctx):
    from conformance.checks import loss_metric

    key = ("loss", rec.name, repr(case))
    comp = _cached(ctx, key, lambda: loss_metric.check_loss(rec.cls, case, ctx.backend))
    return _subset(comp, ("value",))


def loss_grad(rec, case, ctx):
    from conformance.checks import loss_metric

    key = ("loss", rec.name, repr(case))
    comp = _cached(ctx, key, lambda: loss_metric.check_loss(rec.cls, case, ctx.backend))
    return _subset(comp, ("grad",))


def loss_fd(rec, case, ctx):
    from conformance.checks import loss_metric

    if not (rec.fd and case.smooth):
        return None
    return loss_metric.check_loss_fd(rec.cls, dataclasses.replace(case, dtype="float64"))


def loss_config(rec, case, ctx):
    from conformance.checks import loss_metric

    return loss_metric.check_config(rec.cls, case, "loss")


def metric_result(rec, case, ctx):
    from conformance.checks import loss_metric

    return loss_metric.check_metric(rec.cls, case, ctx.backend)


def metric_config(rec, case, ctx):
    from conformance.checks import loss_metric

    return loss_metric.check_config(rec.cls, case, "metric")


def optimizer_trajectory(rec, case, ctx):
    from conformance.checks import optimizer

    return optimizer.check_trajectory(rec.cls, case, ctx.backend)


def optimizer_config(rec, case, ctx):
    from conformance.checks import optimizer

    return optimizer.check_optimizer_config(rec.cls, case)


def schedule_values(rec, case, ctx):
    from conformance.checks import optimizer

    return optimizer.check_schedule(rec.cls, case, ctx.backend)


def schedule_config(rec, case, ctx):
    from conformance.checks import optimizer

    return optimizer.check_schedule_config(rec.cls, case)


def _fused(rec, case, ctx):
    from conformance.checks import fused

    return fused.check_fused(rec, case, ctx.backend)


def _fit_trajectory(rec, case, ctx):
    from conformance.checks import fit

    return fit.check_fit(case, ctx.backend)


def _fit_steps(rec, case, ctx):
    from conformance.checks import fit

    return fit.check_fit_steps(case, ctx.backend)


_CONFIG_ONLY = ("float64",)  # config round trips run on the reference: one dtype is enough

CHECKS = [
    ComponentCheck("layer_forward", layer_forward, examples_scale=0.5),
    ComponentCheck("layer_vjp", layer_vjp, examples_scale=0.5),
    ComponentCheck("layer_fd", layer_fd, examples_scale=0.34, dtypes=("float64",)),
    ComponentCheck("layer_roundtrip", layer_roundtrip, examples_scale=0.34),
    ComponentCheck("loss_value", loss_value, examples_scale=0.5),
    ComponentCheck("loss_grad", loss_grad, examples_scale=0.5),
    ComponentCheck("loss_fd", loss_fd, examples_scale=0.34, dtypes=("float64",)),
    ComponentCheck("loss_config", loss_config, examples_scale=0.34, dtypes=_CONFIG_ONLY),
    ComponentCheck("metric_result", metric_result, examples_scale=0.5),
    ComponentCheck("metric_config", metric_config, examples_scale=0.34, dtypes=_CONFIG_ONLY),
    ComponentCheck("optimizer_trajectory", optimizer_trajectory, examples_scale=0.5),
    ComponentCheck(
        "optimizer_config", optimizer_config, examples_scale=0.34, dtypes=_CONFIG_ONLY
    ),  # fmt: skip
    ComponentCheck("schedule_values", schedule_values, examples_scale=0.5, dtypes=("float32",)),
    ComponentCheck("schedule_config", schedule_config, examples_scale=0.34, dtypes=("float32",)),
    ComponentCheck("fused_kernel", _fused),
    ComponentCheck("fit_trajectory", _fit_trajectory, examples_scale=0.17, dtypes=("float32",)),
    ComponentCheck("fit_steps", _fit_steps, examples_scale=0.17, dtypes=("float32",)),
]
