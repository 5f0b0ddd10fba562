"""The lean JPEG path (pyimgaug/pipeline/jpeg.py) against Pillow's loader, on every pixel.

`open_jpeg` and `decode_jpeg` call Pillow's own C decoder without
`Image.open`'s Python, so their pixels must be exactly those of
`Image.open(...)` (+ `draft`) + `load()`, converted as Keras converts: the
tolerance is zero.  Files it does not take must come back as None (Pillow
then opens them), and it must never take a file Pillow would reject or read
differently; a mutation fuzz over headers checks that property.
"""
import io
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from pyimgaug.errors import BadImageError
from pyimgaug.pipeline import io as pio
from pyimgaug.pipeline import jpeg
from pyimgaug.pipeline.affine import kernel_input

# Decoding is checked against every Pillow release the matrix installs.
pytestmark = pytest.mark.pillow_matrix

DRAFTS = (None, (128, 128), (64, 48), (30, 200), (1, 1))


def photo(h, w, channels, seed):
    """A smooth picture with texture: what JPEG is for (and what hits every DCT path)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for _ in range(channels):
        fy, fx = rng.uniform(0.01, 0.2, 2)
        base = 128 + 90 * np.sin(fy * y + rng.uniform(0, 6)) * np.cos(fx * x + rng.uniform(0, 6))
        planes.append(base + rng.normal(0, 12, (h, w)))
    a = np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)
    return a[..., 0] if channels == 1 else a


def encode(a, **kw):
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", **kw)
    return buf.getvalue()


def pillow_open(data, draft):
    img = Image.open(io.BytesIO(data))
    if draft is not None:
        img.draft(img.mode, draft)
    img.load()
    return img


def assert_same_as_pillow(data, draft):
    ours = jpeg.open_jpeg(data, draft)
    assert ours is not None, "the lean path declined a plain JPEG"
    ref = pillow_open(data, draft)
    assert (ours.mode, ours.size) == (ref.mode, ref.size)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))


def exif_block(dpi=None):
    exif = Image.Exif()
    exif[0x010F] = "pyimgaug"  # Make
    if dpi is not None:
        exif[0x0128] = 2
        exif[0x011A] = exif[0x011B] = float(dpi)
    return exif.tobytes()


# (shape, save options): every sampling, progressive and optimized coding,
# restart intervals, odd sizes (partial MCUs at both edges), metadata segments.
CASES = [
    ((97, 131, 3), dict(quality=90)),
    ((97, 131, 3), dict(quality=75, subsampling=0)),
    ((97, 131, 3), dict(quality=95, subsampling=1)),
    ((240, 320, 3), dict(quality=85, subsampling=2, progressive=True)),
    ((240, 320, 3), dict(quality=60, optimize=True)),
    ((333, 257, 3), dict(quality=92, progressive=True, optimize=True, subsampling=0)),
    ((1, 1, 3), dict(quality=90)),
    ((17, 9, 3), dict(quality=90, subsampling=2)),
    ((8, 600, 3), dict(quality=90)),
    ((600, 8, 3), dict(quality=90)),
    ((97, 131, 1), dict(quality=90)),
    ((240, 320, 1), dict(quality=80, progressive=True)),
    ((130, 170, 3), dict(quality=90, dpi=(300, 300))),
    ((130, 170, 3), dict(quality=90, icc_profile=b"\0" * 3000)),
    ((130, 170, 3), dict(quality=90, icc_profile=b"\1" * 150000)),  # split over APP2 segments
    ((130, 170, 3), dict(quality=90, dpi=(72, 72), exif=exif_block(300))),
    ((130, 170, 3), dict(quality=90, restart_marker_blocks=3)),
    ((130, 170, 3), dict(quality=90, restart_marker_rows=1, progressive=True)),
]


def supported(options):
    """Whether this Pillow writes what `options` ask for (restart markers came in
    Pillow 10.2; older releases ignore the options)."""
    try:
        data = encode(np.zeros((64, 64, 3), np.uint8), **options)
    except (TypeError, ValueError, KeyError, OSError):
        return False
    restart = any(k.startswith("restart_marker") for k in options)
    return not restart or any(m == 0xDD for m, _, _ in segments(data))


@pytest.mark.parametrize("shape,options", CASES, ids=[str(i) for i in range(len(CASES))])
@pytest.mark.parametrize("draft", DRAFTS, ids=str)
def test_pixels_are_pillows(shape, options, draft):
    if not supported(options):
        pytest.skip("Pillow %s cannot write %s; the newer releases in the matrix test it"
                    % (Image.__version__, sorted(options)))
    h, w, c = shape
    data = encode(photo(h, w, c, seed=h * w + c), **options)
    assert_same_as_pillow(data, draft)


def test_comment_segment():
    data = encode(photo(130, 170, 1, seed=5), quality=90)
    assert_same_as_pillow(insert_segment(data, 0xFE, b"made by a test"), (64, 64))


KERAS_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


@pytest.mark.parametrize("shape,options", CASES[:12], ids=[str(i) for i in range(12)])
@pytest.mark.parametrize("draft", DRAFTS[:3], ids=str)
@pytest.mark.parametrize("color_mode", sorted(KERAS_MODES))
def test_decode_jpeg_is_kerass_conversion(shape, options, draft, color_mode):
    h, w, c = shape
    data = encode(photo(h, w, c, seed=h + w + c), **options)
    got = jpeg.decode_jpeg(data, color_mode, draft)
    ref = pillow_open(data, draft)
    if ref.mode != KERAS_MODES[color_mode]:
        ref = ref.convert(KERAS_MODES[color_mode])
    want = np.asarray(ref)
    want = want[..., None] if want.ndim == 2 else want
    assert got.dtype == np.uint8 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if c == 3 and color_mode == "rgb":
        # The RGB of the decoder's RGBX pixels, read in place by the kernel:
        # the batch code hands it over without a (slow, strided) copy.
        assert got.strides[1] == 4
        assert kernel_input(got) is got


@pytest.mark.parametrize("decode", ["exact", "fast"])
@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
@pytest.mark.parametrize("channels", [1, 3])
def test_decode_for_batch_is_unchanged(tmp_path, monkeypatch, decode, color_mode, channels):
    path = tmp_path / "a.jpg"
    path.write_bytes(encode(photo(301, 419, channels, seed=channels), quality=88))
    with_lean = pio.decode_for_batch(str(path), color_mode, (128, 128), "lanczos", decode=decode)
    monkeypatch.setattr(jpeg, "decode_jpeg", lambda *a, **k: None)
    without = pio.decode_for_batch(str(path), color_mode, (128, 128), "lanczos", decode=decode)
    assert with_lean[1] == without[1] is False
    assert with_lean[0].dtype == without[0].dtype == np.uint8
    np.testing.assert_array_equal(with_lean[0], without[0])


def test_flow_from_directory_unchanged(tmp_path, monkeypatch):
    import pyimgaug
    for i in range(12):
        d = tmp_path / ("c%d" % (i % 2))
        d.mkdir(exist_ok=True)
        (d / ("%d.jpg" % i)).write_bytes(
            encode(photo(150 + 13 * i, 200 - 7 * i, 1 if i % 5 == 0 else 3, seed=i), quality=85 + i))

    def epoch(decode):
        gen = pyimgaug.ImageDataGenerator(rotation_range=20, rescale=1 / 255.)
        it = gen.flow_from_directory(str(tmp_path), target_size=(64, 64), batch_size=5, seed=3,
                                     interpolation="lanczos", decode=decode)
        return [next(it)[0] for _ in range(len(it))]
    for decode in ("exact", "fast"):
        with_lean = epoch(decode)
        with monkeypatch.context() as m:
            m.setattr(jpeg, "decode_jpeg", lambda *a, **k: None)
            without = epoch(decode)
        for a, b in zip(with_lean, without):
            np.testing.assert_array_equal(a, b)


# --- files the lean path must leave to Pillow ------------------------------------

def segments(data):
    """[(marker, start, end)] of the header's segments, up to and including SOS."""
    out, pos = [], 2
    while True:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((marker, pos, pos + 2 + length))
        if marker == 0xDA:
            return out
        pos += 2 + length


