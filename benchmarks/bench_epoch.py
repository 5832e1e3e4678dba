#!/usr/bin/env python
"""Time one training epoch of three small models in refkeras, Keras 3 (JAX backend) and PyTorch.

    python benchmarks/bench_epoch.py [--models mlp,cnn,lstm] [--frameworks refkeras,keras,torch]
                                     [--repeats 3] [--samples-scale 1.0] [--threads N]
                                     [--json out.json] [--profile 12]

refkeras and Keras build their models from the *same* source (``models.build_mlp(keras)`` is
called with ``refkeras`` and with ``keras``) and train with ``model.fit(x, y, batch_size=64,
epochs=1, verbose=0, shuffle=True)``.  PyTorch runs the equivalent ``nn.Module`` in a plain
training loop.  See ``benchmarks/README.md`` for what is measured and how to read the table.

Structure note: the thread settings (``--threads``) only take effect if they are in the
environment *before* NumPy, JAX or PyTorch are imported (OpenBLAS, XLA and OpenMP read them when
they load).  So this module imports only the standard library at the top; ``main`` parses the
arguments, sets the environment, and only then imports the frameworks.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import traceback

MODELS = ("mlp", "cnn", "lstm")
FRAMEWORKS = ("refkeras", "keras", "torch")
BATCH_SIZE = 64
NUM_CLASSES = 10
BASE_SAMPLES = {"mlp": 50_000, "cnn": 10_000, "lstm": 10_000}
INPUT_SHAPES = {"mlp": (784,), "cnn": (28, 28, 1), "lstm": (10, 16)}
DESCRIPTIONS = {
    "mlp": "Dense 784-64-64-10 (relu, relu, softmax)",
    "cnn": "Conv2D(32,3) MaxPool(2) Conv2D(32,3) GlobalMaxPool Dense(10), 28x28x1",
    "lstm": "LSTM(32) over 10x16 -> Dense(10)",
}
THREAD_ENV_VARS = (
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "XLA_FLAGS",
)

HERE = os.path.dirname(os.path.abspath(__file__))


# ------------------------------------------------------------------------------------------------
# Command line and environment (standard library only: runs before any heavy import)
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Time one training epoch in refkeras, Keras 3 (JAX) and PyTorch (CPU)."
    )
    parser.add_argument("--models", type=_csv(MODELS), default=MODELS, help="default: all")
    parser.add_argument(
        "--frameworks", type=_csv(FRAMEWORKS), default=FRAMEWORKS, help="default: all"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed epochs per row; the median is reported"
    )
    parser.add_argument(
        "--samples-scale",
        type=float,
        default=1.0,
        help="multiply the sample counts (mlp 50,000; cnn and lstm 10,000) by this",
    )
    parser.add_argument(
        "--warmup-batches",
        type=int,
        default=2,
        help="full batches in the warm-up fit (the final partial batch is added, so that Keras "
        "compiles both batch shapes before the timed epochs); default 2",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="set OPENBLAS/OMP/MKL threads, XLA's CPU threads and torch.set_num_threads to N "
        "for all frameworks (default: leave the environment as it is)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        default=0,
        help="after the timed epochs, run one more refkeras epoch per model under cProfile and "
        "print the top N functions by tottime (does not affect the table)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.samples_scale <= 0:
        parser.error("--samples-scale must be positive")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def configure_threads(n):
    """Put thread count ``n`` in the environment for OpenBLAS, OpenMP/MKL (PyTorch) and XLA.

    Must run before NumPy, JAX or PyTorch is imported; ``import_frameworks`` additionally calls
    ``torch.set_num_threads(n)``.  XLA's CPU thread pools are set through ``XLA_FLAGS``
    (``intra_op_parallelism_threads``; with 1, Eigen's multi-threading is turned off as well).
    """
    already = [name for name in ("numpy", "jax", "torch") if name in sys.modules]
    if already:
        print(
            f"warning: --threads set after {', '.join(already)} was imported; "
            "it may not take effect for them",
            file=sys.stderr,
        )
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    xla = [
        flag
        for flag in os.environ.get("XLA_FLAGS", "").split()
        if not flag.startswith(("--xla_cpu_multi_thread_eigen", "intra_op_parallelism_threads"))
    ]
    if n == 1:
        xla.append("--xla_cpu_multi_thread_eigen=false")
    xla.append(f"intra_op_parallelism_threads={n}")
    os.environ["XLA_FLAGS"] = " ".join(xla)


# ------------------------------------------------------------------------------------------------
# Framework loading and the header
# ------------------------------------------------------------------------------------------------


def load_model_builders():
    """benchmarks/models.py, loaded by path (``benchmarks`` is not a package)."""
    name = "refkeras_bench_models"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "models.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _short_error(exc):
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 160:
        first = first[:157] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def import_frameworks(frameworks, threads=None):
    """Import the requested frameworks; returns ``{name: module or None}`` and the reasons."""
    modules, reasons = {}, {}
    for name in frameworks:
        try:
            if name == "refkeras":
                import refkeras

                modules[name] = refkeras
            elif name == "keras":
                if "keras" not in sys.modules:
                    os.environ["KERAS_BACKEND"] = "jax"
                import keras

                backend = keras.backend.backend()
                if backend != "jax":
                    raise RuntimeError(f"keras was already imported with the {backend} backend")
                modules[name] = keras
            elif name == "torch":
                import torch

                if threads is not None:
                    torch.set_num_threads(threads)
                    try:
                        torch.set_num_interop_threads(threads)
                    except RuntimeError:  # only settable once, before any parallel work
                        pass
                modules[name] = torch
        except Exception as exc:  # any import failure means "not available"
            modules[name] = None
            reasons[name] = _short_error(exc)
    return modules, reasons


def _version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


def _blas_threads_in_effect():
    """The OpenBLAS libraries loaded in this process and their thread counts (Linux only)."""
    import ctypes

    found = {}
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return found
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in (
            "scipy_openblas_get_num_threads64_",
            "openblas_get_num_threads64_",
            "openblas_get_num_threads",
        ):
            func = getattr(lib, symbol, None)
            if func is not None:
                func.restype = ctypes.c_int
                found[os.path.basename(path)] = func()
                break
    return found


def collect_environment(modules, reasons, threads):
    import numpy as np

    env = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "threads_option": threads,
        "env": {var: os.environ.get(var) for var in THREAD_ENV_VARS},
        "loadavg_start": _loadavg(),
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        env["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        env["numpy_blas"] = None
    env["versions"] = {}
    for name in FRAMEWORKS:
        if name not in modules:
            continue
        if modules[name] is None:
            env["versions"][name] = f"not available: {reasons[name]}"
            continue
        env["versions"][name] = getattr(modules[name], "__version__", None) or _version(name)
        if name == "keras":
            env["versions"]["jax"] = _version("jax")
            env["versions"]["jaxlib"] = _version("jaxlib")
        if name == "torch":
            torch = modules[name]
            env["torch_threads"] = {
                "intra_op": torch.get_num_threads(),
                "inter_op": torch.get_num_interop_threads(),
            }
    env["openblas_threads_in_effect"] = _blas_threads_in_effect()
    return env


def _loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def format_header(env):
    lines = ["refkeras epoch benchmark: one training epoch, batch size 64"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    lines.append(f"python {env['python']}, numpy {env['numpy']} (BLAS: {env['numpy_blas']})")
    lines.append(f"frameworks: {versions}")
    lines.append(f"platform: {env['platform']}, cpus: {env['cpus']}")
    load = env["loadavg_start"]
    lines.append(f"load average (1/5/15 min) at start: {load}")
    threads = env["threads_option"]
    lines.append(
        "--threads: "
        + (str(threads) if threads is not None else "not given (environment left as it is)")
    )
    for var, value in env["env"].items():
        lines.append(f"  {var}={value if value is not None else '<unset>'}")
    if "torch_threads" in env:
        t = env["torch_threads"]
        lines.append(f"torch threads: intra-op {t['intra_op']}, inter-op {t['inter_op']}")
    for lib, n in env["openblas_threads_in_effect"].items():
        lines.append(f"OpenBLAS in effect: {lib}: {n} thread(s)")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Data and the timed runs
# ------------------------------------------------------------------------------------------------


def num_samples(model, scale):
    return max(2, int(round(BASE_SAMPLES[model] * scale)))


def warmup_samples(n, warmup_batches):
    """A few full batches plus the epoch's final partial batch, so every batch shape is seen."""
    return min(n, warmup_batches * BATCH_SIZE + n % BATCH_SIZE)


def make_data(model, n, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((n, *INPUT_SHAPES[model]), dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, size=n).astype(np.int32)
    return x, y


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def run_keras_like(module, model, x, y, repeats, warmup_batches, profile=0):
    """Build ``models.KERAS_BUILDERS[model](module)``, warm up, then time ``repeats`` epochs."""
    builders = load_model_builders()
    build_s, _, net = _timed(lambda: builders.KERAS_BUILDERS[model](module))
    n_warm = warmup_samples(len(x), warmup_batches)

    def fit(xs, ys):
        return net.fit(xs, ys, batch_size=BATCH_SIZE, epochs=1, verbose=0, shuffle=True)

    warmup_s, _, _ = _timed(lambda: fit(x[:n_warm], y[:n_warm]))
    walls, cpus, history = [], [], None
    for _ in range(repeats):
        wall, cpu, history = _timed(lambda: fit(x, y))
        walls.append(wall)
        cpus.append(cpu)
    result = {
        "build_s": build_s,
        "warmup_s": warmup_s,
        "warmup_samples": n_warm,
        "epoch_s_all": walls,
        "cpu_s_all": cpus,
        "final_loss": float(history.history["loss"][-1]),
    }
    if profile:
        result["profile"] = profile_call(lambda: fit(x, y), profile)
    return result


def run_torch(torch, model, x, y, repeats, warmup_batches):
    """The PyTorch equivalent: ``nn.Module`` + RMSprop + a plain shuffled mini-batch loop."""
    import numpy as np

    builders = load_model_builders()
    if model == "cnn":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # NHWC -> NCHW, outside the timing
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y.astype(np.int64))
    torch.manual_seed(0)

    def build():
        net = builders.TORCH_BUILDERS[model]()
        # Keras's RMSprop defaults.  Epsilon placement differs: Keras divides by
        # sqrt(v + eps), PyTorch by sqrt(v) + eps.  Irrelevant for timing.
        opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        return net, opt

    build_s, _, (net, opt) = _timed(build)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(xs, ys):
        net.train()
        n = len(xs)
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, BATCH_SIZE):
            idx = perm[start : start + BATCH_SIZE]
            xb, yb = xs[idx], ys[idx]
            opt.zero_grad(set_to_none=True)
            logits = net(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            # Keras tracks the mean loss and the accuracy metric every batch; so does this loop.
            loss_sum += loss.item() * len(idx)
            with torch.no_grad():
                correct += int((logits.argmax(1) == yb).sum())
        return loss_sum / n

    n_warm = warmup_samples(len(x), warmup_batches)
    warmup_s, _, _ = _timed(lambda: epoch(xt[:n_warm], yt[:n_warm]))
    walls, cpus, loss = [], [], None
    for _ in range(repeats):
        wall, cpu, loss = _timed(lambda: epoch(xt, yt))
        walls.append(wall)
        cpus.append(cpu)
    return {
        "build_s": build_s,
        "warmup_s": warmup_s,
        "warmup_samples": n_warm,
        "epoch_s_all": walls,
        "cpu_s_all": cpus,
        "final_loss": float(loss),
    }


def profile_call(fn, top):
    """Run ``fn`` under cProfile; returns the top ``top`` functions by tottime as text."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    # The same time summed per source file: framework overhead (dispatch, ops, autodiff) vs the
    # NumPy work in the primitives shows up at a glance.
    per_file = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        filename = "<built-in (C) functions, e.g. NumPy methods>" if filename == "~" else filename
        per_file[filename] = per_file.get(filename, 0.0) + tottime
    total = sum(per_file.values()) or 1.0
    out.write(f"tottime by file (top {top}):\n")
    for filename, seconds in sorted(per_file.items(), key=lambda kv: -kv[1])[:top]:
        out.write(f"  {seconds:8.3f} s  {100 * seconds / total:5.1f}%  {filename}\n")
    return out.getvalue()


def run_benchmarks(
    models=MODELS,
    frameworks=FRAMEWORKS,
    repeats=3,
    samples_scale=1.0,
    warmup_batches=2,
    threads=None,
    profile=0,
    modules=None,
    reasons=None,
    progress=None,
):
    """Run every (model, framework) pair; returns one row (a dict) per pair, never raises for a
    framework or layer that is missing or fails: such a row has ``status`` != "ok" and a reason.
    """
    if modules is None:
        modules, reasons = import_frameworks(frameworks, threads)
    reasons = reasons or {}
    builders = load_model_builders()
    rows = []
    for model in models:
        n = num_samples(model, samples_scale)
        x, y = make_data(model, n)
        for framework in frameworks:
            row = {
                "model": model,
                "framework": framework,
                "samples": n,
                "batch_size": BATCH_SIZE,
                "repeats": repeats,
            }
            module = modules.get(framework)
            if module is None:
                row.update(status="not available", reason=reasons.get(framework, "not imported"))
            else:
                if progress:
                    progress(f"{model} / {framework}: {n} samples ...")
                try:
                    if framework == "torch":
                        result = run_torch(module, model, x, y, repeats, warmup_batches)
                    else:
                        prof = profile if framework == "refkeras" else 0
                        result = run_keras_like(module, model, x, y, repeats, warmup_batches, prof)
                    result["epoch_s"] = statistics.median(result["epoch_s_all"])
                    result["cpu_s"] = statistics.median(result["cpu_s_all"])
                    row.update(status="ok", **result)
                except (builders.LayerUnavailable, NotImplementedError) as exc:
                    row.update(status="not available", reason=_short_error(exc))
                except Exception as exc:  # report, don't crash the whole run
                    row.update(status="failed", reason=_short_error(exc))
                    row["traceback"] = traceback.format_exc()
                    if progress:
                        progress(row["traceback"])
                if framework == "keras":
                    try:
                        module.backend.clear_session()
                    except Exception:
                        pass
                gc.collect()
            rows.append(row)
    _add_ratios(rows)
    return rows


def _add_ratios(rows):
    """``vs_keras`` = epoch / Keras's epoch for the same model, ``vs_torch`` likewise; the
    ``cpu_vs_*`` ratios are the same with process CPU time instead of wall time."""
    reference = {}
    for row in rows:
        if row["status"] == "ok" and row["framework"] in ("keras", "torch"):
            reference[(row["model"], row["framework"])] = (row["epoch_s"], row["cpu_s"])
    for row in rows:
        for ref in ("keras", "torch"):
            base = reference.get((row["model"], ref))
            ok = row["status"] == "ok" and base
            row[f"vs_{ref}"] = row["epoch_s"] / base[0] if ok else None
            row[f"cpu_vs_{ref}"] = row["cpu_s"] / base[1] if ok and base[1] > 0 else None


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------


def format_table(rows):
    headers = ("model", "framework", "samples", "warm-up s", "epoch s", "cpu s", "vs keras",
               "vs torch", "cpu vs keras", "cpu vs torch")  # fmt: skip

    def ratio(value):
        return f"{value:.2f}x" if value is not None else "-"

    body = []
    for row in rows:
        if row["status"] != "ok":
            note = f"{row['status']}: {row['reason']}"
            body.append((row["model"], row["framework"], str(row["samples"]), note))
            continue
        body.append(
            (
                row["model"],
                row["framework"],
                str(row["samples"]),
                f"{row['warmup_s']:.3f}",
                f"{row['epoch_s']:.3f}",
                f"{row['cpu_s']:.3f}",
                ratio(row["vs_keras"]),
                ratio(row["vs_torch"]),
                ratio(row["cpu_vs_keras"]),
                ratio(row["cpu_vs_torch"]),
            )
        )
    widths = [len(h) for h in headers]
    for cells in body:
        if len(cells) == len(headers):
            widths = [max(w, len(c)) for w, c in zip(widths, cells)]
    left = {0, 1}

    def line(cells):
        out = []
        short = len(cells) < len(headers)  # a "not available" / "failed" row: the note runs on
        for i, (cell, width) in enumerate(zip(cells[:-1] if short else cells, widths)):
            out.append(cell.ljust(width) if i in left else cell.rjust(width))
        if short:
            out.append(cells[-1])
        return "  ".join(out)

    lines = [line(headers), "  ".join("-" * w for w in widths)]
    lines.extend(line(cells) for cells in body)
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.threads is not None:
        configure_threads(args.threads)  # before numpy / jax / torch are imported

    def progress(message):
        print(message, file=sys.stderr, flush=True)

    modules, reasons = import_frameworks(args.frameworks, args.threads)
    env = collect_environment(modules, reasons, args.threads)
    print(format_header(env), flush=True)
    print(flush=True)
    rows = run_benchmarks(
        models=args.models,
        frameworks=args.frameworks,
        repeats=args.repeats,
        samples_scale=args.samples_scale,
        warmup_batches=args.warmup_batches,
        threads=args.threads,
        profile=args.profile,
        modules=modules,
        reasons=reasons,
        progress=progress,
    )
    env["loadavg_end"] = _loadavg()
    print(format_table(rows))
    print()
    print(f"load average (1/5/15 min) at end: {env['loadavg_end']}")
    print(
        f"epoch s = median wall time of {args.repeats} timed epoch(s) after the warm-up fit; "
        "cpu s = median process CPU time (all threads); "
        "vs keras / vs torch = epoch s / that framework's epoch s for the same model "
        "(< 1 is faster); cpu vs keras / cpu vs torch = the same ratios of cpu s."
    )
    for row in rows:
        if row.get("profile"):
            print(f"\n=== cProfile: refkeras {row['model']} epoch (top {args.profile} by tottime)")
            print(row["profile"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "rows": rows}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
