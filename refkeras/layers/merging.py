"""Merge layers: ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum``,
``Concatenate`` and their functional forms (Keras 3's ``keras/src/layers/merging/``).

Each takes a list of tensors. The elementwise ones broadcast the shapes (inputs of lower rank get
size-1 axes inserted after the batch axis); ``Concatenate`` joins along ``axis``. With masks
(``(batch, steps)``, from e.g. ``Embedding(mask_zero=True)``) the output mask is the OR of the
input masks; ``Multiply``, ``Maximum`` and ``Minimum`` also ignore masked-out entries of an input,
as Keras does.
"""

from __future__ import annotations

import copy

from refkeras import ops
from refkeras.backend.keras_tensor import KerasTensor
from refkeras.layers.layer import Layer
from refkeras.saving.object_registration import register_builtin


def _mask_of(x):
    return getattr(x, "_keras_mask", None)


class Merge(Layer):
    """Base of the merge layers: shape checks in ``build``, rank alignment in ``call``, and
    ``_merge_function(inputs)`` doing the actual combination."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _merge_function(self, inputs):
        raise NotImplementedError(  # abstract: each merge layer defines it
            f"Merge layer {type(self).__name__} must implement `_merge_function()`."
        )

    def _apply_merge_op_and_or_mask(self, op_fn, inputs):
        """Fold ``op_fn`` over the inputs; where one input is masked out, the other's value is
        used instead (so a masked entry never wins a max/min)."""
        output = output_mask = None
        for x in inputs:
            mask = _mask_of(x)
            if mask is not None:
                mask = ops.broadcast_to(ops.expand_dims(mask, -1), x.shape)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = ops.where(mask, x, output)
            if output_mask is not None:
                output = ops.where(output_mask, output, x)
            if mask is not None and output_mask is not None:
                output_mask = ops.logical_or(output_mask, mask)
            else:
                output_mask = None
            output = op_fn(output, x)
        if output_mask is not None:
            output._keras_mask = ops.any(output_mask, axis=-1, keepdims=False)
        return output

    def _compute_elemwise_op_output_shape(self, shape1, shape2):
        """Broadcast two shapes (without batch axis) aligned on the right."""
        if None in [shape1, shape2]:
            return None
        if len(shape1) < len(shape2):
            return self._compute_elemwise_op_output_shape(shape2, shape1)
        if not shape2:
            return shape1
        output_shape = list(shape1[: -len(shape2)])
        for i, j in zip(shape1[-len(shape2) :], shape2):
            if i is None or j is None:
                output_shape.append(None)
            elif i == 1:
                output_shape.append(j)
            elif j == 1:
                output_shape.append(i)
            else:
                if i != j:
                    raise ValueError(
                        f"Inputs have incompatible shapes. Received shapes {shape1} and {shape2}"
                    )
                output_shape.append(i)
        return tuple(output_shape)

    def build(self, input_shape) -> None:
        if not isinstance(input_shape[0], tuple | list):
            raise ValueError(
                "A merge layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape} (not a list of shapes)"
            )
        if len(input_shape) < 1:
            raise ValueError(
                "A merge layer should be called on a list of at least 1 input. "
                f"Received {len(input_shape)} inputs. Full input_shape received: {input_shape}"
            )
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                "Cannot merge tensors with different batch sizes. "
                f"Received tensors with shapes {input_shape}"
            )
        self.compute_output_shape(input_shape)  # validates that the shapes broadcast
        self._reshape_required = len({len(s) for s in input_shape}) != 1
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, list | tuple):
            raise ValueError(
                "A merge layer should be called on a list of inputs. "
                f"Received: inputs={inputs} (not a list of tensors)"
            )
        if self._reshape_required:
            max_ndim = max(x.ndim for x in inputs)
            aligned = []
            for x in inputs:
                for _ in range(max_ndim - x.ndim):
                    x = ops.expand_dims(x, axis=1)  # as in Keras, the expanded x has no mask
                aligned.append(x)
            inputs = aligned
        return self._merge_function(inputs)

    def compute_output_shape(self, input_shape):
        output_shape = None if input_shape[0] is None else tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output_shape = self._compute_elemwise_op_output_shape(
                output_shape, None if shape is None else tuple(shape[1:])
            )
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        batch = next(iter(batch_sizes)) if len(batch_sizes) == 1 else None
        return (batch, *output_shape)

    def compute_output_spec(self, inputs):
        return KerasTensor(
            self.compute_output_shape([x.shape for x in inputs]), dtype=self.compute_dtype
        )

    def compute_mask(self, inputs, mask=None):
        """The OR of the input masks (``None`` unless every input has one)."""
        if mask is None:
            return None
        if not isinstance(mask, list | tuple):
            raise ValueError(f"`mask` should be a list. Received: mask={mask}")
        if not isinstance(inputs, list | tuple):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(
                "The lists `inputs` and `mask` should have the same length. Received: "
                f"inputs={inputs} of length {len(inputs)}, and mask={mask} of length {len(mask)}"
            )
        if any(m is None for m in mask):
            return None
        output_mask = mask[0]
        for m in mask[1:]:
            output_mask = ops.logical_or(output_mask, m)
        return output_mask


@register_builtin("keras.layers")
class Add(Merge):
    """Elementwise sum of the inputs."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return output


