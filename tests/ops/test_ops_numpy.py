"""``refkeras.ops`` NumPy-like ops on their own terms: gradients of the composite ops (those
written as chains of other ops) against finite differences in float64, argument handling
(axes, shapes, ``None`` defaults), dtype rules and error messages.  Values and gradients against
Keras itself are in ``tests/parity/test_ops_parity.py``."""

import numpy as np
import pytest

from refkeras import ops
from refkeras.autodiff import GradientTape
from refkeras.backend import Tensor, load_backend

load_backend("numpy")

rng = np.random.default_rng(17)


def _tensors(arrays):
    return [ops.convert_to_tensor(a) for a in arrays]


def check_grad(fn, *arrays, rtol=1e-6, atol=1e-8, eps=1e-6):
    """Tape gradients of ``sum(ct * fn(*tensors))`` (random ``ct``; outputs may be a list) against
    central differences, for float64 ``arrays``."""
    arrays = [np.asarray(a, np.float64) for a in arrays]

    def value(arrs):
        out = fn(*_tensors(arrs))
        return [
            np.asarray(o, np.float64) for o in (out if isinstance(out, list | tuple) else [out])
        ]

    cts = [rng.normal(size=o.shape) for o in value(arrays)]
    xs = _tensors(arrays)
    with GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        out = fn(*xs)
    outs = list(out) if isinstance(out, list | tuple) else [out]
    grads = tape.gradient(outs, xs, output_gradients=cts, unconnected_gradients="zero")
    for i, (a, g) in enumerate(zip(arrays, grads)):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = [list(arrays), list(arrays)]
            plus[i], minus[i] = a.copy(), a.copy()
            plus[i][idx] += eps
            minus[i][idx] -= eps
            up = sum(np.sum(c * o) for c, o in zip(cts, value(plus)))
            down = sum(np.sum(c * o) for c, o in zip(cts, value(minus)))
            num[idx] = (up - down) / (2 * eps)
        assert g.dtype == np.float64 and g.shape == a.shape
        np.testing.assert_allclose(g.numpy(), num, rtol=rtol, atol=atol, err_msg=f"input {i}")


A = rng.normal(size=(2, 3, 4))
B = rng.normal(size=(3, 4))
POS = rng.uniform(0.5, 2.0, size=(3, 4))

