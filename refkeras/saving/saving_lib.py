"""Keras 3's model files: the ``.keras`` archive and the ``.weights.h5`` weights file.

A ``.keras`` file is a zip archive (members stored uncompressed) holding, in this order::

    metadata.json       {"keras_version": ..., "date_saved": "%Y-%m-%d@%H:%M:%S", ...}
    config.json         serialize_keras_object(model) + "build_config" + "compile_config"
    model.weights.h5    the state of every object of the model's object tree (below)

A ``.weights.h5`` file is that last member on its own.

**The object tree** (a port of Keras's ``saving_lib._save_state``).  The state of a model is the
variables of its *saveables* — layers and optimizers — each stored in the HDF5 group
``<path>/vars`` as datasets ``"0"``, ``"1"``... (the saveable's own variables in order: trainable
then non-trainable), the group's attribute ``name`` holding the object's name.  Paths come from the
attribute names under which objects are reached, starting with the model at path ``""``:

* a Sequential or Functional model first lists ``layers`` (a container, see below);
* then every attribute of the object in ``dir()`` order, private (``_x``) ones last, except the
  attributes every layer has (those of a bare ``Layer``): a saveable attribute ``a`` is at
  ``<path>/a`` (``optimizer``, an RNN's ``cell``, a subclassed model's ``self.encoder``);
* a list, tuple or dict attribute ``a`` is a container: its saveables are named by their class
  name in snake case, numbered in order (``layers/dense``, ``layers/dense_1``,
  ``layers/input_layer``...), nested containers ``container``, ``container_1``...;
* an object reached twice is stored once, at the first path.

So a Sequential model's Dense kernel is ``layers/dense/vars/0``, an LSTM's recurrent kernel
``layers/lstm/cell/vars/1`` and Adam's first momentum ``optimizer/vars/2``.  Container members are
named by class, not by layer name, so files do not depend on auto-generated names; the ``name``
attribute lets ``load_weights(..., by_name=True)`` match layers by name instead.

Loading reads every array and checks every count and shape first, then assigns: an error changes no
variable.  All writes go through :func:`refkeras.saving.atomic.atomic_write`.  Untrusted input is
checked by :mod:`refkeras.saving.safety` before it is used.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import warnings
import zipfile
from collections.abc import Iterator

import h5py
import numpy as np

from refkeras.saving.atomic import atomic_write
from refkeras.saving.object_registration import CustomObjectScope
from refkeras.saving.serialization_lib import (
    SafeModeScope,
    deserialize_keras_object,
    serialize_keras_object,
)

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
VARS_FILENAME = "model.weights.h5"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


# --- the object tree ---------------------------------------------------------------------------


def _is_saveable(obj) -> bool:
    from refkeras.layers.layer import Layer
    from refkeras.optimizers.optimizer import Optimizer

    return isinstance(obj, Layer | Optimizer)


_LAYER_ATTRS: set[str] | None = None


def _attrs_to_skip(obj) -> set[str]:
    """The attributes a bare ``Layer`` has (Keras's ``get_attr_skipset``), plus the graph's own
    lists for Functional (``_operations``) and Sequential (``_functional``) models."""
    global _LAYER_ATTRS
    from refkeras.layers.layer import Layer
    from refkeras.models.functional import Functional
    from refkeras.models.sequential import Sequential

    if _LAYER_ATTRS is None:
        _LAYER_ATTRS = set(dir(Layer(name="attribute_probe")))
    if isinstance(obj, Sequential):
        return _LAYER_ATTRS | {"layers", "_functional"}
    if isinstance(obj, Functional):
        return _LAYER_ATTRS | {"layers", "operations", "_operations"}
    return _LAYER_ATTRS


def _children(obj) -> Iterator[tuple[str, object]]:
    """``(attribute, value)`` pairs of ``obj`` in Keras's visiting order.  Optimizers are leaves."""
    from refkeras.models.functional import Functional
    from refkeras.models.sequential import Sequential
    from refkeras.optimizers.optimizer import Optimizer

    if isinstance(obj, Optimizer):
        return
    if isinstance(obj, Sequential | Functional):
        yield "layers", obj.layers
    skip = _attrs_to_skip(obj)
    for attr in sorted(dir(obj), key=lambda a: f"~{a}" if a.startswith("_") else a):
        if attr.startswith("__") or attr in skip:
            continue
        try:
            value = getattr(obj, attr)
        except Exception:  # a property that cannot be computed now holds no saveable
            continue
        yield attr, value


def object_tree(root, objects_to_skip=()) -> list[tuple[str, object]]:
    """Every saveable reachable from ``root`` with its path, in Keras's order (``root`` at ``""``);
    ``objects_to_skip`` and everything reachable only through them are left out."""
    visited = {id(o) for o in objects_to_skip}
    found: list[tuple[str, object]] = []

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        found.append((path, obj))
        for attr, child in _children(obj):
            if _is_saveable(child):
                visit(child, _join(path, attr))
            elif isinstance(child, list | tuple | dict):
                visit_container(child, _join(path, attr), set())

    def visit_container(container, path, seen_containers):
        if id(container) in seen_containers:
            return
        seen_containers.add(id(container))
        used: dict[str, int] = {}
        items = list(container.values()) if isinstance(container, dict) else container
        for item in items:
            if _is_saveable(item):
                visit(item, _join(path, _unique_name(_snake_case(type(item).__name__), used)))
            elif isinstance(item, list | tuple | dict):
                name = _unique_name("container", used)
                visit_container(item, _join(path, name), seen_containers)

    visit(root, "")
    return found


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _unique_name(name: str, used: dict[str, int]) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _snake_case(name: str) -> str:
    from refkeras.utils.naming import to_snake_case

    return to_snake_case("".join(c for c in name if c.isalnum() or c == "_"))


def _own_variables(obj) -> list:
    """The variables stored in ``obj``'s own ``vars`` group: an optimizer's ``variables``, a
    layer's own (not its sublayers') trainable then non-trainable variables."""
    from refkeras.optimizers.optimizer import Optimizer

    if isinstance(obj, Optimizer):
        return obj.variables
    return list(obj._trainable_variables) + list(obj._non_trainable_variables)


def _custom_hook(obj, name: str):
    """A user-defined ``save_own_variables``/``load_own_variables`` (Keras's override points), or
    ``None`` for the built-in behaviour."""
    from refkeras.optimizers.optimizer import Optimizer

    method = getattr(type(obj), name, None)
    if method is None or method is getattr(Optimizer, name, None):
        return None
    return getattr(obj, name)


# --- the HDF5 weights layout -------------------------------------------------------------------


class VarsGroup:
    """The ``<path>/vars`` group of one saveable, as the dict-like ``store`` that Keras passes to
    ``save_own_variables``/``load_own_variables``: keys ``"0"``, ``"1"``... to arrays."""

    def __init__(self, group=None):
        self._group = group

    def keys(self) -> list[str]:
        return list(self._group.keys()) if self._group is not None else []

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, key) -> bool:
        return self._group is not None and key in self._group

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self:
            raise KeyError(key)
        dataset = self._group[key]
        if not isinstance(dataset, h5py.Dataset):
            raise ValueError(f"Invalid weights file: '{dataset.name}' is not a dataset.")
        try:
            value = np.asarray(dataset[()])
        except Exception as e:  # h5py: damaged chunks, bad filters...
            raise ValueError(f"The weights file is corrupt: cannot read {dataset.name}: {e}") from e
        if dataset.attrs.get("dtype") == "bfloat16":
            return _bfloat16_as_float32(value)
        return value

    def __setitem__(self, key: str, value) -> None:
        value = np.asarray(value)
        self._group.create_dataset(key, data=value)


