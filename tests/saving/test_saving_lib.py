"""The ``.keras`` archive and ``.weights.h5`` files, within refkeras: layout, round trips, exact
resumption of training, ``by_name``/``skip_mismatch``, errors that change nothing, atomic writes,
corrupt files.  (Interchange with real Keras: ``tests/parity/test_saving_parity.py``.)"""

import io
import json
import os
import sys
import types
import warnings
import zipfile

import h5py
import numpy as np
import pytest

import refkeras as keras
from refkeras import layers
from refkeras.saving import saving_api, saving_lib
from refkeras.saving.atomic import temporary_prefix

RNG = np.random.default_rng(0)
X = RNG.random((16, 5), dtype=np.float32)
Y = RNG.random((16, 1), dtype=np.float32)


def _sequential(compiled=True, fitted=True, seed=1):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            layers.Dense(4, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.2),
            layers.Dense(1),
        ]
    )
    if compiled:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    if fitted:
        model.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    return model


def _h5_entries(data: bytes) -> dict:
    """``{path: dataset shape or group attributes}`` of an HDF5 file's bytes."""
    out = {}

    def visit(name, obj):
        out[name] = obj.shape if isinstance(obj, h5py.Dataset) else dict(obj.attrs)

    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(visit)
    return out


def _assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)


def _temporaries(path):
    prefix = temporary_prefix(str(path))
    return [n for n in os.listdir(os.path.dirname(path)) if n.startswith(prefix)]


# --- layout ---------------------------------------------------------------------------------------


def test_archive_members_metadata_and_config(tmp_path):
    model = _sequential()
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        meta = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
        entries = _h5_entries(zf.read("model.weights.h5"))
    assert meta["keras_version"] == keras.__version__
    assert meta["refkeras_version"] == keras.__version__
    assert len(meta["date_saved"]) == len("2024-01-01@00:00:00")
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    assert config["build_config"] == {"input_shape": [None, 5]}
    compile_config = config["compile_config"]
    assert compile_config["optimizer"]["class_name"] == "Adam"
    assert compile_config["loss"] == "mse" and compile_config["metrics"] == ["mae"]
    assert compile_config["jit_compile"] is True
    # Keras's object-tree layout: container members named by class, `name` attributes.
    assert entries["vars"] == {"name": model.name}
    assert entries["layers/dense/vars"] == {"name": model.layers[0].name}
    assert entries["layers/dense/vars/0"] == (5, 4)
    assert entries["layers/dense_1/vars/1"] == (1,)
    assert [entries[f"layers/batch_normalization/vars/{i}"] for i in range(4)] == [(4,)] * 4
    assert entries["layers/dropout/vars"] == {"name": model.layers[2].name}
    assert "layers/dropout/vars/0" not in entries
    assert "layers/input_layer/vars" not in entries  # Sequential.layers has no InputLayer
    # Adam: iteration, learning_rate, then (momentum, velocity) per trainable weight.
    n_opt = 2 + 2 * len(model.trainable_weights)
    assert sorted(k for k in entries if k.startswith("optimizer/vars/")) == sorted(
        f"optimizer/vars/{i}" for i in range(n_opt)
    )
    assert entries["optimizer/vars/2"] == (5, 4)


def test_functional_layout_names_containers_by_class_and_includes_input_layers(tmp_path):
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    out = layers.Dense(2, name="head")(layers.Concatenate()([layers.Dense(4)(a), b]))
    model = keras.Model([a, b], out)
    data = saving_lib.archive_members(model)["model.weights.h5"]
    entries = _h5_entries(data)
    assert entries["layers/input_layer/vars"] == {"name": "a"}
    assert entries["layers/input_layer_1/vars"] == {"name": "b"}
    assert entries["layers/dense_1/vars"] == {"name": "head"}
    assert entries["layers/dense_1/vars/0"] == (7, 2)
    assert entries["layers/concatenate/vars"] == {"name": model.layers[3].name}


