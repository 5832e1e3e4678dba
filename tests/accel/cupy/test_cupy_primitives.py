"""Every primitive of the CuPy backend, forward and VJP, against the NumPy reference.

One table of cases (inputs + static params); each case runs the reference on NumPy arrays and the
backend on device arrays (the stand-in unless ``REFKERAS_TEST_REAL_CUPY=1``), then compares the
outputs and, for one random cotangent, every input cotangent: same ``None`` pattern, same dtype,
values equal to float64 rounding (float32 cases: a few ulps).  The hypothesis conformance suite
(``conformance/``) explores configurations far more widely; this table pins at least one case per
primitive and the edge cases the CuPy code handles differently from NumPy (scatter-adds with
repeated indices, boolean masks, dtype rules of integer reductions, ties and NaNs in pooling).
"""

from __future__ import annotations

import numpy as np
import pytest

from refkeras.primitives.interface import ALL_PRIMITIVES, reference_table

rng = np.random.default_rng(20240611)


def f64(*shape):
    return rng.normal(size=shape)


def f32(*shape):
    return rng.normal(size=shape).astype(np.float32)


def pos(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


X = f64(3, 4)
Y = f64(3, 4)
ROW = f64(4)
INT = rng.integers(-3, 4, size=(3, 4)).astype(np.int32)
BOOL = X > 0
TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.0, 5.0, -5.0, 5.0]])
_ = slice(None)

UNARY = ["negative", "exp", "expm1", "square", "abs", "tanh", "sigmoid", "relu"]
UNARY += ["softplus", "sin", "cos", "erf", "sign", "floor", "ceil"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum"]
COMPARE = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]

LSTM_ARGS = [f64(2, 5, 3), f64(2, 4), f64(2, 4), f64(3, 16) * 0.5, f64(4, 16) * 0.5, f64(16)]
GRU_ARGS = [f64(2, 5, 3), f64(2, 4), f64(3, 12) * 0.5, f64(4, 12) * 0.5, f64(2, 12)]
RNN_ARGS = [f64(2, 5, 3), f64(2, 4), f64(3, 4) * 0.5, f64(4, 4) * 0.5, f64(4)]
MASK = np.array([[True, True, False, True, False], [False, True, True, True, True]])
POOL = {"pool_size": 2, "strides": None, "padding": "valid"}