def _bfloat16_as_float32(raw: np.ndarray) -> np.ndarray:
    """bfloat16 values (the top half of float32s) as float32: NumPy has no bfloat16."""
    bits = np.asarray(raw).view(np.uint16).astype(np.uint32) << 16
    return bits.view(np.float32)


def _vars_group(h5: h5py.File, path: str) -> VarsGroup:
    """``<path>/vars`` in a file being read (empty if absent; Keras 2.13 files named the layers
    container ``_layer_checkpoint_dependencies``)."""
    for candidate in (path, path.replace("layers", "_layer_checkpoint_dependencies")):
        name = _join(candidate, "vars")
        if name in h5 and isinstance(h5[name], h5py.Group):
            return VarsGroup(h5[name])
    return VarsGroup(None)


def write_state(model, h5: h5py.File, objects_to_skip=()) -> None:
    """Write the variables of every saveable of ``model`` into the open file ``h5``."""
    for path, obj in object_tree(model, objects_to_skip):
        group = h5.create_group(_join(path, "vars"))
        if isinstance(getattr(obj, "name", None), str):
            group.attrs["name"] = obj.name
        store = VarsGroup(group)
        hook = _custom_hook(obj, "save_own_variables")
        if hook is not None:
            hook(store)
        else:
            for i, variable in enumerate(_own_variables(obj)):
                store[str(i)] = variable.numpy()


