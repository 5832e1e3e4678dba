"""The training loop: ``compile``, ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch``
methods.

One step of ``fit`` is :meth:`Trainer.train_step`::

    with GradientTape() as tape:
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight)   # compiled loss + self.losses
    self.optimizer.apply(tape.gradient(loss, weights), weights)  # weights frozen at compile()
    loss tracker <- loss (weighted by the batch size); compiled metrics <- (y, y_pred)

The ``loss`` reported by the progress bar and in ``History`` is that tracker's result: the mean
of the batch losses so far in the epoch, each weighted by its batch size, i.e. the mean per-sample
loss of the epoch, computed while the model changes (the Keras FAQ's "average of the losses for
each batch of training data, over the current epoch"; with equal batches the two readings agree).
Validation runs at the end of the epoch with the model as it is then.

Every piece of state a step touches is a :class:`~refkeras.Variable`, so
:meth:`Trainer.stateless_train_step` runs the same step as a pure function of the state values.
"""

from __future__ import annotations

import numpy as np

from refkeras import optimizers as optimizers_module
from refkeras.autodiff import GradientTape
from refkeras.backend.variable import StatelessScope
from refkeras.callbacks.callback_list import CallbackList
from refkeras.metrics.reduction_metrics import Mean
from refkeras.ops import core as ops_core
from refkeras.ops import numpy as knp
from refkeras.trainers import data_adapters
from refkeras.trainers.compile_utils import CompileLoss, CompileMetrics
from refkeras.utils import tree


