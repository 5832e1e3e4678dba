"""The primitive interface: every primitive a backend must implement, by family.

A backend provides, for each name below, ``name(*arrays, **params)`` and
``name_vjp(g, out, *arrays, **params)`` (one cotangent per positional array, ``None`` where not
differentiable).  The NumPy reference implementations live in ``refkeras/primitives/<family>.py``,
forward and VJP side by side; accelerated backends mirror those files in ``accel/``.
"""

from __future__ import annotations

import importlib

PRIMITIVES: dict[str, tuple[str, ...]] = {
    "elementwise": (
        "negative", "exp", "log", "log1p", "expm1", "sqrt", "square", "abs", "tanh", "sigmoid",
        "relu", "softplus", "sin", "cos", "erf", "sign", "floor", "ceil", "round", "cast", "clip",
        "add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "where",
        "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
        "logical_or", "logical_not", "isnan", "isfinite",
    ),
    "reduce": ("sum", "mean", "max", "min", "prod", "cumsum", "argmax", "argmin"),
    "linalg": ("matmul", "einsum"),
    "shape": (
        "reshape", "transpose", "broadcast_to", "concatenate", "getitem", "take",
        "take_along_axis", "pad", "tile", "repeat", "flip",
    ),
    "nn": ("softmax", "log_softmax"),
    "conv": ("conv", "depthwise_conv"),
    "pool": ("max_pool", "average_pool"),
    "rnn": ("lstm", "gru", "simple_rnn"),
}  # fmt: skip

ALL_PRIMITIVES: tuple[str, ...] = tuple(n for names in PRIMITIVES.values() for n in names)


FAMILY_OF: dict[str, str] = {n: family for family, names in PRIMITIVES.items() for n in names}


class PrimitiveTable(dict):
    """``{name: (forward, vjp)}`` filled on first use of each primitive, importing its family
    module from ``package`` (``refkeras.primitives`` for the reference)."""

    def __init__(self, package: str = "refkeras.primitives"):
        super().__init__()
        self.package = package

    def __missing__(self, name: str) -> tuple:
        if name not in FAMILY_OF:
            raise KeyError(f"{name!r} is not a primitive of the interface")
        module = importlib.import_module(f"{self.package}.{FAMILY_OF[name]}")
        entry = (getattr(module, name), getattr(module, name + "_vjp"))
        self[name] = entry
        return entry


def reference_table() -> PrimitiveTable:
    """The NumPy reference primitives (``refkeras/primitives/<family>.py``)."""
    return PrimitiveTable()