def read_state(
    model, h5: h5py.File, *, skip_mismatch: bool = False, by_name: bool = False, objects_to_skip=()
) -> None:
    """Load the variables of ``model`` from the open file ``h5``: every saveable from the group at
    its path (``by_name``: each layer from the group whose ``name`` attribute is the layer's name;
    layers without one are left alone).  All counts and shapes are checked before anything is
    assigned; a mismatch raises ``ValueError`` naming the layer and both shapes, or with
    ``skip_mismatch`` leaves that layer unchanged and warns."""
    if by_name:
        pairs = _pairs_by_name(model, h5, objects_to_skip)
    else:
        pairs = [(obj, _vars_group(h5, path)) for path, obj in object_tree(model, objects_to_skip)]
    assignments, hooks, errors = [], [], []
    for obj, store in pairs:
        hook = _custom_hook(obj, "load_own_variables")
        if hook is not None:
            hooks.append((hook, store))
            continue
        planned, error = _plan(obj, store)
        if error:
            errors.append(error)
        else:
            assignments.extend(planned)
    if errors and not skip_mismatch:
        raise ValueError(
            f"Could not load the weights: {len(errors)} object(s) do not match the file; no "
            "weight was changed.\n" + "\n".join(errors)
        )
    for error in errors:
        warnings.warn(f"Skipping (skip_mismatch=True): {error}", stacklevel=3)
    for variable, value in assignments:
        variable.assign(value)
    for hook, store in hooks:
        hook(store)


def _plan(obj, store: VarsGroup) -> tuple[list, str | None]:
    """``([(variable, array)...], None)``, or ``([], message)`` when the stored arrays do not
    fit ``obj``'s variables."""
    from refkeras.optimizers.optimizer import Optimizer

    variables = _own_variables(obj)
    kind = "Optimizer" if isinstance(obj, Optimizer) else "Layer"
    expected = [tuple(v.shape) for v in variables]
    if len(store) != len(variables):
        if isinstance(obj, Optimizer):  # Keras: warn and keep the optimizer's state
            warnings.warn(
                f"Skipping variable loading for optimizer '{obj.name}', because it has "
                f"{len(variables)} variables whereas the saved optimizer has {len(store)} "
                "variables. "
                + (
                    "This is likely because the optimizer has not been called/built yet."
                    if not variables
                    else ""
                ),
                stacklevel=4,
            )
            return [], None
        received = [_stored_shape(store, k) for k in sorted(store.keys(), key=_key_order)]
        hint = (
            " The layer was never built; build the model (call it on data) before loading."
            if not variables and not getattr(obj, "built", True)
            else ""
        )
        return [], (
            f"{kind} '{obj.name}' expected {len(variables)} variables with shapes {expected}, "
            f"but received {len(store)} variables with shapes {received}.{hint}"
        )
    arrays = []
    for i in range(len(variables)):
        if str(i) not in store:
            return [], (
                f"{kind} '{obj.name}': the weights file has no variable '{i}' "
                f"(found: {sorted(store.keys(), key=_key_order)})."
            )
        arrays.append(store[str(i)])
    received = [a.shape for a in arrays]
    if received != expected:
        return [], (
            f"{kind} '{obj.name}' expected variables with shapes {expected}, but received "
            f"variables with shapes {received}."
        )
    return list(zip(variables, arrays)), None


def _key_order(key: str):
    return (0, int(key)) if key.isdigit() else (1, key)


def _stored_shape(store: VarsGroup, key: str):
    dataset = store._group[key]
    return tuple(dataset.shape) if isinstance(dataset, h5py.Dataset) else "group"


