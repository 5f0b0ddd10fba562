"""Datasets and helpers shared by the pipeline tests (prefetch, cache, fast decode)."""
import contextlib
import io
import os

import numpy as np

from conftest import build_dataset

import pyimgaug

AUG = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2, rescale=1. / 255)

# Index k of a file picks mode k % 8, extension k % 8 and size k % 6: RGB, grayscale,
# non-opaque RGBA, palette and 16-bit files; JPEGs both small and at least twice
# the targets used (so decode="fast" changes them); one file exactly 32x40.
MODES = ("RGB", "L", "RGBA", "RGB", "P", "I;16", "RGB", "L")
EXTS = ("png", "png", "png", "jpg", "png", "png", "jpg", "jpg")
SIZES = ((20, 30), (32, 40), (45, 25), (90, 100), (17, 19), (120, 96))


def mixed_dataset(root, per_class=6):
    return build_dataset(root, classes=2, per_class=per_class, modes=MODES, exts=EXTS,
                         sizes=SIZES, nested=False, extras=False)


def flow(root, quiet=True, gen_args=AUG, **kw):
    kw.setdefault("seed", 7)
    kw.setdefault("batch_size", 5)
    kw.setdefault("target_size", (32, 40))
    with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
        return pyimgaug.ImageDataGenerator(**gen_args).flow_from_directory(root, **kw)


def take(it, n):
    """The next `n` batches' images (x only)."""
    out = []
    for _ in range(n):
        b = next(it)
        out.append(b[0] if isinstance(b, tuple) else b)
    return out


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x.dtype == y.dtype and x.shape == y.shape, i
        assert np.array_equal(x, y), "batch %d differs (max |diff| %g)" % (i, np.abs(x - y).max())


def entry_files(cache_dir):
    return sorted(os.path.join(dp, f) for dp, _, fs in os.walk(cache_dir) for f in fs
                  if f.endswith(".npx"))
