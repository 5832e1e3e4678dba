"""``model.summary()``: the Keras 3 table of layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np

from refkeras.layers.input_layer import InputLayer


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape, dtype=np.int64)) for w in weights))


def _size(n: int, weights) -> str:
    nbytes = sum(
        int(np.prod(w.shape, dtype=np.int64)) * np.dtype(w.dtype).itemsize for w in weights
    )
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.2f} {unit}"
    return f"{nbytes:.2f} B"


def _output_shape(layer) -> str:
    nodes = [n for n in layer._inbound_nodes if n.outputs]
    if not nodes:
        return "?"
    shapes = [tuple(t.shape) for t in nodes[0].outputs]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def print_summary(model, line_length=None, print_fn=None, show_trainable=False) -> None:
    """Print (or pass each line to ``print_fn``) the summary table of ``model``."""
    from refkeras import backend

    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` or "
            "by calling the model on a batch of data."
        )
    print_fn = print_fn or (lambda line, **kw: print(line))
    layers = list(model._layers)
    functional = getattr(model, "_functional", None)
    if functional is not None:
        layers = [l for l in functional._layers if not isinstance(l, InputLayer)]
    widths = [line_length and line_length // 2 or 33, 24, 15]
    top = "┏" + "┳".join("━" * w for w in widths) + "┓"
    mid = "├" + "┼".join("─" * w for w in widths) + "┤"
    bottom = "└" + "┴".join("─" * w for w in widths) + "┘"
    head = "┡" + "╇".join("━" * w for w in widths) + "┩"

    def row(a, b, c, left="│"):
        return (
            f"{left} {a:<{widths[0] - 2}} {left} {b:<{widths[1] - 2}} {left} "
            f"{c:>{widths[2] - 2}} {left}"
        )

    lines = [
        f'Model: "{model.name}"  (backend: {backend.backend()})',
        top,
        row("Layer (type)", "Output Shape", "Param #", "┃"),
        head,
    ]
    for i, layer in enumerate(layers):
        params = _count(layer.weights) if layer.built else 0
        lines.append(
            row(f"{layer.name} ({type(layer).__name__})", _output_shape(layer), f"{params:,}")
        )
        if i < len(layers) - 1:
            lines.append(mid)
    lines.append(bottom)
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer = getattr(model, "optimizer", None)
    opt_vars = list(optimizer.variables) if optimizer is not None else []
    total = model.weights + opt_vars  # Keras counts the optimizer's variables in the total
    lines.append(f" Total params: {_count(total):,} ({_size(_count(total), total)})")
    for label, ws in (("Trainable", trainable), ("Non-trainable", non_trainable)):
        lines.append(f" {label} params: {_count(ws):,} ({_size(_count(ws), ws)})")
    if opt_vars:
        lines.append(
            f" Optimizer params: {_count(opt_vars):,} ({_size(_count(opt_vars), opt_vars)})"
        )
    for line in lines:
        print_fn(line)
