"""Decodes plain 8-bit PNG files faster than Pillow, to the same bytes.

Pillow reverses PNG's row filters one byte at a time; on photographs saved
with Paeth filtering (what Pillow and most tools write) that costs as much as
inflating the data.  Here zlib (the standard library's, which releases the
GIL) inflates the image data and the kernel module reverses the filters a
pixel at a time (`_core.png_unfilter_into`, GIL-free), writing the pixels
straight in the channel count asked for.  Lossless decoding has one right
answer, so the result is the array Pillow gives, converted as Keras converts
it; `tests/test_png.py` checks that against Pillow on every pixel.

Only the files whose decoding and conversion involve nothing else are taken:
8-bit grayscale, RGB or RGBA, not interlaced, with no chunk that could change
the pixels or Pillow's behaviour (palettes, transparency, colour profiles,
animation, unknown chunks).  For every other file, and for anything unusual
(a bad checksum, a short or long data stream, an unknown filter, an image
over Pillow's decompression-bomb limit), `decode_png` returns None and the
caller lets Pillow decode the file, so Pillow's warnings and errors are the
ones a user sees.
"""
import struct
import zlib

import numpy as np

try:
    from PIL import Image as _pil_image
except ImportError:  # pragma: no cover - Pillow is a hard dependency
    _pil_image = None

__all__ = ["SIGNATURE", "decode_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Colour type -> channels: 0 grayscale (Pillow's "L"), 2 RGB, 6 RGBA.
_CHANNELS = {0: 1, 2: 3, 6: 4}
# Keras's color_mode -> channels of the array it ends with.
_OUT_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
# Ancillary chunks that Pillow only records in `info` (or ignores); any other
# chunk sends the file to Pillow.
_METADATA_CHUNKS = frozenset((b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"tIME", b"sBIT", b"bKGD", b"tEXt"))
# Larger metadata than this is not what this path is for (Pillow limits text).
_MAX_METADATA_BYTES = 1 << 16
_CHUNK_HEAD = struct.Struct(">I4s")
_CRC = struct.Struct(">I")
_IHDR = struct.Struct(">IIBBBBB")


def _image_chunks(data):
    """-> (IHDR fields, list of IDAT bodies) of a PNG this path takes, else None."""
    n = len(data)
    view = memoryview(data)
    pos = len(SIGNATURE)
    header = None
    idat = []
    idat_ended = False
    while True:
        if pos + 12 > n:
            return None  # truncated (no IEND): Pillow decides
        length, kind = _CHUNK_HEAD.unpack_from(data, pos)
        body_end = pos + 8 + length
        if body_end + 4 > n:
            return None
        if kind == b"IDAT":
            # Pillow does not check image data checksums; zlib's own check and
            # the exact length below catch damage in the stream.
            if header is None or idat_ended:
                return None
            idat.append(view[pos + 8:body_end])
        else:
            # Pillow rejects a chunk with a bad checksum.
            if zlib.crc32(view[pos + 4:body_end]) != _CRC.unpack_from(data, body_end)[0]:
                return None
            if kind == b"IHDR":
                if header is not None or length != _IHDR.size:
                    return None
                header = _IHDR.unpack_from(data, pos + 8)
            elif header is None:
                return None  # IHDR must come first
            elif kind == b"IEND":
                return (header, idat) if idat else None
            elif kind in _METADATA_CHUNKS and length <= _MAX_METADATA_BYTES:
                idat_ended = bool(idat)
            else:
                return None
        pos = body_end + 4


def decode_png(data, color_mode):
    """The pixels of PNG file contents `data` as Keras's `color_mode` gives them.

    Returns a uint8 array (height, width, channels) with 1, 3 or 4 channels
    for "grayscale", "rgb" or "rgba", equal to
    `np.asarray(Image.open(...).convert(mode))` as Keras converts, or None when
    this path does not take the file (see the module docstring).
    """
    if not data.startswith(SIGNATURE):
        return None
    out_channels = _OUT_CHANNELS.get(color_mode)
    if out_channels is None:
        return None
    found = _image_chunks(data)
    if found is None:
        return None
    (width, height, depth, colour, compression, filter_method, interlace), idat = found
    channels = _CHANNELS.get(colour)
    if (channels is None or depth != 8 or compression or filter_method or interlace
            or width < 1 or height < 1):
        return None
    if out_channels == 1 and channels != 1:
        return None  # Pillow's RGB -> L weighting stays Pillow's
    limit = getattr(_pil_image, "MAX_IMAGE_PIXELS", None)
    if limit is not None and width * height > limit:
        return None  # Pillow warns or refuses: let it
    expected = height * (1 + width * channels)
    inflater = zlib.decompressobj()
    try:
        # At most one byte more than the image: enough to see a long stream.
        raw = inflater.decompress(b"".join(idat), expected + 1)
    except zlib.error:
        return None
    if len(raw) != expected:
        return None
    from .. import _core
    out = np.empty((height, width, out_channels), dtype=np.uint8)
    if not _core.png_unfilter_into(raw, height, width, channels, out):
        return None  # an unknown filter type: Pillow's error
    return out
