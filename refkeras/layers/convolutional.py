"""Convolution layers ``Conv1D``, ``Conv2D``, ``Conv3D`` on one base class (Keras 3's
``keras/src/layers/convolutional/base_conv.py`` and ``conv1d.py``).

For ``rank`` spatial axes, channels_last input ``x`` of shape ``(batch, *spatial, C)``, kernel
``(*kernel_size, C // groups, filters)`` and bias ``(filters,)``::

    out[b, o, f] = activation(bias[f] + sum_{t, c} xpad[b, o * strides + t * dilation_rate, c']
                                                   * kernel[t, c, f])

with ``c'`` running over the input channels of the group of ``f`` (see
``refkeras.primitives.conv``). ``padding="same"`` pads as XLA SAME (extra element after);
``"causal"`` (Conv1D only) pads ``dilation_rate * (kernel_size - 1)`` before the sequence.
``channels_first`` inputs are transposed to channels_last and back.

Also home of the argument helpers shared with the pooling and reshaping layers
(``standardize_tuple``, ``standardize_padding``, ``standardize_data_format``), worded as
``keras/src/utils/argument_validation.py``.
"""

from __future__ import annotations

from refkeras import activations, config, constraints, initializers, ops, regularizers
from refkeras.layers.input_spec import InputSpec
from refkeras.layers.layer import Layer
from refkeras.saving.object_registration import register_builtin

# --- argument helpers --------------------------------------------------------------------------


