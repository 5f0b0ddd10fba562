"""Slow, obviously-correct reference oracles for ``pyimgaug.transform_batch``.

Everything here is built from scipy and Pillow themselves, one image and one
channel at a time, so that the kernel is compared against the libraries whose
semantics it promises to reproduce:

* stage 1 (resize): ``PIL.Image.resize`` per channel ('L' for uint8, 'I;16' for
  uint16 ('I' for NEAREST, and before Pillow 11.0, which cannot resize 'I;16'),
  'F' for float32), which rounds and clips integer results after each pass
  exactly as the installed Pillow does;
* stage 2 (warp): ``scipy.ndimage.affine_transform`` per channel in float64
  (orders 0 and 1 without a prefilter; orders 2-5 with scipy's default
  ``prefilter=True``, see ``scipy_spline_warp``);
* stage 3: ``value * scale + offset`` in float64, then cast.

The module also knows where scipy's order-0 / border behaviour is discontinuous
in the source coordinate, so that tests can exclude exactly the pixels whose
source coordinate lies within floating-point error of such a point (and nothing
else) instead of hiding behind a loose tolerance.

It imports scipy and Pillow lazily so that test modules can ``importorskip``
them first.
"""

from __future__ import annotations

import math

import numpy as np

FILL_MODES = ("constant", "nearest", "reflect", "wrap")
RESAMPLE_FILTERS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")
IN_DTYPES = (np.uint8, np.uint16, np.float32)
# float64 images can be warped (in double) but not resized (Pillow has no float64 mode).
WARP_IN_DTYPES = IN_DTYPES + (np.float64,)
SPLINE_ORDERS = (2, 3, 4, 5)
OUT_DTYPES = ("float32", "float64", "uint8")

# Full-scale value of each input dtype (the range random test data spans).
DATA_RANGE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0, np.dtype(np.float32): 1.0,
              np.dtype(np.float64): 1.0}

# The order-1 tolerance: 0.01 on a 0..255 scale, i.e. this fraction of full scale.
ORDER1_REL_TOL = 0.01 / 255.0

# Orders 2-5 (and float64 input at any order) are computed in double with scipy's
# own operations in scipy's order (coordinates, prefilter, weights, summation), so
# they reproduce scipy's doubles; on x86-64 we measure them bit for bit. The bound
# leaves room only for a platform whose libm pow() or compiler (FMA contraction in
# scipy's build) rounds a last bit differently: 1e-9 of full scale (2.6e-7 of a
# level on a 0..255 scale, far inside the 1e-3).
SPLINE_REL_TOL = 1e-9

# A source coordinate within this distance of a rounding tie or a border
# discontinuity may legitimately land on either side in the kernel.
CRITICAL_EPS = 1e-9


# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #
def as_hwc(image: np.ndarray) -> np.ndarray:
    """(H, W) -> (H, W, 1); (H, W, C) unchanged."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image[:, :, None]
    if image.ndim != 3:
        raise ValueError(f"expected a 2-D or 3-D image, got shape {image.shape}")
    return image


def as_3x3(matrix) -> np.ndarray:
    """A (2, 3) or (3, 3) output->input matrix as a float64 (3, 3) matrix."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape == (2, 3):
        m = np.vstack([m, [0.0, 0.0, 1.0]])
    if m.shape != (3, 3):
        raise ValueError(f"expected a (2, 3) or (3, 3) matrix, got {m.shape}")
    return m


