"""``refkeras.regularizers``: penalties on weights, added to the loss.

A regularizer is a callable ``weights -> scalar``; a layer sums its weights' penalties into its
``losses``.  All are written with :mod:`refkeras.ops`, so their gradient flows to the weights.
"""

from __future__ import annotations

import inspect
import math

from refkeras import config as _config
from refkeras import ops
from refkeras.saving import object_registration, serialization_lib

_MODULE = "keras.regularizers"


class Regularizer:
    """Base class: ``__call__(x)`` returns the penalty for weights ``x`` (0 here).

    Subclasses taking constructor arguments implement ``get_config`` returning them (the base
    raises ``NotImplementedError``); :meth:`from_config` passes them back to the constructor.
    """

    _keras_module = _MODULE

    def __call__(self, x):
        """The penalty for weights ``x``: a scalar."""
        return 0.0

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        """``cls(**config)``."""
        return cls(**config)

    def get_config(self) -> dict:
        """The constructor arguments, as a JSON-serializable dict."""
        raise NotImplementedError(f"{self} does not implement get_config()")


def validate_float_arg(value, name: str) -> float:
    """``value`` as a float, which must be finite and non-negative."""
    if not isinstance(value, float | int) or (math.isinf(value) or math.isnan(value)) or value < 0:
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float."
            f"Received: {name}={value}"
        )
    return float(value)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x^2)``; both factors default to 0.0 (``None`` means 0.0)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        l1 = 0.0 if l1 is None else l1
        l2 = 0.0 if l2 is None else l2
        self.l1 = validate_float_arg(l1, name="l1")
        self.l2 = validate_float_arg(l2, name="l2")

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        regularization = ops.convert_to_tensor(0.0, dtype=x.dtype)
        if self.l1 != 0.0:
            regularization = regularization + ops.cast(self.l1, dtype=x.dtype) * ops.sum(
                ops.absolute(x)
            )
        if self.l2 != 0.0:
            regularization = regularization + ops.cast(self.l2, dtype=x.dtype) * ops.sum(
                ops.square(x)
            )
        return regularization

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``; ``l1`` defaults to 0.01.

    As in Keras, the factor is stored as a ``floatx`` tensor, so ``get_config()`` reports its
    rounded value (``0.009999999776482582`` for 0.01 in float32).
    """

    def __init__(self, l1: float = 0.01):
        l1 = 0.01 if l1 is None else l1
        self.l1 = ops.convert_to_tensor(validate_float_arg(l1, name="l1"), dtype=_config.floatx())

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        return ops.cast(self.l1, dtype=x.dtype) * ops.sum(ops.absolute(x))

    def get_config(self) -> dict:
        return {"l1": float(self.l1)}


class L2(Regularizer):
    """``l2 * sum(x^2)``; ``l2`` defaults to 0.01."""

    def __init__(self, l2: float = 0.01):
        l2 = 0.01 if l2 is None else l2
        self.l2 = validate_float_arg(l2, name="l2")

    def __call__(self, x):
        x = ops.convert_to_tensor(x)
        return ops.cast(self.l2, dtype=x.dtype) * ops.sum(ops.square(x))

    def get_config(self) -> dict:
        return {"l2": self.l2}


def _l2_normalize(x, axis: int):
    """``x / ||x||`` along ``axis``, as ``x * min(rsqrt(sum(x^2)), 1 / epsilon)``
    (``keras.ops.normalize`` with ``order=2``)."""
    inv_norm = ops.rsqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
    return x * ops.minimum(inv_norm, 1.0 / _config.epsilon())


class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonal rows (``mode="rows"``, default) or columns (``"columns"``) of a
    2-D weight matrix.

    With ``v_1..v_n`` the L2-normalised rows (or columns)::

        penalty = factor * 0.5 * sum_{i != j} |v_i . v_j| / (n (n - 1) / 2)

    i.e. ``factor`` (default 0.01) times the mean absolute cosine similarity of the pairs.
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        validate_float_arg(factor, name="factor")
        self.factor = ops.convert_to_tensor(float(factor), dtype=_config.floatx())
        if mode not in {"rows", "columns"}:
            raise ValueError(
                "Invalid value for argument `mode`. Expected one of "
                f'{{"rows", "columns"}}. Received: mode={mode}'
            )
        self.mode = mode

    def __call__(self, inputs):
        inputs = ops.convert_to_tensor(inputs)
        if len(inputs.shape) != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. Received: "
                f"inputs.shape={inputs.shape}"
            )
        if self.mode == "rows":
            inputs = _l2_normalize(inputs, axis=1)
            product = ops.matmul(inputs, ops.transpose(inputs))
            size = inputs.shape[0]
        else:
            inputs = _l2_normalize(inputs, axis=0)
            product = ops.matmul(ops.transpose(inputs), inputs)
            size = inputs.shape[1]
        product_no_diagonal = product * (1.0 - ops.eye(size, dtype=inputs.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        factor = ops.cast(self.factor, inputs.dtype)
        return factor * 0.5 * ops.sum(ops.absolute(product_no_diagonal)) / num_pairs

    def get_config(self) -> dict:
        return {"factor": float(self.factor), "mode": self.mode}


# Snake-case aliases, as ``keras.regularizers`` exports them.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_ALIASES: dict[type, tuple[str, ...]] = {
    Regularizer: ("regularizer",),
    L1: ("l1",),
    L2: ("l2",),
    L1L2: ("l1l2", "l1_l2"),
    OrthogonalRegularizer: ("orthogonal_regularizer",),
}
ALL_OBJECTS_DICT: dict[str, type] = {}
for _cls, _names in _ALIASES.items():
    object_registration.register_builtin(_MODULE, *_names)(_cls)
    ALL_OBJECTS_DICT[_cls.__name__] = _cls
    ALL_OBJECTS_DICT.update(dict.fromkeys(_names, _cls))
del _cls, _names


def serialize(regularizer) -> dict:
    """``regularizer`` as a Keras config dict."""
    return serialization_lib.serialize_keras_object(regularizer)


def deserialize(config, custom_objects: dict | None = None):
    """The regularizer described by ``config`` (a config dict or a name)."""
    return serialization_lib.deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )


def get(identifier):
    """Resolve ``identifier`` to a regularizer: ``None`` -> ``None``; a name (``"l2"``,
    ``"L1L2"``...) -> a new instance with defaults; a config dict -> the deserialized object; a
    class -> an instance; another callable -> itself.  Anything else raises ``ValueError``."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        try:
            obj = deserialize(identifier)
        except (TypeError, ValueError) as e:
            raise ValueError(f"Could not interpret regularizer identifier: {identifier}") from e
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier, None)
    else:
        obj = identifier
    if callable(obj):
        if inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
