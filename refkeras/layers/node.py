"""A node of the functional graph: one call of a layer (or op) on symbolic tensors."""

from __future__ import annotations

from refkeras.backend.keras_tensor import KerasTensor
from refkeras.utils import tree


class Node:
    """``operation(*call_args, **call_kwargs) -> outputs`` recorded on KerasTensors.

    ``arguments`` are the KerasTensors among the call arguments (in flattened order); each output
    remembers in ``_keras_history`` that it is output ``tensor_index`` of this node.
    """

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = tree.flatten(outputs) if outputs is not None else []
        self.arguments = [
            x
            for x in tree.flatten((self.call_args, self.call_kwargs))
            if isinstance(x, KerasTensor)
        ]
        self.is_input = not self.arguments
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for i, t in enumerate(self.outputs):
            t._keras_history = (operation, node_index, i)

    @property
    def parent_nodes(self) -> list[Node]:
        parents = []
        for x in self.arguments:
            op, node_index, _ = x._keras_history
            parents.append(op._inbound_nodes[node_index])
        return parents
