"""Files that cannot be read, files in unusual modes, and the `on_error` policy.

Reference: keras_preprocessing 1.1.2 raises Pillow's own exception for a bad
file (an OSError subclass, or `DecompressionBombError`, which is not one).
pyimgaug raises `BadImageError`: an OSError naming the file, chained from,
and here also an instance of, the reference's exception class.
"""
import os
import pickle
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

import pyimgaug
from pyimgaug import ImageDataGenerator
from pyimgaug.errors import BadImageError, BadImageWarning, SkippedFile

from conftest import build_dataset, write_image


# ------------------------------------------------------------------ bad files

def _png_header_only(path, width, height):
    """A PNG whose header claims `width` x `height` with almost no pixel data."""
    def chunk(tag, body):
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def _truncated(path, fmt):
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8))
    img.save(path, format=fmt)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])


def _make_bad(path, kind):
    if kind == "truncated_jpeg":
        _truncated(path, "JPEG")
    elif kind == "truncated_png":
        _truncated(path, "PNG")
    elif kind == "zero_bytes":
        open(path, "wb").close()
    elif kind == "text":
        with open(path, "w") as f:
            f.write("this is not an image\n")
    elif kind == "bomb":
        # Past twice Pillow's MAX_IMAGE_PIXELS: Image.open refuses it.
        side = int((2 * Image.MAX_IMAGE_PIXELS) ** 0.5) + 2
        _png_header_only(path, side, side)
    elif kind == "dangling_link":
        os.symlink(path + ".gone", path)
    else:
        raise ValueError(kind)
    return path


BAD_KINDS = {
    # kind: file name used (the extension Keras lists it by)
    "truncated_jpeg": "t.jpg",
    "truncated_png": "t.png",
    "zero_bytes": "z.png",
    "text": "text.jpg",
    "bomb": "bomb.png",
    "dangling_link": "gone.png",
}


def _bad_file(tmp_path, kind):
    return _make_bad(str(tmp_path / BAD_KINDS[kind]), kind)


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_load_img_raises_the_reference_error_naming_the_file(kimage, tmp_path, kind):
    path = _bad_file(tmp_path, kind)
    with pytest.raises(Exception) as ref:
        kimage.img_to_array(kimage.load_img(path, target_size=(8, 8)))
    with pytest.raises(BadImageError) as ours:
        pyimgaug.load_img(path, target_size=(8, 8))
    err = ours.value
    assert isinstance(err, OSError)
    # Still caught by code written for Keras (except UnidentifiedImageError,
    # except DecompressionBombError, except FileNotFoundError, ...).
    assert isinstance(err, type(ref.value))
    assert type(err.__cause__) is type(ref.value)
    assert path in str(err) and err.path == path
    assert "BytesIO" not in str(err)
    assert err.reason.startswith(type(ref.value).__name__)


def test_bomb_is_not_an_oserror_in_pillow_but_is_here(tmp_path):
    path = _bad_file(tmp_path, "bomb")
    assert not issubclass(Image.DecompressionBombError, OSError)
    with pytest.raises(OSError, match="bomb.png"):
        pyimgaug.load_img(path)
    with pytest.raises(Image.DecompressionBombError):
        pyimgaug.load_img(path)


@pytest.mark.parametrize("kind", ["text", "bomb", "truncated_jpeg"])
def test_bad_image_error_pickles(tmp_path, kind):
    # Errors cross process boundaries in multi-process data loaders.
    path = _bad_file(tmp_path, kind)
    with pytest.raises(BadImageError) as exc:
        pyimgaug.load_img(path)
    clone = pickle.loads(pickle.dumps(exc.value))
    assert type(clone).__mro__[1:] == type(exc.value).__mro__[1:]
    assert str(clone) == str(exc.value) and clone.path == path
    assert clone.reason == exc.value.reason


