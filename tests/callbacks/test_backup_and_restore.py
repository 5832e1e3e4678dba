"""BackupAndRestore and the training-state file: a run interrupted anywhere (an exception from a
callback, SIGKILL mid-epoch, SIGKILL mid-save) and started again ends bit-identical to a run that
was never interrupted — every state variable, the shuffle and global random streams, History —
with shuffling and Dropout on."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import refkeras as keras
from refkeras.callbacks.backup_and_restore import BackupAndRestore
from refkeras.random import seed_generator
from refkeras.saving.training_state import load_training_state, save_training_state

EPOCHS = 4


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(50, 4)).astype("float32"), rng.normal(size=(50, 1)).astype("float32")


def _model():
    """The "script": seed, build, compile.  40 training samples in batches of 6 -> 7 batches
    per epoch, the last one partial."""
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(1),
        ]
    )
    model.compile("adam", "mse", metrics=["mae"])
    return model


def _fit(model, callbacks=(), steps_per_epoch=None):
    x, y = _data()
    return model.fit(
        x,
        y,
        batch_size=6,
        epochs=EPOCHS,
        validation_split=0.2,
        steps_per_epoch=steps_per_epoch,
        callbacks=list(callbacks),
        verbose=0,
    )


def _state(model, history) -> dict:
    """Everything that must be bit-identical."""
    out = {f"var{i}": np.array(v.numpy()) for i, v in enumerate(model.state_variables())}
    out["shuffle_seed"] = model._shuffle_seed.state.numpy()
    out["global_stream"] = np.array(
        [seed_generator._global["seed"], seed_generator._global["counter"]]
    )
    out["numpy_rng"] = np.random.get_state()[1]
    out["python_rng"] = np.array(random.getstate()[1])
    out["history"] = json.dumps({"history": history.history, "epoch": history.epoch})
    return out


def _assert_identical(got: dict, want: dict):
    assert got.keys() == want.keys()
    for k in want:
        assert np.array_equal(got[k], want[k]), k


class Interrupt(keras.callbacks.Callback):
    """Raises at the end of batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.current, batch) == (self.epoch, self.batch):
            raise RuntimeError("interrupted")


class Recorder(keras.callbacks.Callback):
    """Records ``(epoch, batch)`` of every trained batch."""

    def __init__(self):
        super().__init__()
        self.batches, self.current = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.batches.append((self.current, batch))


@pytest.fixture(scope="module")
def uninterrupted():
    """Reference runs without any BackupAndRestore, by ``steps_per_epoch``."""
    out = {}
    for steps in (None, 3):
        model = _model()
        out[steps] = _state(model, _fit(model, steps_per_epoch=steps))
    return out


@pytest.mark.parametrize(
    "save_freq, steps_per_epoch, interrupt_at, resumes_at",
    [
        ("epoch", None, (2, 3), (2, 0)),  # back to the start of the interrupted epoch
        (2, None, (2, 3), (2, 2)),  # 7 batches/epoch; saved after batch 1 of epoch 2 (global 16)
        (2, 3, (2, 2), (2, 2)),  # passes of 7 batches run across epochs of 3
        (5, None, (1, 6), (1, 3)),  # saved after batch 3 of epoch 1 (global 10)
    ],
)
def test_exception_then_restart_is_bit_identical(
    tmp_path, uninterrupted, save_freq, steps_per_epoch, interrupt_at, resumes_at
):
    backup = tmp_path / "backup"
    # The interrupting callback comes first, so the batch it interrupts is not saved.
    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(
            _model(),
            [Interrupt(*interrupt_at), BackupAndRestore(backup, save_freq=save_freq)],
            steps_per_epoch,
        )
    assert os.path.exists(backup / "training_state.h5")
    model, recorder = _model(), Recorder()  # the script, started again
    history = _fit(
        model, [BackupAndRestore(backup, save_freq=save_freq), recorder], steps_per_epoch
    )
    assert recorder.batches[0] == resumes_at
    _assert_identical(_state(model, history), uninterrupted[steps_per_epoch])
    assert not backup.exists()  # deleted at the successful end


def test_two_interruptions_and_same_model_object(tmp_path, uninterrupted):
    """Interrupted twice; the restarts reuse the interrupted model object (as Keras's docs)."""
    backup = tmp_path / "backup"
    model = _model()
    for at in [(0, 4), (2, 5)]:
        with pytest.raises(RuntimeError):
            _fit(model, [Interrupt(*at), BackupAndRestore(backup, save_freq=3)])
    history = _fit(model, [BackupAndRestore(backup, save_freq=3)])
    _assert_identical(_state(model, history), uninterrupted[None])


class Batches(keras.utils.PyDataset):
    """7 batches of 6 samples; fit shuffles their order when ``shuffle=True``."""

    def __init__(self):
        super().__init__()
        self.x, self.y = _data()

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return self.x[6 * i : 6 * i + 6], self.y[6 * i : 6 * i + 6]


