"""``Adagrad``: per-parameter learning rates scaled by the accumulated squared gradients."""

from __future__ import annotations

from refkeras import ops
from refkeras.optimizers.optimizer import Optimizer, constant_initializer
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.optimizers")
class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011).

    Update rule, as Keras computes it (slot ``accumulator``, starting at
    ``initial_accumulator_value``)::

        accumulator = accumulator + g**2
        w = w - (lr * g) / sqrt(accumulator + epsilon)

    Args:
        learning_rate: float, schedule or callable; default 0.001.
        initial_accumulator_value: default 0.1.
        epsilon: default 1e-7, added inside the square root.
        **kwargs: the base :class:`Optimizer` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        initializer = constant_initializer(self.initial_accumulator_value)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator", initializer=initializer
        )

    def update_step(self, gradient, variable, learning_rate) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        self.assign_add(accumulator, ops.square(gradient))
        self.assign_sub(variable, (lr * gradient) / ops.sqrt(accumulator + self.epsilon))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}
        )
        return config
