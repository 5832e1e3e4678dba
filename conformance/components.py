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


# --- comparison (error, bound) -------------------------------------------------------------------

_EPS = {
    "float64": float(np.finfo(np.float64).eps),
    "float32": float(np.finfo(np.float32).eps),
    "float16": float(np.finfo(np.float16).eps),
    "bfloat16": 2.0**-7,
}


def eps(dtype: str) -> float:
    """Machine epsilon of ``dtype`` (float64 for non-float dtypes)."""
    return _EPS.get(str(dtype), _EPS["float64"])


def error_bound(
    actual,
    expected,
    dtype: str,
    n: int = 1,
    magnitude: float | None = None,
    factor: float = 8.0,
    extra: float = 0.0,
) -> tuple[float, float]:
    """``(max |actual - expected|, bound)`` for a result computed in ``dtype``.

    The bound is ``factor * eps(dtype) * sqrt(n) * magnitude`` plus the rounding of the result
    itself (``eps * |expected|``): ``n`` is the length of the reductions that produced the result
    (error of a sum of ``n`` terms grows like ``sqrt(n) eps`` on average, ``n eps`` at worst) and
    ``magnitude`` the size of the terms (default: ``max |expected|``, at least the smallest normal
    of the dtype so exact zeros compare).  A NaN or infinity where the reference is finite gives an
    infinite error; NaN where the reference has NaN is equal.  ``extra`` is added to the bound (a
    sensitivity measured by the check, see ``checks/layer.py``).
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"shape {a.shape} != reference shape {e.shape}")
    same_nan = np.isnan(a) & np.isnan(e)
    same_inf = np.isinf(a) & np.isinf(e) & (np.sign(a) == np.sign(e))
    finite = np.isfinite(e)
    mag = (
        magnitude
        if magnitude is not None
        else (float(np.max(np.abs(e[finite]))) if finite.any() else 0.0)
    )
    mag = max(mag, 1e-30)
    diff = np.where(same_nan | same_inf, 0.0, np.abs(a - e))
    diff = np.where(np.isnan(diff), np.inf, diff)
    err = float(np.max(diff)) if diff.size else 0.0
    bound = factor * eps(dtype) * (np.sqrt(max(n, 1)) * mag) + extra
    return err, float(bound)


def ratio(pair: tuple[float, float]) -> float:
    err, bound = pair
    if err == 0.0:
        return 0.0
    return err / bound if bound > 0 else float("inf")


@dataclasses.dataclass
class Comparison:
    """Named ``(error, bound)`` pairs of one check on one case; ``worst`` is the largest ratio."""

    pairs: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)

    def add(self, name: str, pair: tuple[float, float]) -> None:
        self.pairs[name] = pair

    def worst(self) -> tuple[str, float]:
        if not self.pairs:
            return "", 0.0
        name = max(self.pairs, key=lambda k: ratio(self.pairs[k]))
        return name, ratio(self.pairs[name])

    def failures(self) -> dict[str, tuple[float, float]]:
        return {k: p for k, p in self.pairs.items() if ratio(p) > 1.0}

    def assert_ok(self, context: str = "") -> None:
        bad = self.failures()
        if bad:
            lines = [f"  {k}: error {e:.3g} > bound {b:.3g} (ratio {ratio((e, b)):.3g})"
                     for k, (e, b) in bad.items()]  # fmt: skip
            raise AssertionError(f"{context}\n" + "\n".join(lines))


def as_strategy(value: Any) -> st.SearchStrategy:
    """``value`` if it is already a strategy, else ``st.just(value)``."""
    return value if isinstance(value, st.SearchStrategy) else st.just(value)