def test_pydataset_input(tmp_path):
    """PyDataset input: the compiled metrics are built from ``dataset[0]`` before the restore,
    and the shuffled batch order of the interrupted epoch is drawn again."""

    def fit(model, callbacks=()):
        return model.fit(Batches(), epochs=3, shuffle=True, callbacks=list(callbacks), verbose=0)

    model = _model()
    want = _state(model, fit(model))
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        fit(_model(), [Interrupt(1, 5), BackupAndRestore(backup, save_freq=3)])
    model, recorder = _model(), Recorder()
    got = _state(model, fit(model, [BackupAndRestore(backup, save_freq=3), recorder]))
    assert recorder.batches[0] == (1, 5)  # saved after global batch 12
    _assert_identical(got, want)


def test_generator_input_with_compiled_metrics_asks_for_a_first_batch(tmp_path):
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        _fit(_model(), [Interrupt(1, 0), BackupAndRestore(backup)])
    x, y = _data()
    batches = ((x[i : i + 6], y[i : i + 6]) for _ in range(10) for i in range(0, 36, 6))
    with pytest.raises(ValueError, match="test_on_batch"):
        _model().fit(batches, epochs=2, steps_per_epoch=6, callbacks=[BackupAndRestore(backup)])


def test_backup_contents_and_delete_checkpoint(tmp_path):
    backup = tmp_path / "backup"
    callback = BackupAndRestore(backup, save_freq="epoch", delete_checkpoint=False)
    history = _fit(_model(), [callback])
    with h5py.File(backup / "training_state.h5", "r") as f:
        assert (int(f.attrs["epoch"]), int(f.attrs["step"])) == (EPOCHS, 0)
        saved = json.loads(f.attrs["history"])
    assert saved == {"history": history.history, "epoch": history.epoch}
    # Starting again with a finished backup trains nothing and returns the full History.
    recorder = Recorder()
    again = _fit(_model(), [BackupAndRestore(backup, delete_checkpoint=False), recorder])
    assert recorder.batches == [] and again.history == history.history


def test_double_checkpoint_falls_back_to_previous_backup(tmp_path):
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        _fit(_model(), [Interrupt(2, 0), BackupAndRestore(backup, double_checkpoint=True)])
    with h5py.File(backup / "training_state.h5.bkp", "r") as f:
        assert int(f.attrs["epoch"]) == 1  # the backup before the latest (epoch 2)
    (backup / "training_state.h5").write_bytes(b"damaged by the disk")
    recorder = Recorder()
    _fit(_model(), [BackupAndRestore(backup, double_checkpoint=True), recorder])
    assert recorder.batches[0] == (1, 0)
    backup.mkdir()  # without double_checkpoint a damaged backup is an error
    (backup / "training_state.h5").write_bytes(b"damaged")
    with pytest.raises(OSError):
        _fit(_model(), [BackupAndRestore(backup)])


def test_bad_arguments():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        BackupAndRestore("d", save_freq="batch")


# --- the training-state file ---------------------------------------------------------------------


def test_training_state_round_trip(tmp_path):
    model = _model()
    _fit(model)
    np.random.rand(3)
    before = _state(model, model.history)
    path = tmp_path / "state.h5"
    history = {"history": {"loss": [0.1, float("nan")]}, "epoch": [0, 1]}
    save_training_state(path, model, epoch=3, step=2, history=history, extra={"k": [1, 2]})
    # Change everything, then load.
    for v in model.state_variables():
        v.assign(np.zeros(v.shape, v.dtype))
    keras.utils.set_random_seed(123)
    out = load_training_state(path, model)
    _assert_identical(_state(model, model.history), before)
    assert (out["epoch"], out["step"], out["extra"]) == (3, 2, {"k": [1, 2]})
    assert out["history"]["loss"][0] == 0.1 and np.isnan(out["history"]["loss"][1])
    assert out["history_epochs"] == [0, 1]
    with h5py.File(path, "r") as f:  # numeric arrays only (no pickled objects)
        kinds = []
        f.visititems(lambda name, obj: kinds.append(getattr(obj, "dtype", np.dtype("i")).kind))
    assert set(kinds) <= set("iuf")


def test_load_validates_before_assigning(tmp_path):
    model = _model()
    _fit(model)
    save_training_state(tmp_path / "state.h5", model, epoch=1, step=0)
    other = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(9), keras.layers.Dropout(0.3), keras.layers.Dense(1)]
    )
    other.compile("adam", "mse", metrics=["mae"])
    _fit(other)
    before = [np.array(v.numpy()) for v in other.state_variables()]
    stream = dict(seed_generator._global)
    with pytest.raises(ValueError, match="shape"):
        load_training_state(tmp_path / "state.h5", other)
    assert all(np.array_equal(v.numpy(), b) for v, b in zip(other.state_variables(), before))
    assert seed_generator._global == stream
    sgd = _model()
    sgd.compile("sgd", "mse", metrics=["mae"])
    _fit(sgd)
    with pytest.raises(ValueError, match="holds"):
        load_training_state(tmp_path / "state.h5", sgd)


