"""The backend boundary: the active backend's primitive table, tensors, variables.

``refkeras.config.backend()`` names the backend: ``numpy`` (the reference, built in), ``numba``,
``jax`` and ``cupy`` (in ``accel/``, each needing its extra), or ``"package.module:attr"`` for a
third-party :class:`~refkeras.backend.base.Backend`.  :func:`load_backend` installs it.
"""

from __future__ import annotations

import importlib

from refkeras.backend import dispatch
from refkeras.backend.base import Backend, NumpyBackend
from refkeras.backend.dtypes import result_type, standardize_dtype  # noqa: F401
from refkeras.backend.keras_tensor import KerasTensor  # noqa: F401
from refkeras.backend.tensor import Tensor  # noqa: F401
from refkeras.backend.variable import StatelessScope, Variable  # noqa: F401

#: shipped accelerated backends: name -> (module, class, the third-party package it needs)
SHIPPED = {
    "numba": ("accel.numba", "NumbaBackend", "numba"),
    "jax": ("accel.jax", "JaxBackend", "jax"),
    "cupy": ("accel.cupy", "CupyBackend", "cupy"),
}


def resolve_backend(name: str | Backend) -> Backend:
    """The :class:`Backend` object for ``name`` (a shipped name, ``"module:attr"`` or an object).

    Raises ``ImportError`` naming the extra to install when a shipped backend's package is
    missing, and ``ValueError`` for names that are neither shipped nor ``module:attr``.
    """
    if not isinstance(name, str):
        return name() if isinstance(name, type) else name
    if name == "numpy":
        return NumpyBackend()
    if name in SHIPPED:
        module_name, class_name, package = SHIPPED[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            if e.name is not None and e.name.split(".")[0] == package:
                raise ImportError(
                    f"The {name!r} backend needs the {package!r} package, which is not "
                    f'installed. Install it with: pip install "refkeras[{name}]"'
                ) from e
            raise
        return getattr(module, class_name)()
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(
                f"Could not load backend {name!r}: expected 'package.module:attr' naming a "
                f"Backend class or object. Received error: {e}"
            ) from e
        backend = obj() if isinstance(obj, type) else obj
        if not hasattr(backend, "primitives"):
            raise ValueError(
                f"Backend {name!r} must provide primitives() (see refkeras.backend.base.Backend). "
                f"Received: {backend!r}"
            )
        return backend
    raise ValueError(
        f"Unknown backend: {name!r}. Expected one of ['numpy', 'numba', 'jax', 'cupy'] or "
        "'package.module:attr'."
    )


def load_backend(name: str | Backend) -> Backend:
    """Make backend ``name`` the active one (all later primitive calls run on it)."""
    backend = resolve_backend(name)
    dispatch.set_backend(backend)
    return backend


def backend() -> str:
    """The name of the active backend."""
    return dispatch.backend_name()


def active() -> Backend:
    """The active :class:`Backend` object."""
    return dispatch.active_backend()


def to_numpy(x):
    """A NumPy array with the value of ``x`` (Tensor, Variable, backend array or array-like)."""
    x = getattr(x, "value", x)
    x = getattr(x, "value", x)  # a Variable's value is a Tensor
    return dispatch.active_backend().to_numpy(x)


def asarray(x, dtype=None):
    """``x`` as an array of the active backend."""
    return dispatch.active_backend().asarray(getattr(x, "value", x), dtype)
