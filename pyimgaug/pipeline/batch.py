"""Builds one augmented batch: one kernel call, then the steps it cannot do.

Keras's order for one image is: resize (when loading), warp, channel shift,
horizontal flip, vertical flip, brightness, then `standardize`
(preprocessing_function, rescale, samplewise, featurewise, ZCA).  Here the
kernel does the resize, the warp and, when nothing sits between the warp and
the rescale, the rescale, for the whole batch in one call; the remaining
steps follow in Keras's order, vectorised over the batch where they can be.
"""
import numpy as np

from . import budget as _budget
from .affine import (apply_brightness_shift, channel_shift_batch, flip_batch,
                     transform_matrices, warp_batch)


def identity_params(n):
    """Parameters that leave images unchanged."""
    zeros = np.zeros(n)
    return {
        "theta": zeros, "tx": zeros, "ty": zeros, "shear": zeros,
        "zx": np.ones(n), "zy": np.ones(n),
        "flip_horizontal": np.zeros(n, dtype=bool), "flip_vertical": np.zeros(n, dtype=bool),
        "channel_shift_intensity": None, "brightness": None,
    }


def _any_set(v):
    return v is not None and bool(np.any(~np.isnan(np.asarray(v, dtype=np.float64))))


def augment_batch(gen, images, params, out_hw, *, data_format="channels_last", resize_to=None,
                  resample="nearest", work_dtype="float32", out_dtype="float32", standardize=True,
                  num_threads=None, warp_dtype=None):
    """Transforms and standardizes a batch.

    # Arguments
        gen: the `ImageDataGenerator`, or None (no transform, no standardize).
        images: (N, H, W, C) array or list of (H_i, W_i, C) arrays, channels
            last, of a kernel input dtype.
        params: batch parameters (see `pyimgaug.pipeline.params.sample_params`).
        out_hw: (h, w) of the output (and of the transform's geometry).
        data_format: layout of the returned batch.
        resize_to: `(h, w)` to resize to first, or None.
        resample: Pillow filter name for the resize.
        work_dtype: float dtype the kernel writes ("float32" or "float64").
        out_dtype: dtype of the returned batch.
        standardize: apply `gen`'s standardization (False for `fit(augment=True)`).
        num_threads: kernel threads; None means this batch's share of the
            process's thread budget (see `pyimgaug.pipeline.budget`).
        warp_dtype: the dtype Keras's warp writes (the dtype of the images it
            is given), when that is an integer type: warped values are then
            rounded half away from zero and clipped to it, as scipy stores them
            (use a float64 `work_dtype`, so that no float32 rounding precedes).

    # Returns
        The batch, in `data_format`, of `out_dtype`.
    """
    n = len(images)
    work_dtype = np.dtype(work_dtype)
    if num_threads is None:
        num_threads = _budget.kernel_threads()
    if gen is None:
        out = warp_batch(images, None, output_size=tuple(out_hw), resize_to=resize_to,
                         resample=resample, dtype=work_dtype.name, num_threads=num_threads)
        if data_format == "channels_first":
            out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
        return out.astype(out_dtype, copy=False)

    h, w = out_hw
    matrices, warp = transform_matrices(params["theta"], params["tx"], params["ty"],
                                        params["shear"], params["zx"], params["zy"], h, w)
    channel = params.get("channel_shift_intensity")
    bright = params.get("brightness")
    has_channel = _any_set(channel)
    has_bright = _any_set(bright)
    # The kernel's `scale` may do the rescale only when nothing between the
    # warp and the rescale (in Keras's order) changes the values.
    round_warp = warp_dtype is not None and np.dtype(warp_dtype).kind in "iu" and bool(warp.any())
    fold_rescale = bool(standardize and gen.rescale and not has_channel and not has_bright
                        and not gen.preprocessing_function and not round_warp)
    scale = float(gen.rescale) if fold_rescale else 1.0

    out = warp_batch(images, matrices if warp.any() else None, output_size=(h, w),
                     resize_to=resize_to, resample=resample, order=gen.interpolation_order,
                     fill_mode=gen.fill_mode, cval=float(gen.cval), scale=scale,
                     dtype=work_dtype.name, num_threads=num_threads)
    if out.dtype != work_dtype:
        out = out.astype(work_dtype)
    if not out.flags.writeable or not out.flags.c_contiguous:
        out = np.array(out, dtype=work_dtype, order="C")
    if round_warp:
        # Integer images come out of scipy's warp rounded and clipped to their
        # dtype (unwarped images hold integers already: unchanged).
        info = np.iinfo(warp_dtype)
        np.clip(np.copysign(np.floor(np.abs(out) + 0.5), out), info.min, info.max, out=out)

    if has_channel:
        channel_shift_batch(out, channel)
    # Flips are exact memory permutations here; folding them into the warp
    # matrix would change the rounding of sample coordinates (enough to move
    # nearest-neighbour picks and constant-mode edges off the reference).
    flip_batch(out, params["flip_horizontal"], axis=2)
    flip_batch(out, params["flip_vertical"], axis=1)
    if data_format == "channels_first":
        out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
    if has_bright:
        bright = np.asarray(bright, dtype=np.float64)
        for i in np.flatnonzero(~np.isnan(bright)):
            # Per image through Pillow, like Keras (channels-last helper, as
            # Keras calls it whatever the data format).
            out[i] = apply_brightness_shift(out[i], bright[i])
    if standardize:
        out = gen._standardize_batch(out, rescaled=fold_rescale, out_dtype=out_dtype)
    return out.astype(out_dtype, copy=False)
