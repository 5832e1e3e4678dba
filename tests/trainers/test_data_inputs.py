"""The input formats ``fit``/``evaluate``/``predict`` accept (training guide, "Other input formats
supported" and "Passing data to multi-input, multi-output models"): NumPy arrays, lists and dicts
of arrays, Python generators, ``PyDataset``/``Sequence`` (with ``on_epoch_end``), and h5py
datasets read batch by batch.

Each format is checked against the same training on plain NumPy arrays: identical batches in
the same order must give identical weights.
"""

import h5py
import numpy as np
import pytest

import refkeras as keras

N = 12


def data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.25).astype("float32")
    return x, y


def model_and_copy(lr=0.1):
    def make():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
        return model

    a, b = make(), make()
    b.set_weights(a.get_weights())
    return a, b


def assert_same_weights(a, b, rtol=1e-6):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=rtol, atol=1e-7)


# --- arrays, lists, dicts -------------------------------------------------------------------------


def test_float64_and_int_arrays_are_accepted():
    x, y = data()
    a, b = model_and_copy()
    a.fit(x.astype("float64"), y.astype("float64"), batch_size=4, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert_same_weights(a, b)
    assert all(w.dtype == np.float32 for w in a.get_weights())
    xi = np.arange(N * 3).reshape(N, 3) % 4
    a.fit(xi, y, batch_size=4, verbose=0)  # integer features are cast to float32


def test_tensors_are_accepted():
    x, y = data()
    a, b = model_and_copy()
    a.fit(
        keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y), batch_size=4,
        shuffle=False, verbose=0,
    )  # fmt: skip
    b.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert_same_weights(a, b)


def two_input_model():
    a_in = keras.Input((2,), name="a")
    b_in = keras.Input((1,), name="b")
    merged = keras.layers.concatenate([a_in, b_in])
    score = keras.layers.Dense(1, name="score")(merged)
    klass = keras.layers.Dense(2, activation="softmax", name="klass")(merged)
    model = keras.Model(inputs=[a_in, b_in], outputs=[score, klass])
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=["mse", "sparse_categorical_crossentropy"],
    )
    return model


def test_lists_and_dicts_of_arrays_are_equivalent():
    # Guide: "you can pass lists of NumPy arrays ... or dicts mapping output names to NumPy arrays"
    x, y = data()
    klass = (y[:, 0] > 0).astype("int32")
    m_list, m_dict = two_input_model(), two_input_model()
    m_dict.set_weights(m_list.get_weights())
    h1 = m_list.fit([x[:, :2], x[:, 2:]], [y, klass], batch_size=4, shuffle=False, verbose=0)
    h2 = m_dict.fit(
        {"a": x[:, :2], "b": x[:, 2:]},
        {"score": y, "klass": klass},
        batch_size=4,
        shuffle=False,
        verbose=0,
    )
    assert_same_weights(m_list, m_dict)
    assert h1.history == pytest.approx(h2.history)
    p_list = m_list.predict([x[:, :2], x[:, 2:]], verbose=0)
    p_dict = m_list.predict({"b": x[:, 2:], "a": x[:, :2]}, verbose=0)  # key order is irrelevant
    for p, q in zip(p_list, p_dict):
        np.testing.assert_array_equal(p, q)
    d1 = m_list.evaluate([x[:, :2], x[:, 2:]], [y, klass], verbose=0, return_dict=True)
    d2 = m_list.evaluate(
        {"a": x[:, :2], "b": x[:, 2:]}, {"score": y, "klass": klass}, verbose=0, return_dict=True
    )
    assert d1 == pytest.approx(d2)


def test_dict_input_missing_a_key_names_it():
    x, y = data()
    model = two_input_model()
    with pytest.raises(ValueError, match="b"):
        model.predict({"a": x[:, :2]}, verbose=0)


