"""Tests for ``refkeras.datasets.digits`` (the shipped UCI handwritten digits)."""

import collections
import csv
import gzip
import hashlib
import os

import numpy as np
import pytest

from refkeras.datasets import digits

DATA_DIR = os.path.join(os.path.dirname(digits.__file__), "data")
CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
TOTAL_PIXEL_SUM = 561718  # sum of every pixel of the 1,797 images


def _csv_rows():
    """The csv parsed with the standard library only, independently of ``load_data``."""
    with gzip.open(os.path.join(DATA_DIR, "digits.csv.gz"), "rt") as f:
        return [[int(v) for v in row] for row in csv.reader(f)]


def _all(split):
    (x_train, y_train), (x_test, y_test) = split
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])


def test_shipped_files():
    with open(os.path.join(DATA_DIR, "digits.csv.gz"), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    assert sha == "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    with open(os.path.join(DATA_DIR, "DIGITS_LICENSE.txt")) as f:
        text = f.read()
    for needle in ("Alpaydin", "Kaynak", "UCI Machine Learning Repository", "CC BY 4.0"):
        assert needle in text
    assert "10.24432/C50P49" in text


def test_shapes_dtypes_and_values():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and y_train.shape == (1437,)
    assert x_test.shape == (360, 8, 8) and y_test.shape == (360,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    x, y = _all(((x_train, y_train), (x_test, y_test)))
    assert x.min() == 0 and x.max() == 16
    assert set(np.unique(y)) == set(range(10))
    assert np.bincount(y).tolist() == CLASS_COUNTS
    assert all(170 <= c <= 190 for c in CLASS_COUNTS)


def test_matches_csv_read_independently():
    rows = _csv_rows()
    assert len(rows) == 1797 and all(len(r) == 65 for r in rows)
    assert sum(sum(r[:64]) for r in rows) == TOTAL_PIXEL_SUM
    assert collections.Counter(r[64] for r in rows) == dict(enumerate(CLASS_COUNTS))

    x, y = _all(digits.load_data())
    assert int(x.sum(dtype=np.int64)) == TOTAL_PIXEL_SUM
    # Same (image, label) pairs as the csv, images laid out row by row.
    expected = collections.Counter(tuple(r) for r in rows)
    got = collections.Counter(tuple(xi.ravel().tolist()) + (int(yi),) for xi, yi in zip(x, y))
    assert got == expected

    # With no test split, the order is just a permutation of the csv rows.
    (x_all, y_all), (x_none, _) = digits.load_data(test_split=0.0, seed=0)
    assert len(x_all) == 1797 and len(x_none) == 0
    perm = np.arange(1797)
    np.random.RandomState(0).shuffle(perm)
    first = rows[perm[0]]
    np.testing.assert_array_equal(x_all[0], np.array(first[:64]).reshape(8, 8))
    assert y_all[0] == first[64]


def test_first_csv_image_is_a_zero():
    row = _csv_rows()[0]
    assert row[64] == 0 and sum(row[:64]) == 294
    image = np.array(row[:64]).reshape(8, 8)
    assert image[3:5, 3:5].sum() == 0  # the hole of the 0


def test_split_is_deterministic_and_seeded():
    a = digits.load_data()
    b = digits.load_data(test_split=0.2, seed=113)
    for u, v in zip(a[0] + a[1], b[0] + b[1]):
        np.testing.assert_array_equal(u, v)
    c = digits.load_data(seed=1)
    assert not np.array_equal(a[0][1], c[0][1])
    # The unshuffled csv order starts 0, 1, 2, ...; the shuffled order does not.
    assert a[0][1][:10].tolist() != list(range(10))


@pytest.mark.parametrize("test_split, n_train", [(0.0, 1797), (0.5, 898), (0.25, 1347)])
def test_split_sizes(test_split, n_train):
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=test_split)
    assert len(x_train) == len(y_train) == n_train
    assert len(x_test) == len(y_test) == 1797 - n_train


@pytest.mark.parametrize("test_split", [-0.1, 1.0, 1.5])
def test_bad_split_raises(test_split):
    with pytest.raises(ValueError, match="test_split"):
        digits.load_data(test_split=test_split)