def test_rnn_cells_are_nested_under_cell(tmp_path):
    inputs = keras.Input((4, 3))
    model = keras.Model(inputs, layers.GRU(2)(layers.LSTM(3, return_sequences=True)(inputs)))
    entries = _h5_entries(saving_lib.archive_members(model)["model.weights.h5"])
    assert entries["layers/lstm/cell/vars/0"] == (3, 12)
    assert entries["layers/lstm/cell/vars/1"] == (3, 12)
    assert entries["layers/lstm/cell/vars/2"] == (12,)
    assert entries["layers/gru/cell/vars/2"] == (2, 6)
    assert "layers/lstm/vars" in entries and "layers/lstm/vars/0" not in entries


# --- round trips ----------------------------------------------------------------------------------


def test_sequential_round_trip_with_compile_and_optimizer_state(tmp_path):
    model = _sequential()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    _assert_same_weights(model, loaded)
    np.testing.assert_array_equal(model.predict(X, verbose=0), loaded.predict(X, verbose=0))
    assert loaded.compiled and type(loaded.optimizer).__name__ == "Adam"
    for u, v in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    assert loaded.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)
    not_compiled = keras.saving.load_model(path, compile=False)
    assert not not_compiled.compiled
    _assert_same_weights(model, not_compiled)


def test_batch_normalization_moving_statistics_survive(tmp_path):
    model = _sequential()
    bn = model.layers[1]
    assert not np.allclose(bn.moving_mean.numpy(), 0.0)  # fit changed them
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.layers[1].moving_mean.numpy(), bn.moving_mean.numpy())
    np.testing.assert_array_equal(
        loaded.layers[1].moving_variance.numpy(), bn.moving_variance.numpy()
    )


