"""Legacy HDF5 files (``.h5``): whole models and weights as Keras 2 (and ``model.save("x.h5")`` in
Keras 3) write them.  A port of Keras 3's ``keras/src/legacy/saving/legacy_h5_format.py``.

Whole-model file layout::

    /                       attrs: model_config (JSON), training_config (JSON), keras_version
    /model_weights          attrs: layer_names; one group per layer name
    /model_weights/<layer>  attrs: weight_names; datasets at those (nested) paths
    /optimizer_weights      attrs: weight_names; datasets (optimizer state)

A weights-only file (``save_weights("x.h5")``) is the ``model_weights`` group at the file root.
Weights of a layer are stored as ``trainable_weights + non_trainable_weights``.

Keras 2 configs differ from Keras 3's: layers have no ``module``, inputs give
``batch_input_shape``, and a functional layer's ``inbound_nodes`` are lists
``[[["dense", 0, 0, {}]]]`` (layer name, node index, tensor index, call kwargs) instead of
``{"args": [...], "kwargs": {...}}``.  :func:`convert_legacy_config` rewrites them.

Every file is opened through :func:`refkeras.saving.safety.safe_open_h5`; damaged files raise
``ValueError`` mentioning "corrupt".
"""

from __future__ import annotations

import io
import json
import os
import warnings

import h5py
import numpy as np

from refkeras.saving import safety
from refkeras.saving.serialization_lib import SafeModeScope, deserialize_keras_object

# --- reading attributes and datasets -------------------------------------------------------------


def _decode(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _attr(obj, key: str, default=None):
    with safety.h5_errors(obj.file.filename):
        if key not in obj.attrs:
            return default
        return obj.attrs[key]


def _list_attr(group, name: str) -> list:
    """An attribute holding a list of names, also when Keras split it into ``name0``,
    ``name1``... because of HDF5's 64 KiB object header limit."""
    value = _attr(group, name)
    if value is None:
        chunks, i = [], 0
        while (chunk := _attr(group, f"{name}{i}")) is not None:
            chunks.extend(np.asarray(chunk).ravel().tolist())
            i += 1
        value = chunks
    return [_decode(v) for v in np.asarray(value).ravel().tolist()]


def _child(group, name: str, kind=h5py.Group):
    with safety.h5_errors(group.file.filename):
        obj = group.get(name)
    if not isinstance(obj, kind):
        what = "group" if kind is h5py.Group else "dataset"
        raise ValueError(
            f"{group.file.filename} is corrupt or not a Keras weights file: expected a {what} "
            f"{name!r} in {group.name}."
        )
    return obj


def _subset_values(group) -> list[np.ndarray]:
    """The arrays named by ``group``'s ``weight_names`` attribute, in that order."""
    return [
        safety.read_dataset(_child(group, name, h5py.Dataset))
        for name in _list_attr(group, "weight_names")
    ]


def _json_attr(f, key: str):
    raw = _attr(f, key)
    if raw is None:
        return None
    try:
        return json.loads(_decode(raw), object_hook=_json_hook)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"{f.filename} is corrupt: attribute {key!r} is not valid JSON ({e})."
        ) from None


def _json_hook(obj: dict):
    # Keras 2's json_utils encodes tuples and TensorShapes as tagged objects.
    if obj.get("class_name") == "__tuple__":
        return tuple(obj["items"])
    if obj.get("class_name") == "TensorShape":
        return obj.get("items")
    if obj.get("class_name") == "__ellipsis__":
        raise ValueError("Ellipsis values in legacy configs are not supported.")
    return obj


# --- Keras 2 configs -----------------------------------------------------------------------------

# Constructor arguments that Keras 2 wrote but Keras 3 dropped, with the only value that keeps the
# layer's meaning (any other value raises); and ones that never changed the computation.
_DROPPED_ARGS = {"time_major": False}
_IGNORED_ARGS = ("input_length",)
_FUNCTIONAL_NAMES = ("Functional", "Model")


def _tensor_ref(name: str, node_index: int, tensor_index: int) -> dict:
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": None, "dtype": None, "keras_history": [name, node_index, tensor_index]},
    }


def _is_history(value) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
    )


