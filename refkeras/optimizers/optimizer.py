"""``refkeras.optimizers.Optimizer``: the base every optimizer builds on (Keras 3's
``BaseOptimizer`` with its JAX-backend ``_backend_apply_gradients``).

What one call to ``apply(grads, trainable_variables)`` does, in Keras's order::

    build(trainable_variables)                  first call only: create the slot variables
    drop None gradients (warn)                  and overwrite `overwrite_with_gradient` variables
    g = g / loss_scale_factor                   if set
    [gradient accumulation]                     see `_apply_accumulating`
    clip: clipnorm (each gradient)  |  global_clipnorm (all together)  |  clipvalue
    var = var - var * weight_decay * lr         decoupled weight decay, unless excluded
    update_step(g, var, lr)                     the algorithm (SGD, Adam...), once per variable
    [EMA of the weights]                        if use_ema
    var = var.constraint(var)                   if the variable has a constraint
    iterations = iterations + 1

All math goes through ``refkeras.ops`` and all state changes through ``Variable.assign``, so that
``stateless_apply`` can run the same code inside a :class:`~refkeras.StatelessScope` as a pure
function ``(optimizer values, grads, trainable values) -> new values``.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from refkeras import ops
from refkeras.backend import fused
from refkeras.backend.variable import StatelessScope, Variable
from refkeras.config import floatx
from refkeras.optimizers import schedules
from refkeras.saving.object_registration import register_builtin
from refkeras.saving.serialization_lib import serialize_keras_object
from refkeras.utils import naming


def constant_initializer(value: float) -> Callable:
    """``(shape, dtype) -> an array filled with value``: how slots start (zeros; Adagrad's and
    Ftrl's accumulators start at ``initial_accumulator_value``)."""

    def initialize(shape, dtype=None):
        return np.full(shape, value, dtype=dtype)

    return initialize


@register_builtin("keras.optimizers")
class Optimizer:
    """Base class of all optimizers.

    A subclass creates its slot variables in ``build(var_list)`` (with
    :meth:`add_optimizer_variables`), implements ``update_step(gradient, variable, learning_rate)``
    for one variable, and adds its hyperparameters to ``get_config``.

    Args:
        learning_rate: a float (stored in a ``learning_rate`` variable), a
            :class:`~refkeras.optimizers.schedules.LearningRateSchedule` (called with
            ``iterations`` at every step) or a callable of no arguments.
        weight_decay: float or None. If set, ``var -= var * weight_decay * lr`` before each update
            (decoupled weight decay), except for variables excluded with
            :meth:`exclude_from_weight_decay`.
        clipnorm: float or None. Clip each gradient so that its L2 norm is at most this.
        clipvalue: float or None. Clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: float or None. Scale all gradients together so that their global L2
            norm is at most this. At most one of the three clipping arguments may be set.
        use_ema: bool. Keep an exponential moving average of the weights:
            ``average = ema_momentum * average + (1 - ema_momentum) * var`` (the first step copies
            the weights).
        ema_momentum: float in ``[0, 1]``, default 0.99.
        ema_overwrite_frequency: int or None. Every this many steps, overwrite the weights with
            their average; with None call :meth:`finalize_variable_values` at the end instead.
        loss_scale_factor: float or None. ``scale_loss`` multiplies the loss by it and ``apply``
            divides the gradients by it.
        gradient_accumulation_steps: int >= 2 or None. Update only every this many steps, with the
            mean of the gradients received since the last update.
        name: the name scope of the optimizer's variables (default: snake-cased class name).
    """

    _keras_module = "keras.optimizers"

    def __init__(
        self,
        learning_rate,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs,
    ):
        self._variables: list[Variable] = []
        if kwargs.pop("decay", None) is not None:
            warnings.warn(
                "Argument `decay` is no longer supported and will be ignored.", stacklevel=2
            )
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name or naming.auto_name(naming.to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.global_clipnorm = global_clipnorm
        self.clipvalue = clipvalue
        self.use_ema = use_ema
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. "
                f"Received: gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(
                    f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum="
                    f"{ema_momentum}"
                )
            if ema_overwrite_frequency and (
                not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                    f"ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        self.built = False
        self._trainable_variables: list = []
        self._trainable_variables_indices: dict[int, int] = {}

        # Keras's dtype="int" (int64 under TensorFlow; the JAX backend narrows it to int32).
        with self._name_scope():
            self._iterations = Variable(0, name="iteration", dtype="int64", trainable=False)
        self._track_variable(self._iterations)

        if isinstance(learning_rate, schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if not isinstance(learning_rate, float):
                raise ValueError(
                    "Argument `learning_rate` should be float, or an instance of "
                    "LearningRateSchedule, or a callable (that takes in the current iteration "
                    "value and returns the corresponding learning rate value). "
                    f"Received instead: learning_rate={learning_rate}"
                )
            with self._name_scope():
                self._learning_rate = Variable(
                    learning_rate, name="learning_rate", dtype=floatx(), trainable=False
                )
            self._track_variable(self._learning_rate)

    # --- variables -------------------------------------------------------------------------------

    def _name_scope(self):
        """``<name>/`` in front of variable paths, unless already the innermost scope (Keras's
        name scopes deduplicate, so a slot is ``adam/kernel_momentum``, not ``adam/adam/...``)."""
        if naming.current_path().split("/")[-1] == self.name:
            return contextlib.nullcontext()
        return naming.name_scope(self.name)

    def __setattr__(self, name, value):
        # A Variable assigned as an attribute becomes optimizer state, as Keras tracks it (Nadam's
        # `_u_product`, or a custom optimizer's `self.step = keras.Variable(...)`).
        if isinstance(value, Variable) and "_variables" in self.__dict__:
            self._track_variable(value)
        super().__setattr__(name, value)

    def _track_variable(self, variable: Variable) -> None:
        if not any(v is variable for v in self._variables):
            self._variables.append(variable)

    def _untrack_variable(self, variable: Variable) -> None:
        self._variables = [v for v in self._variables if v is not variable]

    def _check_super_called(self) -> None:
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"In optimizer '{type(self).__name__}', you forgot to call `super().__init__()` "
                "as the first statement in the `__init__()` method. Go add it!"
            )

    @property
    def variables(self) -> list[Variable]:
        """All optimizer state: ``iteration``, ``learning_rate`` (unless a schedule), then the
        slots in the order ``build`` created them."""
        return self._variables[:]

    @property
    def iterations(self):
        """The number of steps taken (the ``iteration`` variable); with gradient accumulation,
        the number of actual updates, ``iteration // gradient_accumulation_steps``."""
        if self.gradient_accumulation_steps:
            return ops.floor_divide(self._iterations, self.gradient_accumulation_steps)
        return self._iterations

    def build(self, variables: Sequence[Variable]) -> None:
        """Create the slot variables for ``variables`` (subclasses call ``super().build`` first).
        The base creates the EMA averages and the gradient accumulators."""
        variables = list(variables)
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(
                variables, "average"
            )
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = []
        for i, variable in enumerate(variables):
            self._trainable_variables_indices[self._var_key(variable)] = i
            if self.gradient_accumulation_steps:
                self._accumulated_gradients.append(
                    self.add_variable_from_reference(variable, name="gradient_accumulator")
                )
        self._trainable_variables = variables[:]
        self.built = True

    def _var_key(self, variable) -> int:
        return id(variable)

    def _get_variable_index(self, variable) -> int:
        return self._trainable_variables_indices[self._var_key(variable)]

    def _check_variables_are_known(self, variables) -> None:
        for v in variables:
            if self._var_key(v) not in self._trainable_variables_indices:
                raise ValueError(
                    f"Unknown variable: {v}. This optimizer can only be called for the variables "
                    "it was originally built with. When working with a new set of variables, "
                    "you should recreate a new optimizer instance."
                )

    def add_variable(
        self,
        shape,
        initializer="zeros",
        dtype=None,
        aggregation: str = "none",
        layout=None,
        name: str | None = None,
    ) -> Variable:
        """A new non-trainable variable ``<optimizer name>/<name>``, tracked in ``variables``."""
        self._check_super_called()
        if isinstance(initializer, str) and initializer in ("zeros", "ones"):
            initializer = constant_initializer(0.0 if initializer == "zeros" else 1.0)
        with self._name_scope():
            variable = Variable(
                initializer,
                shape=shape,
                dtype=dtype,
                trainable=False,
                aggregation=aggregation,
                name=name,
            )
        self._track_variable(variable)
        return variable

    def add_variable_from_reference(
        self, reference_variable, name: str | None = None, initializer="zeros"
    ) -> Variable:
        """A slot shaped like ``reference_variable``, named
        ``<reference path with "/" -> "_">_<name>`` (e.g. ``adam/dense_kernel_momentum``)."""
        name = name or "var"
        if hasattr(reference_variable, "path"):
            name = f"{reference_variable.path.replace('/', '_')}_{name}"
        else:
            ref = str(reference_variable.name).replace("/", "_").replace(":", "_")
            name = f"{ref}_{name}"
        return self.add_variable(
            shape=reference_variable.shape,
            initializer=initializer,
            dtype=reference_variable.dtype,
            name=name,
        )

    def add_optimizer_variables(self, trainable_variables, name, initializer="zeros"):
        """One slot per trainable variable for ``name`` (a string), or for each of several names
        (a list, returning a tuple of lists). Slots are created variable by variable, interleaving
        the names (Adam: ``kernel_momentum, kernel_velocity, bias_momentum, bias_velocity``).
        Variables with ``overwrite_with_gradient`` get ``None`` instead of a slot."""
        names = [name] if isinstance(name, str) else list(name)
        if isinstance(initializer, list | tuple):
            initializers = list(initializer)
        else:
            initializers = [initializer] * len(names)
        if len(names) != len(initializers):
            raise ValueError(
                "The number of provided names must match the number of provided initializers.  "
                f"Received name='{name}', initializer='{initializer}'"
            )
        slots = tuple([] for _ in names)
        for variable in trainable_variables:
            for i, (slot_name, init) in enumerate(zip(names, initializers)):
                if self._overwrite_variable_with_gradient(variable):
                    slots[i].append(None)
                else:
                    slots[i].append(
                        self.add_variable_from_reference(variable, slot_name, initializer=init)
                    )
        return slots[0] if isinstance(name, str) else slots

    def _overwrite_variable_with_gradient(self, variable) -> bool:
        return getattr(variable, "overwrite_with_gradient", False)

    def assign(self, variable, value) -> None:
        variable.assign(value)

    def assign_add(self, variable, value) -> None:
        variable.assign_add(value)

    def assign_sub(self, variable, value) -> None:
        variable.assign_sub(value)

    # --- learning rate ---------------------------------------------------------------------------

    @property
    def learning_rate(self):
        """The current learning rate: the ``learning_rate`` variable, or the schedule's value at
        ``iterations``."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return lr(self._iterations)
        if isinstance(lr, Variable):
            return lr
        if callable(lr):
            return lr()
        return lr

    @learning_rate.setter
    def learning_rate(self, learning_rate) -> None:
        previous = self._learning_rate if isinstance(self._learning_rate, Variable) else None
        if isinstance(learning_rate, schedules.LearningRateSchedule) or callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            if isinstance(self._learning_rate, schedules.LearningRateSchedule):
                raise TypeError(
                    "This optimizer was created with a `LearningRateSchedule` object as its "
                    "`learning_rate` constructor argument, hence its learning rate is not "
                    "settable. If you need the learning rate to be settable, you should "
                    "instantiate the optimizer with a float `learning_rate` argument."
                )
            self._learning_rate.assign(learning_rate)
        if previous is not None and not isinstance(self._learning_rate, Variable):
            self._untrack_variable(previous)

    # --- applying gradients ----------------------------------------------------------------------

    def update_step(self, gradient, variable, learning_rate) -> None:
        """Update one variable (and its slots) from its gradient: the algorithm itself."""
        raise NotImplementedError

    def apply_gradients(self, grads_and_vars: Iterable) -> Variable:
        """``apply`` for ``[(gradient, variable), ...]``; returns ``iterations`` (as tf.keras)."""
        grads, trainable_variables = zip(*grads_and_vars)
        self.apply(grads, trainable_variables)
        return self._iterations

    def apply(self, grads: Sequence, trainable_variables: Sequence | None = None) -> None:
        """Update ``trainable_variables`` (default: those the optimizer was built with) from
        ``grads``, one gradient per variable; ``None`` gradients are skipped with a warning."""
        grads = list(grads)
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first. "
                )
            if len(grads) != len(self._trainable_variables_indices):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must match "
                    f"`optimizer.variables` one-to-on. Received a list of {len(grads)} gradients, "
                    f"but the optimizer is tracking {len(self._trainable_variables)} trainable "
                    "variables."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                with self._name_scope():
                    self.build(trainable_variables)
                self.built = True
            self._check_variables_are_known(trainable_variables)

        with self._name_scope():
            grads, trainable_variables = self._filter_empty_gradients(grads, trainable_variables)
            grads, trainable_variables = self._overwrite_variables_directly_with_gradients(
                grads, trainable_variables
            )
            if grads:
                if self.loss_scale_factor is not None:
                    grads = [ops.divide(g, self.loss_scale_factor) for g in grads]
                self._backend_apply_gradients(grads, trainable_variables)
                for variable in trainable_variables:
                    constraint = getattr(variable, "constraint", None)
                    if constraint is not None:
                        variable.assign(constraint(variable))
        self._iterations.assign_add(1)

    def _backend_apply_gradients(self, grads: list, trainable_variables: list) -> None:
        """Clip, decay, update (with or without accumulation), then the EMA."""
        if self.gradient_accumulation_steps:
            self._apply_accumulating(grads, trainable_variables)
        else:
            grads = self._clip_gradients(grads)
            self._apply_weight_decay(trainable_variables)
            self._backend_update_step(grads, trainable_variables, self.learning_rate)

        if self.use_ema:
            self._update_model_variables_moving_average(self._trainable_variables)
            if self.ema_overwrite_frequency:
                overwrite = (self.iterations + 1) % self.ema_overwrite_frequency == 0
                for var, average in zip(
                    self._trainable_variables, self._model_variables_moving_average
                ):
                    if average is not None:
                        var.assign(ops.where(overwrite, average, var))

    def _apply_accumulating(self, grads: list, trainable_variables: list) -> None:
        """Gradient accumulation as Keras's JAX backend does it, without control flow: run the
        update on ``(g + accumulated) / steps`` every step, then keep its result only on update
        steps (every ``steps``-th call); on the others keep the old values and accumulate ``g``."""
        steps = self.gradient_accumulation_steps
        is_update_step = (self._iterations + 1) % steps == 0
        old_trainable = [v.value for v in trainable_variables]
        old_optimizer = [v.value for v in self.variables]
        accumulators = [
            self._accumulated_gradients[self._get_variable_index(v)] for v in trainable_variables
        ]
        new_accumulated = [
            ops.where(is_update_step, ops.zeros_like(acc), g + acc)
            for g, acc in zip(grads, accumulators)
        ]
        grads = [
            ops.where(is_update_step, (g + acc) / steps, g) for g, acc in zip(grads, accumulators)
        ]

        grads = self._clip_gradients(grads)
        self._apply_weight_decay(trainable_variables)
        self._backend_update_step(grads, trainable_variables, self.learning_rate)

        for v, old in zip(trainable_variables, old_trainable):
            v.assign(ops.where(is_update_step, v, old))
        for v, old in zip(self.variables, old_optimizer):
            v.assign(ops.where(is_update_step, v, old))
        for acc, new in zip(accumulators, new_accumulated):
            acc.assign(new)

    #: the name of the reference composition in :mod:`refkeras.backend.fused` that
    #: ``_backend_update_step`` runs (a backend may replace it with one fused kernel)
    _fused_update: str | None = None

    def _backend_update_step(self, grads: list, trainable_variables: list, learning_rate) -> None:
        """``update_step`` for every variable (through :func:`refkeras.backend.fused.run` when the
        optimizer names a composition, so a backend may run all the updates as one kernel)."""
        if self._fused_update is not None:
            fused.run(self._fused_update, self, grads, trainable_variables, learning_rate)
            return
        for grad, var in zip(grads, trainable_variables):
            self.update_step(grad, var, learning_rate)

    def _filter_empty_gradients(self, grads: list, variables: list) -> tuple[list, list]:
        kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
        missing = [getattr(v, "path", v.name) for g, v in zip(grads, variables) if g is None]
        if not kept:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If "
                "using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=3,
            )
        return [g for g, _ in kept], [v for _, v in kept]

    def _overwrite_variables_directly_with_gradients(self, grads: list, variables: list):
        """Variables flagged ``overwrite_with_gradient`` (float8 scales) take their "gradient" as
        their new value (with accumulation: the running maximum) and skip the update."""
        if not any(self._overwrite_variable_with_gradient(v) for v in variables):
            return grads, variables
        kept_grads, kept_vars = [], []
        for g, v in zip(grads, variables):
            if not self._overwrite_variable_with_gradient(v):
                kept_grads.append(g)
                kept_vars.append(v)
            elif self.gradient_accumulation_steps:
                is_update_step = (self._iterations + 1) % self.gradient_accumulation_steps == 0
                acc = self._accumulated_gradients[self._get_variable_index(v)]
                running_max = ops.maximum(g, acc)
                v.assign(ops.where(is_update_step, running_max, v))
                acc.assign(ops.where(is_update_step, ops.zeros_like(acc), running_max))
            else:
                v.assign(g)
        return kept_grads, kept_vars

    # --- clipping and weight decay ---------------------------------------------------------------

    def _clip_gradients(self, grads: list) -> list:
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [ops.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, values):
        """``values * clipnorm / max(||values||_2, clipnorm)`` (unchanged if the norm is below)."""
        l2sum = ops.sum(ops.square(values), None, keepdims=True)
        pred = l2sum > 0
        # Keras's two-sided `where`, so the gradient of sqrt at 0 never appears.
        l2sum_safe = ops.where(pred, l2sum, ops.ones_like(l2sum))
        l2norm = ops.where(pred, ops.sqrt(l2sum_safe), l2sum)
        return ops.multiply(values, self.clipnorm) / ops.maximum(l2norm, self.clipnorm)

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Skip weight decay for the variables in ``var_list`` and for every variable whose name
        contains (as a regex search) one of ``var_names``, e.g. ``var_names=["bias"]``."""
        # Keras documents "call before build" but never enforces it; neither do we.
        self._exclude_from_weight_decay = {self._var_key(v) for v in var_list or ()}
        if var_names:
            self._exclude_from_weight_decay_pattern = re.compile("|".join(set(var_names)))
        else:
            self._exclude_from_weight_decay_pattern = None

    def _use_weight_decay(self, variable) -> bool:
        if self._var_key(variable) in getattr(self, "_exclude_from_weight_decay", set()):
            return False
        pattern = getattr(self, "_exclude_from_weight_decay_pattern", None)
        return pattern is None or re.search(pattern, variable.name) is None

    def _apply_weight_decay(self, variables: list) -> None:
        """Decoupled weight decay: ``var = var - var * weight_decay * lr``."""
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                lr = ops.cast(self.learning_rate, variable.dtype)
                wd = ops.cast(self.weight_decay, variable.dtype)
                variable.assign(variable - variable * wd * lr)

    # --- exponential moving average of the weights -----------------------------------------------

    def _update_model_variables_moving_average(self, trainable_variables: list) -> None:
        """``average = m * average + (1 - m) * var`` with ``m = ema_momentum``, except ``m = 0``
        on the first step (the average starts as a copy of the weights)."""
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                not_first_step = ops.not_equal(self.iterations, 0)
                momentum = ops.cast(not_first_step, var.dtype) * self.ema_momentum
                average.assign(momentum * average + (1 - momentum) * var)

    def _overwrite_model_variables_with_average_value(self, trainable_variables: list) -> None:
        if len(trainable_variables) != len(self._model_variables_moving_average):
            raise ValueError(
                f"The length of model variables ({len(trainable_variables)}) to override does "
                "not match the length of model variables stored in the optimizer "
                f"({len(self._model_variables_moving_average)}). Please check if the optimizer "
                "was called on your model."
            )
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                var.assign(average)

    def finalize_variable_values(self, var_list) -> None:
        """At the end of training: with ``use_ema``, replace the weights by their averages."""
        if self.use_ema:
            self._overwrite_model_variables_with_average_value(var_list)

    # --- the stateless form ----------------------------------------------------------------------

    def stateless_apply(self, optimizer_variables, grads, trainable_variables) -> tuple[list, list]:
        """``apply`` as a pure function: given values for ``self.variables`` and for the variables
        the optimizer was built with, return ``(new trainable values, new optimizer values)``
        without changing any variable."""
        self._check_super_called()
        if not self.built:
            raise ValueError(
                f"To call `stateless_apply`, {type(self).__name__} must be built (i.e. its "
                "variables must have been created). You can build it via "
                "`optimizer.build(trainable_variables)`."
            )
        if len(optimizer_variables) != len(self.variables):
            raise ValueError(
                "Argument `optimizer_variables` must be a list of tensors corresponding 1:1 to "
                f"{type(self).__name__}().variables. Received list with length "
                f"{len(optimizer_variables)}, but expected {len(self.variables)} variables."
            )
        if len(trainable_variables) != len(self._trainable_variables):
            raise ValueError(
                "Argument `optimizer_variables` must be a list of tensors corresponding 1:1 to "
                "the trainable variables list that the optimizer was built with. Received "
                f"len(trainable_variables) == {len(trainable_variables)} whereas the optimizer "
                f"was built with {len(self._trainable_variables)} variables."
            )
        mapping = list(zip(self._trainable_variables, trainable_variables)) + list(
            zip(self.variables, optimizer_variables)
        )
        with StatelessScope(state_mapping=mapping) as scope:
            self.apply(grads)
        return (
            [scope.get_current_value(v) for v in self._trainable_variables],
            [scope.get_current_value(v) for v in self.variables],
        )

    # --- state and config ------------------------------------------------------------------------

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` if set (``apply`` divides the gradients back)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def set_weights(self, weights) -> None:
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. "
                "Please call `optimizer.build(trainable_variables)` to create the optimizer "
                "weights before calling `set_weights()`."
            )
        for variable, weight in zip(self._variables, weights):
            if tuple(variable.shape) != tuple(np.shape(weight)):
                raise ValueError(
                    f"Optimizer variable {self._var_key(variable)} has shape "
                    f"{variable.shape} not compatible with provided weight shape "
                    f"{np.shape(weight)}."
                )
            variable.assign(weight)

    def save_own_variables(self, store) -> None:
        for i, variable in enumerate(self.variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store) -> None:
        if len(store.keys()) != len(self.variables):
            msg = (
                f"Skipping variable loading for optimizer '{self.name}', because it has "
                f"{len(self.variables)} variables whereas the saved optimizer has "
                f"{len(store.keys())} variables. "
            )
            if len(self.variables) == 0:
                msg += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(msg, stacklevel=2)
            return
        for i, variable in enumerate(self.variables):
            variable.assign(store[str(i)])

    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(lr)
        elif isinstance(lr, Variable):
            learning_rate = float(lr.numpy())
        elif callable(lr):
            learning_rate = serialize_keras_object(lr)
        else:
            learning_rate = 0.5
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)


def global_norm(value_list: list):
    """``sqrt(sum of the squares of every element of every tensor)``."""
    squared_norms = [ops.sum(ops.square(v)) for v in value_list if v is not None]
    return ops.sqrt(ops.sum(ops.stack(squared_norms)))


def clip_by_global_norm(value_list: list, clip_norm: float) -> list:
    """Scale every tensor by ``clip_norm / max(global_norm, clip_norm)``, written as Keras does:
    ``clip_norm * min(1 / global_norm, 1 / clip_norm)``, plus ``norm - norm`` so a non-finite
    norm makes every value NaN."""
    use_norm = global_norm(value_list)
    scale_for_finite = clip_norm * ops.minimum(1.0 / use_norm, 1.0 / clip_norm)
    scale = scale_for_finite + (use_norm - use_norm)
    return [v * scale if v is not None else v for v in value_list]
