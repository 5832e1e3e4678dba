"""LambdaCallback: every hook, the named ones and those passed by keyword, against Keras 3."""

import os

import pytest

from refkeras.callbacks.lambda_callback import LambdaCallback

os.environ["KERAS_BACKEND"] = "jax"
keras = pytest.importorskip("keras")

INDEXED = [
    "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end",
]  # fmt: skip
UNINDEXED = [
    "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
    "on_predict_begin", "on_predict_end",
]  # fmt: skip


def recorder(calls, hook):
    if hook in INDEXED:
        return lambda index, logs: calls.append((hook, index, logs))
    return lambda logs: calls.append((hook, logs))


def call_every_hook(callback):
    """Call each hook once, like a fit/evaluate/predict loop would."""
    for i, hook in enumerate(INDEXED):
        getattr(callback, hook)(i, {"i": i})
    for hook in UNINDEXED:
        getattr(callback, hook)({"h": hook})


@pytest.mark.parametrize("hook", INDEXED + UNINDEXED)
def test_each_hook_alone_matches_keras(hook):
    results = []
    for cls in (keras.callbacks.LambdaCallback, LambdaCallback):
        calls = []
        call_every_hook(cls(**{hook: recorder(calls, hook)}))
        results.append(calls)
    assert results[1] == results[0]
    assert results[1]  # the hook ran


def test_all_hooks_together_match_keras():
    results = []
    for cls in (keras.callbacks.LambdaCallback, LambdaCallback):
        calls = []
        callback = cls(**{hook: recorder(calls, hook) for hook in INDEXED + UNINDEXED})
        call_every_hook(callback)
        results.append(calls)
    assert results[1] == results[0]


def test_train_batch_hooks_fall_back_to_batch_aliases():
    calls = []
    callback = LambdaCallback(on_batch_end=recorder(calls, "on_batch_end"))
    callback.on_train_batch_end(3, {"loss": 1.0})
    assert calls == [("on_batch_end", 3, {"loss": 1.0})]


def test_named_hooks_are_called_positionally():
    seen = {}
    callback = LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.setdefault("epoch_begin", (epoch, logs)),
        on_epoch_end=lambda epoch, logs: seen.setdefault("epoch_end", (epoch, logs)),
        on_train_begin=lambda logs: seen.setdefault("train_begin", logs),
        on_train_end=lambda logs: seen.setdefault("train_end", logs),
        on_train_batch_begin=lambda batch, logs: seen.setdefault("batch_begin", (batch, logs)),
        on_train_batch_end=lambda batch, logs: seen.setdefault("batch_end", (batch, logs)),
    )
    callback.on_train_begin({"a": 1})
    callback.on_epoch_begin(0, {})
    callback.on_train_batch_begin(0, None)
    callback.on_train_batch_end(0, {"loss": 2.0})
    callback.on_epoch_end(0, {"loss": 2.0})
    callback.on_train_end(None)
    assert seen == {
        "train_begin": {"a": 1},
        "epoch_begin": (0, {}),
        "batch_begin": (0, None),
        "batch_end": (0, {"loss": 2.0}),
        "epoch_end": (0, {"loss": 2.0}),
        "train_end": None,
    }


def test_unset_hooks_do_nothing():
    callback = LambdaCallback()
    call_every_hook(callback)  # no error, no effect


def test_extra_keywords_become_attributes():
    callback = LambdaCallback(note="x")
    assert callback.note == "x"