def test_integer_inputs_for_embedding_models():
    model = keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(10, 2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).integers(0, 10, size=(8, 4))
    history = model.fit(x, np.ones((8, 1)), batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# --- generators -----------------------------------------------------------------------------------


def test_generator_gives_the_same_training_as_arrays():
    x, y = data()
    sw = np.linspace(0.5, 1.5, N).astype("float32")

    def gen():
        for i in range(0, N, 4):
            yield x[i : i + 4], y[i : i + 4], sw[i : i + 4]

    a, b = model_and_copy()
    ha = a.fit(gen(), verbose=0)
    hb = b.fit(x, y, sample_weight=sw, batch_size=4, shuffle=False, verbose=0)
    assert_same_weights(a, b)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)


def test_generator_for_evaluate_and_predict():
    x, y = data()
    model, _ = model_and_copy()

    def xy():
        for i in range(0, N, 5):
            yield x[i : i + 5], y[i : i + 5]

    def x_only():
        for i in range(0, N, 5):
            yield (x[i : i + 5],)

    # Batches of 5 vs 32 sum the float32 losses in a different order: agree to float32 rounding.
    np.testing.assert_allclose(
        model.evaluate(xy(), verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5
    )
    np.testing.assert_allclose(
        model.predict(x_only(), verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )


def test_generator_as_validation_data():
    x, y = data()
    xv, yv = data(6, seed=1)

    def val():
        while True:
            yield xv[:3], yv[:3]
            yield xv[3:], yv[3:]

    a, b = model_and_copy()
    ha = a.fit(
        x, y, batch_size=4, epochs=2, validation_data=val(), validation_steps=2, shuffle=False,
        verbose=0,
    )  # fmt: skip
    hb = b.fit(x, y, batch_size=4, epochs=2, validation_data=(xv, yv), shuffle=False, verbose=0)
    np.testing.assert_allclose(ha.history["val_loss"], hb.history["val_loss"], rtol=1e-6)


# --- PyDataset / Sequence -------------------------------------------------------------------------


class CountingDataset(keras.utils.PyDataset):
    """Batches of 4; ``on_epoch_end`` changes the data (adds 1 to the targets), as the guide's
    "If you want to modify your dataset between epochs, you may implement on_epoch_end"."""

    def __init__(self, x, y, batch_size=4, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.offset = 0.0
        self.requested = []
        self.epochs_begun = 0
        self.epochs_ended = 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, idx):
        self.requested.append(idx)
        s = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        return self.x[s], self.y[s] + self.offset

    def on_epoch_begin(self):
        self.epochs_begun += 1

    def on_epoch_end(self):
        self.epochs_ended += 1
        self.offset += 1.0


def test_pydataset_trains_like_arrays_and_calls_on_epoch_end():
    x, y = data()
    ds = CountingDataset(x, y)
    a, b = model_and_copy()
    a.fit(ds, epochs=1, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert_same_weights(a, b)
    assert ds.requested == [0, 1, 2]
    assert ds.epochs_ended == 1


def test_pydataset_on_epoch_end_changes_the_next_epoch():
    x, y = data()
    ds = CountingDataset(x, y)
    a, b = model_and_copy()
    a.fit(ds, epochs=3, shuffle=False, verbose=0)
    for epoch in range(3):
        b.fit(x, y + epoch, batch_size=4, shuffle=False, verbose=0)
    assert_same_weights(a, b, rtol=1e-5)
    assert ds.epochs_ended == 3


def test_pydataset_on_epoch_begin_is_called_each_epoch():
    # Keras 3's PyDataset docstring: implement `on_epoch_begin` "to be called at the start of each
    # epoch".
    x, y = data()
    ds = CountingDataset(x, y)
    model, _ = model_and_copy()
    model.fit(ds, epochs=2, verbose=0)
    assert ds.epochs_begun == 2


def test_pydataset_shuffle_reorders_batches_each_epoch():
    # Guide: a Sequence "can be shuffled (e.g. when passing shuffle=True in fit())".
    keras.utils.set_random_seed(0)
    x, y = data(40)
    ds = CountingDataset(x, y)
    model, _ = model_and_copy()
    model.fit(ds, epochs=3, shuffle=True, verbose=0)
    orders = [ds.requested[i * 10 : (i + 1) * 10] for i in range(3)]
    assert all(sorted(o) == list(range(10)) for o in orders)
    assert orders != [list(range(10))] * 3


def test_sequence_is_pydataset_and_works_for_evaluate_predict_and_validation():
    assert keras.utils.Sequence is keras.utils.PyDataset
    x, y = data()

    class XOnly(keras.utils.Sequence):
        def __len__(self):
            return 3

        def __getitem__(self, idx):
            return x[idx * 4 : (idx + 1) * 4]

    model, _ = model_and_copy()
    np.testing.assert_allclose(
        model.predict(XOnly(), verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )
    np.testing.assert_allclose(
        model.evaluate(CountingDataset(x, y), verbose=0),
        model.evaluate(x, y, verbose=0),
        rtol=1e-6,
    )
    val = CountingDataset(x, y)
    history = model.fit(x, y, batch_size=4, epochs=1, validation_data=val, verbose=0)
    assert "val_loss" in history.history
    assert val.requested == [0, 1, 2]


def test_pydataset_with_steps_per_epoch():
    x, y = data()
    ds = CountingDataset(x, y)
    model, _ = model_and_copy()
    model.fit(ds, epochs=2, steps_per_epoch=2, shuffle=False, verbose=0)
    assert int(model.optimizer.iterations) == 4


# --- h5py -----------------------------------------------------------------------------------------


@pytest.fixture
def h5_data(tmp_path):
    x, y = data(20)
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=x)
        f.create_dataset("y", data=y)
    f = h5py.File(path, "r")
    yield f["x"], f["y"], x, y
    f.close()


@pytest.fixture
def read_log(monkeypatch):
    """Every read of an h5py Dataset, as the number of rows it returned; whole-dataset reads via
    ``np.asarray``/``read_direct`` are recorded as ``"whole"``."""
    log = []
    original_getitem = h5py.Dataset.__getitem__
    original_array = h5py.Dataset.__array__
    original_read_direct = h5py.Dataset.read_direct

    def getitem(self, args, *rest, **kwargs):
        out = original_getitem(self, args, *rest, **kwargs)
        log.append(int(np.shape(out)[0]) if np.ndim(out) else 1)
        return out

    def array(self, *args, **kwargs):
        log.append("whole")
        return original_array(self, *args, **kwargs)

    def read_direct(self, *args, **kwargs):
        log.append("whole")
        return original_read_direct(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", getitem)
    monkeypatch.setattr(h5py.Dataset, "__array__", array)
    monkeypatch.setattr(h5py.Dataset, "read_direct", read_direct)
    return log


def test_h5py_datasets_are_read_batch_by_batch(h5_data, read_log):
    hx, hy, x, y = h5_data
    a, b = model_and_copy()
    read_log.clear()
    a.fit(hx, hy, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert read_log, "the h5py datasets were never read"
    assert "whole" not in read_log
    assert max(read_log) <= 8
    b.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(a, b)


def test_h5py_evaluate_and_predict_read_batch_by_batch(h5_data, read_log):
    hx, hy, x, y = h5_data
    model, _ = model_and_copy()
    read_log.clear()
    loss = model.evaluate(hx, hy, batch_size=8, verbose=0)
    pred = model.predict(hx, batch_size=8, verbose=0)
    assert "whole" not in read_log and max(read_log) <= 8
    np.testing.assert_allclose(loss, model.evaluate(x, y, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(pred, model.predict(x, verbose=0), rtol=1e-6)


def test_h5py_shuffle_reads_whole_batches_in_a_new_order(h5_data, read_log):
    hx, hy, x, y = h5_data
    model, _ = model_and_copy()
    read_log.clear()
    history = model.fit(hx, hy, batch_size=5, epochs=2, shuffle=True, verbose=0)
    assert "whole" not in read_log and max(read_log) <= 5
    assert np.isfinite(history.history["loss"]).all()


def test_h5py_with_validation_split_is_not_loaded_whole(h5_data, read_log):
    hx, hy, x, y = h5_data
    a, b = model_and_copy()
    read_log.clear()
    ha = a.fit(hx, hy, batch_size=5, validation_split=0.25, shuffle=False, verbose=0)
    assert "whole" not in read_log and max(read_log) <= 5, read_log
    hb = b.fit(x, y, batch_size=5, validation_split=0.25, shuffle=False, verbose=0)
    assert ha.history == pytest.approx(hb.history)