def _convert_node(node):
    """A Keras 2 inbound node ``[[name, node_index, tensor_index, kwargs], ...]`` as Keras 3's
    ``{"args": [...], "kwargs": {...}}`` (several inputs become one list argument)."""
    if isinstance(node, dict):
        return node
    refs, kwargs = [], {}
    for item in node:
        if not (isinstance(item, list | tuple) and len(item) in (3, 4)):
            raise ValueError(f"Cannot deserialize the model (invalid inbound node data {item!r}).")
        refs.append(_tensor_ref(*item[:3]))
        if len(item) == 4:
            kwargs = item[3] or {}

    def convert(value):  # tensors passed as call kwargs appear as [name, node, tensor]
        if _is_history(value):
            return _tensor_ref(*value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return {"args": [refs[0] if len(refs) == 1 else refs], "kwargs": convert(kwargs)}


def _unwrap_single(refs):
    return refs[0] if isinstance(refs, list) and len(refs) == 1 and _is_history(refs[0]) else refs


def convert_legacy_config(config: dict, keras2: bool = True) -> dict:
    """Rewrite a legacy layer/model config (``{"class_name", "config", ...}``) into the form
    refkeras deserializes, recursing into nested models.

    As Keras 3's legacy loader: ``batch_input_shape`` of an ``InputLayer`` becomes ``batch_shape``
    and a one-element ``axis`` list becomes an int; Keras 2 Lambda functions become
    ``__lambda__`` configs.  Beyond it: ``Model`` is ``Functional``, list-form inbound nodes are
    converted, ``time_major=False`` is dropped, and with ``keras2`` one-element input/output lists
    are unwrapped (a Keras 2 model with one output returned an array, not a list).
    """
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(
            "The provided configuration is not a valid Keras configuration. Expected a dictionary "
            f"containing 'class_name' and 'config' keys. Received: config={config!r:.200}"
        )
    entry = dict(config)
    class_name = entry["class_name"]
    inner = entry["config"]
    if class_name == "Sequential" and isinstance(inner, list):  # Keras <= 2.2
        inner = {"layers": inner}
    inner = dict(inner)
    if class_name == "Model" and "layers" in inner and "input_layers" in inner:
        class_name = entry["class_name"] = "Functional"

    if class_name == "Sequential":
        inner["layers"] = [convert_legacy_config(layer, keras2) for layer in inner["layers"]]
    elif class_name in _FUNCTIONAL_NAMES and "layers" in inner:
        layers = []
        for layer in inner["layers"]:
            converted = convert_legacy_config(layer, keras2)
            converted["name"] = layer.get("name", layer["config"].get("name"))
            converted["inbound_nodes"] = [_convert_node(n) for n in layer.get("inbound_nodes", [])]
            layers.append(converted)
        inner["layers"] = layers
        if keras2:
            inner["input_layers"] = _unwrap_single(inner["input_layers"])
            inner["output_layers"] = _unwrap_single(inner["output_layers"])
    else:
        batch_input_shape = inner.pop("batch_input_shape", None)
        if batch_input_shape is not None:
            key = "batch_shape" if class_name == "InputLayer" else "batch_input_shape"
            inner[key] = list(batch_input_shape)
        axis = inner.get("axis")
        if isinstance(axis, list) and len(axis) == 1:
            inner["axis"] = int(axis[0])
        for key, keeps_meaning in _DROPPED_ARGS.items():
            if key in inner:
                if inner[key] != keeps_meaning:
                    raise ValueError(
                        f"Layer {inner.get('name')!r} ({class_name}) uses the Keras 2 argument "
                        f"{key}={inner[key]!r}, which Keras 3 no longer supports."
                    )
                del inner[key]
        for key in _IGNORED_ARGS:
            inner.pop(key, None)
        if class_name == "Lambda" and isinstance(inner.get("function"), list):
            code, defaults, closure = inner["function"]
            inner["function"] = {
                "class_name": "__lambda__",
                "config": {"code": code, "defaults": defaults, "closure": closure},
            }
            for key in ("module", "function_type", "output_shape_type", "output_shape_module"):
                inner.pop(key, None)
    entry["config"] = inner
    return entry


def model_from_legacy_config(
    config: dict, custom_objects=None, safe_mode: bool = True, keras2: bool = True
):
    """Build an (uncompiled) model from a legacy ``model_config``."""
    from refkeras import layers as _layers  # noqa: F401  (registers the built-in layers)
    from refkeras import models as _models  # noqa: F401

    config = convert_legacy_config(config, keras2=keras2)
    with SafeModeScope(safe_mode):
        return deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)


# --- training config -----------------------------------------------------------------------------

