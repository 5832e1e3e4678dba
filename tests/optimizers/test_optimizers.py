"""The Optimizer base and the optimizers' own behaviour: the update rules in closed form, the step
counter, None gradients, constraints, the stateless form, learning-rate handling, state, config
round trips, ``get`` and argument validation. (Step-by-step equality with Keras 3 is in
``tests/parity/test_optimizers_parity.py``.)"""

import warnings

import numpy as np
import pytest

import refkeras
from refkeras import ops, optimizers
from refkeras.optimizers import schedules
from refkeras.utils.naming import name_scope

ALL = [
    optimizers.SGD,
    optimizers.RMSprop,
    optimizers.Adam,
    optimizers.AdamW,
    optimizers.Adagrad,
    optimizers.Adamax,
    optimizers.Nadam,
    optimizers.Adadelta,
    optimizers.Ftrl,
    optimizers.Lion,
]


def _vars():
    return [
        refkeras.Variable(np.array([[1.0, -2.0], [3.0, 0.5]], "float32"), name="kernel"),
        refkeras.Variable(np.array([0.1, -0.2], "float32"), name="bias"),
    ]


def _grads():
    return [np.array([[0.5, -1.0], [2.0, 0.1]], "float32"), np.array([-0.3, 0.4], "float32")]


# --- the update rules, in float64 closed form -----------------------------------------------------


def test_sgd_momentum_and_nesterov_rules():
    w0, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    for nesterov in (False, True):
        w = refkeras.Variable(w0.astype("float32"), name="w")
        opt = optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=nesterov)
        m, want = np.zeros(2), w0.copy()
        for _ in range(3):
            opt.apply_gradients([(g.astype("float32"), w)])
            m = 0.9 * m - 0.1 * g
            want = want + (0.9 * m - 0.1 * g if nesterov else m)
        np.testing.assert_allclose(w.numpy(), want, rtol=1e-6)


def test_adam_rule_folds_bias_correction_into_the_step():
    w0, g = np.array([1.0, -2.0]), np.array([0.5, -0.25])
    w = refkeras.Variable(w0.astype("float32"), name="w")
    opt = optimizers.Adam(learning_rate=0.01)
    m = v = np.zeros(2)
    want = w0.copy()
    for t in (1, 2, 3):
        opt.apply_gradients([(g.astype("float32"), w)])
        alpha = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        m = m + (g - m) * (1 - 0.9)
        v = v + (g**2 - v) * (1 - 0.999)
        want = want - m * alpha / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(w.numpy(), want, rtol=1e-6)


def test_rmsprop_and_adagrad_put_epsilon_inside_the_root():
    g = np.array([0.5, -0.25])
    w = refkeras.Variable(np.zeros(2, "float32"), name="w")
    optimizers.RMSprop(learning_rate=0.01, epsilon=0.1).apply_gradients([(g.astype("float32"), w)])
    np.testing.assert_allclose(w.numpy(), -0.01 * g / np.sqrt(0.1 * g**2 + 0.1), rtol=1e-6)
    w = refkeras.Variable(np.zeros(2, "float32"), name="w")
    optimizers.Adagrad(learning_rate=0.1, epsilon=0.1).apply_gradients([(g.astype("float32"), w)])
    np.testing.assert_allclose(w.numpy(), -0.1 * g / np.sqrt(0.1 + g**2 + 0.1), rtol=1e-6)


def test_weight_decay_is_decoupled_and_applied_before_the_update():
    w = refkeras.Variable(np.array([2.0, -4.0], "float32"), name="w")
    optimizers.SGD(learning_rate=0.1, weight_decay=0.5).apply_gradients(
        [(np.array([1.0, 1.0], "float32"), w)]
    )
    decayed = np.array([2.0, -4.0]) * (1 - 0.5 * 0.1)
    np.testing.assert_allclose(w.numpy(), decayed - 0.1 * 1.0, rtol=1e-6)


def test_exclude_from_weight_decay_by_variable_and_by_name():
    kernel, bias = _vars()
    other = refkeras.Variable(np.ones(2, "float32"), name="other")
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=1.0)
    opt.exclude_from_weight_decay(var_list=[other], var_names=["bia"])
    zeros = [np.zeros(v.shape, "float32") for v in (kernel, bias, other)]
    before = [v.numpy() for v in (kernel, bias, other)]
    opt.apply(zeros, [kernel, bias, other])
    np.testing.assert_allclose(kernel.numpy(), before[0] * 0.9, rtol=1e-6)
    np.testing.assert_array_equal(bias.numpy(), before[1])
    np.testing.assert_array_equal(other.numpy(), before[2])


