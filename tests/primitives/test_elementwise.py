"""Elementwise primitives: every VJP against central finite differences (float64, broadcasting
shapes for binary ops), tie/kink conventions against ``jax.grad``, dtype preservation, and the
completeness of the primitive interface."""

import importlib

import numpy as np
import pytest
from fd import TABLE, check_dtype_preserved, check_vjp

from refkeras.backend import load_backend
from refkeras.primitives import elementwise as E
from refkeras.primitives.interface import ALL_PRIMITIVES, FAMILY_OF, PRIMITIVES

load_backend("numpy")

rng = np.random.default_rng(1234)


def _normal(*shape):
    return rng.normal(size=shape)


def _positive(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def _away_from(points, *shape, gap=0.05, low=-3.0, high=3.0):
    """Uniform values at least ``gap`` from each of ``points`` (kinks and jumps), so that finite
    differences never straddle one."""
    x = rng.uniform(low, high, size=shape)
    for p in points:
        near = np.abs(x - p) < gap
        x = np.where(near, p + np.where(x >= p, gap, -gap) * 2, x)
    return x


_INTS = np.arange(-4, 5)
UNARY = {
    "negative": ([_normal(3, 4)], {}),
    "exp": ([_normal(3, 4)], {}),
    "log": ([_positive(3, 4)], {}),
    "log1p": ([rng.uniform(-0.5, 2.0, size=(3, 4))], {}),
    "expm1": ([_normal(3, 4)], {}),
    "sqrt": ([_positive(3, 4)], {}),
    "square": ([_normal(3, 4)], {}),
    "abs": ([_away_from([0.0], 3, 4)], {}),
    "tanh": ([_normal(3, 4)], {}),
    "sigmoid": ([np.concatenate([_normal(8), [-30.0, -12.0, 12.0, 30.0]]).reshape(3, 4)], {}),
    "relu": ([_away_from([0.0], 3, 4)], {}),
    "softplus": ([np.concatenate([_normal(8), [-30.0, -12.0, 12.0, 30.0]]).reshape(3, 4)], {}),
    "sin": ([_normal(3, 4)], {}),
    "cos": ([_normal(3, 4)], {}),
    "erf": ([_normal(3, 4)], {}),
    "sign": ([_away_from([0.0], 3, 4)], {}),
    "floor": ([_away_from(_INTS, 3, 4)], {}),
    "ceil": ([_away_from(_INTS, 3, 4)], {}),
    "round": ([_away_from(_INTS + 0.5, 3, 4)], {}),
    "cast": ([_normal(3, 4)], {"dtype": np.float64}),
    "clip": ([_away_from([-0.5, 0.5], 3, 4, low=-1, high=1)], {"x_min": -0.5, "x_max": 0.5}),
    "logical_not": ([rng.normal(size=(3, 4)) > 0], {}),
    "isnan": ([np.array([0.0, np.nan, np.inf, 1.0])], {}),
    "isfinite": ([np.array([0.0, np.nan, np.inf, 1.0])], {}),
}
UNARY_EXTRA = [
    (
        "round",
        [_away_from((_INTS + 0.5) / 10, 3, 4, gap=0.01, low=-0.4, high=0.4)],
        {"decimals": 1},
    ),
    ("abs", [_away_from([0.0], 5)], {}),  # 1-D
    ("exp", [np.asarray(0.3)], {}),  # 0-d
]

# Broadcasting pairs: equal, trailing, both stretched, scalar, rank-extending on both sides.
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 1, 3), (4, 1))]
BINARY_ARITH = ["add", "subtract", "multiply", "divide", "maximum", "minimum"]
COMPARE = [
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or",
]  # fmt: skip


def _binary_arrays(name, sa, sb):
    if name == "divide":
        return [_normal(*sa), rng.uniform(0.5, 2.0, size=sb) * rng.choice([-1, 1], size=sb)]
    if name == "power":
        return [_positive(*sa), _normal(*sb)]
    if name in ("logical_and", "logical_or"):
        return [rng.normal(size=sa) > 0, rng.normal(size=sb) > 0]
    return [_normal(*sa), _normal(*sb)]


CASES = []
for _name, (_arrays, _params) in UNARY.items():
    CASES.append(pytest.param(_name, _arrays, _params, id=_name))
for _i, (_name, _arrays, _params) in enumerate(UNARY_EXTRA):
    CASES.append(pytest.param(_name, _arrays, _params, id=f"{_name}-extra{_i}"))
for _name in BINARY_ARITH + ["power"] + COMPARE:
    for _sa, _sb in SHAPES:
        _id = f"{_name}-{_sa}-{_sb}"
        CASES.append(pytest.param(_name, _binary_arrays(_name, _sa, _sb), {}, id=_id))
for _sc, _sa, _sb in [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((2, 3), (), (1, 3))]:
    _arrays = [rng.normal(size=_sc) > 0, _normal(*_sa), _normal(*_sb)]
    CASES.append(pytest.param("where", _arrays, {}, id=f"where-{_sc}-{_sa}-{_sb}"))

NOT_DIFFERENTIABLE = set(COMPARE) | {"logical_not", "isnan", "isfinite"}
ZERO_GRADIENT = {"sign", "floor", "ceil", "round"}


