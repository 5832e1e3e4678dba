"""The built-in losses: one function per formula, and a ``Loss`` class wrapping each
(``keras/src/losses/losses.py``).

Every function takes ``(y_true, y_pred)`` and returns per-sample values (the last axis reduced,
unless the formula is elementwise); the classes add the reduction and sample weighting of
:class:`~refkeras.losses.loss.Loss`.  The crossentropies go through ``ops.binary_crossentropy`` /
``ops.categorical_crossentropy`` / ``ops.sparse_categorical_crossentropy``, which clip
probabilities to ``[epsilon, 1 - epsilon]`` (``epsilon = 1e-7``) as Keras does.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from refkeras import config, ops
from refkeras.losses.loss import (
    Loss,
    set_keras_mask,
    squeeze_or_expand_to_same_rank,
)
from refkeras.saving import serialization_lib
from refkeras.saving.object_registration import register_builtin
from refkeras.utils import tree


def _builtin_fn(fn):
    """Register a loss function (``keras.losses.<name>``) so configs can name it."""
    fn._keras_module = "keras.losses"
    return register_builtin("keras.losses")(fn)


# --- the wrapper -------------------------------------------------------------------------------


@register_builtin("keras.losses")
class LossFunctionWrapper(Loss):
    """A ``Loss`` around a function ``fn(y_true, y_pred, **kwargs)``.

    Before calling ``fn``, ``y_true`` and ``y_pred`` are brought to the same rank by
    :func:`~refkeras.losses.loss.squeeze_or_expand_to_same_rank` (so ``(batch,)`` targets work with
    ``(batch, 1)`` predictions).
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        if tree.is_nested(y_true):
            pairs = tree.map_structure(squeeze_or_expand_to_same_rank, y_true, y_pred)
            y_true = tree.map_structure(lambda p: p[0], pairs)
            y_pred = tree.map_structure(lambda p: p[1], pairs)
        else:
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"fn": serialization_lib.serialize_keras_object(self.fn)})
        config.update(serialization_lib.serialize_keras_object(self._fn_kwargs))
        return config

    @classmethod
    def from_config(cls, config: dict):
        if "fn" in config:
            from refkeras.losses import deserialize

            config = dict(config)
            config["fn"] = deserialize(config["fn"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class _BuiltinLoss(LossFunctionWrapper):
    """A built-in wrapper whose config is the base ``Loss`` config (``name``, ``reduction``),
    plus the attributes named in ``_config_keys`` — exactly the keys Keras writes."""

    _config_keys: tuple[str, ...] = ()

    def get_config(self) -> dict:
        config = Loss.get_config(self)
        config.update({k: getattr(self, k) for k in self._config_keys})
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


# --- regression --------------------------------------------------------------------------------


def _pair(y_true, y_pred):
    """``y_pred`` as a float tensor and ``y_true`` in its dtype, at the same rank."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


@_builtin_fn
def mean_squared_error(y_true, y_pred):
    """``mean(square(y_true - y_pred), axis=-1)``"""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


@_builtin_fn
def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)``"""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


@_builtin_fn
def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / maximum(abs(y_true), epsilon)), axis=-1)``"""
    y_true, y_pred = _pair(y_true, y_pred)
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), config.epsilon()))
    return 100.0 * ops.mean(diff, axis=-1)


@_builtin_fn
def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``"""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = config.epsilon()
    first_log = ops.log(ops.maximum(y_pred, eps) + 1.0)
    second_log = ops.log(ops.maximum(y_true, eps) + 1.0)
    return ops.mean(ops.square(first_log - second_log), axis=-1)


def l2_normalize(x, axis=-1):
    """``x * minimum(rsqrt(sum(x^2, axis)), 1 / epsilon)`` (``keras.ops.normalize``, order 2)."""
    x = ops.convert_to_tensor(x)
    if x.ndim == 0:
        x = ops.expand_dims(x, axis=0)
    with np.errstate(divide="ignore"):  # rsqrt(0) = inf is capped at 1 / epsilon
        inv_norm = ops.rsqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    return x * ops.minimum(inv_norm, 1.0 / config.epsilon())


@_builtin_fn
def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for parallel vectors,
    0 if either is a zero vector."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -ops.sum(l2_normalize(y_true, axis=axis) * l2_normalize(y_pred, axis=axis), axis=axis)


