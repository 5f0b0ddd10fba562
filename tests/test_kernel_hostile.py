"""``pyimgaug.transform_batch`` under hostile input.

The contract: every call either raises a clean Python exception (TypeError or
ValueError naming the offending argument) or returns a correct result; none
crashes, hangs, reads or writes out of bounds, or returns silent garbage.

* Two property tests (hypothesis, derandomized): one feeds valid but hostile
  inputs (odd memory layouts, 1-pixel images, huge/tiny/singular matrices,
  coordinates that overflow, extreme cvals) and compares every pixel with the
  slow scipy/Pillow reference (tests/kernel_reference.py); the other corrupts
  0-2 arguments of such a call and requires a TypeError/ValueError naming one of
  the corrupted arguments, or (nothing corrupted) the correct result.
* Images and ``out`` are placed against PROT_NONE guard pages, so a read or
  write one byte past either end of a buffer crashes the test instead of passing
  unnoticed (this also covers the AVX2 gathers, which AddressSanitizer cannot see).
* Explicit cases for strides, aliasing, alignment, sizes and scalars; a fork test
  (OpenMP's thread pool must not hang a forked child).

Run the whole file under AddressSanitizer + UBSan with scripts/sanitize.sh.
"""

from __future__ import annotations

import ctypes
import math
import mmap
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest

import pyimgaug
from pyimgaug import transform_batch

try:  # the property tests need hypothesis; the explicit cases below do not
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    HAVE_HYPOTHESIS = True
except ImportError:  # pragma: no cover - exercised only without the test extra
    HAVE_HYPOTHESIS = False

import kernel_reference as kr

HUGE_COORD = 2.0**30
# Examples per property test; more on demand (PYIMGAUG_HOSTILE_EXAMPLES=2000).
MAX_EXAMPLES = int(os.environ.get("PYIMGAUG_HOSTILE_EXAMPLES", "300"))


def _need_scipy():
    return pytest.importorskip("scipy.ndimage", reason="the warp reference is scipy.ndimage")


# --------------------------------------------------------------------------- #
# buffers against guard pages
# --------------------------------------------------------------------------- #
_PAGE = mmap.PAGESIZE
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
if _LIBC is not None:
    _LIBC.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    _LIBC.mprotect.restype = ctypes.c_int


