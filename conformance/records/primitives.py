"""Records of the primitives: one per name of ``refkeras.primitives.interface.ALL_PRIMITIVES``.

Each record draws a case (shapes, parameters, inputs in the record's dtype) and pins edge cases:
zeros, ties (for max/argmax/max_pool/maximum/comparisons, where the choice of element matters),
round-half values, batch size 1, very large logits, tiny arguments of ``log1p``/``expm1``.  The
error models say how many terms a backend may sum per output element (``reduction``) and what
their magnitude is; :mod:`conformance.tolerances` turns that into the bound.

Case drawing is shared per family below; ``fd=True`` asks for the small, kink-free cases of the
finite-difference check (every element of every input costs four forward evaluations there).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from hypothesis import strategies as st

from conformance import strategies as cs
from conformance.registry import EXACT, Case, ErrorModel, Record
from conformance.strategies import DEFAULT, POSITIVE, Domain

PRIMITIVE_CHECKS = ("forward", "vjp", "vjp_fd")
#: the styles of finite-difference cases: no ties, no zeros (kinks sit there)
FD_STYLES = ("uniform", "normal")


def expected_components() -> list[str]:
    """Every primitive of the interface must have a record."""
    from refkeras.primitives.interface import ALL_PRIMITIVES

    return [f"primitive.{n}" for n in ALL_PRIMITIVES]


def _reference(name):
    from refkeras.primitives.interface import reference_table

    return reference_table()[name]


def _fd(domain: Domain) -> Domain:
    return Domain(domain.low, domain.high, domain.avoid, domain.away, FD_STYLES)


def record(name: str, strategy, **kw) -> Record:
    """A primitive record: ``strategy(dtype, fd)`` draws its cases."""
    kw.setdefault("target", name)
    return Record(
        f"primitive.{name}",
        kw.pop("checks", PRIMITIVE_CHECKS),
        partial(strategy, fd=False),
        fd_strategy=partial(strategy, fd=True),
        **kw,
    )


# --- error-model helpers -----------------------------------------------------------------------


def broadcast_count(case: Case) -> int:
    """Terms summed into one input element by an unbroadcasting VJP: output size / input size."""
    shapes = [np.shape(a) for a in case.arrays if a is not None]
    out = math.prod(np.broadcast_shapes(*shapes))
    return max(1, max(out // max(1, math.prod(s)) for s in shapes))


def broadcast_terms(fn, arrays, params):
    """Magnitude for an elementwise VJP ``f(g, out, *inputs)`` that unbroadcasts: every term
    ``|g * d out/d input|`` at full (broadcast) shape, summed back to the input's shape."""
    from refkeras.primitives._util import unbroadcast

    g = arrays[0]
    full = [a if a is None else np.broadcast_to(a, g.shape) for a in arrays]
    grads = fn(*full, **params)
    return tuple(
        np.zeros(()) if t is None else unbroadcast(np.abs(np.asarray(t, np.float64)), a.shape)
        for t, a in zip(grads, arrays[2:])
    )


def routing_count(name: str):
    """``n`` for a VJP that routes cotangent elements to input elements (shape primitives,
    max-pool): the largest number of output elements sent to one input element, i.e. the VJP
    of a cotangent of ones."""

    def count(case: Case) -> int:
        fwd, vjp = _reference(name)
        arrays = tuple(
            np.asarray(a, np.float64) if a is not None and np.asarray(a).dtype.kind == "f" else a
            for a in case.arrays
        )
        out = fwd(*arrays, **case.params)
        ones = np.ones(np.shape(out))
        grads = vjp(ones, out, *arrays, **case.params)
        return max([int(np.max(np.abs(gr), initial=1)) for gr in grads if gr is not None] or [1])

    return count


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


# --- elementwise -------------------------------------------------------------------------------


def _zeros(dtype):
    return Case((np.zeros((2, 3), dtype),))


def _values(values, dtype):
    return Case((np.asarray(values, np.float64).astype(dtype),))


def _unary_cases(dtype, fd, domain=DEFAULT, params=None):
    @st.composite
    def case(draw):
        shape = draw(cs.shapes(0, 3, 1, 3 if fd else 5))
        x = draw(cs.arrays(shape, dtype, _fd(domain) if fd else domain))
        return Case((x,), dict(params or {}))

    return case()


