"""Which Pillow release the kernel's resize reproduces, and a check that it does.

`Image.resize` changed between Pillow releases in ways that move pixels (read from
Pillow's `Resample.c` and `Image.py` of each release, then confirmed by probing):

========== ================================================================
behaviour  rules (first release that has them)
========== ================================================================
pillow-9.1 horizontal pass first, always. Pillow cannot resize 16-bit 'I;16'
           images with a filter before 11.0 (uint16 is saturated here).
pillow-11.0 as 9.1; 'I;16' resize arrives, storing each byte clipped on its
           own (a sum above 65535 keeps its low byte: 0xFF00 | low byte).
pillow-12.2 an image more than 100 times taller than wide whose height
           shrinks is resized height first (two calls in `Image.py`).
pillow-12.3 as 12.2, with 'I;16' results saturated at 65535.
pillow-13.0 vertical pass first whenever the height shrinks by more than
           twice as many pixels as the width (`Resample.c`); 'I;16' saturated.
========== ================================================================

The behaviour is selected from ``PIL.__version__`` at import. Because a future
release may change the rules again, the first resize through the kernel runs a
tiny probe (a few small images, every filter, the shapes on which the rules
differ) against the installed Pillow. On a mismatch it warns once
(`PillowResizeWarning`) and from then on Pillow itself resizes each image (the
kernel still warps and rescales), so pixels stay right and only speed drops.
`resize_behaviour_info()` reports the outcome.
"""
from __future__ import annotations

import re
import threading
import warnings

import numpy as np
import PIL

__all__ = ["BEHAVIOURS", "PILLOW_VERSION", "SELECTED", "PillowResizeWarning", "behaviour_for_version",
           "kernel_resize_is_exact", "probe_mismatches", "pillow_resize_images", "resize_behaviour_info"]

#: Behaviour names and the codes the kernel takes (csrc/kernel/types.hpp, ResizeBehaviour).
BEHAVIOURS = {"pillow-9.1": 0, "pillow-11.0": 1, "pillow-12.2": 2, "pillow-12.3": 3, "pillow-13.0": 4}

# The first (major, minor) release of each behaviour, newest first.
_FIRST_RELEASES = (((13, 0), "pillow-13.0"), ((12, 3), "pillow-12.3"), ((12, 2), "pillow-12.2"),
                   ((11, 0), "pillow-11.0"))


def behaviour_for_version(version: str) -> str:
    """The behaviour name for a Pillow version string such as '12.3.0' or '13.1.0.dev0'."""
    m = re.match(r"\s*(\d+)\.(\d+)", str(version))
    if not m:
        raise ValueError(f"cannot read a Pillow version from {version!r}")
    release = (int(m.group(1)), int(m.group(2)))
    for first, name in _FIRST_RELEASES:
        if release >= first:
            return name
    return "pillow-9.1"


PILLOW_VERSION = PIL.__version__
#: The behaviour the kernel uses when `transform_batch` is not told one.
SELECTED = behaviour_for_version(PILLOW_VERSION)


class PillowResizeWarning(UserWarning):
    """The kernel's resize did not reproduce the installed Pillow; Pillow resizes instead."""


_lock = threading.Lock()
_probe = {"exact": None}  # None: not run yet; True: the kernel is exact; False: fall back


def _pil_filters():
    from PIL import Image

    r = Image.Resampling
    return {"nearest": r.NEAREST, "box": r.BOX, "bilinear": r.BILINEAR, "hamming": r.HAMMING,
            "bicubic": r.BICUBIC, "lanczos": r.LANCZOS}


# (source (H, W), target (h, w)) pairs on which the releases' pass orders differ:
# 40x30 -> 10x28 is height first only for 13.0; 201x2 -> 200x1 only for 12.2/12.3;
# 202x2 -> 150x40 for both; 17x23 -> 9x31 and 5x13 -> 29x4 are width first everywhere.
PROBE_SHAPES = (((40, 30), (10, 28)), ((201, 2), (200, 1)), ((202, 2), (150, 40)), ((17, 23), (9, 31)),
                ((5, 13), (29, 4)))
# A 0/65535 image whose lanczos resize overshoots 65535: tells the 'I;16' stores apart.
PROBE_U16_SHAPE = ((30, 7), (11, 13))


def _probe_images():
    rng = np.random.default_rng(20240611)
    u8 = [(rng.integers(0, 256, src, dtype=np.uint8), dst) for src, dst in PROBE_SHAPES]
    src, dst = PROBE_U16_SHAPE
    u16 = (rng.integers(0, 2, src) * 65535).astype(np.uint16)
    return u8, (u16, dst)


def _pillow_channel(channel: np.ndarray, size_hw, resample: str) -> np.ndarray:
    """One (H, W) channel resized by Pillow, as the kernel's stage 1 defines it
    (uint8 'L', uint16 'I;16' ('I' for nearest, the kernel's choice), float32 'F')."""
    from PIL import Image

    h, w = size_hw
    H, W = channel.shape
    if channel.dtype == np.uint8:
        im = Image.frombytes("L", (W, H), np.ascontiguousarray(channel).tobytes())
    elif channel.dtype == np.uint16 and resample == "nearest":
        im = Image.frombytes("I", (W, H), np.ascontiguousarray(channel, dtype="=i4").tobytes())
    elif channel.dtype == np.uint16:
        im = Image.frombytes("I;16", (W, H), np.ascontiguousarray(channel, dtype="<u2").tobytes())
    else:
        im = Image.frombytes("F", (W, H), np.ascontiguousarray(channel, dtype="=f4").tobytes())
    out = im.resize((w, h), _pil_filters()[resample])
    return np.asarray(out).reshape(h, w).astype(channel.dtype)


def pillow_can_resize_uint16() -> bool:
    """Pillow resizes 'I;16' images with filters from 11.0 on (before, 'wrong mode')."""
    from PIL import Image

    try:
        Image.frombytes("I;16", (2, 2), bytes(8)).resize((1, 1), Image.Resampling.BILINEAR)
    except ValueError:
        return False
    return True


def pillow_resize_images(image_list, size_hw, resample: str) -> list:
    """Each (H, W, C) image resized by Pillow itself, channels independent: the
    fallback for a Pillow whose rules the kernel does not reproduce."""
    from PIL import Image

    h, w = size_hw
    out = []
    for a in image_list:
        H, W, C = a.shape
        if a.dtype == np.uint8 and C in (1, 3, 4):
            # 'RGBX' keeps four independent channels ('RGBA' would premultiply alpha).
            mode = {1: "L", 3: "RGB", 4: "RGBX"}[C]
            im = Image.frombytes(mode, (W, H), np.ascontiguousarray(a).tobytes())
            r = np.asarray(im.resize((w, h), _pil_filters()[resample])).reshape(h, w, -1)[:, :, :C]
        else:
            r = np.stack([_pillow_channel(a[:, :, c], size_hw, resample) for c in range(C)], axis=-1)
        out.append(np.ascontiguousarray(r, dtype=a.dtype))
    return out


def probe_mismatches(behaviour: str | None = None) -> list:
    """Resizes the probe images with the kernel (under `behaviour`, default the
    selected one) and with the installed Pillow; returns a description of each
    difference (an empty list: the kernel reproduces this Pillow on the probe)."""
    from ._kernel import transform_batch

    behaviour = SELECTED if behaviour is None else behaviour
    u8, (u16, u16_dst) = _probe_images()
    cases = [(img, dst) for img, dst in u8]
    if pillow_can_resize_uint16():
        cases.append((u16, u16_dst))
    bad = []
    for resample in _pil_filters():
        for img, dst in cases:
            got = transform_batch([img], resize_to=dst, resample=resample, dtype=img.dtype.name
                                  if img.dtype == np.uint8 else "float64", resize_behaviour=behaviour)[0, :, :, 0]
            want = _pillow_channel(img, dst, resample)
            if not np.array_equal(got, want.astype(got.dtype)):
                n = int(np.count_nonzero(got != want))
                bad.append(f"{resample} {img.dtype} {img.shape[0]}x{img.shape[1]} -> {dst[0]}x{dst[1]}: "
                           f"{n} samples differ")
    return bad


def kernel_resize_is_exact() -> bool:
    """True when the kernel reproduces the installed Pillow (the probe runs on the
    first call); False when Pillow must resize (warned once)."""
    exact = _probe["exact"]
    if exact is not None:
        return exact
    with _lock:
        if _probe["exact"] is None:
            bad = probe_mismatches()
            _probe["exact"] = not bad
            if bad:
                warnings.warn(
                    f"pyimgaug: the kernel's resize does not reproduce Pillow {PILLOW_VERSION} "
                    f"(behaviour {SELECTED!r} selected; the probe differs on {len(bad)} cases, e.g. {bad[0]}). "
                    "Pillow itself resizes each image from now on: the same pixels as Pillow, more slowly. "
                    "Please report this Pillow version to pyimgaug.", PillowResizeWarning, stacklevel=4)
        return _probe["exact"]


def behaviour_code(name: str | None) -> int:
    """The kernel's code for a behaviour name (None: the selected one)."""
    if name is None:
        return BEHAVIOURS[SELECTED]
    if not isinstance(name, str) or name not in BEHAVIOURS:
        raise ValueError(f"resize_behaviour must be None or one of {sorted(BEHAVIOURS)}; got {name!r}")
    return BEHAVIOURS[name]


def resize_behaviour_info() -> dict:
    """{'pillow_version', 'behaviour', 'probe'}: the installed Pillow, the rules
    selected for it, and the first-use check: 'exact', 'fallback to Pillow' or
    'not yet run'."""
    exact = _probe["exact"]
    probe = "not yet run" if exact is None else ("exact" if exact else "fallback to Pillow")
    return {"pillow_version": PILLOW_VERSION, "behaviour": SELECTED, "probe": probe}


def _reset_probe() -> None:
    """Forgets the probe's outcome (for tests that change the selected behaviour)."""
    with _lock:
        _probe["exact"] = None