# Keras 2 names of losses that Keras 3 renamed.
_LOSS_ALIASES = {
    "logcosh": "log_cosh",
    "huber_loss": "huber",
    "kullback_leibler_divergence": "kl_divergence",
}
_KERAS2_OPTIMIZER_ARGS = ("is_legacy_optimizer", "jit_compile")


def _optimizer_from_config(config: dict, custom_objects=None):
    from refkeras import optimizers

    config = dict(config)
    inner = dict(config.get("config", {}))
    class_name = config["class_name"]
    if ">" in class_name and class_name.split(">")[-1].lower() in optimizers.ALL_OBJECTS_DICT:
        # TF 2.11-2.12 wrote its new optimizers as "Custom>Adam".
        if (custom_objects or {}).get(class_name) is None:
            config["class_name"] = class_name.split(">")[-1]
            config.pop("registered_name", None)
    if "lr" in inner:  # Keras < 2.3
        inner.setdefault("learning_rate", inner.pop("lr"))
    if isinstance(inner.get("learning_rate"), int):
        inner["learning_rate"] = float(inner["learning_rate"])
    inner.pop("decay", None)  # Keras 2's per-step learning-rate decay (always 0 by default)
    for key in _KERAS2_OPTIMIZER_ARGS:
        inner.pop(key, None)
    config["config"] = inner
    return optimizers.deserialize(config, custom_objects=custom_objects)


def _loss_from_config(config, custom_objects=None):
    from refkeras import losses

    if isinstance(config, str):
        return _LOSS_ALIASES.get(config, config)
    if isinstance(config, dict) and "class_name" in config:
        config = dict(config)
        inner = dict(config.get("config") or {})
        if inner.get("reduction") == "auto":  # Keras 2's default reduction
            inner["reduction"] = "sum_over_batch_size"
        config["config"] = inner
        return losses.deserialize(config, custom_objects=custom_objects)
    if isinstance(config, dict):
        return {k: _loss_from_config(v, custom_objects) for k, v in config.items()}
    if isinstance(config, list | tuple):
        return [_loss_from_config(v, custom_objects) for v in config]
    return config


def _metric_from_config(config, custom_objects=None):
    from refkeras import metrics

    if config is None or isinstance(config, str):
        return config
    if isinstance(config, dict) and "class_name" in config:
        inner = config.get("config") or {}
        if config["class_name"] == "MeanMetricWrapper" and isinstance(inner.get("fn"), str):
            # Keras 2 wrote string metrics as wrappers around a function name; the user's name
            # ("mae", "accuracy") resolves to the same metric and keeps the log key.
            name = inner.get("name")
            if name in ("accuracy", "acc", "crossentropy", "ce"):
                return name
            try:
                metrics.get(name)
                return name
            except (ValueError, TypeError):
                return inner["fn"]
        return metrics.deserialize(config, custom_objects=custom_objects)
    if isinstance(config, dict):
        return {k: _metric_from_config(v, custom_objects) for k, v in config.items()}
    if isinstance(config, list | tuple):
        return [_metric_from_config(v, custom_objects) for v in config]
    return config


def compile_args_from_training_config(training_config: dict, custom_objects=None) -> dict:
    """``model.compile`` arguments (optimizer, loss, metrics, weighted_metrics, loss_weights)
    from a legacy ``training_config``."""
    from refkeras.saving.object_registration import CustomObjectScope

    if not isinstance(training_config, dict) or "optimizer_config" not in training_config:
        raise ValueError(
            f"Invalid training config (expected a dict with 'optimizer_config'): "
            f"{training_config!r:.200}"
        )
    with CustomObjectScope(custom_objects or {}):
        optimizer = _optimizer_from_config(training_config["optimizer_config"], custom_objects)
        return {
            "optimizer": optimizer,
            "loss": _loss_from_config(training_config.get("loss"), custom_objects),
            "metrics": _metric_from_config(training_config.get("metrics"), custom_objects),
            "weighted_metrics": _metric_from_config(
                training_config.get("weighted_metrics"), custom_objects
            ),
            "loss_weights": training_config.get("loss_weights"),
        }


def _fit_metrics_to_outputs(args: dict, model) -> dict:
    """Keras 2 wrote single-output metrics as ``[[m1, m2]]`` (one list per output)."""
    outputs = getattr(model, "outputs", None) or []
    for key in ("metrics", "weighted_metrics"):
        value = args[key]
        if (
            len(outputs) == 1
            and isinstance(value, list)
            and len(value) == 1
            and isinstance(value[0], list)
        ):
            args[key] = value[0]
    return args


