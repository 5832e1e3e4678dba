"""Parity with Keras 3 (JAX backend) for every metric: the same sequence of ``update_state`` calls
(with and without sample weights) must give the same ``result()`` after every call, the same state
variables (names, shapes, values), the same values after ``reset_state``, and the same config.

Inputs are drawn with ties on purpose (scores on a coarse grid, so ``argmax``/``top_k`` ties and
predictions exactly on a threshold occur).  The cases are one table of records; inputs come from
``np.random.default_rng(SEED)`` keyed by the case id, so a failure reruns with
``pytest tests/parity/test_metrics_parity.py -k <case id>``.
"""

import os
import tempfile
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")

# Keras on JAX compiles each op for each new shape, which is most of this file's run time: keep the
# compiled programs between runs (set REFKERAS_JAX_CACHE="" to disable).
_jax_cache = os.environ.get(
    "REFKERAS_JAX_CACHE", os.path.join(tempfile.gettempdir(), "refkeras-jax")
)
if _jax_cache:
    pytest.importorskip("jax").config.update("jax_compilation_cache_dir", _jax_cache)
    pytest.importorskip("jax").config.update("jax_persistent_cache_min_compile_time_secs", 0)

from refkeras import metrics as rk_metrics  # noqa: E402

SEED = 7
BATCH, CLASSES, UPDATES = 8, 4, 3


@dataclass
class Case:
    id: str
    cls: str
    kwargs: dict = field(default_factory=dict)
    kind: str = "regression"
    weights: tuple = ("per_sample",)  # sample-weight forms to run
    rtol: float = 1e-5
    atol: float = 1e-6
    state_atol: float = 1e-5  # float32 sums of ~30 weights in another order (e.g. tn = total - fp)


def draw(kind: str, rng: np.random.Generator):
    """One batch ``(y_true, y_pred)`` of the given kind (scores on a grid: ties happen)."""
    b, c = BATCH, CLASSES
    grid = rng.integers(0, 9, (b, c)) / 8.0  # 0, 0.125, ..., 1: ties and exact thresholds
    if kind == "values":
        return None, rng.normal(size=(b, 3))
    if kind == "regression":
        return rng.normal(size=(b, c)), rng.normal(size=(b, c))
    if kind == "positive":
        return rng.uniform(0.2, 3, (b, c)), rng.uniform(0.2, 3, (b, c))
    if kind == "equal_ints":
        return rng.integers(0, 3, (b, 1)), rng.integers(0, 3, (b, 1))
    if kind == "binary":
        return rng.integers(0, 2, (b, c)), grid
    if kind == "binary_col":  # (batch,) labels against (batch, 1) scores
        return rng.integers(0, 2, (b,)), grid[:, :1]
    if kind == "binary_logits":
        return rng.integers(0, 2, (b, c)), rng.normal(scale=2, size=(b, c))
    if kind == "onehot":
        return np.eye(c)[rng.integers(0, c, b)], grid
    if kind == "onehot_soft":
        a = rng.uniform(0.05, 1, (b, c))
        return np.eye(c)[rng.integers(0, c, b)], a / a.sum(-1, keepdims=True)
    if kind == "sparse":
        return rng.integers(0, c, (b,)), grid
    if kind == "sparse_col":
        return rng.integers(0, c, (b, 1)), grid
    if kind == "sparse_soft":
        a = rng.uniform(0.05, 1, (b, c))
        return rng.integers(0, c, (b,)), a / a.sum(-1, keepdims=True)
    if kind == "sorted_ids":
        return rng.integers(0, c, (b,)), np.argsort(-rng.normal(size=(b, c)), axis=-1)
    if kind == "hinge":
        return rng.choice([-1.0, 1.0], (b, c)), rng.normal(size=(b, c))
    if kind == "distribution":
        a, p = rng.uniform(0.05, 1, (b, c)), rng.uniform(0.05, 1, (b, c))
        return a / a.sum(-1, keepdims=True), p / p.sum(-1, keepdims=True)
    raise ValueError(kind)


def weight(kind: str, y_pred, rng):
    if kind == "none":
        return None
    if kind == "per_sample":
        return rng.uniform(0, 2, (BATCH,)).astype(np.float32)
    if kind == "per_element":
        return rng.uniform(0, 2, np.shape(y_pred)).astype(np.float32)
    if kind == "zero_some":  # whole samples weighted out
        return (rng.uniform(size=(BATCH,)) < 0.6).astype(np.float32)
    raise ValueError(kind)


