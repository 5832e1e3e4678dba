"""Python operators and NumPy ufuncs on ``Tensor`` and ``Variable``: values (against the same
operator on NumPy arrays) and gradients (against central finite differences) for every operator,
in both operand orders, with Python scalars, NumPy arrays, tensors and variables as the other
operand.  A missed operator gradient would silently train nothing, hence the exhaustive table.
Also: dtype promotion of mixed operands, and ufuncs that cannot be differentiated raising."""

import operator

import numpy as np
import pytest

from refkeras import ops
from refkeras.autodiff import GradientTape
from refkeras.backend import Tensor, Variable, load_backend

load_backend("numpy")

rng = np.random.default_rng(42)

# Positive values away from 0 so that /, //, % and ** are smooth and defined on both sides.
X = rng.uniform(0.5, 2.0, size=(2, 3))
ROW = rng.uniform(0.5, 2.0, size=(3,))

BINARY = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
COMPARISONS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
OTHERS = ["int", "float", "array", "tensor", "variable"]


def numeric_grads(f, arrays, ct, eps=1e-6):
    """Central differences of ``sum(ct * f(*arrays))`` with respect to each array."""
    grads = []
    for i, a in enumerate(arrays):
        grad = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            args = list(arrays)
            args[i] = a.copy()
            args[i][idx] += eps
            up = np.sum(ct * f(*args))
            args[i][idx] -= 2 * eps
            grad[idx] = (up - np.sum(ct * f(*args))) / (2 * eps)
        grads.append(grad)
    return grads


def _subject(kind, value):
    """A float64 Tensor (watched later) or Variable holding ``value``."""
    if kind == "variable":
        return Variable(value, dtype="float64")
    return ops.convert_to_tensor(value, "float64")


def _other(kind, value):
    """The other operand: Python int/float, NumPy array, Tensor or Variable (``value`` for the
    array kinds)."""
    return {
        "int": lambda: 2,
        "float": lambda: 1.5,
        "array": lambda: value.copy(),
        "tensor": lambda: ops.convert_to_tensor(value, "float64"),
        "variable": lambda: Variable(value, dtype="float64"),
    }[kind]()


def _np(x):
    return np.array(x) if isinstance(x, Tensor | Variable) else x


