"""flow_from_dataframe against Keras (needs pandas, an optional extra)."""
import os
import warnings

import numpy as np
import pytest

from pyimgaug import ImageDataGenerator

pd = pytest.importorskip("pandas", reason="pandas (the 'pandas' extra) is not installed")


@pytest.fixture
def frame(make_dataset):
    root = make_dataset(classes=["cat", "dog"], per_class=[6, 5])
    it = ImageDataGenerator().flow_from_directory(root)
    rows = []
    for i, f in enumerate(it.filenames):
        cls = f.split(os.sep)[0]
        rows.append({"filename": f, "class": cls, "multi": [cls, "pet"] if i % 2 else [cls],
                     "w": 0.5 + i, "score": float(i) / 3, "size": i % 4})
    rows.append({"filename": "missing.png", "class": "cat", "multi": ["cat"], "w": 1.0,
                 "score": 0.0, "size": 0})
    rows.append({"filename": "notes.txt", "class": "dog", "multi": ["dog"], "w": 1.0,
                 "score": 0.0, "size": 0})
    return root, pd.DataFrame(rows)


def _pair(kimage, df, root, gen_kwargs=None, **kw):
    gen_kwargs = gen_kwargs or {}
    with warnings.catch_warnings(record=True) as w1:
        warnings.simplefilter("always")
        ours = ImageDataGenerator(**gen_kwargs).flow_from_dataframe(df, root, **kw)
    with warnings.catch_warnings(record=True) as w2:
        warnings.simplefilter("always")
        ref = kimage.ImageDataGenerator(**gen_kwargs).flow_from_dataframe(df, root, **kw)
    assert [str(w.message) for w in w1] == [str(w.message) for w in w2]
    return ours, ref


def _same(a, b):
    if isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    if a.dtype.kind == "f":
        # Images: within 1/255 of the 0..255 range (Pillow-exact resize, float32).
        np.testing.assert_allclose(a, b, rtol=0, atol=1.0)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("class_mode, y_col", [
    ("categorical", "class"),
    ("categorical", "multi"),
    ("binary", "class"),
    ("sparse", "class"),
    ("input", "class"),
    (None, "class"),
    ("raw", "score"),
    ("raw", ["score", "size"]),
    ("multi_output", ["score", "size"]),
])
@pytest.mark.parametrize("weight_col", [None, "w"])
def test_dataframe_batches_match_keras(kimage, frame, class_mode, y_col, weight_col):
    root, df = frame
    kw = dict(x_col="filename", y_col=y_col, weight_col=weight_col, class_mode=class_mode,
              target_size=(14, 18), batch_size=4, shuffle=False, interpolation="bilinear")
    ours, ref = _pair(kimage, df, root, **kw)
    assert ours.samples == ref.samples == 11
    assert ours.filenames == ref.filenames and ours.filepaths == ref.filepaths
    if class_mode not in ("input", None, "raw", "multi_output"):
        assert ours.class_indices == ref.class_indices
        assert ours.classes == ref.classes
    for i in range(len(ref)):
        a, b = ours[i], ref[i]
        a, b = (a, b) if isinstance(b, tuple) else ((a,), (b,))
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)


def test_dataframe_options_match_keras(kimage, frame):
    root, df = frame
    # Absolute paths without a directory, classes subset, validation split, no validation.
    df_abs = df.assign(filename=[os.path.join(root, f) for f in df["filename"]])
    for kw, gk in [
        (dict(directory=None, classes=["dog"]), {}),
        (dict(subset="validation"), dict(validation_split=0.3)),
        (dict(subset="training"), dict(validation_split=0.3)),
        (dict(validate_filenames=False), {}),
    ]:
        directory = kw.pop("directory", root)
        data = df_abs if directory is None else df
        if not kw.get("validate_filenames", True):
            data = data.iloc[:-2]
        ours, ref = _pair(kimage, data, directory, gk, target_size=(8, 8), shuffle=False, **kw)
        assert ours.filenames == ref.filenames
        assert ours.classes == ref.classes and ours.class_indices == ref.class_indices
        _same(ours[0][0], ref[0][0])
        _same(ours[0][1], ref[0][1])


@pytest.mark.parametrize("kw, exc", [
    (dict(class_mode="multi_output", y_col="class"), TypeError),
    (dict(class_mode="binary", y_col="size"), TypeError),
    (dict(class_mode="binary", classes=["cat", "dog", "cow"]), ValueError),
    (dict(class_mode="categorical", y_col="score"), TypeError),
    (dict(weight_col="class"), TypeError),
    (dict(class_mode="nope"), ValueError),
])
def test_dataframe_errors_match_keras(kimage, frame, kw, exc):
    root, df = frame
    with pytest.raises(exc) as ours:
        ImageDataGenerator().flow_from_dataframe(df, root, **kw)
    with pytest.raises(exc) as ref:
        kimage.ImageDataGenerator().flow_from_dataframe(df, root, **kw)
    assert str(ours.value).split("{")[0] == str(ref.value).split("{")[0]


def test_dataframe_deprecated_arguments_warn_like_keras(kimage, frame):
    root, df = frame
    ours, ref = _pair(kimage, df.iloc[:-2], root, has_ext=True, sort=False, drop_duplicates=False,
                      class_mode="other", y_col="score")
    assert ours.class_mode == ref.class_mode == "raw"


def test_dataframe_seeded_augmentation_repeatable(frame):
    root, df = frame
    df = df.iloc[:-2]  # only valid files
    g = ImageDataGenerator(rotation_range=20, horizontal_flip=True)
    a = g.flow_from_dataframe(df, root, target_size=(8, 8), seed=3, batch_size=5)
    b = g.flow_from_dataframe(df, root, target_size=(8, 8), seed=3, batch_size=5)
    for _ in range(4):
        (xa, ya), (xb, yb) = next(a), next(b)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