def random_image(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    """Uniformly random pixels over the dtype's full scale (float32: [0, 1))."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    if dtype == np.uint16:
        return rng.integers(0, 65536, size=shape, dtype=np.uint16)
    if dtype == np.float32:
        return rng.random(size=shape, dtype=np.float32)
    if dtype == np.float64:
        return rng.random(size=shape)
    raise ValueError(dtype)


# --------------------------------------------------------------------------- #
# stage 1: Pillow resize, one channel at a time
# --------------------------------------------------------------------------- #
def _pil_filter(name: str):
    from PIL import Image

    return {
        "nearest": Image.Resampling.NEAREST,
        "bilinear": Image.Resampling.BILINEAR,
        "bicubic": Image.Resampling.BICUBIC,
        "lanczos": Image.Resampling.LANCZOS,
        "box": Image.Resampling.BOX,
        "hamming": Image.Resampling.HAMMING,
    }[name]


def pillow_resize_channel(channel: np.ndarray, size_hw, resample: str) -> np.ndarray:
    """Resize one (H, W) channel with ``PIL.Image.resize``; same dtype out.

    uint8 -> mode 'L' (Pillow's 8-bit fixed-point path), uint16 -> mode 'I;16'
    (double accumulation, rounded and clipped to 0..65535 after each pass; for
    NEAREST mode 'I', see below), float32 -> mode 'F' (double accumulation,
    float32 between passes).
    """
    from PIL import Image

    channel = np.ascontiguousarray(channel)
    h, w = int(size_hw[0]), int(size_hw[1])
    if channel.dtype == np.uint8:
        im = Image.fromarray(channel, mode=None)
        assert im.mode == "L"
    elif channel.dtype == np.uint16 and resample == "nearest":
        # Pillow's 'I;16' NEAREST goes through its generic float transform and
        # picks other source pixels than every other mode ('L', 'I', 'F', 'RGB')
        # when a sample centre lands on a pixel boundary (e.g. 64 -> 7 rows);
        # nearest only copies values, so use the 32-bit path that agrees with the rest.
        im = Image.fromarray(channel.astype(np.int32))
        assert im.mode == "I", im.mode
    elif channel.dtype == np.uint16 and not pillow_can_resize_uint16():
        # Pillow before 11.0 cannot resize 'I;16' with a filter. Its 32-bit 'I'
        # resize has the same arithmetic (double sums, ROUND_UP) without the
        # 16-bit store, so do the passes one at a time, in those releases' order
        # (width first), clipping to 0..65535 after each as a 16-bit store does.
        out = channel.astype(np.int32)
        for size in ((w, out.shape[0]), (w, h)):
            if size != (out.shape[1], out.shape[0]):
                im = Image.fromarray(out)
                assert im.mode == "I", im.mode
                out = np.clip(np.asarray(im.resize(size, _pil_filter(resample))), 0, 65535).astype(np.int32)
        return out.astype(np.uint16)
    elif channel.dtype == np.uint16:
        im = Image.fromarray(channel)
        assert im.mode.startswith("I;16"), im.mode
    elif channel.dtype == np.float32:
        im = Image.fromarray(channel)
        assert im.mode == "F"
    else:
        raise TypeError(channel.dtype)
    out = np.asarray(im.resize((w, h), _pil_filter(resample)))
    assert out.shape == (h, w), out.shape
    return out.astype(channel.dtype, copy=False)


def pillow_can_resize_uint16() -> bool:
    """Whether the installed Pillow resizes 'I;16' images with filters (11.0 on)."""
    from pyimgaug.pillow_compat import pillow_can_resize_uint16 as can

    return can()


def pillow_resize(image: np.ndarray, size_hw, resample: str) -> np.ndarray:
    """Resize an (H, W, C) image channel by channel; returns (h, w, C), same dtype."""
    image = as_hwc(image)
    chans = [pillow_resize_channel(image[:, :, c], size_hw, resample) for c in range(image.shape[2])]
    return np.stack(chans, axis=-1)


# --------------------------------------------------------------------------- #
# stage 2: scipy inverse affine warp, one channel at a time, float64
# --------------------------------------------------------------------------- #
def scipy_warp(image: np.ndarray, matrix, output_size, order: int, fill_mode: str, cval: float) -> np.ndarray:
    """``scipy.ndimage.affine_transform`` per channel in float64 -> (h, w, C) float64."""
    from scipy import ndimage

    image = as_hwc(image)
    m = as_3x3(matrix)
    h, w = int(output_size[0]), int(output_size[1])
    out = np.empty((h, w, image.shape[2]), dtype=np.float64)
    for c in range(image.shape[2]):
        out[:, :, c] = ndimage.affine_transform(
            image[:, :, c].astype(np.float64),
            m[:2, :2],
            offset=m[:2, 2],
            output_shape=(h, w),
            order=order,
            mode=fill_mode,
            cval=cval,
            prefilter=False,
        )
    return out


def scipy_spline_warp(image: np.ndarray, matrix, output_size, order: int, fill_mode: str, cval: float) -> np.ndarray:
    """``scipy.ndimage.affine_transform`` per channel of the float64 image, with
    scipy's default ``prefilter=True`` (for orders 2-5: prepadding for "nearest",
    spline_filter with the mode), exactly as Keras calls it -> (h, w, C) float64."""
    from scipy import ndimage

    image = as_hwc(image)
    m = as_3x3(matrix)
    h, w = int(output_size[0]), int(output_size[1])
    out = np.empty((h, w, image.shape[2]), dtype=np.float64)
    for c in range(image.shape[2]):
        out[:, :, c] = ndimage.affine_transform(image[:, :, c].astype(np.float64), m[:2, :2], offset=m[:2, 2],
                                                output_shape=(h, w), order=order, mode=fill_mode, cval=cval)
    return out


# The kernel clamps source coordinates to +-2**40 (NaN to -2**40) before anything
# else (csrc/kernel/border.hpp); beyond that scipy's integer conversions overflow.
COORD_LIMIT = 2.0**40


def scipy_spline_at(image: np.ndarray, rr: np.ndarray, cc: np.ndarray, order: int, fill_mode: str,
                    cval: float) -> np.ndarray:
    """scipy's value at explicit source coordinates (``map_coordinates`` with
    ``prefilter=True``, the same transform as ``affine_transform``), after the
    kernel's documented clamp of the coordinates -> (h, w, C) float64."""
    from scipy import ndimage

    image = as_hwc(image)

    def clamp(x):
        x = np.where(np.isnan(x), -COORD_LIMIT, x)
        return np.clip(x, -COORD_LIMIT, COORD_LIMIT)

    with np.errstate(all="ignore"):
        coords = np.stack([clamp(rr).ravel(), clamp(cc).ravel()])
    out = np.empty(rr.shape + (image.shape[2],), dtype=np.float64)
    for c in range(image.shape[2]):
        out[..., c] = ndimage.map_coordinates(image[:, :, c].astype(np.float64), coords, order=order,
                                              mode=fill_mode, cval=cval).reshape(rr.shape)
    return out