def test_interface_is_complete():
    """Every primitive the interface lists has a forward and a ``_vjp`` in its family module."""
    missing = []
    for name in ALL_PRIMITIVES:
        module = importlib.import_module(f"refkeras.primitives.{FAMILY_OF[name]}")
        for attr in (name, name + "_vjp"):
            if not callable(getattr(module, attr, None)):
                missing.append(f"{FAMILY_OF[name]}.{attr}")
    assert not missing, f"primitives without an implementation: {missing}"
    assert sorted(ALL_PRIMITIVES) == sorted(set(ALL_PRIMITIVES)), "a primitive is listed twice"
    assert all(callable(f) and callable(v) for f, v in (TABLE[n] for n in ALL_PRIMITIVES))


def test_every_elementwise_primitive_has_a_case():
    covered = {p.values[0] for p in CASES}
    assert covered == set(PRIMITIVES["elementwise"])


@pytest.mark.parametrize("name,arrays,params", CASES)
def test_vjp_matches_finite_differences(name, arrays, params):
    grads = check_vjp(name, arrays, params)
    if name in NOT_DIFFERENTIABLE:
        assert all(g is None for g in grads)
    if name in ZERO_GRADIENT:
        assert not np.any(grads[0])


@pytest.mark.parametrize("name,arrays,params", CASES)
def test_float32_is_preserved(name, arrays, params):
    if name == "cast":
        params = {"dtype": np.float32}
    check_dtype_preserved(name, arrays, params, np.float32)


# --- conventions at ties and kinks, as JAX -----------------------------------------------------

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")

# float32: JAX's default precision; ties and kinks are exact in it.
TIES_A = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 3.0]], np.float32)
TIES_B = np.array([1.0, -1.0, 3.0], np.float32)  # ties: column 0, row 1 column 1, column 2
KINKS = np.array([-2.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0], np.float32)


@pytest.mark.parametrize(
    "name,jax_fn",
    [("maximum", lambda a, b: jnp.maximum(a, b)), ("minimum", lambda a, b: jnp.minimum(a, b))],
)
def test_binary_ties_match_jax(name, jax_fn):
    forward, vjp = TABLE[name]
    out = forward(TIES_A, TIES_B)
    g = np.random.default_rng(0).normal(size=out.shape).astype(np.float32)
    ours = vjp(g, out, TIES_A, TIES_B)
    _, pullback = jax.vjp(jax_fn, TIES_A, TIES_B)
    for o, t in zip(ours, pullback(g)):
        np.testing.assert_allclose(o, np.asarray(t), rtol=1e-6)


@pytest.mark.parametrize(
    "name,params,jax_fn",
    [
        ("abs", {}, jnp.abs),
        ("relu", {}, jax.nn.relu),
        ("sign", {}, jnp.sign),
        ("clip", {"x_min": -0.5, "x_max": 1.0}, lambda x: jnp.clip(x, -0.5, 1.0)),
        ("clip", {"x_min": 0.5, "x_max": 0.5}, lambda x: jnp.clip(x, 0.5, 0.5)),
        ("sqrt", {}, jnp.sqrt),
    ],
)
def test_kinks_match_jax(name, params, jax_fn):
    forward, vjp = TABLE[name]
    x = np.abs(KINKS) if name == "sqrt" else KINKS
    out = forward(x, **params)
    g = np.linspace(0.5, 2.0, x.size, dtype=np.float32)
    (ours,) = vjp(g, out, x, **params)
    _, pullback = jax.vjp(jax_fn, x)
    np.testing.assert_allclose(ours, np.asarray(pullback(g)[0]), rtol=1e-6)


def test_power_gradient_at_zero_base_matches_jax():
    a, b = np.array([0.0, 0.0, 2.0], np.float32), np.array([2.0, 0.5, 3.0], np.float32)
    out = E.power(a, b)
    g = np.ones(3, np.float32)
    ours = E.power_vjp(g, out, a, b)
    _, pullback = jax.vjp(jnp.power, a, b)
    for o, t in zip(ours, pullback(g)):
        np.testing.assert_array_equal(o, np.asarray(t))


# --- details --------------------------------------------------------------------------------


def test_sigmoid_and_softplus_do_not_overflow():
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = E.sigmoid(x)
        sp = E.softplus(x)
    np.testing.assert_allclose(s, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-30)
    np.testing.assert_allclose(sp, [0.0, 0.0, np.log(2.0), 100.0, 1e4], rtol=1e-6, atol=1e-37)
    assert s.dtype == sp.dtype == np.float32


def test_erf_matches_math_erf():
    import math

    x = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(E.erf(x), [math.erf(v) for v in x], rtol=0, atol=0)
    assert E.erf(x.astype(np.float32)).dtype == np.float32
    assert E.erf(np.asarray(0.5)).shape == ()


def test_round_is_half_to_even():
    np.testing.assert_array_equal(E.round(np.array([0.5, 1.5, 2.5, -0.5])), [0.0, 2.0, 2.0, -0.0])


def test_cast_vjp():
    x32 = np.array([1.5, -2.0], np.float32)
    out = E.cast(x32, dtype=np.float64)
    (g,) = E.cast_vjp(np.ones(2), out, x32, dtype=np.float64)
    assert g.dtype == np.float32
    xi = np.array([1, 2], np.int32)
    assert E.cast_vjp(np.ones(2), E.cast(xi, dtype=np.float32), xi, dtype=np.float32) == (None,)
    # Through an integer value nothing flows (JAX's gradient is zero there).
    out_int = E.cast(x32, dtype=np.int32)
    assert E.cast_vjp(np.ones(2, np.int32), out_int, x32, dtype=np.int32) == (None,)
