"""``BackupAndRestore``: back up the training state and resume an interrupted ``fit`` exactly.

Every ``save_freq`` (each epoch end, or every N batches) the *whole* training state goes to
``<backup_dir>/training_state.h5`` (see :mod:`refkeras.saving.training_state`): weights,
optimizer slots and iterations, metric totals, every random state (layers' SeedGenerators, the
shuffle generator, the global streams), the History so far, the epoch and the position inside
it, including where the data order stands.  When ``fit`` starts and a backup exists, all of it is
restored and ``fit`` continues from that exact batch.  So a run interrupted anywhere — an
exception, or the process killed mid-epoch or mid-save — and started again with the same script
ends with the same weights, optimizer state, random state and History, bit for bit, as a run that
was never interrupted (shuffling and Dropout included).

How this differs from Keras 3:

- Keras saves the weights and an ``{"epoch", "batch"}`` JSON; it restores only the epoch, so a
  run interrupted mid-epoch repeats that epoch from its start, the random streams and metric
  totals are not restored, and the History of a resumed ``fit`` holds only the epochs it ran.
  Here the run continues after the last saved batch and History holds every epoch.
- Keras writes its two files in place: a kill during the write leaves a backup it cannot read
  (hence its ``double_checkpoint``).  Here the backup is one file replaced atomically, so a kill
  mid-save leaves the previous backup intact.  ``double_checkpoint=True`` is still accepted: it
  also keeps the previous backup as ``training_state.h5.bkp`` and falls back to it when the
  latest cannot be read (e.g. damaged by the disk).
- On a successful end, ``delete_checkpoint`` removes only this callback's files (and the directory
  if it is then empty), not the whole directory.

Not restored: other callbacks' own state (EarlyStopping's wait, ReduceLROnPlateau's counters...);
the model, compile and fit arguments must be the same as in the interrupted run.  A Python
generator cannot be rewound, so with generator input the resumed epoch continues with whatever
the new generator yields.  Compiled metrics create their variables at the first batch; to restore
them before it, one sample of array or PyDataset input is run through ``test_step`` (as Keras's
symbolic build does) — for generator input with compiled metrics, call ``model.test_on_batch``
once before ``fit``.
"""

from __future__ import annotations

import contextlib
import os
import shutil

import numpy as np

from refkeras.callbacks.callback import Callback
from refkeras.saving import atomic, training_state
from refkeras.saving.object_registration import register_builtin
from refkeras.trainers import data_adapters
from refkeras.utils import tree


@register_builtin("keras.callbacks")
class BackupAndRestore(Callback):
    """Back up the full training state during ``fit``; restore it when ``fit`` starts again.

    Args:
        backup_dir: the directory of the backup; not to be shared with other runs or callbacks.
        save_freq: ``"epoch"`` (at each epoch end) or an integer N (every N batches, counted
            across epochs). Defaults to ``"epoch"``.
        double_checkpoint: also keep the previous backup, used if the latest cannot be read.
            Defaults to ``False``.
        delete_checkpoint: delete the backup when ``fit`` ends successfully. Defaults to
            ``True``.
    """

    FILENAME = "training_state.h5"

    def __init__(
        self,
        backup_dir: str | os.PathLike,
        save_freq: str | int = "epoch",
        double_checkpoint: bool = False,
        delete_checkpoint: bool = True,
    ):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (
            not isinstance(save_freq, int) or isinstance(save_freq, bool) or save_freq < 1
        ):
            raise ValueError(
                "Invalid value for argument `save_freq`. "
                f"Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, self.FILENAME)
        self._prev_path = self._path + ".bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    # --- restore ----------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you call "
                f"`fit()`. Model {self.model} is unbuilt. You can build it beforehand by calling "
                "it on a batch of data."
            )
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        candidates = [p for p in (self._path, self._prev_path) if os.path.exists(p)]
        if not candidates:
            return
        _build_compiled_metrics(self.model)
        for i, path in enumerate(candidates):
            try:
                state = training_state.load_training_state(path, self.model)
                break
            except OSError:  # unreadable (a kill cannot cause this: writes are atomic)
                if i + 1 == len(candidates) or not self.double_checkpoint:
                    raise
        self._batches_seen_since_last_saving = state["extra"].get("batches_since_saving", 0)
        self._last_batch_seen = max(state["step"] - 1, 0)  # the batch counting resumes after it
        self._current_epoch = state["epoch"]
        # fit() reads this right after on_train_begin (see Trainer.fit).
        self.model._resume = state

    # --- save -------------------------------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save(epoch=self._current_epoch, step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save(epoch=epoch + 1, step=0, finished_epoch=(epoch, logs))

    def _should_save_on_batch(self, batch) -> bool:
        """Count batches across epochs (as Keras, also with ``steps_per_execution``)."""
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch
            add_batches = batch + 1
        else:
            add_batches = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add_batches
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save(self, epoch: int, step: int, finished_epoch=None) -> None:
        history = self.model.history
        record = {"history": {}, "epoch": []}
        if history is not None:
            record = {
                "history": {k: list(v) for k, v in history.history.items()},
                "epoch": list(history.epoch),
            }
        if finished_epoch is not None and finished_epoch[0] not in record["epoch"]:
            # History (last in the callback list) has not seen this epoch end yet: add its logs
            # exactly as History will.
            done, logs = finished_epoch
            record["epoch"].append(done)
            for k, v in (logs or {}).items():
                record["history"].setdefault(k, []).append(v)
        if self.double_checkpoint and os.path.exists(self._path):
            with atomic.atomic_write(self._prev_path) as tmp:
                shutil.copyfile(self._path, tmp)
        training_state.save_training_state(
            self._path,
            self.model,
            epoch=epoch,
            step=step,
            history=record,
            extra={"batches_since_saving": self._batches_seen_since_last_saving},
        )

    # --- end --------------------------------------------------------------------------------

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for path in (self._path, self._prev_path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            atomic.clean_stale_temporaries(path)
        with contextlib.suppress(OSError):
            os.rmdir(self.backup_dir)  # only if empty


def _build_compiled_metrics(model) -> None:
    """Create the compiled metrics' variables (they appear at the first batch) so that a saved
    state can be restored into them: one ``test_step`` on one sample, then the metrics reset."""
    compiled = [getattr(model, "_compile_metrics", None), getattr(model, "_compile_loss", None)]
    if all(c is None or c.built for c in compiled):
        return
    adapter = getattr(getattr(model, "_epoch_iterator", None), "adapter", None)
    sample = None
    if isinstance(adapter, data_adapters.ArrayAdapter):
        x, y, sw = tree.map_structure(
            lambda a: None if a is None else np.asarray(a[:1]), adapter.data
        )
        sample = data_adapters.pack_x_y_sample_weight(x, y, sw)
    elif isinstance(adapter, data_adapters.PyDatasetAdapter) and adapter.num_batches:
        sample = data_adapters._standardize_batch(adapter.dataset[0], adapter.class_weight)
    if sample is None:
        raise ValueError(
            "BackupAndRestore cannot restore the compiled metrics before the first batch with "
            "generator input: call `model.test_on_batch(x, y)` on one batch before `fit()`."
        )
    model.test_step(sample)
    model.reset_metrics()
