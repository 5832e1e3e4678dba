"""JAX backend tests: skipped as a whole when jax is not installed; XLA's persistent compilation
cache goes to one directory under the system's temporary directory, so that repeated runs on a
machine compile less (eager JAX compiles every op once per shape)."""

import os
import tempfile

import pytest

jax = pytest.importorskip("jax")

jax.config.update(
    "jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "refkeras-jax-test-cache")
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


@pytest.fixture(autouse=True)
def _x64_on():
    """The JAX backend's float64 semantics need x64, which the root conftest turns off for tests
    that run Keras on JAX; switch it back on for every test here."""
    from accel.jax.backend import enable_x64

    enable_x64()
