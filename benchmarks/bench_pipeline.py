"""File pipeline benchmark: keras_preprocessing vs pyimgaug, images/second, one process.

Dataset: class-per-folder photographs (scikit-image's bundled pictures, random
crops rescaled so the long side is 300-800 px), saved as JPEG (quality 85-95),
with a few PNG and a few grayscale JPEG files.  Workload: the tutorial's
(rotation 20, shifts 0.2, rescale 1/255, target 128x128, lanczos, batch 32).

Rows (images/s = images of an epoch / seconds of the epoch).  The machine's
speed drifts, so rows take turns: each round runs one epoch of every row, and
each row reports its median over the rounds (ratios compare rows of the same
rounds).
  keras 1 thread        keras_preprocessing flow_from_directory, next() loop
  keras 2 threads       two threads calling it[i], as fit(workers=2) does
  floor decode          Pillow decode only (no resize), 1 and 2 threads
  floor decode+resize   Pillow decode + Image.resize lanczos, 1 thread
  pyimgaug exact/fast   flow_from_directory(workers=W): W threads build
                        batches; each batch decodes on its share of the
                        thread budget (cores / batches in flight) and calls
                        the kernel with that many threads
  pyimgaug default      flow_from_directory() without a workers argument
  cache memory/disk     epoch 1 (all misses) and epochs 2+ (all hits)
The thread columns say, per row: threads that build batches, and the decode
and kernel threads one batch uses (pyimgaug's budget at 1 batch in flight).

The time split runs one epoch of the exact and the fast path on 1 builder in
parts, in ms/image, each batch's parts back to back so that they meet the
same machine: Pillow's decode floor on the batch's files, our decode stage,
the kernel's resize alone and warp alone (on the resized images:
bit-identical, as the kernel's resize rounds to uint8 either way; checked),
the one resize+warp call that the batch makes, and the rest (parameter
draws, listing look-ups, labels, copies): the whole batch as next() builds it
minus decode and that call.  On one core the clock is the process's CPU time
(other processes on a shared machine do not inflate it).  It then says what the kernel call may cost for the targets (exact >=
0.75 of Pillow's decode-only rate, fast >= 0.9 of its draft decode rate).
`--split-only` runs just the split (--rounds times, medians).

`--cores 1,2,4` instead sweeps pinned core counts: each count runs in a child
process pinned to that many CPUs (os.sched_setaffinity), where rows take
turns as above: Pillow's decode-only floors on that many threads, and
pyimgaug's exact and fast paths (each with default workers, and workers=cores).  It
prints images/s, the ratios to the floors, and parallel efficiency (images/s
/ (cores x images/s on 1 core)).  Counts above the CPUs this process may use
are skipped with a note.

`--no-png` saves the PNG files as JPEG too, to see the pipeline on JPEG alone
(pyimgaug decodes plain PNG files itself, faster than Pillow: see
bench_decode_png.py).

Usage: python benchmarks/bench_pipeline.py [--images 320] [--rounds 5] [--cores 1,2] [--no-png]
"""
import json
import subprocess
import argparse
import contextlib
import io
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


def make_dataset(root, n_images, n_classes=4, seed=0, png=True):
    """Writes the dataset; returns {'jpeg': n, 'png': n, 'gray': n}.

    `png=False` saves the would-be PNG files as JPEG too (the same pictures),
    to measure the pipeline on JPEG alone."""
    rng = np.random.default_rng(seed)
    color, gray = _photos()
    counts = {"jpeg": 0, "png": 0, "gray": 0}
    for i in range(n_images):
        kind = "gray" if i % 16 == 7 else ("png" if i % 16 == 11 and png else "jpeg")
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


def _timed(fn, n_images):
    t0 = time.perf_counter()
    fn()
    return n_images / (time.perf_counter() - t0)


