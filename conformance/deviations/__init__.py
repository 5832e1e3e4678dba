"""Declared deviations of a backend: ``conformance/deviations/<backend name>.toml``.

Each entry (an array of tables named ``deviation``)::

    [[deviation]]
    component = "primitive.erf"      # glob over component names
    check = "forward"                # glob over check names ("*" for all)
    dtype = "bfloat16"               # optional glob; all dtypes when absent
    action = "tolerance"             # "skip" | "xfail" | "tolerance"
    factor = 4                       # with "tolerance": the bound is multiplied by it
    reason = "XLA computes erf in float32 with a rational approximation ..."

The first matching entry applies.  An ``xfail`` entry whose check passes is reported as an
unexpected pass; an entry that matches no (component, check, dtype) of the registry triggers a
warning.  Third-party backends pass their own file with ``--deviations FILE``.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ACTIONS = ("skip", "xfail", "tolerance")


@dataclass
class Deviation:
    component: str
    check: str
    action: str
    reason: str
    dtype: str | None = None
    factor: float = 1.0
    source: str = ""

    def matches(self, component: str, check: str, dtype: str) -> bool:
        return (
            fnmatch.fnmatchcase(component, self.component)
            and fnmatch.fnmatchcase(check, self.check)
            and (self.dtype is None or fnmatch.fnmatchcase(dtype, self.dtype))
        )

    def describe(self) -> str:
        dtype = f", dtype={self.dtype!r}" if self.dtype else ""
        return f"{self.action} {self.component!r} check={self.check!r}{dtype} ({self.source})"


def parse(text: str, source: str) -> list[Deviation]:
    """The deviations of one TOML document; ``ValueError`` naming the entry when malformed."""
    data = tomllib.loads(text)
    unknown = set(data) - {"deviation"}
    if unknown:
        raise ValueError(
            f"{source}: unknown top-level keys {sorted(unknown)}; expected [[deviation]]"
        )
    out = []
    for i, entry in enumerate(data.get("deviation", [])):
        where = f"{source} deviation #{i + 1}"
        missing = {"component", "check", "action", "reason"} - set(entry)
        if missing:
            raise ValueError(f"{where}: missing {sorted(missing)}. Received: {entry}")
        extra = set(entry) - {"component", "check", "action", "reason", "dtype", "factor"}
        if extra:
            raise ValueError(f"{where}: unknown keys {sorted(extra)}. Received: {entry}")
        if entry["action"] not in ACTIONS:
            raise ValueError(f"{where}: action must be one of {ACTIONS}, got {entry['action']!r}")
        if not str(entry["reason"]).strip():
            raise ValueError(f"{where}: every deviation needs a reason")
        factor = float(entry.get("factor", 1.0))
        if entry["action"] == "tolerance" and not factor > 1:
            raise ValueError(f"{where}: action 'tolerance' needs factor > 1, got {factor}")
        out.append(
            Deviation(
                component=entry["component"],
                check=entry["check"],
                action=entry["action"],
                reason=entry["reason"],
                dtype=entry.get("dtype"),
                factor=factor,
                source=where,
            )
        )
    return out


def load(backend_name: str, path: str | Path | None = None) -> list[Deviation]:
    """The deviations in ``path`` or, by default, the packaged file of ``backend_name`` (none
    when there is no such file)."""
    if path is not None:
        path = Path(path)
        return parse(path.read_text(encoding="utf-8"), path.name)
    packaged = resources.files(__name__).joinpath(f"{backend_name}.toml")
    if not packaged.is_file():
        return []
    return parse(packaged.read_text(encoding="utf-8"), f"{backend_name}.toml")


def find(deviations: list[Deviation], component: str, check: str, dtype: str):
    """The first deviation matching, or ``None``."""
    for d in deviations:
        if d.matches(component, check, dtype):
            return d
    return None
