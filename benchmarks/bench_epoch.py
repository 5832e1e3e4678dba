#!/usr/bin/env python
"""Time training epochs of three small models on every refkeras backend, Keras 3 (JAX) and PyTorch.

    python benchmarks/bench_epoch.py [--models mlp,cnn,lstm]
        [--frameworks refkeras,refkeras-numba,refkeras-jax,refkeras-cupy,keras,torch]
        [--repeats 3] [--samples-scale 1.0] [--threads N] [--steps-per-execution N]
        [--sweep batch|width [--sweep-values 32,64]] [--tracemalloc] [--json out.json]
        [--profile 12] [--timeout 1800]

Every (model, framework) cell runs in its own subprocess (``worker.py``) with the framework's
environment (``REFKERAS_BACKEND=<backend>``, ``KERAS_BACKEND=jax``, thread variables), so that
one backend's imports, thread pools, caches and memory high-water mark do not affect another.
refkeras and Keras build their models from the *same* source (``models.py``) and train with
``model.fit(x, y, batch_size=64, epochs=1, verbose=0, shuffle=True)``; PyTorch runs the
equivalent ``nn.Module`` in a plain loop.  See ``benchmarks/README.md`` for how to read the output.

This process only orchestrates and imports nothing beyond the standard library, so the thread
settings reach every framework before it loads.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ("mlp", "cnn", "lstm")
SWEEPS = ("batch", "width")
SWEEP_VALUES = {"batch": (32, 64, 128, 256, 512, 1024), "width": (64, 128, 256, 512, 1024)}
BATCH_SIZE = 64
BASE_SAMPLES = {"mlp": 50_000, "cnn": 10_000, "lstm": 10_000}
DESCRIPTIONS = {
    "mlp": "Dense 784-64-64-10 (relu, relu, softmax)",
    "cnn": "Conv2D(32,3) MaxPool(2) Conv2D(32,3) GlobalMaxPool Dense(10), 28x28x1",
    "lstm": "LSTM(32) over 10x16 -> Dense(10)",
}


def _load(name):
    """A sibling module of this file, loaded by path (``benchmarks`` is not a package)."""
    full = f"refkeras_bench_{name}"
    if full not in sys.modules:
        spec = importlib.util.spec_from_file_location(full, os.path.join(HERE, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
    return sys.modules[full]


frameworks = _load("frameworks")
report = _load("report")
FRAMEWORKS = frameworks.NAMES


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------


def _csv(choices):
    def parse(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated subset of {','.join(choices)}, got {text!r}"
            )
        return tuple(items)

    return parse


def _ints(text):
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 32,64; got {text!r}")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time training epochs on every refkeras backend, Keras 3 (JAX) and PyTorch."
    )
    parser.add_argument("--models", type=_csv(MODELS), default=MODELS, help="default: all")
    parser.add_argument(
        "--frameworks", type=_csv(FRAMEWORKS), default=FRAMEWORKS, help="default: all"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="steady-state epochs per row (median reported)"
    )
    parser.add_argument(
        "--samples-scale",
        type=float,
        default=1.0,
        help="multiply the sample counts (mlp 50,000; cnn and lstm 10,000) by this",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="OPENBLAS/OMP/MKL/NUMBA threads, XLA's CPU threads and torch.set_num_threads = N "
        "in every subprocess (default: leave the environment as it is)",
    )
    parser.add_argument(
        "--steps-per-execution",
        type=int,
        default=1,
        metavar="N",
        help="N > 1 adds rows for refkeras-jax and keras compiled with steps_per_execution=N",
    )
    parser.add_argument(
        "--sweep",
        type=_csv(SWEEPS),
        default=(),
        help="instead of the model table, time the MLP over batch sizes 32..1024 ('batch') "
        "and/or hidden widths 64..1024 ('width')",
    )
    parser.add_argument(
        "--sweep-values", type=_ints, default=None, help="override the points of one --sweep"
    )
    parser.add_argument(
        "--numba-cache",
        choices=("cold", "warm"),
        default="cold",
        help="cold (default): each refkeras-numba process gets an empty NUMBA_CACHE_DIR, so the "
        "first epoch includes compiling every kernel; warm: Numba's usual on-disk cache",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="one more untimed epoch under tracemalloc: peak Python-side allocations",
    )
    parser.add_argument("--json", metavar="PATH", help="also write every number as JSON")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        default=0,
        help="one more untimed epoch under cProfile for refkeras backends; print the top N",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds per subprocess (default 1800)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.samples_scale <= 0:
        parser.error("--samples-scale must be positive")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.steps_per_execution < 1:
        parser.error("--steps-per-execution must be at least 1")
    if args.sweep_values is not None and len(args.sweep) != 1:
        parser.error("--sweep-values needs exactly one --sweep")
    return args


# ------------------------------------------------------------------------------------------------
# The cells and their subprocesses
# ------------------------------------------------------------------------------------------------


def num_samples(model, scale):
    return max(2, int(round(BASE_SAMPLES[model] * scale)))


def variants(names, steps_per_execution=1):
    """``(framework name, steps_per_execution)`` pairs: every framework at 1, and the compiling
    ones (refkeras-jax, keras) once more at N when N > 1."""
    out = []
    for name in names:
        out.append((name, 1))
        if steps_per_execution > 1 and frameworks.FRAMEWORKS[name].compiles:
            out.append((name, steps_per_execution))
    return out


def model_cells(models, names, samples_scale=1.0, steps_per_execution=1):
    """The cells of the main table: every model x framework (x steps_per_execution)."""
    return [
        {
            "model": model,
            "framework": name,
            "steps_per_execution": spe,
            "samples": num_samples(model, samples_scale),
            "batch_size": BATCH_SIZE,
            "width": None,
        }
        for model in models
        for name, spe in variants(names, steps_per_execution)
    ]


def sweep_cells(sweep, names, values=None, samples_scale=1.0, steps_per_execution=1):
    """The cells of one sweep, on the MLP: batch sizes (width 64) or widths (batch 64)."""
    cells = []
    for point in values or SWEEP_VALUES[sweep]:
        for name, spe in variants(names, steps_per_execution):
            cells.append(
                {
                    "model": "mlp",
                    "framework": name,
                    "steps_per_execution": spe,
                    "samples": num_samples("mlp", samples_scale),
                    "batch_size": point if sweep == "batch" else BATCH_SIZE,
                    "width": point if sweep == "width" else None,
                    "sweep": sweep,
                    "point": point,
                }
            )
    return cells


def _tail(text, lines=15):
    return "\n".join(text.strip().splitlines()[-lines:])


def run_cell(
    cell, repeats=3, threads=None, profile=0, tracemalloc=False, timeout=1800, numba_cache="cold"
):
    """Run one cell in a fresh ``worker.py`` process; returns the row (never raises).

    ``numba_cache="cold"`` gives a refkeras-numba process an empty ``NUMBA_CACHE_DIR`` (removed
    afterwards), so its first epoch includes compiling the kernels rather than loading them.
    """
    if frameworks.FRAMEWORKS[cell["framework"]].backend == "numba" and numba_cache == "cold":
        with tempfile.TemporaryDirectory(prefix="refkeras-bench-numba-") as cache:
            row = _run_cell(cell, repeats, threads, profile, tracemalloc, timeout, cache)
        row["numba_cache"] = "cold"
        return row
    return _run_cell(cell, repeats, threads, profile, tracemalloc, timeout, None)


def _run_cell(cell, repeats, threads, profile, tracemalloc, timeout, numba_cache_dir):
    fw = frameworks.FRAMEWORKS[cell["framework"]]
    spec = dict(
        cell,
        kind=fw.kind,
        backend=fw.backend,
        repeats=repeats,
        threads=threads,
        profile=profile if fw.kind == "refkeras" else 0,
        tracemalloc=tracemalloc,
        seed=0,
    )
    row = dict(cell, repeats=repeats)
    command = [sys.executable, os.path.join(HERE, "worker.py"), json.dumps(spec)]
    env = frameworks.subprocess_environment(fw, threads)
    if numba_cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = numba_cache_dir
    started = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        row.update(status="failed", reason=f"timed out after {timeout:g} s")
        row["stderr_tail"] = _tail(stderr)
        return row
    row["process_s"] = time.perf_counter() - started
    marker = _load("worker").RESULT_MARKER
    results = [line for line in done.stdout.splitlines() if line.startswith(marker)]
    if not results:
        last = _tail(done.stderr, 1) or "no output"
        row.update(status="failed", reason=f"worker exited with {done.returncode}: {last}")
        row["stderr_tail"] = _tail(done.stderr)
        return row
    row.update(json.loads(results[-1][len(marker) :]))
    # Warnings say things the numbers do not (e.g. a backend falling back to eager steps).
    warned = [line.strip() for line in done.stderr.splitlines() if "Warning" in line]
    if warned:
        row["warnings"] = list(dict.fromkeys(warned))[:5]
    if row["status"] == "ok":
        row["epoch_s"] = statistics.median(row["epoch_s_all"])
        row["cpu_s"] = statistics.median(row["cpu_s_all"])
        row["warmup_overhead_s"] = row["first_epoch_s"] - row["epoch_s"]
    elif row["status"] == "failed":
        row["stderr_tail"] = _tail(done.stderr)
    return row


def run_cells(cells, progress=None, **options):
    """Run every cell; a framework that is not available at import is not started again."""
    rows, unavailable = [], {}
    for cell in cells:
        name = cell["framework"]
        if name in unavailable:
            rows.append(dict(cell, repeats=options.get("repeats", 3), **unavailable[name]))
            continue
        if progress:
            what = f"{cell['model']} / {report.label(cell)}"
            if cell.get("sweep"):
                what += f" / {cell['sweep']} {cell['point']}"
            progress(f"{what}: {cell['samples']} samples ...")
        row = run_cell(cell, **options)
        # n/a before anything was imported (no "import_s"): the same for every later cell
        if row["status"] == "n/a" and "import_s" not in row:
            unavailable[name] = {"status": "n/a", "reason": row["reason"]}
        if progress:
            if row["status"] == "ok":
                progress(
                    f"  -> ok: 1st epoch {row['first_epoch_s']:.3f} s, epoch {row['epoch_s']:.3f} "
                    f"s, peak {row['peak_rss_mb']:.0f} MB"
                )
            else:
                progress(f"  -> {row['status']}: {row['reason']}")
            if row.get("traceback"):
                progress(row["traceback"])
        rows.append(row)
    report.add_ratios(rows)
    return rows


def run_benchmarks(
    models=MODELS,
    frameworks=FRAMEWORKS,
    repeats=3,
    samples_scale=1.0,
    threads=None,
    steps_per_execution=1,
    profile=0,
    tracemalloc=False,
    timeout=1800,
    numba_cache="cold",
    progress=None,
):
    """The main table: one row per (model, framework[, steps_per_execution]); never raises for a
    framework that is missing or fails (such a row has ``status`` n/a or failed and a reason)."""
    cells = model_cells(models, frameworks, samples_scale, steps_per_execution)
    return run_cells(
        cells,
        progress,
        repeats=repeats,
        threads=threads,
        profile=profile,
        tracemalloc=tracemalloc,
        timeout=timeout,
        numba_cache=numba_cache,
    )


def run_sweep(
    sweep,
    frameworks=FRAMEWORKS,
    values=None,
    repeats=3,
    samples_scale=1.0,
    threads=None,
    steps_per_execution=1,
    tracemalloc=False,
    timeout=1800,
    numba_cache="cold",
    progress=None,
):
    """One scaling sweep on the MLP (``"batch"`` or ``"width"``): one row per point x framework."""
    cells = sweep_cells(sweep, frameworks, values, samples_scale, steps_per_execution)
    return run_cells(
        cells,
        progress,
        repeats=repeats,
        threads=threads,
        tracemalloc=tracemalloc,
        timeout=timeout,
        numba_cache=numba_cache,
    )


# ------------------------------------------------------------------------------------------------
# Environment, header and main
# ------------------------------------------------------------------------------------------------


def _loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _git_commit():
    """The checkout's commit (and ``+dirty`` with uncommitted changes), or None outside git."""
    try:
        run = dict(cwd=frameworks.REPO_ROOT, capture_output=True, text=True, timeout=10)
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **run).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], **run).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


