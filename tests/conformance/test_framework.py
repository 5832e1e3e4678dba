"""The suite's machinery: it fails wrong backends (with a repro command that reproduces the
failure), deviations work, a missing record fails, the CLI and its JSON report."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance import deviations, registry, repro, runner, tolerances
from conformance.registry import Case
from conformance.report import STATUSES

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


@pytest.fixture
def mutants(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), env.get("PYTHONPATH", "")])
    return env


def _cli(*args, cwd):
    cmd = [sys.executable, "-m", "refkeras.cli", "conformance", *args]
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "mutant,only",
    [
        ("WrongMultiply", "primitive.multiply"),
        ("NaiveLog1p", "primitive.log1p"),
        ("NaiveSoftplus", "primitive.softplus"),
        ("LastArgmax", "primitive.argmax"),
        ("MaximumVjpNoSplit", "primitive.maximum"),
        ("HalfPrecisionSum", "primitive.sum"),
        ("MeanVjpNotDivided", "primitive.mean"),
        ("MaxPoolClampsAtZero", "primitive.max_pool"),
        ("WrongDtypeTanh", "primitive.tanh"),
        ("RaisingErf", "primitive.erf"),
    ],
)
def test_wrong_backend_fails(mutants, tmp_path, mutant, only):
    report = runner.run(f"mutants:{mutant}", only=only, repro_dir=tmp_path)
    assert report.failures, report.table()
    # ... and only the overridden primitive fails: the others are the reference
    assert {r.component for r in report.failures} == {only}


def test_reference_passes_what_the_mutants_fail(tmp_path):
    only = "primitive.multiply,primitive.log1p,primitive.argmax,primitive.max_pool"
    report = runner.run("numpy", only=only, repro_dir=tmp_path)
    assert not report.failures, report.summary()
    assert {r.status for r in report.results} == {"pass"}


def test_cli_fails_broken_backend_with_a_repro_that_reproduces(tmp_path):
    run = _cli(
        "--backend",
        "mutants:WrongMultiply",
        "--only",
        "primitive.multiply",
        "--repro-dir",
        str(tmp_path / "repro"),
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout
    assert "FAIL primitive.multiply / forward" in out
    assert "case: arrays=(" in out and "seed: hypothesis" in out
    commands = [line.split("rerun: ", 1)[1] for line in out.splitlines() if "rerun: " in line]
    assert commands, out
    argv = shlex.split(commands[0])
    assert argv[:5] == ["refkeras", "conformance", "--backend", "mutants:WrongMultiply", "--repro"]
    assert Path(argv[5]).is_file()
    # the printed command, run as printed (through this interpreter's refkeras entry point)
    rerun = _cli(*argv[2:], cwd=tmp_path)
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    assert "FAIL primitive.multiply" in rerun.stdout
    # the same saved case passes on the reference
    ok = _cli("--backend", "numpy", "--repro", argv[5], cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_repro_file_reproduces_exactly(mutants, tmp_path):
    report = runner.run("mutants:LastArgmax", only="primitive.argmax", repro_dir=tmp_path)
    failure = report.failures[0]
    path = shlex.split(failure.repro)[5]
    again = runner.rerun(path)
    assert again.failures and again.failures[0].detail == failure.detail
    assert not runner.rerun(path, "numpy").failures


def test_cli_json_report_schema(tmp_path):
    out = tmp_path / "report.json"
    run = _cli(
        "--backend",
        "numpy",
        "--only",
        "primitive.add,primitive.argmax",
        "--report",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "primitive.add" in run.stdout and "err/bound" in run.stdout
    data = json.loads(out.read_text())
    assert data["backend"] == "numpy"
    rows = data["records"]
    assert {(r["component"], r["check"]) for r in rows} >= {
        ("primitive.add", "forward"),
        ("primitive.add", "vjp"),
        ("primitive.add", "vjp_fd"),
        ("primitive.argmax", "forward"),
    }
    for r in rows:
        assert set(r) >= {"component", "check", "dtype", "status", "max_error_ratio", "examples"}
        assert r["status"] in STATUSES
        assert isinstance(r["examples"], int) and r["examples"] > 0
        assert 0 <= r["max_error_ratio"] <= 1
    assert {r["dtype"] for r in rows if r["check"] == "forward"} == {
        "float32",
        "float64",
        "float16",
        "bfloat16",
    }


def test_cli_bad_backend_and_profile(tmp_path):
    run = _cli("--backend", "nosuchbackend", cwd=tmp_path)
    assert run.returncode != 0 and "Unknown backend" in run.stderr
    run = _cli("--backend", "numpy", "--profile", "weekly", cwd=tmp_path)
    assert run.returncode == 2 and "invalid choice" in run.stderr


# --- deviations --------------------------------------------------------------------------------


def _toml(tmp_path, text):
    path = tmp_path / "dev.toml"
    path.write_text(text)
    return str(path)


def test_deviations_skip_xfail_tolerance_unexpected_pass_and_unmatched(mutants, tmp_path):
    path = _toml(
        tmp_path,
        """
