"""``CupyBackend``: the primitive table of ``accel/cupy/<family>.py`` and the host/device doors."""

from __future__ import annotations

import cupy as cp
import numpy as np

from refkeras.backend.base import Backend
from refkeras.primitives.interface import PRIMITIVES

from . import conv, elementwise, linalg, nn, pool, reduce, rnn, shape

_FAMILIES = {
    "elementwise": elementwise,
    "reduce": reduce,
    "linalg": linalg,
    "shape": shape,
    "nn": nn,
    "conv": conv,
    "pool": pool,
    "rnn": rnn,
}


class CupyBackend(Backend):
    """Every primitive of :mod:`refkeras.primitives.interface` on ``cupy.ndarray``.

    Arrays live on the current CUDA device; :meth:`asarray` copies host data there and
    :meth:`to_numpy` copies it back (``cupy.asnumpy``).  No fused kernels and no compiled steps:
    the eager training loop runs every primitive as CuPy calls.
    """

    name = "cupy"
    extra = "cupy"
    array_types = (cp.ndarray,)

    def __init__(self):
        if not cp.is_available():
            raise RuntimeError(
                "The 'cupy' backend needs a CUDA device, and CuPy finds none on this machine. "
                "For the CPU stand-in that runs the same code on NumPy, use the backend "
                "'accel.cupy_standin:CupyStandinBackend'."
            )

    def primitives(self) -> dict[str, tuple]:
        table = {}
        for family, names in PRIMITIVES.items():
            module = _FAMILIES[family]
            for name in names:
                table[name] = (getattr(module, name), getattr(module, name + "_vjp"))
        return table

    def asarray(self, x, dtype=None):
        """A device array holding ``x`` (host data is copied to the current device)."""
        return cp.asarray(x, dtype=dtype)

    def to_numpy(self, x) -> np.ndarray:
        """A host NumPy array with the value of ``x`` (device arrays are copied back)."""
        return cp.asnumpy(x)

    def describe(self) -> str:
        runtime = cp.cuda.runtime
        count = runtime.getDeviceCount()
        names = [runtime.getDeviceProperties(i)["name"].decode() for i in range(count)]
        return (
            f"cupy {cp.__version__}, CUDA runtime {runtime.runtimeGetVersion()}, "
            f"{count} device(s): {', '.join(names)}"
        )
