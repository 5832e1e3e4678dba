"""The component records (layers, losses, metrics, optimizers, schedules) on the NumPy reference
under the ``ci`` profile: float32 against the float64 reference, the reference's gradients
against finite differences in float64, config round trips and weights moved between backends,
optimizer trajectories (every variable and slot at every step).  Plus the coverage rule: a public
class without a record fails."""

from __future__ import annotations

import pytest

from conformance import registry, runner
from conformance.checks.components import expected_names
from refkeras import layers

KINDS = ["layer", "loss", "metric", "optimizer", "schedule"]


def _failures(report) -> list[str]:
    return [
        f"{r.component} {r.check} {r.dtype}: {r.detail} [{r.case}]"
        for r in report.results
        if r.status != "pass"
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_reference_passes_component_records(kind, tmp_path):
    report = runner.run("numpy", profile="ci", only=f"{kind}.*", repro_dir=tmp_path)
    checked = {r.component for r in report.results}
    assert len(checked) >= 5, f"too few {kind} records ran: {sorted(checked)}"
    assert all(r.examples > 0 for r in report.results)
    assert not _failures(report), "\n".join(_failures(report))


def test_every_public_component_class_has_a_record():
    missing = [m for m in registry.missing_records() if m.split(".")[0] in KINDS]
    assert missing == []
    recorded = {r.component for r in registry.all_records()}
    for name in ("layer.Dense", "layer.AveragePooling2D", "loss.Huber", "metric.AUC",
                 "optimizer.Lion", "schedule.CosineDecayRestarts"):  # fmt: skip
        assert name in recorded


def test_a_public_class_without_a_record_fails(monkeypatch):
    class BrandNewLayer(layers.Layer):
        pass

    monkeypatch.setattr(layers, "BrandNewLayer", BrandNewLayer, raising=False)
    assert "layer.BrandNewLayer" in registry.missing_records()
    report = runner.run("numpy", profile="ci", only="layer.BrandNewLayer")
    assert [(r.component, r.status) for r in report.results] == [("layer.BrandNewLayer", "fail")]


def test_aliases_share_their_class_record():
    names = expected_names(layers, layers.Layer, {layers.Layer: ""}, "layer")
    assert "layer.AveragePooling2D" in names and "layer.AvgPool2D" not in names
