"""Functional models as the training guide uses them: the multi-input, multi-output model with
per-output losses, metrics and loss weights (lists and dicts), ``None`` losses, Keras 3's log names
(``<output>_loss``, ``<output>_<metric>``), shared layers, nested models, ``get_layer`` and
intermediate outputs.

Log names are Keras 3's (checked against Keras 3.15); values are computed from first principles
on ``predict``'s outputs.
"""

import numpy as np
import pytest

import refkeras as keras
from refkeras import layers

N = 10


def guide_model():
    """The guide's model, at a tiny size: an image input and a time-series input; a score output
    and a 5-class output."""
    image_input = keras.Input(shape=(6, 6, 2), name="img_input")
    timeseries_input = keras.Input(shape=(None, 3), name="ts_input")
    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)
    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output", activation="softmax")(x)
    return keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])


def guide_data(seed=0):
    rng = np.random.default_rng(seed)
    img = rng.random((N, 6, 6, 2)).astype("float32")
    ts = rng.random((N, 5, 3)).astype("float32")
    score = rng.random((N, 1)).astype("float32")
    klass = np.eye(5, dtype="float32")[rng.integers(0, 5, N)]
    return img, ts, score, klass


def first_principles(model, img, ts, score, klass):
    p_score, p_class = model.predict([img, ts], verbose=0)
    mse = np.mean((p_score - score) ** 2)
    cce = np.mean(-np.sum(klass * np.log(np.clip(p_class, 1e-7, 1 - 1e-7)), axis=-1))
    mae = np.mean(np.abs(p_score - score))
    mape = 100 * np.mean(np.abs((score - p_score) / np.maximum(np.abs(score), 1e-7)))
    acc = np.mean(p_class.argmax(-1) == klass.argmax(-1))
    return {"mse": mse, "cce": cce, "mae": mae, "mape": mape, "acc": acc}


MSE = keras.losses.MeanSquaredError
CCE = keras.losses.CategoricalCrossentropy


# --- losses, loss weights and metrics per output --------------------------------------------------


def test_list_losses_and_log_names():
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss=[MSE(), CCE()])
    logs = model.evaluate([img, ts], [score, klass], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "score_output_loss", "class_output_loss"}
    ref = first_principles(model, img, ts, score, klass)
    np.testing.assert_allclose(logs["score_output_loss"], ref["mse"], rtol=1e-5)
    np.testing.assert_allclose(logs["class_output_loss"], ref["cce"], rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], ref["mse"] + ref["cce"], rtol=1e-5)
    history = model.fit([img, ts], [score, klass], batch_size=4, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "score_output_loss", "class_output_loss"}


