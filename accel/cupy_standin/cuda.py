"""The stand-in ``cupy.cuda``: one "device" (the CPU), described the way CuPy describes a GPU."""

from __future__ import annotations

import os
import types

import numpy as np

DEVICE_NAME = "CPU stand-in for CUDA (NumPy " + np.__version__ + ")"


class Device:
    """``cupy.cuda.Device(id)``: the stand-in has only device 0."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise ValueError(f"The CuPy stand-in has one device (0), received device={device!r}")

    @property
    def compute_capability(self) -> str:
        return "00"

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def synchronize(self) -> None:
        """Nothing runs asynchronously on the stand-in."""

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


def _device_count() -> int:
    return 1


def _device_properties(device: int) -> dict:
    Device(device)  # validates the id
    pages = os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return {"name": DEVICE_NAME.encode(), "totalGlobalMem": pages * 4096, "major": 0, "minor": 0}


runtime = types.ModuleType("cupy.cuda.runtime")
runtime.getDeviceCount = _device_count
runtime.getDeviceProperties = _device_properties
runtime.runtimeGetVersion = lambda: 0
runtime.driverGetVersion = lambda: 0

__all__ = ["Device", "runtime"]
