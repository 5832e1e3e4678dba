"""``.keras`` and ``.weights.h5`` files exchanged with real Keras 3 (JAX backend): the same
architecture saved by both has the same archive layout; each loads the other's files, weights
bit-identical and predictions equal; optimizer state and compile arguments cross over."""

import io
import json
import os
import warnings
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py
import numpy as np
import pytest

import refkeras

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(0)


def _conv1d(M):
    L = M.layers
    i = M.Input((12, 3))
    x = L.Conv1D(4, 3, activation="relu")(i)
    x = L.MaxPooling1D(2)(x)
    x = L.AveragePooling1D(2, padding="same")(x)
    x = L.GlobalAveragePooling1D()(x)
    return M.Model(i, L.Dense(2)(x)), RNG.random((3, 12, 3), dtype=np.float32)


def _conv2d(M):
    L = M.layers
    i = M.Input((8, 8, 2))
    x = L.Conv2D(3, 3, padding="same", activation="relu")(i)
    x = L.MaxPooling2D()(x)
    x = L.AveragePooling2D(2)(x)
    x = L.BatchNormalization()(x)
    x = L.Flatten()(x)
    x = L.Reshape((3, 4))(x)
    x = L.GlobalMaxPooling1D()(x)
    return M.Model(i, L.Dense(2)(x)), RNG.random((3, 8, 8, 2), dtype=np.float32)


def _embedding_rnn(M):
    L = M.layers
    i = M.Input((6,), dtype="int32")
    x = L.Embedding(20, 4)(i)
    x = L.LSTM(3, return_sequences=True)(x)
    x = L.GRU(3, return_sequences=True)(x)
    x = L.SimpleRNN(2)(x)
    return M.Model(i, x), RNG.integers(0, 20, (3, 6)).astype("int32")


def _merges(M):
    L = M.layers
    a, b = M.Input((4,), name="a"), M.Input((4,), name="b")
    da, db = L.Dense(3)(a), L.Dense(3)(b)
    merged = [
        L.Add()([da, db]),
        L.Subtract()([da, db]),
        L.Multiply()([da, db]),
        L.Average()([da, db]),
        L.Maximum()([da, db]),
        L.Minimum()([da, db]),
    ]
    x = L.Dropout(0.5)(L.Concatenate()(merged))
    outputs = [L.Dense(1, name="y1")(x), L.Dense(2, name="y2")(x)]
    data = {"a": RNG.random((3, 4), dtype=np.float32), "b": RNG.random((3, 4), dtype=np.float32)}
    return M.Model({"a": a, "b": b}, outputs), data


def _sequential(M):
    L = M.layers
    model = M.Sequential(
        [M.Input((5,)), L.Dense(4, activation="relu"), L.BatchNormalization(), L.Dropout(0.1),
         L.Dense(1)]
    )  # fmt: skip
    return model, RNG.random((3, 5), dtype=np.float32)


FAMILIES = {
    "conv1d_pooling": _conv1d,
    "conv2d_pooling_bn_flatten_reshape": _conv2d,
    "embedding_lstm_gru_simplernn": _embedding_rnn,
    "merges_dropout_multi_io": _merges,
    "sequential": _sequential,
}


def _outputs(model, x):
    out = model(x, training=False)  # (Keras's predict() would jit-compile: slow for RNNs)
    return [np.asarray(o) for o in (out if isinstance(out, list | tuple) else [out])]


def _assert_same(a_outputs, b_outputs):
    assert len(a_outputs) == len(b_outputs)
    for u, v in zip(a_outputs, b_outputs):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-6)


