"""Mistakes users make with ``compile``/``fit``/``evaluate``/``predict``: each must raise an error
that names the argument, what was expected and what was received — and must leave the model as it
was (weights, optimizer step count and slots, compiled configuration)."""

import os
import re

import numpy as np
import pytest

import refkeras as keras


def trained_model():
    """A compiled model that has already taken one step (so the optimizer has slots)."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse", metrics=["mae"])
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    return model


def snapshot(model):
    optimizer = model.optimizer
    return {
        "weights": [w.copy() for w in model.get_weights()],
        "iterations": int(optimizer.iterations) if optimizer is not None else None,
        "slots": [np.array(v.numpy()) for v in optimizer.variables] if optimizer else [],
        "optimizer": optimizer,
        "loss": getattr(model, "loss", None),
    }


def assert_unchanged(model, before):
    after = snapshot(model)
    assert after["optimizer"] is before["optimizer"]
    assert after["loss"] == before["loss"]
    assert after["iterations"] == before["iterations"]
    assert len(after["weights"]) == len(before["weights"])
    for a, b in zip(after["weights"], before["weights"]):
        np.testing.assert_array_equal(a, b)
    assert len(after["slots"]) == len(before["slots"])
    for a, b in zip(after["slots"], before["slots"]):
        np.testing.assert_array_equal(a, b)


X = np.zeros((10, 3), "float32")
Y = np.zeros((10, 2), "float32")


# --- data shape and size --------------------------------------------------------------------------


def test_x_y_length_mismatch_names_both_sizes():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(X, Y[:8], verbose=0)
    message = str(info.value)
    assert "x" in message and "y" in message
    assert "10" in message and "8" in message
    assert_unchanged(model, before)


def test_sample_weight_length_mismatch():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match="sample_weight") as info:
        model.fit(X, Y, sample_weight=np.ones(7), verbose=0)
    assert "10" in str(info.value) and "7" in str(info.value)
    assert_unchanged(model, before)


def test_multi_input_length_mismatch():
    a = keras.Input((2,), name="a")
    b = keras.Input((2,), name="b")
    model = keras.Model([a, b], keras.layers.Dense(1)(keras.layers.concatenate([a, b])))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError) as info:
        model.fit([np.zeros((6, 2)), np.zeros((5, 2))], np.zeros((6, 1)), verbose=0)
    assert "6" in str(info.value) and "5" in str(info.value)


@pytest.fixture(scope="module")
def keras_shape_message():
    """The message real Keras gives for calling the same model on inputs of the wrong width."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    real = pytest.importorskip("keras")
    model = real.Sequential([real.Input((3,)), real.layers.Dense(2)])
    with pytest.raises(ValueError) as info:
        model.predict(np.zeros((10, 4), "float32"), verbose=0)
    return str(info.value)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict", "call"])
def test_wrong_input_shape_uses_the_input_spec_wording(method, keras_shape_message):
    model = trained_model()
    before = snapshot(model)
    bad = np.zeros((10, 4), "float32")
    with pytest.raises(ValueError) as info:
        if method == "fit":
            model.fit(bad, Y, verbose=0)
        elif method == "evaluate":
            model.evaluate(bad, Y, verbose=0)
        elif method == "predict":
            model.predict(bad, verbose=0)
        else:
            model(bad)
    message = str(info.value)
    # Keras: "Input 0 with name ... of layer ... is incompatible with the layer: expected axis -1
    # of input shape to have value 3, but received input with shape (10, 4)".
    for part in ("Input 0", "is incompatible with the layer", "(10, 4)"):
        assert part in keras_shape_message
        assert part in message, message
    assert re.search(r"expected .*3", message), message
    assert_unchanged(model, before)


def test_wrong_input_rank_names_expected_and_received_ndim():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(np.zeros((10,), "float32"), Y, verbose=0)
    message = str(info.value)
    assert "is incompatible with the layer" in message
    assert "ndim=2" in message or "min_ndim=2" in message, message
    assert "ndim=1" in message or "(10,)" in message, message
    assert_unchanged(model, before)


def test_wrong_target_shape_for_the_loss():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(X, np.zeros((10, 5), "float32"), verbose=0)
    assert "5" in str(info.value) and "2" in str(info.value)
    assert_unchanged(model, before)


# --- compile arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, bad, close",
    [
        ({"optimizer": "adamm", "loss": "mse"}, "adamm", "adam"),
        ({"optimizer": "sgd", "loss": "mean_sq_error"}, "mean_sq_error", "mean_squared_error"),
        ({"optimizer": "sgd", "loss": "mse", "metrics": ["acurracy"]}, "acurracy", "accuracy"),
        (
            {"optimizer": "sgd", "loss": "mse", "weighted_metrics": ["mean_abs_error"]},
            "mean_abs_error",
            "mean_absolute_error",
        ),
    ],
)
def test_unknown_names_at_compile_list_close_valid_names(kwargs, bad, close):
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.compile(**kwargs)
    message = str(info.value)
    assert bad in message and f"'{close}'" in message, message
    # The failed compile left the previous configuration in place: training still works as before.
    assert_unchanged(model, before)
    model.fit(X, Y, verbose=0)
    assert int(model.optimizer.iterations) == before["iterations"] + 1


