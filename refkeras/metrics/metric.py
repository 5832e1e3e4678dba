"""The ``Metric`` base class (``keras/src/metrics/metric.py``).

A metric keeps its state in non-trainable :class:`~refkeras.Variable`\\ s created with
:meth:`Metric.add_variable`; ``update_state`` changes them only through ``assign``/``assign_add``,
and ``result`` reads them.  Because variables honour :class:`~refkeras.StatelessScope`, a metric
can also be run as a pure function of its state::

    state = metric.stateless_update_state(state, y_true, y_pred)
    value = metric.stateless_result(state)

Metrics are not differentiated: their math may use NumPy on ``np.asarray(...)`` of the inputs.
"""

from __future__ import annotations

import numpy as np

from refkeras import ops
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.variable import StatelessScope, Variable
from refkeras.losses.loss import standardize_compute_dtype
from refkeras.saving.object_registration import register_builtin
from refkeras.utils.naming import auto_name, name_scope, to_snake_case


@register_builtin("keras.metrics")
class Metric:
    """Encapsulates metric logic and state.

    Args:
        dtype: dtype of the metric's computations and variables; defaults to ``floatx()``.
        name: the metric's name; defaults to the snake-cased class name (made unique).

    Subclasses implement ``__init__`` (create state with :meth:`add_variable`/:meth:`add_weight`),
    ``update_state(y_true, y_pred, sample_weight=None)`` and ``result()``; ``reset_state``
    assigns zeros to every variable unless overridden.

    Example::

        class BinaryTruePositives(Metric):
            def __init__(self, name="binary_true_positives", **kwargs):
                super().__init__(name=name, **kwargs)
                self.true_positives = self.add_variable(shape=(), initializer="zeros", name="tp")

            def update_state(self, y_true, y_pred, sample_weight=None):
                values = ops.cast(ops.logical_and(y_true, y_pred), self.dtype)
                if sample_weight is not None:
                    values = values * ops.cast(sample_weight, self.dtype)
                self.true_positives.assign_add(ops.sum(values))

            def result(self):
                return self.true_positives
    """

    _keras_module = "keras.metrics"

    def __init__(self, dtype=None, name=None):
        self.name = name or auto_name(to_snake_case(self.__class__.__name__))
        self._dtype = standardize_compute_dtype(dtype)
        self._metrics: list[Metric] = []
        self._variables: list[Variable] = []

    # --- state ----------------------------------------------------------------------------------

    def add_variable(
        self, shape, initializer, dtype=None, aggregation="sum", name=None
    ) -> Variable:
        """A new non-trainable state variable (``initializer``: a name such as ``"zeros"``, an
        initializer object or callable ``(shape, dtype)``, or ``None`` for zeros)."""
        self._check_super_called()
        with name_scope(self.name.replace("/", ">")):
            variable = Variable(
                initializer=_resolve_initializer(initializer),
                shape=(shape,) if isinstance(shape, int) else tuple(shape),
                dtype=dtype,
                trainable=False,
                aggregation=aggregation,
                synchronization="on_read",
                name=name,
            )
        self._track(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None) -> Variable:
        """Alias of :meth:`add_variable` (``shape=()`` by default)."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list[Variable]:
        """This metric's variables, then those of the metrics it holds as attributes."""
        variables = list(self._variables)
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    def reset_state(self) -> None:
        """Assign zeros to every state variable (what Keras does; override for other values)."""
        for v in self.variables:
            v.assign(np.zeros(v.shape, dtype=v.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(  # abstract: every metric defines it
            f"Metric {type(self).__name__} must implement `update_state()`."
        )

    def result(self):
        raise NotImplementedError(  # abstract: every metric defines it
            f"Metric {type(self).__name__} must implement `result()`."
        )

    def __call__(self, *args, **kwargs):
        """``update_state(*args, **kwargs)``, then ``result()``."""
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    # --- pure-function forms --------------------------------------------------------------------

    def _check_state_list(self, metric_variables) -> None:
        if len(metric_variables) != len(self.variables):
            raise ValueError(
                "Argument `metric_variables` must be a list of tensors "
                f"corresponding 1:1 to {self.__class__.__name__}().variables. "
                f"Received list with length {len(metric_variables)}, but "
                f"expected {len(self.variables)} variables."
            )

    def stateless_update_state(self, metric_variables, *args, **kwargs) -> list:
        """The new state values after ``update_state(*args, **kwargs)`` from
        ``metric_variables``; the variables themselves are not changed."""
        self._check_state_list(metric_variables)
        mapping = list(zip(self.variables, metric_variables))
        with StatelessScope(state_mapping=mapping) as scope:
            self.update_state(*args, **kwargs)
        return [ops.convert_to_tensor(scope.get_current_value(v)) for v in self.variables]

    def stateless_result(self, metric_variables):
        """``result()`` computed from the state values ``metric_variables``."""
        self._check_state_list(metric_variables)
        mapping = list(zip(self.variables, metric_variables))
        with StatelessScope(state_mapping=mapping):
            return self.result()

    def stateless_reset_state(self) -> list:
        """The state values after ``reset_state()``; the variables are not changed."""
        with StatelessScope() as scope:
            self.reset_state()
        out = []
        for v in self.variables:
            new = scope.get_current_value(v)
            out.append(ops.convert_to_tensor(new if new is not None else v.numpy()))
        return out

    # --- attributes and tracking ----------------------------------------------------------------

    @property
    def dtype(self) -> str:
        return self._dtype

    def __setattr__(self, name, value):
        if "_variables" in self.__dict__:
            self._track(value)
        object.__setattr__(self, name, value)

    def _track(self, value) -> None:
        """Variables and metrics set as attributes (or in lists/tuples) become part of the
        state, as Keras's tracker does."""
        if isinstance(value, Variable):
            if not any(value is v for v in self._variables):
                self._variables.append(value)
        elif isinstance(value, Metric):
            if value is not self and not any(value is m for m in self._metrics):
                self._metrics.append(value)
        elif isinstance(value, list | tuple):
            for v in value:
                if isinstance(v, Variable | Metric):
                    self._track(v)

    def _check_super_called(self) -> None:
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                "You forgot to call `super().__init__()` in the `__init__()` method. Go add it!"
            )

    # --- config ---------------------------------------------------------------------------------

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def _obj_type(self) -> str:
        return "Metric"

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} name={self.name}>"

    def __str__(self) -> str:
        return self.__repr__()


def _zeros(shape, dtype=None):
    return np.zeros(shape, dtype=standardize_dtype(dtype))


def _ones(shape, dtype=None):
    return np.ones(shape, dtype=standardize_dtype(dtype))


def _resolve_initializer(initializer):
    """``"zeros"``/``"ones"``/``None`` directly; other names through ``refkeras.initializers``."""
    if initializer is None or initializer == "zeros":
        return _zeros
    if initializer == "ones":
        return _ones
    if isinstance(initializer, str | dict):
        from refkeras import initializers

        return initializers.get(initializer)
    return initializer
