"""Accuracy metrics (``keras/src/metrics/accuracy_metrics.py``): a function giving 1.0/0.0 per
sample, and a ``MeanMetricWrapper`` class averaging it.

Ties in ``argmax`` go to the first index (as in NumPy and JAX); ``in_top_k`` counts a target as a
hit when fewer than ``k`` predictions are *strictly* larger than its own (so ties are hits).
"""

from __future__ import annotations

import numpy as np

from refkeras import config, ops
from refkeras.losses import loss as loss_module
from refkeras.metrics.reduction_metrics import MeanMetricWrapper, as_array, as_tensor
from refkeras.saving.object_registration import register_builtin


def _builtin_fn(fn):
    fn._keras_module = "keras.metrics"
    return register_builtin("keras.metrics")(fn)


def _floatx_tensor(x):
    return ops.convert_to_tensor(np.asarray(x).astype(config.floatx()))


# The four accuracies below use ops only (no NumPy on the values), so that compiled backends can
# trace them inside a training step.


def _same_rank(y_true, y_pred):
    return loss_module.squeeze_or_expand_to_same_rank(y_true, y_pred)


@_builtin_fn
def accuracy(y_true, y_pred):
    """``y_true == y_pred`` elementwise, as floats."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=y_pred.dtype)
    y_true, y_pred = _same_rank(y_true, y_pred)
    return ops.cast(ops.equal(y_true, y_pred), config.floatx())


@_builtin_fn
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """``y_true == (y_pred > threshold)`` elementwise, as floats (``threshold=0.5``)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true)
    threshold = as_tensor(threshold)
    y_true, y_pred = _same_rank(y_true, y_pred)
    y_pred = ops.cast(ops.greater(y_pred, threshold), y_true.dtype)
    return ops.cast(ops.equal(y_true, y_pred), config.floatx())


@_builtin_fn
def categorical_accuracy(y_true, y_pred):
    """``argmax(y_true, -1) == argmax(y_pred, -1)`` per sample (one-hot targets)."""
    y_true = ops.argmax(as_tensor(y_true), axis=-1)
    y_pred = as_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    y_true_org_shape = y_true.shape
    reshape_matches = False
    if y_true.ndim == y_pred.ndim:
        y_true = ops.squeeze(y_true, -1)
        reshape_matches = True
    y_pred = ops.cast(ops.argmax(y_pred, axis=-1), y_true.dtype)
    matches = ops.cast(ops.equal(y_true, y_pred), config.floatx())
    if reshape_matches:
        matches = ops.reshape(matches, y_true_org_shape)
    return matches


@_builtin_fn
def sparse_categorical_accuracy(y_true, y_pred):
    """``y_true == argmax(y_pred, -1)`` per sample (integer targets; a trailing size-1 axis of
    ``y_true`` is squeezed)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, dtype=y_pred.dtype)
    y_true_org_shape = y_true.shape
    reshape_matches = False
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1)
        reshape_matches = True
    y_pred = ops.cast(ops.argmax(y_pred, axis=-1), y_true.dtype)
    matches = ops.cast(ops.equal(y_true, y_pred), config.floatx())
    if reshape_matches:
        matches = ops.reshape(matches, y_true_org_shape)
    if matches.ndim > 1 and matches.shape[-1] == 1:
        matches = ops.squeeze(matches, -1)
    return matches


def in_top_k(targets: np.ndarray, predictions: np.ndarray, k: int) -> np.ndarray:
    """Whether ``predictions[i, targets[i]]`` ranks among the top ``k`` of row ``i``: its rank is
    ``1 + #(entries strictly larger)``; a NaN target score ranks last (Keras's JAX backend)."""
    at_label = np.take_along_axis(predictions, targets[:, None].astype(np.int64), axis=-1)
    at_label = np.where(np.isnan(at_label), -np.inf, at_label)
    rank = 1 + np.sum(predictions > at_label, axis=-1)
    return rank <= k


def _top_k_matches(y_true, y_pred, k):
    y_true_org_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    reshape_matches = y_true.ndim > 1
    if reshape_matches:
        y_true = y_true.reshape(-1)
    matches = in_top_k(y_true, y_pred, k).astype(config.floatx())
    if reshape_matches:
        matches = matches.reshape(y_true_org_shape)
    return ops.convert_to_tensor(matches)


@_builtin_fn
def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Whether the target class (``argmax(y_true)``) is among the ``k`` largest predictions."""
    y_pred = as_array(y_pred)
    y_true = np.argmax(as_array(y_true, dtype=str(y_pred.dtype)), axis=-1).astype(np.int32)
    return _top_k_matches(y_true, y_pred, k)


@_builtin_fn
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """Whether the integer target is among the ``k`` largest predictions; with
    ``from_sorted_ids=True`` ``y_pred`` holds class ids sorted by score and the target must be
    among its first ``k``."""
    y_pred = as_array(y_pred)
    y_true = as_array(y_true, dtype=str(y_pred.dtype) if from_sorted_ids else "int32")
    if not from_sorted_ids:
        return _top_k_matches(y_true, y_pred, k)
    y_true_org_shape = y_true.shape
    if y_pred.ndim > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    y_true = y_true.reshape(-1)
    matches = np.any(y_true[:, None] == y_pred[:, :k], axis=1).astype(config.floatx())
    return ops.convert_to_tensor(matches.reshape(y_true_org_shape))


@register_builtin("keras.metrics")
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels: ``mean(y_true == y_pred)``; ``name="accuracy"``."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


@register_builtin("keras.metrics")
class BinaryAccuracy(MeanMetricWrapper):
    """``mean(y_true == (y_pred > threshold))``; ``threshold=0.5``, ``name="binary_accuracy"``."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


@register_builtin("keras.metrics")
class CategoricalAccuracy(MeanMetricWrapper):
    """``mean(argmax(y_true) == argmax(y_pred))`` for one-hot labels;
    ``name="categorical_accuracy"``."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


@register_builtin("keras.metrics")
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """``mean(y_true == argmax(y_pred))`` for integer labels;
    ``name="sparse_categorical_accuracy"``."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


@register_builtin("keras.metrics")
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top ``k`` predictions; ``k=5``,
    ``name="top_k_categorical_accuracy"``."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


@register_builtin("keras.metrics")
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top ``k`` predictions; ``k=5``,
    ``from_sorted_ids=False``, ``name="sparse_top_k_categorical_accuracy"``."""

    def __init__(
        self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False
    ):
        super().__init__(
            fn=sparse_top_k_categorical_accuracy,
            name=name,
            dtype=dtype,
            k=k,
            from_sorted_ids=from_sorted_ids,
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._direction = "up"

    def get_config(self) -> dict:
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
