"""The ``refkeras`` command: ``refkeras demo`` trains the guide's MLP on handwritten digits."""

from __future__ import annotations

import argparse
import sys
import time


def demo(epochs: int = 30, seed: int = 1337, verbose: int = 1) -> float:
    """The training & evaluation guide's first example, on the UCI handwritten digits shipped with
    refkeras: a functional MLP (Dense 64 relu, Dense 64 relu, Dense 10 softmax), RMSprop, sparse
    categorical crossentropy and accuracy; validation on held-out data; evaluate; predict.
    Returns the test accuracy."""
    import numpy as np

    import refkeras as keras
    from refkeras import layers

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train.reshape(-1, 64).astype("float32") / 16
    x_test = x_test.reshape(-1, 64).astype("float32") / 16
    y_train = y_train.astype("float32")
    y_test = y_test.astype("float32")
    # Reserve the last 237 training samples for validation, as the guide reserves 10,000.
    x_val, y_val = x_train[-237:], y_train[-237:]
    x_train, y_train = x_train[:-237], y_train[:-237]

    inputs = keras.Input(shape=(64,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.summary()
    model.compile(
        optimizer=keras.optimizers.RMSprop(),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    print("Fit model on training data")
    start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        batch_size=32,
        epochs=epochs,
        validation_data=(x_val, y_val),
        verbose=verbose,
    )
    train_time = time.perf_counter() - start
    print(f"history keys: {sorted(history.history)}")
    print("Evaluate on test data")
    results = model.evaluate(x_test, y_test, batch_size=128, verbose=verbose)
    print("test loss, test acc:", results)
    print("Generate predictions for 3 samples")
    predictions = model.predict(x_test[:3], verbose=0)
    print("predictions shape:", predictions.shape)
    print("predicted classes:", np.argmax(predictions, axis=-1), "true:", y_test[:3].astype(int))
    print(f"Test accuracy: {results[1]:.4f} (training took {train_time:.1f}s)")
    return float(results[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="refkeras", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print version and backend")
    sub = parser.add_subparsers(dest="command")
    p_demo = sub.add_parser("demo", help="train the guide's MLP on handwritten digits")
    p_demo.add_argument("--epochs", type=int, default=30)
    p_demo.add_argument("--seed", type=int, default=1337)
    p_demo.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    sub.add_parser("info", help="print version, backend and configuration")
    args = parser.parse_args(argv)
    if args.version or args.command == "info":
        import refkeras

        print(f"refkeras {refkeras.__version__}")
        print(f"backend: {refkeras.backend.backend()} ({refkeras.backend.active().describe()})")
        print(
            f"floatx: {refkeras.config.floatx()}  epsilon: {refkeras.config.epsilon()}  "
            f"image_data_format: {refkeras.config.image_data_format()}"
        )
        return 0
    if args.command == "demo":
        accuracy = demo(epochs=args.epochs, seed=args.seed, verbose=args.verbose)
        return 0 if accuracy >= 0.9 else 1
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