def _check(fn, subject, other):
    """Apply ``fn(subject, other)`` under a tape; compare its value with ``fn`` on NumPy values and
    the gradients of every differentiable operand with finite differences."""
    differentiable = [x for x in (subject, other) if isinstance(x, Tensor | Variable)]
    with GradientTape() as tape:
        for x in differentiable:
            if isinstance(x, Tensor):
                tape.watch(x)
        y = fn(subject, other)
    assert isinstance(y, Tensor), f"result is {type(y).__name__}, not a Tensor"
    expected = fn(_np(subject), _np(other))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    assert y.dtype == np.asarray(expected).dtype
    ct = rng.normal(size=y.shape)
    grads = tape.gradient(y, differentiable, output_gradients=ct)

    arrays = [np.array(x) for x in differentiable]
    positions = [i for i, x in enumerate((subject, other)) if isinstance(x, Tensor | Variable)]

    def f(*arrs):
        args = [_np(subject), _np(other)]
        for p, a in zip(positions, arrs):
            args[p] = a
        return fn(*args)

    for g, num, x in zip(grads, numeric_grads(f, arrays, ct), differentiable):
        assert g is not None, f"no gradient for the {type(x).__name__} operand"
        assert g.shape == x.shape
        np.testing.assert_allclose(g.numpy(), num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("subject_kind", ["tensor", "variable"])
@pytest.mark.parametrize("other_kind", OTHERS)
@pytest.mark.parametrize("reflected", [False, True], ids=["subject-left", "subject-right"])
@pytest.mark.parametrize("symbol", list(BINARY))
def test_binary_operator(symbol, reflected, other_kind, subject_kind):
    op = BINARY[symbol]
    subject, other = _subject(subject_kind, X), _other(other_kind, ROW)
    fn = (lambda a, b: op(b, a)) if reflected else op
    _check(fn, subject, other)


@pytest.mark.parametrize("subject_kind", ["tensor", "variable"])
@pytest.mark.parametrize("other_kind", ["array", "tensor", "variable"])
@pytest.mark.parametrize(
    "subject_shape,other_shape,reflected",
    [((2, 3), (3,), False), ((2, 3), (3, 4), False), ((2, 3), (2,), True), ((2, 3), (5, 2), True)],
)
def test_matmul_operator(subject_shape, other_shape, reflected, other_kind, subject_kind):
    subject = _subject(subject_kind, rng.normal(size=subject_shape))
    other = _other(other_kind, rng.normal(size=other_shape))
    fn = (lambda a, b: b @ a) if reflected else (lambda a, b: a @ b)
    _check(fn, subject, other)


UNARY = [("neg", operator.neg), ("pos", operator.pos), ("abs", abs), ("abs-op", operator.abs)]


@pytest.mark.parametrize("subject_kind", ["tensor", "variable"])
@pytest.mark.parametrize("name,fn", UNARY, ids=[u[0] for u in UNARY])
def test_unary_operator(name, fn, subject_kind):
    value = rng.uniform(0.5, 2.0, size=(2, 3)) * np.array([1.0, -1.0, 1.0])
    _check(lambda a, _: fn(a), _subject(subject_kind, value), None)


INDEX_KEYS = {
    "int": 1,
    "negative-int": -1,
    "slice": (slice(None), slice(1, None)),
    "step": (slice(None, None, -1), slice(0, 3, 2)),
    "ellipsis-newaxis": (Ellipsis, None),
    "int-array-repeats": np.array([1, 1, 0]),
    "list": [0, 0, 1],
    "mixed": (slice(None), np.array([2, 0, 2])),
    "bool-mask": np.array([[True, False, True], [False, False, True]]),
    "tensor-index": ops.convert_to_tensor(np.array([1, 0, 1], np.int32)),
    "tensor-mask": ops.convert_to_tensor(np.array([False, True])),
}


@pytest.mark.parametrize("subject_kind", ["tensor", "variable"])
@pytest.mark.parametrize("key", list(INDEX_KEYS.values()), ids=list(INDEX_KEYS))
def test_indexing(key, subject_kind):
    np_key = np.asarray(key) if isinstance(key, Tensor | list) else key
    fn = lambda a, _: a[key] if isinstance(a, Tensor | Variable) else a[np_key]  # noqa: E731
    _check(fn, _subject(subject_kind, X), None)


@pytest.mark.parametrize("subject_kind", ["tensor", "variable"])
@pytest.mark.parametrize("other_kind", OTHERS)
@pytest.mark.parametrize("reflected", [False, True], ids=["subject-left", "subject-right"])
@pytest.mark.parametrize("symbol", list(COMPARISONS))
def test_comparison_operator(symbol, reflected, other_kind, subject_kind):
    op = COMPARISONS[symbol]
    value = X.copy()
    value[0, 0] = 2.0  # equal to the int operand
    value[1, 1] = 1.5  # equal to the float operand
    value[:, 2] = ROW[2]  # equal to the array operand in one column
    subject, other = _subject(subject_kind, value), _other(other_kind, ROW)
    fn = (lambda a, b: op(b, a)) if reflected else op
    with GradientTape() as tape:
        if isinstance(subject, Tensor):
            tape.watch(subject)
        y = fn(subject, other)
    assert isinstance(y, Tensor) and y.dtype == np.bool_
    np.testing.assert_array_equal(y.numpy(), fn(_np(subject), _np(other)))
    assert tape.gradient(y, subject) is None


def test_logical_operators_on_bool_tensors():
    a = ops.convert_to_tensor(np.array([True, True, False, False]))
    b = np.array([True, False, True, False])
    np.testing.assert_array_equal((a & b).numpy(), [True, False, False, False])
    np.testing.assert_array_equal((a | b).numpy(), [True, True, True, False])
    np.testing.assert_array_equal((a & ops.convert_to_tensor(b)).numpy(), [1, 0, 0, 0])
    np.testing.assert_array_equal((~a).numpy(), [False, False, True, True])


def test_logical_operators_with_an_array_on_the_left():
    x = ops.convert_to_tensor([1.0, -2.0, 3.0])
    b = np.array([True, False, False])
    with GradientTape() as tape:
        tape.watch(x)
        mask = b | (x > 0)
        y = ops.where(mask & b, x, 0.0)
    assert isinstance(mask, Tensor)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 0.0, 0.0])


def test_transpose_property_and_methods():
    t = ops.convert_to_tensor(X, "float64")
    with GradientTape() as tape:
        tape.watch(t)
        y = t.T.reshape(6).astype("float32")
    np.testing.assert_array_equal(y.numpy(), X.T.reshape(6).astype(np.float32))
    ct = np.arange(6.0, dtype=np.float32)
    g = tape.gradient(y, t, output_gradients=ct)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g.numpy(), ct.reshape(3, 2).T)


# --- NumPy ufuncs on tensors -------------------------------------------------------------------

M = rng.normal(size=(4, 2))
UFUNCS = {
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "square": np.square,
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
    "negative": np.negative,
    "absolute": np.absolute,
    "add-scalar": lambda t: np.add(t, 1.0),
    "subtract-array-left": lambda t: np.subtract(ROW, t),
    "multiply-array-left": lambda t: np.multiply(ROW, t),
    "divide": lambda t: np.divide(1.0, t),
    "true_divide": lambda t: np.true_divide(t, ROW),
    "power": lambda t: np.power(t, 3),
    "maximum": lambda t: np.maximum(t, 1.2),
    "minimum": lambda t: np.minimum(ROW, t),
    "matmul": lambda t: np.matmul(M, t),
    "remainder": lambda t: np.remainder(t, 0.7),
    "floor_divide": lambda t: np.floor_divide(t, 0.7),
    "floor": np.floor,
    "ceil": np.ceil,
    "sign": np.sign,
}


