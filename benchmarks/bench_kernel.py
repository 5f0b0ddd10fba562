"""Benchmark of ``pyimgaug.transform_batch`` against the paths it replaces.

Workload A -- the seed tutorial's augmentation: a 32 x 128 x 128 x 3 uint8
batch, random rotation +-20 degrees, shifts +-20 %, fill "nearest", order 1,
rescale 1/255 to float32. Compared paths, all on the same inputs and matrices:

* scipy: what Keras does (keras_preprocessing's ``apply_affine_transform`` on
  the float32 image, i.e. ``scipy.ndimage.affine_transform`` per image per
  channel, then ``x *= rescale``);
* OpenCV (optional): a per-image ``cv2.warpAffine`` loop (INTER_LINEAR,
  WARP_INVERSE_MAP, BORDER_REPLICATE) on the uint8 image, then the rescale.
  ``cv2.setNumThreads(1)`` is used for the 1-thread comparison;
* ``transform_batch`` with num_threads=1, 2 and os.cpu_count().

Workload B -- stage 1 alone: 32 photographs of 300-800 px (scikit-image's
sample images, resized by Pillow to assorted sizes) down to 128 x 128 with
every filter: a Pillow ``Image.resize`` loop (PIL images made beforehand,
results stacked into one array) against ``transform_batch(list_of_arrays,
resize_to=(128, 128), resample=..., dtype="uint8")`` on one thread (Lanczos
also on more), with how many samples differ from Pillow (must be 0). With
``--pillow-simd-python PATH`` the same loop is also timed under Pillow-SIMD
(which replaces PIL, so it runs in that interpreter, in a worker process fed
the same images; its results are within +-1 of Pillow, not exact).

Workload C -- spline interpolation: workload A's batch and matrices with
``order=3`` (Keras's ``interpolation_order=3``): the scipy path (the same
keras_preprocessing ``apply_affine_transform`` per image, scipy's spline
prefilter and evaluation per channel, then the rescale) against
``transform_batch(order=3)``. Before timing, the accuracy of every order 0-5 in
every fill mode is measured against ``scipy.ndimage.affine_transform`` (float64
images of the batch, float64 output, prefilter=True): the largest difference on
the 0..255 scale and how many samples are bit-identical.

Every result is checked against the reference before anything is timed. The
paths are timed with ``time.perf_counter`` in three interleaved blocks (each
path warmed up, then timed back to back, in each block); the table shows
medians in ms per batch.

Usage: python benchmarks/bench_kernel.py [--repeat N] [--quick] [--only A,B,C]
                                        [--pillow-simd-python PATH]
For one-core figures pin the run: taskset -c 0 python benchmarks/bench_kernel.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

import pyimgaug
from pyimgaug import _core
from pyimgaug.cli.build_info import cpu_name

try:  # optional
    import cv2
except ImportError:  # pragma: no cover - depends on the environment
    cv2 = None

BATCH, SIZE, CHANNELS = 32, 128, 3
ROTATION_DEG, SHIFT_FRACTION, RESCALE = 20.0, 0.2, 1.0 / 255.0
RESIZE_TARGET = (128, 128)

TARGETS = {
    "kernel_vs_opencv_1t": 2.0,
    "kernel_vs_scipy_1t": 12.0,
    "resize_vs_pillow_1t": 3.0,
    "resize_vs_simd_1t": 1.0,
    "two_threads_vs_one": 1.7,
    "order3_vs_scipy_1t": 10.0,
}
SPLINE_ORDER = 3
# Orders 2-5 reproduce scipy's doubles; the issue allows 1e-3 on a 0..255 scale.
SPLINE_ACCURACY_BOUND = 1e-3
ACCURACY_IMAGES = 8


# --------------------------------------------------------------------------- #
# environment
# --------------------------------------------------------------------------- #
def resize_loops() -> str:
    """Which copy of the kernel's resize loops this process runs."""
    if _core.cpu_has_avx512_vnni():
        if _core.cpu_prefers_512bit():
            return ("AVX-512 VNNI, 512-bit registers (PYIMGAUG_AVX512_NARROW=1 for 256-bit ones, "
                    "PYIMGAUG_DISABLE_AVX512=1 for the AVX2 copy)")
        return "AVX-512 VNNI, 256-bit registers (set PYIMGAUG_DISABLE_AVX512=1 for the AVX2 copy)"
    if _core.cpu_has_avx2():
        return "AVX2"
    return "baseline"


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class OtherLoad:
    """CPU time used by OTHER processes while the benchmark runs (from
    /proc/stat minus our own os.times()), as a fraction of all usable cores.
    Concurrent load makes multi-thread timings meaningless (OpenMP threads wait
    for descheduled siblings), so the report prints it next to the results."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                fields = [float(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        busy = (sum(fields[:3]) + sum(fields[5:8])) / tick  # user nice system irq softirq steal
        t = os.times()
        return busy, t.user + t.system, time.perf_counter()

    def fraction(self, cpus):
        end = self._sample()
        if self.start is None or end is None:
            return None
        busy = end[0] - self.start[0]
        own = end[1] - self.start[1]
        wall = end[2] - self.start[2]
        return max(0.0, (busy - own) / (wall * cpus))


# --------------------------------------------------------------------------- #
# timing
# --------------------------------------------------------------------------- #
def time_interleaved_blocks(paths: dict, repeat: int, warmup: int, blocks: int = 3) -> dict:
    """Time every path in ``blocks`` interleaved blocks: in each block, each path
    gets ``warmup`` untimed calls and then its share of the ``repeat`` timed calls
    back to back. Consecutive calls of one path measure it with its own data
    in cache (as in a training loop); interleaving the blocks spreads slow drift
    (frequency, other load) over all paths. A path timed in another process (an
    object with ``timed_block(warmup, n)`` returning its n timings) takes its turn
    in each block the same way. Returns {name: [seconds, ...]}."""
    times = {name: [] for name in paths}
    per_block = [repeat // blocks + (1 if b < repeat % blocks else 0) for b in range(blocks)]
    for n in per_block:
        for name, fn in paths.items():
            if hasattr(fn, "timed_block"):
                times[name].extend(fn.timed_block(warmup, n))
                continue
            for _ in range(warmup):
                fn()
            for _ in range(n):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return times


def ms(seconds) -> float:
    return 1000.0 * statistics.median(seconds)


# --------------------------------------------------------------------------- #
# workload A: Keras-style augmentation
# --------------------------------------------------------------------------- #
def keras_matrix(theta_deg: float, tx: float, ty: float, h: int, w: int) -> np.ndarray:
    """The output->input (row, col) matrix keras_preprocessing builds in
    apply_affine_transform (rotation @ shift, offset to the centre)."""
    theta = np.deg2rad(theta_deg)
    rotation = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    m = rotation @ shift
    o_x, o_y = float(h) / 2 + 0.5, float(w) / 2 + 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ m @ reset


def photo_batch(rng, n, h, w):
    """n natural RGB images of h x w (scikit-image samples, random crops resized
    by Pillow) -- realistic content rather than noise."""
    from PIL import Image

    photos = sample_photos()
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        p = photos[i % len(photos)]
        y0 = int(rng.integers(0, p.shape[0] // 4))
        x0 = int(rng.integers(0, p.shape[1] // 4))
        crop = p[y0:y0 + p.shape[0] * 3 // 4, x0:x0 + p.shape[1] * 3 // 4]
        out[i] = np.asarray(Image.fromarray(crop).resize((w, h), Image.Resampling.BILINEAR))
    return out


def sample_photos():
    import skimage.data as data

    photos = []
    for name in ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "retina"):
        try:
            img = getattr(data, name)()
        except Exception:  # some samples need a download; skip those
            continue
        if img.ndim == 3 and img.shape[2] >= 3:
            photos.append(np.ascontiguousarray(img[:, :, :3]))
    if not photos:
        raise SystemExit("no scikit-image sample photographs available")
    return photos


def keras_apply_affine_transform():
    """keras_preprocessing's apply_affine_transform, or the same computation
    written out (per channel scipy.ndimage.affine_transform of the float image)
    when keras_preprocessing is not installed."""
    try:
        from keras_preprocessing.image import apply_affine_transform

        return apply_affine_transform, "keras_preprocessing.apply_affine_transform"
    except ImportError:
        from scipy import ndimage

        def apply_affine_transform(x, theta, tx, ty, row_axis, col_axis, channel_axis, fill_mode, order):
            m = keras_matrix(theta, tx, ty, x.shape[row_axis], x.shape[col_axis])
            chans = [
                ndimage.affine_transform(x[:, :, c], m[:2, :2], m[:2, 2], order=order, mode=fill_mode, cval=0.0)
                for c in range(x.shape[channel_axis])
            ]
            return np.stack(chans, axis=channel_axis)

        return apply_affine_transform, "scipy.ndimage.affine_transform per channel (keras_preprocessing absent)"


def seed_batch():
    """Workload A's batch: images, Keras parameters and the matching matrices."""
    rng = np.random.default_rng(0)
    images = photo_batch(rng, BATCH, SIZE, SIZE)
    params = [
        (
            float(rng.uniform(-ROTATION_DEG, ROTATION_DEG)),
            float(rng.uniform(-SHIFT_FRACTION, SHIFT_FRACTION) * SIZE),  # tx: rows (height_shift_range)
            float(rng.uniform(-SHIFT_FRACTION, SHIFT_FRACTION) * SIZE),  # ty: cols (width_shift_range)
        )
        for _ in range(BATCH)
    ]
    mats = np.stack([keras_matrix(t, tx, ty, SIZE, SIZE) for t, tx, ty in params])
    return images, params, mats


