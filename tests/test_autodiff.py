"""``GradientTape`` semantics (those of ``tf.GradientTape``): sources and their structures,
unconnected gradients, persistence, pausing, ``stop_gradient``, accumulation over several uses and
several targets, ``output_gradients``, which variables are watched, ``StatelessScope``, and float32
gradients coming back float32."""

import numpy as np
import pytest

from refkeras import autodiff, ops
from refkeras.autodiff import GradientTape
from refkeras.backend import StatelessScope, Tensor, Variable, load_backend

load_backend("numpy")

rng = np.random.default_rng(0)


def _var(value, dtype="float32", **kw):
    return Variable(np.asarray(value, dtype=dtype), dtype=dtype, **kw)


def _close(a, b, rtol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=1e-7)


# --- sources -----------------------------------------------------------------------------------


def test_gradient_with_respect_to_a_variable():
    v = _var([1.0, 2.0, 3.0])
    with GradientTape() as tape:
        y = ops.sum(v * v)
    g = tape.gradient(y, v)
    assert isinstance(g, Tensor)
    _close(g, [2.0, 4.0, 6.0])


def test_gradient_with_respect_to_a_watched_tensor():
    x = ops.convert_to_tensor([0.5, -1.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.exp(x))
    _close(tape.gradient(y, x), np.exp([0.5, -1.0]))


def test_unwatched_tensor_gets_none():
    x = ops.convert_to_tensor([0.5, -1.0])
    with GradientTape() as tape:
        y = ops.sum(x * x)
    assert tape.gradient(y, x) is None


def test_gradient_with_respect_to_an_intermediate_tensor():
    v = _var([1.0, 2.0])
    with GradientTape() as tape:
        h = v * 3.0
        y = ops.sum(h * h)
    gh, gv = tape.gradient(y, [h, v])
    _close(gh, 2 * 3.0 * np.array([1.0, 2.0]))
    _close(gv, 18.0 * np.array([1.0, 2.0]))


def test_target_as_source_gives_ones():
    v = _var([1.0, 2.0])
    with GradientTape() as tape:
        y = v * 2.0
    _close(tape.gradient(y, y), [1.0, 1.0])


def test_nested_sources_keep_their_structure():
    a, b, c = _var(1.0), _var([1.0, 2.0]), _var(3.0)
    with GradientTape() as tape:
        y = a * 2.0 + ops.sum(b) * c
    grads = tape.gradient(y, {"x": [a, b], "y": (c,)})
    assert set(grads) == {"x", "y"} and isinstance(grads["x"], list)
    assert isinstance(grads["y"], tuple)
    _close(grads["x"][0], 2.0)
    _close(grads["x"][1], [3.0, 3.0])
    _close(grads["y"][0], 3.0)


def test_unconnected_gradients():
    v, w = _var([1.0, 2.0]), _var([[1.0]], dtype="float64")
    with GradientTape(persistent=True) as tape:
        y = ops.sum(v)
    assert tape.gradient(y, [v, w])[1] is None
    gv, gw = tape.gradient(y, [v, w], unconnected_gradients="zero")
    _close(gv, [1.0, 1.0])
    assert gw.shape == (1, 1) and gw.dtype == np.float64 and not np.any(gw.numpy())


def test_constant_target_gives_none():
    v = _var([1.0])
    with GradientTape() as tape:
        y = ops.convert_to_tensor(3.0)
    assert tape.gradient(y, v) is None


def test_target_must_be_a_tensor():
    v = _var([1.0])
    with GradientTape() as tape:
        ops.sum(v)
    with pytest.raises(TypeError):
        tape.gradient(3.0, v)


# --- tape lifetime -----------------------------------------------------------------------------


def test_non_persistent_tape_raises_on_second_gradient():
    v = _var(2.0)
    with GradientTape() as tape:
        y = v * v
    tape.gradient(y, v)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, v)


def test_persistent_tape_computes_twice():
    v = _var(2.0)
    with GradientTape(persistent=True) as tape:
        y = v * v
        z = v * v * v
    _close(tape.gradient(y, v), 4.0)
    _close(tape.gradient(z, v), 12.0)
    _close(tape.gradient(y, v), 4.0)


def test_gradient_inside_the_with_block():
    v = _var(3.0)
    with GradientTape() as tape:
        y = v * v
        g = tape.gradient(y, v)
    _close(g, 6.0)


