"""Every primitive of the Numba backend against the NumPy reference: forward and VJP (with a
random cotangent) on the cases of ``tests/primitives/`` (float64, and float32 where the case is
floating point), dtypes and shapes included; and the table is complete."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

from accel.numba import NumbaBackend  # noqa: E402
from accel.numba.backend import (  # noqa: E402
    PARTLY_SHARED_WITH_REFERENCE,
    SHARED_WITH_REFERENCE,
)
from refkeras.primitives.interface import ALL_PRIMITIVES, FAMILY_OF, reference_table  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[2] / "primitives"))
FAMILIES = ("elementwise", "reduce", "shape", "nn", "pool", "linalg", "conv", "rnn")
REFERENCE = reference_table()
NUMBA = NumbaBackend().primitives()


def _cases():
    cases = []
    for family in FAMILIES:
        module = importlib.import_module(f"test_{family}")
        for i, case in enumerate(getattr(module, "CASES", [])):
            values, case_id = (case.values, case.id) if hasattr(case, "values") else (case, i)
            if not isinstance(values[0], str) or not isinstance(values[2], dict):
                continue
            name, arrays, params = values[:3]
            cases.append(pytest.param(name, list(arrays), params, id=f"{family}-{name}-{case_id}"))
    return cases


CASES = _cases()


def _tolerance(dtype):
    return (1e-12, 1e-12) if dtype == np.float64 else (2e-5, 2e-6)


def _assert_same(expected, actual, what):
    if expected is None or actual is None:
        assert expected is None and actual is None, what
        return
    expected, actual = np.asarray(expected), np.asarray(actual)
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if expected.dtype.kind in "fc":
        rtol, atol = _tolerance(expected.dtype)
        scale = np.max(np.abs(np.nan_to_num(expected, posinf=0, neginf=0)), initial=1.0)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale, err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


def _as(arrays, dtype):
    def convert(a):
        if isinstance(a, np.ndarray) and a.dtype == np.float64:
            return a.astype(dtype)
        return a

    return [convert(a) for a in arrays]


def test_table_is_complete_and_shared_entries_are_declared():
    assert sorted(NUMBA) == sorted(ALL_PRIMITIVES)
    for name in ALL_PRIMITIVES:
        for fn, ref, label in zip(NUMBA[name], REFERENCE[name], (name, name + "_vjp")):
            assert callable(fn)
            # A reference function in the Numba table must be declared as shared, never silent.
            assert (fn is ref) == (label in SHARED_WITH_REFERENCE), label
    assert all(FAMILY_OF[n.removesuffix("_vjp")] for n in SHARED_WITH_REFERENCE)
    # partly shared: a Numba function of its own that runs the reference for declared calls
    for label, reason in PARTLY_SHARED_WITH_REFERENCE.items():
        assert FAMILY_OF[label.removesuffix("_vjp")] and reason
        assert label not in SHARED_WITH_REFERENCE


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, arrays, params", CASES)
def test_forward_and_vjp_match_the_reference(name, arrays, params, dtype):
    arrays = _as(arrays, dtype)
    forward, vjp = NUMBA[name]
    ref_forward, ref_vjp = REFERENCE[name]
    expected = ref_forward(*arrays, **params)
    actual = forward(*arrays, **params)
    outs_e = expected if isinstance(expected, tuple) else (expected,)
    outs_a = actual if isinstance(actual, tuple) else (actual,)
    for i, (e, a) in enumerate(zip(outs_e, outs_a)):
        _assert_same(e, a, f"{name} output {i}")
    rng = np.random.default_rng(7)
    gs = tuple(
        rng.normal(size=np.shape(e)).astype(np.asarray(e).dtype)
        if np.asarray(e).dtype.kind == "f"
        else np.zeros(np.shape(e))
        for e in outs_e
    )
    g = gs if isinstance(expected, tuple) else gs[0]
    grads_e = ref_vjp(g, expected, *arrays, **params)
    grads_a = vjp(g, expected, *arrays, **params)
    assert len(grads_a) == len(grads_e)
    for i, (e, a) in enumerate(zip(grads_e, grads_a)):
        _assert_same(e, a, f"{name} cotangent {i}")


MAX_POOL_NAN = np.array([[1.0, np.nan, 3.0, 2.0], [2.0, 2.0, -1.0, np.nan]]).reshape(1, 2, 4, 1)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_pool_nan_and_ties_route_like_the_reference(padding):
    params = {"pool_size": 2, "strides": 1, "padding": padding}
    out = REFERENCE["max_pool"][0](MAX_POOL_NAN, **params)
    _assert_same(out, NUMBA["max_pool"][0](MAX_POOL_NAN, **params), "forward")
    g = np.arange(1.0, out.size + 1).reshape(out.shape)
    _assert_same(
        REFERENCE["max_pool"][1](g, out, MAX_POOL_NAN, **params)[0],
        NUMBA["max_pool"][1](g, out, MAX_POOL_NAN, **params)[0],
        "vjp",
    )


@pytest.mark.parametrize("dtype", ["float16", "int32", "bool"])
@pytest.mark.parametrize("name", ["exp", "negative", "abs", "relu", "sigmoid", "sum", "max"])
def test_other_dtypes_match_the_reference(name, dtype):
    x = (np.arange(-6, 6).reshape(3, 4) / (1 if dtype != "float16" else 3)).astype(dtype)
    try:
        expected = REFERENCE[name][0](x)
    except TypeError:
        with pytest.raises(TypeError):
            NUMBA[name][0](x)
        return
    actual = NUMBA[name][0](x)
    # float16: the reference rounds after every operation, the kernel once (in float32)
    rtol = 2e-3 if dtype == "float16" else 0
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), np.asarray(expected, np.float64), rtol
    )
    assert np.asarray(NUMBA[name][0](x)).dtype == np.asarray(expected).dtype
