"""Dtypes are compared by value: unpickled and byte-swapped arrays are accepted."""
import pickle

import numpy as np
import pytest

import pyimgaug


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_unpickled_arrays_are_accepted(dtype):
    # An unpickled array's dtype equals NumPy's canonical one without being the same object.
    rng = np.random.default_rng(0)
    img = rng.integers(0, 200, (2, 5, 6, 3)).astype(dtype)
    again = pickle.loads(pickle.dumps(img))
    out = pickle.loads(pickle.dumps(np.empty((2, 5, 6, 3), np.float32)))
    got = pyimgaug.transform_batch(again, np.tile(np.eye(3), (2, 1, 1)), out=out)
    assert got is out
    np.testing.assert_array_equal(got, img.astype(np.float32))


@pytest.mark.parametrize("dtype", [">u2", ">f4"])
def test_big_endian_images_are_read_by_value(dtype):
    img = (np.arange(2 * 4 * 5 * 1).reshape(2, 4, 5, 1) * 7).astype(dtype)
    got = pyimgaug.transform_batch(img, dtype="float64")
    np.testing.assert_array_equal(got, img.astype(np.float64))
    got_list = pyimgaug.transform_batch(list(img), dtype="float64")
    np.testing.assert_array_equal(got_list, got)
