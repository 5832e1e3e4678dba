"""Unit tests for refkeras.metrics that need no Keras: the Keras docstring examples, the Metric base
(state, reset, tracking, stateless use), custom metrics in the style of the Keras training guide,
``get``/``serialize``/``deserialize`` and error messages."""

import numpy as np
import pytest

import refkeras as keras
from refkeras import metrics, ops


def result(metric) -> np.ndarray:
    return np.asarray(metric.result())


# --- Keras docstring examples --------------------------------------------------------------------


def test_mean_and_sum():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert result(m) == pytest.approx(4.0)
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert result(m) == pytest.approx(2.0)
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7])
    assert result(s) == pytest.approx(16.0)


def test_mean_of_per_step_values_with_per_sample_weights():
    m = metrics.Mean()
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=[1.0, 3.0])
    # per-sample means 2 and 6, weighted 1 and 3
    assert result(m) == pytest.approx((2 + 18) / 4)


def test_accuracy_family():
    m = metrics.Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert result(m) == pytest.approx(0.75)
    m.reset_state()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert result(m) == pytest.approx(0.5)

    m = metrics.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert result(m) == pytest.approx(0.75)

    m = metrics.CategoricalAccuracy()
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert result(m) == pytest.approx(0.5)

    m = metrics.SparseCategoricalAccuracy()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert result(m) == pytest.approx(0.5)

    m = metrics.TopKCategoricalAccuracy(k=1)
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert result(m) == pytest.approx(0.5)

    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert result(m) == pytest.approx(0.5)


def test_argmax_ties_go_to_the_first_index_and_top_k_ties_count_as_hits():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([0, 1], [[0.5, 0.5], [0.5, 0.5]])
    assert result(m) == pytest.approx(0.5)
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([0, 1], [[0.5, 0.5], [0.5, 0.5]])
    assert result(m) == pytest.approx(1.0)


def test_precision_recall():
    m = metrics.Precision()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert result(m) == pytest.approx(2 / 3)
    m.reset_state()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert result(m) == pytest.approx(1.0)

    m = metrics.Precision(top_k=2)  # ties: indices 0 and 1 are kept
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert result(m) == pytest.approx(0.0)
    m = metrics.Precision(top_k=4)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert result(m) == pytest.approx(0.5)

    m = metrics.Recall(thresholds=[0.3, 0.7])
    m.update_state([0, 1, 1, 1], [0.9, 0.2, 0.5, 0.8])
    np.testing.assert_allclose(result(m), [2 / 3, 1 / 3], rtol=1e-6)

    m = metrics.Precision(class_id=1)
    m.update_state([[0, 1], [1, 0], [0, 1]], [[0.3, 0.7], [0.2, 0.8], [0.6, 0.4]])
    assert result(m) == pytest.approx(0.5)


def test_confusion_counts():
    y_true, y_pred = [0, 1, 1, 0], [0.2, 0.8, 0.4, 0.6]
    # one of each; weighted by the sample weight of the sample that is that case
    weighted = {"TruePositives": 2, "FalsePositives": 4, "TrueNegatives": 1, "FalseNegatives": 3}
    for name, value in weighted.items():
        m = getattr(metrics, name)()
        m.update_state(y_true, y_pred, sample_weight=[1, 2, 3, 4])
        assert result(m) == pytest.approx(value), name
        assert m.result().shape == ()
    m = metrics.TruePositives(thresholds=[0.1, 0.5, 0.9])
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(result(m), [2, 1, 0])


def test_auc():
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    # thresholds [-eps, 0.5, 1 + eps]: tp=[2, 1, 0], fp=[2, 0, 0], tn=[0, 2, 2], fn=[0, 1, 2]
    # recall=[1, 0.5, 0], fp_rate=[1, 0, 0]  ->  (1 - 0) * (1 + 0.5) / 2 + 0 = 0.75
    assert result(m) == pytest.approx(0.75)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert result(m) == pytest.approx(1.0)

    perfect = metrics.AUC(curve="PR")
    perfect.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert result(perfect) == pytest.approx(1.0, abs=1e-3)

    rng = np.random.default_rng(0)
    noise = metrics.AUC()
    noise.update_state(rng.integers(0, 2, 4000), rng.uniform(size=4000))
    assert result(noise) == pytest.approx(0.5, abs=0.03)


def test_auc_multi_label_averages_labels():
    y_true = np.array([[0, 1], [1, 0], [1, 1], [0, 0]], np.float32)
    y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.7, 0.6], [0.3, 0.4]], np.float32)
    multi = metrics.AUC(multi_label=True)
    multi.update_state(y_true, y_pred)
    per_label = []
    for j in range(2):
        single = metrics.AUC()
        single.update_state(y_true[:, j], y_pred[:, j])
        per_label.append(float(result(single)))
    assert result(multi) == pytest.approx(np.mean(per_label), rel=1e-6)
    assert multi.true_positives.shape == (200, 2)


