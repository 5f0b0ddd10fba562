"""The 8-bit resize tables built without libm's sin() are Pillow's, bit for bit.

For Lanczos and Hamming, uint8 resizes use fixed-point tables whose weights come
from a polynomial sine (csrc/kernel/coeffs.cpp, fill_axis_fixed_fast); each
output is proven to round to the fixed-point weights of the exact weights, or
computed again the exact way.  Here the fast tables are compared with the exact
ones (the tables the 16-bit and float paths use, built as Pillow's Resample.c
builds them, which the resize tests check against Pillow) on every entry, over
a dense sweep of sizes and random ones; the sweep must also meet outputs that
took the exact route, so that route is tested too.  The tolerance is zero.
"""
import numpy as np
import pytest
from PIL import Image

import pyimgaug
from pyimgaug import _core

FILTERS = {"hamming": 3, "lanczos": 5}


def tables_equal(in_size, out_size, filt):
    f1, c1, k1, recomputed = _core._resize_coefficients(in_size, out_size, filt, True)
    f2, c2, k2, _ = _core._resize_coefficients(in_size, out_size, filt, False)
    assert f1 == f2 and c1 == c2, (in_size, out_size, filt)
    np.testing.assert_array_equal(k1, k2, err_msg=str((in_size, out_size, filt)))
    return recomputed


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_dense_sweep_of_sizes(name):
    """Every input size to 1200 for the usual targets; upscales and odd sizes too."""
    recomputed = 0
    for out_size in (1, 2, 3, 31, 128, 224, 299):
        step = 1 if out_size in (128, 224) else 5
        for in_size in range(1, 1201, step):
            recomputed += tables_equal(in_size, out_size, FILTERS[name])
    # About one output in 10^5 cannot be proven and is recomputed the exact way;
    # the sweep meets some, so both routes are compared.
    assert recomputed > 0


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # the test extra is absent: only this test is skipped
    def test_random_sizes():
        pytest.skip("hypothesis (test extra) is not installed")
else:
    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(in_size=st.integers(1, 20000), out_size=st.integers(1, 700), name=st.sampled_from(sorted(FILTERS)))
    def test_random_sizes(in_size, out_size, name):
        tables_equal(in_size, out_size, FILTERS[name])


def _recomputed_sizes(filt, out_size, limit):
    found = []
    for in_size in range(out_size, 3000):
        if _core._resize_coefficients(in_size, out_size, filt, True)[3]:
            found.append(in_size)
            if len(found) == limit:
                break
    return found


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_images_whose_tables_took_the_exact_route_match_pillow(name):
    """End to end, against Pillow, on sizes where some output was recomputed."""
    rng = np.random.default_rng(1)
    sizes = _recomputed_sizes(FILTERS[name], 128, 2)
    assert sizes, "no size in the range needed the exact route"
    _core._clear_resize_coefficient_cache()
    for in_size in sizes:
        x = rng.integers(0, 256, (in_size, 37, 3), dtype=np.uint8)
        ref = np.asarray(Image.fromarray(x).resize((37, 128), getattr(Image, name.upper())))
        ours = pyimgaug.transform_batch([x], resize_to=(128, 37), resample=name, dtype="uint8", num_threads=1)[0]
        np.testing.assert_array_equal(ours, ref)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        _core._resize_coefficients(0, 5, 5, True)
    with pytest.raises(ValueError):
        _core._resize_coefficients(5, 5, 0, True)  # nearest has no table
