"""Fused kernels: named reference compositions that a backend may replace with one kernel.

A *composition* is plain refkeras code (ops, ``Variable.assign``) registered here under a name;
the core calls it through :func:`run`.  If the active backend's ``fused_kernels()`` has a kernel
under that name, ``run`` calls the kernel instead; a kernel may decline a call it cannot do
exactly (an unsupported dtype, an overridden ``update_step``) by returning ``NotImplemented``, and
then the composition runs, on the same backend.  Each kernel must compute what its composition
computes (up to rounding); ``tests/accel/<backend>/test_fused.py`` and the conformance suite check
it against :data:`COMPOSITIONS`.

Registered compositions:

- ``"optimizer.sgd"``, ``"optimizer.adam"``, ``"optimizer.rmsprop"``:
  ``(optimizer, grads, variables, learning_rate) -> None``: the optimizer's own ``update_step``
  run once per variable (what ``Optimizer._backend_update_step`` does).  Clipping, weight decay,
  accumulation and EMA happen outside it, so a kernel sees already-processed gradients.  AdamW
  is Adam here (its decay is the base optimizer's, applied before).
"""

from __future__ import annotations

from collections.abc import Callable

from refkeras.backend import dispatch

COMPOSITIONS: dict[str, Callable] = {}


def composition(name: str):
    """Register the decorated function as the reference composition ``name``."""

    def register(fn):
        COMPOSITIONS[name] = fn
        return fn

    return register


def kernel(name: str):
    """The active backend's kernel for composition ``name``, or ``None``."""
    return dispatch.fused_kernel(name)


def run(name: str, *args, **params):
    """Run composition ``name``: the active backend's fused kernel if it has one and accepts the
    call, else the reference composition."""
    fused = dispatch.fused_kernel(name)
    if fused is not None:
        result = fused(*args, **params)
        if result is not NotImplemented:
            return result
    return COMPOSITIONS[name](*args, **params)


def per_variable_update(optimizer, grads, variables, learning_rate) -> None:
    """``optimizer.update_step(g, v, learning_rate)`` for every (gradient, variable) pair."""
    for grad, var in zip(grads, variables):
        optimizer.update_step(grad, var, learning_rate)


for _name in ("optimizer.sgd", "optimizer.adam", "optimizer.rmsprop"):
    composition(_name)(per_variable_update)
