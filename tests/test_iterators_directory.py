"""flow_from_directory against Keras: listing, batches, labels, iteration, randomness.

Tolerance for image batches: unaugmented batches must be equal (the resize is
bit-exact with the installed Pillow). Augmented ones within 1/255 of the value
range: the warp repeats scipy's arithmetic, so differences are float32 rounding,
which `1/255 * range` bounds with a wide margin.
"""
import os
import pickle
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import pyimgaug
from pyimgaug import ImageDataGenerator

from conftest import build_dataset, keras_reference_batch

CLASS_MODES = ["categorical", "binary", "sparse", "input", None]
COLOR_MODES = ["rgb", "grayscale", "rgba"]
INTERPOLATIONS = ["nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"]


def _pair(kimage, directory, gen_kwargs=None, **kw):
    gen_kwargs = gen_kwargs or {}
    ours = ImageDataGenerator(**gen_kwargs).flow_from_directory(directory, **kw)
    ref = kimage.ImageDataGenerator(**gen_kwargs).flow_from_directory(directory, **kw)
    return ours, ref


def _assert_batch_close(a, b, value_range):
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=0, atol=value_range / 255.0)


def _as_tuple(batch):
    return batch if isinstance(batch, tuple) else (batch,)


# ------------------------------------------------------------------- listing

@pytest.mark.parametrize("classes", [None, ["class_02", "class_00"], ["class_01", "missing"]])
@pytest.mark.parametrize("follow_links", [False, True])
def test_listing_metadata_matches_keras(kimage, shared_dataset, capsys, classes, follow_links):
    ours, ref = _pair(kimage, shared_dataset, classes=classes, follow_links=follow_links)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == out[1] and out[0].startswith("Found ")
    assert ours.samples == ours.n == ref.samples == ref.n
    assert ours.class_indices == ref.class_indices
    assert ours.num_classes == ref.num_classes
    assert ours.classes.dtype == ref.classes.dtype
    np.testing.assert_array_equal(ours.classes, ref.classes)
    assert ours.filenames == ref.filenames
    assert ours.filepaths == ref.filepaths
    np.testing.assert_array_equal(ours.labels, ref.labels)
    assert ours.directory == ref.directory
    assert ours.image_shape == ref.image_shape
    assert ours.batch_size == ref.batch_size and ours.batch_index == ref.batch_index == 0
    assert ours.total_batches_seen == 0 and len(ours) == len(ref)


def test_listing_details(kimage, make_dataset, capsys):
    root = make_dataset(classes=["b", "a", "c"], per_class=[4, 2, 3])
    os.symlink(os.path.join(root, "a"), os.path.join(root, "c", "linked"))
    for follow in (False, True):
        ours, ref = _pair(kimage, root, follow_links=follow)
        assert ours.filenames == ref.filenames
    # Sorted class folders; nested files included; other files ignored.
    assert list(ours.class_indices) == ["a", "b", "c"]
    assert any(os.sep + "nested" + os.sep in f for f in ours.filenames)
    assert not any(f.endswith(".txt") for f in ours.filenames)
    assert "linked" in "".join(ours.filenames)  # follow_links=True
    out = capsys.readouterr().out
    # Ours and the reference print the same line; the link adds class a's 2 files.
    assert out.count("Found 9 images belonging to 3 classes.") == 2
    assert out.count("Found 11 images belonging to 3 classes.") == 2


