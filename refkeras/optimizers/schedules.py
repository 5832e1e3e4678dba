"""``refkeras.optimizers.schedules``: learning rates as functions of the optimizer step.

An optimizer given a schedule as ``learning_rate`` calls ``schedule(optimizer.iterations)`` at every
step. Each schedule computes in the dtype of ``initial_learning_rate`` (float32 for a Python float)
with Keras's formulas, in Keras's operation order.
"""

from __future__ import annotations

import math

from refkeras import ops
from refkeras.backend.tensor import Tensor
from refkeras.saving import object_registration as reg
from refkeras.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

_MODULE = "keras.optimizers.schedules"


@reg.register_builtin(_MODULE)
class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step) -> learning rate`` and ``get_config``."""

    _keras_module = _MODULE

    def __call__(self, step) -> Tensor:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _check_decay_steps(value, arg: str = "decay_steps") -> None:
    if value <= 0:
        raise ValueError(f"Argument `{arg}` must be > 0. Received: {arg}={value}")


@reg.register_builtin(_MODULE)
class ExponentialDecay(LearningRateSchedule):
    """Exponential decay.

    Formula::

        p = step / decay_steps                  (floor(p) if staircase)
        lr = initial_learning_rate * decay_rate ** p
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step) -> Tensor:
        initial_learning_rate = ops.convert_to_tensor(self.initial_learning_rate)
        dtype = initial_learning_rate.dtype
        decay_steps = ops.cast(self.decay_steps, dtype)
        decay_rate = ops.cast(self.decay_rate, dtype)
        p = ops.cast(step, dtype) / decay_steps
        if self.staircase:
            p = ops.floor(p)
        return initial_learning_rate * ops.power(decay_rate, p)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@reg.register_builtin(_MODULE)
class PiecewiseConstantDecay(LearningRateSchedule):
    """Piecewise constant: ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` once ``step > boundaries[-1]``.

    Formula (as Keras, a sum of indicator functions)::

        lr = [step <= b[0]] * v[0] + [step > b[-1]] * v[-1] + sum_i [b[i-1] < step <= b[i]] * v[i]
    """

    def __init__(self, boundaries: list, values: list, name: str = "PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                f"length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step) -> Tensor:
        step = ops.convert_to_tensor(step)
        boundaries = [ops.cast(b, step.dtype) for b in self.boundaries]
        values = [ops.convert_to_tensor(v) for v in self.values]
        dtype = values[0].dtype

        result = ops.cast(step <= boundaries[0], dtype) * values[0]
        result = result + ops.cast(step > boundaries[-1], dtype) * values[-1]
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            result = result + ops.cast((step > low) & (step <= high), dtype) * value
        return result

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