def keras_row(kimage, root, n, threads, batch_size):
    np.random.seed(0)
    it = kimage.ImageDataGenerator(**TUTORIAL).flow_from_directory(
        root, target_size=TARGET, interpolation="lanczos", batch_size=batch_size, seed=0)
    if threads == 1:
        def run():
            for _ in range(len(it)):
                next(it)
        return lambda: _timed(run, n)
    pool = ThreadPoolExecutor(threads)

    def run_threads():
        # What Keras's OrderedEnqueuer does with fit(workers=2): it[i] on a pool.
        for _ in pool.map(it.__getitem__, range(len(it))):
            pass
        it.on_epoch_end()
    return lambda: _timed(run_threads, n)


def floor_one(p, draft=False, resize=False):
    """Pillow alone on one file: decode (at a draft scale), convert to RGB (, resize)."""
    with open(p, "rb") as f:
        img = Image.open(f)
        if draft and img.format == "JPEG":
            img.draft(img.mode, (TARGET[1], TARGET[0]))
        img = img.convert("RGB")
        if resize:
            img = img.resize((TARGET[1], TARGET[0]), Image.LANCZOS)
        img.load()
    return img


def floor_row(paths, threads, draft, resize):
    def one(p):
        return floor_one(p, draft, resize)
    pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def run():
        if pool is None:
            for p in paths:
                one(p)
        else:
            list(pool.map(one, paths))
    return lambda: _timed(run, len(paths))


def _flow(pyimgaug, root, batch_size, **kw):
    with contextlib.redirect_stdout(io.StringIO()):
        return pyimgaug.ImageDataGenerator(**TUTORIAL).flow_from_directory(
            root, target_size=TARGET, interpolation="lanczos", batch_size=batch_size, seed=0, **kw)


def pyimgaug_row(pyimgaug, root, n, batch_size, **kw):
    it = _flow(pyimgaug, root, batch_size, **kw)
    steps = len(it)

    def run():
        # Three epochs back to back: the batch a worker is building when the
        # interval ends (work outside it) is amortised, as in training.
        for _ in range(3 * steps):
            next(it)

    def measure():
        rate = _timed(run, 3 * n)
        if it._prefetcher is not None:
            # Rows take turns: no batches built in the background meanwhile.
            it._prefetcher.close(wait=True)
        return rate
    return measure


def cache_row(pyimgaug, root, n, batch_size, cache_dir):
    """-> (epoch 1, median of epochs 2-3, a new run's epoch 1 or None); workers=0."""
    info = {}
    rounds = [0]

    def measure():
        # A new directory each round (deleting the last one here would time
        # the file system's clean-up too); all are deleted with the dataset.
        rounds[0] += 1
        path = None if cache_dir is None else "%s-%d" % (cache_dir, rounds[0])
        it = _flow(pyimgaug, root, batch_size, cache=path or "memory")
        steps = len(it)

        def run(i=it):
            for _ in range(steps):
                next(i)
        first = _timed(run, n)
        later = statistics.median([_timed(run, n) for _ in range(2)])
        info.update(it.cache_info())
        rerun = None
        if path is not None:
            again = _flow(pyimgaug, root, batch_size, cache=path)
            rerun = _timed(lambda: run(again), n)
        return first, later, rerun
    return measure, info


SPLIT_PARTS = ("floor", "decode", "resize", "warp", "kernel", "batch",
               "floor_draft", "decode_fast", "kernel_fast", "batch_fast")