def test_functional_multi_input_multi_output_round_trip(tmp_path):
    keras.utils.set_random_seed(3)
    a = keras.Input((5,), name="a")
    b = keras.Input((2,), name="b")
    h = layers.Dense(4, activation="tanh")(layers.Concatenate()([a, b]))
    model = keras.Model(
        {"a": a, "b": b}, [layers.Dense(1, name="y1")(h), layers.Dense(3, name="y2")(h)]
    )
    model.compile("sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    data = {"a": X, "b": X[:, :2]}
    model.fit(data, [Y, np.tile(Y, 3)], epochs=1, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "f.keras")
    loaded = keras.saving.load_model(tmp_path / "f.keras")
    for u, v in zip(model.predict(data, verbose=0), loaded.predict(data, verbose=0)):
        np.testing.assert_array_equal(u, v)
    config = json.loads(zipfile.ZipFile(tmp_path / "f.keras").read("config.json"))
    assert config["build_config"] == {"input_shape": None}
    assert config["compile_config"]["loss_weights"] == [1.0, 0.5]
    assert loaded.evaluate(data, [Y, np.tile(Y, 3)], verbose=0) == model.evaluate(
        data, [Y, np.tile(Y, 3)], verbose=0
    )


@keras.saving.register_keras_serializable(package="test_saving_lib")
class Blocks(keras.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.encoder = layers.Dense(units, activation="relu")
        self.blocks = [layers.Dense(2), layers.Dense(2)]

    def call(self, x):
        x = self.encoder(x)
        for block in self.blocks:
            x = block(x)
        return x

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_registered_model_round_trip(tmp_path):
    keras.utils.set_random_seed(4)
    model = Blocks(units=5)
    model.compile("adam", "mse")
    model.fit(X, np.tile(Y, 2), epochs=1, batch_size=8, shuffle=False, verbose=0)
    path = tmp_path / "s.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
        entries = _h5_entries(zf.read("model.weights.h5"))
    assert config["registered_name"] == "test_saving_lib>Blocks"
    assert config["config"]["units"] == 5
    assert config["build_config"]["input_shape"][1:] == [5]
    # Attribute paths as Keras's dir() walk finds them; containers by class name.
    assert entries["encoder/vars/0"] == (5, 5)
    assert entries["blocks/dense/vars/0"] == (5, 2)
    assert entries["blocks/dense_1/vars/0"] == (2, 2)
    assert "optimizer/vars/7" in entries
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, Blocks) and loaded.units == 5
    _assert_same_weights(model, loaded)
    np.testing.assert_array_equal(model.predict(X, verbose=0), loaded.predict(X, verbose=0))
    for u, v in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(u.numpy(), v.numpy())


class Scale(layers.Layer):
    """An unregistered custom layer: loading needs ``custom_objects``."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.offset = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="offset")

    def call(self, x):
        return x * self.factor + self.offset

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_unregistered_custom_layer_needs_custom_objects(tmp_path):
    inputs = keras.Input((5,))
    model = keras.Model(inputs, Scale(3.0)(inputs))
    model.layers[1].offset.assign(np.arange(5, dtype=np.float32))
    model.save(tmp_path / "c.keras")
    with pytest.raises(TypeError, match="Could not locate class 'Scale'"):
        keras.saving.load_model(tmp_path / "c.keras")
    loaded = keras.saving.load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(model.predict(X, verbose=0), loaded.predict(X, verbose=0))
    with keras.saving.custom_object_scope({"Scale": Scale}):
        loaded = keras.saving.load_model(tmp_path / "c.keras")
    assert loaded.layers[1].factor == 3.0


def test_stateful_rnn_round_trip(tmp_path):
    keras.utils.set_random_seed(5)
    inputs = keras.Input((4, 3), batch_size=2)
    model = keras.Model(inputs, layers.LSTM(3, stateful=True)(inputs))
    seq = RNG.random((2, 4, 3), dtype=np.float32)
    first = model.predict(seq, verbose=0)
    assert not np.allclose(model.predict(seq, verbose=0), first)  # the state carries over
    model.save(tmp_path / "rnn.keras")
    loaded = keras.saving.load_model(tmp_path / "rnn.keras")
    assert loaded.layers[1].stateful
    _assert_same_weights(model, loaded)
    # As in Keras, the carried state is not part of the file: a loaded model starts from zeros.
    np.testing.assert_array_equal(loaded.predict(seq, verbose=0), first)


def test_nested_model_round_trip(tmp_path):
    keras.utils.set_random_seed(6)
    inner = keras.Sequential([keras.Input((5,)), layers.Dense(3)], name="inner")
    inputs = keras.Input((5,))
    model = keras.Model(inputs, layers.Dense(1)(inner(inputs)))
    entries = _h5_entries(saving_lib.archive_members(model)["model.weights.h5"])
    assert entries["layers/sequential/layers/dense/vars/0"] == (5, 3)
    model.save(tmp_path / "n.keras")
    loaded = keras.saving.load_model(tmp_path / "n.keras")
    np.testing.assert_array_equal(model.predict(X, verbose=0), loaded.predict(X, verbose=0))


def test_unzipped_directory_round_trip(tmp_path):
    model = _sequential()
    target = tmp_path / "model_dir"
    model.save(target, zipped=False)
    assert sorted(os.listdir(target)) == ["config.json", "metadata.json", "model.weights.h5"]
    loaded = keras.saving.load_model(target)
    _assert_same_weights(model, loaded)


class _CountingLayer(layers.Layer):
    """Keeps a Python-side counter in the file through Keras's save/load_own_variables hooks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        return x

    def save_own_variables(self, store):
        store["calls"] = np.array(self.calls)

    def load_own_variables(self, store):
        self.calls = int(store["calls"])


def test_custom_save_and_load_own_variables_hooks(tmp_path):
    inputs = keras.Input((2,))
    counting = _CountingLayer()
    model = keras.Model(inputs, counting(inputs))
    counting.calls = 7
    model.save_weights(tmp_path / "c.weights.h5")
    counting.calls = 0
    model.load_weights(tmp_path / "c.weights.h5")
    assert counting.calls == 7


# --- resuming training ----------------------------------------------------------------------------


def test_resuming_after_save_and_load_equals_uninterrupted_training(tmp_path):
    def fresh():
        keras.utils.set_random_seed(11)
        model = keras.Sequential(
            [keras.Input((5,)), layers.Dense(8, activation="relu"), layers.BatchNormalization(),
             layers.Dense(1)]
        )  # fmt: skip
        schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 3, 0.9)
        model.compile(keras.optimizers.Adam(schedule), "mse", metrics=["mae"])
        return model

    uninterrupted = fresh()
    history = uninterrupted.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    first = fresh()
    first.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    first.save(tmp_path / "epoch1.keras")
    resumed = keras.saving.load_model(tmp_path / "epoch1.keras")
    second = resumed.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    _assert_same_weights(uninterrupted, resumed)
    for u, v in zip(uninterrupted.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    assert second.history["loss"][0] == history.history["loss"][1]


# --- weights files --------------------------------------------------------------------------------


def test_save_weights_load_weights_round_trip(tmp_path):
    model = _sequential(seed=1)
    other = _sequential(seed=2)
    model.save_weights(tmp_path / "w.weights.h5")
    other.load_weights(tmp_path / "w.weights.h5")
    _assert_same_weights(model, other)
    for u, v in zip(model.optimizer.variables, other.optimizer.variables):
        np.testing.assert_array_equal(u.numpy(), v.numpy())
    # The weights of a .keras archive load the same way.
    model.save(tmp_path / "m.keras")
    third = _sequential(seed=3)
    third.load_weights(tmp_path / "m.keras")
    _assert_same_weights(model, third)


def test_load_weights_skips_objects_to_skip(tmp_path):
    model = _sequential(seed=1)
    other = _sequential(seed=2)
    before = other.layers[0].get_weights()
    model.save_weights(tmp_path / "w.weights.h5")
    other.load_weights(tmp_path / "w.weights.h5", objects_to_skip=[other.layers[0]])
    for u, v in zip(before, other.layers[0].get_weights()):
        np.testing.assert_array_equal(u, v)
    _assert_same_weights(model.layers[1], other.layers[1])


def test_by_name_matches_layers_by_name_not_position(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    src = keras.Model(
        inputs,
        layers.Dense(2, name="second")(layers.Dense(3, name="first")(inputs)),
    )
    src.save_weights(tmp_path / "w.weights.h5")
    # Same names, other structure: an extra layer in between and different auto-named order.
    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    h = layers.Dense(3, name="first")(inputs)
    h = layers.Dense(3, name="extra")(h)
    dst = keras.Model(inputs, layers.Dense(2, name="second_other")(h))
    extra_before = dst.get_layer("extra").get_weights()
    with pytest.raises(ValueError, match="extra"):  # by position the shapes do not line up
        dst.load_weights(tmp_path / "w.weights.h5")
    dst.load_weights(tmp_path / "w.weights.h5", by_name=True)
    _assert_same_weights(src.get_layer("first"), dst.get_layer("first"))
    for u, v in zip(extra_before, dst.get_layer("extra").get_weights()):
        np.testing.assert_array_equal(u, v)  # no layer of that name in the file: untouched


def test_by_name_also_reads_keras_archives_and_rnn_cells(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((5, 3))
    src = keras.Model(inputs, layers.Dense(1, name="out")(layers.LSTM(2, name="rec")(inputs)))
    src.save(tmp_path / "m.keras")
    keras.utils.set_random_seed(1)
    inputs = keras.Input((5, 3))
    rec = layers.LSTM(2, name="rec")
    dst = keras.Model(inputs, rec(inputs))
    dst.load_weights(tmp_path / "m.keras", by_name=True)
    _assert_same_weights(src.get_layer("rec"), rec)


def test_skip_mismatch_skips_mismatched_layers_with_a_warning(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    src = keras.Model(inputs, layers.Dense(2, name="head")(layers.Dense(3, name="body")(inputs)))
    src.save_weights(tmp_path / "w.weights.h5")
    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    dst = keras.Model(inputs, layers.Dense(5, name="head")(layers.Dense(3, name="body")(inputs)))
    head_before = dst.get_layer("head").get_weights()
    with pytest.warns(UserWarning, match=r"head.*\(3, 5\).*\(3, 2\)"):
        dst.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    _assert_same_weights(src.get_layer("body"), dst.get_layer("body"))
    for u, v in zip(head_before, dst.get_layer("head").get_weights()):
        np.testing.assert_array_equal(u, v)
    # by_name and skip_mismatch together.
    dst2 = keras.Model(inputs, dst.get_layer("head").output)
    with pytest.warns(UserWarning, match="head"):
        dst2.load_weights(tmp_path / "w.weights.h5", by_name=True, skip_mismatch=True)


def test_shape_mismatch_raises_naming_layer_and_shapes_and_changes_nothing(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    src = keras.Model(inputs, layers.Dense(2, name="head")(layers.Dense(3, name="body")(inputs)))
    src.save_weights(tmp_path / "w.weights.h5")
    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    dst = keras.Model(inputs, layers.Dense(5, name="head")(layers.Dense(3, name="body")(inputs)))
    before = dst.get_weights()
    with pytest.raises(ValueError) as info:
        dst.load_weights(tmp_path / "w.weights.h5")
    message = str(info.value)
    assert "'head'" in message and "(3, 5)" in message and "(3, 2)" in message
    assert "no weight was changed" in message
    for u, v in zip(before, dst.get_weights()):  # "body" matched, yet was not assigned either
        np.testing.assert_array_equal(u, v)


def test_variable_count_mismatch_raises_and_changes_nothing(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    src = keras.Model(inputs, layers.Dense(2, use_bias=False, name="d")(inputs))
    src.save_weights(tmp_path / "w.weights.h5")
    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    dst = keras.Model(inputs, layers.Dense(2, name="d")(inputs))
    before = dst.get_weights()
    with pytest.raises(ValueError, match=r"'d' expected 2 variables.*received 1"):
        dst.load_weights(tmp_path / "w.weights.h5")
    for u, v in zip(before, dst.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_loading_into_an_unbuilt_model_or_saving_one_raises(tmp_path):
    built = _sequential(compiled=False, fitted=False)
    built.save_weights(tmp_path / "w.weights.h5")
    unbuilt = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.load_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="not yet been built"):
        unbuilt.save_weights(tmp_path / "u.weights.h5")


def test_optimizer_count_mismatch_warns_and_keeps_the_optimizer(tmp_path):
    model = _sequential(fitted=False)  # compiled, optimizer not built: 2 variables saved
    model.save(tmp_path / "m.keras")
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        loaded = keras.saving.load_model(tmp_path / "m.keras")  # builds the optimizer
    _assert_same_weights(model, loaded)


# --- atomic writes --------------------------------------------------------------------------------


def test_failure_while_writing_the_archive_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    old = _sequential(seed=1)
    old.save(path)
    old_bytes = path.read_bytes()
    written = []
    real_writestr = zipfile.ZipFile.writestr

    def failing_writestr(self, name, data, *args, **kwargs):
        if name == saving_lib.VARS_FILENAME:
            raise OSError("disk failure while writing the weights")
        written.append(name)
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="disk failure"):
        _sequential(seed=2).save(path)
    assert written == ["metadata.json", "config.json"]  # the failure came mid-archive
    assert path.read_bytes() == old_bytes
    assert _temporaries(path) == []
    monkeypatch.undo()
    _assert_same_weights(old, keras.saving.load_model(path))


def test_failure_while_writing_weights_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.weights.h5"
    model = _sequential(seed=1)
    model.save_weights(path)
    old_bytes = path.read_bytes()
    calls = []
    real_setitem = saving_lib.VarsGroup.__setitem__

    def failing_setitem(self, key, value):
        calls.append(key)
        if len(calls) == 3:
            raise RuntimeError("crash in the middle of the weights")
        real_setitem(self, key, value)

    monkeypatch.setattr(saving_lib.VarsGroup, "__setitem__", failing_setitem)
    with pytest.raises(RuntimeError, match="crash"):
        _sequential(seed=2).save_weights(path)
    assert path.read_bytes() == old_bytes
    assert _temporaries(path) == []


# --- bad files and paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a zip archive", b"PK\x03\x04 truncated zip header"],
    ids=["empty", "text", "truncated"],
)
def test_existing_corrupt_archive_says_corrupt_not_missing(tmp_path, content):
    path = tmp_path / "bad.keras"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"corrupt or not a `\.keras` archive") as info:
        keras.saving.load_model(path)
    assert "not found" not in str(info.value).lower()


def test_archive_without_config_or_weights_or_with_bad_json(tmp_path):
    good = saving_lib.archive_members(_sequential(fitted=False))
    cases = {
        "no_config": {k: v for k, v in good.items() if k != "config.json"},
        "no_weights": {k: v for k, v in good.items() if k != "model.weights.h5"},
        "bad_json": {**good, "config.json": b"{not json"},
        "bad_h5": {**good, "model.weights.h5": b"garbage"},
    }
    for name, members in cases.items():
        path = tmp_path / f"{name}.keras"
        with zipfile.ZipFile(path, "w") as zf:
            for member, data in members.items():
                zf.writestr(member, data)
        with pytest.raises(ValueError, match="corrupt"):
            keras.saving.load_model(path)


def test_npz_weights_are_refused_with_a_reason(tmp_path):
    members = saving_lib.archive_members(_sequential(fitted=False))
    with zipfile.ZipFile(tmp_path / "npz.keras", "w") as zf:
        zf.writestr("metadata.json", members["metadata.json"])
        zf.writestr("config.json", members["config.json"])
        zf.writestr("model.weights.npz", b"PK")
    with pytest.raises(ValueError, match="npz"):
        keras.saving.load_model(tmp_path / "npz.keras")


def test_truncated_archive_says_corrupt(tmp_path):
    _sequential().save(tmp_path / "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt"):
        keras.saving.load_model(tmp_path / "cut.keras")


def test_hdf5_file_named_keras_gets_a_hint(tmp_path):
    model = _sequential(fitted=False)
    model.save_weights(tmp_path / "w.weights.h5")
    os.replace(tmp_path / "w.weights.h5", tmp_path / "w.keras")
    with pytest.raises(ValueError, match="It is an HDF5 file"):
        keras.saving.load_model(tmp_path / "w.keras")


def test_corrupt_weights_file_says_corrupt(tmp_path):
    model = _sequential(fitted=False)
    (tmp_path / "bad.weights.h5").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="corrupt or not an HDF5 weights file"):
        model.load_weights(tmp_path / "bad.weights.h5")


def test_missing_files(tmp_path):
    with pytest.raises(ValueError, match="File not found"):
        keras.saving.load_model(tmp_path / "missing.keras")
    with pytest.raises(FileNotFoundError):
        _sequential(fitted=False).load_weights(tmp_path / "missing.weights.h5")


def test_file_name_checks(tmp_path):
    model = _sequential(fitted=False)
    with pytest.raises(ValueError, match=r"\.keras"):
        model.save(tmp_path / "m.h5")  # legacy HDF5 saving is not supported
    with pytest.raises(ValueError, match="Invalid filepath extension"):
        model.save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match="should not end in `.keras`"):
        model.save(tmp_path / "m.keras", zipped=False)
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "m.h5")
    with pytest.raises(NotImplementedError, match="Sharded"):
        model.save_weights(tmp_path / "m.weights.h5", max_shard_size=1)
    with pytest.raises(ValueError, match="not supported"):
        model.save(tmp_path / "m.keras", bogus=1)
    model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="holds only weights"):
        keras.saving.load_model(tmp_path / "m.weights.h5")
    with pytest.raises(ValueError, match="File format not supported"):
        keras.saving.load_model(tmp_path / "m.pb")


