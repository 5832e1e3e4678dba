"""Learning-rate schedules: values at many steps equal Keras 3's, configs and serialization equal
Keras's, the closed-form formulas hold, and bad arguments raise as in Keras."""

import math
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

from refkeras.optimizers import schedules  # noqa: E402

STEPS = [0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 13, 17, 20, 29, 30, 31, 45, 63, 64, 99, 100, 250, 1000]

# (id, class name, kwargs): the same arguments are given to Keras's and refkeras's class.
SCHEDULES = [
    ("exp", "ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9)),
    (
        "exp_staircase",
        "ExponentialDecay",
        dict(initial_learning_rate=0.5, decay_steps=7, decay_rate=0.5, staircase=True),
    ),
    (
        "piecewise",
        "PiecewiseConstantDecay",
        dict(boundaries=[5, 20, 64], values=[1.0, 0.5, 0.1, 0.01]),
    ),
    ("piecewise_one", "PiecewiseConstantDecay", dict(boundaries=[10], values=[0.3, 0.03])),
    ("poly", "PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=30)),
    (
        "poly_power",
        "PolynomialDecay",
        dict(initial_learning_rate=0.1, decay_steps=30, end_learning_rate=0.01, power=2.0),
    ),
    (
        "poly_cycle",
        "PolynomialDecay",
        dict(initial_learning_rate=0.1, decay_steps=30, power=0.5, cycle=True),
    ),
    ("inverse", "InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5)),
    (
        "inverse_staircase",
        "InverseTimeDecay",
        dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5, staircase=True),
    ),
    ("cosine", "CosineDecay", dict(initial_learning_rate=0.1, decay_steps=30)),
    ("cosine_alpha", "CosineDecay", dict(initial_learning_rate=0.1, decay_steps=30, alpha=0.2)),
    (
        "cosine_warmup",
        "CosineDecay",
        dict(
            initial_learning_rate=0.0, decay_steps=50, alpha=0.1, warmup_target=0.2, warmup_steps=10
        ),
    ),
    ("restarts", "CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10)),
    (
        "restarts_t1",
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=1.0, m_mul=0.5, alpha=0.1),
    ),
    (
        "restarts_mul",
        "CosineDecayRestarts",
        dict(initial_learning_rate=0.1, first_decay_steps=6, t_mul=1.5, m_mul=0.8),
    ),
]
IDS = [s[0] for s in SCHEDULES]


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("case", SCHEDULES, ids=IDS)
def test_values_match_keras(keras, case):
    _, name, kwargs = case
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    got = np.array([np.asarray(ours(step)) for step in STEPS])
    # Keras evaluates all the steps in one vectorized call (per-step eager JAX calls take seconds).
    jax = pytest.importorskip("jax")
    want = np.asarray(jax.vmap(theirs)(jax.numpy.asarray(STEPS)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=f"{name} at {STEPS}")


@pytest.mark.parametrize("case", SCHEDULES, ids=IDS)
def test_config_and_serialization_match_keras(keras, case):
    _, name, kwargs = case
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    assert ours.get_config() == theirs.get_config()
    serialized = schedules.serialize(ours)
    assert serialized == keras.optimizers.schedules.serialize(theirs)
    restored = schedules.deserialize(serialized)
    assert type(restored) is type(ours)
    assert restored.get_config() == ours.get_config()
    assert float(restored(17)) == float(ours(17))


def test_formulas_in_closed_form():
    """The documented formulas, evaluated in float64."""
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9, staircase=True)
    assert float(s(25)) == pytest.approx(0.1 * 0.9**2, rel=1e-6)
    s = schedules.InverseTimeDecay(0.1, decay_steps=5, decay_rate=0.5)
    assert float(s(7)) == pytest.approx(0.1 / (1 + 0.5 * 7 / 5), rel=1e-6)
    s = schedules.PolynomialDecay(0.1, decay_steps=30, end_learning_rate=0.01, power=2.0)
    assert float(s(12)) == pytest.approx(0.09 * (1 - 12 / 30) ** 2 + 0.01, rel=1e-6)
    assert float(s(300)) == pytest.approx(0.01, rel=1e-6)  # held at the end value
    s = schedules.PolynomialDecay(0.1, decay_steps=30, cycle=True)
    assert float(s(45)) == pytest.approx(0.0999 * (1 - 45 / 60) + 0.0001, rel=1e-6)
    s = schedules.CosineDecay(0.1, decay_steps=30, alpha=0.2)
    assert float(s(10)) == pytest.approx(0.1 * (0.8 * 0.5 * (1 + math.cos(math.pi / 3)) + 0.2))
    s = schedules.CosineDecay(0.0, decay_steps=50, warmup_target=0.2, warmup_steps=10)
    assert float(s(5)) == pytest.approx(0.1, rel=1e-6)  # halfway through the warmup
    assert float(s(10)) == pytest.approx(0.2, rel=1e-6)  # the peak
    s = schedules.CosineDecayRestarts(0.1, first_decay_steps=10, t_mul=2.0)
    # Periods of 10, 20, 40 steps: step 15 is a quarter into the second period.
    assert float(s(15)) == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi / 4)), rel=1e-6)
    s = schedules.PiecewiseConstantDecay([5, 20], [1.0, 0.5, 0.1])
    assert [float(s(t)) for t in (0, 5, 6, 20, 21)] == [1.0, 1.0, 0.5, 0.5, pytest.approx(0.1)]


def test_step_may_be_a_variable():
    import refkeras

    step = refkeras.Variable(12, dtype="int64", trainable=False)
    s = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert float(s(step)) == pytest.approx(0.1 * 0.5**1.2, rel=1e-6)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: schedules.ExponentialDecay(0.1, 0, 0.9), "`decay_steps` must be > 0"),
        (lambda: schedules.PolynomialDecay(0.1, -1), "`decay_steps` must be > 0"),
        (lambda: schedules.InverseTimeDecay(0.1, 0, 0.5), "`decay_steps` must be > 0"),
        (lambda: schedules.CosineDecay(0.1, 0), "`decay_steps` must be > 0"),
        (lambda: schedules.CosineDecayRestarts(0.1, 0), "`first_decay_steps` must be > 0"),
        (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), "1 less than the length"),
    ],
)
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_base_class_must_be_overridden():
    class Incomplete(schedules.LearningRateSchedule):
        pass

    with pytest.raises(NotImplementedError, match="must override `__call__"):
        Incomplete()(0)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        Incomplete().get_config()


def test_reachable_as_keras_names():
    import refkeras.optimizers

    assert refkeras.optimizers.schedules.ExponentialDecay is schedules.ExponentialDecay
    assert refkeras.optimizers.schedules.LearningRateSchedule is schedules.LearningRateSchedule
    assert schedules.ExponentialDecay._keras_module == "keras.optimizers.schedules"
