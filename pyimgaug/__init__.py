"""pyimgaug: Keras ImageDataGenerator semantics on a GIL-free C++ batch kernel."""
# The compiled kernel loads first, through _openmp: it chooses the wait policy of
# pyimgaug's own OpenMP threads without changing what other libraries see.
from . import _openmp

_openmp.load_core()
from ._kernel import transform_batch
from ._core import _has_openmp
from .pipeline.budget import get_num_threads, set_num_threads

__version__ = "0.1.0"

from .cli.build_info import show_config

__all__ = ["transform_batch", "show_config", "set_num_threads", "get_num_threads"]

# Keras-compatible generator layer.
from .pipeline.affine import apply_affine_transform, apply_brightness_shift, apply_channel_shift
from .keras.generator import ImageDataGenerator
from .pipeline.io import array_to_img, img_to_array, load_img, save_img
from .keras.iterators import DataFrameIterator, DirectoryIterator, Iterator, NumpyArrayIterator

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
