"""Stage 1 of ``pyimgaug.transform_batch`` (``resize_to``) against Pillow's
``Image.resize``, for every filter, up and down, on odd sizes, 1x1 sources and
1-pixel rows and columns.

Tolerances:

* uint8: the kernel replicates Pillow's fixed-point arithmetic, so the result
  must be BIT-EXACT with Pillow's 'L' resize of each channel (which equals its
  'RGB' resize, see test_kernel_reference_oracles.py). A separate test asserts
  the issue's weaker promise (+-1 on every pixel) so a failure report shows
  which of the two broke, with the number of exact samples.
* uint16: Pillow's 'I;16' resize (double accumulation, rounded and stored as
  16 bits after each pass), bit-exact; output requested as float64 so the
  integers come back unchanged. (Pillow before 11.0 cannot resize 'I;16'; see
  the test.)
* float32: Pillow's 'F' resize, |diff| <= 1e-5 * max(1, |expected|) + 1e-6 *
  max|image| (the second term covers sums that cancel to near zero, where
  float32 rounding of the data dominates: ~16 float32 ulps of the data scale).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

pytest.importorskip("PIL.Image", reason="the resize reference is Pillow's Image.resize")

import pyimgaug  # noqa: E402

import kernel_reference as kr  # noqa: E402

# Compared with whatever Pillow is installed: scripts/pillow_matrix.sh runs these under each release.
pytestmark = pytest.mark.pillow_matrix

# (source (H, W), target (h, w))
RESIZE_CASES = [
    ((23, 37), (53, 11)),  # 37x23 -> 11x53 (W x H): down in x, up in y
    ((37, 23), (11, 53)),
    ((1, 1), (5, 7)),  # 1x1 source
    ((1, 1), (1, 1)),
    ((1, 9), (1, 4)),  # 1-pixel row, only the horizontal pass
    ((1, 9), (3, 20)),
    ((8, 1), (3, 1)),  # 1-pixel column
    ((64, 48), (7, 9)),  # strong downscale (wide filter support)
    ((5, 6), (40, 33)),  # strong upscale
    ((13, 13), (13, 13)),  # same size: Pillow returns a copy
    ((20, 30), (20, 7)),  # one axis only
    ((31, 17), (30, 18)),  # near-identity, both passes
    ((131, 257), (67, 300)),  # wide rows: vectorised horizontal pass and its remainder
    ((300, 5), (2, 3)),  # 150x reduction: very wide filter support
]


def _ids(case):
    (H, W), (h, w) = case
    return f"{H}x{W}-to-{h}x{w}"


def _seed(*parts) -> int:
    return zlib.crc32(repr(parts).encode())


def _kernel_resize(images, size, resample, out_dtype):
    out = pyimgaug.transform_batch(images, resize_to=size, resample=resample, dtype=out_dtype)
    assert isinstance(out, np.ndarray)
    assert out.shape == (len(images),) + tuple(size) + (kr.as_hwc(images[0]).shape[2],)
    assert out.dtype == np.dtype(out_dtype)
    return out


def _describe_mismatch(got, expected, label):
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    bad = np.argwhere(diff > 0)
    worst = bad[np.argsort(-diff[tuple(bad.T)], kind="stable")[:5]]
    lines = [f"  at {tuple(int(v) for v in p)}: Pillow {expected[tuple(p)]!r}, got {got[tuple(p)]!r}" for p in worst]
    return (
        f"{label}: {len(bad)} of {diff.size} samples differ (max |diff| {diff.max():g}, "
        f"{diff.size - len(bad)} exact)\n" + "\n".join(lines)
    )


@pytest.mark.parametrize("case", RESIZE_CASES, ids=_ids)
@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_uint8_resize_is_bit_exact_with_pillow(resample, case):
    src_hw, dst_hw = case
    rng = np.random.default_rng(_seed("u8", resample, case))
    for channels in (1, 3, 4):
        images = kr.random_image(rng, (3,) + src_hw + (channels,), np.uint8)
        got = _kernel_resize(images, dst_hw, resample, "uint8")
        for i, img in enumerate(images):
            expected = kr.pillow_resize(img, dst_hw, resample)
            if not np.array_equal(got[i], expected):
                pytest.fail(_describe_mismatch(got[i], expected, f"{resample} C={channels} image {i}"))


@pytest.mark.parametrize("case", RESIZE_CASES, ids=_ids)
@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_uint8_resize_within_one_of_pillow(resample, case):
    """The issue's stated tolerance (+-1), on smooth-ish and on extreme data
    (0/255 edges drive lanczos/bicubic overshoot into the clipping)."""
    src_hw, dst_hw = case
    rng = np.random.default_rng(_seed("u8pm1", resample, case))
    smooth = np.cumsum(rng.integers(-3, 4, size=(2,) + src_hw + (3,)), axis=1) + 128
    extreme = rng.integers(0, 2, size=(2,) + src_hw + (3,)) * 255
    images = np.clip(np.concatenate([smooth, extreme]), 0, 255).astype(np.uint8)
    got = _kernel_resize(images, dst_hw, resample, "float32")  # float output of a uint8 resize
    for i, img in enumerate(images):
        expected = kr.pillow_resize(img, dst_hw, resample).astype(np.float32)
        diff = np.abs(got[i] - expected)
        assert diff.max(initial=0) <= 1.0, _describe_mismatch(got[i], expected, f"{resample} image {i}")
        # stage-1 result is rounded to uint8 before stage 3 even for float output
        np.testing.assert_array_equal(got[i], np.round(got[i]), err_msg="uint8 stage-1 result not integral")


@pytest.mark.parametrize("case", RESIZE_CASES, ids=_ids)
@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_uint16_resize_is_bit_exact_with_pillow(resample, case):
    """uint16 against Pillow's 'I;16' resize (11.0 and later), bit-exact: the kernel
    accumulates the same double weights in the same order and stores results as the
    installed release does (11.0-12.2 clip each byte, later releases saturate; the
    0/65535 image drives bicubic and lanczos past 65535 to show which).

    Pillow before 11.0 cannot resize 'I;16' with a filter; there the reference
    is its 32-bit 'I' resize, one pass at a time, clipped after each pass
    (kernel_reference.pillow_resize_channel)."""
    src_hw, dst_hw = case
    rng = np.random.default_rng(_seed("u16", resample, case))
    images = kr.random_image(rng, (2,) + src_hw + (3,), np.uint16)
    images[1] = (images[1] >= 32768) * np.uint16(65535)  # extreme edges: overshoot and clipping
    got = _kernel_resize(images, dst_hw, resample, "float64")
    for i, img in enumerate(images):
        expected = kr.pillow_resize(img, dst_hw, resample).astype(np.float64)
        if not np.array_equal(got[i], expected):
            pytest.fail(_describe_mismatch(got[i], expected, f"{resample} uint16 image {i}"))


@pytest.mark.parametrize("case", RESIZE_CASES, ids=_ids)
@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_float32_resize_matches_pillow_f(resample, case):
    src_hw, dst_hw = case
    rng = np.random.default_rng(_seed("f32", resample, case))
    images = kr.random_image(rng, (2,) + src_hw + (4,), np.float32)
    images[1] = images[1] * 2000.0 - 1000.0  # negative values and a larger scale
    got = _kernel_resize(images, dst_hw, resample, "float32")
    for i, img in enumerate(images):
        expected = kr.pillow_resize(img, dst_hw, resample)
        # relative 1e-5, plus 1e-6 of the image's largest magnitude for results
        # that cancel to near zero (float32 rounding of the inputs/intermediate)
        tol = 1e-5 * np.maximum(1.0, np.abs(expected.astype(np.float64))) + 1e-6 * float(np.abs(img).max())
        bad = np.abs(got[i].astype(np.float64) - expected) > tol
        assert not bad.any(), _describe_mismatch(got[i], expected, f"{resample} float32 image {i}")


@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_resize_list_of_different_sizes(resample):
    """A list of differently sized images is resized to one size; each equals
    Pillow on that image (uint8, bit-exact) and the per-image kernel call."""
    rng = np.random.default_rng(_seed("list", resample))
    sizes = [(37, 23), (1, 1), (5, 80), (64, 3), (12, 12)]
    images = [kr.random_image(rng, hw + (3,), np.uint8) for hw in sizes]
    got = _kernel_resize(images, (16, 9), resample, "uint8")
    for i, img in enumerate(images):
        expected = kr.pillow_resize(img, (16, 9), resample)
        np.testing.assert_array_equal(got[i], expected, err_msg=f"image {i} of shape {img.shape}")
        single = _kernel_resize([img], (16, 9), resample, "uint8")
        np.testing.assert_array_equal(got[i], single[0])


@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_resize_realistic_photo_rgba_alpha_255(resample):
    """A smooth photograph-like RGBA image with alpha=255 compared with Pillow's
    own RGBA resize (no premultiplication effect when alpha is opaque)."""
    from PIL import Image

    y, x = np.mgrid[0:97, 0:131]
    rgb = np.stack([(x * 1.9) % 256, (y * 2.6) % 256, 128 + 100 * np.sin(x / 7.0) * np.cos(y / 5.0)], -1)
    img = np.concatenate([rgb, np.full((97, 131, 1), 255)], -1).astype(np.uint8)
    for size in [(32, 32), (200, 150)]:
        got = _kernel_resize(img[None], size, resample, "uint8")[0]
        pil = Image.fromarray(img)
        assert pil.mode == "RGBA"
        expected = np.asarray(pil.resize(size[::-1], kr._pil_filter(resample)))
        if not np.array_equal(got, expected):
            pytest.fail(_describe_mismatch(got, expected, f"{resample} RGBA to {size}"))


# Geometries that reach every branch of the vector loops: the seed's photo-to-128
# reduction (many tap groups, outputs near the right edge reading a padded tail),
# odd row counts (the horizontal pass works on two rows at a time), row lengths
# around the vertical pass's 32-sample blocks, and windows of 1-2 taps.
VECTOR_CASES = [
    ((541, 389), (128, 128)),
    ((301, 797), (128, 128)),
    ((129, 3), (64, 40)),
    ((7, 11), (7, 33)),  # 33 * C samples per row: one block and a remainder
    ((9, 64), (5, 64)),  # vertical pass only, exactly 64 * C samples
    ((2, 2), (3, 3)),
    ((3, 100), (100, 3)),
]


@pytest.mark.parametrize("case", VECTOR_CASES, ids=_ids)
@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_uint8_resize_bit_exact_on_extreme_patterns(resample, case):
    """Bit-exact with Pillow where the sums are largest: 0/255 stripes and
    checkerboards put every negative lobe on 0 and every positive one on 255 (or the
    reverse), which drives the fixed-point sums to their extremes and exercises the
    saturation at both ends, besides noise."""
    src_hw, dst_hw = case
    rng = np.random.default_rng(_seed("u8-extreme", resample, case))
    y, x = np.mgrid[0 : src_hw[0], 0 : src_hw[1]]
    patterns = [
        ((x + y) % 2) * 255,
        ((x // 2 + y // 3) % 2) * 255,
        (x % 3 == 0) * 255,
        rng.integers(0, 256, src_hw),
    ]
    for channels in (1, 3, 4):
        images = [
            np.stack([np.roll(p, c, axis=1) for c in range(channels)], -1).astype(np.uint8) for p in patterns
        ]
        got = _kernel_resize(images, dst_hw, resample, "uint8")
        for i, img in enumerate(images):
            expected = kr.pillow_resize(img, dst_hw, resample)
            if not np.array_equal(got[i], expected):
                pytest.fail(_describe_mismatch(got[i], expected, f"{resample} C={channels} pattern {i}"))
