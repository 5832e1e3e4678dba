"""Compiled ``fit``/``evaluate``/``predict`` steps for the JAX backend.

The trainer's loop (``refkeras/trainers/trainer.py``) asks the backend for a function running one
*execution* (``steps_per_execution`` batches) and stays the only loop: callbacks, progress bar,
History and validation are untouched.  This module supplies that function, compiled with
``jax.jit``.

State.  A step is a pure function of the values of ``trainer.state_variables()`` (weights,
optimizer slots, metric accumulators, seed-generator states), run inside a
:class:`~refkeras.backend.variable.StatelessScope`::

    train_step(state, batch) -> (logs, new_state)
        (loss, (y_pred, state')), grads = jax.value_and_grad(forward_and_loss)(trainable, state)
        state'' = [loss tracker update, optimizer.apply(grads), compute_metrics] on state'

The state is passed in and donated (its buffers are reused for the new state), and the new state
is written back into the variables after every call without a copy
(``Variable._replace_value``): so callbacks, ``get_weights`` and saving always see current values,
and an assignment made between calls (a callback changing the learning rate, ``set_weights``) is
picked up by the next call, which reads the variables again.  (A value read from a variable
*before* a compiled call, e.g. ``t = var.value``, refers to a donated buffer afterwards; JAX
raises if it is used.  ``var.numpy()`` copies and is always safe.)

Gradients.  The built-in ``train_step`` is traced with ``jax.value_and_grad`` of a stateless
``forward + compute_loss`` function, as the issue asks (and as Keras's JAX trainer does): JAX
differentiates the JAX primitives, so the reference tape is not needed inside compiled code and
XLA sees one forward/backward graph.  The gradient is the same mathematical derivative as the
reference VJPs (tested equal through whole ``fit`` runs).  A model that overrides ``train_step``
(usually with a :class:`~refkeras.GradientTape`) is traced as written; ``test_step`` and
``predict_step`` (overridden or not) are always traced as written.

``steps_per_execution = N``: N full batches of one shape run in one call as a ``lax.scan`` over
the stacked batches; the logs are those of the last step.  A shorter group (the end of an epoch)
runs as single-step calls.  Shapes are static: a batch of another shape (the partial last batch)
compiles its own version once (JAX's cache keyed by shapes) -- no padding, so no masking and
results equal to the reference's.

Anything in a step that cannot be traced (NumPy on a traced value, ``float()`` of one...) makes
that model run eagerly, with one warning naming the error: never a silently different result.

Distribution.  With a :class:`refkeras.distribution.DataParallel` distribution set, the batch is
sharded along its first axis over the distribution's 1-D device mesh and the state replicated
(``NamedSharding``); ``jax.jit`` partitions the step (XLA inserts the gradient all-reduce).
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
from jax import lax

from refkeras.backend.tensor import Tensor
from refkeras.backend.variable import StatelessScope
from refkeras.trainers import data_adapters
from refkeras.utils import tree

#: errors that mean "this Python code cannot run on traced values": JAX's tracer errors
#: (``jax.errors.JAXTypeError`` subclasses) and other ``TypeError``\ s of code handed a tracer.
#: Falling back on them is safe: a genuine user error raises again from the eager step.
TRACING_ERRORS = (TypeError,)


def make_function(trainer, kind: str):
    """The compiled ``train``/``test``/``predict`` function of ``trainer`` (see the module
    docstring); called by ``JaxBackend.make_<kind>_function``."""
    return CompiledFunction(trainer, kind)


class CompiledFunction:
    """``fn(batches)``: run ``kind``'s step on each batch of the list, compiled; returns the logs
    of the last step (train, test) or the list of per-batch outputs as NumPy (predict)."""

    def __init__(self, trainer, kind: str):
        self.trainer = trainer
        self.kind = kind
        self.variables = None  # fixed at the first call (see _setup)
        self._single = None
        self._multi = None
        self._eager = None  # set when the step could not be traced

    # --- calling ---------------------------------------------------------------------------------

    def __call__(self, batches: list):
        if self._eager is not None:
            return self._eager(batches)
        try:
            return self._run(batches)
        except TRACING_ERRORS as e:
            if self.variables is not None and self._traced:
                raise  # a failure after a successful trace is not a tracing problem
            self._fall_back(e)
            return self._eager(batches)

    def _run(self, batches: list):
        if self.variables is None:
            self._setup(batches[0])
        mesh = _distribution_mesh()
        batches = [_as_arrays(b) for b in batches]
        state = [v._value for v in self.variables]
        if mesh is not None:
            state = _replicate(state, mesh)
        n = len(batches)
        outputs = []
        if (
            self.kind != "predict"
            and n > 1
            and n == self.trainer.steps_per_execution
            and (_same_shapes(batches))
        ):
            stacked = tree.map_structure(lambda *parts: np.stack(parts), *batches)
            if mesh is not None:
                stacked = _shard(stacked, mesh, axis=1)
            result, state = self._multi(state, stacked)
            self._traced = True
        else:
            result = None
            for batch in batches:
                if mesh is not None:
                    batch = _shard(batch, mesh, axis=0)
                result, state = self._single(state, batch)
                self._traced = True
                if self.kind == "predict":
                    outputs.append(tree.map_structure(np.asarray, result))
        for v, value in zip(self.variables, state):
            v._replace_value(value)
        if self.kind == "predict":
            return outputs
        return {k: _to_python(v) for k, v in result.items()}

    def _fall_back(self, error: Exception) -> None:
        name = type(self.trainer).__name__
        warnings.warn(
            f"The JAX backend could not compile the {self.kind} step of this {name} and runs it "
            f"eagerly instead (same results, slower). The step does something that cannot be "
            f"traced by jax.jit: {type(error).__name__}: {str(error).splitlines()[0]}",
            stacklevel=3,
        )
        self._eager = getattr(self.trainer, f"_eager_{self.kind}_function")

    # --- building --------------------------------------------------------------------------------

    def _setup(self, example_batch) -> None:
        """Fix the state variables and make the jitted functions.

        Metrics compiled with the model create their variables on their first update, so the
        step is traced once abstractly (``jax.eval_shape``: no XLA compilation) to let them
        appear before the state list is fixed.
        """
        trainer = self.trainer
        trainer._ensure_optimizer_built()
        self._traced = False
        self.variables = trainer.state_variables()
        step = self._step_function()

        def discover(state, batch):
            # Variables created while tracing (metrics built on their first update) must get
            # concrete initial values, not tracers: evaluate what does not depend on the inputs.
            with jax.ensure_compile_time_eval():
                return step(state, batch)

        for _ in range(3):
            jax.eval_shape(discover, [v._value for v in self.variables], _as_arrays(example_batch))
            now = trainer.state_variables()
            if [id(v) for v in now] == [id(v) for v in self.variables]:
                break
            self.variables = now
        leaked = [v.path for v in self.variables if isinstance(v._value, jax.core.Tracer)]
        if leaked:
            raise TypeError(f"variables created inside the traced step hold tracers: {leaked}")
        self._trainable_index = _indices(self.variables, trainer._weights_to_train())
        donate = (0,) if self.kind != "predict" else ()
        self._single = jax.jit(step, donate_argnums=donate)
        self._multi = jax.jit(_scanned(step), donate_argnums=donate)

    def _step_function(self):
        """The pure step ``(state, batch) -> (logs or outputs, new_state)`` for ``kind``."""
        trainer = self.trainer
        if self.kind == "train":
            overridden = type(trainer).train_step is not _base_train_step()
            return self._traced_method("train_step") if overridden else self._train_step
        return self._traced_method(f"{self.kind}_step")

    def _traced_method(self, name: str):
        """A step method of the trainer, run as written inside a StatelessScope."""
        method = getattr(self.trainer, name)

        def step(state, batch):
            with StatelessScope(list(zip(self.variables, state))) as scope:
                out = method(_as_tensors(batch))
                new_state = _current_values(scope, self.variables)
            if name == "predict_step":
                return _values(out), new_state
            return _log_values(out), new_state

        return step

    def _train_step(self, state, batch):
        """``Trainer.train_step`` with ``jax.value_and_grad`` in place of the tape (same order of
        updates: loss tracker, optimizer, metrics)."""
        trainer = self.trainer
        variables = self.variables
        x, y, sample_weight = data_adapters.unpack_x_y_sample_weight(_as_tensors(batch))
        weights = trainer._weights_to_train()
        index = _indices(variables, weights)

        def forward_and_loss(trainable_values, state):
            state = list(state)
            for i, value in zip(index, trainable_values):
                state[i] = value
            with StatelessScope(list(zip(variables, state))) as scope:
                y_pred = trainer(x, training=True)
                loss = trainer.compute_loss(
                    x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
                )
                new_state = _current_values(scope, variables)
            return loss.value, (_values(y_pred), _masks(y_pred), new_state)

        trainable_values = [state[i] for i in index]
        (loss, (pred, masks, state)), grads = jax.value_and_grad(forward_and_loss, has_aux=True)(
            trainable_values, state
        )
        y_pred = _with_masks(pred, masks)
        with StatelessScope(list(zip(variables, state))) as scope:
            trainer._loss_tracker.update_state(Tensor(loss), sample_weight=_batch_size(x))
            if weights:
                trainer.optimizer.apply([Tensor(g) for g in grads], weights)
            logs = trainer.compute_metrics(x, y, y_pred, sample_weight)
            new_state = _current_values(scope, variables)
        return _log_values(logs), new_state


# --- helpers ---------------------------------------------------------------------------------


def _base_train_step():
    from refkeras.trainers.trainer import Trainer

    return Trainer.train_step


def _scanned(step):
    """``step`` over stacked batches with ``lax.scan``; returns the last step's logs."""

    def multi(state, stacked):
        def body(state, batch):
            logs, state = step(state, batch)
            return state, logs

        state, logs = lax.scan(body, state, stacked)
        return tree.map_structure(lambda v: v[-1], logs), state

    return multi


