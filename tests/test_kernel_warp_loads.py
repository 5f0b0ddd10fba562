"""The order-1 warp of 8-bit RGB and RGBA images to float32 (the training-loop case).

That path reads each pixel's two taps per row with one 8-byte load, blends in
float32, and handles fill mode nearest by clamping the coordinate (see
csrc/kernel/warp_impl.hpp); other fill modes use it only for groups of 8 pixels
wholly inside the image. Checked here, every pixel against
scipy.ndimage.affine_transform in float64:

* precision: float32 arithmetic on exact integer samples. Each rounding is at
  most 2^-24 of a value up to 255: the row weight, the row blend (two rows), the
  tap difference, the column weight, the column blend (5, in input units), then
  the scale's own rounding and the final scale-and-offset (2, of up to
  ``255 * |scale| + |offset|``). So within ``8 * 2^-24 * (255 * |scale| + |offset|)``
  (measured: 2.5e-5 on a 0..255 scale, the bound 1.2e-4) -- 80 times tighter
  than the order-1 bound of test_kernel_warp.py (0.01 on a 0..255 scale), which
  every path meets; ``compare_image`` adds 2 ulp for the final cast;
* bounds: images and outputs against guard pages at either end, with matrices
  that send many samples into the last row and column pair (where an 8-byte RGB
  load from the tap would pass the image's last byte) and beyond, output widths
  that are and are not multiples of 8 (the 16-byte store of an RGB pixel spills
  into the next one, so a row's last pixel is stored differently).

Only pixels of ``kr.critical_mask`` (a source coordinate within 1e-9 of a border
where scipy's result is discontinuous, not computed exactly) are left out.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

pytest.importorskip("scipy.ndimage", reason="the warp reference is scipy.ndimage.affine_transform")

import pyimgaug  # noqa: E402

import kernel_reference as kr  # noqa: E402
from test_kernel_hostile import guarded_array, guarded_out  # noqa: E402

F32_EPS = 2.0**-24
STAGE3 = [(1.0 / 255.0, 0.0), (2.0 / 255.0, -0.25)]  # the Keras rescale; one with an offset
MAX_EXCLUDED_FRACTION = 0.02


def _seed(*parts) -> int:
    return zlib.crc32(repr(parts).encode())


def float32_tolerance(scale: float, offset: float) -> float:
    return 8 * F32_EPS * (255.0 * abs(scale) + abs(offset))


def keras_like(rng, hw) -> np.ndarray:
    """The seed tutorial's augmentation: rotation +-20 degrees, shift +-20 %."""
    return kr.centered_affine(
        hw, hw, angle=math.radians(rng.uniform(-20, 20)),
        shift=(rng.uniform(-0.2, 0.2) * hw[0], rng.uniform(-0.2, 0.2) * hw[1]))


def corner_matrices(in_hw, out_hw):
    """Samples in, on and beyond the last row and column pair of the input."""
    H, W = in_hw
    return [
        kr.integer_shift(H - 2, W - 2),  # output (0, 0) on the last cell's top-left tap, the rest beyond
        kr.centered_affine(in_hw, out_hw, zoom=(0.25, 0.25), shift=((H - 1) / 2 - 0.3, (W - 1) / 2 - 0.6)),
        # Row H-1, columns from W-2 in steps of 1/8 (exact: no pixel is ambiguous at the border).
        np.array([[0.0, 0.0, H - 1.0], [0.0, 0.125, W - 2.0], [0, 0, 1]]),
        np.array([[0.37, 0.11, H - 3.5], [-0.09, 0.41, W - 3.5], [0, 0, 1]]),
    ]


def check(got, images, matrices, out_hw, fill_mode, cval, scale, offset, label):
    """Compares every image; returns (excluded, total) pixel counts."""
    excluded = total = 0
    for i, (img, m) in enumerate(zip(images, matrices)):
        ref, _ = kr.reference_transform(img, m, output_size=out_hw, order=1, fill_mode=fill_mode, cval=cval,
                                        scale=scale, offset=offset)
        mask = kr.critical_mask(m, img.shape[:2], out_hw, 1, fill_mode)
        kr.compare_image(got[i], ref, "float32", float_tol=float32_tolerance(scale, offset), exclude=mask,
                         label=f"{label} image {i} (input {img.shape}, matrix {np.asarray(m).tolist()})")
        excluded += int(mask.sum())
        total += mask.size
    return excluded, total


