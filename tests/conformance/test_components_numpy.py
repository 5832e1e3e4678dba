"""Coverage of the component records: a public layer, loss, metric, optimizer or schedule class
without a record fails.  (The records themselves run on every available backend, one test id per
(backend, record, check), in ``test_suite.py``.)"""

from __future__ import annotations

from conformance import registry, runner
from conformance.checks.components import expected_names
from refkeras import layers

KINDS = ["layer", "loss", "metric", "optimizer", "schedule"]


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