def _pairs_by_name(model, h5: h5py.File, objects_to_skip) -> list[tuple[object, VarsGroup]]:
    """Each layer of ``model`` (nested models: their layers) paired with the ``vars`` groups of
    its object tree, found under the file group whose ``name`` attribute is the layer's name."""
    from refkeras.models.model import Model

    saved = _groups_by_name(h5)
    pairs = []
    skip = {id(o) for o in objects_to_skip}

    def match(layers):
        for layer in layers:
            if id(layer) in skip:
                continue
            if layer.name in saved:
                base = saved[layer.name]
                for path, obj in object_tree(layer, objects_to_skip):
                    pairs.append((obj, _vars_group(h5, _join(base, path) if path else base)))
            elif isinstance(layer, Model):
                match(layer.layers)

    match(model.layers)
    return pairs


def _groups_by_name(h5: h5py.File) -> dict[str, str]:
    """``{object name: path of its group}`` for every ``<path>/vars`` group with a ``name``
    attribute (the shallowest path wins when names repeat, e.g. RNN cells)."""
    found: dict[str, str] = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and name.split("/")[-1] == "vars" and "name" in obj.attrs:
            owner = name.rsplit("/", 1)[0] if "/" in name else ""
            layer_name = obj.attrs["name"]
            layer_name = layer_name.decode() if isinstance(layer_name, bytes) else str(layer_name)
            if layer_name not in found or owner.count("/") < found[layer_name].count("/"):
                found[layer_name] = owner

    h5.visititems(visit)
    return found


# --- config.json and metadata.json --------------------------------------------------------------


def model_config(model) -> dict:
    """``serialize_keras_object(model)`` with the ``build_config`` and ``compile_config`` that
    Keras adds to a saved model."""
    from refkeras.layers.layer import Layer
    from refkeras.models.functional import Functional

    config = serialize_keras_object(model)
    own_build_config = type(model).get_build_config is not Layer.get_build_config
    if isinstance(model, Functional) and not own_build_config:
        build_config = {"input_shape": None}  # Keras: a functional model is built by its graph
    else:
        build_config = model.get_build_config()
    if build_config is not None:
        config["build_config"] = _jsonable(build_config)
    config["compile_config"] = _jsonable(compile_config(model))
    return config


