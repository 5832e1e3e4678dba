"""Records for every public loss of ``refkeras.losses``: reductions, sample weights,
``from_logits``, label smoothing, class balancing...; pinned edge cases: zeros, ties, very large
logits and batch size 1."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.checks.components import expected_names, to_record
from conformance.components import InputSpec, LossCase
from conformance.records._pairs import (
    binary,
    categorical,
    probabilities,
    record,
    regression,
    sparse,
)
from refkeras import losses as LO

CHECKS = ("loss_value", "loss_grad", "loss_fd", "loss_config")
REDUCTIONS = st.sampled_from(["sum_over_batch_size", "sum", "mean", "none", None,
                              "mean_with_sample_weight"])  # fmt: skip
smoothing = st.sampled_from([0.0, 0.1])
logits = st.booleans()


def loss(cls, config, pair, base, checks=CHECKS, **kw):
    return record("loss", cls, {"reduction": REDUCTIONS, **config}, pair, base, checks=checks, **kw)


def _case(y_true, y_pred, **kw):
    return LossCase({}, y_true, y_pred, **kw)


REG = _case(InputSpec((3, 2)), InputSpec((3, 2)))
POS = _case(InputSpec((3, 2), "positive"), InputSpec((3, 2), "positive"))
BIN = _case(InputSpec((3, 2), kind="binary"), InputSpec((3, 2), "unit"))
CAT = _case(InputSpec((3, 3), kind="onehot"), InputSpec((3, 3), kind="prob"))
CAT_LOGITS = LossCase({"from_logits": True}, InputSpec((3, 3), kind="onehot"), InputSpec((3, 3)))
SPARSE = LossCase({"from_logits": True}, InputSpec((3,), kind="int", high=3), InputSpec((3, 3)))

COMPONENTS = [
    loss(LO.MeanSquaredError, {}, regression(), REG),
    loss(LO.MeanAbsoluteError, {}, regression(), REG, edges=("batch1",)),
    loss(LO.MeanAbsolutePercentageError, {}, regression("positive"), POS, edges=("batch1",)),
    loss(LO.MeanSquaredLogarithmicError, {}, regression("positive", "positive"), POS),
    loss(LO.LogCosh, {}, regression(), REG),
    loss(LO.Huber, {"delta": st.sampled_from([1.0, 0.5, 2.0])}, regression(), REG,
         checks=("loss_value", "loss_grad", "loss_fd"),
         notes="no loss_config: Keras 3's Huber.get_config() drops `delta` (refkeras follows)"),
    loss(LO.CosineSimilarity, {"axis": st.sampled_from([-1, 1])}, regression(), REG,
         checks=("loss_value", "loss_grad", "loss_fd"),
         notes="no loss_config: Keras 3's CosineSimilarity.get_config() drops `axis`"),
    loss(LO.Poisson, {}, regression("positive", "positive"), POS),
    loss(LO.KLDivergence, {}, probabilities,
         _case(InputSpec((3, 3), kind="prob"), InputSpec((3, 3), kind="prob"))),
    loss(LO.Hinge, {}, binary, BIN),
    loss(LO.SquaredHinge, {}, binary, BIN),
    loss(LO.CategoricalHinge, {}, categorical, CAT),
    loss(LO.BinaryCrossentropy, {"from_logits": logits, "label_smoothing": smoothing}, binary,
         LossCase({"from_logits": True}, InputSpec((3, 2), kind="binary"), InputSpec((3, 2)))),
    loss(LO.BinaryFocalCrossentropy,
         {"from_logits": logits, "label_smoothing": smoothing,
          "apply_class_balancing": st.booleans(), "alpha": st.sampled_from([0.25, 0.5]),
          "gamma": st.sampled_from([2.0, 0.5])}, binary, BIN),
    loss(LO.CategoricalCrossentropy, {"from_logits": logits, "label_smoothing": smoothing},
         categorical, CAT_LOGITS),
    loss(LO.CategoricalFocalCrossentropy,
         {"from_logits": logits, "label_smoothing": smoothing,
          "alpha": st.sampled_from([0.25, 0.5]), "gamma": st.sampled_from([2.0, 1.0])},
         categorical, CAT),
    loss(LO.SparseCategoricalCrossentropy, {"from_logits": logits}, sparse, SPARSE),
    loss(LO.Dice, {}, binary, BIN, edges=("batch1",)),
    loss(LO.Tversky, {"alpha": st.sampled_from([0.5, 0.3]), "beta": st.sampled_from([0.5, 0.7])},
         binary, BIN, edges=("batch1",)),
    loss(LO.LossFunctionWrapper, {"fn": st.sampled_from(["mean_squared_error", "huber"])},
         regression(), LossCase({"fn": "mean_squared_error"}, InputSpec((3, 2)), InputSpec((3, 2))),
         notes="kwargs['fn'] names a function of refkeras.losses"),
]  # fmt: skip

ABSTRACT = {LO.Loss: "base class of all losses"}

# float32 against the float64 reference; float64 itself is exercised by the finite differences
RECORDS = [to_record(r, dtypes=("float32",)) for r in COMPONENTS]


def expected_components() -> list[str]:
    """Every public loss class must have a record (aliases share their class's record)."""
    return expected_names(LO, LO.Loss, ABSTRACT, "loss")