@pytest.mark.parametrize("fn", list(UFUNCS.values()), ids=list(UFUNCS))
def test_numpy_ufuncs_on_tensors_are_differentiable(fn):
    _check(lambda a, _: fn(a), _subject("tensor", X), None)


def test_numpy_ufunc_on_a_variable_is_differentiable():
    v = Variable(X, dtype="float64")
    with GradientTape() as tape:
        y = np.exp(v)
    assert isinstance(y, Tensor)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), np.exp(X))


@pytest.mark.parametrize(
    "call",
    [
        lambda t: np.arctan(t),
        lambda t: np.add.reduce(t),
        lambda t: np.sum(t),
        lambda t: np.exp(t, out=np.empty(t.shape)),
        lambda t: np.add.accumulate(t),
    ],
    ids=["arctan", "add.reduce", "np.sum", "out=", "accumulate"],
)
def test_unsupported_ufuncs_raise_inside_a_tape(call):
    t = ops.convert_to_tensor(X, "float64")
    with GradientTape() as tape:
        t_watched = ops.convert_to_tensor(X, "float64")
        tape.watch(t_watched)
        with pytest.raises(TypeError, match="not differentiable"):
            call(t_watched)
    out = call(t)  # outside a tape they simply compute
    np.testing.assert_allclose(np.asarray(out), call(X))


def test_non_ufunc_numpy_functions_raise_inside_a_tape():
    t = ops.convert_to_tensor(X, "float64")
    with GradientTape() as tape:
        tape.watch(t)
        with pytest.raises(TypeError):
            np.mean(t)


# --- dtype promotion ---------------------------------------------------------------------------


def _t(value, dtype):
    return ops.convert_to_tensor(np.asarray(value, dtype=dtype))


PROMOTION = [
    ("float32 * 0.1", lambda: _t([1.0, 2.0], "float32") * 0.1, "float32"),
    ("0.1 * float32", lambda: 0.1 * _t([1.0, 2.0], "float32"), "float32"),
    ("float32 + 3", lambda: _t([1.0, 2.0], "float32") + 3, "float32"),
    ("float16 * 0.1", lambda: _t([1.0, 2.0], "float16") * 0.1, "float16"),
    ("int32 + 0.5", lambda: _t([1, 2], "int32") + 0.5, "float32"),
    ("0.5 - int32", lambda: 0.5 - _t([1, 2], "int32"), "float32"),
    ("int32 + 2", lambda: _t([1, 2], "int32") + 2, "int32"),
    ("bool + 1", lambda: _t([True, False], "bool") + 1, "int32"),
    ("bool + 1.5", lambda: _t([True, False], "bool") + 1.5, "float32"),
    ("int64 array + float32", lambda: np.arange(2) + _t([1.0, 2.0], "float32"), "float32"),
    ("float32 + int64 array", lambda: _t([1.0, 2.0], "float32") + np.arange(2), "float32"),
    ("float32 + float64 tensor", lambda: _t([1.0], "float32") + _t([1.0], "float64"), "float64"),
    ("int8 * uint8", lambda: _t([1], "int8") * _t([1], "uint8"), "int16"),
    ("int32 / int32", lambda: _t([1, 2], "int32") / _t([2, 2], "int32"), "float32"),
    ("int32 // 2", lambda: _t([3, 4], "int32") // 2, "int32"),
    ("int32 % 2", lambda: _t([3, 4], "int32") % 2, "int32"),
    ("int32 ** 2", lambda: _t([3, 4], "int32") ** 2, "int32"),
    ("float32 ** 2", lambda: _t([3.0, 4.0], "float32") ** 2, "float32"),
    ("2 ** float32", lambda: 2 ** _t([3.0, 4.0], "float32"), "float32"),
    ("variable * 0.1", lambda: Variable(np.ones(2, "float32")) * 0.1, "float32"),
    ("-int32", lambda: -_t([1, 2], "int32"), "int32"),
    ("abs(int32)", lambda: abs(_t([1, -2], "int32")), "int32"),
]  # fmt: skip


@pytest.mark.parametrize("make,dtype", [p[1:] for p in PROMOTION], ids=[p[0] for p in PROMOTION])
def test_dtype_promotion(make, dtype):
    y = make()
    assert isinstance(y, Tensor)
    assert y.dtype == np.dtype(dtype)


def test_float32_operands_get_float32_gradients_through_promotion():
    t = _t([1.0, 2.0], "float32")
    with GradientTape() as tape:
        tape.watch(t)
        y = (t * 0.1 + np.arange(2) * t + t * np.array([0.5, 0.25])) ** 2
    g = tape.gradient(y, t)
    assert y.dtype == np.float64  # a float64 array promotes...
    assert g.dtype == np.float32  # ...but the gradient comes back in the source's dtype