def _assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def _layout(path) -> dict:
    """``{h5 path: dataset shape or "group"}`` of an archive's weights."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:

            def visit(name, obj):
                out[name] = tuple(obj.shape) if isinstance(obj, h5py.Dataset) else "group"

            f.visititems(visit)
    return out


def _config(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("config.json"))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_keras_and_refkeras_read_each_others_archives(tmp_path, family):
    k_model, x = FAMILIES[family](keras)
    r_model, _ = FAMILIES[family](refkeras)
    for model in (k_model, r_model):
        model.compile(optimizer="adam", loss="mse")
    k_path, r_path = tmp_path / "keras.keras", tmp_path / "refkeras.keras"
    k_model.save(k_path)
    r_model.save(r_path)

    # Same architecture, same archive layout (paths, shapes, top-level config keys).
    assert _layout(k_path) == _layout(r_path)
    assert set(_config(k_path)) == set(_config(r_path))
    assert _config(k_path)["compile_config"].keys() == _config(r_path)["compile_config"].keys()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbuilt optimizers: "Skipping variable loading"
        r_from_k = refkeras.saving.load_model(k_path)
        k_from_r = keras.saving.load_model(r_path)
    _assert_same_weights(k_model, r_from_k)
    _assert_same_weights(r_model, k_from_r)
    _assert_same(_outputs(k_model, x), _outputs(r_from_k, x))
    _assert_same(_outputs(r_model, x), _outputs(k_from_r, x))


def test_weights_files_cross_over_both_ways(tmp_path):
    k_model, x = _embedding_rnn(keras)
    r_model, _ = _embedding_rnn(refkeras)
    k_model.save_weights(tmp_path / "k.weights.h5")
    r_model.load_weights(tmp_path / "k.weights.h5")
    _assert_same_weights(k_model, r_model)
    _assert_same(_outputs(k_model, x), _outputs(r_model, x))

    k_model.save(tmp_path / "k.keras")  # the weights of an archive load the same way
    r_again, _ = _embedding_rnn(refkeras)
    r_again.load_weights(tmp_path / "k.keras")
    _assert_same_weights(k_model, r_again)

    k_other, _ = _embedding_rnn(keras)
    r_fresh, _ = _embedding_rnn(refkeras)
    r_fresh.save_weights(tmp_path / "r.weights.h5")
    k_other.load_weights(tmp_path / "r.weights.h5")
    _assert_same_weights(r_fresh, k_other)


def test_refkeras_reads_keras_weights_by_name(tmp_path):
    L = keras.layers
    i = keras.Input((4,))
    k_model = keras.Model(i, L.Dense(2, name="head")(L.Dense(3, name="body")(i)))
    k_model.save_weights(tmp_path / "k.weights.h5")
    R = refkeras.layers
    i = refkeras.Input((4,))
    r_model = refkeras.Model(i, R.Dense(5, name="head")(R.Dense(3, name="body")(i)))
    head_before = r_model.get_layer("head").get_weights()
    with pytest.warns(UserWarning, match=r"'head'.*\(3, 5\).*\(3, 2\)"):
        r_model.load_weights(tmp_path / "k.weights.h5", by_name=True, skip_mismatch=True)
    _assert_same_weights(k_model.get_layer("body"), r_model.get_layer("body"))
    for a, b in zip(head_before, r_model.get_layer("head").get_weights()):
        np.testing.assert_array_equal(a, b)


def _trained(M, seed):
    M.utils.set_random_seed(seed)
    L = M.layers  # (no Dropout: the two libraries draw different masks)
    model = M.Sequential([M.Input((5,)), L.Dense(4, activation="relu"), L.BatchNormalization(),
                          L.Dense(1)])  # fmt: skip
    model.compile(optimizer=M.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    x = RNG.random((16, 5), dtype=np.float32)
    y = RNG.random((16, 1), dtype=np.float32)
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    return model, x, y


def test_optimizer_state_and_compile_config_cross_over(tmp_path):
    k_model, x, y = _trained(keras, 0)
    k_model.save(tmp_path / "k.keras")
    r_model = refkeras.saving.load_model(tmp_path / "k.keras")
    assert r_model.compiled and type(r_model.optimizer).__name__ == "Adam"
    assert r_model.optimizer.learning_rate.numpy() == np.float32(0.01)
    k_opt = [np.asarray(v) for v in k_model.optimizer.variables]
    r_opt = [v.numpy() for v in r_model.optimizer.variables]
    assert [a.shape for a in k_opt] == [a.shape for a in r_opt]
    for a, b in zip(k_opt, r_opt):
        np.testing.assert_array_equal(a, b.astype(a.dtype))
    np.testing.assert_allclose(
        r_model.evaluate(x, y, verbose=0), k_model.evaluate(x, y, verbose=0), rtol=1e-5
    )

    r_trained, x, y = _trained(refkeras, 1)
    r_trained.save(tmp_path / "r.keras")
    k_loaded = keras.saving.load_model(tmp_path / "r.keras")
    assert k_loaded.compiled and int(k_loaded.optimizer.iterations) == 2
    for a, b in zip(r_trained.optimizer.variables, k_loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), np.asarray(b).astype(a.dtype))
    # Keras resumes training from refkeras's state: one more epoch in both stays close.
    r_trained.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    k_loaded.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(r_trained.get_weights(), k_loaded.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_stateful_rnn_archives_cross_over(tmp_path):
    def build(M):
        i = M.Input((4, 3), batch_size=2)
        return M.Model(i, M.layers.LSTM(3, stateful=True, return_sequences=True)(i))

    x = RNG.random((2, 4, 3), dtype=np.float32)
    k_model = build(keras)
    k_model.save(tmp_path / "k.keras")
    r_model = refkeras.saving.load_model(tmp_path / "k.keras")
    assert r_model.layers[1].stateful
    _assert_same_weights(k_model, r_model)
    _assert_same(_outputs(k_model, x), _outputs(r_model, x))  # both start from zero states

    r_model = build(refkeras)
    r_model.save(tmp_path / "r.keras")
    k_model = keras.saving.load_model(tmp_path / "r.keras")
    assert k_model.layers[1].stateful
    _assert_same_weights(r_model, k_model)
    _assert_same(_outputs(r_model, x), _outputs(k_model, x))


def test_lambda_archives_cross_over_with_safe_mode_false(tmp_path):
    x = RNG.random((3, 4), dtype=np.float32)
    models = {}
    for name, M in (("keras", keras), ("refkeras", refkeras)):
        i = M.Input((4,))
        models[name] = M.Model(i, M.layers.Lambda(lambda v: v * 2.0 + 1.0)(M.layers.Dense(3)(i)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models[name].save(tmp_path / f"{name}.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        refkeras.saving.load_model(tmp_path / "keras.keras")
    r_from_k = refkeras.saving.load_model(tmp_path / "keras.keras", safe_mode=False)
    k_from_r = keras.saving.load_model(tmp_path / "refkeras.keras", safe_mode=False)
    _assert_same(_outputs(models["keras"], x), _outputs(r_from_k, x))
    _assert_same(_outputs(models["refkeras"], x), _outputs(k_from_r, x))
