"""The ``Loss`` base class and the reduction rules every loss shares (``keras/src/losses/loss.py``).

A loss is called as ``loss(y_true, y_pred, sample_weight=None)``:

1. ``y_true`` and ``y_pred`` are converted to the loss's dtype (``floatx()`` by default);
2. ``call(y_true, y_pred)`` gives the per-sample (or per-element) values;
3. masks (``y_pred._keras_mask`` and the mask ``call`` attaches to its result) are merged into the
   sample weights by :func:`apply_mask`;
4. the weights are brought to the values' rank by :func:`squeeze_or_expand_to_same_rank`, multiplied
   in, and :func:`reduce_values` applies the reduction.

Reductions (``reduction=``)::

    "sum_over_batch_size" (default), "mean":  sum(w * l) / size(w * l)
    "mean_with_sample_weight":                sum(w * l) / sum(w)    (size when w is None)
    "sum":                                    sum(w * l)
    "none", None:                             w * l

``size`` is the number of elements of the weighted values, so a loss on ``(batch, T)`` values is
averaged over ``batch * T``.  A masked ``"sum_over_batch_size"``/``"mean"`` divides by the number of
*unmasked* entries instead (masked entries get weight 0, the others ``total / valid``).
"""

from __future__ import annotations

import numpy as np

from refkeras import config, ops
from refkeras.backend.dtypes import standardize_dtype
from refkeras.saving.object_registration import register_builtin
from refkeras.utils import tree
from refkeras.utils.naming import auto_name, to_snake_case

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