def guarded_bytes(nbytes: int, tight_end: bool = True, misalign: int = 0) -> np.ndarray:
    """A writable uint8 array of ``nbytes`` with an inaccessible page right after
    its last byte (``tight_end``) or right before its first byte, so that the
    kernel touching one byte outside it is a segfault, not a silent pass.
    ``misalign`` shifts the start by that many bytes (away from the tight edge).
    The mapping is freed when the last view of it dies."""
    nbytes = max(int(nbytes), 1)
    if _LIBC is None:
        return np.zeros(nbytes + misalign, np.uint8)[misalign:]
    body = -(-(nbytes + misalign) // _PAGE) * _PAGE
    mm = mmap.mmap(-1, body + 2 * _PAGE)
    whole = np.frombuffer(mm, dtype=np.uint8)
    base = whole.ctypes.data
    for page in (base, base + _PAGE + body):
        if _LIBC.mprotect(page, _PAGE, 0) != 0:  # PROT_NONE
            raise OSError(ctypes.get_errno(), "mprotect failed")
    start = _PAGE + body - nbytes - misalign if tight_end else _PAGE + misalign
    return whole[start : start + nbytes]


def guarded_array(values: np.ndarray, *, tight_end: bool = True, misalign: int = 0, row_pad: int = 0,
                  negative_rows: bool = False, pixel_pad: int = 0) -> np.ndarray:
    """A copy of the (H, W, C) ``values`` in guarded memory. ``row_pad`` extra bytes
    between rows (any count, so rows may be misaligned); ``negative_rows`` stores
    the rows bottom-up and returns a view with a negative row stride; ``pixel_pad``
    extra bytes after each pixel but the last (the RGB of RGBX pixels, with the
    guard page right after the last pixel's last sample)."""
    values = np.asarray(values)
    h, w, c = values.shape
    item = values.dtype.itemsize
    pixel = c * item + pixel_pad
    row = w * pixel + row_pad
    nbytes = (h - 1) * row + (w - 1) * pixel + c * item
    buf = guarded_bytes(nbytes, tight_end=tight_end, misalign=misalign)
    if negative_rows:
        offset = (h - 1) * row
        view = np.ndarray((h, w, c), values.dtype, buffer=buf, offset=offset, strides=(-row, pixel, item))
    else:
        view = np.ndarray((h, w, c), values.dtype, buffer=buf, offset=0, strides=(row, pixel, item))
    view[...] = values
    return view


def guarded_out(shape, dtype, *, tight_end: bool = True) -> np.ndarray:
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buf = guarded_bytes(nbytes, tight_end=tight_end)
    out = np.ndarray(tuple(shape), dtype, buffer=buf)
    out[...] = np.array(77, dtype=dtype)  # stale contents must be overwritten
    return out


def _protection(addr: int) -> str:
    """The permissions of the mapping holding ``addr`` ('---p' for a guard page)."""
    with open("/proc/self/maps") as f:
        for line in f:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo <= addr < hi:
                return line.split()[1]
    return "unmapped"


@pytest.mark.skipif(_LIBC is None or not os.path.exists("/proc/self/maps"), reason="guard pages need Linux")
def test_guard_pages_are_in_place():
    """The buffers below really sit against inaccessible pages (else the layouts
    would prove nothing about out-of-bounds access)."""
    for n in (1, 7, _PAGE, _PAGE + 3):
        a = guarded_bytes(n)
        assert a.size == n and _protection(a.ctypes.data + n).startswith("---")
        assert _protection(a.ctypes.data + n - 1).startswith("rw")
        b = guarded_bytes(n, tight_end=False)
        assert _protection(b.ctypes.data - 1).startswith("---")
        assert _protection(b.ctypes.data).startswith("rw")
    v = guarded_array(np.ones((3, 4, 3), np.float32), negative_rows=True)
    assert v.strides[0] < 0 and (v == 1).all()
    end = v[0:1].ctypes.data + v[0:1].nbytes  # row 0 is last in memory
    assert _protection(end).startswith("---")


# Memory layouts of one (H, W, C) image. Values never change: each layout is a
# different view of the same pixels (views whose pixels go backwards or whose
# samples are apart are copied by the Python layer; the kernel reads the others in
# place, packing pixels further apart than their samples itself where a loop needs it).
LAYOUTS = (
    "guard_end", "guard_start", "row_pad", "row_pad_odd", "negative_rows", "row_step", "col_step",
    "negative_cols", "transposed", "fortran", "readonly", "overlapping_rows", "broadcast_rows", "two_d",
    "wide_pixels", "wide_pixels_negative_rows",
)


def make_layout(values: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """(view to pass to the kernel, the logical (H, W, C) pixels it shows)."""
    h, w, c = values.shape
    if layout == "guard_end":
        v = guarded_array(values)
    elif layout == "guard_start":
        v = guarded_array(values, tight_end=False)
    elif layout == "row_pad":
        v = guarded_array(values, row_pad=values.dtype.itemsize * 3)
    elif layout == "row_pad_odd":
        # Rows a whole number of samples apart, but not a multiple of the pixel size.
        v = guarded_array(values, row_pad=values.dtype.itemsize * (1 if c > 1 else 0))
    elif layout == "negative_rows":
        v = guarded_array(values, negative_rows=True)
    elif layout == "wide_pixels":
        v = guarded_array(values, pixel_pad=values.dtype.itemsize)
    elif layout == "wide_pixels_negative_rows":
        v = guarded_array(values, pixel_pad=values.dtype.itemsize * 2, negative_rows=True)
    elif layout == "row_step":
        parent = np.zeros((2 * h, w, c), values.dtype)
        parent[::2] = values
        v = parent[::2]
    elif layout == "col_step":
        parent = np.zeros((h, 3 * w, c), values.dtype)
        parent[:, ::3] = values
        v = parent[:, ::3]
    elif layout == "negative_cols":
        v = np.ascontiguousarray(values[:, ::-1])[:, ::-1]
    elif layout == "transposed":
        v = np.ascontiguousarray(values.transpose(1, 0, 2)).transpose(1, 0, 2)
    elif layout == "fortran":
        v = np.asfortranarray(values)
    elif layout == "readonly":
        v = guarded_array(values)
        v.flags.writeable = False
    elif layout == "overlapping_rows":
        # Row r starts one pixel after row r-1: rows share memory (a sliding window).
        flat = guarded_array(np.ascontiguousarray(values[0:1]).reshape(1, w, c) if h == 1 else
                             np.concatenate([values[:, 0], values[-1, 1:]], axis=0).reshape(1, h + w - 1, c))
        item = values.dtype.itemsize
        v = np.lib.stride_tricks.as_strided(flat, shape=(h, w, c), strides=(c * item, c * item, item),
                                            writeable=False)
    elif layout == "broadcast_rows":
        v = np.broadcast_to(guarded_array(values[:1]), (h, w, c))
    elif layout == "two_d":
        if c != 1:
            return make_layout(values, "guard_end")
        v = guarded_array(values)[:, :, 0]
    else:
        raise ValueError(layout)
    return v, np.array(kr.as_hwc(v))


def _run_python(code: str, env=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter that imports the same pyimgaug as this
    process (its parent directory goes first on PYTHONPATH; the working directory
    is neutral, so a source checkout cannot shadow an installed build)."""
    env = dict(os.environ if env is None else env)
    here = os.path.dirname(os.path.dirname(os.path.abspath(pyimgaug.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([here] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=tempfile.gettempdir(), capture_output=True,
                          text=True, timeout=timeout)


def _excerpt(text: str, head: int = 2500, tail: int = 1500) -> str:
    """Start (where a sanitizer names the error) and end (the Python traceback)."""
    return text if len(text) <= head + tail else text[:head] + "\n[...]\n" + text[-tail:]


# --------------------------------------------------------------------------- #
# the correctness oracle
# --------------------------------------------------------------------------- #
def _warp_reference(src, m, out_hw, order, mode, cval):
    """scipy's result at every output pixel whose source coordinate is finite and
    within 2**30, plus a mask of the others (``huge``).

    For |coordinate| > 2**30 (or inf/NaN from overflowing products) scipy converts
    the coordinate to an integer with undefined behaviour, so there is no reference
    value; there we only require a finite value in [min(image, cval), max(image,
    cval)] -- every order-0/1 sample in every mode is a convex combination of image
    values and cval (checked by the caller).
    """
    from scipy import ndimage

    with np.errstate(all="ignore"):
        rr, cc = kr.source_coords(m, out_hw)
        huge = ~(np.isfinite(rr) & np.isfinite(cc)) | (np.abs(rr) > HUGE_COORD) | (np.abs(cc) > HUGE_COORD)
    if not huge.any():
        return kr.scipy_warp(src, m, out_hw, order, mode, cval), huge
    ref = np.full(tuple(out_hw) + (src.shape[2],), np.nan)
    if (~huge).any():
        coords = np.stack([rr[~huge], cc[~huge]])
        for ch in range(src.shape[2]):
            ref[~huge, ch] = ndimage.map_coordinates(src[:, :, ch].astype(np.float64), coords, order=order,
                                                     mode=mode, cval=cval, prefilter=False)
    return ref, huge


def check_result(got, logical_images, matrices, *, output_size, resize_to, resample, order, fill_mode, cval,
                 scale, offset, dtype, **_ignored):
    """Compare a batch result with the reference, image by image."""
    _need_scipy()
    out_dtype = np.dtype(dtype)
    n = len(logical_images)
    in_dtype = logical_images[0].dtype
    assert isinstance(got, np.ndarray) and got.dtype == out_dtype and got.ndim == 4 and got.shape[0] == n
    if out_dtype.kind == "f":
        assert np.isfinite(got).all(), "non-finite output from finite input"
    if matrices is not None and order >= 2:
        float_tol = kr.spline_tolerance(in_dtype, scale) + 4 * np.finfo(np.float32).eps * abs(offset)
    elif matrices is not None and order == 1:
        float_tol = kr.order1_tolerance(in_dtype, scale)
    elif scale == 1.0 and offset == 0.0:
        float_tol = 0.0
    else:
        float_tol = 4 * np.finfo(np.float32).eps * (abs(scale) * kr.DATA_RANGE[in_dtype] * 1.5 + abs(offset))
    if resize_to is not None and not (matrices is not None and order >= 2):
        # the issue's +-1 resize bound (test_kernel_resize.py checks exactness)
        float_tol += (1.0 if in_dtype.kind == "u" else 2e-5) * abs(scale)
    tie_band = max(1e-6, float_tol)
    for i, img in enumerate(logical_images):
        if matrices is not None and order >= 2:
            # Spline orders: scipy at every pixel (prefilter=True), at the kernel's
            # clamped coordinates, on the kernel's own stage 1 (stage 1 against
            # Pillow is checked by the order 0/1 cases and test_kernel_resize.py).
            src = img
            if resize_to is not None:
                src = transform_batch([img], resize_to=resize_to, resample=resample, dtype="float64")[0]
            with np.errstate(all="ignore"):
                rr, cc = kr.source_coords(kr.as_3x3(matrices[i]), output_size)
            ref = kr.finish_float(kr.scipy_spline_at(src, rr, cc, order, fill_mode, cval), scale, offset)
            kr.compare_image(got[i], ref, out_dtype, float_tol=float_tol, tie_band=tie_band, label=f"image {i}")
            continue
        src = kr.pillow_resize(img, resize_to, resample) if resize_to is not None else img
        if matrices is None:
            values, huge, mask = src.astype(np.float64), np.zeros(src.shape[:2], bool), None
        else:
            m = kr.as_3x3(matrices[i])
            values, huge = _warp_reference(src, m, output_size, order, fill_mode, cval)
            with np.errstate(all="ignore"):
                mask = kr.critical_mask(m, src.shape[:2], output_size, order, fill_mode)
        ref = kr.finish_float(values, scale, offset)
        exclude = huge if mask is None else (mask | huge)
        ref = np.where(huge[:, :, None], 0.0, ref)
        kr.compare_image(got[i], ref, out_dtype, float_tol=float_tol, tie_band=tie_band, exclude=exclude,
                         label=f"image {i}")
        if huge.any():
            lo = min(float(src.min()), cval) if fill_mode == "constant" else float(src.min())
            hi = max(float(src.max()), cval) if fill_mode == "constant" else float(src.max())
            if fill_mode != "constant":  # cval may be sampled nowhere; allow it anyway (looser)
                lo, hi = min(lo, cval), max(hi, cval)
            a, b = lo * scale + offset, hi * scale + offset
            lo3, hi3 = min(a, b), max(a, b)
            g = got[i][huge].astype(np.float64)
            if out_dtype == np.uint8:
                lo3, hi3 = float(kr.finish(lo3, 1, 0, "uint8")), float(kr.finish(hi3, 1, 0, "uint8"))
                slack = 0.0
            else:
                slack = float_tol + 4 * np.finfo(out_dtype).eps * max(abs(lo3), abs(hi3), 1e-30)
            assert np.isfinite(g).all(), f"image {i}: non-finite value at a huge coordinate"
            assert (g >= lo3 - slack).all() and (g <= hi3 + slack).all(), (
                f"image {i}: values at huge coordinates outside [{lo3}, {hi3}]: {g.min()}..{g.max()}")


# --------------------------------------------------------------------------- #
# strategies
# --------------------------------------------------------------------------- #
if HAVE_HYPOTHESIS:
    small = st.integers(1, 12)
    sizes = st.tuples(small, small)
    finite = st.floats(allow_nan=False, allow_infinity=False)
    edge_coords = st.sampled_from([
        2.0**30 - 1.5, 2.0**30 - 0.5, 2.0**30 + 0.5, 2.0**31 - 0.5, 2.0**31, 2.0**31 + 1, 2.0**32, 2.0**40,
        2.0**53, 2.0**63, 2.0**64, 1e300, 1.7e308,
    ])

    @st.composite
    def hostile_matrix(draw, in_hw, out_hw):
        kind = draw(st.sampled_from(["affine", "shift", "tiny", "singular", "rank1", "huge", "overflow",
                                     "edge", "arbitrary"]))
        m = np.eye(3)
        if kind == "affine":
            m = kr.centered_affine(in_hw, out_hw, angle=draw(st.floats(-math.pi, math.pi)),
                                   shear=draw(st.floats(-0.6, 0.6)),
                                   zoom=(draw(st.floats(0.2, 4.0)), draw(st.floats(0.2, 4.0))),
                                   shift=(draw(st.floats(-2, 2)) * in_hw[0], draw(st.floats(-2, 2)) * in_hw[1]),
                                   flip=(draw(st.booleans()), draw(st.booleans())))
        elif kind == "shift":
            m[0, 2] = draw(st.integers(-10**4, 10**4)) + draw(st.sampled_from([0.0, 0.5, -0.5, 0.25]))
            m[1, 2] = draw(st.integers(-10**4, 10**4)) + draw(st.sampled_from([0.0, 0.5, -0.5, 0.25]))
        elif kind == "tiny":
            tiny = st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e-300, 2.2e-308, 1e-17])
            m[:2, :2] = [[draw(tiny), draw(tiny)], [draw(tiny), draw(tiny)]]
            m[:2, 2] = [draw(st.floats(-2, in_hw[0] + 1)), draw(st.floats(-2, in_hw[1] + 1))]
        elif kind == "singular":
            m[:2, :2] = 0.0
            m[:2, 2] = [draw(st.floats(-3 * in_hw[0], 3 * in_hw[0])), draw(st.floats(-3 * in_hw[1], 3 * in_hw[1]))]
        elif kind == "rank1":
            a, b, k = draw(st.floats(-3, 3)), draw(st.floats(-3, 3)), draw(st.floats(-2, 2))
            m[:2, :2] = [[a, b], [k * a, k * b]]
            m[:2, 2] = [draw(st.floats(-5, 5)), draw(st.floats(-5, 5))]
        elif kind == "huge":
            big = st.floats(1e6, 1e300) | st.floats(-1e300, -1e6)
            for r in range(2):
                for c in range(3):
                    if draw(st.booleans()):
                        m[r, c] = draw(big)
        elif kind == "overflow":  # products overflow to +-inf, sums of infinities are NaN
            s = draw(st.sampled_from([1e308, 1.7e308, -1.7e308]))
            m[:2, :] = [[s, -s, draw(st.sampled_from([0.0, s]))], [-s, s, draw(st.sampled_from([0.0, -s]))]]
        elif kind == "edge":  # coordinates right around the int32 / int64 limits
            m[0, 2] = draw(edge_coords) * draw(st.sampled_from([1, -1]))
            m[1, 2] = draw(st.one_of(edge_coords, st.floats(-3, 3))) * draw(st.sampled_from([1, -1]))
            m[0, 0], m[1, 1] = draw(st.sampled_from([0.0, 1.0, -1.0])), draw(st.sampled_from([0.0, 1.0, -1.0]))
        else:
            for r in range(2):
                for c in range(3):
                    m[r, c] = draw(finite)
        return m

    @st.composite
    def valid_calls(draw):
        """A valid transform_batch call on hostile layouts and matrices, with the
        logical images and arguments the reference needs."""
        in_dtype = np.dtype(draw(st.sampled_from(kr.WARP_IN_DTYPES)))
        channels = draw(st.sampled_from([1, 3, 4]))
        n = draw(st.integers(1, 3))
        same = draw(st.booleans())
        in_sizes = [draw(sizes)] * n if same else [draw(sizes) for _ in range(n)]
        resize_to = draw(st.one_of(st.none(), sizes)) if draw(st.booleans()) else None
        if in_dtype == np.float64:
            resize_to = None  # refused for float64 (Pillow has no float64 mode): test_kernel_spline.py
        warp = draw(st.booleans()) or (resize_to is None and not same)
        stage1 = [resize_to or hw for hw in in_sizes]
        out_hw = (draw(small), draw(st.integers(1, 20))) if warp else stage1[0]
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        logical, passed = [], []
        for hw in in_sizes:
            values = kr.random_image(rng, hw + (channels,), in_dtype)
            layout = draw(st.sampled_from(LAYOUTS))
            view, pixels = make_layout(values, layout)
            passed.append(view)
            logical.append(pixels)
        mats = np.stack([draw(hostile_matrix(hw, out_hw)) for hw in stage1]) if warp else None
        if mats is not None and draw(st.booleans()):
            mats_passed = mats[:, :2] if draw(st.booleans()) else mats.copy()
        else:
            mats_passed = mats
        full = kr.DATA_RANGE[in_dtype]
        out_dtype = draw(st.sampled_from(kr.OUT_DTYPES))
        kwargs = dict(
            output_size=out_hw if warp else None,
            resize_to=resize_to,
            resample=draw(st.sampled_from(kr.RESAMPLE_FILTERS)),
            order=draw(st.sampled_from([0, 1, 0, 1, 2, 3, 4, 5])),
            fill_mode=draw(st.sampled_from(kr.FILL_MODES)),
            cval=draw(st.one_of(st.floats(-0.5, 1.5).map(lambda v: v * full),
                                st.sampled_from([0.0, -0.0, 1e30, -1e30, 5e-324])))
            if draw(st.booleans()) else 0.0,
            scale=draw(st.sampled_from([1.0, 1.0 / full, -2.0 / full, 0.7, 0.0, 1e-30])),
            offset=draw(st.sampled_from([0.0, -0.5, 3.25, -1e4])),
            dtype=out_dtype,
            num_threads=draw(st.sampled_from([None, 1, 2, 3, 64])),
        )
        if kwargs["dtype"] == "uint8" and abs(kwargs["cval"]) > 1e6:
            kwargs["cval"] = 0.0
        if draw(st.booleans()):
            kwargs["out"] = guarded_out((n,) + tuple(out_hw) + (channels,), out_dtype,
                                        tight_end=draw(st.booleans()))
        as_array = same and draw(st.booleans())
        if as_array:  # one (N, H, W, C) array, itself in a hostile layout
            stacked = np.stack([kr.as_hwc(v) for v in passed])
            batch_layout = draw(st.sampled_from(["plain", "reversed", "step", "guarded"]))
            if batch_layout == "reversed":
                batch = np.ascontiguousarray(stacked[::-1])[::-1]
            elif batch_layout == "step":
                parent = np.zeros((2 * n,) + stacked.shape[1:], stacked.dtype)
                parent[1::2] = stacked
                batch = parent[1::2]
            elif batch_layout == "guarded":
                buf = guarded_bytes(stacked.nbytes, tight_end=draw(st.booleans()))
                batch = np.ndarray(stacked.shape, stacked.dtype, buffer=buf)
                batch[...] = stacked
            else:
                batch = stacked
        else:
            batch = tuple(passed) if draw(st.booleans()) else list(passed)
        return batch, logical, mats_passed, mats, kwargs

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(call=valid_calls())
    def test_valid_hostile_inputs_match_the_reference(call):
        """Accepted inputs give scipy's / Pillow's result, whatever their layout and matrices."""
        _need_scipy()
        batch, logical, mats_passed, mats, kwargs = call
        got = transform_batch(batch, mats_passed, **kwargs)
        if "out" in kwargs:
            assert got is kwargs["out"], "out= given: the result must be written into it"
        check_result(got, logical, mats, **kwargs)

    # ----------------------------------------------------------------------- #
    # corrupted arguments
    # ----------------------------------------------------------------------- #
    BAD_IMAGES = [
        lambda rng: [np.zeros((0, 4, 3), np.uint8)],
        lambda rng: [np.zeros((4, 0), np.float32)],
        lambda rng: np.zeros((2, 0, 4, 3), np.uint8),
        lambda rng: np.zeros((2, 3, 0, 1), np.uint16),
        lambda rng: [np.zeros((4, 4, 0), np.uint8)],
        lambda rng: np.array(3, np.uint8),
        lambda rng: np.zeros(5, np.uint8),
        lambda rng: np.zeros((1, 2, 3, 4, 1), np.uint8),
        lambda rng: [np.array(3, np.uint8)],
        lambda rng: [np.zeros(5, np.uint8)],
        lambda rng: [np.zeros((2, 3, 4, 1), np.uint8)],
        lambda rng: np.zeros((2, 4, 4, 3), object),
        lambda rng: np.zeros((2, 4, 4, 3), bool),
        lambda rng: np.zeros((2, 4, 4, 3), np.int64),
        lambda rng: np.zeros((2, 4, 4, 3), np.float16),
        lambda rng: np.zeros((2, 4, 4, 3), np.uint32),
        lambda rng: np.zeros((2, 4, 4, 3), np.complex64),
        lambda rng: np.zeros((2, 4, 4, 3), np.int8),
        lambda rng: np.zeros((2, 4, 4, 1), ">u2"),
        lambda rng: np.zeros((2, 4, 4, 1), ">f4"),
        lambda rng: [np.zeros((4, 4), np.int64)],
        lambda rng: [np.zeros((4, 4, 3), object)],
        lambda rng: [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.float32)],
        lambda rng: [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 1), np.uint8)],
        lambda rng: [np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8)],
        lambda rng: [np.zeros((4, 4, 3), np.uint8), "image"],
        lambda rng: [np.zeros((4, 4, 3), np.uint8), None],
        lambda rng: [[[1, 2], [3, 4]]],
        lambda rng: np.zeros((2, 4, 4, 2), np.uint8),
        lambda rng: np.zeros((2, 4, 4, 5), np.uint8),
        lambda rng: [np.zeros((4, 4, 2), np.float32)],
        lambda rng: "images",
        lambda rng: b"\x00" * 16,
        lambda rng: None,
        lambda rng: 3.5,
        lambda rng: {"a": np.zeros((4, 4), np.uint8)},
        lambda rng: (np.zeros((4, 4), np.uint8) for _ in range(2)),
    ]
    BAD_MATRICES = [
        lambda n: np.full((n, 3, 3), np.nan),
        lambda n: np.where(np.arange(n * 9).reshape(n, 3, 3) == 4, np.inf, np.eye(3)[None].repeat(n, 0)),
        lambda n: np.where(np.arange(n * 9).reshape(n, 3, 3) == 2, -np.inf, np.eye(3)[None].repeat(n, 0)),
        lambda n: np.where(np.arange(n * 6).reshape(n, 2, 3) == 5, np.nan, np.eye(3)[None, :2].repeat(n, 0)),
        lambda n: np.eye(3)[None].repeat(n, 0).astype(np.longdouble) * np.longdouble("1e400")
        if np.finfo(np.longdouble).max > 1e308 else np.full((n, 3, 3), np.inf),
        lambda n: np.zeros((n, 2, 2)),
        lambda n: np.zeros((n + 1, 3, 3)),
        lambda n: np.zeros((n, 4, 3)),
        lambda n: np.zeros((n, 3)),
        lambda n: np.eye(3),
        lambda n: np.zeros((n, 3, 3), object),
        lambda n: np.zeros((n, 3, 3), complex),
        lambda n: np.zeros((n, 3, 3), bool),
        lambda n: np.full((n, 3, 3), "1"),
        lambda n: "eye",
        lambda n: np.zeros((n, 3, 3, 1)),
    ]
    BAD_SIZES = [(0, 5), (5, 0), (-1, 5), (2**40, 2**40), (2**20 + 1, 4), (1.5, 2), (2, 2.0), (True, 2),
                 (np.bool_(True), 3), "ab", 5, (1, 2, 3), (None, 3), (), (4,), ("4", 4), (2**64, 1)]
    BAD_VALUES = {
        "resample": ["lanczos3", "", None, 3, "cubic", "nearest "],
        "order": [6, -1, 7, True, False, "1", None, 0.5, 2.0, 1j],
        "fill_mode": ["mirror", "grid-wrap", "grid-constant", "", None, 1, "nearest\x00"],
        "cval": [math.nan, math.inf, -math.inf, "1", None, True, 1j, np.float32("nan")],
        "scale": [math.nan, math.inf, -math.inf, "1", None, False, 1j, [1.0]],
        "offset": [math.nan, math.inf, -math.inf, "0", None, np.bool_(True), 1j],
        "dtype": ["float16", "int32", "uint16", "f4", "float", np.int64, np.float16, "complex64", "", "u1"],
        "num_threads": [0, -1, -(2**40), True, np.bool_(True), 1.5, "2", 2.0, [2]],
    }

    def _bad_out(kind, shape, dtype):
        dtype = np.dtype(dtype)
        n, h, w, c = shape
        other = np.dtype(np.float64) if dtype != np.float64 else np.dtype(np.float32)
        if kind == "shape":
            return np.zeros((n, h + 1, w, c), dtype)
        if kind == "channels":
            return np.zeros((n, h, w, c + 1), dtype)
        if kind == "batch":
            return np.zeros((n + 1, h, w, c), dtype)
        if kind == "ndim":
            return np.zeros((n * h, w, c), dtype)
        if kind == "dtype":
            return np.zeros(shape, other)
        if kind == "byteorder":
            return np.zeros(shape, dtype.newbyteorder(">")) if dtype.itemsize > 1 else np.zeros(shape, np.int8)
        if kind == "noncontiguous":
            return np.zeros((n, h, 2 * w, c), dtype)[:, :, ::2]
        if kind == "negative":
            return np.zeros(shape, dtype)[:, ::-1]
        if kind == "fortran":
            a = np.zeros(shape, dtype, order="F")
            return a if not a.flags.c_contiguous else np.zeros((n, h, w, c + 1), dtype, order="F")
        if kind == "readonly":
            a = np.zeros(shape, dtype)
            a.flags.writeable = False
            return a
        if kind == "list":
            return np.zeros(shape, dtype).tolist()
        raise ValueError(kind)

    BAD_OUT = ["shape", "channels", "batch", "ndim", "dtype", "byteorder", "noncontiguous", "negative", "fortran",
               "readonly", "list"]
    CORRUPTIBLE = ["images", "matrices", "output_size", "resize_to", "out"] + list(BAD_VALUES)

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(call=valid_calls(), data=st.data())
    def test_corrupted_arguments_raise_a_clean_error_naming_them(call, data):
        """Corrupt 0-2 arguments of a valid call: it raises TypeError/ValueError
        naming a corrupted argument, or (nothing corrupted) returns the right result."""
        batch, logical, mats_passed, mats, kwargs = call
        kwargs = dict(kwargs)
        n = len(logical)
        out_shape = (n,) + tuple(kwargs["output_size"] or logical[0].shape[:2]) + (logical[0].shape[2],)
        bad = data.draw(st.lists(st.sampled_from(CORRUPTIBLE), max_size=2, unique=True), label="corrupt")
        out_dtype = kwargs["dtype"]
        for name in bad:
            if name == "images":
                batch = data.draw(st.sampled_from(BAD_IMAGES), label="bad images")(None)
            elif name == "matrices":
                mats_passed = data.draw(st.sampled_from(BAD_MATRICES), label="bad matrices")(n)
            elif name in ("output_size", "resize_to"):
                kwargs[name] = data.draw(st.sampled_from(BAD_SIZES), label=f"bad {name}")
            elif name == "out":
                kwargs["out"] = _bad_out(data.draw(st.sampled_from(BAD_OUT), label="bad out"), out_shape,
                                         out_dtype)
            else:
                kwargs[name] = data.draw(st.sampled_from(BAD_VALUES[name]), label=f"bad {name}")
        if not bad:
            got = transform_batch(batch, mats_passed, **kwargs)
            check_result(got, logical, mats, **kwargs)
            return
        with pytest.raises((TypeError, ValueError)) as info:
            transform_batch(batch, mats_passed, **kwargs)
        message = str(info.value)
        named = {"images": ("images",), "matrices": ("matrices",), "output_size": ("output_size",),
                 "resize_to": ("resize_to",), "out": ("out",)}
        assert any(word in message for name in bad for word in named.get(name, (name,))), (
            f"corrupted {bad}, but the {type(info.value).__name__} does not name them: {message!r}")

else:  # pragma: no cover

    def test_valid_hostile_inputs_match_the_reference():
        pytest.importorskip("hypothesis", reason="property-based tests need hypothesis")

    def test_corrupted_arguments_raise_a_clean_error_naming_them():
        pytest.importorskip("hypothesis", reason="property-based tests need hypothesis")


# --------------------------------------------------------------------------- #
# explicit hostile cases
# --------------------------------------------------------------------------- #
def _img(h=6, w=7, c=3, dtype=np.uint8, seed=0):
    return kr.random_image(np.random.default_rng(seed), (h, w, c), dtype)


def _rot(h, w):
    return kr.centered_affine((h, w), (h, w), angle=0.3, zoom=(1.1, 0.9), shift=(0.7, -0.4))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", kr.IN_DTYPES)
@pytest.mark.parametrize("stage", ["warp", "resize", "resize+warp", "convert"])
def test_every_layout_gives_the_reference_result(layout, dtype, stage):
    channels = 1 if layout == "two_d" else 3
    values = _img(9, 11, channels, dtype, seed=hash((layout, stage)) % 1000)
    view, logical = make_layout(values, layout)
    resize_to = (7, 13) if "resize" in stage else None
    hw = resize_to or (9, 11)
    mats = _rot(*hw)[None] if "warp" in stage else None
    kwargs = dict(output_size=(10, 19) if mats is not None else None, resize_to=resize_to, resample="bicubic",
                  order=1, fill_mode="reflect", cval=0.0, scale=1.0, offset=0.0, dtype="float32")
    for batch in ([view], (view,), view[None] if view.ndim == 3 else [view]):
        got = transform_batch(batch, mats, **kwargs)
        check_result(got, [logical], mats, **kwargs)


def _misaligned_case(where, path):
    in_dtype = np.uint8 if path.startswith("u8") else (np.uint16 if path.startswith("u16") else np.float32)
    values = _img(5, 9, 3, in_dtype)
    mats = _rot(5, 9)[None] if "warp" in path else None
    resize_to = (4, 6) if "resize" in path else None
    out_hw = (6, 10) if mats is not None else (resize_to or (5, 9))
    kwargs = dict(output_size=out_hw if mats is not None else None, resize_to=resize_to, resample="bilinear",
                  order=1, fill_mode="nearest", cval=0.0, scale=1.0, offset=0.0, dtype="float32")
    img = guarded_array(values, misalign=1 if where == "input" else 0)
    if where == "input" and in_dtype != np.uint8:
        assert not img.flags.aligned
    if where == "out":
        buf = guarded_bytes(np.prod(out_hw) * 3 * 4, tight_end=False, misalign=1)
        out = np.ndarray((1,) + out_hw + (3,), np.float32, buffer=buf)
        assert not out.flags.aligned and out.flags.c_contiguous and out.flags.writeable
        try:
            got = transform_batch([img], mats, out=out, **kwargs)
        except ValueError as e:  # rejecting it is fine too, if the message says why
            assert "out" in str(e)
            return
        assert got is out
    else:
        got = transform_batch([img], mats, **kwargs)
    check_result(got, [values], mats, **kwargs)



@pytest.mark.parametrize("where", ["input", "out"])
@pytest.mark.parametrize("path", ["u8->f32 warp", "f32 warp", "f32 resize", "u16 convert", "f32 convert"])
def test_misaligned_buffers_are_read_and_written_correctly(where, path):
    """A numpy array need not be aligned (frombuffer at an odd offset). The result
    must still be right, and without undefined behaviour: under UBSan an unaligned
    load/store in the kernel aborts, so the Python layer has to copy (input) or
    reject (out) such arrays. Runs in a child so such an abort fails only this test."""
    _need_scipy()
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"import test_kernel_hostile as t; t._misaligned_case({where!r}, {path!r})")
    proc = _run_python(code)
    assert proc.returncode == 0, f"misaligned {where} ({path}) failed ({proc.returncode}):\n{_excerpt(proc.stderr)}"


def test_out_overlapping_an_input_image_is_rejected():
    base = np.zeros((1, 6, 7, 3), np.float32)
    with pytest.raises(ValueError, match="out"):
        transform_batch(base, _rot(6, 7)[None], out=base)
    with pytest.raises(ValueError, match="out"):
        transform_batch([base[0, :, :, :]], _rot(6, 7)[None], out=base)
    buf = np.zeros(2 * 6 * 7 * 3, np.float32)
    out = buf[: 6 * 7 * 3].reshape(1, 6, 7, 3)
    img = buf[6 * 7 * 3 // 2 :][: 6 * 7 * 3].reshape(6, 7, 3)  # partial overlap
    with pytest.raises(ValueError, match="out"):
        transform_batch([img], _rot(6, 7)[None], out=out)


def test_out_overlapping_the_matrices_is_rejected_or_harmless():
    """The matrices are input too: writing the output must not change the matrix
    the kernel is still reading (here the output IS the float64 matrix buffer)."""
    img = np.arange(9, dtype=np.uint8).reshape(3, 3)
    buf = np.zeros(6)
    mats = buf.reshape(1, 2, 3)
    mats[0] = [[-1.0, 0.0, 2.0], [0.0, 1.0, 0.0]]  # flip rows
    expected = transform_batch([img], mats.copy(), output_size=(2, 3), dtype="float64")
    out = buf.reshape(1, 2, 3, 1)
    try:
        got = transform_batch([img], mats, output_size=(2, 3), dtype="float64", out=out)
    except ValueError as e:
        assert "out" in str(e) and "matrices" in str(e)
        return
    np.testing.assert_array_equal(got, expected, err_msg="out aliasing the matrices corrupted the result")


@pytest.mark.parametrize("value", [3, None, object()])
def test_non_string_dtype_errors_name_the_argument(value):
    with pytest.raises((TypeError, ValueError), match="dtype"):
        transform_batch([_img()], dtype=value)


@pytest.mark.parametrize("case", [
    "zero-d", "one-d", "five-d", "empty-h", "empty-w", "empty-c", "list-empty-h",
])
def test_bad_ranks_and_empty_images_raise_value_error(case):
    images = {
        "zero-d": np.array(1, np.uint8), "one-d": np.zeros(4, np.uint8), "five-d": np.zeros((1, 1, 2, 2, 1), np.uint8),
        "empty-h": np.zeros((1, 0, 4, 3), np.uint8), "empty-w": np.zeros((1, 4, 0, 3), np.uint8),
        "empty-c": np.zeros((1, 4, 4, 0), np.uint8), "list-empty-h": [np.zeros((0, 4), np.float32)],
    }[case]
    with pytest.raises(ValueError, match="images"):
        transform_batch(images, output_size=(3, 3))


# (Big-endian uint16/float32 are read by value: see test_kernel_dtype_identity.py.)
@pytest.mark.parametrize("dtype", [object, bool, np.int64, np.float16, np.complex128, np.uint32, np.int16, ">i2"])
@pytest.mark.parametrize("form", ["4d", "list"])
def test_unsupported_dtypes_raise_type_error(dtype, form):
    a = np.zeros((2, 4, 4, 3), dtype)
    with pytest.raises(TypeError, match="images"):
        transform_batch(a if form == "4d" else list(a))


@pytest.mark.parametrize("size", [(0, 5), (-1, 5), (2**40, 2**40), (2**20 + 1, 3), (1.5, 2), (True, 3), (3, False)])
@pytest.mark.parametrize("arg", ["output_size", "resize_to"])
def test_bad_sizes_raise_naming_the_argument(arg, size):
    with pytest.raises((TypeError, ValueError), match=arg):
        transform_batch([_img()], np.eye(3)[None], **{"output_size": (4, 4), arg: size})


def test_largest_sizes_raise_instead_of_allocating_or_overflowing():
    # 2**20 x 2**20 pixels x 3 channels x 4 bytes is far beyond any machine and must
    # be refused up front (never an int64 overflow in a byte count, never a crash).
    with pytest.raises(ValueError):
        transform_batch([_img()], np.eye(3)[None], output_size=(2**20, 2**20))
    with pytest.raises(ValueError):
        transform_batch([_img()], np.eye(3)[None], resize_to=(2**20, 2**20), output_size=(2, 2))


def test_one_pixel_extremes():
    """1x1 images into long thin outputs and back, every mode and order."""
    _need_scipy()
    for dtype in kr.WARP_IN_DTYPES:
        one = _img(1, 1, 4, dtype)
        for mode in kr.FILL_MODES:
            for order in range(6):
                for m, out_hw in ((np.eye(3), (1, 40)), (kr.integer_shift(-3, 5), (33, 1)),
                                  (np.diag([0.01, 7.5, 1.0]), (9, 9))):
                    kwargs = dict(output_size=out_hw, resize_to=None, resample="lanczos", order=order,
                                  fill_mode=mode, cval=0.25, scale=1.0, offset=0.0, dtype="float64")
                    check_result(transform_batch([one], m[None], **kwargs), [one], m[None], **kwargs)
        if dtype == np.float64:
            continue  # no resize for float64
        kwargs = dict(output_size=None, resize_to=(1, 17), resample="lanczos", order=1, fill_mode="nearest",
                      cval=0.0, scale=1.0, offset=0.0, dtype="float32")
        check_result(transform_batch([one], **kwargs), [one], None, **kwargs)
        wide = _img(1, 300, 1, dtype)
        kwargs["resize_to"] = (3, 1)
        check_result(transform_batch([wide], **kwargs), [wide], None, **kwargs)


@pytest.mark.parametrize("value", [2**62, np.int64(2**40), 10**6])
def test_huge_thread_counts_are_capped_not_fatal(value):
    imgs = [_img(seed=s) for s in range(5)]
    ref = transform_batch(imgs, np.stack([_rot(6, 7)] * 5), num_threads=1)
    got = transform_batch(imgs, np.stack([_rot(6, 7)] * 5), num_threads=value)
    np.testing.assert_array_equal(got, ref)


_THREADS_UNDER_LIMIT = textwrap.dedent(
    """
    import resource
    import numpy as np
    from pyimgaug import transform_batch

    imgs = np.zeros((1024, 4, 4, 1), np.uint8)
    mats = np.tile(np.eye(3), (1024, 1, 1))
    transform_batch(imgs, mats, num_threads=2)  # everything loaded and warmed up
    with open("/proc/self/statm") as f:
        vm = int(f.read().split()[0]) * resource.getpagesize()
    # Room for a few dozen thread stacks, not for 1024 of them.
    resource.setrlimit(resource.RLIMIT_AS, (vm + (256 << 20), resource.RLIM_INFINITY))
    try:
        out = transform_batch(imgs, mats, num_threads=1024)
        assert (out == 0).all()
    except (MemoryError, OSError, RuntimeError) as e:  # a clean refusal is acceptable
        print("refused:", type(e).__name__, e)
    print("alive")
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses RLIMIT_AS and /proc")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""), reason="ASan reserves terabytes of address space")
def test_threads_that_cannot_be_created_do_not_kill_the_process():
    """num_threads up to the cap must not kill the interpreter when the system
    cannot give that many threads (container pid limits, address-space limits)."""
    proc = _run_python(_THREADS_UNDER_LIMIT)
    assert proc.returncode == 0 and "alive" in proc.stdout, (proc.returncode, proc.stdout, _excerpt(proc.stderr))


def test_nan_and_inf_pixels_follow_the_reference():
    """float32 images may hold NaN and infinities: they propagate exactly as in
    scipy (float outputs) and uint8 output saturates them (NaN -> 0); no crash."""
    _need_scipy()
    values = _img(6, 9, 1, np.float32)
    values[1, 2, 0], values[3, 4, 0], values[4, 7, 0], values[0, 0, 0] = np.nan, np.inf, -np.inf, 3e38
    for order in (0, 1):
        for mode in kr.FILL_MODES:
            m = kr.centered_affine((6, 9), (7, 10), angle=0.2, shift=(0.3, -0.6))
            got = transform_batch([values], m[None], output_size=(7, 10), order=order, fill_mode=mode,
                                  dtype="float64")
            with np.errstate(all="ignore"):
                ref = kr.scipy_warp(values, m, (7, 10), order, mode, 0.0)
            np.testing.assert_allclose(got[0], ref, rtol=1e-12, atol=1e-12, equal_nan=True)
            u8 = transform_batch([values], m[None], output_size=(7, 10), order=order, fill_mode=mode, dtype="uint8")
            with np.errstate(all="ignore"):
                exp = np.where(np.isnan(ref), 0, np.clip(np.floor(ref + 0.5), 0, 255)).astype(np.uint8)
            np.testing.assert_array_equal(u8[0], exp)
    for resample in kr.RESAMPLE_FILTERS:  # resize: no reference for NaN arithmetic, but no crash either
        transform_batch([values], resize_to=(4, 13), resample=resample)


@pytest.mark.parametrize("huge", [1e30, -3e38, 3.4e38])
def test_extreme_finite_scalars_stay_finite_or_saturate(huge):
    img = _img(5, 8, 3, np.uint8)
    m = kr.integer_shift(20, 0)[None]  # everything outside: pure cval
    got = transform_batch([img], m, fill_mode="constant", cval=huge, dtype="float64")
    assert (got == huge).all()
    got = transform_batch([img], m, fill_mode="constant", cval=huge, dtype="uint8")
    assert (got == (255 if huge > 0 else 0)).all()
    got = transform_batch([img], scale=huge, offset=-huge, dtype="float64")
    np.testing.assert_allclose(got[0], img.astype(np.float64) * huge - huge, rtol=1e-15)


def test_images_mutated_by_another_thread_cannot_crash():
    """The GIL is released for the whole batch; another Python thread writing to
    the input and output arrays meanwhile may change values, but never memory
    safety (the arrays are kept alive, their shapes cannot change)."""
    import threading

    imgs = np.stack([_img(64, 64, 3, seed=s) for s in range(16)])
    out = np.zeros((16, 64, 64, 3), np.float32)
    mats = np.stack([_rot(64, 64)] * 16)
    stop = threading.Event()

    def scribble():
        k = 0
        while not stop.is_set():
            imgs[k % 16] = k % 256
            out[(k + 7) % 16] = -1
            k += 1

    t = threading.Thread(target=scribble)
    t.start()
    try:
        for _ in range(20):
            got = transform_batch(imgs, mats, out=out, num_threads=2)
            assert got is out and np.isfinite(out).all()
    finally:
        stop.set()
        t.join()


def test_concurrent_calls_from_python_threads_agree():
    """The GIL is released: several Python threads may be inside the kernel at once,
    each with its own OpenMP team; every call must still give the serial result."""
    import threading

    rng = np.random.default_rng(5)
    imgs = rng.integers(0, 256, (8, 40, 50, 3), dtype=np.uint8)
    mats = np.tile(np.array([[0.9, 0.2, 1.0], [-0.1, 1.1, -2.0], [0.0, 0.0, 1.0]]), (8, 1, 1))
    kwargs = dict(resize_to=(30, 33), output_size=(28, 29), fill_mode="reflect")
    ref = transform_batch(imgs, mats, num_threads=1, **kwargs)
    bad = []

    def work(k):
        for i in range(30):
            got = transform_batch(imgs, mats, num_threads=(None, 1, 2, 3)[(i + k) % 4], **kwargs)
            if not np.array_equal(got, ref):
                bad.append((k, i))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a concurrent call hung"
    assert not bad, f"concurrent calls differ from the serial result: {bad[:5]}"


# --------------------------------------------------------------------------- #
# OpenMP and fork
# --------------------------------------------------------------------------- #
_FORK_CHILD = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    import pyimgaug
    from pyimgaug import _core

    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (12, 48, 40, 3), dtype=np.uint8)
    mats = np.tile(np.array([[0.9, 0.1, 2.0], [-0.1, 1.1, -1.5], [0, 0, 1]]), (12, 1, 1))
    # The parent's OpenMP pool is started (and busy) before the fork.
    ref = pyimgaug.transform_batch(imgs, mats, num_threads=2, resize_to=(50, 45), output_size=(40, 40))
    for _ in range(3):
        pyimgaug.transform_batch(imgs, mats, num_threads=2)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            assert _core.default_num_threads() == 1, _core.default_num_threads()
            for threads in (None, 2, 3):
                got = pyimgaug.transform_batch(imgs, mats, num_threads=threads, resize_to=(50, 45),
                                               output_size=(40, 40))
                assert np.array_equal(got, ref), threads
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    # The parent keeps working after the child is gone.
    again = pyimgaug.transform_batch(imgs, mats, num_threads=2, resize_to=(50, 45), output_size=(40, 40))
    assert np.array_equal(again, ref)
    sys.exit(os.waitstatus_to_exitcode(status))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
@pytest.mark.parametrize("omp_threads", [None, "1", "4"])
def test_forked_child_runs_the_kernel_without_hanging(omp_threads):
    """libgomp's thread pool does not survive fork(); the kernel must notice and
    still run (default and explicit thread counts) in the child. A hang fails via
    the timeout instead of freezing the test run."""
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    if omp_threads:
        env["OMP_NUM_THREADS"] = omp_threads
    try:
        proc = _run_python(_FORK_CHILD, env=env)
    except subprocess.TimeoutExpired as e:  # pragma: no cover - the failure we guard against
        pytest.fail(f"fork test hung (>120 s): {e.stderr!r}")
    assert proc.returncode == 0, f"child/parent failed ({proc.returncode}):\n{proc.stdout}\n{_excerpt(proc.stderr)}"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_multiprocessing_fork_pool_runs_the_kernel():
    code = textwrap.dedent(
        """
        import multiprocessing as mp
        import numpy as np
        import pyimgaug

        imgs = np.random.default_rng(1).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
        mats = np.tile(np.array([[1.0, 0.2, -3.0], [0.1, 0.9, 2.0], [0, 0, 1]]), (8, 1, 1))

        def work(threads):
            return pyimgaug.transform_batch(imgs, mats, num_threads=threads).sum()

        if __name__ == "__main__":
            ref = pyimgaug.transform_batch(imgs, mats, num_threads=2).sum()
            with mp.get_context("fork").Pool(2) as pool:
                results = pool.map(work, [None, 2, None, 2])
            assert all(r == ref for r in results), (results, ref)
        """
    )
    proc = _run_python(code)
    assert proc.returncode == 0, _excerpt(proc.stderr)
