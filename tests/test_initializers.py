"""``refkeras.initializers`` against Keras 3: deterministic initializers exactly, random ones by
their statistics and seeding semantics, ``compute_fans``, configs and lookup."""

import os

os.environ["KERAS_BACKEND"] = "jax"

import numpy as np
import pytest

jax = pytest.importorskip("jax")
keras = pytest.importorskip("keras")

import refkeras  # noqa: E402
from refkeras import initializers  # noqa: E402
from refkeras.initializers.random_initializers import compute_fans  # noqa: E402

KI = keras.initializers
BIG = (200, 250)  # 50,000 draws: sample means/stds are accurate to about 0.3%


def _np(x):
    return np.asarray(x)


# --------------------------------------------------------------------------------------------
# Deterministic initializers equal Keras's exactly
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("Zeros", (), (3, 4)),
        ("Ones", (), (2, 3, 4)),
        ("Constant", (), (5,)),
        ("Constant", (3.5,), (2, 2)),
        ("Identity", (2.5,), (3, 5)),
        ("Identity", (0.5,), (4, 2)),
    ],
)
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_deterministic_initializers_equal_keras(name, args, shape, dtype):
    got = _np(getattr(initializers, name)(*args)(shape, dtype=dtype))
    with jax.enable_x64(dtype == "float64"):
        want = _np(getattr(KI, name)(*args)(shape, dtype=dtype))
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_constant_array_value_broadcasts():
    value = np.array([1.0, 2.0, 3.0])
    got = _np(initializers.Constant(value)((2, 3)))
    np.testing.assert_array_equal(got, _np(KI.Constant(value)((2, 3))))
    clone = initializers.Constant.from_config(initializers.Constant(value).get_config())
    np.testing.assert_array_equal(clone.value, value)


def test_identity_rejects_non_matrix():
    with pytest.raises(ValueError, match="only be used for 2D matrices"):
        initializers.Identity()((2, 2, 2))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"side": "imag"},
        {"window": "hamming", "scaling": "spectrum"},
        {"window": "hann", "periodic": True},
        {"window": "blackman"},
        {"window": None},
        {"window": [0.1, 0.5, 1.0, 0.5, 0.1, 0.0, 0.2, 0.3]},
    ],
)
def test_stft_matches_keras(kwargs):
    shape = (8, 1, 5)
    got = _np(initializers.STFT(**kwargs)(shape))
    want = _np(KI.STFT(**kwargs)(shape))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------------------------
# compute_fans and the VarianceScaling formulas
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, axes",
    [
        ((), None),
        ((7,), None),
        ((3, 5), None),
        ((3, 3, 4, 8), None),
        ((2, 3, 3, 4, 8), None),
        ((4, 6, 10), ((0,), (1, 2))),
        ((4, 6, 10), ((0, 1), (2,))),
    ],
)
def test_compute_fans_matches_keras(shape, axes):
    from keras.src.initializers.random_initializers import compute_fans as keras_fans

    kwargs = {} if axes is None else {"input_axes": axes[0], "output_axes": axes[1]}
    assert compute_fans(shape, **kwargs) == keras_fans(shape, **kwargs)
    assert initializers.compute_fans is compute_fans


def _check_uniform(x, limit):
    assert x.min() >= -limit and x.max() < limit
    assert x.min() < -0.99 * limit and x.max() > 0.99 * limit
    assert abs(x.mean()) < 0.01 * limit
    np.testing.assert_allclose(x.std(), limit / np.sqrt(3), rtol=0.01)


def _check_truncated(x, stddev_param, mean=0.0, slack=1e-6):
    """Truncated at 2 standard deviations: bounds, mean, and std = 0.8796 * stddev."""
    assert np.all(np.abs(x - mean) <= 2 * stddev_param * (1 + slack))
    assert np.max(np.abs(x - mean)) > 1.95 * stddev_param
    assert abs(x.mean() - mean) < 0.01 * stddev_param
    np.testing.assert_allclose(x.std(), 0.87962566103423978 * stddev_param, rtol=0.01)


