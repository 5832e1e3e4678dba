"""``refkeras.metrics``: the Keras 3 metrics, and ``get`` / ``serialize`` / ``deserialize``.

``get`` accepts what ``model.compile(metrics=[...])`` accepts: a class name or its snake_case
form (``"AUC"``, ``"auc"``, ``"mean_squared_error"``), an alias (``"mse"``), a class, an instance,
a function or a config dict.  ``"accuracy"``/``"acc"`` in ``compile`` depend on the target and
prediction shapes: see :func:`get_metric` and :func:`get_accuracy_for`.
"""

from __future__ import annotations

import inspect

from refkeras.losses import suggest_names
from refkeras.losses.losses import (  # noqa: F401  (Keras exports these under keras.metrics too)
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from refkeras.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,  # noqa: F401
    binary_accuracy,  # noqa: F401
    categorical_accuracy,  # noqa: F401
    sparse_categorical_accuracy,  # noqa: F401
    sparse_top_k_categorical_accuracy,  # noqa: F401
    top_k_categorical_accuracy,  # noqa: F401
)
from refkeras.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from refkeras.metrics.metric import Metric
from refkeras.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from refkeras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from refkeras.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
)
from refkeras.saving import serialization_lib
from refkeras.utils.naming import to_snake_case

# Keras's legacy short names for the functions (`keras._legacy.metrics`).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh

ALL_OBJECTS = (
    Metric,
    Mean,
    Sum,
    MeanMetricWrapper,
    MeanSquaredError,
    RootMeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCoshError,
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
)

ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})
ALL_OBJECTS_DICT.update(
    {
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
    }
)


def serialize(metric) -> dict:
    """The config of a ``Metric`` instance or metric function (Keras's format)."""
    return serialization_lib.serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """A ``Metric`` instance or metric function from :func:`serialize`'s output or a name.

    A ``"function"`` config names a metric or loss function (``"mean_squared_error"`` is then
    the function, not the ``MeanSquaredError`` class).
    """
    table = ALL_OBJECTS_DICT
    if isinstance(config, dict) and config.get("class_name") == "function":
        table = metric_functions(prefer_losses=config.get("module") == "keras.losses")
    return serialization_lib.deserialize_keras_object(
        config, module_objects=table, custom_objects=custom_objects
    )


def metric_functions(prefer_losses: bool = False) -> dict:
    """The built-in metric and loss functions by name (what a ``MeanMetricWrapper`` may wrap).

    ``cosine_similarity`` is both a metric (+1 for parallel vectors) and a loss (-1):
    ``prefer_losses`` picks the loss.
    """
    from refkeras import losses
    from refkeras.metrics import accuracy_metrics, regression_metrics

    loss_fns = {n: f for n, f in losses.ALL_OBJECTS_DICT.items() if inspect.isfunction(f)}
    metric_fns = {
        name: obj
        for module in (accuracy_metrics, regression_metrics)
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and getattr(obj, "_keras_module", None) == "keras.metrics"
    }
    return {**metric_fns, **loss_fns} if prefer_losses else {**loss_fns, **metric_fns}


def get(identifier):
    """A metric from ``identifier``: ``None``, a name, a class, an instance, a function or a
    config dict.  Classes are instantiated with their defaults; unknown names raise
    ``ValueError`` suggesting close valid names."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier, None)
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(
        f"Could not interpret metric identifier: {identifier}"
        + suggest_names(identifier, ALL_OBJECTS_DICT)
    )


def is_binary_or_sparse_categorical(y_true_shape, y_pred_shape) -> tuple[bool, bool]:
    """``(is_binary, is_sparse_categorical)``: binary when ``y_pred``'s last dim is 1; sparse
    when ``y_true`` has lower rank, or a last dim of 1 against ``y_pred``'s > 1."""
    from refkeras.losses import is_binary_or_sparse_categorical as shapes_rule

    return shapes_rule(y_true_shape, y_pred_shape)


def get_accuracy_for(loss, y_true_shape, y_pred_shape, name: str = "accuracy") -> Metric:
    """The accuracy metric ``compile(metrics=["accuracy"])`` resolves to.

    Keras 3 decides from the shapes alone (``loss`` is accepted for the trainer's convenience but
    does not change the choice, unlike tf.keras 2): ``BinaryAccuracy`` when ``y_pred``'s last dim
    is 1, else ``SparseCategoricalAccuracy`` when the targets are sparse (lower rank, or last dim
    1), else ``CategoricalAccuracy``.  The metric is named ``name``.
    """
    del loss  # Keras 3's compile_utils.get_metric does not look at the loss
    is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
    if is_binary:
        return BinaryAccuracy(name=name)
    if is_sparse:
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def get_metric(identifier, y_true_shape, y_pred_shape) -> Metric:
    """The metric ``compile`` builds for ``identifier`` (Keras's ``compile_utils.get_metric``).

    ``"accuracy"``/``"acc"`` (any case) go through :func:`get_accuracy_for`; anything else through
    :func:`get`.  A plain function is wrapped in a ``MeanMetricWrapper``.  The metric is named
    after the identifier when it is a string, else after the object.
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if str(identifier).lower() in ("accuracy", "acc"):
        metric_obj = get_accuracy_for(None, y_true_shape, y_pred_shape, name=str(identifier))
    else:
        metric_obj = get(identifier)
    if isinstance(identifier, str):
        metric_name = identifier
    elif hasattr(metric_obj, "name"):
        metric_name = metric_obj.name
    else:
        metric_name = to_snake_case(getattr(metric_obj, "__name__", type(metric_obj).__name__))
    if not isinstance(metric_obj, Metric):
        metric_obj = MeanMetricWrapper(metric_obj)
    metric_obj.name = metric_name
    return metric_obj
