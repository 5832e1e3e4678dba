"""Shared pieces of the loss and metric records: how ``y_true`` / ``y_pred`` look for each family
of component, and the case strategy built from a record's configuration."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from conformance.components import ComponentRecord, InputSpec, LossCase, as_strategy

batch = st.integers(1, 4)
classes = st.integers(2, 4)


def _shape(draw, rank=2):
    return (draw(batch), *[draw(classes) for _ in range(rank - 1)])


# Each pair function: (draw, kwargs) -> (y_true spec, y_pred spec)


def regression(pattern_true="normal", pattern_pred="normal"):
    def pair(draw, kwargs):
        shape = _shape(draw, draw(st.integers(1, 3)))
        return InputSpec(shape, pattern_true), InputSpec(shape, pattern_pred)

    return pair


def binary(draw, kwargs):
    shape = _shape(draw, draw(st.integers(1, 2)))
    logits = kwargs.get("from_logits", False)
    return InputSpec(shape, kind="binary"), InputSpec(shape, "normal" if logits else "unit")


def categorical(draw, kwargs):
    shape = _shape(draw)
    logits = kwargs.get("from_logits", False)
    pred = InputSpec(shape, "normal") if logits else InputSpec(shape, kind="prob")
    return InputSpec(shape, kind="onehot"), pred


def sparse(draw, kwargs):
    shape = _shape(draw)
    logits = kwargs.get("from_logits", False)
    pred = InputSpec(shape, "normal") if logits else InputSpec(shape, kind="prob")
    return InputSpec(shape[:1], kind="int", high=shape[-1]), pred


def probabilities(draw, kwargs):
    shape = _shape(draw)
    return InputSpec(shape, kind="prob"), InputSpec(shape, kind="prob")


def record(
    kind: str,
    cls,
    config: dict,
    pair,
    base: LossCase,
    *,
    checks: tuple,
    sample_weight=st.booleans(),
    batches=1,
    edges=("zeros", "ties", "large", "batch1"),
    fd: bool = True,
    notes: str = "",
) -> ComponentRecord:
    """A loss or metric record; ``edges`` names the pinned variants of ``base``."""

    @st.composite
    def cases(draw):
        kwargs = {k: draw(as_strategy(v)) for k, v in config.items()}
        y_true, y_pred = pair(draw, kwargs)
        return LossCase(
            kwargs=kwargs,
            y_true=y_true,
            y_pred=y_pred,
            dtype=draw(st.sampled_from(["float32", "float64"])),
            sample_weight=draw(as_strategy(sample_weight)),
            batches=draw(as_strategy(batches)),
            seed=draw(st.integers(0, 2**16)),
        )

    examples = [base]
    for edge in edges:
        pred = base.y_pred
        if edge == "batch1":
            true = dataclasses.replace(base.y_true, shape=(1, *base.y_true.shape[1:]))
            pred = dataclasses.replace(pred, shape=(1, *pred.shape[1:]))
            examples.append(dataclasses.replace(base, y_true=true, y_pred=pred, seed=base.seed + 1))
        elif pred.pattern == "unit" and edge == "ties":  # probabilities in (0, 1)
            pred = dataclasses.replace(pred, pattern="unit_ties")
            examples.append(dataclasses.replace(base, y_pred=pred, smooth=False))
        elif (pred.kind == "float" and pred.pattern == "normal") or edge == "ties":
            # zeros/large only where y_pred is unconstrained (logits, regression values)
            pred = dataclasses.replace(pred, pattern=edge)
            examples.append(dataclasses.replace(base, y_pred=pred, smooth=False))
    return ComponentRecord(kind=kind, name=cls.__name__, cls=cls, cases=cases(),
                           examples=tuple(examples), checks=checks, fd=fd, notes=notes)  # fmt: skip
