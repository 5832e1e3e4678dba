"""Parity of the built-in layers with real Keras 3 (JAX backend).

Each record in ``CASES`` names a Keras layer class and its constructor arguments; the same
arguments build the refkeras layer (found by name in the ``keras.layers`` registry). The Keras
weights are copied into refkeras with ``set_weights``; then on identical float32 inputs we compare

* the outputs,
* the gradients of ``sum(output * cotangent)`` w.r.t. the inputs and every trainable weight
  (Keras: ``jax.grad`` through ``stateless_call``; refkeras: ``GradientTape``),
* the non-trainable state after the call (BatchNormalization's moving statistics).

Tolerances live in the records. Rerun one case with ``pytest tests/parity -k <id>``.
"""

# ruff: noqa: E501 - the table of cases keeps one record per line
from __future__ import annotations

import dataclasses
import inspect
import os
import zlib

os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras.src.backend import get_keras_mask  # noqa: E402

import refkeras  # noqa: E402
from refkeras import ops  # noqa: E402
from refkeras.layers import (  # noqa: E402,F401 - importing registers the layers
    convolutional,
    core,
    embedding,
    merging,
    normalization,
    pooling,
    reshaping,
)
from refkeras.saving.object_registration import builtin  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    layer: str  # class name, identical in keras.layers and refkeras
    kwargs: dict
    shapes: tuple  # one input shape, or several (a list input) for merge layers
    training: bool = False
    ids_below: int | None = None  # integer inputs in [0, ids_below) (Embedding)
    rtol: float = 1e-5
    atol: float = 1e-5


def _c(id, layer, kwargs, *shapes, **extra):
    return Case(id, layer, kwargs, shapes, **extra)


