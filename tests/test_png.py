"""The PNG decoder (pyimgaug/pipeline/png.py) against Pillow's, on every pixel.

Files are written by a small encoder here, so that every row filter (none,
sub, up, average, Paeth) and every chunk layout can be chosen; each file is
first checked to decode with Pillow to the pixels it was made from (the
encoder is right by the reference's account), then ours must give exactly
what Pillow gives after Keras's conversion.  Lossless decoding leaves no room
for tolerance: the tolerance is zero.  Files this decoder does not take must
come back as None (Pillow then decodes them), never as different pixels.
"""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from pyimgaug import _core
from pyimgaug.errors import BadImageError
from pyimgaug.pipeline import io as pio
from pyimgaug.pipeline import png

# Decoding is checked against every Pillow release the matrix installs.
pytestmark = pytest.mark.pillow_matrix

KERAS_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
COLOUR = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type


def chunk(kind, body, crc=None):
    crc = zlib.crc32(kind + body) if crc is None else crc
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def filter_rows(pixels, filters):
    """PNG's filters applied (encoding), with numpy: the stream's rows."""
    h, w, c = pixels.shape
    rows = pixels.reshape(h, w * c).astype(np.int16)
    out = []
    for y in range(h):
        x = rows[y]
        b = rows[y - 1] if y else np.zeros_like(x)
        a = np.concatenate([np.zeros(c, np.int16), x[:-c]])
        cc = np.concatenate([np.zeros(c, np.int16), b[:-c]])
        f = filters[y]
        if f == 0:
            d = x
        elif f == 1:
            d = x - a
        elif f == 2:
            d = x - b
        elif f == 3:
            d = x - (a + b) // 2
        else:
            pa, pb, pc = np.abs(b - cc), np.abs(a - cc), np.abs(a + b - 2 * cc)
            d = x - np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, cc))
        out.append(bytes([f]) + (d & 0xFF).astype(np.uint8).tobytes())
    return b"".join(out)


def encode(pixels, filters, *, before=(), after_idat=(), splits=1, level=6, stream=None, ihdr=None):
    h, w, c = pixels.shape
    stream = zlib.compress(filter_rows(pixels, filters), level) if stream is None else stream
    header = ihdr or struct.pack(">IIBBBBB", w, h, 8, COLOUR[c], 0, 0, 0)
    step = -(-len(stream) // splits)
    idats = [chunk(b"IDAT", stream[i:i + step]) for i in range(0, len(stream), step)] or [chunk(b"IDAT", b"")]
    return (png.SIGNATURE + chunk(b"IHDR", header) + b"".join(before) + b"".join(idats)
            + b"".join(after_idat) + chunk(b"IEND", b""))


def pillow_pixels(data, color_mode):
    img = Image.open(io.BytesIO(data))
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif img.mode != KERAS_MODES[color_mode]:
        img = img.convert(KERAS_MODES[color_mode])
    x = np.asarray(img)
    return x.reshape(x.shape[0], x.shape[1], -1)


def random_case(rng, h, w, c):
    # Smooth content (as in photographs, where Paeth picks all three
    # neighbours) plus noise (large differences, wrap-around).
    yy, xx = np.mgrid[0:h, 0:w]
    base = (yy[..., None] * rng.integers(0, 9, c) + xx[..., None] * rng.integers(0, 9, c)) % 256
    noise = rng.integers(0, 256, (h, w, c)) * (rng.random((h, w, 1)) < 0.3)
    pixels = ((base + noise) % 256).astype(np.uint8)
    return pixels, [int(f) for f in rng.integers(0, 5, h)]


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("seed", range(12))
def test_every_filter_matches_pillow(channels, seed):
    rng = np.random.default_rng(seed * 10 + channels)
    h, w = (int(v) for v in rng.integers(1, 40, 2))
    if seed == 0:
        h, w = 1, 1
    elif seed == 1:
        h, w = 37, 1  # one pixel per row: only the first-pixel cases
    pixels, filters = random_case(rng, h, w, channels)
    data = encode(pixels, filters, splits=int(rng.integers(1, 4)))
    assert np.array_equal(pillow_pixels(data, {1: "grayscale", 3: "rgb", 4: "rgba"}[channels]), pixels)
    for color_mode in KERAS_MODES:
        ours = png.decode_png(data, color_mode)
        if color_mode == "grayscale" and channels != 1:
            assert ours is None  # Pillow's own RGB -> L weighting
            continue
        ref = pillow_pixels(data, color_mode)
        assert ours is not None and ours.dtype == np.uint8 and ours.flags.c_contiguous
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("filt", range(5))
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_each_filter_alone_on_wide_rows(filt, channels):
    """Long rows of one filter: the pixel-at-a-time loops, and their last pixel."""
    rng = np.random.default_rng(filt * 7 + channels)
    pixels, _ = random_case(rng, 9, 257, channels)
    data = encode(pixels, [filt] * 9, level=0)
    mode = {1: "grayscale", 3: "rgb", 4: "rgba"}[channels]
    np.testing.assert_array_equal(png.decode_png(data, mode), pillow_pixels(data, mode))
    np.testing.assert_array_equal(png.decode_png(data, mode), pixels)


def test_images_saved_by_pillow():
    """What real files look like: Pillow's encoder picks each row's filter itself."""
    rng = np.random.default_rng(5)
    for h, w in ((120, 160), (61, 97)):
        yy, xx = np.mgrid[0:h, 0:w]
        # Shading plus a random field correlated along both axes, as in
        # photographs: Pillow then writes mostly Paeth rows, some Sub and Up.
        rgb = np.stack([(xx * 1.7 + yy * 0.3), (yy * 1.1 + np.sin(xx / 7.0) * 40), (xx + yy) * 0.8], axis=-1)
        field = rng.normal(0, 30, (h, w, 3)).cumsum(0).cumsum(1) / 8
        rgb = np.clip(rgb + field - field.mean(), 0, 255).astype(np.uint8)
        img = Image.fromarray(rgb)
        for img2 in (img, img.convert("RGBA"), img.convert("L")):
            for level in (1, 6, 9):
                buf = io.BytesIO()
                img2.save(buf, format="PNG", compress_level=level)
                for color_mode in ("rgb", "rgba", "grayscale"):
                    ours = png.decode_png(buf.getvalue(), color_mode)
                    if ours is None:
                        assert color_mode == "grayscale" and img2.mode != "L"
                        continue
                    np.testing.assert_array_equal(ours, pillow_pixels(buf.getvalue(), color_mode))


def _plain(rng=None):
    rng = rng or np.random.default_rng(0)
    pixels, filters = random_case(rng, 6, 5, 3)
    return pixels, filters


def _ihdr(w=5, h=6, depth=8, colour=2, interlace=0):
    return struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)


