"""Rebuilding a functional model from its config (the inverse of ``Functional.get_config``)."""

from __future__ import annotations

from refkeras.saving.serialization_lib import deserialize_keras_object
from refkeras.utils import tree


def functional_from_config(cls, config: dict, custom_objects=None):
    """Create every layer, then replay each layer's inbound calls once their inputs exist."""
    from refkeras import layers as layers_module  # noqa: F401  (registers built-in layers)

    created = {}
    tensors: dict[tuple, object] = {}  # (layer name, node index, tensor index) -> KerasTensor
    pending = []
    for entry in config["layers"]:
        layer = deserialize_keras_object(entry, custom_objects=custom_objects)
        name = entry.get("name", layer.name)
        created[name] = layer
        if entry["class_name"] == "InputLayer":
            tensors[(name, 0, 0)] = layer.output
            continue
        build = entry.get("build_config")
        for i, node in enumerate(entry.get("inbound_nodes", [])):
            pending.append((layer, name, i, node, build))

    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            key = tuple(value["config"]["keras_history"])
            if key not in tensors:
                raise KeyError(key)
            return tensors[key]
        if isinstance(value, dict):
            if "class_name" in value and "config" in value:
                return deserialize_keras_object(value, custom_objects=custom_objects)
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    while pending:
        progressed = False
        for item in list(pending):
            layer, name, i, node, build = item
            try:
                args = resolve(node.get("args", []))
                kwargs = resolve(node.get("kwargs", {}))
            except KeyError:
                continue
            outputs = layer(*args, **kwargs)
            for j, t in enumerate(tree.flatten(outputs)):
                tensors[(name, i, j)] = t
            pending.remove(item)
            progressed = True
        if not progressed:
            names = sorted({p[1] for p in pending})
            raise ValueError(
                f"Could not rebuild the functional graph: layers {names} have "
                "inputs that no layer produces."
            )

    def refs(struct):
        if isinstance(struct, list) and len(struct) == 3 and isinstance(struct[0], str):
            return tensors[tuple(struct)]
        if isinstance(struct, dict):
            return {k: refs(v) for k, v in struct.items()}
        return [refs(s) for s in struct]

    inputs = refs(config["input_layers"])
    outputs = refs(config["output_layers"])
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))
