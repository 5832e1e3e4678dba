"""Records for every public layer of ``refkeras.layers``.

Each record draws a :class:`~conformance.components.LayerCase`: the constructor arguments (units,
activations, strides, paddings, data formats, return_sequences, masks...) and input shapes that
fit them.  Every record also runs its edge cases (``@example``): exact zeros, ties (inputs on three
levels, so max/argmax pick between equal values), batch size 1 and very large values.

Aliases (``AvgPool2D`` is ``AveragePooling2D``) are the same class and share the record.
"""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from conformance.checks.components import expected_names, to_record
from conformance.components import ComponentRecord, InputSpec, LayerCase, as_strategy
from refkeras import layers as L

LAYER_CHECKS = ("layer_forward", "layer_vjp", "layer_fd", "layer_roundtrip")
ACTIVATIONS = ["relu", "tanh", "sigmoid", "softmax", "gelu", "elu", "selu", "softplus", "swish",
               "softsign", "leaky_relu", "hard_sigmoid", "relu6", "linear", "exponential",
               "log_softmax", "mish", "silu"]  # fmt: skip
SMALL_ACTIVATIONS = [None, "relu", "tanh", "sigmoid", "softmax"]
FORMATS = ["channels_last", "channels_first"]

batch = st.integers(1, 3)
dim = st.integers(1, 4)


def _edge_examples(base: LayerCase, patterns=("zeros", "ties", "large")) -> tuple:
    """``base`` with batch size 1, then with each value pattern (non-smooth: no finite diffs)."""
    out = []
    specs = tuple(dataclasses.replace(s, shape=(1, *s.shape[1:])) for s in base.inputs)
    out.append(dataclasses.replace(base, inputs=specs, seed=base.seed + 1))
    for p in patterns:
        specs = tuple(
            dataclasses.replace(s, pattern=p) if s.kind == "float" else s for s in base.inputs
        )
        out.append(dataclasses.replace(base, inputs=specs, smooth=False))
    return tuple(out)


def layer(
    cls,
    config: dict,
    inputs,
    base: LayerCase,
    *,
    training=False,
    mask=False,
    dtypes=("float32", "float64"),
    patterns=("zeros", "ties", "large"),
    fd: bool = True,
    checks=LAYER_CHECKS,
    notes: str = "",
) -> ComponentRecord:
    """A layer record.

    Args:
        config: ``{argument: value or strategy}``; drawn independently.
        inputs: ``(draw, kwargs) -> tuple of InputSpec`` drawing shapes that fit ``kwargs``.
        base: a typical case, from which the pinned edge cases are derived.
        training: bool or strategy of bools.
        mask: bool or strategy: pass a random ``(batch, steps)`` mask.
    """

    @st.composite
    def cases(draw):
        kwargs = {k: draw(as_strategy(v)) for k, v in config.items()}
        return LayerCase(
            kwargs=kwargs,
            inputs=tuple(inputs(draw, kwargs)),
            dtype=draw(st.sampled_from(dtypes)),
            training=draw(as_strategy(training)),
            mask=draw(as_strategy(mask)),
            seed=draw(st.integers(0, 2**16)),
        )

    return ComponentRecord(
        kind="layer",
        name=cls.__name__,
        cls=cls,
        cases=cases(),
        examples=(base, *_edge_examples(base, patterns)),
        checks=checks,
        fd=fd,
        notes=notes,
    )


def f(*shape, pattern="normal") -> InputSpec:
    return InputSpec(tuple(shape), pattern)


# --- input-shape helpers --------------------------------------------------------------------------


def _rank_input(rank_lo=2, rank_hi=3):
    def inputs(draw, kwargs):
        rank = draw(st.integers(rank_lo, rank_hi))
        return [f(draw(batch), *[draw(dim) for _ in range(rank - 1)])]

    return inputs


def _spatial(n):
    """Inputs for an n-d conv/pool layer: spatial sizes large enough for the window."""

    def inputs(draw, kwargs):
        window = kwargs.get("kernel_size", kwargs.get("pool_size", 1))
        window = window if isinstance(window, tuple) else (window,) * n
        dil = kwargs.get("dilation_rate", 1)
        dil = dil if isinstance(dil, tuple) else (dil,) * n
        sizes = [(w - 1) * d + 1 + draw(st.integers(0, 2)) for w, d in zip(window, dil)]
        channels = kwargs.get("groups", 1) * draw(st.integers(1, 2))
        if kwargs.get("data_format") == "channels_first":
            return [f(draw(batch), channels, *sizes)]
        return [f(draw(batch), *sizes, channels)]

    return inputs


