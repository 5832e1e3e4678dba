"""``History``: records each epoch's logs; ``fit`` returns it."""

from __future__ import annotations

from refkeras.callbacks.callback import Callback
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.callbacks")
class History(Callback):
    """``history.history`` maps each log key (``loss``, ``val_loss``, metrics...) to a list with one
    value per epoch; ``history.epoch`` lists the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        self.model.history = self