def _indices(variables, subset) -> list[int]:
    position = {id(v): i for i, v in enumerate(variables)}
    return [position[id(v)] for v in subset]


def _current_values(scope, variables) -> list:
    return [scope.get_current_value(v) for v in variables]


def _as_arrays(batch):
    """A batch as a pytree of arrays (``None`` kept; tensors unwrapped)."""
    return tree.map_structure(lambda a: None if a is None else getattr(a, "value", a), batch)


def _as_tensors(batch):
    return tree.map_structure(lambda a: None if a is None else Tensor(a), batch)


def _values(out):
    return tree.map_structure(lambda t: getattr(t, "value", t), out)


def _masks(out):
    return [getattr(getattr(t, "_keras_mask", None), "value", None) for t in tree.flatten(out)]


def _with_masks(pred, masks):
    """Tensors from the output arrays, with the masks the layers attached put back."""
    leaves = [Tensor(p) for p in tree.flatten(pred)]
    for t, m in zip(leaves, masks):
        t._keras_mask = None if m is None else Tensor(m)
    return tree.pack_sequence_as(pred, leaves)


def _log_values(logs) -> dict:
    return {k: getattr(v, "value", v) for k, v in dict(logs).items()}


def _to_python(v):
    a = np.asarray(v)
    return float(a) if a.ndim == 0 else a


