"""``CallbackList``: dispatches each hook to every callback, adding History and ProgbarLogger."""

from __future__ import annotations

import numpy as np

from refkeras.callbacks.callback import Callback
from refkeras.callbacks.history import History
from refkeras.callbacks.progbar_logger import ProgbarLogger
from refkeras.utils import tree


def pythonify_logs(logs):
    """Logs with tensors and NumPy scalars turned into Python floats, nested dicts flattened, keys
    sorted (as Keras does: this fixes the order of History's keys)."""
    out = {}
    for k, v in sorted((logs or {}).items()):
        if isinstance(v, dict):
            out.update(pythonify_logs(v))
            continue
        try:
            arr = np.asarray(v)
            out[k] = float(arr) if arr.ndim == 0 else arr
        except (TypeError, ValueError):
            out[k] = v
    return out


_HOOKS = [
    f"on_{when}_{what}"
    for what in ("begin", "end")
    for when in ("epoch", "batch", "train_batch", "test_batch", "predict_batch",
                 "train", "test", "predict")
]  # fmt: skip


class CallbackList(Callback):
    """Calls each hook on every callback in order, with pythonified logs."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = tree.flatten(callbacks) if callbacks else []
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Expected `callbacks` to be Callback instances. Received: {cb!r}")
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.set_model(model)
        self.set_params(params)

    def set_params(self, params):
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)


def _make_hook(name):
    takes_index = not name.startswith(("on_train_", "on_test_", "on_predict_")) or "batch" in name

    if takes_index:

        def hook(self, index, logs=None):
            logs = pythonify_logs(logs)
            for cb in self.callbacks:
                getattr(cb, name)(index, logs=logs)
    else:

        def hook(self, logs=None):
            logs = pythonify_logs(logs)
            for cb in self.callbacks:
                getattr(cb, name)(logs=logs)

    hook.__name__ = name
    return hook


for _name in _HOOKS:
    setattr(CallbackList, _name, _make_hook(_name))
