"""Ops called on symbolic tensors (``keras.ops.mean(x)`` or ``x * 2`` in a functional model) become
graph nodes of an :class:`OperationLayer` that re-runs the op eagerly when the model runs."""

from __future__ import annotations

from refkeras.backend.keras_tensor import KerasTensor
from refkeras.layers.layer import Layer, infer_output_spec
from refkeras.layers.node import Node
from refkeras.utils import naming, tree


class OperationLayer(Layer):
    """A weightless layer that applies a ``refkeras.ops`` function. Not serializable."""

    def __init__(self, fn, name=None):
        super().__init__(name=name or naming.auto_name(fn.__name__))
        self.fn = fn
        self.built = True

    def call(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def get_config(self):
        raise TypeError(
            f"The operation {self.fn.__name__!r} applied to symbolic tensors cannot be serialized; "
            "wrap it in a `Lambda` layer or a custom layer to save the model."
        )


def symbolic_call(fn, args, kwargs):
    """Record ``fn(*args, **kwargs)`` on KerasTensors as a node; return the output KerasTensors."""
    layer = OperationLayer(fn)
    outputs = infer_output_spec(fn, args, kwargs)
    if not tree.flatten(outputs) or not all(
        isinstance(o, KerasTensor) for o in tree.flatten(outputs)
    ):
        return outputs
    Node(layer, args, kwargs, outputs)
    return outputs
