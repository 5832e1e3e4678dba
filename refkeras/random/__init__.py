"""``refkeras.random``: random ops and :class:`SeedGenerator`."""

from refkeras.random.random import (  # noqa: F401
    dropout,
    normal,
    permutation,
    randint,
    shuffle,
    truncated_normal,
    uniform,
)
from refkeras.random.seed_generator import SeedGenerator, draw_seed, set_random_seed  # noqa: F401
