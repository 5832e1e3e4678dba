"""Compiled training on the JAX backend (``accel/jax/trainer.py``) against the NumPy reference.

Same seed, same data: ``fit`` (with shuffling, validation and Dropout), ``evaluate`` and ``predict``
on the jax backend give the reference's History, weights and outputs within float32 tolerance,
with ``steps_per_execution`` 1 and 4; the compiled path is really the one that ran (no eager
fallback); ``jit_compile=False`` / ``run_eagerly=True`` keep the eager loop; callbacks see the
same steps.
"""

import warnings

import numpy as np
import pytest

import refkeras
from refkeras import callbacks, layers
from refkeras.backend import dispatch, load_backend

RTOL, ATOL = 2e-4, 2e-5  # float32 training over ~20 steps (rounding differences compound)


@pytest.fixture(autouse=True)
def _restore_backend():
    saved = dispatch.active_backend()
    yield
    load_backend(saved or "numpy")


def _mlp(dropout=True):
    return refkeras.Sequential(
        [layers.Input((12,)), layers.Dense(16, activation="relu")]
        + ([layers.Dropout(0.3)] if dropout else [])
        + [layers.Dense(4, activation="softmax")]
    )


def _cnn():
    return refkeras.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(4, activation="softmax"),
        ]
    )


def _lstm():
    return refkeras.Sequential(
        [layers.Input((5, 3)), layers.LSTM(6), layers.Dense(4, activation="softmax")]
    )


def _data(model_name):
    rng = np.random.default_rng(0)
    shape = {"mlp": (12,), "cnn": (8, 8, 1), "lstm": (5, 3)}[model_name]
    x = rng.normal(size=(90, *shape)).astype("float32")
    y = rng.integers(0, 4, size=90)
    return x, y


def _train(backend, model_fn, model_name, steps_per_execution=1, jit_compile="auto", epochs=2):
    load_backend(backend)
    refkeras.utils.set_random_seed(7)
    model = model_fn()
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    x, y = _data(model_name)
    history = model.fit(
        x, y, batch_size=16, epochs=epochs, verbose=0, validation_split=0.2, shuffle=True
    )
    return model, history.history, [w.copy() for w in model.get_weights()]


def _assert_same_run(ref, got):
    _, ref_history, ref_weights = ref
    _, history, weights = got
    assert sorted(history) == sorted(ref_history)
    for key in ref_history:
        np.testing.assert_allclose(history[key], ref_history[key], rtol=RTOL, atol=ATOL)
    assert len(weights) == len(ref_weights)
    for w, r in zip(weights, ref_weights):
        assert w.dtype == r.dtype
        np.testing.assert_allclose(w, r, rtol=RTOL, atol=ATOL)


def _compiled_functions(model):
    from accel.jax.trainer import CompiledFunction

    return [f for f in model._step_functions.values() if isinstance(f, CompiledFunction)]


@pytest.mark.parametrize("steps_per_execution", [1, 4])
def test_mlp_with_dropout_fit_equals_the_reference(steps_per_execution):
    ref = _train("numpy", _mlp, "mlp", steps_per_execution)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an eager fallback warns: it must not happen here
        got = _train("jax", _mlp, "mlp", steps_per_execution)
    _assert_same_run(ref, got)
    compiled = _compiled_functions(got[0])
    assert {f.kind for f in compiled} == {"train", "test"}
    import jax

    for v in got[0].state_variables():  # metrics built while tracing got concrete values
        assert not isinstance(v._value, jax.core.Tracer), v.path
    assert all(f._eager is None for f in compiled)


@pytest.mark.parametrize(
    "model_fn,name,steps_per_execution", [(_cnn, "cnn", 1), (_lstm, "lstm", 4)]
)
def test_cnn_and_lstm_fit_equal_the_reference(model_fn, name, steps_per_execution):
    ref = _train("numpy", model_fn, name, steps_per_execution, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _train("jax", model_fn, name, steps_per_execution, epochs=1)
    _assert_same_run(ref, got)


def test_evaluate_predict_and_on_batch_equal_the_reference():
    x, y = _data("mlp")
    results = {}
    for backend in ("numpy", "jax"):
        model, _, _ = _train(backend, _mlp, "mlp", steps_per_execution=4, epochs=1)
        results[backend] = (
            model.evaluate(x, y, batch_size=16, verbose=0),
            model.predict(x, batch_size=16, verbose=0),
            model.train_on_batch(x[:16], y[:16]),
            model.test_on_batch(x[16:32], y[16:32]),
            model.predict_on_batch(x[:5]),
        )
        if backend == "jax":
            kinds = {f.kind for f in _compiled_functions(model)}
            assert kinds == {"train", "test", "predict"}
    for ref, got in zip(results["numpy"], results["jax"]):
        np.testing.assert_allclose(got, ref, rtol=RTOL, atol=ATOL)


def test_jit_compile_false_and_run_eagerly_keep_the_eager_loop():
    for kwargs in ({"jit_compile": False}, {"run_eagerly": True}):
        load_backend("jax")
        model = _mlp(dropout=False)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", **kwargs)
        x, y = _data("mlp")
        model.fit(x, y, batch_size=30, epochs=1, verbose=0)
        assert _compiled_functions(model) == []
        assert model.make_train_function() == model._eager_train_function


class _Steps(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(("end", batch, round(logs["loss"], 4)))


def test_callbacks_see_the_same_steps_and_logs_as_the_reference():
    x, y = _data("mlp")
    seen = {}
    for backend in ("numpy", "jax"):
        load_backend(backend)
        refkeras.utils.set_random_seed(3)
        model = _mlp(dropout=False)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      steps_per_execution=4)  # fmt: skip
        recorder = _Steps()
        model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[recorder])
        seen[backend] = recorder.seen
    # 9 batches in groups of 4: steps 0-3, 4-7, 8
    assert [s[:2] for s in seen["jax"]] == [
        ("begin", 0), ("end", 3), ("begin", 4), ("end", 7), ("begin", 8), ("end", 8)
    ]  # fmt: skip
    assert seen["jax"] == seen["numpy"]


def _numpy_metric(y_true, y_pred):
    """A user metric computing with NumPy on the values: it cannot be traced."""
    return refkeras.ops.convert_to_tensor(np.max(np.asarray(y_pred), axis=-1))


def test_an_untraceable_metric_falls_back_to_eager_with_one_warning():
    x, y = _data("mlp")
    out = {}
    for backend in ("numpy", "jax"):
        load_backend(backend)
        refkeras.utils.set_random_seed(5)
        model = _mlp(dropout=False)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      metrics=[_numpy_metric])  # fmt: skip
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = model.fit(x, y, batch_size=30, epochs=2, verbose=0)
        out[backend] = history.history
        if backend == "jax":
            messages = [str(w.message) for w in caught if "eagerly" in str(w.message)]
            assert len(messages) == 1 and "could not compile the train step" in messages[0]
    for key in out["numpy"]:
        np.testing.assert_allclose(out["jax"][key], out["numpy"][key], rtol=RTOL, atol=ATOL)


def test_state_written_back_is_seen_and_assignments_between_calls_are_picked_up():
    load_backend("jax")
    refkeras.utils.set_random_seed(1)
    model = _mlp(dropout=False)
    model.compile(optimizer=refkeras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    x, y = _data("mlp")
    model.fit(x, y, batch_size=30, epochs=1, verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 3
    before = [w.copy() for w in model.get_weights()]
    model.optimizer.learning_rate = 0.0  # assigned between compiled calls
    model.fit(x, y, batch_size=30, epochs=1, verbose=0)
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    assert int(model.optimizer.iterations.numpy()) == 6
