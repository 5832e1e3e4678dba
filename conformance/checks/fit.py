"""Whole-training checks (check f).

``fit_trajectory``: the reference and the backend each build the model from the same seed (so
initial weights, dropout masks and shuffling draw the same numbers), the backend's weights are
then set to the reference's initial weights (a backend whose initializers differ is still
compared on the training itself), and both run ``fit(x, y, shuffle=True)`` with dropout on.
Every ``History`` entry and every final weight is compared; the bound grows with the number of
steps behind it (``u * n * steps * M``: each step adds about one rounding of the update, which
later steps carry along).  Accuracy may flip one sample per epoch near a decision boundary.

``fit_steps``: re-synchronised, step by step: before every step, every variable of the backend's
model (weights, seed states) and optimizer (slots, iterations) is overwritten with the
reference's, then both run ``train_on_batch`` on the same batch and the one-step results (loss,
weights, optimizer variables) are compared with a one-step bound.  An error shows at the step
where it appears instead of accumulating.
"""

from __future__ import annotations

import numpy as np

import refkeras
from conformance.checks.layer import on
from conformance.components import Comparison, FitCase
from refkeras import backend as B
from refkeras import layers as L
from refkeras import optimizers
from refkeras.random.seed_generator import set_random_seed

CLASSES = 3
N_TERMS = 32  # the longest reductions of the three models (fan-in x batch), for the bound


def _mlp():
    return refkeras.Sequential(
        [refkeras.Input((6,)), L.Dense(8, activation="relu"), L.Dropout(0.3),
         L.Dense(CLASSES, activation="softmax")]
    )  # fmt: skip


def _cnn():
    return refkeras.Sequential([refkeras.Input((5, 5, 2)), L.Conv2D(3, 2, activation="relu"),
                                L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.2),
                                L.Dense(CLASSES, activation="softmax")])  # fmt: skip


def _lstm():
    return refkeras.Sequential([refkeras.Input((4, 3)), L.LSTM(4),
                                L.Dense(CLASSES, activation="softmax")])  # fmt: skip


MODELS = {"mlp_dropout": (_mlp, (6,)), "cnn": (_cnn, (5, 5, 2)), "lstm": (_lstm, (4, 3))}


def data(case: FitCase):
    rng = np.random.default_rng([case.seed, 21])
    shape = MODELS[case.model][1]
    x = rng.standard_normal((case.samples, *shape)).astype("float32")
    y = rng.integers(0, CLASSES, case.samples).astype("int32")
    return x, y


def _build(case: FitCase, initial=None):
    """The model and its optimizer, compiled, on the active backend."""
    set_random_seed(case.seed)
    model = MODELS[case.model][0]()
    if initial is not None:
        model.set_weights([B.asarray(w) for w in initial])
    name, kwargs = case.optimizer
    model.compile(optimizer=getattr(optimizers, name)(**kwargs),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # fmt: skip
    return model


def _steps_per_epoch(case: FitCase) -> int:
    return -(-case.samples // case.batch_size)


def run_fit(case: FitCase, backend=None, initial=None):
    x, y = data(case)
    with on(backend):
        model = _build(case, initial)
        history = model.fit(B.asarray(x), B.asarray(y), batch_size=case.batch_size,
                            epochs=case.epochs, shuffle=True, verbose=0)  # fmt: skip
        weights = [B.to_numpy(w) for w in model.weights]
        return {k: np.asarray(v, np.float64) for k, v in history.history.items()}, weights


def check_fit(case: FitCase, backend) -> Comparison:
    with on(None):
        initial = [w.numpy() for w in _build(case).weights]
    e_hist, e_weights = run_fit(case, None, initial)
    a_hist, a_weights = run_fit(case, backend, initial)
    comp = Comparison()
    spe = _steps_per_epoch(case)
    if sorted(a_hist) != sorted(e_hist):
        comp.fail("history keys", f"{sorted(a_hist)} != {sorted(e_hist)}")
        return comp
    steps = spe * np.arange(1, case.epochs + 1)
    for key, expected in e_hist.items():
        actual = a_hist[key]
        if "accuracy" in key:  # one sample per epoch may flip
            err = np.abs(actual - expected).max()
            comp.ratios[f"history {key}"] = float(err * case.samples)
            continue
        for k, (a, e) in enumerate(zip(actual, expected)):
            comp.check(f"history {key}", a, e, "float32", N_TERMS, steps=int(steps[k]))
    for i, (a, e) in enumerate(zip(a_weights, e_weights, strict=True)):
        comp.check(f"final weight {i}", a, e, "float32", N_TERMS, steps=int(steps[-1]))
    return comp


def _state(model) -> list:
    return list(model.variables) + list(model.optimizer.variables)


def check_fit_steps(case: FitCase, backend) -> Comparison:
    x, y = data(case)
    comp = Comparison()
    with on(None):
        ref = _build(case)
        ref.optimizer.build(ref.trainable_variables)
        initial = [w.numpy() for w in ref.weights]
    with on(backend):
        model = _build(case, initial)
        model.optimizer.build(model.trainable_variables)
    order = np.random.default_rng([case.seed, 22]).permutation(case.samples)
    batches = [order[i : i + case.batch_size] for i in range(0, case.samples, case.batch_size)]
    first: dict[str, int] = {}
    for step, index in enumerate(batches * case.epochs, 1):
        with on(backend):
            be = B.active()
            for dst, src in zip(_state(model), _state(ref), strict=True):
                dst.assign(be.asarray(np.asarray(src.numpy())))
        with on(None):
            e_logs = ref.train_on_batch(x[index], y[index], return_dict=True)
            e_state = [np.asarray(v.numpy()) for v in _state(ref)]
        with on(backend):
            be = B.active()
            a_logs = model.train_on_batch(be.asarray(x[index]), be.asarray(y[index]),
                                          return_dict=True)  # fmt: skip
            a_state = [B.to_numpy(v) for v in _state(model)]
        comp.check("loss", a_logs["loss"], e_logs["loss"], "float32", N_TERMS)
        for i, (a, e) in enumerate(zip(a_state, e_state, strict=True)):
            comp.check(f"variable {i}", a, e, "float32", N_TERMS)
        for name, r in comp.ratios.items():
            if r > 1.0 and name not in first:
                first[name] = step
    for name, step in first.items():
        comp.details[name] = f"first wrong at step {step}; worst: " + comp.details.get(name, "")
    return comp