COMPOSITES = {
    "var": (lambda x: ops.var(x, axis=1), [A]),
    "var-all-keepdims": (lambda x: ops.var(x, keepdims=True), [A]),
    "std": (lambda x: ops.std(x, axis=(0, 2)), [A]),
    "tensordot-int": (lambda a, b: ops.tensordot(a, b, axes=2), [A, B]),
    "tensordot-lists": (lambda a, b: ops.tensordot(a, b, axes=([1], [0])), [A, B]),
    "tensordot-neg": (lambda a, b: ops.tensordot(a, b, axes=([-1], [1])), [A, B]),
    "dot-nd": (lambda a, b: ops.dot(a, b), [A, rng.normal(size=(2, 4, 5))]),
    "dot-2d": (lambda a, b: ops.dot(a, b), [B, rng.normal(size=(4, 2))]),
    "dot-scalar": (lambda a, b: ops.dot(a, b), [B, np.asarray(1.5)]),
    "outer": (lambda a, b: ops.outer(a, b), [rng.normal(size=3), rng.normal(size=(2, 2))]),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, -1), [A]),
    "transpose-default": (lambda x: ops.transpose(x), [A]),
    "expand-squeeze": (lambda x: ops.squeeze(ops.expand_dims(x, (0, -1)), 0), [B]),
    "stack": (lambda a, b: ops.stack([a, b, a], axis=1), [B, rng.normal(size=(3, 4))]),
    "split": (lambda x: ops.split(x, [1, 3], axis=-1), [B]),
    "split-sections": (lambda x: ops.split(x, 3, axis=0), [B]),
    "sort": (lambda x: ops.sort(x, axis=0), [B]),
    "clip-tensor-bounds": (lambda x, lo: ops.clip(x, lo, 0.5), [B, rng.normal(size=4) - 1]),
    "mod": (lambda a, b: ops.mod(a, b), [rng.uniform(-5.0, 5.0, size=(3, 4)), POS]),
    "mod-neg-divisor": (lambda a, b: ops.mod(a, -b), [rng.uniform(-5.0, 5.0, size=(3, 4)), POS]),
    "floor_divide": (lambda a, b: ops.floor_divide(a, b), [rng.uniform(0.0, 5, size=(3, 4)), POS]),
    "einsum-implicit": (lambda a, b: ops.einsum("ij,jk", a, b), [B, rng.normal(size=(4, 2))]),
    "take-flat": (lambda x: ops.take(x, np.array([0, 5, 5, -1])), [B]),
    "take-tensor-idx": (lambda x: ops.take(x, ops.convert_to_tensor([2, 2]), axis=0), [B]),
    "take_along_axis-none": (lambda x: ops.take_along_axis(x, np.array([1, 1, 7])), [B]),
    "cumsum-flat": (lambda x: ops.cumsum(x), [B]),
    "max-initial": (lambda x: ops.max(x, axis=0, initial=0.2), [B]),
    "min-initial": (lambda x: ops.min(x, axis=1, initial=-0.2), [B]),
    "prod": (lambda x: ops.prod(x, axis=-1), [POS]),
    "repeat-flat": (lambda x: ops.repeat(x, 2), [B]),
    "pad-broadcast": (lambda x: ops.pad(x, 1), [B]),
    "pad-pair": (lambda x: ops.pad(x, (1, 2), constant_values=3.0), [B]),
    "get_item-list": (lambda x: x[[0, 0, 2]], [B]),
    "get_item-tuple-list": (lambda x: x[:, [1, 1]], [B]),
    "where": (lambda a, b: ops.where(a > b, a, b), [B, rng.normal(size=(4,))]),
    "where-scalar": (lambda a: ops.where(a > 0, a, 0.0), [B]),
    "square-sqrt": (lambda a: ops.sqrt(ops.square(a) + 1.0), [B]),
    "copy": (lambda a: ops.copy(a) * 2.0, [B]),
    "broadcast_to": (lambda a: ops.broadcast_to(a, (2, 3, 4)), [B]),
    "flip-default": (lambda a: ops.flip(a), [A]),
    "tile-int": (lambda a: ops.tile(a, 2), [B]),
    "concatenate-promote": (lambda a: ops.concatenate([a, np.ones((1, 4), np.int32)]), [B]),
    "reshape-int": (lambda a: ops.reshape(a, -1), [B]),
    "mean-neg-axes": (lambda a: ops.mean(a, axis=(-1, 0)), [A]),
    "round": (lambda a: ops.round(a, 1) + a, [B]),
}


@pytest.mark.parametrize("fn,arrays", list(COMPOSITES.values()), ids=list(COMPOSITES))
def test_composite_gradients_match_finite_differences(fn, arrays):
    check_grad(fn, *arrays)


@pytest.mark.parametrize("source,destination", [(0, -1), ([0, 1], [2, 0]), (-1, 0)])
def test_moveaxis(source, destination):
    np.testing.assert_array_equal(
        ops.moveaxis(A, source, destination).numpy(), np.moveaxis(A, source, destination)
    )
    check_grad(lambda x: ops.moveaxis(x, source, destination), A)


# --- values and argument handling --------------------------------------------------------------


def test_split_and_stack_values():
    x = np.arange(12.0).reshape(3, 4)
    parts = ops.split(x, [1, 3], axis=1)
    assert [p.shape for p in parts] == [(3, 1), (3, 2), (3, 1)]
    np.testing.assert_array_equal(ops.stack(parts[:1] * 2, axis=0).numpy(), [x[:, :1]] * 2)
    with pytest.raises(ValueError, match="equal division"):
        ops.split(x, 3, axis=1)


def test_squeeze_and_expand_dims():
    x = np.zeros((1, 3, 1))
    assert ops.squeeze(x).shape == (3,)
    assert ops.squeeze(x, axis=-1).shape == (1, 3)
    assert ops.squeeze(x, axis=(0, 2)).shape == (3,)
    assert ops.expand_dims(np.zeros(3), -1).shape == (3, 1)
    assert ops.expand_dims(np.zeros(3), (0, 2)).shape == (1, 3, 1)
    with pytest.raises(ValueError):
        ops.squeeze(x, axis=1)


def test_where_with_only_a_condition():
    idx = ops.where(np.array([[True, False], [False, True]]))
    assert len(idx) == 2 and all(i.dtype == np.int32 for i in idx)
    np.testing.assert_array_equal(idx[0].numpy(), [0, 1])


def test_pad_refuses_other_modes():
    with pytest.raises(ValueError, match="constant"):
        ops.pad(np.zeros(3), 1, mode="reflect")