def compile_config(model) -> dict:
    """The arguments ``model.compile`` was called with, serialized (``{}`` if not compiled)."""
    if hasattr(model, "get_compile_config"):
        return model.get_compile_config()
    if not getattr(model, "compiled", False):
        return {}
    compile_loss = model._compile_loss
    compile_metrics = model._compile_metrics
    jit_compile = getattr(model, "jit_compile", "auto")
    return {
        "optimizer": serialize_keras_object(model.optimizer),
        "loss": serialize_keras_object(compile_loss._user_loss) if compile_loss else None,
        "loss_weights": serialize_keras_object(compile_loss._user_loss_weights)
        if compile_loss
        else None,
        "metrics": serialize_keras_object(compile_metrics._user_metrics)
        if compile_metrics
        else None,
        "weighted_metrics": serialize_keras_object(compile_metrics._user_weighted)
        if compile_metrics
        else None,
        "run_eagerly": bool(getattr(model, "run_eagerly", False)),
        "steps_per_execution": model.steps_per_execution,
        "jit_compile": True if jit_compile == "auto" else jit_compile,  # Keras resolves "auto"
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def metadata() -> dict:
    """``metadata.json``.  Keras's loader never reads it; Keras writes ``keras_version`` and
    ``date_saved``."""
    from refkeras import __version__

    return {
        "keras_version": __version__,
        "refkeras_version": __version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }


def model_from_config(
    config: dict, custom_objects=None, compile: bool = True, safe_mode: bool = True
):
    """Rebuild, build and (with ``compile``) compile the model described by ``config.json``."""
    from refkeras import layers, models  # noqa: F401  (they register the built-in classes)

    with CustomObjectScope(custom_objects or {}), SafeModeScope(safe_mode):
        model = deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
        build_config = config.get("build_config")
        if build_config and not model.built:
            _build_from_config(model, build_config)
        compile_args = config.get("compile_config")
        if compile and compile_args:
            _compile_from_config(model, compile_args, custom_objects)
    return model


def _build_from_config(model, build_config: dict) -> None:
    """As Keras's ``Model.build_from_config``: a model without its own ``build`` is built by
    running it on symbolic inputs of the saved shape."""
    from refkeras.backend.keras_tensor import KerasTensor
    from refkeras.layers.layer import Layer
    from refkeras.utils import tree

    if type(model).build_from_config is not Layer.build_from_config:
        model.build_from_config(build_config)
        return
    shape = build_config.get("input_shape")
    if shape is None:
        return
    if type(model).build is Layer.build:
        model(tree.map_shape_structure(lambda s: KerasTensor(tuple(s)), _shape_tuples(shape)))
    else:
        model.build_from_config(build_config)


def _shape_tuples(shape):
    if isinstance(shape, dict):
        return {k: _shape_tuples(v) for k, v in shape.items()}
    if (
        isinstance(shape, list | tuple)
        and shape
        and all(isinstance(s, list | tuple | dict) for s in shape)
    ):
        return [_shape_tuples(s) for s in shape]
    return tuple(shape)


def _compile_from_config(model, config: dict, custom_objects=None) -> None:
    """``model.compile(**config)``, then create the optimizer's variables so that the saved
    optimizer state can be loaded into them (Keras's ``compile_from_config``)."""
    from refkeras.trainers.trainer import Trainer

    if hasattr(model, "compile_from_config"):
        model.compile_from_config(config)
        return
    if type(model).compile is not Trainer.compile:
        warnings.warn(
            "`compile()` was not called as part of model loading because the model's "
            "`compile()` method is custom. All subclassed Models that have `compile()` "
            "overridden should also override `get_compile_config()` and "
            "`compile_from_config(config)`. Alternatively, you can call `compile()` manually "
            "after loading.",
            stacklevel=3,
        )
        return
    model.compile(**{k: _deserialize_value(v, custom_objects) for k, v in config.items()})
    if model.optimizer is not None and model.built:
        model.optimizer.build(model.trainable_weights)


def _deserialize_value(value, custom_objects):
    """Object configs inside lists and dicts become objects; names stay names."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        return deserialize_keras_object(value, custom_objects=custom_objects)
    if isinstance(value, dict):
        return {k: _deserialize_value(v, custom_objects) for k, v in value.items()}
    if isinstance(value, list):
        return [_deserialize_value(v, custom_objects) for v in value]
    return value


# --- the .keras archive -----------------------------------------------------------------------


def archive_members(model) -> dict[str, bytes]:
    """``{member name: bytes}`` of ``model``'s ``.keras`` archive, in Keras's order."""
    config_json = json.dumps(model_config(model))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        write_state(model, h5)
    return {
        METADATA_FILENAME: json.dumps(metadata()).encode(),
        CONFIG_FILENAME: config_json.encode(),
        VARS_FILENAME: buffer.getvalue(),
    }


def save_model(model, filepath, zipped: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile arguments, optimizer state) to a ``.keras``
    zip archive, or with ``zipped=False`` to a directory holding the same three files."""
    filepath = os.fspath(filepath)
    if not model.built:
        warnings.warn(
            "You are saving a model that has not yet been built. It might not contain any "
            "weights yet. Consider building the model first by calling it on some data.",
            stacklevel=3,
        )
    members = archive_members(model)
    if not zipped:
        os.makedirs(filepath, exist_ok=True)
        for name, data in members.items():
            with atomic_write(os.path.join(filepath, name)) as tmp:
                _write_file(tmp, data)
        return
    with atomic_write(filepath) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)


