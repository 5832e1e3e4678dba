"""``refkeras.constraints`` against Keras 3: projected values, configs and lookup."""

import os

os.environ["KERAS_BACKEND"] = "jax"

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from refkeras import constraints  # noqa: E402

KC = keras.constraints

CASES = [
    ("NonNeg", {}),
    ("MaxNorm", {}),
    ("MaxNorm", {"max_value": 1.5, "axis": 1}),
    ("MaxNorm", {"max_value": 3, "axis": [0, 1]}),
    ("UnitNorm", {}),
    ("UnitNorm", {"axis": 1}),
    ("MinMaxNorm", {}),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5, "axis": 1}),
    ("MinMaxNorm", {"min_value": 2.5, "max_value": 3.0, "axis": -1}),
    ("Constraint", {}),
]


def _id(case):
    return case[0] + "".join(f"-{k}={v}" for k, v in case[1].items())


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_values_match_keras(case):
    name, kwargs = case
    # A conv kernel shape, so that the axis arguments select different slices.
    w = (np.random.default_rng(0).normal(size=(3, 3, 2, 5)) * 1.5).astype("float32")
    got = np.asarray(getattr(constraints, name)(**kwargs)(w))
    want = np.asarray(getattr(KC, name)(**kwargs)(w))
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_constraints_do_what_they_say():
    w = np.random.default_rng(1).normal(size=(8, 5)) * 2
    norms = lambda a: np.sqrt(np.sum(np.asarray(a) ** 2, axis=0))  # noqa: E731
    assert np.all(norms(constraints.MaxNorm(1.0)(w)) <= 1.0 + 1e-6)
    np.testing.assert_allclose(norms(constraints.UnitNorm()(w)), 1.0, rtol=1e-6)
    mm = norms(constraints.MinMaxNorm(2.0, 3.0)(w))
    assert np.all((mm >= 2.0 - 1e-6) & (mm <= 3.0 + 1e-6))
    assert np.all(np.asarray(constraints.NonNeg()(w)) >= 0)
    small = w / (10 * norms(w))  # inside the ball: MaxNorm leaves it (almost) unchanged
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(small), small, rtol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_config_and_serialization_equal_keras(case):
    name, kwargs = case
    ours, theirs = getattr(constraints, name)(**kwargs), getattr(KC, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    assert constraints.serialize(ours) == KC.serialize(theirs)
    clone = constraints.deserialize(KC.serialize(theirs))
    assert type(clone) is type(ours) and clone.get_config() == ours.get_config()


def test_get_and_aliases():
    from keras.src.constraints import ALL_OBJECTS_DICT

    for key, cls in ALL_OBJECTS_DICT.items():
        assert type(constraints.get(key)).__name__ == cls.__name__, key
    assert not {n for n in dir(KC) if not n.startswith("_")} - set(dir(constraints))
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.get(None) is None
    inst = constraints.UnitNorm(1)
    assert constraints.get(inst) is inst
    assert isinstance(constraints.get(constraints.NonNeg), constraints.NonNeg)
    cfg = {"class_name": "MaxNorm", "config": {"max_value": 4, "axis": 1}}
    assert constraints.get(cfg).get_config() == {"max_value": 4, "axis": 1}
    for bad in ["maxnorm", 5, {"class_name": "Nope", "config": {}}]:
        with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
            constraints.get(bad)
