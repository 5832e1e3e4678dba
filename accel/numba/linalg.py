"""Linear algebra on the Numba backend: NumPy's BLAS calls are the best implementation there is
on NumPy arrays (a Numba loop nest would be slower than OpenBLAS), so both primitives and their
VJPs (themselves matmuls/einsums) are the reference's, re-exported on purpose."""

from refkeras.primitives.linalg import einsum, einsum_vjp, matmul, matmul_vjp  # noqa: F401
