"""What each ``--frameworks`` entry is, and the environment its subprocess runs in.

Every (model, framework) cell of the benchmark runs in a fresh Python process (``worker.py``), so
that one framework's imports, thread pools, JIT caches and memory high-water mark never leak into
another's numbers.  This module says, per framework name, what that process imports and which
environment variables it gets.  Standard library only: the parent process never imports NumPy,
JAX or PyTorch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    """One column of the comparison.

    ``kind`` is ``"refkeras"`` (with ``backend`` the refkeras backend name, selected with
    ``REFKERAS_BACKEND``), ``"keras"`` (Keras 3 on JAX) or ``"torch"`` (PyTorch on the CPU).
    ``compiles`` is true when ``steps_per_execution`` changes what runs (a compiled multi-step
    call); ``--steps-per-execution N`` adds a second row for those frameworks only.
    """

    name: str
    kind: str
    backend: str | None
    description: str
    compiles: bool = False


FRAMEWORKS = {
    f.name: f
    for f in (
        Framework("refkeras", "refkeras", "numpy", "refkeras, NumPy reference backend"),
        Framework("refkeras-numba", "refkeras", "numba", "refkeras, Numba backend"),
        Framework("refkeras-jax", "refkeras", "jax", "refkeras, JAX backend", compiles=True),
        Framework("refkeras-cupy", "refkeras", "cupy", "refkeras, CuPy backend (GPU)"),
        Framework("keras", "keras", None, "Keras 3 on the JAX backend", compiles=True),
        Framework("torch", "torch", None, "PyTorch on the CPU"),
    )
}
NAMES = tuple(FRAMEWORKS)

THREAD_ENV_VARS = (
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "XLA_FLAGS",
)

#: the checkout the benchmarks live in (its ``refkeras`` and ``accel`` are the ones benchmarked)
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def thread_environment(n: int, base: dict[str, str]) -> dict[str, str]:
    """The variables that give OpenBLAS, OpenMP/MKL (PyTorch), Numba and XLA ``n`` threads.

    They are read when the libraries load, which is why they go into the subprocess's
    environment.  XLA's CPU thread pools are set through ``XLA_FLAGS``
    (``intra_op_parallelism_threads``; with 1, Eigen's multi-threading is turned off as well);
    the worker also calls ``torch.set_num_threads(n)``.
    """
    env = {var: str(n) for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["NUMBA_NUM_THREADS"] = str(n)
    xla = [
        flag
        for flag in base.get("XLA_FLAGS", "").split()
        if not flag.startswith(("--xla_cpu_multi_thread_eigen", "intra_op_parallelism_threads"))
    ]
    if n == 1:
        xla.append("--xla_cpu_multi_thread_eigen=false")
    xla.append(f"intra_op_parallelism_threads={n}")
    env["XLA_FLAGS"] = " ".join(xla)
    return env


def subprocess_environment(
    framework: Framework, threads: int | None, base: dict[str, str] | None = None
) -> dict[str, str]:
    """The full environment of the worker process for ``framework``.

    - refkeras: ``REFKERAS_BACKEND=<backend>`` (explicit even for ``numpy``, so a config file
      naming another backend cannot change the row), and the checkout first on ``PYTHONPATH``;
    - keras: ``KERAS_BACKEND=jax``;
    - ``--threads N``: :func:`thread_environment`; without it the environment is left as it is.
    """
    base = dict(os.environ if base is None else base)
    env = dict(base)
    if threads is not None:
        env.update(thread_environment(threads, base))
    path = [REPO_ROOT] + [p for p in base.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(path)
    if framework.kind == "refkeras":
        env["REFKERAS_BACKEND"] = framework.backend
    elif framework.kind == "keras":
        env["KERAS_BACKEND"] = "jax"
    return env
