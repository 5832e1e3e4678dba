"""Utilities: ``set_random_seed``, ``get_file``, ``to_categorical``, ``PyDataset`` and friends.

Attributes are imported on first use so that low-level modules can use ``refkeras.utils.tree``
without importing the whole package.
"""

import importlib

_LAZY = {
    "get_file": "refkeras.utils.file_utils",
    "PyDataset": "refkeras.utils.py_dataset",
    "Sequence": "refkeras.utils.py_dataset",
    "set_random_seed": "refkeras.random.seed_generator",
    "CustomObjectScope": "refkeras.saving.object_registration",
    "custom_object_scope": "refkeras.saving.object_registration",
    "get_registered_object": "refkeras.saving.object_registration",
    "register_keras_serializable": "refkeras.saving.object_registration",
    "Progbar": "refkeras.utils.progbar",
    "to_categorical": "refkeras.utils.numerical_utils",
    "normalize": "refkeras.utils.numerical_utils",
    "unpack_x_y_sample_weight": "refkeras.trainers.data_adapters",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in ("tree", "naming", "progbar", "file_utils", "py_dataset", "numerical_utils"):
        return importlib.import_module(f"refkeras.utils.{name}")
    raise AttributeError(f"module 'refkeras.utils' has no attribute {name!r}")


def __dir__():
    return sorted(list(_LAZY) + ["tree"])
