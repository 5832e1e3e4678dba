"""``ReduceLROnPlateau``: multiply the learning rate by ``factor`` when a metric stops improving.

Each epoch end (where ``logs[monitor]`` exists):

    if in cooldown:            cooldown_counter -= 1; wait = 0
    if improved on best:       best = current; wait = 0
    elif not in cooldown:      wait += 1
        if wait >= patience and lr > min_lr:
            lr = max(lr * factor, min_lr); cooldown_counter = cooldown; wait = 0

"Improved" is MonitorCallback's rule (``current + min_delta < best`` in "min" mode). The
comparison ``lr > min_lr`` is made against ``float32(min_lr)``, as in Keras.
"""

from __future__ import annotations

import warnings

import numpy as np

from refkeras.callbacks.early_stopping import MonitorCallback
from refkeras.callbacks.learning_rate_scheduler import add_learning_rate_to_logs, get_learning_rate
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.callbacks")
class ReduceLROnPlateau(MonitorCallback):
    """Reduce the learning rate when ``monitor`` has not improved for ``patience`` epochs; the
    current rate is added to the epoch logs as ``learning_rate``.

    Args:
        monitor: the log key to watch. Defaults to ``"val_loss"``.
        factor: ``new_lr = lr * factor``; must be < 1. Defaults to ``0.1``.
        patience: epochs without improvement before reducing. Defaults to ``10``.
        verbose: 1 prints ``Epoch N: ReduceLROnPlateau reducing learning rate to lr.``.
            Defaults to ``0``.
        mode: ``"auto"``, ``"min"`` or ``"max"``. Defaults to ``"auto"``.
        min_delta: smallest change that counts as an improvement. Defaults to ``1e-4``.
        cooldown: epochs after a reduction during which the wait is not counted. Defaults to ``0``.
        min_lr: lower bound on the learning rate. Defaults to ``0.0``.
        **kwargs: accepted and ignored, as in Keras.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        **kwargs,
    ):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def _reduce_optimizer_lr(self, optimizer, epoch: int, name: str = "") -> bool:
        """Reduce one optimizer's rate unless it is already at ``min_lr``; True if reduced."""
        old_lr = get_learning_rate(optimizer)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                name_str = f" {name}" if name else ""
                print(
                    f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{name_str} "
                    f"learning rate to {new_lr}.",
                    flush=True,
                )
            return True
        return False

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        optimizer = self.model.optimizer
        logs = add_learning_rate_to_logs(optimizer, logs)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(list(logs.keys()))}.",
                stacklevel=2,
            )
            return

        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0

        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                if hasattr(optimizer, "optimizers"):  # a wrapper: reduce each wrapped optimizer
                    results = [
                        self._reduce_optimizer_lr(opt, epoch, f"{opt.name}")
                        for opt in optimizer.optimizers
                    ]
                    reduced = any(results)
                else:
                    reduced = self._reduce_optimizer_lr(optimizer, epoch)
                if reduced:
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0