def spline_tolerance(in_dtype, scale: float = 1.0) -> float:
    """``SPLINE_REL_TOL`` of full scale, in output units."""
    return SPLINE_REL_TOL * DATA_RANGE[np.dtype(in_dtype)] * abs(float(scale))


# --------------------------------------------------------------------------- #
# stage 3 and the whole pipeline
# --------------------------------------------------------------------------- #
def finish(values: np.ndarray, scale: float, offset: float, dtype: str) -> np.ndarray:
    """``values * scale + offset`` in float64, cast to ``dtype``.

    uint8 is rounded half away from zero and saturated; tests allow +-1 where the
    float value is within 1e-6 of a .5 tie (see ``uint8_tie_mask``), so the
    kernel's choice of tie rule does not matter.
    """
    v = np.asarray(values, dtype=np.float64) * float(scale) + float(offset)
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8)
    return v.astype(dtype)


def finish_float(values: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """Stage 3 before the cast, in float64."""
    return np.asarray(values, dtype=np.float64) * float(scale) + float(offset)


def reference_transform(
    image,
    matrix=None,
    *,
    output_size=None,
    resize_to=None,
    resample="lanczos",
    order=1,
    fill_mode="nearest",
    cval=0.0,
    scale=1.0,
    offset=0.0,
):
    """The whole call for ONE image, in float64, before the final cast.

    Returns ``(stage3_float64, stage1_image)``; stage1_image is the (possibly
    resized) input that stage 2 samples, in the input dtype.
    """
    image = as_hwc(np.asarray(image))
    src = image
    if resize_to is not None:
        src = pillow_resize(image, resize_to, resample)
    if matrix is not None:
        if output_size is None:
            output_size = src.shape[:2]
        values = scipy_warp(src, matrix, output_size, order, fill_mode, cval)
    else:
        values = src.astype(np.float64)
    return finish_float(values, scale, offset), src


# --------------------------------------------------------------------------- #
# where order-0 sampling / borders are ambiguous in floating point
# --------------------------------------------------------------------------- #
def source_coords(matrix, output_size):
    """Source (row, col) coordinates of every output pixel, float64, computed the
    way scipy's ``NI_GeometricTransform`` does: ``(shift + r*m0) + c*m1``."""
    m = as_3x3(matrix)
    h, w = int(output_size[0]), int(output_size[1])
    r = np.arange(h, dtype=np.float64)[:, None]
    c = np.arange(w, dtype=np.float64)[None, :]
    rr = (m[0, 2] + r * m[0, 0]) + c * m[0, 1]
    cc = (m[1, 2] + r * m[1, 0]) + c * m[1, 1]
    return rr, cc


def _border_points_near(x: np.ndarray, n: int, mode: str, eps: float) -> np.ndarray:
    """True where coordinate x (one axis, length n) is within eps of a point where
    scipy's result jumps for this mode, apart from order-0 rounding ties.

    Found by probing scipy.ndimage.map_coordinates (see the self-test):
    constant jumps at 0 and n-1 (no blending with cval); wrap (scipy's legacy
    period n-1) jumps at every multiple of n-1; nearest and reflect are
    continuous apart from rounding ties.
    """
    if mode == "constant":
        return (np.abs(x) < eps) | (np.abs(x - (n - 1)) < eps)
    if mode == "wrap" and n > 1:
        p = n - 1
        return np.abs(x - np.round(x / p) * p) < eps
    return np.zeros(x.shape, dtype=bool)


def _exactly_computed(t: float, m0: float, m1: float, r: int, c: int) -> bool:
    """True when r*m0, c*m1 and every partial sum of t, r*m0, c*m1 are exact in
    float64: then every evaluation order (and incremental stepping) gives the
    same, exact coordinate and there is nothing to be ambiguous about."""
    from fractions import Fraction as F

    p0, p1 = r * m0, c * m1
    if F(p0) != F(r) * F(m0) or F(p1) != F(c) * F(m1):
        return False
    for a, b in ((t, p0), (t, p1), (p0, p1)):
        if F(a + b) != F(a) + F(b):
            return False
    return F(t + p0 + p1) == F(t) + F(p0) + F(p1)


def critical_mask(
    matrix, input_hw, output_size, order: int, fill_mode: str, eps: float = CRITICAL_EPS, exempt_exact: bool = True
):
    """(h, w) bool mask of output pixels whose source coordinate lies within
    ``eps`` of an order-0 rounding tie (frac == 0.5) or of a border where scipy's
    result is discontinuous, and is not computed exactly (see
    ``_exactly_computed``). Only these pixels may differ from scipy."""
    m = as_3x3(matrix)
    rr, cc = source_coords(m, output_size)
    mask = np.zeros(rr.shape, dtype=bool)
    for axis, (x, n) in enumerate(((rr, int(input_hw[0])), (cc, int(input_hw[1])))):
        near = np.zeros(x.shape, dtype=bool)
        if order == 0 and n > 1:
            near |= np.abs((x - np.floor(x)) - 0.5) < eps
        near |= _border_points_near(x, n, fill_mode, eps)
        row = m[axis] * 1024.0
        if exempt_exact and np.all(row == np.round(row)) and np.all(np.abs(m[axis]) < 2.0**20) and max(rr.shape) < 2**20:
            # dyadic entries with <= 10 fraction bits: every product and sum with
            # integer coordinates is exact, so no pixel of this axis is ambiguous
            continue
        for r, c in zip(*np.nonzero(near)) if exempt_exact else ():
            if _exactly_computed(m[axis, 2], m[axis, 0], m[axis, 1], int(r), int(c)):
                near[r, c] = False
        mask |= near
    return mask


def is_exact_matrix(matrix, max_coord: int = 1 << 20) -> bool:
    """True when every entry is a multiple of 1/1024 with magnitude < 2**20, so that
    all products and sums with integer pixel coordinates below ``max_coord`` are
    exact in float64 in any order: no pixel needs excluding."""
    m = as_3x3(matrix)
    scaled = m * 1024.0
    return bool(np.all(scaled == np.round(scaled)) and np.all(np.abs(m) < (1 << 20)) and max_coord <= (1 << 20))


def uint8_tie_mask(float_values: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Where a float value (after scale/offset) is within eps of an x.5 tie, a uint8
    cast may round either way: the tests allow +-1 there, and only there."""
    v = np.asarray(float_values, dtype=np.float64)
    return np.abs((v - np.floor(v)) - 0.5) < eps


# --------------------------------------------------------------------------- #
# matrices (output (row, col) -> input (row, col))
# --------------------------------------------------------------------------- #
def centered_affine(in_hw, out_hw, *, angle=0.0, shear=0.0, zoom=(1.0, 1.0), shift=(0.0, 0.0), flip=(False, False)):
    """An output->input matrix: about the image centres, rotate by ``angle``
    (radians), shear, zoom (>1 samples a larger input area), flip, then shift the
    source by ``shift`` pixels."""
    ci = np.array([(in_hw[0] - 1) / 2.0, (in_hw[1] - 1) / 2.0])
    co = np.array([(out_hw[0] - 1) / 2.0, (out_hw[1] - 1) / 2.0])
    ca, sa = math.cos(angle), math.sin(angle)
    rot = np.array([[ca, -sa], [sa, ca]])
    sh = np.array([[1.0, math.tan(shear)], [0.0, 1.0]])
    zm = np.diag([float(zoom[0]), float(zoom[1])])
    fl = np.diag([-1.0 if flip[0] else 1.0, -1.0 if flip[1] else 1.0])
    a = rot @ sh @ zm @ fl
    t = ci + np.asarray(shift, dtype=np.float64) - a @ co
    m = np.eye(3)
    m[:2, :2] = a
    m[:2, 2] = t
    return m


def random_affine(rng: np.random.Generator, in_hw, out_hw) -> np.ndarray:
    """A random rotation/shear/zoom/shift/flip matrix of moderate size."""
    return centered_affine(
        in_hw,
        out_hw,
        angle=float(rng.uniform(-math.pi, math.pi)),
        shear=float(rng.uniform(-0.4, 0.4)),
        zoom=(float(rng.uniform(0.6, 1.6)), float(rng.uniform(0.6, 1.6))),
        shift=(float(rng.uniform(-0.3, 0.3) * in_hw[0]), float(rng.uniform(-0.3, 0.3) * in_hw[1])),
        flip=(bool(rng.integers(2)), bool(rng.integers(2))),
    )


def integer_shift(dy: int, dx: int) -> np.ndarray:
    """out[r, c] = in[r + dy, c + dx]."""
    return np.array([[1.0, 0.0, float(dy)], [0.0, 1.0, float(dx)], [0.0, 0.0, 1.0]])


def corner_stretch(in_hw, out_hw) -> np.ndarray:
    """Maps output corners onto input corners: the last output row/col lands on
    input row H-1 / col W-1 up to floating-point error (a border case)."""
    sy = (in_hw[0] - 1) / (out_hw[0] - 1) if out_hw[0] > 1 else 0.0
    sx = (in_hw[1] - 1) / (out_hw[1] - 1) if out_hw[1] > 1 else 0.0
    return np.array([[sy, 0.0, 0.0], [0.0, sx, 0.0], [0.0, 0.0, 1.0]])


def rot90_matrix(k: int, in_hw) -> tuple[np.ndarray, tuple[int, int]]:
    """Matrix and output size such that the warp equals ``np.rot90(img, k)``."""
    H, W = int(in_hw[0]), int(in_hw[1])
    k %= 4
    if k == 0:
        return np.eye(3), (H, W)
    if k == 1:  # out[i, j] = in[j, W-1-i], out shape (W, H)
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, W - 1.0], [0.0, 0.0, 1.0]]), (W, H)
    if k == 2:  # out[i, j] = in[H-1-i, W-1-j]
        return np.array([[-1.0, 0.0, H - 1.0], [0.0, -1.0, W - 1.0], [0.0, 0.0, 1.0]]), (H, W)
    # k == 3: out[i, j] = in[H-1-j, i], out shape (W, H)
    return np.array([[0.0, -1.0, H - 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), (W, H)


def flip_matrix(axis: int, in_hw) -> np.ndarray:
    """Matrix whose warp equals ``np.flip(img, axis)`` (axis 0: rows, 1: cols)."""
    m = np.eye(3)
    m[axis, axis] = -1.0
    m[axis, 2] = in_hw[axis] - 1.0
    return m


def matrix_zoo(rng: np.random.Generator, in_hw, out_hw, n: int) -> list[np.ndarray]:
    """``n`` matrices cycling through the interesting families: random affine,
    pure rotations, integer shifts that put samples exactly on rows/cols 0 and
    H-1 (and beyond), flips, half-pixel shifts (order-0 ties), corner stretches."""
    H, W = int(in_hw[0]), int(in_hw[1])
    out = []
    for i in range(n):
        kind = i % 7
        if kind == 0:
            m = random_affine(rng, in_hw, out_hw)
        elif kind == 1:
            m = centered_affine(in_hw, out_hw, angle=float(rng.uniform(-0.5, 0.5)))
        elif kind == 2:  # integer shift, exact: hits row 0 / H-1 and the outside
            m = integer_shift(int(rng.integers(-H, H + 1)), int(rng.integers(-W, W + 1)))
        elif kind == 3:  # flips (exact)
            m = flip_matrix(int(rng.integers(2)), in_hw)
            if rng.integers(2):
                m = m @ flip_matrix(1 - int(np.argmin(np.diag(m)[:2])), in_hw)
        elif kind == 4:  # exact half-pixel shifts: every order-0 sample is a tie
            m = integer_shift(int(rng.integers(-2, 3)), int(rng.integers(-2, 3)))
            m[0, 2] += 0.5
            m[1, 2] -= 0.5
        elif kind == 5:
            m = corner_stretch(in_hw, out_hw)
        else:  # shear + zoom with a fractional shift
            m = centered_affine(
                in_hw,
                out_hw,
                shear=float(rng.uniform(-0.6, 0.6)),
                zoom=(float(rng.uniform(0.3, 2.5)), float(rng.uniform(0.3, 2.5))),
                shift=(float(rng.normal() * 3), float(rng.normal() * 3)),
            )
        out.append(m)
    return out


# --------------------------------------------------------------------------- #
# comparison with precise failure reports
# --------------------------------------------------------------------------- #
def compare_image(got, ref_float, out_dtype, *, float_tol=0.0, exclude=None, tie_band=1e-6, label=""):
    """Compare one (h, w, C) kernel result with the float64 stage-3 reference.

    * float32/float64 output: |got - float(ref)| <= float_tol + 2 ulp of the
      output dtype (the ulp term covers the final cast only);
    * uint8 output: exact against ``finish(ref, 1, 0, 'uint8')``, except +-1
      where ref is within ``max(tie_band, float_tol)`` of an x.5 tie.

    ``exclude`` is an (h, w) mask of pixels that are not checked (see
    ``critical_mask``). Returns a dict of counts; raises AssertionError listing
    the worst offending pixels (position, reference value, expected, got).
    """
    got = np.asarray(got)
    ref = np.asarray(ref_float, dtype=np.float64)
    out_dtype = np.dtype(out_dtype)
    assert got.dtype == out_dtype, f"{label}: dtype {got.dtype} != {out_dtype}"
    assert got.shape == ref.shape, f"{label}: shape {got.shape} != {ref.shape}"
    skip = np.zeros(ref.shape, dtype=bool)
    if exclude is not None:
        skip |= np.asarray(exclude, dtype=bool)[:, :, None]
    if out_dtype == np.uint8:
        expected = finish(ref, 1.0, 0.0, "uint8")
        diff = np.abs(got.astype(np.int64) - expected.astype(np.int64)).astype(np.float64)
        allowed = np.where(uint8_tie_mask(ref, max(tie_band, float_tol)), 1.0, 0.0)
    else:
        expected = ref.astype(out_dtype)
        diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
        allowed = float_tol + 2.0 * np.spacing(np.abs(expected)).astype(np.float64)
    bad = (diff > allowed) & ~skip
    if bad.any():
        idx = np.argwhere(bad)
        order = np.argsort(-diff[bad], kind="stable")[:6]
        lines = [
            f"  (row {r}, col {c}, ch {k}): reference {ref[r, c, k]!r} -> expected {expected[r, c, k]!r}, "
            f"got {got[r, c, k]!r} (|diff| {diff[r, c, k]:.3g} > allowed {allowed[r, c, k]:.3g})"
            for r, c, k in idx[order]
        ]
        raise AssertionError(
            f"{label}: {int(bad.sum())} of {bad.size} samples differ from the reference "
            f"(max |diff| {diff[bad].max():.4g}); worst:\n" + "\n".join(lines)
        )
    return {
        "samples": int(ref.size),
        "excluded": int(skip.sum()),
        "exact": int(((diff == 0) & ~skip).sum()),
    }


def order1_tolerance(in_dtype, scale: float) -> float:
    """The issue's order-1 bound (0.01 on a 0..255 scale) in output units."""
    return ORDER1_REL_TOL * DATA_RANGE[np.dtype(in_dtype)] * abs(float(scale))
