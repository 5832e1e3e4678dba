"""Smoke tests of benchmarks/: the harness runs, at a tiny scale, and its output has the promised
structure.  No timing assertions of any kind: only that rows exist, carry numbers of the right
kind, that unavailable or failing frameworks become rows instead of crashes, and that the parent
process stays free of NumPy/JAX/PyTorch."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

BENCH_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
BENCH_PATH = os.path.join(BENCH_DIR, "bench_epoch.py")
TINY = 0.002  # mlp 100 samples, cnn and lstm 20


def _load_bench():
    name = "refkeras_bench_epoch"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH_PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


bench = _load_bench()
frameworks = bench.frameworks
report = bench.report


def _installed(name):
    return importlib.util.find_spec(name) is not None


def _assert_ok_row(row):
    assert row["status"] == "ok", row.get("traceback") or row.get("stderr_tail") or row
    assert len(row["epoch_s_all"]) == row["repeats"] == len(row["cpu_s_all"])
    for key in ("first_epoch_s", "epoch_s", "cpu_s", "base_rss_mb", "peak_rss_mb"):
        assert isinstance(row[key], float) and row[key] > 0, (key, row[key])
    assert row["peak_rss_mb"] >= row["base_rss_mb"]
    assert isinstance(row["final_loss"], float)
    assert row["pid"] != os.getpid()  # ran in its own process


def test_refkeras_numpy_row_per_model():
    rows = bench.run_benchmarks(frameworks=("refkeras",), repeats=1, samples_scale=TINY)
    assert [(r["model"], r["framework"]) for r in rows] == [
        (model, "refkeras") for model in bench.MODELS
    ]
    for row in rows:
        _assert_ok_row(row)
        assert row["backend"] == "numpy"  # REFKERAS_BACKEND reached the worker
        assert row["samples"] == bench.num_samples(row["model"], TINY)
        assert row["vs_numpy"] == 1.0  # the reference compared with itself
        assert row["vs_keras"] is None and row["vs_torch"] is None  # nothing to compare with
    table = report.format_table(rows)
    assert table.splitlines()[0].split()[:3] == ["model", "framework", "samples"]
    assert len(table.splitlines()) == 2 + len(rows)


@pytest.mark.skipif(
    not (_installed("keras") and _installed("jax") and _installed("torch")),
    reason="needs keras (with jax) and torch installed",
)
def test_keras_torch_and_steps_per_execution_rows():
    rows = bench.run_benchmarks(
        models=("mlp",),
        frameworks=("refkeras", "keras", "torch"),
        repeats=1,
        samples_scale=TINY,
        steps_per_execution=2,
    )
    assert [report.label(r) for r in rows] == ["refkeras", "keras", "keras spe=2", "torch"]
    for row in rows:
        _assert_ok_row(row)
        for ref in ("numpy", "keras", "torch"):
            assert row[f"vs_{ref}"] > 0 and row[f"cpu_vs_{ref}"] > 0
    assert rows[1]["vs_keras"] == 1.0 and rows[2]["vs_keras"] == 1.0  # spe row vs keras spe=2
    assert rows[3]["vs_torch"] == 1.0
    assert rows[1]["versions"]["keras"].startswith("3.")
    table = report.format_table(rows)
    for name in ("keras spe=2", "torch", "refkeras"):
        assert name in table


def test_unavailable_backend_is_a_row_and_is_not_retried(monkeypatch):
    missing = frameworks.Framework(
        "refkeras-missing", "refkeras", "no_such_pkg_xyz.backend:Backend", "test only"
    )
    monkeypatch.setitem(frameworks.FRAMEWORKS, missing.name, missing)
    started = []
    real_run_cell = bench.run_cell
    monkeypatch.setattr(
        bench, "run_cell", lambda cell, **kw: started.append(cell) or real_run_cell(cell, **kw)
    )
    rows = bench.run_cells(
        bench.model_cells(("mlp", "lstm"), ("refkeras-missing",), TINY), repeats=1
    )
    assert [r["status"] for r in rows] == ["n/a", "n/a"]
    assert "no_such_pkg_xyz" in rows[0]["reason"]
    assert rows[1]["reason"] == rows[0]["reason"]
    assert len(started) == 1  # the second model reused the import failure
    assert "n/a (" in report.format_table(rows)


@pytest.mark.skipif(_installed("cupy"), reason="cupy is installed: the backend may be available")
def test_shipped_backend_without_its_package_is_na():
    rows = bench.run_benchmarks(models=("mlp",), frameworks=("refkeras-cupy",), repeats=1)
    assert rows[0]["status"] == "n/a"
    assert "cupy" in rows[0]["reason"]


def test_numba_rows_get_a_fresh_cache_dir_when_cold(monkeypatch):
    seen = []

    def fake_run_cell(cell, repeats, threads, profile, tracemalloc, timeout, cache_dir):
        seen.append((cell["framework"], cache_dir, cache_dir and os.path.isdir(cache_dir)))
        return dict(cell, status="n/a", reason="test")

    monkeypatch.setattr(bench, "_run_cell", fake_run_cell)
    (numba_cell, numpy_cell) = bench.model_cells(("mlp",), ("refkeras-numba", "refkeras"))
    assert bench.run_cell(numba_cell)["numba_cache"] == "cold"
    bench.run_cell(numba_cell, numba_cache="warm")
    bench.run_cell(numpy_cell)
    (_, cold_dir, existed), warm, numpy = seen
    assert existed and not os.path.exists(cold_dir)  # made for the run, removed after it
    assert warm == ("refkeras-numba", None, None) and numpy == ("refkeras", None, None)


def test_timeout_is_a_failed_row():
    (cell,) = bench.model_cells(("mlp",), ("refkeras",), TINY)
    row = bench.run_cell(cell, repeats=1, timeout=0.01)
    assert row["status"] == "failed" and "timed out" in row["reason"]
    assert "failed: timed out" in report.format_table([row])


def test_sweeps_have_one_row_per_point_and_framework():
    rows = bench.run_sweep("batch", ("refkeras",), values=(16, 50), repeats=1, samples_scale=TINY)
    rows += bench.run_sweep("width", ("refkeras",), values=(8,), repeats=1, samples_scale=TINY)
    assert [(r["sweep"], r["point"], r["batch_size"], r["width"]) for r in rows] == [
        ("batch", 16, 16, None),
        ("batch", 50, 50, None),
        ("width", 8, 64, 8),
    ]
    for row in rows:
        _assert_ok_row(row)
    grid = report.format_sweep(rows, "batch").splitlines()
    assert grid[0].split()[-2:] == ["16", "50"]
    assert grid[2].split()[0] == "refkeras"


def test_ratios_pair_steps_per_execution():
    def row(framework, spe, epoch):
        return dict(
            model="mlp", samples=10, batch_size=64, framework=framework, status="ok",
            steps_per_execution=spe, epoch_s=epoch, cpu_s=epoch, first_epoch_s=epoch,
        )  # fmt: skip

    rows = [row("keras", 1, 4.0), row("keras", 8, 2.0), row("refkeras-jax", 8, 1.0)]
    rows.append(row("refkeras-jax", 4, 3.0))  # no keras spe=4: falls back to keras at 1
    report.add_ratios(rows)
    assert rows[2]["vs_keras"] == 0.5 and rows[3]["vs_keras"] == 0.75
    assert rows[2]["vs_torch"] is None
    assert "refkeras-jax spe=8 = 0.50x keras spe=8 (target <= 0.50x: met; cpu time 0.50x)" in (
        report.format_targets(rows)
    )


def test_subprocess_environment():
    base = {"PYTHONPATH": "/elsewhere", "XLA_FLAGS": "--xla_foo=1 intra_op_parallelism_threads=8"}
    env = frameworks.subprocess_environment(frameworks.FRAMEWORKS["refkeras-numba"], 1, base)
    assert env["REFKERAS_BACKEND"] == "numba"
    assert env["OPENBLAS_NUM_THREADS"] == env["NUMBA_NUM_THREADS"] == "1"
    assert env["XLA_FLAGS"].split() == [
        "--xla_foo=1",
        "--xla_cpu_multi_thread_eigen=false",
        "intra_op_parallelism_threads=1",
    ]
    assert env["PYTHONPATH"].split(os.pathsep) == [frameworks.REPO_ROOT, "/elsewhere"]
    keras_env = frameworks.subprocess_environment(frameworks.FRAMEWORKS["keras"], None, base)
    assert keras_env["KERAS_BACKEND"] == "jax" and "REFKERAS_BACKEND" not in keras_env
    assert keras_env["XLA_FLAGS"] == base["XLA_FLAGS"]  # no --threads: left as it is


def test_bad_arguments_are_refused(capsys):
    for argv in (
        ["--frameworks", "refkeras,tensorflow"],
        ["--sweep", "depth"],
        ["--sweep-values", "32,64"],  # without --sweep
        ["--steps-per-execution", "0"],
    ):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)
    assert "tensorflow" in capsys.readouterr().err


def test_main_writes_json_and_parent_imports_nothing_heavy(tmp_path):
    """The orchestrating process must not import numpy/jax/torch/refkeras: the frameworks run in
    their subprocesses, with the thread settings in their environment from the start."""
    out = tmp_path / "bench.json"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bench_epoch as b; "
        "b.main(['--models', 'mlp', '--frameworks', 'refkeras', '--repeats', '2', "
        "'--samples-scale', '0.002', '--threads', '1', '--tracemalloc', '--json', sys.argv[2]]); "
        "heavy = [m for m in ('numpy', 'jax', 'torch', 'keras', 'refkeras') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, BENCH_DIR, str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "1st epoch s" in done.stdout and "targets (issue 3):" in done.stdout
    data = json.loads(out.read_text())
    assert data["environment"]["threads_option"] == 1
    assert data["environment"]["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert set(data["frameworks"]) == {"refkeras"}
    (row,) = data["rows"]
    _assert_ok_row(row)
    assert len(row["epoch_s_all"]) == 2
    assert row["tracemalloc_peak_mb"] > 0
    assert row["openblas_threads_in_effect"] and set(
        row["openblas_threads_in_effect"].values()
    ) == {1}