CASES = (
    [pytest.param(n, [X], {}, id=n) for n in UNARY]
    + [pytest.param(n, [f32(2, 3)], {}, id=f"{n}-f32") for n in ["exp", "sigmoid", "erf"]]
    + [
        pytest.param("log", [pos(3, 4)], {}, id="log"),
        pytest.param("log1p", [pos(3, 4) - 1], {}, id="log1p"),
        pytest.param("sqrt", [pos(3, 4)], {}, id="sqrt"),
        pytest.param("abs", [np.array([-1.0, 0.0, 2.0])], {}, id="abs-at-zero"),
        pytest.param("relu", [np.array([-1.0, 0.0, 2.0])], {}, id="relu-at-zero"),
        pytest.param("sigmoid", [np.array([-800.0, 0.0, 800.0])], {}, id="sigmoid-extreme"),
        pytest.param("round", [X * 3], {"decimals": 0}, id="round"),
        pytest.param("round", [X * 3], {"decimals": 1}, id="round-1"),
        pytest.param("cast", [X], {"dtype": np.dtype("float32")}, id="cast-f64-f32"),
        pytest.param("cast", [X * 3], {"dtype": np.dtype("int32")}, id="cast-to-int"),
        pytest.param("cast", [INT], {"dtype": np.dtype("float32")}, id="cast-from-int"),
        pytest.param("clip", [TIES], {"x_min": 0.0, "x_max": 3.0}, id="clip-ties"),
        pytest.param("clip", [f32(3, 4)], {"x_min": -0.5, "x_max": 0.5}, id="clip-f32"),
    ]
    + [pytest.param(n, [X, Y], {}, id=n) for n in BINARY]
    + [pytest.param(n, [X, ROW], {}, id=f"{n}-broadcast") for n in BINARY]
    + [
        pytest.param("maximum", [TIES, np.full((3, 4), 2.0)], {}, id="maximum-ties"),
        pytest.param("minimum", [TIES, np.full((1, 4), 2.0)], {}, id="minimum-ties"),
        pytest.param("power", [pos(3, 4), X], {}, id="power"),
        pytest.param("power", [np.array([0.0, 2.0, 3.0]), np.array([2.0])], {}, id="power-0"),
        pytest.param("where", [BOOL, X, ROW], {}, id="where"),
    ]
    + [pytest.param(n, [TIES, np.full((4,), 2.0)], {}, id=n) for n in COMPARE]
    + [
        pytest.param("logical_and", [BOOL, Y > 0], {}, id="logical_and"),
        pytest.param("logical_or", [BOOL, Y > 0], {}, id="logical_or"),
        pytest.param("logical_not", [BOOL], {}, id="logical_not"),
        pytest.param("isnan", [np.array([np.nan, 1.0, np.inf])], {}, id="isnan"),
        pytest.param("isfinite", [np.array([np.nan, 1.0, -np.inf])], {}, id="isfinite"),
    ]
    + [
        pytest.param(n, [X], p, id=f"{n}-{p}")
        for n in ["sum", "mean", "max", "min", "prod"]
        for p in [{}, {"axis": 1}, {"axis": (0,), "keepdims": True}]
    ]
    + [
        pytest.param("sum", [INT.astype(np.int8)], {"axis": 0}, id="sum-int8-accumulates-int32"),
        pytest.param("sum", [BOOL], {}, id="sum-bool"),
        pytest.param("prod", [INT.astype(np.uint8)], {"axis": 1}, id="prod-uint8"),
        pytest.param("prod", [np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0]])], {}, id="prod-zeros"),
        pytest.param("max", [TIES], {"axis": 1}, id="max-ties"),
        pytest.param("min", [TIES], {"axis": 0}, id="min-ties"),
        pytest.param("mean", [f32(3, 4)], {"axis": -1}, id="mean-f32"),
        pytest.param("mean", [INT], {}, id="mean-int"),
        pytest.param("cumsum", [X], {"axis": 1}, id="cumsum"),
        pytest.param("cumsum", [BOOL], {"axis": 0}, id="cumsum-bool"),
        pytest.param("argmax", [TIES], {"axis": 1}, id="argmax-ties"),
        pytest.param("argmax", [X], {}, id="argmax-flat"),
        pytest.param("argmin", [TIES], {"axis": 0, "keepdims": True}, id="argmin"),
    ]
    + [
        pytest.param("matmul", [f64(3, 4), f64(4, 2)], {}, id="matmul"),
        pytest.param("matmul", [f64(2, 3, 4), f64(4, 5)], {}, id="matmul-batch"),
        pytest.param("matmul", [f64(4), f64(2, 4, 3)], {}, id="matmul-1d-left"),
        pytest.param("matmul", [f64(3, 4), f64(4)], {}, id="matmul-1d-right"),
        pytest.param("einsum", [f64(2, 3), f64(3, 4)], {"subscripts": "ij,jk->ik"}, id="einsum"),
        pytest.param(
            "einsum", [f64(2, 5, 3), f64(1, 3)], {"subscripts": "...j,kj->...k"}, id="einsum-ell"
        ),
        pytest.param("einsum", [f64(2, 3), f64(4)], {"subscripts": "ij,k->ik"}, id="einsum-outer"),
    ]
    + [
        pytest.param("reshape", [X], {"shape": (2, -1)}, id="reshape"),
        pytest.param("transpose", [f64(2, 3, 4)], {"axes": (-1, 0, 1)}, id="transpose"),
        pytest.param("broadcast_to", [ROW], {"shape": (2, 3, 4)}, id="broadcast_to"),
        pytest.param("concatenate", [X, f64(3, 2), f64(3, 1)], {"axis": 1}, id="concatenate"),
        pytest.param("pad", [X], {"pad_width": ((1, 0), (2, 1))}, id="pad"),
        pytest.param(
            "pad", [X], {"pad_width": ((0, 1), (0, 0)), "constant_values": 2.5}, id="pad-c"
        ),
        pytest.param("tile", [X], {"repeats": (2, 1, 3)}, id="tile"),
        pytest.param("repeat", [X], {"repeats": 3, "axis": -1}, id="repeat"),
        pytest.param("flip", [X], {"axis": 0}, id="flip"),
        pytest.param("take", [X, np.array([[0, 2, 2], [-1, 0, 7]])], {"axis": 0}, id="take"),
        pytest.param("take", [X, np.array([3, 3, 0], np.int32)], {"axis": 1}, id="take-repeats"),
        pytest.param(
            "take_along_axis", [X, np.array([[0, 0], [3, 1], [-1, 2]])], {"axis": 1}, id="tala"
        ),
        pytest.param("take_along_axis", [X, np.array([[0, 3, 3]])], {"axis": 1}, id="tala-bcast"),
        pytest.param(
            "take_along_axis", [X, np.array([11, 0, 5, 5])], {"axis": None}, id="tala-flat"
        ),
    ]
    + [
        pytest.param("getitem", [X], {"key": key}, id=f"getitem-{name}")
        for name, key in {
            "slices": (_, slice(1, 3)),
            "step": (slice(None, None, 2), slice(3, 0, -2)),
            "int": 1,
            "newaxis-ellipsis": (None, Ellipsis, 2),
            "int-array-repeats": np.array([0, 2, 0, 1, 2, 2]),
            "list-axis1": (_, [3, 0, 3, 3]),
            "two-int-arrays": (np.array([0, 2, 2]), np.array([1, 1, 3])),
            "bool-mask": BOOL,
            "bool-rows": np.array([True, False, True]),
            "numpy-int": np.int64(2),
        }.items()
    ]
    + [
        pytest.param("softmax", [X * 10], {"axis": -1}, id="softmax"),
        pytest.param("softmax", [np.array([[1000.0, 0.0, -1000.0]])], {}, id="softmax-large"),
        pytest.param("log_softmax", [X], {"axis": 0}, id="log_softmax"),
    ]
    + [
        pytest.param(
            "conv",
            [f64(2, 6, 5, 4), f64(3, 2, 4 // g, 8)],
            {"strides": s, "padding": p, "dilation_rate": d, "groups": g},
            id=f"conv2d-s{s}-{p}-d{d}-g{g}",
        )
        for s, p, d, g in [
            (1, "valid", 1, 1),
            (2, "same", 1, 1),
            (1, "same", 2, 2),
            (1, "valid", 1, 4),
        ]
    ]
    + [
        pytest.param(
            "conv",
            [f32(2, 7, 3), f32(3, 3, 2)],
            {"strides": 1, "padding": "causal", "dilation_rate": 2},
            id="conv1d-causal-f32",
        ),
        pytest.param(
            "depthwise_conv",
            [f64(2, 5, 6, 3), f64(3, 2, 3, 2)],
            {"strides": (1, 2), "padding": "same", "dilation_rate": 1},
            id="depthwise",
        ),
    ]
    + [
        pytest.param(n, [f64(2, 5, 6, 3)], p, id=f"{n}-{i}")
        for n in ["max_pool", "average_pool"]
        for i, p in enumerate(
            [POOL, {"pool_size": (3, 2), "strides": 1, "padding": "same"}, {**POOL, "strides": 1}]
        )
    ]
    + [
        pytest.param("max_pool", [np.repeat(TIES[None, :, :, None], 2, 0)], POOL, id="pool-ties"),
        pytest.param(
            "max_pool",
            [np.array([[[1.0], [np.nan], [3.0], [2.0], [np.nan], [np.nan]]])],
            {"pool_size": 3, "strides": 1, "padding": "same"},
            id="pool-nan",
        ),
    ]
    + [
        pytest.param("lstm", LSTM_ARGS, {}, id="lstm"),
        pytest.param("lstm", [*LSTM_ARGS, MASK], {"go_backwards": True}, id="lstm-mask-back"),
        pytest.param(
            "lstm",
            LSTM_ARGS,
            {"activation": "relu", "recurrent_activation": "hard_sigmoid"},
            id="lstm-relu",
        ),
        pytest.param("gru", GRU_ARGS, {}, id="gru"),
        pytest.param("gru", [*GRU_ARGS, MASK], {"go_backwards": True}, id="gru-mask-back"),
        pytest.param("simple_rnn", RNN_ARGS, {}, id="simple_rnn"),
        pytest.param("simple_rnn", [*RNN_ARGS, MASK], {"activation": None}, id="rnn-mask-linear"),
    ]
)

REFERENCE = reference_table()


def test_every_primitive_has_a_case():
    covered = {c.values[0] for c in CASES}
    assert sorted(set(ALL_PRIMITIVES) - covered) == []


def test_the_table_is_every_primitive_and_no_more(cupy_backend):
    assert set(cupy_backend.primitives()) == set(ALL_PRIMITIVES)


def _cotangent(out, seed):
    """A random cotangent for a float output, zeros for an integer/bool one."""
    r = np.random.default_rng(seed)
    if out.dtype.kind != "f":
        return np.zeros(out.shape, np.float32)
    return r.normal(size=out.shape).astype(out.dtype)


def _close(actual_device, expected, backend, what):
    actual = backend.to_numpy(actual_device)
    assert isinstance(actual, np.ndarray), what
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    rtol = 1e-5 if expected.dtype == np.float32 else 1e-11
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol, err_msg=what)