def unary(name, domain=DEFAULT, error=ErrorModel(), vjp_error=None, examples=(), fd_domain=None):
    """An elementwise function of one float array."""
    return record(
        name,
        lambda dtype, fd: _unary_cases(dtype, fd, fd_domain if (fd and fd_domain) else domain),
        examples=((_zeros,) if domain.low <= 0 <= domain.high else ()) + tuple(examples),
        error=error,
        vjp_error=vjp_error,
    )


def _binary_cases(dtype, fd, domains=(DEFAULT, DEFAULT)):
    @st.composite
    def case(draw):
        sa, sb = draw(cs.broadcastable_shapes(3, 3 if fd else 4))
        da, db = (_fd(d) if fd else d for d in domains)
        return Case((draw(cs.arrays(sa, dtype, da)), draw(cs.arrays(sb, dtype, db))))

    return case()


def _tied_pair(dtype):
    """a == b everywhere, with b broadcast along the first axis: every element a tie."""
    a = np.asarray([[0.5, -1.0, 2.0], [0.5, -1.0, 2.0]], np.float64).astype(dtype)
    return Case((a, a[0].copy()))


def _unbroadcast_vjp(ulps, sensitivity=True):
    return ErrorModel(
        ulps=ulps, reduction=broadcast_count, magnitude=broadcast_terms, sensitivity=sensitivity
    )


def binary(name, domains=(DEFAULT, DEFAULT), error=ErrorModel(ulps=1), vjp_ulps=2.0, **kw):
    """A broadcasting elementwise function of two float arrays."""
    kw.setdefault("vjp_error", _unbroadcast_vjp(vjp_ulps))
    return record(name, partial(_binary_cases, domains=domains), error=error, **kw)


_BOOL = ("bool",)


def _bool_cases(dtype, fd, n=2):
    @st.composite
    def case(draw):
        shapes = draw(cs.broadcastable_shapes(3, 4)) if n == 2 else [draw(cs.shapes(0, 3, 1, 4))]
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        return Case(tuple(rng.random(s) < 0.5 for s in shapes[:n]))

    return case()


def _nonfinite_cases(dtype, fd):
    @st.composite
    def case(draw):
        shape = draw(cs.shapes(1, 3, 1, 4))
        x = draw(cs.arrays(shape, dtype)).astype(np.float64)
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        special = rng.choice([np.nan, np.inf, -np.inf], size=shape)
        x = np.where(rng.random(shape) < 0.3, special, x)
        return Case((x.astype(dtype),))

    return case()


def _clip_cases(dtype, fd):
    @st.composite
    def case(draw):
        x = draw(cs.arrays(draw(cs.shapes(0, 3, 1, 3 if fd else 5)), dtype,
                           _fd(DEFAULT) if fd else DEFAULT))  # fmt: skip
        lo = draw(st.sampled_from([-2.0, -1.0, -0.5, 0.0]))
        hi = draw(st.sampled_from([0.0, 0.25, 1.0, 2.0]))
        if fd:  # keep finite differences off the bounds
            x = x.astype(np.float64)
            for b in (lo, hi):
                x = np.where(np.abs(x - b) < 1e-3, b + 0.01, x)
            x = x.astype(dtype)
        return Case((x,), {"x_min": lo, "x_max": hi})

    return case()


def _clip_ties(dtype):
    x = np.asarray([-1.0, -0.5, 0.0, 0.25, 1.0, 3.0], np.float64).astype(dtype)
    return Case((x,), {"x_min": -0.5, "x_max": 0.25})


def _clip_collapsed(dtype):
    x = np.asarray([-1.0, 0.5, 1.0], np.float64).astype(dtype)
    return Case((x,), {"x_min": 0.5, "x_max": 0.5})


def _where_cases(dtype, fd):
    @st.composite
    def case(draw):
        sa, sb = draw(cs.broadcastable_shapes(3, 4))
        sc = draw(st.sampled_from([sa, sb, np.broadcast_shapes(sa, sb)]))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        dom = _fd(DEFAULT) if fd else DEFAULT
        cond = rng.random(sc) < 0.5
        return Case((cond, draw(cs.arrays(sa, dtype, dom)), draw(cs.arrays(sb, dtype, dom))))

    return case()


_CAST_TARGETS = ("float32", "float64", "float16", "bfloat16", "int32", "bool")


def _cast_cases(dtype, fd):
    from conformance.tolerances import as_dtype

    @st.composite
    def case(draw):
        x = draw(cs.arrays(draw(cs.shapes(0, 3, 1, 4)), dtype, _fd(DEFAULT) if fd else DEFAULT))
        # finite differences of a result rounded to a narrower float measure the rounding
        target = draw(st.sampled_from(("float64",) if fd else _CAST_TARGETS))
        return Case((x,), {"dtype": as_dtype(target)})

    return case()


