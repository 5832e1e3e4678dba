"""Fused recurrent primitives with ``lax.scan``: LSTM, GRU (``reset_after=True``), SimpleRNN
(mirrors :mod:`refkeras.primitives.rnn`; read its module docstring for the conventions).

Shared conventions, as Keras 3: ``x`` is ``(batch, time, features)``, states ``(batch, units)``;
``go_backwards`` processes time from last to first and returns sequences in *processing order*;
where ``mask[:, t]`` is False the states carry over unchanged.  Internally the scan runs
time-major in processing order; the input projection of all steps is one matmul before it.

VJPs are ``jax.vjp`` of the forward (the scan's transpose is a reverse scan), with ``None`` for
the mask.  Forward and VJP are ``jax.jit``-compiled with static activation names, so eager calls
reuse one compiled program per shape (a fresh ``lax.scan`` would otherwise be retraced and
compiled on every call).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

_PRECISION = lax.Precision.HIGHEST


def _sigmoid(z):
    """The reference's form ``0.5 * tanh(z / 2) + 0.5`` (same values, no overflow)."""
    return 0.5 * jnp.tanh(0.5 * z) + 0.5


def _hard_sigmoid(z):
    """Keras 3: ``clip(z / 6 + 1/2, 0, 1)``; written with ``where`` so that the derivative at
    the corners z = +-3 is 0, as the reference's."""
    inside = (z > -3) & (z < 3)
    return jnp.where(inside, z / 6.0 + 0.5, jnp.where(z >= 3, 1.0, 0.0).astype(z.dtype))


_ACTIVATIONS = {
    "tanh": jnp.tanh,
    "sigmoid": _sigmoid,
    "relu": jax.nn.relu,  # derivative 0 at 0 (jnp.maximum would give 1/2)
    "linear": lambda z: z,
    "hard_sigmoid": _hard_sigmoid,
}


def _activation(name):
    try:
        return _ACTIVATIONS["linear" if name is None else name]
    except KeyError:
        known = sorted(_ACTIVATIONS)
        raise ValueError(f"Unsupported RNN activation {name!r}; known: {known}") from None


def _steps(a, go_backwards: bool):
    """(batch, time, ...) -> (time, batch, ...) in processing order."""
    a = jnp.swapaxes(a, 0, 1)
    return a[::-1] if go_backwards else a


def _mask_steps(mask, go_backwards: bool):
    return None if mask is None else _steps(jnp.asarray(mask, bool), go_backwards)[..., None]


def _dot(a, b):
    return jnp.matmul(a, b, precision=_PRECISION)


def _scan(step, init, xz, m):
    """Scan ``step(carry, xz_t) -> new carry`` over time; masked steps keep the carry.  Returns
    the stacked carries (time-major)."""

    def body(carry, inputs):
        xz_t, m_t = inputs
        new = step(carry, xz_t)
        if m_t is not None:
            new = tuple(jnp.where(m_t, n, c) for n, c in zip(new, carry))
        return new, new

    _, seq = lax.scan(body, init, (xz, m))
    return seq


_STATIC = ("activation", "recurrent_activation", "go_backwards")


@functools.partial(jax.jit, static_argnames=_STATIC)
def _lstm(
    x,
    h0,
    c0,
    kernel,
    recurrent_kernel,
    bias,
    mask,
    *,
    activation,
    recurrent_activation,
    go_backwards,
):
    act, ract = _activation(activation), _activation(recurrent_activation)
    u = h0.shape[-1]
    xz = _dot(_steps(x, go_backwards), kernel) + bias

    def step(carry, xz_t):
        h, c = carry
        z = xz_t + _dot(h, recurrent_kernel)
        i, f, o = ract(z[:, :u]), ract(z[:, u : 2 * u]), ract(z[:, 3 * u :])
        c_new = f * c + i * act(z[:, 2 * u : 3 * u])
        return o * act(c_new), c_new

    hs, cs = _scan(step, (h0, c0), xz, _mask_steps(mask, go_backwards))
    return jnp.swapaxes(hs, 0, 1), jnp.swapaxes(cs, 0, 1)


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
    """Keras LSTM over a whole sequence (gate columns ``[i | f | c | o]``)::

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias
        c_t = f * c_{t-1} + i * activation(z_c),   h_t = o * activation(c_t)

    Returns ``(h_seq, c_seq)``, each ``(batch, time, units)`` in processing order.
    """
    return _lstm(
        x,
        h0,
        c0,
        kernel,
        recurrent_kernel,
        bias,
        mask,
        activation=activation,
        recurrent_activation=recurrent_activation,
        go_backwards=go_backwards,
    )


