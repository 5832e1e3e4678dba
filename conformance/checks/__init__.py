"""The checks: each compares one aspect of a backend with the reference for one record.

A check is an object with

* ``name`` (its test id, used in records' ``checks``, in deviations and in the report);
* ``examples_scale``: the fraction of the profile's example count it runs (expensive checks
  such as finite differences run fewer);
* ``strategy(record, dtype)``: the hypothesis strategy of :class:`~conformance.registry.Case`
  it draws from (usually ``record.strategy(dtype)``);
* ``run(record, ctx, case, dtype, factor) -> Outcome``: the max error/bound ratio on one case
  (``factor`` widens the bound, from a declared deviation).  It must not raise for a backend's
  wrong answer; exceptions count as failures with their message.

Modules of this package define ``CHECKS = [...]`` and are collected by :func:`all_checks`, so a
new module (``checks/optimizers.py``) needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """The result of a check on one case: ``ratio`` = max(error / bound) (0 when exact, ``inf``
    for a structural mismatch), ``detail`` = where and why it failed."""

    ratio: float
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.ratio <= 1.0


@dataclass
class Context:
    """What a check needs about the backend under test; ``cache`` holds per-run values
    (the backend's primitive table, compiled functions, ...)."""

    backend: object
    spec: str
    cache: dict = field(default_factory=dict)

    def primitives(self) -> dict:
        if "primitives" not in self.cache:
            self.cache["primitives"] = self.backend.primitives()
        return self.cache["primitives"]


class Check:
    """Base class with the defaults described in the module docstring."""

    name: str = ""
    examples_scale: float = 1.0

    def strategy(self, record, dtype):
        return record.strategy(dtype)

    def dtypes(self, record) -> tuple[str, ...]:
        return record.dtypes

    def run(self, record, ctx: Context, case, dtype, factor: float = 1.0) -> Outcome:
        raise NotImplementedError


def all_checks() -> dict[str, Check]:
    """``{name: check}`` from every module of this package."""
    checks: dict[str, Check] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for check in getattr(module, "CHECKS", ()):
            if check.name in checks:
                raise ValueError(f"Two checks named {check.name!r}")
            checks[check.name] = check
    return checks