def collect_environment(threads):
    """What the parent knows: Python, platform, load and the thread variables it passes on."""
    env = dict(os.environ)
    if threads is not None:
        env.update(frameworks.thread_environment(threads, env))
    return {
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "threads_option": threads,
        "env": {var: env.get(var) for var in frameworks.THREAD_ENV_VARS},
        "loadavg_start": _loadavg(),
    }


def framework_info(rows):
    """Per framework, what its first worker that imported it reported (versions, devices)."""
    keys = ("versions", "describe", "torch_threads", "openblas_threads_in_effect", "refkeras_file")
    info = {}
    for row in rows:
        if row["framework"] not in info and "versions" in row:
            info[row["framework"]] = {k: row[k] for k in keys if k in row}
    return info


def format_header(env, info):
    lines = [
        "refkeras epoch benchmark: training epochs, each (model, framework) in its own process",
        f"checkout: {frameworks.REPO_ROOT} at {env['git_commit']}",
        f"python {env['python']}, platform: {env['platform']}, cpus: {env['cpus']}",
        f"load average (1/5/15 min) at start: {env['loadavg_start']}",
        "--threads: "
        + (str(env["threads_option"]) if env["threads_option"] is not None else "not given"),
    ]
    for var, value in env["env"].items():
        lines.append(f"  {var}={value if value is not None else '<unset>'}")
    for name, fw in info.items():
        versions = ", ".join(f"{k} {v}" for k, v in fw.get("versions", {}).items())
        lines.append(f"{name}: {versions}; {fw.get('describe', '')}")
        if "torch_threads" in fw:
            t = fw["torch_threads"]
            lines.append(f"  torch threads: intra-op {t['intra_op']}, inter-op {t['inter_op']}")
        for lib, n in fw.get("openblas_threads_in_effect", {}).items():
            lines.append(f"  OpenBLAS in effect: {lib}: {n} thread(s)")
    return "\n".join(lines)


