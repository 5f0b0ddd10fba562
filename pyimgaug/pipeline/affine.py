"""Transform parameters to inverse affine matrices, and the Keras helpers.

The matrices reproduce `keras_preprocessing` 1.1.2's `apply_affine_transform`:
rotation . shift . shear . zoom, conjugated by a shift to the centre
`(h / 2 + 0.5, w / 2 + 0.5)`.  They are pull maps in (row, col) index space:
output pixel `(r, c)` reads input `M @ (r, c, 1)`.  `tx` moves rows and `ty`
moves columns; `zx` scales rows and `zy` columns.
"""
import numpy as np

from .io import ImageEnhance, array_to_img, img_to_array

__all__ = [
    "transform_matrices",
    "transform_matrix_offset_center",
    "apply_affine_transform",
    "apply_channel_shift",
    "apply_brightness_shift",
    "flip_axis",
]

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def transform_matrix_offset_center(matrix, x, y):
    """Conjugates `matrix` (3x3, or (N,3,3)) by a shift to the image centre.

    `x` and `y` are the row and column counts (Keras's naming).
    """
    o_x = float(x) / 2 + 0.5
    o_y = float(y) / 2 + 0.5
    offset_matrix = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]], dtype=np.float64)
    reset_matrix = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]], dtype=np.float64)
    return offset_matrix @ np.asarray(matrix, dtype=np.float64) @ reset_matrix


def transform_matrices(theta, tx, ty, shear, zx, zy, h, w):
    """Inverse (output -> input) matrices of a batch, vectorised.

    # Arguments
        theta, shear: arrays (N,) of angles in degrees.
        tx, ty: arrays (N,) of row and column shifts in pixels.
        zx, zy: arrays (N,) of row and column zoom factors.
        h, w: rows and columns of the images.

    # Returns
        `(matrices, warp)`: float64 (N, 3, 3) matrices and a bool (N,) mask
        that is False where Keras would not warp at all (every parameter at
        its identity value; the matrix is then the identity).
    """
    theta, tx, ty, shear, zx, zy = (
        np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (theta, tx, ty, shear, zx, zy)
    )
    n = theta.shape[0]
    warp = (theta != 0) | (tx != 0) | (ty != 0) | (shear != 0) | (zx != 1) | (zy != 1)

    t = np.deg2rad(theta)
    m = np.zeros((n, 3, 3))
    m[:, 0, 0] = np.cos(t)
    m[:, 0, 1] = -np.sin(t)
    m[:, 1, 0] = np.sin(t)
    m[:, 1, 1] = np.cos(t)
    m[:, 2, 2] = 1.0

    shift = np.zeros((n, 3, 3))
    shift[:, 0, 0] = shift[:, 1, 1] = shift[:, 2, 2] = 1.0
    shift[:, 0, 2] = tx
    shift[:, 1, 2] = ty
    m = m @ shift

    s = np.deg2rad(shear)
    sh = np.zeros((n, 3, 3))
    sh[:, 0, 0] = 1.0
    sh[:, 0, 1] = -np.sin(s)
    sh[:, 1, 1] = np.cos(s)
    sh[:, 2, 2] = 1.0
    m = m @ sh

    zoom = np.zeros((n, 3, 3))
    zoom[:, 0, 0] = zx
    zoom[:, 1, 1] = zy
    zoom[:, 2, 2] = 1.0
    m = m @ zoom

    m = transform_matrix_offset_center(m, h, w)
    m[~warp] = np.eye(3)
    return m, warp


def flip_axis(x, axis):
    """Reverses `x` along `axis` (a view)."""
    x = np.asarray(x).swapaxes(axis, 0)
    x = x[::-1, ...]
    return x.swapaxes(0, axis)


def _kernel():
    from .._kernel import transform_batch

    return transform_batch


def _kernel_module():
    from .. import _kernel

    return _kernel


# The kernel reads these; float64 is warped in float64, as scipy does.
_KERNEL_IN_DTYPES = (np.uint8, np.uint16, np.float32, np.float64)