def test_listing_never_opens_images(shared_dataset, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("listing opened an image")

    monkeypatch.setattr(Image, "open", boom)
    it = ImageDataGenerator().flow_from_directory(shared_dataset)
    assert it.samples == 15


def test_extensions_any_case(kimage, tmp_path):
    rng = np.random.default_rng(0)
    from conftest import write_image
    for ext in ("png", "PNG", "jpg", "JpG", "jpeg", "bmp", "ppm", "tif", "TIFF", "gif", "webp"):
        write_image(str(tmp_path / "c" / ("f_%s.%s" % (ext, ext))), rng, 8, 8, "RGB")
    with pytest.warns(UserWarning, match="tiff"):
        ours = ImageDataGenerator().flow_from_directory(str(tmp_path))
    with pytest.warns(UserWarning, match="tiff"):
        ref = kimage.ImageDataGenerator().flow_from_directory(str(tmp_path))
    assert ours.filenames == ref.filenames and ours.samples == 9  # gif/webp are not listed


@pytest.mark.parametrize("split", [0.2, 0.34, 0.5])
def test_validation_split_partitions_match_keras(kimage, make_dataset, split):
    root = make_dataset(classes=3, per_class=[5, 7, 10])
    gk = dict(validation_split=split)
    parts = {}
    for subset in ("training", "validation"):
        ours, ref = _pair(kimage, root, gk, subset=subset, shuffle=False)
        assert ours.filenames == ref.filenames and ours.samples == ref.samples
        np.testing.assert_array_equal(ours.classes, ref.classes)
        parts[subset] = ours
    tr, va = parts["training"], parts["validation"]
    assert not set(tr.filenames) & set(va.filenames)
    full = ImageDataGenerator().flow_from_directory(root)
    assert sorted(tr.filenames + va.filenames) == sorted(full.filenames)
    # Validation takes the first int(split * n) files of each class.
    for c, n in zip(sorted(full.class_indices), [5, 7, 10]):
        own = [f for f in full.filenames if f.startswith(c + os.sep)]
        assert [f for f in va.filenames if f.startswith(c + os.sep)] == own[:int(split * n)]


@pytest.mark.parametrize("kw, match", [
    ({"class_mode": "multi"}, "class_mode"),
    ({"color_mode": "cmyk"}, "color mode"),
    ({"subset": "test"}, "subset"),
])
def test_bad_arguments_match_keras(kimage, shared_dataset, kw, match):
    gk = {"validation_split": 0.2} if "subset" in kw else {}
    with pytest.raises(ValueError, match=match) as ours:
        ImageDataGenerator(**gk).flow_from_directory(shared_dataset, **kw)
    with pytest.raises(ValueError) as ref:
        kimage.ImageDataGenerator(**gk).flow_from_directory(shared_dataset, **kw)
    # The same message; for class_mode, the same set printed in the same order.
    assert str(ours.value) == str(ref.value)


# ------------------------------------------------------------------- batches

@pytest.mark.pillow_matrix
@pytest.mark.parametrize("class_mode", CLASS_MODES)
@pytest.mark.parametrize("color_mode", COLOR_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_unaugmented_batches_match_keras(kimage, shared_dataset, class_mode, color_mode,
                                         interpolation):
    kw = dict(target_size=(21, 27), color_mode=color_mode, class_mode=class_mode,
              interpolation=interpolation, batch_size=4, shuffle=False)
    ours, ref = _pair(kimage, shared_dataset, **kw)
    for _ in range(len(ref) + 1):  # one batch into the second pass
        a, b = _as_tuple(next(ours)), _as_tuple(next(ref))
        assert len(a) == len(b)
        # No augmentation: both sides are the installed Pillow's resize cast to
        # float32 (ours bit-exact with it), so the batches are equal, not close.
        np.testing.assert_array_equal(a[0], b[0])
        assert a[0].dtype == b[0].dtype
        if len(b) > 1:
            assert a[1].dtype == b[1].dtype and a[1].shape == b[1].shape
            if class_mode == "input":
                np.testing.assert_array_equal(a[1], b[1])
            else:
                np.testing.assert_array_equal(a[1], b[1])
        assert ours.batch_index == ref.batch_index
        assert ours.total_batches_seen == ref.total_batches_seen


@pytest.mark.pillow_matrix
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rescale_data_format_and_dtype_match_keras(kimage, shared_dataset, data_format, dtype):
    gk = dict(rescale=1 / 255.0, data_format=data_format, dtype=dtype)
    ours, ref = _pair(kimage, shared_dataset, gk, target_size=(16, 20), shuffle=False,
                      batch_size=6, interpolation="bilinear")
    for i in range(len(ref)):
        a, b = ours[i], ref[i]
        _assert_batch_close(a[0], b[0], 1.0)
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.pillow_matrix
@pytest.mark.parametrize("gen_kwargs", [
    dict(rotation_range=40, width_shift_range=0.2, height_shift_range=3, rescale=1 / 255.0),
    dict(shear_range=20, zoom_range=(0.7, 1.3), horizontal_flip=True, vertical_flip=True,
         fill_mode="reflect", interpolation_order=0),
    dict(rotation_range=15, channel_shift_range=40.0, fill_mode="constant", cval=9.0,
         rescale=1 / 255.0, samplewise_center=True, samplewise_std_normalization=True),
    dict(zoom_range=0.2, brightness_range=(0.4, 1.6), horizontal_flip=True, fill_mode="wrap"),
    dict(width_shift_range=[-2, 0, 2], rescale=2.0, preprocessing_function=np.sqrt),
    dict(rotation_range=20, data_format="channels_first", rescale=1 / 255.0),
])
def test_augmented_batches_equal_keras_per_image_pipeline(kimage, shared_dataset, gen_kwargs):
    """Same parameters as our batch drew, pushed through Keras's per-image path."""
    target = (18, 22)
    ours = ImageDataGenerator(**gen_kwargs).flow_from_directory(
        shared_dataset, target_size=target, batch_size=5, seed=7, interpolation="bicubic")
    kgen = kimage.ImageDataGenerator(**gen_kwargs)
    for _ in range(4):
        idx = ours.batch_index
        x, y = next(ours)
        index_array = ours.index_array[idx * 5:(idx + 1) * 5]
        ref = keras_reference_batch(kimage, kgen, ours, index_array, target, "bicubic")
        value_range = float(ref.max() - ref.min()) or 1.0
        _assert_batch_close(x, ref, value_range)
        np.testing.assert_array_equal(np.argmax(y, -1), ours.classes[index_array])


@pytest.mark.pillow_matrix
@pytest.mark.filterwarnings("ignore:This ImageDataGenerator specifies `zca_whitening`")
def test_featurewise_and_zca_in_iterator_match_keras(kimage, shared_dataset):
    # More samples than features: a well-conditioned covariance for ZCA.
    sample = np.random.default_rng(0).uniform(0, 255, (400, 6, 7, 3)).astype(np.float32)
    for gk in (dict(featurewise_center=True, featurewise_std_normalization=True, rescale=1 / 255.0),
               dict(zca_whitening=True, zca_epsilon=1e-2)):
        ours, ref = _pair(kimage, shared_dataset, gk, target_size=(6, 7), shuffle=False,
                          batch_size=8, interpolation="lanczos")
        ours.image_data_generator.fit(sample)
        ref.image_data_generator.fit(sample)
        a, b = ours[1][0], ref[1][0]
        _assert_batch_close(a, b, float(b.max() - b.min()))


# ----------------------------------------------------------------- iteration

def test_iteration_protocol(shared_dataset):
    it = ImageDataGenerator().flow_from_directory(shared_dataset, target_size=(8, 8), batch_size=4,
                                                  seed=1)
    assert len(it) == 4 and iter(it) is it
    sizes, indices = [], []
    for _ in range(4):
        x, y = it.next()
        sizes.append(len(x))
        indices.append(it.batch_index)
    assert sizes == [4, 4, 4, 3]  # last batch short
    assert indices == [1, 2, 3, 0]  # back to 0 after the last batch
    assert it.total_batches_seen == 4
    first_epoch = it.index_array.copy()
    next(it)
    assert it.epoch == 1 and not np.array_equal(first_epoch, it.index_array)  # reshuffled
    assert sorted(first_epoch) == list(range(15)) == sorted(it.index_array)
    it.reset()
    assert it.batch_index == 0
    with pytest.raises(ValueError, match="has length 4"):
        it[4]
    assert it.epoch == 1  # reset() only makes the next next() start a new pass
    it.on_epoch_end()
    assert it.epoch == 2  # on_epoch_end() starts a new epoch now (the Sequence protocol)
    next(it)
    assert it.epoch == 3 and it.batch_index == 1


def test_seeded_iterators_agree_and_unseeded_differ(shared_dataset):
    gk = dict(rotation_range=30, zoom_range=0.2, horizontal_flip=True)
    kw = dict(target_size=(12, 12), batch_size=4)
    a = ImageDataGenerator(**gk).flow_from_directory(shared_dataset, seed=42, **kw)
    b = ImageDataGenerator(**gk).flow_from_directory(shared_dataset, seed=42, **kw)
    for _ in range(9):  # past an epoch boundary
        (xa, ya), (xb, yb) = next(a), next(b)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    c = ImageDataGenerator(**gk).flow_from_directory(shared_dataset, **kw)
    d = ImageDataGenerator(**gk).flow_from_directory(shared_dataset, **kw)
    assert not np.array_equal(c[0][0], d[0][0])


def test_global_rng_untouched(shared_dataset):
    state = np.random.get_state()
    it = ImageDataGenerator(rotation_range=30, channel_shift_range=5).flow_from_directory(
        shared_dataset, target_size=(8, 8), batch_size=4, seed=3)
    for _ in range(5):
        next(it)
    it[2]
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_getitem_is_pure_across_threads_and_pickling(shared_dataset):
    gk = dict(rotation_range=30, width_shift_range=0.1, brightness_range=(0.5, 1.5))
    it = ImageDataGenerator(**gk).flow_from_directory(shared_dataset, target_size=(10, 10),
                                                      batch_size=3, seed=5)
    expected = [it[i][0] for i in range(len(it))]
    order = list(range(len(it))) * 4
    random.Random(0).shuffle(order)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda i: (i, it[i][0]), order))
    for i, x in got:
        np.testing.assert_array_equal(x, expected[i])
    clone = pickle.loads(pickle.dumps(it))
    for i in range(len(it)):
        np.testing.assert_array_equal(clone[i][0], expected[i])
    # The first pass of next() is the same epoch as it[i].
    fresh = ImageDataGenerator(**gk).flow_from_directory(shared_dataset, target_size=(10, 10),
                                                         batch_size=3, seed=5)
    for i in range(len(fresh)):
        np.testing.assert_array_equal(next(fresh)[0], expected[i])


