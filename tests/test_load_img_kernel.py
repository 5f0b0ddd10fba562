"""load_img(target_size=...) resizes with the kernel: the same PIL image as keras_preprocessing's.

keras_preprocessing.load_img resizes with Pillow's Image.resize; ours hands
8-bit L/RGB (and opaque or nearest-resized RGBA) images to the kernel, whose
uint8 resize is bit-identical to the installed Pillow's.  So the comparison
is exact: mode, size, every pixel and the image's info.  Non-opaque RGBA
(Pillow premultiplies alpha) and 16-bit grayscale stay with Pillow and must
match too.
"""
import numpy as np
import pytest
from PIL import Image

import pyimgaug
from pyimgaug import _kernel

from conftest import write_image

INTERPOLATIONS = ["nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"]
SOURCE_MODES = ["L", "RGB", "RGBA", "P", "I;16"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(12)
    d = tmp_path_factory.mktemp("load_img_kernel")
    out = {}
    for m in SOURCE_MODES:
        out[m] = write_image(str(d / ("img_%s.png" % m.replace(";", ""))), rng, 57, 83, m)
    # JPEG photographs-like files: the tutorial's case (and its info: JFIF, dpi).
    for k, (h, w) in enumerate([(300, 451), (97, 64)]):
        arr = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        path = str(d / ("photo_%d.jpg" % k))
        Image.fromarray(arr).save(path, quality=90, dpi=(72, 72))
        out["jpeg%d" % k] = path
    # RGBA whose alpha is all 255: premultiplying is the identity, the kernel resizes it.
    opaque = np.dstack([(rng.random((40, 33, 3)) * 255).astype(np.uint8), np.full((40, 33), 255, np.uint8)])
    out["RGBA-opaque"] = str(d / "opaque.png")
    Image.fromarray(opaque).save(out["RGBA-opaque"])
    return out


@pytest.fixture
def kernel_calls(monkeypatch):
    from pyimgaug import pillow_compat
    pillow_compat.kernel_resize_is_exact()  # its one-time probe calls the kernel too
    calls = []
    real = _kernel.transform_batch

    def spy(*args, **kwargs):
        calls.append(kwargs.get("resize_to"))
        return real(*args, **kwargs)
    monkeypatch.setattr(_kernel, "transform_batch", spy)
    return calls


def _same_image(ours, ref):
    assert ours.mode == ref.mode and ours.size == ref.size
    assert ours.info == ref.info
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(ref))  # exact: no tolerance


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("color_mode", ["grayscale", "rgb", "rgba"])
@pytest.mark.parametrize("src", SOURCE_MODES + ["jpeg0", "jpeg1", "RGBA-opaque"])
@pytest.mark.parametrize("target_size", [(128, 128), (31, 200), (1, 1)])
def test_matches_keras_load_img(kimage, files, kernel_calls, src, color_mode, interpolation, target_size):
    ours = pyimgaug.load_img(files[src], color_mode=color_mode, target_size=target_size,
                             interpolation=interpolation)
    ref = kimage.load_img(files[src], color_mode=color_mode, target_size=target_size,
                          interpolation=interpolation)
    _same_image(ours, ref)
    # The kernel did the resize wherever it can be exact.
    mode = ref.mode
    # (Only the "RGBA" source has transparent pixels; converted files are opaque.)
    kernel_can = mode in ("L", "RGB") or (mode == "RGBA" and (interpolation == "nearest" or src != "RGBA"))
    assert (kernel_calls == [target_size]) == kernel_can, (kernel_calls, mode, src)


def test_random_sizes_and_contents_match_keras(kimage, tmp_path):
    """Random images and targets (downscale and upscale) for every filter: exact."""
    rng = np.random.default_rng(2024)
    for k in range(24):
        h, w = rng.integers(1, 300, 2)
        channels = (1, 3, 4)[k % 3]
        arr = (rng.random((h, w, channels)) * 255).astype(np.uint8)
        if channels == 4:
            arr[..., 3] = 255  # opaque: the kernel path
        path = str(tmp_path / ("r%d.png" % k))
        Image.fromarray(arr[..., 0] if channels == 1 else arr).save(path)
        target = tuple(int(v) for v in rng.integers(1, 260, 2))
        interpolation = INTERPOLATIONS[k % len(INTERPOLATIONS)]
        color_mode = {1: "grayscale", 3: "rgb", 4: "rgba"}[channels]
        _same_image(pyimgaug.load_img(path, color_mode=color_mode, target_size=target,
                                      interpolation=interpolation),
                    kimage.load_img(path, color_mode=color_mode, target_size=target,
                                    interpolation=interpolation))


def test_numpy_integer_target_size(kimage, files):
    target = (np.int64(20), np.int32(30))
    _same_image(pyimgaug.load_img(files["RGB"], target_size=target, interpolation="lanczos"),
                kimage.load_img(files["RGB"], target_size=target, interpolation="lanczos"))


def test_pillow_resizes_when_the_kernel_is_not_exact(kimage, files, monkeypatch):
    """pillow_compat's probe found a mismatch: transform_batch resizes with Pillow instead."""
    from pyimgaug import pillow_compat
    monkeypatch.setattr(pillow_compat, "kernel_resize_is_exact", lambda: False)
    _same_image(pyimgaug.load_img(files["jpeg0"], target_size=(128, 128), interpolation="lanczos"),
                kimage.load_img(files["jpeg0"], target_size=(128, 128), interpolation="lanczos"))


def test_bad_target_size_fails_as_keras_does(kimage, files):
    for target in [(0, 5), (-3, 4)]:
        with pytest.raises(ValueError) as ours:
            pyimgaug.load_img(files["RGB"], target_size=target)
        with pytest.raises(ValueError) as ref:
            kimage.load_img(files["RGB"], target_size=target)
        assert str(ours.value) == str(ref.value)
