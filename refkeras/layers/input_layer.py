"""``InputLayer`` and ``Input``: the entry points of functional models."""

from __future__ import annotations

from refkeras import config
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.keras_tensor import KerasTensor
from refkeras.layers.layer import Layer
from refkeras.layers.node import Node
from refkeras.saving.object_registration import register_builtin
from refkeras.utils import naming


@register_builtin("keras.layers")
class InputLayer(Layer):
    """Holds the symbolic input of a model: ``batch_shape`` = ``(batch_size, *shape)``."""

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        batch_shape=None,
        input_tensor=None,
        optional=False,
        name=None,
        **kwargs,
    ):
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("ragged", None)
        super().__init__(name=name or naming.auto_name("input_layer"), **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
        if batch_size is not None and batch_shape is not None:
            raise ValueError(
                "You cannot pass both `batch_size` and `batch_shape` at the same time."
            )
        if shape is None and batch_shape is None and input_tensor is None:
            raise ValueError("You must pass a `shape` argument.")
        if isinstance(shape, int):
            shape = (shape,)
        if input_tensor is not None:
            batch_shape = input_tensor.shape
        elif batch_shape is None:
            batch_shape = (batch_size, *tuple(shape))
        self.batch_shape = tuple(batch_shape)
        self._dtype = standardize_dtype(dtype or config.floatx())
        self.sparse = bool(sparse)
        self.optional = optional
        self.built = True
        if input_tensor is None:
            input_tensor = KerasTensor(self.batch_shape, dtype=self._dtype, name=self.name)
        self._input_tensor = input_tensor
        Node(self, (), {}, input_tensor)

    def call(self):
        return None

    @property
    def output(self):
        return self._input_tensor

    def get_config(self) -> dict:
        return {
            "batch_shape": list(self.batch_shape),
            "dtype": self._dtype,
            "sparse": self.sparse,
            "ragged": False,
            "name": self.name,
            "optional": self.optional,
        }


def Input(  # noqa: N802 - Keras's name
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    batch_shape=None,
    name=None,
    tensor=None,
    optional=False,
) -> KerasTensor:
    """A symbolic input: ``keras.Input(shape=(784,), name="digits")``.

    ``shape`` excludes the batch dimension; ``batch_shape`` includes it.
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        name=name,
        input_tensor=tensor,
        optional=optional,
    )
    return layer.output
