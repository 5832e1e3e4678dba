"""Probabilistic and hinge metrics (``keras/src/metrics/probabilistic_metrics.py``,
``hinge_metrics.py``): the mean, over all samples seen, of the loss function of the same name (see
:mod:`refkeras.losses.losses` for the formulas)."""

from __future__ import annotations

from refkeras.losses.losses import (
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from refkeras.metrics.reduction_metrics import MeanMetricWrapper
from refkeras.saving.object_registration import register_builtin


class _NameDtypeConfig:
    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


@register_builtin("keras.metrics")
class KLDivergence(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(sum(y_true * log(y_true / y_pred), -1))``; ``name="kl_divergence"``."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(fn=kl_divergence, name=name, dtype=dtype)


@register_builtin("keras.metrics")
class Poisson(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(y_pred - y_true * log(y_pred))``; ``name="poisson"``."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(fn=poisson, name=name, dtype=dtype)


@register_builtin("keras.metrics")
class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary crossentropy; ``from_logits=False``, ``label_smoothing=0``,
    ``name="binary_crossentropy"``."""

    def __init__(
        self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0
    ):
        super().__init__(
            binary_crossentropy,
            name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self._direction = "down"

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }


@register_builtin("keras.metrics")
class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical crossentropy; ``from_logits=False``, ``label_smoothing=0``,
    ``axis=-1``, ``name="categorical_crossentropy"``."""

    def __init__(
        self,
        name="categorical_crossentropy",
        dtype=None,
        from_logits=False,
        label_smoothing=0,
        axis=-1,
    ):
        super().__init__(
            categorical_crossentropy,
            name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self._direction = "down"

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


@register_builtin("keras.metrics")
class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean sparse categorical crossentropy; ``from_logits=False``, ``ignore_class=None``,
    ``axis=-1``, ``name="sparse_categorical_crossentropy"``."""

    def __init__(
        self,
        name="sparse_categorical_crossentropy",
        dtype=None,
        from_logits=False,
        ignore_class=None,
        axis=-1,
    ):
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
        self._direction = "down"

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }


@register_builtin("keras.metrics")
class Hinge(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(maximum(1 - y_true * y_pred, 0))``; ``name="hinge"``."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(fn=hinge, name=name, dtype=dtype)
        self._direction = "down"


@register_builtin("keras.metrics")
class SquaredHinge(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(square(maximum(1 - y_true * y_pred, 0)))``; ``name="squared_hinge"``."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(fn=squared_hinge, name=name, dtype=dtype)
        self._direction = "down"


@register_builtin("keras.metrics")
class CategoricalHinge(_NameDtypeConfig, MeanMetricWrapper):
    """``mean(maximum(neg - pos + 1, 0))``; ``name="categorical_hinge"``."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(fn=categorical_hinge, name=name, dtype=dtype)
        self._direction = "down"
