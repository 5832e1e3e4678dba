"""Random state: :class:`SeedGenerator` and the global stream behind ``set_random_seed``.

A generator's state is a non-trainable variable ``[seed, counter]``; every draw uses the Philox key
``(seed, 0)`` and draw number ``counter``, then increments the counter.  So a draw is a pure
function of the state: a compiled backend threads the state through a training step like any
variable, and reproduces the NumPy reference's numbers bit for bit.
"""

from __future__ import annotations

import os
import random as _py_random

import numpy as np

from refkeras.backend.variable import Variable
from refkeras.saving.object_registration import register_builtin
from refkeras.utils.naming import auto_name

_global = {"seed": None, "counter": 0}


def _fresh_seed() -> int:
    """A seed from the global stream: deterministic after ``set_random_seed``, else from the OS."""
    if _global["seed"] is None:
        return int.from_bytes(os.urandom(4), "little") or 1
    from refkeras.primitives.random import random_bits

    bits = random_bits((_global["seed"], 0x5EED), _global["counter"], 1)
    _global["counter"] += 1
    return int(bits[0])


def set_random_seed(seed: int) -> None:
    """Seed every random stream refkeras uses (initializers, dropout, shuffling) and Python's and
    NumPy's global generators, so that a program runs identically each time."""
    if not isinstance(seed, int | np.integer):
        raise ValueError(
            f"Expected `seed` argument to be an integer. Received: seed={seed} (of type "
            f"{type(seed)})"
        )
    _global["seed"], _global["counter"] = int(seed) & 0xFFFFFFFF, 0
    _py_random.seed(int(seed))
    np.random.seed(int(seed) & 0xFFFFFFFF)
    _default_generator["gen"] = None


@register_builtin("keras.random")
class SeedGenerator:
    """A stateful source of seeds for random ops, like ``keras.random.SeedGenerator``.

    Args:
        seed: an int; ``None`` takes a seed from the global stream (see ``set_random_seed``).
    """

    _keras_module = "keras.random"

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs):
        if seed is None:
            seed = _fresh_seed()
        elif not isinstance(seed, int | np.integer):
            raise ValueError(
                f"Argument `seed` must be an integer. Received: seed={seed} (type {type(seed)})"
            )
        self._initial_seed = int(seed)
        self.name = name or auto_name("seed_generator")
        self.state = Variable(
            np.array([int(seed) & 0xFFFFFFFF, 0], dtype=np.uint32),
            dtype="uint32",
            trainable=False,
            name="seed_generator_state",
        )

    def next(self) -> tuple[tuple, object]:
        """The Philox key and draw number for the next draw (and advance the counter).

        With a NumPy state, or on a backend without its own ``random()``, they are Python ints.
        Otherwise the state (for example a traced value inside a compiled JAX step) stays an
        array: the key is ``(state[0], 0)``, the draw number ``state[1]``, and the counter
        advances by array arithmetic (uint32 wraps mod 2^32, like the int path's mask).
        """
        from refkeras.backend import dispatch
        from refkeras.primitives import random as reference_prng

        state = self.state.value.value
        backend = dispatch.active_backend()
        if isinstance(state, np.ndarray) or backend.random() is reference_prng:
            # A backend without its own generator draws on the host from the concrete state.
            seed, counter = (int(v) for v in backend.to_numpy(state))
            self.state.assign(np.array([seed, (counter + 1) & 0xFFFFFFFF], dtype=np.uint32))
            return (seed, 0), counter
        self.state.assign(state + np.array([0, 1], dtype=np.uint32))
        return (state[0], 0), state[1]

    def get_config(self) -> dict:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_default_generator: dict = {"gen": None}


def global_seed_generator() -> SeedGenerator:
    if _default_generator["gen"] is None:
        _default_generator["gen"] = SeedGenerator()
    return _default_generator["gen"]


def draw_seed(seed) -> tuple[tuple[int, int], int]:
    """Resolve the ``seed`` argument of a random op to ``(key, draw)``:
    an int gives the same numbers every call; a SeedGenerator advances; ``None`` uses the global
    one.
    """
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return global_seed_generator().next()
    if isinstance(seed, int | np.integer):
        return (int(seed) & 0xFFFFFFFF, 0), 0
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed} (of type {type(seed)})"
    )
