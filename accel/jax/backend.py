"""The JAX backend object: the primitive table of ``accel/jax/<family>.py`` on ``jax.Array``.

**Why ``jax_enable_x64`` is turned on at import (and on activation).**  refkeras computes
float64 references (the conformance suite compares every backend against the reference in
float64) and honours Keras dtypes exactly: a float64 or int64 tensor must stay float64/int64.
Without x64, JAX silently narrows both to 32 bits.  x64 only changes JAX's *defaults* for values
created without a dtype (``jnp.zeros(n)`` would be float64, ``jnp.asarray(0.5)`` a weak
float64); refkeras never relies on those: the core creates values with floatx/explicit dtypes,
every array this backend creates names its dtype, and :meth:`JaxBackend.asarray` goes through
NumPy so that Python scalars get NumPy's dtype as *strong* types (JAX's weak types would promote
differently from the reference).  The flag is process-wide: other JAX code in the same process
(e.g. Keras on JAX) sees x64 too.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from refkeras.backend.base import Backend
from refkeras.primitives.interface import PrimitiveTable

jax.config.update("jax_enable_x64", True)


def enable_x64() -> None:
    """Turn ``jax_enable_x64`` on (again): at import and whenever the backend is activated, in
    case other code (for example a test running Keras with JAX's defaults) turned it off."""
    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)


class JaxBackend(Backend):
    """Primitives written with ``jax.numpy``/``jax.lax`` (files mirror ``refkeras/primitives``).

    Every forward and VJP is a pure function of its arrays with static keyword parameters, so a
    whole training step can be traced by ``jax.jit``.  ``random()`` gives the Philox generator in
    ``jax.numpy`` (:mod:`accel.jax.random`), so that random draws can be traced too.
    """

    name = "jax"
    extra = "jax"
    array_types = (jax.Array,)

    def primitives(self) -> dict[str, tuple]:
        enable_x64()  # called when the backend is activated
        return PrimitiveTable("accel.jax")

    def asarray(self, x, dtype=None):
        """``x`` as a ``jax.Array``.  Non-JAX inputs go through ``np.asarray`` first, so the dtype
        is NumPy's (``0.5`` is a strong float64, as in the reference), never a JAX weak type."""
        if isinstance(x, jax.Array):
            return x if dtype is None else x.astype(dtype)
        return jnp.asarray(np.asarray(x, dtype=dtype))

    def to_numpy(self, x) -> np.ndarray:
        return np.asarray(x)

    def describe(self) -> str:
        devices = ", ".join(str(d) for d in jax.devices())
        return f"jax {jax.__version__} ({jax.default_backend()}: {devices})"

    def random(self):
        """The Philox-4x32-10 generator in ``jax.numpy`` (same streams as the reference)."""
        from accel.jax import random

        return random

    # Compiled steps: accel/jax/trainer.py (jax.jit of whole steps, lax.scan for
    # steps_per_execution).
    def make_train_function(self, trainer):
        from accel.jax.trainer import make_function

        return make_function(trainer, "train")

    def make_test_function(self, trainer):
        from accel.jax.trainer import make_function

        return make_function(trainer, "test")

    def make_predict_function(self, trainer):
        from accel.jax.trainer import make_function

        return make_function(trainer, "predict")
