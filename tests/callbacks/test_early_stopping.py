"""EarlyStopping: driven directly with synthetic epoch logs, and compared with Keras 3 given the
same log sequences (same stopped_epoch, best, best_epoch, restored weights, messages)."""

import os
import warnings

import numpy as np
import pytest

from refkeras.callbacks.early_stopping import EarlyStopping

os.environ["KERAS_BACKEND"] = "jax"
keras = pytest.importorskip("keras")
from keras.src.trainers.compile_utils import MetricsList  # noqa: E402


class FakeModel:
    """What EarlyStopping touches: stop_training, get_weights/set_weights, metrics."""

    def __init__(self, metrics=()):
        self.stop_training = False
        self.weights = [np.zeros(2)]
        self.metrics = list(metrics)

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]


class FakeMetric:
    def __init__(self, name, direction):
        self.name = name
        self._direction = direction


class FakeContainer:
    """Stands for the compiled-metrics container (Keras's CompileMetrics / MetricsList)."""

    def __init__(self, metrics):
        self.name = "compile_metrics"
        self.metrics = metrics


def drive(callback, model, history):
    """A fit loop without training: at epoch ``e`` the weights are ``[e, e]`` and the logs are
    ``history[e]``; stops when the callback sets ``model.stop_training``."""
    callback.set_model(model)
    callback.on_train_begin({})
    epochs_run = 0
    for epoch, logs in enumerate(history):
        callback.on_epoch_begin(epoch, {})
        model.weights = [np.full(2, float(epoch))]
        callback.on_epoch_end(epoch, dict(logs))
        epochs_run += 1
        if model.stop_training:
            break
    callback.on_train_end({})
    return {
        "epochs_run": epochs_run,
        "stopped_epoch": callback.stopped_epoch,
        "best": None if callback.best is None else float(callback.best),
        "best_epoch": callback.best_epoch,
        "wait": callback.wait,
        "final_weight": float(model.weights[0][0]),
    }


def losses(*values, key="val_loss"):
    return [{"loss": 1.0, key: v} for v in values]


# (kwargs, epoch logs) — each case runs in refkeras and in Keras and must agree.
CASES = {
    "plateau_patience_2": ({"patience": 2}, losses(1.0, 0.8, 0.7, 0.75, 0.71, 0.6, 0.5)),
    "patience_0": ({}, losses(1.0, 0.9, 0.95, 0.5)),
    "never_stops": ({"patience": 1}, losses(1.0, 0.9, 0.8, 0.7)),
    "min_delta": ({"patience": 1, "min_delta": 0.1}, losses(1.0, 0.95, 0.85, 0.5)),
    "negative_min_delta_is_abs": ({"patience": 1, "min_delta": -0.1}, losses(1.0, 0.95, 0.85)),
    "mode_max": (
        {"monitor": "val_accuracy", "mode": "max", "patience": 1},
        losses(0.5, 0.6, 0.6, 0.55, 0.9, key="val_accuracy"),
    ),
    "mode_min_on_accuracy": (
        {"monitor": "val_accuracy", "mode": "min", "patience": 0},
        losses(0.5, 0.6, key="val_accuracy"),
    ),
    "monitor_loss": ({"monitor": "loss", "patience": 0}, [{"loss": 1.0}, {"loss": 1.0}]),
    "baseline_never_beaten": (
        {"patience": 3, "baseline": 0.5, "restore_best_weights": True},
        losses(1.0, 0.9, 0.95, 0.92, 0.7, 0.6),
    ),
    "baseline_beaten": (
        {"patience": 1, "baseline": 0.8, "restore_best_weights": True},
        losses(1.0, 0.7, 0.6, 0.65, 0.66, 0.4),
    ),
    "restore_best_when_stopped": (
        {"patience": 2, "restore_best_weights": True},
        losses(1.0, 0.5, 0.7, 0.8, 0.1),
    ),
    "restore_best_without_stopping": (
        {"patience": 10, "restore_best_weights": True},
        losses(1.0, 0.5, 0.7, 0.8),
    ),
    "start_from_epoch": (
        {"patience": 0, "start_from_epoch": 2, "restore_best_weights": True},
        losses(1.0, 2.0, 3.0, 3.5, 2.5),
    ),
    "equal_is_not_improvement": ({"patience": 1}, losses(1.0, 1.0, 1.0)),
    "nan_value": ({"patience": 1}, losses(1.0, float("nan"), float("nan"), 0.5)),
    "verbose": (
        {"patience": 1, "verbose": 1, "restore_best_weights": True},
        losses(1.0, 0.5, 0.7, 0.8),
    ),
}


def run_keras(kwargs, history, metrics=()):
    return drive(keras.callbacks.EarlyStopping(**kwargs), FakeModel(metrics), history)


