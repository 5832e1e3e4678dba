"""Pooling layers (Keras 3's ``keras/src/layers/pooling/``).

Windowed pooling, channels_last input ``(batch, *spatial, C)``::

    max:     out[b, o, c] = max_{t < pool_size} x[b, o * strides + t - pad_before, c]
    average: out[b, o, c] = mean of the same window over its unpadded elements only

``strides`` defaults to ``pool_size``; ``"valid"`` gives ``floor((n - pool) / s) + 1`` outputs
per axis, ``"same"`` gives ``ceil(n / s)`` (XLA SAME padding; see ``refkeras.primitives.pool``).

Global pooling reduces every spatial axis: ``(batch, *spatial, C) -> (batch, C)`` (or
``(batch, 1, ..., 1, C)`` with ``keepdims=True``). ``GlobalAveragePooling1D`` honours a mask::

    out[b, c] = sum_t mask[b, t] * x[b, t, c] / sum_t mask[b, t]
"""

from __future__ import annotations

from refkeras import ops
from refkeras.layers.convolutional import (
    standardize_data_format,
    standardize_tuple,
    to_channels_first,
    to_channels_last,
)
from refkeras.layers.input_spec import InputSpec
from refkeras.layers.layer import Layer
from refkeras.saving.object_registration import register_builtin


