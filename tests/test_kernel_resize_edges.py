"""The edges of the vectorised uint8 resize loops, bit-exact against Pillow.

The horizontal loops (resize_impl.hpp) work on blocks of four rows, walk each
window two or four taps at a time, read past a window's last tap (zero weights)
from a padded copy of a row's tail, and write a block's rows four output pixels
at a time with 16-byte stores. The vertical loops take taps four at a time and
samples 32 at a time. Every boundary of that is a place to read or write one
byte too many or to drop a tap, so these tests sweep them: output widths 1 to
13 (the four-pixel stores and their bytewise tail), heights 1 to 9 (blocks of
four rows with 1, 2, 3 or 4 live), windows of 1 to 40 taps (every remainder),
1, 3 and 4 channels, and weights of exactly 1.0 (box and bilinear upscales,
whose fixed-point weight 2^22 is the largest a Pillow filter produces).

Tolerance: none. The kernel replicates Pillow's fixed-point arithmetic, so every
sample must be equal (the same promise as test_kernel_resize.py).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

pytest.importorskip("PIL.Image", reason="the resize reference is Pillow's Image.resize")

import pyimgaug  # noqa: E402
from pyimgaug import _core  # noqa: E402

import kernel_reference as kr  # noqa: E402

pytestmark = pytest.mark.pillow_matrix


def _seed(*parts) -> int:
    return zlib.crc32(repr(parts).encode())


def _check(images, size_hw, resample):
    got = pyimgaug.transform_batch(images, resize_to=size_hw, resample=resample, dtype="uint8")
    for i, img in enumerate(images):
        expected = kr.pillow_resize(img, size_hw, resample)
        if not np.array_equal(got[i], expected):
            bad = np.argwhere(got[i] != expected)
            pytest.fail(f"{resample} {img.shape} -> {size_hw}: {len(bad)} samples differ, first at "
                        f"{tuple(int(v) for v in bad[0])}: Pillow {expected[tuple(bad[0])]}, got {got[i][tuple(bad[0])]}")


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("resample", ["box", "bilinear", "lanczos"])
def test_every_small_output_width_and_height(resample, channels):
    # Down in both axes (both passes, all rows read), then the same output sizes
    # from sources narrower and shorter than them (upscales).
    rng = np.random.default_rng(_seed("small", resample, channels))
    for out_w in range(1, 14):
        for out_h in range(1, 10):
            src = kr.random_image(rng, (1, 3 * out_h + 2, 5 * out_w + 3, channels), np.uint8)
            _check(src, (out_h, out_w), resample)
            up = kr.random_image(rng, (1, max(1, out_h // 2), max(1, out_w // 3), channels), np.uint8)
            _check(up, (out_h, out_w), resample)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_every_window_length(resample, channels):
    # A reduction by r gives windows of about 2 * support * r taps: r from 1.05 to
    # 13 walks window lengths 1 to ~80 and so every remainder modulo 2, 4 and 16.
    rng = np.random.default_rng(_seed("windows", resample, channels))
    out = 7
    for in_size in list(range(8, 40)) + [55, 64, 91]:
        src = kr.random_image(rng, (1, in_size, in_size + 1, channels), np.uint8)
        _check(src, (out, out + 2), resample)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("resample", ["box", "bilinear", "hamming", "nearest"])
def test_weights_of_one(resample, channels):
    # Integer upscales give taps of weight exactly 1.0 (2^22 in fixed point).
    rng = np.random.default_rng(_seed("ones", resample, channels))
    src = kr.random_image(rng, (2, 5, 6, channels), np.uint8)
    _check(src, (20, 30), resample)
    extreme = np.zeros((1, 6, 5, channels), np.uint8)
    extreme[0, ::2, :, :] = 255
    _check(extreme, (24, 10), resample)


@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_coefficient_memo_changes_nothing(resample):
    # Tables come from a process-wide memo after their first use; results must be
    # the same whether they were just built or taken from it.
    rng = np.random.default_rng(_seed("memo", resample))
    images = [kr.random_image(rng, (h, w, 3), np.uint8) for h, w in ((61, 83), (83, 61), (61, 61))]
    _core._clear_resize_coefficient_cache()
    first = pyimgaug.transform_batch(images, resize_to=(17, 23), resample=resample, dtype="uint8")
    again = pyimgaug.transform_batch(images, resize_to=(17, 23), resample=resample, dtype="uint8")
    assert first.tobytes() == again.tobytes()
    for i, img in enumerate(images):
        assert np.array_equal(first[i], kr.pillow_resize(img, (17, 23), resample))


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("resample", ["bilinear", "bicubic", "lanczos"])
def test_tall_images_whose_height_shrinks_most(resample, channels):
    # Pillow 13 resizes these vertical pass first (the height shrinks by more than
    # twice as many pixels as the width); the kernel then interleaves the source
    # rows in blocks of four for its vertical loop. Under older Pillow releases the
    # same shapes run horizontal first, and must equal that Pillow just the same.
    rng = np.random.default_rng(_seed("tall", resample, channels))
    for out_w in range(1, 14):
        for out_h in (1, 2, 3, 5, 8, 9):
            src = kr.random_image(rng, (1, 6 * out_h + 3 + out_w % 4, out_w + 1 + out_w % 3, channels), np.uint8)
            _check(src, (out_h, out_w), resample)
    wide = kr.random_image(rng, (1, 97, 70, channels), np.uint8)  # rows longer than 32 bytes, and a remainder
    _check(wide, (11, 61), resample)