def test_sensitivity_at_specificity():
    m = metrics.SensitivityAtSpecificity(0.5)
    m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    assert result(m) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="must be in the range"):
        metrics.SensitivityAtSpecificity(1.5)


def test_regression_and_probabilistic_metrics():
    y_true, y_pred = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 0.0]])
    for cls, value in [
        (metrics.MeanSquaredError, 0.5),
        (metrics.MeanAbsoluteError, 0.5),
        (metrics.RootMeanSquaredError, np.sqrt(0.5)),
        (metrics.LogCoshError, np.mean(np.log(np.cosh(y_pred - y_true)))),
    ]:
        m = cls()
        m.update_state(y_true, y_pred)
        assert result(m) == pytest.approx(value, rel=1e-6), cls.__name__
    m = metrics.CosineSimilarity()
    m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
    assert result(m) == pytest.approx(0.5, rel=1e-6)
    m = metrics.BinaryCrossentropy()
    m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    assert result(m) == pytest.approx(0.81492424, rel=1e-5)


def test_mask_on_predictions_is_a_zero_weight():
    y_pred = ops.convert_to_tensor(np.array([[1.0], [5.0], [9.0]], np.float32))
    y_pred._keras_mask = ops.convert_to_tensor(np.array([True, True, False]))
    m = metrics.MeanAbsoluteError()
    m.update_state(np.zeros((3, 1), np.float32), y_pred)
    assert result(m) == pytest.approx(3.0)


# --- the Metric base -----------------------------------------------------------------------------


