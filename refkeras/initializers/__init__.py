"""``refkeras.initializers``: how layer weights get their initial values.

An initializer is a callable ``(shape, dtype=None) -> tensor`` (``dtype`` defaults to
``refkeras.config.floatx()``).  Strings name them as Keras does, by class name or snake-case alias
(``"glorot_uniform"``, ``"he_normal"``, ``"zeros"``...); :func:`get` resolves any identifier.
"""

from __future__ import annotations

import inspect

import numpy as np

from refkeras import ops
from refkeras.backend.dtypes import standardize_dtype
from refkeras.initializers.constant_initializers import STFT, Constant, Identity, Ones, Zeros
from refkeras.initializers.initializer import Initializer
from refkeras.initializers.random_initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomInitializer,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    compute_fans,
)
from refkeras.saving import object_registration, serialization_lib

_MODULE = "keras.initializers"

# Class name -> snake-case aliases (those of ``keras.initializers``).
_ALIASES: dict[type, tuple[str, ...]] = {
    Initializer: ("initializer",),
    Constant: ("constant",),
    Zeros: ("zeros", "zero"),
    Ones: ("ones", "one"),
    Identity: ("identity", "IdentityInitializer"),
    STFT: ("stft", "STFTInitializer"),
    RandomNormal: ("random_normal", "normal"),
    RandomUniform: ("random_uniform", "uniform"),
    TruncatedNormal: ("truncated_normal",),
    VarianceScaling: ("variance_scaling",),
    GlorotNormal: ("glorot_normal",),
    GlorotUniform: ("glorot_uniform",),
    HeNormal: ("he_normal",),
    HeUniform: ("he_uniform",),
    LecunNormal: ("lecun_normal",),
    LecunUniform: ("lecun_uniform",),
    Orthogonal: ("orthogonal", "OrthogonalInitializer"),
}

ALL_OBJECTS_DICT: dict[str, type] = {}
for _cls, _names in _ALIASES.items():
    _cls._keras_module = _MODULE
    object_registration.register_builtin(_MODULE, *_names)(_cls)
    ALL_OBJECTS_DICT[_cls.__name__] = _cls
    ALL_OBJECTS_DICT.update(dict.fromkeys(_names, _cls))
del _cls, _names

# Function-style aliases: ``refkeras.initializers.glorot_uniform(seed=1)`` is the class.
constant = Constant
zeros = Zeros
ones = Ones
identity = IdentityInitializer = Identity
stft = STFTInitializer = STFT
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = OrthogonalInitializer = Orthogonal


def serialize(initializer) -> dict:
    """``initializer`` as a Keras config dict ``{"module", "class_name", "config",
    "registered_name"}``."""
    return serialization_lib.serialize_keras_object(initializer)


def deserialize(config, custom_objects: dict | None = None):
    """The initializer described by ``config`` (a config dict or a class name)."""
    return serialization_lib.deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )


def get(identifier):
    """Resolve ``identifier`` to an initializer.

    * ``None`` -> ``None``;
    * a string (``"glorot_uniform"``, ``"GlorotUniform"``...) -> a new instance with defaults;
    * a config dict -> the deserialized instance;
    * a tensor or array -> a function returning it (cast to ``dtype``) for exactly its shape;
    * a class -> a new instance; any other callable -> itself.

    Raises ``ValueError("Could not interpret initializer identifier: ...")`` otherwise.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = object_registration.get_registered_object(identifier, module_objects=ALL_OBJECTS_DICT)
    elif isinstance(identifier, dict):
        try:
            obj = deserialize(identifier)
        except (TypeError, ValueError) as e:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}") from e
    elif ops.is_tensor(identifier) or isinstance(identifier, np.generic | np.ndarray):

        def initialize_fn(shape, dtype=None):
            dtype = standardize_dtype(dtype)
            if tuple(shape) != tuple(identifier.shape):
                raise ValueError(
                    f"Expected `shape` to be {identifier.shape} for direct tensor as "
                    f"initializer. Received shape={shape}"
                )
            return ops.cast(identifier, dtype)

        obj = initialize_fn
    else:
        obj = identifier
    if callable(obj):
        if inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")


__all__ = [
    "Initializer", "RandomInitializer", "Constant", "Zeros", "Ones", "Identity",
    "IdentityInitializer", "STFT", "STFTInitializer", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal",
    "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal", "OrthogonalInitializer",
    "compute_fans", "constant", "zeros", "ones", "identity", "stft", "random_normal",
    "random_uniform", "truncated_normal", "variance_scaling", "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "get",
    "serialize", "deserialize",
]  # fmt: skip