class BasePooling(Layer):
    """Shared by the max and average pooling layers; ``pool_mode`` is ``"max"`` or
    ``"average"``."""

    def __init__(
        self,
        pool_size,
        strides,
        pool_dimensions: int,
        pool_mode: str = "max",
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.pool_size = standardize_tuple(pool_size, pool_dimensions, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = standardize_tuple(strides, pool_dimensions, "strides", allow_zero=True)
        self.pool_mode = pool_mode
        self.padding = padding
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self.built = True

    def call(self, inputs):
        pool = {"max": ops.max_pool, "average": ops.average_pool}.get(self.pool_mode)
        if pool is None:
            raise ValueError(
                f"`pool_mode` must be either 'max' or 'average'. Received: {self.pool_mode}."
            )
        x = inputs if self.data_format == "channels_last" else to_channels_last(inputs)
        outputs = pool(
            x,
            pool_size=self.pool_size,
            strides=self.strides,
            padding=self.padding,
            data_format="channels_last",
        )
        return outputs if self.data_format == "channels_last" else to_channels_first(outputs)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        channels_last = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if channels_last else input_shape[2:]
        padding = self.padding.lower()
        if padding not in ("valid", "same"):
            raise ValueError(
                f"Argument `padding` must be either 'valid' or 'same'. Received: padding={padding}"
            )
        out = []
        for n, p, s in zip(spatial, self.pool_size, self.strides):
            if n is None:
                out.append(None)
            elif padding == "valid":
                out.append((n - p) // s + 1)
            else:
                out.append((n - 1) // s + 1)
        if padding == "valid" and any(o is not None and o <= 0 for o in out):
            raise ValueError(
                f"Computed output size would be zero or negative. Received: `inputs.shape="
                f"{input_shape}`, `pool_size={self.pool_size}`, `strides={self.strides}`, "
                f"`padding={self.padding}`."
            )
        if channels_last:
            return (input_shape[0], *out, input_shape[-1])
        return (input_shape[0], input_shape[1], *out)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


@register_builtin("keras.layers", "MaxPool1D")
class MaxPooling1D(BasePooling):
    """Max over windows of ``pool_size`` steps: ``(batch, steps, C) -> (batch, new_steps, C)``."""

    def __init__(
        self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(pool_size, strides, 1, "max", padding, data_format, name=name, **kwargs)


@register_builtin("keras.layers", "MaxPool2D")
class MaxPooling2D(BasePooling):
    """Max over ``pool_size`` windows of ``(batch, rows, cols, C)``."""

    def __init__(
        self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(pool_size, strides, 2, "max", padding, data_format, name=name, **kwargs)


@register_builtin("keras.layers", "MaxPool3D")
class MaxPooling3D(BasePooling):
    """Max over ``pool_size`` windows of ``(batch, d1, d2, d3, C)``."""

    def __init__(
        self,
        pool_size=(2, 2, 2),
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(pool_size, strides, 3, "max", padding, data_format, name=name, **kwargs)


@register_builtin("keras.layers", "AvgPool1D")
class AveragePooling1D(BasePooling):
    """Mean over windows of ``pool_size`` steps (padding excluded from the count)."""

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(
            pool_size, strides, 1, "average", padding, data_format, name=name, **kwargs
        )


@register_builtin("keras.layers", "AvgPool2D")
class AveragePooling2D(BasePooling):
    """Mean over ``pool_size`` windows of ``(batch, rows, cols, C)`` (padding excluded)."""

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(
            pool_size, strides, 2, "average", padding, data_format, name=name, **kwargs
        )


@register_builtin("keras.layers", "AvgPool3D")
class AveragePooling3D(BasePooling):
    """Mean over ``pool_size`` windows of ``(batch, d1, d2, d3, C)`` (padding excluded)."""

    def __init__(
        self,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            pool_size, strides, 3, "average", padding, data_format, name=name, **kwargs
        )


# --- global pooling ----------------------------------------------------------------------------


class BaseGlobalPooling(Layer):
    """Reduces all spatial axes; ``keepdims`` keeps them with size 1 (default ``False``)."""

    def __init__(
        self, pool_dimensions: int, data_format: str | None = None, keepdims: bool = False,
        **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self.built = True

    def _spatial_axes(self, ndim: int) -> list[int]:
        return (
            list(range(1, ndim - 1))
            if self.data_format == "channels_last"
            else list(range(2, ndim))
        )

    def compute_output_shape(self, input_shape):
        n_spatial = len(input_shape) - 2
        if self.data_format == "channels_last":
            if self.keepdims:
                return (input_shape[0], *(1,) * n_spatial, input_shape[-1])
            return (input_shape[0], input_shape[-1])
        if self.keepdims:
            return (input_shape[0], input_shape[1], *(1,) * n_spatial)
        return (input_shape[0], input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class _GlobalMax(BaseGlobalPooling):
    def call(self, inputs):
        return ops.max(inputs, axis=self._spatial_axes(inputs.ndim), keepdims=self.keepdims)


class _GlobalAverage(BaseGlobalPooling):
    def call(self, inputs):
        return ops.mean(inputs, axis=self._spatial_axes(inputs.ndim), keepdims=self.keepdims)


@register_builtin("keras.layers", "GlobalMaxPool1D")
class GlobalMaxPooling1D(_GlobalMax):
    """Max over steps: ``(batch, steps, C) -> (batch, C)``."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)


@register_builtin("keras.layers", "GlobalMaxPool2D")
class GlobalMaxPooling2D(_GlobalMax):
    """Max over rows and cols: ``(batch, rows, cols, C) -> (batch, C)``."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format=data_format, keepdims=keepdims, **kwargs)


@register_builtin("keras.layers", "GlobalMaxPool3D")
class GlobalMaxPooling3D(_GlobalMax):
    """Max over the three spatial axes: ``(batch, d1, d2, d3, C) -> (batch, C)``."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


@register_builtin("keras.layers", "GlobalAvgPool1D")
class GlobalAveragePooling1D(_GlobalAverage):
    """Mean over steps, ``(batch, steps, C) -> (batch, C)``; masked steps (mask ``(batch,
    steps)``) are left out of the mean. The output carries no mask."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps_axis = 1 if self.data_format == "channels_last" else 2
        mask = ops.cast(ops.expand_dims(mask, 2 if steps_axis == 1 else 1), "bool")
        inputs = ops.where(mask, inputs, 0)
        total = ops.sum(inputs, axis=steps_axis, keepdims=self.keepdims)
        count = ops.sum(ops.cast(mask, inputs.dtype), axis=steps_axis, keepdims=self.keepdims)
        return total / count

    def compute_mask(self, inputs, mask=None):
        return None


@register_builtin("keras.layers", "GlobalAvgPool2D")
class GlobalAveragePooling2D(_GlobalAverage):
    """Mean over rows and cols: ``(batch, rows, cols, C) -> (batch, C)``."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format=data_format, keepdims=keepdims, **kwargs)


@register_builtin("keras.layers", "GlobalAvgPool3D")
class GlobalAveragePooling3D(_GlobalAverage):
    """Mean over the three spatial axes: ``(batch, d1, d2, d3, C) -> (batch, C)``."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)
