"""``refkeras.regularizers`` against Keras 3: penalty values, gradients, configs and lookup."""

import os

os.environ["KERAS_BACKEND"] = "jax"

import numpy as np
import pytest

jax = pytest.importorskip("jax")
keras = pytest.importorskip("keras")

import refkeras  # noqa: E402
from refkeras import ops, regularizers  # noqa: E402

KR = keras.regularizers

CASES = [
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {}),
    ("L2", {"l2": 0.25}),
    ("L1L2", {}),
    ("L1L2", {"l1": 0.1}),
    ("L1L2", {"l2": 0.2}),
    ("L1L2", {"l1": 0.1, "l2": 0.2}),
    ("OrthogonalRegularizer", {}),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}),
]


def _id(case):
    return case[0] + "".join(f"-{k}={v}" for k, v in case[1].items())


def _weights(shape=(7, 5), dtype="float32", seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_values_match_keras(case):
    name, kwargs = case
    w = _weights((7, 5))
    got = regularizers.get({"class_name": name, "config": kwargs})(w)
    # (a backend tensor: keras.utils.normalize mishandles NumPy input with axis=0)
    want = getattr(KR, name)(**kwargs)(keras.ops.convert_to_tensor(w))
    assert np.asarray(got).shape == ()
    assert np.asarray(got).dtype == np.float32
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_gradients_match_finite_differences(case):
    name, kwargs = case
    reg = getattr(regularizers, name)(**kwargs)
    w = _weights((4, 3), "float64", seed=1)
    v = refkeras.Variable(w, dtype="float64")
    with refkeras.GradientTape() as tape:
        penalty = reg(v.value)
    grad = tape.gradient(penalty, v)
    grad = np.zeros_like(w) if grad is None else np.asarray(grad)  # L1L2() is constant
    fd = np.zeros_like(w)
    h = 1e-6
    for i in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[i] = h
        fd[i] = (float(reg(w + e)) - float(reg(w - e))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_orthogonal_regularizer_is_zero_for_orthogonal_rows():
    q = np.linalg.qr(_weights((6, 6), "float64"))[0]
    assert float(regularizers.OrthogonalRegularizer(1.0)(q)) == pytest.approx(0, abs=1e-12)
    with pytest.raises(ValueError, match="must have rank 2"):
        regularizers.OrthogonalRegularizer()(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="Invalid value for argument `mode`"):
        regularizers.OrthogonalRegularizer(mode="diag")


def test_l1_factor_is_a_floatx_tensor_like_keras():
    """Keras stores L1's factor as a floatx tensor (``ops.convert_to_tensor(l1)``): the config
    shows the rounded value, and float64 weights are penalised by that rounded factor (as Keras
    computes it on its TensorFlow and PyTorch backends)."""
    assert regularizers.L1().get_config() == {"l1": float(np.float32(0.01))}
    w = _weights(dtype="float64")
    got = regularizers.L1(0.01)(w)
    assert np.asarray(got).dtype == np.float64
    np.testing.assert_allclose(float(got), float(np.float32(0.01)) * np.abs(w).sum(), rtol=1e-14)


@pytest.mark.parametrize("case", CASES + [("Regularizer", {})], ids=_id)
def test_config_and_serialization_equal_keras(case):
    name, kwargs = case
    ours, theirs = getattr(regularizers, name)(**kwargs), getattr(KR, name)(**kwargs)
    if name == "Regularizer":
        with pytest.raises(NotImplementedError):
            ours.get_config()
        assert ours(np.ones(3)) == 0.0
        return
    assert ours.get_config() == theirs.get_config()
    assert regularizers.serialize(ours) == KR.serialize(theirs)
    clone = regularizers.deserialize(KR.serialize(theirs))
    assert type(clone) is type(ours) and clone.get_config() == ours.get_config()


def test_argument_validation():
    for bad in (-1.0, float("nan"), float("inf"), "0.1"):
        with pytest.raises(ValueError, match="expected a non-negative float"):
            regularizers.L1(bad)
        with pytest.raises(ValueError, match="expected a non-negative float"):
            regularizers.L1L2(l2=bad)
    assert regularizers.L1(None).get_config() == KR.L1(None).get_config()
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}


def test_get_and_aliases():
    from keras.src.regularizers import ALL_OBJECTS_DICT

    for key, cls in ALL_OBJECTS_DICT.items():
        assert type(regularizers.get(key)).__name__ == cls.__name__, key
    assert isinstance(regularizers.get("l1_l2"), regularizers.L1L2)  # the exported name too
    assert regularizers.l1 is regularizers.L1 and regularizers.l1_l2 is regularizers.L1L2
    assert not {n for n in dir(KR) if not n.startswith("_")} - set(dir(regularizers))
    assert regularizers.get(None) is None
    inst = regularizers.L2(0.5)
    assert regularizers.get(inst) is inst
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)
    fn = lambda w: ops.sum(w)  # noqa: E731
    assert regularizers.get(fn) is fn
    for bad in ["l3", 5, {"class_name": "Nope", "config": {}}]:
        with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
            regularizers.get(bad)
