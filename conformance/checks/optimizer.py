"""Optimizer and schedule checks.

``optimizer_trajectory`` (check e): the same variables (initial values drawn from the case's seed,
rounded to its dtype) and the same gradients at every step, ``case.steps >= 10`` calls of
``apply``; after EVERY step, every model variable and EVERY optimizer variable (iterations,
learning rate, momentum/velocity/... slots, EMA copies, accumulators) on the backend is compared
with the float64 reference.  The bound grows with the step number ``k``: ``u * k * M`` (each step
adds at most about one rounding of the update), plus the sensitivity of the reference to moving
the initial values and gradients by one rounding, plus the reference itself in the case's dtype.

``optimizer_config``: ``from_config(get_config())`` has the same config and the same trajectory.

``schedule_values``: ``schedule(step)`` over a range of steps, backend against reference;
``schedule_config``: the round trip.
"""

from __future__ import annotations

import numpy as np

from conformance.checks.layer import _perturbed, on
from conformance.components import Comparison, OptimizerCase, ScheduleCase
from refkeras import backend as B
from refkeras.backend.variable import Variable


def _inputs(case: OptimizerCase):
    """Initial values and the gradients of every step, rounded to the case's dtype (float64)."""
    rng = np.random.default_rng([case.seed, 3])
    initial = [rng.standard_normal(s) for s in case.shapes]
    grads = [[rng.standard_normal(s) for s in case.shapes] for _ in range(case.steps)]
    r = lambda a: a.astype(case.dtype).astype(np.float64)  # noqa: E731
    return [r(a) for a in initial], [[r(g) for g in step] for step in grads]


def trajectory(cls, config: dict, case: OptimizerCase, dtype: str, backend=None, inputs=None):
    """``[[values of variables + optimizer variables] per step]`` (NumPy)."""
    initial, grads = inputs or _inputs(case)
    with on(backend):
        be = B.active()
        variables = [Variable(be.asarray(v.astype(dtype)), dtype=dtype, name=f"v{i}")
                     for i, v in enumerate(initial)]  # fmt: skip
        optimizer = cls.from_config(config)
        out = []
        for step in grads:
            optimizer.apply([be.asarray(g.astype(dtype)) for g in step], variables)
            out.append([B.to_numpy(v) for v in variables] +
                       [B.to_numpy(v) for v in optimizer.variables])  # fmt: skip
        return out


def _names(cls, config, case) -> list[str]:
    with on(None):
        variables = [Variable(np.zeros(s), name=f"v{i}") for i, s in enumerate(case.shapes)]
        optimizer = cls.from_config(config)
        optimizer.build(variables)
        # the last path component: stable (the optimizer's own name has a process-unique suffix)
        return [f"variable {v.name}" for v in variables] + [
            v.path.split("/")[-1] for v in optimizer.variables
        ]


def check_trajectory(cls, case: OptimizerCase, backend) -> Comparison:
    with on(None):
        config = cls(**case.kwargs).get_config()
    inputs = _inputs(case)
    expected = trajectory(cls, config, case, "float64", None, inputs)
    initial, grads = inputs
    moved_inputs = (
        _perturbed(initial, case.dtype, case.seed),
        [_perturbed(g, case.dtype, case.seed + k) for k, g in enumerate(grads)],
    )
    moved = trajectory(cls, config, case, "float64", None, moved_inputs)
    same = trajectory(cls, config, case, case.dtype, None, inputs)
    actual = trajectory(cls, config, case, case.dtype, backend, inputs)
    names = _names(cls, config, case)
    comp = Comparison()
    n = max(int(np.prod(s)) for s in case.shapes)  # norms for clipnorm / global_clipnorm
    first: dict[str, int] = {}
    for k, (a_step, e_step, m_step, s_step) in enumerate(zip(actual, expected, moved, same), 1):
        if len(a_step) != len(e_step):
            comp.fail(f"step {k}", f"{len(a_step)} variables, expected {len(e_step)}")
            continue
        for name, a, e, m, s in zip(names, a_step, e_step, m_step, s_step):
            # the name carries no step: the ratio kept is the worst over the trajectory
            comp.check(name, a, e, case.dtype, n, moved=m, steps=k, in_dtype=s)
            if comp.ratios[name] > 1.0 and name not in first:
                first[name] = k
    for name, k in first.items():
        comp.details[name] = f"first over the bound at step {k}; worst: " + comp.details.get(
            name, ""
        )
    return comp


def check_optimizer_config(cls, case: OptimizerCase) -> Comparison:
    with on(None):
        config = cls(**case.kwargs).get_config()
        clone_config = cls.from_config(config).get_config()
    comp = Comparison()
    if clone_config != config:
        comp.fail("config", f"round trip changed the config: {config} != {clone_config}")
        return comp
    short = OptimizerCase(case.kwargs, case.shapes, "float64", min(case.steps, 3), case.seed)
    a = trajectory(cls, config, short, "float64")
    b = trajectory(cls, clone_config, short, "float64")
    for k, (x, y) in enumerate(zip(a, b)):
        for i, (u, v) in enumerate(zip(x, y)):
            comp.exact(f"step {k + 1} value {i}", v, u)
    return comp


# --- schedules ------------------------------------------------------------------------------------


def schedule_values(schedule, steps, backend=None) -> np.ndarray:
    with on(backend):
        be = B.active()
        return np.array(
            [np.asarray(B.to_numpy(schedule(be.asarray(np.int64(s)))), np.float64) for s in steps]
        )


def check_schedule(cls, case: ScheduleCase, backend) -> Comparison:
    """Values at every step of ``case.steps``; the reference schedule computes in float32 (as
    Keras's), so both sides are float32 and the bound is a few roundings of the value plus its
    sensitivity to the step count (none: steps are exact integers)."""
    with on(None):
        ref = cls(**case.kwargs)
        config = ref.get_config()
    expected = schedule_values(ref, case.steps)
    with on(backend):
        schedule = cls.from_config(config)
    actual = schedule_values(schedule, case.steps, backend)
    comp = Comparison()
    # a schedule chains a handful of elementwise ops (pow, cos, floor...) on float32 scalars
    comp.check("values", actual, expected, "float32", n=8)
    return comp


def check_schedule_config(cls, case: ScheduleCase) -> Comparison:
    with on(None):
        ref = cls(**case.kwargs)
        config = ref.get_config()
        clone = cls.from_config(config)
    comp = Comparison()
    if clone.get_config() != config:
        comp.fail("config", f"round trip changed the config: {config} != {clone.get_config()}")
        return comp
    comp.exact("values", schedule_values(clone, case.steps), schedule_values(ref, case.steps))
    return comp