def test_threads_calling_next_share_one_epoch(shared_dataset):
    it = ImageDataGenerator().flow_from_directory(shared_dataset, target_size=(6, 6), batch_size=2,
                                                  class_mode="sparse", seed=9)
    seen, lock = [], threading.Lock()

    def work():
        for _ in range(2):
            x, y = next(it)
            with lock:
                seen.append(len(y))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert it.total_batches_seen == 8 and sum(seen) == 15  # exactly one pass of 15 samples


def test_image_and_mask_generators_transform_alike(tmp_path):
    """The Keras segmentation recipe: same arguments and seed -> same geometry."""
    rng = np.random.default_rng(2)
    for i in range(7):
        gray = (rng.random((20 + i, 24)) * 255).astype(np.uint8)
        for sub, arr in (("images", gray), ("masks", np.where(gray > 128, 255, 0).astype(np.uint8))):
            path = tmp_path / sub / "all" / ("f%d.png" % i)
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr, "L").save(str(path))
    args = dict(rotation_range=90, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.2,
                horizontal_flip=True, interpolation_order=0)
    kw = dict(class_mode=None, seed=1, target_size=(16, 16), batch_size=3,
              color_mode="grayscale", interpolation="nearest")
    images = ImageDataGenerator(**args).flow_from_directory(str(tmp_path / "images"), **kw)
    masks = ImageDataGenerator(**args).flow_from_directory(str(tmp_path / "masks"), **kw)
    for x, m in zip([next(images) for _ in range(6)], [next(masks) for _ in range(6)]):
        # Nearest resize and order-0 warps only move pixels, so thresholding commutes.
        np.testing.assert_array_equal(m, np.where(x > 128, 255, 0))


