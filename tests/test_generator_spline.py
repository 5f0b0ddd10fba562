"""`interpolation_order` 0-5 and float64 arrays through the Keras surface, against Keras.

keras_preprocessing 1.1.2 hands `interpolation_order` straight to
`scipy.ndimage.affine_transform` (prefilter=True) and warps each image in its
own dtype: `flow()` casts `x` to the generator's `dtype` first, and
`apply_transform`/`random_transform` keep the dtype they are given (float64
stays float64; integers are rounded by scipy).

Tolerances (values are 0..255; spline overshoot can leave that range a little):
* float32: both sides compute the same doubles from the same float32 input and
  cast them to float32; the only difference is our 3x3 matrix product order
  (coordinates differ by ~1e-12, see test_generator_transform.py), so results
  agree to the float32 cast: 2 ulp of the value (about 3e-5 at 255).
* float64: no cast at all; 1e-9 of full scale (255e-9) bounds the matrix
  product differences with a wide margin.
* integers: scipy rounds the double half away from zero, as we do; equal, except
  +-1 where the double lies within 1e-6 of a .5 tie.
"""
import numpy as np
import pytest

from pyimgaug import ImageDataGenerator
from pyimgaug.pipeline.params import params_to_dict, sample_params

from conftest import keras_reference_batch

pytest.importorskip("scipy.ndimage", reason="the Keras reference warps with scipy (test extra)")

FILL_MODES = ["nearest", "constant", "reflect", "wrap"]
SPLINE_ORDERS = [2, 3, 4, 5]
F64_ATOL = 1e-9 * 255

PARAMS = [
    {"theta": 23.0},
    {"tx": 2.25, "ty": -1.5},
    {"shear": 15.0, "zx": 0.7, "zy": 1.35},
    {"theta": -33.0, "tx": -1.0, "ty": 6.0, "shear": -8.0, "zx": 1.1, "zy": 0.9,
     "flip_horizontal": 1, "channel_shift_intensity": 12.0},
]


def _image(shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) * 255).astype(dtype)


def assert_float32_close(ours, ref):
    """Equal up to the final float32 cast of (nearly) the same double."""
    assert ours.dtype == ref.dtype == np.float32 and ours.shape == ref.shape
    ref64 = ref.astype(np.float64)
    allowed = 2 * np.spacing(np.abs(ref)).astype(np.float64) + 1e-9 * 255
    bad = np.abs(ours.astype(np.float64) - ref64) > allowed
    assert not bad.any(), f"{bad.sum()} values differ; max |diff| {np.abs(ours - ref64).max()}"


def assert_integers_close(ours, ref):
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    diff = np.abs(ours.astype(np.int64) - ref.astype(np.int64))
    assert diff.max() <= 1 and np.mean(diff == 0) > 0.999, (diff.max(), np.mean(diff == 0))


def test_every_order_from_0_to_5_is_accepted_and_others_are_refused():
    for order in range(6):
        assert ImageDataGenerator(interpolation_order=order).interpolation_order == order
        ImageDataGenerator(interpolation_order=np.int64(order))
    for bad in (6, -1, 2.0, True, "3", None):
        with pytest.raises(ValueError, match="interpolation_order"):
            ImageDataGenerator(interpolation_order=bad)


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("order", SPLINE_ORDERS)
def test_apply_transform_spline_orders_match_keras(kimage, params, fill_mode, order):
    x = _image((17, 23, 3), seed=order)
    kw = dict(fill_mode=fill_mode, cval=37.0, interpolation_order=order)
    ours = ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    ref = kimage.ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    assert_float32_close(ours, ref)


@pytest.mark.parametrize("order", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.uint8, np.uint16, np.int32])
def test_apply_transform_keeps_and_computes_in_the_input_dtype(kimage, dtype, order):
    x = _image((14, 11, 3), seed=3, dtype=dtype)
    for fill_mode in FILL_MODES:
        kw = dict(fill_mode=fill_mode, cval=11.0, interpolation_order=order)
        p = {"theta": 12.0, "zx": 0.9, "ty": 1.5}
        ours = ImageDataGenerator(**kw).apply_transform(x, p)
        ref = kimage.ImageDataGenerator(**kw).apply_transform(x, p)
        assert ours.dtype == ref.dtype == dtype
        if dtype == np.float64:
            np.testing.assert_allclose(ours, ref, rtol=0, atol=F64_ATOL)
        else:
            assert_integers_close(ours, ref)


