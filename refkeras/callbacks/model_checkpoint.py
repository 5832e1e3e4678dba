"""``ModelCheckpoint``: save the model (or its weights) during training, as Keras 3 does.

``filepath`` is a template formatted with ``epoch`` (1-based), ``batch`` (1-based, when saving
every N batches) and every log key: ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``.  A full model
goes through ``model.save`` (the path must end in ``.keras`` or ``.h5``), weights through
``model.save_weights`` (``.weights.h5``); both write atomically.

With ``save_best_only`` a file is written only when ``monitor`` improves on the best so far
(``mode`` "auto" minimizes ``loss``/``val_loss`` and asks the compiled metric otherwise, as
EarlyStopping).  Unlike Keras, the best value survives a restart: it is kept in a small JSON file
beside the checkpoints (``.<template>.best.json``), written atomically *before* the checkpoint,
and read when training begins — so a new process with a new callback does not overwrite a better
checkpoint with a worse one.  (A kill between the two writes can at worst make the next run skip
a model that beats the old file but not the recorded value; it never overwrites a better one.)
"""

from __future__ import annotations

import json
import os
import re
import warnings

import numpy as np

from refkeras.callbacks.early_stopping import MonitorCallback
from refkeras.saving.atomic import write_bytes_atomically
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.callbacks")
class ModelCheckpoint(MonitorCallback):
    """Save the model or its weights every epoch or every ``save_freq`` batches.

    Args:
        filepath: the file to write; may hold ``{epoch}``, ``{batch}`` and log-key fields.
        monitor: the log key compared when ``save_best_only``. Defaults to ``"val_loss"``.
        verbose: 1 prints a message for each decision. Defaults to ``0``.
        save_best_only: write only when ``monitor`` improves on the best so far (kept across
            restarts, see the module docstring). Defaults to ``False``.
        save_weights_only: ``model.save_weights`` instead of ``model.save``. Defaults to
            ``False``.
        mode: ``"auto"``, ``"min"`` or ``"max"``. Defaults to ``"auto"``.
        save_freq: ``"epoch"`` or an integer N: save after every N batches (counted across
            epochs). Defaults to ``"epoch"``.
        initial_value_threshold: the initial best value. Defaults to ``None``.
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        if self.save_freq != "epoch" and not isinstance(self.save_freq, int):
            raise ValueError(
                f"Unrecognized save_freq: {self.save_freq}. "
                "Expected save_freq are 'epoch' or integer values"
            )
        if save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath "
                    "provided must end in `.weights.h5` (Keras weights format). Received: "
                    f"filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                "The filepath provided must end in `.keras` (Keras model format). Received: "
                f"filepath={self.filepath}"
            )

    # --- the best value across restarts -----------------------------------------------------

    @property
    def best_record_path(self) -> str:
        """The JSON file keeping the best value: in the template's first directory that has no
        field, named after the rest of the template."""
        parts = self.filepath.split(os.sep)
        fixed = 0
        while fixed < len(parts) - 1 and "{" not in parts[fixed]:
            fixed += 1
        directory = os.sep.join(parts[:fixed]) if fixed else ""
        if directory == "" and self.filepath.startswith(os.sep):
            directory = os.sep
        name = re.sub(r"[^A-Za-z0-9._-]", "_", "_".join(parts[fixed:]))
        return os.path.join(directory, f".{name}.best.json")

    def on_train_begin(self, logs=None):
        if not self.save_best_only or not os.path.exists(self.best_record_path):
            return
        with open(self.best_record_path) as f:
            record = json.load(f)
        if record.get("monitor") != self.monitor or self.mode not in ("auto", record["mode"]):
            return  # a record for another quantity
        saved = float(record["best"])
        if self.best is None:
            self.best = saved
        else:  # keep the better of the recorded best and `initial_value_threshold`
            self.best = min(self.best, saved) if record["mode"] == "min" else max(self.best, saved)

    def _record_best(self) -> None:
        record = {
            "monitor": self.monitor,
            "mode": "min" if self.monitor_op is np.less else "max",
            "best": float(self.best),
            "filepath": self.filepath,
        }
        write_bytes_atomically(self.best_record_path, json.dumps(record).encode())

    # --- when to save -----------------------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()  # now that the model's metrics are built
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch) -> bool:
        """Count batches across epochs (with ``steps_per_execution`` ``batch`` jumps by N)."""
        if self.save_freq == "epoch":
            return False
        if self._last_batch_seen is None or batch <= self._last_batch_seen:  # a new epoch
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, batch, logs, filepath) -> bool:
        logs = logs or {}
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=2)
            return True
        if isinstance(current, np.ndarray) and current.ndim > 0:
            warnings.warn(
                f"Can save best model only when `monitor` is a scalar value. Received: {current}. "
                "Falling back to `save_best_only=False`.",
                stacklevel=2,
            )
            return True
        if self.monitor_op is None:
            self._set_monitor_op()  # (saving on batches, before the first epoch end)
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            self._record_best()
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    # --- saving -----------------------------------------------------------------------------

    def _save_model(self, epoch, batch, logs) -> None:
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, batch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise OSError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                f"an existing directory: {filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _get_file_path(self, epoch, batch, logs) -> str:
        """``filepath`` formatted with ``epoch + 1``, ``batch + 1`` and the logs."""
        logs = logs or {}
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}'
            ) from e