def run_ref(kwargs, history, metrics=()):
    return drive(EarlyStopping(**kwargs), FakeModel(metrics), history)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras(name, capsys):
    kwargs, history = CASES[name]
    expected = run_keras(kwargs, history)
    expected_out = capsys.readouterr().out
    got = run_ref(kwargs, history)
    assert capsys.readouterr().out == expected_out, name
    assert got == pytest.approx(expected, nan_ok=True), name


def test_stops_after_patience_epochs_without_improvement():
    got = run_ref({"patience": 2}, losses(1.0, 0.8, 0.9, 0.85, 0.5))
    assert got["stopped_epoch"] == 3
    assert got["epochs_run"] == 4
    assert got["best"] == 0.8
    assert got["best_epoch"] == 1


def test_restore_best_weights_at_end_even_without_stopping():
    got = run_ref({"patience": 10, "restore_best_weights": True}, losses(1.0, 0.5, 0.7, 0.8))
    assert got["stopped_epoch"] == 0
    assert got["final_weight"] == 1.0  # the weights after epoch 1, the best one


def test_without_restore_keeps_last_weights():
    got = run_ref({"patience": 1}, losses(1.0, 0.5, 0.7, 0.8))
    assert got["final_weight"] == 2.0


def test_verbose_messages(capsys):
    run_ref({"patience": 1, "verbose": 1, "restore_best_weights": True}, losses(1.0, 0.5, 0.7))
    assert capsys.readouterr().out == (
        "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n"
    )


def test_missing_monitor_warns_and_is_ignored():
    history = [{"loss": 1.0}, {"loss": 2.0}, {"loss": 3.0}]
    with pytest.warns(UserWarning) as record:
        got = run_ref({}, history)
    assert str(record[0].message) == (
        "Early stopping conditioned on metric `val_loss` which is not available. "
        "Available metrics are: loss"
    )
    assert got["epochs_run"] == 3
    assert got["stopped_epoch"] == 0


def test_missing_monitor_warning_matches_keras():
    history = [{"loss": 1.0, "accuracy": 0.5}]
    with warnings.catch_warnings(record=True) as expected:
        warnings.simplefilter("always")
        run_keras({}, history)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        run_ref({}, history)

    def messages(record):
        return [str(w.message) for w in record if "Early stopping" in str(w.message)]

    assert messages(got) == messages(expected)
    assert len(messages(got)) == 1


def test_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match="EarlyStopping mode 'bogus' is unknown"):
        callback = EarlyStopping(mode="bogus")
    assert callback.mode == "auto"


def test_auto_mode_cannot_infer_an_unknown_metric():
    with pytest.raises(ValueError, match="isn't able to automatically determine") as ref:
        run_ref({"monitor": "val_accuracy"}, losses(0.5, key="val_accuracy"))
    with pytest.raises(ValueError) as ker:
        run_keras({"monitor": "val_accuracy"}, losses(0.5, key="val_accuracy"))
    assert str(ref.value) == str(ker.value)


@pytest.mark.parametrize("direction,expected_stop", [("up", 2), ("down", 1)])
def test_auto_mode_uses_compiled_metric_direction(direction, expected_stop):
    kwargs = {"monitor": "val_accuracy", "patience": 0}
    history = losses(0.5, 0.6, 0.55, key="val_accuracy")
    got = run_ref(kwargs, history, [FakeContainer([FakeMetric("accuracy", direction)])])
    keras_metric = keras.metrics.BinaryAccuracy(name="accuracy")
    keras_metric._direction = direction
    expected = run_keras(kwargs, history, [MetricsList([keras_metric])])
    assert got == expected
    assert got["stopped_epoch"] == expected_stop


def test_top_level_metrics_are_not_consulted():
    # Keras looks only inside the compiled-metrics containers, not at model.metrics itself.
    with pytest.raises(ValueError):
        run_ref({"monitor": "accuracy"}, [{"accuracy": 0.5}], [FakeMetric("accuracy", "up")])


def test_reusable_across_fits():
    callback = EarlyStopping(patience=0)
    first = drive(callback, FakeModel(), losses(1.0, 2.0))
    second = drive(callback, FakeModel(), losses(5.0, 4.0, 3.0))
    assert first["stopped_epoch"] == 1
    assert second["stopped_epoch"] == 0
    assert second["best"] == 3.0


def test_defaults_match_keras():
    ref, ker = EarlyStopping(), keras.callbacks.EarlyStopping()
    for attr in ("monitor", "min_delta", "patience", "verbose", "mode", "baseline",
                 "restore_best_weights", "start_from_epoch", "stopped_epoch", "wait"):  # fmt: skip
        assert getattr(ref, attr) == getattr(ker, attr), attr
