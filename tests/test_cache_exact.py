"""A batch built from the cache is bit-identical to the batch built without it.

The reference is pyimgaug without a cache (itself tested against Keras): for
every color mode, interpolation, target size and decode mode, the batches of
two epochs (the first from misses, the second from hits) must be equal byte
for byte, with a memory and with a disk cache.
"""
import numpy as np
import pytest

from pyimgaug import transform_batch

from pipeline_helpers import assert_same_batches, flow, mixed_dataset, take

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return mixed_dataset(tmp_path_factory.mktemp("cache_exact") / "data")


def _two_epochs(root, **kw):
    it = flow(root, **kw)
    return take(it, 2 * len(it)), it


@pytest.mark.parametrize("decode", ["exact", "fast"])
@pytest.mark.parametrize("target", [(32, 40), (24, 24)])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("color_mode", ["rgb", "rgba", "grayscale"])
def test_memory_cache_is_bit_identical(data, color_mode, interpolation, target, decode):
    kw = dict(color_mode=color_mode, interpolation=interpolation, target_size=target, decode=decode)
    ref, _ = _two_epochs(data, **kw)
    got, it = _two_epochs(data, cache="memory", **kw)
    assert_same_batches(ref, got)
    info = it.cache_info()
    assert info["misses"] == it.samples and info["hits"] == it.samples


@pytest.mark.parametrize("decode", ["exact", "fast"])
@pytest.mark.parametrize("interpolation", ["nearest", "lanczos", "bicubic"])
@pytest.mark.parametrize("color_mode", ["rgb", "rgba", "grayscale"])
def test_disk_cache_is_bit_identical(data, tmp_path, color_mode, interpolation, decode):
    kw = dict(color_mode=color_mode, interpolation=interpolation, decode=decode)
    ref, _ = _two_epochs(data, **kw)
    got, it = _two_epochs(data, cache=str(tmp_path / "c"), **kw)
    assert_same_batches(ref, got)
    it.cache.flush()  # entries are written by a background thread
    # A later run reads every entry back from the directory.
    again, it2 = _two_epochs(data, cache=str(tmp_path / "c"), **kw)
    assert_same_batches(ref, again)
    assert it2.cache_info()["misses"] == 0


def test_unaugmented_and_channels_first_and_float64(data, tmp_path):
    for gen_args in ({}, dict(rescale=1. / 255, horizontal_flip=True, zoom_range=0.3)):
        ref, _ = _two_epochs(data, gen_args=gen_args, interpolation="lanczos")
        got, _ = _two_epochs(data, gen_args=gen_args, interpolation="lanczos", cache="memory")
        assert_same_batches(ref, got)


@pytest.mark.parametrize("resample", INTERPOLATIONS)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_kernel_resize_then_warp_equals_one_call(resample, channels):
    """What the cache relies on: stage 1 in its own uint8 call gives the stage-1 image."""
    rng = np.random.default_rng(channels)
    images = [rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
              for h, w in ((50, 70), (31, 17), (128, 90), (33, 40), (9, 200))]
    target = (33, 40)
    m = np.tile(np.eye(3), (len(images), 1, 1))
    m[:, 0, 1] = rng.uniform(-0.3, 0.3, len(images))
    m[:, :2, 2] = rng.uniform(-4, 4, (len(images), 2))
    for order in (0, 1):
        for dtype, scale in (("float32", 1 / 255.), ("float64", 1.), ("uint8", 1.)):
            one = transform_batch(images, m, resize_to=target, resample=resample, order=order,
                                  scale=scale, dtype=dtype)
            stage = transform_batch(images, resize_to=target, resample=resample, dtype="uint8")
            two = transform_batch(stage, m, order=order, scale=scale, dtype=dtype)
            assert np.array_equal(one, two)
            # And without a warp: the stage image, converted.
            plain = transform_batch(images, resize_to=target, resample=resample, scale=scale,
                                    dtype=dtype)
            assert np.array_equal(plain, transform_batch(stage, scale=scale, dtype=dtype))


@pytest.mark.parametrize("gen_args", [{}, dict(rescale=1. / 255, rotation_range=10)])
def test_batches_are_fresh_arrays_users_may_keep(data, gen_args):
    ref, _ = _two_epochs(data, gen_args=gen_args)
    it = flow(data, gen_args=gen_args, cache="memory", workers=1)
    kept = []
    for _ in range(2 * len(it)):
        x = next(it)[0]
        assert x.flags.writeable
        kept.append(x.copy())
        x[...] = -1  # scribbling on a batch must not reach the cache or later batches
    assert_same_batches(ref, kept)
