#!/usr/bin/env python
"""One benchmark cell in its own process: import one framework, train one model, report.

    python benchmarks/worker.py '<json spec>'

Started by ``bench_epoch.py`` with the framework's environment (``REFKERAS_BACKEND``,
``KERAS_BACKEND``, thread variables) already set; prints one line ``BENCH_RESULT <json>`` at the
end of stdout.  The spec: ``kind`` (refkeras | keras | torch), ``backend`` (refkeras only),
``model``, ``samples``, ``batch_size``, ``width`` (MLP only, or null), ``repeats``,
``steps_per_execution``, ``threads``, ``profile`` (top-N cProfile lines, 0 = off),
``tracemalloc`` (bool), ``seed``.

What is timed (``time.perf_counter`` wall, ``time.process_time`` CPU of all threads):

- ``first_epoch_s``: the first epoch of a freshly built model -- JIT compilation (Keras/XLA,
  refkeras's JAX and Numba backends) and every other warm-up cost is in here;
- ``epoch_s_all``: ``repeats`` further epochs (training continues); the parent reports their
  median as the steady-state ``epoch_s``.

Memory: ``peak_rss_mb`` is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end (the
process's resident-set high-water mark: interpreter, framework imports, data, model, training);
``base_rss_mb`` is the same high-water mark just before the model is built (imports + data), so
``peak - base`` is what building and training added.  With ``tracemalloc`` one more epoch runs
under :mod:`tracemalloc` (not timed): ``tracemalloc_peak_mb`` is the peak of memory allocated
through Python's allocators during that epoch, which includes NumPy array buffers but not memory
that JAX/XLA, PyTorch, Numba's runtime or a GPU allocate themselves.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT_MARKER = "BENCH_RESULT "
NUM_CLASSES = 10
INPUT_SHAPES = {"mlp": (784,), "cnn": (28, 28, 1), "lstm": (10, 16)}


class Unavailable(Exception):
    """The framework or backend cannot run here (package missing, no GPU, layer missing)."""


def load_models():
    """benchmarks/models.py, loaded by path (``benchmarks`` is not a package)."""
    name = "refkeras_bench_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "models.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def short_error(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    if len(first) > 200:
        first = first[:197] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def rss_high_water_mb() -> float:
    """``ru_maxrss`` in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


# ------------------------------------------------------------------------------------------------
# Importing the framework under test
# ------------------------------------------------------------------------------------------------


def import_framework(spec: dict):
    """Import the framework of ``spec``; returns ``(module, info)``.  Raises :class:`Unavailable`
    when it cannot run here (missing package, missing backend, no device)."""
    kind, info = spec["kind"], {}
    try:
        if kind == "refkeras":
            import refkeras
            from refkeras import backend as rk_backend

            active = rk_backend.backend()
            if active != spec["backend"]:
                # REFKERAS_BACKEND was set: refkeras must have loaded it or raised.
                raise RuntimeError(
                    f"asked for backend {spec['backend']!r} (REFKERAS_BACKEND), "
                    f"refkeras is running {active!r}"
                )
            # A round trip through the backend's arrays: a backend that imports but cannot
            # run here (CuPy without a GPU) is "not available", not a training failure.
            probe = rk_backend.to_numpy(rk_backend.asarray([1.0, 2.0], "float32"))
            if probe.tolist() != [1.0, 2.0]:
                raise RuntimeError(f"array round trip through {active!r} gave {probe!r}")
            info["refkeras_file"] = refkeras.__file__
            info["backend"] = active
            info["describe"] = rk_backend.active().describe()
            info["versions"] = {"refkeras": getattr(refkeras, "__version__", None)}
            if active != "numpy":
                info["versions"][active] = _version(active) or _version(f"{active}-cuda12x")
            if active == "jax":
                info["versions"]["jaxlib"] = _version("jaxlib")
            return refkeras, info
        if kind == "keras":
            import keras

            if keras.backend.backend() != "jax":
                raise RuntimeError(f"keras runs the {keras.backend.backend()} backend, not jax")
            info["versions"] = {
                "keras": keras.__version__,
                "jax": _version("jax"),
                "jaxlib": _version("jaxlib"),
            }
            import jax

            info["describe"] = f"jax devices: {[str(d) for d in jax.devices()]}"
            return keras, info
        if kind == "torch":
            import torch

            if spec.get("threads") is not None:
                torch.set_num_threads(spec["threads"])
                try:
                    torch.set_num_interop_threads(spec["threads"])
                except RuntimeError:  # only settable once, before any parallel work
                    pass
            info["versions"] = {"torch": torch.__version__}
            info["torch_threads"] = {
                "intra_op": torch.get_num_threads(),
                "inter_op": torch.get_num_interop_threads(),
            }
            info["describe"] = "torch CPU"
            return torch, info
    except Exception as exc:  # any failure to import means "not available here"
        raise Unavailable(short_error(exc)) from exc
    raise ValueError(f"unknown framework kind {kind!r}; expected refkeras, keras or torch")