@_builtin_fn
def huber(y_true, y_pred, delta=1.0):
    """``mean(0.5 e^2 if |e| <= delta else delta |e| - 0.5 delta^2, axis=-1)``, ``e = y_pred -
    y_true``."""
    y_true, y_pred = _pair(y_true, y_pred)
    delta = ops.convert_to_tensor(delta, dtype=y_pred.dtype)
    error = y_pred - y_true
    abs_error = ops.abs(error)
    half = ops.convert_to_tensor(0.5, dtype=abs_error.dtype)
    return ops.mean(
        ops.where(
            abs_error <= delta,
            half * ops.square(error),
            delta * abs_error - half * ops.square(delta),
        ),
        axis=-1,
    )


@_builtin_fn
def log_cosh(y_true, y_pred):
    """``mean(log(cosh(e)), axis=-1)`` computed as ``e + softplus(-2e) - log(2)``, ``e = y_pred -
    y_true``."""
    y_true, y_pred = _pair(y_true, y_pred)
    log2 = ops.convert_to_tensor(math.log(2.0), dtype=y_pred.dtype)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(x * -2.0) - log2, axis=-1)


# --- probabilistic -----------------------------------------------------------------------------


@_builtin_fn
def kl_divergence(y_true, y_pred):
    """``sum(t * log(t / p), axis=-1)`` with ``t, p`` clipped to ``[epsilon, 1]``."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, y_pred.dtype)
    y_true = ops.clip(y_true, config.epsilon(), 1)
    y_pred = ops.clip(y_pred, config.epsilon(), 1)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


@_builtin_fn
def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``"""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
    return ops.mean(y_pred - y_true * ops.log(y_pred + config.epsilon()), axis=-1)


def _check_int_axis(axis) -> None:
    if isinstance(axis, bool):
        raise ValueError(
            f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}"
        )


def _warn_single_class(name: str, y_pred) -> None:
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {name}, expected "
            "y_pred.shape to be (batch_size, num_classes) "
            f"with num_classes > 1. Received: y_pred.shape={y_pred.shape}. "
            "Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def _smooth_categorical(y_true, label_smoothing, dtype):
    """``t (1 - s) + s / num_classes`` (``num_classes`` = the last dim of ``y_true``)."""
    num_classes = ops.cast(y_true.shape[-1], dtype)
    return y_true * (1.0 - label_smoothing) + (label_smoothing / num_classes)


@_builtin_fn
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``mean(-[t log p + (1 - t) log(1 - p)], axis)`` with ``t`` smoothed to
    ``t (1 - s) + s / 2``; ``p`` clipped to ``[eps, 1 - eps]`` (or from logits)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


@_builtin_fn
def binary_focal_crossentropy(
    y_true,
    y_pred,
    apply_class_balancing=False,
    alpha=0.25,
    gamma=2.0,
    from_logits=False,
    label_smoothing=0.0,
    axis=-1,
):
    """``mean(w (1 - p_t)^gamma bce, axis)`` with ``p_t = t p + (1 - t)(1 - p)`` and, with
    class balancing, ``w = t alpha + (1 - t)(1 - alpha)`` (else ``w = 1``)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        weight = y_true * alpha + (1 - y_true) * (1 - alpha)
        focal_bce = weight * focal_bce
    return ops.mean(focal_bce, axis=axis)


@_builtin_fn
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(t log p, axis)``, ``t`` smoothed to ``t (1 - s) + s / num_classes``; ``p`` is
    ``y_pred`` renormalised and clipped to ``[eps, 1 - eps]`` (or ``log_softmax`` of logits)."""
    _check_int_axis(axis)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    _warn_single_class("categorical_crossentropy", y_pred)
    if label_smoothing:
        y_true = _smooth_categorical(y_true, label_smoothing, y_pred.dtype)
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


@_builtin_fn
def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """``sum(alpha (1 - p)^gamma (-t log p), axis)`` with ``p`` renormalised and clipped."""
    _check_int_axis(axis)
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    _warn_single_class("categorical_focal_crossentropy", y_pred)
    if label_smoothing:
        y_true = _smooth_categorical(y_true, label_smoothing, y_pred.dtype)
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    eps = config.epsilon()
    output = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
    output = ops.clip(output, eps, 1.0 - eps)
    cce = -y_true * ops.log(output)
    focal_cce = ops.multiply(ops.power(1.0 - output, gamma), alpha) * cce
    return ops.sum(focal_cce, axis=axis)


@_builtin_fn
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """``-log p[y_true]`` along ``axis`` (integer class ids; a trailing size-1 axis of ``y_true``
    is squeezed).  Entries whose label equals ``ignore_class`` get loss 0 and are masked out of
    the reduction (the result carries ``_keras_mask``)."""
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[axis] == 1:
        y_true = ops.squeeze(y_true, axis=axis)
    if ignore_class is not None:
        class_axis = axis % y_pred.ndim
        res_shape = tuple(d for i, d in enumerate(y_pred.shape) if i != class_axis)
        valid_mask = ops.not_equal(y_true, ops.cast(ignore_class, y_pred.dtype))
        y_true = ops.where(valid_mask, y_true, 0)
        y_pred = ops.where(ops.expand_dims(valid_mask, axis), y_pred, 0)
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 at ignored entries: masked below
        res = ops.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=from_logits, axis=axis
        )
    if ignore_class is not None:
        valid_mask = ops.reshape(valid_mask, res_shape)
        res = ops.where(valid_mask, res, 0.0)
        set_keras_mask(res, valid_mask)
    return res


