"""Unit tests for refkeras.losses that need no Keras: the formulas on hand-computed examples,
reductions and weights, gradients against float64 finite differences, custom losses in the style of
the Keras training guide, ``get``/``serialize``/``deserialize``, and error messages."""

import numpy as np
import pytest

import refkeras as keras
from refkeras import losses, ops
from refkeras.losses.loss import squeeze_or_expand_to_same_rank

Y_TRUE = np.array([[0.0, 1.0], [0.0, 0.0]], np.float32)
Y_PRED = np.array([[0.6, 0.4], [0.4, 0.6]], np.float32)


# --- formulas on the Keras docstring examples ---------------------------------------------------


T, P = Y_TRUE.astype(np.float64), Y_PRED.astype(np.float64)
E = P - T
PM1 = 2 * T - 1  # hinge labels


@pytest.mark.parametrize(
    "loss,expected",
    [
        (losses.MeanSquaredError(), np.mean(E**2)),
        (losses.MeanAbsoluteError(), np.mean(np.abs(E))),
        (
            losses.Huber(delta=0.5),
            np.mean(np.where(np.abs(E) <= 0.5, 0.5 * E**2, 0.5 * np.abs(E) - 0.125)),
        ),
        (losses.Hinge(), np.mean(np.maximum(1 - PM1 * P, 0))),
        (losses.SquaredHinge(), np.mean(np.maximum(1 - PM1 * P, 0) ** 2)),
        (
            losses.CategoricalHinge(),
            np.mean(np.maximum(np.max((1 - T) * P, -1) - np.sum(T * P, -1) + 1, 0)),
        ),
        (losses.LogCosh(), np.mean(np.log(np.cosh(E)))),
        (losses.BinaryCrossentropy(), np.mean(-(T * np.log(P) + (1 - T) * np.log(1 - P)))),
        (losses.Poisson(), np.mean(P - T * np.log(P + 1e-7))),
        (
            losses.MeanSquaredLogarithmicError(),
            np.mean((np.log1p(P) - np.log1p(np.maximum(T, 1e-7))) ** 2),
        ),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, float) else "",
)
def test_formulas_on_a_small_example(loss, expected):
    assert float(loss(Y_TRUE, Y_PRED)) == pytest.approx(expected, rel=1e-5)


def test_crossentropy_examples_from_keras_docs():
    y_true = np.array([[0, 1, 0], [0, 0, 1]], np.float32)
    y_pred = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], np.float32)
    assert float(losses.CategoricalCrossentropy()(y_true, y_pred)) == pytest.approx(1.177, 1e-3)
    sparse = losses.SparseCategoricalCrossentropy()([1, 2], y_pred)
    assert float(sparse) == pytest.approx(1.177, 1e-3)
    # clipping: a zero probability costs -log(1e-7), not infinity
    assert float(losses.categorical_crossentropy([[1.0, 0.0]], [[0.0, 1.0]])[0]) == pytest.approx(
        -np.log(1e-7), rel=1e-4
    )


def test_cosine_similarity_is_minus_one_for_parallel_and_zero_for_zero_vectors():
    out = losses.cosine_similarity([[1.0, 2.0], [0.0, 0.0]], [[2.0, 4.0], [1.0, 1.0]])
    np.testing.assert_allclose(np.asarray(out), [-1.0, 0.0], atol=1e-6)


def test_hinge_converts_binary_labels_only_when_all_binary():
    pred = np.array([[0.3, -0.2]], np.float32)
    # {0, 1} -> {-1, 1}: max(1 + 0.3, 0), max(1 + 0.2, 0)
    np.testing.assert_allclose(np.asarray(losses.hinge([[0.0, 1.0]], pred)), [1.25], rtol=1e-6)
    # {0, 2} is not binary: used as is: max(1 - 0, 0), max(1 + 0.4, 0)
    np.testing.assert_allclose(np.asarray(losses.hinge([[0.0, 2.0]], pred)), [1.2], rtol=1e-6)


# --- reductions, weights, ranks -----------------------------------------------------------------


def test_reductions_on_per_sample_values():
    per_sample = np.mean((Y_TRUE - Y_PRED) ** 2, axis=-1)
    sw = np.array([1.0, 3.0], np.float32)
    cases = {
        "sum_over_batch_size": np.sum(per_sample * sw) / 2,
        "mean": np.sum(per_sample * sw) / 2,
        "sum": np.sum(per_sample * sw),
        "mean_with_sample_weight": np.sum(per_sample * sw) / 4,
        "none": per_sample * sw,
        None: per_sample * sw,
    }
    for reduction, expected in cases.items():
        out = losses.MeanSquaredError(reduction=reduction)(Y_TRUE, Y_PRED, sample_weight=sw)
        np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6, err_msg=str(reduction))


def test_sum_over_batch_size_divides_by_all_loss_values_not_the_batch():
    y = np.zeros((2, 3, 4), np.float32)
    p = np.ones((2, 3, 4), np.float32)
    sw = np.array([[1.0], [0.0]], np.float32)  # (batch, 1) weighs each sample's 3 steps
    assert float(losses.MeanSquaredError()(y, p, sample_weight=sw)) == pytest.approx(3 / 6)


