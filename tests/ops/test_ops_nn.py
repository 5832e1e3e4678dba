"""``refkeras.ops`` neural-network and math ops on their own terms: gradients against finite
differences in float64 (activations, crossentropies, moments, batch normalization, convolution and
pooling, logsumexp, top_k), numerical stability at extreme inputs, argument checking.  Values and
gradients against Keras itself are in ``tests/parity/test_ops_parity.py``."""

import numpy as np
import pytest

from refkeras import ops
from refkeras.autodiff import GradientTape
from refkeras.backend import Tensor, load_backend

load_backend("numpy")

rng = np.random.default_rng(23)


def check_grad(fn, *arrays, rtol=1e-6, atol=1e-8, eps=1e-6):
    """Tape gradients of ``sum(ct * fn(*tensors))`` (random ``ct``; ``fn`` may return a tuple)
    against central differences, for float64 ``arrays``."""
    arrays = [np.asarray(a, np.float64) for a in arrays]

    def value(arrs):
        out = fn(*[ops.convert_to_tensor(a) for a in arrs])
        return [np.asarray(o, np.float64) for o in (out if isinstance(out, tuple) else (out,))]

    cts = [rng.normal(size=o.shape) for o in value(arrays)]
    xs = [ops.convert_to_tensor(a) for a in arrays]
    with GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        out = fn(*xs)
    outs = list(out) if isinstance(out, tuple) else [out]
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


def _away_from(points, shape, gap=0.05, low=-4.0, high=4.0):
    x = rng.uniform(low, high, size=shape)
    for p in points:
        x = np.where(np.abs(x - p) < gap, p + 2 * gap * np.sign(x - p + 1e-12), x)
    return x


X = _away_from([0.0, -3.0, 3.0, 6.0], (3, 4), low=-5.0, high=7.0)
LOGITS = rng.normal(size=(4, 3)) * 2
PROBS = rng.uniform(0.05, 1.0, size=(4, 3))
ONE_HOT = np.eye(3)[[0, 2, 1, 2]]
SOFT = rng.dirichlet(np.ones(3), size=4)
LABELS = np.array([0, 2, 1, 2])

ACTIVATIONS = {
    "relu": lambda x: ops.relu(x),
    "relu6": lambda x: ops.relu6(x),
    "sigmoid": lambda x: ops.sigmoid(x),
    "softplus": lambda x: ops.softplus(x),
    "softsign": lambda x: ops.softsign(x),
    "silu": lambda x: ops.silu(x),
    "log_sigmoid": lambda x: ops.log_sigmoid(x),
    "leaky_relu": lambda x: ops.leaky_relu(x, negative_slope=0.1),
    "hard_sigmoid": lambda x: ops.hard_sigmoid(x),
    "hard_silu": lambda x: ops.hard_silu(x),
    "elu": lambda x: ops.elu(x, alpha=0.7),
    "selu": lambda x: ops.selu(x),
    "celu": lambda x: ops.celu(x, alpha=1.3),
    "gelu-approx": lambda x: ops.gelu(x),
    "gelu-exact": lambda x: ops.gelu(x, approximate=False),
    "tanh_shrink": lambda x: ops.tanh_shrink(x),
    "softmax": lambda x: ops.softmax(x),
    "softmax-axis0": lambda x: ops.softmax(x, axis=0),
    "log_softmax": lambda x: ops.log_softmax(x, axis=0),
    "erf": lambda x: ops.erf(x),
    "rsqrt": lambda x: ops.rsqrt(ops.abs(x) + 0.5),
    "logsumexp": lambda x: ops.logsumexp(x, axis=1),
    "logsumexp-all": lambda x: ops.logsumexp(x),
    "logsumexp-keepdims": lambda x: ops.logsumexp(x, axis=(0, 1), keepdims=True),
    "top_k-values": lambda x: ops.top_k(x, 2)[0],
}


@pytest.mark.parametrize("fn", list(ACTIVATIONS.values()), ids=list(ACTIVATIONS))
def test_activation_gradients(fn):
    check_grad(fn, X)


LOSSES = {
    "bce-logits": (lambda t, z: ops.binary_crossentropy(t, z, from_logits=True), ONE_HOT, LOGITS),
    "bce-probs": (lambda t, p: ops.binary_crossentropy(t, p), SOFT, PROBS * 0.9),
    "cce-logits": (
        lambda t, z: ops.categorical_crossentropy(t, z, from_logits=True),
        SOFT,
        LOGITS,
    ),
    "cce-probs": (lambda t, p: ops.categorical_crossentropy(t, p), SOFT, PROBS),
    "cce-axis0": (lambda t, p: ops.categorical_crossentropy(t, p, axis=0), SOFT, PROBS),
}


@pytest.mark.parametrize("fn,target,output", list(LOSSES.values()), ids=list(LOSSES))
def test_crossentropy_gradients(fn, target, output):
    check_grad(fn, target, output)  # with respect to both target and output


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("labels", [LABELS, LABELS[:, None]], ids=["flat", "trailing-1"])
def test_sparse_categorical_crossentropy(from_logits, labels):
    output = LOGITS if from_logits else PROBS
    fn = lambda z: ops.sparse_categorical_crossentropy(labels, z, from_logits=from_logits)  # noqa: E731
    check_grad(fn, output)
    dense = ops.categorical_crossentropy(np.eye(3)[LABELS], output, from_logits=from_logits)
    np.testing.assert_allclose(fn(output).numpy(), dense.numpy(), rtol=1e-12)