def _restore_optimizer_state(model, f) -> None:
    group = _child(f, "optimizer_weights")
    names = _list_attr(group, "weight_names")
    values = [safety.read_dataset(_child(group, n, h5py.Dataset)) for n in names]
    optimizer = model.optimizer
    try:
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        variables = optimizer.variables
        if len(values) == len(variables):
            pairs = list(zip(variables, values))
        elif len(values) < len(variables) and all(
            n.split("/")[-1] == v.path.split("/")[-1] for n, v in zip(names, variables)
        ):  # saved before the optimizer was built: only `iteration` and `learning_rate`
            pairs = list(zip(variables, values))
        else:
            raise ValueError(f"{len(variables)} optimizer variables, {len(values)} saved")
        for variable, value in pairs:
            if tuple(variable.shape) != tuple(value.shape):
                raise ValueError(
                    f"{variable.path} has shape {tuple(variable.shape)}, saved {value.shape}"
                )
        for variable, value in pairs:
            variable.assign(value)
    except (ValueError, NotImplementedError, AttributeError) as e:
        warnings.warn(
            f"Error in loading the saved optimizer state ({e}). As a result, your model is "
            "starting with a freshly initialized optimizer.",
            stacklevel=3,
        )


# --- weights -------------------------------------------------------------------------------------


def _legacy_weights(layer) -> list:
    """The order in which legacy files store a layer's weights."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _top_level_weights(model) -> list:
    own = list(getattr(model, "_trainable_variables", [])) + list(
        getattr(model, "_non_trainable_variables", [])
    )
    all_ids = {id(w) for w in model.weights}
    return [v for v in own if id(v) in all_ids]


def _shape(x) -> tuple:
    return tuple(int(d) for d in x.shape)


def _check_pairs(variables, values, label: str, skip_mismatch: bool) -> list:
    """(variable, value) pairs whose shapes match; a mismatch raises (or, with
    ``skip_mismatch``, warns and drops that weight)."""
    pairs = []
    for variable, value in zip(variables, values):
        if _shape(variable) != _shape(value):
            message = (
                f"Shape mismatch in {label} for weight {variable.path}. Weight expects shape "
                f"{_shape(variable)}. Received saved weight with shape {_shape(value)}"
            )
            if skip_mismatch:
                warnings.warn(f"Skipping loading weights: {message}", stacklevel=4)
                continue
            raise ValueError(message)
        pairs.append((variable, value))
    return pairs


def _assign_all(pairs) -> None:
    for variable, value in pairs:
        variable.assign(np.asarray(value).astype(variable.dtype, copy=False))


def load_weights_from_hdf5_group(group, model, skip_mismatch: bool = False) -> None:
    """Topological loading: the i-th layer with weights in the file goes to the model's i-th
    layer with weights.  Everything is checked before any weight changes."""
    filtered_layers = [layer for layer in model.layers if _legacy_weights(layer)]
    layer_names = [
        name
        for name in _list_attr(group, "layer_names")
        if _list_attr(_child(group, name), "weight_names")
    ]
    if len(layer_names) != len(filtered_layers):
        raise ValueError(
            "Layer count mismatch when loading weights from file. Model expected "
            f"{len(filtered_layers)} layers, found {len(layer_names)} saved layers."
        )
    pairs = []
    for k, (name, layer) in enumerate(zip(layer_names, filtered_layers)):
        variables = _legacy_weights(layer)
        values = _subset_values(_child(group, name))
        if len(values) != len(variables):
            raise ValueError(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current model, "
                f"{name} in the save file). Layer expects {len(variables)} weight(s). Received "
                f"{len(values)} saved weight(s)"
            )
        pairs += _check_pairs(variables, values, f"layer #{k} (named {layer.name})", skip_mismatch)
    pairs += _top_level_pairs(group, model, skip_mismatch, by_name=False)
    _assign_all(pairs)


def _top_level_pairs(group, model, skip_mismatch: bool, by_name: bool) -> list:
    if "top_level_model_weights" not in group:
        return []
    variables = _top_level_weights(model)
    values = _subset_values(_child(group, "top_level_model_weights"))
    if len(values) != len(variables):
        message = (
            "Weight count mismatch for top-level weights of model. Model expects "
            f"{len(variables)} top-level weight(s). Received {len(values)} saved top-level "
            "weight(s)"
        )
        if by_name and skip_mismatch:
            warnings.warn(f"Skipping loading top-level weights: {message}", stacklevel=3)
            return []
        raise ValueError(message)
    return _check_pairs(variables, values, "top-level model", skip_mismatch)


def load_weights_from_hdf5_group_by_name(group, model, skip_mismatch: bool = False) -> None:
    """Name-based loading: each saved layer goes to the model's layers of the same name; layers
    without a match on either side are left alone."""
    index: dict[str, list] = {}
    for layer in model.layers:
        index.setdefault(layer.name, []).append(layer)
    pairs = []
    for k, name in enumerate(_list_attr(group, "layer_names")):
        layers = index.get(name, [])
        if not layers:
            continue
        values = _subset_values(_child(group, name))
        for layer in layers:
            variables = _legacy_weights(layer)
            if len(values) != len(variables):
                message = (
                    f"Weight count mismatch for layer #{k} (named {layer.name}). Layer expects "
                    f"{len(variables)} weight(s). Received {len(values)} saved weight(s)"
                )
                if skip_mismatch:
                    warnings.warn(f"Skipping loading weights: {message}", stacklevel=2)
                    continue
                raise ValueError(message)
            pairs += _check_pairs(
                variables, values, f"layer #{k} (named {layer.name})", skip_mismatch
            )
    pairs += _top_level_pairs(group, model, skip_mismatch, by_name=True)
    _assign_all(pairs)


def _weights_group(f):
    if "layer_names" not in f.attrs and "model_weights" in f:
        return _child(f, "model_weights")
    if "layer_names" not in f.attrs and "layer_names0" not in f.attrs:
        raise ValueError(f"{f.filename} is not a Keras weights file (no 'layer_names').")
    return f


def _open(filepath):
    if isinstance(filepath, h5py.Group):
        return filepath, False
    return safety.safe_open_h5(filepath), True


def load_weights(model, filepath, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Load a legacy ``.h5`` weights file (or the weights of a whole-model file) into ``model``.

    By default layers are matched in order (the i-th layer with weights gets the i-th saved
    layer); ``by_name=True`` matches layer names.  Count or shape mismatches raise ``ValueError``
    naming the layer and the expected and received shapes, before any weight changes;
    ``skip_mismatch=True`` skips those weights with a warning instead.
    """
    f, opened = _open(filepath)
    try:
        group = _weights_group(f)
        if by_name:
            load_weights_from_hdf5_group_by_name(group, model, skip_mismatch=skip_mismatch)
        else:
            load_weights_from_hdf5_group(group, model, skip_mismatch=skip_mismatch)
    finally:
        if opened:
            f.close()


