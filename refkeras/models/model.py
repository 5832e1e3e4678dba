"""``Model``: a Layer that can be trained (compile/fit/evaluate/predict), saved and summarised.

``Model(inputs, outputs)`` builds a :class:`~refkeras.models.functional.Functional` model;
``class MyModel(Model)`` with ``call()`` is a subclassed model.
"""

from __future__ import annotations

import json

from refkeras.layers.layer import Layer
from refkeras.saving.object_registration import register_builtin
from refkeras.trainers.trainer import Trainer


@register_builtin("keras", "Model")
class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features.

    Functional: ``Model(inputs=inputs, outputs=outputs, name=None)``.
    Subclassing: define layers in ``__init__`` and the forward pass in ``call``.
    """

    _keras_module = "keras"

    def __new__(cls, *args, **kwargs):
        if _is_functional_call(args, kwargs):
            from refkeras.models.functional import Functional

            if not issubclass(cls, Functional):
                # `Model(inputs, outputs)`, or `CustomModel(inputs, outputs)` for a subclass that
                # only overrides e.g. train_step: build a functional model of that class (as
                # Keras's inject_functional_model_class does).
                cls = Functional if cls is Model else _functional_version(cls)
            return Layer.__new__(cls, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        Trainer.__init__(self)
        Layer.__init__(self, *args, **kwargs)

    # --- layers ---------------------------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer named ``name`` (or at position ``index`` of ``layers``)."""
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ) -> None:
        """Print a table of the layers: name (type), output shape, parameter count; then totals."""
        from refkeras.models.summary import print_summary

        print_summary(
            self, line_length=line_length, print_fn=print_fn, show_trainable=show_trainable
        )

    # --- serialization --------------------------------------------------------------------------

    def get_config(self) -> dict:
        """Subclassed models: the constructor arguments, when they are plain values."""
        return Layer.get_config(self)

    def save(self, filepath, overwrite: bool = True, zipped: bool | None = None, **kwargs) -> None:
        """Save the model (architecture, weights, compile arguments, optimizer state) to a
        ``.keras`` archive that Keras 3 loads (see :func:`refkeras.saving.save_model`)."""
        from refkeras.saving import saving_api

        saving_api.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, max_shard_size=None) -> None:
        """Save the model's state to a ``.weights.h5`` file (Keras 3's layout)."""
        from refkeras.saving import saving_api

        saving_api.save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch: bool = False, **kwargs) -> None:
        """Load weights from ``.weights.h5``, ``.keras`` or legacy ``.h5`` files; ``by_name=True``
        matches layers by name (see :func:`refkeras.saving.load_weights`)."""
        from refkeras.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def to_json(self, **kwargs) -> str:
        """The model's architecture as a JSON string (``model_from_json`` rebuilds it)."""
        from refkeras.saving.serialization_lib import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)


def _is_functional_call(args, kwargs) -> bool:
    return (
        len(args) >= 2
        or ("inputs" in kwargs and "outputs" in kwargs)
        or (len(args) == 1 and "outputs" in kwargs)
    )


_FUNCTIONAL_VERSIONS: dict[type, type] = {}


def _functional_version(cls: type) -> type:
    """``cls`` with :class:`Functional` mixed in below it (its own methods still win)."""
    from refkeras.models.functional import Functional

    if cls not in _FUNCTIONAL_VERSIONS:
        _FUNCTIONAL_VERSIONS[cls] = type(
            cls.__name__,
            (cls, Functional),
            {"__module__": cls.__module__, "__qualname__": cls.__qualname__},
        )
    return _FUNCTIONAL_VERSIONS[cls]


def model_from_json(json_string: str, custom_objects=None):
    """Rebuild a model (architecture only, fresh weights) from ``model.to_json()``."""
    from refkeras.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(json.loads(json_string), custom_objects=custom_objects)