@register_builtin("keras.layers")
class Subtract(Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    def build(self, input_shape) -> None:
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: input_shape={input_shape}"
            )

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: inputs={inputs}"
            )
        return ops.subtract(inputs[0], inputs[1])


@register_builtin("keras.layers")
class Multiply(Merge):
    """Elementwise product; a masked-out entry counts as 1, and the output is 0 where every
    input is masked out."""

    def _merge_function(self, inputs):
        masks = [_mask_of(x) for x in inputs]
        has_output_mask = all(m is not None for m in masks)
        output = output_mask = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = ops.broadcast_to(ops.expand_dims(mask, -1), x.shape)
                x = ops.where(mask, x, ops.cast(1, x.dtype))
                if has_output_mask:
                    output_mask = mask if output_mask is None else ops.logical_or(output_mask, mask)
            output = x if output is None else ops.multiply(output, x)
        if has_output_mask:
            output = ops.where(output_mask, output, ops.cast(0, output.dtype))
            output._keras_mask = ops.any(output_mask, axis=-1, keepdims=False)
        return output


@register_builtin("keras.layers")
class Average(Merge):
    """Elementwise mean: ``(x_1 + ... + x_n) / n``."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return output / len(inputs)


@register_builtin("keras.layers")
class Maximum(Merge):
    """Elementwise maximum (masked-out entries are ignored)."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(ops.maximum, inputs)


@register_builtin("keras.layers")
class Minimum(Merge):
    """Elementwise minimum (masked-out entries are ignored)."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(ops.minimum, inputs)


@register_builtin("keras.layers")
class Concatenate(Merge):
    """Joins the inputs along ``axis`` (default ``-1``); all other sizes must match."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self._reshape_required = False

    def build(self, input_shape) -> None:
        if len(input_shape) < 1 or not isinstance(input_shape[0], tuple | list):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of at least 1 input. "
                f"Received: input_shape={input_shape}"
            )
        self.built = True
        if all(shape is None for shape in input_shape):
            return
        # Keras's check, kept as written: drop size-1 axes (other than the concatenation axis)
        # and the concatenation axis, then require the remaining shapes to agree.
        reduced = [list(shape) for shape in input_shape]
        reduced_copy = copy.copy(reduced)
        shape_set = set()
        for i in range(len(reduced_copy)):
            concat_axis = self.axis % len(reduced_copy[i])
            for axis, axis_value in enumerate(reduced_copy, start=1):
                if axis != concat_axis and axis_value == 1:
                    del reduced[i][axis]
            if len(reduced[i]) > self.axis:
                del reduced[i][self.axis]
            shape_set.add(tuple(reduced[i]))
        if len(shape_set) != 1:
            err_msg = (
                "A `Concatenate` layer requires inputs with matching shapes except for the "
                f"concatenation axis. Received: input_shape={input_shape}"
            )
            ranks = {len(shape) for shape in shape_set}
            if len(ranks) != 1:
                raise ValueError(err_msg)
            (rank,) = ranks
            for axis in range(rank):
                unique_dims = {s[axis] for s in shape_set if s[axis] is not None}
                if len(unique_dims) > 1:
                    raise ValueError(err_msg)

    def _merge_function(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, tuple | list) or not isinstance(
            input_shape[0], tuple | list
        ):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape}"
            )
        output_shape = list(input_shape[0])
        for shape in input_shape[1:]:
            if output_shape[self.axis] is None or shape[self.axis] is None:
                output_shape[self.axis] = None
                break
            output_shape[self.axis] += shape[self.axis]
        return tuple(output_shape)

    def compute_mask(self, inputs, mask=None):
        """Masks are expanded to the inputs' shape (all ``True`` for unmasked inputs),
        concatenated along ``axis``, then reduced with ``any`` over the last axis."""
        if mask is None:
            return None
        if not isinstance(mask, list | tuple):
            raise ValueError(f"`mask` should be a list. Received mask={mask}")
        if not isinstance(inputs, list | tuple):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(
                "The lists `inputs` and `mask` should have the same length. Received: "
                f"inputs={inputs} of length {len(inputs)}, and mask={mask} of length {len(mask)}"
            )
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(ops.ones_like(x, dtype="bool"))
            elif m.ndim < x.ndim:
                masks.append(
                    ops.logical_or(ops.expand_dims(m, axis=-1), ops.zeros_like(x, dtype="bool"))
                )
            else:
                masks.append(m)
        return ops.any(ops.concatenate(masks, axis=self.axis), axis=-1, keepdims=False)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **kwargs):
    """Functional form of :class:`Add`: ``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of :class:`Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of :class:`Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of :class:`Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of :class:`Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of :class:`Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis: int = -1, **kwargs):
    """Functional form of :class:`Concatenate`: ``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
