"""The Numba backend: parallel ``njit`` kernels cached on disk.

Install with ``pip install "refkeras[numba]"``.
"""

import numba  # noqa: F401  -- first, so a missing package names the extra

from accel.numba.backend import NumbaBackend  # noqa: E402,F401
