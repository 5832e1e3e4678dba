"""``refkeras.constraints``: projections applied to a weight after each optimizer update.

A constraint is a callable ``w -> w'``; the optimizer assigns ``w'`` to the variable.
"""

from __future__ import annotations

import inspect

from refkeras import config as _config
from refkeras import ops
from refkeras.saving import object_registration, serialization_lib

_MODULE = "keras.constraints"


class Constraint:
    """Base class: ``__call__(w)`` returns the constrained weight (``w`` itself here)."""

    _keras_module = _MODULE

    def __call__(self, w):
        """The projection of ``w`` onto the constraint set."""
        return w

    def get_config(self) -> dict:
        """The constructor arguments, as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        """``cls(**config)``."""
        return cls(**config)


def _norms(w, axis):
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescale each slice along ``axis`` whose L2 norm exceeds ``max_value``::

        w' = w * clip(||w||, 0, max_value) / (epsilon + ||w||)

    ``max_value`` defaults to 2 and ``axis`` to 0 (for a ``Dense`` kernel ``(in, out)``, the
    incoming weight vector of each unit).
    """

    def __init__(self, max_value: float = 2, axis: int | list = 0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0, self.max_value)
        return ops.cast(w, norms.dtype) * (desired / (_config.epsilon() + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """``max(w, 0)``: negative weights become zero."""

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        return ops.maximum(w, 0)


class UnitNorm(Constraint):
    """``w / (epsilon + ||w||)`` along ``axis`` (default 0): unit L2 norm."""

    def __init__(self, axis: int | list = 0):
        self.axis = axis

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        return ops.cast(w, norms.dtype) / (_config.epsilon() + norms)

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each slice's L2 norm along ``axis`` towards ``[min_value, max_value]``::

        desired = rate * clip(||w||, min_value, max_value) + (1 - rate) * ||w||
        w' = w * desired / (epsilon + ||w||)

    Defaults: ``min_value=0.0``, ``max_value=1.0``, ``rate=1.0`` (strict), ``axis=0``.
    """

    def __init__(
        self,
        min_value: float = 0.0,
        max_value: float = 1.0,
        rate: float = 1.0,
        axis: int | list = 0,
    ):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = (
            self.rate * ops.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        )
        return ops.cast(w, norms.dtype) * (desired / (_config.epsilon() + norms))

    def get_config(self) -> dict:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


# Snake-case aliases, as ``keras.constraints`` exports them.
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_ALIASES: dict[type, tuple[str, ...]] = {
    Constraint: ("constraint",),
    MaxNorm: ("max_norm",),
    MinMaxNorm: ("min_max_norm",),
    NonNeg: ("non_neg",),
    UnitNorm: ("unit_norm",),
}
ALL_OBJECTS_DICT: dict[str, type] = {}
for _cls, _names in _ALIASES.items():
    object_registration.register_builtin(_MODULE, *_names)(_cls)
    ALL_OBJECTS_DICT[_cls.__name__] = _cls
    ALL_OBJECTS_DICT.update(dict.fromkeys(_names, _cls))
del _cls, _names


def serialize(constraint) -> dict:
    """``constraint`` as a Keras config dict."""
    return serialization_lib.serialize_keras_object(constraint)


def deserialize(config, custom_objects: dict | None = None):
    """The constraint described by ``config`` (a config dict or a name)."""
    return serialization_lib.deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )


def get(identifier):
    """Resolve ``identifier`` to a constraint: ``None`` -> ``None``; a name (``"max_norm"``,
    ``"NonNeg"``...) -> a new instance with defaults; a config dict -> the deserialized object; a
    class -> an instance; another callable -> itself.  Anything else raises ``ValueError``."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        try:
            obj = deserialize(identifier)
        except (TypeError, ValueError) as e:
            raise ValueError(f"Could not interpret constraint identifier: {identifier}") from e
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier, None)
    else:
        obj = identifier
    if callable(obj):
        if inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(f"Could not interpret constraint identifier: {identifier}")
