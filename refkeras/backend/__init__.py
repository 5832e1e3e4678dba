"""The backend boundary: the active backend's primitive table, tensors, variables.

``refkeras.config.backend()`` names the backend; ``numpy`` (the reference) is built in, the others
live in ``accel/`` and are loaded by :func:`load_backend`.
"""

from __future__ import annotations

from refkeras.backend import dispatch
from refkeras.backend.dtypes import result_type, standardize_dtype  # noqa: F401
from refkeras.backend.keras_tensor import KerasTensor  # noqa: F401
from refkeras.backend.tensor import Tensor  # noqa: F401
from refkeras.backend.variable import StatelessScope, Variable  # noqa: F401


def load_backend(name: str) -> None:
    """Install backend ``name``'s primitive table."""
    if name == "numpy":
        from refkeras.primitives.interface import reference_table

        dispatch.set_table("numpy", reference_table())
        return
    raise ValueError(
        f"The {name!r} backend is not available in this build of refkeras "
        "(only the 'numpy' reference backend is). Set REFKERAS_BACKEND=numpy."
    )


def backend() -> str:
    """The name of the active backend."""
    return dispatch.backend_name()