@pytest.mark.parametrize("name,args,params", CASES)
def test_forward_and_vjp_match_the_reference(cupy_backend, xp, name, args, params):
    ref_fwd, ref_vjp = REFERENCE[name]
    fwd, vjp = cupy_backend.primitives()[name]
    device_args = [cupy_backend.asarray(a) for a in args]
    for d in device_args:
        assert isinstance(d, xp.ndarray)

    expected = ref_fwd(*args, **params)
    out = fwd(*device_args, **params)
    expected_t = expected if isinstance(expected, tuple) else (expected,)
    out_t = out if isinstance(out, tuple) else (out,)
    assert len(out_t) == len(expected_t)
    for i, (o, e) in enumerate(zip(out_t, expected_t)):
        assert isinstance(o, xp.ndarray), f"output {i} is {type(o)}, not a device array"
        _close(o, e, cupy_backend, f"{name} output {i}")

    g = tuple(_cotangent(e, i) for i, e in enumerate(expected_t))
    g_ref, g_dev = (g, tuple(cupy_backend.asarray(a) for a in g))
    if not isinstance(expected, tuple):
        g_ref, g_dev = g_ref[0], g_dev[0]
    expected_grads = ref_vjp(g_ref, expected, *args, **params)
    grads = vjp(g_dev, out, *device_args, **params)
    assert len(grads) == len(expected_grads) >= len(args)  # RNNs: a None for an absent mask
    for i, (d, e) in enumerate(zip(grads, expected_grads)):
        assert (d is None) == (e is None), f"{name} cotangent {i}: None pattern differs"
        if e is not None:
            assert isinstance(d, xp.ndarray), f"cotangent {i} is {type(d)}, not a device array"
            _close(d, np.asarray(e), cupy_backend, f"{name} cotangent {i}")
