"""ImageDataGenerator construction and per-image transforms against Keras.

Tolerances: the reference warps with scipy in float64 and stores float32; the
kernel does the same arithmetic (same coordinate summation order), so for
images in 0..255 the results agree to float32 rounding. `ATOL = 1e-3` is far
below one grey level (1/255 of the value range is 1.0 here) and far above
float32 rounding at 255 (1.5e-5).
"""
import inspect
import warnings

import numpy as np
import pytest

import pyimgaug
from pyimgaug import ImageDataGenerator
from pyimgaug.pipeline.affine import transform_matrices
from pyimgaug.pipeline.params import params_from_dicts, sample_params

ATOL = 1e-3
FILL_MODES = ["nearest", "constant", "reflect", "wrap"]

# Each parameter alone, then combinations (with awkward values on purpose).
PARAM_DICTS = [
    {},
    {"theta": 23.0},
    {"theta": -90.0},
    {"tx": 3.0},
    {"ty": -4.5},
    {"tx": 2.25, "ty": 1.5},
    {"shear": 15.0},
    {"zx": 0.7},
    {"zy": 1.35},
    {"zx": 1.2, "zy": 0.85},
    {"flip_horizontal": True},
    {"flip_vertical": True},
    {"channel_shift_intensity": 25.0},
    {"channel_shift_intensity": -40.0},
    {"brightness": 0.6},
    {"theta": 17.0, "tx": 2.5, "ty": -3.0, "shear": 11.0, "zx": 0.8, "zy": 1.3},
    {"theta": -33.0, "tx": -1.0, "ty": 6.0, "shear": -8.0, "zx": 1.1, "zy": 0.9,
     "flip_horizontal": 1, "flip_vertical": 1, "channel_shift_intensity": 12.0},
    {"theta": 10.0, "zx": 0.9, "flip_horizontal": True, "brightness": 1.4},
]


