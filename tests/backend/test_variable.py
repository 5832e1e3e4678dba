"""``Variable``: construction (values, callables, initializer names, dtypes, names), reads
(snapshots as Tensors, NumPy interop, Python conversions), assignment (casting, shape checks, no
aliasing), operators, tape watching and ``StatelessScope``."""

import numpy as np
import pytest

from refkeras import ops
from refkeras.autodiff import GradientTape
from refkeras.backend import StatelessScope, Tensor, Variable, load_backend
from refkeras.utils.naming import name_scope

load_backend("numpy")


# --- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,dtype",
    [
        (np.ones(2, "float64"), "float32"),  # floats default to floatx
        ([1.0, 2.0], "float32"),
        (1.5, "float32"),
        (np.ones(2, "int32"), "int32"),  # integers and bools keep their dtype
        (np.ones(2, "uint8"), "uint8"),
        (True, "bool"),
    ],
)
def test_dtype_from_the_initial_value(value, dtype):
    v = Variable(value)
    assert v.dtype == dtype and v.numpy().dtype == dtype


def test_explicit_dtype_casts():
    v = Variable([1.7, -2.2], dtype="int32")
    assert v.dtype == "int32"
    np.testing.assert_array_equal(v.numpy(), [1, -2])
    assert Variable(np.ones(2), dtype="float64").dtype == "float64"
    assert Variable(np.ones(2), dtype=np.float16).dtype == "float16"


def test_callable_and_named_initializers():
    v = Variable(lambda shape, dtype: np.full(shape, 3.0, dtype), shape=(2, 3))
    assert v.shape == (2, 3) and v.dtype == "float32"
    np.testing.assert_array_equal(v.numpy(), np.full((2, 3), 3.0))
    z = Variable("zeros", shape=(4,), dtype="float64")
    assert z.dtype == "float64" and not np.any(z.numpy())
    with pytest.raises(ValueError, match="shape"):
        Variable(lambda shape, dtype: np.zeros(shape, dtype))


def test_declared_shape_must_match_the_value():
    with pytest.raises(ValueError, match="incompatible"):
        Variable(np.ones((2, 3)), shape=(3, 2))
    assert Variable(np.ones((2, 3)), shape=(2, 3)).shape == (2, 3)


def test_initial_value_is_copied():
    a = np.ones(3, np.float32)
    v = Variable(a)
    a[0] = 5.0
    assert v.numpy()[0] == 1.0


def test_variable_from_a_variable_or_tensor():
    v = Variable([1.0, 2.0])
    w = Variable(v)
    t = Variable(ops.convert_to_tensor([3.0]))
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(t.numpy(), [3.0])
    v.assign([0.0, 0.0])
    assert w.numpy()[0] == 1.0  # independent state


def test_names_and_paths():
    v = Variable(1.0, name="kernel")
    assert v.name == "kernel" and v.path == "kernel"
    with name_scope("dense"):
        w = Variable(1.0, name="bias")
    assert w.path == "dense/bias"
    with pytest.raises(ValueError, match="/"):
        Variable(1.0, name="a/b")
    a, b = Variable(1.0), Variable(1.0)
    assert a.name != b.name  # automatic names are unique


def test_flags():
    v = Variable(1.0, trainable=False)
    assert v.trainable is False
    assert Variable(1.0).trainable is True


# --- reading -----------------------------------------------------------------------------------


def test_value_is_a_snapshot_tensor():
    v = Variable([1.0, 2.0])
    t = v.value
    assert isinstance(t, Tensor) and t.dtype == np.float32
    v.assign([5.0, 6.0])
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])  # earlier reads keep their value
    np.testing.assert_array_equal(v.value.numpy(), [5.0, 6.0])


def test_numpy_returns_a_copy():
    v = Variable([1.0, 2.0])
    a = v.numpy()
    a[0] = 9.0
    assert v.numpy()[0] == 1.0


