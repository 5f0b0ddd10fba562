"""load_img / img_to_array / array_to_img / save_img / batch decoding against Keras."""
import io
import os

import numpy as np
import pytest
from PIL import Image

import pyimgaug
from pyimgaug.pipeline.io import _uint8_pixels, decode_for_batch

from conftest import write_image

MODES = ["L", "RGB", "RGBA", "P", "I;16"]
INTERPOLATIONS = ["nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"]


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(1)
    return {m: write_image(str(tmp_path / ("img_%s.png" % m.replace(";", ""))), rng, 23, 31, m)
            for m in MODES}


@pytest.mark.parametrize("src", MODES)
@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
@pytest.mark.parametrize("target_size", [None, (23, 31), (16, 40)])
def test_load_img_matches_keras(kimage, files, src, color_mode, target_size):
    for interpolation in (["nearest", "bicubic"] if target_size else ["nearest"]):
        ours = pyimgaug.load_img(files[src], color_mode=color_mode, target_size=target_size,
                                 interpolation=interpolation)
        ref = kimage.load_img(files[src], color_mode=color_mode, target_size=target_size,
                              interpolation=interpolation)
        assert ours.mode == ref.mode and ours.size == ref.size
        # Same Pillow calls on the same file: bit-identical.
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))


def test_load_img_grayscale_flag_and_errors(kimage, files):
    with pytest.warns(UserWarning, match="grayscale is deprecated"):
        img = pyimgaug.load_img(files["RGB"], grayscale=True)
    assert img.mode == "L"
    with pytest.raises(ValueError, match="color_mode"):
        pyimgaug.load_img(files["RGB"], color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation method"):
        pyimgaug.load_img(files["RGB"], target_size=(5, 5), interpolation="spline")
    # Keras only checks the name when a resize is needed; so do we.
    assert pyimgaug.load_img(files["RGB"], target_size=(23, 31), interpolation="spline").size == (31, 23)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
def test_img_to_array_matches_keras(kimage, files, data_format, dtype):
    for m in MODES:
        img = Image.open(files[m])
        a = pyimgaug.img_to_array(img, data_format=data_format, dtype=dtype)
        b = kimage.img_to_array(img, data_format=data_format, dtype=dtype)
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="data_format"):
        pyimgaug.img_to_array(img, data_format="channels_middle")


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_array_to_img_matches_keras(kimage, channels, scale, data_format):
    rng = np.random.default_rng(channels)
    x = rng.uniform(-3, 300 if not scale else 7, (9, 11, channels)).astype(np.float32)
    if not scale:
        x = np.clip(x, 0, 255)
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)
    a = pyimgaug.array_to_img(x, data_format=data_format, scale=scale)
    b = kimage.array_to_img(x, data_format=data_format, scale=scale)
    assert a.mode == b.mode and a.size == b.size
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_array_to_img_int32_grayscale_and_errors(kimage):
    x = np.arange(12, dtype=np.float32).reshape(3, 4, 1) * 1000
    a = pyimgaug.array_to_img(x, scale=False)
    b = kimage.array_to_img(x, scale=False)
    assert a.mode == b.mode == "I"
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="rank 3"):
        pyimgaug.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel number"):
        pyimgaug.array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="data_format"):
        pyimgaug.array_to_img(np.zeros((2, 2, 3)), data_format="nope")


@pytest.mark.parametrize("fmt", ["png", "bmp", "jpeg"])
def test_save_img_matches_keras(kimage, tmp_path, fmt):
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (10, 12, 4)).astype(np.float32)
    ours, ref = tmp_path / ("a." + fmt), tmp_path / ("b." + fmt)
    if fmt == "jpeg":
        with pytest.warns(UserWarning, match="RGBA"):
            pyimgaug.save_img(str(ours), x, file_format="jpeg")
        with pytest.warns(UserWarning, match="RGBA"):
            kimage.save_img(str(ref), x, file_format="jpeg")
    else:
        pyimgaug.save_img(str(ours), x[..., :3])
        kimage.save_img(str(ref), x[..., :3])
    assert ours.read_bytes() == ref.read_bytes()
    buf = io.BytesIO()
    pyimgaug.save_img(buf, x[..., :3], file_format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"


@pytest.mark.parametrize("src", MODES)
@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_decode_for_batch_feeds_the_reference_pixels(kimage, files, src, color_mode, interpolation):
    """Native-size uint8 for the kernel, or Keras's own resize for the rare modes."""
    target = (16, 40)
    x, resized = decode_for_batch(files[src], color_mode, target, interpolation)
    ref = kimage.img_to_array(kimage.load_img(files[src], color_mode=color_mode,
                                              target_size=target, interpolation=interpolation))
    if resized:
        assert x.dtype == np.float32 and x.shape == ref.shape
        np.testing.assert_array_equal(x, ref)
    else:
        assert x.dtype == np.uint8 and x.shape[:2] == (23, 31) and x.shape[2] == ref.shape[2]
        native = kimage.img_to_array(kimage.load_img(files[src], color_mode=color_mode))
        np.testing.assert_array_equal(x, native)
    if src == "I;16" and color_mode == "grayscale":
        assert resized  # 16-bit grayscale stays 16-bit, as in Keras
    if src == "RGBA" and color_mode == "rgba":
        # Non-opaque alpha: Pillow premultiplies except for 'nearest'.
        assert resized == (interpolation != "nearest")
    if src in ("L", "RGB", "P"):
        assert not resized


@pytest.mark.pillow_matrix
@pytest.mark.parametrize("block_size", [None, 4096])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_uint8_pixels_are_numpys_view_of_the_image(mode, block_size):
    """The one-call raw-encoder copy gives np.asarray(img)'s bytes, also for
    images Pillow stores in many memory blocks (a 4 KiB block size forces it).
    It uses Pillow's encoder objects (as `tobytes` does), hence the Pillow matrix."""
    channels = len(mode)
    rng = np.random.default_rng(7)
    old = Image.core.get_block_size()
    if block_size:
        Image.core.set_block_size(block_size)
    try:
        for h, w in [(1, 1), (3, 7), (401, 603), (1, 2049), (700, 3)]:
            a = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
            img = Image.frombytes(mode, (w, h), a.tobytes())
            x = _uint8_pixels(img)
            assert x.dtype == np.uint8 and x.shape == (h, w, channels)
            np.testing.assert_array_equal(x, a)
            np.testing.assert_array_equal(x, np.asarray(img).reshape(h, w, channels))
    finally:
        Image.core.set_block_size(old)
    # An empty image takes np.asarray's path (the encoder refuses a 0-byte buffer).
    assert _uint8_pixels(Image.new(mode, (0, 4))).shape == (4, 0, channels)


def test_decode_for_batch_opaque_rgba_goes_to_the_kernel(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (9, 7, 4), dtype=np.uint8)
    arr[..., 3] = 255
    path = str(tmp_path / "opaque.png")
    Image.fromarray(arr, "RGBA").save(path)
    x, resized = decode_for_batch(path, "rgba", (5, 5), "lanczos")
    assert not resized
    np.testing.assert_array_equal(x, arr)
    assert os.path.exists(path)