def test_reductions_accept_lists_and_negative_axes():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(ops.sum(x, axis=[0, -1]).numpy(), x.sum(axis=(0, 2)))
    np.testing.assert_array_equal(ops.any(x > 20, axis=[0, 1]).numpy(), (x > 20).any((0, 1)))
    np.testing.assert_array_equal(ops.all(x >= 0, axis=-1).numpy(), np.ones((2, 3), bool))
    assert ops.count_nonzero(x, axis=[1]).dtype == np.int32
    np.testing.assert_array_equal(ops.argmax(x, axis=-1).numpy(), np.full((2, 3), 3))
    np.testing.assert_array_equal(ops.argsort(-x[0, 0]).numpy(), [3, 2, 1, 0])


@pytest.mark.parametrize(
    "make,dtype",
    [
        (lambda: ops.mean(np.arange(4, dtype=np.int32)), "float32"),
        (lambda: ops.sum(np.array([True, True])), "int32"),
        (lambda: ops.sum(np.arange(3, dtype=np.int32)), "int32"),
        (lambda: ops.cumsum(np.arange(3, dtype=np.int32)), "int32"),
        (lambda: ops.prod(np.arange(1, 4, dtype=np.int32)), "int32"),
        (lambda: ops.sqrt(np.array([4], np.int32)), "float32"),
        (lambda: ops.floor(np.array([4], np.int32)), "float32"),
        (lambda: ops.square(np.array([4], np.int32)), "int32"),
        (lambda: ops.abs(np.array([-4], np.int32)), "int32"),
        (lambda: ops.true_divide(np.array([4], np.int32), 2), "float32"),
        (lambda: ops.floor_divide(np.array([4], np.int32), 3), "int32"),
        (lambda: ops.argmax(np.arange(3.0)), "int32"),
        (lambda: ops.arange(3), "int32"),
        (lambda: ops.arange(0.0, 1.0, 0.5), "float32"),
        (lambda: ops.zeros((2,)), "float32"),
        (lambda: ops.ones_like(np.zeros(2, np.int32)), "int32"),
        (lambda: ops.full((2,), 3, dtype="int8"), "int8"),
        (lambda: ops.eye(3), "float32"),
        (lambda: ops.linspace(0, 1, 5), "float32"),
        (lambda: ops.einsum("i,i->", np.arange(3), np.arange(3)), "float32"),
        (lambda: ops.concatenate([np.zeros(2, np.int32), np.zeros(2, np.float32)]), "float32"),
        (lambda: ops.cast(np.ones(2), "bfloat16" if False else "float16"), "float16"),
    ],
)
def test_result_dtypes(make, dtype):
    y = make()
    assert isinstance(y, Tensor) and y.dtype == np.dtype(dtype)


def test_creation_ops_values():
    np.testing.assert_array_equal(ops.eye(2, 3, k=1).numpy(), np.eye(2, 3, k=1))
    np.testing.assert_array_equal(ops.full_like(np.zeros(2), 7.0).numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(ops.zeros_like(np.ones((2, 1))).numpy(), np.zeros((2, 1)))
    assert ops.size(np.zeros((2, 3))) == 6 and ops.ndim(np.zeros((2, 3))) == 2
    assert ops.shape(np.zeros((2, 3))) == (2, 3)


def test_copy_is_independent():
    x = ops.convert_to_tensor([1.0, 2.0])
    y = ops.copy(x)
    y.value[0] = 5.0
    assert x.numpy()[0] == 1.0


def test_clip_with_integer_bounds_and_integer_input():
    np.testing.assert_array_equal(ops.clip(np.array([-3, 0, 9]), 0, 5).numpy(), [0, 0, 5])
    assert ops.clip(np.array([-3, 0, 9], np.int32), 0, 5).dtype == np.int32


def test_stop_gradient_and_convert_to_tensor():
    x = ops.convert_to_tensor([1.0, 2.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.stop_gradient(x) * x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 2.0])
    assert ops.convert_to_tensor([1.0]).dtype == np.float32  # Python floats -> floatx
    assert ops.convert_to_tensor(np.array([1.0])).dtype == np.float64  # arrays keep theirs
    assert ops.convert_to_tensor([1, 2], dtype="float16").dtype == np.float16
    with pytest.raises(TypeError):
        ops.convert_to_tensor(["a"])
    assert ops.is_tensor(x) and not ops.is_tensor(np.ones(1))
    assert ops.dtype(x) == "float32"
    np.testing.assert_array_equal(ops.convert_to_numpy(x), [1.0, 2.0])