def _round_halves(dtype):
    return _values([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51], dtype)


def _large(dtype):
    return _values([-80.0, -20.0, -1.0, 0.0, 1.0, 20.0, 80.0], dtype)


def _tiny(dtype):
    return _values([1e-5, -1e-5, 3e-7, -2e-7, 1e-3], dtype)


LOG1P = Domain(-0.6, 3.0)
DIVISOR = Domain(-3.0, 3.0, avoid=(0.0,), away=0.3, styles=("uniform", "normal", "ties"))
KINK0 = Domain(-3.0, 3.0, avoid=(0.0,), away=1e-3)
STEPS = Domain(-3.0, 3.0, avoid=tuple(float(k) / 2 for k in range(-6, 7)), away=1e-3)
EXP = Domain(-5.0, 5.0)

ELEMENTWISE = [
    unary("negative", error=EXACT),
    unary("exp", EXP, examples=(_large,)),
    unary("log", POSITIVE),
    unary("log1p", LOG1P, examples=(_tiny,)),
    unary("expm1", EXP, examples=(_tiny,)),
    unary("sqrt", POSITIVE, error=ErrorModel(ulps=1)),
    unary("square", error=ErrorModel(ulps=1)),
    unary("abs", error=EXACT, vjp_error=EXACT, fd_domain=KINK0),
    unary("tanh", examples=(_large,)),
    unary("sigmoid", examples=(_large,)),
    unary("relu", error=EXACT, vjp_error=EXACT, fd_domain=KINK0),
    unary("softplus", examples=(_large,)),
    unary("sin", Domain(-6.0, 6.0)),
    unary("cos", Domain(-6.0, 6.0)),
    unary("erf"),
    unary("sign", error=EXACT, vjp_error=EXACT, fd_domain=KINK0),
    unary("floor", error=EXACT, vjp_error=EXACT, fd_domain=STEPS),
    unary("ceil", error=EXACT, vjp_error=EXACT, fd_domain=STEPS),
    unary("round", error=EXACT, vjp_error=EXACT, fd_domain=STEPS, examples=(_round_halves,)),
    record("cast", _cast_cases, error=ErrorModel(ulps=1, sensitivity=False),
           vjp_error=ErrorModel(ulps=1, sensitivity=False)),
    record("clip", _clip_cases, error=EXACT, vjp_error=EXACT,
           examples=(_clip_ties, _clip_collapsed)),
    binary("add"),
    binary("subtract"),
    binary("multiply"),
    binary("divide", (DEFAULT, DIVISOR), vjp_ulps=4),
    binary("power", (POSITIVE, Domain(-2.0, 2.0)), error=ErrorModel(ulps=4), vjp_ulps=6),
    binary("maximum", error=EXACT, vjp_error=_unbroadcast_vjp(1, sensitivity=False),
           examples=(_tied_pair,)),
    binary("minimum", error=EXACT, vjp_error=_unbroadcast_vjp(1, sensitivity=False),
           examples=(_tied_pair,)),
    record("where", _where_cases, error=EXACT, vjp_error=_unbroadcast_vjp(1)),
    *(binary(n, error=EXACT, examples=(_tied_pair,)) for n in
      ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")),
    record("logical_and", _bool_cases, dtypes=_BOOL, error=EXACT),
    record("logical_or", _bool_cases, dtypes=_BOOL, error=EXACT),
    record("logical_not", partial(_bool_cases, n=1), dtypes=_BOOL, error=EXACT),
    record("isnan", _nonfinite_cases, error=EXACT),
    record("isfinite", _nonfinite_cases, error=EXACT),
]  # fmt: skip


# --- reductions --------------------------------------------------------------------------------


def _reduced_count(case: Case) -> int:
    x, axis = case.arrays[0], case.params.get("axis")
    if x.ndim == 0:
        return 1
    axes = range(x.ndim) if axis is None else _tuple(axis)
    return max(1, math.prod(x.shape[a] for a in axes))


def _reduce_cases(dtype, fd, domain=DEFAULT, keepdims=True, tuple_axes=True, none_axis=True,
                  max_side=5):  # fmt: skip
    @st.composite
    def case(draw):
        shape = draw(cs.shapes(0 if none_axis else 1, 3, 1, 3 if fd else max_side))
        x = draw(cs.arrays(shape, dtype, _fd(domain) if fd else domain))
        params = {"axis": draw(cs.axes(len(shape), none_axis, tuple_axes))}
        if keepdims:
            params["keepdims"] = draw(st.booleans())
        return Case((x,), params)

    return case()


def _ties_rows(dtype, keepdims=True):
    """Every row has its maximum (and minimum) twice: the first index must win."""
    x = np.asarray([[1.0, 3.0, 3.0, -2.0, -2.0], [0.0, 0.0, 0.0, 0.0, 0.0]]).astype(dtype)
    return Case((x,), {"axis": -1, "keepdims": False} if keepdims else {"axis": -1})


def _batch_one(dtype):
    return Case((np.asarray([[0.5, -1.5, 2.0]]).astype(dtype),), {"axis": 0, "keepdims": False})


SUM = ErrorModel(reduction=_reduced_count, ulps=1)
MEAN = ErrorModel(reduction=lambda c: _reduced_count(c) + 1, ulps=2)
# ties share g / count; g * (1 / count) is a legitimate second rounding
CHOOSE_VJP = ErrorModel(ulps=2, sensitivity=False)

REDUCE = [
    record("sum", _reduce_cases, error=SUM, vjp_error=EXACT, examples=(_batch_one,)),
    record("mean", _reduce_cases, error=MEAN, vjp_error=ErrorModel(ulps=2),
           examples=(_batch_one,)),
    record("max", _reduce_cases, error=EXACT, vjp_error=CHOOSE_VJP,
           examples=(_ties_rows, _batch_one)),
    record("min", _reduce_cases, error=EXACT, vjp_error=CHOOSE_VJP,
           examples=(_ties_rows, _batch_one)),
    record("prod", partial(_reduce_cases, domain=Domain(-2.0, 2.0), max_side=3),
           error=ErrorModel(reduction=_reduced_count, ulps=1, magnitude="abs_output"),
           vjp_error=ErrorModel(reduction=_reduced_count, ulps=1)),
    record("cumsum", partial(_reduce_cases, keepdims=False, tuple_axes=False, none_axis=False),
           error=SUM, vjp_error=SUM),
    record("argmax", partial(_reduce_cases, tuple_axes=False), error=EXACT,
           examples=(_ties_rows,)),
    record("argmin", partial(_reduce_cases, tuple_axes=False), error=EXACT,
           examples=(_ties_rows,)),
]  # fmt: skip


# --- linear algebra ----------------------------------------------------------------------------


def _matmul_k(case: Case) -> int:
    return case.arrays[0].shape[-1]


def _matmul_vjp_n(case: Case) -> int:
    a, b = case.arrays
    out = np.matmul(np.zeros(a.shape, np.float32), np.zeros(b.shape, np.float32))
    terms = out.size * a.shape[-1]
    return max(1, max(terms // max(1, x.size) for x in (a, b)))


def _matmul_cases(dtype, fd):
    @st.composite
    def case(draw):
        n, k, m = (draw(st.integers(1, 3 if fd else 5)) for _ in range(3))
        batch_a, batch_b = draw(cs.broadcastable_shapes(2, 2 if fd else 3))
        kind = draw(st.sampled_from(["matrix", "matrix", "vector_left", "vector_right", "dot"]))
        sa = (k,) if kind in ("vector_left", "dot") else (*batch_a, n, k)
        sb = (k,) if kind in ("vector_right", "dot") else (*batch_b, k, m)
        dom = _fd(DEFAULT) if fd else DEFAULT
        return Case((draw(cs.arrays(sa, dtype, dom)), draw(cs.arrays(sb, dtype, dom))))

    return case()


EINSUM_SPECS = (
    "ij,jk->ik", "bij,bjk->bik", "i,i->", "ij->ji", "ij->i", "bi,ij->bj", "i,j->ij",
    "abc,cd->abd", "...ij,...jk->...ik", "bqhd,bkhd->bhqk", "ij,ij->ij",
)  # fmt: skip


def _einsum_sizes(case: Case) -> dict[str, int]:
    """Letter -> axis length (``...`` axes under ``.``-numbered keys)."""
    ins = case.params["subscripts"].split("->")[0].split(",")
    sizes: dict[str, int] = {}
    for spec, op in zip(ins, case.arrays):
        if "..." in spec:
            head, tail = spec.split("...")
            n_ell = op.ndim - len(head) - len(tail)
            letters = list(head) + [f".{i}" for i in range(n_ell)] + list(tail)
        else:
            letters = list(spec)
        for c, n in zip(letters, op.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    return sizes


def _einsum_n(case: Case) -> int:
    out = case.params["subscripts"].split("->")[1]
    sizes = _einsum_sizes(case)
    return max(1, math.prod(n for c, n in sizes.items() if not c.startswith(".") and c not in out))


def _einsum_vjp_n(case: Case) -> int:
    terms = math.prod(_einsum_sizes(case).values())
    return max(1, max(terms // max(1, op.size) for op in case.arrays))


def _einsum_cases(dtype, fd):
    @st.composite
    def case(draw):
        spec = draw(st.sampled_from(EINSUM_SPECS))
        size = {c: draw(st.integers(1, 3 if fd else 4)) for c in "abcdehijkmq"}
        ins = spec.split("->")[0].split(",")
        batch = draw(cs.broadcastable_shapes(2, 3)) if "..." in spec else ((), ())
        dom = _fd(DEFAULT) if fd else DEFAULT
        ops = []
        for i, s in enumerate(ins):
            shape = tuple(size[c] for c in s.replace("...", ""))
            if "..." in s:
                shape = batch[i] + shape
            ops.append(draw(cs.arrays(shape, dtype, dom)))
        return Case(tuple(ops), {"subscripts": spec})

    return case()


LINALG = [
    record("matmul", _matmul_cases, error=ErrorModel(reduction=_matmul_k, ulps=1),
           vjp_error=ErrorModel(reduction=_matmul_vjp_n, ulps=1)),
    # NumPy's einsum has no bfloat16 loops, so the reference cannot run it in bfloat16.
    record("einsum", _einsum_cases, dtypes=("float32", "float64", "float16"),
           error=ErrorModel(reduction=_einsum_n, ulps=1),
           vjp_error=ErrorModel(reduction=_einsum_vjp_n, ulps=1)),
]  # fmt: skip


# --- shape -------------------------------------------------------------------------------------


def _shape_case(dtype, fd, draw, min_dims=1, max_dims=3):
    shape = draw(cs.shapes(min_dims, max_dims, 1, 3 if fd else 4))
    return shape, draw(cs.arrays(shape, dtype, _fd(DEFAULT) if fd else DEFAULT))


def _shape_cases(kind):
    def strategy(dtype, fd):
        @st.composite
        def case(draw):
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            min_dims = 0 if kind in ("reshape", "broadcast_to", "tile") else 1
            shape, x = _shape_case(dtype, fd, draw, min_dims)
            ndim = len(shape)
            if kind == "reshape":
                new = list(rng.permutation([n for n in shape for _ in (0,)]))
                if new and draw(st.booleans()):
                    new[draw(st.integers(0, len(new) - 1))] = -1
                return Case((x,), {"shape": tuple(int(n) for n in new) or ()})
            if kind == "transpose":
                perm = [int(p) - (ndim if draw(st.booleans()) else 0)
                        for p in rng.permutation(ndim)]  # fmt: skip
                return Case((x,), {"axes": tuple(perm)})
            if kind == "broadcast_to":
                lead = draw(cs.shapes(0, 2, 1, 3))
                target = tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
                return Case((x,), {"shape": (*lead, *target)})
            if kind == "flip":
                return Case((x,), {"axis": draw(cs.axes(ndim, allow_none=True))})
            if kind == "pad":
                widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
                value = draw(st.sampled_from([0, 0, 1.5]))
                return Case((x,), {"pad_width": widths, "constant_values": value})
            if kind == "tile":
                reps = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, ndim + 1))))
                return Case((x,), {"repeats": reps})
            if kind == "repeat":
                return Case((x,), {"repeats": draw(st.integers(1, 3)),
                                   "axis": draw(st.integers(-ndim, ndim - 1))})  # fmt: skip
            raise AssertionError(kind)

        return case()

    return strategy


def _concatenate_cases(dtype, fd):
    @st.composite
    def case(draw):
        shape = draw(cs.shapes(1, 3, 1, 3 if fd else 4))
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        dom = _fd(DEFAULT) if fd else DEFAULT
        xs = []
        for _ in range(draw(st.integers(1, 3))):
            s = list(shape)
            s[axis] = draw(st.integers(1, 3))
            xs.append(draw(cs.arrays(tuple(s), dtype, dom)))
        return Case(tuple(xs), {"axis": axis})

    return case()


def _getitem_cases(dtype, fd):
    @st.composite
    def case(draw):
        shape, x = _shape_case(dtype, fd, draw, 1, 3)
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        kind = draw(st.sampled_from(["basic", "int_array", "bool_mask", "mixed"]))
        n0 = shape[0]
        if kind == "basic":
            key = []
            for n in shape[: draw(st.integers(1, len(shape)))]:
                choice = draw(st.sampled_from(["slice", "int", "step", "newaxis"]))
                if choice == "int":
                    key.append(int(rng.integers(-n, n)))
                elif choice == "step":
                    key.append(slice(None, None, int(rng.choice([-1, 2, -2]))))
                elif choice == "newaxis":
                    key.append(None)
                else:
                    lo = int(rng.integers(0, n))
                    key.append(slice(lo, int(rng.integers(lo, n + 1)) or None))
            if draw(st.booleans()):
                key.insert(0, Ellipsis) if len(key) < len(shape) else None
            key = tuple(key)
        elif kind == "int_array":  # indices repeat: their cotangents must add up
            key = rng.integers(-n0, n0, size=draw(cs.shapes(1, 2, 1, 4)))
        elif kind == "bool_mask":
            key = rng.random(shape[: draw(st.integers(1, len(shape)))]) < 0.5
        else:
            key = (slice(None), rng.integers(0, shape[1], size=3)) if len(shape) > 1 else (
                rng.integers(0, n0, size=2))  # fmt: skip
        return Case((x,), {"key": key})

    return case()


def _take_cases(dtype, fd, along=False):
    @st.composite
    def case(draw):
        shape, x = _shape_case(dtype, fd, draw, 1, 3)
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        ndim = len(shape)
        if along:
            if draw(st.integers(0, 4)) == 0:  # axis=None: gather from the flattened array
                idx = rng.integers(-x.size, x.size, size=draw(st.integers(1, 5)))
                return Case((x, idx.astype(np.int32)), {"axis": None})
            axis = draw(st.integers(-ndim, ndim - 1))
            ishape = [draw(st.sampled_from([1, n])) for n in shape]
            ishape[axis] = draw(st.integers(1, 4))
            n = shape[axis]
            idx = rng.integers(-n, n, size=tuple(ishape))
        else:
            axis = draw(st.integers(-ndim, ndim - 1))
            n = shape[axis]
            # out-of-range indices are clipped to the nearest end (JAX's gather semantics)
            high = n + (2 if draw(st.booleans()) and not fd else 0)
            idx = rng.integers(-n, high, size=draw(cs.shapes(0, 2, 1, 4)))
        dtype_i = draw(st.sampled_from([np.int32, np.int64]))
        return Case((x, idx.astype(dtype_i)), {"axis": axis})

    return case()


def _routed(name):
    return ErrorModel(ulps=1, reduction=routing_count(name), sensitivity=False)


SHAPE = [
    *(record(n, _shape_cases(n), error=EXACT, vjp_error=_routed(n))
      for n in ("reshape", "transpose", "broadcast_to", "flip", "pad", "tile", "repeat")),
    record("concatenate", _concatenate_cases, error=EXACT, vjp_error=EXACT),
    record("getitem", _getitem_cases, error=EXACT, vjp_error=_routed("getitem")),
    record("take", _take_cases, error=EXACT, vjp_error=_routed("take")),
    record("take_along_axis", partial(_take_cases, along=True), error=EXACT,
           vjp_error=_routed("take_along_axis")),
]  # fmt: skip


# --- softmax -----------------------------------------------------------------------------------


def _axis_len(case: Case) -> int:
    x = case.arrays[0]
    return x.shape[case.params["axis"]] if x.ndim else 1


def _softmax_cases(dtype, fd):
    @st.composite
    def case(draw):
        shape = draw(cs.shapes(1, 3, 1, 3 if fd else 6))
        x = draw(cs.arrays(shape, dtype, _fd(Domain(-6.0, 6.0)) if fd else Domain(-6.0, 6.0)))
        return Case((x,), {"axis": draw(st.integers(-len(shape), len(shape) - 1))})

    return case()


def _large_logits(dtype):
    """Logits far beyond exp's range: only the max-shifted formula survives."""
    x = np.asarray([[1000.0, 998.0, -1000.0], [-3000.0, -3000.0, -3001.0], [0, 0, 0]])
    return Case((x.astype(dtype),), {"axis": -1})


def _softmax_vjp_mag(fn, arrays, params):
    g, out = np.abs(arrays[0]), np.abs(arrays[1])
    return (out * (g + np.sum(g * out, axis=params.get("axis", -1), keepdims=True)),)


def _log_softmax_mag(fn, arrays, params):
    """``|x - max x| + 1 + log s`` with ``s = sum e^(x - max x) >= 1``: the sum carries a
    relative error of ``n u``, which the logarithm turns into an absolute one (the ``1``)."""
    x = arrays[0]
    shifted = x - np.max(x, axis=params["axis"], keepdims=True)
    log_s = np.log(np.sum(np.exp(shifted), axis=params["axis"], keepdims=True))
    return (np.abs(shifted) + 1 + log_s,)


def _log_softmax_vjp_mag(fn, arrays, params):
    g, out = np.abs(arrays[0]), arrays[1]
    return (g + np.exp(out) * np.sum(g, axis=params.get("axis", -1), keepdims=True),)


NN = [
    record("softmax", _softmax_cases, examples=(_large_logits,),
           error=ErrorModel(reduction=_axis_len, magnitude="abs_output"),
           vjp_error=ErrorModel(reduction=_axis_len, magnitude=_softmax_vjp_mag)),
    record("log_softmax", _softmax_cases, examples=(_large_logits,),
           error=ErrorModel(reduction=_axis_len, magnitude=_log_softmax_mag),
           vjp_error=ErrorModel(reduction=_axis_len, magnitude=_log_softmax_vjp_mag)),
]  # fmt: skip


# --- convolution and pooling -------------------------------------------------------------------


def _out_spatial(case: Case, window, strides, dilation, padding) -> tuple[int, ...]:
    from refkeras.primitives.conv import window_geometry

    return window_geometry(case.arrays[0].shape, window, strides, padding, dilation)[3]


def _conv_cases(dtype, fd, depthwise=False):
    @st.composite
    def case(draw):
        w = draw(cs.windows(ranks=(1, 2) if fd else (1, 2, 3), max_spatial=4 if fd else 6,
                            max_window=2 if fd else 3, max_batch=1 if fd else 2))  # fmt: skip
        groups = 1 if depthwise else draw(st.sampled_from([1, 1, 2]))
        c_in = groups * draw(st.integers(1, 2 if fd else 3))
        c_out = draw(st.integers(1, 2 if fd else 3)) * (1 if depthwise else groups)
        x_shape = (w.batch, *w.spatial, c_in)
        k_shape = (*w.window, c_in, c_out) if depthwise else (*w.window, c_in // groups, c_out)
        dom = _fd(DEFAULT) if fd else DEFAULT
        params = {"strides": w.strides, "padding": w.padding, "dilation_rate": w.dilation}
        if not depthwise:
            params["groups"] = groups
        return Case((draw(cs.arrays(x_shape, dtype, dom)), draw(cs.arrays(k_shape, dtype, dom))),
                    params)  # fmt: skip

    return case()


def _conv_n(case: Case) -> int:
    k = case.arrays[1]
    return math.prod(k.shape[:-1])  # taps * input channels per group


def _conv_vjp_n(case: Case) -> int:
    x, k = case.arrays
    p = case.params
    out = _out_spatial(case, k.shape[:-2], p["strides"], p["dilation_rate"], p["padding"])
    groups = p.get("groups", 1)
    taps_out = math.prod(k.shape[:-2]) * k.shape[-1] // groups  # dx: taps x out channels/group
    return max(taps_out, x.shape[0] * math.prod(out))  # dkernel: batch x output positions


def _depthwise_n(case: Case) -> int:
    return math.prod(case.arrays[1].shape[:-2])


def _batch_one_conv(dtype):
    x = np.linspace(-1, 1, 1 * 5 * 2).reshape(1, 5, 2)
    k = np.linspace(1, -1, 3 * 2 * 2).reshape(3, 2, 2)
    return Case(
        (x.astype(dtype), k.astype(dtype)),
        {"strides": (1,), "padding": "causal", "dilation_rate": (2,), "groups": 1},
    )


def _pool_cases(dtype, fd):
    @st.composite
    def case(draw):
        w = draw(cs.windows(ranks=(1, 2) if fd else (1, 2, 3), paddings=("valid", "same"),
                            dilation=False, max_spatial=4 if fd else 6,
                            max_window=2 if fd else 3, max_batch=1 if fd else 2))  # fmt: skip
        channels = draw(st.integers(1, 2 if fd else 3))
        x = draw(cs.arrays((w.batch, *w.spatial, channels), dtype,
                           _fd(DEFAULT) if fd else DEFAULT))  # fmt: skip
        strides = None if draw(st.booleans()) and not fd else w.strides
        return Case((x,), {"pool_size": w.window, "strides": strides, "padding": w.padding})

    return case()


def _pool_ties(dtype):
    """Plateaus of equal maxima in overlapping windows: the first maximum (row-major) takes
    the whole cotangent, as XLA's select_and_scatter does."""
    x = np.asarray([[1, 1, 0, 2], [1, 1, 2, 2], [0, 0, 0, 0], [3, 0, 3, 0]], np.float64)
    return Case((x.reshape(1, 4, 4, 1).astype(dtype),),
                {"pool_size": (2, 2), "strides": (1, 1), "padding": "same"})  # fmt: skip


def _windows_per_element(case: Case) -> int:
    p = case.params
    pool = p["pool_size"]
    strides = p["strides"] or pool
    return math.prod(-(-k // s) for k, s in zip(pool, strides))


WINDOWS = [
    record("conv", _conv_cases, examples=(_batch_one_conv,),
           error=ErrorModel(reduction=_conv_n, ulps=1),
           vjp_error=ErrorModel(reduction=_conv_vjp_n, ulps=1)),
    record("depthwise_conv", partial(_conv_cases, depthwise=True),
           error=ErrorModel(reduction=_depthwise_n, ulps=1),
           vjp_error=ErrorModel(reduction=_conv_vjp_n, ulps=1)),
    record("max_pool", _pool_cases, examples=(_pool_ties,), error=EXACT,
           vjp_error=ErrorModel(reduction=_windows_per_element, ulps=1, sensitivity=False)),
    record("average_pool", _pool_cases, examples=(_pool_ties,),
           error=ErrorModel(reduction=lambda c: math.prod(c.params["pool_size"]) + 1, ulps=1),
           vjp_error=ErrorModel(reduction=lambda c: _windows_per_element(c) + 1, ulps=2)),
]  # fmt: skip


# --- recurrent ---------------------------------------------------------------------------------


_GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


def _rnn_cases(dtype, fd, kind="lstm"):
    @st.composite
    def case(draw):
        batch = draw(st.integers(1, 2 if fd else 3))
        time = draw(st.integers(1, 3 if fd else 5))
        feat = draw(st.integers(1, 2 if fd else 4))
        units = draw(st.integers(1, 2 if fd else 4))
        gates = _GATES[kind]
        dom = _fd(Domain(-1.0, 1.0)) if fd else Domain(-1.0, 1.0)
        arrays = [draw(cs.arrays((batch, time, feat), dtype, dom))]
        arrays += [draw(cs.arrays((batch, units), dtype, dom))
                   for _ in range(2 if kind == "lstm" else 1)]  # fmt: skip
        arrays.append(draw(cs.arrays((feat, gates * units), dtype, dom)))
        arrays.append(draw(cs.arrays((units, gates * units), dtype, dom)))
        bias_shape = (2, 3 * units) if kind == "gru" else (gates * units,)
        arrays.append(draw(cs.arrays(bias_shape, dtype, dom)))
        mask = None
        if draw(st.booleans()):
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            mask = rng.random((batch, time)) < 0.7
        arrays.append(mask)
        acts = ["tanh", "sigmoid", "relu", "linear"] if not fd else ["tanh", "sigmoid"]
        params = {"activation": draw(st.sampled_from(acts)),
                  "go_backwards": draw(st.booleans())}  # fmt: skip
        if kind != "simple_rnn":
            ract = ["sigmoid", "hard_sigmoid"] if not fd else ["sigmoid"]
            params["recurrent_activation"] = draw(st.sampled_from(ract))
        return Case(tuple(arrays), params)

    return case()


def _rnn_n(case: Case) -> int:
    """A recurrence of ``time`` steps, each summing ``features + units + 1`` products per gate
    pre-activation: errors made early are carried (and, with contracting activations, damped)
    through later steps, so ``n`` grows with the sequence length."""
    x, h0 = case.arrays[0], case.arrays[1]
    return x.shape[1] * (x.shape[2] + h0.shape[1] + 2)


def _rnn_vjp_n(case: Case) -> int:
    x = case.arrays[0]
    return _rnn_n(case) + x.shape[0] * x.shape[1]  # weight cotangents sum over batch x time


RNN_ERROR = ErrorModel(reduction=_rnn_n, ulps=4, magnitude="max_abs_output")
RNN_VJP_ERROR = ErrorModel(reduction=_rnn_vjp_n, ulps=4, magnitude="max_abs_output")

RNN = [
    record(kind, partial(_rnn_cases, kind=kind), error=RNN_ERROR, vjp_error=RNN_VJP_ERROR)
    for kind in ("lstm", "gru", "simple_rnn")
]


RECORDS = [*ELEMENTWISE, *REDUCE, *LINALG, *SHAPE, *NN, *WINDOWS, *RNN]
