"""Records for every public metric of ``refkeras.metrics``: ``update_state`` over several batches
(with and without sample weights), then ``result()``; thresholds, ``top_k``, ``class_id``, AUC
curves and summation methods; pinned edge cases: ties (argmax/top-k between equal scores), zeros,
very large values and batch size 1."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.checks.components import expected_names, to_record
from conformance.components import InputSpec, LossCase
from conformance.records._pairs import (
    batch,
    binary,
    categorical,
    classes,
    probabilities,
    record,
    regression,
    sparse,
)
from refkeras import metrics as M

CHECKS = ("metric_result", "metric_config")
batches = st.integers(1, 3)
thresholds = st.sampled_from([None, 0.5, 0.3, (0.2, 0.5, 0.8)])


def metric(cls, config, pair, base, **kw):
    return record("metric", cls, config, pair, base, checks=CHECKS, batches=batches, **kw)


def values(draw, kwargs):
    shape = (draw(batch), draw(classes))
    return InputSpec(shape), InputSpec(shape)


def labels_equal(draw, kwargs):  # Accuracy: exact equality of integer-valued floats
    shape = (draw(batch), draw(classes))
    return InputSpec(shape, "ties"), InputSpec(shape, "ties")


def top_k_pair(sparse_labels):
    def pair(draw, kwargs):
        b, c = draw(batch), draw(st.integers(2, 5))
        pred = InputSpec((b, c), draw(st.sampled_from(["normal", "ties"])))
        true = InputSpec((b,), kind="int", high=c) if sparse_labels else \
            InputSpec((b, c), kind="onehot")  # fmt: skip
        return true, pred

    return pair


def class_pair(draw, kwargs):  # Precision/Recall with class_id / top_k: several columns
    shape = (draw(batch), 4)
    return InputSpec(shape, kind="binary"), InputSpec(shape, "unit")


def _c(y_true, y_pred, kwargs=None, **kw):
    return LossCase(kwargs or {}, y_true, y_pred, batches=2, **kw)


REG = _c(InputSpec((3, 2)), InputSpec((3, 2)))
POS = _c(InputSpec((3, 2), "positive"), InputSpec((3, 2), "positive"))
BIN = _c(InputSpec((4, 2), kind="binary"), InputSpec((4, 2), "unit"))
CAT = _c(InputSpec((3, 3), kind="onehot"), InputSpec((3, 3), kind="prob"))
SPARSE = _c(InputSpec((3,), kind="int", high=3), InputSpec((3, 3), kind="prob"))
PROB = _c(InputSpec((3, 3), kind="prob"), InputSpec((3, 3), kind="prob"))
NO_EDGES = ("batch1", "ties")
logits = st.booleans()

COMPONENTS = [
    metric(M.Mean, {}, values, REG),
    metric(M.Sum, {}, values, REG),
    metric(M.MeanMetricWrapper, {"fn": st.sampled_from(["mean_squared_error", "hinge"])},
           regression(), _c(InputSpec((3, 2)), InputSpec((3, 2)), {"fn": "mean_squared_error"}),
           notes="kwargs['fn'] names a function of refkeras.losses"),
    metric(M.Accuracy, {}, labels_equal, _c(InputSpec((3, 2), "ties"), InputSpec((3, 2), "ties")),
           edges=("batch1",)),
    metric(M.BinaryAccuracy, {"threshold": st.sampled_from([0.5, 0.3])}, binary, BIN),
    metric(M.CategoricalAccuracy, {}, categorical, CAT, edges=NO_EDGES),
    metric(M.SparseCategoricalAccuracy, {}, sparse, SPARSE, edges=NO_EDGES),
    metric(M.TopKCategoricalAccuracy, {"k": st.integers(1, 3)}, top_k_pair(False),
           _c(InputSpec((3, 4), kind="onehot"), InputSpec((3, 4)), {"k": 2})),
    metric(M.SparseTopKCategoricalAccuracy, {"k": st.integers(1, 3)}, top_k_pair(True),
           _c(InputSpec((3,), kind="int", high=4), InputSpec((3, 4)), {"k": 2})),
    metric(M.BinaryCrossentropy, {"from_logits": logits, "label_smoothing": st.sampled_from(
        [0.0, 0.1])}, binary, BIN),
    metric(M.CategoricalCrossentropy, {"from_logits": logits, "label_smoothing": st.sampled_from(
        [0.0, 0.1])}, categorical, CAT),
    metric(M.SparseCategoricalCrossentropy, {"from_logits": logits}, sparse, SPARSE),
    metric(M.CategoricalHinge, {}, categorical, CAT),
    metric(M.Hinge, {}, binary, BIN),
    metric(M.SquaredHinge, {}, binary, BIN),
    metric(M.CosineSimilarity, {"axis": -1}, regression(), REG,
           notes="axis -1 only: the sample weights are shaped for a reduced last axis"),
    metric(M.KLDivergence, {}, probabilities, PROB),
    metric(M.LogCoshError, {}, regression(), REG),
    metric(M.MeanAbsoluteError, {}, regression(), REG),
    metric(M.MeanAbsolutePercentageError, {}, regression("positive"), POS),
    metric(M.MeanSquaredError, {}, regression(), REG),
    metric(M.MeanSquaredLogarithmicError, {}, regression("positive", "positive"), POS),
    metric(M.Poisson, {}, regression("positive", "positive"), POS),
    metric(M.RootMeanSquaredError, {}, regression(), REG),
    metric(M.TruePositives, {"thresholds": thresholds}, binary, BIN),
    metric(M.FalsePositives, {"thresholds": thresholds}, binary, BIN),
    metric(M.TrueNegatives, {"thresholds": thresholds}, binary, BIN),
    metric(M.FalseNegatives, {"thresholds": thresholds}, binary, BIN),
    metric(M.Precision, {"thresholds": thresholds, "top_k": st.sampled_from([None, 1, 2]),
                         "class_id": st.sampled_from([None, 0, 3])}, class_pair, BIN),
    metric(M.Recall, {"thresholds": thresholds, "top_k": st.sampled_from([None, 1, 2]),
                      "class_id": st.sampled_from([None, 0, 3])}, class_pair, BIN),
    metric(M.AUC, {"num_thresholds": st.sampled_from([3, 10, 200]),
                   "curve": st.sampled_from(["ROC", "PR"]),
                   "summation_method": st.sampled_from(["interpolation", "minoring", "majoring"]),
                   "multi_label": st.booleans(), "from_logits": st.booleans()}, binary, BIN),
    metric(M.PrecisionAtRecall, {"recall": st.sampled_from([0.5, 0.8]),
                                 "num_thresholds": st.sampled_from([10, 200])}, binary,
           _c(BIN.y_true, BIN.y_pred, {"recall": 0.5})),
    metric(M.RecallAtPrecision, {"precision": st.sampled_from([0.5, 0.8]),
                                 "num_thresholds": st.sampled_from([10, 200])}, binary,
           _c(BIN.y_true, BIN.y_pred, {"precision": 0.5})),
    metric(M.SensitivityAtSpecificity, {"specificity": st.sampled_from([0.5, 0.8]),
                                        "num_thresholds": st.sampled_from([10, 200])}, binary,
           _c(BIN.y_true, BIN.y_pred, {"specificity": 0.5})),
    metric(M.SpecificityAtSensitivity, {"sensitivity": st.sampled_from([0.5, 0.8]),
                                        "num_thresholds": st.sampled_from([10, 200])}, binary,
           _c(BIN.y_true, BIN.y_pred, {"sensitivity": 0.5})),
]  # fmt: skip

ABSTRACT = {M.Metric: "base class of all metrics"}

# float32 against the float64 reference; float64 itself is exercised by the finite differences
RECORDS = [to_record(r, dtypes=("float32",)) for r in COMPONENTS]


def expected_components() -> list[str]:
    """Every public metric class must have a record (aliases share their class's record)."""
    return expected_names(M, M.Metric, ABSTRACT, "metric")