def test_metadata_chunks_are_read_past():
    pixels, filters = _plain()
    meta = [chunk(b"gAMA", struct.pack(">I", 45455)), chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
            chunk(b"tEXt", b"Software\x00pyimgaug tests")]
    data = encode(pixels, filters, before=meta, after_idat=[chunk(b"tEXt", b"Comment\x00after the data")])
    np.testing.assert_array_equal(png.decode_png(data, "rgb"), pillow_pixels(data, "rgb"))


def _declined_cases():
    pixels, filters = _plain()
    stream = zlib.compress(filter_rows(pixels, filters))
    good = encode(pixels, filters)
    bad_filter = bytearray(filter_rows(pixels, filters))
    bad_filter[0] = 5
    yield "not a PNG", b"\xff\xd8\xff" + good[3:]
    yield "palette", encode(pixels, filters, ihdr=_ihdr(colour=3), before=[chunk(b"PLTE", bytes(range(9)))])
    yield "grey+alpha", encode(pixels[..., :2], filters, ihdr=_ihdr(colour=4))
    yield "16-bit", encode(pixels, filters, ihdr=_ihdr(depth=16))
    yield "interlaced", encode(pixels, filters, ihdr=_ihdr(interlace=1))
    yield "transparency", encode(pixels, filters, before=[chunk(b"tRNS", b"\x00\x01\x00\x02\x00\x03")])
    yield "colour profile", encode(pixels, filters, before=[chunk(b"iCCP", b"x\x00\x00" + zlib.compress(b"icc"))])
    yield "animation", encode(pixels, filters, before=[chunk(b"acTL", struct.pack(">II", 1, 0))])
    yield "unknown chunk", encode(pixels, filters, before=[chunk(b"zzZz", b"?")])
    yield "bad header checksum", good[:8] + chunk(b"IHDR", _ihdr(), crc=123) + good[8 + 25:]
    yield "bad metadata checksum", encode(pixels, filters, before=[chunk(b"gAMA", b"\x00\x00\xb1\x8f", crc=1)])
    yield "no end chunk", good[:-12]
    yield "cut short", good[:len(good) // 2]
    yield "data split by metadata", (png.SIGNATURE + chunk(b"IHDR", _ihdr()) + chunk(b"IDAT", stream[:10])
                                     + chunk(b"tEXt", b"a\x00b") + chunk(b"IDAT", stream[10:]) + chunk(b"IEND", b""))
    yield "short stream", encode(pixels, filters, stream=zlib.compress(filter_rows(pixels, filters)[:-1]))
    yield "long stream", encode(pixels, filters, stream=zlib.compress(filter_rows(pixels, filters) + b"\x00"))
    yield "broken stream", encode(pixels, filters, stream=stream[:5] + b"\xff" * 8 + stream[13:])
    yield "unknown filter", encode(pixels, filters, stream=zlib.compress(bytes(bad_filter)))
    yield "zero width", encode(pixels, filters, ihdr=_ihdr(w=0))


@pytest.mark.parametrize("name,data", list(_declined_cases()), ids=[n for n, _ in _declined_cases()])
def test_files_it_does_not_take_go_to_pillow(name, data):
    for color_mode in KERAS_MODES:
        assert png.decode_png(data, color_mode) is None, (name, color_mode)


def test_images_over_pillows_bomb_limit_go_to_pillow(monkeypatch):
    pixels, filters = _plain()
    data = encode(pixels, filters)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 29)
    assert png.decode_png(data, "rgb") is None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30)
    assert png.decode_png(data, "rgb") is not None