def test_numpy_interop_and_python_conversions():
    v = Variable([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(np.asarray(v), [[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(v, dtype="float64").dtype == np.float64
    assert len(v) == 2 and v.ndim == 2 and v.size == 4 and v.shape == (2, 2)
    s = Variable(2.5)
    assert float(s) == 2.5 and int(s) == 2 and bool(s)
    assert f"{s:.1f}" == "2.5"
    assert "shape=(2, 2)" in repr(v)
    assert [0, 1, 2, 3][Variable(2, dtype="int32")] == 2  # __index__


def test_variables_are_hashable_by_identity():
    a, b = Variable(1.0), Variable(1.0)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and len({a, b, a}) == 2


def test_operators_return_tensors():
    v = Variable([1.0, -2.0])
    for y in (v + 1, 1 - v, v * v, v / 2, 2**v, -v, abs(v), v[0], v @ v, v > 0, v.T):
        assert isinstance(y, Tensor)
    np.testing.assert_array_equal((v * v + 1).numpy(), [2.0, 5.0])
    np.testing.assert_array_equal((np.ones(2) + v).numpy(), [2.0, -1.0])


# --- assignment --------------------------------------------------------------------------------


def test_assign_casts_to_the_variable_dtype():
    v = Variable(np.zeros(2, np.float32))
    v.assign(np.array([1, 2], np.int64))
    assert v.dtype == "float32" and v.numpy().dtype == np.float32
    i = Variable(np.zeros(2, np.int32))
    i.assign([1.9, -1.9])
    np.testing.assert_array_equal(i.numpy(), [1, -1])


def test_assign_add_sub_and_chaining():
    v = Variable([1.0, 2.0])
    assert v.assign_add([1.0, 1.0]) is v
    v.assign_sub(ops.convert_to_tensor([0.5, 0.5])).assign_add(Variable([1.0, 1.0]))
    np.testing.assert_array_equal(v.numpy(), [2.5, 3.5])


def test_assign_with_the_wrong_shape_raises():
    v = Variable(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        v.assign(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        v.assign(np.zeros(3))


def test_assigned_array_is_not_aliased():
    v = Variable(np.zeros(2, np.float32))
    a = np.ones(2, np.float32)
    v.assign(a)
    a[0] = 7.0
    assert v.numpy()[0] == 1.0


def test_assign_from_a_recorded_tensor():
    v = Variable([1.0, 2.0])
    with GradientTape():
        y = v * 2.0
        v.assign(y)
    np.testing.assert_array_equal(v.numpy(), [2.0, 4.0])


# --- tapes and scopes --------------------------------------------------------------------------


def test_reads_inside_a_tape_are_leaves_only_when_watched():
    trainable, frozen = Variable(1.0), Variable(1.0, trainable=False)
    with GradientTape() as tape:
        assert trainable.value.node is not None
        assert frozen.value.node is None
        tape.watch(frozen)
        assert frozen.value.node is not None
    assert trainable.value.node is None and frozen.value.node is None


def test_stateless_scope_nesting():
    v = Variable([1.0])
    with StatelessScope([(v, [2.0])]):
        with StatelessScope([(v, [3.0])]) as inner:
            np.testing.assert_array_equal(v.numpy(), [3.0])
            v.assign([4.0])
            np.testing.assert_array_equal(inner.get_current_value(v), [4.0])
        np.testing.assert_array_equal(v.numpy(), [2.0])
    np.testing.assert_array_equal(v.numpy(), [1.0])


def test_stateless_scope_reads_unmapped_variables_normally():
    v, w = Variable([1.0]), Variable([5.0])
    with StatelessScope([(v, [2.0])]) as scope:
        np.testing.assert_array_equal(w.numpy(), [5.0])
        w.assign([6.0])  # collected in the scope, not applied
        np.testing.assert_array_equal(scope.get_current_value(w), [6.0])
        np.testing.assert_array_equal(w.numpy(), [6.0])
    np.testing.assert_array_equal(w.numpy(), [5.0])


def test_stateless_scope_values_take_the_variable_dtype():
    v = Variable(np.zeros(2, np.float32))
    with StatelessScope([(v, np.array([1.0, 2.0], np.float64))]):
        assert v.value.dtype == np.float32
