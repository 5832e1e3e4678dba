"""Legacy HDF5 files: models saved by Keras 3's ``model.save("x.h5")``, weights written by its
legacy ``save_weights_to_hdf5_group``, and hand-written Keras 2 files, loaded by refkeras and
compared with the Keras model they came from."""

import json
import os
import warnings

os.environ["KERAS_BACKEND"] = "jax"

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

import refkeras  # noqa: E402
from refkeras.saving import legacy_h5  # noqa: E402

RTOL, ATOL = 1e-6, 1e-6


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "img": rng.normal(size=(6, 8, 8, 3)).astype("float32"),
        "seq": rng.integers(0, 20, size=(6, 7)).astype("int32"),
        "a": rng.normal(size=(6, 4)).astype("float32"),
        "b": rng.normal(size=(6, 4)).astype("float32"),
    }


def _close(ours, theirs):
    ours = ours if isinstance(ours, list | tuple) else [ours]
    theirs = theirs if isinstance(theirs, list | tuple) else [theirs]
    assert len(ours) == len(theirs)
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=RTOL, atol=ATOL)


def _fake_training(model, seed=0):
    """Optimizer state and BatchNormalization statistics that are not initial (as after some
    training; cheaper than running Keras's fit)."""
    rng = np.random.default_rng(seed)
    model.optimizer.build(model.trainable_variables)
    for v in model.optimizer.variables:
        if v.path.endswith("iteration"):
            v.assign(3)
        elif not v.path.endswith("learning_rate"):
            v.assign(rng.uniform(0.01, 0.1, v.shape).astype(v.dtype))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(size=layer.moving_mean.shape).astype("f4"))
            layer.moving_variance.assign(rng.uniform(0.5, 2, layer.moving_variance.shape))


def _keras_cnn():
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dropout(0.3, name="drop"),
            keras.layers.Dense(5, activation="softmax", name="probs"),
        ],
        name="cnn",
    )
    model.compile(keras.optimizers.Adam(0.002), "categorical_crossentropy", metrics=["accuracy"])
    _fake_training(model)
    return model


