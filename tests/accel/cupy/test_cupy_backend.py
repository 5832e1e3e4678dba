"""Selecting the CuPy backend: the missing package names the extra, a machine without a CUDA
device gets a clear error (never a silent stand-in), and the stand-in is chosen only by name."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import refkeras
from refkeras.backend import resolve_backend

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def _run(code: str, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": ROOT, **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120
    )


def test_refkeras_backend_cupy_without_cupy_names_the_extra():
    # ``sys.modules["cupy"] = None`` makes ``import cupy`` fail as on a machine without it.
    result = _run(
        "import sys; sys.modules['cupy'] = None; import refkeras", REFKERAS_BACKEND="cupy"
    )
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert 'pip install "refkeras[cupy]"' in result.stderr


def test_set_backend_cupy_without_cupy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.delitem(sys.modules, "accel.cupy", raising=False)
    with pytest.raises(ImportError, match=r'pip install "refkeras\[cupy\]"'):
        refkeras.config.set_backend("cupy")
    assert refkeras.config.backend() == "numpy"


def test_without_a_device_the_error_points_to_the_standin(monkeypatch, cupy_backend):
    from accel.cupy_standin import CupyStandinBackend, bound

    monkeypatch.setattr(bound.backend.cp, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="needs a CUDA device.*accel.cupy_standin"):
        CupyStandinBackend()


def test_the_standin_is_selected_by_name_and_says_so():
    backend = resolve_backend("accel.cupy_standin:CupyStandinBackend")
    assert backend.name == "cupy-standin"
    assert "stand-in" in backend.describe() and "1 device(s)" in backend.describe()
    refkeras.config.set_backend("accel.cupy_standin:CupyStandinBackend")
    try:
        assert refkeras.backend.active().name == "cupy-standin"
    finally:
        refkeras.config.set_backend("numpy")


def test_the_standin_runs_the_real_accel_cupy_files():
    from accel.cupy_standin import bound

    for family in ("elementwise", "conv", "rnn", "backend"):
        module = getattr(bound, family)
        assert os.path.samefile(
            module.__file__, os.path.join(ROOT, "accel", "cupy", f"{family}.py")
        )
        assert module.cp.__name__ == "accel.cupy_standin.api"


def test_describe_names_the_devices(cupy_backend):
    text = cupy_backend.describe()
    assert text.count("device(s):") == 1 and "cupy" in text
