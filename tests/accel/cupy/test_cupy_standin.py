"""The CPU stand-in for CuPy: it refuses implicit conversion to NumPy as a device array does, and
every name it provides exists in the real ``cupy`` package (installed by the ``test`` extra:
``cupy-cuda12x`` imports without a GPU, it only fails when memory is allocated on a device)."""

from __future__ import annotations

import importlib
import inspect
import sys

import numpy as np
import pytest

from accel.cupy_standin import MODULES, api
from accel.cupy_standin.ndarray import IMPLICIT_CONVERSION_ERROR, ndarray

MESSAGE = (
    "Implicit conversion to a NumPy array is not allowed. "
    "Please use `.get()` to construct a NumPy array explicitly."
)


def test_the_message_is_cupys():
    assert IMPLICIT_CONVERSION_ERROR == MESSAGE


@pytest.mark.parametrize(
    "convert",
    [np.asarray, np.array, lambda a: np.asarray(a, dtype=np.float32), np.ascontiguousarray],
    ids=["asarray", "array", "asarray-dtype", "ascontiguousarray"],
)
def test_implicit_conversion_is_refused(convert):
    a = api.asarray(np.arange(3.0))
    with pytest.raises(TypeError) as info:
        convert(a)
    assert str(info.value) == MESSAGE


def test_host_arrays_are_refused_as_operands():
    a = api.asarray(np.arange(3.0))
    host = np.ones(3)
    for attempt in (lambda: a + host, lambda: host * a, lambda: api.add(a, host)):
        with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
            attempt()
    with pytest.raises(TypeError):
        api.where(a > 1, a, host)
    with pytest.raises(TypeError):
        a[0:3] = host  # host data must be copied explicitly (cupy.asarray) before assignment


def test_explicit_ways_to_the_host():
    host = np.arange(6.0).reshape(2, 3)
    a = api.asarray(host)
    host[0, 0] = 100.0  # asarray copied (a transfer), so the device value is unchanged
    got = a.get()
    assert isinstance(got, np.ndarray) and got[0, 0] == 0.0
    got[0, 1] = -1.0  # .get() copies too
    np.testing.assert_array_equal(api.asnumpy(a), np.arange(6.0).reshape(2, 3))
    assert api.asnumpy([1, 2]).tolist() == [1, 2]
    assert float(a[1, 2]) == 5.0 and int(a[1, 2]) == 5 and bool(a[0, 1])
    assert a[1, 2].item() == 5.0 and a.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_results_are_device_arrays_never_numpy_scalars():
    a = api.asarray(np.arange(6.0).reshape(2, 3))
    for result in (a.sum(), a[0, 0], api.max(a), -a[0, 0], a[0] @ a[1], np.exp(a), np.mean(a)):
        assert type(result) is ndarray, type(result)


def test_numpy_functions_the_standin_lacks_fail_loudly():
    a = api.asarray(np.arange(6.0))
    with pytest.raises(TypeError):
        np.median(a)  # real CuPy has it; the stand-in refuses rather than running on NumPy
    with pytest.raises(TypeError):
        np.linalg.norm(a)


def test_swapping_in_the_standin_does_not_leak():
    """The stand-in is only ``cupy`` while accel/cupy loads against it."""
    assert all(sys.modules.get(name) is not module for name, module in MODULES.items())


# --- every stand-in name is real CuPy API -----------------------------------------------------


def _real(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as e:  # pragma: no cover - the test extra installs cupy-cuda12x
        pytest.fail(f"{name} is not installed; install the test extra (cupy-cuda12x): {e}")


def _public(obj) -> list[str]:
    names = getattr(obj, "__all__", None)
    if names is None:
        names = [n for n in vars(obj) if not n.startswith("_")]
    return sorted(names)


def _standin_names() -> list[tuple[str, object]]:
    """Every (dotted name, stand-in object) the stand-in provides."""
    out = [(f"cupy.{n}", getattr(api, n)) for n in api.__all__]
    out += [(f"cupy.cuda.{n}", getattr(api.cuda, n)) for n in _public(api.cuda)]
    out += [
        (f"cupy.cuda.runtime.{n}", getattr(api.cuda.runtime, n)) for n in _public(api.cuda.runtime)
    ]
    out += [
        (f"cupy.lib.stride_tricks.{n}", v)
        for n, v in vars(api.lib.stride_tricks).items()
        if not n.startswith("_")
    ]
    special = api.cupyx.scipy.special
    out += [
        (f"cupyx.scipy.special.{n}", v) for n, v in vars(special).items() if not n.startswith("_")
    ]
    return out


def _resolve(real_root, dotted: str):
    obj = real_root
    for part in dotted.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def test_every_standin_name_exists_in_real_cupy():
    real_cupy, real_cupyx = _real("cupy"), _real("cupyx")
    _real("cupyx.scipy.special")
    assert real_cupy.ndarray is not ndarray  # really the package, not the stand-in
    missing = []
    for dotted, _ in _standin_names():
        root = real_cupyx if dotted.startswith("cupyx.") else real_cupy
        try:
            _resolve(root, dotted)
        except AttributeError:
            missing.append(dotted)
    assert missing == []
    assert len(_standin_names()) > 100  # the walk above really covered the namespace


def test_every_standin_array_and_ufunc_member_exists_in_real_cupy():
    real_cupy = _real("cupy")
    machinery = {
        "__module__",
        "__qualname__",
        "__doc__",
        "__slots__",
        "__init__",
        "__firstlineno__",
    }
    machinery |= {"__static_attributes__", "_a"}
    members = [n for n in vars(ndarray) if n not in machinery]
    assert {"__array__", "__matmul__", "__iadd__", "get", "astype"} <= set(members)
    assert [n for n in members if not hasattr(real_cupy.ndarray, n)] == []
    ufunc_members = [n for n, _ in inspect.getmembers(api.ufunc) if not n.startswith("_")]
    assert "at" in ufunc_members
    assert [n for n in ufunc_members if not hasattr(real_cupy.add, n)] == []
    assert isinstance(real_cupy.add, real_cupy.ufunc)


def test_standin_functions_match_real_signatures_where_used_by_keyword():
    """The keywords the backend passes exist in the real functions too."""
    real_cupy = _real("cupy")
    for name, keywords in {
        "sum": ["axis", "dtype", "keepdims"],
        "argmax": ["axis", "keepdims"],
        "cumsum": ["axis", "dtype"],
        "einsum": [],
        "asarray": ["dtype"],
        "pad": ["mode"],
        "take_along_axis": ["axis"],
    }.items():
        params = inspect.signature(getattr(real_cupy, name)).parameters
        assert all(k in params or "kwargs" in params for k in keywords), name
    assert "optimize" in inspect.getsource(real_cupy.einsum)
