"""``LambdaCallback``: a callback built from plain functions."""

from __future__ import annotations

from refkeras.callbacks.callback import Callback
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.callbacks")
class LambdaCallback(Callback):
    """Each given function replaces the hook of the same name, called positionally:
    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``, ``on_train_batch_begin(batch, logs)``,
    ``on_train_batch_end(batch, logs)``.

    Any other hook of :class:`Callback` is given by keyword, e.g.
    ``LambdaCallback(on_test_end=lambda logs: ...)`` (Keras stores every keyword argument as an
    attribute). All default to ``None`` (the hook does nothing).
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        self.__dict__.update(kwargs)
        if on_epoch_begin is not None:
            self.on_epoch_begin = on_epoch_begin
        if on_epoch_end is not None:
            self.on_epoch_end = on_epoch_end
        if on_train_begin is not None:
            self.on_train_begin = on_train_begin
        if on_train_end is not None:
            self.on_train_end = on_train_end
        if on_train_batch_begin is not None:
            self.on_train_batch_begin = on_train_batch_begin
        if on_train_batch_end is not None:
            self.on_train_batch_end = on_train_batch_end
