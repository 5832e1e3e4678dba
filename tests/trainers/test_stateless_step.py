"""``model.stateless_train_step(state, batch)``: ``train_step`` as a pure function of
``state = [v.numpy() for v in model.state_variables()]``.  It must return the same logs and the
same new values that ``train_step`` produces (weights, optimizer slots and step count, metric
accumulators, BatchNormalization statistics, dropout seed state) and change no variable."""

import numpy as np
import pytest

import refkeras as keras


def make_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def batch(seed=0, n=8):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)).astype("float32"), (np.arange(n) % 3).astype("int32")


def values(model):
    return [np.array(v.numpy()) for v in model.state_variables()]


def assert_same(a, b, **tol):
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        if tol:
            np.testing.assert_allclose(x, y, err_msg=f"state {i}", **tol)
        else:
            np.testing.assert_array_equal(x, y, err_msg=f"state {i}")


def warmed_up():
    """A model that has taken one real step, so every slot and accumulator exists."""
    model = make_model()
    model.train_on_batch(*batch(1))
    return model


def test_state_variables_cover_all_step_state():
    model = warmed_up()
    ids = {id(v) for v in model.state_variables()}
    assert all(id(v) in ids for v in model.weights)
    assert all(id(v) in ids for v in model.optimizer.variables)
    assert all(id(v) in ids for m in model.metrics for v in m.variables)
    bn = model.layers[1]
    assert all(id(v) in ids for v in bn.non_trainable_weights)


def test_stateless_step_matches_train_step_and_changes_nothing():
    model = warmed_up()
    state = values(model)
    data = batch(2)
    logs, new_state = model.stateless_train_step(state, data)
    assert_same(values(model), state)  # no variable changed
    real_logs = model.train_step(data)
    assert set(logs) == set(real_logs) == {"loss", "accuracy"}
    for key in logs:
        np.testing.assert_allclose(float(logs[key]), float(real_logs[key]), rtol=1e-6)
    assert_same(new_state, values(model), rtol=1e-6, atol=1e-7)
    # Something did change: the weights, the step count, the dropout seed state.
    assert int(model.optimizer.iterations) == 2
    changed = [not np.array_equal(a, b) for a, b in zip(state, new_state)]
    assert sum(changed) >= len(model.trainable_weights) + 1


def test_stateless_step_uses_the_given_state_not_the_variables():
    model = warmed_up()
    other = warmed_up()
    other.train_on_batch(*batch(3))  # a different state
    state = values(other)
    data = batch(4)
    logs, new_state = model.stateless_train_step(state, data)
    real_logs = other.train_step(data)
    for key in logs:
        np.testing.assert_allclose(float(logs[key]), float(real_logs[key]), rtol=1e-6)
    assert_same(new_state, values(other), rtol=1e-6, atol=1e-7)


def test_stateless_steps_can_be_chained():
    model = warmed_up()
    reference = warmed_up()
    state = values(model)
    for seed in (5, 6, 7):
        _, state = model.stateless_train_step(state, batch(seed))
        reference.train_step(batch(seed))
    assert_same(state, values(reference), rtol=1e-5, atol=1e-6)
    assert int(model.optimizer.iterations) == 1


def test_stateless_step_on_a_fresh_model_changes_nothing():
    # Before any real step: the state is taken from a compiled, built model whose optimizer has not
    # been used yet.
    model = make_model()
    reference = make_model()
    before = values(model)
    data = batch(8)
    logs, new_state = model.stateless_train_step(before, data)
    assert_same(values(model)[: len(before)], before)
    assert int(model.optimizer.iterations) == 0
    real_logs = reference.train_step(data)
    for key in logs:
        np.testing.assert_allclose(float(logs[key]), float(real_logs[key]), rtol=1e-6)
    np.testing.assert_allclose(new_state[0], reference.get_weights()[0], rtol=1e-6, atol=1e-7)


def test_wrong_state_length_is_an_error():
    model = warmed_up()
    state = values(model)
    before = values(model)
    with pytest.raises(ValueError) as info:
        model.stateless_train_step(state[:-1], batch())
    assert str(len(state)) in str(info.value) and str(len(state) - 1) in str(info.value)
    assert_same(values(model), before)
