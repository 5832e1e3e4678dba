"""Counter-based random numbers: Philox-4x32-10 against the Random123 known-answer tests, then the
distributions built on it (range, moments, determinism, independence of draws)."""

import numpy as np
import pytest

from refkeras.backend import load_backend
from refkeras.primitives import random as Rnd

load_backend("numpy")

# Random123's kat_vectors for philox4x32_10: (counter words, key words) -> output words.
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
        (0xFFFFFFFF, 0xFFFFFFFF),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]
KEY = (1234, 0)
N = 50_000


@pytest.mark.parametrize("counter,key,expected", PHILOX_KAT)
def test_philox_known_answers(counter, key, expected):
    out = Rnd.philox(key, *[np.uint32(c) for c in counter])
    assert all(o.dtype == np.uint32 for o in out)
    assert tuple(int(o) for o in out) == expected


def test_philox_is_elementwise_over_counter_arrays():
    counters = [np.array([c[i] for c, _, _ in PHILOX_KAT], np.uint32) for i in range(4)]
    for key_index in range(3):
        key = PHILOX_KAT[key_index][1]
        batched = Rnd.philox(key, *counters)
        for j, (counter, _, _) in enumerate(PHILOX_KAT):
            single = Rnd.philox(key, *[np.uint32(c) for c in counter])
            assert tuple(int(b[j]) for b in batched) == tuple(int(s) for s in single)


def test_random_bits_counter_layout():
    """Element i of draw d (attempt a) is the first Philox word of counter (i, 0, d, a)."""
    bits = Rnd.random_bits(KEY, 7, 5, attempt=2)
    for i in range(5):
        assert bits[i] == Rnd.philox(KEY, np.uint32(i), np.uint32(0), np.uint32(7), np.uint32(2))[0]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_uniform01_range_and_moments(dtype):
    u = Rnd.uniform01(KEY, 0, (N,), dtype)
    assert u.dtype == dtype and u.shape == (N,)
    assert u.min() >= 0.0 and u.max() < 1.0
    u = u.astype(np.float64)
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(u.var() - 1 / 12) < 0.005
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert counts.min() > 0.9 * N / 10 and counts.max() < 1.1 * N / 10
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02  # neighbours are uncorrelated


def test_uniform01_float16_never_rounds_up_to_one():
    assert Rnd.uniform01(KEY, 3, (200_000,), "float16").max() < 1.0


def test_uniform01_float32_uses_24_bits():
    u = Rnd.uniform01(KEY, 0, (1000,), "float32").astype(np.float64)
    np.testing.assert_array_equal(u * 2**24, np.floor(u * 2**24))
    bits = Rnd.random_bits(KEY, 0, 1000)
    np.testing.assert_array_equal(u, (bits >> 8) * 2.0**-24)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal01_moments(dtype):
    z = Rnd.normal01(KEY, 1, (N,), dtype)
    assert z.dtype == dtype and np.all(np.isfinite(z))
    z = z.astype(np.float64)
    assert abs(z.mean()) < 0.02
    assert abs(z.var() - 1.0) < 0.03
    assert abs(np.mean(z**3)) < 0.05  # skewness
    assert abs(np.mean(z**4) - 3.0) < 0.15  # kurtosis
    assert abs(np.mean(np.abs(z) < 1.0) - 0.6827) < 0.01


def test_truncated_normal01_range_and_variance():
    z = Rnd.truncated_normal01(KEY, 2, (N,), "float32")
    assert z.dtype == np.float32
    assert np.abs(z).max() <= 2.0
    # Variance of a standard normal truncated to [-2, 2]: 1 - 4 phi(2) / (Phi(2) - Phi(-2)).
    assert abs(z.astype(np.float64).var() - 0.77374) < 0.015
    assert abs(z.mean()) < 0.02


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000])
def test_permutation_is_a_permutation(n):
    p = Rnd.permutation(KEY, 0, n)
    np.testing.assert_array_equal(np.sort(p), np.arange(n))
    if n >= 10:
        assert not np.array_equal(p, np.arange(n))


FNS = {
    "bits": lambda key, draw: Rnd.random_bits(key, draw, 64),
    "uniform": lambda key, draw: Rnd.uniform01(key, draw, (8, 8)),
    "uniform64": lambda key, draw: Rnd.uniform01(key, draw, (8, 8), "float64"),
    "normal": lambda key, draw: Rnd.normal01(key, draw, (8, 8)),
    "truncated": lambda key, draw: Rnd.truncated_normal01(key, draw, (8, 8)),
    "permutation": lambda key, draw: Rnd.permutation(key, draw, 64),
}


@pytest.mark.parametrize("kind", list(FNS))
def test_draws_are_deterministic_and_independent(kind):
    fn = FNS[kind]
    a = fn(KEY, 5)
    np.testing.assert_array_equal(a, fn(KEY, 5))  # same key and draw: same numbers
    assert not np.array_equal(a, fn(KEY, 6))  # next draw differs
    assert not np.array_equal(a, fn((1235, 0), 5))  # other seed differs
    assert not np.array_equal(a, fn((1234, 1), 5))  # the second key word matters


def test_attempts_and_shapes():
    a = Rnd.uniform01(KEY, 0, (4, 3))
    assert a.shape == (4, 3)
    np.testing.assert_array_equal(a.reshape(-1), Rnd.uniform01(KEY, 0, (12,)))
    assert not np.array_equal(a, Rnd.uniform01(KEY, 0, (4, 3), attempt=1))
    assert Rnd.uniform01(KEY, 0, (0, 3)).shape == (0, 3)
    assert Rnd.normal01(KEY, 0, ()).shape == ()
