"""``refkeras.optimizers``: the Keras 3 optimizers and learning-rate schedules.

``get("adam")``, ``get({"class_name": "Adam", "config": {...}})`` and ``get(Adam())`` all give an
optimizer; built-in names are case-insensitive, as in Keras.
"""

from __future__ import annotations

import difflib

from refkeras.optimizers import schedules  # noqa: F401
from refkeras.optimizers.adadelta import Adadelta
from refkeras.optimizers.adagrad import Adagrad
from refkeras.optimizers.adam import Adam
from refkeras.optimizers.adamax import Adamax
from refkeras.optimizers.adamw import AdamW
from refkeras.optimizers.ftrl import Ftrl
from refkeras.optimizers.lion import Lion
from refkeras.optimizers.nadam import Nadam
from refkeras.optimizers.optimizer import Optimizer
from refkeras.optimizers.rmsprop import RMSprop
from refkeras.optimizers.sgd import SGD
from refkeras.saving.object_registration import get_registered_object
from refkeras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

__all__ = [
    "Adadelta", "Adagrad", "Adam", "Adamax", "AdamW", "Ftrl", "Lion", "Nadam", "Optimizer",
    "RMSprop", "SGD", "deserialize", "get", "schedules", "serialize",
]  # fmt: skip

ALL_OBJECTS = (Optimizer, Adam, SGD, RMSprop, Adadelta, AdamW, Adagrad, Adamax, Nadam, Ftrl, Lion)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer: Optimizer) -> dict:
    """The optimizer's config in Keras's format: ``{"module": "keras.optimizers", "class_name":
    ..., "config": ..., "registered_name": ...}``."""
    return serialize_keras_object(optimizer)


def deserialize(config: dict, custom_objects=None) -> Optimizer:
    """An optimizer from :func:`serialize`'s output; built-in class names are case-insensitive."""
    config = dict(config)
    if config["class_name"].lower() in ALL_OBJECTS_DICT:
        config["class_name"] = config["class_name"].lower()
    return deserialize_keras_object(
        config, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )


def get(identifier) -> Optimizer | None:
    """An optimizer from a name (``"adam"``), a config dict, or an optimizer (returned as is)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        if identifier.lower() not in ALL_OBJECTS_DICT and get_registered_object(identifier) is None:
            raise ValueError(_not_understood(identifier))
        obj = deserialize({"class_name": identifier, "config": {}})
    else:
        obj = identifier
    if isinstance(obj, Optimizer):
        return obj
    raise ValueError(_not_understood(identifier))


def _not_understood(identifier) -> str:
    message = f"Could not interpret optimizer identifier: {identifier}"
    if isinstance(identifier, str):
        close = difflib.get_close_matches(identifier.lower(), ALL_OBJECTS_DICT, n=3, cutoff=0.5)
        if close:
            message += f". Did you mean one of: {', '.join(repr(c) for c in close)}?"
    return message