def test_unfilter_rechecks_its_arguments():
    raw = bytes([0]) + bytes(6)
    out = np.empty((1, 2, 3), np.uint8)
    assert _core.png_unfilter_into(raw, 1, 2, 3, out)
    with pytest.raises(ValueError, match="raw"):
        _core.png_unfilter_into(raw[:-1], 1, 2, 3, out)
    with pytest.raises(ValueError, match="out"):
        _core.png_unfilter_into(raw, 1, 2, 3, np.empty((1, 3, 3), np.uint8))
    with pytest.raises(ValueError, match="out"):
        _core.png_unfilter_into(raw, 1, 2, 3, np.empty((1, 2, 3), np.float32))
    with pytest.raises(ValueError, match="out"):
        _core.png_unfilter_into(raw, 1, 2, 3, np.empty((1, 2, 1), np.uint8))  # RGB -> L is Pillow's
    with pytest.raises(ValueError, match="size or channel"):
        _core.png_unfilter_into(raw, 1, 2, 2, out)
    assert not _core.png_unfilter_into(bytes([7]) + bytes(6), 1, 2, 3, out)


def _write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_decode_for_batch_is_the_same_with_either_decoder(tmp_path, monkeypatch, channels, color_mode,
                                                          interpolation):
    rng = np.random.default_rng(channels)
    pixels, filters = random_case(rng, 11, 13, channels)
    if channels == 4:
        pixels[0, 0, 3] = 7  # not opaque: Pillow resizes it (premultiplied)
    path = _write(tmp_path, "a.png", encode(pixels, filters))
    ours = pio.decode_for_batch(path, color_mode, (8, 8), interpolation)
    monkeypatch.setattr(png, "decode_png", lambda data, mode: None)
    pillows = pio.decode_for_batch(path, color_mode, (8, 8), interpolation)
    assert ours[1] == pillows[1] and ours[0].dtype == pillows[0].dtype
    np.testing.assert_array_equal(ours[0], pillows[0])


def test_a_broken_png_is_still_a_bad_image_naming_the_file(tmp_path):
    pixels, filters = _plain()
    raw = bytearray(filter_rows(pixels, filters))
    raw[3 * (1 + 5 * 3)] = 9  # row 3 names an unknown filter type (Pillow raises)
    path = _write(tmp_path, "broken.png", encode(pixels, filters, stream=zlib.compress(bytes(raw))))
    with pytest.raises(BadImageError, match="broken.png"):
        pio.decode_for_batch(path, "rgb", (4, 4), "nearest")
    seen = []
    assert pio.decode_for_batch(path, "rgb", (4, 4), "nearest", on_bad=lambda p, e: seen.append(p)) is None
    assert seen == [path]


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("h,w", [(2, 1), (2, 2), (3, 1), (3, 5), (4, 3), (5, 64)])
def test_paeth_row_pairs_at_every_edge(channels, h, w):
    """Consecutive Paeth rows are reversed two at a time: short rows, odd counts."""
    rng = np.random.default_rng(h * 100 + w)
    pixels = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
    for filters in ([4] * h, [4] * (h - 1) + [1], [1] + [4] * (h - 1)):
        data = encode(pixels, filters)
        mode = "rgb" if channels == 3 else "rgba"
        np.testing.assert_array_equal(png.decode_png(data, mode), pixels)
        np.testing.assert_array_equal(png.decode_png(data, mode), pillow_pixels(data, mode))
