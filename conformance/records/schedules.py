"""Records for every public learning-rate schedule of ``refkeras.optimizers.schedules``: values
over a range of steps (before, at and after the decay/boundary/warm-up steps)."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.checks.components import expected_names, to_record
from conformance.components import ComponentRecord, ScheduleCase, as_strategy
from refkeras.optimizers import schedules as S

CHECKS = ("schedule_values", "schedule_config")
lr = st.sampled_from([0.1, 1.0, 0.003])
decay_steps = st.integers(1, 20)
STEPS = tuple(range(0, 30)) + (47, 100, 1000)


def schedule(cls, config: dict, base_kwargs: dict) -> ComponentRecord:
    @st.composite
    def cases(draw):
        return ScheduleCase({k: draw(as_strategy(v)) for k, v in config.items()}, STEPS)

    return ComponentRecord("schedule", cls.__name__, cls, cases(),
                           (ScheduleCase(base_kwargs, STEPS),), CHECKS)  # fmt: skip


@st.composite
def piecewise(draw):
    boundaries = sorted(draw(st.sets(st.integers(1, 40), min_size=1, max_size=3)))
    values = [draw(st.sampled_from([1.0, 0.5, 0.1, 0.01])) for _ in range(len(boundaries) + 1)]
    return boundaries, values


@st.composite
def _piecewise_cases(draw):
    b, v = draw(piecewise())
    return ScheduleCase({"boundaries": b, "values": v}, STEPS)


COMPONENTS = [
    schedule(S.ExponentialDecay, {"initial_learning_rate": lr, "decay_steps": decay_steps,
                                  "decay_rate": st.sampled_from([0.96, 0.5]),
                                  "staircase": st.booleans()},
             {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5,
              "staircase": True}),
    ComponentRecord("schedule", "PiecewiseConstantDecay", S.PiecewiseConstantDecay,
                    _piecewise_cases(),
                    (ScheduleCase({"boundaries": [5, 10], "values": [1.0, 0.5, 0.1]}, STEPS),),
                    CHECKS, notes="steps equal to a boundary take the earlier value"),
    schedule(S.PolynomialDecay, {"initial_learning_rate": lr, "decay_steps": decay_steps,
                                 "end_learning_rate": st.sampled_from([1e-4, 0.0]),
                                 "power": st.sampled_from([1.0, 0.5, 2.0]),
                                 "cycle": st.booleans()},
             {"initial_learning_rate": 0.1, "decay_steps": 7, "power": 0.5, "cycle": True}),
    schedule(S.InverseTimeDecay, {"initial_learning_rate": lr, "decay_steps": decay_steps,
                                  "decay_rate": st.sampled_from([0.5, 2.0]),
                                  "staircase": st.booleans()},
             {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}),
    schedule(S.CosineDecay, {"initial_learning_rate": lr, "decay_steps": decay_steps,
                             "alpha": st.sampled_from([0.0, 0.1]),
                             "warmup_target": st.sampled_from([None, 0.5]),
                             "warmup_steps": st.sampled_from([0, 4])},
             {"initial_learning_rate": 0.1, "decay_steps": 10, "warmup_target": 0.2,
              "warmup_steps": 3}),
    schedule(S.CosineDecayRestarts, {"initial_learning_rate": lr, "first_decay_steps": decay_steps,
                                     "t_mul": st.sampled_from([2.0, 1.0]),
                                     "m_mul": st.sampled_from([1.0, 0.5]),
                                     "alpha": st.sampled_from([0.0, 0.1])},
             {"initial_learning_rate": 0.1, "first_decay_steps": 4}),
]  # fmt: skip

ABSTRACT = {S.LearningRateSchedule: "base class of all schedules",
            S.Tensor: "not a schedule: refkeras's Tensor, imported by the module"}  # fmt: skip

RECORDS = [to_record(r, dtypes=("float32",)) for r in COMPONENTS]


def expected_components() -> list[str]:
    """Every public schedule class must have a record (aliases share their class's record)."""
    return expected_names(S, (S.LearningRateSchedule, S.Tensor), ABSTRACT, "schedule")