ALL_W = ("none", "per_sample", "per_element")
CASES = [
    # reductions
    Case("mean", "Mean", kind="values", weights=ALL_W + ("zero_some",)),
    Case("sum", "Sum", kind="values", weights=ALL_W),
    # accuracy
    Case("accuracy", "Accuracy", kind="equal_ints", weights=("none", "per_sample")),
    Case("binary_accuracy", "BinaryAccuracy", kind="binary", weights=ALL_W),
    Case("binary_accuracy_t", "BinaryAccuracy", {"threshold": 0.625}, kind="binary"),
    Case("binary_accuracy_col", "BinaryAccuracy", kind="binary_col"),
    Case(
        "categorical_accuracy", "CategoricalAccuracy", kind="onehot", weights=("none", "per_sample")
    ),
    Case(
        "sparse_categorical_accuracy",
        "SparseCategoricalAccuracy",
        kind="sparse",
        weights=("none", "per_sample"),
    ),
    Case("sparse_categorical_accuracy_col", "SparseCategoricalAccuracy", kind="sparse_col"),
    Case(
        "top_k", "TopKCategoricalAccuracy", {"k": 2}, kind="onehot", weights=("none", "per_sample")
    ),
    Case(
        "sparse_top_k",
        "SparseTopKCategoricalAccuracy",
        {"k": 2},
        kind="sparse",
        weights=("none", "per_sample"),
    ),
    Case("sparse_top_k_col", "SparseTopKCategoricalAccuracy", {"k": 1}, kind="sparse_col"),
    Case(
        "sparse_top_k_sorted",
        "SparseTopKCategoricalAccuracy",
        {"k": 2, "from_sorted_ids": True},
        kind="sorted_ids",
    ),
    # confusion counts, precision, recall
    Case("tp", "TruePositives", kind="binary", weights=ALL_W),
    Case("fp", "FalsePositives", {"thresholds": [0.25, 0.5, 0.8]}, kind="binary"),
    Case("tn", "TrueNegatives", {"thresholds": 0.375}, kind="binary"),
    Case("fn_even", "FalseNegatives", {"thresholds": [0.0, 0.5, 1.0]}, kind="binary"),
    Case("precision", "Precision", kind="binary", weights=ALL_W),
    Case("precision_thresholds", "Precision", {"thresholds": [0.125, 0.5, 0.9]}, kind="binary"),
    Case("precision_even", "Precision", {"thresholds": [0.0, 0.5, 1.0]}, kind="binary"),
    Case("precision_top_k", "Precision", {"top_k": 2}, kind="onehot"),
    Case("precision_class_id", "Precision", {"class_id": 2}, kind="onehot"),
    Case("precision_top_k_class", "Precision", {"top_k": 1, "class_id": 1}, kind="onehot"),
    Case("recall", "Recall", kind="binary", weights=ALL_W[:2]),
    Case("recall_thresholds", "Recall", {"thresholds": [0.3, 0.6, 0.875]}, kind="binary"),
    Case("recall_top_k_class", "Recall", {"top_k": 2, "class_id": 0}, kind="onehot"),
    Case("recall_col", "Recall", kind="binary_col"),
    Case(
        "sens_at_spec",
        "SensitivityAtSpecificity",
        {"specificity": 0.6},
        kind="binary",
        weights=("none", "per_sample"),
    ),
    Case(
        "spec_at_sens",
        "SpecificityAtSensitivity",
        {"sensitivity": 0.4, "num_thresholds": 1},
        kind="binary",
    ),
    Case("prec_at_rec", "PrecisionAtRecall", {"recall": 0.5}, kind="binary"),
    Case("rec_at_prec", "RecallAtPrecision", {"precision": 0.7, "class_id": 1}, kind="onehot"),
    # AUC
    Case("auc", "AUC", kind="binary", weights=ALL_W),
    Case("auc_pr", "AUC", {"curve": "PR"}, kind="binary", weights=ALL_W[:2]),
    Case("auc_roc_minoring", "AUC", {"summation_method": "minoring"}, kind="binary"),
    Case(
        "auc_pr_majoring",
        "AUC",
        {"curve": "PR", "summation_method": "majoring"},
        kind="binary",
    ),
    Case("auc_prgain", "AUC", {"curve": "PRGAIN"}, kind="binary"),
    Case(
        "auc_thresholds",
        "AUC",
        {"thresholds": [0.3, 0.5, 0.7]},
        kind="binary",
        weights=("none", "per_sample"),
    ),
    Case("auc_thresholds_even", "AUC", {"thresholds": [0.25, 0.5, 0.75]}, kind="binary"),
    Case("auc_logits", "AUC", {"from_logits": True}, kind="binary_logits"),
    Case("auc_multi_label", "AUC", {"multi_label": True}, kind="binary", weights=ALL_W[:2]),
    Case(
        "auc_multi_label_pr_weights",
        "AUC",
        {"multi_label": True, "curve": "PR", "num_labels": 4, "label_weights": [1, 2, 0.5, 0]},
        kind="binary",
    ),
    Case(
        "auc_multi_label_thresholds",
        "AUC",
        {"multi_label": True, "thresholds": [0.2, 0.4, 0.6], "label_weights": [1, 2, 3, 4]},
        kind="binary",
    ),
    Case("auc_label_weights", "AUC", {"label_weights": [0.5, 1.0, 2.0, 0.0]}, kind="binary"),
    # regression
    Case("mse", "MeanSquaredError", weights=("none", "per_sample")),
    Case("mae", "MeanAbsoluteError"),
    Case("mape", "MeanAbsolutePercentageError", kind="positive"),
    Case("msle", "MeanSquaredLogarithmicError", kind="positive"),
    Case("rmse", "RootMeanSquaredError", weights=ALL_W),
    Case("cosine", "CosineSimilarity"),
    Case("cosine_axis0", "CosineSimilarity", {"axis": 0}, weights=("none",)),
    Case("logcosh", "LogCoshError"),
    # probabilistic and hinge
    Case("bce", "BinaryCrossentropy", kind="binary", weights=("none", "per_sample")),
    Case(
        "bce_logits",
        "BinaryCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        kind="binary_logits",
    ),
    Case("cce", "CategoricalCrossentropy", {"label_smoothing": 0.2}, kind="onehot_soft"),
    Case("scce", "SparseCategoricalCrossentropy", kind="sparse_soft"),
    Case(
        "scce_ignore",
        "SparseCategoricalCrossentropy",
        {"from_logits": True, "ignore_class": 0},
        kind="sparse",
    ),
    Case("kld", "KLDivergence", kind="distribution"),
    Case("poisson", "Poisson", kind="positive"),
    Case("hinge", "Hinge", kind="hinge", weights=("none", "per_sample")),
    Case("squared_hinge", "SquaredHinge", kind="binary"),
    Case("categorical_hinge", "CategoricalHinge", kind="onehot"),
]
PARAMS = [pytest.param(c, w, id=f"{c.id}-{w}") for c in CASES for w in c.weights]


