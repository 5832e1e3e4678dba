"""Layer checks: forward and gradients on a backend against the float64 reference, the reference's
gradients against finite differences, the config round trip and weights moved between backends.

How one case runs (:func:`run_layer_checks`):

1. On the reference backend, in float64: build the layer, give every variable random values
   (``set_weights``), call it on the case's inputs and take the gradients of
   ``sum_i <cotangent_i, output_i>`` with respect to the float inputs and the trainable weights
   (one ``GradientTape``); keep the non-trainable state after the call (BatchNormalization's
   moving statistics, Dropout's seed).
2. ``layer_config`` (check d): ``from_config(get_config())`` has the same config, and, given the
   same variables, computes exactly the same output on the reference.
3. On the backend under test, in the case's dtype: ``from_config`` of the reference's config (dtype
   replaced), the reference's variables moved in with ``set_weights`` / ``assign``;
   ``layer_weights`` (check d): ``get_weights()`` on the backend returns exactly what was set.
4. ``layer_forward`` / ``layer_vjp``: outputs, input gradients, weight gradients and the state
   after the call against the float64 reference, each an ``(error, bound)`` pair.

``layer_fd`` (:func:`check_layer_fd`): the reference's gradients against central finite
differences of ``sum <cotangent, output>`` in float64 (all variables restored before each
evaluation, so random layers repeat their masks).
"""

from __future__ import annotations

import contextlib

import numpy as np

from conformance import tolerances as tol
from conformance.components import Comparison, LayerCase, make_values
from refkeras import activations, ops
from refkeras import backend as B
from refkeras.autodiff import GradientTape
from refkeras.backend import dispatch
from refkeras.backend.base import NumpyBackend
from refkeras.layers import rnn_cells
from refkeras.utils import tree

REFERENCE = NumpyBackend()
FD_EPS = tol.FD_STEP
FD_MAX_ELEMENTS = 160  # inputs + weights perturbed one at a time; more is skipped (too slow)


@contextlib.contextmanager
def on(backend):
    """Run a block on ``backend`` (the reference when ``None``)."""
    with dispatch.using(backend or REFERENCE):
        yield


# --- building and calling ---------------------------------------------------------------------


def _resolve_kwargs(kwargs: dict, dtype: str) -> dict:
    """Records keep kwargs printable: ``Lambda``'s function and ``RNN``'s cell are named."""
    out = dict(kwargs)
    if isinstance(out.get("function"), str):
        out["function"] = activations.get(out["function"])
    if isinstance(out.get("cell"), dict):
        spec = dict(out["cell"])
        out["cell"] = getattr(rnn_cells, spec.pop("class_name"))(**spec, dtype=dtype)
    return out


def make_layer(cls, case: LayerCase, dtype: str):
    return cls(**_resolve_kwargs(case.kwargs, dtype), dtype=dtype)


def with_dtype(config, dtype: str):
    """``config`` with every ``dtype`` entry (nested sublayers' too) replaced by ``dtype``."""
    if isinstance(config, dict):
        return {k: dtype if k == "dtype" else with_dtype(v, dtype) for k, v in config.items()}
    if isinstance(config, list):
        return [with_dtype(v, dtype) for v in config]
    return config


def make_inputs(case: LayerCase, dtype: str) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The case's input arrays (floats in ``dtype``) and its time mask (or None)."""
    xs = [make_values(s, case.seed, dtype, salt=i) for i, s in enumerate(case.inputs)]
    mask = None
    if case.mask:
        shape = case.inputs[0].shape
        b, t = shape[0], shape[2 if case.kwargs.get("data_format") == "channels_first" else 1]
        mask = np.random.default_rng([case.seed, 99]).random((b, t)) < 0.7
        mask[:, 0] = True  # at least one step per sequence
    return xs, mask


def _is_cell(layer) -> bool:
    return isinstance(layer, rnn_cells._GatedCell)


def call_layer(layer, xs, mask, training):
    """Call ``layer`` on backend tensors ``xs``; returns the flat list of output tensors."""
    if _is_cell(layer):
        out = layer(xs[0], list(xs[1:]), training=training)
    else:
        kwargs = {"training": training}
        if mask is not None:
            kwargs["mask"] = ops.convert_to_tensor(mask)
        out = layer(xs if len(xs) > 1 else xs[0], **kwargs)
    return tree.flatten(out)


def variables_of(layer) -> list:
    return list(layer.variables)


