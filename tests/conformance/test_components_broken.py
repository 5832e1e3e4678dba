"""A backend that is subtly wrong in one primitive fails the component checks that use it, and
only where it should (the checks are not vacuous)."""

from __future__ import annotations

import pytest

from conformance import runner

# "module:attr" specs, as the CLI takes them (the repro command must name the backend)
RELU = "component_broken_backends:BrokenReluBackend"
RELU_GRAD = "component_broken_backends:BrokenReluGradBackend"
SQRT = "component_broken_backends:BrokenSqrtBackend"


def _status(report) -> dict:
    return {(r.component, r.check): r.status for r in report.results}


def test_leaky_relu_is_caught_by_layer_forward(tmp_path):
    report = runner.run(RELU, "ci", only="layer.Dense", repro_dir=tmp_path)
    status = _status(report)
    assert status[("layer.Dense", "layer_forward")] == "fail"
    failed = [r for r in report.results if r.status == "fail"]
    assert all(r.repro and "--repro" in r.repro for r in failed)


def test_wrong_relu_gradient_is_caught_by_layer_vjp_only(tmp_path):
    report = runner.run(RELU_GRAD, "ci", only="layer.Dense", repro_dir=tmp_path)
    status = _status(report)
    assert status[("layer.Dense", "layer_vjp")] == "fail"
    assert status[("layer.Dense", "layer_forward")] == "pass"
    assert status[("layer.Dense", "layer_fd")] == "pass"  # the reference is not involved


def test_wrong_sqrt_is_caught_by_the_adam_trajectory(tmp_path):
    report = runner.run(SQRT, "ci", only="optimizer.Adam", repro_dir=tmp_path)
    status = _status(report)
    assert status[("optimizer.Adam", "optimizer_trajectory")] == "fail"
    assert status[("optimizer.Adam", "optimizer_config")] == "pass"  # runs on the reference
    detail = next(r.detail for r in report.results if r.check == "optimizer_trajectory")
    assert "step" in detail


def test_leaky_relu_is_caught_by_fit_and_localised_by_the_step_check(tmp_path):
    report = runner.run(RELU, "ci", only="fit.mlp_dropout", repro_dir=tmp_path)
    status = _status(report)
    assert status[("fit.mlp_dropout", "fit_trajectory")] == "fail"
    assert status[("fit.mlp_dropout", "fit_steps")] == "fail"
    detail = next(r.detail for r in report.results if r.check == "fit_steps")
    assert "first wrong at step 1" in detail  # the error shows where it appears


def test_wrong_fused_adam_kernel_is_caught(tmp_path):
    pytest.importorskip("refkeras.backend.fused", reason="fused-kernel registry not in this tree")
    spec = "component_broken_backends:BrokenAdamKernelBackend"
    report = runner.run(spec, "ci", only="fused.optimizer.adam", repro_dir=tmp_path)
    assert _status(report)[("fused.optimizer.adam", "fused_kernel")] == "fail"
    # the reference has no kernels: the same record is "not applicable" there, not a failure
    ok = runner.run("numpy", "ci", only="fused.optimizer.adam", repro_dir=tmp_path)
    assert _status(ok)[("fused.optimizer.adam", "fused_kernel")] == "pass"