@functools.partial(jax.jit, static_argnames=_STATIC)
def _lstm_vjp(g, x, h0, c0, kernel, recurrent_kernel, bias, mask, **static):
    _, pullback = jax.vjp(
        lambda *a: _lstm(*a, mask, **static), x, h0, c0, kernel, recurrent_kernel, bias
    )
    return pullback(g)


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
    """VJP of ``lstm``: ``g = (g_hseq, g_cseq)`` (``None`` entries are zero).  Returns
    ``(dx, dh0, dc0, dkernel, drecurrent_kernel, dbias, None)``."""
    g = tuple(jnp.zeros(o.shape, o.dtype) if gi is None else gi for gi, o in zip(g, out))
    grads = _lstm_vjp(
        g,
        x,
        h0,
        c0,
        kernel,
        recurrent_kernel,
        bias,
        mask,
        activation=activation,
        recurrent_activation=recurrent_activation,
        go_backwards=go_backwards,
    )
    return (*grads, None)


@functools.partial(jax.jit, static_argnames=_STATIC)
def _gru(
    x, h0, kernel, recurrent_kernel, bias, mask, *, activation, recurrent_activation, go_backwards
):
    act, ract = _activation(activation), _activation(recurrent_activation)
    u = h0.shape[-1]
    xz = _dot(_steps(x, go_backwards), kernel) + bias[0]

    def step(carry, xz_t):
        (h,) = carry
        hz = _dot(h, recurrent_kernel) + bias[1]
        z = ract(xz_t[:, :u] + hz[:, :u])
        r = ract(xz_t[:, u : 2 * u] + hz[:, u : 2 * u])
        hh = act(xz_t[:, 2 * u :] + r * hz[:, 2 * u :])
        return (z * h + (1 - z) * hh,)

    (hs,) = _scan(step, (h0,), xz, _mask_steps(mask, go_backwards))
    return jnp.swapaxes(hs, 0, 1)


def gru(
    x,
    h0,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    go_backwards=False,
):
    """Keras GRU (``reset_after=True``) over a sequence; ``bias`` is ``(2, 3u)`` (input and
    recurrent rows), gate columns ``[z | r | h]``::

        xz = x_t @ kernel + bias[0];  hz = h_{t-1} @ recurrent_kernel + bias[1]
        hh = activation(xz_h + r * hz_h);  h_t = z * h_{t-1} + (1 - z) * hh

    Returns ``h_seq`` ``(batch, time, units)`` in processing order.
    """
    return _gru(
        x,
        h0,
        kernel,
        recurrent_kernel,
        bias,
        mask,
        activation=activation,
        recurrent_activation=recurrent_activation,
        go_backwards=go_backwards,
    )


@functools.partial(jax.jit, static_argnames=_STATIC)
def _gru_vjp(g, x, h0, kernel, recurrent_kernel, bias, mask, **static):
    _, pullback = jax.vjp(
        lambda *a: _gru(*a, mask, **static), x, h0, kernel, recurrent_kernel, bias
    )
    return pullback(g)


def gru_vjp(
    g,
    out,
    x,
    h0,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    *,
    activation="tanh",
    recurrent_activation="sigmoid",
    go_backwards=False,
):
    """VJP of ``gru``: ``(dx, dh0, dkernel, drecurrent_kernel, dbias, None)``."""
    grads = _gru_vjp(
        g,
        x,
        h0,
        kernel,
        recurrent_kernel,
        bias,
        mask,
        activation=activation,
        recurrent_activation=recurrent_activation,
        go_backwards=go_backwards,
    )
    return (*grads, None)


@functools.partial(jax.jit, static_argnames=("activation", "go_backwards"))
def _simple_rnn(x, h0, kernel, recurrent_kernel, bias, mask, *, activation, go_backwards):
    act = _activation(activation)
    xz = _dot(_steps(x, go_backwards), kernel) + bias

    def step(carry, xz_t):
        return (act(xz_t + _dot(carry[0], recurrent_kernel)),)

    (hs,) = _scan(step, (h0,), xz, _mask_steps(mask, go_backwards))
    return jnp.swapaxes(hs, 0, 1)


def simple_rnn(
    x, h0, kernel, recurrent_kernel, bias, mask=None, *, activation="tanh", go_backwards=False
):
    """Keras SimpleRNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.
    Returns ``h_seq`` ``(batch, time, units)`` in processing order."""
    return _simple_rnn(
        x,
        h0,
        kernel,
        recurrent_kernel,
        bias,
        mask,
        activation=activation,
        go_backwards=go_backwards,
    )


@functools.partial(jax.jit, static_argnames=("activation", "go_backwards"))
def _simple_rnn_vjp(g, x, h0, kernel, recurrent_kernel, bias, mask, **static):
    _, pullback = jax.vjp(
        lambda *a: _simple_rnn(*a, mask, **static), x, h0, kernel, recurrent_kernel, bias
    )
    return pullback(g)


def simple_rnn_vjp(
    g,
    out,
    x,
    h0,
    kernel,
    recurrent_kernel,
    bias,
    mask=None,
    *,
    activation="tanh",
    go_backwards=False,
):
    """VJP of ``simple_rnn``: ``(dx, dh0, dkernel, drecurrent_kernel, dbias, None)``."""
    grads = _simple_rnn_vjp(
        g,
        x,
        h0,
        kernel,
        recurrent_kernel,
        bias,
        mask,
        activation=activation,
        go_backwards=go_backwards,
    )
    return (*grads, None)