def assert_few_excluded(counts, label):
    excluded, total = (sum(c) for c in zip(*counts))
    assert excluded <= MAX_EXCLUDED_FRACTION * total, f"{label}: {excluded} of {total} pixels excluded"


@pytest.mark.parametrize("scale,offset", STAGE3)
@pytest.mark.parametrize("channels", [3, 4], ids=lambda c: f"C{c}")
@pytest.mark.parametrize("fill_mode", kr.FILL_MODES)
def test_matches_scipy_at_float32_precision(fill_mode, channels, scale, offset):
    rng = np.random.default_rng(_seed("loads", fill_mode, channels, scale))
    cval = 0.37 * 255
    cases = [((2, 2), (3, 9)), ((2, 11), (5, 8)), ((9, 2), (7, 16)), ((23, 37), (19, 41)), ((40, 64), (33, 64)),
             ((64, 48), (64, 17))]
    counts = []
    for in_hw, out_hw in cases:
        images = [kr.random_image(rng, in_hw + (channels,), np.uint8) for _ in range(9)]
        mats = kr.matrix_zoo(rng, in_hw, out_hw, 7) + [keras_like(rng, in_hw), keras_like(rng, in_hw)]
        got = pyimgaug.transform_batch(images, np.stack(mats), output_size=out_hw, order=1, fill_mode=fill_mode,
                                       cval=cval, scale=scale, offset=offset, dtype="float32", num_threads=1)
        counts.append(check(got, images, mats, out_hw, fill_mode, cval, scale, offset,
                            f"{fill_mode} C{channels} {in_hw}->{out_hw}"))
    assert_few_excluded(counts, f"{fill_mode} C{channels}")


@pytest.mark.parametrize("out_hw", [(6, 8), (5, 13), (4, 1), (3, 16)], ids=lambda s: f"out{s[0]}x{s[1]}")
@pytest.mark.parametrize("layout", ["tight_end", "tight_start", "row_pad_odd"])
@pytest.mark.parametrize("channels", [3, 4], ids=lambda c: f"C{c}")
@pytest.mark.parametrize("fill_mode", ["nearest", "constant"])
def test_reads_and_writes_stay_inside_the_buffers(fill_mode, channels, layout, out_hw):
    """A byte read or written outside the image or the output is a segfault here
    (guard pages), not a silent pass; the values are checked as above."""
    rng = np.random.default_rng(_seed("guard", fill_mode, channels, layout, out_hw))
    counts = []
    for in_hw in ((2, 2), (2, 3), (3, 2), (7, 5)):
        values = kr.random_image(rng, in_hw + (channels,), np.uint8)
        if layout == "row_pad_odd":
            img = guarded_array(values, row_pad=1)
        else:
            img = guarded_array(values, tight_end=layout == "tight_end")
        mats = corner_matrices(in_hw, out_hw)
        for m in mats:
            out = guarded_out((1,) + out_hw + (channels,), np.float32)
            got = pyimgaug.transform_batch([img], m[None], output_size=out_hw, order=1, fill_mode=fill_mode,
                                           cval=11.0, scale=1.0 / 255.0, dtype="float32", out=out, num_threads=1)
            assert got is out
            counts.append(check(got, [values], [m], out_hw, fill_mode, 11.0, 1.0 / 255.0, 0.0,
                                f"{fill_mode} C{channels} {layout} {in_hw}->{out_hw}"))
    assert_few_excluded(counts, f"{fill_mode} C{channels} {layout}")


def test_seed_batch_is_thread_count_independent_and_float32_exact_enough():
    """The benchmark's workload on a few images: every thread count gives the same
    bytes, and the result is within the float32 bound of scipy."""
    rng = np.random.default_rng(_seed("seed"))
    hw = (128, 128)
    images = [kr.random_image(rng, hw + (3,), np.uint8) for _ in range(6)]
    mats = np.stack([keras_like(rng, hw) for _ in images])
    runs = [pyimgaug.transform_batch(np.stack(images), mats, order=1, fill_mode="nearest", scale=1.0 / 255.0,
                                     dtype="float32", num_threads=t) for t in (1, 2, 3)]
    assert runs[1].tobytes() == runs[0].tobytes() and runs[2].tobytes() == runs[0].tobytes()
    assert_few_excluded([check(runs[0], images, mats, hw, "nearest", 0.0, 1.0 / 255.0, 0.0, "seed batch")], "seed")