def _image(shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return (rng.random(shape) * 255).astype(dtype)


# ----------------------------------------------------------------- signatures

@pytest.mark.parametrize("name", ["__init__", "flow", "flow_from_directory", "flow_from_dataframe",
                                  "standardize", "fit", "get_random_transform", "apply_transform",
                                  "random_transform"])
def test_method_signatures_match_keras(kimage, name):
    ours = inspect.signature(getattr(ImageDataGenerator, name))
    ref = inspect.signature(getattr(kimage.ImageDataGenerator, name))
    # pyimgaug's own options are keyword-only, so Keras's calls bind the same.
    extensions = {"decode", "cache", "cache_bytes", "workers", "max_queue_size", "on_error"}
    ours_keras = [p for p in ours.parameters.values()
                  if not (p.kind is p.KEYWORD_ONLY and p.name in extensions)]
    assert [(p.name, p.default, p.kind) for p in ours_keras] == \
        [(p.name, p.default, p.kind) for p in ref.parameters.values()]


@pytest.mark.parametrize("name", ["load_img", "img_to_array", "array_to_img", "save_img",
                                  "apply_affine_transform", "apply_channel_shift",
                                  "apply_brightness_shift"])
def test_helper_signatures_match_keras(kimage, name):
    ours = inspect.signature(getattr(pyimgaug, name))
    ref = inspect.signature(getattr(kimage, name))
    assert [(p.name, p.default) for p in ours.parameters.values()] == \
        [(p.name, p.default) for p in ref.parameters.values()]


@pytest.mark.parametrize("name", ["DirectoryIterator", "DataFrameIterator", "NumpyArrayIterator"])
def test_iterator_signatures_match_keras(kimage, name):
    ours = inspect.signature(getattr(pyimgaug, name).__init__)
    ref = inspect.signature(getattr(kimage, name).__init__)
    assert [(p.name, p.default) for p in ours.parameters.values()] == \
        [(p.name, p.default) for p in ref.parameters.values()]


# --------------------------------------------------------------- construction

_ATTRS = ["featurewise_center", "samplewise_center", "featurewise_std_normalization",
          "samplewise_std_normalization", "zca_whitening", "zca_epsilon", "rotation_range",
          "width_shift_range", "height_shift_range", "shear_range", "zoom_range",
          "channel_shift_range", "fill_mode", "cval", "horizontal_flip", "vertical_flip",
          "rescale", "preprocessing_function", "dtype", "interpolation_order", "data_format",
          "channel_axis", "row_axis", "col_axis", "_validation_split", "brightness_range",
          "mean", "std", "principal_components"]


@pytest.mark.parametrize("kwargs", [
    {},
    {"zoom_range": 0.2},
    {"zoom_range": [0.5, 1.5]},
    {"zoom_range": (1, 2)},
    {"data_format": "channels_first", "validation_split": 0.3},
    {"zca_whitening": True},
    {"zca_whitening": True, "featurewise_std_normalization": True},
    {"featurewise_std_normalization": True},
    {"samplewise_std_normalization": True},
    {"brightness_range": (0.5, 1.5), "rescale": 1 / 255.0},
])
def test_constructor_attributes_and_warnings_match_keras(kimage, kwargs):
    with warnings.catch_warnings(record=True) as w_ours:
        warnings.simplefilter("always")
        ours = ImageDataGenerator(**kwargs)
    with warnings.catch_warnings(record=True) as w_ref:
        warnings.simplefilter("always")
        ref = kimage.ImageDataGenerator(**kwargs)
    assert [str(w.message) for w in w_ours] == [str(w.message) for w in w_ref]
    for a in _ATTRS:
        assert getattr(ours, a) == getattr(ref, a), a


@pytest.mark.parametrize("kwargs, match", [
    ({"data_format": "channels_middle"}, "data_format"),
    ({"validation_split": 1.5}, "validation_split"),
    ({"validation_split": -0.1}, "validation_split"),
    ({"zoom_range": [0.5, 1.0, 2.0]}, "zoom_range"),
    ({"zoom_range": ["a", "b"]}, "zoom_range"),
    ({"brightness_range": 0.5}, "brightness_range"),
    ({"brightness_range": (0.1, 0.2, 0.3)}, "brightness_range"),
])
def test_constructor_errors_match_keras(kimage, kwargs, match):
    with pytest.raises(ValueError, match=match) as ours:
        ImageDataGenerator(**kwargs)
    with pytest.raises(ValueError) as ref:
        kimage.ImageDataGenerator(**kwargs)
    assert str(ours.value) == str(ref.value)


def test_unsupported_warp_settings_fail_early():
    # scipy (in Keras) raises RuntimeError for an unknown mode on the first
    # batch; we raise at construction an error that is both a ValueError and
    # a RuntimeError, naming the argument and the choices.
    with pytest.raises(RuntimeError, match="fill_mode.*constant, nearest, reflect, wrap"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation_order"):
        ImageDataGenerator(interpolation_order=6)  # scipy's orders are 0-5 (test_generator_spline.py)


# ------------------------------------------------------------------- matrices

class _Spy(object):
    """Stands in for scipy.ndimage inside Keras to capture the matrices."""

    def __init__(self, real):
        self.real = real
        self.calls = []
        self.interpolation = self

    def affine_transform(self, x, matrix, offset, **kw):
        self.calls.append((np.array(matrix), np.array(offset)))
        return self.real.affine_transform(x, matrix, offset, **kw)


def test_matrices_equal_keras_composition(kimage, monkeypatch):
    from scipy import ndimage

    from keras_preprocessing.image import affine_transformations as kaff
    rng = np.random.default_rng(3)
    n = 40
    theta, shear = rng.uniform(-180, 180, n), rng.uniform(-40, 40, n)
    tx, ty = rng.uniform(-9, 9, n), rng.uniform(-9, 9, n)
    zx, zy = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, n)
    h, w = 21, 34
    mats, warp = transform_matrices(theta, tx, ty, shear, zx, zy, h, w)
    assert warp.all()
    spy = _Spy(ndimage)
    monkeypatch.setattr(kaff, "ndimage", spy)
    x = np.zeros((h, w, 1), np.float32)
    for i in range(n):
        spy.calls.clear()
        kaff.apply_affine_transform(x, theta[i], tx[i], ty[i], shear[i], zx[i], zy[i])
        (m, off), = spy.calls
        # Same composition; only the summation order of 3x3 products may differ.
        np.testing.assert_allclose(mats[i, :2, :2], m, rtol=0, atol=1e-12)
        np.testing.assert_allclose(mats[i, :2, 2], off, rtol=0, atol=1e-10)
    # The identity is flagged as "no warp" exactly as Keras skips the warp.
    m, warp = transform_matrices([0, 0], [0, 1], [0, 0], [0, 0], [1, 1], [1, 1], h, w)
    assert warp.tolist() == [False, True]
    np.testing.assert_array_equal(m[0], np.eye(3))


# ----------------------------------------------------------- apply_transform

@pytest.mark.parametrize("params", PARAM_DICTS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("order", [0, 1])
def test_apply_transform_matches_keras(kimage, params, fill_mode, order):
    x = _image((19, 26, 3), seed=len(params))
    kw = dict(fill_mode=fill_mode, cval=37.0, interpolation_order=order)
    ours = ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    ref = kimage.ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=0, atol=ATOL)


# Brightness needs a channels-last image (see the next test).
@pytest.mark.parametrize("params", [p for p in PARAM_DICTS if "brightness" not in p])
@pytest.mark.parametrize("channels", [1, 2, 4])
def test_apply_transform_channels_first_and_any_channel_count(kimage, params, channels):
    x = _image((channels, 15, 22), seed=channels)
    kw = dict(data_format="channels_first", fill_mode="reflect")
    ours = ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    ref = kimage.ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=ATOL)