def keras_scipy_path(apply_affine_transform, images, params, order):
    """What Keras does per batch: apply_affine_transform per float32 image, then x *= rescale."""

    def scipy_path():
        out = np.empty((BATCH, SIZE, SIZE, CHANNELS), np.float32)
        for i, (t, tx, ty) in enumerate(params):
            x = images[i].astype(np.float32)
            x = apply_affine_transform(
                x, theta=t, tx=tx, ty=ty, row_axis=0, col_axis=1, channel_axis=2, fill_mode="nearest", order=order
            )
            x *= RESCALE
            out[i] = x
        return out

    return scipy_path


def workload_augment(args, cpus):
    apply_affine_transform, scipy_label = keras_apply_affine_transform()
    images, params, mats = seed_batch()
    scipy_path = keras_scipy_path(apply_affine_transform, images, params, 1)

    paths = {"scipy": scipy_path}

    if cv2 is not None:
        # dst (x=col, y=row) -> src (x, y): swap the (row, col) matrix to x/y order.
        mats_xy = np.stack([[[m[1, 1], m[1, 0], m[1, 2]], [m[0, 1], m[0, 0], m[0, 2]]] for m in mats])
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP

        def opencv_path():
            out = np.empty((BATCH, SIZE, SIZE, CHANNELS), np.float32)
            for i in range(BATCH):
                w = cv2.warpAffine(images[i], mats_xy[i], (SIZE, SIZE), flags=flags, borderMode=cv2.BORDER_REPLICATE)
                np.multiply(w, np.float32(RESCALE), out=out[i], dtype=np.float32)
            return out

        paths["opencv"] = opencv_path

    thread_counts = sorted({1, 2, cpus})
    for t in thread_counts:
        paths[f"kernel_{t}t"] = (
            lambda t=t: pyimgaug.transform_batch(
                images, mats, order=1, fill_mode="nearest", scale=RESCALE, dtype="float32", num_threads=t
            )
        )

    # ---- correctness before timing
    ref = scipy_path()
    k1 = paths["kernel_1t"]()
    diffs = {"kernel_1t": float(np.abs(k1.astype(np.float64) - ref).max())}
    assert diffs["kernel_1t"] <= 0.01 / 255 + 1e-7, f"kernel differs from the scipy path by {diffs['kernel_1t']}"
    for t in thread_counts[1:]:
        kt = paths[f"kernel_{t}t"]()
        assert kt.tobytes() == k1.tobytes(), f"num_threads={t} is not bit-identical to num_threads=1"
        diffs[f"kernel_{t}t"] = diffs["kernel_1t"]
    if cv2 is not None:
        diffs["opencv"] = float(np.abs(paths["opencv"]().astype(np.float64) - ref).max())
    diffs["scipy"] = 0.0

    if cv2 is not None:
        cv2_threads_before = cv2.getNumThreads()
        cv2.setNumThreads(1)
    try:
        times = time_interleaved_blocks(paths, args.repeat, args.warmup)
    finally:
        if cv2 is not None:
            cv2.setNumThreads(cv2_threads_before)
    return times, diffs, thread_counts, scipy_label