def time_split(pyimgaug, root, batch_size):
    """Seconds of one epoch's parts on 1 builder: ({part: seconds}, clock name).

    Per batch, back to back (so that each part meets the same machine): Pillow's
    decode floor on the batch's files ("floor", as floor_row), our decode stage
    ("decode"), the kernel's resize alone and the warp alone on the resized
    images, the one resize+warp call that the batch makes ("kernel"), and the
    whole batch as next() builds it ("batch"); then the same for decode="fast".
    On one core the clock is the process's CPU time, which other processes on
    a shared machine do not inflate (everything runs on the calling thread);
    on more, wall time.
    """
    from pyimgaug.pipeline import budget
    from pyimgaug.pipeline import decode as stage
    from pyimgaug.pipeline.params import sample_params
    from pyimgaug.pipeline.batch import augment_batch
    it = _flow(pyimgaug, root, batch_size, workers=0)
    fast = _flow(pyimgaug, root, batch_size, workers=0, decode="fast")
    key = it._sample_key(0)
    gen = it.image_data_generator
    it._set_index_array()
    batches = [it.index_array[i * batch_size:(i + 1) * batch_size] for i in range(len(it))]
    t = dict.fromkeys(SPLIT_PARTS, 0.0)
    one_core = budget.cores() == 1
    clock = time.process_time if one_core else time.perf_counter

    def kernel_call(images, params):
        # What the iterator's batch does with decoded images (one call).
        return augment_batch(gen, images, params, TARGET, data_format=it.data_format,
                             resize_to=TARGET, resample="lanczos", work_dtype="float32",
                             out_dtype=it.dtype)

    for b, idx in enumerate(batches):
        paths = [it.filepaths[j] for j in idx]
        params = sample_params(gen, len(idx), TARGET, key, ids=idx)
        t0 = clock()
        for p in paths:
            floor_one(p)
        t1 = clock()
        decoded = stage.load_stage(paths, "rgb", TARGET, "lanczos")
        t2 = clock()
        small = pyimgaug.transform_batch([x for x, _ in decoded], resize_to=TARGET,
                                         resample="lanczos", dtype="uint8",
                                         num_threads=budget.kernel_threads())
        t3 = clock()
        warped = augment_batch(gen, small, params, TARGET)
        t4 = clock()
        one_call = kernel_call([x for x, _ in decoded], params)
        t5 = clock()
        for p in paths:
            floor_one(p, draft=True)
        t6 = clock()
        decoded = stage.load_stage(paths, "rgb", TARGET, "lanczos", decode="fast")
        t7 = clock()
        kernel_call([x for x, _ in decoded], params)
        t8 = clock()
        whole = it._build_batch(idx, key)
        t9 = clock()
        fast._build_batch(idx, key)
        t10 = clock()
        if b == 0:
            # The split is only meaningful if the parts make the same batch.
            assert np.array_equal(warped, one_call), "resize then warp != the one call"
            assert np.array_equal(whole[0], one_call), "the batch != its parts"
        for part, dt in zip(("floor", "decode", "resize", "warp", "kernel", "floor_draft",
                             "decode_fast", "kernel_fast", "batch", "batch_fast"),
                            (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6, t8 - t7,
                             t9 - t8, t10 - t9)):
            t[part] += dt
    return t, "CPU time (1 core)" if one_core else "wall time"


def print_split(split, n, cores, clock):
    """The time split in ms/image, and what the kernel call must cost for the targets."""
    ms = {k: 1e3 * v / n for k, v in split.items()}
    rest = ms["batch"] - ms["decode"] - ms["kernel"]
    rest_fast = ms["batch_fast"] - ms["decode_fast"] - ms["kernel_fast"]
    print("time split, 1 builder, %d cores, ms/image of %s (each batch's parts back to back; "
          "rest = the whole batch minus decode and the one kernel call):" % (cores, clock))
    print("  exact: batch %.3f = decode %.3f (%.0f%%) + kernel %.3f (%.0f%%; resize alone %.3f, "
          "warp alone %.3f) + rest %.3f (%.0f%%)"
          % (ms["batch"], ms["decode"], 100 * ms["decode"] / ms["batch"], ms["kernel"],
             100 * ms["kernel"] / ms["batch"], ms["resize"], ms["warp"], rest,
             100 * rest / ms["batch"]))
    print("  fast:  batch %.3f = decode %.3f (%.0f%%) + kernel %.3f (%.0f%%) + rest %.3f (%.0f%%)"
          % (ms["batch_fast"], ms["decode_fast"], 100 * ms["decode_fast"] / ms["batch_fast"],
             ms["kernel_fast"], 100 * ms["kernel_fast"] / ms["batch_fast"], rest_fast,
             100 * rest_fast / ms["batch_fast"]))
    print("  Pillow decode floor %.3f, draft floor %.3f; our decode stage / floor: exact %.2f, "
          "fast %.2f" % (ms["floor"], ms["floor_draft"], ms["decode"] / ms["floor"],
                         ms["decode_fast"] / ms["floor_draft"]))
    for name, floor, target, dec, ker, rst in (
            ("exact", ms["floor"], 0.75, ms["decode"], ms["kernel"], rest),
            ("fast", ms["floor_draft"], 0.9, ms["decode_fast"], ms["kernel_fast"], rest_fast)):
        budget_ms = floor / target - dec - rst
        print("  %s >= %.2f of its floor: batch <= %.3f / %.2f = %.3f ms, so the kernel call "
              "<= %.3f - %.3f - %.3f = %.3f ms (now %.3f: %s)"
              % (name, target, floor, target, floor / target, floor / target, dec, rst, budget_ms,
                 ker, "met" if ker <= budget_ms else "%.0f%% less" % (100 * (1 - budget_ms / ker))
                 if budget_ms > 0 else "out of reach by the kernel alone"))


