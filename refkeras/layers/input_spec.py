"""``InputSpec`` and the input check every layer runs before ``call`` (errors worded as Keras's)."""

from __future__ import annotations

from refkeras.backend.dtypes import standardize_dtype
from refkeras.utils import tree


class InputSpec:
    """What a layer accepts: ``dtype``, ``shape``, ``ndim``, ``max_ndim``, ``min_ndim`` and
    ``axes`` (``{axis: size}``)."""

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = standardize_dtype(dtype) if dtype is not None else None
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.axes = {int(k): v for k, v in (axes or {}).items()}

    def __repr__(self):
        parts = [
            f"{k}={v}"
            for k, v in (
                ("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim), ("axes", self.axes),
            )
            if v
        ]  # fmt: skip
        return f"InputSpec({', '.join(parts)})"

    def get_config(self) -> dict:
        return {
            "dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
            "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
        }  # fmt: skip


def assert_input_compatibility(input_spec, inputs, layer_name: str) -> None:
    """Raise ``ValueError`` (in Keras's words) if ``inputs`` do not satisfy ``input_spec``."""
    if not input_spec:
        return
    specs = tree.flatten(input_spec)
    if isinstance(inputs, dict) and all(s is not None and s.name for s in specs):
        missing = [s.name for s in specs if s.name not in inputs]
        if missing:
            raise ValueError(
                f'Missing data for input "{missing[0]}". You passed a data dictionary with keys '
                f"{list(inputs)}. Expected the following keys: {[s.name for s in specs]}"
            )
        inputs = [inputs[s.name] for s in specs]
    inputs = tree.flatten(inputs)
    if len(inputs) != len(specs):
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
            f"{len(inputs)} input tensors. Inputs received: {inputs}"
        )
    for i, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(
                f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input "
                f"for layer '{layer_name}'."
            )
        shape = tuple(x.shape)
        ndim = len(shape)
        where = f"Input {i} with name '{spec.name}' of layer '{layer_name}' is incompatible with "
        where += "the layer: "
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(
                where + f"expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: "
                f"{shape}"
            )
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(where + f"expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(
                where + f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape "
                f"received: {shape}"
            )
        if spec.dtype is not None and standardize_dtype(x.dtype) != spec.dtype:
            raise ValueError(
                where + f"expected dtype={spec.dtype}, found dtype={standardize_dtype(x.dtype)}"
            )
        for axis, value in (spec.axes or {}).items():
            if value is not None and -ndim <= axis < ndim and shape[axis] not in (value, None):
                raise ValueError(
                    where + f"expected axis {axis} of input shape to have value {value}, "
                    f"but received input with shape {shape}"
                )
        if spec.shape is not None:
            for spec_dim, dim in zip(spec.shape, shape):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    raise ValueError(where + f"expected shape={spec.shape}, found shape={shape}")