# fmt: off
CASES = [
    # --- core
    _c("dense", "Dense", {"units": 4}, (3, 5)),
    _c("dense_3d_relu", "Dense", {"units": 4, "activation": "relu"}, (2, 3, 5)),
    _c("dense_nobias_tanh", "Dense", {"units": 3, "use_bias": False, "activation": "tanh"}, (3, 5)),
    _c("activation_softmax", "Activation", {"activation": "softmax"}, (3, 5)),
    _c("activation_gelu", "Activation", {"activation": "gelu"}, (3, 5)),
    _c("dropout_inference", "Dropout", {"rate": 0.5}, (3, 5)),
    _c("identity", "Identity", {}, (3, 5)),
    # --- reshaping
    _c("flatten", "Flatten", {}, (2, 3, 4)),
    _c("flatten_channels_first", "Flatten", {"data_format": "channels_first"}, (2, 3, 4, 2)),
    _c("reshape", "Reshape", {"target_shape": (4, -1)}, (2, 3, 4)),
    _c("permute", "Permute", {"dims": (2, 3, 1)}, (2, 3, 4, 5)),
    _c("repeat_vector", "RepeatVector", {"n": 3}, (2, 4)),
    # --- convolutions
    _c("conv1d_valid", "Conv1D", {"filters": 3, "kernel_size": 3}, (2, 7, 4)),
    _c("conv1d_same_s2", "Conv1D", {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"}, (2, 9, 2)),
    _c("conv1d_causal_d2", "Conv1D", {"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 8, 3)),
    _c("conv1d_causal_s2", "Conv1D", {"filters": 2, "kernel_size": 2, "padding": "causal", "strides": 2}, (2, 7, 3)),
    _c("conv1d_groups", "Conv1D", {"filters": 6, "kernel_size": 3, "groups": 2}, (2, 6, 4)),
    _c("conv2d_valid", "Conv2D", {"filters": 3, "kernel_size": (2, 3), "activation": "relu"}, (2, 5, 6, 2)),
    _c("conv2d_same_s2", "Conv2D", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 6, 7, 3)),
    _c("conv2d_same_d2", "Conv2D", {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same"}, (1, 6, 5, 2)),
    _c("conv2d_channels_first", "Conv2D", {"filters": 2, "kernel_size": 3, "data_format": "channels_first", "padding": "same"}, (2, 3, 5, 4)),
    _c("conv2d_groups_same", "Conv2D", {"filters": 3, "kernel_size": 2, "groups": 3, "padding": "same"}, (2, 4, 5, 3)),
    _c("conv3d_same", "Conv3D", {"filters": 2, "kernel_size": 2, "padding": "same", "strides": (1, 2, 1)}, (1, 3, 4, 3, 2)),
    # --- pooling
    _c("maxpool1d", "MaxPooling1D", {}, (2, 7, 3)),
    _c("maxpool1d_same_s1", "MaxPooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 6, 2)),
    _c("maxpool2d_valid", "MaxPooling2D", {"pool_size": (2, 3), "strides": (1, 2)}, (2, 5, 7, 2)),
    _c("maxpool2d_same", "MaxPooling2D", {"padding": "same"}, (2, 5, 5, 3)),
    _c("maxpool2d_channels_first", "MaxPooling2D", {"data_format": "channels_first"}, (2, 3, 4, 4)),
    _c("maxpool3d", "MaxPooling3D", {"padding": "same"}, (1, 3, 4, 5, 2)),
    _c("avgpool1d_same", "AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 8, 2)),
    _c("avgpool2d_valid", "AveragePooling2D", {"pool_size": 2, "strides": 1}, (2, 4, 5, 3)),
    _c("avgpool2d_same", "AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 5, 6, 2)),
    _c("avgpool3d_valid", "AveragePooling3D", {"pool_size": (2, 2, 2)}, (1, 4, 4, 5, 2)),
    _c("gmaxpool1d", "GlobalMaxPooling1D", {}, (2, 5, 3)),
    _c("gmaxpool2d_keepdims", "GlobalMaxPooling2D", {"keepdims": True}, (2, 4, 3, 3)),
    _c("gmaxpool3d", "GlobalMaxPooling3D", {}, (2, 2, 3, 2, 3)),
    _c("gavgpool1d", "GlobalAveragePooling1D", {}, (2, 5, 3)),
    _c("gavgpool2d", "GlobalAveragePooling2D", {}, (2, 4, 3, 3)),
    _c("gavgpool2d_channels_first", "GlobalAveragePooling2D", {"data_format": "channels_first"}, (2, 3, 4, 3)),
    _c("gavgpool3d_keepdims", "GlobalAveragePooling3D", {"keepdims": True}, (2, 2, 3, 2, 3)),
    # --- normalization (weights are random: gamma, beta and the moving statistics too)
    _c("batchnorm_inference", "BatchNormalization", {}, (4, 3)),
    _c("batchnorm_training", "BatchNormalization", {}, (6, 3), training=True),
    _c("batchnorm_training_4d", "BatchNormalization", {"momentum": 0.9}, (3, 2, 4, 3), training=True),
    _c("batchnorm_axis1_training", "BatchNormalization", {"axis": 1, "epsilon": 1e-2}, (4, 3, 5), training=True),
    _c("batchnorm_no_center_scale", "BatchNormalization", {"center": False, "scale": False}, (5, 2), training=True),
    _c("batchnorm_renorm", "BatchNormalization", {"renorm": True, "renorm_clipping": {"rmax": 1.5, "rmin": 0.7, "dmax": 0.3}}, (6, 3), training=True),
    _c("layernorm", "LayerNormalization", {}, (3, 5)),
    _c("layernorm_axes", "LayerNormalization", {"axis": [1, 2], "epsilon": 1e-5}, (2, 3, 4)),
    _c("layernorm_no_center", "LayerNormalization", {"center": False, "axis": 1}, (2, 3, 4)),
    # --- embedding
    _c("embedding", "Embedding", {"input_dim": 7, "output_dim": 3}, (3, 4), ids_below=7),
    _c("embedding_mask_zero", "Embedding", {"input_dim": 5, "output_dim": 2, "mask_zero": True}, (3, 6), ids_below=5),
    # --- merging
    _c("add", "Add", {}, (3, 4), (3, 4), (3, 4)),
    _c("add_broadcast_rank", "Add", {}, (2, 3, 4), (2, 4)),
    _c("subtract", "Subtract", {}, (3, 4), (3, 4)),
    _c("multiply", "Multiply", {}, (3, 4), (3, 1), (3, 4)),
    _c("average", "Average", {}, (3, 4), (3, 4)),
    _c("maximum", "Maximum", {}, (3, 4), (3, 4), (3, 4)),
    _c("minimum", "Minimum", {}, (3, 4), (3, 4)),
    _c("concatenate_last", "Concatenate", {}, (2, 3, 4), (2, 3, 2)),
    _c("concatenate_axis1", "Concatenate", {"axis": 1}, (2, 3, 4), (2, 1, 4), (2, 2, 4)),
    _c("concatenate_axis_neg2", "Concatenate", {"axis": -2}, (2, 3, 4), (2, 2, 4)),
]
# fmt: on


def _inputs(case: Case, rng) -> list[np.ndarray]:
    if case.ids_below is not None:
        ids = [rng.integers(0, case.ids_below, s).astype("int32") for s in case.shapes]
        for x in ids:
            x[:, -1] = 0  # some padding ids for mask_zero
        return ids
    return [(rng.standard_normal(s) * 1.5 + 0.5).astype("float32") for s in case.shapes]


def _keras_side(layer, xs, cot, case: Case):
    """Output, input gradients, weight gradients and new non-trainable state, via ``jax.grad`` of
    ``stateless_call``."""
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]
    kwargs = {}
    if "training" in inspect.signature(layer.call).parameters:
        kwargs["training"] = case.training
    multi = len(case.shapes) > 1

    def loss(tv, xs):
        out, new_ntv = layer.stateless_call(tv, ntv, xs if multi else xs[0], **kwargs)
        return jnp.sum(out * cot), (out, new_ntv)

    float_inputs = case.ids_below is None
    argnums = (0, 1) if float_inputs else 0
    grad_fn = jax.jit(jax.grad(loss, argnums=argnums, has_aux=True))  # one compile per case
    grads, (out, new_ntv) = grad_fn(tv, [jnp.asarray(x) for x in xs])
    w_grads, x_grads = (grads[0], grads[1]) if float_inputs else (grads, [])
    weights = layer.non_trainable_weights  # the state that is a weight (not a seed generator)
    state = [
        np.asarray(new)
        for v, new in zip(layer.non_trainable_variables, new_ntv)
        if any(v is w for w in weights)
    ]
    as_np = lambda seq: [np.asarray(g) for g in seq]  # noqa: E731
    return np.asarray(out), as_np(x_grads), as_np(w_grads), state


def _ref_side(layer, xs, cot, case: Case):
    ts = [ops.convert_to_tensor(x) for x in xs]
    float_inputs = case.ids_below is None
    with refkeras.GradientTape() as tape:
        if float_inputs:
            tape.watch(ts)
        out = layer(ts if len(ts) > 1 else ts[0], training=case.training)
        loss = ops.sum(out * ops.convert_to_tensor(cot))
    sources = (ts if float_inputs else []) + list(layer.trainable_weights)
    grads = tape.gradient(loss, sources)
    grads = [None if g is None else np.asarray(g) for g in grads]
    n = len(ts) if float_inputs else 0
    state = [v.numpy() for v in layer.non_trainable_weights]
    return np.asarray(out), grads[:n], grads[n:], state, out


def _random_weights(layer, rng) -> list[np.ndarray]:
    """Random values for every weight (variances and stddevs positive)."""
    out = []
    for v in layer.weights:
        name = v.path.split("/")[-1]
        if "variance" in name or "stddev" in name:
            out.append(rng.uniform(0.5, 2.0, v.shape).astype(v.dtype))
        else:
            out.append(rng.standard_normal(v.shape).astype(v.dtype))
    return out


# Keras's random initializers cost a compile per shape; the weights are overwritten anyway.
_CHEAP_INIT = ("kernel_initializer", "embeddings_initializer")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_parity(case: Case):
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    xs = _inputs(case, rng)
    k_cls, r_cls = getattr(keras.layers, case.layer), builtin("keras.layers", case.layer)
    params = inspect.signature(k_cls.__init__).parameters
    kwargs = {k: "zeros" for k in _CHEAP_INIT if k in params} | case.kwargs
    k_layer, r_layer = k_cls(**kwargs), r_cls(**kwargs)
    first = xs if len(xs) > 1 else xs[0]
    k_layer.build([x.shape for x in xs] if len(xs) > 1 else xs[0].shape)
    r_layer(first)  # builds; inference mode, so no state changes
    assert [v.path.split("/")[-1] for v in r_layer.weights] == [
        v.path.split("/")[-1] for v in k_layer.weights
    ], "weight names/order differ from Keras"
    weights = _random_weights(k_layer, rng)
    k_layer.set_weights(weights)
    r_layer.set_weights(weights)

    k_out_shape = k_layer.compute_output_shape(
        [x.shape for x in xs] if len(xs) > 1 else xs[0].shape
    )
    cot = rng.standard_normal(k_out_shape).astype("float32")
    k_out, k_xg, k_wg, k_state = _keras_side(k_layer, xs, cot, case)
    r_out, r_xg, r_wg, r_state, _ = _ref_side(r_layer, xs, cot, case)

    tol = {"rtol": case.rtol, "atol": case.atol}
    assert r_out.dtype == k_out.dtype
    np.testing.assert_allclose(r_out, k_out, **tol, err_msg="outputs")
    for i, (r, k) in enumerate(zip(r_xg, k_xg, strict=True)):
        np.testing.assert_allclose(r, k, **tol, err_msg=f"gradient wrt input {i}")
    names = [v.path for v in r_layer.trainable_weights]
    for name, r, k in zip(names, r_wg, k_wg, strict=True):
        np.testing.assert_allclose(r, k, **tol, err_msg=f"gradient wrt {name}")
    for r, k in zip(r_state, k_state, strict=True):
        np.testing.assert_allclose(r, k, **tol, err_msg="non-trainable state after the call")


def test_embedding_mask_matches_keras():
    ids = np.array([[3, 0, 1, 0], [0, 0, 2, 4]], dtype="int32")
    k_layer = keras.layers.Embedding(5, 2, mask_zero=True)
    r_layer = builtin("keras.layers", "Embedding")(5, 2, mask_zero=True)
    k_out = k_layer(ids)
    r_out = r_layer(ids)
    np.testing.assert_array_equal(np.asarray(r_out._keras_mask), np.asarray(k_out._keras_mask))
    np.testing.assert_array_equal(
        np.asarray(r_layer.compute_mask(ids)), np.asarray(k_layer.compute_mask(ids))
    )


def _masked_inputs(rng):
    """Two ``(2, 4, 3)`` inputs whose masks differ, from ``Masking`` in both frameworks."""
    a = rng.standard_normal((2, 4, 3)).astype("float32")
    b = rng.standard_normal((2, 4, 3)).astype("float32")
    a[0, 1], a[1, 3], b[0, 1], b[1, 0] = 0.0, 0.0, 0.0, 0.0
    return a, b


@pytest.mark.parametrize(
    "name", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]
)
def test_masked_merge_matches_keras(name):
    a, b = _masked_inputs(np.random.default_rng(0))
    k_in = [keras.layers.Masking()(x) for x in (a, b)]
    r_masking = builtin("keras.layers", "Masking")
    r_in = [r_masking()(x) for x in (a, b)]
    k_out = getattr(keras.layers, name)()(k_in)
    r_out = builtin("keras.layers", name)()(r_in)
    np.testing.assert_allclose(np.asarray(r_out), np.asarray(k_out), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(r_out._keras_mask), np.asarray(get_keras_mask(k_out)))


def test_masked_global_average_pooling_and_batchnorm_match_keras():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 1], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    k_pool = keras.layers.GlobalAveragePooling1D()
    r_pool = builtin("keras.layers", "GlobalAveragePooling1D")()
    np.testing.assert_allclose(
        np.asarray(r_pool(x, mask=mask)), np.asarray(k_pool(x, mask=mask)), rtol=1e-6, atol=1e-6
    )
    k_bn = keras.layers.BatchNormalization(momentum=0.5)
    r_bn = builtin("keras.layers", "BatchNormalization")(momentum=0.5)
    k_out = k_bn(x, training=True, mask=mask)
    r_out = r_bn(x, training=True, mask=mask)
    np.testing.assert_allclose(np.asarray(r_out), np.asarray(k_out), rtol=1e-5, atol=1e-5)
    for r, k in zip(r_bn.get_weights(), k_bn.get_weights(), strict=True):
        np.testing.assert_allclose(r, k, rtol=1e-6, atol=1e-6)


def test_masking_matches_keras():
    a, _ = _masked_inputs(np.random.default_rng(2))
    k_out = keras.layers.Masking()(a)
    r_out = builtin("keras.layers", "Masking")()(a)
    np.testing.assert_array_equal(np.asarray(r_out), np.asarray(k_out))
    np.testing.assert_array_equal(np.asarray(r_out._keras_mask), np.asarray(get_keras_mask(k_out)))