@reg.register_builtin(_MODULE)
class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` in
    ``decay_steps`` steps.

    Formula::

        step = min(step, decay_steps)                                  (cycle=False)
        decay_steps = decay_steps * max(1, ceil(step / decay_steps))   (cycle=True)
        lr = (initial - end) * (1 - step / decay_steps) ** power + end
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step) -> Tensor:
        initial_learning_rate = ops.convert_to_tensor(self.initial_learning_rate)
        dtype = initial_learning_rate.dtype
        end_learning_rate = ops.cast(self.end_learning_rate, dtype)
        power = ops.cast(self.power, dtype)
        step = ops.cast(step, dtype)
        decay_steps = ops.cast(self.decay_steps, dtype)
        if self.cycle:
            # The first multiple of decay_steps not below step (1 at step 0).
            multiplier = ops.where(ops.equal(step, 0), 1.0, ops.ceil(step / self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = ops.minimum(step, decay_steps)
        p = step / decay_steps
        return (initial_learning_rate - end_learning_rate) * ops.power(
            1 - p, power
        ) + end_learning_rate

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


@reg.register_builtin(_MODULE)
class InverseTimeDecay(LearningRateSchedule):
    """Inverse time decay.

    Formula::

        p = step / decay_steps                  (floor(p) if staircase)
        lr = initial_learning_rate / (1 + decay_rate * p)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step) -> Tensor:
        initial_learning_rate = ops.convert_to_tensor(self.initial_learning_rate)
        dtype = initial_learning_rate.dtype
        decay_steps = ops.cast(self.decay_steps, dtype)
        decay_rate = ops.cast(self.decay_rate, dtype)
        p = ops.cast(step, dtype) / decay_steps
        if self.staircase:
            p = ops.floor(p)
        return initial_learning_rate / (ops.cast(1, dtype) + decay_rate * p)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@reg.register_builtin(_MODULE)
class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts), with an optional linear warmup.

    Formula::

        without warmup (warmup_target=None):
            step = min(step, decay_steps)
            lr = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)
        with warmup:
            step = min(step, warmup_steps + decay_steps)
            step < warmup_steps:
                lr = (warmup_target - initial) * step / warmup_steps + initial
            otherwise, the decay above from warmup_target, at step - warmup_steps
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_decay_steps(decay_steps)

    def _decay_function(self, step, decay_steps, decay_from_lr, dtype):
        completed_fraction = step / decay_steps
        pi = ops.array(math.pi, dtype=dtype)
        cosine_decayed = 0.5 * (1.0 + ops.cos(pi * completed_fraction))
        decayed = (1 - self.alpha) * cosine_decayed + self.alpha
        return decay_from_lr * decayed

    def _warmup_function(self, step, warmup_steps, warmup_target, initial_learning_rate):
        completed_fraction = step / warmup_steps
        total_step_delta = warmup_target - initial_learning_rate
        return total_step_delta * completed_fraction + initial_learning_rate

    def __call__(self, step) -> Tensor:
        initial_learning_rate = ops.convert_to_tensor(self.initial_learning_rate)
        dtype = initial_learning_rate.dtype
        decay_steps = ops.cast(self.decay_steps, dtype)
        step = ops.cast(step, dtype)
        if self.warmup_target is None:
            step = ops.minimum(step, decay_steps)
            return self._decay_function(step, decay_steps, initial_learning_rate, dtype)

        warmup_target = ops.cast(self.warmup_target, dtype)
        warmup_steps = ops.cast(self.warmup_steps, dtype)
        step = ops.minimum(step, decay_steps + warmup_steps)
        # Keras's `ops.cond`, as a select so that the step may be a traced value.
        return ops.where(
            step < warmup_steps,
            self._warmup_function(step, warmup_steps, warmup_target, initial_learning_rate),
            self._decay_function(step - warmup_steps, decay_steps, warmup_target, dtype),
        )

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


@reg.register_builtin(_MODULE)
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): each period is ``t_mul`` times longer than the
    previous one and starts from ``m_mul`` times its peak.

    Formula::

        f = step / first_decay_steps
        t_mul == 1:  i = floor(f);  f = f - i
        otherwise:   i = floor(log(1 - f * (1 - t_mul)) / log(t_mul))
                     f = (f - (1 - t_mul**i) / (1 - t_mul)) / t_mul**i
        lr = initial * ((1 - alpha) * 0.5 * m_mul**i * (1 + cos(pi * f)) + alpha)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_decay_steps(first_decay_steps, "first_decay_steps")

    def __call__(self, step) -> Tensor:
        initial_learning_rate = ops.convert_to_tensor(self.initial_learning_rate)
        dtype = initial_learning_rate.dtype
        first_decay_steps = ops.cast(self.first_decay_steps, dtype)
        alpha = ops.cast(self.alpha, dtype)
        t_mul = ops.cast(self._t_mul, dtype)
        m_mul = ops.cast(self._m_mul, dtype)
        completed_fraction = ops.cast(step, dtype) / first_decay_steps

        if self._t_mul == 1.0:  # Keras's `ops.cond(t_mul == 1, ...)`
            i_restart = ops.floor(completed_fraction)
            completed_fraction = completed_fraction - i_restart
        else:  # periods grow geometrically
            i_restart = ops.floor(
                ops.log(ops.cast(1.0 - completed_fraction * (1.0 - t_mul), dtype)) / ops.log(t_mul)
            )
            sum_r = (1.0 - ops.power(t_mul, i_restart)) / (1.0 - t_mul)
            completed_fraction = (completed_fraction - sum_r) / ops.power(t_mul, i_restart)

        m_fac = ops.power(m_mul, i_restart)
        pi = ops.array(math.pi, dtype=dtype)
        cosine_decayed = 0.5 * m_fac * (1.0 + ops.cos(pi * completed_fraction))
        decayed = (1 - alpha) * cosine_decayed + alpha
        return initial_learning_rate * decayed

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict:
    """``{"module": "keras.optimizers.schedules", "class_name": ..., "config": ...,
    "registered_name": ...}``."""
    return serialize_keras_object(learning_rate_schedule)


def deserialize(config, custom_objects=None) -> LearningRateSchedule:
    """A schedule from :func:`serialize`'s output."""
    return deserialize_keras_object(
        config, module_objects=reg.builtins_of(_MODULE), custom_objects=custom_objects
    )
