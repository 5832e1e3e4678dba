"""The JAX backend: every primitive in ``jax.numpy``/``jax.lax``, traceable under ``jax.jit``.

Install with ``pip install "refkeras[jax]"``.  Importing it turns on ``jax_enable_x64`` (see
:mod:`accel.jax.backend` for why).
"""

import jax  # noqa: F401  -- first, so a missing package names the extra

from accel.jax.backend import JaxBackend  # noqa: E402,F401
