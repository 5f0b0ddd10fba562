"""Argument checks that Keras does not make, raised where the argument is given.

Keras (keras_preprocessing 1.1.2) accepts many bad values silently and fails
later, on some batch, with an error that does not name the argument (a NaN
rotation range gives NaN matrices, a string `rescale` fails in a
multiplication, a negative `target_size` fails inside Pillow).  An unattended
pipeline should fail at the call that received the bad value, with a message
naming it: TypeError for a value of the wrong kind, ValueError for a value
of the right kind that is out of range.  Checks Keras does make keep Keras's
exception types and messages; they live where Keras has them.
"""
import math
import numbers

import numpy as np

__all__ = [
    "check_batch_size",
    "check_seed",
    "check_target_size",
    "check_real",
    "check_shift_range",
    "check_pair_finite",
    "check_rescale",
    "check_preprocessing_function",
    "check_dtype",
    "check_rounds",
    "check_save_format",
]


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _is_int(value):
    return not _is_bool(value) and isinstance(value, (numbers.Integral, np.integer))


def check_batch_size(value, name="batch_size"):
    """A positive integer (Keras divides by it, and slices with it)."""
    if not _is_int(value):
        raise TypeError("`%s` must be a positive integer; received %r." % (name, value))
    if value < 1:
        raise ValueError("`%s` must be a positive integer; received %r." % (name, value))
    return int(value)


def check_seed(value, name="seed"):
    """None or a non-negative integer (what `np.random.seed`, used by Keras, accepts)."""
    if value is None:
        return None
    if _is_bool(value) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError("`%s` must be None or a non-negative integer; received %r." % (name, value))
    if value < 0:
        raise ValueError("`%s` must be None or a non-negative integer; received %r." % (name, value))
    return value


def check_target_size(value, name="target_size"):
    """A `(height, width)` pair of positive integers."""
    try:
        pair = tuple(value)
    except TypeError:
        raise TypeError("`%s` must be a (height, width) pair of integers; received %r."
                        % (name, value)) from None
    if len(pair) != 2:
        raise ValueError("`%s` must be a (height, width) pair of integers; received %r."
                         % (name, value))
    for v in pair:
        if not _is_int(v):
            raise TypeError("`%s` must be a (height, width) pair of integers; received %r."
                            % (name, value))
        if v < 1:
            raise ValueError("`%s` sides must be positive; received %r." % (name, value))
    return tuple(int(v) for v in pair)


def _finite_real(value, name, what):
    if isinstance(value, (str, bytes)) or not isinstance(value, (numbers.Real, np.number)) \
            or isinstance(value, np.complexfloating):
        raise TypeError("`%s` must be %s; received %r." % (name, what, value))
    if not math.isfinite(float(value)):
        raise ValueError("`%s` must be finite; received %r." % (name, value))
    return value


def check_real(value, name):
    """A finite real number (booleans count as 0 and 1, as in Keras)."""
    return _finite_real(value, name, "a real number")


def check_shift_range(value, name):
    """`width_shift_range` / `height_shift_range`: a number or a 1-D sequence of numbers."""
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.ndim != 1:
            raise ValueError("`%s` must be a number or a 1-D sequence of numbers; received "
                             "an array of shape %s." % (name, arr.shape))
        for v in arr.tolist():
            _finite_real(v, name, "a number or a 1-D sequence of numbers")
        return value
    return _finite_real(value, name, "a number or a 1-D sequence of numbers")


def check_pair_finite(value, name):
    """The two bounds of `zoom_range` / `brightness_range` (shape checked as Keras does)."""
    for v in value:
        _finite_real(v, name, "a pair of numbers")
    return value


def check_rescale(value):
    """None, or a finite number (0 and None mean no rescaling, as in Keras)."""
    if value is None:
        return value
    return _finite_real(value, "rescale", "None or a number")


def check_preprocessing_function(value):
    """None or a callable (Keras ignores a falsy value, so do we)."""
    if value and not callable(value):
        raise TypeError("`preprocessing_function` must be None or a callable; received %r."
                        % (value,))
    return value


def check_dtype(value, name="dtype"):
    """A NumPy dtype (or its name) of booleans, integers or floats."""
    if value is None:
        # np.dtype(None) is float64: almost certainly not what was meant
        # (tf.keras reads None as its float32 default).
        raise TypeError("`%s` must be a dtype such as 'float32'; received None." % name)
    try:
        dt = np.dtype(value)
    except TypeError:
        raise TypeError("`%s` must be a dtype such as 'float32'; received %r." % (name, value)) \
            from None
    if dt.kind not in "biuf":
        raise ValueError("`%s` must be a boolean, integer or floating dtype; received %r."
                         % (name, value))
    return value


def check_rounds(value):
    """`fit(rounds=)` with augmentation: a positive integer."""
    return check_batch_size(value, name="rounds")


def check_save_format(value):
    """A file extension Pillow can write (`save_to_dir` files are named `*.{save_format}`)."""
    from PIL import Image

    if not isinstance(value, str):
        raise TypeError("`save_format` must be a file extension such as 'png'; received %r."
                        % (value,))
    Image.init()
    fmt = Image.registered_extensions().get("." + value.lower())
    if fmt is None or fmt not in Image.SAVE:
        writable = sorted(ext[1:] for ext, f in Image.registered_extensions().items()
                          if f in Image.SAVE)
        raise ValueError("`save_format` must be an extension Pillow can write (%s); received %r."
                         % (", ".join(writable), value))
    return value