# --- hinge -------------------------------------------------------------------------------------


def convert_binary_labels_to_hinge(y_true):
    """Labels in {0, 1} become {-1, 1} (``2 t - 1``); other labels are returned unchanged."""
    is_binary = bool(ops.all(ops.logical_or(ops.equal(y_true, 0), ops.equal(y_true, 1))))
    return 2.0 * y_true - 1.0 if is_binary else y_true


@_builtin_fn
def hinge(y_true, y_pred):
    """``mean(maximum(1 - t * y_pred, 0), axis=-1)``, ``t`` in {-1, 1} (0/1 labels converted)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = convert_binary_labels_to_hinge(ops.cast(y_true, y_pred.dtype))
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


@_builtin_fn
def squared_hinge(y_true, y_pred):
    """``mean(square(maximum(1 - t * y_pred, 0)), axis=-1)``, ``t`` in {-1, 1}."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = convert_binary_labels_to_hinge(ops.cast(y_true, y_pred.dtype))
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


@_builtin_fn
def categorical_hinge(y_true, y_pred):
    """``maximum(neg - pos + 1, 0)`` with ``pos = sum(t * y_pred)`` and
    ``neg = max((1 - t) * y_pred)`` over the last axis."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


# --- segmentation ------------------------------------------------------------------------------


@_builtin_fn
def dice(y_true, y_pred, axis=None):
    """``1 - 2 sum(t p) / (sum(t) + sum(p) + epsilon)`` over ``axis`` (all axes by default)."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    denominator = ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + config.epsilon()
    return 1 - ops.divide(2.0 * intersection, denominator)


@_builtin_fn
def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + alpha FP + beta FN + epsilon)`` with ``TP = sum(t p)``,
    ``FP = sum((1 - p) t)``, ``FN = sum(p (1 - t))`` (Keras's naming) over ``axis``."""
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    fp = ops.sum((1 - y_pred) * y_true, axis=axis)
    fn = ops.sum(y_pred * (1 - y_true), axis=axis)
    return 1 - ops.divide(intersection, intersection + fp * alpha + fn * beta + config.epsilon())


# --- the classes -------------------------------------------------------------------------------
# Each class passes its function and keyword arguments to LossFunctionWrapper.  Default names and
# config keys are Keras's (note: Keras's Huber and CosineSimilarity configs omit `delta`/`axis`).


@register_builtin("keras.losses")
class MeanSquaredError(_BuiltinLoss):
    """``loss = mean(square(y_true - y_pred))``; defaults: ``reduction="sum_over_batch_size"``,
    ``name="mean_squared_error"``."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


@register_builtin("keras.losses")
class MeanAbsoluteError(_BuiltinLoss):
    """``loss = mean(abs(y_true - y_pred))``; ``name="mean_absolute_error"``."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


@register_builtin("keras.losses")
class MeanAbsolutePercentageError(_BuiltinLoss):
    """``loss = 100 * mean(abs((y_true - y_pred) / y_true))`` (denominator at least epsilon);
    ``name="mean_absolute_percentage_error"``."""

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_absolute_percentage_error",
        dtype=None,
    ):
        super().__init__(
            mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype
        )


@register_builtin("keras.losses")
class MeanSquaredLogarithmicError(_BuiltinLoss):
    """``loss = mean(square(log(y_true + 1) - log(y_pred + 1)))``;
    ``name="mean_squared_logarithmic_error"``."""

    def __init__(
        self,
        reduction="sum_over_batch_size",
        name="mean_squared_logarithmic_error",
        dtype=None,
    ):
        super().__init__(
            mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype
        )


@register_builtin("keras.losses")
class CosineSimilarity(_BuiltinLoss):
    """``loss = -sum(l2_norm(y_true) * l2_norm(y_pred), axis)``; ``axis=-1``,
    ``name="cosine_similarity"``."""

    def __init__(
        self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None
    ):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)


@register_builtin("keras.losses")
class Huber(_BuiltinLoss):
    """``loss = mean(0.5 e^2 if |e| <= delta else delta |e| - 0.5 delta^2)``; ``delta=1.0``,
    ``name="huber_loss"``."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


@register_builtin("keras.losses")
class LogCosh(_BuiltinLoss):
    """``loss = mean(log(cosh(y_pred - y_true)))``; ``name="log_cosh"``."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)


