"""The resize rules of each Pillow release (pyimgaug.pillow_compat): selection, the
first-use probe, and the fallback to Pillow itself.

Every comparison here is bit-exact: for uint8 the kernel repeats Pillow's
fixed-point arithmetic, for uint16 and float32 the same double sums in the same
order, so any difference is a wrong rule, not rounding.

Two kinds of test:
* against the INSTALLED Pillow, on the shapes where the releases' rules differ,
  so that the same test checks whichever release is installed (run it under each
  with scripts/pillow_matrix.sh);
* each behaviour against its documented rule, built from single-axis Pillow
  resizes (which no release changed), so every behaviour is checked under any
  installed Pillow.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

PIL = pytest.importorskip("PIL", reason="the resize reference is Pillow's Image.resize")
from PIL import Image  # noqa: E402

import pyimgaug  # noqa: E402
from pyimgaug import pillow_compat as pc  # noqa: E402

import kernel_reference as kr  # noqa: E402

pytestmark = pytest.mark.pillow_matrix

FILTERS = kr.RESAMPLE_FILTERS
# (source (H, W), target (h, w)) around each release's pass-order threshold.
RULE_SHAPES = [
    ((40, 30), (20, 20)),   # height shrinks by exactly twice the width's shrink: width first (13.0)
    ((41, 30), (20, 20)),   # one more row: height first under 13.0
    ((40, 30), (10, 28)),   # height first under 13.0 only
    ((30, 40), (28, 10)),   # the transpose: width first everywhere
    ((201, 2), (200, 1)),   # > 100x taller than wide, shrinking: height first under 12.2/12.3 only
    ((200, 2), (150, 1)),   # exactly 100x: width first under 12.2/12.3, height first under 13.0
    ((202, 2), (150, 40)),  # height first under 12.2, 12.3 and 13.0
    ((303, 3), (400, 1)),   # tall but growing in height: width first everywhere
    ((57, 13), (19, 31)),   # height shrinks, width grows: height first under 13.0
    ((17, 23), (9, 31)),
]


def _ids(case):
    (H, W), (h, w) = case
    return f"{H}x{W}-to-{h}x{w}"


def _image(rng, hw, channels, dtype):
    img = kr.random_image(rng, hw + (channels,), dtype)
    if dtype == np.uint16:
        img[::2] = (img[::2] >= 32768) * np.uint16(65535)  # 0/65535 rows: overshoot past 65535
    return img


@pytest.fixture
def fresh_probe():
    """The probe's outcome is forgotten before and after the test."""
    pc._reset_probe()
    yield
    pc._reset_probe()


# ----------------------------------------------------------------- selection

@pytest.mark.parametrize("version, behaviour", [
    ("9.1.0", "pillow-9.1"), ("9.5.0", "pillow-9.1"), ("10.4.0", "pillow-9.1"),
    ("11.0.0", "pillow-11.0"), ("11.3.0", "pillow-11.0"), ("12.1.1", "pillow-11.0"),
    ("12.2.0", "pillow-12.2"), ("12.3.0", "pillow-12.3"), ("13.0.0", "pillow-13.0"),
    ("13.1.0.dev0", "pillow-13.0"), ("20.0", "pillow-13.0"),
])
def test_behaviour_for_version(version, behaviour):
    assert pc.behaviour_for_version(version) == behaviour


def test_behaviour_for_unreadable_version():
    with pytest.raises(ValueError, match="Pillow version"):
        pc.behaviour_for_version("unknown")


def test_selected_from_installed_pillow():
    assert pc.PILLOW_VERSION == PIL.__version__
    assert pc.SELECTED == pc.behaviour_for_version(PIL.__version__)
    info = pc.resize_behaviour_info()
    assert info["pillow_version"] == PIL.__version__ and info["behaviour"] == pc.SELECTED
    assert info["probe"] in ("exact", "fallback to Pillow", "not yet run")


def test_unknown_behaviour_is_rejected():
    img = np.zeros((4, 4, 1), np.uint8)
    with pytest.raises(ValueError, match="resize_behaviour must be None or one of"):
        pyimgaug.transform_batch([img], resize_to=(2, 2), resize_behaviour="pillow-8")


# ------------------------------------------------ against the installed Pillow

