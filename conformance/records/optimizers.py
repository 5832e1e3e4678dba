"""Records for every public optimizer of ``refkeras.optimizers``: learning rates, momentum,
Nesterov, AMSGrad, centered RMSprop, Ftrl's regularization strengths, and the base options
(weight decay, clipnorm / clipvalue / global_clipnorm, EMA, gradient accumulation); at least 10
steps on the same variables and gradients, every variable and slot compared at every step."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from conformance.checks.components import expected_names, to_record
from conformance.components import ComponentRecord, OptimizerCase, as_strategy
from refkeras import optimizers as O

CHECKS = ("optimizer_trajectory", "optimizer_config")
STEPS = 10
shapes = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=2)


@st.composite
def base_options(draw) -> dict:
    """The options every optimizer takes (at most one clipping argument, as Keras requires)."""
    out = {"learning_rate": draw(st.sampled_from([0.01, 0.1]))}
    clip = draw(st.sampled_from([None, "clipnorm", "clipvalue", "global_clipnorm"]))
    if clip:
        out[clip] = draw(st.sampled_from([0.5, 1.0]))
    if draw(st.booleans()):
        out["weight_decay"] = 0.01
    if draw(st.integers(0, 3)) == 0:
        out["use_ema"] = True
        out["ema_overwrite_frequency"] = draw(st.sampled_from([None, 3]))
    if draw(st.integers(0, 4)) == 0:
        out["gradient_accumulation_steps"] = 2
    return out


def optimizer(cls, config: dict, base_kwargs: dict | None = None) -> ComponentRecord:
    @st.composite
    def cases(draw):
        kwargs = draw(base_options()) | {k: draw(as_strategy(v)) for k, v in config.items()}
        return OptimizerCase(kwargs, tuple(draw(shapes)), steps=STEPS,
                             seed=draw(st.integers(0, 2**16)))  # fmt: skip

    base = OptimizerCase({"learning_rate": 0.1, **(base_kwargs or {})}, ((2, 3), (3,)))
    examples = (
        base,
        dataclasses.replace(base, shapes=((1,),), seed=1),  # one scalar-like variable
        dataclasses.replace(base, kwargs={**base.kwargs, "clipnorm": 1.0, "weight_decay": 0.1}),
    )
    return ComponentRecord("optimizer", cls.__name__, cls, cases(), examples, CHECKS)


beta = st.sampled_from([0.9, 0.5])
beta2 = st.sampled_from([0.999, 0.9])
eps = st.sampled_from([1e-7, 1e-3])

COMPONENTS = [
    optimizer(O.SGD, {"momentum": st.sampled_from([0.0, 0.5, 0.9]), "nesterov": st.booleans()},
              {"momentum": 0.9, "nesterov": True}),
    optimizer(O.Adam, {"beta_1": beta, "beta_2": beta2, "epsilon": eps, "amsgrad": st.booleans()}),
    optimizer(O.AdamW, {"beta_1": beta, "beta_2": beta2, "amsgrad": st.booleans(),
                        "weight_decay": st.sampled_from([0.004, 0.1])}),
    optimizer(O.Adamax, {"beta_1": beta, "beta_2": beta2, "epsilon": eps}),
    optimizer(O.Nadam, {"beta_1": beta, "beta_2": beta2, "epsilon": eps}),
    optimizer(O.RMSprop, {"rho": st.sampled_from([0.9, 0.5]), "momentum": st.sampled_from(
        [0.0, 0.5]), "centered": st.booleans(), "epsilon": eps}, {"centered": True}),
    optimizer(O.Adagrad, {"initial_accumulator_value": st.sampled_from([0.1, 1.0]),
                          "epsilon": eps}),
    optimizer(O.Adadelta, {"rho": st.sampled_from([0.95, 0.5]), "epsilon": eps}),
    optimizer(O.Ftrl, {"learning_rate_power": st.sampled_from([-0.5, -0.1]),
                       "initial_accumulator_value": st.sampled_from([0.1, 0.5]),
                       "l1_regularization_strength": st.sampled_from([0.0, 0.01]),
                       "l2_regularization_strength": st.sampled_from([0.0, 0.01]),
                       "l2_shrinkage_regularization_strength": st.sampled_from([0.0, 0.01]),
                       "beta": st.sampled_from([0.0, 0.5])}),
    optimizer(O.Lion, {"beta_1": beta, "beta_2": st.sampled_from([0.99, 0.9])}),
]  # fmt: skip

ABSTRACT = {O.Optimizer: "base class of all optimizers"}

RECORDS = [to_record(r, dtypes=("float32",)) for r in COMPONENTS]


def expected_components() -> list[str]:
    """Every public optimizer class must have a record (aliases share their class's record)."""
    return expected_names(O, O.Optimizer, ABSTRACT, "optimizer")
