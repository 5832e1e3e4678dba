"""``AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

from __future__ import annotations

from refkeras.optimizers.adam import Adam
from refkeras.saving.object_registration import register_builtin


@register_builtin("keras.optimizers")
class AdamW(Adam):
    """AdamW: exactly :class:`Adam` with ``weight_decay`` required (default 0.004).

    Update rule, as Keras computes it (the decay is the base optimizer's, applied before the Adam
    step with the same ``lr``; ``t = iterations + 1``)::

        w = w - w * weight_decay * lr
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        w = w - (m * alpha) / (sqrt(v) + epsilon)

    Args:
        learning_rate: default 0.001.
        weight_decay: default 0.004; must not be None.
        beta_1, beta_2, epsilon, amsgrad: as :class:`Adam` (0.9, 0.999, 1e-7, False).
        **kwargs: the base :class:`Optimizer` arguments.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
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
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
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
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