def _write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Load a model written by :func:`save_model` or by Keras 3's ``model.save("x.keras")``
    (a zip archive, or an unzipped directory with ``config.json``)."""
    filepath = os.fspath(filepath)
    if os.path.isdir(filepath):
        config = _parse_config(_read_dir_member(filepath, CONFIG_FILENAME), filepath)
        model = model_from_config(config, custom_objects, compile, safe_mode)
        data = _read_dir_member(filepath, VARS_FILENAME)
        _load_h5_bytes(model, data, filepath)
        return model
    with open_archive(filepath) as zf:
        if VARS_FILENAME not in zf.namelist() and "model.weights.npz" in zf.namelist():
            raise ValueError(
                f"'{filepath}' stores its weights as `model.weights.npz` (Keras's "
                "`weights_format='npz'`), which holds pickled objects; refkeras only reads "
                "`model.weights.h5`. Re-save the model with the default weights format."
            )
        config = _parse_config(_read_member(zf, CONFIG_FILENAME, filepath), filepath)
        model = model_from_config(config, custom_objects, compile, safe_mode)
        _load_h5_bytes(model, _read_member(zf, VARS_FILENAME, filepath), filepath)
    return model


def open_archive(filepath: str) -> zipfile.ZipFile:
    """Open a ``.keras`` archive for reading, after the safety checks; a file that is not a zip
    archive gives ``ValueError`` saying so."""
    from refkeras.saving import safety

    if not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible "
            "`.keras` zip file."
        )
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(_not_an_archive(filepath, e)) from e
    try:
        safety.validate_archive(zf)
    except BaseException:
        zf.close()
        raise
    return zf


def _not_an_archive(filepath: str, error: Exception) -> str:
    msg = f"The file '{filepath}' is corrupt or not a `.keras` archive (a zip file): {error}."
    try:
        with open(filepath, "rb") as f:
            if f.read(8) == _HDF5_SIGNATURE:
                msg += (
                    " It is an HDF5 file: a legacy `.h5` model (rename it to `.h5`) or a "
                    "`.weights.h5` file (use `model.load_weights`)."
                )
    except OSError:
        pass
    return msg


def _read_member(zf: zipfile.ZipFile, name: str, filepath: str) -> bytes:
    try:
        return zf.read(name)
    except KeyError as e:
        raise ValueError(
            f"The file '{filepath}' is corrupt or not a `.keras` archive: it has no '{name}' "
            f"(members: {zf.namelist()})."
        ) from e
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(
            f"The file '{filepath}' is corrupt or not a `.keras` archive: cannot read "
            f"'{name}': {e}."
        ) from e


def _read_dir_member(dirpath: str, name: str) -> bytes:
    path = os.path.join(dirpath, name)
    if not os.path.isfile(path):
        raise ValueError(f"The model directory '{dirpath}' has no '{name}'.")
    with open(path, "rb") as f:
        return f.read()


def _parse_config(data: bytes, filepath: str) -> dict:
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(
            f"The file '{filepath}' is corrupt or not a `.keras` archive: "
            f"'{CONFIG_FILENAME}' is not valid JSON ({e})."
        ) from e
    if not isinstance(config, dict):
        raise ValueError(
            f"The file '{filepath}' is corrupt or not a `.keras` archive: "
            f"'{CONFIG_FILENAME}' does not describe a model."
        )
    return config


def _load_h5_bytes(model, data: bytes, filepath: str, **options) -> None:
    with _open_h5(io.BytesIO(data), len(data), f"{filepath} ({VARS_FILENAME})") as h5:
        read_state(model, h5, **options)


def _open_h5(source, file_size: int, label: str) -> h5py.File:
    """Open an HDF5 file for reading, after the safety checks."""
    from refkeras.saving import safety

    try:
        h5 = h5py.File(source, "r")
    except Exception as e:  # OSError, or anything from damaged metadata
        raise ValueError(f"The file '{label}' is corrupt or not an HDF5 weights file: {e}") from e
    try:
        safety.validate_h5(h5, file_size=file_size)
    except ValueError:
        h5.close()
        raise
    except Exception as e:
        h5.close()
        raise ValueError(f"The file '{label}' is corrupt or not an HDF5 weights file: {e}") from e
    return h5


# --- weights only --------------------------------------------------------------------------------


def save_weights_only(model, filepath, objects_to_skip=None) -> None:
    """Write the state of ``model`` (the ``model.weights.h5`` of its archive) to ``filepath``."""
    if not model.built:
        raise ValueError(
            "You are saving a model that has not yet been built. Try building the model first "
            "by calling it on some data or by using `build()`."
        )
    with atomic_write(filepath) as tmp:
        with h5py.File(tmp, "w") as h5:
            write_state(model, h5, objects_to_skip or ())


def load_weights_only(
    model,
    filepath,
    skip_mismatch: bool = False,
    by_name: bool = False,
    objects_to_skip=None,
) -> None:
    """Load a ``.weights.h5`` file, or the weights of a ``.keras`` archive, into ``model``."""
    if not model.built:
        raise ValueError(
            "You are loading weights into a model that has not yet been built. Try building "
            "the model first by calling it on some data or by using `build()`."
        )
    filepath = os.fspath(filepath)
    options = {
        "skip_mismatch": skip_mismatch,
        "by_name": by_name,
        "objects_to_skip": objects_to_skip or (),
    }
    if filepath.endswith(".keras"):
        with open_archive(filepath) as zf:
            _load_h5_bytes(model, _read_member(zf, VARS_FILENAME, filepath), filepath, **options)
        return
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such weights file: '{filepath}'.")
    with _open_h5(filepath, os.path.getsize(filepath), filepath) as h5:
        read_state(model, h5, **options)
