"""Tests for the fused recurrent primitives in refkeras.primitives.rnn.

Forward and VJP are checked against real Keras 3 (JAX backend) layers, against central finite
differences in float64, and the fast LSTM against its step-by-step reference.
"""

import os

import numpy as np
import pytest

from refkeras.primitives import rnn

B, T, F, U = 3, 5, 4, 3  # small, but batch/time/features/units all distinct

# One mask with a masked first step, a masked last step and a row of interior holes; reversing
# it (go_backwards) then also masks the first and last processed steps of some row.
MASK = np.array(
    [
        [False, True, True, False, True],
        [True, False, True, True, False],
        [True, True, False, False, True],
    ]
)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _params(kind: str, dtype, seed: int = 0, scale: float = 0.5):
    """x, h0, [c0,] kernel, recurrent_kernel, bias for an LSTM / GRU / SimpleRNN."""
    rng = _rng(seed)
    gates = {"lstm": 4, "gru": 3, "simple_rnn": 1}[kind]
    bias_shape = (2, 3 * U) if kind == "gru" else (gates * U,)
    shapes = [(B, T, F), (B, U)] + ([(B, U)] if kind == "lstm" else [])
    shapes += [(F, gates * U), (U, gates * U), bias_shape]
    return [(scale * rng.normal(size=s)).astype(dtype) for s in shapes]


# ---------------------------------------------------------------------------------------------
# Keras comparisons
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def _keras_layer(keras, kind, weights, **kw):
    cls = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple_rnn": keras.layers.SimpleRNN}
    layer = cls[kind](U, return_sequences=True, return_state=True, **kw)
    layer.build((B, T, F))
    layer.set_weights(weights)
    return layer


def _n_states(kind):
    return 2 if kind == "lstm" else 1


def _static(kind, activation, recurrent_activation, go_backwards):
    kw = {"activation": activation, "go_backwards": go_backwards}
    if kind != "simple_rnn":
        kw["recurrent_activation"] = recurrent_activation
    return kw


KERAS_CASES = [
    # (kind, activation, recurrent_activation, go_backwards, masked)
    ("lstm", "tanh", "sigmoid", False, False),
    ("lstm", "tanh", "sigmoid", False, True),
    ("lstm", "tanh", "sigmoid", True, True),
    ("lstm", "relu", "hard_sigmoid", True, True),
    ("gru", "tanh", "sigmoid", False, False),
    ("gru", "relu", "hard_sigmoid", True, True),
    ("simple_rnn", "tanh", None, True, True),
]
FNS = {"lstm": rnn.lstm, "gru": rnn.gru, "simple_rnn": rnn.simple_rnn}
VJPS = {"lstm": rnn.lstm_vjp, "gru": rnn.gru_vjp, "simple_rnn": rnn.simple_rnn_vjp}


@pytest.mark.parametrize("kind,act,ract,go_backwards,masked", KERAS_CASES)
def test_matches_keras_forward_and_vjp(keras, kind, act, ract, go_backwards, masked):
    """Forward vs the Keras layer (return_sequences + return_state, explicit initial state) and,
    on the JAX backend, the VJP vs `jax.vjp` of `layer.stateless_call` with random cotangents."""
    params = _params(kind, np.float32, seed=2)
    n = _n_states(kind)
    static = _static(kind, act, ract, go_backwards)
    layer = _keras_layer(keras, kind, params[1 + n :], **static)
    mask = MASK if masked else None
    out = FNS[kind](*params, mask, **static)
    seqs = out if kind == "lstm" else (out,)
    assert all(s.shape == (B, T, U) and s.dtype == np.float32 for s in seqs)

    if keras.backend.backend() != "jax":
        k_outs = layer(params[0], initial_state=list(params[1 : 1 + n]), mask=mask)
    else:
        import jax

        non_trainable = [v.value for v in layer.non_trainable_variables]

        def keras_fn(x, *rest):
            states, weights = list(rest[:n]), list(rest[n:])
            outs, _ = layer.stateless_call(
                weights, non_trainable, x, initial_state=states, mask=mask
            )
            return tuple(outs)

        k_outs, pullback = jax.vjp(keras_fn, *params)
    k_seq, *k_states = (np.asarray(a) for a in k_outs)
    np.testing.assert_allclose(seqs[0], k_seq, rtol=1e-5, atol=1e-5)
    for ours, theirs in zip(seqs, k_states):  # final h (and c) are the last processed step
        np.testing.assert_allclose(ours[:, -1], theirs, rtol=1e-5, atol=1e-5)
    if keras.backend.backend() != "jax":
        return

    rng = _rng(3)
    cts = [rng.normal(size=o.shape).astype(np.float32) for o in k_outs]
    expected = pullback(tuple(cts))
    # Keras returns (seq, h_T[, c_T]); the primitive returns full sequences, so the final-state
    # cotangents land on the last processed step.
    g_seq = [cts[0].copy()] + [np.zeros((B, T, U), np.float32) for _ in range(n - 1)]
    for k in range(n):
        g_seq[k][:, -1] += cts[1 + k]
    g = tuple(g_seq) if kind == "lstm" else g_seq[0]
    grads = VJPS[kind](g, out, *params, mask, **static)

    assert len(grads) == len(params) + 1 and grads[-1] is None
    for ours, theirs, p in zip(grads, expected, params):
        assert ours.shape == p.shape
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, atol=2e-5)


