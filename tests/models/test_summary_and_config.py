"""``model.summary()`` (layer names, types, parameter counts and totals equal to real Keras's for
the same architecture) and configuration-only saving (FAQ "What are my options for saving models?",
part 3): ``to_json``/``model_from_json`` round trips, JSON exchanged with real Keras, and custom
objects."""

import json
import os
import re

import numpy as np
import pytest

import refkeras as keras

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def real_keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    return pytest.importorskip("keras")


def summary_text(model, **kwargs):
    chunks = []
    model.summary(print_fn=lambda text, *args, **kw: chunks.append(str(text)), **kwargs)
    return ANSI.sub("", "\n".join(chunks))


def parse_summary(text):
    """``({layer name: param count}, {"Total": n, "Trainable": n, ...})`` from a summary table
    (3 columns, or 4 with Keras's "Connected to"; a long "name (Type)" may wrap onto the next
    line)."""
    rows = {}
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        name = cells[0].split(" ")[0]
        if name and not name.startswith("(") and len(cells) >= 3:
            rows[name] = int(re.sub(r"\D", "", cells[2].split("(")[0]) or 0)
    totals = {
        label: int(count.replace(",", ""))
        for label, count in re.findall(
            r"(Total|Trainable|Non-trainable|Optimizer) params: ([\d,]+)", text
        )
    }
    return rows, totals


def sequential_cnn(m):
    return m.Sequential(
        [
            m.Input((8, 8, 3)),
            m.layers.Conv2D(4, 3, name="conv"),
            m.layers.BatchNormalization(name="bn"),
            m.layers.MaxPooling2D(name="pool"),
            m.layers.Flatten(name="flat"),
            m.layers.Dropout(0.2, name="drop"),
            m.layers.Dense(5, name="head"),
        ],
        name="cnn",
    )


def functional_two_io(m):
    a = m.Input((4,), name="a")
    b = m.Input((6,), name="b")
    shared = m.layers.Dense(3, name="shared")
    merged = m.layers.concatenate([shared(a), m.layers.Dense(3, name="side")(b)], name="merge")
    out_1 = m.layers.Dense(1, name="out_1")(merged)
    out_2 = m.layers.Dense(2, use_bias=False, name="out_2")(
        m.layers.LayerNormalization(name="ln")(merged)
    )
    return m.Model([a, b], [out_1, out_2], name="two_io")


ARCHITECTURES = {"sequential_cnn": sequential_cnn, "functional_two_io": functional_two_io}


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_summary_counts_equal_keras(name, real_keras):
    k_rows, k_totals = parse_summary(summary_text(ARCHITECTURES[name](real_keras)))
    r_rows, r_totals = parse_summary(summary_text(ARCHITECTURES[name](keras)))
    assert k_rows, "could not parse the Keras summary"
    assert r_rows == k_rows
    assert r_totals == k_totals


def test_summary_counts_with_frozen_layers_equal_keras(real_keras):
    k_model, r_model = sequential_cnn(real_keras), sequential_cnn(keras)
    for model in (k_model, r_model):
        model.get_layer("conv").trainable = False
    k_rows, k_totals = parse_summary(summary_text(k_model))
    r_rows, r_totals = parse_summary(summary_text(r_model))
    assert r_rows == k_rows
    assert r_totals == k_totals
    assert r_totals["Non-trainable"] == 4 * 3 * 3 * 3 + 4 + 2 * 4  # conv + BN moving stats


def test_summary_with_a_built_optimizer_equals_keras(real_keras):
    models = []
    for m in (real_keras, keras):
        model = sequential_cnn(m)
        model.compile(optimizer=m.optimizers.Adam(), loss="mse")
        model.optimizer.build(model.trainable_variables)
        models.append(model)
    k_rows, k_totals = parse_summary(summary_text(models[0]))
    r_rows, r_totals = parse_summary(summary_text(models[1]))
    assert r_rows == k_rows
    assert r_totals == k_totals


