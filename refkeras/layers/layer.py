"""The base ``Layer``: the contract ``__init__ -> build -> call -> compute_output_shape ->
get_config`` and everything ``__call__`` does around ``call``.

``layer(inputs)`` does, in order (as Keras 3's ``Layer.__call__``):

1. convert array arguments to tensors, casting floating inputs to the layer's compute dtype;
2. with symbolic inputs (``KerasTensor``), infer the outputs and record a functional-graph node
   instead of computing (:meth:`Layer._symbolic_call`);
3. check the first input against ``input_spec`` (Keras's error wording);
4. ``build(input_shape)`` on first use;
5. resolve ``training``: the explicit argument, else the enclosing layer call's, else the default in
   ``call``'s signature; and fill ``mask`` from the mask attached to the input;
6. run ``call``; add the activity-regularization loss; attach the output mask.

Losses added with ``add_loss`` during a call are cleared when the outermost layer call starts.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from refkeras import config
from refkeras.backend import dispatch
from refkeras.backend.dtypes import standardize_dtype
from refkeras.backend.keras_tensor import KerasTensor, any_symbolic
from refkeras.backend.tensor import Tensor
from refkeras.backend.variable import StatelessScope, Variable
from refkeras.layers.input_spec import InputSpec, assert_input_compatibility
from refkeras.layers.node import Node
from refkeras.saving.object_registration import register_builtin
from refkeras.utils import naming, tree

_call_stack: list[dict] = []  # one entry per active layer call: {"layer", "training"}

_ALLOWED_KWARGS = {"input_shape", "input_dim", "batch_input_shape", "batch_size", "weights"}


def _dtype_config(name: str) -> dict:
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": name},
        "registered_name": None,
    }


def _dtype_name(dtype) -> str:
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        return dtype.get("config", {}).get("name", config.floatx())
    return standardize_dtype(getattr(dtype, "name", dtype))


@register_builtin("keras.layers")
class Layer:
    """Base class of all layers.

    Args:
        trainable: whether the layer's weights are updated by training.
        dtype: the dtype of the weights and computations (default ``floatx()``).
        name: unique default from the class name (``dense``, ``dense_1``...).
        activity_regularizer: applied to the outputs; its value divided by the batch size is
            added to ``losses``.
        autocast: cast floating inputs to the layer's dtype.
    """

    _keras_module = "keras.layers"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__ and not cls.__dict__.get("_manages_built", False):
            cls.build = _marks_built(cls.__dict__["build"])

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        for attr in (
            "_layers",
            "_trainable_variables",
            "_non_trainable_variables",
            "_seed_generators",
            "_metrics",
            "_losses",
            "_inbound_nodes",
        ):
            object.__setattr__(obj, attr, [])
        object.__setattr__(obj, "_auto_config", _capture_config(cls, args, kwargs))
        return obj

    def __init__(
        self,
        *,
        activity_regularizer=None,
        trainable: bool = True,
        dtype=None,
        autocast: bool = True,
        name: str | None = None,
        **kwargs,
    ):
        unknown = set(kwargs) - _ALLOWED_KWARGS
        if unknown:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{ {k: kwargs[k] for k in unknown} }"
            )
        self._initialized = True
        self._trainable = bool(trainable)
        self.built = False
        self.autocast = autocast
        self.supports_masking = False
        self.input_spec = None
        self._dtype = _dtype_name(dtype)
        self.name = name or naming.auto_name(naming.to_snake_case(type(self).__name__))
        from refkeras import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._build_shapes = None
        self._call_signature = inspect.signature(self.call)
        self._call_has_training = "training" in self._call_signature.parameters
        self._call_has_mask = "mask" in self._call_signature.parameters
        input_shape = kwargs.get("input_shape")
        if kwargs.get("input_dim") is not None:
            input_shape = (kwargs["input_dim"],)
        if kwargs.get("batch_input_shape") is not None:
            self._batch_input_shape = tuple(kwargs["batch_input_shape"])
        elif input_shape is not None:
            self._batch_input_shape = (kwargs.get("batch_size"), *input_shape)
        else:
            self._batch_input_shape = None
        self._initial_weights = kwargs.get("weights")

    # --- attribute tracking ---------------------------------------------------------------------

    def __setattr__(self, name, value):
        if not name.startswith("_") or name == "_layers":
            self._track(value)
        object.__setattr__(self, name, value)

    def _track(self, value):
        from refkeras.metrics.metric import Metric
        from refkeras.random.seed_generator import SeedGenerator

        if isinstance(value, Layer):
            if value is not self and not any(value is l for l in self._layers):
                self._layers.append(value)
        elif isinstance(value, Metric):
            if not any(value is m for m in self._metrics):
                self._metrics.append(value)
        elif isinstance(value, SeedGenerator):
            if not any(value is g for g in self._seed_generators):
                self._seed_generators.append(value)
        elif isinstance(value, Variable):
            if not any(
                value is v for v in self._trainable_variables + self._non_trainable_variables
            ):
                (
                    self._trainable_variables if value.trainable else self._non_trainable_variables
                ).append(value)
        elif isinstance(value, list | tuple):
            for v in value:
                if isinstance(v, Layer | Metric):
                    self._track(v)
        elif isinstance(value, dict):
            for v in value.values():
                if isinstance(v, Layer | Metric):
                    self._track(v)

    # --- dtype ----------------------------------------------------------------------------------

    @property
    def dtype(self) -> str:
        """The dtype of the layer's weights."""
        return self._dtype

    variable_dtype = dtype

    @property
    def compute_dtype(self) -> str:
        return self._dtype

    @property
    def input_dtype(self) -> str:
        return self._dtype

    @property
    def dtype_policy(self):
        return _DTypePolicy(self._dtype)

    # --- weights --------------------------------------------------------------------------------

    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer=None,
        constraint=None,
        aggregation: str = "none",
        overwrite_with_gradient: bool = False,
        name: str | None = None,
    ) -> Variable:
        """Create a variable owned by this layer (path ``<layer path>/<name>``).

        The initializer defaults to ``"glorot_uniform"`` for float dtypes and ``"zeros"``
        otherwise; ``regularizer(variable)`` is added to ``losses``; ``constraint`` is applied
        by the optimizer after each update.
        """
        from refkeras import constraints, initializers, regularizers

        shape = () if shape is None else tuple(shape)
        dtype = standardize_dtype(dtype or self._dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.startswith(("float", "bfloat")) else "zeros"
        initializer = initializers.get(initializer)
        variable = Variable(
            initializer,
            shape=shape,
            dtype=dtype,
            trainable=trainable,
            autocast=autocast,
            aggregation=aggregation,
            name=name or "variable",
        )
        variable.path = f"{self.name}/{variable.name}"
        variable.regularizer = regularizers.get(regularizer)
        variable.constraint = constraints.get(constraint)
        variable.overwrite_with_gradient = overwrite_with_gradient
        (self._trainable_variables if trainable else self._non_trainable_variables).append(variable)
        return variable

    @property
    def path(self) -> str:
        return self.name

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Setting ``trainable`` applies to every sublayer too (it takes effect in ``fit`` at the
        next ``compile``)."""
        self._trainable = bool(value)
        for v in self._trainable_variables:
            v.trainable = self._trainable  # as Keras: the variables' own flags follow the layer
        for layer in self._layers:
            layer.trainable = value

    @property
    def weights(self) -> list[Variable]:
        """Own trainable then non-trainable variables, then each sublayer's weights."""
        out, seen = [], set()
        for w in self._trainable_variables + self._non_trainable_variables:
            if id(w) not in seen:
                out.append(w)
                seen.add(id(w))
        for layer in self._layers:
            for w in layer.weights:
                if id(w) not in seen:
                    out.append(w)
                    seen.add(id(w))
        return out

    @property
    def trainable_weights(self) -> list[Variable]:
        return [v for v in self.weights if v.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        return [v for v in self.weights if not v.trainable] if self.trainable else self.weights

    trainable_variables = trainable_weights

    @property
    def variables(self) -> list[Variable]:
        """All state: weights, metric variables and random-seed states."""
        out, seen = [], set()
        for v in (
            self.weights
            + [v for m in self._all_metrics() for v in m.variables]
            + [g.state for layer in self._flatten_layers() for g in layer._seed_generators]
        ):
            if id(v) not in seen:
                out.append(v)
                seen.add(id(v))
        return out

    @property
    def non_trainable_variables(self) -> list[Variable]:
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.variables if id(v) not in trainable]

    def _all_metrics(self) -> list:
        return [m for layer in self._flatten_layers() for m in layer._metrics]

    def _flatten_layers(self, include_self: bool = True) -> list[Layer]:
        out, seen, stack = [], set(), ([self] if include_self else list(reversed(self._layers)))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer._layers))
        return out

    @property
    def metrics(self) -> list:
        return list(self._metrics)

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, in the order of ``weights``."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set the weights from a list of arrays in the order of ``weights``; nothing changes
        unless every shape matches."""
        layer_weights = self.weights
        if len(layer_weights) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of "
                f"length {len(weights)}, but the layer was expecting {len(layer_weights)} weights."
            )
        from refkeras import backend

        arrays = [w if isinstance(w, np.ndarray) else backend.to_numpy(w) for w in weights]
        for variable, value in zip(layer_weights, arrays):
            if tuple(variable.shape) != value.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {variable.shape} is not compatible with "
                    f"provided weight shape {value.shape}."
                )
        for variable, value in zip(layer_weights, arrays):
            variable.assign(value)

    # --- losses ---------------------------------------------------------------------------------

    def add_loss(self, loss) -> None:
        """Add a scalar loss (a tensor computed in ``call``) to ``losses``; ``fit`` minimises the
        sum of the compiled loss and all added losses."""
        self._losses.append(loss)

    @property
    def losses(self) -> list:
        """Losses added during the last call (this layer and its sublayers) plus the weight
        regularization losses, recomputed from the current weights."""
        from refkeras import ops

        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
        for w in self.trainable_weights:
            reg = getattr(w, "regularizer", None)
            if reg is not None:
                out.append(ops.convert_to_tensor(reg(w)))
        return out

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            layer._losses = []

    # --- build / call ---------------------------------------------------------------------------

    def build(self, input_shape=None) -> None:
        """Create the weights for inputs of ``input_shape`` (override in subclasses)."""
        self.built = True

    def call(self, *args, **kwargs):
        raise NotImplementedError(  # abstract: every layer defines it
            f"Layer {type(self).__name__} does not have a `call()` method implemented."
        )

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.supports_masking else None

    def _maybe_build(self, first_arg) -> None:
        if self.built:
            return
        shapes = tree.map_structure(
            lambda x: tuple(x.shape) if hasattr(x, "shape") else None, first_arg
        )
        if isinstance(first_arg, list | tuple) and not isinstance(shapes, list):
            shapes = list(shapes)
        self.build(shapes)
        self._build_shapes = shapes
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def __call__(self, *args, **kwargs):
        if "_initialized" not in self.__dict__:
            raise RuntimeError(
                f"In layer '{type(self).__name__}', you forgot to call `super().__init__()` as "
                "the first statement in the `__init__()` method."
            )
        args = tree.map_structure(self._convert_input, args)
        kwargs = {
            k: (tree.map_structure(self._convert_input, v) if k not in ("training",) else v)
            for k, v in kwargs.items()
        }
        if any_symbolic(args) or any_symbolic(list(kwargs.values())):
            return self._symbolic_call(args, kwargs)
        first_arg = args[0] if args else next(iter(kwargs.values()), None)
        assert_input_compatibility(self.input_spec, first_arg, self.name)
        self._maybe_build(first_arg)

        outermost = not _call_stack
        if outermost:
            self._clear_losses()
        training = self._resolve_training(kwargs)
        if self._call_has_training and training is not None:
            kwargs["training"] = training
        elif "training" in kwargs and not self._call_has_training:
            kwargs.pop("training")
        previous_mask = tree.map_structure(lambda x: getattr(x, "_keras_mask", None), first_arg)
        if self._call_has_mask and kwargs.get("mask") is None:
            if any(m is not None for m in tree.flatten(previous_mask)):
                kwargs["mask"] = previous_mask
        elif kwargs.get("mask") is not None:
            previous_mask = kwargs["mask"]
        _call_stack.append({"layer": self, "training": training})
        try:
            outputs = self.call(*args, **kwargs)
        finally:
            _call_stack.pop()
        if self.activity_regularizer is not None:
            self._add_activity_loss(outputs)
        if self.supports_masking:
            self._attach_mask(first_arg, outputs, previous_mask)
        return outputs

    def _convert_input(self, x):
        if isinstance(x, KerasTensor) or x is None:
            return x
        if isinstance(x, Variable):
            x = x.value
        if isinstance(x, np.ndarray | np.generic):
            x = Tensor(dispatch.active_backend().asarray(x))
        if isinstance(x, Tensor):
            kind = x.value.dtype.kind
            if self.autocast and kind == "f" and x.value.dtype != np.dtype(self.compute_dtype):
                from refkeras.ops import cast

                mask = x._keras_mask
                x = cast(x, self.compute_dtype)
                x._keras_mask = mask
        return x

    def _resolve_training(self, kwargs):
        explicit = kwargs.get("training")
        if explicit is not None:
            return bool(explicit) if not isinstance(explicit, Tensor) else bool(explicit.value)
        for frame in reversed(_call_stack):
            if frame["training"] is not None:
                return frame["training"]
        if self._call_has_training:
            default = self._call_signature.parameters["training"].default
            if default is not inspect.Parameter.empty and default is not None:
                return default
        return None

    def _add_activity_loss(self, outputs) -> None:
        from refkeras import ops

        for out in tree.flatten(outputs):
            if isinstance(out, Tensor):
                loss = self.activity_regularizer(out)
                if out.ndim > 0:
                    loss = ops.divide(loss, float(out.shape[0]))
                self.add_loss(loss)

    def _attach_mask(self, inputs, outputs, previous_mask) -> None:
        flat_out = [o for o in tree.flatten(outputs) if isinstance(o, Tensor)]
        input_ids = {id(i) for i in tree.flatten(inputs)}
        if flat_out and all(o._keras_mask is not None and id(o) not in input_ids for o in flat_out):
            return  # `call` set the masks on new outputs itself
        mask = self.compute_mask(inputs, previous_mask)
        if mask is None:
            return
        flat_out, flat_mask = tree.flatten(outputs), tree.flatten(mask)
        if len(flat_mask) != len(flat_out):
            flat_mask = [flat_mask[0]] * len(flat_out)
        for out, m in zip(flat_out, flat_mask):
            if isinstance(out, Tensor):
                out._keras_mask = m

    # --- symbolic (functional API) --------------------------------------------------------------

    def _symbolic_call(self, args, kwargs):
        first_arg = args[0] if args else next(iter(kwargs.values()), None)
        assert_input_compatibility(self.input_spec, first_arg, self.name)
        self._maybe_build(first_arg)
        outputs = self.compute_output_spec(*args, **kwargs)
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_spec(self, *args, **kwargs):
        """Output KerasTensors for symbolic inputs: from ``compute_output_shape`` when the class
        defines it, else by running ``call`` on stand-in values of two sizes for every unknown
        dimension (dimensions that differ between the two runs are unknown in the output)."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            first = args[0] if args else next(iter(kwargs.values()))
            shapes = tree.map_structure(lambda x: tuple(x.shape), first)
            out_shapes = self.compute_output_shape(shapes)
            return tree.map_shape_structure(
                lambda s: KerasTensor(s, dtype=self.compute_dtype), out_shapes
            )
        return infer_output_spec(self, args, kwargs)

    def compute_output_shape(self, input_shape):
        """The output shape for inputs of ``input_shape`` (override; the default runs ``call``
        on stand-in values)."""
        spec = infer_output_spec(self, (tree.map_shape_structure(KerasTensor, input_shape),), {})
        return tree.map_structure(lambda t: t.shape, spec)

    # --- config ---------------------------------------------------------------------------------

    def get_config(self) -> dict:
        """The constructor arguments (base: name, trainable, dtype) as a JSON-able dict."""
        cfg = {"name": self.name, "trainable": self.trainable, "dtype": _dtype_config(self._dtype)}
        if self.activity_regularizer is not None:
            from refkeras import regularizers

            cfg["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if type(self).get_config is Layer.get_config and _own_init(type(self)):
            # A subclass without get_config(): rebuild the config from the constructor
            # arguments captured in __new__, as Keras does (when they are plain values).
            if self._auto_config is None:
                raise NotImplementedError(
                    f"Layer {type(self).__name__} does not implement `get_config()` and its "
                    "constructor arguments are not plain values; override `get_config()`."
                )
            cfg.update(self._auto_config)
        return cfg

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def get_build_config(self) -> dict | None:
        if self._build_shapes is not None:
            return {"input_shape": self._build_shapes}
        return None

    def build_from_config(self, config: dict) -> None:
        if config and "input_shape" in config and not self.built:
            shape = config["input_shape"]
            self._build_shapes = shape
            self.build(_tuples(shape))
            self.built = True

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                "You tried to call `count_params` on layer '"
                f"{self.name}', but the layer isn't built. You can build it manually via: "
                f"`layer.build(input_shape)`."
            )
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in self.weights))

    # --- functional introspection ---------------------------------------------------------------

    @property
    def input(self):
        return self._node_tensors(0, "input")

    @property
    def output(self):
        return self._node_tensors(0, "output")

    def _node_tensors(self, index, kind):
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined {kind}."
            )
        node = self._inbound_nodes[index]
        tensors = node.arguments if kind == "input" else node.outputs
        return tensors[0] if len(tensors) == 1 else list(tensors)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _marks_built(build):
    """Wrap a subclass's ``build`` so that calling it directly also marks the layer built (and
    remembers the shape for ``get_build_config``), as Keras does."""

    @functools.wraps(build)
    def wrapper(self, *args, **kwargs):
        build(self, *args, **kwargs)
        if self._build_shapes is None and args:
            self._build_shapes = args[0]
        self.built = True

    return wrapper


