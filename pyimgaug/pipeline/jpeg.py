"""Decodes JPEG files with Pillow's own decoder, without Pillow's Python around it.

Pillow decodes JPEG in C (libjpeg-turbo, through `Image.core.jpeg_decoder`).
Around that call, `Image.open` walks every marker segment in Python (and
parses quantization tables, EXIF and ICC data that Keras never reads), and
`load()` feeds the decoder through a chain of Python reads: about a tenth of the
time of a photograph's decoding, full size or drafted
(`benchmarks/bench_decode_jpeg.py`).

Here a short scan of the header finds what the decoder needs (the frame's
size and components), and Pillow's decoder is called with exactly the
arguments Pillow's loader gives it: `jpeg_decoder(mode, rawmode, "", scale, 0)`,
with the draft scale computed as `JpegImageFile.draft` computes it, on the
whole file at once, writing straight into a NumPy array (`decode_jpeg`).  The
same decoder on the same bytes gives Pillow's pixels; `tests/test_jpeg.py`
checks that on every pixel.

Only files whose header Pillow reads without incident, and that the decoder
finishes cleanly, are taken: 8-bit baseline, extended or progressive JPEG
with one or three components.  For everything else `decode_jpeg` and
`open_jpeg` return None and the caller lets Pillow open the file, so Pillow's errors, warnings and
`LOAD_TRUNCATED_IMAGES` handling are unchanged: CMYK, lossless, hierarchical
and arithmetic-coded frames, multi-picture (MPO) files, bytes between
segments, a segment running past the end, a quantization table or metadata
segment Pillow's parser would reject, EXIF data Pillow would parse for the
resolution, images over Pillow's decompression-bomb limit, and truncated or
damaged data.
"""
import numpy as np

try:
    from PIL import Image as _pil_image
except ImportError:  # pragma: no cover - Pillow is a hard dependency
    _pil_image = None

__all__ = ["decode_jpeg", "open_jpeg"]

# Frames taken: baseline, extended sequential and progressive Huffman DCT.
_FRAMES = frozenset((0xC0, 0xC1, 0xC2))
# Markers Pillow reads a length for and skips or records; any other marker
# before the scan (another frame type, a standalone marker such as RSTn or
# EOI, JPGn, which Pillow reads without a length) sends the file to Pillow.
_SEGMENTS = frozenset([0xC4, 0xCC, 0xDB, 0xDD, 0xFE] + list(range(0xE0, 0xF0)))
_LAYER_MODES = {1: "L", 3: "RGB"}


def _header(data):
    """-> (mode, width, height) of a JPEG this path takes, else None."""
    n = len(data)
    pos = 2
    frame = -1  # where the frame header's body starts
    jfif_dpi = exif = False
    while True:
        while pos + 1 < n and data[pos] == 0xFF and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes, which Pillow skips too
        if pos + 4 > n or data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = (data[pos + 2] << 8) | data[pos + 3]
        body, end = pos + 4, pos + 2 + length  # the segment's body is data[body:end]
        if length < 2 or end > n:
            return None
        if marker == 0xDA:  # start of scan: the header is complete
            break
        if marker in _FRAMES:
            if frame >= 0 or length < 8 or length != 8 + 3 * data[body + 5]:
                return None
            frame = body
        elif marker == 0xDB:
            # Pillow's parser rejects a table that does not fill the segment.
            at = body
            while at < end:
                at += 65 if data[at] < 16 else 129
            if at != end:
                return None
        elif marker not in _SEGMENTS:
            return None
        elif marker == 0xE0 and data.startswith(b"JFIF", body, end):
            if length < 9:
                return None  # Pillow cannot read the version
            if length >= 14 and data[body + 7] in (1, 2):
                jfif_dpi = True
        elif marker == 0xE1 and data.startswith(b"Exif\0\0", body, end):
            exif = True
        elif marker == 0xE2 and (data.startswith(b"MPF\0", body, end)
                                 or (data.startswith(b"ICC_PROFILE\0", body, end) and length < 16)):
            return None  # a multi-picture file, or a profile piece Pillow cannot order
        elif marker == 0xED and data.startswith(b"Photoshop 3.0\0", body, end):
            return None  # Pillow parses resource blocks, and can fail on them
        elif marker == 0xEE and data.startswith(b"Adobe", body, end) and length < 9:
            return None
        pos = end
    if frame < 0 or data[frame] != 8:
        return None
    if exif and not jfif_dpi:
        # Pillow would parse the EXIF data for a resolution; a malformed block
        # can make it reject the file.  Its loader decides.
        return None
    height = (data[frame + 1] << 8) | data[frame + 2]
    width = (data[frame + 3] << 8) | data[frame + 4]
    mode = _LAYER_MODES.get(data[frame + 5])
    if mode is None or width < 1 or height < 1:
        return None
    return mode, width, height