def insert_segment(data, marker, body):
    return data[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body + data[2:]


def with_marker_replaced(data, old, new):
    for marker, start, _ in segments(data):
        if marker == old:
            return data[:start + 1] + bytes([new]) + data[start + 2:]
    raise AssertionError("no marker %#x" % old)


BASE = encode(photo(64, 80, 3, seed=9), quality=90)


def cmyk_file():
    buf = io.BytesIO()
    Image.fromarray(photo(40, 40, 3, seed=1)).convert("CMYK").save(buf, "JPEG")
    return buf.getvalue()


def mpo_file():
    buf = io.BytesIO()
    a, b = (Image.fromarray(photo(40, 40, 3, seed=s)) for s in (1, 2))
    a.save(buf, "MPO", save_all=True, append_images=[b])
    return buf.getvalue()


def bad_dqt():
    for marker, start, end in segments(BASE):
        if marker == 0xDB:
            body = BASE[start + 4:end][:-1]  # one byte short of its tables
            return BASE[:start] + b"\xff\xdb" + struct.pack(">H", len(body) + 2) + body + BASE[end:]


DECLINED = {
    "not a JPEG": lambda: b"\x89PNG\r\n\x1a\n" + BASE,
    "empty": lambda: b"",
    "CMYK": cmyk_file,
    "MPO": mpo_file,
    "truncated in the scan": lambda: BASE[:len(BASE) // 2],
    "truncated in the header": lambda: BASE[:segments(BASE)[-1][1] + 3],
    "junk between segments": lambda: BASE[:2] + b"\x00" + BASE[2:],
    "a standalone marker before the scan": lambda: BASE[:2] + b"\xff\xd0" + BASE[2:],
    "lossless frame": lambda: with_marker_replaced(BASE, 0xC0, 0xC3),
    "arithmetic frame": lambda: with_marker_replaced(BASE, 0xC0, 0xC9),
    "two frames": lambda: BASE[:segments(BASE)[-1][1]] + BASE[[s for s in segments(BASE) if s[0] == 0xC0][0][1]:],
    "no frame": lambda: b"".join(BASE[s:e] for m, s, e in segments(BASE) if m != 0xC0) + BASE[segments(BASE)[-1][2]:],
    "12-bit frame": lambda: (lambda s: BASE[:s + 4] + b"\x0c" + BASE[s + 5:])(
        [s for m, s, e in segments(BASE) if m == 0xC0][0]),
    "bad quantization table": bad_dqt,
    "short JFIF segment": lambda: insert_segment(BASE, 0xE0, b"JFIF\0"),
    "short Adobe segment": lambda: insert_segment(BASE, 0xEE, b"Adobe"),
    "short ICC piece": lambda: insert_segment(BASE, 0xE2, b"ICC_PROFILE\0\1"),
    "Photoshop resources": lambda: insert_segment(BASE, 0xED, b"Photoshop 3.0\0" + b"8BIM\x03\xed"),
    "EXIF without a JFIF resolution": lambda: encode(photo(40, 40, 3, seed=1), exif=exif_block(300)),
    "segment length below 2": lambda: BASE[:2] + b"\xff\xfe\x00\x01" + BASE[2:],
    "segment past the end": lambda: BASE[:2] + b"\xff\xfe\xff\xff" + b"x" * 10,
}


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_declined(name):
    data = DECLINED[name]()
    assert jpeg.open_jpeg(data) is None
    assert jpeg.open_jpeg(data, (8, 8)) is None
    for color_mode in KERAS_MODES:
        assert jpeg.decode_jpeg(data, color_mode) is None


def test_decompression_bomb_limit_is_pillows(monkeypatch):
    data = encode(photo(50, 60, 3, seed=2))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50 * 60 - 1)
    assert jpeg.open_jpeg(data) is None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50 * 60)
    assert jpeg.open_jpeg(data) is not None


