"""Run the suite: every (record, check, dtype), pinned examples first, then hypothesis.

:func:`run` returns a :class:`~conformance.report.Report`; nothing here prints except through
``log`` (the CLI passes ``print``).  A failing case is saved for :func:`rerun` (see
:mod:`conformance.repro`).
"""

from __future__ import annotations

import traceback
import warnings
import zlib
from pathlib import Path

import numpy as np
from hypothesis import given, seed, target
from hypothesis import strategies as st

from conformance import deviations as dev
from conformance import profiles, repro
from conformance.checks import Context, Outcome, all_checks
from conformance.registry import all_records, missing_records, select
from conformance.report import Report, Result
from conformance.tolerances import as_dtype


class _Failed(Exception):
    """Raised inside the hypothesis test so that hypothesis shrinks the case."""


def _safe_run(check, record, ctx, case, dtype, factor) -> Outcome:
    try:
        with np.errstate(all="ignore"):  # overflow to inf is compared, not warned about
            return check.run(record, ctx, case, dtype, factor)
    except Exception as e:  # a backend (or reference) that raises fails this case
        frame = traceback.extract_tb(e.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        return Outcome(np.inf, f"raised {type(e).__name__}: {e} (at {where})")


def stable_seed(*parts: str) -> int:
    """A seed that depends only on the names (so ci runs draw the same cases everywhere)."""
    return zlib.crc32("/".join(parts).encode())


def run_one(record, check, ctx: Context, dtype: str, profile, factor=1.0, seed_value=None):
    """``(max_ratio, examples, failure)`` for one (record, check, dtype); ``failure`` is
    ``(case, outcome, seed description)`` of the (shrunk) failing case or ``None``."""
    state = {"max": 0.0, "n": 0, "failure": None}
    np_dtype = as_dtype(dtype)

    def evaluate(case) -> Outcome:
        outcome = _safe_run(check, record, ctx, case, dtype, factor)
        state["n"] += 1
        state["max"] = max(state["max"], outcome.ratio)
        return outcome

    for i, example in enumerate(record.examples):
        if check.name == "vjp_fd" and not record.extra.get("fd_examples", False):
            break  # pinned edge cases sit on kinks and ties: not for finite differences
        case = example(np_dtype)
        outcome = evaluate(case)
        if not outcome.passed:
            return state["max"], state["n"], (case, outcome, f"pinned example #{i}")

    settings = profile.settings(
        check.examples_scale, seeded=seed_value is not None, backend=ctx.backend.name
    )
    chosen = (
        seed_value if seed_value is not None else stable_seed(record.component, check.name, dtype)
    )
    strategy = check.strategy(record, np_dtype)

    @settings
    @seed(chosen)
    @given(st.data())
    def search(data):
        case = data.draw(strategy, label="case")
        outcome = evaluate(case)
        if profile.target and np.isfinite(outcome.ratio):
            target(float(outcome.ratio), label="error/bound")
        if not outcome.passed:
            state["failure"] = (case, outcome)
            raise _Failed(outcome.detail)

    if profile.examples_for(ctx.backend.name):
        try:
            search()
        except _Failed:
            pass
        except Exception as e:  # strategy bugs, health checks: the record is broken
            tb = traceback.format_exception_only(type(e), e)[-1].strip()
            return np.inf, state["n"], (None, Outcome(np.inf, f"could not draw cases: {tb}"), "")
    failure = state["failure"]
    if failure is not None:
        how = "derandomized" if settings.derandomize else f"seed {chosen}"
        failure = (*failure, f"hypothesis {how} ({profile.name} profile)")
    return state["max"], state["n"], failure


def run(
    spec: str,
    profile: str = "ci",
    only: str | None = None,
    deviations_file: str | None = None,
    repro_dir: str | Path = "conformance-repro",
    seed_value: int | None = None,
    log=None,
) -> Report:
    """Check backend ``spec`` (a name or ``package.module:attr``) against every selected record."""
    from refkeras.backend import resolve_backend

    backend = resolve_backend(spec)
    ctx = Context(backend=backend, spec=spec)
    prof = profiles.get(profile)
    declared = dev.load(backend.name, deviations_file)
    checks = all_checks()
    records = all_records()
    report = Report(backend=spec, backend_name=backend.name, profile=prof.name)
    report.warnings += _unmatched(declared, records, checks)
    for w in report.warnings:
        warnings.warn(w, stacklevel=2)
    for name in missing_records():
        if select([_Named(name)], only):
            report.add(
                Result(
                    name,
                    "record",
                    "-",
                    "fail",
                    np.inf,
                    0,
                    detail="no record in conformance/records/",
                )
            )
    for record in select(records, only):
        for check_name in record.checks:
            for result in run_record_check(
                ctx,
                record,
                check_name,
                prof,
                declared,
                repro_dir,
                seed_value,
                deviations_file,
                checks,
            ):
                report.add(result)
                if log:
                    log(result.line())
    return report


def run_record_check(
    ctx,
    record,
    check_name,
    prof,
    declared,
    repro_dir,
    seed_value=None,
    deviations_file=None,
    checks=None,
) -> list[Result]:
    """The results of one check of one record, one per dtype (what a pytest test id runs)."""
    checks = checks if checks is not None else all_checks()
    check = checks.get(check_name)
    if check is None:
        detail = f"unknown check {check_name!r}"
        return [Result(record.component, check_name, "-", "fail", np.inf, 0, detail=detail)]
    return [
        _run_entry(
            record, check, ctx, dtype, prof, declared, repro_dir, seed_value, deviations_file
        )
        for dtype in check.dtypes(record)
    ]


def available_backends() -> list[str]:
    """``numpy`` and every shipped backend whose package (and ``accel`` module) imports."""
    from refkeras.backend import SHIPPED, resolve_backend

    names = ["numpy"]
    for name in SHIPPED:
        try:
            resolve_backend(name)
        except (ImportError, RuntimeError):  # package missing; no device (cupy without a GPU)
            continue
        names.append(name)
    return names


class _Named:
    def __init__(self, component):
        self.component = component


def _run_entry(record, check, ctx, dtype, prof, declared, repro_dir, seed_value, deviations_file):
    deviation = dev.find(declared, record.component, check.name, dtype)
    reason = deviation.reason if deviation else ""
    if deviation and deviation.action == "skip":
        return Result(record.component, check.name, dtype, "skip", None, 0, reason=reason)
    factor = deviation.factor if deviation and deviation.action == "tolerance" else 1.0
    ratio, n, failure = run_one(record, check, ctx, dtype, prof, factor, seed_value)
    result = Result(record.component, check.name, dtype, "pass", ratio, n, reason=reason)
    if deviation and deviation.action == "tolerance":
        result.note = f"tolerance x{factor:g}"
    if failure is None:
        if deviation and deviation.action == "xfail":
            result.note = "UNEXPECTED PASS of an xfail deviation: remove it"
            result.unexpected_pass = True
        return result
    if deviation and deviation.action == "xfail":
        result.status = "xfail"
        return result
    case, outcome, how = failure
    result.status = "fail"
    result.detail = outcome.detail
    if case is not None:
        result.case = case.describe()
        result.seed = how
        path = Path(repro_dir) / repro.file_name(record.component, check.name, dtype)
        meta = {
            "component": record.component,
            "check": check.name,
            "dtype": dtype,
            "backend": ctx.spec,
            "profile": prof.name,
            "seed": how,
            "factor": factor,
            "detail": outcome.detail,
        }
        repro.save(path, case, meta)
        result.repro = repro.command(ctx.spec, path.resolve(), deviations_file)
    return result


def _unmatched(declared, records, checks) -> list[str]:
    """Warnings for deviations that match no (component, check, dtype) of the registry."""
    out = []
    for d in declared:
        hit = any(
            d.matches(r.component, c, dtype)
            for r in records
            for c in r.checks
            if c in checks
            for dtype in checks[c].dtypes(r)
        )
        if not hit:
            out.append(f"deviation matches nothing in the registry: {d.describe()}")
    return out


def rerun(path: str | Path, spec: str | None = None, log=None) -> Report:
    """Rerun the case saved in ``path`` on backend ``spec`` (default: the one it failed on)."""
    from refkeras.backend import resolve_backend

    case, meta = repro.load(path)
    spec = spec or meta["backend"]
    backend = resolve_backend(spec)
    ctx = Context(backend=backend, spec=spec)
    records = {r.component: r for r in all_records()}
    record = records[meta["component"]]
    check = all_checks()[meta["check"]]
    if log:
        log(f"repro: {meta['component']} / {meta['check']} / {meta['dtype']} on {spec}")
        log(f"case: {case.describe()}")
        log(f"originally: {meta['seed']}; {meta['detail']}")
    outcome = _safe_run(check, record, ctx, case, meta["dtype"], meta.get("factor", 1.0))
    report = Report(backend=spec, backend_name=backend.name, profile="repro")
    result = Result(
        meta["component"],
        meta["check"],
        meta["dtype"],
        "pass" if outcome.passed else "fail",
        outcome.ratio,
        1,
        detail=outcome.detail,
    )
    if not outcome.passed:
        result.case = case.describe()
        result.repro = repro.command(spec, Path(path).resolve())
    report.add(result)
    return report