@pytest.mark.parametrize("fan_shape", [BIG, (3, 3, 40, 150)])
@pytest.mark.parametrize(
    "name, scale, mode, dist",
    [
        ("GlorotUniform", 1.0, "fan_avg", "uniform"),
        ("GlorotNormal", 1.0, "fan_avg", "truncated_normal"),
        ("HeUniform", 2.0, "fan_in", "uniform"),
        ("HeNormal", 2.0, "fan_in", "truncated_normal"),
        ("LecunUniform", 1.0, "fan_in", "uniform"),
        ("LecunNormal", 1.0, "fan_in", "truncated_normal"),
    ],
)
def test_named_variance_scaling_statistics(name, scale, mode, dist, fan_shape):
    x = _np(getattr(initializers, name)(seed=1)(fan_shape))
    assert x.dtype == np.float32 and x.shape == fan_shape
    fan_in, fan_out = compute_fans(fan_shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    if dist == "uniform":
        _check_uniform(x, np.sqrt(3 * scale / n))
    else:
        # The correction makes the *truncated* draws have variance scale / n.
        np.testing.assert_allclose(x.std(), np.sqrt(scale / n), rtol=0.01)
        _check_truncated(x, np.sqrt(scale / n) / 0.87962566103423978)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("dist", ["truncated_normal", "normal", "untruncated_normal", "uniform"])
def test_variance_scaling_statistics(mode, dist):
    shape = (100, 500)
    x = _np(initializers.VarianceScaling(3.0, mode, dist, seed=5)(shape))
    n = {"fan_in": 100, "fan_out": 500, "fan_avg": 300}[mode]
    np.testing.assert_allclose(x.std(), np.sqrt(3.0 / n), rtol=0.01)
    if dist == "untruncated_normal":
        assert np.max(np.abs(x)) > 3.5 * np.sqrt(3.0 / n)  # tails not cut
    elif dist == "uniform":
        _check_uniform(x, np.sqrt(9.0 / n))
    else:
        _check_truncated(x, np.sqrt(3.0 / n) / 0.87962566103423978)


def test_variance_scaling_fan_axes():
    init = initializers.VarianceScaling(
        1.0, "fan_in", "uniform", seed=1, input_axes=(0, 1), output_axes=(2,)
    )
    x = _np(init((10, 20, 250)))
    _check_uniform(x, np.sqrt(3.0 / 200))


def test_variance_scaling_errors():
    with pytest.raises(ValueError, match="must be positive"):
        initializers.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="Invalid `mode` argument: fan"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="Invalid `distribution` argument: gamma"):
        initializers.VarianceScaling(distribution="gamma")
    assert initializers.VarianceScaling(distribution="Normal").distribution == "truncated_normal"


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_random_initializer_statistics_and_dtype(dtype):
    x = _np(initializers.RandomUniform(-0.3, 0.7, seed=2)(BIG, dtype=dtype)).astype(np.float64)
    low, high = (float(np.asarray(v, dtype)) for v in (-0.3, 0.7))  # the bounds, rounded
    assert x.min() >= low and x.max() <= high
    np.testing.assert_allclose(x.mean(), 0.2, atol=0.005)
    np.testing.assert_allclose(x.std(), 1.0 / np.sqrt(12), rtol=0.01)

    x = _np(initializers.RandomNormal(1.5, 0.2, seed=2)(BIG, dtype=dtype)).astype(np.float64)
    np.testing.assert_allclose(x.mean(), 1.5, atol=0.002)
    np.testing.assert_allclose(x.std(), 0.2, rtol=0.01)
    assert np.max(np.abs(x - 1.5)) > 0.8  # untruncated: beyond 4 stddevs in 200k draws

    x = _np(initializers.TruncatedNormal(-1.0, 0.3, seed=2)(BIG, dtype=dtype)).astype(np.float64)
    _check_truncated(x, 0.3, mean=-1.0, slack=2e-3 if dtype == "float16" else 1e-6)

    for cls in (initializers.RandomUniform, initializers.RandomNormal, initializers.HeNormal):
        assert _np(cls(seed=0)((3, 4), dtype=dtype)).dtype == dtype


def test_default_dtype_is_floatx():
    assert _np(initializers.GlorotUniform(seed=1)((3, 4))).dtype == refkeras.config.floatx()
    assert _np(initializers.Zeros()((3, 4))).dtype == refkeras.config.floatx()


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (4, 5, 30), (30, 30)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    x = _np(initializers.Orthogonal(gain=gain, seed=3)(shape)).astype(np.float64)
    assert x.shape == shape
    flat = x.reshape(-1, shape[-1])
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((5,))


# --------------------------------------------------------------------------------------------
# Seeding semantics
# --------------------------------------------------------------------------------------------

RANDOM = [
    "RandomUniform",
    "RandomNormal",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
]


@pytest.mark.parametrize("name", RANDOM)
def test_int_seed_is_deterministic(name):
    cls = getattr(initializers, name)
    a = _np(cls(seed=7)((6, 5)))
    np.testing.assert_array_equal(a, _np(cls(seed=7)((6, 5))))
    init = cls(seed=7)
    np.testing.assert_array_equal(_np(init((6, 5))), _np(init((6, 5))))  # every call
    assert not np.array_equal(a, _np(cls(seed=8)((6, 5))))


@pytest.mark.parametrize("name", RANDOM)
def test_seed_none_differs_and_set_random_seed_reproduces(name):
    cls = getattr(initializers, name)
    assert not np.array_equal(_np(cls()((6, 5))), _np(cls()((6, 5))))
    refkeras.random.set_random_seed(1234)
    first = [_np(cls()((6, 5))), _np(cls()((6, 5)))]
    refkeras.random.set_random_seed(1234)
    second = [_np(cls()((6, 5))), _np(cls()((6, 5)))]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