def test_overwrite_false_asks_first(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    _sequential(seed=1).save(path)
    old_bytes = path.read_bytes()
    monkeypatch.setattr(saving_api, "ask_to_proceed_with_overwrite", lambda p: False)
    _sequential(seed=2).save(path, overwrite=False)
    assert path.read_bytes() == old_bytes
    monkeypatch.setattr(saving_api, "ask_to_proceed_with_overwrite", lambda p: True)
    _sequential(seed=2).save(path, overwrite=False)
    assert path.read_bytes() != old_bytes


# --- safety and legacy hand-offs ------------------------------------------------------------------


def test_safety_checks_run_before_anything_is_read(tmp_path, monkeypatch):
    from refkeras.saving import safety

    model = _sequential(fitted=False)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    seen = []

    def reject_archive(zf):
        seen.append(("archive", sorted(zf.namelist())))
        raise ValueError("unsafe archive (test)")

    def reject_h5(f, *, file_size):
        seen.append(("h5", file_size))
        raise ValueError("unsafe h5 (test)")

    monkeypatch.setattr(safety, "validate_archive", reject_archive)
    monkeypatch.setattr(safety, "validate_h5", reject_h5)
    with pytest.raises(ValueError, match="unsafe archive"):
        keras.saving.load_model(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="unsafe h5"):
        model.load_weights(tmp_path / "m.weights.h5")
    assert seen[0][0] == "archive" and seen[1] == ("h5", os.path.getsize(tmp_path / "m.weights.h5"))
    monkeypatch.setattr(safety, "validate_archive", lambda zf: None)
    with pytest.raises(ValueError, match="unsafe h5"):
        keras.saving.load_model(tmp_path / "m.keras")  # the archive's weights member too


def test_legacy_h5_files_go_to_legacy_h5(tmp_path, monkeypatch):
    import refkeras.saving

    calls = []
    fake = types.ModuleType("refkeras.saving.legacy_h5")
    fake.load_model = lambda filepath, custom_objects=None, compile=True, safe_mode=True: (
        calls.append(("load_model", filepath, compile, safe_mode)) or "model"
    )
    fake.load_weights = lambda model, filepath, by_name=False, skip_mismatch=False: calls.append(
        ("load_weights", filepath, by_name, skip_mismatch)
    )
    monkeypatch.setitem(sys.modules, "refkeras.saving.legacy_h5", fake)
    monkeypatch.setattr(refkeras.saving, "legacy_h5", fake, raising=False)
    assert keras.saving.load_model("old.h5", compile=False, safe_mode=False) == "model"
    _sequential(fitted=False).load_weights("old.hdf5", by_name=True, skip_mismatch=True)
    assert calls == [
        ("load_model", "old.h5", False, False),
        ("load_weights", "old.hdf5", True, True),
    ]


# --- Lambda layers and safe mode ------------------------------------------------------------------


def test_lambda_needs_safe_mode_false(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Lambda(lambda x: x * 2 + 1)(layers.Dense(3)(inputs)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "l.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(tmp_path / "l.keras")
    loaded = keras.saving.load_model(tmp_path / "l.keras", safe_mode=False)
    np.testing.assert_array_equal(
        model.predict(X[:, :3], verbose=0), loaded.predict(X[:, :3], verbose=0)
    )


def test_lambda_is_refused_in_safe_mode(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Lambda(lambda x: x * 2)(inputs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "l.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(tmp_path / "l.keras")
