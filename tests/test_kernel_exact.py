"""Metamorphic cases of ``pyimgaug.transform_batch`` whose answer is known
exactly without any library: 90-degree rotations and flips equal ``np.rot90`` /
``np.flip``, integer shifts equal slicing (with each fill mode's border rule),
and the identity returns the input values in a new array without touching the
input. All comparisons here are exact (``assert_array_equal``), for both
interpolation orders: the matrices are integers, so every source coordinate is
an exact integer and order-1 weights are exactly 0 and 1.
"""

from __future__ import annotations

import numpy as np
import pytest

import pyimgaug

import kernel_reference as kr

SHAPES = [(1, 1), (1, 6), (5, 1), (4, 7), (9, 9), (16, 5)]
# dtype in -> dtype out that preserves the values exactly
EXACT_OUT = {np.dtype(np.uint8): "uint8", np.dtype(np.uint16): "float64", np.dtype(np.float32): "float32"}


def _ids_shape(s):
    return f"{s[0]}x{s[1]}"


def _batch(rng, hw, dtype, n=3, channels=3):
    return kr.random_image(rng, (n,) + hw + (channels,), dtype)


def _expected(x, dtype_in):
    return x.astype(EXACT_OUT[np.dtype(dtype_in)])


@pytest.mark.parametrize("order", [0, 1], ids=["order0", "order1"])
@pytest.mark.parametrize("fill_mode", kr.FILL_MODES)
@pytest.mark.parametrize("dtype", kr.IN_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("hw", SHAPES, ids=_ids_shape)
@pytest.mark.parametrize("k", [1, 2, 3], ids=lambda k: f"rot{90 * k}")
def test_rot90_equals_numpy(k, hw, dtype, fill_mode, order):
    rng = np.random.default_rng(k * 1000 + hw[0] * 31 + hw[1])
    images = _batch(rng, hw, dtype)
    m, out_hw = kr.rot90_matrix(k, hw)
    mats = np.repeat(m[None], len(images), axis=0)
    if k == 2:
        mats = mats.astype(np.int64)  # integer matrices are accepted as they are
    got = pyimgaug.transform_batch(
        images, mats, output_size=out_hw, order=order, fill_mode=fill_mode, cval=3.0, dtype=EXACT_OUT[np.dtype(dtype)]
    )
    np.testing.assert_array_equal(got, _expected(np.rot90(images, k, axes=(1, 2)), dtype))


@pytest.mark.parametrize("order", [0, 1], ids=["order0", "order1"])
@pytest.mark.parametrize("fill_mode", kr.FILL_MODES)
@pytest.mark.parametrize("dtype", kr.IN_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("hw", SHAPES, ids=_ids_shape)
@pytest.mark.parametrize("axes", [(0,), (1,), (0, 1)], ids=["flipud", "fliplr", "flipboth"])
def test_flips_equal_numpy(axes, hw, dtype, fill_mode, order):
    rng = np.random.default_rng(len(axes) * 7 + hw[0] * 31 + hw[1])
    images = _batch(rng, hw, dtype)
    m = np.eye(3)
    for a in axes:
        m = m @ kr.flip_matrix(a, hw)
    mats = np.repeat(m[None, :2], len(images), axis=0)  # (N, 2, 3)
    got = pyimgaug.transform_batch(images, mats, order=order, fill_mode=fill_mode, dtype=EXACT_OUT[np.dtype(dtype)])
    np.testing.assert_array_equal(got, _expected(np.flip(images, axis=tuple(a + 1 for a in axes)), dtype))


def _shift_expected(img, dy, dx, out_hw, fill_mode, cval):
    """out[r, c] = img[r + dy, c + dx] with the mode's rule for outside samples,
    written with plain index arithmetic (scipy's conventions: reflect is the
    half-sample symmetric 'cba|abcd|dcb' extension, wrap has period n-1)."""
    H, W = img.shape[:2]
    r = np.arange(out_hw[0]) + dy
    c = np.arange(out_hw[1]) + dx

    def fold(i, n):
        if fill_mode == "nearest":
            return np.clip(i, 0, n - 1)
        if fill_mode == "reflect":
            p = 2 * n
            i = np.mod(i, p)
            return np.where(i >= n, p - 1 - i, i)
        if fill_mode == "wrap":
            # scipy's legacy wrap: period n-1, and a negative multiple of n-1 maps
            # to n-1 (not 0) while a positive one beyond n-1 maps to 0.
            if n == 1:
                return np.zeros_like(i)
            p = n - 1
            return np.where(i < 0, i + p * ((-i) // p + 1), np.where(i > p, i - p * (i // p), i))
        return np.clip(i, 0, n - 1)  # constant: masked below

    out = img[fold(r, H)][:, fold(c, W)].astype(np.float64)
    if fill_mode == "constant":
        outside = ((r < 0) | (r > H - 1))[:, None] | ((c < 0) | (c > W - 1))[None, :]
        out[outside] = cval
    return out


@pytest.mark.parametrize("order", [0, 1], ids=["order0", "order1"])
@pytest.mark.parametrize("fill_mode", kr.FILL_MODES)
@pytest.mark.parametrize("hw", SHAPES, ids=_ids_shape)
def test_integer_shifts_equal_slicing(hw, fill_mode, order):
    """Every integer shift from fully outside to fully outside on the other side,
    including the ones that put samples exactly on row/col 0 and H-1/W-1."""
    rng = np.random.default_rng(hw[0] * 131 + hw[1])
    H, W = hw
    img = kr.random_image(rng, hw + (3,), np.float32)
    shifts = [(dy, dx) for dy in range(-H - 1, H + 2) for dx in range(-W - 1, W + 2, max(1, W // 3))]
    mats = np.stack([kr.integer_shift(dy, dx) for dy, dx in shifts])
    images = np.repeat(img[None], len(shifts), axis=0)
    out_hw = (H + 1, W + 2)
    got = pyimgaug.transform_batch(images, mats, output_size=out_hw, order=order, fill_mode=fill_mode, cval=-1.5,
                                   dtype="float64")
    for i, (dy, dx) in enumerate(shifts):
        expected = _shift_expected(img, dy, dx, out_hw, fill_mode, -1.5)
        np.testing.assert_array_equal(got[i], expected, err_msg=f"shift ({dy}, {dx}) of a {hw} image, {fill_mode}")
        # the in-range part is plain slicing
        r0, r1 = max(0, -dy), min(out_hw[0], H - dy)
        c0, c1 = max(0, -dx), min(out_hw[1], W - dx)
        if r0 < r1 and c0 < c1:
            np.testing.assert_array_equal(got[i, r0:r1, c0:c1], img[r0 + dy:r1 + dy, c0 + dx:c1 + dx])


@pytest.mark.parametrize("dtype", kr.IN_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("channels", [1, 3, 4], ids=lambda c: f"C{c}")
def test_identity_returns_a_new_array_equal_to_the_input(dtype, channels):
    rng = np.random.default_rng(channels)
    images = _batch(rng, (7, 5), dtype, n=4, channels=channels)
    before = images.copy()
    out_dtype = EXACT_OUT[np.dtype(dtype)]
    for kwargs in (dict(), dict(matrices=np.repeat(np.eye(3)[None], 4, axis=0)), dict(resize_to=(7, 5))):
        for order in (0, 1):
            got = pyimgaug.transform_batch(images, dtype=out_dtype, order=order, **kwargs)
            assert got is not images
            assert not np.shares_memory(got, images)
            np.testing.assert_array_equal(got, _expected(images, dtype), err_msg=str(kwargs))
    np.testing.assert_array_equal(images, before)


def test_identity_uint8_to_uint8_is_a_copy():
    images = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    got = pyimgaug.transform_batch(images, dtype="uint8")
    assert got is not images and not np.shares_memory(got, images)
    np.testing.assert_array_equal(got, images)
    got[...] = 0
    assert images.sum() > 0


@pytest.mark.parametrize("dtype", kr.IN_DTYPES, ids=lambda d: np.dtype(d).name)
def test_identity_default_output_is_float32_of_the_values(dtype):
    rng = np.random.default_rng(5)
    images = _batch(rng, (6, 6), dtype)
    got = pyimgaug.transform_batch(images)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, images.astype(np.float32))


@pytest.mark.parametrize("order", [0, 1], ids=["order0", "order1"])
def test_empty_batch(order):
    for dtype in kr.IN_DTYPES:
        images = np.zeros((0, 5, 6, 3), dtype=dtype)
        got = pyimgaug.transform_batch(images, np.zeros((0, 3, 3)), output_size=(4, 2), order=order)
        assert got.shape == (0, 4, 2, 3) and got.dtype == np.float32
        got = pyimgaug.transform_batch(images, resize_to=(3, 3), dtype="uint8")
        assert got.shape == (0, 3, 3, 3) and got.dtype == np.uint8
        out = np.empty((0, 3, 3, 3), np.uint8)
        assert pyimgaug.transform_batch(images, resize_to=(3, 3), dtype="uint8", out=out) is out


@pytest.mark.parametrize("with_matrices", [False, True], ids=["identity", "matrices"])
def test_empty_array_batch_takes_its_size_from_the_array(with_matrices):
    """An (0, H, W, C) array states its image size, so the default output size
    (the stage-1 size) is (H, W) as it is for N > 0."""
    images = np.zeros((0, 5, 6, 3), dtype=np.uint8)
    mats = np.zeros((0, 3, 3)) if with_matrices else None
    got = pyimgaug.transform_batch(images, mats)
    assert got.shape == (0, 5, 6, 3) and got.dtype == np.float32


def test_rescale_stage_alone_exact_cases():
    """Stage 3 without warp: scale/offset in float64 and uint8 saturation."""
    images = np.array([0, 1, 2, 100, 127, 128, 254, 255], dtype=np.uint8).reshape(1, 1, 8, 1)
    np.testing.assert_array_equal(
        pyimgaug.transform_batch(images, scale=2.0, offset=-1.0, dtype="float64")[0, 0, :, 0],
        [-1, 1, 3, 199, 253, 255, 507, 509],
    )
    np.testing.assert_array_equal(
        pyimgaug.transform_batch(images, scale=2.0, offset=-1.0, dtype="uint8")[0, 0, :, 0],
        [0, 1, 3, 199, 253, 255, 255, 255],
    )
    np.testing.assert_array_equal(
        pyimgaug.transform_batch(images, scale=-1.0, offset=300.0, dtype="uint8")[0, 0, :, 0],
        [255, 255, 255, 200, 173, 172, 46, 45],
    )
    # x.25 and x.75 round to nearest; 1/255 gives the Keras rescale exactly as float32
    got = pyimgaug.transform_batch(images, scale=0.25, offset=0.0, dtype="uint8")[0, 0, :, 0]
    np.testing.assert_array_equal(got[[0, 3, 4, 6, 7]], [0, 25, 32, 64, 64])
    got = pyimgaug.transform_batch(images, scale=1 / 255.0, dtype="float32")[0, 0, :, 0]
    np.testing.assert_allclose(got, images[0, 0, :, 0] / 255.0, rtol=2e-7, atol=0)


def test_uint8_output_rounds_exact_ties_half_up():
    """The documented rounding of the uint8 cast: exact .5 ties go up (scipy's
    own integer output rounds the same way), for warped and unwarped values."""
    v = np.arange(0, 256, dtype=np.uint8).reshape(1, 16, 16, 1)
    expected = np.clip(np.floor(v.astype(np.float64) * 0.5 + 0.5), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(pyimgaug.transform_batch(v, scale=0.5, dtype="uint8"), expected)
    for order in (0, 1):
        got = pyimgaug.transform_batch(v, np.eye(3)[None], order=order, scale=0.5, dtype="uint8")
        np.testing.assert_array_equal(got, expected)
    # an order-1 sample exactly halfway between 1 and 2 -> 1.5 -> 2
    img = np.array([[[1], [2]]], dtype=np.uint8)[None]
    m = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.5]]])
    assert pyimgaug.transform_batch(img, m, output_size=(1, 1), dtype="uint8")[0, 0, 0, 0] == 2
