"""The primitive boundary: ``call(name, *arrays, **params)`` runs the active backend's primitive
and, while a tape records, adds a :class:`~refkeras.autodiff.Node` so the call can be
differentiated.  Everything above this line (ops, layers, losses, optimizers, the training loop) is
written once; everything below it is a backend."""

from __future__ import annotations

from refkeras import autodiff
from refkeras.backend.tensor import Tensor

_backend: dict = {"name": None, "table": {}}


def set_table(name: str, table: dict[str, tuple]) -> None:
    """Install a backend's ``{primitive: (forward, vjp)}`` table."""
    _backend["table"] = table
    _backend["name"] = name


def backend_name() -> str | None:
    return _backend["name"]


def call(name: str, *args, **params):
    """Run primitive ``name`` on ``args`` (Tensors or raw arrays) and return Tensor(s)."""
    forward, vjp = _backend["table"][name]
    arrays = tuple([a.value if type(a) is Tensor else a for a in args])
    out = forward(*arrays, **params)
    node = None
    state = autodiff._state
    if state["tapes"] and not state["paused"]:
        parents = tuple([a if type(a) is Tensor and a.node is not None else None for a in args])
        outs = out if isinstance(out, tuple) else (out,)
        # Only outputs that can carry a gradient (floats) need a node.
        if any(p is not None for p in parents) and any(o.dtype.kind in "fcV" for o in outs):
            node = autodiff.Node(name, vjp, parents, arrays, params, outs)
    if isinstance(out, tuple):
        return tuple(Tensor(o, node, i) for i, o in enumerate(out))
    return Tensor(out, node, 0)