def test_zero_weights_give_zero_not_nan():
    sw = np.zeros((2,), np.float32)
    out = losses.MeanSquaredError(reduction="mean_with_sample_weight")(Y_TRUE, Y_PRED, sw)
    assert float(out) == 0.0


def test_mask_on_predictions_averages_over_unmasked_entries():
    y = np.zeros((2, 3, 1), np.float32)
    p = ops.convert_to_tensor(np.arange(6, dtype=np.float32).reshape(2, 3, 1))
    p._keras_mask = ops.convert_to_tensor(np.array([[True, True, False], [True, False, False]]))
    out = losses.MeanAbsoluteError()(y, p)  # values (2, 3): masked mean of 0, 1, 3
    assert float(out) == pytest.approx((0 + 1 + 3) / 3)


def test_sparse_ignore_class_masks_those_entries():
    y_true = np.array([0, 1, 2, 1])
    logits = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    full = np.asarray(losses.sparse_categorical_crossentropy(y_true, logits, from_logits=True))
    out = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1)(y_true, logits)
    assert float(out) == pytest.approx((full[0] + full[2]) / 2, rel=1e-6)


def test_squeeze_or_expand_to_same_rank():
    a, b = squeeze_or_expand_to_same_rank(np.zeros((4,)), np.zeros((4, 1)))
    assert (a.shape, b.shape) == ((4, 1), (4, 1))
    a, b = squeeze_or_expand_to_same_rank(np.zeros((4, 3)), np.zeros((4, 3, 1)))
    assert (a.shape, b.shape) == ((4, 3), (4, 3))
    a, b = squeeze_or_expand_to_same_rank(np.zeros((4,)), np.zeros((4, 1)), expand_rank_1=False)
    assert (a.shape, b.shape) == ((4,), (4,))
    a, b = squeeze_or_expand_to_same_rank(np.zeros((4, 3)), np.zeros((4,)))
    assert (a.shape, b.shape) == ((4, 3), (4,))


def test_dtype_defaults_to_floatx_and_integer_targets_are_cast():
    out = losses.MeanSquaredError()(np.array([[1, 0]]), np.array([[0.5, 0.5]]))
    assert out.dtype == np.float32
    out = losses.MeanSquaredError(dtype="float64")(np.array([[1, 0]]), np.array([[0.5, 0.5]]))
    assert out.dtype == np.float64


# --- gradients against float64 finite differences -----------------------------------------------

GRAD_CASES = [
    (losses.MeanSquaredError, {}, "regression"),
    (losses.Huber, {"delta": 0.5}, "regression"),
    (losses.LogCosh, {}, "regression"),
    (losses.CosineSimilarity, {}, "regression"),
    (losses.MeanSquaredLogarithmicError, {}, "positive"),
    (losses.Poisson, {}, "positive"),
    (losses.KLDivergence, {}, "probability"),
    (losses.BinaryCrossentropy, {"label_smoothing": 0.1}, "probability"),
    (losses.BinaryCrossentropy, {"from_logits": True}, "regression"),
    (losses.CategoricalCrossentropy, {}, "probability"),
    (losses.CategoricalCrossentropy, {"from_logits": True, "label_smoothing": 0.2}, "regression"),
    (losses.BinaryFocalCrossentropy, {"apply_class_balancing": True}, "probability"),
    (losses.SquaredHinge, {}, "regression"),
]