def test_summary_lists_layers_in_order_with_shapes():
    model = sequential_cnn(keras)
    text = summary_text(model)
    names = ["conv", "bn", "pool", "flat", "drop", "head"]
    positions = [text.index(f"{n} (") for n in names]
    assert positions == sorted(positions)
    assert 'Model: "cnn"' in text
    assert "(None, 6, 6, 4)" in text and "(None, 5)" in text
    rows, _ = parse_summary(text)
    assert "conv (Conv2D)" in text and "head (Dense)" in text
    assert rows["conv"] == 4 * 3 * 3 * 3 + 4
    assert rows["head"] == 36 * 5 + 5


def test_summary_prints_to_stdout_by_default(capsys):
    sequential_cnn(keras).summary()
    out = capsys.readouterr().out
    assert "conv (Conv2D)" in out and "Total params:" in out


# --- to_json / model_from_json --------------------------------------------------------------------


def _inputs_for(model, n=3, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(n, *t.shape[1:])).astype("float32") for t in model.inputs]
    return arrays if len(arrays) > 1 else arrays[0]


def _predict(model, x):
    out = model.predict(x, verbose=0)
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_json_round_trip(name):
    model = ARCHITECTURES[name](keras)
    json_string = model.to_json()
    json.loads(json_string)  # valid JSON
    clone = keras.models.model_from_json(json_string)
    assert type(clone) is type(model)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    clone.set_weights(model.get_weights())
    x = _inputs_for(model)
    for a, b in zip(_predict(clone, x), _predict(model, x)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert clone.to_json() == json_string


def test_json_round_trip_of_a_sequential_without_input_after_fit():
    model = keras.Sequential([keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 5), "float32")
    model.fit(x, np.ones((4, 1), "float32"), verbose=0)
    clone = keras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_keras_json_loads_in_refkeras(name, real_keras):
    k_model = ARCHITECTURES[name](real_keras)
    r_model = keras.models.model_from_json(k_model.to_json())
    assert [layer.name for layer in r_model.layers] == [layer.name for layer in k_model.layers]
    r_model.set_weights([np.asarray(w) for w in k_model.get_weights()])
    x = _inputs_for(r_model)
    k_out = k_model(x)
    k_out = [np.asarray(o) for o in (k_out if isinstance(k_out, list | tuple) else [k_out])]
    for a, b in zip(_predict(r_model, x), k_out):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_refkeras_json_loads_in_keras(name, real_keras):
    r_model = ARCHITECTURES[name](keras)
    k_model = real_keras.models.model_from_json(r_model.to_json())
    assert [layer.name for layer in k_model.layers] == [layer.name for layer in r_model.layers]
    assert [tuple(w.shape) for w in k_model.get_weights()] == [
        w.shape for w in r_model.get_weights()
    ]


@keras.saving.register_keras_serializable(package="tests")
class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class AttentionLayer(keras.layers.Layer):
    """Not registered: must be passed as a custom object (FAQ part 4)."""

    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")

    def call(self, x):
        return keras.ops.softmax(x @ self.w)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def custom_model():
    inputs = keras.Input((3,))
    x = Scale(3.0, name="scale")(inputs)
    return keras.Model(inputs, AttentionLayer(4, name="attention")(x))


def test_custom_objects_in_model_from_json():
    model = custom_model()
    json_string = model.to_json()
    with pytest.raises((ValueError, TypeError), match="AttentionLayer"):
        keras.models.model_from_json(json_string)
    clone = keras.models.model_from_json(
        json_string, custom_objects={"AttentionLayer": AttentionLayer}
    )
    assert clone.get_layer("scale").factor == 3.0
    assert clone.get_layer("attention").units == 4
    clone.set_weights(model.get_weights())
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_custom_object_scope():
    json_string = custom_model().to_json()
    with keras.utils.CustomObjectScope({"AttentionLayer": AttentionLayer}):
        clone = keras.models.model_from_json(json_string)
    assert isinstance(clone.get_layer("attention"), AttentionLayer)