class CategoricalTruePositives(keras.metrics.Metric):
    """The custom metric of the Keras training & evaluation guide (Keras 3 version)."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives.value

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_custom_metric_from_the_guide():
    m = CategoricalTruePositives()
    y_true = np.array([[0], [1], [2], [1]])
    y_pred = np.eye(3)[[0, 2, 2, 1]]
    m.update_state(y_true, y_pred)
    assert result(m) == pytest.approx(3.0)
    m.update_state(y_true, y_pred, sample_weight=np.array([[1.0], [1.0], [0.5], [0.0]]))
    assert result(m) == pytest.approx(4.5)
    assert [v.path for v in m.variables] == ["categorical_true_positives/ctp"]
    assert not m.variables[0].trainable
    m.reset_state()
    assert result(m) == 0.0
    assert float(m(y_true, y_pred)) == pytest.approx(3.0)  # __call__ = update + result
    assert m.get_config() == {"name": "categorical_true_positives", "dtype": "float32"}


def test_forgetting_super_init_is_reported():
    class Broken(keras.metrics.Metric):
        def __init__(self):
            self.total = self.add_weight(name="total")

    with pytest.raises(RuntimeError, match="forgot to call `super\\(\\).__init__\\(\\)`"):
        Broken()


def test_reset_state_assigns_zeros_and_sub_metrics_are_tracked():
    class Pair(keras.metrics.Metric):
        def __init__(self):
            super().__init__(name="pair")
            self.a = metrics.Mean(name="a")
            self.b = metrics.Sum(name="b")
            self.ones = self.add_variable(shape=(2,), initializer="ones", name="ones")

        def update_state(self, x):
            self.a.update_state(x)
            self.b.update_state(x)

        def result(self):
            return self.a.result() + self.b.result()

    m = Pair()
    assert [v.name for v in m.variables] == ["ones", "total", "count", "total"]
    m.update_state([1.0, 2.0])
    assert result(m) == pytest.approx(1.5 + 3.0)
    m.reset_state()  # Keras's default: zeros everywhere, whatever the initializer
    assert all(np.all(v.numpy() == 0) for v in m.variables)


def test_stateless_update_and_result_do_not_touch_the_variables():
    m = metrics.Mean()
    state = [np.zeros(()), np.zeros(())]
    state = m.stateless_update_state(state, [1.0, 3.0])
    state = m.stateless_update_state(state, [5.0])
    assert float(m.stateless_result(state)) == pytest.approx(3.0)
    assert [float(v.numpy()) for v in m.variables] == [0.0, 0.0]
    with keras.StatelessScope(state_mapping=list(zip(m.variables, state))) as scope:
        m.update_state([9.0])
        new_total = scope.get_current_value(m.total)
    assert float(new_total) == pytest.approx(18.0) and float(m.total.numpy()) == 0.0
    with pytest.raises(ValueError, match="corresponding 1:1"):
        m.stateless_result([1.0])


def test_updates_inside_a_gradient_tape_are_not_recorded():
    y_pred = ops.convert_to_tensor(np.array([[0.2, 0.8], [0.6, 0.4]], np.float32))
    m = metrics.CategoricalAccuracy()
    with keras.GradientTape() as tape:
        tape.watch(y_pred)
        loss = ops.sum(y_pred * y_pred)
        m.update_state([[0.0, 1.0], [0.0, 1.0]], y_pred)
    np.testing.assert_allclose(np.asarray(tape.gradient(loss, y_pred)), 2 * np.asarray(y_pred))
    assert result(m) == pytest.approx(0.5)


def test_layers_track_metrics_set_as_attributes():
    class WithMetric(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.tracker = metrics.Mean(name="tracker")

        def call(self, x):
            return x

    layer = WithMetric()
    assert layer.metrics == [layer.tracker]
    assert layer.tracker.total in layer.variables


# --- get / serialize / errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "identifier,cls",
    [
        ("auc", metrics.AUC),
        ("AUC", metrics.AUC),
        ("mse", metrics.MeanSquaredError),
        ("mean_absolute_error", metrics.MeanAbsoluteError),
        ("accuracy", metrics.Accuracy),
        ("binary_accuracy", metrics.BinaryAccuracy),
        ("sparse_top_k_categorical_accuracy", metrics.SparseTopKCategoricalAccuracy),
        ("precision", metrics.Precision),
        ("BCE", metrics.BinaryCrossentropy),
    ],
)
def test_get_by_name(identifier, cls):
    assert type(metrics.get(identifier)) is cls


def test_get_other_identifiers():
    m = metrics.Recall(thresholds=0.3)
    assert metrics.get(m) is m
    assert isinstance(metrics.get(metrics.AUC), metrics.AUC)
    assert metrics.get(metrics.binary_accuracy) is metrics.binary_accuracy
    obj = metrics.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.7}})
    assert obj.threshold == 0.7
    assert metrics.get(None) is None


def test_unknown_metric_names_list_close_names():
    with pytest.raises(ValueError, match="Could not interpret metric identifier: acuracy") as e:
        metrics.get("acuracy")
    assert "'accuracy'" in str(e.value)
    with pytest.raises(ValueError, match="'precision'"):
        metrics.get("precison")


def test_serialize_round_trips():
    auc = metrics.AUC(num_thresholds=10, curve="PR", multi_label=True, label_weights=[1, 2])
    again = metrics.deserialize(metrics.serialize(auc))
    assert again.get_config() == auc.get_config()

    def my_metric(y_true, y_pred):
        return ops.mean(ops.abs(y_true - y_pred), axis=-1)

    wrapper = metrics.MeanMetricWrapper(my_metric, name="mine")
    config = metrics.serialize(wrapper)
    again = metrics.deserialize(config, custom_objects={"my_metric": my_metric})
    assert again._fn is my_metric and again.name == "mine"
    mse = metrics.MeanMetricWrapper(metrics.mean_squared_error, name="mse")
    assert metrics.deserialize(metrics.serialize(mse))._fn is metrics.mean_squared_error
    # `cosine_similarity` is a loss (-1 when parallel) and a metric (+1): the module decides
    from refkeras import losses
    from refkeras.metrics import regression_metrics

    for fn in (losses.cosine_similarity, regression_metrics.cosine_similarity):
        assert metrics.deserialize(metrics.serialize(fn)) is fn


@pytest.mark.parametrize(
    "y_true_shape,y_pred_shape,cls",
    [
        ((8,), (8, 1), metrics.BinaryAccuracy),
        ((8, 1), (8, 1), metrics.BinaryAccuracy),
        ((8,), (8, 5), metrics.SparseCategoricalAccuracy),
        ((8, 1), (8, 5), metrics.SparseCategoricalAccuracy),
        ((8, 5), (8, 5), metrics.CategoricalAccuracy),
    ],
)
def test_accuracy_shorthand_follows_shapes(y_true_shape, y_pred_shape, cls):
    for identifier in ("accuracy", "acc", "Accuracy"):
        m = metrics.get_metric(identifier, y_true_shape, y_pred_shape)
        assert type(m) is cls and m.name == identifier
    assert type(metrics.get_accuracy_for("mse", y_true_shape, y_pred_shape)) is cls


def test_get_metric_wraps_functions_and_names_them():
    m = metrics.get_metric(metrics.mean_absolute_error, (8, 1), (8, 1))
    assert isinstance(m, metrics.MeanMetricWrapper) and m.name == "mean_absolute_error"
    m = metrics.get_metric("mae", (8, 1), (8, 1))
    assert isinstance(m, metrics.MeanAbsoluteError) and m.name == "mae"
