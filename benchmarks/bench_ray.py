"""Ray Data benchmark: images/s of `iterator.to_ray()` against Ray Data's own
`read_images` + a per-image PIL augmentation, on the same local 2-node cluster.

Cluster: `ray.cluster_utils.Cluster`, 2 nodes on this machine, `--cpus` CPUs
each (default 1).  Dataset: `--images` generated photographs (smooth colour
fields with texture, 300-500 x 250-400 px, JPEG quality 90) in 4 class
folders.  Workload (the tutorial's): resize to 128 x 128 (bicubic), rotation
20, width/height shift 0.2, rescale 1/255, float32, batches of 32.

Rows (images/s = images of the epoch / seconds until the driver has consumed
every batch, dataset start-up included; median over --rounds, rows take
turns in each round):
  ray read_images + PIL   ray.data.read_images(size=(128, 128), mode="RGB"),
                          then map_batches: per image, PIL rotate with
                          translate (bilinear), to float32 / 255
  pyimgaug to_ray         flow_from_directory(...).to_ray(epoch,
                          concurrency=2 * cpus): actors decode, resize and
                          augment each Ray batch with one kernel call
Before timing: one epoch of `to_ray()` is compared, row by row and pixel by
pixel, with the local iterator (the same epoch); the benchmark stops if any
pixel differs or a sample is missing or repeated.

Usage: python benchmarks/bench_ray.py [--images 2000] [--rounds 3] [--cpus 1]
"""
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

import numpy as np
from PIL import Image

TARGET = (128, 128)
TUTORIAL = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                rescale=1. / 255)
BATCH = 32