def test_brightness_with_channels_first_fails_like_keras(kimage):
    # Keras converts through a channels-last Pillow image whatever the data
    # format, so (3, H, W) images with W not in {1, 3, 4} raise.
    x = _image((3, 8, 9))
    with pytest.raises(ValueError, match="channel number") as ours:
        ImageDataGenerator(data_format="channels_first").apply_transform(x, {"brightness": 1.2})
    with pytest.raises(ValueError) as ref:
        kimage.ImageDataGenerator(data_format="channels_first").apply_transform(x, {"brightness": 1.2})
    assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize("dtype", [np.float64, np.uint8])
def test_apply_transform_other_dtypes(kimage, dtype):
    x = _image((12, 13, 3), seed=2, dtype=dtype)
    p = {"theta": 12.0, "zx": 0.9, "ty": 1.5}
    ours = ImageDataGenerator().apply_transform(x, p)
    ref = kimage.ImageDataGenerator().apply_transform(x, p)
    assert ours.dtype == ref.dtype
    if dtype == np.uint8:
        # Integer outputs are rounded half away from zero as scipy does; a
        # float32 intermediate may move an exact .5 tie by one level.
        assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 1
        assert np.mean(ours == ref) > 0.99
    else:
        # float64 inputs are warped in float64, as scipy warps them: only the
        # 3x3 matrix product order differs (see test_generator_spline.py).
        np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9 * 255)


def test_channel_shift_commutes_with_flips():
    """Keras flips after the channel shift; the shift is per-pixel plus a global clip."""
    x = _image((10, 12, 3), seed=9)
    g = ImageDataGenerator()
    a = g.apply_transform(x.copy(), {"channel_shift_intensity": 50.0, "flip_horizontal": 1,
                                     "flip_vertical": 1})
    b = pyimgaug.apply_channel_shift(x[::-1, ::-1].copy(), 50.0, 2)
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------- helpers

@pytest.mark.parametrize("axes", [(0, 1, 2), (1, 2, 0), (2, 1, 0)])
def test_apply_affine_transform_helper_matches_keras(kimage, axes):
    row, col, ch = axes
    shape = [0, 0, 0]
    shape[row], shape[col], shape[ch] = 14, 17, 3
    x = _image(tuple(shape), seed=4)
    kw = dict(theta=20, tx=2, ty=-1, shear=5, zx=1.1, zy=0.9, row_axis=row, col_axis=col,
              channel_axis=ch, fill_mode="constant", cval=3.0, order=1)
    ours = pyimgaug.apply_affine_transform(x, **kw)
    ref = kimage.apply_affine_transform(x, **kw)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=ATOL)
    # No transform: the input comes back untouched.
    assert pyimgaug.apply_affine_transform(x) is x


@pytest.mark.parametrize("channel_axis", [0, 2])
def test_apply_channel_shift_matches_keras(kimage, channel_axis):
    x = _image((3, 5, 6) if channel_axis == 0 else (5, 6, 3), seed=7)
    for intensity in (-300.0, -20.5, 0.0, 17.25, 400.0):
        ours = pyimgaug.apply_channel_shift(x, intensity, channel_axis)
        ref = kimage.apply_channel_shift(x, intensity, channel_axis)
        assert ours.dtype == ref.dtype
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_apply_brightness_shift_matches_keras(kimage, channels):
    x = _image((8, 9, channels), seed=channels) / 255.0 * 3 - 1  # any range: stretched to 0..255
    for b in (0.0, 0.5, 1.0, 1.7):
        ours = pyimgaug.apply_brightness_shift(x, b)
        ref = kimage.apply_brightness_shift(x, b)
        np.testing.assert_array_equal(ours, ref)
        assert ours.min() >= 0 and ours.max() <= 255


# ----------------------------------------------------------- random transform

