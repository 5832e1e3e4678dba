"""``refkeras.activations`` against Keras 3 (JAX backend): values, gradients (vs ``jax.grad`` of
the Keras function and vs central finite differences), lookup and serialization."""

import os

os.environ["KERAS_BACKEND"] = "jax"

import numpy as np
import pytest

jax = pytest.importorskip("jax")
keras = pytest.importorskip("keras")
import jax.numpy as jnp  # noqa: E402

import refkeras  # noqa: E402
from refkeras import activations, ops  # noqa: E402
from refkeras.saving import object_registration  # noqa: E402

K = keras.activations

# The points where activations have kinks or switch branches, then ordinary and huge values.
SPECIAL = [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]


def _inputs(dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate(
        [
            np.array(SPECIAL),
            rng.normal(size=123) * 3.0,
            rng.uniform(-30, 30, size=60),
            rng.uniform(-1e3, 1e3, size=20),
            [-1e4, -100.0, 100.0, 1e4],
        ]
    )
    return x.reshape(12, 18).astype(dtype)  # 2-D (even sizes) so that axes matter


# (name, kwargs): every elementwise activation, with its arguments varied.
ELEMENTWISE = [
    ("relu", {}),
    ("relu", {"negative_slope": 0.1}),
    ("relu", {"max_value": 6.0}),
    ("relu", {"max_value": 3.0}),
    ("relu", {"threshold": 1.0}),
    ("relu", {"negative_slope": 0.1, "max_value": 3.0, "threshold": 0.5}),
    ("relu", {"negative_slope": 0.3, "max_value": 6}),
    ("relu", {"negative_slope": 0.2, "threshold": -1.0}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.05}),
    ("relu6", {}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 2.0}),
    ("softplus", {}),
    ("softsign", {}),
    ("soft_shrink", {}),
    ("soft_shrink", {"threshold": 1.0}),
    ("sparse_plus", {}),
    ("silu", {}),
    ("swish", {}),
    ("squareplus", {}),
    ("squareplus", {"b": 1.0}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("tanh", {}),
    ("tanh_shrink", {}),
    ("hard_tanh", {}),
    ("hard_shrink", {}),
    ("hard_shrink", {"threshold": 1.0}),
    ("threshold", {"threshold": 0.5, "default_value": -2.0}),
    ("sigmoid", {}),
    ("sparse_sigmoid", {}),
    ("exponential", {}),
    ("hard_sigmoid", {}),
    ("hard_silu", {}),
    ("hard_swish", {}),
    ("linear", {}),
    ("log_sigmoid", {}),
    ("mish", {}),
]

# Activations over an axis: (name, kwargs).  Inputs stay moderate for these.
AXIS = [
    ("softmax", {}),
    ("softmax", {"axis": 0}),
    ("softmax", {"axis": (0, 1)}),
    ("log_softmax", {}),
    ("log_softmax", {"axis": 0}),
    ("glu", {}),
    ("glu", {"axis": 0}),
]


def _id(p):
    name, kwargs = p
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


def _ref(name, kwargs):
    fn = getattr(activations, name)
    return lambda x: fn(x, **kwargs)


def _keras(name, kwargs):
    fn = getattr(K, name)
    return lambda x: fn(x, **kwargs)


def _tape_grad(f, x, w):
    """d/dx sum(f(x) * w) with refkeras.GradientTape."""
    t = ops.convert_to_tensor(x)
    with refkeras.GradientTape() as tape:
        tape.watch(t)
        y = ops.sum(f(t) * ops.convert_to_tensor(w))
    return np.asarray(tape.gradient(y, t))


def _keras_value_and_grad(f, x, w):
    """Keras's f(x) and d/dx sum(f(x) * w) by ``jax.grad``, in one compiled call."""

    @jax.jit
    def run(z, w):
        return f(z), jax.grad(lambda u: jnp.sum(f(u) * w))(z)

    value, grad = run(jnp.asarray(x), jnp.asarray(w))
    return np.asarray(value), np.asarray(grad)


