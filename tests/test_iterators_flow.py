"""ImageDataGenerator.flow against Keras.

Unaugmented batches are copies (exact).  Warped batches agree to float32
rounding of 0..255 values (ATOL = 1e-3, far below one grey level; see
test_generator_transform.py).
"""
import os
import warnings

import numpy as np
import pytest

from pyimgaug import ImageDataGenerator
from pyimgaug.pipeline.params import params_to_dict, sample_params

ATOL = 1e-3


def _data(n=11, shape=(9, 10, 3), seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = (rng.random((n,) + shape) * 255).astype(dtype)
    y = rng.integers(0, 3, n)
    w = rng.random(n)
    return x, y, w


def _both(kimage, gen_kwargs, *args, **kw):
    return (ImageDataGenerator(**gen_kwargs).flow(*args, **kw),
            kimage.ImageDataGenerator(**gen_kwargs).flow(*args, **kw))


@pytest.mark.parametrize("with_y, with_w", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_unaugmented_flow_matches_keras(kimage, with_y, with_w, data_format):
    x, y, w = _data()
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2).copy()
    args = (x, y if with_y else None)
    kw = dict(batch_size=4, shuffle=False, sample_weight=w if with_w else None)
    ours, ref = _both(kimage, dict(data_format=data_format, rescale=0.5), *args, **kw)
    assert len(ours) == len(ref) == 3
    for _ in range(5):
        a, b = next(ours), next(ref)
        a, b = (a, b) if isinstance(b, tuple) else ((a,), (b,))
        assert len(a) == len(b)
        for u, v in zip(a, b):
            assert u.dtype == v.dtype and u.shape == v.shape
            np.testing.assert_allclose(u, v, rtol=1e-6, atol=0)  # float32 x * 0.5 is exact
        assert ours.batch_index == ref.batch_index


def test_flow_tuple_inputs_and_dtypes(kimage):
    x, y, w = _data(dtype=np.uint8)
    misc = [np.arange(11), np.arange(22).reshape(11, 2)]
    for dtype in ("float32", "float64"):
        ours, ref = _both(kimage, dict(dtype=dtype), (x, misc), y, batch_size=5, shuffle=False)
        assert ours.x.dtype == ref.x.dtype == np.dtype(dtype)
        (a, ay), (b, by) = ours[1], ref[1]
        assert isinstance(a, list) and len(a) == len(b) == 3
        for u, v in zip(a, b):
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)
        np.testing.assert_array_equal(ay, by)
    ours, ref = _both(kimage, {}, (x, misc[0]), None, batch_size=5, shuffle=False)
    a, b = ours[0], ref[0]
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("subset", ["training", "validation"])
def test_flow_subset_matches_keras(kimage, subset):
    x, _, w = _data(n=20)
    y = np.arange(20) % 2
    ours, ref = _both(kimage, dict(validation_split=0.3), x, y, sample_weight=w, subset=subset,
                      shuffle=False, batch_size=32)
    assert ours.n == ref.n
    for u, v in zip(ours[0], ref[0]):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("call, match", [
    (lambda g, x, y, w: g.flow(x, y[:-1]), "same length"),
    (lambda g, x, y, w: g.flow(x, y, sample_weight=w[:-1]), "sample_weight"),
    (lambda g, x, y, w: g.flow((x, y[:-1]), y), "same length"),
    (lambda g, x, y, w: g.flow(x[0], None), "rank 4"),
    (lambda g, x, y, w: g.flow(x, np.sort(y), subset="validation"), "different number of classes"),
])
def test_flow_errors_match_keras(kimage, call, match):
    x, y, w = _data(n=12)
    with pytest.raises(ValueError, match=match) as ours:
        call(ImageDataGenerator(validation_split=0.25), x, y, w)
    with pytest.raises(ValueError) as ref:
        call(kimage.ImageDataGenerator(validation_split=0.25), x, y, w)
    assert str(ours.value) == str(ref.value)


def test_flow_channel_count_warning_and_two_channels(kimage):
    x, y, _ = _data(shape=(8, 9, 2))
    with pytest.warns(UserWarning, match="2 channels"):
        ours = ImageDataGenerator(rotation_range=30).flow(x, y, seed=1, batch_size=4)
    # Two channels are warped as two one-channel images (still one call).
    xb, yb = ours[0]
    idx = ours.index_array[:4]
    p = sample_params(ours.image_data_generator, 4, (8, 9), ours._sample_key(0), ids=idx)
    kgen = kimage.ImageDataGenerator(rotation_range=30)
    for i, j in enumerate(idx):
        np.testing.assert_allclose(xb[i], kgen.apply_transform(x[j], params_to_dict(p, i)),
                                   rtol=0, atol=ATOL)