@pytest.mark.parametrize(
    "kwargs, want",
    [
        ({"clipvalue": 0.5}, [[0.5, -0.5], [0.5, 0.1]]),
        # ||g|| = sqrt(0.25 + 1 + 4 + 0.01) = 2.2935; scaled to norm 1.
        ({"clipnorm": 1.0}, np.array([[0.5, -1.0], [2.0, 0.1]]) / np.sqrt(5.26)),
        ({"clipnorm": 10.0}, [[0.5, -1.0], [2.0, 0.1]]),
        # the global norm covers both gradients: sqrt(5.26 + 0.25) = 2.3473.
        ({"global_clipnorm": 1.0}, np.array([[0.5, -1.0], [2.0, 0.1]]) / np.sqrt(5.51)),
    ],
)
def test_gradient_clipping(kwargs, want):
    kernel, bias = _vars()
    start = kernel.numpy()
    optimizers.SGD(learning_rate=1.0, **kwargs).apply(_grads(), [kernel, bias])
    np.testing.assert_allclose(start - kernel.numpy(), want, rtol=1e-5)


# --- the step counter, None gradients, constraints ------------------------------------------------


def test_iterations_counts_steps():
    opt = optimizers.Adam()
    variables = _vars()
    assert opt.iterations.dtype == "int64" and int(opt.iterations) == 0
    for step in range(1, 4):
        result = opt.apply_gradients(zip(_grads(), variables))
        assert int(opt.iterations) == step
    assert result is opt.iterations
    opt.apply([])  # no gradients at all: a no-op, as Keras
    assert int(opt.iterations) == 3


def test_none_gradients_are_skipped_with_a_warning():
    kernel, bias = _vars()
    before = bias.numpy()
    opt = optimizers.Adam()
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['bias'\]"):
        opt.apply_gradients([(_grads()[0], kernel), (None, bias)])
    np.testing.assert_array_equal(bias.numpy(), before)
    assert not np.allclose(kernel.numpy(), _vars()[0].numpy())
    assert int(opt.iterations) == 1
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, kernel), (None, bias)])


def test_constraints_are_applied_after_the_update():
    kernel, bias = _vars()
    kernel.constraint = lambda w: ops.clip(w, -0.5, 0.5)  # `bias` has no constraint attribute
    optimizers.SGD(learning_rate=0.1).apply(_grads(), [kernel, bias])
    assert kernel.numpy().max() <= 0.5 and kernel.numpy().min() >= -0.5
    np.testing.assert_allclose(bias.numpy(), [0.13, -0.24], rtol=1e-6)


def test_ema_and_finalize_variable_values():
    w = refkeras.Variable(np.array([1.0], "float32"), name="w")
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    for _ in range(3):
        opt.apply_gradients([(np.array([1.0], "float32"), w)])
    # weights 0, -1, -2; average: 0 (copied on the first step), then -0.5, then -1.25.
    np.testing.assert_allclose(w.numpy(), [-2.0])
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.numpy(), [-1.25])


def test_gradient_accumulation_updates_every_n_steps_with_the_mean():
    w = refkeras.Variable(np.array([0.0], "float32"), name="w")
    opt = optimizers.SGD(learning_rate=1.0, gradient_accumulation_steps=2)
    opt.apply_gradients([(np.array([1.0], "float32"), w)])
    np.testing.assert_allclose(w.numpy(), [0.0])
    assert int(opt.iterations) == 0  # updates so far
    opt.apply_gradients([(np.array([3.0], "float32"), w)])
    np.testing.assert_allclose(w.numpy(), [-2.0])
    assert int(opt.iterations) == 1


# --- the stateless form ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=[c.__name__ for c in ALL])
def test_stateless_apply_returns_what_apply_sets_and_changes_nothing(cls):
    stateful_vars, stateless_vars = _vars(), _vars()
    stateful, stateless = cls(), cls()
    stateful.build(stateful_vars)
    stateless.build(stateless_vars)
    for _ in range(2):
        stateful.apply(_grads())
    opt_values = [v.numpy() for v in stateful.variables]
    train_values = [v.numpy() for v in stateful_vars]
    stateful.apply(_grads())

    frozen = [v.numpy() for v in stateless.variables + stateless_vars]
    new_train, new_opt = stateless.stateless_apply(opt_values, _grads(), train_values)
    for v, before in zip(stateless.variables + stateless_vars, frozen):
        np.testing.assert_array_equal(v.numpy(), before)
    for got, v in zip(new_train + new_opt, stateful_vars + stateful.variables):
        np.testing.assert_array_equal(np.asarray(got), v.numpy())