def batches(case: Case, weight_kind: str):
    rng = np.random.default_rng([SEED, zlib.crc32(f"{case.id}-{weight_kind}".encode())])
    out = []
    for _ in range(UPDATES + 1):
        y_true, y_pred = draw(case.kind, rng)
        if y_true is not None:
            y_true = y_true.astype(np.int32 if y_true.dtype.kind == "i" else np.float32)
        y_pred = y_pred.astype(np.int32 if y_pred.dtype.kind == "i" else np.float32)
        out.append((y_true, y_pred, weight(weight_kind, y_pred, rng)))
    return out


class KerasMetric:
    """A Keras metric, with its state listed as ``(name, path, value)``."""

    def __init__(self, metric):
        self.metric = metric

    def update_state(self, *args, sample_weight=None):
        self.metric.update_state(*args, sample_weight=sample_weight)

    def reset_state(self):
        self.metric.reset_state()

    def result(self):
        return self.metric.result()

    def named_state(self):
        return [(v.name, v.path, v.value) for v in self.metric.variables]


def update(metric, y_true, y_pred, sw):
    if y_true is None:  # Mean / Sum take values
        return metric.update_state(y_pred, sample_weight=sw)
    return metric.update_state(y_true, y_pred, sample_weight=sw)


def check_same(ours, theirs, case, what):
    a, b = np.asarray(ours.result()), np.asarray(theirs.result())
    msg = f"case={case.id} cls={case.cls} kwargs={case.kwargs}: {what}"
    assert a.shape == b.shape, msg
    np.testing.assert_allclose(a, b, rtol=case.rtol, atol=case.atol, err_msg=msg)
    their_state = theirs.named_state()
    assert [v.name for v in ours.variables] == [n for n, _, _ in their_state], msg
    assert [v.path for v in ours.variables] == [p for _, p, _ in their_state], msg
    for v, (_, _, value) in zip(ours.variables, their_state):
        np.testing.assert_allclose(
            v.numpy(),
            np.asarray(value),
            rtol=case.rtol,
            atol=case.state_atol,
            err_msg=f"{msg} {v.path}",
        )


