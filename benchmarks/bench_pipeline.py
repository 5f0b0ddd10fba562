"""File pipeline benchmark: keras_preprocessing vs pyimgaug, images/second, one process.

Dataset: class-per-folder photographs (scikit-image's bundled pictures, random
crops rescaled so the long side is 300-800 px), saved as JPEG (quality 85-95),
with a few PNG and a few grayscale JPEG files.  Workload: the tutorial's
(rotation 20, shifts 0.2, rescale 1/255, target 128x128, lanczos, batch 32).

Rows (images/s = images of an epoch / seconds of the epoch; median of epochs):
  keras 1 thread        keras_preprocessing flow_from_directory, next() loop
  keras 2 threads       two threads calling it[i], as fit(workers=2) does
  floor decode          Pillow decode only (no resize), 1 and 2 threads
  floor decode+resize   Pillow decode + Image.resize lanczos, 1 thread
  pyimgaug exact/fast   flow_from_directory(workers=W): W threads build
                        batches; each batch decodes on its share of the
                        thread budget (cores / batches in flight) and calls
                        the kernel with that many threads
  cache memory/disk     epoch 1 (all misses) and epochs 2+ (all hits)
The thread columns say, per row: threads that build batches, and the decode
and kernel threads one batch uses (pyimgaug's budget at 1 batch in flight).

Usage: python benchmarks/bench_pipeline.py [--images 320] [--epochs 3]
"""
import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

TUTORIAL = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2, rescale=1. / 255)
TARGET = (128, 128)
COLOR_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field",
                "immunohistochemistry", "retina", "colorwheel", "cat")
GRAY_PHOTOS = ("camera", "coins", "moon", "grass", "gravel", "brick", "clock")


def _photos():
    try:
        from skimage import data
    except ImportError:
        sys.exit("bench_pipeline needs scikit-image for its photographs (pip install scikit-image)")
    color, gray = [], []
    for name in COLOR_PHOTOS + GRAY_PHOTOS + ("stereo_motorcycle",):
        try:
            img = getattr(data, name)()
        except Exception:  # noqa: BLE001 - a picture that needs a download
            continue
        img = img[0] if isinstance(img, tuple) else img
        (gray if img.ndim == 2 else color).append(np.asarray(img, dtype=np.uint8)[..., :3])
    return color, gray


def make_dataset(root, n_images, n_classes=4, seed=0):
    """Writes the dataset; returns {'jpeg': n, 'png': n, 'gray': n}."""
    rng = np.random.default_rng(seed)
    color, gray = _photos()
    counts = {"jpeg": 0, "png": 0, "gray": 0}
    for i in range(n_images):
        kind = "gray" if i % 16 == 7 else ("png" if i % 16 == 11 else "jpeg")
        src = gray[i % len(gray)] if kind == "gray" and gray else color[i % len(color)]
        h, w = src.shape[:2]
        ch, cw = int(h * rng.uniform(0.55, 1.0)), int(w * rng.uniform(0.55, 1.0))
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        img = Image.fromarray(src[y:y + ch, x:x + cw])
        long_side = rng.uniform(300, 800)
        s = long_side / max(ch, cw)
        img = img.resize((max(1, round(cw * s)), max(1, round(ch * s))), Image.BICUBIC)
        d = os.path.join(root, "class_%d" % (i % n_classes))
        os.makedirs(d, exist_ok=True)
        if kind == "png":
            img.save(os.path.join(d, "img_%04d.png" % i))
        else:
            img.save(os.path.join(d, "img_%04d.jpg" % i), quality=int(rng.integers(85, 96)))
        counts[kind] += 1
    return counts


def _epoch_rate(run_epoch, n_images, epochs):
    rates = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        run_epoch()
        rates.append(n_images / (time.perf_counter() - t0))
    return statistics.median(rates), rates


def bench_keras(kimage, root, n, epochs, threads, batch_size):
    np.random.seed(0)
    it = kimage.ImageDataGenerator(**TUTORIAL).flow_from_directory(
        root, target_size=TARGET, interpolation="lanczos", batch_size=batch_size, seed=0)
    if threads == 1:
        def run():
            for _ in range(len(it)):
                next(it)
        return _epoch_rate(run, n, epochs)[0]
    pool = ThreadPoolExecutor(threads)

    def run_threads():
        # What Keras's OrderedEnqueuer does with fit(workers=2): it[i] on a pool.
        for _ in pool.map(it.__getitem__, range(len(it))):
            pass
        it.on_epoch_end()
    try:
        return _epoch_rate(run_threads, n, epochs)[0]
    finally:
        pool.shutdown()