def cotangents(outs_np, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng([seed, 5])
    return [rng.standard_normal(np.shape(o)) for o in outs_np]


def forward_and_grads(layer, xs_np, mask, training, cots, backend=None) -> dict:
    """Outputs, input gradients, weight gradients and the variables after the call (NumPy)."""
    with on(backend):
        be = B.active()
        xs = [ops.convert_to_tensor(be.asarray(x)) for x in xs_np]
        float_xs = [x for x, a in zip(xs, xs_np) if a.dtype.kind == "f"]
        with GradientTape() as tape:
            tape.watch(float_xs)
            outs = call_layer(layer, xs, mask, training)
            loss = 0.0
            for o, c in zip(outs, cots):
                if np.dtype(B.standardize_dtype(o.dtype)).kind == "f":
                    loss = loss + ops.sum(o * ops.cast(be.asarray(c), o.dtype))
        sources = float_xs + list(layer.trainable_weights)
        grads = tape.gradient(loss, sources) if sources and not isinstance(loss, float) else []
        to_np = B.to_numpy
        grads = [
            np.zeros(np.shape(s), np.float64) if g is None else to_np(g)
            for s, g in zip([to_np(s) for s in sources], grads)
        ]
        n = len(float_xs)
        return {
            "outputs": [to_np(o) for o in outs],
            "input_grads": grads[:n],
            "weight_grads": grads[n:],
            "state": [to_np(v) for v in variables_of(layer)],
        }


def _through(values, dtype: str):
    """Float arrays rounded to ``dtype`` and back to float64: the reference then computes on
    exactly the values the backend under test receives."""
    return [v.astype(dtype).astype(np.float64) if v.dtype.kind == "f" else v for v in values]


def build_reference(cls, case: LayerCase, ref_dtype: str = "float64"):
    """The reference layer (``ref_dtype``), built, with random variables exactly representable
    in the case's dtype; and its inputs (likewise)."""
    from conformance.components import random_weights

    xs, mask = make_inputs(case, "float64")
    xs = [x.astype(ref_dtype) if x.dtype.kind == "f" else x for x in _through(xs, case.dtype)]
    with on(None):
        layer = make_layer(cls, case, ref_dtype)
        if case.inputs:
            call_layer(layer, [ops.convert_to_tensor(x) for x in xs], mask, False)  # builds
        weights = _through(random_weights(layer.weights, case.seed), case.dtype)
        layer.set_weights([w.astype(ref_dtype) if w.dtype.kind == "f" else w for w in weights])
    return layer, xs, mask


def _is_random(cls, case: LayerCase) -> bool:
    """Random in this call (dropout in training): the float64 reference would draw other
    numbers than a float32 run, so the reference runs in the case's dtype instead."""
    with on(None):
        layer = make_layer(cls, case, "float64")
        if case.inputs:
            xs, mask = make_inputs(case, "float64")
            call_layer(layer, [ops.convert_to_tensor(x) for x in xs], mask, False)
    return case.training and any(lay._seed_generators for lay in layer._flatten_layers())


def _perturbed(values, dtype: str, seed: int):
    """Each float value moved by a random relative ``u`` (the unit roundoff of ``dtype``): the
    rounding of one operation in ``dtype``, propagated through the reference to give the
    sensitivity of each result."""
    rng = np.random.default_rng([seed, 11])
    u = tol.unit_roundoff(dtype)
    out = []
    for v in values:
        v = np.asarray(v)
        if v.dtype.kind == "f":
            v = v * (1 + u * rng.choice([-1.0, 1.0], v.shape))
        out.append(v)
    return out


def copy_variables(src, dst, dtype: str | None = None) -> None:
    """Assign every variable of ``src`` (weights and seed states) to ``dst`` on the active
    backend, float values cast to ``dtype``."""
    be = B.active()
    for s, d in zip(variables_of(src), variables_of(dst), strict=True):
        value = np.asarray(s.numpy())
        if dtype is not None and value.dtype.kind == "f":
            value = value.astype(dtype)
        d.assign(be.asarray(value))


# --- the checks -----------------------------------------------------------------------------------


def _reduction_length(case: LayerCase, layer) -> int:
    """Length of the longest sum behind an output: at most the input features times the time
    steps times the weights' fan-in; bounded by the number of input elements plus weights."""
    per_sample = max([int(np.prod(s.shape[1:])) for s in case.inputs] or [1])
    return per_sample + sum(int(np.prod(w.shape)) for w in layer.weights)


def check_config(cls, case: LayerCase) -> Comparison:
    """``layer_config``: ``from_config(get_config())`` is the same layer (same config, and the
    same output bit for bit on the reference given the same variables)."""
    comp = Comparison()
    ref, xs, mask = build_reference(cls, case)
    with on(None):
        config = ref.get_config()
        clone = cls.from_config(config)
        if clone.get_config() != config:
            raise AssertionError(
                f"config round trip changed the config:\n{config}\n!=\n{clone.get_config()}"
            )
        if not case.inputs:
            return comp
        call_layer(clone, [ops.convert_to_tensor(x) for x in xs], mask, False)
        copy_variables(ref, clone)
        a = forward_and_grads(ref, xs, mask, case.training, [], None)["outputs"]
        b = forward_and_grads(clone, xs, mask, case.training, [], None)["outputs"]
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        comp.exact(f"clone output {i}", y, x)
    return comp


def _snapshot(layer) -> list[np.ndarray]:
    with on(None):
        return [np.asarray(v.numpy()) for v in variables_of(layer)]


def _restore(layer, values) -> None:
    with on(None):
        for v, value in zip(variables_of(layer), values, strict=True):
            v.assign(value)


def run_in_dtype(cls, ref, case, xs, mask, cots, start, backend, check_weights=False) -> dict:
    """The layer rebuilt from ``ref``'s config in the case's dtype on ``backend`` (the reference
    when ``None``), ``ref``'s variables ``start`` moved in, run on ``xs`` (``layer_weights``:
    ``get_weights`` returns exactly what ``set_weights`` received)."""
    dtype = case.dtype
    xs_b = [x.astype(dtype) if x.dtype.kind == "f" else x for x in xs]
    with on(None):
        weights = [w.astype(dtype) if w.dtype.kind == "f" else w for w in ref.get_weights()]
        config = with_dtype(ref.get_config(), dtype)
    with on(backend):
        layer = cls.from_config(config)
        be = B.active()
        if case.inputs:
            call_layer(layer, [ops.convert_to_tensor(be.asarray(x)) for x in xs_b], mask, False)
        layer.set_weights([be.asarray(w) for w in weights])
        for i, (w, got) in enumerate(zip(weights, layer.get_weights(), strict=True)):
            got = np.asarray(got)
            if check_weights and (got.dtype != w.dtype or not np.array_equal(got, w)):
                raise AssertionError(
                    f"layer_weights: get_weights()[{i}] after set_weights differs on the backend "
                    f"({got.dtype} vs {w.dtype})"
                )
        be_start = [v.astype(dtype) if v.dtype.kind == "f" else v for v in start]
        for v, value in zip(variables_of(layer), be_start, strict=True):
            v.assign(be.asarray(value))  # seed states and moving statistics too
    return forward_and_grads(layer, xs_b, mask, case.training, cots, backend)


def check_layer(cls, case: LayerCase, backend) -> Comparison:
    """``layer_weights``, ``layer_forward`` and ``layer_vjp`` of one case on ``backend``.

    Bound of each result: ``8 eps sqrt(n) max|ref|`` (rounding of reductions of length ``n``)
    plus 4 times the reference's own change when every input and variable is moved by a relative
    ``eps`` (the condition of the computation: cancellations, large logits, near-ties)."""
    comp = Comparison()
    dtype = case.dtype
    ref_dtype = dtype if _is_random(cls, case) else "float64"
    ref, xs, mask = build_reference(cls, case, ref_dtype)
    start = _snapshot(ref)
    probe = forward_and_grads(ref, xs, mask, case.training, [], None)
    cots = [c.astype(dtype).astype(ref_dtype) for c in cotangents(probe["outputs"], case.seed)]
    _restore(ref, start)
    expected = forward_and_grads(ref, xs, mask, case.training, cots, None)
    _restore(ref, _perturbed(start, dtype, case.seed))
    xs_p = _perturbed(xs, dtype, case.seed + 1)
    moved = forward_and_grads(ref, xs_p, mask, case.training, cots, None)
    # magnitudes of the terms (Higham's |a| @ |b|): the reference on |inputs|, |variables| and
    # |cotangents|; it catches cancellation, where the result is much smaller than its terms
    _restore(ref, [np.abs(v) if v.dtype.kind == "f" else v for v in start])
    absolute = forward_and_grads(ref, [np.abs(x) if x.dtype.kind == "f" else x for x in xs],
                                 mask, case.training, [np.abs(c) for c in cots], None)  # fmt: skip
    _restore(ref, start)

    actual = run_in_dtype(cls, ref, case, xs, mask, cots, start, backend, check_weights=True)
    # the reference itself computing in the case's dtype: how far an honest implementation of
    # this algorithm in that dtype lands from float64 (saturated activations' derivatives...)
    in_dtype = run_in_dtype(cls, ref, case, xs, mask, cots, start, None) if dtype != ref_dtype \
        else expected  # fmt: skip

    n = _reduction_length(case, ref)
    for key in ("outputs", "input_grads", "weight_grads", "state"):
        rows = zip(
            actual[key], expected[key], moved[key], absolute[key], in_dtype[key], strict=True
        )
        for i, (a, e, m, mag, same) in enumerate(rows):
            comp.check(f"{key}[{i}]", a, e, dtype, n, moved=m, magnitude=_max_abs(mag),
                       in_dtype=same)  # fmt: skip
    return comp


def _max_abs(a) -> float:
    a = np.abs(np.asarray(a, np.float64))
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else 0.0


def _max_diff(a, b) -> float:
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    d = d[np.isfinite(d)]
    return float(d.max()) if d.size else 0.0


def numeric_grads(layer, xs, mask, training, cots, step: float = FD_EPS) -> tuple[list, float]:
    """Central differences (step ``step``) of ``F = sum <cot, output>`` wrt each float input then
    each trainable weight, in float64, restoring every variable before each evaluation; and
    ``sum |cot * output|`` (the objective's scale, for :func:`conformance.tolerances.fd_bound`)."""
    with on(None):
        saved = [np.asarray(v.numpy()) for v in variables_of(layer)]
        trainable = list(layer.trainable_weights)
        scale = [0.0]

        def objective(xs_now):
            for v, value in zip(variables_of(layer), saved):
                v.assign(value)
            outs = call_layer(layer, [ops.convert_to_tensor(x) for x in xs_now], mask, training)
            terms = [np.asarray(B.to_numpy(o), np.float64) * c
                     for o, c in zip(outs, cots) if np.asarray(c).dtype.kind == "f"]  # fmt: skip
            scale[0] = max(scale[0], sum(float(np.sum(np.abs(t))) for t in terms))
            return sum(float(np.sum(t)) for t in terms)

        grads = []
        for i, x in enumerate(xs):
            if x.dtype.kind != "f":
                continue
            g = np.zeros_like(x)
            for idx in np.ndindex(x.shape):
                up, down = [a.copy() for a in xs], [a.copy() for a in xs]
                up[i][idx] += step
                down[i][idx] -= step
                g[idx] = (objective(up) - objective(down)) / (2 * step)
            grads.append(g)
        for w in trainable:
            base = [s.copy() for s in saved]
            pos = next(k for k, v in enumerate(variables_of(layer)) if v is w)
            g = np.zeros(w.shape)
            for idx in np.ndindex(tuple(w.shape)):
                for sign in (1, -1):
                    saved[pos] = base[pos].copy()
                    saved[pos][idx] += sign * step
                    g[idx] += sign * objective(xs) / (2 * step)
            saved[pos] = base[pos]
            grads.append(g)
        for v, value in zip(variables_of(layer), saved):
            v.assign(value)
        return grads, scale[0]


def fd_size(layer, xs) -> int:
    return sum(x.size for x in xs if x.dtype.kind == "f") + sum(
        int(np.prod(w.shape)) for w in layer.trainable_weights
    )


def check_layer_fd(cls, case: LayerCase) -> Comparison | None:
    """``layer_fd``: the float64 reference gradients against central finite differences.
    ``None`` when the case is too big to difference (more than ``FD_MAX_ELEMENTS`` values)."""
    ref, xs, mask = build_reference(cls, case)
    if fd_size(ref, xs) > FD_MAX_ELEMENTS:
        return None
    saved = _snapshot(ref)
    probe = forward_and_grads(ref, xs, mask, case.training, [], None)
    cots = cotangents(probe["outputs"], case.seed)
    _restore(ref, saved)
    analytic = forward_and_grads(ref, xs, mask, case.training, cots, None)
    _restore(ref, saved)
    numeric, scale = numeric_grads(ref, xs, mask, case.training, cots)
    _restore(ref, saved)
    numeric_2h, _ = numeric_grads(ref, xs, mask, case.training, cots, 2 * FD_EPS)
    comp = Comparison()
    grads = analytic["input_grads"] + analytic["weight_grads"]
    for i, (a, d_h, d_2h) in enumerate(zip(grads, numeric, numeric_2h, strict=True)):
        allowed = tol.fd_bound(d_h, d_2h, scale)
        r, detail = tol.error_ratio(a, d_h, allowed, "float64")
        comp.ratios[f"grad[{i}] vs finite differences"] = r
        if detail:
            comp.details[f"grad[{i}] vs finite differences"] = detail
    return comp
