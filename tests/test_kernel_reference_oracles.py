"""Checks of the reference oracles themselves (tests/kernel_reference.py).

These do not need the compiled kernel. They pin down the scipy and Pillow
behaviours the kernel tests rely on, so that a kernel failure can be trusted to
be a kernel bug and not an oracle bug:

* our float64 source coordinates reproduce scipy's summation order bit for bit
  (order-0 'nearest' sampling by hand equals scipy, ties included);
* ``critical_mask`` flags every pixel where scipy's result jumps when the source
  coordinate moves by 1e-10 (so excluding it is sufficient), and is empty for
  exactly computed coordinates;
* Pillow's per-channel resize equals its RGB resize for uint8 (so comparing C=3
  channel by channel is the same as comparing with Pillow's RGB path);
* the metamorphic matrices (rot90, flips, integer shifts) are right according
  to scipy itself.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

ndimage = pytest.importorskip("scipy.ndimage", reason="the reference oracles need scipy")
Image = pytest.importorskip("PIL.Image", reason="the reference oracles need Pillow")

import kernel_reference as kr  # noqa: E402


def _decimal_matrix(rng):
    # Entries that are multiples of 0.1 (inexact in binary): sums land within an
    # ulp of .5 ties often, which is where summation order matters.
    m = np.eye(3)
    m[:2, :2] = rng.integers(-20, 21, size=(2, 2)) / 10.0
    m[:2, 2] = rng.integers(-100, 300, size=2) / 10.0
    return m


@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
def test_source_coords_follow_scipy_summation_order(seed):
    rng = np.random.default_rng(seed)
    H, W = 31, 29
    img = np.arange(H * W, dtype=np.float64).reshape(H, W)
    n_ties = 0
    for _ in range(40):
        m = _decimal_matrix(rng)
        got = kr.scipy_warp(img, m, (23, 27), 0, "nearest", 0.0)[:, :, 0]
        rr, cc = kr.source_coords(m, (23, 27))
        ri = np.clip(np.floor(rr + 0.5), 0, H - 1).astype(int)
        ci = np.clip(np.floor(cc + 0.5), 0, W - 1).astype(int)
        n_ties += int((np.abs(rr - np.floor(rr) - 0.5) < 1e-9).sum())
        np.testing.assert_array_equal(got, img[ri, ci])
    assert n_ties > 100  # the check above really exercised near-ties


@pytest.mark.parametrize("order", [0, 1], ids=["order0", "order1"])
@pytest.mark.parametrize("mode", kr.FILL_MODES)
@pytest.mark.parametrize("in_hw", [(1, 1), (2, 5), (3, 7), (9, 6)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_critical_mask_covers_every_discontinuity(mode, order, in_hw):
    """Perturb every source coordinate by +-1e-10: wherever scipy's value moves by
    more than the order-1 tolerance, critical_mask (without the exact-coordinate
    exemption) must have flagged the pixel."""
    rng = np.random.default_rng(zlib.crc32(repr((mode, order, in_hw)).encode()))
    img = rng.random(in_hw) * 255.0
    out_hw = (7, 8)
    # Matrices that land on borders and ties a lot: quarter-pixel grids.
    for _ in range(25):
        m = np.eye(3)
        m[:2, :2] = rng.integers(-4, 5, size=(2, 2)) / 4.0
        m[:2, 2] = rng.integers(-12, 13, size=2) / 4.0
        rr, cc = kr.source_coords(m, out_hw)
        base = ndimage.map_coordinates(img, [rr, cc], order=order, mode=mode, cval=-7.0)
        moved = np.zeros(out_hw, dtype=bool)
        for dr, dc in [(1e-10, 0), (-1e-10, 0), (0, 1e-10), (0, -1e-10)]:
            v = ndimage.map_coordinates(img, [rr + dr, cc + dc], order=order, mode=mode, cval=-7.0)
            moved |= np.abs(v - base) > 1e-3
        mask = kr.critical_mask(m, in_hw, out_hw, order, mode, exempt_exact=False)
        assert not (moved & ~mask).any(), (m, np.argwhere(moved & ~mask))
        # and map_coordinates on our coordinates is scipy's affine_transform
        np.testing.assert_array_equal(base, kr.scipy_warp(img, m, out_hw, order, mode, -7.0)[:, :, 0])
        # quarter-pixel matrices are computed exactly: nothing to exclude
        assert not kr.critical_mask(m, in_hw, out_hw, order, mode).any()


def test_critical_mask_flags_inexact_border_landings():
    # 9/7 is inexact: the last output row lands on input row 9 only after a
    # rounded product, so it is flagged for 'constant' (border at H-1) and not
    # for 'nearest' (continuous there); row 0 is exactly 0 and never flagged.
    m = kr.corner_stretch((10, 10), (8, 4))
    rr, _ = kr.source_coords(m, (8, 4))
    assert rr[-1, 0] == 9.0
    mask = kr.critical_mask(m, (10, 10), (8, 4), 1, "constant")
    assert mask[-1].all() and not mask[:-1].any()
    assert not kr.critical_mask(m, (10, 10), (8, 4), 1, "nearest").any()


@pytest.mark.parametrize("resample", kr.RESAMPLE_FILTERS)
def test_pillow_per_channel_equals_rgb(resample):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)
    for size in [(11, 53), (40, 9), (1, 1)]:
        per_channel = kr.pillow_resize(img, size, resample)
        rgb = np.asarray(Image.fromarray(img).resize(size[::-1], kr._pil_filter(resample)))
        np.testing.assert_array_equal(per_channel, rgb)


@pytest.mark.parametrize("dtype", kr.IN_DTYPES, ids=lambda d: np.dtype(d).name)
def test_pillow_resize_keeps_dtype_and_shape(dtype):
    rng = np.random.default_rng(2)
    img = kr.random_image(rng, (5, 3, 2), dtype)
    out = kr.pillow_resize(img, (7, 4), "bicubic")
    assert out.dtype == np.dtype(dtype) and out.shape == (7, 4, 2)


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("hw", [(1, 1), (1, 6), (5, 1), (4, 7)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_rot90_and_flip_matrices(k, hw):
    rng = np.random.default_rng(3)
    img = rng.random(hw + (2,))
    m, out_hw = kr.rot90_matrix(k, hw)
    for mode in kr.FILL_MODES:
        for order in (0, 1):
            np.testing.assert_array_equal(kr.scipy_warp(img, m, out_hw, order, mode, 0.0), np.rot90(img, k))
    for axis in (0, 1):
        np.testing.assert_array_equal(
            kr.scipy_warp(img, kr.flip_matrix(axis, hw), hw, 0, "constant", 0.0), np.flip(img, axis)
        )


def test_finish_rounds_and_saturates():
    v = np.array([-3.0, -0.5, 0.49, 0.5, 1.5, 254.5, 255.4, 300.0])
    np.testing.assert_array_equal(kr.finish(v, 1.0, 0.0, "uint8"), [0, 0, 0, 1, 2, 255, 255, 255])
    assert kr.finish(v, 2.0, 1.0, "float32").dtype == np.float32
    np.testing.assert_array_equal(kr.uint8_tie_mask(np.array([0.5, 2.4999999, 3.0])), [True, True, False])


def test_compare_image_reports_the_pixel():
    ref = np.zeros((2, 3, 1))
    got = np.zeros((2, 3, 1), np.float32)
    got[1, 2, 0] = 0.5
    with pytest.raises(AssertionError, match=r"row 1, col 2, ch 0"):
        kr.compare_image(got, ref, "float32", float_tol=0.1, label="x")
    kr.compare_image(got, ref, "float32", float_tol=0.1, exclude=np.array([[0, 0, 0], [0, 0, 1]], bool))


def test_pillow_i16_nearest_quirk_is_why_the_oracle_uses_mode_i():
    """Pillow's NEAREST for 'I;16' disagrees with its 'L', 'I' and 'F' paths on
    boundary-centred samples; the oracle uses 'I' for uint16 NEAREST."""
    H, W, h, w = 64, 48, 7, 9
    a = (np.arange(H)[:, None] * 100 + np.arange(W)[None, :]).astype(np.uint16)
    nearest = Image.Resampling.NEAREST
    as_l = np.asarray(Image.fromarray((a % 256).astype(np.uint8)).resize((w, h), nearest))
    as_i = np.asarray(Image.fromarray(a.astype(np.int32)).resize((w, h), nearest))
    as_f = np.asarray(Image.fromarray(a.astype(np.float32)).resize((w, h), nearest))
    np.testing.assert_array_equal(as_i % 256, as_l)
    np.testing.assert_array_equal(as_f, as_i)
    np.testing.assert_array_equal(kr.pillow_resize_channel(a, (h, w), "nearest"), as_i)
    as_i16 = np.asarray(Image.fromarray(a).resize((w, h), nearest)).astype(np.int64)
    if np.array_equal(as_i16, as_i):
        pytest.skip("this Pillow's I;16 NEAREST agrees with the other modes")
