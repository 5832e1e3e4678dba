"""Profiles: how many examples each check draws and how hypothesis searches.

* ``ci``: derandomized (the same cases on every run), a few examples per (record, check,
  dtype), no deadline, no example database: the whole suite for one backend in a minute or two;
  runs inside ``pytest``.  JAX compiles every op (or jitted primitive) once per input shape, and
  every draw has new shapes, so a draw costs ~0.1-0.3 s of compilation there (against ~1 ms on
  NumPy/Numba): the ``ci`` budget for ``jax`` is the pinned examples plus one draw per (record,
  check, dtype) -- still a different draw for each dtype.  The report gives the count run.
* ``nightly``: many more examples from a fresh random seed (printed), and
  ``hypothesis.target`` steering the search towards large error/bound ratios.
* ``repro``: no search; rerun one saved case (``--repro FILE``).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int
    derandomize: bool
    target: bool
    #: ``(backend name, max_examples)`` pairs overriding ``max_examples`` for that backend
    per_backend: tuple[tuple[str, int], ...] = ()

    def examples_for(self, backend: str | None) -> int:
        """The hypothesis example budget (before a check's scale) for backend ``backend``."""
        return dict(self.per_backend).get(backend, self.max_examples)

    def settings(
        self, scale: float = 1.0, seeded: bool = False, backend: str | None = None
    ) -> settings:
        """Hypothesis settings for one (record, check, dtype) on ``backend`` (its name);
        ``seeded``: an explicit seed is given (so the run is reproducible without
        derandomizing)."""
        phases = [Phase.explicit, Phase.generate, Phase.shrink]
        if self.target:
            phases.insert(2, Phase.target)
        return settings(
            max_examples=max(1, round(self.examples_for(backend) * scale)),
            derandomize=self.derandomize and not seeded,
            deadline=None,
            database=None,
            phases=phases,
            report_multiple_bugs=False,
            print_blob=False,
            suppress_health_check=list(HealthCheck),
        )


PROFILES = {
    "ci": Profile("ci", max_examples=6, derandomize=True, target=False, per_backend=(("jax", 1),)),
    "nightly": Profile("nightly", max_examples=200, derandomize=False, target=True),
    "repro": Profile("repro", max_examples=0, derandomize=True, target=False),
}


def get(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"Unknown conformance profile {name!r}; expected one of {sorted(PROFILES)}."
        ) from None
