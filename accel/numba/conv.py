"""Convolutions on the Numba backend.

``conv`` and its VJP are the reference's im2col + one BLAS matmul (see
``refkeras/primitives/conv.py``): the contraction is BLAS-bound and NumPy's strided-view im2col is
a single copy, so they are re-exported on purpose (``SHARED_WITH_REFERENCE``).  The depthwise conv
has no matmul to give to BLAS (one input channel per group), so it is a Numba loop nest.
"""

from __future__ import annotations

from refkeras.primitives.conv import conv, conv_vjp, depthwise_conv, depthwise_conv_vjp  # noqa: F401
