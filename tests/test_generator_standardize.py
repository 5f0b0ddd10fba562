"""standardize and fit (featurewise statistics, ZCA) against Keras."""
import warnings

import numpy as np
import pytest

from pyimgaug import ImageDataGenerator

CONFIGS = [
    dict(rescale=1 / 255.0),
    dict(samplewise_center=True),
    dict(samplewise_center=True, samplewise_std_normalization=True, rescale=0.5),
    dict(featurewise_center=True),
    dict(featurewise_center=True, featurewise_std_normalization=True, rescale=1 / 255.0),
    dict(zca_whitening=True, zca_epsilon=1e-3),
    dict(preprocessing_function=lambda x: x - 3.0, rescale=2.0, samplewise_center=True),
]


def _quiet(factory, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return factory(**kw)


def _sample(n=300, shape=(5, 6, 3), seed=0):
    # n > features so that ZCA's covariance is well conditioned.
    return np.random.default_rng(seed).uniform(0, 255, (n,) + shape).astype(np.float32)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_fit_then_standardize_matches_keras(kimage, config, data_format):
    x = _sample()
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2).copy()
    ours = _quiet(ImageDataGenerator, data_format=data_format, **config)
    ref = _quiet(kimage.ImageDataGenerator, data_format=data_format, **config)
    ours.fit(x)
    ref.fit(x)
    for name in ("mean", "std", "principal_components"):
        a, b = getattr(ours, name), getattr(ref, name)
        assert (a is None) == (b is None), name
        if a is not None:
            assert a.shape == b.shape and a.dtype == b.dtype
            # float32 statistics computed the same way; ZCA also through the
            # same scipy SVD: agreement to float32 rounding.
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.abs(b).max())
    batch = _sample(n=4, seed=1)
    if data_format == "channels_first":
        batch = batch.transpose(0, 3, 1, 2).copy()
    # Whole batch (Keras's samplewise statistics are then over the batch) ...
    a = ours.standardize(batch.copy())
    b = ref.standardize(batch.copy())
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())
    # ... and one image.
    a = ours.standardize(batch[0].copy())
    b = ref.standardize(batch[0].copy())
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(b).max())


def test_iterators_standardize_per_image(kimage):
    """Inside the iterators samplewise statistics are per image, as Keras applies them."""
    x = _sample(n=6, shape=(4, 5, 3))
    cfg = dict(samplewise_center=True, samplewise_std_normalization=True)
    batch = next(_quiet(ImageDataGenerator, **cfg).flow(x, batch_size=6, shuffle=False))
    kgen = _quiet(kimage.ImageDataGenerator, **cfg)
    ref = np.stack([kgen.standardize(xi.copy()) for xi in x])
    np.testing.assert_allclose(batch, ref, rtol=0, atol=1e-5)
    np.testing.assert_allclose(batch.mean(axis=(1, 2, 3)), 0, atol=1e-5)


def test_standardize_is_in_place_like_keras(kimage):
    x = _sample(n=2)
    y = x.copy()
    out = ImageDataGenerator(rescale=0.5).standardize(x)
    assert out is x
    np.testing.assert_array_equal(x, y * 0.5)


@pytest.mark.parametrize("flag", ["featurewise_center", "featurewise_std_normalization",
                                  "zca_whitening"])
def test_unfit_warnings_match_keras(kimage, flag):
    ours = _quiet(ImageDataGenerator, **{flag: True})
    ref = _quiet(kimage.ImageDataGenerator, **{flag: True})
    x = _sample(n=1)[0]
    with pytest.warns(UserWarning) as w_ours:
        a = ours.standardize(x.copy())
    with pytest.warns(UserWarning) as w_ref:
        b = ref.standardize(x.copy())
    assert [str(w.message) for w in w_ours] == [str(w.message) for w in w_ref]
    np.testing.assert_array_equal(a, b)


def test_fit_errors_and_warnings_match_keras(kimage):
    with pytest.raises(ValueError, match="rank 4") as ours:
        ImageDataGenerator().fit(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError) as ref:
        kimage.ImageDataGenerator().fit(np.zeros((3, 4, 4)))
    assert str(ours.value) == str(ref.value)
    with pytest.warns(UserWarning, match="5 channels"):
        ImageDataGenerator(featurewise_center=True).fit(np.zeros((3, 4, 4, 5)))


def test_fit_with_augmentation_is_seeded_and_uses_transforms():
    x = _sample(n=20, shape=(8, 8, 3))
    kw = dict(featurewise_center=True, featurewise_std_normalization=True, rotation_range=90,
              zoom_range=0.5, fill_mode="constant", cval=0.0)
    a, b, c = (ImageDataGenerator(**kw) for _ in range(3))
    state = np.random.get_state()
    a.fit(x, augment=True, rounds=3, seed=9)
    b.fit(x, augment=True, rounds=3, seed=9)
    c.fit(x)
    assert np.array_equal(np.random.get_state()[1], state[1])
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.std, b.std)
    # Constant-filled corners pull the augmented mean below the plain one.
    assert (a.mean < c.mean).all()
    assert a.mean.shape == (1, 1, 3)


def test_fit_with_augmentation_equals_keras_on_the_same_transforms(kimage):
    """fit(augment=True) statistics equal Keras's over the transforms we drew."""
    from pyimgaug.pipeline import params as P
    x = _sample(n=12, shape=(7, 9, 3))
    kw = dict(featurewise_center=True, featurewise_std_normalization=True, rotation_range=40,
              zoom_range=0.3, channel_shift_range=10.0, rescale=1 / 255.0, horizontal_flip=True)
    ours, kgen = ImageDataGenerator(**kw), kimage.ImageDataGenerator(**kw)
    ours.fit(x, augment=True, rounds=2, seed=4)
    xs = x * np.float32(1 / 255.0)
    aug = []
    for r in range(2):
        p = P.sample_params(ours, len(x), (7, 9), [P.normalize_seed(4), P._SINGLE_DOMAIN, 1, r])
        aug += [kgen.apply_transform(xs[i].copy(), P.params_to_dict(p, i)) for i in range(len(x))]
    # Statistics of exactly those (already rescaled) images.
    kfit = kimage.ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    kfit.fit(np.stack(aug))
    # Same float32 data up to warp rounding (values ~0..1: < 1e-6).
    np.testing.assert_allclose(ours.mean, kfit.mean, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.std, kfit.std, rtol=0, atol=1e-5)
