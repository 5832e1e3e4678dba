"""``fit`` parity with Keras 3 (JAX backend): the same small model, the same initial weights
(``ref.set_weights(keras_model.get_weights())``), the same data, two epochs with
``shuffle=False``, ``validation_split=0.25`` and ``batch_size=16``.

44 samples: the last 11 are the validation set and the 33 training samples make batches of
16, 16 and 1 (a partial last batch).  Every ``History`` entry must agree (rtol 1e-5) and so must
the final weights (rtol 1e-5, atol 1e-6).

Keras runs with ``run_eagerly=True``: on a 2-core machine compiling a jitted train step for every
model costs far more than running a few dozen tiny batches op by op (and the op-by-op kernels
are cached across the cases, whose shapes repeat).
"""

import os
from dataclasses import dataclass, field

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")

import refkeras  # noqa: E402

N, FEATURES, CLASSES, BATCH = 44, 8, 3, 16
RUN_EAGERLY = True  # see the module docstring


def mlp(m):
    return m.Sequential(
        [
            m.Input((FEATURES,)),
            m.layers.Dense(6, activation="relu"),
            m.layers.Dense(CLASSES, activation="softmax"),
        ]
    )


def cnn(m):
    return m.Sequential(
        [
            m.Input((6, 6, 2)),
            m.layers.Conv2D(3, 3, activation="relu"),
            m.layers.MaxPooling2D(2),
            m.layers.Flatten(),
            m.layers.Dense(CLASSES, activation="softmax"),
        ]
    )


def cnn_global(m):
    return m.Sequential(
        [
            m.Input((6, 6, 2)),
            m.layers.Conv2D(4, 3, padding="same", activation="relu"),
            m.layers.GlobalMaxPooling2D(),
            m.layers.Dense(CLASSES, activation="softmax"),
        ]
    )


def lstm(m):
    return m.Sequential(
        [
            m.Input((5, 3)),
            m.layers.LSTM(8),
            m.layers.Dense(CLASSES, activation="softmax"),
        ]
    )


INPUT_SHAPES = {mlp: (FEATURES,), cnn: (6, 6, 2), cnn_global: (6, 6, 2), lstm: (5, 3)}


@dataclass
class Case:
    id: str
    build: object
    optimizer: str
    opt_kwargs: dict = field(default_factory=dict)
    loss: str = "sparse_categorical_crossentropy"
    one_hot: bool = False
    sample_weight: bool = False
    class_weight: dict | None = None


CASES = [
    Case("mlp_rmsprop", mlp, "RMSprop", {"learning_rate": 0.01}),
    Case("mlp_adam", mlp, "Adam", {"learning_rate": 0.01}),
    Case("mlp_sgd_momentum", mlp, "SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    Case(
        "mlp_adam_onehot",
        mlp,
        "Adam",
        {"learning_rate": 0.01},
        loss="categorical_crossentropy",
        one_hot=True,
    ),
    Case("mlp_adam_sample_weight", mlp, "Adam", {"learning_rate": 0.01}, sample_weight=True),
    Case(
        "mlp_sgd_class_weight",
        mlp,
        "SGD",
        {"learning_rate": 0.1, "momentum": 0.9},
        class_weight={0: 1.0, 1: 3.0, 2: 0.5},
    ),
    Case("cnn_adam", cnn, "Adam", {"learning_rate": 0.01}),
    Case("cnn_global_sgd", cnn_global, "SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    Case("lstm_rmsprop", lstm, "RMSprop", {"learning_rate": 0.01}),
]


def _data(case: Case):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N, *INPUT_SHAPES[case.build])).astype("float32")
    y = rng.integers(0, CLASSES, size=(N,))
    if case.one_hot:
        y = np.eye(CLASSES, dtype="float32")[y]
    kwargs = {}
    if case.sample_weight:
        kwargs["sample_weight"] = rng.uniform(0.2, 2.0, size=(N,)).astype("float32")
    if case.class_weight is not None:
        kwargs["class_weight"] = case.class_weight
    return x, y, kwargs


def _fit(module, case: Case, initial_weights=None, run_eagerly=None):
    model = case.build(module)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    initial = [np.array(w) for w in model.get_weights()]
    compile_kwargs = {"run_eagerly": True} if run_eagerly else {}
    model.compile(
        optimizer=getattr(module.optimizers, case.optimizer)(**case.opt_kwargs),
        loss=case.loss,
        metrics=["accuracy"],
        **compile_kwargs,
    )
    x, y, kwargs = _data(case)
    history = model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=2,
        shuffle=False,
        validation_split=0.25,
        verbose=0,
        **kwargs,
    )
    return model, history, initial


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fit_matches_keras(case: Case):
    k_model, k_history, initial = _fit(keras, case, run_eagerly=RUN_EAGERLY)
    r_model, r_history, r_initial = _fit(refkeras, case, initial_weights=initial)
    for a, b in zip(r_initial, initial):
        np.testing.assert_array_equal(a, b)

    k_logs = {k: [float(v) for v in vs] for k, vs in k_history.history.items()}
    r_logs = {k: [float(v) for v in vs] for k, vs in r_history.history.items()}
    assert set(r_logs) == set(k_logs) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key in k_logs:
        np.testing.assert_allclose(r_logs[key], k_logs[key], rtol=1e-5, err_msg=key)
    assert r_history.epoch == k_history.epoch == [0, 1]

    k_weights = [np.asarray(w) for w in k_model.get_weights()]
    r_weights = r_model.get_weights()
    assert [w.shape for w in r_weights] == [w.shape for w in k_weights]
    for i, (r, k) in enumerate(zip(r_weights, k_weights)):
        np.testing.assert_allclose(r, k, rtol=1e-5, atol=1e-6, err_msg=f"weight {i}")
    # 3 steps per epoch (16 + 16 + 1 samples), 2 epochs.
    assert int(r_model.optimizer.iterations) == int(k_model.optimizer.iterations) == 6


def test_evaluate_and_predict_match_keras():
    case = CASES[1]
    k_model, _, _ = _fit(keras, case, run_eagerly=True)
    r_model = case.build(refkeras)
    r_model.set_weights([np.asarray(w) for w in k_model.get_weights()])
    r_model.compile(optimizer="adam", loss=case.loss, metrics=["accuracy"])
    x, y, _ = _data(case)
    k_eval = k_model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    r_eval = r_model.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    assert set(r_eval) == set(k_eval)
    for key in k_eval:
        np.testing.assert_allclose(r_eval[key], float(k_eval[key]), rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(
        r_model.predict(x, batch_size=BATCH, verbose=0),
        np.asarray(k_model.predict(x, batch_size=BATCH, verbose=0)),
        rtol=1e-5,
        atol=1e-6,
    )
