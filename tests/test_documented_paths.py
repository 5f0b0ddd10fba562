"""The import paths users are given keep working now that the package is grouped by layer."""
import pyimgaug
from pyimgaug.pipeline import affine, cache, cache_prune

PUBLIC_NAMES = [
    "transform_batch", "show_config", "set_num_threads", "get_num_threads",
    "ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator", "DataFrameIterator",
    "load_img", "img_to_array", "array_to_img", "save_img",
    "apply_affine_transform", "apply_channel_shift", "apply_brightness_shift",
]


def test_public_names_and_earlier_documented_paths_name_the_same_objects():
    # The top level's names are the same list as before the move, each importable.
    assert pyimgaug.__all__ == PUBLIC_NAMES
    assert all(callable(getattr(pyimgaug, name)) for name in PUBLIC_NAMES)
    # Paths that docs/pipeline.md and docs/compat_table.md gave before the move:
    # each re-exports the object that now lives in pyimgaug/pipeline/.
    from pyimgaug.affine import flip_axis, transform_matrix_offset_center
    from pyimgaug.cache import CacheWarning
    from pyimgaug.cache_prune import inspect, prune
    from pyimgaug.errors import BadImageError, BadImageWarning

    assert CacheWarning is cache.CacheWarning and issubclass(CacheWarning, Warning)
    assert inspect is cache_prune.inspect and prune is cache_prune.prune
    assert flip_axis is affine.flip_axis
    assert transform_matrix_offset_center is affine.transform_matrix_offset_center
    assert issubclass(BadImageError, OSError) and issubclass(BadImageWarning, UserWarning)
