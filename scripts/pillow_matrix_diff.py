"""Largest differences from the installed Pillow and keras_preprocessing, as JSON.

Run by scripts/pillow_matrix.sh inside each Pillow's environment, from the
repository root (it imports the tests' dataset builder), after the tests:

* resize: max |kernel - Pillow Image.resize| over uint8 images (1, 3, 4
  channels), every filter, the shapes where Pillow releases disagree and a set
  of random up/down/mixed shapes;
* directory: max |ours - keras_preprocessing| over unaugmented
  flow_from_directory batches, every interpolation and colour mode.

Both are 0 when the kernel reproduces the installed Pillow.
"""
import json
import os
import sys
import tempfile

import numpy as np
import PIL
from PIL import Image

import pyimgaug
from pyimgaug import pillow_compat

FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")


def resize_diff():
    rng = np.random.default_rng(0)
    shapes = [((40, 30), (20, 20)), ((41, 30), (20, 20)), ((40, 30), (10, 28)), ((201, 2), (200, 1)),
              ((200, 2), (150, 1)), ((202, 2), (150, 40)), ((57, 13), (19, 31)), ((1, 1), (5, 7)), ((9, 1), (3, 4))]
    for _ in range(30):
        shapes.append((tuple(int(v) for v in rng.integers(1, 120, 2)), tuple(int(v) for v in rng.integers(1, 120, 2))))
    worst, cases = 0, 0
    for src, dst in shapes:
        for channels, mode in ((1, "L"), (3, "RGB"), (4, "RGBX")):
            img = rng.integers(0, 256, src + (channels,), dtype=np.uint8)
            for f in FILTERS:
                got = pyimgaug.transform_batch([img], resize_to=dst, resample=f, dtype="uint8")[0]
                pil = Image.frombytes(mode, src[::-1], img.tobytes())
                want = np.asarray(pil.resize(dst[::-1], getattr(Image.Resampling, f.upper())))
                want = want.reshape(dst + (-1,))[:, :, :channels]
                worst = max(worst, int(np.abs(got.astype(int) - want.astype(int)).max()))
                cases += 1
    return worst, cases


def directory_diff():
    sys.path.insert(0, "tests")
    from conftest import build_dataset
    from keras_preprocessing import image as kimage

    root = build_dataset(os.path.join(tempfile.mkdtemp(), "data"))
    worst = 0.0
    for interpolation in FILTERS:
        for color_mode in ("rgb", "grayscale", "rgba"):
            kw = dict(target_size=(21, 27), color_mode=color_mode, class_mode=None, interpolation=interpolation,
                      batch_size=4, shuffle=False)
            ours = pyimgaug.ImageDataGenerator().flow_from_directory(root, **kw)
            ref = kimage.ImageDataGenerator().flow_from_directory(root, **kw)
            for i in range(len(ref)):
                worst = max(worst, float(np.abs(ours[i] - ref[i]).max()))
    return worst


if __name__ == "__main__":
    import contextlib
    import io

    resize_worst, cases = resize_diff()
    with contextlib.redirect_stdout(io.StringIO()):  # the iterators print "Found N images"
        directory_worst = directory_diff()
    info = pillow_compat.resize_behaviour_info()
    print(json.dumps({"pillow": PIL.__version__, "behaviour": info["behaviour"], "probe": info["probe"],
                      "resize_max_abs_diff": resize_worst, "resize_cases": cases,
                      "directory_max_abs_diff": directory_worst}))