@pytest.mark.parametrize("case", RULE_SHAPES, ids=_ids)
@pytest.mark.parametrize("resample", FILTERS)
def test_rule_shapes_equal_installed_pillow(resample, case):
    """The default call equals the installed Pillow on every shape where the
    releases disagree, for uint8 (1, 3, 4 channels), uint16 and float32."""
    src, dst = case
    rng = np.random.default_rng(sum(src) * 1000 + sum(dst))
    for dtype, channels in ((np.uint8, 1), (np.uint8, 3), (np.uint8, 4), (np.uint16, 1), (np.float32, 1)):
        img = _image(rng, src, channels, dtype)
        out_dtype = "uint8" if dtype == np.uint8 else "float64"
        got = pyimgaug.transform_batch([img], resize_to=dst, resample=resample, dtype=out_dtype)[0]
        want = kr.pillow_resize(img, dst, resample)
        assert np.array_equal(got, want.astype(got.dtype)), (
            f"{np.dtype(dtype).name} C={channels}: {int(np.count_nonzero(got != want))} samples differ "
            f"from Pillow {PIL.__version__} (behaviour {pc.SELECTED})")


@pytest.mark.parametrize("resample", ["hamming", "lanczos", "bicubic"])
def test_photo_crops_equal_installed_pillow(resample):
    """Smooth photo-like RGB crops (where a one-unit weight error shows up as a
    one-level sample error), down and up, bit-exact with Pillow's RGB resize."""
    rng = np.random.default_rng(11)
    for k in range(8):
        h, w = int(rng.integers(40, 140)), int(rng.integers(40, 140))
        yy, xx = np.mgrid[0:h, 0:w]
        planes = [127.5 + 100 * np.sin(rng.uniform(0.02, 0.2) * yy + rng.uniform(0.02, 0.2) * xx + c)
                  + rng.normal(0, 6, (h, w)) for c in range(3)]
        img = np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)
        for size in ((h // 3 + 1, w // 2 + 1), (h * 2 - 1, w + 7), (31, 29)):
            got = pyimgaug.transform_batch([img], resize_to=size, resample=resample, dtype="uint8")[0]
            want = np.asarray(Image.fromarray(img).resize(size[::-1], kr._pil_filter(resample)))
            assert np.array_equal(got, want), f"crop {k} {img.shape[:2]} -> {size}: " \
                f"{int(np.count_nonzero(got != want))} samples differ"


def _hamming_fixed_weights(in_size, out_size, c054, c046):
    """Pillow's precompute_coeffs + normalize_coeffs_8bpc for hamming, with the
    window's two constants given: the 22-bit fixed-point taps, one row per output."""
    scale = float(np.float32(in_size)) / out_size
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale
    rows = []
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        x = np.abs((np.arange(xmax) + xmin - center + 0.5) * (1.0 / filterscale))
        with np.errstate(invalid="ignore", divide="ignore"):
            px = x * np.pi
            w = np.where(x == 0, 1.0, np.where(x >= 1, 0.0, np.sin(px) / px * (c054 + c046 * np.cos(px))))
        w = w / w.sum()
        rows.append(tuple(np.trunc(np.where(w < 0, -0.5, 0.5) + w * (1 << 22)).astype(np.int64)))
    return rows


# Found by search: with the double constants 0.54 and 0.46 these resizes differ
# from Pillow in 1, 2 and 11 samples; with Pillow's 0.54f and 0.46f they are exact.
HAMMING_CASES = [(0, (270, 227), (214, 122)), (225, (272, 220), (233, 184)), (392, (283, 150), (189, 179))]


@pytest.mark.parametrize("seed, src, dst", HAMMING_CASES)
def test_hamming_uses_pillows_float_constants(seed, src, dst):
    rng = np.random.default_rng(seed)
    for lo, hi in ((100, 300), (100, 300), (20, 400), (20, 400)):
        rng.integers(lo, hi)  # the search drew the sizes first
    img = rng.integers(0, 256, src + (3,), dtype=np.uint8)
    got = pyimgaug.transform_batch([img], resize_to=dst, resample="hamming", dtype="uint8")[0]
    want = np.asarray(Image.fromarray(img).resize(dst[::-1], Image.Resampling.HAMMING))
    assert np.array_equal(got, want), f"{int(np.count_nonzero(got != want))} samples differ"
    # The case is meaningful: the constants' types change some fixed-point taps.
    as_floats = [_hamming_fixed_weights(i, o, float(np.float32(0.54)), float(np.float32(0.46)))
                 for i, o in zip(src, dst)]
    as_doubles = [_hamming_fixed_weights(i, o, 0.54, 0.46) for i, o in zip(src, dst)]
    assert as_floats != as_doubles


# ---------------------------------------- each behaviour against its own rule

def _documented_height_first(behaviour, H, W, h, w):
    if behaviour == "pillow-13.0":
        return H - h > 0 and H - h > 2 * (W - w)
    if behaviour in ("pillow-12.2", "pillow-12.3"):
        return H > 100 * W and h < H
    return False


def _two_passes(img, dst, resample, height_first):
    """Pillow single-axis resizes in the given order (a one-axis resize has one pass,
    identical in every release)."""
    H, W = img.shape
    h, w = dst
    f = kr._pil_filter(resample)
    im = Image.fromarray(img)
    if height_first:
        return np.asarray(im.resize((W, h), f).resize((w, h), f))
    return np.asarray(im.resize((w, H), f).resize((w, h), f))


@pytest.mark.parametrize("behaviour", sorted(pc.BEHAVIOURS))
@pytest.mark.parametrize("resample", [f for f in FILTERS if f != "nearest"])
def test_each_behaviour_applies_its_pass_order(behaviour, resample):
    rng = np.random.default_rng(5)
    differs = 0
    for src, dst in RULE_SHAPES:
        img = rng.integers(0, 256, src, dtype=np.uint8)
        got = pyimgaug.transform_batch([img], resize_to=dst, resample=resample, dtype="uint8",
                                       resize_behaviour=behaviour)[0, :, :, 0]
        first = _documented_height_first(behaviour, *src, *dst)
        want = _two_passes(img, dst, resample, first)
        assert np.array_equal(got, want), f"{behaviour} {src} -> {dst} (height first: {first})"
        differs += not np.array_equal(want, _two_passes(img, dst, resample, not first))
    assert differs >= 3, "the shapes must be ones where the pass order changes pixels"


def _store_u16(v, byte_clip):
    """Pillow's 16-bit store of ROUND_UP'd sums: 12.3 on saturate; 11.0-12.2 clip the
    high and the low byte separately."""
    v = np.asarray(v, dtype=np.int64)
    if byte_clip:
        return np.where(v < 0, 0, np.where(v > 65535, 0xFF00 | (v & 0xFF), v))
    return np.clip(v, 0, 65535)


@pytest.mark.parametrize("behaviour", sorted(pc.BEHAVIOURS))
@pytest.mark.parametrize("resample", ["bicubic", "lanczos", "bilinear"])
def test_each_behaviour_stores_uint16_as_its_release(behaviour, resample):
    """One pass (width only) over 0/65535 data, against Pillow's 32-bit 'I' resize
    (same sums, no 16-bit store) followed by the release's 16-bit store."""
    rng = np.random.default_rng(3)
    img = (rng.integers(0, 2, (9, 40)) * 65535).astype(np.uint16)
    got = pyimgaug.transform_batch([img], resize_to=(9, 17), resample=resample, dtype="float64",
                                   resize_behaviour=behaviour)[0, :, :, 0]
    sums = np.asarray(Image.fromarray(img.astype(np.int32)).resize((17, 9), kr._pil_filter(resample)))
    want = _store_u16(sums, behaviour in ("pillow-11.0", "pillow-12.2"))
    assert np.array_equal(got, want)
    if resample != "bilinear":
        assert (sums > 65535).any(), "the data must overshoot 65535 for the rule to matter"


# ----------------------------------------------------------------- the probe

def test_probe_is_exact_on_installed_pillow(fresh_probe):
    assert pc.resize_behaviour_info()["probe"] == "not yet run"
    with warnings.catch_warnings():
        warnings.simplefilter("error", pc.PillowResizeWarning)
        assert pc.probe_mismatches() == []
        img = np.zeros((5, 5, 3), np.uint8)
        pyimgaug.transform_batch([img], resize_to=(3, 4))
    assert pc.resize_behaviour_info()["probe"] == "exact"


def _probe_outputs(behaviour):
    u8, (u16, u16_dst) = pc._probe_images()
    outs = []
    for resample in FILTERS:
        for img, dst in u8 + [(u16, u16_dst)]:
            outs.append(pyimgaug.transform_batch([img], resize_to=dst, resample=resample, dtype="float64",
                                                 resize_behaviour=behaviour))
    return outs


def test_probe_tells_every_behaviour_apart():
    """For every two behaviours some probe image resizes differently, so the probe
    detects a Pillow whose rules are any other behaviour's."""
    outs = {b: _probe_outputs(b) for b in pc.BEHAVIOURS}
    for a, b in itertools.combinations(pc.BEHAVIOURS, 2):
        assert any(not np.array_equal(x, y) for x, y in zip(outs[a], outs[b])), (a, b)


# -------------------------------------------------------------- the fallback

def _wrong_behaviour():
    """A behaviour whose rules the installed Pillow does not follow on the probe."""
    for b in ("pillow-13.0", "pillow-12.2", "pillow-9.1"):
        if b != pc.SELECTED and pc.probe_mismatches(b):
            return b
    raise AssertionError("no behaviour differs from the installed Pillow on the probe")


@pytest.fixture
def wrong_selection(monkeypatch, fresh_probe):
    right, wrong = pc.SELECTED, _wrong_behaviour()
    monkeypatch.setattr(pc, "SELECTED", wrong)
    return right, wrong


def test_fallback_warns_once_and_equals_pillow(wrong_selection):
    right, wrong = wrong_selection
    rng = np.random.default_rng(8)
    with pytest.warns(pc.PillowResizeWarning, match=r"Pillow %s \(behaviour '%s'" % (
            PIL.__version__.replace(".", r"\."), wrong)) as record:
        first = pyimgaug.transform_batch([rng.integers(0, 256, (41, 30, 3), dtype=np.uint8)],
                                         resize_to=(20, 20), resample="lanczos", dtype="uint8")
    assert len([w for w in record if issubclass(w.category, pc.PillowResizeWarning)]) == 1
    assert first.shape == (1, 20, 20, 3)
    assert pc.resize_behaviour_info() == {"pillow_version": PIL.__version__, "behaviour": wrong,
                                          "probe": "fallback to Pillow"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", pc.PillowResizeWarning)  # never again
        for resample in FILTERS:
            for (src, dst), (dtype, channels) in itertools.product(
                    RULE_SHAPES[:7], ((np.uint8, 1), (np.uint8, 3), (np.uint8, 4), (np.uint16, 1),
                                      (np.float32, 3))):
                if dtype == np.uint16 and not pc.pillow_can_resize_uint16():
                    continue
                imgs = [_image(rng, src, channels, dtype) for _ in range(2)]
                out_dtype = "uint8" if dtype == np.uint8 else "float64"
                got = pyimgaug.transform_batch(imgs, resize_to=dst, resample=resample, dtype=out_dtype)
                for g, img in zip(got, imgs):
                    want = kr.pillow_resize(img, dst, resample)
                    assert np.array_equal(g, want.astype(g.dtype)), (resample, src, dst, dtype, channels)
                # With a warp: the kernel warps Pillow's resize, as it warps its own.
                m = np.stack([kr.random_affine(rng, dst, (13, 11)) for _ in imgs])
                warped = pyimgaug.transform_batch(imgs, m, output_size=(13, 11), resize_to=dst,
                                                  resample=resample, fill_mode="reflect", dtype="float64")
                exact = pyimgaug.transform_batch(imgs, m, output_size=(13, 11), resize_to=dst,
                                                 resample=resample, fill_mode="reflect", dtype="float64",
                                                 resize_behaviour=right)
                assert np.array_equal(warped, exact), (resample, src, dst, dtype, channels)


def test_fallback_reaches_the_directory_iterator(wrong_selection, tmp_path):
    """flow_from_directory resizes through the same checked call: under a wrong
    selection its batches still equal Keras's (Pillow's) exactly."""
    kimage = pytest.importorskip("keras_preprocessing.image",
                                 reason="keras_preprocessing (test extra) is not installed")
    rng = np.random.default_rng(2)
    for i, (h, w) in enumerate(((41, 30), (201, 2), (57, 13))):
        path = tmp_path / "c" / f"img{i}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)
    kw = dict(target_size=(20, 20), interpolation="lanczos", batch_size=3, shuffle=False, class_mode=None)
    with pytest.warns(pc.PillowResizeWarning):
        ours = next(pyimgaug.ImageDataGenerator().flow_from_directory(str(tmp_path), **kw))
    ref = next(kimage.ImageDataGenerator().flow_from_directory(str(tmp_path), **kw))
    assert np.array_equal(ours, ref)