def _sequence(draw, kwargs):
    return [f(draw(batch), draw(st.integers(1, 4)), draw(dim))]


def _merge(min_inputs=2, max_inputs=3):
    def inputs(draw, kwargs):
        shape = (draw(batch), draw(dim), draw(dim))
        k = draw(st.integers(min_inputs, max_inputs))
        if "axis" in kwargs:  # Concatenate: sizes may differ along the axis
            axis = kwargs["axis"] % 3
            return [
                f(*[draw(dim) if i == axis and axis != 0 else s for i, s in enumerate(shape)])
                for _ in range(k)
            ]
        return [f(*shape) for _ in range(k)]

    return inputs


# --- convolution and pooling configs -------------------------------------------------------------


def _conv(cls, n):
    @st.composite
    def window(draw):  # strides > 1 and dilation > 1 are exclusive in Keras
        k = tuple(draw(st.integers(1, 3)) for _ in range(n))
        if draw(st.booleans()):
            return k, tuple(draw(st.integers(1, 2)) for _ in range(n)), (1,) * n
        return k, (1,) * n, tuple(draw(st.integers(1, 2)) for _ in range(n))

    paddings = ["valid", "same", "causal"] if n == 1 else ["valid", "same"]

    @st.composite
    def config(draw):
        k, s, d = draw(window())
        padding = draw(st.sampled_from(paddings))
        groups = draw(st.sampled_from([1, 2]))
        return {
            "filters": groups * draw(st.integers(1, 2)),
            "kernel_size": k,
            "strides": s,
            "dilation_rate": d,
            "padding": padding,
            "data_format": draw(st.sampled_from(FORMATS)) if padding != "causal" else None,
            "groups": groups,
            "activation": draw(st.sampled_from(SMALL_ACTIVATIONS[:3])),
            "use_bias": draw(st.booleans()),
        }

    base_kwargs = {"filters": 2, "kernel_size": (2,) * n, "padding": "same"}
    base = LayerCase(base_kwargs, (f(2, *[3] * n, 2),))

    rec = layer(cls, {}, _spatial(n), base)

    @st.composite
    def cases(draw):
        kwargs = draw(config())
        return LayerCase(
            kwargs=kwargs,
            inputs=tuple(_spatial(n)(draw, kwargs)),
            dtype=draw(st.sampled_from(["float32", "float64"])),
            seed=draw(st.integers(0, 2**16)),
        )

    return dataclasses.replace(rec, cases=cases())


def _pool(cls, n):
    config = {
        "pool_size": st.tuples(*[st.integers(1, 3)] * n),
        "strides": st.one_of(st.none(), st.tuples(*[st.integers(1, 2)] * n)),
        "padding": st.sampled_from(["valid", "same"]),
        "data_format": st.sampled_from(FORMATS),
    }
    base = LayerCase({"pool_size": (2,) * n}, (f(2, *[4] * n, 2),))
    return layer(cls, config, _spatial(n), base, fd=cls.__name__.startswith("Average"))


def _global_pool(cls, n, mask=False):
    config = {"data_format": st.sampled_from(FORMATS), "keepdims": st.booleans()}

    def inputs(draw, kwargs):
        sizes = [draw(st.integers(1, 3)) for _ in range(n)]
        return [f(draw(batch), *sizes, draw(dim))] if kwargs["data_format"] == "channels_last" \
            else [f(draw(batch), draw(dim), *sizes)]  # fmt: skip

    base = LayerCase({"data_format": "channels_last"}, (f(2, *[3] * n, 2),))
    masked = mask and st.booleans()
    return layer(cls, config, inputs, base, mask=masked if mask else False,
                 fd=cls.__name__.startswith("GlobalAverage"))  # fmt: skip


# --- recurrent ------------------------------------------------------------------------------------


def _rnn_config(cell_kind):
    config = {
        "units": st.integers(1, 3),
        "return_sequences": st.booleans(),
        "return_state": st.booleans(),
        "go_backwards": st.booleans(),
        "use_bias": st.booleans(),
        "activation": st.sampled_from(["tanh", "relu", "sigmoid"]),
        "unroll": st.booleans(),
    }
    if cell_kind == "GRU":
        config["reset_after"] = st.booleans()
    if cell_kind == "LSTM":
        config["unit_forget_bias"] = st.booleans()
    return config


