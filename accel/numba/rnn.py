"""Recurrent primitives on the Numba backend.

``lstm`` and ``lstm_vjp`` (the Keras defaults ``activation="tanh"``,
``recurrent_activation="sigmoid"``, in float32 or float64) run their whole time loop in one Numba
kernel: per step one BLAS product ``h @ recurrent_kernel`` (``np.dot`` inside ``njit`` calls BLAS)
and one fused pass over the gates, instead of a dozen NumPy calls per step.  The input projection
``x @ kernel + bias`` for all steps and the weight gradients stay single big NumPy matmuls, as in
the reference (``refkeras/primitives/rnn.py``), whose formulas, operation order and masking the
kernels follow:

    z = x_t @ kernel + h @ recurrent_kernel + bias          columns [i | f | c | o]
    i, f, o = sigmoid(z_i, z_f, z_o),  g = tanh(z_c)        sigmoid(z) = 0.5 tanh(z / 2) + 0.5
    c_t = f c + i g,   h_t = o tanh(c_t)                    (masked step: h, c carried)

**tanh.**  This llvmlite has no SVML, so ``np.tanh`` in a Numba loop is a scalar libm call
(measured ~15 ns, 50x NumPy's SIMD loop), which would make the kernel slower than the reference.
For float32 the kernels use :func:`tanh32`, Eigen's rational approximation (the one XLA and
TensorFlow use on CPU), which LLVM vectorizes: max error 7 ulp against the exact tanh (NumPy's
float32 tanh: 1.4 ulp), measured over [-10, 10].  float64 uses libm's ``tanh``.

Everything else runs the reference's code, declared in ``SHARED_WITH_REFERENCE`` /
``PARTLY_SHARED_WITH_REFERENCE`` (backend.py): GRU and SimpleRNN (not ported yet), and LSTM calls
with other activations or other dtypes (float16, bfloat16, mixed).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import overload

from accel.numba._common import njit
from refkeras.primitives import rnn as ref
from refkeras.primitives.rnn import (  # noqa: F401 - shared on purpose, see the docstring
    gru,
    gru_vjp,
    simple_rnn,
    simple_rnn_vjp,
)


def tanh32(x):
    """tanh for float32 (Numba compiles :func:`_tanh32`); float64 would use ``np.tanh``."""
    return np.tanh(x)


@njit
def _tanh32(x):
    # Eigen's generic_fast_tanh_float: odd rational p(x^2) x / q(x^2) on [-7.9053, 7.9053]
    # (beyond that tanh rounds to +-1 in float32); tanh(x) = x below 4e-4.  NaN stays NaN.
    c = np.float32(7.90531110763549805)
    xc = min(max(x, -c), c)
    x2 = xc * xc
    p = np.float32(-2.76076847742355e-16)
    p = p * x2 + np.float32(2.00018790482477e-13)
    p = p * x2 + np.float32(-8.60467152213735e-11)
    p = p * x2 + np.float32(5.12229709037114e-08)
    p = p * x2 + np.float32(1.48572235717979e-05)
    p = p * x2 + np.float32(6.37261928875436e-04)
    p = p * x2 + np.float32(4.89352455891786e-03)
    p = p * xc
    q = np.float32(1.19825839466702e-06)
    q = q * x2 + np.float32(1.18534705686654e-04)
    q = q * x2 + np.float32(2.26843463243900e-03)
    q = q * x2 + np.float32(4.89352518554385e-03)
    return x if abs(x) < np.float32(0.0004) else p / q


@overload(tanh32)
def _tanh_overload(x):
    if x == numba.float32:
        return lambda x: _tanh32(x)
    return lambda x: np.tanh(x)


@njit
def _sigmoid(z, half):
    # the reference's tanh form: 0.5 tanh(0.5 z) + 0.5, in z's dtype
    return tanh32(z * half) * half + half


@njit
def _sigmoid_into(src, dst, half):
    """``dst = sigmoid(src)`` over 1-D contiguous arrays: one array in, one out, so LLVM
    vectorizes it (with all of a step's arrays in one loop it gives up on the aliasing checks and
    the loop runs scalar, measured ~5x slower)."""
    for k in range(numba.uint64(src.shape[0])):
        dst[k] = _sigmoid(src[k], half)


@njit
def _tanh_into(src, dst):
    """``dst = tanh(src)`` over 1-D contiguous arrays (vectorized, see :func:`_sigmoid_into`)."""
    for k in range(numba.uint64(src.shape[0])):
        dst[k] = tanh32(src[k])


@njit
def _lstm_forward(xz, h0, c0, rk, mask, masked, hs, cs):
    """hs[t], cs[t] for every step t (time-major, processing order); ``xz = x @ kernel + bias``."""
    n_t, n_b, u4 = xz.shape
    u = u4 // 4
    half = xz.dtype.type(0.5)
    zt = np.empty((n_b, u4), xz.dtype)
    s = np.empty((n_b, u4), xz.dtype)  # sigmoid of every column (the c ones unused)
    g = np.empty((n_b, u), xz.dtype)
    zc = np.empty((n_b, u), xz.dtype)
    ac = np.empty((n_b, u), xz.dtype)
    h, c = h0, c0
    for t in range(n_t):
        np.dot(h, rk, zt)
        zt += xz[t]  # z = xz[t] + h @ rk (the same sum as the reference's, commuted)
        _sigmoid_into(zt.ravel(), s.ravel(), half)
        zc[:] = zt[:, 2 * u : 3 * u]
        _tanh_into(zc.ravel(), g.ravel())
        ct, ht = cs[t], hs[t]
        for b in range(n_b):
            for j in range(u):
                ct[b, j] = s[b, u + j] * c[b, j] + s[b, j] * g[b, j]
        _tanh_into(ct.ravel(), ac.ravel())
        for b in range(n_b):
            keep = not masked or mask[t, b]
            for j in range(u):
                ht[b, j] = s[b, 3 * u + j] * ac[b, j] if keep else h[b, j]
                if not keep:
                    ct[b, j] = c[b, j]
        h, c = ht, ct


@njit
def _lstm_backward(z, cs, c_prev, gh, gc, mask, masked, rk_t, dz, dh_next, dc_next):
    """The reference's backward loop over time, with each step's local derivatives computed
    from the pre-activations ``z`` (all steps) as the loop reaches the step; ``dz`` (all steps)
    is filled, ``dh_next`` / ``dc_next`` end as the cotangents of ``h0`` / ``c0``."""
    n_t, n_b, u4 = z.shape
    u = u4 // 4
    one, half = z.dtype.type(1), z.dtype.type(0.5)
    dh = np.empty((n_b, u), z.dtype)
    s = np.empty((n_b, u4), z.dtype)
    zc = np.empty((n_b, u), z.dtype)
    g = np.empty((n_b, u), z.dtype)
    ac = np.empty((n_b, u), z.dtype)
    for t in range(n_t - 1, -1, -1):
        _sigmoid_into(z[t].ravel(), s.ravel(), half)
        zc[:] = z[t, :, 2 * u : 3 * u]
        _tanh_into(zc.ravel(), g.ravel())
        _tanh_into(cs[t].ravel(), ac.ravel())
        for b in range(n_b):
            keep = not masked or mask[t, b]
            for j in range(u):
                dh[b, j] = gh[t, b, j] + dh_next[b, j]
                if keep:
                    i, f, o = s[b, j], s[b, u + j], s[b, 3 * u + j]
                    gg, a = g[b, j], ac[b, j]
                    dc = gc[t, b, j] + dc_next[b, j] + dh[b, j] * (o * (one - a * a))
                    dz[t, b, j] = dc * (gg * (i * (one - i)))
                    dz[t, b, u + j] = dc * (c_prev[t, b, j] * (f * (one - f)))
                    dz[t, b, 2 * u + j] = dc * (i * (one - gg * gg))
                    dz[t, b, 3 * u + j] = dh[b, j] * (a * (o * (one - o)))
                    dc_next[b, j] = dc * f
                else:  # the identity on (h, c): no gate gradient, full pass-through
                    dz[t, b, j] = 0
                    dz[t, b, u + j] = 0
                    dz[t, b, 2 * u + j] = 0
                    dz[t, b, 3 * u + j] = 0
                    dc_next[b, j] = gc[t, b, j] + dc_next[b, j]
        np.dot(dz[t], rk_t, dh_next)
        if masked:
            for b in range(n_b):
                if not mask[t, b]:
                    for j in range(u):
                        dh_next[b, j] += dh[b, j]


def _kernel_dtype(activation, recurrent_activation, *arrays):
    """float32 / float64 if the kernels handle this call, else ``None`` (the reference runs)."""
    if (activation, recurrent_activation) != ("tanh", "sigmoid"):
        return None
    dtypes = {np.asarray(a).dtype for a in arrays}
    if len(dtypes) == 1 and dtypes <= {np.dtype(np.float32), np.dtype(np.float64)}:
        return dtypes.pop()
    return None


def _mask(mask, go_backwards, n_t, n_b):
    if mask is None:
        return np.ones((n_t, n_b), np.bool_), False
    return ref._steps(np.asarray(mask, bool), go_backwards), True


def lstm(
    x,
    h0,
    c0,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    go_backwards=False,
):
    """``(h_seq, c_seq)`` of a Keras LSTM (see the module docstring and the reference)."""
    params = dict(
        activation=activation,
        recurrent_activation=recurrent_activation,
        go_backwards=go_backwards,
    )
    dtype = _kernel_dtype(activation, recurrent_activation, x, h0, c0, kernel, recurrent_kernel)
    if dtype is None or np.asarray(bias).dtype != dtype:
        return ref.lstm(x, h0, c0, kernel, recurrent_kernel, bias, mask, **params)
    xs = ref._steps(x, go_backwards)
    xz = np.ascontiguousarray(ref._project(xs, kernel, bias))
    n_t, n_b = xs.shape[:2]
    m, masked = _mask(mask, go_backwards, n_t, n_b)
    hs = np.empty((n_t, n_b, h0.shape[-1]), dtype)
    cs = np.empty_like(hs)
    _lstm_forward(
        xz,
        np.ascontiguousarray(h0),
        np.ascontiguousarray(c0),
        np.ascontiguousarray(recurrent_kernel),
        m,
        masked,
        hs,
        cs,
    )
    return ref._seq(hs), ref._seq(cs)


def lstm_vjp(
    g,
    out,
    x,
    h0,
    c0,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    go_backwards=False,
):
    """``(dx, dh0, dc0, dkernel, drecurrent_kernel, dbias, None)`` for ``g = (g_hseq, g_cseq)``:
    the reference's VJP with the backward time loop in :func:`_lstm_backward`."""
    params = dict(
        activation=activation,
        recurrent_activation=recurrent_activation,
        go_backwards=go_backwards,
    )
    grads = [gi for gi in g if gi is not None]
    dtype = _kernel_dtype(
        activation, recurrent_activation, x, h0, c0, kernel, recurrent_kernel, *out, *grads
    )
    if dtype is None or np.asarray(bias).dtype != dtype:
        return ref.lstm_vjp(g, out, x, h0, c0, kernel, recurrent_kernel, bias, mask, **params)
    hs, cs = (np.ascontiguousarray(np.swapaxes(a, 0, 1)) for a in out)  # processing order
    gh, gc = (np.zeros_like(o) if gi is None else gi for gi, o in zip(g, out))
    gh = np.ascontiguousarray(np.swapaxes(gh, 0, 1))
    gc = np.ascontiguousarray(np.swapaxes(gc, 0, 1))
    xs = ref._steps(x, go_backwards)
    h_prev, c_prev = ref._shift(hs, h0), ref._shift(cs, c0)
    n_t, n_b = xs.shape[:2]
    z = ref._project(xs, kernel, bias) + ref._project(h_prev, recurrent_kernel, 0)
    m, masked = _mask(mask, go_backwards, n_t, n_b)
    dz = np.empty(z.shape, dtype)
    dh0 = np.zeros(h0.shape, dtype)
    dc0 = np.zeros(c0.shape, dtype)
    rk_t = np.ascontiguousarray(recurrent_kernel.T)
    _lstm_backward(
        np.ascontiguousarray(z), cs, np.ascontiguousarray(c_prev), gh, gc, m, masked, rk_t,
        dz, dh0, dc0,
    )  # fmt: skip
    dkernel, drecurrent = ref._weight_grads(xs, h_prev, dz, dz)
    dx = ref._unsteps(ref._project(dz, kernel.T, 0), go_backwards)
    return dx, dh0, dc0, dkernel, drecurrent, dz.sum(axis=(0, 1)), None