def _inputs_for(name):
    x = _inputs()
    if name in ("softmax", "log_softmax", "glu"):
        x = np.clip(x, -30, 30)
    return x


# --------------------------------------------------------------------------------------------
# Values and gradients vs Keras
# --------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("case", ELEMENTWISE + AXIS, ids=_id)
def test_values_and_gradients_match_keras(case):
    """float32 values (incl. huge inputs) and gradients vs ``jax.grad`` of the Keras function,
    including the conventions at kinks (relu'(0) = 0, ties of max/min split the gradient...)."""
    x = _inputs_for(case[0])
    f = _ref(*case)
    got = np.asarray(f(x))
    w = np.random.default_rng(1).normal(size=got.shape).astype("float32")
    want, want_grad = _keras_value_and_grad(_keras(*case), x, w)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # float32 gradients: XLA's tanh/exp differ from NumPy's by an ulp or two, which the
    # cancellation in 1 - tanh^2 (gelu, tanh near saturation) magnifies to ~1e-6 absolute.
    np.testing.assert_allclose(_tape_grad(f, x, w), want_grad, rtol=1e-5, atol=5e-6)


@pytest.mark.parametrize("case", ELEMENTWISE + AXIS, ids=_id)
def test_gradients_float64_match_finite_differences(case):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 6)) * 2.5
    # Keep away from kinks, where the derivative is a convention rather than a limit.
    kinks = np.array(SPECIAL + [2.0, -2.0])
    x[np.min(np.abs(x[..., None] - kinks), axis=-1) < 1e-2] += 0.05
    f = _ref(*case)
    w = rng.normal(size=np.asarray(f(x)).shape)
    got = _tape_grad(f, x, w)
    assert got.dtype == np.float64
    h = 1e-6
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        fd[i] = (np.sum(np.asarray(f(x + e)) * w) - np.sum(np.asarray(f(x - e)) * w)) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "gelu", "softmax", "sparsemax", "mish"])
def test_dtype_is_preserved(name):
    for dtype in ("float32", "float64"):
        x = _inputs(dtype)
        assert np.asarray(getattr(activations, name)(x)).dtype == dtype


def test_integer_input_goes_to_floatx():
    assert np.asarray(activations.relu(np.array([-2, 3]))).dtype == refkeras.config.floatx()


def test_keras_docstring_examples():
    x = [-10, -5, 0.0, 5, 10]
    np.testing.assert_allclose(activations.relu(x), [0, 0, 0, 5, 10])
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.5), [-5, -2.5, 0, 5, 10])
    np.testing.assert_allclose(activations.relu(x, max_value=5.0), [0, 0, 0, 5, 5])
    np.testing.assert_allclose(activations.relu(x, threshold=5.0), [0, 0, 0, 0, 10])


def test_softmax_rank1_works_like_keras():
    x = np.array([-1.0, 0.0, 1.0], dtype="float32")
    want = np.asarray(K.softmax(x))
    np.testing.assert_allclose(activations.softmax(x), want, rtol=1e-6)
    np.testing.assert_allclose(activations.softmax(x), [0.09003057, 0.24472847, 0.66524096])


def test_glu_odd_axis_raises():
    with pytest.raises(ValueError, match="divisible by 2"):
        activations.glu(np.ones((2, 3), "float32"))


def test_linear_returns_input_unchanged():
    x = np.arange(3.0)
    assert activations.linear(x) is x


# --------------------------------------------------------------------------------------------
# sparsemax: Keras 3.15 computes the threshold wrongly when the support has more than one
# element (keras-team/keras#23425, fixed upstream by #23469); refkeras implements the paper.
# --------------------------------------------------------------------------------------------


