"""The deterministic stage of a file batch: decode, and (with a cache) resize.

`load_stage` returns what `io.decode_for_batch` returns for each file, so the
iterator's batch code is the same with or without a cache:

- without a cache, `(uint8 image at its decoded size, False)` (the kernel
  resizes the whole batch in the same call as the warp), or `(float32 image
  at target_size, True)` for the rare files Pillow resizes itself;
- with a cache, every image is at `target_size`: uint8 resized by the kernel
  (bit-identical to resizing inside the warp call, as the kernel's stage 1
  rounds to uint8 either way), or the float32 image, with the same flags.

Files are decoded on `budget.map_files` (Pillow releases the GIL), the
resizes of a batch's misses are one kernel call.
"""
import os

import numpy as np

from . import budget
from . import io as _io

__all__ = ["DECODE_MODES", "check_decode", "load_stage"]

DECODE_MODES = ("exact", "fast")


def check_decode(decode):
    if decode not in DECODE_MODES:
        raise ValueError("decode must be one of %s; got %r" % (", ".join(map(repr, DECODE_MODES)), decode))
    return decode


def _decoder(color_mode, target_size, interpolation, decode, kwargs):
    decode_for_batch = _io.decode_for_batch
    if decode == "exact":
        def one(path):
            return decode_for_batch(path, color_mode, target_size, interpolation, **kwargs)
    else:
        def one(path):
            return decode_for_batch(path, color_mode, target_size, interpolation, decode=decode,
                                    **kwargs)
    return one


def load_stage(paths, color_mode, target_size, interpolation, decode="exact", cache=None,
               **decode_kwargs):
    """Decodes `paths` (and resizes them to `target_size` when `cache` is given).

    Returns a list of `(array, resized)` pairs in the order of `paths`.
    """
    one = _decoder(color_mode, target_size, interpolation, decode, decode_kwargs)
    if cache is None:
        return budget.map_files(one, paths)

    from .cache import entry_key
    from .._kernel import transform_batch

    th, tw = target_size
    out = [None] * len(paths)
    keys = [None] * len(paths)
    missing = []
    for i, path in enumerate(paths):
        try:
            st = os.stat(path)
        except OSError:
            missing.append(i)  # let the decoder raise (or handle) the error
            continue
        keys[i] = entry_key(path, st, target_size, color_mode, interpolation, decode)
        hit = cache.get(keys[i])
        if hit is None:
            missing.append(i)
        else:
            out[i] = (hit, hit.dtype != np.uint8)
    if not missing:
        return out
    decoded = budget.map_files(one, [paths[i] for i in missing])
    to_resize = []
    for i, item in zip(missing, decoded):
        out[i] = item
        if item is None:
            continue
        x, resized = item
        if not resized and (x.shape[0] != th or x.shape[1] != tw):
            to_resize.append(i)
    if to_resize:
        small = transform_batch([out[i][0] for i in to_resize], resize_to=(th, tw),
                                resample=interpolation, dtype="uint8",
                                num_threads=budget.kernel_threads())
        for k, i in enumerate(to_resize):
            out[i] = (small[k], False)
    new = []
    for i in missing:
        if out[i] is None or keys[i] is None:
            continue
        try:
            st = os.stat(paths[i])
        except OSError:
            continue
        # A file replaced while it was being decoded is not stored under the
        # old file's key (the next batch decodes it again).
        if entry_key(paths[i], st, target_size, color_mode, interpolation, decode) == keys[i]:
            new.append((keys[i], out[i][0]))
    if new:
        cache.put_many(new)  # one pack file for the batch's new entries
    return out