def standardize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or an iterable of ``n`` ints, as a tuple of ``n`` ints (all > 0, or >= 0 with
    ``allow_zero``)."""
    error_msg = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int):
        value_tuple = (value,) * n
    else:
        try:
            value_tuple = tuple(value)
        except TypeError:
            raise ValueError(error_msg) from None
        if len(value_tuple) != n:
            raise ValueError(error_msg)
        for v in value_tuple:
            try:
                int(v)
            except (ValueError, TypeError):
                raise ValueError(error_msg + f"including element {v} of type {type(v)}") from None
    bad = {v for v in value_tuple if (v < 0 if allow_zero else v <= 0)}
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(error_msg + f", including values {bad} that do not satisfy `value {req}`")
    return value_tuple


def standardize_padding(value: str, allow_causal: bool = False) -> str:
    """``"valid"``, ``"same"`` (or ``"causal"`` when allowed), lower-cased."""
    padding = value.lower()
    allowed = {"valid", "same", "causal"} if allow_causal else {"valid", "same"}
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be a list/tuple or one of {allowed}. Received: {padding}"
        )
    return padding


def standardize_data_format(data_format: str | None) -> str:
    """``data_format`` lower-cased and checked; ``None`` means ``config.image_data_format()``."""
    if data_format is None:
        return config.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def to_channels_last(x):
    """``(batch, C, *spatial) -> (batch, *spatial, C)``."""
    return ops.transpose(x, (0, *range(2, x.ndim), 1))


def to_channels_first(x):
    """``(batch, *spatial, C) -> (batch, C, *spatial)``."""
    return ops.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))


def conv_output_length(n, kernel_size: int, stride: int, dilation: int, padding: str):
    """Output length along one spatial axis: ``floor((n - d * (k - 1) - 1) / s) + 1`` for
    ``"valid"``, ``ceil(n / s)`` for ``"same"``/``"causal"``; ``None`` stays ``None``."""
    if n is None:
        return None
    if padding == "valid":
        return (n - dilation * (kernel_size - 1) - 1) // stride + 1
    return (n - 1) // stride + 1


# --- layers ------------------------------------------------------------------------------------


class BaseConv(Layer):
    """Shared by ``Conv1D``/``Conv2D``/``Conv3D``; ``rank`` is the number of spatial axes.

    Defaults: ``strides=1``, ``padding="valid"``, ``dilation_rate=1``, ``groups=1``,
    ``activation=None``, ``use_bias=True``, ``kernel_initializer="glorot_uniform"``,
    ``bias_initializer="zeros"``. ``strides > 1`` together with ``dilation_rate > 1`` is an error.
    """

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate=1,
        groups: int = 1,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        if lora_rank:
            raise NotImplementedError("refkeras's convolution layers do not implement LoRA.")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = filters
        self.groups = groups
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=rank == 1)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=self.rank + 2)
        if self.filters is not None and self.filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={self.filters}."
            )
        if self.groups <= 0:
            raise ValueError(
                f"The number of groups must be a positive integer. Received: groups={self.groups}."
            )
        if self.filters is not None and self.filters % self.groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape) -> None:
        input_channel = input_shape[self._channel_axis]
        self.input_spec = InputSpec(
            min_ndim=self.rank + 2, axes={self._channel_axis: input_channel}
        )
        if input_channel % self.groups != 0:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {input_channel} channels "
                f"(full input shape is {input_shape})."
            )
        self.compute_output_shape(input_shape)  # validates the spatial sizes
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, input_channel // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            trainable=True,
            dtype=self.dtype,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                trainable=True,
                dtype=self.dtype,
            )
        else:
            self.bias = None
        self.built = True

    def call(self, inputs):
        x = inputs if self.data_format == "channels_last" else to_channels_last(inputs)
        padding = self.padding
        if padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            x = ops.pad(x, [[0, 0], [left, 0], [0, 0]])
            padding = "valid"
        outputs = ops.conv(
            x,
            self.kernel,
            strides=list(self.strides),
            padding=padding,
            dilation_rate=self.dilation_rate,
            data_format="channels_last",
        )
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1,) * (self.rank + 1) + (-1,)))
        if self.data_format == "channels_first":
            outputs = to_channels_first(outputs)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                "Kernel shape must have the same length as input, but received kernel of shape "
                f"{self.kernel_size + (input_shape[self._channel_axis], self.filters)} and input "
                f"of shape {input_shape}."
            )
        if self.data_format == "channels_last":
            spatial = input_shape[1:-1]
        else:
            spatial = input_shape[2:]
        out = tuple(
            conv_output_length(n, k, s, d, self.padding)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(
                "Computed output size would be zero or negative. Received `inputs shape="
                f"{input_shape}`, `kernel shape="
                f"{self.kernel_size + (input_shape[self._channel_axis], self.filters)}`, "
                f"`dilation_rate={self.dilation_rate}`, `strides={self.strides}`, "
                f"`padding={self.padding}`."
            )
        if self.data_format == "channels_last":
            return (input_shape[0], *out, self.filters)
        return (input_shape[0], self.filters, *out)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


@register_builtin("keras.layers", "Convolution1D")
class Conv1D(BaseConv):
    """1-D convolution: ``(batch, steps, channels) -> (batch, new_steps, filters)``, kernel
    ``(kernel_size, channels // groups, filters)``. ``padding`` may also be ``"causal"``: the output
    at step ``t`` then depends only on inputs up to ``t``."""

    def __init__(
        self, filters, kernel_size, strides=1, padding="valid", data_format=None,
        dilation_rate=1, groups=1, activation=None, use_bias=True, **kwargs,
    ):  # fmt: skip
        super().__init__(
            1, filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
            activation, use_bias, **kwargs,
        )  # fmt: skip


@register_builtin("keras.layers", "Convolution2D")
class Conv2D(BaseConv):
    """2-D convolution: ``(batch, rows, cols, channels) -> (batch, new_rows, new_cols, filters)``,
    kernel ``(k_rows, k_cols, channels // groups, filters)``."""

    def __init__(
        self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
        dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, **kwargs,
    ):  # fmt: skip
        super().__init__(
            2, filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
            activation, use_bias, **kwargs,
        )  # fmt: skip


@register_builtin("keras.layers", "Convolution3D")
class Conv3D(BaseConv):
    """3-D convolution: ``(batch, d1, d2, d3, channels) -> (batch, n1, n2, n3, filters)``, kernel
    ``(k1, k2, k3, channels // groups, filters)``."""

    def __init__(
        self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
        dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True, **kwargs,
    ):  # fmt: skip
        super().__init__(
            3, filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
            activation, use_bias, **kwargs,
        )  # fmt: skip
