"""The CuPy backend: every primitive on CuPy arrays (NVIDIA GPUs).

Install with ``pip install "refkeras[cupy]"``.  Without a GPU, the same code runs on the CPU
stand-in ``accel.cupy_standin:CupyStandinBackend`` (see ``accel/cupy/README.md``).

Imports inside this package are relative so that the stand-in can load these very files a second
time against its own ``cupy`` module.
"""

import cupy  # noqa: F401  -- first, so a missing package names the extra

from . import conv, elementwise, linalg, nn, pool, reduce, rnn, shape  # noqa: E402,F401
from .backend import CupyBackend  # noqa: E402,F401
