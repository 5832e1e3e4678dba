"""Linear-algebra primitives: matmul (1-D operands, batch broadcasting) and einsum (contractions,
indices summed out of one operand only, several operands) against finite differences."""

import numpy as np
import pytest
from fd import check_dtype_preserved, check_vjp

from refkeras.backend import load_backend
from refkeras.primitives import linalg as L
from refkeras.primitives.interface import PRIMITIVES

load_backend("numpy")

rng = np.random.default_rng(3)

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),  # batch on the left only
    ((3, 4), (2, 4, 5)),  # batch on the right only
    ((2, 1, 3, 4), (5, 4, 2)),  # batch axes broadcast against each other
    ((4,), (4, 5)),  # 1-D left
    ((3, 4), (4,)),  # 1-D right
    ((4,), (4,)),  # inner product
    ((4,), (2, 4, 3)),  # 1-D left with a batch
    ((2, 3, 4), (4,)),  # 1-D right with a batch
]
EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk->i", [(3, 4), (4, 5)]),  # k summed out after the contraction
    ("ij,k->i", [(3, 4), (5,)]),  # j and k each summed out of one operand only
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->j", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("abc,cd->bd", [(2, 3, 4), (4, 5)]),
    ("ij,ij->ij", [(1, 4), (3, 4)]),  # a size-1 axis broadcast
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,jk->...ik", [(2, 2, 3, 4), (4, 5)]),  # ellipsis in one operand
    ("...j,...j->...", [(3, 4), (2, 1, 4)]),  # ellipses of different ranks, broadcast
    ("i...->...", [(3, 2, 4)]),
]

CASES = [
    pytest.param("matmul", [rng.normal(size=sa), rng.normal(size=sb)], {}, id=f"matmul-{sa}-{sb}")
    for sa, sb in MATMUL_SHAPES
] + [
    pytest.param("einsum", [rng.normal(size=s) for s in shapes], {"subscripts": sub}, id=sub)
    for sub, shapes in EINSUMS
]


def test_every_linalg_primitive_has_a_case():
    assert {p.values[0] for p in CASES} == set(PRIMITIVES["linalg"])


@pytest.mark.parametrize("name,arrays,params", CASES)
def test_vjp_matches_finite_differences(name, arrays, params):
    check_vjp(name, arrays, params)


@pytest.mark.parametrize("name,arrays,params", CASES)
def test_float32_is_preserved(name, arrays, params):
    check_dtype_preserved(name, arrays, params, np.float32)


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_forward_is_numpy(sa, sb):
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    np.testing.assert_allclose(L.matmul(a, b), np.matmul(a, b), rtol=1e-12)


def test_einsum_repeated_index_is_refused_by_the_vjp():
    x = rng.normal(size=(3, 3))
    out = L.einsum(x, subscripts="ii->i")
    np.testing.assert_allclose(out, np.diag(x))
    with pytest.raises(ValueError, match="repeated"):
        L.einsum_vjp(np.ones(3), out, x, subscripts="ii->i")
