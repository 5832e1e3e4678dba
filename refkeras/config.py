"""Global configuration: ``floatx``, ``epsilon``, ``image_data_format`` and ``backend``.

Read once from ``~/.refkeras/refkeras.json`` (falling back to ``/tmp/.refkeras`` when the home
directory is not writable, as the Keras FAQ describes for ``~/.keras``); the environment variable
``REFKERAS_BACKEND`` overrides the backend named in the file.  The file is created with the defaults
on first import when it does not exist.
"""

from __future__ import annotations

import json
import os

_VALID_FLOATX = ("float16", "bfloat16", "float32", "float64")
_VALID_DATA_FORMATS = ("channels_last", "channels_first")
_VALID_BACKENDS = ("numpy", "numba", "jax", "cupy")

_loaded = {"done": False}  # set once refkeras has installed the configured backend

_config: dict = {
    "floatx": "float32",
    "epsilon": 1e-7,
    "image_data_format": "channels_last",
    "backend": "numpy",
}


def refkeras_home() -> str:
    """The directory holding ``refkeras.json`` and the ``datasets`` cache.

    ``$REFKERAS_HOME`` if set, else ``~/.refkeras`` if it can be created and written, else
    ``/tmp/.refkeras``.
    """
    if "REFKERAS_HOME" in os.environ:
        return os.environ["REFKERAS_HOME"]
    home = os.path.expanduser("~")
    base = home if os.access(home, os.W_OK) else "/tmp"
    return os.path.join(base, ".refkeras")


def floatx() -> str:
    """The default float dtype, ``"float32"`` unless configured."""
    return _config["floatx"]


def set_floatx(value: str) -> None:
    value = str(value)
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {set(_VALID_FLOATX)}")
    _config["floatx"] = value


def epsilon() -> float:
    """The fuzz factor used in numeric expressions, ``1e-7`` unless configured."""
    return _config["epsilon"]


def set_epsilon(value: float) -> None:
    _config["epsilon"] = float(value)


def image_data_format() -> str:
    """``"channels_last"`` (default) or ``"channels_first"``."""
    return _config["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    data_format = str(data_format).lower()
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    _config["image_data_format"] = data_format


def backend() -> str:
    """The name of the active backend (``"numpy"`` is the reference)."""
    return _config["backend"]


def set_backend(name: str) -> None:
    """Select the backend: ``"numpy"`` (the reference), ``"numba"``, ``"jax"``, ``"cupy"`` (in
    ``accel/``, each installed with its extra, e.g. ``pip install "refkeras[jax]"``) or
    ``"package.module:attr"`` naming a third-party backend.

    Unlike Keras, the backend can be switched after import; variables created before the switch
    keep arrays of the old backend until they are assigned.
    """
    if not isinstance(name, str) or (name not in _VALID_BACKENDS and ":" not in name):
        raise ValueError(
            f"Unknown backend: {name!r}. Expected one of {list(_VALID_BACKENDS)} or "
            "'package.module:attr'."
        )
    if _loaded["done"]:
        from refkeras import backend

        backend.load_backend(name)  # raises (and changes nothing) when it cannot be loaded
    _config["backend"] = name


def _load() -> None:
    path = os.path.join(refkeras_home(), "refkeras.json")
    try:
        with open(path) as f:
            stored = json.load(f)
    except (OSError, ValueError):
        stored = None
    if isinstance(stored, dict):
        for key, setter in (
            ("floatx", set_floatx),
            ("epsilon", set_epsilon),
            ("image_data_format", set_image_data_format),
            ("backend", set_backend),
        ):
            if key in stored:
                setter(stored[key])
    elif stored is None and not os.path.exists(path):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = path + f".tmp{os.getpid()}"
            with open(tmp, "w") as f:
                json.dump(_config, f, indent=4)
            os.replace(tmp, path)
        except OSError:
            pass
    if os.environ.get("REFKERAS_BACKEND"):
        set_backend(os.environ["REFKERAS_BACKEND"])


_load()