def test_one_kernel_call_per_batch(shared_dataset, monkeypatch):
    import pyimgaug.pipeline.affine as aff
    real = aff._kernel()
    calls = []

    def counting(*a, **k):
        calls.append(k)
        return real(*a, **k)

    monkeypatch.setattr(aff, "_kernel", lambda: counting)
    for gk in ({}, dict(rotation_range=10, rescale=1 / 255.0), dict(channel_shift_range=10)):
        it = ImageDataGenerator(**gk).flow_from_directory(shared_dataset, target_size=(9, 9),
                                                          batch_size=5, interpolation="lanczos")
        calls.clear()
        next(it)
        assert len(calls) == 1
        assert calls[0]["resize_to"] == (9, 9) and calls[0]["resample"] == "lanczos"
        # The rescale rides in the kernel unless a channel shift sits between.
        assert calls[0]["scale"] == (1 / 255.0 if gk.get("rescale") else 1.0)


def test_save_to_dir(shared_dataset, tmp_path):
    out = tmp_path / "saved"
    out.mkdir()
    it = ImageDataGenerator(rotation_range=5).flow_from_directory(
        shared_dataset, target_size=(8, 9), batch_size=4, save_to_dir=str(out), save_prefix="aug",
        save_format="jpeg", seed=0)
    next(it)
    files = sorted(os.listdir(str(out)))
    assert len(files) == 4
    idx = sorted(int(f.split("_")[1]) for f in files)
    assert idx == sorted(it.index_array[:4].tolist())
    assert all(f.startswith("aug_") and f.endswith(".jpeg") for f in files)
    assert Image.open(str(out / files[0])).size == (9, 8)


