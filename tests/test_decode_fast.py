"""decode="fast": JPEGs at least twice the target decode at a reduced DCT scale.

Files it cannot shrink (PNG, other formats, JPEGs under twice the target) give
exactly the "exact" pixels; shrunk JPEGs stay close to them (PSNR bound on
photograph-like content). The default stays "exact".
"""
import inspect
import os

import numpy as np
import pytest
from PIL import Image

import pyimgaug
from pyimgaug.pipeline.io import decode_for_batch

from conftest import write_image
from pipeline_helpers import flow


def _photo_like(h, w, seed=0):
    # Smooth shapes and gradients with mild noise: a JPEG's DCT scaling is
    # meant for such content.
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([120 + 80 * np.sin(6 * xx + 3 * c) * np.cos(4 * yy - c) for c in range(3)], -1)
    for _ in range(6):
        cy, cx, r = rng.uniform(0, 1, 3)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < (0.2 * r) ** 2] += rng.uniform(-60, 60, 3)
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _psnr(a, b):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_default_is_exact():
    for fn in (pyimgaug.ImageDataGenerator.flow_from_directory,
               pyimgaug.ImageDataGenerator.flow_from_dataframe, decode_for_batch):
        assert inspect.signature(fn).parameters["decode"].default == "exact"


# The scale is the largest of 1/8, 1/4, 1/2 that keeps both sides >= the target.
@pytest.mark.parametrize("size, scale", [((256, 320), 8), ((130, 170), 4), ((512, 640), 8),
                                         ((100, 400), 2), ((70, 90), 2), ((63, 900), 1)])
def test_large_jpegs_decode_reduced_but_not_below_target(tmp_path, size, scale):
    path = str(tmp_path / "a.jpg")
    Image.fromarray(_photo_like(*size)).save(path, quality=92)
    target = (32, 40)
    x, resized = decode_for_batch(path, "rgb", target, "lanczos", decode="fast")
    h, w = size
    assert not resized
    assert x.shape == (-(-h // scale), -(-w // scale), 3)
    assert x.shape[0] >= target[0] and x.shape[1] >= target[1]


@pytest.mark.parametrize("mode, ext, size", [("RGB", "png", (200, 240)), ("L", "png", (200, 240)),
                                             ("RGB", "jpg", (60, 79)), ("L", "jpg", (40, 300)),
                                             ("RGB", "bmp", (200, 240))])
def test_files_it_cannot_shrink_are_exact(tmp_path, mode, ext, size):
    path = str(tmp_path / ("a." + ext))
    write_image(path, np.random.default_rng(0), size[0], size[1], mode)
    for color_mode in ("rgb", "grayscale", "rgba"):
        a = decode_for_batch(path, color_mode, (32, 40), "bicubic", decode="exact")
        b = decode_for_batch(path, color_mode, (32, 40), "bicubic", decode="fast")
        assert a[1] == b[1] and np.array_equal(a[0], b[0])


@pytest.mark.parametrize("color_mode", ["rgb", "grayscale"])
def test_fast_batches_stay_close_to_exact(tmp_path, color_mode):
    root = tmp_path / "data"
    for i, (h, w) in enumerate([(300, 400), (520, 380), (640, 800), (256, 256), (333, 700)]):
        os.makedirs(root / "c", exist_ok=True)
        Image.fromarray(_photo_like(h, w, seed=i)).save(str(root / "c" / ("%d.jpg" % i)), quality=90)
    kw = dict(target_size=(64, 64), interpolation="lanczos", color_mode=color_mode, batch_size=5,
              shuffle=False, class_mode=None)
    exact = next(flow(str(root), gen_args={}, **kw))
    fast = next(flow(str(root), gen_args={}, decode="fast", **kw))
    assert not np.array_equal(exact, fast)
    for a, b in zip(exact, fast):
        assert _psnr(a, b) > 30.0