def make_dataset(root, n_images, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(n_images):
        h, w = int(rng.integers(250, 400)), int(rng.integers(300, 500))
        low = Image.fromarray(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8))
        base = np.asarray(low.resize((w, h), Image.BICUBIC), dtype=np.float32)
        img = np.clip(base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
        d = os.path.join(root, "class_%d" % (i % n_classes))
        os.makedirs(d, exist_ok=True)
        Image.fromarray(img).save(os.path.join(d, "img_%05d.jpg" % i), quality=90)


def pil_augment(batch):
    """The anchor's augmentation: per image, PIL rotate + translate, then rescale."""
    rng = np.random.default_rng()
    images = batch["image"]
    out = np.empty(images.shape, dtype=np.float32)
    h, w = images.shape[1:3]
    for i in range(len(images)):
        img = Image.fromarray(images[i])
        angle = rng.uniform(-20, 20)
        tx, ty = rng.uniform(-0.2, 0.2) * w, rng.uniform(-0.2, 0.2) * h
        img = img.rotate(angle, resample=Image.BILINEAR, translate=(tx, ty))
        out[i] = np.asarray(img, dtype=np.float32) * (1.0 / 255)
    return {"image": out}


def _flow(pyimgaug, root):
    with contextlib.redirect_stdout(io.StringIO()):
        return pyimgaug.ImageDataGenerator(**TUTORIAL).flow_from_directory(
            root, target_size=TARGET, batch_size=BATCH, interpolation="bicubic",
            class_mode="sparse", seed=0)


def check(ray, pyimgaug, root, cpus):
    """Every row of one epoch of to_ray() against the local iterator; returns (rows, pixels)."""
    it = _flow(pyimgaug, root)
    epoch = 1
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # rows arrive in the epoch's order
    try:
        ds = it.to_ray(epoch, concurrency=2 * cpus)
        order = it.sample_indices(epoch)
        pos = 0
        cached_b, cached = None, None
        seen = set()
        pixels = 0
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for i, j in enumerate(batch["index"]):
                j = int(j)
                if j in seen or order[pos] != j:
                    sys.exit("to_ray(): sample %d out of order or repeated" % j)
                seen.add(j)
                b = pos // BATCH
                if b != cached_b:
                    cached_b, cached = b, it.batch_at(epoch, b)
                x, y = cached
                if not np.array_equal(batch["image"][i], x[pos % BATCH]) or \
                        batch["label"][i] != y[pos % BATCH]:
                    sys.exit("to_ray(): sample %d differs from the local iterator" % j)
                pixels += x[pos % BATCH].size
                pos += 1
        if len(seen) != it.samples:
            sys.exit("to_ray(): %d of %d samples" % (len(seen), it.samples))
    finally:
        ctx.execution_options.preserve_order = False
    return len(seen), pixels


def run_pyimgaug(ray, pyimgaug, root, cpus, epoch):
    it = _flow(pyimgaug, root)
    t = time.perf_counter()
    n = 0
    for batch in it.to_ray(epoch, concurrency=2 * cpus).iter_batches(batch_size=BATCH,
                                                                      batch_format="numpy"):
        n += len(batch["image"])
    return n / (time.perf_counter() - t), n


def run_anchor(ray, root):
    t = time.perf_counter()
    n = 0
    ds = ray.data.read_images(root, size=TARGET, mode="RGB", include_paths=True)
    ds = ds.map_batches(pil_augment, batch_size=BATCH, batch_format="numpy")
    for batch in ds.iter_batches(batch_size=BATCH, batch_format="numpy"):
        n += len(batch["image"])
    return n / (time.perf_counter() - t), n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=1, help="CPUs of each of the 2 nodes")
    args = ap.parse_args(argv)
    try:
        import ray
        import ray.data
        from ray.cluster_utils import Cluster
    except ImportError:
        sys.exit("bench_ray needs Ray Data: pip install 'pyimgaug[ray]'")
    import pyimgaug

    root = tempfile.mkdtemp(prefix="pyimgaug-bench-ray-")
    cluster = None
    try:
        t = time.perf_counter()
        make_dataset(root, args.images)
        print("dataset: %d JPEGs in %.1f s" % (args.images, time.perf_counter() - t))
        store = 300 * 2**20
        cluster = Cluster(initialize_head=True,
                          head_node_args={"num_cpus": args.cpus, "object_store_memory": store})
        cluster.add_node(num_cpus=args.cpus, object_store_memory=store)
        ray.init(address=cluster.address, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        nodes = [n for n in ray.nodes() if n["Alive"]]
        print("python %s, numpy %s, ray %s, pyimgaug %s, Pillow %s, %d cores, %s"
              % (platform.python_version(), np.__version__, ray.__version__,
                 pyimgaug.__version__, Image.__version__, os.cpu_count(), platform.platform()))
        print("cluster: %d nodes x %d CPU; pyimgaug: %d actors (1 CPU each); anchor: Ray's "
              "task pools" % (len(nodes), args.cpus, 2 * args.cpus))

        t = time.perf_counter()
        rows, pixels = check(ray, pyimgaug, root, args.cpus)
        print("check: to_ray() epoch 1: %d of %d samples seen once each, %d pixel values compared "
              "with the local iterator, all equal (%.1f s)"
              % (rows, args.images, pixels, time.perf_counter() - t))

        rates = {"anchor": [], "pyimgaug": []}
        for r in range(args.rounds):
            rate, n = run_anchor(ray, root)
            assert n == args.images, n
            rates["anchor"].append(rate)
            rate, n = run_pyimgaug(ray, pyimgaug, root, args.cpus, epoch=r)
            assert n == args.images, n
            rates["pyimgaug"].append(rate)
        a = statistics.median(rates["anchor"])
        p = statistics.median(rates["pyimgaug"])
        print()
        print("%d images, %dx%d, batch %d, median of %d rounds" % (args.images, TARGET[0],
                                                                   TARGET[1], BATCH, args.rounds))
        print("| | images/s | vs anchor |")
        print("|---|---:|---:|")
        print("| ray read_images + PIL per image | %.0f | 1.0x |" % a)
        print("| pyimgaug to_ray() | %.0f | %.1fx |" % (p, p / a))
    finally:
        if cluster is not None:
            ray.shutdown()
            cluster.shutdown()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
