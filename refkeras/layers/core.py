"""Core layers: ``Dense``, ``Activation``, ``Dropout``, ``Lambda``, ``Identity``, ``Masking``.

Each follows Keras 3's source (``keras/src/layers/core/*.py``, ``regularization/dropout.py``,
``activations/activation.py``): same arguments, defaults, weight names, ``input_spec`` and
``get_config`` keys.
"""

from __future__ import annotations

import codecs
import inspect
import marshal
import types
from collections.abc import Callable

from refkeras import activations, constraints, initializers, ops, regularizers
from refkeras.backend.keras_tensor import KerasTensor
from refkeras.layers.input_spec import InputSpec
from refkeras.layers.layer import Layer
from refkeras.random.random import dropout as random_dropout
from refkeras.random.seed_generator import SeedGenerator
from refkeras.saving import serialization_lib
from refkeras.saving.object_registration import register_builtin
from refkeras.utils import tree


def _no_lora_or_quantization(layer: str, lora_rank, quantization_config) -> None:
    if lora_rank:
        raise NotImplementedError(f"refkeras's {layer} does not implement LoRA (`lora_rank`).")
    if quantization_config is not None:
        raise NotImplementedError(f"refkeras's {layer} does not implement quantization.")


@register_builtin("keras.layers")
class Dense(Layer):
    """Densely-connected layer: ``output = activation(inputs @ kernel + bias)``.

    Args:
        units: positive int, the size of the last output axis.
        activation: default ``None`` (linear).
        use_bias: default ``True``.
        kernel_initializer: default ``"glorot_uniform"``; bias_initializer: ``"zeros"``.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
        bias_constraint: default ``None``.

    Shapes: ``(batch, ..., input_dim) -> (batch, ..., units)``; weights ``kernel``
    ``(input_dim, units)`` then ``bias`` ``(units,)``.
    """

    def __init__(
        self,
        units: int,
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
        quantization_config=None,
        **kwargs,
    ):
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units}"
            )
        _no_lora_or_quantization("Dense", lora_rank, quantization_config)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape) -> None:
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_shape[-1]})
        self.built = True

    def call(self, inputs, training=None):
        x = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }


@register_builtin("keras.layers")
class Activation(Layer):
    """Applies ``activation`` (a name such as ``"relu"`` or a callable) elementwise; same shape."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


@register_builtin("keras.layers")
class Dropout(Layer):
    """Sets inputs to 0 with probability ``rate`` during training, scaling the rest by
    ``1 / (1 - rate)`` so that the expected sum is unchanged; the identity otherwise.

    Args:
        rate: float in ``[0, 1]``.
        noise_shape: shape of the keep mask, broadcast against the inputs (``None`` entries take
            the input's size), e.g. ``(batch, 1, features)`` drops the same features at every step.
        seed: int seed of the layer's own ``SeedGenerator`` (each call advances it).
    """

    def __init__(self, rate: float, noise_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value between 0 "
                f"and 1. Received: rate={rate}"
            )
        self.rate = rate
        self.seed = seed
        self.noise_shape = _validate_noise_shape(noise_shape)
        if rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return random_dropout(
                inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed_generator
            )
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }


def _validate_noise_shape(noise_shape):
    """``noise_shape`` as a tuple of positive ints and ``None`` (Keras's checks and wording)."""
    if noise_shape is None:
        return None
    prefix = "Invalid value received for argument `noise_shape`. "
    if isinstance(noise_shape, str):
        raise ValueError(
            prefix + f"Expected a tuple or list of integers. Received: noise_shape={noise_shape}"
        )
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError(
            prefix + "Expected an iterable of integers (e.g., a tuple or list). "
            f"Received: noise_shape={noise_shape}"
        ) from None
    for i, dim in enumerate(noise_shape):
        if dim is None:
            continue
        if not isinstance(dim, int):
            raise ValueError(
                prefix + "Expected all elements to be integers or None. "
                f"Received element at index {i}: {dim} (type: {type(dim).__name__})"
            )
        if dim <= 0:
            raise ValueError(
                prefix + "Expected all dimensions to be positive integers or None. "
                f"Received negative or zero value at index {i}: {dim}"
            )
    return noise_shape


@register_builtin("keras.layers")
class Identity(Layer):
    """Returns its inputs unchanged (any structure; masks pass through)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs):
        return tree.map_structure(lambda x: KerasTensor(x.shape, dtype=x.dtype), inputs)


@register_builtin("keras.layers")
class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value`` (default ``0.0``).

    ``mask[b, t] = any(inputs[b, t, :] != mask_value)``; masked timesteps are set to 0 in the
    output, and downstream layers that support masking skip them.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config", None):
            mask_value = serialization_lib.deserialize_keras_object(mask_value)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return ops.where(keep, inputs, 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}


# --- Lambda ------------------------------------------------------------------------------------

# Loading a Lambda whose function is a Python lambda runs bytecode taken from the config, so it is
# refused unless `safe_mode=False` is passed to `Lambda.from_config` or this switch is turned off
# (Keras: `keras.config.enable_unsafe_deserialization()`).
_safe_mode = {"enabled": True}


def enable_unsafe_deserialization() -> None:
    """Allow ``Lambda.from_config`` to load Python-lambda bytecode without ``safe_mode=False``."""
    _safe_mode["enabled"] = False


def disable_unsafe_deserialization() -> None:
    _safe_mode["enabled"] = True


def func_dump(fn: types.FunctionType) -> tuple:
    """``(code, defaults, closure)`` of ``fn``: the bytecode marshalled and base64-encoded, as
    ``keras.src.utils.python_utils.func_dump``."""
    code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def func_load(code: str, defaults=None, closure=None, globs=None) -> types.FunctionType:
    """Rebuild a function from :func:`func_dump`'s output. Runs untrusted bytecode: callers must
    check safe mode first."""
    if isinstance(defaults, list):
        defaults = tuple(defaults)
    if closure is not None:
        closure = tuple(types.CellType(v) for v in closure)
    raw = codecs.decode(code.encode("ascii"), "base64")
    fn_code = marshal.loads(raw)  # noqa: S302 - guarded by safe mode
    return types.FunctionType(
        fn_code, globs if globs is not None else globals(), fn_code.co_name, defaults, closure
    )


_LAMBDA_UNSAFE = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This "
    "carries a potential risk of arbitrary code execution and thus it is disallowed by default. If "
    "you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()."
)


@register_builtin("keras.layers")
class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` as a layer.

    Args:
        function: called as ``function(inputs, **arguments)``; also given ``mask=`` and
            ``training=`` when its signature names them.
        output_shape: ``None`` (inferred by running the function on stand-in values), a shape
            without the batch axis, or a callable ``input_shape -> output_shape``.
        mask: ``None``, a callable ``(inputs, mask) -> mask``, or a fixed mask.
        arguments: dict of extra keyword arguments for ``function``.

    A Python lambda is saved as marshalled bytecode (Keras's format), which only loads with
    ``safe_mode=False``; prefer a registered function or a Layer subclass.
    """

    def __init__(self, function: Callable, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.arguments = arguments or {}
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        params = inspect.getfullargspec(function).args
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            try:
                return super().compute_output_shape(input_shape)
            except Exception:
                raise NotImplementedError(
                    "We could not automatically infer the shape of the Lambda's output. Please "
                    "specify the `output_shape` argument for this Lambda layer."
                ) from None
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch_size = tree.flatten(input_shape)[0]
        return tree.map_shape_structure(lambda s: (batch_size, *s), self._output_shape)

    def get_config(self) -> dict:
        config = {"function": _serialize_function(self.function)}
        if self._output_shape is not None:
            shape = self._output_shape
            config["output_shape"] = _serialize_function(shape) if callable(shape) else shape
        if self.mask is not None:
            config["mask"] = (
                _serialize_function(self.mask)
                if callable(self.mask)
                else serialization_lib.serialize_keras_object(self.mask)
            )
        config["arguments"] = serialization_lib.serialize_keras_object(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None, safe_mode: bool | None = None):
        """Rebuild the layer; a Python-lambda ``function`` or ``output_shape`` is refused with
        ``ValueError`` unless ``safe_mode=False`` (or unsafe deserialization is enabled)."""
        if safe_mode is None:
            from refkeras.saving.serialization_lib import in_safe_mode

            scoped = in_safe_mode()
            safe_mode = _safe_mode["enabled"] if scoped is None else scoped
        config = dict(config)
        for key in ("function", "output_shape"):
            if key not in config:
                continue
            value = config[key]
            if isinstance(value, dict) and value.get("class_name") == "__lambda__":
                if safe_mode:
                    raise ValueError(_LAMBDA_UNSAFE)
                inner = value["config"]
                config[key] = func_load(inner["code"], inner["defaults"], inner["closure"])
            else:
                value = serialization_lib.deserialize_keras_object(
                    value, custom_objects=custom_objects
                )
                if key == "output_shape" and isinstance(value, list):
                    value = tuple(value)
                config[key] = value
        if "arguments" in config:
            config["arguments"] = serialization_lib.deserialize_keras_object(
                config["arguments"], custom_objects=custom_objects
            )
        return cls(**config)


def _serialize_function(fn) -> dict:
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code, defaults, closure = func_dump(fn)
        return {
            "class_name": "__lambda__",
            "config": {"code": code, "defaults": defaults, "closure": closure},
        }
    if callable(fn):
        return serialization_lib.serialize_keras_object(fn)
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type {type(fn)}.")
