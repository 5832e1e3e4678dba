"""Records of whole training runs (check f): an MLP with Dropout, a small CNN and a small LSTM,
trained with ``fit`` (same seed, same data, ``shuffle=True``, dropout on) and step by step."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.checks.components import to_record
from conformance.components import ComponentRecord, FitCase

CHECKS = ("fit_trajectory", "fit_steps")
OPTIMIZERS = [("SGD", {"learning_rate": 0.05, "momentum": 0.9}), ("Adam", {"learning_rate": 0.01}),
              ("RMSprop", {"learning_rate": 0.01})]  # fmt: skip


def fit(model: str) -> ComponentRecord:
    cases = st.builds(
        FitCase,
        model=st.just(model),
        optimizer=st.sampled_from(OPTIMIZERS),
        samples=st.sampled_from([10, 12]),
        batch_size=st.sampled_from([3, 4]),
        epochs=st.just(2),
        seed=st.integers(0, 2**16),
    )
    base = FitCase(model, ("Adam", {"learning_rate": 0.01}), samples=12, batch_size=4, epochs=2)
    return ComponentRecord("fit", model, None, cases, (base,), CHECKS)


COMPONENTS = [fit("mlp_dropout"), fit("cnn"), fit("lstm")]
RECORDS = [to_record(r, dtypes=("float32",)) for r in COMPONENTS]