def _sparsemax_reference(z, axis=-1):
    """Euclidean projection onto the simplex, by the sort-based algorithm, in NumPy."""
    z = np.moveaxis(np.asarray(z, dtype=np.float64), axis, -1)
    s = -np.sort(-z, axis=-1)
    cs = np.cumsum(s, axis=-1)
    j = np.arange(1, z.shape[-1] + 1)
    k = np.sum(1 + j * s > cs, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cs, k - 1, axis=-1) - 1) / k
    return np.moveaxis(np.maximum(z - tau, 0), -1, axis)


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_is_the_simplex_projection(axis):
    x = np.random.default_rng(3).normal(size=(7, 6)).astype("float32") * 0.7
    got = np.asarray(activations.sparsemax(x, axis=axis))
    np.testing.assert_allclose(got, _sparsemax_reference(x, axis), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-5)
    assert (got >= 0).all()
    np.testing.assert_allclose(activations.sparsemax([0.0, 0.5, 1.0]), [0, 0.25, 0.75])


def test_sparsemax_matches_keras_when_support_is_one_element():
    x = np.array([[1.0, 3.0, 8.0], [-5.0, 2.0, 0.5], [4.0, 0.0, -1.0]], dtype="float32")
    np.testing.assert_allclose(activations.sparsemax(x), np.asarray(K.sparsemax(x)), atol=1e-7)


def test_sparsemax_gradient():
    """The Jacobian of sparsemax is diag(s) - s s^T / |S| with s the support indicator."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 7)) * 0.5
    w = rng.normal(size=x.shape)
    got = _tape_grad(activations.sparsemax, x, w)
    s = (np.asarray(activations.sparsemax(x)) > 0).astype(float)
    want = s * w - s * np.sum(s * w, axis=-1, keepdims=True) / s.sum(-1, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    h = 1e-6
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        up = np.sum(np.asarray(activations.sparsemax(x + e)) * w)
        down = np.sum(np.asarray(activations.sparsemax(x - e)) * w)
        fd[i] = (up - down) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------------------------
# get / serialize / deserialize
# --------------------------------------------------------------------------------------------


def test_public_names_cover_keras():
    public = {n for n in dir(K) if not n.startswith("_")}
    missing = public - set(dir(activations))
    assert not missing


def test_get_resolves_every_keras_name():
    from keras.src.activations import ALL_OBJECTS_DICT

    for name, fn in ALL_OBJECTS_DICT.items():
        ours = activations.get(name)
        assert ours.__name__ == fn.__name__, name
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu


def test_get_none_callable_and_errors():
    assert activations.get(None) is activations.linear
    fn = lambda x: x  # noqa: E731
    assert activations.get(fn) is fn
    assert activations.get(activations.relu) is activations.relu
    with pytest.raises(ValueError, match="Could not interpret activation function identifier: foo"):
        activations.get("foo")
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        activations.get(5)
    with pytest.raises(TypeError, match="Could not locate"):
        activations.get({"class_name": "Foo", "config": {}})


def test_serialize_builtins_like_keras():
    for name in ["relu", "softmax", "gelu", "silu", "swish", "hard_swish", "linear", "sparsemax"]:
        assert activations.serialize(getattr(activations, name)) == K.serialize(getattr(K, name))
    assert activations.deserialize("relu") is activations.relu
    assert activations.deserialize(activations.serialize(activations.gelu)) is activations.gelu


def test_get_accepts_function_config_dict():
    config = {
        "module": "keras.activations",
        "class_name": "function",
        "config": "relu",
        "registered_name": "relu",
    }
    assert activations.get(config) is activations.relu


def test_custom_registered_activation_round_trips():
    @object_registration.register_keras_serializable(package="ActTest")
    def my_act(x):
        return x * 2

    config = activations.serialize(my_act)
    assert isinstance(config, dict)
    assert config["config"] == "ActTest>my_act"
    assert activations.deserialize(config) is my_act


def test_symbolic_inputs_give_keras_tensors():
    x = refkeras.KerasTensor((None, 6))
    for fn, shape in [(activations.relu, (None, 6)), (activations.glu, (None, 3))]:
        y = fn(x)
        assert isinstance(y, refkeras.KerasTensor) and tuple(y.shape) == shape
    y = activations.softmax(x)
    assert tuple(y.shape) == (None, 6) and y.dtype == "float32"
