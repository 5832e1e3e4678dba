"""``Ftrl``: Follow The Regularized Leader (McMahan et al., 2013)."""

from __future__ import annotations

from refkeras import ops
from refkeras.optimizers.optimizer import Optimizer, constant_initializer
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.optimizers")
class Ftrl(Optimizer):
    """FTRL-Proximal with L1, L2 and L2-shrinkage regularization.

    Update rule, as Keras computes it (slots ``accumulator`` = n, starting at
    ``initial_accumulator_value``, and ``linear`` = z; ``p = -learning_rate_power``)::

        l2 = l2_regularization_strength + beta / (2 * lr)
        g_shrunk = g + 2 * l2_shrinkage_regularization_strength * w
        n_new = n + g**2
        z = z + g_shrunk - ((n_new**p - n**p) / lr) * w
        quadratic = n_new**p / lr + 2 * l2
        w = (clip(z, -l1, l1) - z) / quadratic
        n = n_new

    Args:
        learning_rate: float, schedule or callable; default 0.001.
        learning_rate_power: <= 0; default -0.5.
        initial_accumulator_value: >= 0; default 0.1.
        l1_regularization_strength, l2_regularization_strength,
        l2_shrinkage_regularization_strength: >= 0; default 0.0.
        beta: default 0.0.
        **kwargs: the base :class:`Optimizer` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
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
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        if initial_accumulator_value < 0.0:
            raise ValueError(
                "`initial_accumulator_value` needs to be positive or zero. Received: "
                f"initial_accumulator_value={initial_accumulator_value}."
            )
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. Received: "
                f"learning_rate_power={learning_rate_power}."
            )
        for arg, value in (
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ):
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: {arg}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list,
            ["accumulator", "linear"],
            initializer=[constant_initializer(self.initial_accumulator_value), "zeros"],
        )

    def update_step(self, gradient, variable, learning_rate) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        i = self._get_variable_index(variable)
        accum = self._accumulators[i]
        linear = self._linears[i]
        lr_power = self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)

        grad_to_use = gradient + (2 * self.l2_shrinkage_regularization_strength) * variable
        new_accum = accum + ops.square(gradient)
        self.assign_add(
            linear,
            grad_to_use
            - ((ops.power(new_accum, -lr_power) - ops.power(accum, -lr_power)) / lr) * variable,
        )
        quadratic = ops.power(new_accum, -lr_power) / lr + 2 * l2_reg
        linear_clipped = ops.clip(linear, -l1, l1)
        self.assign(variable, (linear_clipped - linear) / quadratic)
        self.assign(accum, new_accum)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": (self.l2_shrinkage_regularization_strength),
                "beta": self.beta,
            }
        )
        return config
