"""``RMSprop``: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from refkeras import ops
from refkeras.optimizers.optimizer import Optimizer
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.optimizers")
class RMSprop(Optimizer):
    """RMSprop (plain momentum, optionally centered).

    Update rule, as Keras computes it (slots: ``velocity``; ``momentum`` if ``momentum > 0``;
    ``average_gradient`` if ``centered``)::

        velocity = rho * velocity + (1 - rho) * g**2
        centered:      average_gradient = rho * average_gradient + (1 - rho) * g
                       denominator = velocity - average_gradient**2 + epsilon
        not centered:  denominator = velocity + epsilon
        increment = lr * g / sqrt(denominator)
        momentum > 0:  m = momentum * m + increment;  w = w - m
        otherwise:     w = w - increment

    Args:
        learning_rate: float, schedule or callable; default 0.001.
        rho: discounting factor of the squared-gradient average; default 0.9.
        momentum: default 0.0.
        epsilon: default 1e-7, added *inside* the square root.
        centered: normalize by the estimated variance instead of the second moment; default
            False.
        **kwargs: the base :class:`Optimizer` arguments.
    """

    _fused_update = "optimizer.rmsprop"

    def __init__(
        self,
        learning_rate=0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
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
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    def update_step(self, gradient, variable, learning_rate) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        i = self._get_variable_index(variable)
        velocity = self._velocities[i]
        rho = self.rho

        self.assign(velocity, rho * velocity + (1 - rho) * ops.square(gradient))
        if self.centered:
            average_grad = self._average_gradients[i]
            self.assign(average_grad, rho * average_grad + (1 - rho) * gradient)
            denominator = velocity - ops.square(average_grad) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = (lr * gradient) / ops.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[i]
            self.assign(momentum, self.momentum * momentum + increment)
            self.assign_sub(variable, momentum)
        else:
            self.assign_sub(variable, increment)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "rho": self.rho,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "centered": self.centered,
            }
        )
        return config
