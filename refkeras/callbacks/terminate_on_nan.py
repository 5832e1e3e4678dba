"""``TerminateOnNaN``: stop training at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import numpy as np

from refkeras.callbacks.callback import Callback
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.callbacks")
class TerminateOnNaN(Callback):
    """Checks ``logs["loss"]`` after every training batch.

    Args:
        raise_error: ``False`` prints ``Batch i: Invalid loss, terminating training`` and sets
            ``model.stop_training`` (the epoch's remaining batches are skipped and every
            callback's ``on_train_end`` still runs); ``True`` raises a RuntimeError at once.
            Defaults to ``False``.
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        # on_train_batch_end forwards here (the Callback base's alias).
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. "
                    f"Loss value: {loss}. Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.model.stop_training = True
