"""``Embedding``: a lookup table of vectors (Keras 3's ``keras/src/layers/core/embedding.py``)."""

from __future__ import annotations

import warnings

from refkeras import constraints, initializers, ops, regularizers
from refkeras.layers.layer import Layer
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.layers")
class Embedding(Layer):
    """Maps integer ids to dense vectors: ``output[..., :] = embeddings[inputs[...], :]``.

    Args:
        input_dim: vocabulary size (ids in ``[0, input_dim)``).
        output_dim: size of each vector.
        embeddings_initializer: default ``"uniform"`` (``RandomUniform(-0.05, 0.05)``).
        embeddings_regularizer, embeddings_constraint: default ``None``.
        mask_zero: if ``True``, id 0 is padding: the output mask is ``inputs != 0`` (so the
            vocabulary needs ``input_dim = real size + 1``).
        weights: optional initial ``[embeddings]`` array.

    Shapes: ``(batch, ...)`` integer ids (floats are cast to int32) ->
    ``(batch, ..., output_dim)``. One weight, ``embeddings`` ``(input_dim, output_dim)``; its
    gradient is the output gradient scattered-added into the looked-up rows.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"`{name}` must be a positive integer. Received: {name}={value} "
                    f"(of type {type(value).__name__})."
                )
        if lora_rank:
            raise NotImplementedError("refkeras's Embedding does not implement LoRA.")
        if quantization_config is not None:
            raise NotImplementedError("refkeras's Embedding does not implement quantization.")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None) -> None:
        if self.built:
            return
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            name="embeddings",
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            trainable=True,
        )
        self.built = True

    def call(self, inputs):
        if inputs.dtype != "int32" and inputs.dtype != "int64":
            inputs = ops.cast(inputs, "int32")
        outputs = ops.take(self.embeddings, inputs, axis=0)
        return ops.cast(outputs, dtype=self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