def _canonical(x):
    """True if `x` is C-contiguous with the strides of a fresh array.

    (`np.ascontiguousarray` keeps odd strides on length-1 axes, which a
    strided reader may reject.)
    """
    expected = x.itemsize
    for dim, stride in zip(reversed(x.shape), reversed(x.strides)):
        if stride != expected:
            return False
        expected *= dim
    return True


def kernel_input(x):
    """`x` as a packed array of a dtype the kernel reads.

    Other dtypes are converted to the type scipy computes them in: integers and
    booleans to float64 (exact up to 2**53), smaller floats to float32 (exact).
    """
    x = np.asarray(x)
    if x.dtype.type not in _KERNEL_IN_DTYPES:
        small_float = x.dtype.kind == "f" and x.dtype.itemsize < 4
        return x.astype(np.float32 if small_float else np.float64)
    if x.ndim == 3 and _kernel_module().reads_in_place(x):
        return x  # e.g. the RGB of a decoder's RGBX pixels, which a copy would pack slowly
    if not _canonical(x):
        return x.copy(order="C")
    return x


def warp_batch(images, matrices=None, *, output_size=None, resize_to=None, resample="nearest",
               order=1, fill_mode="nearest", cval=0.0, scale=1.0, dtype="float32",
               num_threads=None):
    """One `transform_batch` call, for any channel count.

    The kernel handles 1, 3 or 4 channels; other counts are warped as that
    many one-channel images (still one call).
    """
    transform_batch = _kernel()
    if isinstance(images, np.ndarray):
        images = kernel_input(images)
    else:
        images = [kernel_input(im) for im in images]
    if isinstance(images, np.ndarray) and images.ndim == 4 and images.shape[-1] not in (1, 3, 4):
        n, h, w, c = images.shape
        flat = kernel_input(np.moveaxis(images, 3, 1).reshape(n * c, h, w, 1))
        mats = None if matrices is None else np.repeat(matrices, c, axis=0)
        out = transform_batch(flat, mats, output_size=output_size, resize_to=resize_to,
                              resample=resample, order=order, fill_mode=fill_mode, cval=cval,
                              scale=scale, dtype=dtype, num_threads=num_threads)
        oh, ow = out.shape[1:3]
        return np.ascontiguousarray(np.moveaxis(out.reshape(n, c, oh, ow), 1, 3))
    return transform_batch(images, matrices, output_size=output_size, resize_to=resize_to,
                           resample=resample, order=order, fill_mode=fill_mode, cval=cval,
                           scale=scale, dtype=dtype, num_threads=num_threads)


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0, col_axis=1,
                           channel_axis=2, fill_mode="nearest", cval=0.0, order=1):
    """Applies an affine transformation specified by the parameters given.

    # Arguments
        x: 3D numpy array, single image.
        theta: Rotation angle in degrees.
        tx: Shift along the row axis (Keras calls it the width shift).
        ty: Shift along the column axis.
        shear: Shear angle in degrees.
        zx: Zoom along the row axis.
        zy: Zoom along the column axis.
        row_axis: Index of axis for rows in the input image.
        col_axis: Index of axis for columns in the input image.
        channel_axis: Index of axis for channels in the input image.
        fill_mode: One of `{"constant", "nearest", "reflect", "wrap"}`.
        cval: Value used for points outside the boundaries
            of the input if `mode='constant'`.
        order: int, order of the spline interpolation, 0 to 5 (as scipy).

    # Returns
        The transformed version of the input (same shape and dtype).
    """
    m, warp = transform_matrices(theta, tx, ty, shear, zx, zy, x.shape[row_axis], x.shape[col_axis])
    if not warp[0]:
        return x
    check_warp_args(fill_mode, order)
    x = np.asarray(x)
    # Like Keras: the matrix acts on the two non-channel axes in their order.
    moved = np.moveaxis(x, channel_axis, -1)
    inp = kernel_input(moved)[None]
    # scipy computes in double and writes the input's dtype: float32 input is
    # stored as float32, anything else is kept in double until the final cast.
    out_dtype = "float32" if inp.dtype == np.float32 else "float64"
    out = warp_batch(inp, m, output_size=moved.shape[:2], order=order, fill_mode=fill_mode,
                     cval=cval, dtype=out_dtype)[0]
    out = _cast_like(out, x.dtype)
    return np.moveaxis(out, -1, channel_axis)


