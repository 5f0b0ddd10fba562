"""Generator benchmark: pyimgaug vs keras_preprocessing 1.1.2, same run, same data.

Rows:
  flow(x)              the seed tutorial's augmentation (rotation 20, shifts 0.2,
                       rescale 1/255) over a preloaded (N, H, W, 3) array
  flow_from_directory  the same augmentation over a generated class-per-folder
                       JPEG/PNG dataset of varied sizes, target 128x128, lanczos
  ... and both without augmentation (rescale only).

Before timing, results are checked where they are deterministic: unaugmented
batches must agree within 1/255 of the value range, and one augmented batch
must agree with Keras's per-image path fed the parameters pyimgaug drew.

Usage: python benchmarks/bench_generator.py [--images 256] [--repeats 5]
Prints the median seconds per batch of each library and the speed-up.
"""
import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np
from PIL import Image

TUTORIAL_ARGS = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                     rescale=1. / 255)
PLAIN_ARGS = dict(rescale=1. / 255)


def make_dataset(root, n_images, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [(240, 320), (300, 300), (200, 260), (360, 280)]
    for i in range(n_images):
        h, w = sizes[i % len(sizes)]
        yy, xx = np.mgrid[0:h, 0:w]
        img = np.stack([127 + 100 * np.sin(0.03 * (c + 1) * yy + 0.02 * xx + c) for c in range(3)], -1)
        img = np.clip(img + rng.normal(0, 15, img.shape), 0, 255).astype(np.uint8)
        d = os.path.join(root, "class_%02d" % (i % n_classes))
        os.makedirs(d, exist_ok=True)
        ext = "jpg" if i % 2 else "png"
        Image.fromarray(img).save(os.path.join(d, "img_%05d.%s" % (i, ext)))
    return root


def time_batches(it, n_batches, repeats):
    """Median seconds per batch over `repeats` runs of `n_batches` next() calls."""
    next(it)  # warm-up (imports, first allocation)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n_batches):
            next(it)
        times.append((time.perf_counter() - t0) / n_batches)
    return statistics.median(times)


def check_agreement(kimage, pyimgaug, root, x, batch_size, target):
    from pyimgaug.pipeline.params import params_to_dict, sample_params

    # Unaugmented: deterministic on both sides.
    for name, make in (
        ("flow", lambda g: g.flow(x, batch_size=batch_size, shuffle=False)),
        ("flow_from_directory", lambda g: g.flow_from_directory(
            root, target_size=target, batch_size=batch_size, interpolation="lanczos",
            shuffle=False, class_mode=None)),
    ):
        a = next(make(pyimgaug.ImageDataGenerator(**PLAIN_ARGS)))
        b = next(make(kimage.ImageDataGenerator(**PLAIN_ARGS)))
        err = float(np.abs(a - b).max())
        assert err <= 1 / 255.0, (name, err)
        print("check  %-22s unaugmented max |diff| = %.2e (limit 1/255)" % (name, err))
    # Augmented: Keras's per-image path fed the parameters pyimgaug drew.
    gen = pyimgaug.ImageDataGenerator(**TUTORIAL_ARGS)
    kgen = kimage.ImageDataGenerator(**TUTORIAL_ARGS)
    it = gen.flow_from_directory(root, target_size=target, batch_size=8, interpolation="lanczos",
                                 seed=1, class_mode=None)
    xb = next(it)
    idx = it.index_array[:8]
    p = sample_params(gen, 8, target, it._sample_key(it.epoch), ids=idx)
    ref = np.stack([kgen.standardize(kgen.apply_transform(kimage.img_to_array(kimage.load_img(
        it.filepaths[j], target_size=target, interpolation="lanczos")), params_to_dict(p, i)))
        for i, j in enumerate(idx)])
    err = float(np.abs(xb - ref).max())
    assert err <= 1 / 255.0, err
    print("check  %-22s augmented   max |diff| = %.2e (limit 1/255)" % ("flow_from_directory", err))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=256, help="dataset size (default 256)")
    ap.add_argument("--classes", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--batches", type=int, default=4, help="batches per timed run")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs (median reported)")
    ap.add_argument("--flow-size", type=int, default=128, help="side of the preloaded flow(x) images")
    args = ap.parse_args(argv)

    import pyimgaug
    from keras_preprocessing import image as kimage

    from pyimgaug import _core
    openmp = bool(_core._has_openmp)
    kernel_threads = _core.default_num_threads()
    print("python %s, numpy %s, %s" % (platform.python_version(), np.__version__, platform.machine()))
    print("cpu_count=%s  OMP_NUM_THREADS=%s  kernel OpenMP=%s  kernel threads=%s  decode threads=%s"
          % (os.cpu_count(), os.environ.get("OMP_NUM_THREADS", "unset"), openmp, kernel_threads,
             min(8, os.cpu_count() or 1)))
    print("(pyimgaug: files decoded by a thread pool, one kernel call per batch, parallel over the "
          "batch; keras_preprocessing: one thread, per image)")
    target = (128, 128)
    rng = np.random.default_rng(0)
    s = args.flow_size
    x = rng.uniform(0, 255, (args.images, s, s, 3)).astype(np.float32)

    with tempfile.TemporaryDirectory() as tmp:
        root = make_dataset(os.path.join(tmp, "data"), args.images, args.classes)
        check_agreement(kimage, pyimgaug, root, x[:args.batch_size], args.batch_size, target)

        rows = []
        for label, gen_args in (("tutorial aug", TUTORIAL_ARGS), ("rescale only", PLAIN_ARGS)):
            for kind in ("flow(x)", "flow_from_directory"):
                res = {}
                for lib, mod in (("pyimgaug", pyimgaug), ("keras", kimage)):
                    np.random.seed(0)  # Keras shuffles and augments with the global RNG
                    g = mod.ImageDataGenerator(**gen_args)
                    if kind == "flow(x)":
                        it = g.flow(x, batch_size=args.batch_size, seed=0)
                    else:
                        it = g.flow_from_directory(root, target_size=target,
                                                   batch_size=args.batch_size,
                                                   interpolation="lanczos", seed=0)
                    res[lib] = time_batches(it, args.batches, args.repeats)
                rows.append((kind, label, res["pyimgaug"], res["keras"]))
        sys.stdout.flush()

    print()
    print("%-20s %-13s %14s %14s %8s" % ("row", "config", "pyimgaug s/b", "keras s/b", "speedup"))
    for kind, label, ours, ref in rows:
        print("%-20s %-13s %14.4f %14.4f %7.1fx" % (kind, label, ours, ref, ref / ours))
    print("(batch %d; flow(x) images %dx%dx3 float32; directory: %d JPEG/PNG files 200-360 px "
          "-> 128x128 lanczos; median of %d runs of %d batches)"
          % (args.batch_size, s, s, args.images, args.repeats, args.batches))


if __name__ == "__main__":
    main()
