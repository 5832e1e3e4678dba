"""What ``compile(loss=..., metrics=..., loss_weights=...)`` turns into.

:class:`CompileLoss` matches losses to model outputs (one loss for all, a list by position, or a
dict by output name; ``None`` or a missing key means no loss for that output), weights them and
sums them; with several losses it also tracks each as a ``<output>_loss`` metric.
:class:`CompileMetrics` matches metrics to outputs the same way; with several outputs the metrics
are named ``<output>_<metric>``.  ``"accuracy"``/``"acc"`` become Binary-, Sparse- or
CategoricalAccuracy from the shapes of the targets and predictions, as in Keras.
"""

from __future__ import annotations

from refkeras import losses as losses_module
from refkeras import metrics as metrics_module
from refkeras import ops
from refkeras.metrics.metric import Metric
from refkeras.utils import tree


def _per_output(spec, output_names, argument_name, allow_flat_list: bool):
    """``spec`` (single, list or dict) as one entry per output (``None`` where absent)."""
    n = len(output_names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in output_names]
        if unknown:
            raise ValueError(
                f"Expected keys {output_names} in {argument_name} dict, but found "
                f"{argument_name}.keys()={list(spec)}"
            )
        return [spec.get(name) for name in output_names]
    if isinstance(spec, list | tuple):
        if n == 1 and allow_flat_list:
            return [list(spec)]
        if len(spec) != n:
            raise ValueError(
                f"For a model with multiple outputs, when providing the `{argument_name}` "
                f"argument as a list, it should have as many entries as the model has outputs. "
                f"Received:\n{argument_name}={spec}\nof length {len(spec)} whereas the model "
                f"has {n} outputs."
            )
        return list(spec)
    return [spec] * n


def _match_outputs(values, output_names, what: str):
    """Targets (or sample weights) as a list in output order."""
    if isinstance(values, dict):
        return [values.get(name) for name in output_names]
    flat = values if isinstance(values, list | tuple) else [values]
    if len(flat) == 1 and len(output_names) > 1 and what == "sample_weight":
        return list(flat) * len(output_names)
    if len(flat) != len(output_names):
        raise ValueError(
            f"The model has {len(output_names)} outputs ({output_names}) but {len(flat)} "
            f"{what} arrays were given."
        )
    return list(flat)


class CompileLoss:
    """The total loss: ``sum_i loss_weight_i * loss_i(y_true_i, y_pred_i, sample_weight_i)``."""

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights is not None and not isinstance(
            loss_weights, list | tuple | dict | float | int
        ):
            raise ValueError(
                "Expected `loss_weights` argument to be a float (single output case) or a list, "
                f"tuple, or dict (multiple output case). Received instead: "
                f"loss_weights={loss_weights} of type {type(loss_weights)}"
            )
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.output_names = list(output_names or [])
        self.built = False
        self.metrics: list[Metric] = []
        self._losses: list = []
        self._weights: list = []

    def build(self, output_names, targets, predictions) -> None:
        """Resolve each output's loss (strings and functions become ``Loss`` objects, with
        ``"crossentropy"`` chosen from the shapes) and its weight."""
        self.output_names = list(output_names)
        specs = _per_output(self._user_loss, self.output_names, "loss", allow_flat_list=False)
        self._losses = [
            None if s is None else losses_module.get_loss(s, ops.shape(t), tuple(p.shape))
            for s, t, p in zip(specs, targets, predictions)
        ]
        if self._user_loss_weights is None:
            self._weights = [None] * len(self._losses)
        elif isinstance(self._user_loss_weights, int | float):
            self._weights = [float(self._user_loss_weights)] * len(self._losses)
        else:
            self._weights = _per_output(
                self._user_loss_weights, self.output_names, "loss_weights", allow_flat_list=False
            )
        active = [i for i, fn in enumerate(self._losses) if fn is not None]
        if len(active) > 1:
            self.metrics = [
                metrics_module.Mean(name=f"{self.output_names[i]}_loss") for i in active
            ]
        self.built = True

    def _targets_for_outputs(self, y_true) -> list:
        """Targets per output.  A list may also hold one target per output *that has a loss*
        (the guide: "the outputs that received a loss function")."""
        if isinstance(y_true, list | tuple) and len(y_true) != len(self.output_names):
            specs = _per_output(self._user_loss, self.output_names, "loss", allow_flat_list=False)
            with_loss = [i for i, spec in enumerate(specs) if spec is not None]
            if len(y_true) == len(with_loss):
                targets = [None] * len(self.output_names)
                for i, t in zip(with_loss, y_true):
                    targets[i] = t
                return targets
        return _match_outputs(y_true, self.output_names, "target")

    def __call__(self, y_true, y_pred, sample_weight=None):
        flat_pred = tree.flatten(y_pred)
        if not self.output_names:
            self.output_names = [f"output_{i}" for i in range(len(flat_pred))]
        if len(self.output_names) == 1:
            targets, weights = [y_true], [sample_weight]
        else:
            targets = self._targets_for_outputs(y_true)
            weights = (
                _match_outputs(sample_weight, self.output_names, "sample_weight")
                if sample_weight is not None
                else [None] * len(flat_pred)
            )
        if not self.built:
            self.build(self.output_names, targets, flat_pred)
        total, k = None, 0
        for fn, w, yt, yp, sw in zip(self._losses, self._weights, targets, flat_pred, weights):
            if fn is None:
                continue
            if yt is None:
                raise ValueError(
                    "A loss was given for an output but no target data was passed for it."
                )
            value = ops.cast(fn(yt, yp, sw), "float32")
            if self.metrics:
                self.metrics[k].update_state(value, sample_weight=tree.flatten(yp)[0].shape[0])
                k += 1
            if w is not None:
                value = value * w
            total = value if total is None else total + value
        return total