class Trainer:
    """Mixed into :class:`~refkeras.Model`: the fit/evaluate/predict API."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._trainable_snapshot = None
        self.stop_training = False
        self.history = None
        self.steps_per_execution = 1
        self.run_eagerly = False
        self.jit_compile = "auto"
        self._step_functions = {}
        self._shuffle_seed = None

    # --- compile --------------------------------------------------------------------------------

    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ) -> None:
        """Configure training.  Strings are resolved now, so a misspelt name fails here with a
        list of close valid names.  The set of trainable weights is frozen here (see the FAQ's
        "Interaction between trainable and compile()"); call ``compile`` again after changing
        ``trainable``.
        """
        optimizer = optimizers_module.get(optimizer)
        if loss is not None:
            from refkeras import losses as losses_module

            for ident in tree.flatten(loss):
                if ident is not None and str(ident).lower() not in ("crossentropy", "ce"):
                    losses_module.get(ident)
        for spec in (metrics, weighted_metrics):
            for ident in tree.flatten(spec) if spec is not None else []:
                if isinstance(ident, str) and ident.lower() not in ("accuracy", "acc"):
                    from refkeras import metrics as metrics_module

                    metrics_module.get(ident)
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(
                "`steps_per_execution` must be a positive integer. Received: "
                f"steps_per_execution={steps_per_execution}"
            )
        self.optimizer = optimizer
        self.loss = loss
        output_names = self._output_names()
        self._compile_loss = (
            CompileLoss(loss, loss_weights, output_names) if loss is not None else None
        )
        self._compile_metrics = (
            CompileMetrics(metrics, weighted_metrics, output_names)
            if metrics or weighted_metrics
            else None
        )
        self._loss_tracker = Mean(name="loss")
        self.steps_per_execution = steps_per_execution
        self.run_eagerly = run_eagerly
        self.jit_compile = jit_compile
        self._step_functions = {}  # made again on first use: the state to compile changed
        self.compiled = True
        self._trainable_snapshot = list(self.trainable_weights) if self.built else None
        self.stop_training = False

    def _output_names(self) -> list[str]:
        names = getattr(self, "output_names", None)
        if names:
            return list(names)
        functional = getattr(self, "_functional", None)
        if functional is not None:
            return list(functional.output_names)
        return ["output"]

    def _weights_to_train(self) -> list:
        """The trainable weights as frozen by ``compile`` (taken at the first step for a model
        that was not built when compiled)."""
        if self._trainable_snapshot is None:
            self._trainable_snapshot = list(self.trainable_weights)
        return self._trainable_snapshot

    @property
    def metrics(self) -> list:
        """Loss tracker, compiled metrics, per-output loss trackers, then other tracked metrics
        (Keras's order)."""
        out = []
        if self.compiled:
            out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(self._metrics)
        for layer in self._flatten_layers(include_self=False):
            if not isinstance(layer, Trainer):
                out.extend(layer._metrics)
        return out

    @property
    def metrics_names(self) -> list[str]:
        """The labels of ``evaluate()``'s list, in its order, so that
        ``dict(zip(model.metrics_names, results))`` works as the training guide shows.  (Keras 3
        returns ``["loss", "compile_metrics"]`` here, which cannot label the list; the guide
        wins.)"""
        return self._ordered_keys(list(self.get_metrics_result()))

    def reset_metrics(self) -> None:
        for m in self.metrics:
            m.reset_state()

    # --- the steps ------------------------------------------------------------------------------

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus every loss added with ``add_loss`` (each summed to a scalar)."""
        losses = []
        if self._compile_loss is not None:
            value = self._compile_loss(y, y_pred, sample_weight)
            if value is not None:
                losses.append(value)
        for extra in self.losses:
            extra = ops_core.to_tensor(extra)
            if extra.value.dtype.kind not in "f":
                extra = ops_core.to_tensor(extra, "float32")
            losses.append(knp.sum(extra))
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = losses[0]
        for value in losses[1:]:
            total = total + value
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update the compiled metrics and return ``get_metrics_result()``."""
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """Every metric's current result as Python floats (dict results are merged)."""
        logs = {}
        for m in self.metrics:
            result = m.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[m.name] = result
        return {k: _to_float(v) for k, v in sorted(logs.items())}

    def _metrics_or_logs(self, logs) -> dict:
        """The metrics' results, unless a custom step returned logs with other keys."""
        from refkeras.callbacks.callback_list import pythonify_logs

        results = self.get_metrics_result()
        logs = pythonify_logs(logs)
        return results if set(logs) <= set(results) or not logs else logs

    def train_step(self, data) -> dict:
        """One optimisation step on one batch; returns the logs."""
        x, y, sample_weight = data_adapters.unpack_x_y_sample_weight(data)
        weights = self._weights_to_train()
        with GradientTape() as tape:
            tape.watch(weights)  # frozen at compile(), even if `trainable` changed since
            y_pred = self(x, training=True)
            loss = self.compute_loss(
                x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True
            )
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        if weights:
            grads = tape.gradient(loss, weights)
            self.optimizer.apply(grads, weights)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data) -> dict:
        """Loss and metrics on one batch, in inference mode."""
        x, y, sample_weight = data_adapters.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
        )
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = data_adapters.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def state_variables(self) -> list:
        """Every variable a training step reads or writes: weights, optimizer slots, metric
        accumulators and random-seed states, in a fixed order."""
        out, seen = [], set()
        opt_vars = self.optimizer.variables if self.optimizer is not None else []
        metric_vars = [v for m in self.metrics for v in m.variables]
        for v in self.variables + list(opt_vars) + metric_vars:
            if id(v) not in seen:
                out.append(v)
                seen.add(id(v))
        return out

    def stateless_train_step(self, state: list, data) -> tuple[dict, list]:
        """``train_step`` as a pure function: ``(logs, new_state)`` from the values of
        ``state_variables()`` and a batch, leaving every variable unchanged."""
        variables = self.state_variables()
        if len(state) != len(variables):
            raise ValueError(
                f"`state` must hold {len(variables)} values (one per `state_variables()`), "
                f"received {len(state)}."
            )
        self._ensure_optimizer_built()
        with StatelessScope(list(zip(variables, state))) as scope:
            logs = self.train_step(data)
            new_state = [np.array(scope.get_current_value(v)) for v in variables]
        return logs, new_state

    def _ensure_optimizer_built(self):
        if self.optimizer is not None and not getattr(self.optimizer, "built", False):
            self.optimizer.build(self._weights_to_train())

    # --- step functions: what runs one execution (``steps_per_execution`` batches) ------------

    def make_train_function(self):
        """``fn(batches) -> logs``: train on each batch of the list, return the logs of the last.

        The active backend may compile it (``Backend.make_train_function``, e.g. JAX's
        ``jax.jit`` of the whole step); ``None`` from the backend, ``run_eagerly=True`` or
        ``jit_compile=False`` give the eager loop over :meth:`train_step`.  Made once per
        ``compile()`` and backend.
        """
        return self._step_function("train")

    def make_test_function(self):
        """``fn(batches) -> logs`` over :meth:`test_step` (compiled when the backend can)."""
        return self._step_function("test")

    def make_predict_function(self):
        """``fn(batches) -> [outputs of each batch as NumPy]`` over :meth:`predict_step`."""
        return self._step_function("predict")

    def _step_function(self, kind: str):
        from refkeras.backend import active

        backend = active()
        key = (kind, id(backend))
        functions = self.__dict__.setdefault("_step_functions", {})
        if key not in functions:
            fn = None
            eager = (
                getattr(self, "run_eagerly", False) or getattr(self, "jit_compile", "auto") is False
            )
            if not eager and backend is not None:
                fn = getattr(backend, f"make_{kind}_function")(self)
            if fn is None:
                _check_no_distribution(eager)
            functions[key] = fn or getattr(self, f"_eager_{kind}_function")
        return functions[key]

    def _eager_train_function(self, batches) -> dict:
        logs = {}
        for batch in batches:
            logs = self.train_step(batch)
        return logs

    def _eager_test_function(self, batches) -> dict:
        logs = {}
        for batch in batches:
            logs = self.test_step(batch)
        return logs

    def _eager_predict_function(self, batches) -> list:
        return [
            tree.map_structure(lambda t: np.asarray(t), self.predict_step(batch))
            for batch in batches
        ]

    # --- fit ------------------------------------------------------------------------------------

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Train for ``epochs`` epochs (from ``initial_epoch``); returns the ``History``.

        ``validation_split`` takes the *last* fraction of the arrays before shuffling (arrays
        only); ``validation_data`` may be ``(x, y)``, ``(x, y, sample_weight)``, a generator or
        a PyDataset.  ``shuffle`` reshuffles each epoch (validation data never is);
        ``class_weight`` maps class indices to loss weights.
        """
        self._assert_compiled()
        _should_validate(0, validation_freq)  # reject a bad value before anything changes
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(
                "`validation_split` must be a float in the range [0, 1), i.e. strictly less "
                f"than 1. Received: validation_split={validation_split}"
            )
        if validation_split and validation_data is None:
            if not all(
                a is None or data_adapters.is_array(a) or isinstance(a, list)
                for a in tree.flatten((x, y, sample_weight))
            ) or isinstance(x, data_adapters.PyDataset):
                raise ValueError(
                    "`validation_split` is only supported for Tensors or NumPy arrays. "
                    f"Found incompatible type in the input: {type(x)}"
                )
            (x, y, sample_weight), validation_data = data_adapters.train_validation_split(
                (
                    data_adapters.to_arrays(x, "x"),
                    data_adapters.to_arrays(y, "y") if y is not None else None,
                    data_adapters.to_arrays(sample_weight, "sample_weight")
                    if sample_weight is not None
                    else None,
                ),
                validation_split,
            )
        adapter = data_adapters.get_adapter(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            steps=steps_per_epoch,
            shuffle=shuffle,
            class_weight=class_weight,
        )
        val_adapter = None
        if validation_data is not None:
            val_adapter = self._validation_adapter(
                validation_data, validation_batch_size or batch_size, validation_steps
            )
        verbose = 1 if verbose == "auto" else verbose
        steps = steps_per_epoch or (len(adapter) if adapter.num_batches else None)
        callbacks = CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=steps,
        )
        self.stop_training = False
        self._ensure_built(adapter)
        self._ensure_optimizer_built()
        epochs_of_batches = data_adapters.EpochIterator(
            adapter, steps=steps_per_epoch, seed=self._shuffle_seed_generator()
        )
        # Resume support: BackupAndRestore saves `_epoch_iterator.position()`; a callback that
        # restored a saved training state in on_train_begin leaves it in `_resume`, and training
        # continues at its epoch, after the batches of that epoch already trained on, in the
        # same data order, with the History so far.
        self._epoch_iterator, self._resume = epochs_of_batches, None
        callbacks.on_train_begin()
        resume, self._resume = self._resume, None
        first_step = 0
        if resume is not None:
            initial_epoch, first_step = resume["epoch"], resume["step"]
            self.history.history, self.history.epoch = resume["history"], resume["history_epochs"]
            epochs_of_batches.restore_position(resume["data_position"])
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            if first_step == 0:  # (a resumed epoch keeps its restored metric totals)
                self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = {}
            step = first_step - 1
            train_function = self.make_train_function()
            for begin, batches in _executions(
                epochs_of_batches.epoch(first_step), first_step, self.steps_per_execution
            ):
                callbacks.on_train_batch_begin(begin)
                logs = train_function(batches)
                step = begin + len(batches) - 1
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if step == -1:
                raise ValueError(
                    f"Epoch {epoch + 1} received no batch: the training data is empty or the "
                    "generator is exhausted."
                )
            first_step = 0
            if isinstance(adapter, data_adapters.PyDatasetAdapter):
                adapter.on_epoch_end()
            epoch_logs = self._metrics_or_logs(logs)
            if val_adapter is not None and _should_validate(epoch, validation_freq):
                val_logs = self._evaluate_adapter(val_adapter, callbacks, in_fit=True)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
            if isinstance(adapter, data_adapters.GeneratorAdapter) and adapter.exhausted:
                if epoch + 1 < epochs:
                    print(
                        "UserWarning: Your input ran out of data; interrupting training. "
                        "Make sure that your dataset or generator can generate at least "
                        "`steps_per_epoch * epochs` batches."
                    )
                break
        callbacks.on_train_end(logs=epoch_logs)
        return self.history

    def _validation_adapter(self, validation_data, batch_size, steps):
        if isinstance(validation_data, data_adapters.PyDataset) or hasattr(
            validation_data, "__next__"
        ):
            adapter = data_adapters.get_adapter(validation_data, steps=steps)
        else:
            vx, vy, vsw = data_adapters.unpack_x_y_sample_weight(validation_data)
            adapter = data_adapters.get_adapter(
                vx, vy, vsw, batch_size=batch_size, steps=steps, shuffle=False
            )
        return data_adapters.EpochIterator(adapter, steps=steps, restart=True)

    def _shuffle_seed_generator(self):
        from refkeras.random.seed_generator import SeedGenerator

        if self._shuffle_seed is None:
            self._shuffle_seed = SeedGenerator()
        return self._shuffle_seed

    def _ensure_built(self, adapter) -> None:
        """Build an unbuilt model on the first batch's shape (without training on it)."""
        if self.built and all(layer.built for layer in self._flatten_layers()):
            return
        if isinstance(adapter, data_adapters.ArrayAdapter):
            x = tree.map_structure(
                lambda a: None if a is None else np.asarray(a[:1]), adapter.data[0]
            )
            self(x, training=False)

    # --- evaluate / predict ---------------------------------------------------------------------

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
        **kwargs,
    ):
        """Loss and metrics on the data, in inference mode: a scalar (loss only), a list in
        ``metrics_names`` order, or a dict with ``return_dict=True``."""
        self._assert_compiled()
        adapter = data_adapters.get_adapter(
            x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=False
        )
        callbacks = self._inference_callbacks(callbacks, verbose, steps or adapter.num_batches)
        logs = self._evaluate_adapter(
            data_adapters.EpochIterator(adapter, steps=steps, restart=True), callbacks, in_fit=False
        )
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def _inference_callbacks(self, callbacks, verbose, steps) -> CallbackList:
        """The callbacks of ``evaluate``/``predict``: one pass, a progress bar unless silent."""
        verbose = 1 if verbose == "auto" else verbose
        return CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=steps
        )

    def _flatten_metrics_in_order(self, logs: dict):
        """``logs`` as a list in ``metrics_names`` order; a single value is returned bare."""
        results = [logs[k] for k in self._ordered_keys(logs)]
        return results[0] if len(results) == 1 else results

    def _ordered_keys(self, keys) -> list[str]:
        """Keras's order for evaluate's list: the metrics in ``metrics`` order (compiled metrics
        by their own names, so prefixed multi-output names fall to the end), then the other keys
        sorted."""
        names = []
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                names += [sub.name for sub in m.metrics]
            else:
                names.append(m.name)
        ordered = [n for n in names if n in keys]
        return ordered + [k for k in sorted(keys) if k not in ordered]

    def _evaluate_adapter(self, batches, callbacks, in_fit: bool) -> dict:
        self.reset_metrics_for_eval()
        callbacks.on_test_begin()
        logs = {}
        test_function = self.make_test_function()
        for begin, group in _executions(batches.epoch(), 0, self.steps_per_execution):
            callbacks.on_test_batch_begin(begin)
            logs = test_function(group)
            callbacks.on_test_batch_end(begin + len(group) - 1, logs)
        logs = self._metrics_or_logs(logs)
        callbacks.on_test_end(logs)
        return logs

    def reset_metrics_for_eval(self) -> None:
        """Evaluation starts from fresh metric state (the training metrics of the epoch are
        already in its logs)."""
        self.reset_metrics()

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs on ``x`` as NumPy arrays, computed batch by batch
        (``batch_size`` defaults to 32)."""
        adapter = data_adapters.get_adapter(x, batch_size=batch_size, steps=steps, shuffle=False)
        callbacks = self._inference_callbacks(callbacks, verbose, steps or adapter.num_batches)
        callbacks.on_predict_begin()
        outputs = []
        predict_function = self.make_predict_function()
        for begin, group in _executions(adapter.epoch_batches(), 0, self.steps_per_execution):
            callbacks.on_predict_batch_begin(begin)
            outs = predict_function(group)
            outputs.extend(outs)
            out = outs[0] if len(outs) == 1 else _concatenate(outs)
            callbacks.on_predict_batch_end(begin + len(group) - 1, {"outputs": out})
        callbacks.on_predict_end()
        if not outputs:
            raise ValueError("`predict` received no batch: the input data is empty.")
        return _concatenate(outputs)

    # --- on batch -------------------------------------------------------------------------------

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the metrics (not reset between calls, as
        Keras 3)."""
        self._assert_compiled()
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
            sample_weight = data_adapters.class_weight_to_sample_weights(y, class_weight)
        batch = _to_batch(x, y, sample_weight)
        if not self.built:
            self(batch[0], training=False)
        self._ensure_optimizer_built()
        self.make_train_function()([batch])
        logs = self.get_metrics_result()
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._assert_compiled()
        self.make_test_function()([_to_batch(x, y, sample_weight)])
        logs = self.get_metrics_result()
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        return self.make_predict_function()([(data_adapters.to_arrays(x, "x"),)])[0]

    def _assert_compiled(self):
        if not self.compiled:
            raise ValueError("You must call `compile()` before using the model.")


