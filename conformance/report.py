"""The report: one row per (component, check, dtype) with its status and max error/bound, as a
table on stdout and as JSON::

    {"backend": "numba", "backend_name": "numba", "profile": "ci",
     "records": [{"component": "primitive.conv", "check": "forward", "dtype": "float32",
                  "status": "pass", "max_error_ratio": 0.013, "examples": 7}, ...],
     "unexpected_passes": [...], "warnings": [...]}

``status`` is ``pass``, ``fail``, ``skip`` or ``xfail``; ``max_error_ratio`` is
max(error / bound) over the examples (``null`` when skipped, ``"inf"`` for a structural
mismatch or an exception).  Failures also carry ``detail``, ``case``, ``seed`` and ``repro``
(the command that reruns the case).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

STATUSES = ("pass", "fail", "skip", "xfail")


@dataclass
class Result:
    component: str
    check: str
    dtype: str
    status: str
    max_error_ratio: float | None
    examples: int
    detail: str = ""
    reason: str = ""
    note: str = ""
    case: str = ""
    seed: str = ""
    repro: str = ""
    unexpected_pass: bool = False

    def ratio_text(self) -> str:
        r = self.max_error_ratio
        if r is None:
            return "-"
        return "inf" if math.isinf(r) else f"{r:.3g}"

    def line(self) -> str:
        extra = self.note or (self.reason if self.status in ("skip", "xfail") else "")
        return (
            f"{self.component:<28} {self.check:<10} {self.dtype:<9} {self.status.upper():<6} "
            f"{self.ratio_text():>8} {self.examples:>5}  {extra}"
        ).rstrip()

    def to_json(self) -> dict:
        r = self.max_error_ratio
        out = {
            "component": self.component,
            "check": self.check,
            "dtype": self.dtype,
            "status": self.status,
            "max_error_ratio": None if r is None else ("inf" if math.isinf(r) else float(r)),
            "examples": self.examples,
        }
        for key in ("detail", "reason", "note", "case", "seed", "repro"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass
class Report:
    backend: str
    backend_name: str
    profile: str
    results: list[Result] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, result: Result) -> None:
        assert result.status in STATUSES, result.status
        self.results.append(result)

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.status == "fail"]

    @property
    def unexpected_passes(self) -> list[Result]:
        return [r for r in self.results if r.unexpected_pass]

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    def header(self) -> str:
        return (
            f"{'component':<28} {'check':<10} {'dtype':<9} {'status':<6} "
            f"{'err/bound':>8} {'exmpl':>5}"
        )

    def table(self) -> str:
        return "\n".join([self.header(), *(r.line() for r in self.results)])

    def summary(self) -> str:
        """The closing lines: counts, failures with their repro commands, notices."""
        c = self.counts()
        finite = [
            r.max_error_ratio
            for r in self.results
            if r.status == "pass" and r.max_error_ratio is not None
        ]
        worst = f", worst passing error/bound {max(finite):.3g}" if finite else ""
        lines = [
            f"backend {self.backend} ({self.backend_name}), profile {self.profile}: "
            f"{c['pass']} passed, {c['fail']} failed, {c['xfail']} xfailed, {c['skip']} skipped"
            f"{worst}"
        ]
        for r in self.failures:
            lines.append(f"FAIL {r.component} / {r.check} / {r.dtype}: {r.detail}")
            if r.case:
                lines.append(f"  case: {r.case}")
            if r.seed:
                lines.append(f"  seed: {r.seed}")
            if r.repro:
                lines.append(f"  rerun: {r.repro}")
        for r in self.unexpected_passes:
            lines.append(f"UNEXPECTED PASS {r.component} / {r.check} / {r.dtype}: {r.reason}")
        for w in self.warnings:
            lines.append(f"WARNING {w}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "backend": self.backend,
            "backend_name": self.backend_name,
            "profile": self.profile,
            "records": [r.to_json() for r in self.results],
            "unexpected_passes": [
                {"component": r.component, "check": r.check, "dtype": r.dtype}
                for r in self.unexpected_passes
            ],
            "warnings": list(self.warnings),
        }

    def write_json(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, indent=1)
            f.write("\n")
