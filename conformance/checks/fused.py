"""The ``fused_kernel`` check: each kernel a backend provides (``backend.fused_kernels()``, names
from :data:`refkeras.backend.fused.COMPOSITIONS`) against the reference composition it replaces,
both run on the backend under test.

Optimizer kernels (``"optimizer.<name>"``, called ``kernel(optimizer, grads, variables,
learning_rate)``): two identical optimizers and variable sets; at every step of ``case.steps``
one goes through the kernel, the other through the composition (``update_step`` per variable),
each followed by ``iterations += 1`` as ``Optimizer.apply`` does; every variable and slot is
compared at every step with the trajectory bound of ``checks/optimizer.py``.  A backend without
a kernel for the record's composition: not applicable.
"""

from __future__ import annotations

import numpy as np

from conformance.checks.layer import on
from conformance.checks.optimizer import _inputs
from conformance.components import Comparison, OptimizerCase
from refkeras import backend as B
from refkeras.backend.variable import Variable


def _optimizer_side(cls, config, case: OptimizerCase, update, backend) -> list:
    initial, grads = _inputs(case)
    with on(backend):
        be = B.active()
        variables = [Variable(be.asarray(v.astype(case.dtype)), dtype=case.dtype, name=f"v{i}")
                     for i, v in enumerate(initial)]  # fmt: skip
        optimizer = cls.from_config(config)
        optimizer.build(variables)
        out = []
        for step in grads:
            g = [be.asarray(x.astype(case.dtype)) for x in step]
            result = update(optimizer, g, variables, optimizer.learning_rate)
            if result is NotImplemented:
                return None
            # what Optimizer.apply does after the update (``iterations`` reads as a Tensor)
            optimizer._iterations.assign(np.asarray(B.to_numpy(optimizer.iterations)) + 1)
            out.append([B.to_numpy(v) for v in variables + optimizer.variables])
        return out


def check_fused(rec, case: OptimizerCase, backend):
    from refkeras.backend import fused

    kernel = dict(backend.fused_kernels()).get(rec.name)
    if kernel is None:
        return None
    cls = rec.cls
    with on(None):
        config = cls(**case.kwargs).get_config()
    composition = fused.COMPOSITIONS[rec.name]
    actual = _optimizer_side(cls, config, case, kernel, backend)
    if actual is None:
        return None  # the kernel declined this configuration: the composition runs instead
    expected = _optimizer_side(cls, config, case, composition, backend)
    comp = Comparison()
    n = max(int(np.prod(s)) for s in case.shapes)
    first: dict[str, int] = {}
    for k, (a_step, e_step) in enumerate(zip(actual, expected), 1):
        for i, (a, e) in enumerate(zip(a_step, e_step, strict=True)):
            comp.check(f"value {i}", a, e, case.dtype, n, steps=k)
            if comp.ratios[f"value {i}"] > 1.0 and f"value {i}" not in first:
                first[f"value {i}"] = k
    for name, k in first.items():
        comp.details[name] = f"first over the bound at step {k}; worst: " + comp.details.get(
            name, ""
        )
    return comp
