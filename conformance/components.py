"""Component records: layers, losses, metrics, optimizers, schedules, fused kernels, fit runs.

A :class:`ComponentRecord` is a plain record (no behaviour): which public class it covers, a
hypothesis strategy drawing one *case* (the constructor arguments plus a description of the
inputs: shapes, dtype, a seed and a value pattern), the cases pinned with ``@example`` (zeros,
ties, batch size 1, very large logits) and the checks that apply.  The records live in
``conformance/records/<kind>.py`` (one ``RECORDS`` list per kind); the checks that run them live in
``conformance/checks/`` (``layer.py``, ``loss_metric.py``, ``optimizer.py``, ``fused.py``,
``fit.py``).

Cases describe inputs instead of holding arrays, so that a failing case prints in one line and is
rebuilt exactly from it: :func:`make_values` turns ``(shape, pattern, seed, dtype)`` into an array.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from hypothesis import strategies as st

#: the value patterns of inputs: random normal, exact zeros, a few repeated levels (ties for
#: max/argmax/sort), very large magnitudes (logits of +-1e4), strictly positive values
PATTERNS = ("normal", "zeros", "ties", "large", "positive")


@dataclasses.dataclass(frozen=True)
class ComponentRecord:
    """One public component and how to exercise it.

    Attributes:
        kind: ``"layer"``, ``"loss"``, ``"metric"``, ``"optimizer"``, ``"schedule"``, ``"fused"``
            or ``"fit"``.
        name: the public name (``"Dense"``); for ``fused`` the composition name.
        cls: the class covered (``None`` for fused kernels and fit runs).
        cases: a hypothesis strategy drawing one case (a dataclass of this module).
        examples: cases always run (hypothesis ``@example``): the edge cases.
        checks: the check ids that apply to this record.
        fd: whether finite differences (float64) are meaningful for its gradients.
        notes: why a check does not apply, or anything a reader of the report should know.
    """

    kind: str
    name: str
    cls: type | None
    cases: st.SearchStrategy
    examples: tuple = ()
    checks: tuple[str, ...] = ()
    fd: bool = True
    notes: str = ""

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


# --- cases ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One input array: ``shape``, value ``pattern`` (see :data:`PATTERNS`), ``kind`` ``"float"``,
    ``"int"`` (integers in ``[0, high)``), ``"onehot"`` (one-hot rows of the last axis),
    ``"binary"`` (0/1 floats) or ``"prob"`` (rows summing to 1 along the last axis)."""

    shape: tuple
    pattern: str = "normal"
    kind: str = "float"
    high: int = 2


@dataclasses.dataclass(frozen=True)
class LayerCase:
    """A layer: constructor ``kwargs``, its inputs, ``training`` and an optional time ``mask``
    (``(batch, steps)`` booleans drawn from ``seed``) passed as ``mask=``."""

    kwargs: dict
    inputs: tuple  # of InputSpec
    dtype: str = "float32"
    training: bool = False
    mask: bool = False
    seed: int = 0
    smooth: bool = True  # finite differences meaningful (no ties/kinks by construction)


@dataclasses.dataclass(frozen=True)
class LossCase:
    """A loss or metric: constructor ``kwargs``, ``y_true`` and ``y_pred`` specs, whether a sample
    weight is passed, and (metrics) how many ``update_state`` batches."""

    kwargs: dict
    y_true: InputSpec
    y_pred: InputSpec
    dtype: str = "float32"
    sample_weight: bool = False
    batches: int = 1
    seed: int = 0
    smooth: bool = True


@dataclasses.dataclass(frozen=True)
class OptimizerCase:
    """An optimizer: constructor ``kwargs``, the variable shapes and ``steps`` steps of random
    gradients (drawn from ``seed``)."""

    kwargs: dict
    shapes: tuple
    dtype: str = "float32"
    steps: int = 10
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class ScheduleCase:
    """A learning-rate schedule: constructor ``kwargs`` and the steps at which to evaluate it."""

    kwargs: dict
    steps: tuple
    dtype: str = "float32"