def test_exif_with_jfif_resolution_is_taken():
    # Pillow reads the resolution from JFIF then, and never parses the EXIF block.
    assert_same_as_pillow(encode(photo(40, 40, 3, seed=1), dpi=(96, 96), exif=exif_block(300)), None)


def test_truncated_file_errors_are_pillows(tmp_path, monkeypatch):
    path = tmp_path / "cut.jpg"
    path.write_bytes(BASE[:len(BASE) * 2 // 3])
    with pytest.raises(BadImageError, match="cut.jpg"):
        pio.decode_for_batch(str(path), "rgb", (32, 32), "bilinear")
    # Pillow pads a truncated file when told to; so do we (Pillow does it).
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    got = pio.decode_for_batch(str(path), "rgb", (32, 32), "bilinear")[0]
    np.testing.assert_array_equal(got, np.asarray(pillow_open(path.read_bytes(), None)))


def header_mutation():
    """(position, byte) edits inside the header, or a cut, of a file with several segment kinds."""
    return st.lists(st.tuples(st.integers(0, 700), st.integers(0, 255)), min_size=1, max_size=4)


FUZZ_BASE = encode(photo(48, 56, 3, seed=4), quality=85, dpi=(72, 72), exif=exif_block(72),
                   icc_profile=b"\2" * 200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=header_mutation(), draft=st.sampled_from([None, (16, 16)]))
def test_never_takes_what_pillow_rejects_or_reads_differently(edits, draft):
    """Whatever the header's damage: a file the lean path takes is one Pillow
    opens and loads without error, to the same pixels."""
    data = bytearray(FUZZ_BASE)
    for pos, value in edits:
        data[pos % len(data)] = value
    data = bytes(data)
    ours = jpeg.open_jpeg(data, draft)
    pixels = jpeg.decode_jpeg(data, "rgb", draft)
    assert (ours is None) == (pixels is None)
    if ours is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pillow_open(data, draft)  # must not raise
    assert (ours.mode, ours.size) == (ref.mode, ref.size)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))
    np.testing.assert_array_equal(pixels, np.asarray(ref.convert("RGB")))
