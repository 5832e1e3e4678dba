"""``Adadelta``: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from refkeras import ops
from refkeras.optimizers.optimizer import Optimizer
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.optimizers")
class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012).

    Update rule, as Keras computes it (slots ``accumulated_grad`` = E[g^2] and
    ``accumulated_delta_var`` = E[dx^2]; ``rms(x) = sqrt(x + epsilon)``)::

        E[g^2]  = rho * E[g^2] + (1 - rho) * g**2
        dx      = -(rms(E[dx^2]) * g) / rms(E[g^2])
        E[dx^2] = rho * E[dx^2] + (1 - rho) * dx**2
        w = w + lr * dx

    Args:
        learning_rate: float, schedule or callable; default 0.001.
        rho: decay rate; default 0.95.
        epsilon: default 1e-7.
        **kwargs: the base :class:`Optimizer` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho: float = 0.95,
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
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"]
        )

    def update_step(self, grad, variable, learning_rate) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        grad = ops.cast(grad, variable.dtype)
        rho = self.rho
        i = self._get_variable_index(variable)
        accumulated_grad = self._accumulated_grads[i]
        accumulated_delta_var = self._accumulated_delta_vars[i]

        def rms(x):
            return ops.sqrt(x + self.epsilon)

        self.assign(accumulated_grad, rho * accumulated_grad + (1 - rho) * ops.square(grad))
        delta_var = -((rms(accumulated_delta_var) * grad) / rms(accumulated_grad))
        self.assign(
            accumulated_delta_var,
            rho * accumulated_delta_var + (1 - rho) * ops.square(delta_var),
        )
        self.assign_add(variable, lr * delta_var)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
