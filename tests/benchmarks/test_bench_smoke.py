"""Smoke test of benchmarks/bench_epoch.py: the benchmark code runs, for refkeras only, at a tiny
scale.  No timing assertions of any kind -- only that each model produces a row with a time."""

import importlib.util
import os
import subprocess
import sys

import pytest

BENCH_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks")
BENCH_PATH = os.path.abspath(os.path.join(BENCH_DIR, "bench_epoch.py"))


def _load_bench():
    name = "refkeras_bench_epoch"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH_PATH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


bench = _load_bench()


@pytest.mark.parametrize("model", bench.MODELS)
def test_refkeras_row_per_model(model):
    rows = bench.run_benchmarks(
        models=(model,), frameworks=("refkeras",), repeats=1, samples_scale=0.005
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["model"], row["framework"]) == (model, "refkeras")
    if model == "lstm" and row["status"] == "not available" and "has no LSTM" in row["reason"]:
        pytest.skip(row["reason"])
    assert row["status"] == "ok", row.get("traceback") or row.get("reason")
    assert row["epoch_s"] > 0
    assert row["warmup_s"] > 0
    assert len(row["epoch_s_all"]) == 1
    assert row["samples"] == bench.num_samples(model, 0.005)
    # no Keras / PyTorch row in this run, so there is nothing to compare with
    assert row["vs_keras"] is None and row["vs_torch"] is None
    assert "refkeras" in bench.format_table(rows)


def test_unavailable_framework_is_a_row_not_a_crash():
    rows = bench.run_benchmarks(
        models=("mlp",),
        frameworks=("refkeras", "torch"),
        repeats=1,
        samples_scale=0.002,
        modules={"refkeras": __import__("refkeras"), "torch": None},
        reasons={"torch": "ModuleNotFoundError: No module named 'torch'"},
    )
    assert [row["framework"] for row in rows] == ["refkeras", "torch"]
    assert rows[0]["status"] == "ok" and rows[0]["vs_torch"] is None
    assert rows[1]["status"] == "not available"
    table = bench.format_table(rows)
    assert "not available: ModuleNotFoundError: No module named 'torch'" in table


def test_arguments_parsed_and_threads_set_before_heavy_imports():
    """--threads must reach the environment before numpy/jax/torch load, so parsing the command
    line and configuring threads must not import them."""
    code = (
        "import sys, os; sys.path.insert(0, sys.argv[1]); import bench_epoch as b; "
        "a = b.parse_args(['--threads', '1', '--models', 'mlp,cnn', '--frameworks', 'refkeras']); "
        "b.configure_threads(a.threads); "
        "assert a.models == ('mlp', 'cnn') and a.frameworks == ('refkeras',), a; "
        "assert os.environ['OPENBLAS_NUM_THREADS'] == '1'; "
        "assert os.environ['OMP_NUM_THREADS'] == '1'; "
        "assert 'intra_op_parallelism_threads=1' in os.environ['XLA_FLAGS']; "
        "heavy = [m for m in ('numpy', 'jax', 'torch', 'keras', 'refkeras') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    subprocess.run([sys.executable, "-c", code, os.path.dirname(BENCH_PATH)], check=True, env=env)