# --------------------------------------------------------------------------- #
# workload B: resize of photographs, every filter
# --------------------------------------------------------------------------- #
RESIZE_FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")


class PillowSimdWorker:
    """Pillow-SIMD's ``Image.resize`` timed in its own interpreter
    (pillow_simd_worker.py) on the same source images, one filter at a time."""

    def __init__(self, python, sources, tmpdir):
        import json
        import subprocess

        self._json = json
        path = os.path.join(tmpdir, "sources.npz")
        np.savez(path, *sources)
        worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pillow_simd_worker.py")
        # Inherits this process's CPU affinity, so `taskset` pins both.
        self.proc = subprocess.Popen([python, worker, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        hello = self.proc.stdout.readline()
        if not hello:
            raise SystemExit(f"--pillow-simd-python {python}: the worker did not start (see its error above)")
        self.versions = json.loads(hello)
        self.tmpdir = tmpdir

    def request(self, flt, size_wh, warmup, repeat, save=None):
        self.proc.stdin.write(self._json.dumps({"filter": flt, "size_wh": list(size_wh), "warmup": warmup,
                                                "repeat": repeat, "save": save}) + "\n")
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the Pillow-SIMD worker exited")
        return self._json.loads(line)["seconds"]

    def result(self, flt, size_wh):
        path = os.path.join(self.tmpdir, f"{flt}.npy")
        self.request(flt, size_wh, 0, 0, save=path)
        return np.load(path)

    def path(self, flt, size_wh):
        worker = self

        class Remote:
            def timed_block(self, warmup, n):
                return worker.request(flt, size_wh, warmup, n)

        return Remote()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


RESIZE_REPEAT, RESIZE_BLOCKS = 21, 7  # section B: at least 21 timed calls per path, in 7 blocks


def resize_sources():
    """32 photographs of 300-800 px a side (scikit-image samples, resized by Pillow)."""
    from PIL import Image

    rng = np.random.default_rng(1)
    photos = sample_photos()
    sources = []
    for i in range(BATCH):
        p = photos[i % len(photos)]
        h, w = (int(v) for v in rng.integers(300, 801, size=2))
        sources.append(np.asarray(Image.fromarray(p).resize((w, h), Image.Resampling.LANCZOS)))
    return sources


def workload_resize(args, cpus, simd):
    """Per filter: Pillow, Pillow-SIMD (when `simd` is a worker) and the kernel on
    one thread (Lanczos also on more), each result checked against Pillow first,
    all paths of a filter timed in the same interleaved blocks."""
    from PIL import Image

    sources = resize_sources()
    pil_sources = [Image.fromarray(s) for s in sources]
    size_wh = RESIZE_TARGET[::-1]
    rows = {}
    for flt in RESIZE_FILTERS:
        pil_filter = getattr(Image.Resampling, flt.upper())

        def pillow_path(pil_filter=pil_filter):
            return np.stack([np.asarray(im.resize(size_wh, pil_filter)) for im in pil_sources])

        thread_counts = sorted({1, 2, cpus}) if flt == "lanczos" else [1]
        paths = {"pillow": pillow_path}
        if simd is not None:
            paths["simd"] = simd.path(flt, size_wh)
        for t in thread_counts:
            paths[f"kernel_{t}t"] = (
                lambda t=t, flt=flt: pyimgaug.transform_batch(
                    sources, resize_to=RESIZE_TARGET, resample=flt, dtype="uint8", num_threads=t
                )
            )

        def kernel_first_call(flt=flt):
            # The kernel keeps the coefficient tables of the sizes it has seen (a training
            # loop sees the same sizes every epoch); this path forgets them before each
            # call, so every image pays for its tables as Pillow does on every call.
            _core._clear_resize_coefficient_cache()
            return pyimgaug.transform_batch(sources, resize_to=RESIZE_TARGET, resample=flt, dtype="uint8",
                                            num_threads=1)

        paths["kernel_first"] = kernel_first_call
        ref = pillow_path().astype(np.int64)
        k1 = paths["kernel_1t"]()
        d = np.abs(k1.astype(np.int64) - ref)
        row = {"kernel_differ": int((d > 0).sum()), "kernel_maxdiff": int(d.max()), "samples": ref.size,
               "threads": thread_counts}
        for t in thread_counts[1:]:
            assert paths[f"kernel_{t}t"]().tobytes() == k1.tobytes(), f"{flt}: num_threads={t} differs from 1"
        if simd is not None:
            ds = np.abs(simd.result(flt, size_wh).astype(np.int64) - ref)
            row["simd_differ"], row["simd_maxdiff"] = int((ds > 0).sum()), int(ds.max())
        # Resizes of 5-20 ms against another process's: more, shorter blocks, so that
        # both meet the same spells of a shared machine's slowdowns.
        row["times"] = time_interleaved_blocks(paths, max(args.repeat, RESIZE_REPEAT), 1, blocks=RESIZE_BLOCKS)
        rows[flt] = row
    heights = [s.shape[0] for s in sources]
    widths = [s.shape[1] for s in sources]
    return rows, ((min(heights), max(heights)), (min(widths), max(widths)))


# --------------------------------------------------------------------------- #
# workload C: spline orders
# --------------------------------------------------------------------------- #
def spline_accuracy(images, mats):
    """{(order, mode): (max |diff| on 0..255, bit-identical samples, samples)} of
    transform_batch against scipy.ndimage.affine_transform on float64 images."""
    from scipy import ndimage

    x = images[:ACCURACY_IMAGES].astype(np.float64)
    m = mats[:ACCURACY_IMAGES]
    cval = 100.5
    table = {}
    for order in range(6):
        for mode in ("constant", "nearest", "reflect", "wrap"):
            got = pyimgaug.transform_batch(x, m, order=order, fill_mode=mode, cval=cval, dtype="float64",
                                           num_threads=1)
            ref = np.empty_like(got)
            for i in range(len(x)):
                for c in range(CHANNELS):
                    ref[i, :, :, c] = ndimage.affine_transform(x[i, :, :, c], m[i, :2, :2], offset=m[i, :2, 2],
                                                               order=order, mode=mode, cval=cval)
            d = np.abs(got - ref)
            table[(order, mode)] = (float(d.max()), int((got == ref).sum()), int(got.size))
    return table


def workload_spline(args, cpus):
    apply_affine_transform, scipy_label = keras_apply_affine_transform()
    images, params, mats = seed_batch()
    accuracy = spline_accuracy(images, mats)
    worst = max(v[0] for v in accuracy.values())
    assert worst <= SPLINE_ACCURACY_BOUND, f"spline warp differs from scipy by {worst} on a 0..255 scale"

    scipy_path = keras_scipy_path(apply_affine_transform, images, params, SPLINE_ORDER)
    paths = {"scipy": scipy_path}
    thread_counts = sorted({1, 2, cpus})
    for t in thread_counts:
        paths[f"kernel_{t}t"] = (
            lambda t=t: pyimgaug.transform_batch(
                images, mats, order=SPLINE_ORDER, fill_mode="nearest", scale=RESCALE, dtype="float32", num_threads=t
            )
        )
    # ---- correctness before timing: the Keras path stores float32 and then
    # rescales in float32; the kernel rescales the double and stores float32.
    ref = scipy_path()
    k1 = paths["kernel_1t"]()
    diffs = {"scipy": 0.0, "kernel_1t": float(np.abs(k1.astype(np.float64) - ref).max())}
    bound = 4 * float(np.spacing(np.float32(2.0)))  # two float32 roundings of values up to ~1.2
    assert diffs["kernel_1t"] <= bound, f"order {SPLINE_ORDER}: kernel differs from the scipy path by {diffs['kernel_1t']}"
    for t in thread_counts[1:]:
        kt = paths[f"kernel_{t}t"]()
        assert kt.tobytes() == k1.tobytes(), f"num_threads={t} is not bit-identical to num_threads=1"
        diffs[f"kernel_{t}t"] = diffs["kernel_1t"]
    times = time_interleaved_blocks(paths, args.repeat, args.warmup)
    return times, diffs, thread_counts, scipy_label, accuracy, bound


# --------------------------------------------------------------------------- #
# report
# --------------------------------------------------------------------------- #
def verdict(value, target):
    return f"{value:6.2f}x  (target >= {target}x: {'met' if value >= target else 'NOT met'})"


def report_augment(args, cpus):
    times, diffs, tcounts, scipy_label = workload_augment(args, cpus)
    print()
    print(f"A. Augment {BATCH} x {SIZE} x {SIZE} x {CHANNELS} uint8: rotation +-{ROTATION_DEG:g} deg, "
          f"shift +-{SHIFT_FRACTION:.0%}, fill nearest, order 1, rescale 1/255 -> float32")
    scipy_ms = ms(times["scipy"])
    cv_ms = ms(times["opencv"]) if "opencv" in times else None
    rows = [("scipy per image/channel + rescale (Keras)", "1", "scipy")]
    if cv_ms is not None:
        rows.append(("cv2.warpAffine loop + rescale", "1 (cv2.setNumThreads(1))", "opencv"))
    rows += [("transform_batch", str(t), f"kernel_{t}t") for t in tcounts]
    print(f"  {'path':44s} {'threads':>26s} {'median ms':>10s} {'vs scipy':>9s} {'vs cv2':>8s} {'max|diff| vs scipy':>19s}")
    for label, threads, key in rows:
        m = ms(times[key])
        vs_cv = f"{cv_ms / m:7.2f}x" if cv_ms is not None else "     n/a"
        print(f"  {label:44s} {threads:>26s} {m:10.2f} {scipy_ms / m:8.2f}x {vs_cv} {diffs[key]:19.3g}")
    k1 = ms(times["kernel_1t"])
    print("  targets:")
    print(f"    transform_batch 1 thread vs scipy path:  {verdict(scipy_ms / k1, TARGETS['kernel_vs_scipy_1t'])}")
    if cv_ms is not None:
        print(f"    transform_batch 1 thread vs OpenCV loop: {verdict(cv_ms / k1, TARGETS['kernel_vs_opencv_1t'])}"
              f"  (OpenCV bilinear is fixed-point: its max|diff| is reported, not asserted)")
    if 2 in tcounts and "kernel_2t" in times:
        print(f"    2 threads vs 1 thread:                   {verdict(k1 / ms(times['kernel_2t']), TARGETS['two_threads_vs_one'])}")
    if cpus > 2:
        print(f"    {cpus} threads vs 1 thread:                   {k1 / ms(times[f'kernel_{cpus}t']):6.2f}x")
    print(f"  scipy path: {scipy_label}")
    print(f"  checks: transform_batch within {diffs['kernel_1t']:.3g} of the scipy path (bound 0.01/255 = "
          f"{0.01 / 255:.3g}); all thread counts bit-identical")



def report_resize(args, cpus):
    import tempfile

    simd, skipped = None, None
    with tempfile.TemporaryDirectory() as tmp:
        if args.pillow_simd_python:
            simd = PillowSimdWorker(args.pillow_simd_python, resize_sources(), tmp)
        else:
            skipped = ("no --pillow-simd-python PATH given (Pillow-SIMD replaces PIL, so it is timed in "
                       "the interpreter of its own environment)")
        try:
            rows, (hr, wr) = workload_resize(args, cpus, simd)
        finally:
            if simd is not None:
                simd.close()
    print()
    print(f"B. Resize {BATCH} photographs (height {hr[0]}-{hr[1]}, width {wr[0]}-{wr[1]} px, uint8 RGB) "
          f"-> {RESIZE_TARGET[0]}x{RESIZE_TARGET[1]}, every filter, 1 thread (a Pillow resize is one thread)")
    if simd is not None:
        print(f"  Pillow-SIMD: PIL {simd.versions['pil']} run by {args.pillow_simd_python}, timed in that process "
              "in the same interleaved blocks")
    else:
        print(f"  Pillow-SIMD: skipped -- {skipped}")
    print(f"  pyimgaug resize loops: {resize_loops()}; timing: median of {max(args.repeat, RESIZE_REPEAT)} calls "
          f"per path in {RESIZE_BLOCKS} interleaved blocks (1 warm-up call per path per block)")
    print(f"  {'filter':9s} {'Pillow ms':>10s} {'SIMD ms':>9s} {'pyimgaug ms':>12s} {'vs Pillow':>10s} "
          f"{'vs SIMD':>8s} {'first call':>11s} {'vs SIMD':>8s}   samples differing from Pillow: "
          "pyimgaug / Pillow-SIMD (max|diff|)")
    for flt, row in rows.items():
        t = row["times"]
        pil_ms, k_ms, first_ms = ms(t["pillow"]), ms(t["kernel_1t"]), ms(t["kernel_first"])
        simd_ms = f"{ms(t['simd']):9.2f}" if "simd" in t else f"{'skipped':>9s}"
        vs_simd = f"{ms(t['simd']) / k_ms:7.2f}x" if "simd" in t else f"{'-':>8s}"
        first_vs_simd = f"{ms(t['simd']) / first_ms:7.2f}x" if "simd" in t else f"{'-':>8s}"
        simd_diff = (f"{row['simd_differ']} ({row['simd_maxdiff']})" if "simd_differ" in row else "skipped")
        print(f"  {flt:9s} {pil_ms:10.2f} {simd_ms} {k_ms:12.2f} {pil_ms / k_ms:9.2f}x {vs_simd} {first_ms:11.2f} "
              f"{first_vs_simd}   {row['kernel_differ']} of {row['samples']} / {simd_diff}")
    print("  pyimgaug ms: the same 32 sizes every call, so the coefficient tables come from the kernel's memo "
          "(as in epochs 2+ of a training loop); first call: the memo emptied before each call")
    lz = rows["lanczos"]
    r1 = ms(lz["times"]["kernel_1t"])
    for t in lz["threads"][1:]:
        print(f"  lanczos, pyimgaug on {t} threads: {ms(lz['times'][f'kernel_{t}t']):.2f} ms "
              f"({r1 / ms(lz['times'][f'kernel_{t}t']):.2f}x its 1-thread time)")
    print("  targets:")
    print(f"    lanczos resize 1 thread vs Pillow:       "
          f"{verdict(ms(lz['times']['pillow']) / r1, TARGETS['resize_vs_pillow_1t'])}")
    for flt, row in rows.items():
        if "simd" in row["times"]:
            print(f"    {flt + ' 1 thread vs Pillow-SIMD:':41s}"
                  f"{verdict(ms(row['times']['simd']) / ms(row['times']['kernel_1t']), TARGETS['resize_vs_simd_1t'])}")
            print(f"    {flt + ', first call, vs Pillow-SIMD:':41s}"
                  f"{verdict(ms(row['times']['simd']) / ms(row['times']['kernel_first']), TARGETS['resize_vs_simd_1t'])}")
    if "kernel_2t" in lz["times"]:
        print(f"    2 threads vs 1 thread:                   "
              f"{verdict(r1 / ms(lz['times']['kernel_2t']), TARGETS['two_threads_vs_one'])}")
    exact = all(row["kernel_differ"] == 0 for row in rows.values())
    print(f"  checks: pyimgaug bit-exact with Pillow for every filter: {'yes' if exact else 'NO'}; "
          "all thread counts bit-identical")
    if not exact:
        raise SystemExit("resize is not bit-exact with Pillow")


def report_spline(args, cpus):
    times, diffs, tcounts, scipy_label, accuracy, bound = workload_spline(args, cpus)
    print()
    print(f"C. Spline warp: workload A with order {SPLINE_ORDER} (Keras interpolation_order={SPLINE_ORDER}), "
          f"fill nearest, rescale 1/255 -> float32")
    print(f"  accuracy first: transform_batch vs scipy.ndimage.affine_transform (prefilter=True), "
          f"{ACCURACY_IMAGES} images of the batch as float64, float64 output, cval 100.5; max |diff| on the 0..255 "
          f"scale (bound {SPLINE_ACCURACY_BOUND:g}) / bit-identical samples:")
    modes = ("constant", "nearest", "reflect", "wrap")
    print(f"  {'order':>7s} " + " ".join(f"{m:>22s}" for m in modes))
    for order in range(6):
        cells = []
        for mode in modes:
            d, same, total = accuracy[(order, mode)]
            cells.append(f"{d:9.3g} {same / total:11.2%}")
        print(f"  {order:>7d} " + " ".join(f"{c:>22s}" for c in cells))
    scipy_ms = ms(times["scipy"])
    print(f"  {'path':44s} {'threads':>26s} {'median ms':>10s} {'vs scipy':>9s} {'max|diff| vs scipy':>19s}")
    print(f"  {'scipy per image/channel + rescale (Keras)':44s} {'1':>26s} {scipy_ms:10.2f} {1.0:8.2f}x {0.0:19.3g}")
    for t in tcounts:
        m = ms(times[f"kernel_{t}t"])
        print(f"  {'transform_batch(order=3)':44s} {t:>26d} {m:10.2f} {scipy_ms / m:8.2f}x {diffs[f'kernel_{t}t']:19.3g}")
    s1 = ms(times["kernel_1t"])
    print("  targets:")
    print(f"    order 3, 1 thread vs scipy path:         {verdict(scipy_ms / s1, TARGETS['order3_vs_scipy_1t'])}")
    if "kernel_2t" in times:
        print(f"    2 threads vs 1 thread:                   {s1 / ms(times['kernel_2t']):6.2f}x")
    print(f"  scipy path: {scipy_label}")
    print(f"  checks: transform_batch within {diffs['kernel_1t']:.3g} of the scipy path (bound {bound:.3g}: the "
          f"scipy path rounds to float32 before its rescale); all thread counts bit-identical")
    print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=None, help="timed rounds per path (default 15, --quick 5)")
    ap.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    ap.add_argument("--only", default="A,B,C", help="sections to run, e.g. C or A,C (default: all)")
    ap.add_argument("--pillow-simd-python", metavar="PATH", default=None,
                    help="a Python whose PIL is Pillow-SIMD: adds its row to the resize section, timed in "
                         "that interpreter on the same images")
    args = ap.parse_args(argv)
    if args.repeat is None:
        args.repeat = 5 if args.quick else 15
    args.warmup = 1 if args.quick else 2
    cpus = usable_cpus()

    print("pyimgaug transform_batch benchmark")
    print(f"  CPU: {cpu_name()}; os.cpu_count()={os.cpu_count()}, usable={cpus}")
    versions = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    for mod in ("scipy", "PIL", "keras_preprocessing", "skimage"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except Exception:
            pass
    versions.append(f"opencv {cv2.__version__}" if cv2 is not None else "opencv absent")
    print("  " + ", ".join(versions))
    print(f"  timing: time.perf_counter, median of {args.repeat} calls per path (3 interleaved blocks, "
          f"{args.warmup} warm-up call(s) per path per block), ms per batch")
    t_start = time.perf_counter()
    load = OtherLoad()
    try:
        print(f"  load average before: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    except OSError:
        pass

    sections = {"A": report_augment, "B": report_resize, "C": report_spline}
    for name in args.only.upper().split(","):
        if name not in sections:
            raise SystemExit(f"--only: unknown section {name!r}; expected a comma-separated subset of A,B,C")
        sections[name](args, cpus)
    other = load.fraction(cpus)
    if other is not None:
        note = "" if other < 0.05 else "  -- WARNING: other processes competed for the CPUs; multi-thread timings are unreliable, rerun on a quiet machine"
        print(f"other processes used {other:.0%} of the {cpus} usable CPUs during the run{note}")
    print(f"total benchmark time {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
