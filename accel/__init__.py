"""Accelerated backends of refkeras: ``numba`` (CPU), ``jax`` (CPU/GPU/TPU), ``cupy`` (GPU).

Each implements the primitive interface of ``refkeras.primitives.interface`` in files that mirror
``refkeras/primitives/`` and is proven equal to the NumPy reference by ``conformance/``.  Select one
with ``refkeras.config.set_backend(name)`` or ``REFKERAS_BACKEND``.
"""
