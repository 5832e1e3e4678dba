"""``serialize_keras_object`` / ``deserialize_keras_object`` in Keras 3's format::

    {"module": "keras.layers", "class_name": "Dense", "config": {...}, "registered_name": None}

Deserialization only instantiates objects found in the registry
(:mod:`refkeras.saving.object_registration`): built-in refkeras classes, registered custom objects
and ``custom_objects``.  A ``module`` field never causes an import, so a config cannot run code.
"""

from __future__ import annotations

import types

import numpy as np

from refkeras.saving import object_registration as reg

# Keras modules whose public names refkeras mirrors; a config's "module" must be one of these
# (or start with "keras.src.", Keras 3's internal paths for the same classes).
KNOWN_MODULES = (
    "keras.layers", "keras.losses", "keras.metrics", "keras.optimizers",
    "keras.optimizers.schedules", "keras.initializers", "keras.regularizers",
    "keras.constraints", "keras.activations", "keras", "keras.models", "keras.random", "builtins",
    "keras.src.models.functional",
    "keras.src.models.sequential", "keras.callbacks",
)  # fmt: skip


_safe_mode_stack: list[bool] = []


class SafeModeScope:
    """``with SafeModeScope(False):`` lets deserialization inside load Python bytecode (Lambda
    layers); the default everywhere is safe mode."""

    def __init__(self, safe_mode: bool | None = True):
        self.safe_mode = safe_mode

    def __enter__(self):
        _safe_mode_stack.append(True if self.safe_mode is None else bool(self.safe_mode))
        return self

    def __exit__(self, *exc):
        _safe_mode_stack.pop()


def in_safe_mode() -> bool | None:
    """The innermost :class:`SafeModeScope`'s setting, or ``None`` outside any scope."""
    return _safe_mode_stack[-1] if _safe_mode_stack else None


def _module_of(obj) -> str:
    return getattr(obj, "_keras_module", None) or "keras"


def serialize_keras_object(obj):
    """A JSON-compatible description of ``obj``."""
    if obj is None:
        return None
    if isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray | list | tuple):
        if isinstance(obj, np.ndarray):
            return {
                "class_name": "__numpy__",
                "config": {"value": obj.tolist(), "dtype": str(obj.dtype)},
            }
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, types.FunctionType) and not hasattr(obj, "get_config"):
        registered = reg._CUSTOM_NAMES.get(id(obj))
        return {
            "module": _module_of(obj),
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": registered or obj.__name__,
        }
    if hasattr(obj, "get_config"):
        registered = reg._CUSTOM_NAMES.get(id(type(obj)))
        config = obj.get_config()
        return {
            "module": _module_of(type(obj)),
            "class_name": type(obj).__name__,
            "config": {k: _plain(v) for k, v in config.items()},
            "registered_name": registered,
        }
    raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj)}")


def _plain(v):
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, np.generic):
        return v.item()
    return v


def deserialize_keras_object(config, module_objects=None, custom_objects=None, safe_mode=None):
    """Rebuild an object from :func:`serialize_keras_object`'s output (or a bare name string).

    ``module_objects`` is the table of the module the caller deserializes for (e.g. all built-in
    losses); unknown names raise ``ValueError``.  ``safe_mode`` defaults to True; an enclosing
    :class:`SafeModeScope` (set by ``load_model(safe_mode=...)``) wins, as in Keras.
    """
    scoped = in_safe_mode()
    safe_mode = scoped if scoped is not None else (True if safe_mode is None else safe_mode)
    if config is None:
        return None
    if isinstance(config, str):
        obj = reg.get_registered_object(config, custom_objects, module_objects)
        if obj is None:
            raise ValueError(f"Could not interpret serialized object: {config!r}")
        return obj
    if isinstance(config, list | tuple | int | float | bool):
        return config
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return config  # a plain dict value
    class_name = config["class_name"]
    inner = config["config"]
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name in ("__tuple__",):
        return tuple(inner["value"])
    registered = config.get("registered_name")
    module = config.get("module")
    if module is not None and not (
        module in KNOWN_MODULES or module.startswith("keras.src.") or registered
    ):
        raise ValueError(
            f"Refusing to load {class_name!r} from module {module!r}: configs may only name "
            "refkeras/Keras classes and registered custom objects (see "
            "`refkeras.saving.register_keras_serializable`)."
        )
    if class_name == "function":
        name = registered or inner
        obj = reg.get_registered_object(name, custom_objects, module_objects)
        if obj is None:
            obj = reg.get_registered_object(inner, custom_objects, module_objects)
        if obj is None and module_objects is None:
            obj = reg.builtin(module, inner) if module else None
            obj = obj or _builtin_anywhere(inner)  # only refkeras's own functions are listed
        if obj is None:
            raise ValueError(
                f"Unknown function: {inner!r}. Please ensure you are using a "
                "`keras.utils.custom_object_scope` and that this object is included in the scope."
            )
        return obj
    cls = None
    if registered:
        cls = reg.get_registered_object(registered, custom_objects)
    if cls is None:
        cls = reg.get_registered_object(class_name, custom_objects, module_objects)
    if cls is None and module_objects is None:
        # Without a caller-given table, resolve through the config's own module; only Keras's
        # internal module paths (``keras.src...``) fall back to a search of every table.
        cls = reg.builtin(module, class_name) if module else None
        if cls is None and (module is None or module.startswith("keras.src.")):
            cls = _builtin_anywhere(class_name)
    if cls is None:
        raise TypeError(
            f"Could not locate class '{class_name}'. Make sure custom classes are decorated with "
            "`@keras.saving.register_keras_serializable()` or passed as `custom_objects`. "
            f"Full object config: {config}"
        )
    with reg.CustomObjectScope(custom_objects or {}), SafeModeScope(safe_mode):
        if hasattr(cls, "from_config"):
            return cls.from_config(inner)
        return cls(**inner)


def _builtin_anywhere(name):
    for table in reg._BUILTINS.values():
        if name in table:
            return table[name]
    return None
