"""``keras.utils.set_random_seed`` (Keras 3 FAQ, "How can I obtain reproducible results"): after it,
a program builds identical initial weights, shuffles in the same order, draws identical dropout
masks and produces an identical ``History`` — both twice in one process and in two separate
processes."""

import json
import os
import random
import subprocess
import sys
import textwrap

import numpy as np

import refkeras as keras

PROGRAM = textwrap.dedent(
    """
    import numpy as np
    import refkeras as keras

    def run(seed):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(3, activation="softmax"),
        ])
        initial = [w.copy() for w in model.get_weights()]
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        x = np.linspace(-1, 1, 40 * 4, dtype="float32").reshape(40, 4)
        y = np.arange(40) % 3
        order = []
        model.train_step = (lambda step: (lambda data: (order.append(
            np.asarray(data[1]).tolist()), step(data))[1]))(model.train_step)
        history = model.fit(x, y, batch_size=8, epochs=3, shuffle=True, validation_split=0.2,
                            verbose=0)
        mask = np.asarray(keras.layers.Dropout(0.5)(np.ones((2, 6), "float32"), training=True))
        return {
            "initial": [w.tolist() for w in initial],
            "final": [w.tolist() for w in model.get_weights()],
            "history": history.history,
            "order": order,
            "mask": mask.tolist(),
            "normal": np.asarray(keras.random.normal((3,))).tolist(),
            "numpy": np.random.rand(2).tolist(),
        }
    """
)


def run(seed):
    namespace = {}
    exec(PROGRAM, namespace)  # noqa: S102 - the same program as the subprocesses run
    return namespace["run"](seed)


def test_same_seed_same_run_in_one_process():
    first = run(1337)
    second = run(1337)
    assert first == second
    # The run is genuinely random: shuffling changed the order between epochs...
    assert first["order"][:4] != first["order"][4:8]
    assert sorted(sum(first["order"][:4], [])) == sorted((np.arange(32) % 3).tolist())
    # ...and dropout dropped something.
    assert 0.0 in sum(first["mask"], [])


def test_different_seeds_differ():
    a, b = run(1), run(2)
    assert a["initial"] != b["initial"]
    assert a["order"] != b["order"]
    assert a["history"] != b["history"]


def test_same_seed_same_run_in_two_processes():
    script = PROGRAM + "\nimport json, sys\nprint(json.dumps(run(int(sys.argv[1]))))\n"
    env = dict(os.environ, PYTHONHASHSEED="0")  # as the FAQ asks, for Python's own hashing
    outputs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", script, "1337"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=True,
        )
        outputs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert outputs[0] == outputs[1]
    # The in-process run with the same seed matches the separate processes too.
    here = json.loads(json.dumps(run(1337)))
    assert here == outputs[0]


def test_set_random_seed_seeds_python_and_numpy():
    keras.utils.set_random_seed(5)
    a = (random.random(), np.random.rand())
    keras.utils.set_random_seed(5)
    assert (random.random(), np.random.rand()) == a


def test_seeded_layers_and_generators_do_not_need_the_global_seed():
    init = keras.initializers.GlorotUniform(seed=3)
    layer_a = keras.layers.Dense(4, kernel_initializer=init)
    layer_b = keras.layers.Dense(4, kernel_initializer=keras.initializers.GlorotUniform(seed=3))
    layer_a.build((None, 3))
    layer_b.build((None, 3))
    np.testing.assert_array_equal(layer_a.get_weights()[0], layer_b.get_weights()[0])
    g1, g2 = keras.random.SeedGenerator(7), keras.random.SeedGenerator(7)
    np.testing.assert_array_equal(
        np.asarray(keras.random.uniform((4,), seed=g1)),
        np.asarray(keras.random.uniform((4,), seed=g2)),
    )


def test_dropout_masks_repeat_after_reseeding():
    x = np.ones((4, 50), "float32")
    keras.utils.set_random_seed(11)
    a = np.asarray(keras.layers.Dropout(0.3)(x, training=True))
    b_layer = keras.layers.Dropout(0.3)
    keras.utils.set_random_seed(11)
    c = np.asarray(keras.layers.Dropout(0.3)(x, training=True))
    np.testing.assert_array_equal(a, c)
    # Successive calls of one layer draw new masks.
    m1 = np.asarray(b_layer(x, training=True))
    m2 = np.asarray(b_layer(x, training=True))
    assert not np.array_equal(m1, m2)
