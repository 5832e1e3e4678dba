"""Conformance tests: when JAX is installed, XLA's persistent compilation cache goes to the same
directory as ``tests/accel/jax``'s, so that repeated runs on a machine compile less (the JAX
backend compiles every op or jitted primitive once per input shape).  Cached programs are the
same programs: results do not change."""

import importlib.util
import os
import tempfile

if importlib.util.find_spec("jax") is not None:
    import jax

    jax.config.update(
        "jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "refkeras-jax-test-cache")
    )
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
