"""Fused recurrent sequence primitives: LSTM, GRU and SimpleRNN over a whole sequence.

Each primitive is a pure function pair ``name(*arrays, **static)`` / ``name_vjp(g, out, *arrays,
**static)`` on NumPy arrays. Running the whole recurrence in one primitive (instead of recording
every gate op on the autodiff tape) is what makes recurrent layers fast: the input projection of
all time steps is one matmul, only the cheap recurrence loops over time, and the VJP accumulates
the weight gradients with one matmul over all steps.

Conventions shared by all three, matching Keras 3 (``keras/src/backend/jax/rnn.py`` with
``unroll=False``, which is what ``keras.layers.LSTM/GRU/SimpleRNN`` run on CPU):

* ``x`` is ``(batch, time, features)``; states are ``(batch, units)``.
* Returned sequences are in *processing order*: with ``go_backwards=True`` the steps run from the
  last time index to the first and the returned sequence is reversed in time, exactly like the
  Keras ``return_sequences=True`` output. The final state is always ``seq[:, -1]``.
* ``mask`` is ``(batch, time)`` bool, aligned with ``x`` (it is reversed along with ``x`` for
  ``go_backwards``). At a masked step the states carry over unchanged, so the returned hidden
  sequence repeats the previous hidden state (``h0`` if the first processed steps are masked).
  That is exactly Keras's output with the default ``zero_output_for_mask=False``. With
  ``zero_output_for_mask=True`` (forced by ``Bidirectional`` when returning sequences) Keras
  outputs zeros at masked steps instead; a layer reproduces that as
  ``where(mask_in_processing_order, h_seq, 0)``, and its ``return_sequences=False`` output is the
  last element of *that* sequence (zeros if the last processed step is masked), while the
  returned states are still the carried ones. (Keras's ``unroll=True`` loop differs in one
  corner: a masked *first* processed step outputs zeros rather than ``h0``; states agree.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Every matmul goes through the primitive so that it keeps the operands' dtype: ml_dtypes'
# bfloat16 ``@`` returns float32, which would silently run a bfloat16 RNN in float32.
from refkeras.primitives.linalg import matmul as _mm

Array = np.ndarray


# ---------------------------------------------------------------------------------------------
# Activations. Each entry is (f, df) with df(z, y) the derivative at pre-activation z given
# y = f(z); taking y lets sigmoid/tanh reuse their forward value. Kinks get derivative 0 like JAX.
# All keep the dtype of z: constants are ints or z.dtype scalars, because a Python float widens
# ml_dtypes' bfloat16 to float32 (bfloat16 * 0.5 is float32), unlike float16.
# ---------------------------------------------------------------------------------------------


def _sigmoid(z: Array) -> Array:
    # The tanh form never overflows (1 / (1 + exp(-z)) warns for very negative float32 z);
    # in place because this runs on every step and allocation dominates at these sizes.
    half = z.dtype.type(0.5)
    s = np.multiply(z, half)
    np.tanh(s, out=s)
    s *= half
    s += half
    return s


_ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]] = {
    "tanh": (np.tanh, lambda z, y: 1 - y * y),
    "sigmoid": (_sigmoid, lambda z, y: y * (1 - y)),
    "relu": (lambda z: np.maximum(z, 0), lambda z, y: (z > 0).astype(z.dtype)),
    "linear": (lambda z: z, lambda z, y: np.ones_like(z)),
    # Keras 3: hard_sigmoid(x) = relu6(x + 3) / 6, i.e. clip(x / 6 + 0.5, 0, 1).
    "hard_sigmoid": (
        lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0).astype(z.dtype),
        lambda z, y: ((z > -3) & (z < 3)).astype(z.dtype) / 6,
    ),
}


def _activation(name: str | None):
    try:
        return _ACTIVATIONS["linear" if name is None else name]
    except KeyError:
        known = sorted(_ACTIVATIONS)
        raise ValueError(f"Unsupported RNN activation {name!r}; known: {known}") from None


# ---------------------------------------------------------------------------------------------
# Layout helpers. Internally everything is time-major (time, batch, ...) in processing order,
# so that the step-t slice is contiguous and "processing order" is just index order.
# ---------------------------------------------------------------------------------------------


def _steps(a: Array, go_backwards: bool) -> Array:
    """(batch, time, ...) in time order -> contiguous (time, batch, ...) in processing order."""
    a = np.swapaxes(a, 0, 1)
    return np.ascontiguousarray(a[::-1] if go_backwards else a)


def _unsteps(a: Array, go_backwards: bool) -> Array:
    """Inverse of `_steps`: processing-order time-major back to (batch, time, ...) time order."""
    return np.ascontiguousarray(np.swapaxes(a[::-1] if go_backwards else a, 0, 1))


def _seq(a: Array) -> Array:
    """(time, batch, units) processing order -> (batch, time, units) still in processing order."""
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))


def _mask_steps(mask: Array | None, go_backwards: bool) -> Array | None:
    return None if mask is None else _steps(np.asarray(mask, bool), go_backwards)[..., None]


def _project(xs: Array, kernel: Array, bias: Array) -> Array:
    """x @ kernel + bias for every step at once, as one (time*batch, features) matmul."""
    t, b, f = xs.shape
    return (_mm(xs.reshape(t * b, f), kernel) + bias).reshape(t, b, -1)


def _weight_grads(xs: Array, h_prev: Array, dz_x: Array, dz_h: Array) -> tuple[Array, Array]:
    """Kernel and recurrent-kernel gradients summed over all steps with one matmul each."""
    n = xs.shape[0] * xs.shape[1]
    dz_x, dz_h = dz_x.reshape(n, -1), dz_h.reshape(n, -1)
    return _mm(xs.reshape(n, -1).T, dz_x), _mm(h_prev.reshape(n, -1).T, dz_h)


def _shift(seq: Array, first: Array) -> Array:
    """The state entering each step: (first, seq[0], ..., seq[T-2]), time-major."""
    return np.concatenate([first[None], seq[:-1]], axis=0)


# ---------------------------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------------------------


def lstm(
    x: Array,
    h0: Array,
    c0: Array,
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
    mask: Array | None = None,
    *,
    activation: str | None = "tanh",
    recurrent_activation: str | None = "sigmoid",
    go_backwards: bool = False,
) -> tuple[Array, Array]:
    """Run a Keras LSTM over a whole sequence; return the hidden and cell state sequences.

    Per processed step, exactly as ``keras.layers.LSTMCell`` (``implementation=2``) computes::

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias      # columns: [i | f | c | o]
        i = recurrent_activation(z_i)     f = recurrent_activation(z_f)
        g = activation(z_c)               o = recurrent_activation(z_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * activation(c_t)

    and where ``mask[:, t]`` is False both states keep their previous value.

    Args:
        x: ``(batch, time, features)``.
        h0, c0: initial hidden / cell state, ``(batch, units)``.
        kernel: ``(features, 4 * units)``; recurrent_kernel: ``(units, 4 * units)``;
        bias: ``(4 * units,)`` (zeros for ``use_bias=False``).
        mask: optional ``(batch, time)`` bool, aligned with ``x``.
        activation, recurrent_activation: names from the local activation table.
        go_backwards: process time from last to first (outputs come back in that order).

    Returns:
        ``(h_seq, c_seq)``, each ``(batch, time, units)`` in processing order; ``h_seq`` is the
        Keras ``return_sequences`` output and ``h_seq[:, -1]``, ``c_seq[:, -1]`` the final states.
    """
    act, _ = _activation(activation)
    ract, _ = _activation(recurrent_activation)
    u = h0.shape[-1]
    xz = _project(_steps(x, go_backwards), kernel, bias)
    m = _mask_steps(mask, go_backwards)
    dtype = np.result_type(xz, h0, c0, recurrent_kernel)
    hs = np.empty(xz.shape[:2] + (u,), dtype)
    cs = np.empty_like(hs)
    h, c = h0, c0
    for t in range(xz.shape[0]):
        z = xz[t] + _mm(h, recurrent_kernel)
        # One call for i, f and o (the c slice is wasted work, but cheaper than three calls).
        s = ract(z)
        c_new = s[:, u : 2 * u] * c + s[:, :u] * act(z[:, 2 * u : 3 * u])
        h_new = s[:, 3 * u :] * act(c_new)
        if m is not None:
            h_new = np.where(m[t], h_new, h)
            c_new = np.where(m[t], c_new, c)
        hs[t] = h = h_new
        cs[t] = c = c_new
    return _seq(hs), _seq(cs)


def lstm_vjp(
    g: tuple[Array | None, Array | None],
    out: tuple[Array, Array],
    x: Array,
    h0: Array,
    c0: Array,
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
    mask: Array | None = None,
    *,
    activation: str | None = "tanh",
    recurrent_activation: str | None = "sigmoid",
    go_backwards: bool = False,
) -> tuple[Array, Array, Array, Array, Array, Array, None]:
    """VJP of `lstm`: ``g = (g_hseq, g_cseq)``, ``out = (h_seq, c_seq)``.

    Returns ``(dx, dh0, dc0, dkernel, drecurrent_kernel, dbias, None)``.

    All gate pre-activations are recomputed at once from ``x`` and the shifted hidden sequence;
    every local derivative is then a precomputed (time, batch, units) array, so the backward
    loop over time is a few elementwise products plus one ``dz @ recurrent_kernel.T``.
    """
    act, dact = _activation(activation)
    ract, dract = _activation(recurrent_activation)
    u = h0.shape[-1]
    hs, cs = (np.swapaxes(a, 0, 1) for a in out)  # processing order already
    gh, gc = (np.zeros_like(o) if gi is None else gi for gi, o in zip(g, out))
    gh, gc = np.swapaxes(gh, 0, 1), np.swapaxes(gc, 0, 1)
    xs = _steps(x, go_backwards)
    h_prev, c_prev = _shift(hs, h0), _shift(cs, c0)
    n_steps, batch = xs.shape[:2]

    z = _project(xs, kernel, bias) + _project(h_prev, recurrent_kernel, 0)
    s = ract(z)  # i, f and o in one call; the c columns are recomputed with `act` below
    ds = dract(z, s)
    i, f, o = s[..., :u], s[..., u : 2 * u], s[..., 3 * u :]
    gg = act(z[..., 2 * u : 3 * u])
    ac = act(cs)  # at masked steps cs is the carried state; those terms are masked out below
    # Local derivatives, named by what they multiply in the loop:
    #   dz_{i,f,c} = dc_total * coef[:3],   dz_o = dh * coef[3],   dc_total = dc + dh * coef_hc.
    coef = np.empty((n_steps, batch, 4, u), ds.dtype)
    np.multiply(gg, ds[..., :u], out=coef[:, :, 0])
    np.multiply(c_prev, ds[..., u : 2 * u], out=coef[:, :, 1])
    np.multiply(i, dact(z[..., 2 * u : 3 * u], gg), out=coef[:, :, 2])
    np.multiply(ac, ds[..., 3 * u :], out=coef[:, :, 3])
    coef_hc = o * dact(cs, ac)
    carry_c = f
    m = _mask_steps(mask, go_backwards)
    if m is not None:
        # A masked step is the identity on (h, c): no gate gradient, full pass-through.
        coef = np.where(m[:, :, None], coef, 0)
        coef_hc = np.where(m, coef_hc, 0)
        carry_c = np.where(m, f, 1)
        carry_h = (~m).astype(hs.dtype)

    dz = np.empty((n_steps, batch, 4, u), np.result_type(z, gh, gc))
    rk_t = np.ascontiguousarray(recurrent_kernel.T)  # BLAS is ~2x faster than on the view
    dh_next, dc_next = np.zeros_like(h0, dz.dtype), np.zeros_like(c0, dz.dtype)
    for t in range(n_steps - 1, -1, -1):
        dh = gh[t] + dh_next
        dc = gc[t] + dc_next + dh * coef_hc[t]
        np.multiply(dc[:, None], coef[t, :, :3], out=dz[t, :, :3])
        np.multiply(dh, coef[t, :, 3], out=dz[t, :, 3])
        dh_next = _mm(dz[t].reshape(batch, 4 * u), rk_t)
        if m is not None:
            dh_next += dh * carry_h[t]
        dc_next = dc * carry_c[t]

    dz = dz.reshape(n_steps, batch, 4 * u)
    dkernel, drecurrent = _weight_grads(xs, h_prev, dz, dz)
    dx = _unsteps(_project(dz, kernel.T, 0), go_backwards)
    return dx, dh_next, dc_next, dkernel, drecurrent, dz.sum(axis=(0, 1)), None


def lstm_naive(
    x: Array,
    h0: Array,
    c0: Array,
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
    mask: Array | None = None,
    *,
    activation: str | None = "tanh",
    recurrent_activation: str | None = "sigmoid",
    go_backwards: bool = False,
) -> tuple[Array, Array]:
    """Textbook step-by-step `lstm` (as ``LSTMCell.call`` + Keras's RNN loop); for testing."""
    act, _ = _activation(activation)
    ract, _ = _activation(recurrent_activation)
    order = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    h, c, hs, cs = h0, c0, [], []
    for t in order:
        z = _mm(x[:, t], kernel) + _mm(h, recurrent_kernel) + bias
        z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
        i, f, o = ract(z_i), ract(z_f), ract(z_o)
        c_new = f * c + i * act(z_c)
        h_new = o * act(c_new)
        if mask is not None:
            keep = np.asarray(mask, bool)[:, t, None]
            h_new, c_new = np.where(keep, h_new, h), np.where(keep, c_new, c)
        h, c = h_new, c_new
        hs.append(h)
        cs.append(c)
    return np.stack(hs, axis=1), np.stack(cs, axis=1)


# ---------------------------------------------------------------------------------------------
# GRU (reset_after=True, the Keras 3 default) and SimpleRNN: same conventions, one state.
# ---------------------------------------------------------------------------------------------


def gru(
    x: Array,
    h0: Array,
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
    mask: Array | None = None,
    *,
    activation: str | None = "tanh",
    recurrent_activation: str | None = "sigmoid",
    go_backwards: bool = False,
) -> Array:
    """Run a Keras GRU (``reset_after=True``) over a sequence; return the hidden sequence.

    Per processed step, as ``keras.layers.GRUCell`` computes it::

        xz = x_t @ kernel + bias[0]; hz = h_{t-1} @ recurrent_kernel + bias[1]  # [z | r | h]
        z = recurrent_activation(xz_z + hz_z)     r = recurrent_activation(xz_r + hz_r)
        hh = activation(xz_h + r * hz_h)          # reset gate applied after the matmul
        h_t = z * h_{t-1} + (1 - z) * hh

    Shapes: ``kernel (features, 3u)``, ``recurrent_kernel (u, 3u)``, ``bias (2, 3u)`` (input and
    recurrent bias rows; zeros for ``use_bias=False``). Masking and ``go_backwards`` as in the
    module docstring. Returns ``h_seq`` ``(batch, time, units)`` in processing order.
    """
    act, _ = _activation(activation)
    ract, _ = _activation(recurrent_activation)
    u = h0.shape[-1]
    xz = _project(_steps(x, go_backwards), kernel, bias[0])
    m = _mask_steps(mask, go_backwards)
    hs = np.empty(xz.shape[:2] + (u,), np.result_type(xz, h0, recurrent_kernel))
    h = h0
    for t in range(xz.shape[0]):
        hz = _mm(h, recurrent_kernel) + bias[1]
        zr = ract(xz[t, :, : 2 * u] + hz[:, : 2 * u])
        hh = act(xz[t, :, 2 * u :] + zr[:, u:] * hz[:, 2 * u :])
        h_new = hh + zr[:, :u] * (h - hh)
        hs[t] = h = h_new if m is None else np.where(m[t], h_new, h)
    return _seq(hs)


def gru_vjp(
    g: Array,
    out: Array,
    x: Array,
    h0: Array,
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
    mask: Array | None = None,
    *,
    activation: str | None = "tanh",
    recurrent_activation: str | None = "sigmoid",
    go_backwards: bool = False,
) -> tuple[Array, Array, Array, Array, Array, None]:
    """VJP of `gru`; returns ``(dx, dh0, dkernel, drecurrent_kernel, dbias, None)``."""
    act, dact = _activation(activation)
    ract, dract = _activation(recurrent_activation)
    u = h0.shape[-1]
    hs, gh = np.swapaxes(out, 0, 1), np.swapaxes(g, 0, 1)
    xs = _steps(x, go_backwards)
    h_prev = _shift(hs, h0)
    n_steps, batch = xs.shape[:2]

    xz = _project(xs, kernel, bias[0])
    hz = _project(h_prev, recurrent_kernel, bias[1])
    pre_zr = xz[..., : 2 * u] + hz[..., : 2 * u]
    zr = ract(pre_zr)
    dzr = dract(pre_zr, zr)
    z, r = zr[..., :u], zr[..., u:]
    a = xz[..., 2 * u :] + r * hz[..., 2 * u :]
    hh = act(a)
    # coef[k] = d(pre-activation k, x side) / dh_t for k in [z, r, h]; the recurrent side of the
    # h block additionally goes through the reset gate (coef_rec).
    coef = np.empty((n_steps, batch, 3, u), zr.dtype)
    np.multiply(1 - z, dact(a, hh), out=coef[:, :, 2])
    np.multiply(h_prev - hh, dzr[..., :u], out=coef[:, :, 0])
    np.multiply(coef[:, :, 2] * hz[..., 2 * u :], dzr[..., u:], out=coef[:, :, 1])
    carry = z
    m = _mask_steps(mask, go_backwards)
    if m is not None:
        coef = np.where(m[:, :, None], coef, 0)
        carry = np.where(m, z, 1)
    coef_rec = coef.copy()
    coef_rec[:, :, 2] *= r

    dhz = np.empty((n_steps, batch, 3, u), np.result_type(coef, gh))
    dh_all = np.empty((n_steps, batch, u), dhz.dtype)
    rk_t = np.ascontiguousarray(recurrent_kernel.T)  # BLAS is ~2x faster than on the view
    dh_next = np.zeros_like(h0, dhz.dtype)
    for t in range(n_steps - 1, -1, -1):
        dh_all[t] = dh = gh[t] + dh_next
        np.multiply(dh[:, None], coef_rec[t], out=dhz[t])
        dh_next = _mm(dhz[t].reshape(batch, 3 * u), rk_t) + dh * carry[t]

    dxz = (dh_all[:, :, None] * coef).reshape(n_steps, batch, 3 * u)
    dhz = dhz.reshape(n_steps, batch, 3 * u)
    dkernel, drecurrent = _weight_grads(xs, h_prev, dxz, dhz)
    dbias = np.stack([dxz.sum(axis=(0, 1)), dhz.sum(axis=(0, 1))])
    dx = _unsteps(_project(dxz, kernel.T, 0), go_backwards)
    return dx, dh_next, dkernel, drecurrent, dbias, None


def simple_rnn(
    x: Array,
    h0: Array,
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
    mask: Array | None = None,
    *,
    activation: str | None = "tanh",
    go_backwards: bool = False,
) -> Array:
    """Run a Keras SimpleRNN over a sequence; return the hidden sequence.

    Per processed step: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.
    Shapes: ``kernel (features, u)``, ``recurrent_kernel (u, u)``, ``bias (u,)``. Masking and
    ``go_backwards`` as in the module docstring. Returns ``h_seq`` ``(batch, time, units)``.
    """
    act, _ = _activation(activation)
    xz = _project(_steps(x, go_backwards), kernel, bias)
    m = _mask_steps(mask, go_backwards)
    hs = np.empty(xz.shape, np.result_type(xz, h0, recurrent_kernel))
    h = h0
    for t in range(xz.shape[0]):
        h_new = act(xz[t] + _mm(h, recurrent_kernel))
        hs[t] = h = h_new if m is None else np.where(m[t], h_new, h)
    return _seq(hs)


def simple_rnn_vjp(
    g: Array,
    out: Array,
    x: Array,
    h0: Array,
    kernel: Array,
    recurrent_kernel: Array,
    bias: Array,
    mask: Array | None = None,
    *,
    activation: str | None = "tanh",
    go_backwards: bool = False,
) -> tuple[Array, Array, Array, Array, Array, None]:
    """VJP of `simple_rnn`; returns ``(dx, dh0, dkernel, drecurrent_kernel, dbias, None)``."""
    _, dact = _activation(activation)
    hs, gh = np.swapaxes(out, 0, 1), np.swapaxes(g, 0, 1)
    xs = _steps(x, go_backwards)
    h_prev = _shift(hs, h0)
    # hs equals activation(a) wherever it matters: at masked steps the coefficient is zeroed.
    coef = dact(_project(xs, kernel, bias) + _project(h_prev, recurrent_kernel, 0), hs)
    m = _mask_steps(mask, go_backwards)
    if m is not None:
        coef = np.where(m, coef, 0)
        carry = (~m).astype(coef.dtype)

    da = np.empty(hs.shape, np.result_type(coef, gh))
    rk_t = np.ascontiguousarray(recurrent_kernel.T)  # BLAS is ~2x faster than on the view
    dh_next = np.zeros_like(h0, da.dtype)
    for t in range(hs.shape[0] - 1, -1, -1):
        dh = gh[t] + dh_next
        np.multiply(dh, coef[t], out=da[t])
        dh_next = _mm(da[t], rk_t)
        if m is not None:
            dh_next += dh * carry[t]

    dkernel, drecurrent = _weight_grads(xs, h_prev, da, da)
    dx = _unsteps(_project(da, kernel.T, 0), go_backwards)
    return dx, dh_next, dkernel, drecurrent, da.sum(axis=(0, 1)), None
