"""One registry of plain records: every component the suite checks, and how.

A :class:`Record` names a component (``primitive.conv``, ``layer.Conv2D``, ``loss.Huber``), the
checks that apply to it, a hypothesis strategy drawing its configuration and inputs (a
:class:`Case`) for a given float dtype, edge cases pinned like ``@example`` (zeros, ties, batch
size 1, very large logits), and an :class:`ErrorModel` from which
:mod:`conformance.tolerances` derives the bound.  Nothing about tolerances or cases lives in a
check's body.

Records live in ``conformance/records/<kind>.py``; each such module defines

* ``RECORDS``: a list of :class:`Record`;
* optionally ``expected_components()``: the component names that *must* have a record (for
  primitives: every name of ``refkeras.primitives.interface.ALL_PRIMITIVES``).  A name without a
  record is reported by :func:`missing_records` and fails the suite.

Modules are found with :mod:`pkgutil`, so adding ``records/losses.py`` needs no edit here.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: the float dtypes a record is checked in unless it says otherwise
FLOAT_DTYPES: tuple[str, ...] = ("float32", "float64", "float16", "bfloat16")


@dataclass(frozen=True)
class Case:
    """One configuration and its inputs: ``arrays`` are passed positionally (NumPy arrays, or
    ``None`` for an absent optional array such as an RNN mask), ``params`` as keywords."""

    arrays: tuple
    params: dict = field(default_factory=dict)

    def describe(self) -> str:
        """One line: the input shapes/dtypes and the parameters."""
        arrs = ", ".join(
            "None" if a is None else f"{np.asarray(a).dtype}{list(np.shape(a))}"
            for a in self.arrays
        )
        return f"arrays=({arrs}) params={self.params!r}"


@dataclass(frozen=True)
class ErrorModel:
    """How large a correct backend's error may be; turned into a bound by
    :func:`conformance.tolerances.bound`.

    ``exact``: results must equal the reference (selections, copies, indices, comparisons).
    ``ulps``: the rounding allowed per elementwise evaluation, in units of ``u * |value|``.
    ``reduction``: ``n``, the number of terms summed into one output element (an int, or a
    function of the :class:`Case`); it multiplies ``u`` times the magnitude below.
    ``magnitude``: ``"abs_inputs"`` (the reference evaluated on ``|operands|``: exact for sums
    and products of operands, e.g. ``|a| @ |b|``), ``"abs_output"`` (``|reference|``),
    ``"max_abs_output"`` (the largest ``|reference|`` of the whole output, for recurrences whose
    errors spread over the sequence) or a
    function ``(fn, arrays, params) -> array or tuple`` returning it.
    ``sensitivity``: add the first-order effect of rounding each operand once (the float64
    change of the reference when one operand is scaled by ``1 + u``); off for discontinuous
    functions, where a perturbation would flip a branch.
    """

    exact: bool = False
    ulps: float = 4.0
    reduction: int | Callable[[Case], int] = 1
    magnitude: str | Callable = "abs_inputs"
    sensitivity: bool = True

    def n_terms(self, case: Case) -> int:
        return int(self.reduction(case) if callable(self.reduction) else self.reduction)


EXACT = ErrorModel(exact=True, sensitivity=False)


@dataclass(frozen=True)
class Record:
    """One component of refkeras and how the suite checks it.

    ``component``: ``"<kind>.<name>"``.  ``checks``: names of :mod:`conformance.checks` that
    apply.  ``strategy(dtype)``: a hypothesis strategy of :class:`Case` with float inputs in
    ``dtype``.  ``examples``: pinned cases, each a function ``dtype -> Case`` (run before the
    drawn ones, in every profile).  ``error``/``vjp_error``: error models of the forward result
    and of the cotangents (``vjp_error`` defaults to ``error``).  ``fd_strategy``: cases for the
    finite-difference check (small, away from kinks); defaults to ``strategy``.  ``target``: what
    the checks call (for primitives, the primitive's name).  ``extra``: free-form data for checks
    of other kinds.
    """

    component: str
    checks: tuple[str, ...]
    strategy: Callable[[np.dtype], Any]
    dtypes: tuple[str, ...] = FLOAT_DTYPES
    examples: tuple[Callable[[np.dtype], Case], ...] = ()
    error: ErrorModel = ErrorModel()
    vjp_error: ErrorModel | None = None
    fd_strategy: Callable[[np.dtype], Any] | None = None
    target: str | None = None
    extra: dict = field(default_factory=dict)
    notes: str = ""

    @property
    def kind(self) -> str:
        return self.component.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.component.split(".", 1)[1]


def _record_modules() -> list:
    import conformance.records as package

    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
        if not info.name.startswith("_")
    ]


def all_records() -> list[Record]:
    """Every record of every ``conformance/records/<kind>.py``, in a stable order.  Raises
    ``ValueError`` when two records share a component name."""
    records, seen = [], set()
    for module in _record_modules():
        for record in getattr(module, "RECORDS", ()):
            if record.component in seen:
                raise ValueError(f"Two records for component {record.component!r}")
            seen.add(record.component)
            records.append(record)
    return records


def select(records: Sequence[Record], only: str | None) -> list[Record]:
    """The records whose component matches the glob ``only`` (``"primitive.conv"``,
    ``"primitive.*"``; a pattern without wildcards also matches as a prefix), or all."""
    if not only:
        return list(records)
    patterns = [p.strip() for p in only.split(",") if p.strip()]
    return [
        r
        for r in records
        if any(
            fnmatch.fnmatchcase(r.component, p) or r.component.startswith(p + ".") for p in patterns
        )
    ]


def missing_records() -> list[str]:
    """Component names some records module declares as expected but nobody recorded."""
    recorded = {r.component for r in all_records()}
    expected: set[str] = set()
    for module in _record_modules():
        if hasattr(module, "expected_components"):
            expected |= set(module.expected_components())
    return sorted(expected - recorded)
