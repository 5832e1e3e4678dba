"""Reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector`` (Keras 3's
``keras/src/layers/reshaping/``). None has weights; all keep the batch axis."""

from __future__ import annotations

import math

from refkeras import ops
from refkeras.backend.keras_tensor import KerasTensor
from refkeras.layers.convolutional import standardize_data_format
from refkeras.layers.input_spec import InputSpec
from refkeras.layers.layer import Layer
from refkeras.saving.object_registration import register_builtin


def _same_dtype_spec(layer: Layer, inputs: KerasTensor) -> KerasTensor:
    """Output spec keeping the input's dtype (reshaping layers do not cast)."""
    return KerasTensor(layer.compute_output_shape(inputs.shape), dtype=inputs.dtype)


@register_builtin("keras.layers")
class Flatten(Layer):
    """Flattens all non-batch axes: ``(batch, d1, ..., dn) -> (batch, d1 * ... * dn)``;
    ``(batch,) -> (batch, 1)``.

    With ``data_format="channels_first"`` the channel axis is moved last first, so the order of
    the flattened features matches a channels_last model.
    """

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._channels_first = self.data_format == "channels_first"

    def call(self, inputs):
        rank = inputs.ndim
        if self._channels_first and rank > 1:
            inputs = ops.transpose(inputs, axes=(0, *range(2, rank), 1))
        return ops.reshape(inputs, (inputs.shape[0], math.prod(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        flat = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], flat)

    def compute_output_spec(self, inputs):
        return _same_dtype_spec(self, inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


def validate_reshape_shape(newshape, name: str = "newshape") -> None:
    """Every entry is ``>= 0`` or ``-1``, with at most one ``-1`` (Keras's wording)."""
    if sum(1 for d in newshape if d == -1) > 1:
        raise ValueError(
            f"There must be at most one unknown dimension (-1) in `{name}`. Received: "
            f"{name}={newshape}."
        )
    for d in newshape:
        if isinstance(d, int) and d < -1:
            raise ValueError(
                f"Each dimension in `{name}` must be a non-negative integer, or `-1` for a "
                f"single unknown dimension. Received: {name}={newshape}."
            )


def compute_reshape_output_shape(input_shape, newshape, name: str) -> tuple:
    """``newshape`` with its ``-1`` resolved from ``input_shape`` (``None`` if it cannot be)."""
    validate_reshape_shape(newshape, name)
    if None in input_shape:
        return tuple(None if d == -1 else d for d in newshape)
    size = math.prod(input_shape)
    if -1 not in newshape:
        if size != math.prod(newshape):
            raise ValueError(
                "The total size of the tensor must be unchanged. Received: "
                f"input_shape={input_shape}, {name}={newshape}"
            )
        return tuple(newshape)
    known = math.prod(d for d in newshape if d != -1)
    if known == 0 or size % known != 0:
        raise ValueError(
            "The total size of the tensor must be unchanged, however, the input size cannot by "
            f"divided by the specified dimensions in {name}. Received: "
            f"input_shape={input_shape}, {name}={newshape}"
        )
    return tuple(size // known if d == -1 else d for d in newshape)


@register_builtin("keras.layers")
class Reshape(Layer):
    """Reshapes to ``(batch, *target_shape)``; one entry of ``target_shape`` may be ``-1``."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        validate_reshape_shape(target_shape, "target_shape")
        self.target_shape = target_shape
        self.built = True

    def compute_output_shape(self, input_shape):
        rest = compute_reshape_output_shape(input_shape[1:], self.target_shape, "target_shape")
        return (input_shape[0], *rest)

    def compute_output_spec(self, inputs):
        return _same_dtype_spec(self, inputs)

    def call(self, inputs):
        rest = compute_reshape_output_shape(inputs.shape[1:], self.target_shape, "target_shape")
        return ops.reshape(inputs, (inputs.shape[0], *rest))

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}


@register_builtin("keras.layers")
class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of ``1..n`` (the batch axis is 0),
    e.g. ``Permute((2, 1))`` maps ``(batch, a, b)`` to ``(batch, b, a)``."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in "
                f"`dims` must be consecutive and start from 1. Received dims={dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def compute_output_spec(self, inputs):
        return _same_dtype_spec(self, inputs)

    def call(self, inputs):
        return ops.transpose(inputs, axes=(0, *self.dims))

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}


@register_builtin("keras.layers")
class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: output ``(batch, n, features)``."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        reshaped = ops.reshape(inputs, (inputs.shape[0], 1, inputs.shape[1]))
        return ops.repeat(reshaped, self.n, axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}
