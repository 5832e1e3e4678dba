"""One table of primitive cases: ``(name, arrays, params)`` with NumPy inputs, shared by the
forward/VJP comparison against the reference and by the ``jax.jit`` traceability tests.

Inputs include the edge cases whose conventions the backends must share: ties for max/argmax
and maximum/minimum, kinks of abs/relu/clip, repeated gather indices.
"""

from __future__ import annotations

import numpy as np
import pytest

rng = np.random.default_rng(20240611)


def normal(*shape, dtype=np.float32):
    return rng.normal(size=shape).astype(dtype)


def positive(*shape, dtype=np.float32):
    return rng.uniform(0.5, 2.0, size=shape).astype(dtype)


def ints(low, high, *shape, dtype=np.int32):
    return rng.integers(low, high, size=shape).astype(dtype)


TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
KINKS = np.array([[-1.0, -0.5, 0.0, 0.5], [1.0, 0.25, -0.25, 0.0]], np.float32)

UNARY = [
    "negative", "exp", "log", "log1p", "expm1", "sqrt", "square", "abs", "tanh", "sigmoid",
    "relu", "softplus", "sin", "cos", "erf", "sign", "floor", "ceil", "round", "logical_not",
    "isnan", "isfinite",
]  # fmt: skip
POSITIVE = {"log", "sqrt", "log1p"}
BINARY = [
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "equal", "not_equal",
    "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
]  # fmt: skip


