"""``Sequential``: a plain stack of layers, each with one input and one output.

With an input shape (an ``Input``/``InputLayer`` first, or ``input_shape=`` on the first layer) the
model builds at once; otherwise it builds on its first call, from the shape of the data.  Once built
it runs as a functional graph, so ``model.inputs``, ``layer.output`` and sub-models for
intermediate outputs work as in Keras.
"""

from __future__ import annotations

from refkeras.backend.keras_tensor import KerasTensor
from refkeras.layers.input_layer import Input, InputLayer
from refkeras.layers.layer import Layer
from refkeras.models.functional import Functional
from refkeras.models.model import Model
from refkeras.saving.object_registration import register_builtin
from refkeras.utils import naming, tree


@register_builtin("keras", "Sequential")
class Sequential(Model):
    """``Sequential(layers=None, trainable=True, name=None)``; ``add``/``pop`` edit the stack."""

    _keras_module = "keras"
    _manages_built = True  # build() may leave the model deferred (unbuilt)

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name or naming.auto_name("sequential"))
        self._functional = None
        self._layers = []
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild: bool = True) -> None:
        """Append ``layer`` (an ``Input`` tensor is turned into its ``InputLayer``)."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None:
            origin = layer._keras_history[0]
            if isinstance(origin, InputLayer):
                layer = origin
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer} (of type {type(layer)})"
            )
        if (
            isinstance(layer, InputLayer)
            and self._layers
            and isinstance(self._layers[0], InputLayer)
        ):
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input "
                f"shape {self._layers[0].batch_shape}. You cannot add a different Input layer "
                "to it."
            )
        if any(layer.name == other.name for other in self._layers):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f"'{layer.name}' is already the name of a layer in this model. Update the "
                "`name` argument to pass a unique name."
            )
        self._layers.append(layer)
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False
            self._functional = None

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        layers = self.layers
        if not layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        self._functional = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the InputLayer."""
        return [l for l in self._layers if not isinstance(l, InputLayer)]

    def _input_batch_shape(self):
        if self._layers and isinstance(self._layers[0], InputLayer):
            return self._layers[0].batch_shape, self._layers[0].dtype
        first = self.layers[0] if self.layers else None
        if first is not None and getattr(first, "_batch_input_shape", None) is not None:
            return first._batch_input_shape, None
        return None, None

    def _maybe_rebuild(self) -> None:
        self.built = False
        self._functional = None
        shape, dtype = self._input_batch_shape()
        if shape is not None and self.layers:
            self.build(shape, dtype)

    def build(self, input_shape=None, dtype=None) -> None:
        """Create the functional graph for inputs of ``input_shape`` (batch dimension first)."""
        if (
            not self._layers
            or isinstance(input_shape, list)
            and input_shape
            and isinstance(input_shape[0], list | tuple)
        ):
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it has no layers or "
                "its input shape is not a single shape. Call `model.add(layer)`."
            )
        if isinstance(self._layers[0], InputLayer):
            inputs = self._layers[0].output
        else:
            input_shape = tuple(input_shape)
            inputs = Input(
                batch_shape=(None, *input_shape[1:]),
                dtype=dtype,
                name=naming.auto_name("input_layer"),
            )
            self._layers.insert(0, inputs._keras_history[0])
        x = inputs
        for layer in self.layers:
            try:
                x = layer(x)
            except NotImplementedError:
                return  # a layer that cannot run symbolically: stay deferred
        self._functional = Functional(inputs=inputs, outputs=x, name=self.name + "_functional")
        self._build_shapes = tuple(inputs.shape)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if self._functional is None:
            first = tree.flatten(inputs)[0]
            kind = getattr(first, "dtype", None)
            dtype = (
                str(kind) if kind is not None and str(kind).startswith(("int", "uint")) else None
            )
            self.build((None, *tuple(first.shape)[1:]), dtype=dtype)
        if self._functional is not None:
            return self._functional.call(inputs, training=training, mask=mask)
        x = inputs
        for layer in self.layers:
            x = layer(x, training=training) if layer._call_has_training else layer(x)
        return x

    def compute_output_spec(self, inputs, training=None, mask=None):
        if self._functional is None:
            self.build(tuple(inputs.shape))
        return self._functional.compute_output_spec(inputs, training=training, mask=mask)

    @property
    def inputs(self):
        return self._functional.inputs if self._functional is not None else None

    @property
    def outputs(self):
        return self._functional.outputs if self._functional is not None else None

    @property
    def input(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input yet.")
        return self._functional.input

    @property
    def output(self):
        if self._functional is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined output yet.")
        return self._functional.output

    @property
    def input_shape(self):
        return tuple(self._functional.inputs[0].shape) if self._functional else None

    @property
    def output_shape(self):
        return tuple(self._functional.outputs[0].shape) if self._functional else None

    def get_config(self) -> dict:
        from refkeras.layers.layer import _dtype_config
        from refkeras.saving.serialization_lib import serialize_keras_object

        layer_configs = []
        for layer in self._layers:
            entry = serialize_keras_object(layer)
            build = layer.get_build_config() if not isinstance(layer, InputLayer) else None
            if build is not None:
                entry["build_config"] = {"input_shape": _listify(build["input_shape"])}
            layer_configs.append(entry)
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": _dtype_config(self.dtype),
            "layers": layer_configs,
        }
        if self._functional is not None:
            config["build_input_shape"] = list(self._functional.inputs[0].shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from refkeras.saving.serialization_lib import deserialize_keras_object

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            layer = deserialize_keras_object(entry, custom_objects=custom_objects)
            model.add(layer, rebuild=False)
        if not isinstance(model._layers[0], InputLayer) and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        else:
            model._maybe_rebuild()
        return model


def _listify(v):
    if isinstance(v, list | tuple):
        return [_listify(x) for x in v]
    return v