@dataclasses.dataclass(frozen=True)
class FusedCase:
    """A fused kernel: its argument specs (arrays) and static parameters."""

    inputs: tuple  # of InputSpec
    params: dict
    dtype: str = "float32"
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class FitCase:
    """A whole ``fit`` run: a model builder name (``conformance.records.fit.MODELS``), the
    optimizer, samples, batch size, epochs and the seed of weights, data, shuffling and dropout."""

    model: str
    optimizer: tuple  # (class name, kwargs)
    samples: int = 12
    batch_size: int = 4
    epochs: int = 2
    seed: int = 0
    dtype: str = "float32"


# --- input values --------------------------------------------------------------------------------


def make_values(spec: InputSpec, seed: int, dtype: str = "float64", salt: int = 0) -> np.ndarray:
    """The array described by ``spec`` (the same for the same arguments, on any machine)."""
    rng = np.random.default_rng([seed, salt])
    shape = tuple(spec.shape)
    if spec.kind == "int":
        return rng.integers(0, spec.high, shape).astype("int32")
    if spec.kind == "onehot":
        return np.eye(shape[-1], dtype=dtype)[rng.integers(0, shape[-1], shape[:-1])]
    if spec.kind == "binary":
        return rng.integers(0, 2, shape).astype(dtype)
    if spec.kind == "prob":
        if spec.pattern == "ties":
            return np.full(shape, 1.0 / shape[-1], dtype=dtype)
        p = rng.uniform(0.05, 1.0, shape)
        return (p / p.sum(axis=-1, keepdims=True)).astype(dtype)
    if spec.pattern == "zeros":
        return np.zeros(shape, dtype=dtype)
    if spec.pattern == "ties":  # three levels: many exact ties
        return rng.integers(-1, 2, shape).astype(dtype)
    if spec.pattern == "large":
        return (rng.standard_normal(shape) * 1e4).astype(dtype)
    if spec.pattern == "positive":
        return rng.uniform(0.1, 2.0, shape).astype(dtype)
    if spec.pattern == "unit_ties":  # probabilities on three levels
        return rng.choice([0.25, 0.5, 0.75], shape).astype(dtype)
    if spec.pattern == "unit":  # in (0, 1): probabilities for binary losses
        return rng.uniform(0.05, 0.95, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def random_weights(variables, seed: int) -> list[np.ndarray]:
    """Random float64 values for ``variables`` (variances/stddevs positive, integers kept)."""
    rng = np.random.default_rng([seed, 7])
    out = []
    for v in variables:
        name = v.path.split("/")[-1]
        value = np.asarray(v.numpy())
        if value.dtype.kind != "f":
            out.append(value)
        elif "variance" in name or "stddev" in name:
            out.append(rng.uniform(0.5, 2.0, value.shape))
        else:
            out.append(rng.standard_normal(value.shape) * 0.7)
    return out


# --- comparison: error / bound through conformance.tolerances ------------------------------------


def allowed_error(
    expected,
    moved,
    dtype: str,
    n: int = 1,
    steps: int = 1,
    ulps: float = 4.0,
    magnitude=0.0,
    in_dtype=None,
):
    """The bound of :mod:`conformance.tolerances` for a composite component (a layer, a loss, an
    optimizer step), elementwise::

        ulps * (u |y| + S + tiny) + u * n * steps * M

    ``u`` is the unit roundoff of ``dtype``, ``S = |moved - expected|`` the reference's own change
    when every float input and variable is moved by a relative ``u`` (the sensitivity: it grows
    where the computation is ill-conditioned: cancellations, large logits, near-ties), ``n`` the
    length of the reductions behind a result, ``M`` the magnitude of the terms: the larger of
    ``max |expected|`` and ``magnitude`` (checks pass the reference evaluated on absolute values
    of all operands, Higham's ``|a| @ |b|``, where that is meaningful) and ``steps`` the number of
    chained updates (optimizer and fit trajectories: the bound grows with the step).

    A component chains several roundings whose effect the operand perturbation does not see (an
    activation's derivative computed from its rounded output: ``1 - tanh^2`` near saturation
    loses ``u / (1 - out^2)`` relatively), so ``S`` also includes ``|in_dtype - expected|``: the
    reference algorithm itself run in ``dtype`` (what an honest implementation in that dtype
    gives).
    """
    from conformance import tolerances as tol

    e = np.abs(np.asarray(expected, np.float64))
    finite = np.isfinite(e)
    mag = max(float(e[finite].max()) if finite.any() else 0.0, magnitude)
    u = tol.unit_roundoff(dtype)
    with np.errstate(all="ignore"):
        sens = np.abs(np.asarray(moved, np.float64) - np.asarray(expected, np.float64))
        if in_dtype is not None:
            sens = sens + np.abs(
                np.asarray(in_dtype, np.float64) - np.asarray(expected, np.float64)
            )
    sens = np.where(np.isfinite(sens), sens, 0.0)
    b = ulps * (u * np.where(finite, e, 0.0) + sens + tol.tiny(dtype)) + u * n * steps * mag
    return b


@dataclasses.dataclass
class Comparison:
    """The ratios ``max(error / bound)`` of the named results of one check on one case."""

    ratios: dict[str, float] = dataclasses.field(default_factory=dict)
    details: dict[str, str] = dataclasses.field(default_factory=dict)

    def check(
        self,
        name,
        actual,
        expected,
        dtype,
        n=1,
        moved=None,
        steps=1,
        factor=1.0,
        magnitude=0.0,
        in_dtype=None,
    ):
        """Compare ``actual`` (the backend, in ``dtype``) with ``expected`` (the reference);
        ``moved``: the reference on inputs moved by one rounding (see :func:`allowed_error`)."""
        from conformance import tolerances as tol

        actual, expected = np.asarray(actual), np.asarray(expected)
        if actual.shape != expected.shape:
            self.ratios[name] = float("inf")
            self.details[name] = f"shape {actual.shape} != reference shape {expected.shape}"
            return
        moved = expected if moved is None else moved
        kind_dtype = dtype if expected.dtype.kind == "f" else str(expected.dtype)
        if in_dtype is not None and np.shape(in_dtype) != expected.shape:
            in_dtype = None
        allowed = factor * allowed_error(
            expected, moved, dtype, n, steps, magnitude=magnitude, in_dtype=in_dtype
        )
        r, detail = tol.error_ratio(actual, expected, allowed, kind_dtype)
        self.ratios[name] = max(self.ratios.get(name, 0.0), r)
        if detail:
            self.details[name] = detail

    def exact(self, name, actual, expected):
        """``actual`` must equal ``expected`` bit for bit (NaN equal to NaN)."""
        a, e = np.asarray(actual), np.asarray(expected)
        same = a.shape == e.shape and a.dtype == e.dtype and np.array_equal(a, e, equal_nan=True)
        self.ratios[name] = 0.0 if same else float("inf")
        if not same:
            self.details[name] = (
                f"not identical: {a.dtype}{list(a.shape)} vs {e.dtype}{list(e.shape)}"
            )

    def fail(self, name: str, detail: str) -> None:
        self.ratios[name] = float("inf")
        self.details[name] = detail

    def worst(self) -> tuple[str, float]:
        if not self.ratios:
            return "", 0.0
        name = max(self.ratios, key=self.ratios.get)
        return name, self.ratios[name]

    def failures(self) -> dict[str, str]:
        return {k: self.details.get(k, "") for k, r in self.ratios.items() if not r <= 1.0}

    def summary(self) -> str:
        return "; ".join(f"{k}: ratio {self.ratios[k]:.3g} {d}" for k, d in self.failures().items())

    def assert_ok(self, context: str = "") -> None:
        if self.failures():
            raise AssertionError(f"{context} {self.summary()}")


def as_strategy(value: Any) -> st.SearchStrategy:
    """``value`` if it is already a strategy, else ``st.just(value)``."""
    return value if isinstance(value, st.SearchStrategy) else st.just(value)