def _keras_rnn():
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [
            keras.Input((7,), dtype="int32"),
            keras.layers.Embedding(20, 4, name="emb"),
            keras.layers.LSTM(5, name="lstm"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    model.compile(keras.optimizers.RMSprop(0.01), "mae")
    return model


def _keras_functional():
    keras.utils.set_random_seed(3)
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    shared = keras.layers.Dense(3, activation="tanh", name="shared")
    x = keras.layers.Concatenate(name="cat")([shared(a), shared(b)])
    x = keras.layers.BatchNormalization(name="bn")(x)
    y1 = keras.layers.Dense(2, name="out1")(x)
    y2 = keras.layers.Dense(1, name="out2")(keras.layers.Dropout(0.5, name="drop")(x))
    model = keras.Model([a, b], [y1, y2], name="two_heads")
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), ["mse", "mae"])
    _fake_training(model)
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Keras models saved as legacy whole-model .h5 files: name -> (path, keras model, inputs)."""
    root = tmp_path_factory.mktemp("legacy")
    d = _data()
    out = {}
    for name, build, inputs in [
        ("cnn", _keras_cnn, d["img"]),
        ("rnn", _keras_rnn, d["seq"]),
        ("functional", _keras_functional, [d["a"], d["b"]]),
    ]:
        model = build()
        path = str(root / f"{name}.h5")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(path)
        out[name] = (path, model, inputs)
    return out


# --- whole models --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cnn", "rnn", "functional"])
def test_load_model_predicts_like_keras(saved, name):
    path, kmodel, inputs = saved[name]
    model = legacy_h5.load_model(path)
    assert [l.name for l in model.layers] == [l.name for l in kmodel.layers]
    _close(model.predict(inputs, verbose=0), kmodel.predict(inputs, verbose=0))
    for ours, theirs in zip(model.weights, kmodel.weights):
        np.testing.assert_array_equal(ours.numpy(), np.asarray(theirs))


def test_compile_restored(saved):
    model = legacy_h5.load_model(saved["cnn"][0])
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.002)
    assert model.loss == "categorical_crossentropy"
    # the optimizer state came along
    kopt = saved["cnn"][1].optimizer
    assert int(model.optimizer.iterations.numpy()) == 3
    for ours, theirs in zip(model.optimizer.variables, kopt.variables):
        np.testing.assert_array_equal(ours.numpy(), np.asarray(theirs))

    model = legacy_h5.load_model(saved["functional"][0])
    assert type(model.optimizer).__name__ == "SGD"
    assert model.optimizer.momentum == pytest.approx(0.9)
    assert model.loss == ["mse", "mae"]
    d = _data(1)
    logs = model.evaluate(
        [d["a"], d["b"]], [np.ones((6, 2), "f4"), np.zeros((6, 1), "f4")], verbose=0,
        return_dict=True,
    )  # fmt: skip
    assert set(logs) >= {"loss", "out1_loss", "out2_loss"}


def test_compile_false_and_missing_training_config(saved, tmp_path):
    model = legacy_h5.load_model(saved["rnn"][0], compile=False)
    assert getattr(model, "optimizer", None) is None
    path = tmp_path / "uncompiled.h5"
    with h5py.File(saved["rnn"][0], "r") as src, h5py.File(path, "w") as dst:
        for key, value in src.attrs.items():
            if key != "training_config":
                dst.attrs[key] = value
        src.copy("model_weights", dst)
    with pytest.warns(UserWarning, match="No training configuration"):
        model = legacy_h5.load_model(path)
    _close(model.predict(saved["rnn"][2], verbose=0), saved["rnn"][1].predict(saved["rnn"][2]))


def test_trained_loaded_model_matches_keras_step(saved):
    # Loss and optimizer state are restored well enough that one more training step agrees.
    path, kmodel, inputs = saved["cnn"]
    model = legacy_h5.load_model(path)
    kclone = keras.saving.load_model(path, compile=False)
    model.get_layer("drop").rate = kclone.get_layer("drop").rate = 0.0  # RNG streams differ
    kclone.compile(keras.optimizers.Adam(0.002), "categorical_crossentropy")
    kclone.optimizer.build(kclone.trainable_variables)
    for ours, theirs in zip(kclone.optimizer.variables, kmodel.optimizer.variables):
        ours.assign(theirs)
    y = np.eye(5, dtype="float32")[np.arange(6) % 5]
    lr = model.fit(inputs, y, batch_size=6, epochs=1, verbose=0, shuffle=False).history["loss"]
    lk = kclone.fit(inputs, y, batch_size=6, epochs=1, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(lr, lk, rtol=1e-5)
    for ours, theirs in zip(model.weights, kclone.weights):
        if "drop" not in ours.path:
            np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), rtol=1e-4, atol=1e-6)


# --- weights files -------------------------------------------------------------------------------


def _write_weights(kmodel, path):
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, kmodel)


def _refkeras_cnn(names=("conv", "bn", "probs"), extra=False, units=5):
    layers = [
        refkeras.Input((8, 8, 3)),
        refkeras.layers.Conv2D(4, 3, activation="relu", name=names[0]),
        refkeras.layers.BatchNormalization(name=names[1]),
        refkeras.layers.Flatten(),
        refkeras.layers.Dropout(0.3),
    ]
    if extra:
        layers.append(refkeras.layers.Dense(7, name="extra"))
    layers.append(refkeras.layers.Dense(units, activation="softmax", name=names[2]))
    return refkeras.Sequential(layers)


def test_load_weights_topological(saved, tmp_path):
    _, kmodel, inputs = saved["cnn"]
    path = tmp_path / "cnn.weights.h5"
    _write_weights(kmodel, path)
    model = _refkeras_cnn(names=("c", "b", "d"))  # names do not matter in order mode
    legacy_h5.load_weights(model, path)
    _close(model.predict(inputs, verbose=0), kmodel.predict(inputs, verbose=0))
    # the whole-model file works as a weights file too
    model = _refkeras_cnn()
    legacy_h5.load_weights(model, saved["cnn"][0])
    _close(model.predict(inputs, verbose=0), kmodel.predict(inputs, verbose=0))


def test_load_weights_functional_shared_layer(saved, tmp_path):
    _, kmodel, inputs = saved["functional"]
    path = tmp_path / "f.weights.h5"
    _write_weights(kmodel, path)
    model = legacy_h5.load_model(saved["functional"][0], compile=False)
    for w in model.weights:
        w.assign(np.zeros(w.shape, w.dtype))
    legacy_h5.load_weights(model, path)
    _close(model.predict(inputs, verbose=0), kmodel.predict(inputs, verbose=0))


def test_load_weights_by_name(saved, tmp_path):
    _, kmodel, inputs = saved["cnn"]
    path = tmp_path / "cnn.weights.h5"
    _write_weights(kmodel, path)
    # an extra layer, and a renamed head: matched layers load, the others keep their values
    model = _refkeras_cnn(names=("conv", "bn", "renamed"), extra=True)
    before = {w.path: w.numpy() for w in model.weights}
    with pytest.raises(ValueError, match="Layer count mismatch"):
        legacy_h5.load_weights(model, path)
    legacy_h5.load_weights(model, path, by_name=True)
    kw = {l.name: l.get_weights() for l in kmodel.layers}
    for layer in model.layers:
        if layer.name in ("conv", "bn"):
            for ours, theirs in zip(layer.get_weights(), kw[layer.name]):
                np.testing.assert_array_equal(ours, theirs)
        else:
            for w in layer.weights:
                np.testing.assert_array_equal(w.numpy(), before[w.path])


def test_shape_mismatch_raises_and_changes_nothing(saved, tmp_path):
    _, kmodel, _ = saved["cnn"]
    path = tmp_path / "cnn.weights.h5"
    _write_weights(kmodel, path)
    for by_name in (False, True):
        model = _refkeras_cnn(units=6)  # the last kernel is (144, 6), saved (144, 5)
        before = [w.numpy() for w in model.weights]
        with pytest.raises(ValueError, match=r"named probs.*\(144, 6\).*\(144, 5\)"):
            legacy_h5.load_weights(model, path, by_name=by_name)
        for w, b in zip(model.weights, before):  # conv and bn come first, yet are untouched
            np.testing.assert_array_equal(w.numpy(), b)


def test_skip_mismatch(saved, tmp_path):
    _, kmodel, inputs = saved["cnn"]
    path = tmp_path / "cnn.weights.h5"
    _write_weights(kmodel, path)
    for by_name in (False, True):
        model = _refkeras_cnn(units=6)
        head = [w.numpy() for w in model.get_layer("probs").weights]
        with pytest.warns(UserWarning, match="Skipping loading weights.*probs"):
            legacy_h5.load_weights(model, path, by_name=by_name, skip_mismatch=True)
        for ours, theirs in zip(model.get_layer("conv").get_weights(), kw_of(kmodel, "conv")):
            np.testing.assert_array_equal(ours, theirs)
        # the bias (6,) vs (5,) is skipped as well; the head keeps its initial values
        for w, b in zip(model.get_layer("probs").weights, head):
            np.testing.assert_array_equal(w.numpy(), b)


def kw_of(kmodel, name):
    return kmodel.get_layer(name).get_weights()


def test_weight_count_mismatch_names_layer(saved, tmp_path):
    _, kmodel, _ = saved["cnn"]
    path = tmp_path / "cnn.weights.h5"
    _write_weights(kmodel, path)
    model = refkeras.Sequential(
        [
            refkeras.Input((8, 8, 3)),
            refkeras.layers.Conv2D(4, 3, use_bias=False, name="conv"),
            refkeras.layers.BatchNormalization(name="bn"),
            refkeras.layers.Flatten(),
            refkeras.layers.Dense(5, name="probs"),
        ]
    )
    with pytest.raises(ValueError, match="Weight count mismatch for layer #0 .*conv.*expects 1"):
        legacy_h5.load_weights(model, path)
    with pytest.warns(UserWarning, match="mismatch in|count mismatch"):
        legacy_h5.load_weights(model, path, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(model.get_layer("bn").get_weights()[2], kw_of(kmodel, "bn")[2])


# --- Keras 2 files -------------------------------------------------------------------------------

_INIT = {"class_name": "GlorotUniform", "config": {"seed": None}}
_ZEROS = {"class_name": "Zeros", "config": {}}
_ONES = {"class_name": "Ones", "config": {}}


def _k2_layer(class_name, name, inbound, **config):
    return {
        "class_name": class_name,
        "config": {"name": name, "trainable": True, "dtype": "float32", **config},
        "name": name,
        "inbound_nodes": inbound,
    }


def _dense(name, units, inbound, activation="linear"):
    return _k2_layer(
        "Dense", name, inbound, units=units, activation=activation, use_bias=True,
        kernel_initializer=_INIT, bias_initializer=_ZEROS, kernel_regularizer=None,
        bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
        bias_constraint=None,
    )  # fmt: skip


def _keras2_functional_config():
    """A functional model as TF 2.12's Keras wrote it: list-form inbound nodes,
    ``batch_input_shape``, string dtypes, ``axis`` lists, ``time_major``/``input_length``."""
    layers = [
        {
            "class_name": "InputLayer",
            "config": {"batch_input_shape": [None, 7], "dtype": "int32", "sparse": False,
                       "ragged": False, "name": "seq"},
            "name": "seq", "inbound_nodes": [],
        },
        {
            "class_name": "InputLayer",
            "config": {"batch_input_shape": [None, 8, 8, 3], "dtype": "float32",
                       "sparse": False, "ragged": False, "name": "img"},
            "name": "img", "inbound_nodes": [],
        },
        _k2_layer("Embedding", "emb", [[["seq", 0, 0, {}]]], input_dim=20, output_dim=4,
                  embeddings_initializer={"class_name": "RandomUniform",
                                          "config": {"minval": -0.05, "maxval": 0.05,
                                                     "seed": None}},
                  embeddings_regularizer=None, activity_regularizer=None,
                  embeddings_constraint=None, mask_zero=False, input_length=7),
        _k2_layer("LSTM", "lstm", [[["emb", 0, 0, {}]]], return_sequences=False,
                  return_state=False, go_backwards=False, stateful=False, unroll=False,
                  time_major=False, units=5, activation="tanh", recurrent_activation="sigmoid",
                  use_bias=True, kernel_initializer=_INIT,
                  recurrent_initializer={"class_name": "Orthogonal",
                                         "config": {"gain": 1.0, "seed": None}},
                  bias_initializer=_ZEROS, unit_forget_bias=True, kernel_regularizer=None,
                  recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                  kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                  dropout=0.0, recurrent_dropout=0.0, implementation=2),
        _k2_layer("Conv2D", "conv", [[["img", 0, 0, {}]]], filters=4, kernel_size=[3, 3],
                  strides=[1, 1], padding="valid", data_format="channels_last",
                  dilation_rate=[1, 1], groups=1, activation="relu", use_bias=True,
                  kernel_initializer=_INIT, bias_initializer=_ZEROS, kernel_regularizer=None,
                  bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                  bias_constraint=None),
        _k2_layer("BatchNormalization", "bn", [[["conv", 0, 0, {}]]], axis=[3], momentum=0.99,
                  epsilon=0.001, center=True, scale=True, beta_initializer=_ZEROS,
                  gamma_initializer=_ONES, moving_mean_initializer=_ZEROS,
                  moving_variance_initializer=_ONES, beta_regularizer=None,
                  gamma_regularizer=None, beta_constraint=None, gamma_constraint=None),
        _k2_layer("Flatten", "flat", [[["bn", 0, 0, {}]]], data_format="channels_last"),
        _dense("img_feat", 5, [[["flat", 0, 0, {}]]]),
        _dense("shared", 3, [[["lstm", 0, 0, {}]], [["img_feat", 0, 0, {}]]], "tanh"),
        _k2_layer("Concatenate", "cat", [[["shared", 0, 0, {}], ["shared", 1, 0, {}]]], axis=-1),
        _k2_layer("Dropout", "drop", [[["cat", 0, 0, {}]]], rate=0.5, noise_shape=None,
                  seed=None),
        _dense("out1", 2, [[["drop", 0, 0, {}]]]),
        _dense("out2", 1, [[["shared", 1, 0, {}]]]),
    ]  # fmt: skip
    return {
        "class_name": "Functional",
        "config": {
            "name": "model",
            "trainable": True,
            "layers": layers,
            "input_layers": [["seq", 0, 0], ["img", 0, 0]],
            "output_layers": [["out1", 0, 0], ["out2", 0, 0]],
        },
    }


def _keras3_twin():
    """The same model in Keras 3, for weights and reference outputs."""
    keras.utils.set_random_seed(4)
    seq = keras.Input((7,), dtype="int32", name="seq")
    img = keras.Input((8, 8, 3), name="img")
    h1 = keras.layers.LSTM(5, name="lstm")(keras.layers.Embedding(20, 4, name="emb")(seq))
    h2 = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(img)
    h2 = keras.layers.BatchNormalization(name="bn")(h2)
    h2 = keras.layers.Dense(5, name="img_feat")(keras.layers.Flatten(name="flat")(h2))
    shared = keras.layers.Dense(3, activation="tanh", name="shared")
    s1, s2 = shared(h1), shared(h2)
    x = keras.layers.Dropout(0.5, name="drop")(keras.layers.Concatenate(name="cat")([s1, s2]))
    model = keras.Model([seq, img], [keras.layers.Dense(2, name="out1")(x),
                                     keras.layers.Dense(1, name="out2")(s2)])  # fmt: skip
    bn = model.get_layer("bn")  # non-trivial moving statistics
    bn.moving_mean.assign(np.linspace(-1, 1, 4).astype("f4"))
    bn.moving_variance.assign(np.linspace(0.5, 2, 4).astype("f4"))
    return model


# Keras 2 variable names (the ":0" suffix, "lstm_cell" scope) of each layer's weights.
_K2_NAMES = {
    "emb": ["embeddings"],
    "lstm": ["lstm_cell/kernel", "lstm_cell/recurrent_kernel", "lstm_cell/bias"],
    "conv": ["kernel", "bias"],
    "bn": ["gamma", "beta", "moving_mean", "moving_variance"],
    "img_feat": ["kernel", "bias"],
    "shared": ["kernel", "bias"],
    "out1": ["kernel", "bias"],
    "out2": ["kernel", "bias"],
}


def _write_keras2_file(path, kmodel, model_config, training_config=None, optimizer=None):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.12.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(model_config).encode()
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode()
        g = f.create_group("model_weights")
        g.attrs["keras_version"] = b"2.12.0"
        g.attrs["backend"] = b"tensorflow"
        layers = [l for l in kmodel.layers]
        g.attrs["layer_names"] = [l.name.encode() for l in layers]
        for layer in sorted(layers, key=lambda l: l.name):
            lg = g.create_group(layer.name)
            suffixes = _K2_NAMES.get(layer.name, ["kernel", "bias"][: len(layer.weights)])
            names = [f"{layer.name}/{s}:0" for s in suffixes]
            lg.attrs["weight_names"] = [n.encode() for n in names]
            values = [np.asarray(v) for v in layer.trainable_weights + layer.non_trainable_weights]
            for n, v in zip(names, values):
                lg.create_dataset(n, data=v)
        if optimizer is not None:
            og = f.create_group("optimizer_weights")
            og.attrs["weight_names"] = [n.encode() for n, _ in optimizer]
            for n, v in optimizer:
                og.create_dataset(n, data=v)


def test_keras2_functional_file(tmp_path):
    kmodel = _keras3_twin()
    training_config = {
        "loss": {
            "out1": {"class_name": "MeanSquaredError",
                     "config": {"reduction": "auto", "name": "mean_squared_error"}},
            "out2": "mae",
        },
        "metrics": None, "weighted_metrics": None, "loss_weights": {"out1": 1.0, "out2": 0.5},
        "optimizer_config": {
            "class_name": "Custom>Adam",
            "config": {"name": "Adam", "weight_decay": None, "clipnorm": None,
                       "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                       "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                       "jit_compile": True, "is_legacy_optimizer": False,
                       "learning_rate": 0.0020000000949949026, "beta_1": 0.9, "beta_2": 0.999,
                       "epsilon": 1e-07, "amsgrad": False},
        },
    }  # fmt: skip
    path = tmp_path / "keras2.h5"
    _write_keras2_file(path, kmodel, _keras2_functional_config(), training_config)
    model = legacy_h5.load_model(path)
    d = _data()
    _close(model.predict([d["seq"], d["img"]], verbose=0), kmodel.predict([d["seq"], d["img"]]))
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.002)
    assert model.get_layer("bn").axis == 3
    logs = model.evaluate(
        [d["seq"], d["img"]], [np.ones((6, 2), "f4"), np.ones((6, 1), "f4")], verbose=0,
        return_dict=True,
    )  # fmt: skip
    out1, out2 = kmodel.predict([d["seq"], d["img"]], verbose=0)
    expected = np.mean((out1 - 1) ** 2) + 0.5 * np.mean(np.abs(out2 - 1))
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)


def test_keras2_sequential_file(tmp_path):
    """Keras 2.2-style: no InputLayer, ``batch_input_shape`` on the first layer, the legacy
    optimizer config (``lr``, ``decay``), metrics as wrapped functions, a single output."""
    keras.utils.set_random_seed(5)
    kmodel = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(8, activation="relu", name="hidden"),
         keras.layers.Dense(3, activation="softmax", name="out1")]
    )  # fmt: skip
    hidden = _dense("hidden", 8, [], "relu")["config"]
    hidden["batch_input_shape"] = [None, 6]
    out = _dense("out1", 3, [], "softmax")["config"]
    config = {
        "class_name": "Sequential",
        "config": [
            {"class_name": "Dense", "config": hidden},
            {"class_name": "Dense", "config": out},
        ],
    }
    training_config = {
        "loss": "categorical_crossentropy",
        "metrics": [[{"class_name": "MeanMetricWrapper",
                      "config": {"name": "acc", "dtype": "float32",
                                 "fn": "categorical_accuracy"}}]],
        "weighted_metrics": None, "loss_weights": None, "sample_weight_mode": None,
        "optimizer_config": {"class_name": "SGD",
                             "config": {"name": "SGD", "lr": 0.01, "decay": 0.0,
                                        "momentum": 0.9, "nesterov": False}},
    }  # fmt: skip
    optimizer_state = [("SGD/iter:0", np.int64(3))] + [
        (f"SGD/{w.path}/momentum:0", np.zeros(w.shape, "f4")) for w in kmodel.weights
    ]
    path = tmp_path / "keras2_seq.h5"
    _write_keras2_file(path, kmodel, config, training_config, optimizer_state)
    with pytest.warns(UserWarning, match="freshly initialized optimizer"):
        model = legacy_h5.load_model(path)  # Keras 2's slot layout differs from Keras 3's
    x = np.random.default_rng(0).normal(size=(6, 6)).astype("float32")
    _close(model.predict(x, verbose=0), kmodel.predict(x, verbose=0))
    assert isinstance(model.predict(x, verbose=0), np.ndarray)
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    logs = model.evaluate(x, np.eye(3, dtype="f4")[np.arange(6) % 3], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "acc"}


def test_keras2_config_conversion():
    config = legacy_h5.convert_legacy_config(_keras2_functional_config())
    layers = {l["name"]: l for l in config["config"]["layers"]}
    assert layers["seq"]["config"]["batch_shape"] == [None, 7]
    assert "time_major" not in layers["lstm"]["config"]
    assert layers["bn"]["config"]["axis"] == 3
    node = layers["cat"]["inbound_nodes"][0]
    assert [t["config"]["keras_history"] for t in node["args"][0]] == [
        ["shared", 0, 0],
        ["shared", 1, 0],
    ]
    bad = _keras2_functional_config()
    bad["config"]["layers"][3]["config"]["time_major"] = True
    with pytest.raises(ValueError, match="time_major=True"):
        legacy_h5.convert_legacy_config(bad)


# --- damaged and hostile files -------------------------------------------------------------------


def test_damaged_files_raise_value_error(saved, tmp_path):
    data = open(saved["cnn"][0], "rb").read()
    model = _refkeras_cnn()
    for i, cut in enumerate((0, 100, len(data) // 2, len(data) - 1)):
        path = tmp_path / f"cut{i}.h5"
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="corrupt"):
            legacy_h5.load_model(path)
        with pytest.raises(ValueError, match="corrupt"):
            legacy_h5.load_weights(model, path)
    path = tmp_path / "junk.h5"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ValueError, match="not an HDF5 file"):
        legacy_h5.load_model(path)


def test_not_a_model_file(tmp_path):
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.ones(3))
    with pytest.raises(ValueError, match="No model config"):
        legacy_h5.load_model(path)
    with pytest.raises(ValueError, match="not a Keras weights file"):
        legacy_h5.load_weights(_refkeras_cnn(), path)
    with h5py.File(path, "a") as f:
        f.attrs["model_config"] = "{not json"
    with pytest.raises(ValueError, match="corrupt.*not valid JSON"):
        legacy_h5.load_model(path)


def test_config_cannot_name_arbitrary_modules(saved, tmp_path):
    path = tmp_path / "evil.h5"
    with h5py.File(saved["rnn"][0], "r") as src, h5py.File(path, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        src.copy("model_weights", dst)
        config = json.loads(src.attrs["model_config"])
        config["config"]["layers"][1]["module"] = "os"
        config["config"]["layers"][1]["class_name"] = "system"
        dst.attrs["model_config"] = json.dumps(config)
    with pytest.raises(ValueError, match="Refusing to load 'system' from module 'os'"):
        legacy_h5.load_model(path)


class _KerasScale(keras.layers.Layer):
    def build(self, input_shape):
        self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="s")

    def call(self, x):
        return x * self.s


class _RefScale(refkeras.layers.Layer):
    def build(self, input_shape):
        self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="s")

    def call(self, x):
        return x * self.s


def test_custom_objects_and_lambda_safe_mode(tmp_path):
    from keras.src.saving import object_registration as kreg

    keras.saving.register_keras_serializable(package="test", name="Scale")(_KerasScale)
    try:
        kmodel = keras.Sequential(
            [keras.Input((3,)), _KerasScale(name="scale"),
             keras.layers.Lambda(lambda x: x * 2.0, name="double")]
        )  # fmt: skip
        kmodel.get_layer("scale").s.assign(np.array([1.0, -2.0, 0.5], "float32"))
        path = str(tmp_path / "custom.h5")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kmodel.save(path)
    finally:
        kreg.GLOBAL_CUSTOM_OBJECTS.pop("test>Scale", None)
        kreg.GLOBAL_CUSTOM_NAMES.pop(_KerasScale, None)
    with open(path, "rb") as fh:
        assert b"test>Scale" in fh.read()
    custom = {"test>Scale": _RefScale}
    with pytest.raises(ValueError, match="safe_mode"):
        legacy_h5.load_model(path, custom_objects=custom)
    with pytest.raises(TypeError, match="test>Scale"):
        legacy_h5.load_model(path, safe_mode=False)
    model = legacy_h5.load_model(path, custom_objects=custom, compile=False, safe_mode=False)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    _close(model.predict(x, verbose=0), x * np.array([1.0, -2.0, 0.5]) * 2)
