"""Freezing layers (Keras 3 FAQ, "How can I freeze layers and do fine-tuning?"): ``trainable``,
``compile()`` freezing which weights a model trains ("Interaction between trainable and
compile()", including the GAN pattern), ``training`` vs ``trainable``, and BatchNormalization's
special case.

Where Keras 3's code departs from the FAQ (it only warns when ``trainable`` changes after
``compile``), the FAQ is the specification.
"""

import numpy as np

import refkeras as keras
from refkeras import layers


def data(n=8, n_in=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")


def weights_of(layer):
    return [w.copy() for w in layer.get_weights()]


def assert_equal_weights(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def assert_all_changed(a, b):
    for x, y in zip(a, b):
        assert not np.array_equal(x, y)


# --- the trainable attribute ----------------------------------------------------------------------


def test_trainable_false_empties_trainable_weights():
    layer = layers.Dense(3)
    layer.build((None, 3))
    assert layer.trainable
    assert len(layer.trainable_weights) == 2
    layer.trainable = False
    assert layer.trainable_weights == []
    assert len(layer.non_trainable_weights) == 2
    assert len(layer.weights) == 2


def base_model():
    inputs = keras.Input((4,))
    h = layers.Dense(5, activation="relu")(inputs)
    h = layers.Dense(5, activation="relu")(h)
    return keras.Model(inputs, h, name="base")


def test_faq_fine_tuning_setup():
    base = base_model()
    model = keras.Sequential([keras.Input((4,)), base, layers.Dense(1)])
    model.layers[0].trainable = False  # Freeze the base.
    assert model.layers[0].trainable_weights == []
    assert len(model.trainable_weights) == 2  # Just the bias & kernel of the Dense layer.
    assert len(model.non_trainable_weights) == 4
    assert len(model.weights) == 6


def test_setting_trainable_recurses_into_children():
    base = base_model()
    outer = keras.Sequential([keras.Input((4,)), base, layers.Dense(1)])
    outer.trainable = False
    assert all(not layer.trainable for layer in base.layers)
    assert outer.trainable_weights == [] and base.trainable_weights == []
    outer.trainable = True
    assert len(outer.trainable_weights) == 6


def test_freezing_a_sublayer_removes_it_from_the_parent_trainable_weights():
    base = base_model()
    order = [w.path for w in base.weights]
    base.layers[1].trainable = False
    assert len(base.trainable_weights) == 2
    assert len(base.non_trainable_weights) == 2
    assert [w.path for w in base.non_trainable_weights] == order[:2]
    assert [w.path for w in base.trainable_weights] == order[2:]
    assert [w.path for w in base.weights] == order  # `weights` keeps its order


def test_fit_updates_only_trainable_weights():
    x, y = data()
    base = base_model()
    model = keras.Sequential([keras.Input((4,)), base, layers.Dense(1)])
    base.trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    frozen, head = weights_of(base), weights_of(model.layers[-1])
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert_equal_weights(weights_of(base), frozen)
    assert_all_changed(weights_of(model.layers[-1]), head)


# --- compile() freezes the trainable state --------------------------------------------------------


def test_trainable_changes_take_effect_at_the_next_compile():
    x, y = data()
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    first = model.layers[0]
    first.trainable = False  # not compiled again: the model still trains it
    before = weights_of(first)
    model.fit(x, y, batch_size=8, verbose=0)
    assert_all_changed(weights_of(first), before)

    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")  # now it is frozen
    before = weights_of(first)
    model.fit(x, y, batch_size=8, verbose=0)
    assert_equal_weights(weights_of(first), before)

    first.trainable = True  # not compiled again: still frozen
    model.fit(x, y, batch_size=8, verbose=0)
    assert_equal_weights(weights_of(first), before)

    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, batch_size=8, verbose=0)
    assert_all_changed(weights_of(first), before)


def test_trainable_state_frozen_by_compile_applies_to_train_on_batch():
    x, y = data()
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.layers[0].trainable = False
    before = weights_of(model.layers[0])
    model.train_on_batch(x, y)
    assert_all_changed(weights_of(model.layers[0]), before)


def test_models_sharing_layers_keep_their_own_trainable_state():
    # FAQ: A compiled, then the shared layers' trainable changed, then B compiled: "model A and B
    # are using different trainable values for the shared layers".
    x, y = data()
    shared = layers.Dense(3, name="shared")
    inputs = keras.Input((4,))
    a = keras.Model(inputs, layers.Dense(1, name="head_a")(shared(inputs)))
    b = keras.Model(inputs, layers.Dense(1, name="head_b")(shared(inputs)))
    a.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    shared.trainable = False
    b.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")

    before = weights_of(shared)
    b.fit(x, y, batch_size=8, verbose=0)
    assert_equal_weights(weights_of(shared), before)
    a.fit(x, y, batch_size=8, verbose=0)
    assert_all_changed(weights_of(shared), before)


def make_gan():
    generator = keras.Sequential(
        [keras.Input((2,)), layers.Dense(4, activation="relu"), layers.Dense(3)],
        name="generator",
    )
    discriminator = keras.Sequential(
        [
            keras.Input((3,)),
            layers.Dense(4, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )
    discriminator.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    discriminator.trainable = False
    gan_input = keras.Input((2,))
    gan = keras.Model(gan_input, discriminator(generator(gan_input)), name="gan")
    gan.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    return generator, discriminator, gan


def test_gan_pattern():
    # FAQ: discriminator.compile(...); discriminator.trainable = False; gan.compile(...):
    # training `gan` must leave the discriminator unchanged, training `discriminator` must still
    # update it.
    generator, discriminator, gan = make_gan()
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(8, 2)).astype("float32")
    ones = np.ones((8, 1), "float32")

    d_before, g_before = weights_of(discriminator), weights_of(generator)
    gan.train_on_batch(noise, ones)
    gan.fit(noise, ones, batch_size=4, epochs=2, verbose=0)
    assert_equal_weights(weights_of(discriminator), d_before)
    assert_all_changed(weights_of(generator), g_before)

    fake = generator.predict(noise, verbose=0)
    real = rng.normal(size=(8, 3)).astype("float32")
    samples = np.concatenate([fake, real])
    labels = np.concatenate([np.zeros((8, 1)), ones]).astype("float32")
    g_before = weights_of(generator)
    discriminator.train_on_batch(samples, labels)
    discriminator.fit(samples, labels, batch_size=8, epochs=2, verbose=0)
    assert_all_changed(weights_of(discriminator), d_before)
    assert_equal_weights(weights_of(generator), g_before)

    # And again: the gan step still leaves the (updated) discriminator alone.
    d_before = weights_of(discriminator)
    gan.train_on_batch(noise, ones)
    assert_equal_weights(weights_of(discriminator), d_before)


def test_gan_trainable_weights_reflect_the_attribute_while_training_follows_compile():
    generator, discriminator, gan = make_gan()
    # The attribute itself follows the last assignment (an empty list while frozen)...
    assert discriminator.trainable_weights == []
    assert len(gan.trainable_weights) == len(generator.trainable_weights) == 4
    # ...while what `discriminator.fit` trains was fixed by its compile (see test_gan_pattern).


# --- training vs trainable, BatchNormalization ----------------------------------------------------


def test_training_argument_is_independent_of_trainable():
    # FAQ: Dropout(0.5)(x, training=True) applies dropout at inference time too.
    x = np.ones((4, 100), "float32")
    dropout = layers.Dropout(0.5)
    dropout.trainable = False
    out = np.asarray(dropout(x, training=True))
    assert (out == 0).any() and np.allclose(out[out != 0], 2.0)
    np.testing.assert_array_equal(np.asarray(dropout(x)), x)


def bn_model(trainable):
    bn = layers.BatchNormalization(momentum=0.5)
    model = keras.Sequential([keras.Input((3,)), bn, layers.Dense(1)])
    bn.trainable = trainable
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model, bn


def test_batchnorm_trainable_false_runs_in_inference_mode():
    # FAQ: "setting bn.trainable = False will also make its training call argument default to
    # False, meaning that the layer will not update its state during training."
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(16, 3)) * 3 + 5).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model, bn = bn_model(trainable=False)
    state = weights_of(bn)  # gamma, beta, moving_mean, moving_variance
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert_equal_weights(weights_of(bn), state)
    # Called with training=True it still normalizes with the moving statistics (all ones/zeros
    # here: the output is x / sqrt(1 + eps)).
    out = np.asarray(bn(x, training=True))
    np.testing.assert_allclose(out, x / np.sqrt(1 + bn.epsilon), rtol=1e-5)


def test_batchnorm_trainable_updates_its_moving_statistics():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(16, 3)) * 3 + 5).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model, bn = bn_model(trainable=True)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    gamma, beta, moving_mean, moving_var = bn.get_weights()
    # momentum 0.5, one batch of all 16 samples: moving = 0.5 * initial + 0.5 * batch statistic.
    np.testing.assert_allclose(moving_mean, 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(moving_var, 0.5 + 0.5 * x.var(0), rtol=1e-4)
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    out = np.asarray(bn(x, training=True))  # batch statistics
    np.testing.assert_allclose(out.mean(0), beta, atol=1e-4)


def test_batchnorm_in_a_frozen_parent_runs_in_inference_mode():
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(8, 3)) + 2).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    inner = keras.Sequential([keras.Input((3,)), layers.BatchNormalization(), layers.Dense(2)])
    model = keras.Sequential([keras.Input((3,)), inner, layers.Dense(1)])
    inner.trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = weights_of(inner)
    model.fit(x, y, batch_size=4, verbose=0)
    assert_equal_weights(weights_of(inner), before)