def test_loss_dict_with_an_unknown_output_name():
    inp = keras.Input((3,))
    model = keras.Model(
        inp, [keras.layers.Dense(1, name="a")(inp), keras.layers.Dense(1, name="b")(inp)]
    )
    with pytest.raises(ValueError) as info:
        model.compile(optimizer="sgd", loss={"a": "mse", "c": "mse"})
        model.fit(X, [X[:, :1], X[:, :1]], verbose=0)
    message = str(info.value)
    assert "'c'" in message and "'a'" in message and "'b'" in message, message


def test_loss_list_of_the_wrong_length():
    inp = keras.Input((3,))
    model = keras.Model(
        inp, [keras.layers.Dense(1, name="a")(inp), keras.layers.Dense(1, name="b")(inp)]
    )
    with pytest.raises(ValueError) as info:
        model.compile(optimizer="sgd", loss=["mse", "mse", "mse"])
        model.fit(X, [X[:, :1], X[:, :1]], verbose=0)
    assert "3" in str(info.value) and "2" in str(info.value)


# --- validation_split -----------------------------------------------------------------------------


@pytest.mark.parametrize("split", [1.0, 1.5, -0.1])
def test_validation_split_outside_0_1(split):
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(X, Y, validation_split=split, verbose=0)
    message = str(info.value)
    assert "validation_split" in message and str(split) in message
    assert_unchanged(model, before)


def test_validation_split_too_small_to_leave_a_validation_sample():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(X[:1], Y[:1], validation_split=0.5, verbose=0)
    assert "validation_split=0.5" in str(info.value) and "1 sample" in str(info.value)
    assert_unchanged(model, before)


def test_validation_split_with_a_generator():
    # Guide: "you can only use validation_split when training with NumPy data".
    model = trained_model()
    before = snapshot(model)

    def gen():
        while True:
            yield X, Y

    with pytest.raises(ValueError) as info:
        model.fit(gen(), steps_per_epoch=1, validation_split=0.2, verbose=0)
    message = str(info.value)
    assert "validation_split" in message and "generator" in message
    assert_unchanged(model, before)


def test_validation_split_with_a_pydataset():
    model = trained_model()
    before = snapshot(model)

    class DS(keras.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return X, Y

    with pytest.raises(ValueError) as info:
        model.fit(DS(), validation_split=0.2, verbose=0)
    assert "validation_split" in str(info.value) and "DS" in str(info.value)
    assert_unchanged(model, before)


# --- empty and non-numeric data -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_empty_data(method):
    model = trained_model()
    before = snapshot(model)
    empty = np.zeros((0, 3), "float32")
    with pytest.raises(ValueError) as info:
        if method == "predict":
            model.predict(empty, verbose=0)
        else:
            getattr(model, method)(empty, np.zeros((0, 2), "float32"), verbose=0)
    assert "0" in str(info.value) and "empty" in str(info.value)
    assert_unchanged(model, before)


def test_empty_generator():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(iter([]), verbose=0)
    assert "empty" in str(info.value) or "no batch" in str(info.value)
    assert_unchanged(model, before)


@pytest.mark.parametrize("where", ["x", "y"])
def test_string_data(where):
    model = trained_model()
    before = snapshot(model)
    strings = np.array([["a", "b", "c"]] * 10)
    with pytest.raises(ValueError) as info:
        if where == "x":
            model.fit(strings, Y, verbose=0)
        else:
            model.fit(X, strings[:, :2], verbose=0)
    message = str(info.value)
    assert f"`{where}`" in message and "numeric" in message and "<U1" in message, message
    assert_unchanged(model, before)


def test_object_data():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(np.array([[1, "a", None]] * 10, dtype=object), Y, verbose=0)
    assert "`x`" in str(info.value) and "object" in str(info.value)
    assert_unchanged(model, before)


# --- calling things in the wrong order ------------------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_training_methods_before_compile(method):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"compile\(\)"):
        getattr(model, method)(X, Y, **({} if "batch" in method else {"verbose": 0}))
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def test_predict_does_not_need_compile():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert model.predict(X, verbose=0).shape == (10, 2)


def test_summary_before_build():
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError) as info:
        model.summary()
    assert "built" in str(info.value) and "build()" in str(info.value)


def test_count_params_before_build():
    layer = keras.layers.Dense(2)
    with pytest.raises(ValueError) as info:
        layer.count_params()
    assert layer.name in str(info.value) and "built" in str(info.value)


def test_set_weights_with_wrong_shapes_changes_nothing():
    model = trained_model()
    before = snapshot(model)
    wrong = [np.ones((3, 2)), np.ones((3,))]
    with pytest.raises(ValueError) as info:
        model.set_weights(wrong)
    assert "(2,)" in str(info.value) and "(3,)" in str(info.value)
    assert_unchanged(model, before)


def test_class_weight_for_a_multi_output_model():
    inp = keras.Input((3,))
    model = keras.Model(
        inp, [keras.layers.Dense(2, name="a")(inp), keras.layers.Dense(2, name="b")(inp)]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    y = np.zeros(10, "int32")
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(X, [y, y], class_weight={0: 1.0}, verbose=0)


def test_invalid_validation_freq():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(X, Y, validation_split=0.5, validation_freq="2", verbose=0)
    assert "validation_freq" in str(info.value) and "2" in str(info.value)
    # Nothing may have been trained before the argument was rejected.
    assert_unchanged(model, before)


def test_malformed_validation_data():
    model = trained_model()
    before = snapshot(model)
    with pytest.raises(ValueError) as info:
        model.fit(X, Y, validation_data=(X, Y, Y, Y), verbose=0)
    assert "validation_data" in str(info.value) or "(x, y, sample_weight)" in str(info.value)
    assert_unchanged(model, before)
