"""The ``ci`` profile of the conformance suite inside pytest: one test id per (backend, record,
check), for the NumPy reference and every shipped backend whose package is importable."""

from __future__ import annotations

import importlib.util

import pytest

from conformance import deviations, profiles
from conformance.checks import Context
from conformance.registry import all_records, missing_records
from conformance.runner import available_backends, run_record_check

#: the CuPy backend's code runs here on its CPU stand-in for the cupy module
STANDIN = "accel.cupy_standin:CupyStandinBackend"
BACKENDS = available_backends() + (
    [STANDIN] if importlib.util.find_spec("accel.cupy_standin") else []
)
RECORDS = all_records()
PARAMS = [
    pytest.param(backend, record, check, id=f"{backend}-{record.component}-{check}")
    for backend in BACKENDS
    for record in RECORDS
    for check in record.checks
]
_CONTEXTS: dict[str, Context] = {}


def _context(name: str) -> Context:
    if name not in _CONTEXTS:
        from refkeras.backend import resolve_backend

        _CONTEXTS[name] = Context(backend=resolve_backend(name), spec=name)
    return _CONTEXTS[name]


def test_every_primitive_has_a_record():
    assert missing_records() == []


@pytest.mark.parametrize("backend,record,check", PARAMS)
def test_conformance(backend, record, check, tmp_path):
    ctx = _context(backend)
    declared = deviations.load(ctx.backend.name)
    results = run_record_check(ctx, record, check, profiles.get("ci"), declared, repro_dir=tmp_path)
    failures = [r for r in results if r.status == "fail"]
    lines = [r.line() for r in results]
    for r in failures:
        lines += [f"  {r.detail}", f"  case: {r.case}", f"  rerun: {r.repro}"]
    assert not failures, "\n".join(lines)
    assert all(r.examples > 0 for r in results if r.status in ("pass", "xfail")), lines