@register_builtin("keras.losses")
class Hinge(_BuiltinLoss):
    """``loss = maximum(1 - y_true * y_pred, 0)`` (0/1 labels converted to -1/1);
    ``name="hinge"``."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


@register_builtin("keras.losses")
class SquaredHinge(_BuiltinLoss):
    """``loss = square(maximum(1 - y_true * y_pred, 0))``; ``name="squared_hinge"``."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


@register_builtin("keras.losses")
class CategoricalHinge(_BuiltinLoss):
    """``loss = maximum(neg - pos + 1, 0)``, ``pos = sum(y_true * y_pred)``,
    ``neg = max((1 - y_true) * y_pred)``; ``name="categorical_hinge"``."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)


@register_builtin("keras.losses")
class KLDivergence(_BuiltinLoss):
    """``loss = y_true * log(y_true / y_pred)`` summed over the last axis;
    ``name="kl_divergence"``."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


@register_builtin("keras.losses")
class Poisson(_BuiltinLoss):
    """``loss = y_pred - y_true * log(y_pred)``; ``name="poisson"``."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)


@register_builtin("keras.losses")
class BinaryCrossentropy(_BuiltinLoss):
    """``loss = -[t log p + (1 - t) log(1 - p)]`` averaged over ``axis``.

    Defaults: ``from_logits=False``, ``label_smoothing=0.0`` (``t -> t (1 - s) + s / 2``),
    ``axis=-1``, ``name="binary_crossentropy"``.
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


@register_builtin("keras.losses")
class BinaryFocalCrossentropy(_BuiltinLoss):
    """``loss = mean(w (1 - p_t)^gamma bce)`` (see :func:`binary_focal_crossentropy`).

    Defaults: ``apply_class_balancing=False``, ``alpha=0.25``, ``gamma=2.0``,
    ``from_logits=False``, ``label_smoothing=0.0``, ``axis=-1``,
    ``name="binary_focal_crossentropy"``.
    """

    _config_keys = (
        "from_logits",
        "label_smoothing",
        "axis",
        "apply_class_balancing",
        "alpha",
        "gamma",
    )

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_focal_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma


@register_builtin("keras.losses")
class CategoricalCrossentropy(_BuiltinLoss):
    """``loss = -sum(t log p, axis)`` for one-hot ``y_true``.

    Defaults: ``from_logits=False``, ``label_smoothing=0.0`` (``t -> t (1 - s) + s / C``),
    ``axis=-1``, ``name="categorical_crossentropy"``.
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


@register_builtin("keras.losses")
class CategoricalFocalCrossentropy(_BuiltinLoss):
    """``loss = sum(alpha (1 - p)^gamma (-t log p), axis)``.

    Defaults: ``alpha=0.25``, ``gamma=2.0``, ``from_logits=False``, ``label_smoothing=0.0``,
    ``axis=-1``, ``name="categorical_focal_crossentropy"``.
    """

    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_focal_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.alpha = alpha
        self.gamma = gamma


@register_builtin("keras.losses")
class SparseCategoricalCrossentropy(_BuiltinLoss):
    """``loss = -log p[y_true]`` for integer ``y_true``.

    Defaults: ``from_logits=False``, ``ignore_class=None`` (a label whose entries are masked
    out), ``axis=-1``, ``name="sparse_categorical_crossentropy"``.  (Keras's config has no
    ``axis``.)
    """

    _config_keys = ("from_logits", "ignore_class")

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            sparse_categorical_crossentropy,
            name=name,
            reduction=reduction,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class


@register_builtin("keras.losses")
class Dice(_BuiltinLoss):
    """``loss = 1 - 2 sum(t p) / (sum(t) + sum(p))``; ``axis=None``, ``name="dice"``."""

    _config_keys = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis


@register_builtin("keras.losses")
class Tversky(_BuiltinLoss):
    """``loss = 1 - TP / (TP + alpha FP + beta FN)``; ``alpha=0.5``, ``beta=0.5``,
    ``axis=None``, ``name="tversky"``."""

    _config_keys = ("alpha", "beta", "axis")

    def __init__(
        self,
        alpha=0.5,
        beta=0.5,
        reduction="sum_over_batch_size",
        name="tversky",
        axis=None,
        dtype=None,
    ):
        super().__init__(
            tversky,
            name=name,
            reduction=reduction,
            dtype=dtype,
            alpha=alpha,
            beta=beta,
            axis=axis,
        )
        self.alpha = alpha
        self.beta = beta
        self.axis = axis