def _is_keras2(f) -> bool:
    version = _decode(_attr(f, "keras_version", "1"))
    try:
        return int(str(version).split(".")[0]) < 3
    except ValueError:
        return True


def load_model(
    filepath: str | os.PathLike | io.IOBase | h5py.File,
    custom_objects: dict | None = None,
    compile: bool = True,
    safe_mode: bool = True,
):
    """Load a whole model from a legacy ``.h5`` file: rebuild it from ``model_config``, set its
    weights from ``model_weights`` and, with ``compile=True``, compile it from
    ``training_config`` (optimizer, loss, metrics) and restore the optimizer state when it fits.
    """
    f, opened = _open(filepath)
    try:
        model_config = _json_attr(f, "model_config")
        if model_config is None:
            raise ValueError(f"No model config found in the file at {f.filename}.")
        keras2 = _is_keras2(f)
        try:
            model = model_from_legacy_config(model_config, custom_objects, safe_mode, keras2)
        except KeyError as e:
            raise ValueError(f"Invalid model config in {f.filename}: missing key {e}.") from None
        load_weights_from_hdf5_group(_child(f, "model_weights"), model)
        if not compile:
            return model
        training_config = _json_attr(f, "training_config")
        if training_config is None:
            warnings.warn(
                "No training configuration found in the save file, so the model was *not* "
                "compiled. Compile it manually.",
                stacklevel=2,
            )
            return model
        try:
            args = compile_args_from_training_config(training_config, custom_objects)
        except KeyError as e:
            raise ValueError(f"Invalid training config in {f.filename}: missing key {e}.") from None
        model.compile(**_fit_metrics_to_outputs(args, model))
        if "optimizer_weights" in f:
            _restore_optimizer_state(model, f)
        return model
    finally:
        if opened:
            f.close()