@pytest.mark.pillow_matrix
def test_sixteen_bit_grayscale_batch_matches_keras(kimage, tmp_path):
    rng = np.random.default_rng(4)
    from conftest import write_image
    write_image(str(tmp_path / "c" / "a16.png"), rng, 13, 17, "I;16")
    write_image(str(tmp_path / "c" / "b8.png"), rng, 11, 9, "L")
    ours, ref = _pair(kimage, str(tmp_path), target_size=(10, 12), color_mode="grayscale",
                      shuffle=False, interpolation="bilinear")
    try:
        expected = next(ref)[0]
    except ValueError as exc:
        # Pillow 10.x opens 16-bit PNGs as 'I;16' (9.x as 'I') and resizes 'I;16'
        # only from 11.0 on: Keras fails, and so must we, with Pillow's error.
        assert "wrong mode" in str(exc)
        with pytest.raises(ValueError, match="wrong mode"):
            next(ours)
        return
    _assert_batch_close(next(ours)[0], expected, 65535.0)


def test_dataset_with_no_images(kimage, tmp_path):
    (tmp_path / "empty_class").mkdir()
    ours, ref = _pair(kimage, str(tmp_path))
    assert ours.samples == ref.samples == 0 and len(ours) == len(ref) == 0
    assert build_dataset  # shared helper stays importable


def test_bad_interpolation_fails_at_the_call_with_keras_message(kimage, shared_dataset):
    # Keras checks the name only on a batch with an image to resize; an
    # unattended run should fail at the call instead, with the same error.
    with pytest.raises(ValueError, match="Invalid interpolation method") as a:
        ImageDataGenerator().flow_from_directory(shared_dataset, target_size=(8, 8),
                                                 interpolation="spline")
    ref = kimage.ImageDataGenerator().flow_from_directory(shared_dataset, target_size=(8, 8),
                                                          interpolation="spline")
    with pytest.raises(ValueError) as b:
        next(ref)
    assert str(a.value) == str(b.value)


def test_direct_iterator_without_generator(kimage, shared_dataset):
    pd = pytest.importorskip("pandas", reason="pandas (the 'pandas' extra) is not installed")
    files = ImageDataGenerator().flow_from_directory(shared_dataset).filenames
    df = pd.DataFrame({"filename": files, "class": [f.split(os.sep)[0] for f in files]})
    ours = pyimgaug.DataFrameIterator(df, shared_dataset, None, target_size=(9, 11), shuffle=False,
                                      interpolation="box")
    ref = kimage.DataFrameIterator(df, shared_dataset, None, target_size=(9, 11), shuffle=False,
                                   interpolation="box")
    (a, ay), (b, by) = ours[0], ref[0]
    _assert_batch_close(a, b, 255.0)
    np.testing.assert_array_equal(ay, by)