LEGEND = (
    "1st epoch s = the first epoch of a fresh model (JIT compilation and other warm-up included); "
    "epoch s = median wall time of {repeats} further epoch(s); cpu s = their median process CPU "
    "time (all threads); peak MB = the subprocess's RSS high-water mark (getrusage ru_maxrss: "
    "interpreter + imports + data + training); +MB = how much building and training raised it "
    "above the mark reached after imports and data; vs numpy / vs keras / vs torch = epoch s / "
    "that framework's epoch s on the same workload (< 1 is faster; an spe=N row is compared with "
    "keras spe=N); cpu vs = the same ratios of cpu s."
)


def main(argv=None):
    args = parse_args(argv)

    def progress(message):
        print(message, file=sys.stderr, flush=True)

    env = collect_environment(args.threads)
    options = dict(
        repeats=args.repeats,
        samples_scale=args.samples_scale,
        threads=args.threads,
        steps_per_execution=args.steps_per_execution,
        tracemalloc=args.tracemalloc,
        timeout=args.timeout,
        numba_cache=args.numba_cache,
        progress=progress,
    )
    if args.sweep:
        rows = []
        for sweep in args.sweep:
            rows += run_sweep(sweep, args.frameworks, args.sweep_values, **options)
    else:
        rows = run_benchmarks(args.models, args.frameworks, profile=args.profile, **options)
    env["loadavg_end"] = _loadavg()
    info = framework_info(rows)
    print(format_header(env, info))
    print()
    if args.sweep:
        for sweep in args.sweep:
            print(f"=== --sweep {sweep}: MLP, {rows[0]['samples']} samples per epoch")
            print(report.format_sweep(rows, sweep))
            print()
    else:
        print(report.format_table(rows))
        print()
        print(report.format_targets(rows))
    print(f"load average (1/5/15 min) at end: {env['loadavg_end']}")
    print(LEGEND.format(repeats=args.repeats))
    if args.tracemalloc:
        print("tracemalloc peak MB (Python-side allocations incl. NumPy buffers, one epoch):")
        for row in rows:
            if "tracemalloc_peak_mb" in row:
                where = f"{row['model']} {row.get('point', '')}".strip()
                print(f"  {where} {report.label(row)}: {row['tracemalloc_peak_mb']:.1f}")
    warned = [row for row in rows if row.get("warnings")]
    if warned:
        print("warnings printed by the workers (first 5 distinct lines per row):")
        for row in warned:
            where = f"{row['model']} {row.get('point', '')}".strip()
            for line in row["warnings"]:
                print(f"  {where} {report.label(row)}: {line}")
    for row in rows:
        if row.get("profile"):
            print(f"\n=== cProfile: {row['framework']} {row['model']} epoch (top {args.profile})")
            print(row["profile"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "frameworks": info, "rows": rows}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
