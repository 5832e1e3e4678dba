"""Recurrent primitives on the Numba backend: the reference's fused LSTM/GRU/SimpleRNN (one
projection matmul for all steps, a per-step BLAS matmul in the recurrence, one matmul per weight
gradient), re-exported on purpose until the Numba step kernels land (``SHARED_WITH_REFERENCE``)."""

from refkeras.primitives.rnn import (  # noqa: F401
    gru,
    gru_vjp,
    lstm,
    lstm_vjp,
    simple_rnn,
    simple_rnn_vjp,
)
