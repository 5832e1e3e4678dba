"""``refkeras.losses``: the Keras 3 losses, their function forms, and ``get`` / ``serialize`` /
``deserialize``.

``get`` accepts what ``model.compile(loss=...)`` accepts: a name (``"mse"``,
``"sparse_categorical_crossentropy"``, ``"CategoricalCrossentropy"``), a class (instantiated with
its defaults), an instance, a function, or a config dict.
"""

from __future__ import annotations

import difflib
import inspect

from refkeras.losses.loss import Loss, reduce_weighted_values  # noqa: F401
from refkeras.losses.losses import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    Tversky,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    dice,
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
    tversky,
)
from refkeras.saving import serialization_lib
from refkeras.saving.object_registration import register_builtin

# Keras's legacy short names (`keras._legacy.losses`), usable as `keras.losses.mse` etc.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

ALL_OBJECTS = (
    Loss,
    LossFunctionWrapper,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    SparseCategoricalCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCosh,
    Huber,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    Dice,
    Tversky,
    kl_divergence,
    poisson,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    cosine_similarity,
    log_cosh,
    huber,
    hinge,
    squared_hinge,
    categorical_hinge,
    dice,
    tversky,
)

ALIASES = {
    "bce": binary_crossentropy,
    "BCE": binary_crossentropy,
    "kld": kl_divergence,
    "KLD": kl_divergence,
    "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
    "mse": mean_squared_error,
    "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
}

ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update(ALIASES)
for _name, _fn in ALIASES.items():
    register_builtin("keras.losses", _name)(_fn)


def serialize(loss) -> dict:
    """The config of a ``Loss`` instance or loss function (Keras's format)."""
    return serialization_lib.serialize_keras_object(loss)


def deserialize(name, custom_objects=None):
    """A ``Loss`` instance or loss function from :func:`serialize`'s output or a name."""
    return serialization_lib.deserialize_keras_object(
        name, module_objects=ALL_OBJECTS_DICT, custom_objects=custom_objects
    )


def get(identifier):
    """A loss from ``identifier``: ``None``, a name, a class, an instance, a function or a config
    dict.  Classes are instantiated with their defaults; unknown names raise ``ValueError``
    suggesting close valid names."""
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
        f"Could not interpret loss identifier: {identifier}"
        + suggest_names(identifier, ALL_OBJECTS_DICT)
    )


def suggest_names(identifier, names) -> str:
    """`` Did you mean ...?`` listing the valid names closest to ``identifier`` (compared
    case-insensitively), or all snake_case names when none is close."""
    if not isinstance(identifier, str):
        return ""
    by_lower: dict[str, list[str]] = {}
    for name in names:
        by_lower.setdefault(name.lower(), []).append(name)
    close = difflib.get_close_matches(identifier.lower(), list(by_lower), n=4, cutoff=0.6)
    if close:
        found = [n for c in close for n in by_lower[c]]
        return ". Did you mean: " + ", ".join(repr(n) for n in found) + "?"
    valid = sorted(n for n in names if n == n.lower())
    return ". Valid names are: " + ", ".join(repr(n) for n in valid)


def get_loss(identifier, y_true_shape, y_pred_shape):
    """The loss ``model.compile`` uses for ``identifier`` (Keras's ``compile_utils.get_loss``).

    ``"crossentropy"``/``"ce"`` pick binary (``y_pred`` last dim 1), sparse categorical
    (``y_true`` of lower rank, or last dim 1 against ``y_pred`` last dim > 1) or categorical
    crossentropy from the shapes; a plain function is wrapped in a ``LossFunctionWrapper`` named
    after the identifier (or the function).
    """
    from refkeras.utils.naming import to_snake_case

    if identifier is None:
        return None
    if str(identifier).lower() not in ("crossentropy", "ce"):
        loss_obj = get(identifier)
    else:
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
        if is_binary:
            loss_obj = binary_crossentropy
        elif is_sparse:
            loss_obj = sparse_categorical_crossentropy
        else:
            loss_obj = categorical_crossentropy
    if not isinstance(loss_obj, Loss):
        if isinstance(identifier, str):
            loss_name = identifier
        else:
            loss_name = getattr(loss_obj, "name", None) or to_snake_case(
                getattr(loss_obj, "__name__", type(loss_obj).__name__)
            )
        loss_obj = LossFunctionWrapper(loss_obj, name=loss_name)
    return loss_obj


def is_binary_or_sparse_categorical(y_true_shape, y_pred_shape) -> tuple[bool, bool]:
    """``(is_binary, is_sparse_categorical)`` from the target and prediction shapes."""
    y_t_rank, y_p_rank = len(y_true_shape), len(y_pred_shape)
    y_t_last = y_true_shape[-1] if y_t_rank else None
    y_p_last = y_pred_shape[-1] if y_p_rank else None
    is_binary = y_p_last == 1
    is_sparse = y_t_rank < y_p_rank or (y_t_last == 1 and y_p_last is not None and y_p_last > 1)
    return is_binary, is_sparse