def test_moments_and_batch_normalization_gradients():
    x = rng.normal(size=(4, 3, 2))
    check_grad(lambda x: ops.moments(x, axes=[0, 1]), x)
    check_grad(lambda x: ops.moments(x, axes=[0], keepdims=True), x)
    mean, var = rng.normal(size=2), rng.uniform(0.5, 2.0, size=2)
    scale, offset = rng.normal(size=2), rng.normal(size=2)

    def bn(x, m, v, s, o):
        return ops.batch_normalization(x, m, v, axis=-1, offset=o, scale=s, epsilon=1e-3)

    check_grad(bn, x, mean, var, scale, offset)
    check_grad(
        lambda x, m, v: ops.batch_normalization(x, m, v, axis=1),
        x[..., 0],
        mean[:1].repeat(3),
        var[:1].repeat(3),
    )


def test_batch_normalization_values():
    x = rng.normal(size=(5, 3))
    m, v = x.mean(0), x.var(0)
    y = ops.batch_normalization(x, m, v, axis=1, offset=np.ones(3), scale=2 * np.ones(3))
    np.testing.assert_allclose(y.numpy(), 2 * (x - m) / np.sqrt(v + 1e-3) + 1, rtol=1e-10)


def test_conv_and_pool_gradients():
    x = rng.normal(size=(1, 5, 4, 2))
    k = rng.normal(size=(3, 2, 2, 3))
    check_grad(lambda x, k: ops.conv(x, k, strides=(2, 1), padding="same"), x, k)
    check_grad(lambda x: ops.average_pool(x, 2, strides=1, padding="valid"), x)
    check_grad(lambda x: ops.max_pool(x, (2, 2), padding="same"), x)
    with pytest.raises(ValueError, match="channels_last"):
        ops.conv(x, k, data_format="channels_first")


# --- stability ---------------------------------------------------------------------------------

EXTREME = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], np.float32)


@pytest.mark.parametrize(
    "name",
    [
        "sigmoid",
        "softplus",
        "log_sigmoid",
        "silu",
        "elu",
        "selu",
        "celu",
        "gelu",
        "softsign",
        "tanh_shrink",
    ],
)
def test_extreme_inputs_give_finite_values_and_gradients(name):
    x = ops.convert_to_tensor(EXTREME)
    with GradientTape() as tape:
        tape.watch(x)
        y = getattr(ops, name)(x)
    g = tape.gradient(y, x)
    assert y.dtype == g.dtype == np.float32
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(g.numpy()))


def test_crossentropies_from_large_logits_are_finite():
    z = ops.convert_to_tensor(np.array([[1e4, -1e4, 0.0]], np.float32))
    t = np.array([[0.0, 1.0, 0.0]], np.float32)
    with GradientTape() as tape:
        tape.watch(z)
        losses = [
            ops.categorical_crossentropy(t, z, from_logits=True),
            ops.binary_crossentropy(t, z, from_logits=True),
            ops.sparse_categorical_crossentropy(np.array([1]), z, from_logits=True),
        ]
    for loss in losses:
        assert np.all(np.isfinite(loss.numpy()))
    np.testing.assert_allclose(losses[0].numpy(), [2e4], rtol=1e-6)
    assert np.all(np.isfinite(tape.gradient(losses, z).numpy()))


def test_probability_crossentropies_clip_zeros_and_ones():
    p = np.array([[0.0, 1.0, 0.0]], np.float32)
    t = np.array([[1.0, 0.0, 0.0]], np.float32)
    bce = ops.binary_crossentropy(t, p).numpy()
    cce = ops.categorical_crossentropy(t, p).numpy()
    assert np.all(np.isfinite(bce)) and np.all(np.isfinite(cce))
    np.testing.assert_allclose(cce, [-np.log(1e-7)], rtol=1e-3)


def test_logsumexp_with_infinities():
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf], [1e4, 1e4]], np.float32)
    out = ops.logsumexp(x, axis=1).numpy()
    np.testing.assert_allclose(out, [-np.inf, 0.0, 1e4 + np.log(2.0)], rtol=1e-6)


# --- argument handling -------------------------------------------------------------------------


def test_one_hot():
    out = ops.one_hot(np.array([0, 2, -1, 3]), 3)
    np.testing.assert_array_equal(out.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert out.dtype == np.float32
    assert ops.one_hot(np.array([[1]]), 2, axis=0, dtype="int32").shape == (2, 1, 1)
    assert ops.one_hot(np.array([1, 0]), 2, axis=0).numpy().tolist() == [[0, 1], [1, 0]]


def test_crossentropy_shape_checks():
    with pytest.raises(ValueError, match="same shape"):
        ops.binary_crossentropy(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="same shape up until"):
        ops.sparse_categorical_crossentropy(np.zeros((3,)), np.zeros((2, 3)))


def test_top_k_and_in_top_k():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [0.0, -1.0, 5.0, 5.0]], np.float32)
    values, indices = ops.top_k(x, 2)
    np.testing.assert_array_equal(values.numpy(), [[3.0, 3.0], [5.0, 5.0]])
    np.testing.assert_array_equal(indices.numpy(), [[1, 2], [2, 3]])  # first index wins ties
    assert indices.dtype == np.int32
    hits = ops.in_top_k(np.array([3, 0]), x, 1)
    np.testing.assert_array_equal(hits.numpy(), [False, False])
    hits = ops.in_top_k(np.array([2, 3]), x, 1)  # a tie with the maximum counts as in
    np.testing.assert_array_equal(hits.numpy(), [True, True])


def test_relu_keeps_integers_as_keras():
    y = ops.relu(np.array([1, -2, 3], np.int32))
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y.numpy(), [1, 0, 3])


def test_integer_inputs_go_to_floatx():
    for fn in (ops.sigmoid, ops.softmax, ops.gelu, ops.elu, ops.log_softmax):
        y = fn(np.array([1, 2, 3], np.int32))
        assert isinstance(y, Tensor) and y.dtype == np.float32
