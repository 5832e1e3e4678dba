"""The three benchmark models, written once for any Keras-like module and once for PyTorch.

``build_mlp(keras)``, ``build_cnn(keras)`` and ``build_lstm(keras)`` take the *module* to build
with: ``refkeras`` or ``keras`` (Keras 3).  The same source builds both models, which is the
point of the comparison.  The ``torch_*`` builders are the equivalent ``nn.Module``\\ s.

This file imports nothing heavy at module level: ``bench_epoch.py`` sets the BLAS/XLA thread
environment variables before NumPy, JAX or PyTorch are imported, and that only works if merely
importing this module does not import them.
"""

from __future__ import annotations

import importlib

# Where refkeras layers live, for when ``refkeras.layers`` does not (yet) export a layer.
_REFKERAS_LAYER_MODULES = ("core", "convolutional", "pooling", "rnn", "recurrent", "lstm")


class LayerUnavailable(Exception):
    """A layer the benchmark needs is not provided by the framework under test."""


def layer(keras, name):
    """``keras.layers.<name>``; for refkeras, also looks in the ``refkeras.layers`` submodules."""
    cls = getattr(keras.layers, name, None)
    if cls is not None:
        return cls
    package = keras.layers.__name__
    if package.startswith("refkeras"):
        for sub in _REFKERAS_LAYER_MODULES:
            try:
                module = importlib.import_module(f"{package}.{sub}")
            except ImportError:
                continue
            cls = getattr(module, name, None)
            if cls is not None:
                return cls
    raise LayerUnavailable(f"{package} has no {name}")


def compile_model(keras, model, steps_per_execution=1):
    """RMSprop (Keras defaults), sparse categorical crossentropy, accuracy.

    ``steps_per_execution`` > 1 lets a compiling backend (Keras on JAX, refkeras's JAX backend)
    run that many train steps per compiled call; the eager backends just group callbacks.
    """
    model.compile(
        optimizer=keras.optimizers.RMSprop(),  # lr=1e-3, rho=0.9, epsilon=1e-7
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


# ------------------------------------------------------------------------------------------------
# Keras-like models (refkeras and Keras 3 run this same code)
# ------------------------------------------------------------------------------------------------


def build_mlp(keras, width=64, steps_per_execution=1):
    """784-width-width-10 MLP (the seed benchmark: width 64; ``--sweep width`` varies it)."""
    Dense = layer(keras, "Dense")
    inputs = keras.Input(shape=(784,))
    x = Dense(width, activation="relu")(inputs)
    x = Dense(width, activation="relu")(x)
    outputs = Dense(10, activation="softmax")(x)
    return compile_model(keras, keras.Model(inputs, outputs), steps_per_execution)


def build_cnn(keras, steps_per_execution=1):
    """Conv(32,3) -> MaxPool(2) -> Conv(32,3) -> GlobalMaxPool -> Dense(10) on 28x28x1."""
    Conv2D = layer(keras, "Conv2D")
    MaxPooling2D = layer(keras, "MaxPooling2D")
    GlobalMaxPooling2D = layer(keras, "GlobalMaxPooling2D")
    Dense = layer(keras, "Dense")
    inputs = keras.Input(shape=(28, 28, 1))
    x = Conv2D(32, 3, activation="relu")(inputs)
    x = MaxPooling2D(2)(x)
    x = Conv2D(32, 3, activation="relu")(x)
    x = GlobalMaxPooling2D()(x)
    outputs = Dense(10, activation="softmax")(x)
    return compile_model(keras, keras.Model(inputs, outputs), steps_per_execution)


def build_lstm(keras, steps_per_execution=1):
    """LSTM(32) over 10 steps of 16 features -> Dense(10)."""
    LSTM = layer(keras, "LSTM")
    Dense = layer(keras, "Dense")
    inputs = keras.Input(shape=(10, 16))
    x = LSTM(32)(inputs)
    outputs = Dense(10, activation="softmax")(x)
    return compile_model(keras, keras.Model(inputs, outputs), steps_per_execution)


KERAS_BUILDERS = {"mlp": build_mlp, "cnn": build_cnn, "lstm": build_lstm}


# ------------------------------------------------------------------------------------------------
# PyTorch equivalents
# ------------------------------------------------------------------------------------------------
# The last layer outputs logits and the loss is ``nn.CrossEntropyLoss`` (log-softmax + NLL fused),
# the idiomatic PyTorch form of "Dense(10, softmax) + sparse categorical crossentropy".
# Images are NCHW (PyTorch's native layout); the data is transposed once, outside the timing.


def torch_mlp(width=64):
    from torch import nn

    return nn.Sequential(
        nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10)
    )


def torch_cnn():
    import torch
    from torch import nn

    class SmallCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3)
            self.pool = nn.MaxPool2d(2)
            self.conv2 = nn.Conv2d(32, 32, 3)
            self.dense = nn.Linear(32, 10)

        def forward(self, x):
            x = self.pool(torch.relu(self.conv1(x)))
            x = torch.relu(self.conv2(x))
            x = torch.amax(x, dim=(2, 3))  # GlobalMaxPooling2D
            return self.dense(x)

    return SmallCNN()


def torch_lstm():
    from torch import nn

    class SmallLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(16, 32, batch_first=True)
            self.dense = nn.Linear(32, 10)

        def forward(self, x):
            _, (h, _) = self.lstm(x)  # last hidden state, as Keras's return_sequences=False
            return self.dense(h[-1])

    return SmallLSTM()


TORCH_BUILDERS = {"mlp": torch_mlp, "cnn": torch_cnn, "lstm": torch_lstm}


def build_keras_like(keras, model, width=None, steps_per_execution=1):
    """``KERAS_BUILDERS[model](keras, ...)``; ``width`` only applies to the MLP."""
    kwargs = {"steps_per_execution": steps_per_execution}
    if width is not None:
        if model != "mlp":
            raise ValueError(f"width applies to the mlp only; received model={model!r}")
        kwargs["width"] = width
    return KERAS_BUILDERS[model](keras, **kwargs)


def build_torch(model, width=None):
    """``TORCH_BUILDERS[model]()``; ``width`` only applies to the MLP."""
    if width is not None:
        if model != "mlp":
            raise ValueError(f"width applies to the mlp only; received model={model!r}")
        return torch_mlp(width)
    return TORCH_BUILDERS[model]()
