"""``LearningRateScheduler``: set the optimizer's learning rate from ``schedule`` each epoch.

Also holds the helpers that ReduceLROnPlateau shares: reading the learning rate as a float and
adding it to the epoch logs. Setting it is ``optimizer.learning_rate = value``, as in Keras: the
optimizer's setter assigns the ``learning_rate`` variable, and raises TypeError when the optimizer
was built with a ``LearningRateSchedule`` (its rate is then not settable).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from refkeras.callbacks.callback import Callback
from refkeras.saving.object_registration import register_builtin


def get_learning_rate(optimizer) -> float:
    """The optimizer's current learning rate as a Python float (for a schedule, its value at the
    current step)."""
    return float(np.asarray(optimizer.learning_rate))


def add_learning_rate_to_logs(optimizer, logs: dict | None) -> dict:
    """Set ``logs["learning_rate"]`` (``learning_rate_<name>`` for each wrapped optimizer) and
    return ``logs``. The dict is shared, so callbacks after this one (History, CSVLogger) see the
    entry; like Keras (``logs = logs or {}``), empty or missing logs get a fresh dict instead."""
    logs = logs or {}
    if hasattr(optimizer, "optimizers"):
        for opt in optimizer.optimizers:
            logs[f"learning_rate_{opt.name}"] = get_learning_rate(opt)
    else:
        logs["learning_rate"] = get_learning_rate(optimizer)
    return logs


@register_builtin("keras.callbacks")
class LearningRateScheduler(Callback):
    """At each epoch begin: ``lr = schedule(epoch, lr)`` (or ``schedule(epoch)`` when the
    two-argument call raises TypeError), which must be a float; at each epoch end the rate is
    added to the logs as ``learning_rate``.

    Args:
        schedule: ``(epoch: int, lr: float) -> float`` (epochs count from 0), or
            ``(epoch) -> float``.
        verbose: 1 prints ``Epoch N: LearningRateScheduler setting learning rate to lr.``.
            Defaults to ``0``.
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch: int) -> float:
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, get_learning_rate(optimizer))
        except TypeError:  # the old one-argument API
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate}"
            )
        optimizer.learning_rate = learning_rate
        return learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):  # a wrapper of several optimizers: each one
            for opt in optimizer.optimizers:
                learning_rate = self._update_optimizer_lr(opt, epoch)
                if self.verbose > 0:
                    print(
                        f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                        f"{opt.name} learning rate to {learning_rate}.",
                        flush=True,
                    )
        else:
            learning_rate = self._update_optimizer_lr(optimizer, epoch)
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                    f"learning rate to {learning_rate}.",
                    flush=True,
                )

    def on_epoch_end(self, epoch, logs=None):
        add_learning_rate_to_logs(self.model.optimizer, logs)