@pytest.mark.parametrize("gen_kwargs", [
    dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2, rescale=1. / 255),
    dict(zoom_range=0.3, shear_range=15, horizontal_flip=True, vertical_flip=True,
         channel_shift_range=30.0, fill_mode="constant", cval=5.0),
    dict(width_shift_range=3, height_shift_range=[1, 2], brightness_range=[0.5, 1.5],
         samplewise_center=True, interpolation_order=0, fill_mode="wrap"),
    dict(rotation_range=45, data_format="channels_first", fill_mode="reflect",
         preprocessing_function=lambda im: im * 2 - 1, rescale=1. / 255),
    dict(rotation_range=10, dtype="float64", rescale=1. / 255),
])
def test_augmented_flow_equals_keras_per_image_pipeline(kimage, gen_kwargs):
    x, y, _ = _data(n=10, shape=(12, 14, 3))
    if gen_kwargs.get("data_format") == "channels_first":
        x = x.transpose(0, 3, 1, 2).copy()
    gen = ImageDataGenerator(**gen_kwargs)
    kgen = kimage.ImageDataGenerator(**gen_kwargs)
    it = gen.flow(x, y, batch_size=4, seed=123)
    hw = (12, 14)
    for _ in range(4):
        idx = it.batch_index
        xb, yb = next(it)
        index_array = it.index_array[idx * 4:(idx + 1) * 4]
        p = sample_params(gen, len(index_array), hw, it._sample_key(it.epoch), ids=index_array)
        ref = np.stack([kgen.standardize(kgen.apply_transform(
            np.asarray(x[j], dtype=gen.dtype), params_to_dict(p, i)))
            for i, j in enumerate(index_array)]).astype(gen.dtype)
        assert xb.dtype == ref.dtype
        # Values in 0..255 unless rescaled to about 0..1 (then float32 rounding < 1e-6).
        atol = 1e-5 if gen_kwargs.get("rescale") else ATOL
        np.testing.assert_allclose(xb, ref, rtol=0, atol=atol)
        np.testing.assert_array_equal(yb, y[index_array])


def test_seeded_flow_repeatable_and_epochs_reshuffle():
    x, y, _ = _data(n=10)
    g = ImageDataGenerator(rotation_range=30, horizontal_flip=True)
    a, b = g.flow(x, y, batch_size=4, seed=3), g.flow(x, y, batch_size=4, seed=3)
    orders = []
    for _ in range(6):
        (xa, ya), (xb, yb) = next(a), next(b)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        if a.batch_index == 0:
            orders.append(a.index_array.copy())
    assert sorted(orders[0]) == list(range(10))
    assert not np.array_equal(orders[0], orders[1])
    c = g.flow(x, y, batch_size=4, seed=4)
    assert not np.array_equal(c[0][0], a[0][0])


def test_flow_save_to_dir(tmp_path):
    x, y, _ = _data(n=5)
    it = ImageDataGenerator().flow(x, y, batch_size=3, save_to_dir=str(tmp_path), save_prefix="p",
                                   save_format="png", shuffle=False)
    next(it)
    files = sorted(os.listdir(str(tmp_path)))
    assert [f.split("_")[1] for f in files] == ["0", "1", "2"]
    assert all(f.startswith("p_") and f.endswith(".png") for f in files)


def test_flow_never_touches_global_rng():
    x, y, _ = _data()
    state = np.random.get_state()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        it = ImageDataGenerator(rotation_range=5, brightness_range=(0.9, 1.1)).flow(x, y)
        next(it)
        it[0]
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_keras_style_iterator_subclass(kimage):
    """A subclass written for Keras (one-argument hook) works with our base class."""
    from pyimgaug import Iterator

    class Indices(Iterator):
        def _get_batches_of_transformed_samples(self, index_array):
            return index_array

    class KerasIndices(kimage.Iterator):
        def _get_batches_of_transformed_samples(self, index_array):
            return index_array

    ours, ref = Indices(10, 4, False, None), KerasIndices(10, 4, False, None)
    assert [next(ours).tolist() for _ in range(4)] == [next(ref).tolist() for _ in range(4)]
    assert ours[2].tolist() == ref[2].tolist() == [8, 9]
    assert len(ours) == len(ref) == 3


def test_flow_iterator_attributes(kimage):
    x, y, _ = _data(n=7)
    ours, ref = _both(kimage, {}, x, y, batch_size=3, shuffle=False)
    assert ours.samples == ours.n == ref.n == 7
    for name in ("batch_size", "shuffle", "seed", "batch_index", "total_batches_seen",
                 "data_format", "save_to_dir", "save_prefix", "save_format", "dtype"):
        assert getattr(ours, name) == getattr(ref, name), name
    # index_generator advances the iterator like next(), as in Keras.
    assert [next(ours.index_generator).tolist() for _ in range(3)] == \
        [next(ref.index_generator).tolist() for _ in range(3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert ours.batch_index == ref.batch_index == 0
