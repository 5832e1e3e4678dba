"""``EarlyStopping``: stop training when a monitored quantity has stopped improving.

Also holds ``MonitorCallback``, the base that EarlyStopping and ReduceLROnPlateau share: it picks
the comparison (``<`` or ``>``) from ``mode`` and decides what counts as an improvement:

    improved = current - min_delta > best      (mode "max")
    improved = current + min_delta < best      (mode "min")

``mode="auto"`` minimizes ``loss`` / ``val_loss``; any other name is looked up among the model's
compiled metrics, whose ``_direction`` ("up" or "down") decides. Keras 3 does *not* guess from the
name (``acc`` → max was Keras 2): an unknown name raises a ValueError asking for an explicit mode.
"""

from __future__ import annotations

import warnings

import numpy as np

from refkeras.callbacks.callback import Callback
from refkeras.saving.object_registration import register_builtin


class MonitorCallback(Callback):
    """Base for callbacks that watch ``logs[monitor]`` and compare it with the best value so far.

    Args:
        monitor: the log key to watch. Defaults to ``"val_loss"``.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (an unknown mode warns and falls back to
            ``"auto"``). Defaults to ``"auto"``.
        baseline: the initial ``best`` value. Defaults to ``None`` (the first value wins).
        min_delta: the smallest change that counts as an improvement. Defaults to ``0``.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ["auto", "min", "max"]:
            warnings.warn(
                f"{self.__class__.__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        """Choose ``np.less`` or ``np.greater``; called at the first epoch end, once the model's
        metrics are built. In "min" mode ``min_delta`` is negated so one formula serves both."""
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = np.less
            for metric in _compiled_metrics(self.model):
                if metric.name == metric_name and hasattr(metric, "_direction"):
                    self.monitor_op = np.greater if metric._direction == "up" else np.less
            if self.monitor_op is None:
                raise ValueError(
                    f"{self.__class__.__name__} callback received monitor={self.monitor}, but "
                    "Keras isn't able to automatically determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to monitor based on the "
                    "highest metric value, or pass `mode='min'` in order to use the lowest value."
                )
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value) -> bool:
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


def _compiled_metrics(model) -> list:
    """The metrics inside ``model.metrics``' containers (Keras's CompileMetrics / MetricsList,
    the only entries with a ``metrics`` list); Keras consults only these for ``mode="auto"``."""
    found = []
    for entry in getattr(model, "metrics", None) or []:
        found.extend(getattr(entry, "metrics", None) or [])
    return found


@register_builtin("keras.callbacks")
class EarlyStopping(MonitorCallback):
    """Set ``model.stop_training`` once ``monitor`` has not improved for ``patience`` epochs.

    Each epoch (from ``start_from_epoch`` on, and only when ``logs`` has the key) counts one more
    epoch of waiting; an improvement on ``best`` resets the count unless ``baseline`` is given and
    not beaten. Training stops when ``wait >= patience`` (never at epoch 0).

    Args:
        monitor: the log key to watch. Defaults to ``"val_loss"``.
        min_delta: smallest change that counts as an improvement. Defaults to ``0``.
        patience: epochs without improvement before stopping. Defaults to ``0``.
        verbose: 1 prints ``Epoch N: early stopping`` and the restore message. Defaults to ``0``.
        mode: ``"auto"``, ``"min"`` or ``"max"``. Defaults to ``"auto"``.
        baseline: a value the monitored quantity must beat to reset the wait. Defaults to ``None``.
        restore_best_weights: at the end of training (stopped early or not) set the weights from
            the best epoch. Defaults to ``False``.
        start_from_epoch: warm-up epochs that are not monitored. Defaults to ``0``.

    Attributes: ``stopped_epoch`` (0 when training was not stopped), ``best``, ``best_epoch``,
    ``wait``, ``best_weights``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.best_epoch = 0
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        # Reset, so one instance can serve several fit() calls.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the first monitored epoch's weights are the best.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The wait restarts only when both the previous best and the baseline are beaten.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return

        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}.",
                    flush=True,
                )
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        """``logs[monitor]``, or ``None`` with a warning listing the available keys."""
        logs = logs or {}
        monitor_value = logs.get(self.monitor)
        if monitor_value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}",
                stacklevel=2,
            )
        return monitor_value