@pytest.mark.parametrize("cls,kwargs,kind", GRAD_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_gradient_matches_float64_finite_differences(cls, kwargs, kind):
    rng = np.random.default_rng(3)
    y_true = rng.uniform(0, 1, (3, 4))
    if kind == "regression":
        y_pred = rng.normal(size=(3, 4))
    elif kind == "positive":
        y_pred = rng.uniform(0.3, 2.0, (3, 4))
    else:
        y_pred = rng.uniform(0.1, 0.9, (3, 4))
    sw = rng.uniform(0.5, 2, (3,))
    loss = cls(dtype="float64", **kwargs)
    yp = ops.convert_to_tensor(y_pred)
    with keras.GradientTape() as tape:
        tape.watch(yp)
        value = loss(y_true, yp, sample_weight=sw)
    grad = np.asarray(tape.gradient(value, yp))
    numeric = np.zeros_like(y_pred)
    h = 1e-6
    for i in np.ndindex(*y_pred.shape):
        up, down = y_pred.copy(), y_pred.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (float(loss(y_true, up, sw)) - float(loss(y_true, down, sw))) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


# --- custom losses (Keras training & evaluation guide) ------------------------------------------


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor

    def get_config(self):
        return {"regularization_factor": self.regularization_factor, "name": self.name}


def test_custom_loss_subclass_from_the_guide():
    loss = CustomMSE()
    y_true = np.eye(3, dtype=np.float32)
    y_pred = np.full((3, 3), 0.2, np.float32)
    mse = np.mean((y_true - y_pred) ** 2, axis=-1)
    reg = np.mean((0.5 - y_pred) ** 2, axis=-1)
    assert float(loss(y_true, y_pred)) == pytest.approx(np.mean(mse + 0.1 * reg), rel=1e-6)
    assert loss.name == "custom_mse" and loss.reduction == "sum_over_batch_size"
    sw = np.array([1.0, 0.0, 2.0], np.float32)
    weighted = float(loss(y_true, y_pred, sample_weight=sw))
    assert weighted == pytest.approx(np.sum((mse + 0.1 * reg) * sw) / 3, rel=1e-6)
    clone = CustomMSE.from_config(loss.get_config())
    assert clone.regularization_factor == 0.1


def test_custom_loss_that_skips_super_init_still_works():
    class NoSuper(keras.losses.Loss):  # the guide's TF-era listing omits super().__init__()
        def __init__(self, factor=2.0):
            self.factor = factor

        def call(self, y_true, y_pred):
            return self.factor * ops.mean(ops.abs(y_true - y_pred), axis=-1)

    assert float(NoSuper()(Y_TRUE, Y_PRED)) == pytest.approx(2 * 0.55)


def test_loss_function_wrapper_and_custom_function_round_trip():
    def my_loss(y_true, y_pred, scale=1.0):
        return scale * ops.mean(ops.abs(y_true - y_pred), axis=-1)

    wrapper = losses.LossFunctionWrapper(my_loss, name="mine", scale=2.0)
    assert float(wrapper(Y_TRUE, Y_PRED)) == pytest.approx(2 * 0.55)
    config = losses.serialize(wrapper)
    assert config["class_name"] == "LossFunctionWrapper"
    assert config["config"]["scale"] == 2.0 and config["config"]["fn"]["config"] == "my_loss"
    again = losses.deserialize(config, custom_objects={"my_loss": my_loss})
    assert again.fn is my_loss and again.name == "mine"
    assert float(again(Y_TRUE, Y_PRED)) == pytest.approx(2 * 0.55)


def test_python_lists_are_arrays():
    assert float(losses.MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]])) == pytest.approx(0.5)


# --- get / serialize / deserialize / errors ------------------------------------------------------


@pytest.mark.parametrize(
    "identifier,expected",
    [
        ("mse", losses.mean_squared_error),
        ("MSE", losses.mean_squared_error),
        ("mae", losses.mean_absolute_error),
        ("bce", losses.binary_crossentropy),
        ("kld", losses.kl_divergence),
        ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy),
        ("huber", losses.huber),
    ],
)
def test_get_string_names(identifier, expected):
    assert losses.get(identifier) is expected


def test_get_classes_instances_functions_and_configs():
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    inst = losses.Huber(delta=0.5)
    assert losses.get(inst) is inst
    assert losses.get(losses.hinge) is losses.hinge
    assert losses.get(None) is None
    obj = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(obj, losses.CategoricalCrossentropy) and obj.from_logits


def test_aliases_are_the_functions():
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.mape is losses.mean_absolute_percentage_error
    assert losses.msle is losses.mean_squared_logarithmic_error
    assert losses.logcosh is losses.log_cosh


def test_unknown_identifier_lists_close_names():
    with pytest.raises(ValueError, match="Could not interpret loss identifier: msee") as info:
        losses.get("msee")
    assert "'mse'" in str(info.value)
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        losses.get("categorical_crossentropi")
    with pytest.raises(ValueError, match="Valid names are: .*'mean_squared_error'"):
        losses.get("zzz")
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get(42)


def test_invalid_reduction_raises_keras_message():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.MeanSquaredError(reduction="average")


def test_serialize_round_trip_for_classes_and_functions():
    config = losses.serialize(losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1))
    assert config["module"] == "keras.losses" and config["class_name"] == "BinaryCrossentropy"
    obj = losses.deserialize(config)
    assert obj.from_logits and obj.label_smoothing == 0.1
    fn = losses.serialize(losses.mean_squared_error)
    assert fn["class_name"] == "function" and fn["config"] == "mean_squared_error"
    assert losses.deserialize(fn) is losses.mean_squared_error
    assert losses.deserialize("mse") is losses.mean_squared_error
    # Keras's own serialization of a function
    keras_style = {
        "module": "builtins",
        "class_name": "function",
        "config": "mean_squared_error",
        "registered_name": "function",
    }
    assert losses.deserialize(keras_style) is losses.mean_squared_error


@pytest.mark.parametrize(
    "y_true_shape,y_pred_shape,expected",
    [
        ((8,), (8, 1), "binary_crossentropy"),
        ((8,), (8, 5), "sparse_categorical_crossentropy"),
        ((8, 1), (8, 5), "sparse_categorical_crossentropy"),
        ((8, 5), (8, 5), "categorical_crossentropy"),
    ],
)
def test_crossentropy_shorthand_is_resolved_from_shapes(y_true_shape, y_pred_shape, expected):
    for identifier in ("crossentropy", "ce", "CE"):
        loss = losses.get_loss(identifier, y_true_shape, y_pred_shape)
        assert loss.fn.__name__ == expected and loss.name == identifier
    wrapped = losses.get_loss(losses.hinge, (8, 1), (8, 1))
    assert isinstance(wrapped, losses.LossFunctionWrapper) and wrapped.name == "hinge"