def test_get_random_transform_keys_ranges_and_seed(kimage):
    kw = dict(rotation_range=30, width_shift_range=0.2, height_shift_range=5.0, shear_range=10,
              zoom_range=(0.8, 1.2), channel_shift_range=20, horizontal_flip=True,
              vertical_flip=True, brightness_range=(0.5, 1.5))
    g = ImageDataGenerator(**kw)
    ref_keys = set(kimage.ImageDataGenerator(**kw).get_random_transform((40, 50, 3)))
    state = np.random.get_state()
    ds = [g.get_random_transform((40, 50, 3)) for _ in range(300)]
    # The global RNG is never touched.
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    assert all(set(d) == ref_keys for d in ds)
    col = {k: np.array([d[k] for d in ds], dtype=float) for k in ref_keys}
    assert np.abs(col["theta"]).max() <= 30 and np.abs(col["theta"]).max() > 20
    assert np.abs(col["ty"]).max() <= 0.2 * 50 and np.abs(col["ty"]).max() > 6
    assert np.abs(col["tx"]).max() <= 5.0 and np.abs(col["tx"]).max() > 3
    assert np.abs(col["shear"]).max() <= 10
    for k in ("zx", "zy"):
        assert col[k].min() >= 0.8 and col[k].max() <= 1.2
    for k in ("flip_horizontal", "flip_vertical"):
        assert set(col[k]) == {0.0, 1.0}
    assert np.abs(col["channel_shift_intensity"]).max() <= 20
    assert col["brightness"].min() >= 0.5 and col["brightness"].max() <= 1.5
    # Seeded: repeatable; unseeded: different.
    assert g.get_random_transform((40, 50, 3), seed=5) == g.get_random_transform((40, 50, 3), seed=5)
    assert ds[0] != ds[1]


def test_get_random_transform_defaults_are_identity(kimage):
    ours = ImageDataGenerator().get_random_transform((10, 10, 3))
    ref = kimage.ImageDataGenerator().get_random_transform((10, 10, 3))
    assert ours == ref


@pytest.mark.parametrize("spec, size, allowed", [
    (2, 30, {-1.0, 0.0, 1.0}),                     # int: integers in (-k, k)
    (3, 30, {-2.0, -1.0, 0.0, 1.0, 2.0}),
    ([-1, 0, 3], 30, {-3.0, -1.0, 0.0, 1.0, 3.0}),  # list: an element times a random sign
    ([0.1, 0.5], 30, {-15.0, -3.0, 3.0, 15.0}),     # list with max < 1: fractions of the size
])
def test_discrete_shift_ranges(spec, size, allowed):
    g = ImageDataGenerator(width_shift_range=spec, height_shift_range=spec)
    p = sample_params(g, 4000, (size, size), [1, 2, 3])
    for k in ("tx", "ty"):
        got = set(np.round(p[k], 9).tolist())
        assert got == allowed


@pytest.mark.parametrize("spec, size, bound", [(0.25, 40, 10.0), (1.0, 40, 1.0), (7.5, 40, 7.5)])
def test_continuous_shift_ranges(spec, size, bound):
    # float < 1: fraction of the size; float >= 1: pixels.
    g = ImageDataGenerator(width_shift_range=spec)
    ty = sample_params(g, 4000, (size, size), [4])["ty"]
    assert np.abs(ty).max() <= bound and np.abs(ty).max() > 0.95 * bound
    assert len(set(ty.tolist())) > 3900  # continuous


def test_keras_shift_axes_tx_moves_rows(kimage):
    """`tx` (from height_shift_range) moves rows, `ty` moves columns."""
    x = np.zeros((9, 9, 1), np.float32)
    x[4, 4] = 1
    g = ImageDataGenerator(fill_mode="constant")
    down = g.apply_transform(x, {"tx": -2})  # pull map: output row r reads r - 2
    assert down[6, 4, 0] == 1
    right = g.apply_transform(x, {"ty": -3})
    assert right[4, 7, 0] == 1
    np.testing.assert_array_equal(down, kimage.ImageDataGenerator(fill_mode="constant")
                                  .apply_transform(x, {"tx": -2}))


def test_random_transform_seeded_and_shape(kimage):
    g = ImageDataGenerator(rotation_range=40, zoom_range=0.3, horizontal_flip=True)
    x = _image((16, 18, 3))
    a = g.random_transform(x.copy(), seed=11)
    b = g.random_transform(x.copy(), seed=11)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape
    p = g.get_random_transform(x.shape, seed=11)
    np.testing.assert_array_equal(a, g.apply_transform(x.copy(), p))
    # ... and that transform is the reference's for the same dict.
    ref = kimage.ImageDataGenerator(rotation_range=40, zoom_range=0.3,
                                    horizontal_flip=True).apply_transform(x.copy(), p)
    np.testing.assert_allclose(a, ref, rtol=0, atol=ATOL)


def test_params_from_dicts_defaults():
    p = params_from_dicts([{}, {"theta": 3, "brightness": 1.5}])
    assert p["theta"].tolist() == [0, 3] and p["zx"].tolist() == [1, 1]
    assert p["channel_shift_intensity"] is None
    assert np.isnan(p["brightness"][0]) and p["brightness"][1] == 1.5
