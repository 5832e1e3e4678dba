"""The CuPy backend's tests run on the CPU stand-in unless asked for real CuPy.

``REFKERAS_TEST_REAL_CUPY=1 pytest tests/accel/cupy`` (or ``pytest tests/accel/cupy
--cupy-real``) runs the very same tests on real CuPy and a CUDA device instead.
"""

import os

import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--cupy-real",
        action="store_true",
        default=False,
        help="run tests/accel/cupy on real CuPy (needs a CUDA device) instead of the stand-in",
    )


def real_cupy_requested(config) -> bool:
    return config.getoption("--cupy-real", default=False) or (
        os.environ.get("REFKERAS_TEST_REAL_CUPY", "") not in ("", "0")
    )


@pytest.fixture(scope="session")
def cupy_backend(request):
    """The backend under test: real ``CupyBackend`` or ``CupyStandinBackend``."""
    if real_cupy_requested(request.config):
        from accel.cupy import CupyBackend

        return CupyBackend()  # raises (no silent stand-in) when there is no GPU
    from accel.cupy_standin import CupyStandinBackend

    return CupyStandinBackend()


@pytest.fixture(scope="session")
def xp(cupy_backend):
    """The ``cupy`` module the backend under test computes with (real or stand-in)."""
    import sys

    return sys.modules[cupy_backend.primitives()["add"][0].__module__].cp