[[deviation]]
component = "primitive.multiply"
check = "forward"
action = "xfail"
reason = "known wrong formula"

[[deviation]]
component = "primitive.multiply"
check = "vjp_fd"
action = "skip"
reason = "not this backend's business"

[[deviation]]
component = "primitive.add"
check = "*"
dtype = "float16"
action = "xfail"
reason = "claimed broken but is not"

[[deviation]]
component = "primitive.subtract"
check = "forward"
action = "tolerance"
factor = 4
reason = "wider"

[[deviation]]
component = "primitive.no_such_thing"
check = "forward"
action = "skip"
reason = "stale"
""",
    )
    only = "primitive.multiply,primitive.add,primitive.subtract"
    with pytest.warns(UserWarning, match="no_such_thing"):
        report = runner.run(
            "mutants:WrongMultiply", only=only, deviations_file=path, repro_dir=tmp_path
        )
    by = {(r.component, r.check, r.dtype): r for r in report.results}
    assert all(
        by["primitive.multiply", "forward", d].status == "xfail" for d in ("float32", "float16")
    )
    assert by["primitive.multiply", "vjp_fd", "float64"].status == "skip"
    assert by["primitive.multiply", "vjp_fd", "float64"].reason == "not this backend's business"
    unexpected = {(r.component, r.check, r.dtype) for r in report.unexpected_passes}
    assert ("primitive.add", "forward", "float16") in unexpected
    assert all(d == "float16" for _, _, d in unexpected)
    assert "UNEXPECTED PASS" in report.summary()
    assert any("no_such_thing" in w for w in report.to_json()["warnings"])
    assert not report.failures, report.summary()
    # the tolerance factor divides every ratio by exactly 4 (same derandomized cases)
    plain = runner.run("numpy", only="primitive.subtract", repro_dir=tmp_path)
    plain_ratio = {(r.check, r.dtype): r.max_error_ratio for r in plain.results}
    for (comp, check, dtype), r in by.items():
        if comp == "primitive.subtract" and check == "forward":
            assert r.note == "tolerance x4"
            assert r.max_error_ratio == pytest.approx(plain_ratio[check, dtype] / 4)


@pytest.mark.parametrize(
    "text,message",
    [
        ('[[deviation]]\ncomponent="a"\ncheck="b"\naction="skip"\n', "missing \\['reason'\\]"),
        ('[[deviation]]\ncomponent="a"\ncheck="b"\naction="ignore"\nreason="r"\n', "action"),
        ('[[deviation]]\ncomponent="a"\ncheck="b"\naction="tolerance"\nreason="r"\n', "factor"),
        ('[[deviation]]\ncomponent="a"\ncheck="b"\naction="skip"\nreason="r"\nfoo=1\n', "foo"),
        ('[[deviations]]\ncomponent="a"\n', "unknown top-level"),
    ],
)
def test_malformed_deviations_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        deviations.parse(text, "x.toml")


def test_packaged_deviation_files_parse_and_match_something():
    from importlib import resources

    records = registry.all_records()
    from conformance.checks import all_checks

    checks = all_checks()
    for entry in resources.files("conformance.deviations").iterdir():
        if entry.name.endswith(".toml"):
            declared = deviations.parse(entry.read_text(), entry.name)
            assert runner._unmatched(declared, records, checks) == [], entry.name


# --- registry ----------------------------------------------------------------------------------


def test_missing_record_fails(monkeypatch, tmp_path):
    import refkeras.primitives.interface as interface

    monkeypatch.setattr(interface, "ALL_PRIMITIVES", (*interface.ALL_PRIMITIVES, "frobnicate"))
    assert registry.missing_records() == ["primitive.frobnicate"]
    report = runner.run("numpy", only="primitive.frobnicate", repro_dir=tmp_path)
    assert [(r.component, r.check, r.status) for r in report.results] == [
        ("primitive.frobnicate", "record", "fail")
    ]


def test_select_globs_and_prefixes():
    records = registry.all_records()
    assert [r.component for r in registry.select(records, "primitive.conv")] == ["primitive.conv"]
    pools = {r.component for r in registry.select(records, "primitive.*_pool")}
    assert pools == {"primitive.max_pool", "primitive.average_pool"}
    assert len(registry.select(records, "primitive")) == len(
        [r for r in records if r.kind == "primitive"]
    )


# --- repro files and tolerances ----------------------------------------------------------------


def test_repro_roundtrip_of_awkward_cases(tmp_path):
    bf16 = tolerances.as_dtype("bfloat16")
    key = (Ellipsis, slice(1, None, -1), None, np.array([0, 2, 2]))
    case = Case(
        (np.arange(6, dtype=np.float32).astype(bf16), None, np.array([True, False])),
        {"key": key, "dtype": np.dtype("float16"), "n": np.int64(3), "pads": ((0, 1), (2, 0))},
    )
    path = repro.save(tmp_path / "c.npz", case, {"component": "x"})
    loaded, meta = repro.load(path)
    assert meta["component"] == "x"
    assert loaded.arrays[0].dtype == bf16
    np.testing.assert_array_equal(loaded.arrays[0], case.arrays[0])
    assert loaded.arrays[1] is None
    assert loaded.params["key"][:3] == key[:3]
    np.testing.assert_array_equal(loaded.params["key"][3], key[3])
    assert loaded.params["dtype"] == np.float16 and loaded.params["n"] == 3
    assert loaded.params["pads"] == ((0, 1), (2, 0))


def test_unit_roundoff_per_dtype():
    assert tolerances.unit_roundoff("float64") == 2.0**-53
    assert tolerances.unit_roundoff("float32") == 2.0**-24
    assert tolerances.unit_roundoff("float16") == 2.0**-11
    assert tolerances.unit_roundoff("bfloat16") == 2.0**-8


def test_bound_grows_with_reduction_length_and_magnitude():
    """``a @ b`` with ``k`` terms: the bound is ``u (|y| + S) + k u (|a| @ |b|)``, so a sum whose
    terms cancel still gets a bound proportional to the terms."""
    from refkeras.primitives.linalg import matmul

    a = np.array([[1.0, -1.0, 1e3, -1e3]])
    b = np.ones((4, 1))
    case = Case((a, b))
    model = registry.ErrorModel(reduction=4, ulps=1, sensitivity=False)
    ref = (matmul(a, b),)
    (b32,) = tolerances.bound(model, matmul, (a, b), {}, ref, (np.float32,), case)
    u = 2.0**-24
    assert ref[0][0, 0] == 0
    assert b32[0, 0] == pytest.approx(4 * u * 2002 + u * tolerances.tiny("float32"))
    model8 = registry.ErrorModel(reduction=8, ulps=1, sensitivity=False)
    (b8,) = tolerances.bound(model8, matmul, (a, b), {}, ref, (np.float32,), case)
    assert b8[0, 0] == pytest.approx(2 * b32[0, 0], rel=1e-6)


def test_error_ratio_handles_nonfinite_and_overflow():
    allowed = np.ones(3)
    nan, inf = np.nan, np.inf
    assert (
        tolerances.error_ratio(np.array([nan, 1, 2]), np.array([nan, 1, 2]), allowed, "float32")[0]
        == 0
    )
    assert (
        tolerances.error_ratio(np.array([1.0, 1, 2]), np.array([nan, 1, 2]), allowed, "float32")[0]
        == inf
    )
    assert (
        tolerances.error_ratio(np.array([-inf, 1, 2]), np.array([inf, 1, 2]), allowed, "float32")[0]
        == inf
    )
    # 1e6 overflows float16: correct rounding gives inf, which is what must come back
    assert (
        tolerances.error_ratio(np.array([inf], np.float16), np.array([1e6]), np.ones(1), "float16")[
            0
        ]
        == 0
    )
    assert tolerances.error_ratio(np.array([2, 1]), np.array([1, 1]), np.ones(2), "int32")[0] == inf


def test_ci_budget_for_jax_is_pinned_examples_plus_one_draw():
    """JAX compiles per shape, so its ``ci`` budget is smaller; everyone else keeps theirs, and
    the count reported is what ran."""
    from conformance import profiles
    from conformance.checks import Context, all_checks
    from refkeras.backend.base import NumpyBackend

    class NamedJax(NumpyBackend):  # the reference's tables under the name that gets the budget
        name = "jax"

    ci = profiles.get("ci")
    assert ci.examples_for("jax") == 1 and ci.examples_for("numba") == ci.max_examples == 6
    assert profiles.get("nightly").examples_for("jax") == 200
    record = next(r for r in registry.all_records() if r.component == "primitive.tanh")
    check = all_checks()["forward"]
    counts = {}
    for backend in (NamedJax(), NumpyBackend()):
        ctx = Context(backend=backend, spec=backend.name)
        _, n, failure = runner.run_one(record, check, ctx, "float32", ci)
        assert failure is None
        counts[backend.name] = n
    pinned = len(record.examples)
    assert counts == {"jax": pinned + 1, "numpy": pinned + 6}, counts
