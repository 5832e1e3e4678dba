"""The ``Callback`` base: hooks the training loop calls (all no-ops here).

Order in ``fit``: on_train_begin; per epoch: on_epoch_begin, per batch on_train_batch_begin /
on_train_batch_end, then (when validating) on_test_begin ... on_test_end, then on_epoch_end
(whose ``logs`` holds the epoch's training and ``val_`` metrics); finally on_train_end.
"""

from __future__ import annotations

from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.callbacks")
class Callback:
    """Base class for callbacks: ``self.model`` and ``self.params`` are set by the loop."""

    def __init__(self):
        self.validation_data = None
        self._model = None
        self.params = {}

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """A backwards compatibility alias for `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass
