"""Image file I/O with Pillow, under Keras's names and semantics.

`load_img`, `img_to_array`, `array_to_img` and `save_img` behave like the
functions of the same name in `keras_preprocessing.image` 1.1.2.

`decode_for_batch` is what the iterators use: it decodes a file to a uint8
array at its native size, so that one kernel call can resize a whole batch.
"""
import io as _io
import os
import warnings

import numpy as np

from ..errors import BadImageError, reading_image
from . import jpeg as _jpeg
from . import png as _png

try:
    from PIL import Image as pil_image
    from PIL import ImageEnhance
except ImportError:  # pragma: no cover - Pillow is a hard dependency
    pil_image = None
    ImageEnhance = None

__all__ = [
    "load_img",
    "img_to_array",
    "array_to_img",
    "save_img",
    "INTERPOLATION_METHODS",
]

if pil_image is not None:
    _PIL_INTERPOLATION_METHODS = {
        "nearest": pil_image.NEAREST,
        "bilinear": pil_image.BILINEAR,
        "bicubic": pil_image.BICUBIC,
        "hamming": pil_image.HAMMING,
        "box": pil_image.BOX,
        "lanczos": pil_image.LANCZOS,
    }
else:  # pragma: no cover
    _PIL_INTERPOLATION_METHODS = {}

#: Interpolation names accepted by `load_img` and the iterators.
INTERPOLATION_METHODS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")

COLOR_MODES = ("grayscale", "rgb", "rgba")


def _require_pil(what):
    if pil_image is None:  # pragma: no cover
        raise ImportError("Could not import PIL.Image. The use of `%s` requires PIL." % what)


def check_interpolation(interpolation):
    """Raises the reference's ValueError for an unknown interpolation name."""
    if interpolation not in _PIL_INTERPOLATION_METHODS:
        raise ValueError(
            "Invalid interpolation method {} specified. Supported "
            "methods are {}".format(interpolation, ", ".join(_PIL_INTERPOLATION_METHODS.keys()))
        )


