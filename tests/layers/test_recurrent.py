"""Recurrent layers: stateful behaviour (as the Keras FAQ describes), shapes, errors, config."""

import numpy as np
import pytest

import refkeras as keras
from refkeras import layers


def _stateful_model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input(batch_shape=(2, 3, 4)),
            layers.LSTM(5, stateful=True),
            layers.Dense(1),
        ]
    )
    return model


def test_stateful_states_carry_across_calls_until_reset():
    model = _stateful_model()
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    first = model.predict(x, verbose=0)
    second = model.predict(x, verbose=0)
    assert not np.allclose(first, second), "states should carry over between predict calls"
    model.layers[0].reset_states()
    np.testing.assert_allclose(model.predict(x, verbose=0), first, rtol=1e-6)


def test_stateful_equals_one_long_sequence():
    """Feeding a sequence in two halves to a stateful LSTM equals feeding it whole."""
    keras.utils.set_random_seed(5)
    stateful = layers.LSTM(3, stateful=True, return_sequences=True)
    whole = layers.LSTM(3, return_sequences=True)
    x = np.random.default_rng(1).normal(size=(2, 6, 4)).astype("float32")
    stateful.build((2, 3, 4))
    whole.build((2, 6, 4))
    whole.set_weights(stateful.get_weights())
    halves = np.concatenate([np.asarray(stateful(x[:, :3])), np.asarray(stateful(x[:, 3:]))], 1)
    np.testing.assert_allclose(halves, np.asarray(whole(x)), rtol=1e-5, atol=1e-6)


def test_stateful_states_carry_through_train_on_batch():
    model = _stateful_model()
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((2, 3, 4), "float32")
    model.train_on_batch(x, np.zeros((2, 1), "float32"))
    state = model.layers[0].states[0].numpy()
    assert np.abs(state).sum() > 0
    model.layers[0].reset_states()
    assert np.abs(model.layers[0].states[0].numpy()).sum() == 0


def test_stateful_needs_batch_size():
    with pytest.raises(ValueError, match="batch size"):
        keras.Sequential([keras.Input((3, 4)), layers.LSTM(2, stateful=True)])


def test_shapes_and_symbolic_calls():
    inp = keras.Input((7, 4))
    out, h, c = layers.LSTM(5, return_sequences=True, return_state=True)(inp)
    assert out.shape == (None, 7, 5) and h.shape == (None, 5) and c.shape == (None, 5)
    assert layers.GRU(2)(inp).shape == (None, 2)


def test_wrong_rank_is_rejected_with_keras_wording():
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        layers.LSTM(2)(np.zeros((3, 4), "float32"))


def test_weights_order_and_names():
    lstm = layers.LSTM(3)
    lstm.build((None, 2, 4))
    assert [w.name for w in lstm.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [w.shape for w in lstm.weights] == [(4, 12), (3, 12), (12,)]
    bias = lstm.weights[2].numpy()
    np.testing.assert_array_equal(bias[3:6], np.ones(3))  # unit_forget_bias
    np.testing.assert_array_equal(np.delete(bias, range(3, 6)), np.zeros(9))


def test_config_round_trip():
    layer = layers.GRU(4, return_sequences=True, go_backwards=True, reset_after=False)
    clone = layers.GRU.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_dropout_paths_are_deterministic_under_seed():
    x = np.random.default_rng(2).normal(size=(2, 4, 3)).astype("float32")
    outs = []
    for _ in range(2):
        keras.utils.set_random_seed(11)
        layer = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5)
        outs.append(np.asarray(layer(x, training=True)))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.allclose(outs[0], np.asarray(layer(x, training=False)))
