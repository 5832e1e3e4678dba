"""CSVLogger: the file written for a synthetic log sequence, byte for byte against Keras 3."""

import os

import numpy as np
import pytest

from refkeras.callbacks.csv_logger import CSVLogger

os.environ["KERAS_BACKEND"] = "jax"
keras = pytest.importorskip("keras")


def drive(callback, epoch_logs, first_epoch=0):
    callback.on_train_begin({})
    for i, logs in enumerate(epoch_logs):
        callback.on_epoch_begin(first_epoch + i, {})
        callback.on_epoch_end(first_epoch + i, logs)
    callback.on_train_end({})


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


# (kwargs, list of fits, each a list of epoch logs)
CASES = {
    "train_only_adds_val_columns": (
        {},
        [[{"loss": 0.5, "mae": 0.25}, {"loss": 0.125, "mae": 0.1}]],
    ),
    "with_validation_sorted_keys": (
        {},
        [[{"val_loss": 0.3, "loss": 0.5, "accuracy": 0.75, "val_accuracy": 0.5}] * 2],
    ),
    "missing_values_are_NA": ({}, [[{"loss": 0.5, "val_loss": 0.4}, {"loss": 0.25}]]),
    "lists_and_arrays": (
        {},
        [[{"loss": 0.5, "vec": [1, 2.5], "arr": np.array([0.5, 1.0]), "scalar": np.array(3.0)}]],
    ),
    "strings_and_ints": ({}, [[{"loss": 1, "note": "a,b"}]]),
    "separator": ({"separator": ";"}, [[{"loss": 0.5, "val_loss": 0.25}] * 3]),
    "empty_logs": ({}, [[{}, {}]]),
    "overwrite": ({}, [[{"loss": 1.0}], [{"loss": 2.0}]]),
    "append": ({"append": True}, [[{"loss": 1.0}], [{"loss": 2.0, "val_loss": 3.0}]]),
    "float32_values": ({}, [[{"loss": np.float32(0.1), "lr": 1e-7}]]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras_byte_for_byte(name, tmp_path):
    kwargs, fits = CASES[name]
    outputs = []
    for cls, tag in ((keras.callbacks.CSVLogger, "keras"), (CSVLogger, "ref")):
        path = tmp_path / f"{tag}.csv"
        for logs_list in fits:
            callback = cls(str(path), **kwargs)
            drive(callback, [dict(logs) for logs in logs_list])
        outputs.append(read_bytes(path))
    assert outputs[1] == outputs[0]


def test_format(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), [{"loss": 0.5, "acc": 0.25}, {"loss": 0.125, "acc": 0.75}])
    assert read_bytes(path) == (
        b"epoch,acc,loss,val_acc,val_loss\r\n0,0.25,0.5,NA,NA\r\n1,0.75,0.125,NA,NA\r\n"
    )


def test_list_value_is_quoted_like_keras(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), [{"loss": 1.0, "val_loss": 2.0, "v": [1, 2]}])
    assert read_bytes(path).splitlines()[1] == b'0,1.0,"""[1, 2]""",2.0'


def test_append_writes_header_once(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path, append=True), [{"loss": 1.0}])
    drive(CSVLogger(path, append=True), [{"loss": 2.0}], first_epoch=1)
    assert read_bytes(path).decode().splitlines() == [
        "epoch,loss,val_loss",
        "0,1.0,NA",
        "1,2.0,NA",
    ]


def test_append_to_empty_file_writes_header(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("")
    drive(CSVLogger(path, append=True), [{"loss": 1.0}])
    assert read_bytes(path).decode().splitlines()[0] == "epoch,loss,val_loss"


def test_reused_instance_restarts_the_file(tmp_path):
    path = tmp_path / "log.csv"
    callback = CSVLogger(path)
    drive(callback, [{"loss": 1.0}])
    drive(callback, [{"loss": 2.0, "x": 1.0}])
    assert read_bytes(path).decode().splitlines() == [
        "epoch,loss,x,val_loss,val_x",
        "0,2.0,1.0,NA,NA",
    ]


def test_file_is_closed_after_training(tmp_path):
    callback = CSVLogger(tmp_path / "log.csv")
    drive(callback, [{"loss": 1.0}])
    assert callback.csv_file.closed
    assert callback.writer is None