def _rnn(cls):
    base = LayerCase({"units": 2, "return_sequences": True}, (f(2, 3, 2),))
    return layer(cls, _rnn_config(cls.__name__), _sequence, base, mask=st.booleans())


def _cell(cls):
    """A cell called directly: ``cell(x_t, states)``; its inputs are ``x_t`` then each state."""
    n_states = 2 if cls is L.LSTMCell else 1

    def inputs(draw, kwargs):
        b, u = draw(batch), kwargs["units"]
        return [f(b, draw(dim))] + [f(b, u) for _ in range(n_states)]

    config = {"units": st.integers(1, 3), "use_bias": st.booleans(),
              "activation": st.sampled_from(["tanh", "relu", "sigmoid"])}  # fmt: skip
    if cls is L.GRUCell:
        config["reset_after"] = st.booleans()
    base = LayerCase({"units": 2}, (f(2, 3), *[f(2, 2)] * n_states))
    return layer(cls, config, inputs, base, notes="called as cell(inputs[0], inputs[1:])")


@st.composite
def _rnn_wrapper_config(draw):
    cell = draw(st.sampled_from(["SimpleRNNCell", "GRUCell", "LSTMCell"]))
    return {
        "cell": {"class_name": cell, "units": draw(st.integers(1, 3))},
        "return_sequences": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
    }


def _rnn_wrapper():
    base = LayerCase({"cell": {"class_name": "LSTMCell", "units": 2}}, (f(2, 3, 2),))
    rec = layer(L.RNN, {}, _sequence, base, mask=st.booleans(),
                notes="kwargs['cell'] = {'class_name', 'units'} builds the cell")  # fmt: skip

    @st.composite
    def cases(draw):
        kwargs = draw(_rnn_wrapper_config())
        return LayerCase(kwargs, tuple(_sequence(draw, kwargs)),
                         dtype=draw(st.sampled_from(["float32", "float64"])),
                         mask=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))  # fmt: skip

    return dataclasses.replace(rec, cases=cases())


# --- the records ----------------------------------------------------------------------------------


def _reshape_inputs(draw, kwargs):
    return [f(draw(batch), 2, 3, 2)]


def _embedding_inputs(draw, kwargs):
    return [InputSpec((draw(batch), draw(st.integers(1, 4))), kind="int", high=kwargs["input_dim"])]


