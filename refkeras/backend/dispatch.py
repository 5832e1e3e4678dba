"""The primitive boundary: ``call(name, *arrays, **params)`` runs the active backend's primitive
and, while a tape records, adds a :class:`~refkeras.autodiff.Node` so the call can be
differentiated.  Everything above this line (ops, layers, losses, optimizers, the training loop) is
written once; everything below it is a backend."""

from __future__ import annotations

import contextlib

from refkeras import autodiff
from refkeras.backend.tensor import Tensor

_backend: dict = {"name": None, "table": {}, "backend": None, "fused": {}}


def set_backend(backend) -> None:
    """Install ``backend`` (a :class:`~refkeras.backend.base.Backend`): its primitive table and
    fused kernels.  A table missing a primitive of the interface is refused: no backend silently
    falls back to the reference."""
    from refkeras.primitives.interface import ALL_PRIMITIVES, PrimitiveTable

    table = backend.primitives()
    if not isinstance(table, PrimitiveTable):  # lazy tables fill themselves on first use
        missing = [n for n in ALL_PRIMITIVES if n not in table]
        if missing:
            raise ValueError(
                f"Backend {backend.name!r} does not implement the primitives {missing}; every "
                "primitive of refkeras.primitives.interface is required."
            )
    _backend.update(
        name=backend.name, table=table, backend=backend, fused=dict(backend.fused_kernels())
    )


def set_table(name: str, table: dict[str, tuple]) -> None:
    """Install a bare ``{primitive: (forward, vjp)}`` table (tests and tools)."""
    _backend["table"] = table
    _backend["name"] = name


def backend_name() -> str | None:
    return _backend["name"]


def active_backend():
    return _backend["backend"]


def fused_kernel(name: str):
    """The active backend's kernel replacing reference composition ``name``, or ``None``."""
    return _backend["fused"].get(name)


@contextlib.contextmanager
def using(backend):
    """Run a block on ``backend`` (a Backend object), then restore the previous one."""
    saved = dict(_backend)
    set_backend(backend)
    try:
        yield backend
    finally:
        _backend.clear()
        _backend.update(saved)


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