def test_stateless_apply_checks_its_arguments():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="must be built"):
        opt.stateless_apply([], _grads(), [])
    opt.build(_vars())
    with pytest.raises(ValueError, match="corresponding 1:1"):
        opt.stateless_apply([0], _grads(), [v.numpy() for v in _vars()])


# --- variables ------------------------------------------------------------------------------------


def test_variables_names_and_order():
    with name_scope("dense"):
        kernel, bias = _vars()
    opt = optimizers.Adam(amsgrad=True, name="adam")
    opt.build([kernel, bias])
    assert [v.path for v in opt.variables] == [
        "adam/iteration",
        "adam/learning_rate",
        "adam/dense_kernel_momentum",
        "adam/dense_kernel_velocity",
        "adam/dense_bias_momentum",
        "adam/dense_bias_velocity",
        "adam/dense_kernel_velocity_hat",
        "adam/dense_bias_velocity_hat",
    ]
    assert all(not v.trainable for v in opt.variables)
    assert opt.add_variable_from_reference(kernel, "extra").shape == (2, 2)
    sgd = optimizers.SGD()
    sgd.build([kernel, bias])
    assert [v.name for v in sgd.variables] == ["iteration", "learning_rate"]


def test_slots_are_created_in_the_optimizer_scope_on_first_apply():
    opt = optimizers.Adagrad(name="ada", initial_accumulator_value=0.25)
    opt.apply(_grads(), _vars())
    assert [v.path for v in opt.variables[2:]] == ["ada/kernel_accumulator", "ada/bias_accumulator"]


def test_apply_checks_variables():
    opt = optimizers.SGD()
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply(_grads())
    opt.apply(_grads(), _vars())
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply(_grads(), _vars())
    with pytest.raises(ValueError, match="one-to-on"):
        opt.apply(_grads()[:1])


def test_a_custom_optimizer_written_against_the_public_api():
    """The subclassing recipe of Keras's BaseOptimizer docstring."""

    class MomentumSGD(optimizers.Optimizer):
        def __init__(self, **kwargs):
            super().__init__(learning_rate=0.1, **kwargs)
            self.momentum = 0.9

        def build(self, variables):
            super().build(variables)
            self.momentums = [self.add_variable_from_reference(v, "momentum") for v in variables]
            self.step_count = refkeras.Variable(0, dtype="int64", trainable=False, name="count")

        def update_step(self, gradient, variable, learning_rate):
            m = self.momentums[self._get_variable_index(variable)]
            self.assign(m, m * self.momentum - ops.cast(gradient, "float32") * learning_rate)
            self.assign_add(variable, m)

    opt = MomentumSGD()
    kernel, bias = _vars()
    opt.apply(_grads(), [kernel, bias])
    np.testing.assert_allclose(bias.numpy(), [0.13, -0.24], rtol=1e-6)
    # a Variable assigned as an attribute is optimizer state, as in Keras
    assert opt.variables[-1].name == "count"


