"""Bad arguments: the reference's exception where it checks, a named error at the call where not.

Two groups, each checked against keras_preprocessing 1.1.2:

- values the reference rejects (itself, or through NumPy or Pillow): the same
  exception type (TypeError or ValueError), raised no later than the
  reference raises it;
- values the reference accepts at the call and then misuses or fails on in
  some later batch (often with an unrelated error such as OverflowError or
  ZeroDivisionError): a ValueError or TypeError naming the argument, raised
  by the call that received it.
"""
import math
import os
import warnings

import numpy as np
import pytest

import pyimgaug
from pyimgaug import ImageDataGenerator

from conftest import build_dataset

NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return build_dataset(tmp_path_factory.mktemp("args") / "data", classes=2, per_class=3,
                         extras=False, nested=False)


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (6, 8, 8, 3)).astype(np.float32), np.arange(6) % 2


def _frame(data_dir):
    pd = pytest.importorskip("pandas", reason="pandas (the 'pandas' extra) is not installed")
    files = sorted(os.path.join(c, f) for c in os.listdir(data_dir)
                   for f in os.listdir(os.path.join(data_dir, c)))
    return pd.DataFrame({"filename": files, "class": [f.split(os.sep)[0] for f in files]})


def _first_error(call):
    """The exception `call()` raises, or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - we compare types
            return exc
    return None


# ------------------------------------------------ group 1: the reference checks
# (name, call(module, data_dir, x, y)); the call includes the first batch,
# where the reference makes its check.

def _gen(m, **kw):
    return m.ImageDataGenerator(**kw)


REFERENCE_CHECKS = [
    ("data_format", lambda m, d, x, y: _gen(m, data_format="channels_middle")),
    ("validation_split", lambda m, d, x, y: _gen(m, validation_split=1.5)),
    ("validation_split", lambda m, d, x, y: _gen(m, validation_split=NAN)),
    ("validation_split", lambda m, d, x, y: _gen(m, validation_split="0.2")),
    ("zoom_range", lambda m, d, x, y: _gen(m, zoom_range=[0.5, 1.0, 2.0])),
    ("zoom_range", lambda m, d, x, y: _gen(m, zoom_range="ab")),
    ("zoom_range", lambda m, d, x, y: _gen(m, zoom_range=None)),
    ("brightness_range", lambda m, d, x, y: _gen(m, brightness_range=0.5)),
    ("brightness_range", lambda m, d, x, y: _gen(m, brightness_range=(1, 2, 3))),
    ("x", lambda m, d, x, y: _gen(m).flow(x[0], y)),
    ("y", lambda m, d, x, y: _gen(m).flow(x, y[:-1])),
    ("sample_weight", lambda m, d, x, y: _gen(m).flow(x, y, sample_weight=y[:-2])),
    ("subset", lambda m, d, x, y: _gen(m, validation_split=0.5).flow(x, y, subset="test")),
    ("batch_size", lambda m, d, x, y: _gen(m).flow(x, y, batch_size=-1)[0]),
    ("batch_size", lambda m, d, x, y: _gen(m).flow(x, y, batch_size=2.5)[0]),
    ("seed", lambda m, d, x, y: next(_gen(m).flow(x, y, seed=-1))),
    ("seed", lambda m, d, x, y: next(_gen(m).flow(x, y, seed=1.5))),
    ("seed", lambda m, d, x, y: next(_gen(m).flow(x, y, seed="abc"))),
    ("seed", lambda m, d, x, y: _gen(m).fit(x, seed=-3)),
    ("seed", lambda m, d, x, y: _gen(m).get_random_transform((8, 8, 3), seed=-1)),
    ("seed", lambda m, d, x, y: _gen(m).random_transform(x[0], seed=0.5)),
    ("rounds", lambda m, d, x, y: _gen(m, featurewise_center=True).fit(x, augment=True,
                                                                       rounds=-1)),
    ("fit x", lambda m, d, x, y: _gen(m).fit(x[0])),
    ("dtype", lambda m, d, x, y: next(_gen(m, dtype="flot32").flow(x, y))),
    ("rescale", lambda m, d, x, y: next(_gen(m, rescale="1/255").flow(x, y))),
    ("preprocessing_function",
     lambda m, d, x, y: next(_gen(m, preprocessing_function="f").flow(x, y))),
    ("preprocessing_function",
     lambda m, d, x, y: next(_gen(m, preprocessing_function=lambda a: a[:3]).flow(x, y))),
    ("rotation_range", lambda m, d, x, y: next(_gen(m, rotation_range="10").flow(x, y))),
    ("cval", lambda m, d, x, y: next(_gen(m, cval="x", rotation_range=10).flow(x, y))),
    ("save_format", lambda m, d, x, y: next(_gen(m).flow(x, y, save_to_dir=d,
                                                         save_format="jpg2"))),
    ("target_size", lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=5)),
    ("target_size", lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=(5.0, 5))[0]),
    ("target_size", lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=(-1, 5))[0]),
    ("target_size", lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=(5, 5, 3))[0]),
    ("color_mode", lambda m, d, x, y: _gen(m).flow_from_directory(d, color_mode="cmyk")),
    ("class_mode", lambda m, d, x, y: _gen(m).flow_from_directory(d, class_mode="multi")),
    ("subset", lambda m, d, x, y: _gen(m, validation_split=0.5).flow_from_directory(
        d, subset="test")),
    ("interpolation", lambda m, d, x, y: next(_gen(m).flow_from_directory(
        d, target_size=(5, 5), interpolation="spline"))),
    ("directory", lambda m, d, x, y: _gen(m).flow_from_directory(d + "_missing")),
]


@pytest.mark.parametrize("name, call", REFERENCE_CHECKS,
                         ids=["%s-%d" % (c[0], i) for i, c in enumerate(REFERENCE_CHECKS)])
def test_reference_checks_keep_their_exception_type(kimage, data_dir, arrays, name, call):
    x, y = arrays
    ref = _first_error(lambda: call(kimage, data_dir, x, y))
    ours = _first_error(lambda: call(pyimgaug, data_dir, x, y))
    assert ref is not None and ours is not None, (ref, ours)
    for family in (TypeError, ValueError, OSError):
        assert isinstance(ours, family) == isinstance(ref, family), (ref, ours)


# (call(module, data_dir, x, y) that only constructs, argument named in the message)
NOT_CHECKED_BY_REFERENCE = [
    (lambda m, d, x, y: _gen(m, rotation_range=NAN), "rotation_range", ValueError),
    (lambda m, d, x, y: _gen(m, rotation_range=INF), "rotation_range", ValueError),
    (lambda m, d, x, y: _gen(m, width_shift_range=NAN), "width_shift_range", ValueError),
    (lambda m, d, x, y: _gen(m, width_shift_range=[0.1, NAN]), "width_shift_range", ValueError),
    (lambda m, d, x, y: _gen(m, width_shift_range=[[1, 2]]), "width_shift_range", ValueError),
    (lambda m, d, x, y: _gen(m, width_shift_range="a"), "width_shift_range", TypeError),
    (lambda m, d, x, y: _gen(m, height_shift_range=-INF), "height_shift_range", ValueError),
    (lambda m, d, x, y: _gen(m, height_shift_range=np.array([2, INF])), "height_shift_range",
     ValueError),
    (lambda m, d, x, y: _gen(m, shear_range=NAN), "shear_range", ValueError),
    (lambda m, d, x, y: _gen(m, zoom_range=NAN), "zoom_range", ValueError),
    (lambda m, d, x, y: _gen(m, zoom_range=[0.5, INF]), "zoom_range", ValueError),
    (lambda m, d, x, y: _gen(m, channel_shift_range=INF), "channel_shift_range", ValueError),
    (lambda m, d, x, y: _gen(m, brightness_range=(NAN, 1.0)), "brightness_range", ValueError),
    (lambda m, d, x, y: _gen(m, brightness_range=("a", "b")), "brightness_range", TypeError),
    (lambda m, d, x, y: _gen(m, cval=NAN), "cval", ValueError),
    (lambda m, d, x, y: _gen(m, rescale=NAN), "rescale", ValueError),
    (lambda m, d, x, y: _gen(m, rescale="1/255"), "rescale", TypeError),
    (lambda m, d, x, y: _gen(m, zca_epsilon=INF), "zca_epsilon", ValueError),
    (lambda m, d, x, y: _gen(m, rotation_range="10"), "rotation_range", TypeError),
    (lambda m, d, x, y: _gen(m, preprocessing_function="f"), "preprocessing_function",
     TypeError),
    (lambda m, d, x, y: _gen(m, dtype="flot32"), "dtype", TypeError),
    (lambda m, d, x, y: _gen(m, dtype=None), "dtype", TypeError),
    (lambda m, d, x, y: _gen(m, dtype="str"), "dtype", ValueError),
    (lambda m, d, x, y: _gen(m, dtype=object), "dtype", ValueError),
    (lambda m, d, x, y: _gen(m).flow(x, y, batch_size=0), "batch_size", ValueError),
    (lambda m, d, x, y: _gen(m).flow(x, y, batch_size=-4), "batch_size", ValueError),
    (lambda m, d, x, y: _gen(m).flow(x, y, batch_size=2.0), "batch_size", TypeError),
    (lambda m, d, x, y: _gen(m).flow(x, y, seed=-1), "seed", ValueError),
    (lambda m, d, x, y: _gen(m).flow(x, y, seed="abc"), "seed", TypeError),
    (lambda m, d, x, y: _gen(m).flow(x, y, save_to_dir=d, save_format="jpg2"), "save_format",
     ValueError),
    (lambda m, d, x, y: _gen(m).flow_from_directory(d, batch_size=0), "batch_size", ValueError),
    (lambda m, d, x, y: _gen(m).flow_from_directory(d, seed=-2), "seed", ValueError),
    (lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=(-1, 5)), "target_size",
     ValueError),
    (lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=(0, 5)), "target_size",
     ValueError),
    (lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=(5,)), "target_size",
     ValueError),
    (lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=(5.0, 5)), "target_size",
     TypeError),
    (lambda m, d, x, y: _gen(m).flow_from_directory(d, target_size=(5, 5), interpolation="cubic"),
     "interpolation", ValueError),
    (lambda m, d, x, y: _gen(m).flow_from_directory(d, save_to_dir=d, save_format="jpg2"),
     "save_format", ValueError),
]


@pytest.mark.parametrize("call, name, exc", NOT_CHECKED_BY_REFERENCE,
                         ids=["%s-%d" % (c[1], i) for i, c in enumerate(NOT_CHECKED_BY_REFERENCE)])
def test_unchecked_values_fail_at_the_call_naming_the_argument(kimage, data_dir, arrays, call,
                                                                name, exc):
    x, y = arrays
    # The reference takes the value at the call (and fails, if at all, later).
    assert _first_error(lambda: call(kimage, data_dir, x, y)) is None
    with pytest.raises(exc) as err:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call(pyimgaug, data_dir, x, y)
    assert exc in (TypeError, ValueError)
    assert name in str(err.value) or (name == "interpolation" and "interpolation method"
                                      in str(err.value))


def test_file_iterator_checks_come_before_the_listing(data_dir, capsys):
    # An unattended run should not list a large tree only to refuse an argument.
    for kw in (dict(batch_size=0), dict(seed=-1), dict(target_size=(0, 4)),
               dict(interpolation="cubic", target_size=(3, 3)), dict(on_error="ignore")):
        with pytest.raises((TypeError, ValueError)):
            ImageDataGenerator().flow_from_directory(data_dir, **kw)
    assert "Found" not in capsys.readouterr().out


@pytest.mark.parametrize("value", ["ignore", "Skip", None, True])
def test_on_error_choices_are_listed(data_dir, value):
    with pytest.raises(ValueError, match="on_error.*'raise', 'skip', 'warn'"):
        ImageDataGenerator().flow_from_directory(data_dir, on_error=value)


def test_unknown_dataframe_keyword_is_refused(kimage, data_dir):
    df = _frame(data_dir)
    # Keras ignores it silently: a misspelt option would do nothing.
    assert kimage.ImageDataGenerator().flow_from_dataframe(df, data_dir, on_eror="skip").n == 6
    with pytest.raises(TypeError, match="on_eror"):
        ImageDataGenerator().flow_from_dataframe(df, data_dir, on_eror="skip")
    # The reference's deprecated keywords still only warn.
    with pytest.warns(DeprecationWarning):
        ImageDataGenerator().flow_from_dataframe(df, data_dir, has_ext=True, sort=False,
                                                 drop_duplicates=False)


def test_fit_rounds_checked_only_with_augmentation(kimage, arrays):
    x, _ = arrays
    g = ImageDataGenerator(featurewise_center=True)
    g.fit(x, augment=False, rounds=0)  # unused, as in Keras
    with pytest.raises(ValueError, match="rounds"):
        g.fit(x, augment=True, rounds=0)
    with pytest.raises(TypeError, match="rounds"):
        g.fit(x, augment=True, rounds=1.5)
    # The reference fits on zero samples and gets a NaN mean.
    ref = kimage.ImageDataGenerator(featurewise_center=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref.fit(x, augment=True, rounds=0)
    assert np.isnan(ref.mean).all()


# ------------------------------------------------- preprocessing_function output

def _shape_cases():
    return [
        (lambda a: a[:, :, :1], ValueError),      # Keras broadcasts this silently
        (lambda a: a[:4], ValueError),            # Keras: NumPy's broadcast error
        (lambda a: a.mean(), ValueError),         # a scalar: broadcast silently
        (lambda a: np.zeros((3, 3)), ValueError),
        (lambda a: None, TypeError),
        (lambda a: "image", TypeError),
    ]


@pytest.mark.parametrize("fn, exc", _shape_cases())
def test_preprocessing_function_wrong_output_fails_naming_it(data_dir, arrays, fn, exc):
    x, y = arrays
    for it in (ImageDataGenerator(preprocessing_function=fn).flow(x, y, batch_size=2),
               ImageDataGenerator(preprocessing_function=fn, rescale=1 / 255.0)
               .flow_from_directory(data_dir, target_size=(6, 6), batch_size=2)):
        with pytest.raises(exc, match="preprocessing_function"):
            next(it)


def test_preprocessing_function_right_shape_any_type_still_works(kimage, arrays):
    x, y = arrays
    for fn in (lambda a: a * 2, lambda a: (a * 2).tolist(), lambda a: a.astype(np.float64)):
        ours = next(ImageDataGenerator(preprocessing_function=fn).flow(x, y, shuffle=False))[0]
        ref = next(kimage.ImageDataGenerator(preprocessing_function=fn).flow(x, y,
                                                                             shuffle=False))[0]
        np.testing.assert_array_equal(ours, ref)


def test_a_subclass_standardize_is_still_called(arrays):
    x, y = arrays
    calls = []

    class Gen(ImageDataGenerator):
        def standardize(self, img):
            calls.append(img.shape)
            return super(Gen, self).standardize(img)

    next(Gen(preprocessing_function=lambda a: a + 1).flow(x, y, batch_size=3))
    assert calls == [(8, 8, 3)] * 3
    with pytest.raises(ValueError, match="preprocessing_function"):
        next(Gen(preprocessing_function=lambda a: a[:2]).flow(x, y, batch_size=3))


def test_checks_accept_what_keras_users_pass(data_dir, arrays):
    x, y = arrays
    ImageDataGenerator(rotation_range=np.float32(10), width_shift_range=np.array([-2, 0, 2]),
                       height_shift_range=(0.1, 0.2), zoom_range=[0.9, 1.1], shear_range=True,
                       brightness_range=[np.float64(0.5), 1], rescale=np.float32(1 / 255.0),
                       cval=-1, zca_epsilon=0, dtype=np.float64, preprocessing_function=None)
    ImageDataGenerator(rescale=0, dtype="uint8", preprocessing_function=0)
    assert not math.isnan(ImageDataGenerator(validation_split=0.0)._validation_split)
    next(ImageDataGenerator().flow(x, y, batch_size=np.int64(2), seed=np.uint32(3)))
    next(ImageDataGenerator().flow_from_directory(data_dir, target_size=[np.int32(4), 5],
                                                  seed=2 ** 40))
