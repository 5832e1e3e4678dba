"""The Numba LSTM kernels against the NumPy reference: forward and VJP (random cotangents, also
``None`` for the cell sequence), float32 and float64, masks, ``go_backwards``, batch 1; and the
declared fallback to the reference for other activations and dtypes."""

import numpy as np
import pytest

pytest.importorskip("numba")

from accel.numba import rnn as nrnn  # noqa: E402
from refkeras.primitives import rnn as ref  # noqa: E402


def _arrays(batch, steps, features, units, dtype, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(batch, steps, features), (batch, units), (batch, units)]
    shapes += [(features, 4 * units), (units, 4 * units), (4 * units,)]
    return [rng.normal(size=s).astype(dtype) for s in shapes]


def _close(expected, actual, dtype, what):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape, what
    # float32: the kernel's tanh is within 7 ulp of the exact one (NumPy's within 1.4)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    scale = max(float(np.max(np.abs(expected))), 1.0)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("batch,steps,features,units", [(3, 5, 2, 4), (1, 1, 3, 2), (4, 7, 3, 9)])
def test_lstm_matches_reference(batch, steps, features, units, masked, go_backwards, dtype):
    arrays = _arrays(batch, steps, features, units, dtype)
    rng = np.random.default_rng(1)
    mask = rng.random((batch, steps)) > 0.3 if masked else None
    kw = dict(go_backwards=go_backwards)
    out = ref.lstm(*arrays, mask, **kw)
    actual = nrnn.lstm(*arrays, mask, **kw)
    for i, (e, a) in enumerate(zip(out, actual)):
        _close(e, a, dtype, f"output {i}")
    for g in [tuple(rng.normal(size=o.shape).astype(dtype) for o in out), (out[0] * 0 + 1, None)]:
        expected = ref.lstm_vjp(g, out, *arrays, mask, **kw)
        got = nrnn.lstm_vjp(g, out, *arrays, mask, **kw)
        assert got[-1] is None and expected[-1] is None
        for i, (e, a) in enumerate(zip(expected[:-1], got[:-1])):
            _close(e, a, dtype, f"cotangent {i}")


@pytest.mark.parametrize(
    "activation,recurrent_activation,dtype",
    [("relu", "hard_sigmoid", np.float32), ("tanh", "sigmoid", np.float16)],
)
def test_other_activations_and_dtypes_run_the_reference(activation, recurrent_activation, dtype):
    arrays = _arrays(2, 3, 2, 3, dtype)
    kw = dict(activation=activation, recurrent_activation=recurrent_activation)
    out = ref.lstm(*arrays, **kw)
    for e, a in zip(out, nrnn.lstm(*arrays, **kw)):
        np.testing.assert_array_equal(a, e)
    g = tuple(np.ones_like(o) for o in out)
    for e, a in zip(ref.lstm_vjp(g, out, *arrays, **kw)[:-1], nrnn.lstm_vjp(g, out, *arrays, **kw)):
        np.testing.assert_array_equal(a, e)


def test_tanh32_is_within_a_few_ulp():
    x = np.concatenate([np.linspace(-10, 10, 200_001), [0.0, -0.0, 1e-30, np.inf, -np.inf]])
    x = x.astype(np.float32)
    exact = np.tanh(x.astype(np.float64))
    got = np.empty_like(x)
    nrnn._tanh_into(x, got)
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(got - exact) / ulp) < 8
    out = np.empty(1, np.float32)
    nrnn._tanh_into(np.array([np.nan], np.float32), out)
    assert np.isnan(out[0])