def test_seed_generator_advances():
    gen = refkeras.random.SeedGenerator(11)
    init = initializers.RandomNormal(seed=gen)
    a, b = _np(init((4, 4))), _np(init((4, 4)))
    assert not np.array_equal(a, b)
    again = initializers.RandomNormal(seed=refkeras.random.SeedGenerator(11))
    np.testing.assert_array_equal(a, _np(again((4, 4))))


def test_bad_seed():
    with pytest.raises(ValueError, match="`seed` argument should be"):
        initializers.RandomNormal(seed="abc")


# --------------------------------------------------------------------------------------------
# Configs, serialization, lookup
# --------------------------------------------------------------------------------------------

ALL_CLASSES = RANDOM + ["Zeros", "Ones", "Constant", "STFT"]


@pytest.mark.parametrize("name", ALL_CLASSES)
def test_default_config_equals_keras(name):
    assert getattr(initializers, name)().get_config() == getattr(KI, name)().get_config()


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RandomUniform", {"minval": -1.0, "maxval": 2.0, "seed": 3}),
        ("RandomNormal", {"mean": 1.0, "stddev": 0.5, "seed": 3}),
        ("TruncatedNormal", {"mean": 1.0, "stddev": 0.5, "seed": 3}),
        ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform"}),
        ("VarianceScaling", {"input_axes": [0], "output_axes": [1, 2], "seed": 4}),
        ("GlorotUniform", {"seed": 5}),
        ("HeNormal", {"seed": 5, "input_axes": [0], "output_axes": [1]}),
        ("Orthogonal", {"gain": 3.0, "seed": 2}),
        ("Constant", {"value": 4.0}),
        ("STFT", {"side": "imag", "window": "hamming", "scaling": None, "periodic": True}),
    ],
)
def test_config_and_serialization_equal_keras(name, kwargs):
    ours, theirs = getattr(initializers, name)(**kwargs), getattr(KI, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert initializers.serialize(ours) == KI.serialize(theirs)
    clone = initializers.deserialize(KI.serialize(theirs))
    assert type(clone) is type(ours) and clone.get_config() == ours.get_config()
    assert ours.clone().get_config() == ours.get_config()


def test_seed_generator_config_equals_keras():
    ours = initializers.RandomNormal(seed=refkeras.random.SeedGenerator(3, name="g"))
    theirs = KI.RandomNormal(seed=keras.random.SeedGenerator(3, name="g"))
    assert ours.get_config() == theirs.get_config()
    clone = initializers.RandomNormal.from_config(ours.get_config())
    np.testing.assert_array_equal(_np(clone((3, 3))), _np(ours((3, 3))))


def test_identity_config_keeps_gain():
    """Keras 3.15's Identity.get_config() drops `gain` (returns {}); refkeras keeps it."""
    assert initializers.Identity(2.0).get_config() == {"gain": 2.0}
    assert initializers.Identity.from_config({}).gain == 1.0  # Keras configs still load
    assert initializers.get(initializers.serialize(initializers.Identity(3.0))).gain == 3.0


def test_get_resolves_every_keras_name():
    from keras.src.initializers import ALL_OBJECTS_DICT

    for key, cls in ALL_OBJECTS_DICT.items():
        if key in ("Initializer", "initializer"):
            assert initializers.get(key).__class__ is initializers.Initializer
            continue
        assert type(initializers.get(key)).__name__ == cls.__name__, key


def test_public_names_cover_keras():
    public = {n for n in dir(KI) if not n.startswith("_")}
    assert not public - set(dir(initializers))


def test_get_variants_and_errors():
    assert initializers.get(None) is None
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    assert isinstance(initializers.get(initializers.HeNormal), initializers.HeNormal)
    inst = initializers.Ones()
    assert initializers.get(inst) is inst
    fn = lambda shape, dtype=None: np.ones(shape)  # noqa: E731
    assert initializers.get(fn) is fn
    cfg = {"class_name": "RandomUniform", "config": {"minval": 0.0, "maxval": 1.0, "seed": 1}}
    assert initializers.get(cfg).get_config()["maxval"] == 1.0

    value = np.arange(6.0).reshape(2, 3)
    direct = initializers.get(value)
    got = _np(direct((2, 3), dtype="float32"))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, value)
    with pytest.raises(ValueError, match="Expected `shape` to be"):
        direct((3, 2))

    for bad in ["foo", "relu", 5, {"class_name": "Nope", "config": {}}]:
        with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
            initializers.get(bad)


def test_base_class():
    with pytest.raises(NotImplementedError):
        initializers.Initializer()((2,))

    class Halves(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 0.5, dtype=dtype)

    assert Halves().get_config() == {}
    assert isinstance(Halves().clone(), Halves)


def test_variable_accepts_initializers():
    v = refkeras.Variable(initializers.get("ones"), shape=(2, 3))
    np.testing.assert_array_equal(v.numpy(), np.ones((2, 3), "float32"))
    v = refkeras.Variable("glorot_uniform", shape=(4, 3))
    assert v.shape == (4, 3) and np.all(np.abs(v.numpy()) <= np.sqrt(6 / 7))