def _resolve_metric(identifier, y_true, y_pred):
    return metrics_module.get_metric(identifier, ops.shape(y_true), tuple(y_pred.shape))


class CompileMetrics(Metric):
    """All compiled metrics as one Metric (``name="compile_metrics"``); ``result()`` is a dict."""

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None):
        super().__init__(name="compile_metrics")
        self._user_metrics = metrics
        self._user_weighted = weighted_metrics
        self.output_names = list(output_names or [])
        self.built = False
        self._per_output: list[list] = []  # per output: [(metric, weighted, display name)]

    def build(self, y_true, y_pred) -> None:
        names = self.output_names
        flat_pred = tree.flatten(y_pred)
        targets = [y_true] if len(names) == 1 else _match_outputs(y_true, names, "target")
        self._per_output = [[] for _ in names]
        for spec, weighted, arg in (
            (self._user_metrics, False, "metrics"),
            (self._user_weighted, True, "weighted_metrics"),
        ):
            if not spec:
                continue
            per = _per_output(spec, names, arg, allow_flat_list=True)
            for i, entry in enumerate(per):
                if entry is None:
                    continue
                for ident in tree.flatten(entry):
                    m = _resolve_metric(ident, targets[i], flat_pred[i])
                    display = m.name if len(names) == 1 else f"{names[i]}_{m.name}"
                    self._per_output[i].append((m, weighted, display))
        self.built = True

    @property
    def metrics(self) -> list[Metric]:
        return [m for entries in self._per_output for m, _, _ in entries]

    @property
    def variables(self) -> list:
        return [v for m in self.metrics for v in m.variables]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        names = self.output_names
        flat_pred = tree.flatten(y_pred)
        if len(names) == 1:
            targets, weights = [y_true], [sample_weight]
        else:
            targets = _match_outputs(y_true, names, "target")
            weights = (
                _match_outputs(sample_weight, names, "sample_weight")
                if sample_weight is not None
                else [None] * len(names)
            )
        for entries, yt, yp, sw in zip(self._per_output, targets, flat_pred, weights):
            for m, weighted, _ in entries:
                m.update_state(yt, yp, sample_weight=sw if weighted else None)

    def result(self) -> dict:
        out = {}
        for entries in self._per_output:
            for m, _, display in entries:
                out[display] = m.result()
        return out

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()