def test_state_save_and_load():
    opt = optimizers.RMSprop(momentum=0.5, centered=True)
    opt.apply(_grads(), _vars())
    store = {}
    opt.save_own_variables(store)
    other = optimizers.RMSprop(momentum=0.5, centered=True)
    other.build(_vars())
    other.load_own_variables(store)
    for a, b in zip(opt.variables, other.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    fresh = optimizers.RMSprop()
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        fresh.load_own_variables(store)
    with pytest.raises(ValueError, match="not yet been built"):
        fresh.set_weights([])
    other.set_weights([np.zeros(v.shape, v.dtype) for v in other.variables])
    assert int(other.iterations) == 0


# --- learning rate --------------------------------------------------------------------------------


def test_learning_rate_variable_and_setter():
    opt = optimizers.SGD(learning_rate=0.5)
    assert isinstance(opt.learning_rate, refkeras.Variable)
    opt.learning_rate = 0.25
    assert float(opt.learning_rate) == 0.25
    opt.learning_rate = schedules.ExponentialDecay(0.1, 10, 0.5)
    assert [v.name for v in opt.variables] == ["iteration"]  # the lr variable is untracked
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_schedule_is_read_at_the_current_iteration():
    opt = optimizers.SGD(learning_rate=schedules.PiecewiseConstantDecay([1], [1.0, 0.1]))
    w = refkeras.Variable(np.array([0.0], "float32"), name="w")
    steps = []
    for _ in range(3):
        before = w.numpy()[0]
        opt.apply_gradients([(np.array([1.0], "float32"), w)])
        steps.append(before - w.numpy()[0])
    np.testing.assert_allclose(steps, [1.0, 1.0, 0.1], rtol=1e-6)  # iterations 0, 1, 2


def test_callable_learning_rate():
    opt = optimizers.SGD(learning_rate=lambda: 0.5)
    w = refkeras.Variable(np.array([0.0], "float32"), name="w")
    opt.apply_gradients([(np.array([1.0], "float32"), w)])
    np.testing.assert_allclose(w.numpy(), [-0.5])


# --- config and lookup ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=[c.__name__ for c in ALL])
def test_config_round_trip(cls):
    opt = cls(learning_rate=0.05, clipnorm=1.5, name="my_opt")
    config = opt.get_config()
    assert config["learning_rate"] == float(np.float32(0.05))  # read back from the float32 variable
    assert config["clipnorm"] == 1.5 and config["name"] == "my_opt"
    restored = cls.from_config(config)
    assert restored.get_config() == config
    assert optimizers.deserialize(optimizers.serialize(opt)).get_config() == config


def test_config_with_a_schedule():
    opt = optimizers.Adam(learning_rate=schedules.CosineDecay(0.1, 100, warmup_target=0.5))
    config = opt.get_config()
    assert config["learning_rate"]["class_name"] == "CosineDecay"
    assert config["learning_rate"]["module"] == "keras.optimizers.schedules"
    restored = optimizers.Adam.from_config(config)
    assert isinstance(restored._learning_rate, schedules.CosineDecay)
    assert restored.get_config() == config


def test_get():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("SGD"), optimizers.SGD)
    assert isinstance(optimizers.get("adamw"), optimizers.AdamW)
    assert optimizers.get(None) is None
    opt = optimizers.Adagrad()
    assert optimizers.get(opt) is opt
    from_dict = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5}})
    assert float(from_dict.learning_rate) == 0.5
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: rms_prop.*"):
        optimizers.get("rms_prop")
    with pytest.raises(ValueError, match="'rmsprop'"):
        optimizers.get("rmsprop_")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(42)


# --- argument validation (as Keras) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0), ValueError, "Only one of"),
        (lambda: optimizers.Adam(clipvalue=1.0, clipnorm=1.0), ValueError, "Only one of"),
        (lambda: optimizers.SGD(learning_rate=1), ValueError, "should be float"),
        (lambda: optimizers.SGD(learning_rate="fast"), ValueError, "should be float"),
        (lambda: optimizers.SGD(lr=0.1), ValueError, r"not recognized: \{'lr': 0.1\}"),
        (lambda: optimizers.SGD(momentum=1.5), ValueError, "`momentum` must be a float"),
        (lambda: optimizers.SGD(momentum=1), ValueError, "`momentum` must be a float"),
        (lambda: optimizers.Adam(gradient_accumulation_steps=1), ValueError, ">= 2"),
        (lambda: optimizers.Adam(use_ema=True, ema_momentum=1.5), ValueError, "ema_momentum"),
        (
            lambda: optimizers.Adam(use_ema=True, ema_overwrite_frequency=0.5),
            ValueError,
            "ema_overwrite_frequency",
        ),
        (lambda: optimizers.AdamW(weight_decay=None), ValueError, "`weight_decay` must be"),
        (lambda: optimizers.Ftrl(learning_rate_power=0.5), ValueError, "learning_rate_power"),
        (lambda: optimizers.Ftrl(initial_accumulator_value=-1.0), ValueError, "initial_accum"),
        (lambda: optimizers.Ftrl(l1_regularization_strength=-1.0), ValueError, "l1_regular"),
        (lambda: optimizers.Lion(beta_1=0.0), ValueError, "`beta_1` must be in"),
    ],
)
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_negative_learning_rate_is_accepted_as_in_keras():
    assert float(optimizers.SGD(learning_rate=-0.1).learning_rate) == pytest.approx(-0.1)


def test_decay_argument_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        optimizers.SGD(decay=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizers.SGD(decay=None)