def _dataset_with_bad(root, kind, per_class=4):
    """3 classes x `per_class` good files, and one bad file in class_01."""
    build_dataset(root, classes=3, per_class=per_class, extras=False, nested=False)
    return _make_bad(os.path.join(str(root), "class_01", "zz_" + BAD_KINDS[kind]), kind)


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
@pytest.mark.parametrize("batch_size", [1, 5])
def test_default_raises_to_the_consumer_of_that_batch(kimage, tmp_path, kind, batch_size):
    root = tmp_path / "data"
    bad = _dataset_with_bad(root, kind)
    kw = dict(target_size=(8, 8), batch_size=batch_size, shuffle=False)
    ours = ImageDataGenerator().flow_from_directory(str(root), **kw)
    ref = kimage.ImageDataGenerator().flow_from_directory(str(root), **kw)
    assert ours.filenames == ref.filenames  # listing never opens a file
    bad_pos = ours.filepaths.index(bad)
    for i in range(len(ours)):
        if i == bad_pos // batch_size:
            with pytest.raises(Exception) as r:
                ref[i]
            with pytest.raises(BadImageError, match=os.path.basename(bad)) as o:
                ours[i]
            assert isinstance(o.value, type(r.value)) and o.value.path == bad
        else:
            np.testing.assert_allclose(ours[i][0], ref[i][0], atol=255 / 255.0)


@pytest.mark.parametrize("workers", [0, 2])
def test_default_raise_through_next_then_the_epoch_goes_on(tmp_path, workers):
    root = tmp_path / "data"
    bad = _dataset_with_bad(root, "text")
    it = ImageDataGenerator().flow_from_directory(str(root), target_size=(6, 6), batch_size=4,
                                                  shuffle=False, class_mode="sparse",
                                                  workers=workers)
    bad_batch = it.filepaths.index(bad) // 4
    got = []
    for i in range(len(it)):
        if i == bad_batch:
            with pytest.raises(BadImageError, match="text.jpg"):
                next(it)  # raised in the consumer, not lost in a worker
        else:
            got.append(len(next(it)[1]))
    # The failed batch counts as delivered (as in Keras); the others all came.
    assert sum(got) == it.samples - len(it.filenames[bad_batch * 4:(bad_batch + 1) * 4])
    assert it.batch_index == 0
    it.reset()
    with pytest.raises(BadImageError):
        for _ in range(len(it)):
            next(it)


# ----------------------------------------------------------- unusual modes

