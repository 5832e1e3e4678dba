"""The Numba backend: NumPy arrays, primitives compiled by Numba (``accel/numba/<family>.py``).

Every primitive of :data:`refkeras.primitives.interface.ALL_PRIMITIVES` has an entry, found in the
file of its family (the files mirror ``refkeras/primitives/``).  Kernels compile on first use and
are cached on disk.  A few primitives are NumPy itself (views, copies, BLAS): they are re-exported
explicitly in their file with the reason, and listed in :data:`SHARED_WITH_REFERENCE`.
"""

from __future__ import annotations

import importlib

import numba
import numpy as np

from refkeras.backend.base import Backend
from refkeras.primitives.interface import ALL_PRIMITIVES, FAMILY_OF

#: the functions (forwards and ``_vjp``\ s) that are the reference's own NumPy code, re-exported
#: on purpose; the reason is at each in ``accel/numba/<family>.py``
SHARED_WITH_REFERENCE: tuple[str, ...] = (
    # NumPy's conversion loop; converts float16/bfloat16, which Numba cannot type
    "cast", "cast_vjp",
    # not differentiable: one None per input, nothing to compute
    "equal_vjp", "not_equal_vjp", "less_vjp", "less_equal_vjp", "greater_vjp",
    "greater_equal_vjp", "logical_and_vjp", "logical_or_vjp", "logical_not_vjp", "isnan_vjp",
    "isfinite_vjp",
    # BLAS
    "matmul", "matmul_vjp", "einsum", "einsum_vjp",
    # views, block copies and their VJPs (reshape, sum over blocks)
    "reshape", "reshape_vjp", "transpose", "transpose_vjp", "broadcast_to", "broadcast_to_vjp",
    "concatenate", "concatenate_vjp", "getitem", "getitem_vjp", "pad", "pad_vjp", "tile",
    "tile_vjp", "repeat", "repeat_vjp", "flip", "flip_vjp", "take", "take_along_axis",
    "take_along_axis_vjp",
    # broadcasting a reduced cotangent back (a view), cumulative products/sums along an axis
    "sum_vjp", "mean_vjp", "prod", "prod_vjp", "cumsum", "cumsum_vjp",
    "argmax_vjp", "argmin_vjp",
    # not yet ported to Numba (recurrences)
    "gru", "gru_vjp", "simple_rnn", "simple_rnn_vjp",
)  # fmt: skip

#: functions that are Numba kernels for some calls and run the reference's code for the others:
#: name -> which calls run the reference (the choice is made in the function, see its file)
PARTLY_SHARED_WITH_REFERENCE: dict[str, str] = {
    "lstm": "activations other than tanh/sigmoid, or dtypes other than all-float32/all-float64",
    "lstm_vjp": "activations other than tanh/sigmoid, or dtypes other than all-float32/all-float64",
}


class NumbaBackend(Backend):
    """Numba-compiled primitives on NumPy arrays (CPU, all cores for large arrays)."""

    name = "numba"
    extra = "numba"
    array_types = (np.ndarray, np.generic)

    def primitives(self) -> dict[str, tuple]:
        table = {}
        for name in ALL_PRIMITIVES:
            module = importlib.import_module(f"accel.numba.{FAMILY_OF[name]}")
            table[name] = (getattr(module, name), getattr(module, name + "_vjp"))
        return table

    def fused_kernels(self) -> dict[str, object]:
        from accel.numba.fused import KERNELS

        return dict(KERNELS)

    def describe(self) -> str:
        return (
            f"numba {numba.__version__}, numpy {np.__version__} (CPU, "
            f"{numba.get_num_threads()} threads, threading layer: {_threading_layer()})"
        )


def _threading_layer() -> str:
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        return f"not yet chosen ({numba.config.THREADING_LAYER})"
