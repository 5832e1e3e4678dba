"""Recurrent cells: one time step of SimpleRNN, LSTM and GRU, exactly as Keras 3 writes them.

A cell maps ``(inputs_t, states) -> (output_t, new_states)``.  The :class:`~refkeras.layers.RNN`
layer loops a cell over time; for these three cells it can instead run the fused sequence
primitives of ``refkeras/primitives/rnn.py``, which compute the same thing (the tests check it).
"""

from __future__ import annotations

from refkeras import activations, constraints, initializers, ops, regularizers
from refkeras.layers.layer import Layer
from refkeras.random import SeedGenerator, dropout
from refkeras.saving.object_registration import register_builtin


class DropoutRNNCell:
    """Input and recurrent dropout masks, drawn once per sequence and reused at every step."""

    def get_dropout_mask(self, step_input):
        if self._dropout_mask is None and self.dropout > 0:
            self._dropout_mask = dropout(
                ops.ones_like(step_input), self.dropout, seed=self.seed_generator
            )
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_state):
        if self._recurrent_dropout_mask is None and self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = dropout(
                ops.ones_like(step_state), self.recurrent_dropout, seed=self.seed_generator
            )
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


class _GatedCell(Layer, DropoutRNNCell):
    """Shared constructor arguments of the built-in cells."""

    _gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"Received an invalid value for argument `units`, expected a positive integer, "
                f"got {units}."
            )
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.seed_generator = SeedGenerator(seed=seed)
        self._dropout_mask = None
        self._recurrent_dropout_mask = None
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        n = self._gates * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], n),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, n),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def _masked(self, inputs, states, training):
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        h_tm1 = states[0]
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)
        return inputs, h_tm1

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


@register_builtin("keras.layers")
class SimpleRNNCell(_GatedCell):
    """``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)``."""

    def call(self, inputs, states, training=False):
        inputs, h_tm1 = self._masked(inputs, states, training)
        h = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            h = h + self.bias
        output = h + ops.matmul(h_tm1, self.recurrent_kernel)
        if self.activation is not None:
            output = self.activation(output)
        return output, [output]


@register_builtin("keras.layers")
class LSTMCell(_GatedCell):
    """One LSTM step (Keras's ``implementation=2``), gates in the order i, f, c, o::

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias
        i = σ(z_i); f = σ(z_f); o = σ(z_o)              (σ = recurrent_activation)
        c_t = f * c_{t-1} + i * activation(z_c)
        h_t = o * activation(c_t)

    ``unit_forget_bias=True`` initialises the forget-gate bias to ones.
    """

    _gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        **kwargs,
    ):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def bias_initializer(shape, dtype=None):
            return ops.concatenate(
                [
                    ops.convert_to_tensor(base((units,), dtype=dtype)),
                    ops.ones((units,), dtype=dtype),
                    ops.convert_to_tensor(base((units * 2,), dtype=dtype)),
                ]
            )

        return bias_initializer

    def call(self, inputs, states, training=False):
        c_tm1 = states[1]
        inputs, h_tm1 = self._masked(inputs, states, training)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_tm1, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        z0, z1, z2, z3 = ops.split(z, 4, axis=1)
        i = self.recurrent_activation(z0)
        f = self.recurrent_activation(z1)
        c = f * c_tm1 + i * self.activation(z2)
        o = self.recurrent_activation(z3)
        h = o * self.activation(c)
        return h, [h, c]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype) for _ in range(2)]

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        order = [
            "name",
            "trainable",
            "dtype",
            "units",
            "activation",
            "recurrent_activation",
            "use_bias",
            "unit_forget_bias",
        ]
        return {**{k: config[k] for k in order}, **config}


@register_builtin("keras.layers")
class GRUCell(_GatedCell):
    """One GRU step, gates z (update), r (reset), h (candidate).  With ``reset_after=True``
    (Keras 3's default) the bias is ``(2, 3 * units)`` — input and recurrent biases — and::

        z = σ(x W_z + b_z + h U_z + b'_z);  r = σ(x W_r + b_r + h U_r + b'_r)
        h~ = activation(x W_h + b_h + r * (h U_h + b'_h))
        h_t = z * h_{t-1} + (1 - z) * h~

    With ``reset_after=False`` the reset gate applies before the recurrent matmul:
    ``h~ = activation(x W_h + b_h + (r * h) U_h)``.
    """

    _gates = 3

    def __init__(
        self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs
    ):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=False):
        inputs, h_tm1 = self._masked(inputs, states, training)
        u = self.units
        if self.bias is not None and self.reset_after:
            input_bias, recurrent_bias = self.bias[0], self.bias[1]
        else:
            input_bias, recurrent_bias = self.bias, None
        matrix_x = ops.matmul(inputs, self.kernel)
        if input_bias is not None:
            matrix_x = matrix_x + input_bias
        x_z, x_r, x_h = ops.split(matrix_x, 3, axis=-1)
        if self.reset_after:
            matrix_inner = ops.matmul(h_tm1, self.recurrent_kernel)
            if recurrent_bias is not None:
                matrix_inner = matrix_inner + recurrent_bias
        else:
            matrix_inner = ops.matmul(h_tm1, self.recurrent_kernel[:, : 2 * u])
        rec_z, rec_r = matrix_inner[:, :u], matrix_inner[:, u : 2 * u]
        z = self.recurrent_activation(x_z + rec_z)
        r = self.recurrent_activation(x_r + rec_r)
        if self.reset_after:
            rec_h = r * matrix_inner[:, 2 * u :]
        else:
            rec_h = ops.matmul(r * h_tm1, self.recurrent_kernel[:, 2 * u :])
        hh = self.activation(x_h + rec_h)
        h = z * h_tm1 + (1 - z) * hh  # Keras blends with the (dropped-out) h_{t-1}
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config
