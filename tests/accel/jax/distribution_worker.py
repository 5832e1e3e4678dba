"""Run by test_distribution_*.py in a fresh process (XLA reads its device flags at start):

    python distribution_worker.py OUT.npz single|data_parallel [COORDINATOR NUM_PROCESSES ID]

trains a small MLP with the jax backend (same seed, same data) and saves the final weights and
History to OUT.npz.  ``data_parallel`` sets ``DataParallel(devices=jax.devices())`` first; with a
coordinator it joins a multi-process run through ``jax.distributed.initialize``.
"""

import sys

import jax
import numpy as np


def main(out, mode, coordinator=None, num_processes=None, process_id=None):
    if coordinator is not None:
        jax.distributed.initialize(
            coordinator_address=coordinator,
            num_processes=int(num_processes),
            process_id=int(process_id),
        )
    import refkeras
    from refkeras import layers

    refkeras.config.set_backend("jax")
    if mode == "data_parallel":
        refkeras.distribution.set_distribution(
            refkeras.distribution.DataParallel(devices=jax.devices())
        )
    refkeras.utils.set_random_seed(11)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 12)).astype("float32")
    y = rng.integers(0, 4, size=200)
    model = refkeras.Sequential(
        [
            layers.Input((12,)),
            layers.Dense(32, activation="relu"),
            layers.Dropout(0.25),
            layers.Dense(4, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=2,
    )
    # 200 samples, batch 24: 8 full batches and one of 8 -- every batch splits over 1, 2 or 4
    # devices.
    history = model.fit(x, y, batch_size=24, epochs=2, verbose=0, shuffle=True)
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    arrays.update({f"h_{k}": np.asarray(v) for k, v in history.history.items()})
    arrays["devices"] = np.asarray(len(jax.devices()))
    arrays["local_devices"] = np.asarray(len(jax.local_devices()))
    kernel = model.trainable_weights[0]._value  # the state as the compiled step left it
    arrays["state_devices"] = np.asarray(len(kernel.sharding.device_set))
    np.savez(out, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