def _cases():
    c = []
    for name in UNARY:
        x = positive(3, 4) if name in POSITIVE else normal(3, 4) * 2
        c.append((name, [x], {}, name))
        if name in ("abs", "relu", "sign"):
            c.append((name, [KINKS], {}, f"{name}-kinks"))
    c.append(("isnan", [np.array([1.0, np.nan, np.inf], np.float32)], {}, "isnan-nan"))
    c.append(("isfinite", [np.array([1.0, np.nan, -np.inf], np.float32)], {}, "isfinite-inf"))
    c.append(("exp", [ints(-3, 3, 5)], {}, "exp-int32"))  # NumPy gives float64
    c.append(("round", [np.array([0.5, 1.5, 2.5, -0.5, 1.26], np.float32)], {}, "round-half"))
    c.append(("round", [normal(6) * 10], {"decimals": 1}, "round-decimals"))
    c.append(("cast", [normal(3, 4)], {"dtype": np.dtype("float64")}, "cast-f64"))
    c.append(("cast", [normal(3, 4) * 5], {"dtype": np.dtype("int32")}, "cast-int32"))
    c.append(("cast", [ints(-3, 3, 4)], {"dtype": np.dtype("float32")}, "cast-from-int"))
    c.append(("clip", [KINKS], {"x_min": -0.5, "x_max": 0.5}, "clip-kinks"))
    c.append(("clip", [normal(3, 4)], {"x_min": 0.0, "x_max": 0.0}, "clip-equal-bounds"))
    for name in BINARY:
        if name.startswith("logical"):
            a, b = normal(3, 4) > 0, normal(4) > 0
        elif name == "power":
            a, b = positive(3, 4), normal(4)
        else:
            a, b = normal(3, 4), normal(4)
        c.append((name, [a, b], {}, f"{name}-broadcast"))
    a = TIES
    c.append(("maximum", [a, a[:, ::-1].copy()], {}, "maximum-ties"))
    c.append(("minimum", [a, a[:, ::-1].copy()], {}, "minimum-ties"))
    c.append(("equal", [a, a[:, ::-1].copy()], {}, "equal-ties"))
    c.append(("add", [normal(3, 1), normal(1, 4, dtype=np.float64)], {}, "add-mixed-dtypes"))
    c.append(("multiply", [ints(-3, 3, 3), normal(3, dtype=np.float16)], {}, "mul-int-f16"))
    c.append(("power", [np.array([0.0, 1.0, 2.0], np.float32), positive(3)], {}, "power-zero"))
    c.append(("where", [normal(3, 4) > 0, normal(3, 4), normal(4)], {}, "where"))
    # reduce
    for name in ("sum", "mean", "max", "min", "prod"):
        c.append((name, [normal(3, 4, 5)], {"axis": 1}, f"{name}-axis1"))
        c.append((name, [normal(3, 4, 5)], {"axis": (0, 2), "keepdims": True}, f"{name}-keep"))
        c.append((name, [normal(3, 4)], {}, f"{name}-all"))
    c.append(("max", [TIES], {"axis": 1}, "max-ties"))
    c.append(("min", [TIES], {"axis": 0}, "min-ties"))
    c.append(("max", [TIES], {}, "max-ties-all"))
    c.append(("prod", [np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]], np.float32)], {"axis": 1},
              "prod-zeros"))  # fmt: skip
    c.append(("sum", [ints(-5, 5, 3, 4, dtype=np.int8)], {"axis": 0}, "sum-int8"))
    c.append(("sum", [normal(3, 4) > 0], {}, "sum-bool"))
    c.append(("mean", [ints(-5, 5, 3, 4)], {"axis": 1}, "mean-int"))
    c.append(("prod", [ints(1, 4, 3, 4, dtype=np.int16)], {"axis": 1}, "prod-int16"))
    c.append(("cumsum", [normal(3, 4)], {"axis": 1}, "cumsum"))
    c.append(("cumsum", [normal(3, 4) > 0], {"axis": 0}, "cumsum-bool"))
    for name in ("argmax", "argmin"):
        c.append((name, [TIES], {"axis": 1}, f"{name}-ties"))
        c.append((name, [TIES], {}, f"{name}-all"))
        c.append((name, [normal(3, 4, 2)], {"axis": 0, "keepdims": True}, f"{name}-keep"))
    # linalg
    c.append(("matmul", [normal(3, 4), normal(4, 5)], {}, "matmul-2d"))
    c.append(("matmul", [normal(2, 1, 3, 4), normal(3, 4, 2)], {}, "matmul-batch-broadcast"))
    c.append(("matmul", [normal(4), normal(2, 4, 3)], {}, "matmul-1d-left"))
    c.append(("matmul", [normal(2, 3, 4), normal(4)], {}, "matmul-1d-right"))
    c.append(("einsum", [normal(2, 3, 4), normal(2, 4, 5)], {"subscripts": "bij,bjk->bik"},
              "einsum-bmm"))  # fmt: skip
    c.append(("einsum", [normal(2, 3, 4), normal(4)], {"subscripts": "...j,j->..."},
              "einsum-ellipsis"))  # fmt: skip
    c.append(("einsum", [normal(3, 4), normal(5)], {"subscripts": "ij,k->ik"}, "einsum-sumout"))
    # nn
    for name in ("softmax", "log_softmax"):
        c.append((name, [normal(3, 5) * 3], {"axis": -1}, f"{name}-last"))
        c.append((name, [normal(3, 5, 2)], {"axis": 1}, f"{name}-axis1"))
    # shape
    x = normal(2, 3, 4)
    c.append(("reshape", [x], {"shape": (6, -1)}, "reshape"))
    c.append(("transpose", [x], {"axes": (2, 0, 1)}, "transpose"))
    c.append(("transpose", [x], {"axes": (-1, 0, 1)}, "transpose-negative"))
    c.append(("broadcast_to", [normal(3, 1)], {"shape": (2, 3, 4)}, "broadcast_to"))
    c.append(("concatenate", [normal(2, 3), normal(2, 1), normal(2, 2)], {"axis": 1}, "concat"))
    for i, key in enumerate(
        [
            (slice(None), 1),
            (Ellipsis, slice(1, None, 2)),
            (None, 0, slice(None, None, -1)),
            np.array([1, 1, 0]),
            (slice(None), np.array([0, 2, 2])),
            x[..., 0] > 0,
        ]
    ):
        c.append(("getitem", [x], {"key": key}, f"getitem-{i}"))
    c.append(("take", [x, np.array([[0, 2], [2, -1]], np.int32)], {"axis": 1}, "take-repeat"))
    c.append(("take", [x, np.array([5, -9], np.int32)], {"axis": 2}, "take-out-of-range"))
    idx = np.array([[[0], [3], [3]], [[1], [2], [-1]]], np.int32)
    c.append(("take_along_axis", [x, idx], {"axis": 2}, "take_along_axis"))
    c.append(("take_along_axis", [normal(1, 3, 4), idx], {"axis": 2}, "take_along_axis-bcast"))
    c.append(("take_along_axis", [x, np.array([0, 23, 5, 5], np.int32)], {"axis": None},
              "take_along_axis-flat"))  # fmt: skip
    c.append(("pad", [x], {"pad_width": ((0, 0), (1, 2), (2, 0))}, "pad"))
    c.append(("pad", [x], {"pad_width": ((1, 1), (0, 0), (0, 1)), "constant_values": 1.5},
              "pad-constant"))  # fmt: skip
    c.append(("tile", [normal(2, 3)], {"repeats": (2, 1, 2)}, "tile"))
    c.append(("repeat", [x], {"repeats": 2, "axis": 1}, "repeat"))
    c.append(("flip", [x], {"axis": 1}, "flip"))
    c.append(("flip", [x], {"axis": (0, 2)}, "flip-two-axes"))
    return c


def params_of(cases):
    return [pytest.param(n, a, p, id=i) for n, a, p, i in cases]


CASES = _cases()