def bench_floor(paths, epochs, threads, draft, resize):
    def one(p):
        with open(p, "rb") as f:
            img = Image.open(f)
            if draft and img.format == "JPEG":
                img.draft(img.mode, (TARGET[1], TARGET[0]))
            img = img.convert("RGB")
            if resize:
                img = img.resize((TARGET[1], TARGET[0]), Image.LANCZOS)
            img.load()
        return img
    pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def run():
        if pool is None:
            for p in paths:
                one(p)
        else:
            list(pool.map(one, paths))
    try:
        return _epoch_rate(run, len(paths), epochs)[0]
    finally:
        if pool is not None:
            pool.shutdown()


def _flow(pyimgaug, root, batch_size, **kw):
    return pyimgaug.ImageDataGenerator(**TUTORIAL).flow_from_directory(
        root, target_size=TARGET, interpolation="lanczos", batch_size=batch_size, seed=0, **kw)


def bench_pyimgaug(pyimgaug, root, n, epochs, batch_size, **kw):
    it = _flow(pyimgaug, root, batch_size, **kw)
    steps = len(it)
    next(it)  # warm-up: the first batch (pools start, prefetch starts)
    for _ in range(steps - 1):
        next(it)

    def run():
        for _ in range(steps):
            next(it)
    rate = _epoch_rate(run, n, epochs)[0]
    if it._prefetcher is not None:
        it._prefetcher.close()
    return rate


def bench_cache(pyimgaug, root, n, epochs, batch_size, cache):
    """(epoch 1 rate, median rate of epochs 2+) with workers=0 (epochs do not overlap)."""
    it = _flow(pyimgaug, root, batch_size, cache=cache)
    steps = len(it)

    def run():
        for _ in range(steps):
            next(it)
    first = _epoch_rate(run, n, 1)[0]
    later = _epoch_rate(run, n, max(epochs, 3))[0]
    return first, later, it.cache_info()