# --- SIGKILL -------------------------------------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys

    import h5py
    import numpy as np

    import refkeras as keras
    from refkeras.callbacks.backup_and_restore import BackupAndRestore
    from refkeras.random import seed_generator
    from refkeras.saving import training_state

    mode, out, backup, marker = sys.argv[1:5]
    first_run = not os.path.exists(marker)


    def die():
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)


    class KillAt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == (2, 4):
                die()


    if mode == "kill_save" and first_run:
        # SIGKILL in the middle of the 5th backup, after part of its file is written.
        saves, written = [0], [0]
        real_save, real_create = training_state.save_training_state, h5py.Group.create_dataset

        def counting_save(*args, **kwargs):
            saves[0] += 1
            return real_save(*args, **kwargs)

        def create_dataset(self, *args, **kwargs):
            dataset = real_create(self, *args, **kwargs)
            if saves[0] == 5:
                written[0] += 1
                if written[0] == 6:
                    self.file.flush()
                    die()
            return dataset

        training_state.save_training_state = counting_save
        h5py.Group.create_dataset = create_dataset

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4)).astype("float32")
    y = rng.normal(size=(50, 1)).astype("float32")
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.3), keras.layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    callbacks = []
    if mode == "kill_epoch" and first_run:
        callbacks.append(KillAt())  # first: the batch it kills at is not saved
    if mode != "plain":
        callbacks.append(BackupAndRestore(backup, save_freq=2))
    history = model.fit(x, y, batch_size=6, epochs=4, validation_split=0.2, callbacks=callbacks,
                        verbose=0)
    arrays = {f"var{i}": np.asarray(v.numpy()) for i, v in enumerate(model.state_variables())}
    arrays["shuffle_seed"] = model._shuffle_seed.state.numpy()
    arrays["global_stream"] = np.array(
        [seed_generator._global["seed"], seed_generator._global["counter"]])
    arrays["numpy_rng"] = np.random.get_state()[1]
    np.savez(out + ".npz", **arrays)
    with open(out + ".json", "w") as f:
        json.dump({"history": history.history, "epoch": history.epoch}, f)
    """
)


def _run(tmp_path, mode, name):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    args = [str(tmp_path / name), str(tmp_path / "backup"), str(tmp_path / "killed")]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, str(script), mode, *args], env=env, capture_output=True, text=True
    )


def _result(tmp_path, name):
    with np.load(tmp_path / f"{name}.npz", allow_pickle=False) as arrays:
        out = {k: arrays[k] for k in arrays.files}
    out["history"] = (tmp_path / f"{name}.json").read_text()
    return out


@pytest.fixture(scope="module")
def uninterrupted_process(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("plain")
    done = _run(tmp_path, "plain", "plain")
    assert done.returncode == 0, done.stderr
    return _result(tmp_path, "plain")


def test_sigkill_mid_epoch_then_rerun(tmp_path, uninterrupted_process):
    killed = _run(tmp_path, "kill_epoch", "first")
    assert killed.returncode == -signal.SIGKILL
    with h5py.File(tmp_path / "backup" / "training_state.h5", "r") as f:
        assert (int(f.attrs["epoch"]), int(f.attrs["step"])) == (2, 4)  # global batch 18
    rerun = _run(tmp_path, "kill_epoch", "second")
    assert rerun.returncode == 0, rerun.stderr
    _assert_identical(_result(tmp_path, "second"), uninterrupted_process)
    assert not (tmp_path / "backup").exists()


def test_sigkill_mid_save_then_rerun(tmp_path, uninterrupted_process):
    killed = _run(tmp_path, "kill_save", "first")
    assert killed.returncode == -signal.SIGKILL
    backup = tmp_path / "backup"
    partial = [p for p in os.listdir(backup) if p.startswith(".training_state.h5.tmp-")]
    assert len(partial) == 1 and (backup / partial[0]).stat().st_size > 0
    with h5py.File(backup / "training_state.h5", "r") as f:  # the 4th backup, intact
        assert (int(f.attrs["epoch"]), int(f.attrs["step"])) == (1, 1)  # global batch 8
    rerun = _run(tmp_path, "kill_save", "second")
    assert rerun.returncode == 0, rerun.stderr
    _assert_identical(_result(tmp_path, "second"), uninterrupted_process)
    assert not backup.exists()  # the backup and the partial temporary are gone