def test_dict_losses_metrics_and_loss_weights():
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"score_output": MSE(), "class_output": CCE()},
        metrics={
            "score_output": [
                keras.metrics.MeanAbsolutePercentageError(),
                keras.metrics.MeanAbsoluteError(),
            ],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    logs = model.evaluate(
        {"img_input": img, "ts_input": ts},
        {"score_output": score, "class_output": klass},
        verbose=0,
        return_dict=True,
    )
    ref = first_principles(model, img, ts, score, klass)
    expected = {
        "loss": 2.0 * ref["mse"] + ref["cce"],
        "score_output_loss": ref["mse"],  # unweighted
        "class_output_loss": ref["cce"],
        "score_output_mean_absolute_percentage_error": ref["mape"],
        "score_output_mean_absolute_error": ref["mae"],
        "class_output_categorical_accuracy": ref["acc"],
    }
    assert set(logs) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(logs[key], value, rtol=1e-4, err_msg=key)


def test_list_of_lists_metrics_and_list_loss_weights():
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(
        optimizer="rmsprop",
        loss=[MSE(), CCE()],
        metrics=[
            [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            [keras.metrics.CategoricalAccuracy()],
        ],
        loss_weights=[0.5, 3.0],
    )
    logs = model.evaluate([img, ts], [score, klass], verbose=0, return_dict=True)
    ref = first_principles(model, img, ts, score, klass)
    assert set(logs) == {
        "loss",
        "score_output_loss",
        "class_output_loss",
        "score_output_mean_absolute_percentage_error",
        "score_output_mean_absolute_error",
        "class_output_categorical_accuracy",
    }
    np.testing.assert_allclose(logs["loss"], 0.5 * ref["mse"] + 3.0 * ref["cce"], rtol=1e-5)
    np.testing.assert_allclose(logs["class_output_categorical_accuracy"], ref["acc"])


def test_string_metrics_in_a_dict_are_named_after_the_string():
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(
        optimizer="rmsprop",
        loss=["mse", "categorical_crossentropy"],
        metrics={"score_output": "mae", "class_output": ["accuracy"]},
    )
    logs = model.evaluate([img, ts], [score, klass], verbose=0, return_dict=True)
    ref = first_principles(model, img, ts, score, klass)
    assert set(logs) == {
        "loss",
        "score_output_loss",
        "class_output_loss",
        "score_output_mae",
        "class_output_accuracy",
    }
    np.testing.assert_allclose(logs["score_output_mae"], ref["mae"], rtol=1e-5)
    # "accuracy" on one-hot targets is categorical accuracy.
    np.testing.assert_allclose(logs["class_output_accuracy"], ref["acc"])


def test_evaluate_list_order_is_keras_order():
    # Keras 3 orders the list as: loss, the per-output losses, then the compiled metrics' values
    # by sorted name.
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(
        optimizer="rmsprop",
        loss=[MSE(), CCE()],
        metrics=[
            [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            [keras.metrics.CategoricalAccuracy()],
        ],
    )
    result = model.evaluate([img, ts], [score, klass], verbose=0)
    logs = model.evaluate([img, ts], [score, klass], verbose=0, return_dict=True)
    order = ["loss", "score_output_loss", "class_output_loss"] + sorted(
        k for k in logs if k not in ("loss", "score_output_loss", "class_output_loss")
    )
    assert result == [logs[k] for k in order]


@pytest.mark.parametrize("form", ["list", "dict"])
def test_none_loss_for_an_output(form):
    # Guide: "You could also choose not to compute a loss for certain outputs".
    img, ts, score, klass = guide_data()
    model = guide_model()
    loss = [None, CCE()] if form == "list" else {"class_output": CCE()}
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=loss)
    logs = model.evaluate([img, ts], [score, klass], verbose=0, return_dict=True)
    ref = first_principles(model, img, ts, score, klass)
    assert set(logs) == {"loss"}
    np.testing.assert_allclose(logs["loss"], ref["cce"], rtol=1e-5)
    before = model.get_layer("score_output").get_weights()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss)
    model.fit([img, ts], [score, klass], batch_size=5, verbose=0)
    # No gradient reaches the score head.
    for a, b in zip(model.get_layer("score_output").get_weights(), before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("form", ["list", "dict"])
def test_targets_only_for_the_outputs_with_a_loss(form):
    # Guide: "you can pass lists of NumPy arrays (with 1:1 mapping to the outputs that received a
    # loss function) or dicts mapping output names to NumPy arrays".
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=[None, CCE()])
    ref = first_principles(model, img, ts, score, klass)
    targets = [klass] if form == "list" else {"class_output": klass}
    np.testing.assert_allclose(model.evaluate([img, ts], targets, verbose=0), ref["cce"], rtol=1e-5)
    history = model.fit([img, ts], targets, batch_size=N, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [ref["cce"]], rtol=1e-5)


def test_single_loss_applies_to_every_output():
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(optimizer="sgd", loss="mse")
    logs = model.evaluate([img, ts], [score, klass], verbose=0, return_dict=True)
    p_score, p_class = model.predict([img, ts], verbose=0)
    mse_1, mse_2 = np.mean((p_score - score) ** 2), np.mean((p_class - klass) ** 2)
    np.testing.assert_allclose(logs["score_output_loss"], mse_1, rtol=1e-5)
    np.testing.assert_allclose(logs["class_output_loss"], mse_2, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], mse_1 + mse_2, rtol=1e-5)


def test_per_output_sample_weights():
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"])
    sw_score = np.linspace(0, 2, N).astype("float32")
    sw_class = np.ones(N, "float32")
    logs = model.evaluate(
        [img, ts], [score, klass], sample_weight=[sw_score, sw_class], batch_size=N,
        verbose=0, return_dict=True,
    )  # fmt: skip
    p_score, _ = model.predict([img, ts], verbose=0)
    weighted = np.sum(sw_score * np.mean((p_score - score) ** 2, axis=-1)) / N
    np.testing.assert_allclose(logs["score_output_loss"], weighted, rtol=1e-5)


def test_multi_output_fit_trains_both_heads():
    img, ts, score, klass = guide_data()
    model = guide_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-2),
        loss=[MSE(), CCE()],
        metrics=[[keras.metrics.MeanAbsoluteError()], [keras.metrics.CategoricalAccuracy()]],
    )
    history = model.fit(
        {"img_input": img, "ts_input": ts},
        {"score_output": score, "class_output": klass},
        batch_size=4,
        epochs=3,
        validation_split=0.2,
        verbose=0,
    )
    assert set(history.history) == {
        "loss",
        "score_output_loss",
        "class_output_loss",
        "score_output_mean_absolute_error",
        "class_output_categorical_accuracy",
        "val_loss",
        "val_score_output_loss",
        "val_class_output_loss",
        "val_score_output_mean_absolute_error",
        "val_class_output_categorical_accuracy",
    }
    assert history.history["loss"][-1] < history.history["loss"][0]