def _exotic_files(folder):
    """Modes Keras converts: each must give the reference's pixels."""
    rng = np.random.default_rng(3)
    os.makedirs(folder, exist_ok=True)
    rgb = rng.integers(0, 256, (21, 17, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("CMYK").save(os.path.join(folder, "cmyk.jpg"))
    Image.fromarray(rgb).convert("LA").save(os.path.join(folder, "la.png"))
    Image.fromarray(rgb).convert("1").save(os.path.join(folder, "bilevel.png"))
    pal = Image.fromarray(rgb).convert("P")
    pal.save(os.path.join(folder, "palette_index_transparency.png"), transparency=5)
    # Transparency given per palette entry (bytes): Pillow warns on conversion.
    pal.save(os.path.join(folder, "palette_bytes_transparency.png"),
             transparency=bytes(range(0, 256)))
    Image.fromarray(rgb).convert("RGBA").save(os.path.join(folder, "rgba.png"))
    write_image(os.path.join(folder, "sixteen.png"), rng, 13, 19, "I;16")
    wide = rng.integers(0, 2 ** 20, (11, 9)).astype(np.int32)
    Image.fromarray(wide).save(os.path.join(folder, "int32.tif"))
    Image.fromarray(rng.random((9, 12)).astype(np.float32)).save(os.path.join(folder, "float.tif"))
    Image.fromarray(rgb[:1, :1]).save(os.path.join(folder, "one_pixel.png"))
    Image.fromarray(rgb[:1, :1, 0]).save(os.path.join(folder, "one_pixel_gray.bmp"))
    Image.fromarray(rgb[:1, :5]).save(os.path.join(folder, "one_row.png"))
    return folder


@pytest.fixture(scope="module")
def exotic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("exotic")
    _exotic_files(str(root / "k"))
    return str(root)


def test_exotic_modes_are_what_the_test_means(exotic_root):
    modes = {f: Image.open(os.path.join(exotic_root, "k", f)).mode
             for f in os.listdir(os.path.join(exotic_root, "k"))}
    assert modes["cmyk.jpg"] == "CMYK" and modes["la.png"] == "LA"
    assert modes["sixteen.png"] in ("I;16", "I") and modes["int32.tif"] == "I"
    assert modes["palette_bytes_transparency.png"] == "P" and modes["float.tif"] == "F"


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale", "rgba"])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "lanczos"])
@pytest.mark.parametrize("target_size", [(1, 1), (7, 5), (32, 40)])
def test_exotic_modes_and_tiny_images_match_keras(kimage, exotic_root, color_mode,
                                                  interpolation, target_size):
    kw = dict(target_size=target_size, color_mode=color_mode, interpolation=interpolation,
              shuffle=False, batch_size=64, class_mode="sparse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's palette-transparency warning
        ours = ImageDataGenerator().flow_from_directory(exotic_root, **kw)
        ref = kimage.ImageDataGenerator().flow_from_directory(exotic_root, **kw)
        (a, ay), (b, by) = ours[0], ref[0]
    assert ours.filenames == ref.filenames and a.shape == b.shape and a.dtype == b.dtype
    # Same Pillow conversions, a Pillow-exact resize: float32 rounding at most.
    scale = max(1.0, float(np.abs(b).max()))
    np.testing.assert_allclose(a, b, rtol=0, atol=scale * 1e-5)
    np.testing.assert_array_equal(ay, by)


def test_sixteen_bit_png_as_rgb_is_keras_white(kimage, exotic_root):
    # Pillow clips 16-bit values when converting to RGB: Keras gets (nearly)
    # white images, and so do we.
    path = os.path.join(exotic_root, "k", "sixteen.png")
    ours = pyimgaug.img_to_array(pyimgaug.load_img(path, color_mode="rgb"))
    ref = kimage.img_to_array(kimage.load_img(path, color_mode="rgb"))
    np.testing.assert_array_equal(ours, ref)


def test_palette_transparency_warning_passes_through(exotic_root):
    path = os.path.join(exotic_root, "k", "palette_bytes_transparency.png")
    with pytest.warns(UserWarning, match="Palette images with Transparency"):
        pyimgaug.load_img(path, color_mode="rgb")


# ---------------------------------------------------------------- on_error

def _solid_dataset(root, per_class=(3, 4, 2), size=(5, 6)):
    """Solid images whose value names them: class c, file i -> 40 * c + 5 * i + 10."""
    names = []
    for c, count in enumerate(per_class):
        for i in range(count):
            path = os.path.join(str(root), "c%d" % c, "f%d.png" % i)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.fromarray(np.full(size, 40 * c + 5 * i + 10, dtype=np.uint8), "L").save(path)
            names.append(path)
    return names


def _value(img):
    return int(round(float(img[..., 0].mean())))


@pytest.mark.parametrize("on_error", ["skip", "warn"])
@pytest.mark.parametrize("class_mode", ["categorical", "binary", "sparse", "input", None])
def test_skip_drops_the_sample_and_its_label(tmp_path, on_error, class_mode):
    root = tmp_path / "data"
    _solid_dataset(root, per_class=(3, 4) if class_mode == "binary" else (3, 4, 2))
    _make_bad(str(root / "c1" / "f9_bad.png"), "truncated_png")
    it = ImageDataGenerator().flow_from_directory(
        str(root), target_size=(5, 6), color_mode="grayscale", class_mode=class_mode,
        batch_size=4, shuffle=False, on_error=on_error)
    listed = list(it.filenames)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batches = [it[i] for i in range(len(it))]
    sizes = [len(b[0] if isinstance(b, tuple) else b) for b in batches]
    # The bad file is the last of the second batch: that batch is one short.
    assert sizes == ([4, 3] if class_mode == "binary" else [4, 3, 2])
    # Samples, filenames and length stay as listed.
    assert it.filenames == listed and it.samples == len(listed) and len(it) == len(sizes)
    bad = os.path.join(str(root), "c1", "f9_bad.png")
    assert it.skipped_files == [SkippedFile(os.path.join("c1", "f9_bad.png"), bad,
                                            it.skipped_files[0].reason)]
    assert it.skipped_files[0].reason.startswith("OSError: image file is truncated")
    warned = [w for w in caught if issubclass(w.category, BadImageWarning)]
    assert len(warned) == (1 if on_error == "warn" else 0)
    if warned:
        assert bad in str(warned[0].message)
    # Labels stay aligned with the images that remain.
    for b in batches:
        if class_mode is None:
            continue
        x, y = b
        classes = [(_value(img) - 10) // 40 for img in x]
        if class_mode == "categorical":
            assert list(y.argmax(axis=1)) == classes
        elif class_mode in ("binary", "sparse"):
            assert list(y.astype(int)) == classes
        else:
            np.testing.assert_array_equal(y, x)


def test_skip_once_per_file_across_epochs_and_batches_by_next(tmp_path):
    root = tmp_path / "data"
    _solid_dataset(root)
    bads = [_make_bad(str(root / "c0" / "bad.jpg"), "text"),
            _make_bad(str(root / "c2" / "bad.png"), "zero_bytes")]
    it = ImageDataGenerator().flow_from_directory(
        str(root), target_size=(5, 6), color_mode="grayscale", batch_size=3, seed=1,
        class_mode="sparse", on_error="warn")
    with pytest.warns(BadImageWarning) as caught:
        for _ in range(3 * len(it)):  # three epochs
            next(it)
    assert sorted(str(w.message).split("'")[1] for w in caught) == sorted(bads)
    assert sorted(r.path for r in it.skipped_files) == sorted(bads)
    # Survives pickling (a resumed run keeps its report).
    clone = pickle.loads(pickle.dumps(it))
    assert clone.skipped_files == it.skipped_files and clone.on_error == "warn"


def test_skip_keeps_the_transforms_of_the_other_samples(tmp_path):
    # A skipped file must not change what the rest of its batch looks like:
    # the batch equals the one with a good file in its place, minus that row.
    gk = dict(rotation_range=40, zoom_range=0.3, horizontal_flip=True, channel_shift_range=20,
              brightness_range=(0.6, 1.4))
    kw = dict(target_size=(12, 10), batch_size=5, seed=11, class_mode="sparse")
    good, bad = tmp_path / "good", tmp_path / "bad"
    build_dataset(good, classes=2, per_class=6, extras=False)
    build_dataset(bad, classes=2, per_class=6, extras=False)
    victim = ImageDataGenerator().flow_from_directory(str(bad), **kw).filepaths[7]
    os.remove(victim)
    _make_bad(victim, "truncated_jpeg")
    a = ImageDataGenerator(**gk).flow_from_directory(str(good), **kw)
    b = ImageDataGenerator(**gk).flow_from_directory(str(bad), on_error="skip", **kw)
    for i in range(len(a)):
        (xa, ya), (xb, yb) = a[i], b[i]
        keep = a.index_array[i * 5:(i + 1) * 5] != 7
        assert keep.sum() == len(xb)
        np.testing.assert_array_equal(xb, xa[keep])
        np.testing.assert_array_equal(yb, ya[keep])
    assert [r.filename for r in b.skipped_files] == [b.filenames[7]]


def test_a_batch_of_only_bad_files_is_empty(tmp_path):
    root = tmp_path / "data"
    os.makedirs(str(root / "k"))
    for i in range(3):
        _make_bad(str(root / "k" / ("b%d.png" % i)), "zero_bytes")
    for class_mode in ("categorical", "sparse", None):
        it = ImageDataGenerator().flow_from_directory(str(root), target_size=(4, 3),
                                                      class_mode=class_mode, on_error="skip")
        out = next(it)
        x = out[0] if isinstance(out, tuple) else out
        assert x.shape == (0, 4, 3, 3) and x.dtype == np.float32
        if class_mode == "categorical":
            assert out[1].shape == (0, 1)
        if class_mode == "sparse":
            assert out[1].shape == (0,)
        assert len(it.skipped_files) == 3


def test_predictions_map_to_filenames_without_the_skipped(tmp_path):
    # The documented recipe: with shuffle=False, the samples of one pass are
    # the listed files minus the skipped ones, in order.
    root = tmp_path / "data"
    values = _solid_dataset(root)
    _make_bad(str(root / "c1" / "f1.png"), "truncated_png")  # replaces a good file
    it = ImageDataGenerator().flow_from_directory(str(root), target_size=(5, 6),
                                                  color_mode="grayscale", class_mode=None,
                                                  batch_size=4, shuffle=False, on_error="skip")
    x = np.concatenate([it[i] for i in range(len(it))])
    skipped = {r.filename for r in it.skipped_files}
    kept = [f for f in it.filenames if f not in skipped]
    assert len(kept) == len(x) == len(values) - 1
    for f, img in zip(kept, x):
        c, i = int(f.split(os.sep)[0][1:]), int(os.path.basename(f)[1:-4])
        assert _value(img) == 40 * c + 5 * i + 10


def test_dataframe_skip_drops_weights_and_raw_targets(tmp_path):
    pd = pytest.importorskip("pandas", reason="pandas (the 'pandas' extra) is not installed")
    root = tmp_path / "data"
    paths = _solid_dataset(root)
    bad = _make_bad(str(root / "c0" / "zz.png"), "text")
    rows = [os.path.relpath(p, str(root)) for p in paths]
    rows.insert(2, os.path.relpath(bad, str(root)))
    df = pd.DataFrame({"filename": rows, "w": np.arange(len(rows), dtype=float),
                       "t": np.arange(len(rows)) * 10, "u": np.arange(len(rows)) * 100})
    for class_mode, y_col in (("raw", "t"), ("multi_output", ["t", "u"])):
        it = ImageDataGenerator().flow_from_dataframe(
            df, str(root), y_col=y_col, weight_col="w", class_mode=class_mode,
            target_size=(5, 6), color_mode="grayscale", batch_size=4, shuffle=False,
            on_error="skip")
        x, y, w = it[0]
        assert len(x) == 3 and list(w) == [0.0, 1.0, 3.0]
        if class_mode == "raw":
            assert list(y) == [0, 10, 30]
        else:
            assert [list(v) for v in y] == [[0, 10, 30], [0, 100, 300]]
        assert [r.path for r in it.skipped_files] == [bad]
    # Without validation, a missing file is a bad file too.
    missing = df.copy()
    missing.loc[0, "filename"] = "c9/not_there.png"
    it = ImageDataGenerator().flow_from_dataframe(
        missing, str(root), y_col="t", class_mode="raw", target_size=(5, 6), batch_size=4,
        shuffle=False, validate_filenames=False, on_error="skip")
    x, y = it[0]
    assert list(y) == [10, 30] and len(x) == 2
    reasons = sorted(r.reason.split(":")[0] for r in it.skipped_files)
    assert reasons == ["FileNotFoundError", "UnidentifiedImageError"]


def test_file_removed_after_listing_is_skipped(tmp_path):
    root = tmp_path / "data"
    paths = _solid_dataset(root)
    it = ImageDataGenerator().flow_from_directory(str(root), target_size=(5, 6), batch_size=20,
                                                  shuffle=False, on_error="skip")
    os.remove(paths[4])
    x, y = it[0]
    assert len(x) == len(paths) - 1
    assert it.skipped_files[0].path == paths[4]
    assert it.skipped_files[0].reason.startswith("FileNotFoundError")


@pytest.mark.parametrize("options", [dict(workers=2), dict(cache="memory"),
                                     dict(workers=3, cache="memory")])
def test_skip_with_workers_and_cache_gives_the_same_batches(tmp_path, options):
    root = tmp_path / "data"
    build_dataset(root, classes=2, per_class=7, extras=False)
    _make_bad(str(root / "class_00" / "zz_bad.jpg"), "truncated_jpeg")
    _make_bad(str(root / "class_01" / "zz_bad.png"), "bomb")
    kw = dict(target_size=(9, 7), batch_size=4, seed=5, on_error="skip")
    gk = dict(rotation_range=20, horizontal_flip=True)
    plain = ImageDataGenerator(**gk).flow_from_directory(str(root), **kw)
    other = ImageDataGenerator(**gk).flow_from_directory(str(root), **options, **kw)
    for _ in range(2 * len(plain)):  # two epochs, the second from the cache
        (xa, ya), (xb, yb) = next(plain), next(other)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert sorted(plain.skipped_files) == sorted(other.skipped_files)
    assert len(plain.skipped_files) == 2


def test_skip_saves_only_the_kept_images(tmp_path):
    root, out = tmp_path / "data", tmp_path / "saved"
    out.mkdir()
    _solid_dataset(root)
    _make_bad(str(root / "c0" / "bad.png"), "zero_bytes")
    it = ImageDataGenerator().flow_from_directory(str(root), target_size=(5, 6), batch_size=20,
                                                  save_to_dir=str(out), on_error="skip")
    x, _ = next(it)
    assert len(os.listdir(str(out))) == len(x) == it.samples - 1


def test_on_error_is_an_attribute_of_file_iterators(shared_dataset, tmp_path):
    it = pyimgaug.DirectoryIterator(shared_dataset, ImageDataGenerator(), target_size=(4, 4))
    assert it.on_error == "raise" and it.skipped_files == []
    it.on_error = "skip"
    with pytest.raises(ValueError, match="on_error.*'raise', 'skip', 'warn'"):
        it.on_error = "ignore"
    assert it.on_error == "skip"