def blas_threads_in_effect() -> dict[str, int]:
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


# ------------------------------------------------------------------------------------------------
# Training loops
# ------------------------------------------------------------------------------------------------


def make_data(model: str, n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((n, *INPUT_SHAPES[model]), dtype=np.float32)
    y = rng.integers(0, NUM_CLASSES, size=n).astype(np.int32)
    return x, y


def keras_like_epoch(module, spec: dict, x, y):
    """Build the model with ``models.build_keras_like``; returns an ``epoch()`` closure that
    runs one ``fit`` epoch and returns the final loss."""
    models = load_models()
    try:
        net = models.build_keras_like(
            module, spec["model"], spec.get("width"), spec["steps_per_execution"]
        )
    except models.LayerUnavailable as exc:
        raise Unavailable(str(exc)) from exc

    def epoch():
        history = net.fit(x, y, batch_size=spec["batch_size"], epochs=1, verbose=0, shuffle=True)
        return float(history.history["loss"][-1])

    return epoch


def torch_epoch(torch, spec: dict, x, y):
    """The PyTorch equivalent: ``nn.Module`` + RMSprop + a plain shuffled mini-batch loop."""
    import numpy as np

    models = load_models()
    if spec["model"] == "cnn":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # NHWC -> NCHW, outside the timing
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y.astype(np.int64))
    torch.manual_seed(spec.get("seed", 0))
    net = models.build_torch(spec["model"], spec.get("width"))
    # Keras's RMSprop defaults.  Epsilon placement differs: Keras divides by sqrt(v + eps),
    # PyTorch by sqrt(v) + eps.  Irrelevant for timing.
    opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch_size = spec["batch_size"]

    def epoch():
        net.train()
        n = len(xt)
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            xb, yb = xt[idx], yt[idx]
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

    return epoch


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def profile_call(fn, top: int) -> str:
    """Run ``fn`` under cProfile; the top ``top`` functions by tottime, and tottime per file."""
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
    # array work in the primitives shows up at a glance.
    per_file = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        filename = "<built-in (C) functions, e.g. NumPy methods>" if filename == "~" else filename
        per_file[filename] = per_file.get(filename, 0.0) + tottime
    total = sum(per_file.values()) or 1.0
    out.write(f"tottime by file (top {top}):\n")
    for filename, seconds in sorted(per_file.items(), key=lambda kv: -kv[1])[:top]:
        out.write(f"  {seconds:8.3f} s  {100 * seconds / total:5.1f}%  {filename}\n")
    return out.getvalue()


def run(spec: dict) -> dict:
    """Run one cell; returns the result dict (``status`` ok | n/a | failed, never raises)."""
    result = {"status": "ok", "pid": os.getpid()}
    started = time.perf_counter()
    try:
        module, info = import_framework(spec)
        result["import_s"] = time.perf_counter() - started
        result.update(info)
        x, y = make_data(spec["model"], spec["samples"], spec.get("seed", 0))
        result["base_rss_mb"] = rss_high_water_mb()
        if spec["kind"] == "torch":
            result["build_s"], _, epoch = _timed(lambda: torch_epoch(module, spec, x, y))
        else:
            result["build_s"], _, epoch = _timed(lambda: keras_like_epoch(module, spec, x, y))
        wall, cpu, _ = _timed(epoch)
        result["first_epoch_s"], result["first_epoch_cpu_s"] = wall, cpu
        walls, cpus, loss = [], [], None
        for _ in range(spec["repeats"]):
            wall, cpu, loss = _timed(epoch)
            walls.append(wall)
            cpus.append(cpu)
        result["epoch_s_all"], result["cpu_s_all"], result["final_loss"] = walls, cpus, loss
        result["peak_rss_mb"] = rss_high_water_mb()  # before the optional untimed extras
        if spec.get("tracemalloc"):
            import tracemalloc

            tracemalloc.start()
            epoch()
            result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        if spec.get("profile"):
            result["profile"] = profile_call(epoch, spec["profile"])
    except Unavailable as exc:
        result.update(status="n/a", reason=str(exc))
    except Exception as exc:  # report, never crash the parent
        result.update(status="failed", reason=short_error(exc), traceback=traceback.format_exc())
    result["openblas_threads_in_effect"] = blas_threads_in_effect()
    return result


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: worker.py '<json spec>'", file=sys.stderr)
        return 2
    result = run(json.loads(argv[0]))
    sys.stdout.flush()
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