def fast_decode_psnr(pyimgaug, root, batch_size):
    """PSNR (dB) of each image's decode="fast" stage output against "exact" (no augmentation)."""
    def stage(decode):
        with contextlib.redirect_stdout(io.StringIO()):
            it = pyimgaug.ImageDataGenerator().flow_from_directory(
                root, target_size=TARGET, interpolation="lanczos", batch_size=batch_size,
                shuffle=False, class_mode=None, decode=decode)
        return np.concatenate([it[i] for i in range(len(it))]).astype(np.float64), it
    exact, it = stage("exact")
    fast, _ = stage("fast")
    mse = ((exact - fast) ** 2).reshape(len(exact), -1).mean(axis=1)
    shrunk = mse > 0
    psnr = 10 * np.log10(255.0 ** 2 / mse[shrunk])
    return psnr, int((~shrunk).sum())


SWEEP_ROWS = ("floor: Pillow decode", "floor: Pillow decode, draft", "pyimgaug exact, default",
              "pyimgaug exact, workers=cores", "pyimgaug fast, default", "pyimgaug fast, workers=cores")
SWEEP_HEAD = ("decode", "draft", "exact dflt", "exact w=c", "fast dflt", "fast w=c")


def sweep_child(root, n_cores, rounds, batch_size):
    """Runs in a process pinned to `n_cores` CPUs: {row: median images/s} on stdout as JSON."""
    import pyimgaug
    from pyimgaug.pipeline import budget
    paths = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs)
    n = len(paths)
    specs = {
        SWEEP_ROWS[0]: floor_row(paths, n_cores, False, False),
        SWEEP_ROWS[1]: floor_row(paths, n_cores, True, False),
        SWEEP_ROWS[2]: pyimgaug_row(pyimgaug, root, n, batch_size),
        SWEEP_ROWS[3]: pyimgaug_row(pyimgaug, root, n, batch_size, workers=n_cores),
        SWEEP_ROWS[4]: pyimgaug_row(pyimgaug, root, n, batch_size, decode="fast"),
        SWEEP_ROWS[5]: pyimgaug_row(pyimgaug, root, n, batch_size, decode="fast", workers=n_cores),
    }
    rates = {k: [] for k in specs}
    for r in range(rounds + 1):  # round 0 warms up
        for k, measure in specs.items():
            rate = measure()
            if r:
                rates[k].append(rate)
    out = {k: statistics.median(v) for k, v in rates.items()}
    out["budget"] = budget.cores()
    print(json.dumps(out))