COMPONENTS = [
    layer(L.Dense, {"units": st.integers(1, 4), "activation": st.sampled_from(SMALL_ACTIVATIONS),
                    "use_bias": st.booleans()}, _rank_input(2, 3),
          LayerCase({"units": 3, "activation": "relu"}, (f(2, 4),))),
    layer(L.Activation, {"activation": st.sampled_from(ACTIVATIONS)}, _rank_input(2, 3),
          LayerCase({"activation": "softmax"}, (f(2, 4),))),
    layer(L.Dropout, {"rate": st.sampled_from([0.0, 0.25, 0.5, 0.9]), "seed": st.integers(0, 99)},
          _rank_input(2, 3), LayerCase({"rate": 0.5, "seed": 1}, (f(3, 4),), training=True),
          training=st.booleans(), patterns=("zeros", "large")),
    layer(L.Identity, {}, _rank_input(2, 4), LayerCase({}, (f(2, 3),))),
    layer(L.Flatten, {"data_format": st.sampled_from(FORMATS)}, _rank_input(2, 4),
          LayerCase({}, (f(2, 3, 2),))),
    layer(L.Reshape, {"target_shape": st.sampled_from([(12,), (3, 4), (2, -1), (6, 2, 1)])},
          _reshape_inputs, LayerCase({"target_shape": (3, 4)}, (f(2, 2, 3, 2),))),
    layer(L.Permute, {"dims": st.permutations([1, 2, 3]).map(tuple)},
          lambda draw, kw: [f(draw(batch), 2, 3, 1)],
          LayerCase({"dims": (3, 1, 2)}, (f(2, 2, 3, 1),))),
    layer(L.RepeatVector, {"n": st.integers(1, 3)}, lambda draw, kw: [f(draw(batch), draw(dim))],
          LayerCase({"n": 2}, (f(2, 3),))),
    layer(L.Lambda, {"function": st.sampled_from(["tanh", "sigmoid", "softplus"])},
          _rank_input(2, 3), LayerCase({"function": "tanh"}, (f(2, 3),)),
          notes="kwargs['function'] names a refkeras.activations function"),
    layer(L.InputLayer, {"shape": st.tuples(dim, dim)}, lambda draw, kw: [],
          LayerCase({"shape": (2, 3)}, ()), checks=("layer_roundtrip",),
          notes="no computation: only the config round trip applies"),
    layer(L.Masking, {"mask_value": st.sampled_from([0.0, 1.0])},
          lambda draw, kw: [f(draw(batch), draw(st.integers(1, 4)), draw(dim), pattern="ties")],
          LayerCase({"mask_value": 0.0}, (f(2, 3, 2, pattern="ties"),)), fd=False,
          notes="inputs on three levels so whole time steps equal mask_value"),
    layer(L.Embedding, {"input_dim": st.integers(1, 5), "output_dim": st.integers(1, 3),
                        "mask_zero": st.booleans()}, _embedding_inputs,
          LayerCase({"input_dim": 4, "output_dim": 2, "mask_zero": True},
                    (InputSpec((2, 3), kind="int", high=4),)), patterns=()),
    _conv(L.Conv1D, 1),
    _conv(L.Conv2D, 2),
    _conv(L.Conv3D, 3),
    _pool(L.MaxPooling1D, 1),
    _pool(L.MaxPooling2D, 2),
    _pool(L.MaxPooling3D, 3),
    _pool(L.AveragePooling1D, 1),
    _pool(L.AveragePooling2D, 2),
    _pool(L.AveragePooling3D, 3),
    _global_pool(L.GlobalMaxPooling1D, 1),
    _global_pool(L.GlobalMaxPooling2D, 2),
    _global_pool(L.GlobalMaxPooling3D, 3),
    _global_pool(L.GlobalAveragePooling1D, 1, mask=True),
    _global_pool(L.GlobalAveragePooling2D, 2),
    _global_pool(L.GlobalAveragePooling3D, 3),
    layer(L.BatchNormalization, {"axis": st.sampled_from([-1, 1]),
                                 "momentum": st.sampled_from([0.99, 0.5]),
                                 "epsilon": st.sampled_from([1e-3, 1e-1]),
                                 "center": st.booleans(), "scale": st.booleans()},
          _rank_input(2, 4), LayerCase({}, (f(4, 3),), training=True),
          training=st.booleans(), patterns=("zeros", "large")),
    layer(L.LayerNormalization, {"axis": st.sampled_from([-1, 1]),
                                 "epsilon": st.sampled_from([1e-3, 1e-5]),
                                 "center": st.booleans(), "scale": st.booleans()},
          _rank_input(2, 3), LayerCase({}, (f(2, 4),)), patterns=("zeros", "large")),
    layer(L.Add, {}, _merge(), LayerCase({}, (f(2, 3, 2), f(2, 3, 2)))),
    layer(L.Subtract, {}, _merge(2, 2), LayerCase({}, (f(2, 3, 2), f(2, 3, 2)))),
    layer(L.Multiply, {}, _merge(), LayerCase({}, (f(2, 3, 2), f(2, 3, 2)))),
    layer(L.Average, {}, _merge(), LayerCase({}, (f(2, 3, 2), f(2, 3, 2)))),
    layer(L.Maximum, {}, _merge(), LayerCase({}, (f(2, 3, 2), f(2, 3, 2)))),
    layer(L.Minimum, {}, _merge(), LayerCase({}, (f(2, 3, 2), f(2, 3, 2)))),
    layer(L.Concatenate, {"axis": st.sampled_from([-1, 1, 2, -2])}, _merge(),
          LayerCase({"axis": -1}, (f(2, 3, 2), f(2, 3, 1)))),
    _rnn(L.SimpleRNN),
    _rnn(L.GRU),
    _rnn(L.LSTM),
    _rnn_wrapper(),
    _cell(L.SimpleRNNCell),
    _cell(L.GRUCell),
    _cell(L.LSTMCell),
]  # fmt: skip

#: abstract bases: no computation of their own, exercised through every record above
ABSTRACT = {L.Layer: "base class of all layers", L.InputSpec: "not a layer: a shape/dtype spec"}

# float32 against the float64 reference; float64 itself is exercised by the finite differences
RECORDS = [to_record(r, dtypes=("float32",)) for r in COMPONENTS]


def expected_components() -> list[str]:
    """Every public layer class must have a record (aliases share their class's record)."""
    return expected_names(L, (L.Layer, L.InputSpec), ABSTRACT, "layer")