def test_random_transform_of_float64_stays_float64(kimage):
    x = _image((12, 15, 1), seed=4, dtype=np.float64)
    gen = ImageDataGenerator(rotation_range=30, zoom_range=0.2, interpolation_order=3)
    kgen = kimage.ImageDataGenerator(rotation_range=30, zoom_range=0.2, interpolation_order=3)
    out = gen.random_transform(x, seed=5)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, kgen.apply_transform(x, gen.get_random_transform(x.shape, seed=5)),
                               rtol=0, atol=F64_ATOL)


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("order", SPLINE_ORDERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_flow_matches_keras_per_image_pipeline(kimage, dtype, order, fill_mode):
    """flow() with each order and mode, in the generator's dtype (float64 arrays
    are warped in float64, as Keras casts x to `dtype` and warps that)."""
    rng = np.random.default_rng(order)
    x = rng.random((8, 12, 14, 3)) * 255  # float64 data; flow casts it to `dtype`
    gen_kwargs = dict(rotation_range=25, width_shift_range=0.2, height_shift_range=0.2, zoom_range=0.2,
                      fill_mode=fill_mode, cval=9.0, interpolation_order=order, dtype=dtype)
    gen = ImageDataGenerator(**gen_kwargs)
    kgen = kimage.ImageDataGenerator(**gen_kwargs)
    it = gen.flow(x, batch_size=4, seed=123)
    assert it.x.dtype == np.dtype(dtype)
    for _ in range(2):
        idx = it.batch_index
        xb = next(it)
        index_array = it.index_array[idx * 4:(idx + 1) * 4]
        p = sample_params(gen, len(index_array), (12, 14), it._sample_key(it.epoch), ids=index_array)
        ref = np.stack([kgen.standardize(kgen.apply_transform(np.asarray(x[j], dtype=dtype), params_to_dict(p, i)))
                        for i, j in enumerate(index_array)]).astype(dtype)
        assert xb.dtype == ref.dtype == np.dtype(dtype)
        if dtype == "float64":
            np.testing.assert_allclose(xb, ref, rtol=0, atol=F64_ATOL)
        else:
            assert_float32_close(xb, ref)


@pytest.mark.parametrize("order", [0, 1, 3, 5])
@pytest.mark.parametrize("dtype", ["uint8", "int32"])
def test_integer_flow_rounds_and_clips_the_warp_like_scipy(kimage, dtype, order):
    """An integer generator dtype: Keras's warp writes that dtype (scipy rounds
    half away from zero and clips, e.g. spline overshoot above 255 to 255),
    then the later steps run and the result is stored in `dtype`."""
    rng = np.random.default_rng(order)
    x = rng.random((8, 12, 14, 3)) * 255
    x[:, 3:6, 4:9] = 255  # flat bright patches: the splines overshoot next to them
    gen_kwargs = dict(rotation_range=25, zoom_range=0.2, horizontal_flip=True, interpolation_order=order,
                      dtype=dtype)
    gen = ImageDataGenerator(**gen_kwargs)
    kgen = kimage.ImageDataGenerator(**gen_kwargs)
    it = gen.flow(x, batch_size=4, seed=3, shuffle=False)
    for b in range(2):
        xb = it[b]
        p = sample_params(gen, 4, (12, 14), it._sample_key(0), ids=np.arange(4 * b, 4 * b + 4))
        ref = np.stack([kgen.standardize(kgen.apply_transform(np.asarray(x[4 * b + i], dtype=dtype),
                                                              params_to_dict(p, i)))
                        for i in range(4)]).astype(dtype)
        assert xb.dtype == ref.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(xb, ref)


def test_float64_flow_keeps_detail_below_float32_resolution(kimage):
    """The warp of a float64 flow runs in float64: a 1e-9 ripple on 100.0 survives."""
    rng = np.random.default_rng(1)
    x = 100.0 + 1e-9 * rng.random((4, 10, 11, 1))
    for order in (1, 3):
        gen = ImageDataGenerator(rotation_range=20, interpolation_order=order, dtype="float64")
        kgen = kimage.ImageDataGenerator(rotation_range=20, interpolation_order=order, dtype="float64")
        it = gen.flow(x, batch_size=4, shuffle=False, seed=2)
        xb = it[0]
        p = sample_params(gen, 4, (10, 11), it._sample_key(0), ids=np.arange(4))
        ref = np.stack([kgen.apply_transform(x[i], params_to_dict(p, i)) for i in range(4)])
        np.testing.assert_allclose(xb, ref, rtol=0, atol=1e-12)
        assert np.ptp(xb - 100.0) > 1e-10  # float32 would have flattened it to 100.0


@pytest.mark.parametrize("order", SPLINE_ORDERS)
def test_fit_augment_with_spline_orders_runs_in_the_generator_dtype(order):
    x = _image((6, 9, 10, 3), seed=order).astype(np.float64)
    for dtype in ("float32", "float64"):
        gen = ImageDataGenerator(featurewise_center=True, rotation_range=20, interpolation_order=order,
                                 dtype=dtype)
        gen.fit(x, augment=True, rounds=2, seed=1)
        assert gen.mean.dtype == np.dtype(dtype) and np.isfinite(gen.mean).all()


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("order", SPLINE_ORDERS)
def test_flow_from_directory_matches_keras_per_image_pipeline(kimage, shared_dataset, order, fill_mode):
    """Same parameters as our batch drew, pushed through Keras's per-image path
    (Keras warps the float32 `img_to_array` result whatever `dtype` is)."""
    target = (15, 19)
    gen_kwargs = dict(rotation_range=30, zoom_range=0.2, horizontal_flip=True, fill_mode=fill_mode, cval=5.0,
                      interpolation_order=order, rescale=1 / 255.0)
    ours = ImageDataGenerator(**gen_kwargs).flow_from_directory(
        shared_dataset, target_size=target, batch_size=5, seed=7, interpolation="nearest")
    kgen = kimage.ImageDataGenerator(**gen_kwargs)
    for _ in range(2):
        idx = ours.batch_index
        x, _ = next(ours)
        index_array = ours.index_array[idx * 5:(idx + 1) * 5]
        ref = keras_reference_batch(kimage, kgen, ours, index_array, target, "nearest")
        # The kernel folds rescale into its float64 -> float32 store; Keras
        # multiplies the float32 warp result: two roundings instead of one.
        np.testing.assert_allclose(x, ref, rtol=0, atol=4 * np.spacing(np.float32(2.0)))
