"""Recurrent layers: the generic ``RNN(cell)`` loop and ``SimpleRNN``, ``LSTM``, ``GRU``.

``RNN`` runs ``cell(x_t, states)`` for each step (reversed with ``go_backwards``); at a masked step
the states carry over unchanged and the output repeats the previous one.  For the built-in cells
the whole loop is also available as one fused primitive (``refkeras/primitives/rnn.py``), used when
it computes the same thing: standard activations and no recurrent dropout in training.  Both paths
are tested against each other and against Keras.

``stateful=True`` keeps the final states of each batch as the initial states of the next (across
``fit``, ``predict`` and ``train_on_batch``) until ``reset_states()``; it needs a fixed batch size.
"""

from __future__ import annotations

import numpy as np

from refkeras import activations, ops
from refkeras.backend.variable import Variable
from refkeras.layers.input_spec import InputSpec
from refkeras.layers.layer import Layer
from refkeras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from refkeras.ops.core import call
from refkeras.saving.object_registration import register_builtin
from refkeras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from refkeras.utils import naming, tree

_FUSED_ACTIVATIONS = {"tanh", "sigmoid", "relu", "linear", "hard_sigmoid"}


@register_builtin("keras.layers")
class RNN(Layer):
    """Loops ``cell`` over the time axis of ``(batch, time, features)`` inputs.

    Args:
        return_sequences: return every step's output ``(batch, time, units)`` (in processing
            order: reversed in time with ``go_backwards``), else the last one.
        return_state: also return the final states.
        go_backwards: process the sequence from its last step to its first.
        stateful: carry the final states over to the next batch.
        zero_output_for_mask: output zeros (not the carried output) at masked steps.
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, list | tuple):
            raise ValueError("Stacked cells (a list of cells) are not supported; stack RNN layers.")
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError(
                "Argument `cell` should have a `call` method and a `state_size` attribute. "
                f"Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self._state_variables = None

    # --- shapes and states ----------------------------------------------------------------------

    def build(self, sequences_shape, initial_state_shape=None):
        if self.stateful and sequences_shape[0] is None:
            raise ValueError(
                "If a RNN is stateful, it needs to know its batch size. Specify the batch size "
                "of your input tensors: pass a fixed `batch_size` (or `batch_shape`) to your "
                f"`Input`. Received input shape: {sequences_shape}"
            )
        if not self.cell.built:
            self.cell.build((sequences_shape[0], *sequences_shape[2:]))
            self.cell.built = True
        if self.stateful:
            self._state_variables = [
                Variable(
                    np.zeros((sequences_shape[0], n), dtype=self.compute_dtype),
                    trainable=False,
                    name="rnn_state",
                )
                for n in tree.flatten(self.cell.state_size)
            ]
        self.built = True

    @property
    def states(self):
        return self._state_variables

    def reset_states(self) -> None:
        """Set the carried states of a stateful RNN back to zeros."""
        if self._state_variables is not None:
            for v in self._state_variables:
                v.assign(np.zeros(v.shape, dtype=v.dtype))

    reset_state = reset_states

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        units = tree.flatten(self.cell.output_size)[0]
        out = (
            (sequences_shape[0], sequences_shape[1], units)
            if self.return_sequences
            else (sequences_shape[0], units)
        )
        if self.return_state:
            return [out] + [(sequences_shape[0], n) for n in tree.flatten(self.cell.state_size)]
        return out

    def compute_mask(self, sequences, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        out_mask = mask if self.return_sequences else None
        if self.return_state:
            return [out_mask] + [None] * len(tree.flatten(self.cell.state_size))
        return out_mask

    # --- call -----------------------------------------------------------------------------------

    def call(self, sequences, initial_state=None, mask=None, training=False):
        batch = sequences.shape[0]
        if initial_state is None:
            if self.stateful:
                initial_state = [v.value for v in self._state_variables]
            else:
                initial_state = self.cell.get_initial_state(batch_size=batch)
        initial_state = [
            ops.convert_to_tensor(s, self.compute_dtype) for s in tree.flatten(initial_state)
        ]
        if mask is not None:
            mask = ops.convert_to_tensor(mask, "bool")
        self._reset_dropout_masks()
        if self._can_fuse(training):
            seq, states = self._fused(sequences, initial_state, mask, training)
        else:
            seq, states = self._loop(sequences, initial_state, mask, training)
        if self.zero_output_for_mask and mask is not None:
            steps_mask = ops.flip(mask, axis=1) if self.go_backwards else mask
            seq = ops.where(ops.expand_dims(steps_mask, -1), seq, ops.zeros_like(seq))
        if self.stateful:
            for v, s in zip(self._state_variables, states):
                v.assign(ops.stop_gradient(s))
        output = seq if self.return_sequences else seq[:, -1]
        if self.return_state:
            return (output, *states)
        return output

    def _reset_dropout_masks(self):
        if hasattr(self.cell, "reset_dropout_mask"):
            self.cell.reset_dropout_mask()
            self.cell.reset_recurrent_dropout_mask()

    def _loop(self, sequences, states, mask, training):
        """The readable definition: one cell call per step."""
        steps = range(sequences.shape[1])
        if self.go_backwards:
            steps = reversed(steps)
        outputs = []
        for t in steps:
            out, new_states = self.cell(sequences[:, t], states, training=training)
            new_states = tree.flatten(new_states)
            if mask is not None:
                # A masked step changes nothing: states carry over and the output repeats the
                # previous one (the initial hidden state before any unmasked step).
                m = ops.expand_dims(mask[:, t], -1)
                carried = outputs[-1] if outputs else states[0]
                new_states = [ops.where(m, n, s) for n, s in zip(new_states, states)]
                out = ops.where(m, out, carried)
            outputs.append(out)
            states = new_states
        return ops.stack(outputs, axis=1), states

    # --- the fused fast path --------------------------------------------------------------------

    def _can_fuse(self, training) -> bool:
        cell = self.cell
        if type(cell) not in (LSTMCell, GRUCell, SimpleRNNCell):
            return False
        if training and cell.recurrent_dropout > 0:
            return False
        if isinstance(cell, GRUCell) and not cell.reset_after:
            return False
        names = [_activation_name(cell.activation)]
        if hasattr(cell, "recurrent_activation"):
            names.append(_activation_name(cell.recurrent_activation))
        return all(n in _FUSED_ACTIVATIONS for n in names)

    def _fused(self, sequences, states, mask, training):
        cell = self.cell
        x = sequences
        if training and 0.0 < cell.dropout < 1.0:
            x = x * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0]), 1)
        kw = {"activation": _activation_name(cell.activation), "go_backwards": self.go_backwards}
        units = cell.units
        if isinstance(cell, LSTMCell):
            bias = cell.bias if cell.bias is not None else ops.zeros((4 * units,), x.dtype)
            kw["recurrent_activation"] = _activation_name(cell.recurrent_activation)
            h_seq, c_seq = call(
                "lstm",
                ops.convert_to_tensor(x),
                states[0],
                states[1],
                cell.kernel.value,
                cell.recurrent_kernel.value,
                ops.convert_to_tensor(bias),
                _mask_array(mask),
                **kw,
            )
            return h_seq, [h_seq[:, -1], c_seq[:, -1]]
        # GRU and SimpleRNN take the same arguments: one state, one (possibly 2-row) bias.
        name, bias_shape = (
            ("gru", (2, 3 * units)) if isinstance(cell, GRUCell) else ("simple_rnn", (units,))
        )
        if isinstance(cell, GRUCell):
            kw["recurrent_activation"] = _activation_name(cell.recurrent_activation)
        bias = cell.bias if cell.bias is not None else ops.zeros(bias_shape, x.dtype)
        h_seq = call(
            name,
            ops.convert_to_tensor(x),
            states[0],
            cell.kernel.value,
            cell.recurrent_kernel.value,
            ops.convert_to_tensor(bias),
            _mask_array(mask),
            **kw,
        )
        return h_seq, [h_seq[:, -1]]

    # --- config ---------------------------------------------------------------------------------

    def get_config(self):
        config = {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
        base = super().get_config()
        if type(self) is RNN:
            config["cell"] = serialize_keras_object(self.cell)
        return {**base, **config}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["cell"] = deserialize_keras_object(config["cell"])
        return cls(**config)


def _activation_name(fn) -> str:
    name = activations.serialize(fn) if fn is not None else "linear"
    return name if isinstance(name, str) else ""


def _mask_array(mask):
    return None if mask is None else ops.convert_to_tensor(mask).value  # a backend array


class _BuiltinRNN(RNN):
    """An RNN whose constructor takes the cell's arguments (Keras's LSTM/GRU/SimpleRNN)."""

    cell_class: type = None
    _rnn_args = (
        "return_sequences",
        "return_state",
        "go_backwards",
        "stateful",
        "unroll",
        "zero_output_for_mask",
    )
    _layer_args = (
        "name",
        "trainable",
        "dtype",
        "activity_regularizer",
        "input_shape",
        "input_dim",
        "batch_input_shape",
        "batch_size",
        "weights",
    )

    def __init__(self, units, **kwargs):
        rnn_kwargs = {k: kwargs.pop(k) for k in self._rnn_args if k in kwargs}
        layer_kwargs = {k: kwargs.pop(k) for k in self._layer_args if k in kwargs}
        kwargs.pop("use_cudnn", None)
        kwargs.pop("implementation", None)
        cell = self.cell_class(
            units,
            dtype=layer_kwargs.get("dtype"),
            trainable=layer_kwargs.get("trainable", True),
            name=naming.to_snake_case(self.cell_class.__name__),
            **kwargs,
        )
        super().__init__(cell, **rnn_kwargs, **layer_kwargs)
        self.input_spec = InputSpec(ndim=3)

    def __getattr__(self, name):
        # Keras exposes the cell's hyper-parameters and weights on the layer (lstm.units...).
        if name.startswith("_") or "cell" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["cell"], name)

    def get_config(self):
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        if self.activity_regularizer is None:
            config["activity_regularizer"] = None
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register_builtin("keras.layers")
class SimpleRNN(_BuiltinRNN):
    """Fully-connected RNN: ``h_t = activation(x_t W + b + h_{t-1} U)``; defaults as Keras
    (activation="tanh", recurrent_initializer="orthogonal")."""

    cell_class = SimpleRNNCell

    def get_config(self):
        config = super().get_config()
        config.pop("seed", None)  # Keras's SimpleRNN does not list its cell's seed
        return config


@register_builtin("keras.layers")
class LSTM(_BuiltinRNN):
    """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997); see :class:`LSTMCell` for
    the equations.  Defaults as Keras: activation="tanh", recurrent_activation="sigmoid",
    unit_forget_bias=True, recurrent_initializer="orthogonal"."""

    cell_class = LSTMCell


@register_builtin("keras.layers")
class GRU(_BuiltinRNN):
    """Gated Recurrent Unit (Cho et al., 2014), ``reset_after=True`` by default as in Keras 3; see
    :class:`GRUCell` for the equations."""

    cell_class = GRUCell