def _cast_like(out, dtype):
    if out.dtype == dtype:
        return out
    if np.issubdtype(dtype, np.integer):
        # scipy rounds interpolated values half away from zero for integer
        # outputs; clip to the dtype's range.
        info = np.iinfo(dtype)
        rounded = np.sign(out) * np.floor(np.abs(out) + 0.5)
        return np.clip(rounded, info.min, info.max).astype(dtype)
    return out.astype(dtype)


class InvalidFillModeError(ValueError, RuntimeError):
    """Bad `fill_mode`. Also a RuntimeError, the type scipy raises in Keras."""


INTERPOLATION_ORDERS = (0, 1, 2, 3, 4, 5)


def check_warp_args(fill_mode, order):
    if fill_mode not in FILL_MODES:
        raise InvalidFillModeError(
            "Invalid fill_mode: %r; expected one of %s." % (fill_mode, ", ".join(FILL_MODES))
        )
    # scipy takes an integer from 0 to 5 (a float or a bool fails inside scipy).
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, (int, np.integer)) \
            or order not in INTERPOLATION_ORDERS:
        raise ValueError("Invalid interpolation_order: %r; expected an integer from 0 to 5." % (order,))


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds `intensity` to every channel, clipped to the image's global min and max.

    # Arguments
        x: Input tensor. Must be 3D.
        intensity: Transformation intensity.
        channel_axis: Index of axis for channels in the input tensor.

    # Returns
        Numpy image tensor.
    """
    x = np.rollaxis(x, channel_axis, 0)
    min_x, max_x = np.min(x), np.max(x)
    channel_images = [np.clip(x_channel + intensity, min_x, max_x) for x_channel in x]
    x = np.stack(channel_images, axis=0)
    return np.rollaxis(x, 0, channel_axis + 1)


def channel_shift_batch(x, intensity):
    """`apply_channel_shift` of every image of a batch at once (in place when possible).

    `intensity` is an (N,) array; NaN entries leave their image unchanged.
    The shift is added in the batch dtype, like Keras adds a Python float.
    """
    intensity = np.asarray(intensity, dtype=np.float64)
    sel = ~np.isnan(intensity)
    if not sel.any():
        return x
    axes = tuple(range(1, x.ndim))
    sub = x[sel]
    lo = sub.min(axis=axes, keepdims=True)
    hi = sub.max(axis=axes, keepdims=True)
    shift = intensity[sel].astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    x[sel] = np.clip(sub + shift, lo, hi)
    return x


def apply_brightness_shift(x, brightness):
    """Performs a brightness shift, through an 8-bit Pillow image as Keras does.

    The image is first stretched to 0..255 (`array_to_img(x, scale=True)`),
    enhanced with `PIL.ImageEnhance.Brightness`, and returned as float32 in
    0..255, whatever the input range was.

    # Arguments
        x: Input tensor. Must be 3D, channels last.
        brightness: Float. The new brightness value.

    # Returns
        Numpy image tensor.
    """
    if ImageEnhance is None:  # pragma: no cover
        raise ImportError("Using brightness shifts requires PIL. Install PIL or Pillow.")
    img = array_to_img(x)
    img = ImageEnhance.Brightness(img).enhance(brightness)
    return img_to_array(img)


def flip_batch(x, mask, axis):
    """Reverses the images selected by the bool `mask` along `axis` (of the batch array)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        idx = np.flatnonzero(mask)
        x[idx] = np.flip(x[idx], axis=axis)
    return x