def _batch_size(x) -> int:
    return int(tree.flatten(x)[0].shape[0])


def _same_shapes(batches) -> bool:
    first = [np.shape(a) for a in tree.flatten(batches[0])]
    return all([np.shape(a) for a in tree.flatten(b)] == first for b in batches[1:])


# --- distribution ----------------------------------------------------------------------------


def _distribution_mesh():
    """The ``jax.sharding.Mesh`` of the current DataParallel distribution, or ``None``."""
    from refkeras import distribution as distribution_lib

    dist = distribution_lib.distribution()
    if dist is None:
        return None
    return dist.device_mesh.backend_mesh


def _replicate(state, mesh):
    from jax.sharding import NamedSharding, PartitionSpec

    sharding = NamedSharding(mesh, PartitionSpec())
    return [_put(v, sharding) for v in state]


def _shard(batch, mesh, axis: int):
    """Split each array of ``batch`` along ``axis`` (the batch axis) over the mesh's devices; an
    array whose batch size is not a multiple of the device count is replicated instead."""
    from jax.sharding import NamedSharding, PartitionSpec

    name = mesh.axis_names[0]
    count = mesh.devices.size

    def put(a):
        if a is None:
            return None
        a = np.asarray(a)
        if a.ndim > axis and a.shape[axis] % count == 0:
            spec = PartitionSpec(*([None] * axis), name)
        else:
            spec = PartitionSpec()
        return _put(a, NamedSharding(mesh, spec))

    return tree.map_structure(put, batch)


def _put(value, sharding):
    """``value`` as a global array with ``sharding``.  Every process holds the same full value
    (same data, same seeds), so each one fills its own devices' shards from it."""
    if isinstance(value, jax.Array) and value.sharding == sharding:
        return value
    host = np.asarray(value)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])
