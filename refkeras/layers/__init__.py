"""``refkeras.layers``: every layer, under Keras 3's names."""

from refkeras.layers.convolutional import Conv1D, Conv2D, Conv3D  # noqa: F401
from refkeras.layers.core import Activation, Dense, Dropout, Identity, Lambda, Masking  # noqa: F401
from refkeras.layers.embedding import Embedding  # noqa: F401
from refkeras.layers.input_layer import Input, InputLayer  # noqa: F401
from refkeras.layers.input_spec import InputSpec  # noqa: F401
from refkeras.layers.layer import Layer  # noqa: F401
from refkeras.layers.merging import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from refkeras.layers.normalization import BatchNormalization, LayerNormalization  # noqa: F401
from refkeras.layers.pooling import (  # noqa: F401
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from refkeras.layers.reshaping import Flatten, Permute, RepeatVector, Reshape  # noqa: F401
from refkeras.layers.rnn import GRU, LSTM, RNN, SimpleRNN  # noqa: F401
from refkeras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell  # noqa: F401

# Keras's short aliases.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
)