def _tuples(shape):
    if isinstance(shape, list) and shape and all(isinstance(s, list | tuple) for s in shape):
        return [tuple(s) for s in shape]
    if isinstance(shape, dict):
        return {k: tuple(v) for k, v in shape.items()}
    return tuple(shape) if shape is not None else None


def _own_init(cls) -> bool:
    """Whether ``cls`` defines its own ``__init__`` below the built-in classes."""
    for klass in cls.__mro__:
        if "__init__" in klass.__dict__:
            return not klass.__module__.startswith("refkeras.")
    return False


_PLAIN = (int, float, str, bool, type(None))


def _is_plain(v) -> bool:
    if isinstance(v, list | tuple):
        return all(_is_plain(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _is_plain(x) for k, x in v.items())
    return isinstance(v, _PLAIN)


def _capture_config(cls, args, kwargs) -> dict | None:
    """The constructor arguments by name, if they are all plain JSON values."""
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return None
    cfg = {}
    for name, value in list(bound.arguments.items())[1:]:
        param = inspect.signature(cls.__init__).parameters[name]
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            cfg.update(value)
        elif param.kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None
        else:
            cfg[name] = value
    return cfg if _is_plain(cfg) else None


class _DTypePolicy:
    def __init__(self, name):
        self.name = name
        self.compute_dtype = name
        self.variable_dtype = name

    def __repr__(self):
        return f'<DTypePolicy "{self.name}">'


_STANDIN_SIZES = ({"batch": 2, "other": 31}, {"batch": 3, "other": 37})


def infer_output_spec(layer_or_fn, args, kwargs):
    """Output KerasTensors of calling ``layer_or_fn`` on symbolic ``args``: run it twice on
    zeros where every unknown size is replaced by two different values, in a stateless scope
    (no variable changes, no losses kept, nothing recorded for autodiff)."""
    from refkeras import autodiff

    runs = []
    for sizes in _STANDIN_SIZES:

        def concrete(x, sizes=sizes):
            if not isinstance(x, KerasTensor):
                return x
            shape = tuple(
                (sizes["batch"] if i == 0 else sizes["other"]) if d is None else d
                for i, d in enumerate(x.shape)
            )
            return Tensor(
                dispatch.active_backend().asarray(np.zeros(shape, dtype=np.dtype(x.dtype)))
            )

        c_args = tree.map_structure(concrete, args)
        c_kwargs = {k: tree.map_structure(concrete, v) for k, v in kwargs.items()}
        saved = autodiff._state["paused"]
        autodiff._state["paused"] += 1
        layers = layer_or_fn._flatten_layers() if isinstance(layer_or_fn, Layer) else []
        saved_losses = [(l, l._losses) for l in layers]
        try:
            with StatelessScope():
                if isinstance(layer_or_fn, Layer):
                    out = Layer.__call__(layer_or_fn, *c_args, **c_kwargs)
                else:
                    out = layer_or_fn(*c_args, **c_kwargs)
        finally:
            autodiff._state["paused"] = saved
            for l, losses in saved_losses:
                l._losses = losses
        runs.append(out)

    def spec(a, b):
        if not isinstance(a, Tensor):
            return a
        shape = tuple(da if da == db else None for da, db in zip(a.shape, b.shape))
        return KerasTensor(shape, dtype=standardize_dtype(a.dtype))

    return tree.map_structure(spec, runs[0], runs[1])


_ = InputSpec  # re-exported for subclasses: `from refkeras.layers.layer import InputSpec`