@pytest.mark.parametrize("case,weight_kind", PARAMS)
def test_metric_updates_match_keras(case, weight_kind):
    name = f"m_{case.id}_{weight_kind}"  # same explicit name on both sides: same variable paths
    ours = getattr(rk_metrics, case.cls)(name=name, **case.kwargs)
    data = batches(case, weight_kind)
    theirs = KerasMetric(getattr(keras.metrics, case.cls)(name=name, **case.kwargs))
    for i, (y_true, y_pred, sw) in enumerate(data[:UPDATES]):
        update(ours, y_true, y_pred, sw)
        update(theirs, y_true, y_pred, sw)
        check_same(ours, theirs, case, f"after update {i + 1} ({weight_kind} weights)")
    ours.reset_state()
    theirs.reset_state()
    check_same(ours, theirs, case, "after reset_state")
    y_true, y_pred, sw = data[UPDATES]
    update(ours, y_true, y_pred, sw)
    update(theirs, y_true, y_pred, sw)
    check_same(ours, theirs, case, "after reset_state and one update")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_metric_config_matches_keras(case):
    ours = getattr(rk_metrics, case.cls)(**case.kwargs)
    theirs = getattr(keras.metrics, case.cls)(**case.kwargs)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    # Keras keeps `label_weights` as a backend tensor in the config; refkeras as a list.
    for config in (ours_config, theirs_config):
        if config.get("label_weights") is not None:
            config["label_weights"] = np.asarray(config["label_weights"]).tolist()
        config.pop("name")  # auto-generated names differ with the number of instances made
    assert ours_config == theirs_config
    ser = rk_metrics.serialize(ours)
    assert (ser["module"], ser["class_name"]) == ("keras.metrics", case.cls)
    again = rk_metrics.deserialize(ser)
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


def test_metric_call_returns_running_result_like_keras():
    ours, theirs = rk_metrics.BinaryAccuracy(), keras.metrics.BinaryAccuracy()
    for y_true, y_pred, _ in batches(CASES[3], "none")[:2]:
        np.testing.assert_allclose(
            np.asarray(ours(y_true, y_pred)), np.asarray(theirs(y_true, y_pred)), rtol=1e-6
        )


def test_get_resolves_every_keras_name_the_same_way():
    from keras.src.metrics import ALL_OBJECTS_DICT as KERAS_DICT

    missing = {"R2Score", "ConcordanceCorrelation", "PearsonCorrelation", "F1Score", "FBetaScore"}
    missing |= {"IoU", "BinaryIoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"}
    for name, cls in KERAS_DICT.items():
        if cls.__name__ in missing or cls.__name__ in ("Metric", "MeanMetricWrapper"):
            continue
        needs_arg = cls.__name__ in (
            "SensitivityAtSpecificity",
            "SpecificityAtSensitivity",
            "PrecisionAtRecall",
            "RecallAtPrecision",
        )
        if needs_arg:
            assert rk_metrics.ALL_OBJECTS_DICT[name].__name__ == cls.__name__, name
            continue
        assert type(rk_metrics.get(name)).__name__ == type(keras.metrics.get(name)).__name__, name


@pytest.mark.parametrize(
    "y_true_shape,y_pred_shape",
    [((8,), (8, 1)), ((8, 1), (8, 1)), ((8,), (8, 5)), ((8, 1), (8, 5)), ((8, 5), (8, 5))],
)
@pytest.mark.parametrize("identifier", ["accuracy", "acc", "ACC"])
def test_accuracy_string_resolves_like_keras_compile(identifier, y_true_shape, y_pred_shape):
    from keras.src.trainers.compile_utils import get_metric

    theirs = get_metric(identifier, np.zeros(y_true_shape), np.zeros(y_pred_shape))
    ours = rk_metrics.get_metric(identifier, y_true_shape, y_pred_shape)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == theirs.name == identifier
    ours = rk_metrics.get_accuracy_for("some_loss", y_true_shape, y_pred_shape)
    assert type(ours).__name__ == type(theirs).__name__


@pytest.mark.parametrize(
    "y_true_shape,y_pred_shape",
    [((8,), (8, 1)), ((8,), (8, 5)), ((8, 1), (8, 5)), ((8, 5), (8, 5))],
)
def test_crossentropy_string_resolves_like_keras_compile(y_true_shape, y_pred_shape):
    from keras.src.trainers.compile_utils import get_loss

    from refkeras import losses as rk_losses

    theirs = get_loss("crossentropy", np.zeros(y_true_shape), np.zeros(y_pred_shape))
    ours = rk_losses.get_loss("crossentropy", y_true_shape, y_pred_shape)
    assert ours.fn.__name__ == theirs.fn.__name__
    assert ours.name == theirs.name == "crossentropy"