def test_stop_recording():
    v = _var(2.0)
    with GradientTape() as tape:
        y = v * v
        with tape.stop_recording():
            z = v * 10.0
            assert not autodiff.recording()
        assert autodiff.recording()
        total = y + z
    _close(tape.gradient(total, v), 4.0)  # the paused product contributes nothing


def test_stop_gradient():
    v = _var(2.0)
    with GradientTape() as tape:
        y = v * ops.stop_gradient(v * v)
    _close(tape.gradient(y, v), 4.0)


def test_recording_state_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with GradientTape():
            raise ZeroDivisionError
    assert not autodiff.recording()
    v = _var(1.0)
    assert v.value.node is None


def test_long_chains_do_not_recurse():
    v = _var(1.0)
    with GradientTape() as tape:
        y = v
        for _ in range(3000):
            y = y + v
    _close(tape.gradient(y, v), 3001.0)


# --- accumulation ------------------------------------------------------------------------------


def test_variable_used_twice_accumulates():
    v = _var([1.0, -2.0])
    with GradientTape() as tape:
        y = ops.sum(v * v) + ops.sum(3.0 * v)
    _close(tape.gradient(y, v), 2 * np.array([1.0, -2.0]) + 3.0)


def test_diamond_graph():
    x = ops.convert_to_tensor([0.3, 1.2])
    with GradientTape() as tape:
        tape.watch(x)
        a, b = ops.exp(x), ops.sin(x)
        y = ops.sum(a * b)
    xv = np.array([0.3, 1.2])
    _close(tape.gradient(y, x), np.exp(xv) * np.sin(xv) + np.exp(xv) * np.cos(xv), rtol=1e-5)


def test_several_targets_are_summed():
    v = _var([1.0, 2.0])
    with GradientTape(persistent=True) as tape:
        y1 = ops.sum(v * v)
        y2 = v * 3.0  # a non-scalar target: its elements are summed too
    _close(tape.gradient([y1, y2], v), 2 * np.array([1.0, 2.0]) + 3.0)
    _close(tape.gradient({"a": y1, "b": y2}, v), 2 * np.array([1.0, 2.0]) + 3.0)


