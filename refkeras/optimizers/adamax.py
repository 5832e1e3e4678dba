"""``Adamax``: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from refkeras import ops
from refkeras.optimizers.optimizer import Optimizer
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.optimizers")
class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2014, section 7).

    Update rule, as Keras computes it (``t = iterations + 1``; slots ``momentum`` = m and
    ``norm`` = u)::

        m = m + (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w = w - (lr * m) / ((1 - beta_1**t) * (u + epsilon))

    Args:
        learning_rate: float, schedule or callable; default 0.001.
        beta_1: default 0.9.
        beta_2: decay rate of the weighted infinity norm; default 0.999.
        epsilon: default 1e-7.
        **kwargs: the base :class:`Optimizer` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
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
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list) -> None:
        if self.built:
            return
        super().build(var_list)
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        local_step = ops.cast(self.iterations + 1, variable.dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, variable.dtype), local_step)
        i = self._get_variable_index(variable)
        m = self._m[i]
        u = self._u[i]
        self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        self.assign(u, ops.maximum(self.beta_2 * u, ops.abs(gradient)))
        self.assign_sub(variable, (lr * m) / ((1 - beta_1_power) * (u + self.epsilon)))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
