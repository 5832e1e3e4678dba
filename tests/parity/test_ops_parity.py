"""Parity of ``refkeras.ops`` with ``keras.ops`` (Keras 3, JAX backend), one table of cases.

For each case the same arguments go to ``refkeras.ops.<op>`` and ``keras.ops.<op>``; we compare

* the values (every output of ops that return several) and their dtypes,
* for float outputs, the gradients of ``sum(output * cotangent)`` (a random cotangent) with
  respect to every float array argument: ``jax.vjp`` of the Keras op against refkeras's
  ``GradientTape``.

Inputs are float32 (int32 for indices), drawn from ``np.random.default_rng`` keyed by the case id
and kept away from kinks (0 for relu, the clip bounds...) unless the case is about them.  The
tolerances are the table ``TOLERANCES`` below, chosen per case by name.  Every public op of
``refkeras/ops/{numpy,nn,math}.py`` must have a case (``test_every_op_has_a_case``).  Rerun one
case with ``pytest tests/parity/test_ops_parity.py -k <case id>``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import zlib

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import refkeras  # noqa: E402,F401
from refkeras import ops  # noqa: E402
from refkeras.autodiff import GradientTape  # noqa: E402
from refkeras.backend import Tensor, load_backend  # noqa: E402

load_backend("numpy")

# (rtol, atol) for values and for gradients, by name.  "exact": the same float32 operations in
# the same order as JAX; "float": float32 rounding differs (another summation order, a fused
# primitive, 1/sqrt against rsqrt...); "transcendental": JAX's float32 erf/expm1/log1p
# approximations against NumPy's.
TOLERANCES = {
    "exact": {"value": (1e-6, 1e-7), "grad": (1e-6, 1e-7)},
    "float": {"value": (1e-5, 1e-6), "grad": (1e-5, 1e-6)},
    "transcendental": {"value": (1e-5, 1e-6), "grad": (2e-5, 1e-6)},
}
SEED = 20240612


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    op: str  # the name in both refkeras.ops and keras.ops
    args: tuple  # arrays (made by `make_args`) and static values, positional
    kwargs: dict = dataclasses.field(default_factory=dict)
    tol: str = "float"
    grad: bool = True  # compare gradients (for float outputs and float array arguments)
    check_dtype: bool = True


# --- inputs ------------------------------------------------------------------------------------
# An argument spec is ("normal", shape), ("pos", shape), ("away", shape, points), ("int", shape,
# high), ("bool", shape), ("probs", shape), ("onehot", shape) or ("labels", shape, classes);
# anything else is passed unchanged.


def make_args(case: Case) -> tuple[list, dict]:
    """The case's positional and keyword arguments with every spec replaced by an array drawn
    from one generator seeded by the case id."""
    rng = np.random.default_rng([SEED, zlib.crc32(case.id.encode())])

    def make(a):
        if isinstance(a, tuple) and a and isinstance(a[0], str) and a[0] in _KINDS:
            return _KINDS[a[0]](rng, *a[1:])
        return a

    return [make(a) for a in case.args], {k: make(v) for k, v in case.kwargs.items()}


def _away(rng, shape, points, gap=0.05):
    x = rng.uniform(-3.0, 3.0, size=shape)
    for p in points:
        x = np.where(np.abs(x - p) < gap, p + 2 * gap * np.where(x >= p, 1, -1), x)
    return x.astype(np.float32)


_KINDS = {
    "normal": lambda rng, shape: rng.normal(size=shape).astype(np.float32),
    "pos": lambda rng, shape: rng.uniform(0.5, 2.0, size=shape).astype(np.float32),
    "away": _away,
    "int": lambda rng, shape, high: rng.integers(0, high, size=shape).astype(np.int32),
    "bool": lambda rng, shape: rng.normal(size=shape) > 0,
    "probs": lambda rng, shape: rng.uniform(0.05, 0.95, size=shape).astype(np.float32),
    "onehot": lambda rng, shape: np.eye(shape[-1], dtype=np.float32)[
        rng.integers(0, shape[-1], size=shape[:-1])
    ],
    "labels": lambda rng, shape, n: rng.integers(0, n, size=shape).astype(np.int32),
}


def N(*shape):
    return ("normal", shape)


def P(*shape):
    return ("pos", shape)


def A(*shape, points=(0.0,)):
    return ("away", shape, tuple(points))


def I(*shape, high=3):  # noqa: E743
    return ("int", shape, high)


def B(*shape):
    return ("bool", shape)


# --- the table ---------------------------------------------------------------------------------

UNARY_FLOAT = {
    "exp": "transcendental",
    "log": "transcendental",
    "log1p": "transcendental",
    "expm1": "transcendental",
    "sqrt": "float",
    "tanh": "transcendental",
    "sin": "transcendental",
    "cos": "transcendental",
    "square": "exact",
    "negative": "exact",
    "sign": "exact",
    "floor": "exact",
    "ceil": "exact",
    "abs": "exact",
    "absolute": "exact",
    "round": "exact",
    "relu": "exact",
    "relu6": "exact",
    "sigmoid": "float",
    "softplus": "transcendental",
    "softsign": "float",
    "silu": "float",
    "swish": "float",
    "log_sigmoid": "transcendental",
    "leaky_relu": "exact",
    "hard_sigmoid": "float",
    "hard_silu": "float",
    "hard_swish": "float",
    "elu": "transcendental",
    "selu": "transcendental",
    "celu": "transcendental",
    "gelu": "transcendental",
    "tanh_shrink": "transcendental",
    "erf": "transcendental",
    "rsqrt": "float",
    "isnan": "exact",
    "isfinite": "exact",
}
_DOMAIN = {"log": P, "sqrt": P, "rsqrt": P, "log1p": P}
_KINKS = {"relu6": (0.0, 6.0), "hard_sigmoid": (-3.0, 3.0), "hard_silu": (-3.0, 3.0)}
_KINKS["hard_swish"] = _KINKS["hard_silu"]
_INTEGER_OUT = {"floor", "ceil", "round", "sign"}


def _unary_cases():
    cases = []
    for name, tol in UNARY_FLOAT.items():
        if name in _DOMAIN:
            arg = _DOMAIN[name](3, 4)
        else:
            arg = A(3, 4, points=_KINKS.get(name, (0.0,)) + (0.5, -0.5, 1.5, -1.5, 2.5, -2.5))
        cases.append(Case(name, name, (arg,), tol=tol))
    for name in ("relu", "sigmoid", "gelu", "elu", "softplus", "silu", "log_sigmoid", "celu"):
        # Extreme inputs: both sides saturate, nothing may overflow.
        x = np.array([-1e4, -100.0, -20.0, 20.0, 100.0, 1e4], np.float32)
        cases.append(Case(f"{name}-extreme", name, (x,), tol=UNARY_FLOAT[name]))
    # Points exactly at kinks: the subgradient conventions of JAX.
    kinks = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0], np.float32)
    for name in ("relu", "relu6", "abs", "leaky_relu", "hard_sigmoid", "hard_silu", "elu"):
        cases.append(Case(f"{name}-kinks", name, (kinks,), tol="exact"))
    cases += [
        Case("leaky_relu-slope", "leaky_relu", (A(3, 4),), {"negative_slope": 0.05}, tol="exact"),
        Case("elu-alpha", "elu", (A(3, 4),), {"alpha": 0.5}, tol="transcendental"),
        Case("celu-alpha", "celu", (A(3, 4),), {"alpha": 2.0}, tol="transcendental"),
        Case("gelu-exact", "gelu", (N(3, 4),), {"approximate": False}, tol="transcendental"),
        Case("round-decimals", "round", (A(3, 4, points=(0.05, 0.15, -0.05)),), {"decimals": 1}),
        Case("square-int", "square", (I(3, 4, high=5),)),
        Case("abs-int", "abs", (np.array([-2, 0, 3], np.int32),)),
        Case("negative-int", "negative", (I(4),)),
        Case("sign-int", "sign", (np.array([-2, 0, 3], np.int32),)),
        Case("sqrt-int", "sqrt", (I(4, high=9),)),
        Case("exp-int", "exp", (I(4),), tol="transcendental"),
        Case("relu-int", "relu", (np.array([-2, 0, 3], np.int32),)),
        Case("isnan-special", "isnan", (np.array([0.0, np.nan, np.inf, -np.inf], np.float32),)),
        Case("isfinite-special", "isfinite", (np.array([0.0, np.nan, np.inf], np.float32),)),
        Case("logical_not", "logical_not", (B(3, 4),)),
    ]
    return cases


BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "true_divide", "divide", "power"]
COMPARE = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]


def _binary_cases():
    cases = []
    shapes = [((3, 4), (3, 4)), ((2, 1, 4), (3, 1))]
    for name in BINARY:
        if name == "divide":  # an alias of true_divide
            cases.append(Case(name, name, (N(3, 4), P(4))))
            continue
        for sa, sb in shapes:
            a, b = (P(*sa), N(*sb)) if name == "power" else (N(*sa), N(*sb))
            if name in ("true_divide", "divide"):
                b = P(*sb)
            tol = "transcendental" if name == "power" else "exact" if sa == sb else "float"
            cases.append(Case(f"{name}-{sa}-{sb}", name, (a, b), tol=tol))
        cases.append(Case(f"{name}-scalar-right", name, (P(3, 4), 2.0), tol="float"))
        cases.append(Case(f"{name}-scalar-left", name, (1.5, P(3, 4)), tol="float"))
        if name in ("multiply", "power"):
            cases.append(Case(f"{name}-int-scalar", name, (P(3, 4), 3), tol="float"))
    ties = (
        np.array([1.0, 2.0, 3.0, -1.0], np.float32),
        np.array([1.0, 0.0, 3.0, -1.0], np.float32),
    )
    cases += [
        Case("maximum-ties", "maximum", ties, tol="exact"),
        Case("minimum-ties", "minimum", ties, tol="exact"),
        Case("add-int-float", "add", (I(3, 4), N(3, 4))),
        Case("add-int-int", "add", (I(3, 4), I(4))),
        Case("multiply-bool-int", "multiply", (B(3, 4), 2)),
        Case("true_divide-int", "true_divide", (I(3, 4, high=5), np.int32(2))),
        Case("power-int", "power", (I(3, 4, high=4), 2)),
        Case("floor_divide", "floor_divide", (N(3, 4), P(4))),
        Case(
            "floor_divide-int", "floor_divide", (I(3, 4, high=9), np.array([2, 3, 4, 5], "int32"))
        ),
        Case("mod", "mod", (N(3, 4), P(4)), tol="float"),
        Case("mod-negative-divisor", "mod", (N(3, 4), -1.5), tol="float"),
        Case("mod-int", "mod", (np.array([-7, -1, 0, 5], "int32"), np.int32(3))),
        Case("logical_and", "logical_and", (B(3, 4), B(4))),
        Case("logical_or", "logical_or", (B(3, 4), B(3, 1))),
    ]
    for name in COMPARE:
        cases.append(Case(name, name, (N(3, 4), np.float32(0.3))))
        cases.append(
            Case(f"{name}-ties", name, (np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])))
        )
    return cases


def _where_clip_cases():
    return [
        Case("where", "where", (B(3, 4), N(3, 4), N(4)), tol="exact"),
        Case("where-scalar", "where", (B(3, 4), N(3, 4), 0.0), tol="exact"),
        Case("where-nonzero", "where", (B(3, 4),), grad=False),
        Case("clip", "clip", (A(3, 4, points=(-0.5, 0.5)), -0.5, 0.5), tol="exact"),
        Case(
            "clip-at-bounds", "clip", (np.array([-1.0, -0.5, 0.0, 0.5, 1.0], "float32"), -0.5, 0.5)
        ),
        Case("clip-int", "clip", (np.array([-3, 0, 9], "int32"), 0, 5)),
    ]


REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std"]


def _reduction_cases():
    cases = [
        Case("amax", "amax", (N(2, 3),), {"axis": 0}),  # aliases of max and min
        Case("amin", "amin", (N(2, 3),), {"axis": -1, "keepdims": True}),
    ]
    for name in REDUCTIONS:
        arg = P(2, 3, 4) if name == "prod" else N(2, 3, 4)
        for axis, keepdims in [(None, False), (-1, True), ((0, 2), False)]:
            cases.append(
                Case(
                    f"{name}-{axis}-{keepdims}", name, (arg,), {"axis": axis, "keepdims": keepdims}
                )
            )
    ties = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]], np.float32)
    for name in ("max", "min"):
        cases.append(Case(f"{name}-ties", name, (ties,), {"axis": 1}, tol="exact"))
        cases.append(Case(f"{name}-ties-all", name, (ties,), tol="exact"))
    cases += [
        Case("max-initial", "max", (N(3, 4),), {"axis": 0, "initial": 0.5}),
        Case(
            "prod-zeros",
            "prod",
            (np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0]], "float32"),),
            {"axis": 1},
        ),
        Case("sum-int", "sum", (I(3, 4),), {"axis": 0}),
        Case("sum-bool", "sum", (B(3, 4),)),
        Case("mean-int", "mean", (I(3, 4),), {"axis": 1}),
        Case("prod-int", "prod", (I(3, 4, high=4),)),
        Case("any", "any", (B(3, 4),), {"axis": 1}),
        Case("all", "all", (B(3, 4),), {"axis": (0, 1), "keepdims": True}),
        Case("count_nonzero", "count_nonzero", (I(3, 4),), {"axis": 0}),
        Case("argmax", "argmax", (N(3, 4),), {"axis": 1}),
        Case("argmax-ties", "argmax", (ties,), {"axis": -1, "keepdims": True}),
        Case("argmin", "argmin", (N(3, 4),)),
        Case("argsort", "argsort", (N(3, 4),), {"axis": 0}),
        Case("sort", "sort", (N(3, 4),), {"axis": -1}, tol="exact"),
        Case("cumsum", "cumsum", (N(3, 4),), {"axis": 1}),
        Case("cumsum-flat", "cumsum", (N(3, 4),)),
        Case("cumsum-int", "cumsum", (I(3, 4),), {"axis": 0}),
        Case("logsumexp", "logsumexp", (N(3, 4),), {"axis": 1}, tol="transcendental"),
        Case("logsumexp-all", "logsumexp", (N(3, 4),), tol="transcendental"),
        Case(
            "logsumexp-keepdims",
            "logsumexp",
            (N(2, 3, 4),),
            {"axis": (0, 2), "keepdims": True},
            tol="transcendental",
        ),
        Case(
            "logsumexp-large",
            "logsumexp",
            (np.array([[1e4, 1e4 - 1.0], [-np.inf, 0.0]], "float32"),),
            {"axis": 1},
        ),
        Case("top_k", "top_k", (N(3, 5), 2), tol="exact"),
        Case("in_top_k", "in_top_k", (I(3, high=5), N(3, 5), 2)),
    ]
    return cases


def _linalg_cases():
    return [
        Case("matmul", "matmul", (N(3, 4), N(4, 2))),
        Case("matmul-batch", "matmul", (N(2, 3, 4), N(4, 2))),
        Case("matmul-broadcast", "matmul", (N(2, 1, 3, 4), N(5, 4, 2))),
        Case(
            "matmul-vec",
            "matmul",
            (
                N(
                    4,
                ),
                N(2, 4, 3),
            ),
        ),
        Case(
            "matmul-vec-vec",
            "matmul",
            (
                N(
                    4,
                ),
                N(
                    4,
                ),
            ),
        ),
        Case("matmul-int", "matmul", (I(2, 3), I(3, 2))),
        Case("dot", "dot", (N(3, 4), N(4, 2))),
        Case("dot-nd", "dot", (N(2, 3), N(4, 3, 2))),
        Case(
            "dot-scalar",
            "dot",
            (
                N(
                    3,
                ),
                np.float32(2.0),
            ),
        ),
        Case("tensordot", "tensordot", (N(2, 3, 4), N(3, 4, 2)), {"axes": 2}),
        Case("tensordot-axes", "tensordot", (N(2, 3, 4), N(4, 2, 3)), {"axes": ([1, 2], [2, 0])}),
        Case("einsum", "einsum", ("ij,jk->ik", N(3, 4), N(4, 2))),
        Case("einsum-sum-out", "einsum", ("ij,k->i", N(3, 4), N(2))),
        Case("einsum-batch", "einsum", ("bij,bjk->bik", N(2, 3, 4), N(2, 4, 2))),
        Case("einsum-implicit", "einsum", ("ij,jk", N(3, 4), N(4, 2))),
        Case("einsum-ellipsis", "einsum", ("...ij,...jk->...ik", N(2, 3, 4), N(2, 4, 2))),
        Case(
            "outer",
            "outer",
            (
                N(
                    3,
                ),
                N(
                    4,
                ),
            ),
        ),
    ]


def _shape_cases():
    return [
        Case("reshape", "reshape", (N(2, 3, 4), (4, -1)), tol="exact"),
        Case("transpose", "transpose", (N(2, 3, 4),), {"axes": (2, 0, 1)}, tol="exact"),
        Case("transpose-neg", "transpose", (N(2, 3, 4),), {"axes": (-1, 0, 1)}, tol="exact"),
        Case("transpose-default", "transpose", (N(2, 3, 4),), tol="exact"),
        Case("expand_dims", "expand_dims", (N(2, 3), -1), tol="exact"),
        Case("expand_dims-tuple", "expand_dims", (N(2, 3), (0, 3)), tol="exact"),
        Case("squeeze", "squeeze", (N(1, 3, 1),), tol="exact"),
        Case("squeeze-axis", "squeeze", (N(1, 3, 1),), {"axis": -1}, tol="exact"),
        Case("moveaxis", "moveaxis", (N(2, 3, 4), 0, -1), tol="exact"),
        Case("moveaxis-lists", "moveaxis", (N(2, 3, 4), [0, 1], [2, 0]), tol="exact"),
        Case("swapaxes", "swapaxes", (N(2, 3, 4), 0, 2), tol="exact"),
        Case("broadcast_to", "broadcast_to", (N(3, 1), (2, 3, 4)), tol="exact"),
        Case(
            "concatenate",
            "concatenate",
            ([np.ones((2, 3), "float32"), np.zeros((1, 3), "float32")],),
            {"axis": 0},
            grad=False,
        ),
        Case(
            "stack",
            "stack",
            ([np.ones(3, "float32"), np.arange(3, dtype="float32")],),
            {"axis": 1},
            grad=False,
        ),
        Case("split", "split", (N(3, 6), 3), {"axis": 1}, tol="exact"),
        Case("split-indices", "split", (N(5, 2), [1, 3]), tol="exact"),
        Case("get_item", "get_item", (N(3, 4), (slice(None), 1)), tol="exact"),
        Case("get_item-int-array", "get_item", (N(3, 4), np.array([2, 0, 2])), tol="exact"),
        Case("take", "take", (N(3, 4), np.array([[0, 2], [2, 2]])), {"axis": 1}, tol="exact"),
        Case("take-flat", "take", (N(3, 4), np.array([0, 11, 11])), tol="exact"),
        Case("take-negative", "take", (N(3, 4), np.array([-1, 0, -1])), {"axis": 0}, tol="exact"),
        Case(
            "take_along_axis",
            "take_along_axis",
            (N(3, 4), np.array([[0, 0], [3, 1], [2, 2]])),
            {"axis": 1},
            tol="exact",
        ),
        Case(
            "take_along_axis-flat", "take_along_axis", (N(3, 4), np.array([1, 1, 7])), tol="exact"
        ),
        Case("pad", "pad", (N(2, 3), ((1, 0), (2, 1))), tol="exact"),
        Case("pad-value", "pad", (N(2, 3), 1), {"constant_values": 2.0}, tol="exact"),
        Case("tile", "tile", (N(2, 3), (2, 1, 2)), tol="exact"),
        Case("repeat", "repeat", (N(2, 3), 2), {"axis": 1}, tol="exact"),
        Case("repeat-flat", "repeat", (N(2, 3), 3), tol="exact"),
        Case("flip", "flip", (N(2, 3, 4),), {"axis": 1}, tol="exact"),
        Case("flip-all", "flip", (N(2, 3),), tol="exact"),
        Case("copy", "copy", (N(2, 3),), tol="exact"),
        Case("array", "array", (N(2, 3),), tol="exact"),
    ]


def _creation_cases():
    return [
        Case("zeros", "zeros", ((2, 3),), grad=False),
        Case("ones", "ones", ((2,),), {"dtype": "int32"}, grad=False),
        Case("full", "full", ((2, 2), 3.5), grad=False),
        Case("eye", "eye", (3,), {"k": 1}, grad=False),
        Case("identity", "identity", (2,), grad=False),
        Case("zeros_like", "zeros_like", (I(2, 3),), grad=False),
        Case("ones_like", "ones_like", (N(2, 3),), grad=False),
        Case("full_like", "full_like", (N(2, 3), 7.0), grad=False),
        Case("arange", "arange", (5,), grad=False),
        Case("arange-float", "arange", (0.0, 2.0, 0.5), grad=False),
        Case("linspace", "linspace", (0.0, 1.0, 5), grad=False),
        Case("size", "size", (N(2, 3),), grad=False),
        Case("ndim", "ndim", (N(2, 3),), grad=False),
    ]


def _nn_cases():
    logits, probs = N(4, 3), ("probs", (4, 3))
    onehot, labels = ("onehot", (4, 3)), ("labels", (4,), 3)
    return [
        Case("softmax", "softmax", (N(3, 4),)),
        Case("softmax-axis0", "softmax", (N(3, 4),), {"axis": 0}),
        Case("softmax-tuple-axis", "softmax", (N(2, 3, 4),), {"axis": (0, 1)}),
        Case(
            "softmax-large",
            "softmax",
            (np.array([[1e4, -1e4, 0.0], [80.0, 81.0, 79.0]], "float32"),),
        ),
        Case("log_softmax", "log_softmax", (N(3, 4),), tol="transcendental"),
        Case("log_softmax-axis0", "log_softmax", (N(3, 4),), {"axis": 0}, tol="transcendental"),
        Case("one_hot", "one_hot", (np.array([0, 2, -1, 5]), 3)),
        Case("one_hot-axis", "one_hot", (np.array([[1, 0]]), 2), {"axis": 0}),
        Case("bce", "binary_crossentropy", (probs, probs), tol="transcendental"),
        Case(
            "bce-logits",
            "binary_crossentropy",
            (onehot, logits),
            {"from_logits": True},
            tol="transcendental",
        ),
        Case(
            "bce-saturated",
            "binary_crossentropy",
            (np.array([[0.0, 1.0, 1.0]], "float32"), np.array([[0.0, 1.0, 0.0]], "float32")),
            tol="transcendental",
        ),
        Case("cce", "categorical_crossentropy", (onehot, probs), tol="transcendental"),
        Case(
            "cce-logits",
            "categorical_crossentropy",
            (probs, logits),
            {"from_logits": True},
            tol="transcendental",
        ),
        Case(
            "cce-axis0",
            "categorical_crossentropy",
            (onehot, probs),
            {"axis": 0},
            tol="transcendental",
        ),
        Case("scce", "sparse_categorical_crossentropy", (labels, probs), tol="transcendental"),
        Case(
            "scce-logits",
            "sparse_categorical_crossentropy",
            (labels, logits),
            {"from_logits": True},
            tol="transcendental",
        ),
        Case("moments", "moments", (N(4, 3, 2), [0, 1])),
        Case("moments-keepdims", "moments", (N(4, 3), [0]), {"keepdims": True}),
        Case(
            "batch_normalization",
            "batch_normalization",
            (N(4, 3), N(3), P(3), -1),
            {"offset": N(3), "scale": N(3)},
        ),
        Case("batch_normalization-bare", "batch_normalization", (N(2, 3, 2), N(3), P(3), 1)),
        Case("conv", "conv", (N(1, 5, 5, 2), N(3, 3, 2, 3)), {"strides": 2, "padding": "same"}),
        Case("conv1d", "conv", (N(2, 6, 2), N(2, 2, 3)), {"dilation_rate": 2}),
        Case(
            "depthwise_conv", "depthwise_conv", (N(1, 5, 5, 2), N(3, 3, 2, 2)), {"padding": "same"}
        ),
        Case("max_pool", "max_pool", (N(1, 4, 4, 2), (2, 2)), {"strides": (2, 2)}),
        Case("max_pool-same", "max_pool", (N(1, 5, 5, 1), 2), {"strides": 2, "padding": "same"}),
        Case("average_pool", "average_pool", (N(1, 4, 4, 2), 2), {"strides": 1}),
        Case(
            "average_pool-same",
            "average_pool",
            (N(1, 5, 5, 1), 3),
            {"strides": 2, "padding": "same"},
        ),
    ]


CASES = (
    _unary_cases()
    + _binary_cases()
    + _where_clip_cases()
    + _reduction_cases()
    + _linalg_cases()
    + _shape_cases()
    + _creation_cases()
    + _nn_cases()
)
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"

# Cases known to differ from Keras, each with the reason (reported, to be fixed in the core).
KNOWN_DIFFERENCES: dict[str, str] = {}


# --- running a case ----------------------------------------------------------------------------
# Keras's side runs CHUNK cases at a time in one jitted function (`keras_results`): compiling a
# few dozen tiny computations at once is several times faster than JAX's op-by-op dispatch, which
# compiles every primitive for every new shape.  Array arguments are arguments of the jitted
# function (never constants that XLA would fold), so the numbers are those of ordinary calls.


def _flat(out) -> list:
    return list(out) if isinstance(out, list | tuple) else [out]


def _is_array(a) -> bool:
    return isinstance(a, np.ndarray)


def _is_float_array(a) -> bool:
    return _is_array(a) and np.issubdtype(a.dtype, np.floating)


def _slots(args, kwargs, test):
    return [("arg", i) for i, a in enumerate(args) if test(a)] + [
        ("kw", k) for k, v in kwargs.items() if test(v)
    ]


def _get(args, kwargs, slots):
    return [args[k] if w == "arg" else kwargs[k] for w, k in slots]


def _put(args, kwargs, slots, values):
    args, kwargs = list(args), dict(kwargs)
    for (where, key), v in zip(slots, values):
        if where == "arg":
            args[key] = v
        else:
            kwargs[key] = v
    return args, kwargs


def _cotangent(case, k, shape, dtype):
    """The cotangent of float output ``k``: the same on the Keras and the refkeras side."""
    rng = np.random.default_rng([SEED, zlib.crc32(case.id.encode()), 1, k])
    return rng.normal(size=shape).astype(dtype)


def _float_outputs(outs) -> list[int]:
    return [i for i, o in enumerate(outs) if jnp.issubdtype(jnp.result_type(o), jnp.floating)]


def _keras_case(case, arrays):
    """Keras outputs and (for float outputs) the VJP of the random cotangents, traced."""
    args, kwargs = make_args(case)
    array_slots = _slots(args, kwargs, _is_array)
    args, kwargs = _put(args, kwargs, array_slots, arrays)
    diff_slots = [s for s, a in zip(array_slots, arrays) if jnp.issubdtype(a.dtype, jnp.floating)]
    op = getattr(keras.ops, case.op)

    def f(*diff):
        a, kw = _put(args, kwargs, diff_slots, diff)
        return _flat(op(*a, **kw))

    outs = f(*_get(args, kwargs, diff_slots))
    float_outs = _float_outputs(outs)
    grads = None
    if case.grad and diff_slots and float_outs:
        _, pullback = jax.vjp(
            lambda *d: [f(*d)[i] for i in float_outs], *_get(args, kwargs, diff_slots)
        )
        cts = [_cotangent(case, i, outs[i].shape, outs[i].dtype) for i in float_outs]
        grads = pullback(cts)
    return outs, grads


EAGER = {"where-nonzero", "size", "ndim"}  # data-dependent shapes, Python ints
CHUNK = 32  # cases per compiled function: XLA's compile time grows faster than linearly


@functools.cache
def keras_results(chunk: int) -> dict:
    """``{case id: (outputs, gradients)}`` (or the exception Keras raised for that case) for the
    cases ``chunk * CHUNK`` to ``(chunk + 1) * CHUNK`` of ``CASES``."""
    cases = CASES[chunk * CHUNK : (chunk + 1) * CHUNK]
    errors, arrays = {}, {}
    for case in cases:
        if case.id not in EAGER:
            args, kwargs = make_args(case)
            arrays[case.id] = _get(args, kwargs, _slots(args, kwargs, _is_array))

    def run(arrays):
        results = {}
        for case in cases:
            if case.id in arrays:
                try:
                    results[case.id] = _keras_case(case, arrays[case.id])
                except Exception as e:  # reported by that case's test, not by all of them
                    errors[case.id] = e
        return results

    results = jax.tree_util.tree_map(np.asarray, jax.jit(run)(arrays))
    for case in cases:
        if case.id in EAGER:
            args, kwargs = make_args(case)
            results[case.id] = (_flat(getattr(keras.ops, case.op)(*args, **kwargs)), None)
    return {**results, **errors}


def _dtype_name(x) -> str:
    from refkeras.backend.dtypes import standardize_dtype

    return standardize_dtype(getattr(x, "dtype", np.asarray(x).dtype))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_op_parity(case, request):
    if case.id in KNOWN_DIFFERENCES:
        request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[case.id]))
    result = keras_results(CASES.index(case) // CHUNK)[case.id]
    if isinstance(result, Exception):
        raise result
    theirs_flat, expected_grads = result
    tol = TOLERANCES[case.tol]
    args, kwargs = make_args(case)
    ours_flat = _flat(getattr(ops, case.op)(*args, **kwargs))
    assert len(ours_flat) == len(theirs_flat)
    rtol, atol = tol["value"]
    for k, (o, t) in enumerate(zip(ours_flat, theirs_flat)):
        if isinstance(t, int | np.integer):  # size, ndim
            assert o == t
            continue
        assert isinstance(o, Tensor), f"output {k} is {type(o).__name__}"
        o_np, t_np = o.numpy(), np.asarray(t)
        assert o_np.shape == t_np.shape, f"output {k}: shape {o_np.shape} != {t_np.shape}"
        if case.check_dtype:
            assert _dtype_name(o) == _dtype_name(t_np), f"output {k}: dtype"
        np.testing.assert_allclose(o_np, t_np, rtol=rtol, atol=atol, err_msg=f"output {k}")
    if expected_grads is None:
        return

    diff_slots = _slots(args, kwargs, _is_float_array)
    float_outs = _float_outputs(ours_flat)
    cts = [_cotangent(case, i, ours_flat[i].shape, ours_flat[i].dtype) for i in float_outs]
    tensors = [ops.convert_to_tensor(a) for a in _get(args, kwargs, diff_slots)]
    with GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        a, kw = _put(args, kwargs, diff_slots, tensors)
        outs = _flat(getattr(ops, case.op)(*a, **kw))
    grads = tape.gradient(
        [outs[i] for i in float_outs], tensors, output_gradients=cts, unconnected_gradients="zero"
    )
    rtol, atol = tol["grad"]
    for k, (g, e, t) in enumerate(zip(grads, expected_grads, tensors)):
        assert g.dtype == t.dtype, f"gradient {k}: dtype {g.dtype} != {t.dtype}"
        np.testing.assert_allclose(g.numpy(), e, rtol=rtol, atol=atol, err_msg=f"gradient {k}")


# --- coverage ----------------------------------------------------------------------------------


def _public_ops() -> set[str]:
    names = set()
    for module in ("numpy", "nn", "math"):
        mod = sys.modules[f"refkeras.ops.{module}"]
        for name, fn in vars(mod).items():
            if name.startswith("_") or not callable(fn) or isinstance(fn, type):
                continue
            if getattr(fn, "__module__", None) == mod.__name__:
                names.add(name)
    return names


def test_every_op_has_a_case():
    covered = {c.op for c in CASES}
    missing = sorted(_public_ops() - covered)
    assert not missing, f"ops without a parity case: {missing}"


def test_every_op_exists_in_keras():
    assert not [n for n in _public_ops() if not hasattr(keras.ops, n)]