def time_split(pyimgaug, root, batch_size, epochs):
    """Seconds per epoch of the decode stage, the kernel call, and the whole batch (1 builder)."""
    from pyimgaug import decode as stage
    from pyimgaug.params import sample_params
    from pyimgaug.pipeline import augment_batch
    it = _flow(pyimgaug, root, batch_size)
    gen = it.image_data_generator
    it._set_index_array()
    batches = [it.index_array[i * batch_size:(i + 1) * batch_size] for i in range(len(it))]
    dec, ker, tot = [], [], []
    for _ in range(epochs):
        d = k = 0.0
        t_all = time.perf_counter()
        for b, idx in enumerate(batches):
            t0 = time.perf_counter()
            decoded = stage.load_stage([it.filepaths[j] for j in idx], "rgb", TARGET, "lanczos")
            t1 = time.perf_counter()
            params = sample_params(gen, len(idx), TARGET, it._batch_key(0, b))
            t2 = time.perf_counter()
            augment_batch(gen, [x for x, _ in decoded], params, TARGET, resize_to=TARGET,
                          resample="lanczos")
            t3 = time.perf_counter()
            d += t1 - t0
            k += t3 - t2
        tot.append(time.perf_counter() - t_all)
        dec.append(d)
        ker.append(k)
    return statistics.median(dec), statistics.median(ker), statistics.median(tot)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=320)
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs per row (median)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--dir", help="keep the dataset here (default: a temporary folder)")
    args = ap.parse_args(argv)

    import pyimgaug
    from pyimgaug import _core, budget
    try:
        from keras_preprocessing import image as kimage
    except ImportError:
        kimage = None
        print("keras_preprocessing is not installed: its rows are skipped")

    cores = budget.cores()
    print("python %s, numpy %s, Pillow %s, %s, cores=%d, kernel OpenMP=%s, OMP_NUM_THREADS=%s"
          % (platform.python_version(), np.__version__, Image.__version__, platform.machine(),
             cores, bool(_core._has_openmp), os.environ.get("OMP_NUM_THREADS", "unset")))
    tmp = None if args.dir else tempfile.mkdtemp(prefix="pyimgaug-bench-")
    base = args.dir or tmp
    root = os.path.join(base, "data")
    try:
        if not os.path.isdir(root):
            counts = make_dataset(root, args.images)
        else:
            counts = None
        paths = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs)
        n = len(paths)
        sizes = [Image.open(p).size for p in paths]
        print("dataset: %d files%s, long side %d-%d px, target %dx%d lanczos, batch %d"
              % (n, "" if counts is None else " (%(jpeg)d JPEG, %(png)d PNG, %(gray)d grayscale JPEG)"
                 % counts, min(max(s) for s in sizes), max(max(s) for s in sizes), TARGET[0],
                 TARGET[1], args.batch_size))
        bs, E = args.batch_size, args.epochs
        rows = []  # (label, builders, decode threads, kernel threads, images/s)

        def row(label, builders, dec, ker, rate):
            rows.append((label, builders, dec, ker, rate))
            print("  %-34s %8.0f images/s" % (label, rate), flush=True)

        kshare = lambda w: max(1, cores // w)  # noqa: E731 - budget at w batches in flight
        if kimage is not None:
            row("keras_preprocessing, 1 thread", 1, 1, 1, bench_keras(kimage, root, n, E, 1, bs))
            row("keras_preprocessing, 2 threads it[i]", 2, 1, 1, bench_keras(kimage, root, n, E, 2, bs))
        row("floor: Pillow decode", 1, 1, 0, bench_floor(paths, E, 1, False, False))
        row("floor: Pillow decode", 2, 2, 0, bench_floor(paths, E, 2, False, False))
        row("floor: Pillow decode, draft", 1, 1, 0, bench_floor(paths, E, 1, True, False))
        row("floor: Pillow decode, draft", 2, 2, 0, bench_floor(paths, E, 2, True, False))
        row("floor: decode+resize", 1, 1, 0, bench_floor(paths, E, 1, False, True))
        row("floor: decode+resize, draft", 1, 1, 0, bench_floor(paths, E, 1, True, True))
        for decode in ("exact", "fast"):
            for w in (1, 2):
                row("pyimgaug %s, workers=%d" % (decode, w), w, kshare(w), kshare(w),
                    bench_pyimgaug(pyimgaug, root, n, E, bs, decode=decode, workers=w))
        info = {}
        for name in ("memory", "disk"):
            cache = "memory" if name == "memory" else os.path.join(base, "cache-%d" % os.getpid())
            first, later, info[name] = bench_cache(pyimgaug, root, n, E, bs, cache)
            row("pyimgaug exact, %s cache, epoch 1" % name, 1, cores, cores, first)
            row("pyimgaug exact, %s cache, epoch 2+" % name, 1, 0, cores, later)
            if name == "disk":
                # A later run (new iterator) over the same cache directory.
                first2, _, _ = bench_cache(pyimgaug, root, n, 1, bs, cache)
                row("pyimgaug exact, disk cache, new run ep 1", 1, 0, cores, first2)
        row("pyimgaug exact, no cache, workers=0", 1, cores, cores,
            bench_pyimgaug(pyimgaug, root, n, E, bs, workers=0))
        d, k, t = time_split(pyimgaug, root, bs, E)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print("%-42s %8s %7s %7s %10s" % ("row", "builders", "decode", "kernel", "images/s"))
    print("%-42s %8s %7s %7s %10s" % ("", "threads", "thr/b", "thr/b", ""))
    for label, b, dec, ker, rate in rows:
        print("%-42s %8d %7s %7s %10.0f" % (label, b, dec or "-", ker or "-", rate))
    print("(median of %d epochs of %d images; thr/b: threads one batch uses for decoding and in "
          "the kernel; pyimgaug 'workers=W' is flow_from_directory(workers=W), W threads "
          "building batches ahead; cache rows build in the caller, workers=0)" % (E, n))
    print()
    print("time split, pyimgaug exact, 1 builder (median epoch): decode %.0f%%, kernel %.0f%%, "
          "rest %.0f%% (%.2f s)" % (100 * d / t, 100 * k / t, 100 * max(0.0, t - d - k) / t, t))
    r = {label: rate for label, _, _, _, rate in rows}
    if kimage is not None:
        k1 = r["keras_preprocessing, 1 thread"]
        k2 = r["keras_preprocessing, 2 threads it[i]"]
        print()
        print("ratios (target):")
        print("  exact workers=1 / keras 1 thread          %5.2fx (>= 2.3)" % (r["pyimgaug exact, workers=1"] / k1))
        print("  exact workers=2 / keras 2 threads         %5.2fx (>= 2.1)" % (r["pyimgaug exact, workers=2"] / k2))
        print("  fast  workers=1 / keras 1 thread          %5.2fx (>= 3.5)" % (r["pyimgaug fast, workers=1"] / k1))
        for name in ("memory", "disk"):
            print("  %-6s cache epoch 2+ / keras 1 thread    %5.1fx (>= 25)"
                  % (name, r["pyimgaug exact, %s cache, epoch 2+" % name] / k1))
    dec_rows = [x for x in rows if x[0].startswith("floor: Pillow decode")]
    fl = {(x[0].endswith("draft"), x[1]): x[4] for x in dec_rows}
    for decode, draft in (("exact", False), ("fast", True)):
        ours = r["pyimgaug %s, workers=1" % decode]
        print("  %-5s workers=1 / Pillow decode alone      %5.2f of 1 thread, %5.2f of 2 threads (>= 0.5)"
              % (decode, ours / fl[(draft, 1)], ours / fl[(draft, 2)]))
    no_cache = r["pyimgaug exact, no cache, workers=0"]
    for name in ("memory", "disk"):
        print("  %-6s cache epoch 1 / no cache (workers=0)  %5.2f (>= 0.90)"
              % (name, r["pyimgaug exact, %s cache, epoch 1" % name] / no_cache))
    print("cache info after the runs:", {k: {kk: v[kk] for kk in ("hits", "misses", "bytes")}
                                         for k, v in info.items()})


if __name__ == "__main__":
    main()