def test_output_gradients_weight_the_targets():
    x = ops.convert_to_tensor([1.0, 2.0, 3.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=np.array([1.0, 0.0, -2.0], np.float32))
    _close(g, [2.0, 0.0, -12.0])


def test_multi_output_primitive_with_one_output_used():
    v = _var([[1.0, 2.0], [3.0, 5.0]])
    with GradientTape() as tape:
        mean, var = ops.moments(v, axes=[0])
        y = ops.sum(var)
    expected = 2 * (np.array([[1.0, 2.0], [3.0, 5.0]]) - [2.0, 3.5]) / 2
    _close(tape.gradient(y, v), expected)


# --- which variables are watched ---------------------------------------------------------------


def test_non_trainable_variable_is_not_watched():
    v = _var([1.0, 2.0], trainable=False)
    with GradientTape() as tape:
        y = ops.sum(v * v)
    assert tape.gradient(y, v) is None


def test_non_trainable_variable_watched_explicitly():
    v = _var([1.0, 2.0], trainable=False)
    with GradientTape() as tape:
        tape.watch(v)
        y = ops.sum(v * v)
    _close(tape.gradient(y, v), [2.0, 4.0])
    with GradientTape() as tape:  # the watch ended with the previous tape
        y = ops.sum(v * v)
    assert tape.gradient(y, v) is None


def test_watch_accessed_variables_false():
    v, w = _var(2.0), _var(3.0)
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(w)
        y = v * w
    gv, gw = tape.gradient(y, [v, w])
    assert gv is None
    _close(gw, 2.0)


def test_reads_outside_a_tape_are_not_recorded():
    v = _var([1.0, 2.0])
    t = v.value  # read before the tape: a constant
    assert t.node is None
    with GradientTape() as tape:
        y = ops.sum(t * 2.0)
    assert tape.gradient(y, v) is None
    y = ops.sum(v * 2.0)  # after the tape
    assert y.node is None


def test_tape_watch_rejects_arrays():
    with GradientTape() as tape:
        with pytest.raises(TypeError):
            tape.watch(np.ones(2))


# --- StatelessScope ----------------------------------------------------------------------------


def test_stateless_scope_redirects_reads_and_assigns():
    v = _var([1.0, 2.0])
    with StatelessScope(state_mapping=[(v, np.array([5.0, 7.0]))]) as scope:
        _close(v.value, [5.0, 7.0])
        _close(v.numpy(), [5.0, 7.0])
        v.assign(np.array([0.0, 1.0]))
        _close(v.value, [0.0, 1.0])
        v.assign_add(np.array([1.0, 1.0]))
        _close(scope.get_current_value(v), [1.0, 2.0])
        assert scope.get_current_value(v).dtype == np.float32
    _close(v.numpy(), [1.0, 2.0])  # the variable itself never changed
    assert scope.get_current_value(_var(0.0)) is None


def test_gradient_inside_a_stateless_scope_uses_the_scope_values():
    v = _var([1.0, 2.0])
    with StatelessScope(state_mapping=[(v, np.array([3.0, -1.0]))]):
        with GradientTape() as tape:
            y = ops.sum(v * v)
        g = tape.gradient(y, v)
    _close(g, [6.0, -2.0])


# --- dtypes ------------------------------------------------------------------------------------

FLOAT32_FNS = {
    "arith": lambda v: ops.sum(v * 0.5 + v / 3.0 - v**2),
    "float64-array": lambda v: ops.sum(v * np.linspace(0.0, 1.0, 6).reshape(2, 3)),
    "int-array": lambda v: ops.sum(v * np.arange(6).reshape(2, 3)),
    "mean-max": lambda v: ops.mean(v) + ops.max(v) + ops.min(v, axis=0)[0],
    "softmax": lambda v: ops.sum(ops.softmax(v) * np.arange(3.0)),
    "matmul": lambda v: ops.sum(ops.matmul(v, np.ones((3, 2)))),
    "getitem": lambda v: ops.sum(v[:, 1]) + ops.sum(v[np.array([0, 0])]),
    "where-clip": lambda v: ops.sum(ops.where(v > 0, v, 0.1 * v) + ops.clip(v, -0.5, 0.5)),
    "cast64": lambda v: ops.sum(ops.cast(v, "float64") ** 2),
    "erf-sqrt": lambda v: ops.sum(ops.erf(v) + ops.sqrt(ops.abs(v) + 1.0)),
    "logsumexp": lambda v: ops.logsumexp(v),
}


@pytest.mark.parametrize("fn", list(FLOAT32_FNS.values()), ids=list(FLOAT32_FNS))
def test_float32_variables_get_float32_gradients(fn):
    v = _var(rng.normal(size=(2, 3)))
    with GradientTape() as tape:
        y = fn(v)
    g = tape.gradient(y, v)
    assert g.dtype == np.float32 and g.shape == (2, 3)
    assert np.all(np.isfinite(g.numpy()))


def test_no_gradient_flows_through_an_integer_cast():
    x = ops.convert_to_tensor([1.5, 2.5])
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.cast(ops.cast(x, "int32"), "float32") * 2.0) + ops.sum(ops.floor(x))
    g = tape.gradient(y, x, unconnected_gradients="zero")
    _close(g, [0.0, 0.0])


# --- end to end against finite differences -----------------------------------------------------


def test_small_network_matches_finite_differences():
    x = rng.normal(size=(4, 3))
    w0, b0 = rng.normal(size=(3, 5)), rng.normal(size=(5,))
    labels = np.array([0, 2, 1, 4])

    def loss(w, b):
        h = ops.tanh(ops.matmul(x, w) + b)
        logp = ops.log_softmax(h, axis=-1)
        return -ops.mean(ops.take_along_axis(logp, labels[:, None], axis=1))

    w, b = Variable(w0, dtype="float64"), Variable(b0, dtype="float64")
    with GradientTape() as tape:
        y = loss(w, b)
    gw, gb = tape.gradient(y, [w, b])

    def numeric(arr, other, first):
        grad = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += 1e-6
            minus[idx] -= 1e-6
            args = (plus, other) if first else (other, plus)
            argm = (minus, other) if first else (other, minus)
            grad[idx] = (float(loss(*args)) - float(loss(*argm))) / 2e-6
        return grad

    _close(gw, numeric(w0, b0, True), rtol=1e-6)
    _close(gb, numeric(b0, w0, False), rtol=1e-6)
