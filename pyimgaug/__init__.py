"""pyimgaug: Keras ImageDataGenerator semantics on a GIL-free C++ batch kernel."""
import os as _os

# OpenMP's default lets idle kernel threads spin for a while after each batch.
# A data pipeline shares the cores with decoding threads and the training loop,
# where spinning threads steal the CPU they are waiting for (a batch measured 2-10x
# slower on a busy 2-core machine). Sleep instead, unless the user chose otherwise.
# This must happen before the OpenMP runtime loads with the compiled module.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._kernel import transform_batch
from ._core import _has_openmp

__version__ = "0.1.0"

__all__ = ["transform_batch"]

# Keras-compatible generator layer.
from .affine import apply_affine_transform, apply_brightness_shift, apply_channel_shift
from .generator import ImageDataGenerator
from .io import array_to_img, img_to_array, load_img, save_img
from .iterators import DataFrameIterator, DirectoryIterator, Iterator, NumpyArrayIterator

__all__ += [
    "ImageDataGenerator",
    "Iterator",
    "NumpyArrayIterator",
    "DirectoryIterator",
    "DataFrameIterator",
    "load_img",
    "img_to_array",
    "array_to_img",
    "save_img",
    "apply_affine_transform",
    "apply_channel_shift",
    "apply_brightness_shift",
]