def _draft_scale(width, height, draft_size):
    """The DCT scale `JpegImageFile.draft(mode, draft_size)` picks."""
    if not draft_size:
        return 1
    scale = min(width // draft_size[0], height // draft_size[1])
    for s in (8, 4, 2, 1):
        if scale >= s:
            return s
    return 1


def _plan(data, draft_size):
    """-> (mode, (width, height) after the draft, DCT scale) of a file this path takes, else None."""
    if _pil_image is None or not data.startswith(b"\xff\xd8\xff"):
        return None
    found = _header(data)
    if found is None:
        return None
    mode, width, height = found
    limit = getattr(_pil_image, "MAX_IMAGE_PIXELS", None)
    if limit is not None and width * height > limit:
        return None  # Pillow warns or refuses: let it
    scale = _draft_scale(width, height, draft_size)
    return mode, ((width + scale - 1) // scale, (height + scale - 1) // scale), scale


def _decode_into(im, image_mode, rawmode, scale, data):
    """Runs Pillow's JPEG decoder into core image `im` (of `image_mode`); True when it
    finished cleanly.  Its arguments are those Pillow's loader passes for a file
    drafted to `scale`: `Image._getdecoder(mode, "jpeg", (rawmode, ""), (scale, 0))`."""
    try:
        decoder = _pil_image.core.jpeg_decoder(image_mode, rawmode, "", scale, 0)
    except (AttributeError, TypeError, ValueError):
        return False  # a Pillow whose internals differ: its loader decodes
    try:
        decoder.setimage(im, (0, 0) + tuple(im.size))
        consumed, err = decoder.decode(data)
    except (TypeError, ValueError, OSError):
        return False
    finally:
        decoder.cleanup()
    # consumed >= 0: the decoder wants more data (a truncated file);
    # err < 0: damaged data.  Pillow reports (or pads) those itself.
    return consumed < 0 and err >= 0


def open_jpeg(data, draft_size=None):
    """JPEG file contents `data`, decoded as Pillow decodes them.

    `draft_size=(w, h)`: decode at the reduced scale `Image.draft` would pick
    for that size.  Returns a loaded `PIL.Image.Image` in mode "L" or "RGB"
    (as `Image.open` gives it, before any conversion), or None when this path
    does not take the file (see the module docstring).
    """
    return _open_planned(data, _plan(data, draft_size))


def _open_planned(data, plan):
    """`open_jpeg` for a `_plan` already made (None: not taken)."""
    if plan is None:
        return None
    mode, size, scale = plan
    try:
        im = _pil_image.core.new(mode, size)
    except (AttributeError, TypeError, ValueError):
        return None
    if not _decode_into(im, mode, mode, scale, data):
        return None
    return _pil_image.Image()._new(im)


def decode_jpeg(data, color_mode, draft_size=None):
    """The pixels of JPEG file contents `data` as Keras's `color_mode` gives them.

    Returns a uint8 array (height, width, channels) with 1, 3 or 4 channels for
    "grayscale", "rgb" or "rgba", equal to `np.asarray` of the image Keras
    loads (`open_jpeg`, then converted), or None when this path does not take
    the file.  The decoder writes straight into the array's memory.  For "rgb"
    and "rgba" it writes 4-byte RGBX pixels (Pillow's own layout; libjpeg turns
    a grayscale file's values into R = G = B, which is Pillow's L -> RGB), and
    the "rgb" result is their first three channels, a view whose pixels are 4
    bytes apart (the kernel reads those in place; `np.ascontiguousarray` packs
    them).
    """
    plan = _plan(data, draft_size)
    if plan is None:
        return None
    mode, (width, height), scale = plan
    if color_mode == "grayscale":
        if mode == "RGB":
            img = _open_planned(data, plan)  # Pillow's RGB -> L weighting
            return None if img is None else np.asarray(img.convert("L"))[..., None]
        pixels = np.empty((height, width), dtype=np.uint8)
        image_mode = rawmode = "L"
    elif color_mode in ("rgb", "rgba"):
        # RGBX pixels, Pillow's own layout. For a grayscale file the decoder
        # repeats the value into R, G and B, as Pillow's L -> RGB conversion does.
        pixels = np.empty((height, width, 4), dtype=np.uint8)
        image_mode, rawmode = "RGBX", "RGB"
    else:
        return None
    try:
        # Pillow's Image.frombuffer maps these modes onto the buffer the same way.
        im = _pil_image.core.map_buffer(pixels, (width, height), "raw", 0, (image_mode, 0, 1))
    except (AttributeError, TypeError, ValueError):
        return None
    if not _decode_into(im, image_mode, rawmode, scale, data):
        return None
    if color_mode == "grayscale":
        return pixels[..., None]
    if color_mode == "rgb":
        return pixels[..., :3]
    pixels[..., 3] = 255  # Pillow's RGB -> RGBA: opaque
    return pixels
