"""A CPU stand-in for CuPy, so that the CuPy backend's own code runs (and is tested) without a GPU.

``accel/cupy_standin/api.py`` is a module that can take the place of ``cupy`` (and ``cupyx``):
the subset of CuPy's API that refkeras uses, on NumPy, with an ``ndarray`` that refuses implicit
conversion to NumPy exactly as a device array does.  Anything in refkeras that does NumPy on a
device array therefore fails loudly here, as it would on a GPU.

Select it explicitly — it is never picked silently in place of real CuPy::

    refkeras.config.set_backend("accel.cupy_standin:CupyStandinBackend")
    refkeras conformance --backend accel.cupy_standin:CupyStandinBackend

:class:`CupyStandinBackend` is the real :class:`accel.cupy.CupyBackend`, from the real files in
``accel/cupy/``, loaded once more as the package ``accel.cupy_standin.bound`` while ``cupy`` names
the stand-in.  The swap lasts only for that import: real CuPy (if installed) and ``accel.cupy``
stay untouched in the same process.

It lives beside ``accel/cupy`` rather than inside it because importing anything inside
``accel/cupy`` first runs ``accel/cupy/__init__.py``, whose ``import cupy`` must fail (naming the
extra) on a machine without CuPy.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from accel.cupy_standin import api

#: the module name under which ``accel/cupy`` is loaded against the stand-in
BOUND_PACKAGE = "accel.cupy_standin.bound"

#: what ``import cupy`` / ``import cupyx.scipy.special`` find while the bound package loads
MODULES = {
    "cupy": api,
    "cupyx": api.cupyx,
    "cupyx.scipy": api.cupyx.scipy,
    "cupyx.scipy.special": api.cupyx.scipy.special,
}


def _load_bound_package():
    """Import ``accel/cupy`` as :data:`BOUND_PACKAGE` with the stand-in as ``cupy``."""
    if BOUND_PACKAGE in sys.modules:
        return sys.modules[BOUND_PACKAGE]
    directory = Path(__file__).resolve().parent.parent / "cupy"
    spec = importlib.util.spec_from_file_location(
        BOUND_PACKAGE, directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    package = importlib.util.module_from_spec(spec)
    missing = object()
    saved = {name: sys.modules.get(name, missing) for name in MODULES}
    sys.modules.update(MODULES)
    sys.modules[BOUND_PACKAGE] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        sys.modules.pop(BOUND_PACKAGE, None)
        raise
    finally:
        for name, module in saved.items():
            if module is missing:
                del sys.modules[name]
            else:
                sys.modules[name] = module
    return package


bound = _load_bound_package()


class CupyStandinBackend(bound.CupyBackend):
    """The CuPy backend's code on the CPU stand-in (for CI; no GPU, no CuPy needed)."""

    name = "cupy-standin"
    extra = None

    def describe(self) -> str:
        return "cupy stand-in on the CPU: " + super().describe()