def _executions(batches, first_step: int, steps_per_execution: int):
    """Group ``batches`` (numbered from ``first_step``) into executions: yields
    ``(first step, [batches])``, each group ending at a step ``s`` with
    ``(s + 1) % steps_per_execution == 0`` or at the end of the data (Keras's
    ``steps_per_execution``: callbacks see the first step of a group, and its last after it
    ran)."""
    group, begin = [], first_step
    for step, batch in enumerate(batches, start=first_step):
        if not group:
            begin = step
        group.append(batch)
        if (step + 1) % steps_per_execution == 0:
            yield begin, group
            group = []
    if group:
        yield begin, group


def _check_no_distribution(eager: bool) -> None:
    """A distribution (``refkeras.distribution.set_distribution``) needs a compiled JAX step:
    raise on other backends; warn that ``run_eagerly``/``jit_compile=False`` runs on one device."""
    from refkeras.distribution import distribution_lib

    if distribution_lib.distribution() is None:
        return
    distribution_lib.check_backend()
    if eager:
        import warnings

        warnings.warn(
            "A distribution is set, but this model runs eagerly (run_eagerly=True or "
            "jit_compile=False): it trains on one device.",
            stacklevel=4,
        )


def _concatenate(outputs: list):
    """Per-batch outputs (same structure) joined along the batch axis."""
    return tree.map_structure(lambda *parts: np.concatenate(parts, axis=0), *outputs)


def _to_float(v):
    try:
        arr = np.asarray(v)
    except (TypeError, ValueError):
        return v
    return float(arr) if arr.ndim == 0 else arr


def _batch_size(x) -> int:
    first = tree.flatten(x)[0]
    return int(first.shape[0])


def _to_batch(x, y, sample_weight):
    return data_adapters.pack_x_y_sample_weight(
        data_adapters.to_arrays(x, "x"),
        data_adapters.to_arrays(y, "y") if y is not None else None,
        data_adapters.to_arrays(sample_weight, "sample_weight")
        if sample_weight is not None
        else None,
    )


def _should_validate(epoch: int, validation_freq) -> bool:
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    if isinstance(validation_freq, list | tuple | set):
        return (epoch + 1) in validation_freq
    raise ValueError(
        "Expected `validation_freq` to be a list or int. "
        f"Received: validation_freq={validation_freq} of the type {type(validation_freq)}."
    )
