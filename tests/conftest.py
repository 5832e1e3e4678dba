"""Test-wide settings: Keras on JAX for parity tests, derandomized Hypothesis with no deadline,
and a private refkeras home so tests never touch ~/.refkeras."""

import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("REFKERAS_HOME", tempfile.mkdtemp(prefix="refkeras-home-"))
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
# Multi-threaded OpenBLAS on a 2-core CI machine spends more time spinning than computing for the
# small matrices of the tests (seen: 34 ms vs 0.3 ms for a 64x784 @ 784x64 matmul under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=25)
settings.register_profile("dev", deadline=None, max_examples=25)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _jax_defaults_outside_backend_tests(request):
    """refkeras's JAX backend turns ``jax_enable_x64`` on, process-wide, when it is imported or
    activated; Keras on JAX (the parity tests) must run with JAX's defaults.  So outside
    ``tests/accel`` and ``tests/conformance`` every test starts with x64 off (a test that
    activates the JAX backend turns it on again)."""
    jax = sys.modules.get("jax")
    parts = request.node.path.parts
    if jax is not None and "accel" not in parts and "conformance" not in parts:
        if jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", False)
