"""``Sum``, ``Mean`` and ``MeanMetricWrapper`` (``keras/src/metrics/reduction_metrics.py``).

Values are first reduced to one value per sample by :func:`reduce_to_samplewise_values`::

    values of shape (batch, d1, ...) with weights of shape (batch, w1, ...) (w rank <= values rank):
      values  <- reduce(values over the axes the weights lack)       # mean for Mean, sum for Sum
      values  <- values * weights ; then reduce over all axes but the first
      weights <- reduce(weights over all axes but the first)

so ``Mean`` accumulates ``total += sum(values)`` and ``count += sum(weights)`` (or the batch size
when there are no weights), and returns ``total / count`` (``0`` when ``count == 0``).
"""

from __future__ import annotations

import numpy as np

from refkeras import config, ops
from refkeras.backend import to_numpy
from refkeras.backend.tensor import Tensor
from refkeras.losses import loss as loss_module
from refkeras.metrics.metric import Metric
from refkeras.saving import serialization_lib
from refkeras.saving.object_registration import register_builtin


def as_array(x, dtype=None) -> np.ndarray:
    """``x`` (tensor, variable, array or Python value) as a NumPy array, converted the way
    ``ops.convert_to_tensor`` does (Python floats become ``floatx``)."""
    return to_numpy(ops.convert_to_tensor(x, dtype=dtype).value)


def detach(x):
    """A tensor's value without its autodiff history (metrics are never differentiated)."""
    if isinstance(x, Tensor) and x.node is not None:
        out = Tensor(x.value)
        out._keras_mask = x._keras_mask
        return out
    return x


def same_rank(x1, x2, expand_rank_1: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """:func:`refkeras.losses.loss.squeeze_or_expand_to_same_rank` on NumPy arrays."""
    a, b = loss_module.squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1)
    return np.asarray(a), np.asarray(b)


def divide_no_nan(x1, x2) -> np.ndarray:
    """``x1 / x2``, and ``0`` where ``x2 == 0``."""
    x1, x2 = np.asarray(x1), np.asarray(x2)
    safe = np.where(x2 == 0, np.ones_like(x2), x2)
    return np.where(x2 == 0, np.zeros_like(x1 / safe), x1 / safe)


def as_tensor(x, dtype=None) -> Tensor:
    """``x`` as a Tensor without autodiff history (``ops.convert_to_tensor`` rules).  The
    reduction metrics and the accuracy functions compute with ops on these, so that a compiled
    backend can trace them (NumPy on a traced value fails)."""
    return ops.convert_to_tensor(detach(x), dtype=dtype)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """``(values, sample_weight)`` reduced to one entry per sample (see the module docstring);
    ``reduce_fn`` is ``ops.mean`` or ``ops.sum``.

    A mask attached to ``values`` (``_keras_mask``) is folded into ``sample_weight`` only when
    sample weights are given (as Keras does).
    """
    dtype = dtype or config.floatx()
    mask = loss_module.get_keras_mask(values)
    values = as_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype)
        if mask is not None:
            sample_weight = loss_module.apply_mask(
                sample_weight, mask, dtype=dtype, reduction="sum"
            )
        values, sample_weight = loss_module.squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = sample_weight.ndim
        values_ndim = values.ndim
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
        sample_weight = ops.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


@register_builtin("keras.metrics")
class Sum(Metric):
    """The (weighted) sum of the values: ``total += sum(values * sample_weight)``.

    Defaults: ``name="sum"``, ``dtype=None`` (floatx).
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(
            values, sample_weight, reduce_fn=ops.sum, dtype=self.dtype
        )
        self.total.assign_add(ops.sum(values))

    def reset_state(self):
        self.total.assign(0)

    def result(self):
        return ops.cast(self.total, self.dtype)


@register_builtin("keras.metrics")
class Mean(Metric):
    """The (weighted) mean of the values: ``total / count``.

    ``total += sum(values * sample_weight)``; ``count += sum(sample_weight)`` (or the batch size
    without weights).  Defaults: ``name="mean"``, ``dtype=None`` (floatx).
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="count"
        )

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(
            values, sample_weight, reduce_fn=ops.mean, dtype=self.dtype
        )
        self.total.assign_add(ops.sum(values))
        if sample_weight is not None:
            num_samples = ops.sum(sample_weight)
        elif values.ndim >= 1:
            num_samples = values.shape[0]
        else:
            num_samples = 1
        self.count.assign_add(ops.cast(num_samples, self.dtype))

    def reset_state(self):
        self.total.assign(0)
        self.count.assign(0)

    def result(self):
        return loss_module.divide_no_nan(self.total, self.count)


@register_builtin("keras.metrics")
class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    A mask on ``y_pred`` (``_keras_mask``) is folded into ``sample_weight`` as 0/1 weights.
    Example: ``MeanMetricWrapper(fn=mean_squared_error, name="mse")``.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        self._direction = "down" if getattr(fn, "_keras_module", None) == "keras.losses" else None

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = loss_module.get_keras_mask(y_pred)
        values = self._fn(detach(y_true), detach(y_pred), **self._fn_kwargs)
        if sample_weight is not None or mask is not None:
            sample_weight = loss_module.apply_mask(
                None if sample_weight is None else as_tensor(sample_weight, self.dtype),
                mask,
                dtype=self.dtype,
                reduction="sum",
            )
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        base_config = super().get_config()
        config = {"fn": serialization_lib.serialize_keras_object(self._fn)}
        config.update(serialization_lib.serialize_keras_object(self._fn_kwargs))
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config: dict):
        if "fn" in config:
            from refkeras.metrics import deserialize

            config = dict(config)
            config["fn"] = deserialize(config["fn"])
        return cls(**config)
