"""Each fused kernel of the Numba backend equals the reference composition it replaces
(``refkeras.backend.fused.COMPOSITIONS``): optimizer updates over several steps, float64 tightly,
float32 within rounding; and kernels decline what they cannot reproduce."""

import numpy as np
import pytest

pytest.importorskip("numba")

import refkeras  # noqa: E402
from accel.numba import NumbaBackend  # noqa: E402
from refkeras.backend import dispatch, fused  # noqa: E402

KERNELS = NumbaBackend().fused_kernels()

OPTIMIZERS = [
    ("optimizer.sgd", lambda: refkeras.optimizers.SGD(0.1)),
    ("optimizer.sgd", lambda: refkeras.optimizers.SGD(0.1, momentum=0.9)),
    ("optimizer.sgd", lambda: refkeras.optimizers.SGD(0.1, momentum=0.5, nesterov=True)),
    ("optimizer.adam", lambda: refkeras.optimizers.Adam(0.01)),
    ("optimizer.adam", lambda: refkeras.optimizers.Adam(0.01, amsgrad=True)),
    ("optimizer.adam", lambda: refkeras.optimizers.AdamW(0.01, weight_decay=0.1)),
    ("optimizer.adam", lambda: refkeras.optimizers.Adam(0.01, clipnorm=0.5, use_ema=True)),
    ("optimizer.rmsprop", lambda: refkeras.optimizers.RMSprop(0.01)),
    ("optimizer.rmsprop", lambda: refkeras.optimizers.RMSprop(0.01, momentum=0.9)),
    ("optimizer.rmsprop", lambda: refkeras.optimizers.RMSprop(0.01, centered=True)),
]


def _trajectory(make, dtype, use_kernels, steps=12):
    """Variables and optimizer slots after every step of ``apply`` with fixed gradients."""
    rng = np.random.default_rng(3)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    variables = [refkeras.Variable(rng.normal(size=s).astype(dtype)) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(steps)]
    optimizer = make()
    saved = dict(dispatch._backend)
    dispatch._backend["fused"] = dict(KERNELS) if use_kernels else {}
    try:
        states = []
        for g in grads:
            optimizer.apply(g, variables)
            states.append([v.numpy() for v in variables + optimizer.variables])
    finally:
        dispatch._backend.update(saved)
    return states


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, make", OPTIMIZERS)
def test_optimizer_kernel_equals_the_composition(name, make, dtype):
    assert name in KERNELS and name in fused.COMPOSITIONS
    reference = _trajectory(make, dtype, use_kernels=False)
    kernel = _trajectory(make, dtype, use_kernels=True)
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    for step, (expected, actual) in enumerate(zip(reference, kernel)):
        for e, a in zip(expected, actual):
            assert a.dtype == e.dtype
            np.testing.assert_allclose(a, e, rtol=rtol, atol=rtol, err_msg=f"step {step}")


def test_the_kernel_really_runs_and_declines_overridden_update_steps():
    calls = []

    class Counting(refkeras.optimizers.Adam):
        pass

    class Custom(refkeras.optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            calls.append(variable.name)
            super().update_step(gradient, variable, learning_rate)

    variable = refkeras.Variable(np.ones(3, np.float32), name="w")
    kernel = KERNELS["optimizer.adam"]
    grads = [np.ones(3, np.float32)]
    opt = Counting(0.1)
    opt.build([variable])
    assert kernel(opt, grads, [variable], opt.learning_rate) is None
    assert not np.allclose(variable.numpy(), 1.0)  # the kernel updated the variable
    custom = Custom(0.1)
    custom.build([variable])
    assert kernel(custom, grads, [variable], custom.learning_rate) is NotImplemented
    with dispatch.using(NumbaBackend()):
        custom.apply(grads, [variable])
    assert calls == ["w"]  # the composition ran (the user's update_step)


def test_float16_variables_fall_back_to_the_composition():
    variable = refkeras.Variable(np.ones(3, np.float16))
    opt = refkeras.optimizers.SGD(0.5)
    opt.build([variable])
    assert KERNELS["optimizer.sgd"](opt, [np.ones(3, np.float16)], [variable], 0.5) is (
        NotImplemented
    )
