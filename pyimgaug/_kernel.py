"""The single caller of the compiled kernel: validates and normalises arguments.

Everything a user can get wrong is checked here, with a message naming the
argument; the C++ side re-checks its invariants but only as a last line of defence.
"""
from __future__ import annotations

import math
import numbers
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from .pipeline import budget as _budget
from . import pillow_compat as _pillow_compat

RESAMPLE_FILTERS = {"nearest": 0, "box": 1, "bilinear": 2, "hamming": 3, "bicubic": 4, "lanczos": 5}
FILL_MODES = {"constant": 0, "nearest": 1, "reflect": 2, "wrap": 3}
INPUT_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32), np.dtype(np.float64))
OUTPUT_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64), "uint8": np.dtype(np.uint8)}
CHANNELS = (1, 3, 4)
# Far beyond any real image, far below sizes whose byte counts could overflow.
MAX_SIDE = 1 << 20
MAX_OUTPUT_BYTES = 1 << 40
# Pixels further apart than this are copied packed first (the kernel's own limit).
MAX_PIXEL_STRIDE = 1 << 20

ImageBatch = Union[np.ndarray, Sequence[np.ndarray]]


def _choice(value, choices, name):
    if not isinstance(value, str) or value.lower() not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}; got {value!r}")
    return choices[value.lower()]


def _size(value, name) -> Tuple[int, int]:
    try:
        h, w = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a (height, width) pair of integers; got {value!r}") from None
    out = []
    for v in (h, w):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Integral, np.integer)):
            raise TypeError(f"{name} must be a (height, width) pair of integers; got {value!r}")
        if not 1 <= int(v) <= MAX_SIDE:
            raise ValueError(f"{name} sides must be between 1 and {MAX_SIDE}; got {value!r}")
        out.append(int(v))
    return out[0], out[1]


def _finite_number(value, name) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return f


def _output_dtype(dtype) -> np.dtype:
    if isinstance(dtype, str):
        name = dtype
    elif isinstance(dtype, np.dtype) or (isinstance(dtype, type) and issubclass(dtype, np.generic)):
        name = np.dtype(dtype).name
    else:
        raise TypeError(f"dtype must be one of {sorted(OUTPUT_DTYPES)} (a name or a NumPy dtype); got {dtype!r}")
    if name not in OUTPUT_DTYPES:
        raise ValueError(f"dtype must be one of {sorted(OUTPUT_DTYPES)}; got {dtype!r}")
    return OUTPUT_DTYPES[name]


# Pillow's filter supports, to size the coefficient tables before the kernel does.
FILTER_SUPPORT = {"box": 0.5, "bilinear": 1.0, "hamming": 1.0, "bicubic": 2.0, "lanczos": 3.0}
MAX_TABLE_ENTRIES = 1 << 26   # per axis: out_size x taps
MAX_STAGE1_BYTES = 1 << 32    # per image and thread, the resized image the warp reads
# Orders 2-5: per image and thread, the spline coefficients (doubles) of the image
# the warp reads, prepadded by 12 pixels per side for fill_mode "nearest" as scipy
# does. The kernel refuses more (csrc/kernel/spline_filter.hpp, kMaxCoefficients).
MAX_SPLINE_COEFFICIENTS = 1 << 29
SPLINE_PREPAD = {"nearest": 12}
SPLINE_ORDERS = (2, 3, 4, 5)


def _check_resize_tables(image_list, resize, resample) -> None:
    support = FILTER_SUPPORT.get(resample.lower())
    if support is None or resize is None or not image_list:
        return
    for axis, out_size in ((0, resize[0]), (1, resize[1])):
        in_size = max(a.shape[axis] for a in image_list)
        taps = math.ceil(support * max(in_size / out_size, 1.0)) * 2 + 1
        if out_size * taps > MAX_TABLE_ENTRIES:
            raise ValueError(f"resize_to {tuple(resize)}: reducing {in_size} pixels to {out_size} with {resample} "
                             f"needs {out_size * taps} filter taps, more than the {MAX_TABLE_ENTRIES} supported")


def _check_spline_memory(image_list, resize, order, fill_mode, channels) -> None:
    """Orders 2-5 hold each image's spline coefficients in doubles: refuse absurd sizes here."""
    if order not in SPLINE_ORDERS or not image_list:
        return
    pad = 2 * SPLINE_PREPAD.get(fill_mode.lower(), 0)
    if resize is not None:
        h, w = resize
    else:
        h, w = max(a.shape[0] for a in image_list), max(a.shape[1] for a in image_list)
    count = (h + pad) * (w + pad) * channels
    if count > MAX_SPLINE_COEFFICIENTS:
        raise ValueError(
            f"order {order}: an image of {h}x{w}x{channels} needs {count * 8} bytes of spline coefficients, "
            f"more than the {MAX_SPLINE_COEFFICIENTS * 8} supported; use order 0 or 1 (no coefficients), or smaller images")


def _as_image(a, index) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"images[{index}] must be a numpy array; got {type(a).__name__}")
    if a.dtype.byteorder not in "=|" and a.dtype.newbyteorder("=") in INPUT_DTYPES:
        a = a.astype(a.dtype.newbyteorder("="))  # big-endian files, e.g. 16-bit PNG/FITS data
    if a.dtype not in INPUT_DTYPES:
        raise TypeError(f"images[{index}] has dtype {a.dtype}; expected one of uint8, uint16, float32, float64")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3:
        raise ValueError(f"images[{index}] must be (H, W) or (H, W, C); got shape {a.shape}")
    if a.shape[2] not in CHANNELS:
        raise ValueError(f"images[{index}] has {a.shape[2]} channels; expected one of {CHANNELS}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"images[{index}] is empty: shape {a.shape}")
    if a.shape[0] > MAX_SIDE or a.shape[1] > MAX_SIDE:
        raise ValueError(f"images[{index}] is too large: shape {a.shape}")
    if not reads_in_place(a):
        a = np.array(a, order="C", copy=True)  # packed, and a fresh allocation is aligned
    return a


def reads_in_place(a) -> bool:
    """Whether the kernel reads the (H, W, C) array `a` without a copy.

    It reads rows and pixels through their strides: a pixel's samples must be
    contiguous, pixels at least a pixel apart, forwards (further apart is fine:
    the RGB of RGBX pixels is read in place), and samples aligned to their size
    (an unaligned load is undefined in C++).  (Strides of axes of length 1 are
    never used, and NumPy leaves them arbitrary.)
    """
    item = a.dtype.itemsize
    pixel = a.strides[1] if a.shape[1] > 1 else item * a.shape[2]
    return not ((a.shape[2] > 1 and a.strides[2] != item) or pixel < item * a.shape[2] or pixel % item
                or pixel > MAX_PIXEL_STRIDE or not a.flags.aligned or (a.shape[0] > 1 and a.strides[0] % item))


def _image_list(images) -> list:
    if isinstance(images, np.ndarray):
        if images.dtype not in INPUT_DTYPES and images.dtype.newbyteorder("=") not in INPUT_DTYPES:
            raise TypeError(f"images has dtype {images.dtype}; expected one of uint8, uint16, float32, float64")
        if images.ndim == 3:
            # (N, H, W) grayscale batch.
            images = images[..., None]
        if images.ndim != 4:
            raise ValueError(f"images must be an (N, H, W, C) array or a sequence of (H, W[, C]) arrays; got shape {images.shape}")
        if images.shape[0] == 0:
            # Nothing to convert, but an empty batch must still describe valid images.
            if images.shape[3] not in CHANNELS:
                raise ValueError(f"images has {images.shape[3]} channels; expected one of {CHANNELS}")
            if images.shape[1] < 1 or images.shape[2] < 1:
                raise ValueError(f"images of shape {images.shape} are empty")
        return [_as_image(images[i], i) for i in range(images.shape[0])]
    if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
        raise TypeError(f"images must be an (N, H, W, C) array or a sequence of arrays; got {type(images).__name__}")
    return [_as_image(a, i) for i, a in enumerate(images)]


def _matrices(matrices, n) -> np.ndarray:
    m = np.asarray(matrices)
    if m.dtype.kind not in "fiu":
        raise TypeError(f"matrices must be real numbers; got dtype {m.dtype}")
    if m.ndim != 3 or m.shape[0] != n or m.shape[1:] not in ((2, 3), (3, 3)):
        raise ValueError(f"matrices must have shape ({n}, 3, 3) or ({n}, 2, 3); got {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError("matrices must be finite (no NaN or infinity)")
    if m.shape[1] == 3 and n and not (m[:, 2, :] == (0, 0, 1)).all():
        # A homogeneous matrix with another bottom row is a projective map, which an
        # affine warp cannot do (scipy rejects it too).
        raise ValueError("matrices: the bottom row of each 3x3 matrix must be [0, 0, 1]")
    # Always a private copy (N x 6 doubles): the kernel must not read matrices that
    # share memory with the `out` it writes.
    return np.array(m[:, :2, :], dtype=np.float64, order="C", copy=True)


def transform_batch(
    images: ImageBatch,
    matrices: Optional[np.ndarray] = None,
    *,
    output_size: Optional[Tuple[int, int]] = None,
    resize_to: Optional[Tuple[int, int]] = None,
    resample: str = "lanczos",
    order: int = 1,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    scale: float = 1.0,
    offset: float = 0.0,
    dtype: str = "float32",
    out: Optional[np.ndarray] = None,
    num_threads: Optional[int] = None,
    resize_behaviour: Optional[str] = None,
) -> np.ndarray:
    """Resize, warp and rescale a whole batch of images in one native call.

    Stage 1 (``resize_to=(h0, w0)``): each image is resized as Pillow's
    ``Image.resize((w0, h0), resample)`` does; integer results are rounded and
    clipped to the input's type, as Pillow's are. Channels are resized
    independently (Pillow premultiplies the alpha of RGBA images; we do not).

    Stage 2 (``matrices``, (N, 3, 3) or (N, 2, 3)): an inverse affine warp into
    ``output_size``; each matrix maps OUTPUT (row, col) to INPUT (row, col) exactly
    as ``scipy.ndimage.affine_transform(channel, M[:2, :2], offset=M[:2, 2],
    output_shape=output_size, order=order, mode=fill_mode, cval=cval)``.

    Stage 3: ``value * scale + offset`` converted to ``dtype`` (float32, float64,
    or uint8 rounded half up and saturated), written into ``out`` when given.

    Args:
        images: an (N, H, W, C) array, or a sequence of N (H_i, W_i[, C]) arrays;
            uint8, uint16, float32 or float64 (float64 is warped in float64 and
            cannot be resized); C in (1, 3, 4).
        matrices: optional inverse affine matrices, one per image.
        output_size: (h, w) of the output; defaults to the stage-1 size (which then
            must be the same for every image).
        resize_to: optional (h0, w0) for stage 1.
        resample: one of nearest, box, bilinear, hamming, bicubic, lanczos.
        order: spline interpolation order of the warp, 0 to 5 (0 nearest, 1
            bilinear; 2-5 prefilter the image as scipy does, prefilter=True).
        fill_mode: one of constant, nearest, reflect, wrap (scipy's meanings).
        cval: the value outside the image with fill_mode="constant", in input units.
        scale, offset: the affine rescale applied last.
        dtype: float32, float64 or uint8.
        out: optional C-contiguous (N, h, w, C) array of ``dtype`` to write into.
        num_threads: threads to use; None means the number given to
            ``pyimgaug.set_num_threads``, else OpenMP's default (1 in a forked child).
        resize_behaviour: None (default) resizes as the installed Pillow does: its
            release's rules, checked against it at first use (if they differ, Pillow
            itself resizes, with a warning); or a name from
            ``pyimgaug.pillow_compat.BEHAVIOURS`` to apply one release's rules, unchecked.

    Returns:
        The (N, h, w, C) output array (``out`` itself when given; otherwise new).
    """
    image_list = _image_list(images)
    n = len(image_list)
    if n and len({(a.dtype, a.shape[2]) for a in image_list}) != 1:
        raise ValueError("images must all have the same dtype and channel count")
    channels = image_list[0].shape[2] if n else (images.shape[-1] if isinstance(images, np.ndarray) and images.ndim == 4 else 1)

    resize = _size(resize_to, "resize_to") if resize_to is not None else None
    filter_code = _choice(resample, RESAMPLE_FILTERS, "resample")
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, (numbers.Integral, np.integer)):
        raise TypeError(f"order must be an integer from 0 to 5; got {order!r}")
    if not 0 <= order <= 5:
        raise ValueError(f"order must be an integer from 0 to 5; got {order!r}")
    mode_code = _choice(fill_mode, FILL_MODES, "fill_mode")
    cval = _finite_number(cval, "cval")
    scale = _finite_number(scale, "scale")
    offset = _finite_number(offset, "offset")
    out_dtype = _output_dtype(dtype)
    behaviour_code = _pillow_compat.behaviour_code(resize_behaviour)
    if num_threads is None:
        num_threads = _budget.user_threads()  # None unless set_num_threads was called
    if num_threads is not None:
        if isinstance(num_threads, (bool, np.bool_)) or not isinstance(num_threads, (numbers.Integral, np.integer)):
            raise TypeError(f"num_threads must be a positive integer or None; got {num_threads!r}")
        if num_threads < 1:
            raise ValueError(f"num_threads must be >= 1; got {num_threads!r}")
        num_threads = min(int(num_threads), 1024)

    m = _matrices(matrices, n) if matrices is not None else None
    if output_size is not None:
        out_h, out_w = _size(output_size, "output_size")
    elif resize is not None:
        out_h, out_w = resize
    elif n and len({a.shape[:2] for a in image_list}) == 1:
        out_h, out_w = image_list[0].shape[:2]
    elif n:
        raise ValueError("output_size is required when the images differ in size and resize_to is not given")
    elif isinstance(images, np.ndarray) and images.ndim == 4 and min(images.shape[1:3]) >= 1:
        # An empty (0, H, W, C) array still states its image size.
        out_h, out_w = int(images.shape[1]), int(images.shape[2])
    else:
        raise ValueError("output_size or resize_to is required for an empty batch")
    if m is None and n:
        stage1 = {resize} if resize is not None else {a.shape[:2] for a in image_list}
        if stage1 and stage1 != {(out_h, out_w)}:
            raise ValueError(
                f"output_size {(out_h, out_w)} differs from the image size {sorted(stage1)} and no matrices were given; "
                "use resize_to to change the size"
            )
    if n * out_h * out_w * channels * out_dtype.itemsize > MAX_OUTPUT_BYTES:
        raise ValueError(f"output of {n}x{out_h}x{out_w}x{channels} {out_dtype} is too large")
    if resize is not None and n and resize[0] * resize[1] * channels * image_list[0].dtype.itemsize > MAX_STAGE1_BYTES:
        raise ValueError(f"resize_to {resize} is too large: each resized image would exceed {MAX_STAGE1_BYTES} bytes")
    _check_resize_tables(image_list, resize, resample)
    if resize is not None and n and image_list[0].dtype == np.float64:
        raise ValueError("resize_to is not supported for float64 images (Pillow, whose resize the kernel "
                         "reproduces, has no float64 mode); convert them to float32 first")
    if m is not None:
        _check_spline_memory(image_list, resize, int(order), fill_mode, channels)

    shape = (n, out_h, out_w, channels)
    if out is None:
        out = np.empty(shape, dtype=out_dtype)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array; got {type(out).__name__}")
        if out.shape != shape or out.dtype != out_dtype:
            raise ValueError(f"out must have shape {shape} and dtype {out_dtype}; got {out.shape} {out.dtype}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out must be C-contiguous and writable (a silent copy would lose the result)")
        if not out.flags.aligned:
            raise ValueError("out must be aligned to its dtype (a silent aligned copy would lose the result)")
        if any(np.may_share_memory(out, a) for a in image_list):
            raise ValueError("out must not share memory with the input images")
    if n == 0:
        return out
    if resize is not None and resize_behaviour is None and not _pillow_compat.kernel_resize_is_exact():
        # The installed Pillow resizes differently from every rule set we know.
        image_list = _pillow_compat.pillow_resize_images(image_list, resize, resample.lower())
        resize = None
    return _core.transform_batch(
        image_list, m, out, resize, filter_code, int(order), mode_code, cval, scale, offset,
        -1 if num_threads is None else num_threads, behaviour_code,
    )
