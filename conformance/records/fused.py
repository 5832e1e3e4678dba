"""Records of the fused kernels: one per reference composition of
:data:`refkeras.backend.fused.COMPOSITIONS` (a composition without a record fails the suite).
Each draws optimizer configurations for the ``fused_kernel`` check; a backend without a kernel
for a composition gets "not applicable"."""

from __future__ import annotations

import dataclasses

from conformance.checks.components import to_record
from conformance.records import optimizers as opt_records
from refkeras import optimizers as O

#: composition name -> the optimizer class whose update_step it runs
OPTIMIZER_COMPOSITIONS = {"optimizer.sgd": O.SGD, "optimizer.adam": O.Adam,
                          "optimizer.rmsprop": O.RMSprop}  # fmt: skip


def _compositions() -> list[str]:
    try:
        from refkeras.backend import fused
    except ImportError:  # the fused-kernel registry is not in this tree yet
        return []
    return sorted(fused.COMPOSITIONS)


def _record(name: str):
    cls = OPTIMIZER_COMPOSITIONS[name]
    base = next(r for r in opt_records.COMPONENTS if r.cls is cls)
    return dataclasses.replace(base, kind="fused", name=name, checks=("fused_kernel",))


COMPONENTS = [_record(n) for n in _compositions() if n in OPTIMIZER_COMPOSITIONS]
RECORDS = [to_record(r, dtypes=("float32",)) for r in COMPONENTS]


def expected_components() -> list[str]:
    return [f"fused.{n}" for n in _compositions()]
