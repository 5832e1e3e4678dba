"""Reverse-mode automatic differentiation over primitive calls: the tape.

While a :class:`GradientTape` is active, every primitive call whose inputs depend on a watched value
records a :class:`Node`: the primitive's VJP, its input arrays, its output arrays and the input
tensors it came from.  ``tape.gradient(target, sources)`` then

1. collects the nodes the target depends on and orders them topologically (parents first),
2. marks the nodes that lead to a source (only those VJPs are worth calling),
3. seeds the target's cotangent with ones and sweeps the nodes in reverse order, calling each VJP
   and summing the cotangents each input receives,
4. reads the cotangent of each source (for a variable: summed over every read of it).

Nothing needed by the backward pass is stored on layers: the graph lives in the tensors themselves
and disappears with them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np

from refkeras.utils import tree

_state = {"tapes": 0, "paused": 0, "auto_watch": 0}  # auto_watch: tapes watching accessed vars


def recording() -> bool:
    """Whether primitive calls are being recorded right now."""
    return _state["tapes"] > 0 and _state["paused"] == 0


class Node:
    """One recorded primitive call (or, with ``vjp=None``, a leaf: a watched tensor or a read of a
    variable, whose ``source`` is that variable or tensor)."""

    __slots__ = ("name", "vjp", "parents", "inputs", "params", "outputs", "source", "__weakref__")

    def __init__(self, name, vjp, parents, inputs, params, outputs, source=None):
        self.name = name
        self.vjp: Callable | None = vjp
        self.parents = parents  # the input tensors (None for constants)
        self.inputs = inputs  # the input arrays, as the primitive saw them
        self.params = params
        self.outputs = outputs  # tuple of output arrays
        self.source = source

    def __repr__(self):
        return f"<Node {self.name}>"


def leaf(source, value) -> Node:
    return Node("leaf", None, (), (), {}, (value,), source)


def _toposort(roots) -> list[Node]:
    """Nodes reachable from ``roots``, parents before children (iterative post-order DFS)."""
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.parents))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if p is not None and p.node is not None and id(p.node) not in seen:
                    seen.add(id(p.node))
                    stack.append((p.node, iter(p.node.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def backward(targets, output_gradients, sources) -> list:
    """Cotangents of ``sources`` (variables or tensors) for ``sum(<target, output_gradient>)``.

    Returns one array per source, or ``None`` where the targets do not depend on it.
    """
    from refkeras.backend.variable import Variable

    roots = [t.node for t in targets if getattr(t, "node", None) is not None]
    order = _toposort(roots)
    var_sources = {id(s) for s in sources if isinstance(s, Variable)}
    tensor_sources = {
        (id(s.node), s.index) for s in sources if not isinstance(s, Variable) and s.node is not None
    }
    leads: dict[int, bool] = {}
    for node in order:
        if node.vjp is None:
            hit = id(node.source) in var_sources or (id(node), 0) in tensor_sources
        else:
            hit = any((id(node), i) in tensor_sources for i in range(len(node.outputs)))
            hit = hit or any(p is not None and leads.get(id(p.node), False) for p in node.parents)
        leads[id(node)] = hit

    grads: dict[int, list] = {}
    for t, g in zip(targets, output_gradients):
        if getattr(t, "node", None) is None:
            continue
        slot = grads.setdefault(id(t.node), [None] * len(t.node.outputs))
        slot[t.index] = g if slot[t.index] is None else slot[t.index] + g

    for node in reversed(order):
        slot = grads.get(id(node))
        if node.vjp is None or slot is None or not leads[id(node)]:
            continue
        if not any(p is not None and leads.get(id(p.node), False) for p in node.parents):
            continue
        gs = [np.zeros_like(o) if g is None else g for g, o in zip(slot, node.outputs)]
        if len(node.outputs) == 1:
            in_grads = node.vjp(gs[0], node.outputs[0], *node.inputs, **node.params)
        else:
            in_grads = node.vjp(tuple(gs), node.outputs, *node.inputs, **node.params)
        for p, x, gi in zip(node.parents, node.inputs, in_grads):
            if p is None or gi is None or not leads.get(id(p.node), False):
                continue
            gi = gi.astype(x.dtype) if gi.dtype != x.dtype else gi
            if gi.shape != x.shape:
                gi = np.broadcast_to(gi, x.shape)
            pslot = grads.setdefault(id(p.node), [None] * len(p.node.outputs))
            pslot[p.index] = gi if pslot[p.index] is None else pslot[p.index] + gi

    var_grads: dict[int, np.ndarray] = {}
    for node in order:
        if node.vjp is None and id(node.source) in var_sources and id(node) in grads:
            g, key = grads[id(node)][0], id(node.source)
            var_grads[key] = g if key not in var_grads else var_grads[key] + g
    results = []
    for s in sources:
        if isinstance(s, Variable):
            results.append(var_grads.get(id(s)))
        elif s.node is not None and id(s.node) in grads:
            results.append(grads[id(s.node)][s.index])
        else:
            results.append(None)
    return results


class GradientTape:
    """Records operations for automatic differentiation, like ``tf.GradientTape``.

    >>> with GradientTape() as tape:
    ...     loss = loss_fn(y, model(x, training=True))
    >>> grads = tape.gradient(loss, model.trainable_weights)

    Trainable variables read inside the ``with`` block are watched automatically
    (``watch_accessed_variables=True``); ``tape.watch(t)`` watches a tensor or variable.  A
    non-persistent tape computes one set of gradients.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._used = False
        self._active = False
        self._watched_vars: list = []

    def __enter__(self) -> GradientTape:
        _state["tapes"] += 1
        _state["auto_watch"] += int(self.watch_accessed_variables)
        self._active = True
        return self

    def __exit__(self, *exc) -> None:
        _state["tapes"] -= 1
        _state["auto_watch"] -= int(self.watch_accessed_variables)
        self._active = False
        for v in self._watched_vars:
            v._watch_count -= 1
        self._watched_vars = []

    def watch(self, tensor) -> None:
        """Track ``tensor`` (a Tensor, Variable, or a nested structure of them)."""
        from refkeras.backend.tensor import Tensor
        from refkeras.backend.variable import Variable

        for t in tree.flatten(tensor):
            if isinstance(t, Variable):
                t._watch_count += 1
                self._watched_vars.append(t)
            elif isinstance(t, Tensor):
                if t.node is None:
                    t.node, t.index = leaf(t, t.value), 0
            else:
                raise TypeError(
                    "`tape.watch()` expects a tensor or a variable (convert NumPy arrays with "
                    f"`refkeras.ops.convert_to_tensor` first). Received: {type(t).__name__}"
                )

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily stop recording (operations inside are not differentiated)."""
        _state["paused"] += 1
        try:
            yield
        finally:
            _state["paused"] -= 1

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradients of ``target`` (a tensor, or a structure whose leaves are summed) with respect
        to ``sources``, returned with the structure of ``sources``; ``None`` (or zeros with
        ``unconnected_gradients="zero"``) for sources the target does not depend on."""
        from refkeras import backend
        from refkeras.backend.tensor import Tensor

        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients "
                "(or jacobians)"
            )
        self._used = True
        targets = [t for t in tree.flatten(target)]
        for t in targets:
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"`target` must be a tensor computed inside the tape. Received: {type(t)}"
                )
        if output_gradients is None:
            seeds = [np.ones_like(t.value) for t in targets]
        else:
            seeds = [
                backend.asarray(getattr(g, "value", g), dtype=t.value.dtype)
                for t, g in zip(targets, tree.flatten(output_gradients))
            ]
        flat_sources = tree.flatten(sources)
        grads = backward(targets, seeds, flat_sources)
        out = []
        for s, g in zip(flat_sources, grads):
            if g is None and unconnected_gradients == "zero":
                g = np.zeros(s.shape, dtype=np.dtype(s.dtype))
            out.append(None if g is None else Tensor(backend.asarray(g)))
        return tree.pack_sequence_as(sources, out)
