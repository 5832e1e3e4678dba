"""JAX backend tests: skipped as a whole when jax is not installed; XLA's persistent compilation
cache goes to a temporary directory so that repeated runs compile less."""

import tempfile

import pytest

jax = pytest.importorskip("jax")

jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="refkeras-jax-cache-"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