def _read_file(path):
    """The contents of the file at `path`: one open, one stat and, for a file that
    keeps its size meanwhile, one read (no Python file object: a few microseconds
    a file, which matter when the decoding is a draft's fraction of a millisecond)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)
        if len(data) == size:
            return data
        # Short read, or a file that changed size: read on to the end, as f.read() does.
        chunks = [data]
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def _open_converted(path, color_mode, draft_size=None, data=None):
    """Opens `path` and converts it to `color_mode` exactly as Keras does.

    `draft_size=(w, h)` lets a JPEG decode at a reduced DCT scale (1/2, 1/4,
    1/8) as long as the result stays at least that size (Pillow's `draft`).
    `data`: the file's contents, when the caller has read them already.
    """
    if data is None:
        data = _read_file(path)
    img = pil_image.open(_io.BytesIO(data))
    if draft_size is not None and img.format == "JPEG":
        img.draft(img.mode, draft_size)
    if color_mode == "grayscale":
        # 8-bit, 16-bit and 32-bit grayscale images are kept as they are;
        # everything else becomes 8-bit 'L'.
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    return img


def _open_image(path, color_mode, draft_size=None, data=None):
    """`_open_converted`, decoded now; any failure is a `BadImageError` naming `path`.

    Pillow decodes lazily: without `load()` a truncated file would fail later,
    outside the error handling, in whatever first touches the pixels.
    """
    with reading_image(path):
        img = _open_converted(path, color_mode, draft_size, data)
        img.load()
    return img


def load_img(path, grayscale=False, color_mode="rgb", target_size=None, interpolation="nearest"):
    """Loads an image into PIL format.

    # Arguments
        path: Path to image file.
        grayscale: DEPRECATED use `color_mode="grayscale"`.
        color_mode: One of `"grayscale"`, `"rgb"`, `"rgba"`. Default: `"rgb"`.
            `"grayscale"` keeps 16-bit and 32-bit integer grayscale images as
            they are and converts everything else to 8-bit.
        target_size: Either `None` (default to original size)
            or tuple of ints `(img_height, img_width)`.
        interpolation: Interpolation method used to resample the image if the
            target size is different from that of the loaded image. One of
            `"nearest"`, `"bilinear"`, `"bicubic"`, `"hamming"`, `"box"`,
            `"lanczos"`. Default: `"nearest"`.

    # Returns
        A PIL Image instance.

    # Raises
        ValueError: if `color_mode` or `interpolation` is not supported.
        pyimgaug.errors.BadImageError: (an `OSError`) if the file cannot be
            read or decoded; the message names the file, the original error
            is its `__cause__`, and it is also an instance of the original
            error's class where the two can be combined.
    """
    if grayscale is True:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"')
        color_mode = "grayscale"
    _require_pil("load_img")
    if color_mode not in COLOR_MODES:
        # Checked before the file is read, so that a bad file cannot hide it.
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')
    img = _open_image(path, color_mode)
    if target_size is not None:
        width_height_tuple = (target_size[1], target_size[0])
        if img.size != width_height_tuple:
            check_interpolation(interpolation)
            resized = _kernel_resize(img, width_height_tuple, interpolation)
            if resized is None:
                resized = img.resize(width_height_tuple, _PIL_INTERPOLATION_METHODS[interpolation])
            img = resized
    return img


def _kernel_resize(img, width_height, interpolation):
    """`img.resize(width_height, interpolation)` by the kernel, or None where Pillow must do it.

    The kernel's uint8 resize is bit-identical to the installed Pillow's
    (`transform_batch` checks that once, and lets Pillow resize otherwise), and
    faster.  Pillow resizes RGBA through premultiplied alpha (except with
    nearest), which the kernel does not do: such images, unless fully opaque,
    and 16/32-bit grayscale stay with Pillow, as do sizes Pillow itself would
    reject (so its error is the one raised).
    """
    w, h = width_height
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in (w, h)):
        return None
    mode = img.mode
    if mode not in ("L", "RGB", "RGBA"):
        return None
    x = _uint8_pixels(img)
    if mode == "RGBA" and interpolation != "nearest" and not bool((x[..., 3] == 255).all()):
        return None
    from .._kernel import transform_batch
    # One image: one thread (the kernel parallelises over the images of a batch).
    out = transform_batch([x], resize_to=(int(h), int(w)), resample=interpolation, dtype="uint8",
                          num_threads=1)[0]
    resized = pil_image.fromarray(out[..., 0] if mode == "L" else out)  # L, RGB or RGBA
    resized.info = img.info.copy()  # Image.resize keeps it too
    return resized


def img_to_array(img, data_format="channels_last", dtype="float32"):
    """Converts a PIL Image instance to a Numpy array.

    # Arguments
        img: PIL Image instance.
        data_format: Image data format, `"channels_first"` or `"channels_last"`.
        dtype: Dtype to use for the returned array.

    # Returns
        A 3D Numpy array.

    # Raises
        ValueError: if invalid `img` or `data_format` is passed.
    """
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Unknown data_format: %s" % data_format)
    x = np.asarray(img, dtype=dtype)
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        if data_format == "channels_first":
            x = x.reshape((1, x.shape[0], x.shape[1]))
        else:
            x = x.reshape((x.shape[0], x.shape[1], 1))
    else:
        raise ValueError("Unsupported image shape: %s" % (x.shape,))
    return x


def array_to_img(x, data_format="channels_last", scale=True, dtype="float32"):
    """Converts a 3D Numpy array to a PIL Image instance.

    # Arguments
        x: Input Numpy array.
        data_format: Image data format, `"channels_first"` or `"channels_last"`.
        scale: Whether to rescale the image such that minimum and maximum values
            are 0 and 255 respectively. Default: True.
        dtype: Dtype to use. Default: `"float32"`.

    # Returns
        A PIL Image instance.

    # Raises
        ValueError: if invalid `x` or `data_format` is passed.
    """
    _require_pil("array_to_img")
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 3:
        raise ValueError(
            "Expected image array to have rank 3 (single image). Got array with shape: %s" % (x.shape,)
        )
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Invalid data_format: %s" % data_format)
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    if x.shape[2] == 4:
        return pil_image.fromarray(x.astype("uint8"), "RGBA")
    elif x.shape[2] == 3:
        return pil_image.fromarray(x.astype("uint8"), "RGB")
    elif x.shape[2] == 1:
        if np.max(x) > 255:
            # 32-bit signed integer grayscale image. PIL mode "I"
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    else:
        raise ValueError("Unsupported channel number: %s" % (x.shape[2],))


def save_img(path, x, data_format="channels_last", file_format=None, scale=True, **kwargs):
    """Saves an image stored as a Numpy array to a path or file object.

    # Arguments
        path: Path or file object.
        x: Numpy array.
        data_format: Image data format, `"channels_first"` or `"channels_last"`.
        file_format: Optional file format override. If omitted, the
            format to use is determined from the filename extension.
            If a file object was used instead of a filename, this
            parameter should always be used.
        scale: Whether to rescale image values to be within `[0, 255]`.
        **kwargs: Additional keyword arguments passed to `PIL.Image.save()`.
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpg" or file_format == "jpeg"):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _uint8_pixels(img):
    """`np.asarray(img)` of a loaded 8-bit L, RGB or RGBA image, with one copy fewer.

    `np.asarray` goes through `Image.tobytes()`, which packs the pixels in
    64 KiB pieces and then joins them: a second copy of the whole image and
    one Python call per piece.  Here Pillow's raw encoder (the one `tobytes`
    uses, with the same packer, so the same bytes) packs the image in one
    call into one buffer of exactly its size, which the array then shares.
    Where that does not happen as expected (an empty image, a Pillow whose
    encoder API differs), `np.asarray` does it.
    """
    w, h = img.size
    channels = len(img.mode)  # "L", "RGB", "RGBA": one byte per channel
    try:
        encoder = pil_image._getencoder(img.mode, "raw", img.mode)
        try:
            encoder.setimage(img.im, (0, 0, w, h))
            written, status, data = encoder.encode(w * h * channels)
        finally:
            encoder.cleanup()
    except (AttributeError, TypeError, ValueError, SystemError, OSError):
        written, status = -1, 0
    if status != 1 or written != w * h * channels or len(data) != written:  # 1: the whole image
        x = np.asarray(img)
    else:
        x = np.frombuffer(data, dtype=np.uint8).reshape(h, w, channels)
    return x.reshape(h, w, channels)


def decode_for_batch(path, color_mode, target_size, interpolation, decode="exact", on_bad=None):
    """Decodes one file for a batch.

    `decode="fast"` lets a JPEG at least twice `target_size` decode at a
    reduced scale (see `_open_converted`); the rest of the resize is then the
    kernel's, with `interpolation`.  `"exact"` decodes at full size, as Keras.

    Returns `(array, resized)`: a uint8 (H, W, C) array at the native size with
    `resized=False` in the common case (8-bit L/RGB, or RGBA that Pillow would
    resize without alpha premultiplication), so that the kernel does the resize.
    For a colour JPEG in "rgb" the array is the RGB of the decoder's RGBX pixels,
    a view whose pixels are 4 bytes apart, which the kernel reads in place.

    Pillow resizes RGBA through premultiplied alpha (for every filter except
    nearest) and resizes 16/32-bit grayscale in integer precision; the kernel
    does neither, so in those cases the file is resized here with Pillow, the
    way Keras does, and returned as float32 at `target_size` with
    `resized=True`.

    A file that cannot be read raises `BadImageError` naming it; with
    `on_bad`, `on_bad(path, error)` is called instead and None is returned.
    """
    width_height = (target_size[1], target_size[0])
    draft_size = width_height if decode == "fast" else None
    try:
        with reading_image(path):
            data = _read_file(path)
            # Plain PNG files: our decoder, the same pixels as Pillow's, faster.
            x = _png.decode_png(data, color_mode)
            if x is None:
                # JPEG files: Pillow's decoder, without Pillow's Python around it.
                x = _jpeg.decode_jpeg(data, color_mode, draft_size)
        if x is None:
            img = _open_image(path, color_mode, draft_size, data)
        else:
            needs_resize = (x.shape[1], x.shape[0]) != width_height
            if needs_resize:
                check_interpolation(interpolation)
            if x.shape[2] != 4 or not needs_resize or interpolation == "nearest" or bool((x[..., 3] == 255).all()):
                return x, False
            # RGBA that Pillow resizes through premultiplied alpha (below): the
            # same pixels as Pillow's decode, without decoding the file again.
            img = pil_image.fromarray(x, "RGBA")
    except BadImageError as err:
        if on_bad is None:
            raise
        on_bad(path, err)
        return None
    try:
        needs_resize = img.size != width_height
        if needs_resize:
            check_interpolation(interpolation)
        if img.mode in ("L", "RGB"):
            return _uint8_pixels(img), False
        if img.mode == "RGBA":
            x = _uint8_pixels(img)
            if not needs_resize or interpolation == "nearest" or bool((x[..., 3] == 255).all()):
                # Premultiplying by an opaque alpha is the identity.
                return x, False
        # Rare modes: do what Keras does, in Pillow.
        if needs_resize:
            img = img.resize(width_height, _PIL_INTERPOLATION_METHODS[interpolation])
        return img_to_array(img, dtype=np.float32), True
    finally:
        img.close()


def is_image_filename(filename, white_list_formats):
    """True if `filename` has an allowed extension (any case) and is a file."""
    return filename.lower().endswith(white_list_formats) and os.path.isfile(filename)
