"""``Functional``: a model defined by a graph of layer calls on symbolic inputs.

``Model(inputs, outputs)`` walks the graph back from ``outputs`` (:func:`map_graph`, a port of
Keras's), orders the layers by depth (inputs first), and at call time runs each node in that order
on the tensors computed so far.
"""

from __future__ import annotations

import collections

import numpy as np

from refkeras.backend.keras_tensor import KerasTensor
from refkeras.backend.tensor import Tensor
from refkeras.layers.input_layer import InputLayer
from refkeras.layers.input_spec import InputSpec, assert_input_compatibility
from refkeras.layers.layer import Layer
from refkeras.models.model import Model
from refkeras.ops.core import to_tensor
from refkeras.saving.object_registration import register_builtin
from refkeras.utils import naming, tree


def _build_map(inputs, outputs):
    """Nodes reachable from ``outputs`` in post-order (parents first) and each operation's
    discovery index."""
    finished, in_progress = set(), set()
    ordered, op_index = [], {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor):
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            raise ValueError(
                f"Output tensors of a Functional model must be the output of a Keras layer or "
                f"op. Received: {tensor}"
            )
        op, node_index, _ = history
        node = op._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from operation '{op.name}' is part of a cycle.")
        op_index.setdefault(id(op), (len(op_index), op))
        if node.is_input and id(tensor) not in input_ids:
            raise ValueError(
                f"Graph disconnected: the output depends on the input '{op.name}' "
                f"({tensor}), which is not in the model's `inputs`."
            )
        in_progress.add(id(node))
        if not node.is_input and id(tensor) not in input_ids:
            for t in node.arguments:
                visit(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered.append(node)

    for out in outputs:
        visit(out)
    return ordered, op_index


def map_graph(inputs, outputs):
    """``(nodes_by_depth, operations)``: nodes grouped by depth (outputs at depth 0) and the
    operations ordered by decreasing depth, ties broken by discovery order (as Keras)."""
    ordered, op_index = _build_map(inputs, outputs)
    node_depth: dict[int, int] = {}
    op_depth: dict[int, int] = {}
    nodes = {id(n): n for n in ordered}
    for node in reversed(ordered):
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, op_depth.get(id(node.operation), 0))
        op_depth[id(node.operation)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
            nodes[id(parent)] = parent
    for t in inputs:
        op = t._keras_history[0]
        if id(op) not in op_depth:
            op_depth[id(op)] = 0
            op_index[id(op)] = (-1, op)
            node_depth[id(op._inbound_nodes[0])] = 0
            nodes[id(op._inbound_nodes[0])] = op._inbound_nodes[0]
    nodes_by_depth = collections.defaultdict(list)
    for nid, depth in node_depth.items():
        nodes_by_depth[depth].append(nodes[nid])
    ops_by_depth = collections.defaultdict(list)
    for oid, depth in op_depth.items():
        ops_by_depth[depth].append(op_index[oid])
    operations = []
    for depth in sorted(ops_by_depth, reverse=True):
        operations.extend(op for _, op in sorted(ops_by_depth[depth], key=lambda e: e[0]))
    known = {id(t) for t in inputs}
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if not node.is_input:
                for t in node.arguments:
                    if id(t) not in known:
                        raise ValueError(
                            "Graph disconnected: cannot find parent for tensor "
                            f"{t} at layer '{node.operation.name}'. The following previous "
                            f"layers were accessed without issue: {[o.name for o in operations]}"
                        )
            for t in node.outputs:
                known.add(id(t))
    return dict(nodes_by_depth), operations


@register_builtin("keras", "Functional")
class Functional(Model):
    """A model built from ``inputs`` and ``outputs`` KerasTensors (single, list or dict)."""

    _keras_module = "keras.src.models.functional"

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name or naming.auto_name("functional"), trainable=trainable)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs):
        flat_inputs = tree.flatten(inputs)
        for x in flat_inputs:
            if not isinstance(x, KerasTensor):
                raise ValueError(
                    "All `inputs` values must be KerasTensors. Received: "
                    f"inputs={inputs} including invalid value {x} of type {type(x)}"
                )
        flat_outputs = tree.flatten(outputs)
        for x in flat_outputs:
            if not isinstance(x, KerasTensor):
                raise ValueError(
                    "All `outputs` values must be KerasTensors. Received: "
                    f"outputs={outputs} including invalid value {x} of type {type(x)}"
                )
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._inputs = flat_inputs
        self._outputs = flat_outputs
        self._nodes_by_depth, operations = map_graph(flat_inputs, flat_outputs)
        self._operations = operations
        self._layers = [op for op in operations if isinstance(op, Layer)]
        self.input_spec = [
            InputSpec(shape=(None, *x.shape[1:]), dtype=None, name=x.name) for x in flat_inputs
        ]
        self.built = True
        self._build_shapes = tree.map_structure(lambda x: tuple(x.shape), inputs)

    # --- introspection --------------------------------------------------------------------------

    @property
    def inputs(self) -> list:
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        return list(self._outputs)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    @property
    def input_names(self) -> list[str]:
        return [x._keras_history[0].name for x in self._inputs]

    @property
    def output_names(self) -> list[str]:
        """The names of the outputs in flattened order: the keys of a dict of outputs, else the
        names of the layers producing them."""
        if isinstance(self._outputs_struct, dict):
            return sorted(self._outputs_struct)
        return [x._keras_history[0].name for x in self._outputs]

    # --- running --------------------------------------------------------------------------------

    def _standardize_inputs(self, inputs) -> list:
        """Inputs as a flat list matching ``self.inputs`` (dicts matched by input name), each
        converted to its Input's dtype."""
        if isinstance(inputs, dict):
            names = self.input_names
            if isinstance(self._inputs_struct, dict):
                keys = sorted(self._inputs_struct)
                missing = [k for k in keys if k not in inputs]
                if missing:
                    raise ValueError(
                        f"Missing data for input(s) {missing}. You passed a data dictionary with "
                        f"keys {list(inputs)}. Expected the following keys: {keys}"
                    )
                flat = [inputs[k] for k in keys]
            else:
                missing = [n for n in names if n not in inputs]
                if missing:
                    raise ValueError(
                        f'Missing data for input "{missing[0]}". You passed a data dictionary '
                        f"with keys {list(inputs)}. Expected the following keys: {names}"
                    )
                flat = [inputs[n] for n in names]
        else:
            flat = tree.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(
                f'Layer "{self.name}" expects {len(self._inputs)} input(s), but it received '
                f"{len(flat)} input tensors. Inputs received: {flat}"
            )
        out = []
        for x, spec in zip(flat, self._inputs):
            if isinstance(x, KerasTensor):
                out.append(x)
                continue
            mask = getattr(x, "_keras_mask", None)
            t = to_tensor(x, spec.dtype) if not isinstance(x, Tensor) else x
            if t.value.dtype != np.dtype(spec.dtype):
                t = to_tensor(t, spec.dtype)
            t._keras_mask = mask
            out.append(t)
        return out

    def call(self, inputs, training=None, mask=None):
        flat = self._standardize_inputs(inputs)
        assert_input_compatibility(self.input_spec, flat, self.name)
        computed: dict[int, object] = {id(k): v for k, v in zip(self._inputs, flat)}
        if mask is not None:
            for t, m in zip(flat, tree.flatten(mask)):
                if isinstance(t, Tensor) and m is not None:
                    t._keras_mask = m
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input or any(id(t) not in computed for t in node.arguments):
                    continue

                def fill(x):
                    return computed[id(x)] if isinstance(x, KerasTensor) else x

                args = tree.map_structure(fill, node.call_args)
                kwargs = {k: tree.map_structure(fill, v) for k, v in node.call_kwargs.items()}
                outputs = node.operation(*args, **kwargs)
                for kt, value in zip(node.outputs, tree.flatten(outputs)):
                    computed[id(kt)] = value
        return tree.pack_sequence_as(self._outputs_struct, [computed[id(x)] for x in self._outputs])

    def compute_output_spec(self, inputs, training=None, mask=None):
        """Calling a functional model on symbolic inputs runs its graph symbolically."""
        return self.call(inputs, training=training, mask=mask)

    # --- config ---------------------------------------------------------------------------------

    def get_config(self) -> dict:
        """Keras 3's functional config: layers with their inbound nodes, input/output layers."""
        layer_configs = []
        node_ids = {}
        for layer in self._operations:
            from refkeras.saving.serialization_lib import serialize_keras_object

            entry = serialize_keras_object(layer)
            entry["name"] = layer.name
            build = layer.get_build_config() if not isinstance(layer, InputLayer) else None
            if build is not None:
                entry["build_config"] = _jsonable(build)
            inbound = []
            for node in layer._inbound_nodes:
                if node.is_input or not self._node_in_graph(node):
                    continue
                inbound.append(
                    {
                        "args": _serialize_node_args(node.call_args),
                        "kwargs": _serialize_node_args(node.call_kwargs),
                    }
                )
            entry["inbound_nodes"] = inbound
            layer_configs.append(entry)
            node_ids[id(layer)] = len(node_ids)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layer_configs,
            "input_layers": _tensor_refs(self._inputs_struct),
            "output_layers": _tensor_refs(self._outputs_struct),
        }

    def _node_in_graph(self, node) -> bool:
        return any(node in nodes for nodes in self._nodes_by_depth.values())

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from refkeras.models.functional_config import functional_from_config

        return functional_from_config(cls, config, custom_objects)


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v


def _keras_tensor_ref(t: KerasTensor) -> dict:
    op, node_index, tensor_index = t._keras_history
    return {
        "class_name": "__keras_tensor__",
        "config": {
            "shape": list(t.shape),
            "dtype": t.dtype,
            "keras_history": [op.name, node_index, tensor_index],
        },
    }


def _serialize_node_args(value):
    from refkeras.saving.serialization_lib import serialize_keras_object

    if isinstance(value, KerasTensor):
        return _keras_tensor_ref(value)
    if isinstance(value, dict):
        return {k: _serialize_node_args(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_serialize_node_args(v) for v in value]
    return serialize_keras_object(value)


def _tensor_refs(struct):
    if isinstance(struct, KerasTensor):
        op, node_index, tensor_index = struct._keras_history
        return [op.name, node_index, tensor_index]
    if isinstance(struct, dict):
        return {k: _tensor_refs(v) for k, v in struct.items()}
    return [_tensor_refs(s) for s in struct]
