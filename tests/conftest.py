"""Shared fixtures: generated class-per-folder datasets and the Keras reference."""
import os

import numpy as np
import pytest
from PIL import Image

# Child Pythons started by tests (`python -c ...`, `python -m pytest ...`) must import
# the installed package, not the source folder of the same name in the working
# directory, which has no compiled kernel. (Honoured by Python 3.11 and later.)
os.environ.setdefault("PYTHONSAFEPATH", "1")


def pytest_configure(config):
    # The reference calls scipy.ndimage.interpolation.affine_transform, which
    # scipy deprecates; that is not ours to report.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:Please import `affine_transform`:DeprecationWarning")


@pytest.fixture
def kimage():
    """`keras_preprocessing.image` 1.1.2, the behavioural reference."""
    return pytest.importorskip(
        "keras_preprocessing.image", reason="keras_preprocessing (test extra) is not installed")


def _smooth_image(rng, h, w, channels):
    """A smooth gradient plus noise: resampling differences show up in it."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        a, b, ph = rng.uniform(0.05, 0.4, 3)
        base = 127.5 + 90 * np.sin(a * yy + b * xx + ph + c)
        planes.append(base + rng.normal(0, 20, (h, w)))
    return np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)


def write_image(path, rng, h, w, mode):
    """Writes a random smooth image of `mode` ('L', 'RGB', 'RGBA', 'P', 'I;16') to `path`."""
    if mode == "L":
        img = Image.fromarray(_smooth_image(rng, h, w, 1)[:, :, 0])
    elif mode == "RGB":
        img = Image.fromarray(_smooth_image(rng, h, w, 3))
    elif mode == "RGBA":
        img = Image.fromarray(_smooth_image(rng, h, w, 4))
    elif mode == "P":
        img = Image.fromarray(_smooth_image(rng, h, w, 3)).convert("P")
    elif mode == "I;16":
        arr = _smooth_image(rng, h, w, 1)[:, :, 0].astype(np.uint16) * 257
        img = Image.fromarray(arr)
        assert img.mode == "I;16", img.mode
    else:
        raise ValueError(mode)
    # (Pillow infers the mode from the array: its `mode` argument is deprecated in 11.3-12.x.)
    assert img.mode == mode or (mode == "I;16" and img.mode.startswith("I;16")), (img.mode, mode)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(path)
    return path


def build_dataset(root, classes=3, per_class=5, seed=0,
                  sizes=((20, 30), (32, 32), (45, 25), (17, 19), (24, 24)),
                  modes=("RGB", "L", "RGB", "P", "RGBA"), exts=("png", "jpg", "BMP", "png", "JPEG", "PNG"),
                  nested=True, extras=True):
    """Writes a class-per-folder dataset under `root` and returns `root`.

    Files are PNG, JPEG and BMP (some with upper-case extensions), of varied
    sizes, from RGB, grayscale, palette and RGBA (non-opaque) sources; the
    last file of each class sits in a nested subfolder, and files that must be
    ignored (a .txt, an unknown extension) are added.
    """
    rng = np.random.default_rng(seed)
    root = str(root)
    names = classes if isinstance(classes, (list, tuple)) else ["class_%02d" % i for i in range(classes)]
    k = 0
    for ci, cname in enumerate(names):
        count = per_class[ci] if isinstance(per_class, (list, tuple)) else per_class
        for i in range(count):
            h, w = sizes[k % len(sizes)]
            mode = modes[k % len(modes)]
            ext = exts[k % len(exts)]
            if ext.lower() in ("jpg", "jpeg") and mode in ("P", "RGBA"):
                mode = "RGB"
            sub = "nested" if (nested and i == count - 1 and count > 1) else ""
            path = os.path.join(root, cname, sub, "img_%03d_%d.%s" % (i, k, ext))
            write_image(path, rng, h, w, mode)
            k += 1
        if extras:
            os.makedirs(os.path.join(root, cname), exist_ok=True)
            with open(os.path.join(root, cname, "notes.txt"), "w") as f:
                f.write("not an image")
    if extras:
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "stray.png.bak"), "w") as f:
            f.write("x")
    return root


@pytest.fixture
def make_dataset(tmp_path):
    """Factory: `make_dataset(classes=3, per_class=5, ...)` -> a new dataset root."""
    counter = {"n": 0}

    def make(name=None, **kwargs):
        counter["n"] += 1
        return build_dataset(tmp_path / (name or "data%d" % counter["n"]), **kwargs)

    return make


@pytest.fixture(scope="session")
def shared_dataset(tmp_path_factory):
    """A read-only default dataset (3 classes x 5 files) shared by many tests."""
    return build_dataset(tmp_path_factory.mktemp("shared") / "data")


def keras_reference_batch(kimage, kgen, it, index_array, target_size, interpolation):
    """The reference for one of `it`'s augmented file batches: the parameters our
    batch drew for `index_array` (in `it`'s current epoch), pushed through Keras's
    per-image path (load_img, img_to_array, apply_transform, standardize)."""
    from pyimgaug.pipeline.params import params_to_dict, sample_params

    params = sample_params(it.image_data_generator, len(index_array), target_size,
                           it._sample_key(it.epoch), ids=index_array)
    ref = []
    for i, j in enumerate(index_array):
        img = kimage.load_img(it.filepaths[j], target_size=target_size, interpolation=interpolation)
        xi = kimage.img_to_array(img, data_format=kgen.data_format)
        xi = kgen.apply_transform(xi, params_to_dict(params, i))
        ref.append(kgen.standardize(xi))
    return np.stack(ref).astype(np.float32)


def keras_load_batch(kimage, paths, target_size, color_mode, interpolation, data_format="channels_last"):
    """The reference's image batch for `paths` (no augmentation)."""
    out = []
    for p in paths:
        img = kimage.load_img(p, color_mode=color_mode, target_size=target_size,
                              interpolation=interpolation)
        out.append(kimage.img_to_array(img, data_format=data_format))
    return np.stack(out)