def test_lstm_default_initial_state_matches_keras(keras):
    x, _, _, *weights = _params("lstm", np.float32, seed=11)
    layer = _keras_layer(keras, "lstm", weights, activation="linear")
    k_seq, k_h, k_c = (np.asarray(a) for a in layer(x, mask=MASK))
    zeros = np.zeros((B, U), np.float32)
    h_seq, c_seq = rnn.lstm(x, zeros, zeros, *weights, MASK, activation="linear")
    np.testing.assert_allclose(h_seq, k_seq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h_seq[:, -1], k_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c_seq[:, -1], k_c, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_zero_output_for_mask(keras, go_backwards):
    """zero_output_for_mask=True is `where(mask, h_seq, 0)` on top of the primitive."""
    x, h0, c0, *weights = _params("lstm", np.float32, seed=1)
    layer = _keras_layer(
        keras, "lstm", weights, go_backwards=go_backwards, zero_output_for_mask=True
    )
    k_seq, k_h, k_c = (np.asarray(a) for a in layer(x, initial_state=[h0, c0], mask=MASK))
    h_seq, c_seq = rnn.lstm(x, h0, c0, *weights, MASK, go_backwards=go_backwards)
    step_mask = MASK[:, ::-1] if go_backwards else MASK
    np.testing.assert_allclose(np.where(step_mask[..., None], h_seq, 0), k_seq, atol=1e-5)
    np.testing.assert_allclose(h_seq[:, -1], k_h, atol=1e-5)  # states still carried over
    np.testing.assert_allclose(c_seq[:, -1], k_c, atol=1e-5)
    assert not np.allclose(h_seq, k_seq)  # the mask really did zero something


# ---------------------------------------------------------------------------------------------
# Finite differences (float64) and the naive reference
# ---------------------------------------------------------------------------------------------


def _numeric_vjp(fn, params, g, eps=1e-6):
    def dot(out):
        outs = out if isinstance(out, tuple) else (out,)
        return sum(float((gi * o).sum()) for gi, o in zip(g, outs))

    grads = []
    for p in params:
        d = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            plus = dot(fn(*params))
            p[idx] = old - eps
            minus = dot(fn(*params))
            p[idx] = old
            d[idx] = (plus - minus) / (2 * eps)
        grads.append(d)
    return grads


FD_CASES = [
    ("tanh", "sigmoid", False, None),
    ("tanh", "sigmoid", True, MASK),
    ("tanh", "sigmoid", False, MASK),
    ("relu", "hard_sigmoid", True, MASK),
    ("sigmoid", "tanh", False, None),
    ("linear", "sigmoid", True, None),
]


@pytest.mark.parametrize("kind", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize("act,ract,go_backwards,mask", FD_CASES)
def test_vjp_matches_finite_differences(kind, act, ract, go_backwards, mask):
    params = _params(kind, np.float64, seed=4, scale=0.7)
    static = _static(kind, act, ract, go_backwards)
    fn, vjp = FNS[kind], VJPS[kind]
    out = fn(*params, mask, **static)
    outs = out if isinstance(out, tuple) else (out,)
    rng = _rng(5)
    g = tuple(rng.normal(size=o.shape) for o in outs)

    grads = vjp(g if kind == "lstm" else g[0], out, *params, mask, **static)
    expected = _numeric_vjp(lambda *a: fn(*a, mask, **static), params, g)
    assert grads[-1] is None
    for ours, theirs in zip(grads, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_lstm_vjp_accepts_missing_cotangent():
    params = _params("lstm", np.float64, seed=6)
    out = rnn.lstm(*params)
    g_h = _rng(7).normal(size=out[0].shape)
    with_none = rnn.lstm_vjp((g_h, None), out, *params)
    with_zeros = rnn.lstm_vjp((g_h, np.zeros_like(out[1])), out, *params)
    for a, b in zip(with_none[:-1], with_zeros[:-1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")])
def test_lstm_matches_naive(go_backwards, mask, act, ract):
    params = _params("lstm", np.float64, seed=8, scale=1.0)
    static = {"activation": act, "recurrent_activation": ract, "go_backwards": go_backwards}
    fast = rnn.lstm(*params, mask, **static)
    slow = rnn.lstm_naive(*params, mask, **static)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_masking_semantics():
    """Masked steps repeat the carried state (h0 before any unmasked step) and pass gradients
    straight through; a fully masked row returns its initial state everywhere."""
    x, h0, c0, *weights = _params("lstm", np.float64, seed=9)
    mask = MASK.copy()
    mask[2] = False
    h_seq, c_seq = rnn.lstm(x, h0, c0, *weights, mask)
    np.testing.assert_array_equal(h_seq[0, 0], h0[0])  # first step masked
    np.testing.assert_array_equal(h_seq[0, 3], h_seq[0, 2])
    np.testing.assert_array_equal(c_seq[1, 4], c_seq[1, 3])
    np.testing.assert_array_equal(h_seq[2], np.broadcast_to(h0[2], (T, U)))

    g = (np.ones_like(h_seq), np.ones_like(c_seq))
    dx, dh0, dc0, *_ = rnn.lstm_vjp(g, (h_seq, c_seq), x, h0, c0, *weights, mask)
    np.testing.assert_array_equal(dx[~mask], 0)  # masked inputs do not influence anything
    np.testing.assert_array_equal(dh0[2], T)  # fully masked row: identity at every step
    np.testing.assert_array_equal(dc0[2], T)
    assert np.all(dx[mask] != 0)


def test_go_backwards_is_reversed_processing():
    """go_backwards == running forwards on the time-reversed input and mask."""
    x, h0, c0, *weights = _params("lstm", np.float64, seed=10)
    back = rnn.lstm(x, h0, c0, *weights, MASK, go_backwards=True)
    fwd = rnn.lstm(x[:, ::-1], h0, c0, *weights, MASK[:, ::-1])
    for a, b in zip(back, fwd):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_unknown_activation_raises():
    with pytest.raises(ValueError, match="activation"):
        rnn.lstm(*_params("lstm", np.float64), activation="softmax")
