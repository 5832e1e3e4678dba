"""The registry of classes and functions that configs may name.

Built-in refkeras classes register themselves with :func:`register_builtin` under their Keras
module (``keras.layers``, ``keras.losses``...); user objects register with
:func:`register_keras_serializable` (``package>Name``) or are passed as ``custom_objects``.
Deserialization resolves names only through this registry: a config can never name an arbitrary
module or function to import.
"""

from __future__ import annotations

import contextlib
import threading

_BUILTINS: dict[str, dict[str, object]] = {}  # keras module -> {name: object}
_CUSTOM: dict[str, object] = {}  # "package>Name" -> object
_CUSTOM_NAMES: dict[int, str] = {}
_scope = threading.local()


def register_builtin(module: str, *names: str):
    """Class/function decorator: make ``obj`` resolvable as ``module.<name>`` (e.g.
    ``@register_builtin("keras.layers", "Dense")``); extra ``names`` are aliases."""

    def decorator(obj):
        table = _BUILTINS.setdefault(module, {})
        for name in (obj.__name__, *names):
            table[name] = obj
        return obj

    return decorator


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Register a custom class or function as ``package>name`` so configs can refer to it."""
    if package is not None and ">" in package:
        raise ValueError(f"Argument `package` must not contain '>'. Received: package={package}")

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _CUSTOM[registered] = obj
        _CUSTOM_NAMES[id(obj)] = registered
        return obj

    return decorator


def get_registered_name(obj) -> str:
    return _CUSTOM_NAMES.get(id(obj), getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name: str, custom_objects=None, module_objects=None):
    """The object registered under ``name``: custom_objects, then the active
    :class:`CustomObjectScope`s, then registered custom objects, then ``module_objects``."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for scope in reversed(getattr(_scope, "stack", [])):
        if name in scope:
            return scope[name]
    if name in _CUSTOM:
        return _CUSTOM[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def builtin(module: str, name: str):
    return _BUILTINS.get(module, {}).get(name)


def builtins_of(module: str) -> dict[str, object]:
    return _BUILTINS.get(module, {})


class CustomObjectScope(contextlib.ContextDecorator):
    """``with CustomObjectScope({"MyLayer": MyLayer}):`` makes those names resolvable."""

    def __init__(self, *custom_objects):
        self.custom_objects = {}
        for d in custom_objects:
            self.custom_objects.update(d or {})

    def __enter__(self):
        if not hasattr(_scope, "stack"):
            _scope.stack = []
        _scope.stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope.stack.pop()


custom_object_scope = CustomObjectScope
