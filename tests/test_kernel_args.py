"""Bad arguments to ``pyimgaug.transform_batch`` raise ``ValueError`` or
``TypeError`` with a message that names the offending argument (and, for
choices, lists the valid ones) -- never a crash, a MemoryError from an absurd
allocation, or a silently wrong result.
"""

from __future__ import annotations

import numpy as np
import pytest

import pyimgaug

GOOD = np.zeros((2, 5, 6, 3), np.uint8)
EYE = np.repeat(np.eye(3)[None], 2, axis=0)


def _raises(exc, match, *args, **kwargs):
    with pytest.raises(exc, match=match) as info:
        pyimgaug.transform_batch(*args, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------- images
@pytest.mark.parametrize(
    "images",
    [
        np.zeros((5,), np.uint8),
        np.zeros((2, 3, 4, 5, 3), np.uint8),
        np.zeros((), np.uint8),
        [np.zeros((4,), np.uint8)],
        [np.zeros((4, 4, 3, 1), np.uint8)],
    ],
    ids=["1-D", "5-D", "0-D", "list-of-1-D", "list-of-4-D"],
)
def test_wrong_ndim(images):
    _raises(ValueError, "images", images)


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.int64, np.uint32, np.float16, np.complex64, np.bool_, object]
)
def test_unsupported_dtypes_list_the_valid_ones(dtype):
    msg = _raises((TypeError, ValueError), "images", np.zeros((2, 5, 6, 3), dtype))
    for name in ("uint8", "uint16", "float32"):
        assert name in msg


@pytest.mark.parametrize("channels", [2, 5, 0])
def test_unsupported_channel_counts(channels):
    msg = _raises(ValueError, "images|channel", np.zeros((2, 5, 6, channels), np.uint8))
    assert "channel" in msg


@pytest.mark.parametrize(
    "images",
    [
        [np.zeros((5, 6, 3), np.uint8), np.zeros((5, 6, 4), np.uint8)],
        [np.zeros((5, 6, 3), np.uint8), np.zeros((5, 6), np.uint8)],
        [np.zeros((5, 6, 3), np.uint8), np.zeros((5, 6, 3), np.float32)],
    ],
    ids=["3-vs-4-channels", "3-vs-2-D", "uint8-vs-float32"],
)
def test_mixed_channels_or_dtypes_in_a_list(images):
    _raises(ValueError, "images", images, resize_to=(4, 4))


@pytest.mark.parametrize("hw", [(0, 6), (5, 0)], ids=["zero-height", "zero-width"])
def test_empty_images(hw):
    _raises(ValueError, "images", np.zeros((2,) + hw + (3,), np.uint8), resize_to=(4, 4))


@pytest.mark.parametrize("images", ["abc", 3, None, [[1, 2], [3, 4]]], ids=["str", "int", "None", "nested-list"])
def test_not_images(images):
    _raises((TypeError, ValueError), "images", images)


def test_different_sizes_without_an_output_size():
    _raises(ValueError, "output_size", [np.zeros((5, 6, 3), np.uint8), np.zeros((7, 6, 3), np.uint8)])


# --------------------------------------------------------------------------- matrices
@pytest.mark.parametrize(
    "mats",
    [np.zeros((2, 2, 2)), np.zeros((2, 3, 2)), np.zeros((2, 4, 4)), np.zeros((3, 3, 3)), np.zeros((1, 3, 3)),
     np.zeros((3, 3)), np.zeros((2, 9))],
    ids=["2x2", "3x2", "4x4", "too-many", "too-few", "one-matrix-2-D", "flat"],
)
def test_matrices_of_the_wrong_shape(mats):
    _raises(ValueError, "matrices", GOOD, mats)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("where", [(0, 0, 0), (1, 0, 2), (1, 1, 1)], ids=["linear", "shift", "second-image"])
def test_non_finite_matrices(value, where):
    mats = EYE.copy()
    mats[where] = value
    _raises(ValueError, "matrices", GOOD, mats)