# --- graph structure ------------------------------------------------------------------------------


def test_layers_get_layer_input_output():
    inputs = keras.Input(shape=(7,), name="digits")
    x = layers.Dense(4, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(4, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(3, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    assert [layer.name for layer in model.layers] == ["digits", "dense_1", "dense_2", "predictions"]
    dense_2 = model.get_layer("dense_2")
    assert dense_2.input is model.get_layer("dense_1").output
    assert model.get_layer("predictions").output is model.output
    assert model.input is inputs and model.inputs == [inputs]
    assert model.output_names == ["predictions"]
    # FAQ: a model returning the output of a named layer.
    intermediate = keras.Model(inputs=model.input, outputs=dense_2.output)
    data = np.random.default_rng(0).normal(size=(3, 7)).astype("float32")
    k1, b1 = model.get_layer("dense_1").get_weights()
    k2, b2 = dense_2.get_weights()
    expected = np.maximum(np.maximum(data @ k1 + b1, 0) @ k2 + b2, 0)
    np.testing.assert_allclose(np.asarray(intermediate(data)), expected, rtol=1e-5, atol=1e-6)


def test_shared_layer():
    shared = layers.Dense(2, name="shared")
    a = keras.Input((3,), name="a")
    b = keras.Input((3,), name="b")
    out = layers.add([shared(a), shared(b)])
    model = keras.Model([a, b], out)
    assert [layer.name for layer in model.layers].count("shared") == 1
    assert len(model.weights) == 2
    xa = np.ones((4, 3), "float32")
    xb = np.full((4, 3), 2.0, "float32")
    kernel, bias = shared.get_weights()
    np.testing.assert_allclose(
        np.asarray(model([xa, xb])), xa @ kernel + xb @ kernel + 2 * bias, rtol=1e-5
    )
    # Gradients from both uses add up: one SGD step on loss = sum(out) moves the bias by
    # -lr * 2 * (d mean / d out) summed over the batch.
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mae")
    target = np.full((4, 2), -1000.0, "float32")  # d|out - target|/d out = +1 everywhere
    model.fit([xa, xb], target, batch_size=4, verbose=0)
    # mae = mean over the 2 units, then over the batch: d loss / d out = 1 / (4 * 2) per element,
    # and the bias appears twice in each output.
    np.testing.assert_allclose(shared.get_weights()[1], bias - 0.1 * 2 * 4 / 8, rtol=1e-5)


def test_nested_functional_model_as_a_layer():
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    outer_in = keras.Input((3,))
    outer = keras.Model(outer_in, layers.Dense(1)(inner(outer_in)))
    assert inner in outer.layers
    assert len(outer.weights) == 4
    outer.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = inner.get_weights()
    outer.fit(np.ones((4, 3), "float32"), np.zeros((4, 1), "float32"), verbose=0)
    assert not np.allclose(inner.get_weights()[0], before[0])


def test_dict_inputs_and_outputs():
    a = keras.Input((2,), name="a")
    b = keras.Input((1,), name="b")
    h = layers.concatenate([a, b])
    model = keras.Model(
        inputs={"a": a, "b": b},
        outputs={"y1": layers.Dense(1, name="d1")(h), "y2": layers.Dense(2, name="d2")(h)},
    )
    x = {"a": np.ones((3, 2), "float32"), "b": np.zeros((3, 1), "float32")}
    out = model(x)
    assert set(out) == {"y1", "y2"}
    pred = model.predict(x, verbose=0)
    assert set(pred) == {"y1", "y2"} and pred["y2"].shape == (3, 2)
    model.compile(optimizer="sgd", loss={"y1": "mse", "y2": "mse"})
    logs = model.evaluate(
        x, {"y1": np.zeros((3, 1)), "y2": np.zeros((3, 2))}, verbose=0, return_dict=True
    )
    assert set(logs) == {"loss", "y1_loss", "y2_loss"}


def test_graph_disconnected_is_reported():
    a = keras.Input((2,), name="a")
    b = keras.Input((2,), name="b")
    out = layers.Dense(1)(layers.concatenate([a, b]))
    with pytest.raises(ValueError, match="disconnected|not connected"):
        keras.Model(a, out)