def core_sweep(counts, root, rounds, batch_size):
    allowed = sorted(os.sched_getaffinity(0))
    results = {}
    for c in counts:
        if c > len(allowed):
            print("cores=%d skipped: this process may use %d CPUs" % (c, len(allowed)))
            continue
        cpus = ",".join(map(str, allowed[:c]))
        # Pinned before Python starts, as `taskset -c` does: the kernel's OpenMP
        # runtime and pyimgaug's budget both read the affinity mask.
        cmd = ["taskset", "-c", cpus] if shutil.which("taskset") else []
        code = ("import os, sys; os.sched_setaffinity(0, {%s}); sys.path.insert(0, %r); "
                "import bench_pipeline as b; b.sweep_child(%r, %d, %d, %d)"
                % (cpus, os.path.dirname(os.path.abspath(__file__)), root, c, rounds, batch_size))
        r = subprocess.run(cmd + [sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=tempfile.gettempdir())
        if r.returncode != 0:
            sys.exit("cores=%d failed:\n%s" % (c, r.stderr[-3000:]))
        results[c] = json.loads(r.stdout.strip().splitlines()[-1])
        print("cores=%d (CPUs %s) done" % (c, cpus), flush=True)
    if not results:
        return
    print()
    head = ("cores",) + SWEEP_HEAD + ("exact/decode", "fast/draft", "efficiency")
    print("%-6s  " % head[0] + "  ".join("%12s" % h for h in head[1:]))
    base = min(results)
    best = lambda res: max(res[SWEEP_ROWS[2]], res[SWEEP_ROWS[3]])  # noqa: E731
    best_fast = lambda res: max(res[SWEEP_ROWS[4]], res[SWEEP_ROWS[5]])  # noqa: E731
    last = None
    for c in sorted(results):
        res = results[c]
        eff = best(res) / (c / base * best(results[base]))
        print("%-6d  " % c + "  ".join("%12.0f" % res[k] for k in SWEEP_ROWS)
              + "  %12.2f  %12.2f  %12.2f" % (best(res) / res[SWEEP_ROWS[0]],
                                             best_fast(res) / res[SWEEP_ROWS[1]], eff))
        if last is not None and best(res) < best(results[last]):
            print("  NOTE: exact images/s fell from %d to %d cores" % (last, c))
        last = c
    print("images/s; columns: %s" % "; ".join("%s = %s" % hk for hk in zip(SWEEP_HEAD, SWEEP_ROWS)))
    print("exact/decode: best exact row / Pillow decode-only on as many threads (target >= 0.75); "
          "fast/draft: best fast row / draft decode (>= 0.9); efficiency: best exact row / (cores/%d x its "
          "%d-core rate); median of %d rounds; load average %s"
          % (base, base, rounds, " ".join("%.2f" % v for v in os.getloadavg())))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=320)
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds (median per row)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--dir", help="keep the dataset here (default: a temporary folder)")
    ap.add_argument("--cores", help="sweep these pinned core counts instead, e.g. 1,2,4")
    ap.add_argument("--split-only", action="store_true", help="run only the time split")
    ap.add_argument("--no-png", action="store_true",
                    help="make the dataset's PNG files JPEG too (the pipeline on JPEG alone)")
    args = ap.parse_args(argv)
    if args.cores:
        try:
            counts = [int(c) for c in args.cores.split(",")]
        except ValueError:
            ap.error("--cores takes comma-separated integers; got %r" % args.cores)
        if not counts or min(counts) < 1:
            ap.error("--cores counts must be >= 1; got %r" % args.cores)
        tmp = None if args.dir else tempfile.mkdtemp(prefix="pyimgaug-bench-")
        root = os.path.join(args.dir or tmp, "data")
        try:
            if not os.path.isdir(root):
                make_dataset(root, args.images, png=not args.no_png)
            print("core sweep on %d files, %dx%d lanczos, batch %d; %d CPUs usable here"
                  % (sum(len(f) for _, _, f in os.walk(root)), TARGET[0], TARGET[1],
                     args.batch_size, len(os.sched_getaffinity(0))))
            core_sweep(sorted(set(counts)), root, args.rounds, args.batch_size)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        return

    import pyimgaug
    from pyimgaug import _core
    from pyimgaug.pipeline import budget
    try:
        from keras_preprocessing import image as kimage
    except ImportError:
        kimage = None
        print("keras_preprocessing is not installed: its rows are skipped")

    cores = budget.cores()
    print("python %s, numpy %s, Pillow %s, %s, cores=%d, kernel OpenMP=%s, OMP_NUM_THREADS=%s, "
          "load average %s" % (platform.python_version(), np.__version__, Image.__version__,
                               platform.machine(), cores, bool(_core._has_openmp),
                               os.environ.get("OMP_NUM_THREADS", "unset"),
                               " ".join("%.2f" % v for v in os.getloadavg())))
    tmp = None if args.dir else tempfile.mkdtemp(prefix="pyimgaug-bench-")
    base = args.dir or tmp
    root = os.path.join(base, "data")
    try:
        if not os.path.isdir(root):
            counts = make_dataset(root, args.images, png=not args.no_png)
        else:
            counts = None
        paths = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs)
        n = len(paths)
        sizes = [Image.open(p).size for p in paths]
        print("dataset: %d files%s, long side %d-%d px, target %dx%d lanczos, batch %d"
              % (n, "" if counts is None else " (%(jpeg)d JPEG, %(png)d PNG, %(gray)d grayscale JPEG)"
                 % counts, min(max(s) for s in sizes), max(max(s) for s in sizes), TARGET[0],
                 TARGET[1], args.batch_size))
        bs, R = args.batch_size, args.rounds
        if args.split_only:
            time_split(pyimgaug, root, bs)  # warms up (pools, page cache); not counted
            splits = [time_split(pyimgaug, root, bs) for _ in range(R)]
            print_split({k: statistics.median(sp[k] for sp, _ in splits) for k in SPLIT_PARTS}, n,
                        cores, splits[0][1])
            print("(median of %d rounds; load average %s)"
                  % (R, " ".join("%.2f" % v for v in os.getloadavg())))
            return
        kshare = lambda w: max(1, cores // w)  # noqa: E731 - budget at w batches in flight
        specs = []  # (label, builders, decode thr/batch, kernel thr/batch, measure)
        if kimage is not None:
            specs.append(("keras_preprocessing, 1 thread", 1, 1, 1, keras_row(kimage, root, n, 1, bs)))
            specs.append(("keras_preprocessing, 2 threads it[i]", 2, 1, 1,
                          keras_row(kimage, root, n, 2, bs)))
        for draft in (False, True):
            for t in (1, 2):
                specs.append(("floor: Pillow decode%s, %d thr" % (", draft" if draft else "", t),
                              t, t, 0, floor_row(paths, t, draft, False)))
            specs.append(("floor: decode+resize%s" % (", draft" if draft else ""), 1, 1, 0,
                          floor_row(paths, 1, draft, True)))
        for decode in ("exact", "fast"):
            for w in (1, 2):
                specs.append(("pyimgaug %s, workers=%d" % (decode, w), w, kshare(w), kshare(w),
                              pyimgaug_row(pyimgaug, root, n, bs, decode=decode, workers=w)))
        specs.append(("pyimgaug exact, workers=0 (caller)", 1, cores, cores,
                      pyimgaug_row(pyimgaug, root, n, bs, workers=0)))
        specs.append(("pyimgaug exact, default (no workers arg)", 1, cores, cores,
                      pyimgaug_row(pyimgaug, root, n, bs)))
        mem_row, mem_info = cache_row(pyimgaug, root, n, bs, None)
        disk_row, disk_info = cache_row(pyimgaug, root, n, bs, os.path.join(base, "cache"))

        results = {spec[0]: [] for spec in specs}
        cache_results = {"memory": [], "disk": []}
        splits = []
        for r in range(R + 1):  # round 0 warms up (pools, page cache) and is not counted
            for label, _, _, _, measure in specs:
                rate = measure()
                if r:
                    results[label].append(rate)
            for name, measure in (("memory", mem_row), ("disk", disk_row)):
                out = measure()
                if r:
                    cache_results[name].append(out)
            if r:
                splits.append(time_split(pyimgaug, root, bs))
            print("round %d/%d done" % (r, R), flush=True)

        rows = [(label, b, d, k, statistics.median(results[label])) for label, b, d, k, _ in specs]
        for name in ("memory", "disk"):
            res = cache_results[name]
            rows.append(("pyimgaug exact, %s cache, epoch 1" % name, 1, cores, cores,
                         statistics.median([x[0] for x in res])))
            rows.append(("pyimgaug exact, %s cache, epoch 2+" % name, 1, 0, cores,
                         statistics.median([x[1] for x in res])))
            if name == "disk":
                rows.append(("pyimgaug exact, disk cache, next run ep 1", 1, 0, cores,
                             statistics.median([x[2] for x in res])))
        info = {"memory": mem_info, "disk": disk_info}
        split = {k: statistics.median(sp[k] for sp, _ in splits) for k in SPLIT_PARTS}
        psnr, same = fast_decode_psnr(pyimgaug, root, bs)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            for name in os.listdir(base):
                if name.startswith("cache-"):
                    shutil.rmtree(os.path.join(base, name), ignore_errors=True)

    print()
    print("%-42s %8s %7s %7s %10s" % ("row", "builders", "decode", "kernel", "images/s"))
    print("%-42s %8s %7s %7s %10s" % ("", "threads", "thr/b", "thr/b", ""))
    for label, b, dec, ker, rate in rows:
        print("%-42s %8d %7s %7s %10.0f" % (label, b, dec or "-", ker or "-", rate))
    print("(median of %d rounds of %d images per epoch; rows take turns, one measurement per row "
          "per round: 1 epoch, or 3 back to back for 'workers=' rows; cache rows: epoch 1 of a new "
          "cache, then epochs 2-3; thr/b: threads one batch uses to decode and in the kernel at "
          "that many builders; 'workers=W': flow_from_directory(workers=W), W threads building "
          "batches ahead, 0 = the caller builds)" % (R, n))
    print()
    print_split(split, n, cores, splits[0][1])
    r = {label: rate for label, _, _, _, rate in rows}
    print("fast decode vs exact, unaugmented %dx%d lanczos: %d images changed, PSNR median %.1f dB, "
          "mean %.1f dB, min %.1f dB; %d images identical (PNG, or JPEG under twice the target)"
          % (TARGET[0], TARGET[1], len(psnr), np.median(psnr), psnr.mean(), psnr.min(), same))
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
    fl = {(draft, t): r["floor: Pillow decode%s, %d thr" % (", draft" if draft else "", t)]
          for draft in (False, True) for t in (1, 2)}
    for decode, draft in (("exact", False), ("fast", True)):
        ours = r["pyimgaug %s, workers=1" % decode]
        print("  %-5s workers=1 / Pillow decode alone      %5.2f of 1 thread, %5.2f of 2 threads (>= 0.5)"
              % (decode, ours / fl[(draft, 1)], ours / fl[(draft, 2)]))
    best = max(r["pyimgaug exact, workers=%d" % w] for w in (1, 2))
    best = max(best, r["pyimgaug exact, workers=0 (caller)"])
    print("  exact default / best of workers=0,1,2      %5.2f (>= 0.90)"
          % (r["pyimgaug exact, default (no workers arg)"] / best))
    no_cache = r["pyimgaug exact, workers=0 (caller)"]
    for name in ("memory", "disk"):
        print("  %-6s cache epoch 1 / no cache (both workers=0) %5.2f (>= 0.90)"
              % (name, r["pyimgaug exact, %s cache, epoch 1" % name] / no_cache))
    print("cache info after the runs:", {k: {kk: v[kk] for kk in ("hits", "misses", "bytes")}
                                         for k, v in info.items()})


if __name__ == "__main__":
    main()
