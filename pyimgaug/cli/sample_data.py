"""A small class-per-folder image dataset generated deterministically (no network).

Four texture classes drawn procedurally with NumPy and saved with Pillow, at
assorted sizes between 300 and 800 pixels, mostly JPEG with some PNG and some
grayscale files, like the photographs of the tutorial this project grew from.
The same (seed, count) always writes the same pixels.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from typing import Sequence, Tuple

import numpy as np
from PIL import Image

CLASSES = ("checks", "rings", "stripes", "waves")


def _texture(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(24, 80)  # coarse enough to survive a 6x downscale
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    if kind == "stripes":
        base = np.sin(2 * np.pi * u / period)
    elif kind == "checks":
        base = np.sign(np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period))
    elif kind == "rings":
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        base = np.sin(2 * np.pi * np.hypot(yy - cy, xx - cx) / period)
    else:  # waves
        base = np.sin(2 * np.pi * (u + 0.3 * period * np.sin(2 * np.pi * v / (3 * period))) / period)
    colours = rng.uniform(0, 255, (2, 3)).astype(np.float32)
    t = (base[..., None] + 1) / 2
    img = colours[0] * (1 - t) + colours[1] * t
    # A gentle illumination gradient and sensor-like noise, so it compresses like a photo.
    img *= 0.75 + 0.25 * (yy / max(h - 1, 1))[..., None]
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_sample_dataset(directory: str, images_per_class: int = 24, classes: Sequence[str] = CLASSES,
                        min_side: int = 300, max_side: int = 800, seed: int = 0) -> str:
    """Writes `images_per_class` images of each class under `directory/<class>/`.

    About one file in six is a PNG and one in eight is grayscale. Existing files
    with the same names are overwritten. Returns `directory`.
    """
    if images_per_class < 1:
        raise ValueError(f"images_per_class must be >= 1; got {images_per_class}")
    if not 1 <= min_side <= max_side:
        raise ValueError(f"need 1 <= min_side <= max_side; got {min_side}, {max_side}")
    rng = np.random.default_rng(seed)
    for label in classes:
        folder = os.path.join(directory, label)
        os.makedirs(folder, exist_ok=True)
        for i in range(images_per_class):
            h, w = (int(s) for s in rng.integers(min_side, max_side + 1, 2))
            pixels = _texture(label, h, w, rng)
            img = Image.fromarray(pixels)
            if rng.random() < 1 / 8:
                img = img.convert("L")
            if rng.random() < 1 / 6:
                img.save(os.path.join(folder, f"{label}_{i:04d}.png"))
            else:
                img.save(os.path.join(folder, f"{label}_{i:04d}.jpg"), quality=90)
    return directory


# The demo keeps its dataset between runs. A manifest, written last, records how the
# dataset was made and each file's length and CRC-32: a folder without it (an
# interrupted run), made with other settings, or with a file missing, changed or
# added is rebuilt; one that matches is reused as it is.
MANIFEST = "pyimgaug-sample.json"
_FORMAT = 1


def _file_record(path: str) -> dict:
    crc = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            crc = zlib.crc32(chunk, crc)
    return {"bytes": os.path.getsize(path), "crc32": crc}


def _listing(directory: str) -> dict:
    """{relative path: record} for every file under `directory` except the manifest."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, directory).replace(os.sep, "/")
            if rel != MANIFEST:
                files[rel] = _file_record(path)
    return files


def _settings(images_per_class: int, seed: int) -> dict:
    return {"format": _FORMAT, "images_per_class": images_per_class, "seed": seed, "classes": list(CLASSES)}


def sample_dataset_is_complete(directory: str, images_per_class: int, seed: int = 0) -> bool:
    """True when `directory` holds exactly the dataset ensure_sample_dataset() would write."""
    try:
        with open(os.path.join(directory, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("settings") != _settings(images_per_class, seed):
        return False
    try:
        return _listing(directory) == manifest.get("files")
    except OSError:
        return False


def ensure_sample_dataset(directory: str, images_per_class: int = 64, seed: int = 0) -> Tuple[str, bool]:
    """The demo's dataset in `directory`: reused when complete, otherwise (re)built.

    Returns (directory, reused). A rebuild writes into a sibling folder and swaps it
    in, so an interrupted run never leaves a half-written dataset that looks whole.
    An existing `directory` is only replaced when it holds nothing but files of a
    sample dataset (its manifest, the class folders); anything else is an OSError,
    so a wrong --dir never deletes someone's pictures.
    """
    directory = os.path.abspath(directory)
    if sample_dataset_is_complete(directory, images_per_class, seed):
        return directory, True
    if os.path.lexists(directory):
        if not os.path.isdir(directory) or os.path.islink(directory):
            raise OSError(f"{directory} exists and is not a folder; choose another demo directory")
        foreign = sorted(set(os.listdir(directory)) - set(CLASSES) - {MANIFEST})
        if foreign:
            raise OSError(f"{directory} holds files that are not pyimgaug's sample data ({', '.join(foreign[:3])}); "
                          "choose another demo directory")
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=os.path.basename(directory) + ".partial-", dir=parent)
    try:
        make_sample_dataset(staging, images_per_class=images_per_class, seed=seed)
        manifest = {"settings": _settings(images_per_class, seed), "files": _listing(staging)}
        with open(os.path.join(staging, MANIFEST), "w") as f:
            json.dump(manifest, f, indent=0, sort_keys=True)
        if os.path.lexists(directory):
            shutil.rmtree(directory)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory, False