@register_builtin("keras.losses")
class Loss:
    """Loss base class: subclass it and implement ``call(y_true, y_pred)``.

    Args:
        name: the loss's name; defaults to the snake-cased class name (made unique).
        reduction: one of ``"sum_over_batch_size"`` (default), ``"sum"``, ``"mean"``,
            ``"mean_with_sample_weight"``, ``"none"`` or ``None`` (see the module docstring).
        dtype: the dtype of the computation; defaults to ``floatx()`` (``"float32"``).

    Example::

        class MeanSquaredError(Loss):
            def call(self, y_true, y_pred):
                return ops.mean(ops.square(y_pred - y_true), axis=-1)
    """

    _keras_module = "keras.losses"

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or auto_name(to_snake_case(self.__class__.__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype = standardize_compute_dtype(dtype)

    @property
    def dtype(self) -> str:
        # `getattr`: subclasses in old guides forget `super().__init__()`; they get floatx().
        return getattr(self, "_dtype", None) or config.floatx()

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not hasattr(self, "reduction"):  # subclass that skipped `super().__init__()`
            Loss.__init__(self, name=getattr(self, "name", None))
        in_mask = get_keras_mask(y_pred)
        y_pred = self._convert(y_pred)
        y_true = self._convert(y_true)

        losses = self.call(y_true, y_pred)
        out_mask = get_keras_mask(losses)

        if in_mask is not None and out_mask is not None:
            mask = ops.logical_and(ops.cast(in_mask, "bool"), ops.cast(out_mask, "bool"))
        else:
            mask = in_mask if in_mask is not None else out_mask

        return reduce_weighted_values(
            losses,
            sample_weight=sample_weight,
            mask=mask,
            reduction=self.reduction,
            dtype=self.dtype,
        )

    def _convert(self, y):
        """Tensors (or nested structures of them) in the loss's dtype.  A (nested) list of plain
        numbers is one array, not a structure of scalars (Keras would map over its scalars)."""
        if isinstance(y, list | tuple) and all(
            isinstance(v, int | float | np.number) for v in tree.flatten(y)
        ):
            return ops.convert_to_tensor(np.asarray(y), dtype=self.dtype)
        return tree.map_structure(lambda x: ops.convert_to_tensor(x, dtype=self.dtype), y)

    def call(self, y_true, y_pred):
        raise NotImplementedError(  # abstract: every loss defines it
            f"Loss {type(self).__name__} must implement `call(y_true, y_pred)`."
        )

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def _obj_type(self) -> str:
        return "Loss"


def standardize_compute_dtype(dtype) -> str:
    """The computation dtype for ``dtype``: a dtype name, a dtype policy (its ``compute_dtype``),
    a policy name such as ``"mixed_float16"`` (``"float16"``), or ``None`` (``floatx()``)."""
    dtype = getattr(dtype, "compute_dtype", dtype)
    if isinstance(dtype, str) and dtype.startswith("mixed_"):
        dtype = dtype[len("mixed_") :]
    return standardize_dtype(dtype or config.floatx())


def get_keras_mask(x):
    """The mask a layer (or a loss function) attached to ``x``, or ``None``."""
    return getattr(x, "_keras_mask", None)


def set_keras_mask(x, mask) -> None:
    x._keras_mask = mask


def standardize_reduction(reduction):
    """``reduction`` if valid, else ``ValueError`` (Keras's message)."""
    if reduction not in REDUCTIONS:
        allowed = set(REDUCTIONS)
        raise ValueError(
            "Invalid value for argument `reduction`. "
            f"Expected one of {allowed}. Received: "
            f"reduction={reduction}"
        )
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Make ranks equal when they differ by exactly one and the longer's last dim is 1.

    The longer operand's trailing ``1`` is squeezed away — except that a rank-1 partner (a vector
    of per-sample values) is expanded to ``(n, 1)`` instead when ``expand_rank_1`` is true.
    Other rank differences are left to broadcasting (or to fail).
    """
    x1_rank = len(x1.shape)
    x2_rank = len(x2.shape)
    if x1_rank == x2_rank:
        return x1, x2
    if x1_rank == x2_rank + 1 and x1.shape[-1] == 1:
        if x2_rank == 1 and expand_rank_1:
            x2 = ops.expand_dims(x2, axis=-1)
        else:
            x1 = ops.squeeze(x1, axis=-1)
    if x2_rank == x1_rank + 1 and x2.shape[-1] == 1:
        if x1_rank == 1 and expand_rank_1:
            x1 = ops.expand_dims(x1, axis=-1)
        else:
            x2 = ops.squeeze(x2, axis=-1)
    return x1, x2


def divide_no_nan(x1, x2):
    """``x1 / x2``, and ``0`` where ``x2 == 0`` (differentiable in ``x1``)."""
    x1, x2 = ops.convert_to_tensor(x1), ops.convert_to_tensor(x2)
    zero = ops.equal(x2, 0)
    return ops.where(zero, 0.0, ops.divide(x1, ops.where(zero, 1.0, x2)))


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduce already-weighted ``values`` (see the module docstring); scalars and empty vectors
    are returned unchanged."""
    if (
        reduction is None
        or reduction == "none"
        or tuple(values.shape) == ()
        or tuple(values.shape) == (0,)
    ):
        return values
    loss = ops.sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = ops.cast(ops.sum(sample_weight), loss.dtype)
        else:
            divisor = ops.cast(int(np.prod(values.shape, dtype=np.int64)), loss.dtype)
        loss = divide_no_nan(loss, divisor)
    return loss


def reduce_weighted_values(
    values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None
):
    """Merge ``mask`` into ``sample_weight``, weight ``values`` and apply ``reduction``."""
    reduction = standardize_reduction(reduction)

    values = ops.convert_to_tensor(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight, dtype=dtype)
    if mask is not None:
        mask = ops.convert_to_tensor(mask, dtype=dtype)

    sample_weight = apply_mask(sample_weight, mask, dtype=values.dtype, reduction=reduction)

    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, values.dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight

    return reduce_values(values, sample_weight, reduction)


def apply_mask(sample_weight, mask, dtype, reduction):
    """Fold a boolean ``mask`` into ``sample_weight``.

    For ``"sum_over_batch_size"``/``"mean"`` unmasked entries weigh ``total / valid`` (so the
    later division by ``total`` becomes a division by ``valid``), masked ones ``0``; for the other
    reductions the mask is used as a 0/1 weight.
    """
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = ops.cast(int(np.prod(mask.shape, dtype=np.int64)), dtype)
        valid = ops.sum(ops.cast(mask, dtype=dtype))  # may be 0
        mask_weight = divide_no_nan(total, valid)
        float_mask = ops.where(ops.cast(mask, "bool"), mask_weight, 0.0)
    else:
        float_mask = ops.cast(mask, dtype=dtype)

    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, dtype=dtype)
        float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
        return sample_weight * float_mask
    return float_mask