def test_non_numeric_matrices():
    _raises((TypeError, ValueError), "matrices", GOOD, np.array([[["a"] * 3] * 3] * 2))


# --------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("arg", ["output_size", "resize_to"])
@pytest.mark.parametrize("size", [(0, 5), (5, 0), (-1, 5), (5, -3), (0, 0)])
def test_zero_or_negative_sizes(arg, size):
    kwargs = {arg: size}
    _raises(ValueError, arg, GOOD, EYE if arg == "output_size" else None, **kwargs)


@pytest.mark.parametrize("arg", ["output_size", "resize_to"])
@pytest.mark.parametrize("size", [(5,), (5, 5, 5), 5, "5x5", (5.5, 5), (5, None)],
                         ids=["len1", "len3", "int", "str", "float", "None"])
def test_malformed_sizes(arg, size):
    _raises((TypeError, ValueError), arg, GOOD, EYE if arg == "output_size" else None, **{arg: size})


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(output_size=(2**31, 2**31)),
        dict(output_size=(2**62, 4)),
        dict(output_size=(1 << 30, 1 << 30)),
        dict(resize_to=(2**31, 2**31)),
        dict(resize_to=(2**40, 3)),
        dict(resize_to=(10**9, 10**9)),
    ],
    ids=["out-2^31", "out-2^62", "out-2^30", "resize-2^31", "resize-2^40", "resize-1e9"],
)
def test_absurd_sizes_raise_instead_of_overflowing(kwargs):
    mats = EYE if "output_size" in kwargs else None
    arg = next(iter(kwargs))
    _raises(ValueError, arg, GOOD, mats, **kwargs)


def test_output_size_without_matrices_must_match():
    """With no warp there is nothing to map into a different output size."""
    _raises(ValueError, "output_size", GOOD, output_size=(3, 3))


# --------------------------------------------------------------------------- choices
@pytest.mark.parametrize("value", ["mirror", "grid-wrap", "NEAREST ", "", 0, None])
def test_unknown_fill_mode_lists_choices(value):
    msg = _raises((ValueError, TypeError), "fill_mode", GOOD, EYE, fill_mode=value)
    for name in ("constant", "nearest", "reflect", "wrap"):
        assert name in msg


@pytest.mark.parametrize("value", ["antialias", "cubic", "linear", "", 3, None])
def test_unknown_resample_lists_choices(value):
    msg = _raises((ValueError, TypeError), "resample", GOOD, resize_to=(3, 3), resample=value)
    for name in ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"):
        assert name in msg


@pytest.mark.parametrize("value", [6, 7, -1, 0.5, 2.0, "1", True], ids=["6", "7", "-1", "0.5", "2.0", "str", "bool"])
def test_unsupported_order(value):
    msg = _raises((ValueError, TypeError), "order", GOOD, EYE, order=value)
    assert "0" in msg and "5" in msg


@pytest.mark.parametrize("value", ["int16", "uint16", "float16", "complex64", "bogus", np.int32])
def test_unsupported_output_dtype_lists_choices(value):
    msg = _raises((ValueError, TypeError), "dtype", GOOD, dtype=value)
    for name in ("float32", "float64", "uint8"):
        assert name in msg


@pytest.mark.parametrize("arg", ["cval", "scale", "offset"])
@pytest.mark.parametrize("value", [np.nan, np.inf, "1"], ids=["nan", "inf", "str"])
def test_non_finite_or_non_numeric_scalars(arg, value):
    _raises((ValueError, TypeError), arg, GOOD, EYE, **{arg: value})


@pytest.mark.parametrize("value", [0, -1, 1.5, "2"], ids=["0", "-1", "1.5", "str"])
def test_bad_num_threads(value):
    _raises((ValueError, TypeError), "num_threads", GOOD, EYE, num_threads=value)


def test_choices_accept_numpy_dtypes_for_dtype():
    # dtype may be given as a numpy dtype, not only a string
    for d in (np.float32, np.dtype("float64"), np.uint8):
        assert pyimgaug.transform_batch(GOOD, dtype=d).dtype == np.dtype(d)
