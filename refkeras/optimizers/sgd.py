"""``SGD``: gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from refkeras import ops
from refkeras.optimizers.optimizer import Optimizer
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.optimizers")
class SGD(Optimizer):
    """Gradient descent (with momentum).

    Update rule, as Keras computes it (``m`` is the ``momentum`` slot, created only when
    ``momentum != 0``)::

        momentum == 0:   w = w - g * lr
        otherwise:       m = m * momentum - g * lr
                         w = w + m                          (nesterov=False)
                         w = w + (m * momentum - g * lr)    (nesterov=True)

    Args:
        learning_rate: float, schedule or callable; default 0.01.
        momentum: float in ``[0, 1]``; default 0.0 (plain gradient descent).
        nesterov: bool; default False.
        **kwargs: the base :class:`Optimizer` arguments (``weight_decay``, ``clipnorm``...).
    """

    _fused_update = "optimizer.sgd"

    def __init__(
        self,
        learning_rate=0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
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
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate) -> None:
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        if self.momentum == 0:
            self.assign_sub(variable, gradient * learning_rate)
            return
        m = self.momentums[self._get_variable_index(variable)]
        momentum = ops.cast(self.momentum, variable.dtype)
        self.assign(m, m * momentum - gradient * learning_rate)
        if self.nesterov:
            self.assign_add(variable, m * momentum - gradient * learning_rate)
        else:
            self.assign_add(variable, m)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
