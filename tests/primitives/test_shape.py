"""Shape primitives (reshape, transpose, broadcast_to, concatenate, getitem, take,
take_along_axis, pad, tile, repeat, flip): VJPs against finite differences, including indices
that repeat (the cotangents must add up), boolean masks and negative indices."""

import numpy as np
import pytest
from fd import check_dtype_preserved, check_vjp

from refkeras.backend import load_backend
from refkeras.primitives import shape as S
from refkeras.primitives.interface import PRIMITIVES

load_backend("numpy")

rng = np.random.default_rng(11)
X = rng.normal(size=(3, 4))
X3 = rng.normal(size=(2, 3, 4))
_ = slice(None)

GETITEM_KEYS = {
    "slices": (_, slice(1, 3)),
    "step": (slice(None, None, 2), slice(3, 0, -2)),
    "int": 1,
    "int-neg": (_, -1),
    "newaxis-ellipsis": (None, Ellipsis, 2),
    "int-array-repeats": np.array([0, 2, 0, 1, 2, 2]),
    "int-array-axis1": (_, [3, 0, 3, 3]),
    "two-int-arrays": (np.array([0, 2, 2]), np.array([1, 1, 3])),
    "int-array-2d": np.array([[0, 1], [1, 1]]),
    "bool-mask-full": X > 0,
    "bool-mask-rows": np.array([True, False, True]),
    "numpy-int": np.int64(2),
    "slice-and-array": (slice(0, 2), np.array([1, 1])),
}
TAKE = [
    (X, np.array([[0, 2, 2], [1, 0, 0]]), 0),
    (X, np.array([3, 3, 0]), 1),
    (X3, np.array([1, 1]), -1),
    (X, np.array([-1, 0, -1]), 0),  # negative indices count from the end
    (X, np.array([2], np.int32), 1),
]
TAKE_ALONG = [
    (X, np.array([[0, 0], [3, 1], [2, 2]]), 1),
    (X, np.array([[2, 0, 1, 1], [2, 2, 2, 2]]), 0),
    (X3, rng.integers(0, 3, size=(2, 5, 4)), 1),
    (X, np.array([[-1, 0, -1]]).T, 1),  # negative indices
    (X, np.array([[0, 3, 3]]), 1),  # indices broadcast over the other axis
    (X, np.array([11, 0, 5, 5]), None),  # axis=None: the flattened array
]

CASES = (
    [
        pytest.param("reshape", [X3], {"shape": s}, id=f"reshape-{s}")
        for s in [(6, 4), (-1,), (4, 3, 2), (2, 1, 12)]
    ]
    + [
        pytest.param("transpose", [X3], {"axes": a}, id=f"transpose-{a}")
        for a in [(1, 0, 2), (2, 0, 1), (0, 1, 2), (-1, 0, 1)]  # negative axes too
    ]
    + [
        pytest.param("broadcast_to", [rng.normal(size=s)], {"shape": t}, id=f"bcast-{s}-{t}")
        for s, t in [((3,), (2, 3)), ((3, 1), (2, 3, 4)), ((), (2, 2)), ((1, 4), (3, 4))]
    ]
    + [
        pytest.param("concatenate", [X, rng.normal(size=(2, 4))], {"axis": 0}, id="concat-0"),
        pytest.param(
            "concatenate",
            [X, rng.normal(size=(3, 1)), rng.normal(size=(3, 2))],
            {"axis": -1},
            id="concat-3-neg",
        ),
        pytest.param("concatenate", [X], {"axis": 1}, id="concat-1-operand"),
    ]
    + [pytest.param("getitem", [X], {"key": k}, id=f"getitem-{n}") for n, k in GETITEM_KEYS.items()]
    + [pytest.param("take", [x, i], {"axis": a}, id=f"take-{i.tolist()}-{a}") for x, i, a in TAKE]
    + [
        pytest.param("take_along_axis", [x, i], {"axis": a}, id=f"take_along-{k}")
        for k, (x, i, a) in enumerate(TAKE_ALONG)
    ]
    + [
        pytest.param("pad", [X], {"pad_width": ((1, 2), (0, 1))}, id="pad"),
        pytest.param(
            "pad", [X3], {"pad_width": ((0, 0), (2, 0), (1, 1)), "constant_values": 1.5}, id="pad-c"
        ),
    ]
    + [
        pytest.param("tile", [X], {"repeats": r}, id=f"tile-{r}")
        for r in [(2, 1), (3,), (2, 1, 2), (1, 1)]
    ]
    + [
        pytest.param("repeat", [x], {"repeats": r, "axis": a}, id=f"repeat-{r}-{a}")
        for x, r, a in [(X, 2, 0), (X, 3, -1), (X3, 2, 1), (X, 1, 0)]
    ]
    + [pytest.param("flip", [X3], {"axis": a}, id=f"flip-{a}") for a in [0, (0, 2), -1, None]]
)


def test_every_shape_primitive_has_a_case():
    assert {p.values[0] for p in CASES} == set(PRIMITIVES["shape"])


@pytest.mark.parametrize("name,arrays,params", CASES)
def test_vjp_matches_finite_differences(name, arrays, params):
    grads = check_vjp(name, arrays, params)
    if name in ("take", "take_along_axis"):
        assert grads[1] is None


@pytest.mark.parametrize("name,arrays,params", CASES)
def test_float32_is_preserved(name, arrays, params):
    check_dtype_preserved(name, arrays, params, np.float32)


@pytest.mark.parametrize("key", list(GETITEM_KEYS.values()), ids=list(GETITEM_KEYS))
def test_getitem_forward_is_numpy_indexing(key):
    np.testing.assert_array_equal(S.getitem(X, key=key), X[key])


def test_repeated_indices_accumulate():
    x = np.zeros(3)
    (gx,) = S.getitem_vjp(np.ones(4), None, x, key=np.array([1, 1, 1, 2]))
    np.testing.assert_array_equal(gx, [0.0, 3.0, 1.0])
    gx, gi = S.take_vjp(np.ones(3), None, x, np.array([0, 0, -1]), axis=0)
    np.testing.assert_array_equal(gx, [2.0, 0.0, 1.0])


def test_broadcast_to_returns_a_writable_copy():
    x = np.arange(3.0)
    y = S.broadcast_to(x, shape=(2, 3))
    y[0, 0] = 7.0
    assert x[0] == 0.0


# --- negative and out-of-range indices, as keras.ops on JAX ------------------------------------

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


def test_take_negative_indices_match_jax():
    x = X.astype(np.float32)
    idx = np.array([-1, -3, 0, 2])
    np.testing.assert_array_equal(S.take(x, idx, axis=0), np.asarray(jnp.take(x, idx, axis=0)))
    np.testing.assert_array_equal(S.take(x, idx, axis=1), np.asarray(jnp.take(x, idx, axis=1)))


def test_take_along_axis_matches_jax():
    for x, idx, axis in TAKE_ALONG:
        x32 = x.astype(np.float32)
        expected = np.asarray(jnp.take_along_axis(x32, idx, axis=axis))
        np.testing.assert_array_equal(S.take_along_axis(x32, idx, axis=axis), expected)
