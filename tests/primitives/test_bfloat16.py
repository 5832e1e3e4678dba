"""bfloat16 is a float: results keep it and gradients flow through it (ml_dtypes' bfloat16 is not
a NumPy ``inexact`` subtype and its matmul widens to float32; the reference corrects both)."""

import ml_dtypes
import numpy as np
import pytest

from refkeras.primitives import conv, elementwise, linalg, rnn

BF16 = np.dtype(ml_dtypes.bfloat16)


def test_matmul_keeps_bfloat16_and_its_vjp_too():
    a = np.array([[1.0, 2.0, 3.0]], BF16)
    b = np.array([[1.0], [0.5], [0.25]], BF16)
    out = linalg.matmul(a, b)
    assert out.dtype == BF16 and float(out[0, 0]) == 2.75
    da, db = linalg.matmul_vjp(np.ones((1, 1), BF16), out, a, b)
    assert da.dtype == BF16 and db.dtype == BF16
    np.testing.assert_array_equal(da.astype(np.float32), [[1.0, 0.5, 0.25]])


def test_gradient_flows_through_a_cast_from_and_to_bfloat16():
    x = np.array([1.5, -2.0], BF16)
    up = elementwise.cast(x, dtype="float32")
    (gx,) = elementwise.cast_vjp(np.array([3.0, 4.0], np.float32), up, x, dtype="float32")
    assert gx is not None and gx.dtype == BF16
    np.testing.assert_array_equal(gx.astype(np.float32), [3.0, 4.0])
    y = np.array([1.5], np.float32)
    down = elementwise.cast(y, dtype="bfloat16")
    (gy,) = elementwise.cast_vjp(np.ones(1, BF16), down, y, dtype="bfloat16")
    assert gy is not None and gy.dtype == np.float32


def test_erf_vjp_keeps_the_input_dtype():
    x = np.array([0.0, 1.0], BF16)
    (g,) = elementwise.erf_vjp(np.ones(2, BF16), elementwise.erf(x), x)
    assert g.dtype == BF16
    np.testing.assert_allclose(g.astype(np.float32), [2 / np.sqrt(np.pi), 0.4151], rtol=1e-2)


# conv and the fused RNNs multiply with ``@`` inside and use float constants in their activations:
# both widen bfloat16 to float32 in NumPy, so without care they return (and, for the RNNs, carry
# their state in) float32, unlike Keras/JAX.
_RNG = np.random.default_rng(3)


def _bf16(*shape, scale=1.0):
    return (_RNG.normal(size=shape) * scale).astype(BF16)


def _close_to_f64(got, fn, args, **params):
    """``got`` (bfloat16) agrees with ``fn`` run in float64 on the same (bfloat16-exact) inputs
    to a few bfloat16 roundings."""
    want = fn(*[None if a is None else a.astype(np.float64) for a in args], **params)
    for g, w in zip(
        got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)
    ):
        if w is not None:
            np.testing.assert_allclose(g.astype(np.float64), w, rtol=0.05, atol=0.05)


def test_conv_and_its_vjp_keep_bfloat16():
    x, kernel = _bf16(2, 6, 4), _bf16(3, 2, 6, scale=0.5)
    params = dict(strides=1, padding="causal", dilation_rate=2, groups=2)
    out = conv.conv(x, kernel, **params)
    assert out.dtype == BF16
    _close_to_f64(out, conv.conv, (x, kernel), **params)
    g = _bf16(*out.shape)
    grads = conv.conv_vjp(g, out, x, kernel, **params)
    assert [c.dtype for c in grads] == [BF16, BF16]
    _close_to_f64(
        grads, lambda g, o, x, k, **p: conv.conv_vjp(g, o, x, k, **p), (g, out, x, kernel), **params
    )


def _rnn_args(name, units=3, mask=False):
    blocks = {"lstm": 4, "gru": 3, "simple_rnn": 1}[name]
    states = [_bf16(2, units)] * (2 if name == "lstm" else 1)
    bias = (
        _bf16(2, blocks * units, scale=0.1) if name == "gru" else _bf16(blocks * units, scale=0.1)
    )
    m = np.array([[True, False, True, True], [True, True, True, False]]) if mask else None
    return [_bf16(2, 4, 2), *states, _bf16(2, blocks * units, scale=0.5),
            _bf16(units, blocks * units, scale=0.5), bias, m]  # fmt: skip


@pytest.mark.parametrize("name", ["lstm", "gru", "simple_rnn"])
@pytest.mark.parametrize(
    "activation,recurrent_activation",
    [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("linear", "sigmoid")],
)
def test_rnns_and_their_vjps_keep_bfloat16(name, activation, recurrent_activation):
    fwd, vjp = getattr(rnn, name), getattr(rnn, f"{name}_vjp")
    params = {"activation": activation, "go_backwards": True}
    if name != "simple_rnn":
        params["recurrent_activation"] = recurrent_activation
    args = _rnn_args(name, mask=True)
    out = fwd(*args, **params)
    outs = out if isinstance(out, tuple) else (out,)
    assert [o.dtype for o in outs] == [BF16] * len(outs)
    _close_to_f64(out, fwd, args, **params)
    g = tuple(_bf16(*o.shape) for o in outs)
    g = g if isinstance(out, tuple) else g[0]
    grads = vjp(g, out, *args, **params)
    assert [c.dtype for c in grads[:-1]] == [BF16] * (len(args) - 1) and grads[-1] is None
    f64 = [None if a is None else a.astype(np.float64) for a in args]
    out64 = fwd(*f64, **params)
    g64 = tuple(c.astype(np.float64) for c in g) if isinstance(g, tuple) else g.astype(np.float64)
    for c, w in zip(grads[:-1], vjp(g64, out64, *f64, **params)):
        np.testing.assert_allclose(c.astype(np.float64), w, rtol=0.05, atol=0.05)
