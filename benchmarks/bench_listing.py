"""Listing benchmark: flow_from_directory ready, keras_preprocessing vs pyimgaug, on N files.

Tree: ImageNet's shape and names (`train/n01440764/n01440764_10026.JPEG`),
N files (default 1,281,167, ImageNet's training set) in C class folders
(default 1,000).  Every file is a hard link to one of a few hundred small
JPEGs, so a million-file tree takes no disk space beyond its directories
and no inodes beyond the sources (a file system allows tens of thousands of
links per file).  The tree is built under a temporary folder and deleted at
the end (unless --dir is given).

Each measurement runs in a fresh child process, so one library's memory does
not count against the other; both see the directory cache warm (the tree was
just built and checked), and the rows take turns in rounds.  Reported, per library:
  ready s       seconds of `ImageDataGenerator().flow_from_directory(...)`
                (median over the rounds; best: the fastest round, the least
                disturbed by other work on the machine), and the speed-ups
                over Keras; CPU s: the process's CPU time (median)
  B/file        bytes of Python heap (tracemalloc, NumPy arrays included)
                held by the iterator after it built two batches, per file
                (a separate, untimed run: tracing slows allocation)
  fork B/file   bytes a forked child (a DataLoader worker) makes private
                while it reads every file path once, 32 at a time
                (Private_Dirty of /proc/self/smaps_rollup; Linux only)
Before timing, every run's `filenames`, `classes` and `class_indices` are
hashed, and pyimgaug's must equal Keras's: also for
`validation_split=0.2` ("training" and "validation") and `follow_links=True`.

Usage: python benchmarks/bench_listing.py [--files 1281167] [--classes 1000] [--rounds 3]
"""
import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

SOURCES = 300


def build_tree(root, n_files, n_classes, sources=SOURCES):
    """Writes `sources` small JPEGs and `n_files` hard links to them in class folders."""
    from PIL import Image
    rng = np.random.default_rng(0)
    src_dir = os.path.join(root, "sources")
    os.makedirs(src_dir)
    srcs = []
    for i in range(sources):
        h, w = rng.integers(24, 64, 2)
        p = os.path.join(src_dir, "s%03d.jpg" % i)
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(p, quality=90)
        srcs.append(p)
    train = os.path.join(root, "train")
    per, extra = divmod(n_files, n_classes)
    k = 0
    for c in range(n_classes):
        wnid = "n%08d" % (1440764 + c * 997)
        d = os.path.join(train, wnid)
        os.makedirs(d)
        for i in range(per + (c < extra)):
            # ImageNet's numbering is sparse: wnid_<5-6 digit number>.JPEG
            os.link(srcs[k % sources], os.path.join(d, "%s_%d.JPEG" % (wnid, 10000 + 7 * i)))
            k += 1
    return train


def _digest(it):
    h = hashlib.sha256()
    h.update("\0".join(it.filenames).encode("utf-8", "surrogateescape"))
    h.update(np.asarray(it.classes, dtype=np.int64).tobytes())
    h.update(json.dumps(sorted(it.class_indices.items())).encode())
    return h.hexdigest()[:16]


def _private_dirty_kib():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1])
    return None


def _fork_growth(it):
    """Bytes per file a forked child makes private reading every path, 32 at a time."""
    if not os.path.exists("/proc/self/smaps_rollup"):
        return None
    n = it.samples
    order = np.random.default_rng(0).permutation(n)
    paths = it.filepaths
    take = getattr(paths, "take", None)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            before = _private_dirty_kib()
            for b in range(0, n, 32):
                idx = order[b:b + 32]
                if take is not None:
                    take(idx)
                else:
                    [paths[j] for j in idx]
            os.write(w, str(_private_dirty_kib() - before).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = os.read(r, 64)
    os.close(r)
    os.waitpid(pid, 0)
    return int(data) * 1024 / n


def child(args):
    """One measurement in this (fresh) process; prints a JSON line."""
    if args.lib == "keras":
        from keras_preprocessing.image import ImageDataGenerator
    else:
        from pyimgaug import ImageDataGenerator
    kw = dict(target_size=(8, 8), batch_size=32, class_mode="sparse", seed=0)
    gen_kw = {}
    if args.variant == "follow_links":
        kw["follow_links"] = True
    elif args.variant in ("training", "validation"):
        kw["subset"] = args.variant
        gen_kw["validation_split"] = 0.2
    out = {}
    import contextlib
    import io
    if args.mode == "mem":
        import gc
        import tracemalloc
        # Warm-up on one class folder: the modules a first batch imports are
        # not memory per file.
        first = sorted(os.listdir(args.tree))[0]
        with contextlib.redirect_stdout(io.StringIO()):
            ImageDataGenerator(**gen_kw).flow_from_directory(args.tree, classes=[first], **kw)[0]
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    cpu = time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):  # "Found N images ..."
        it = ImageDataGenerator(**gen_kw).flow_from_directory(args.tree, **kw)
    out["seconds"] = time.perf_counter() - start
    out["cpu"] = time.process_time() - cpu
    out["n"] = int(it.samples)
    if args.mode == "mem":
        it[0]
        next(it)
        gc.collect()
        out["bytes_per_file"] = (tracemalloc.get_traced_memory()[0] - base) / max(it.samples, 1)
        tracemalloc.stop()
    else:
        out["digest"] = _digest(it)
        if args.variant == "plain":
            out["fork_bytes_per_file"] = _fork_growth(it)
    print(json.dumps(out))


def run_child(tree, lib, mode, variant):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--tree", tree, "--lib", lib,
           "--mode", mode, "--variant", variant]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("child %s %s %s failed:\n%s" % (lib, mode, variant, res.stderr[-3000:]))
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1_281_167)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds (median per row)")
    ap.add_argument("--dir", help="build (and keep) the tree here; default: a temporary folder, deleted")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    ap.add_argument("--lib", help=argparse.SUPPRESS)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args)

    import pyimgaug
    import keras_preprocessing
    root = args.dir or tempfile.mkdtemp(prefix="pyimgaug-bench-listing-")
    try:
        if args.dir and os.path.isdir(os.path.join(root, "train")):
            tree = os.path.join(root, "train")
            print("reusing the tree in %s" % tree)
        else:
            # Hard links take directory entries, not inodes: the tree needs an
            # inode per folder and per source JPEG only.
            st = os.statvfs(root)
            need = args.classes + SOURCES + 10
            if st.f_favail < need:
                sys.exit("%s has %d free inodes; the tree needs %d" % (root, st.f_favail, need))
            t = time.perf_counter()
            tree = build_tree(root, args.files, args.classes)
            print("built %d hard links in %d folders in %.1f s" % (args.files, args.classes,
                                                                  time.perf_counter() - t))
        print("python %s, numpy %s, keras_preprocessing %s, pyimgaug %s, %d cores, %s"
              % (platform.python_version(), np.__version__, keras_preprocessing.__version__,
                 pyimgaug.__version__, os.cpu_count(), platform.platform()))
        print("threads: keras lists class folders with a ThreadPool of %d (one per core); "
              "pyimgaug with min(8, cores) = %d" % (os.cpu_count(), min(8, os.cpu_count())))

        # Check first: the same listing as Keras, in every variant.
        for variant in ("plain", "training", "validation", "follow_links"):
            k = run_child(tree, "keras", "time", variant)
            o = run_child(tree, "pyimgaug", "time", variant)
            ok = k["digest"] == o["digest"] and k["n"] == o["n"]
            print("check %-13s n=%-8d keras %.2f s  pyimgaug %.2f s  identical filenames/classes/"
                  "class_indices: %s" % (variant, o["n"], k["seconds"], o["seconds"], ok))
            if not ok:
                sys.exit("pyimgaug's listing differs from Keras's (%s)" % variant)

        times = {"keras": [], "pyimgaug": []}
        cpus = {"keras": [], "pyimgaug": []}
        fork = {}
        for r in range(args.rounds):
            for lib in ("keras", "pyimgaug"):
                res = run_child(tree, lib, "time", "plain")
                times[lib].append(res["seconds"])
                cpus[lib].append(res["cpu"])
                fork[lib] = res.get("fork_bytes_per_file")
        mem = {lib: run_child(tree, lib, "mem", "plain")["bytes_per_file"]
               for lib in ("keras", "pyimgaug")}
        n = args.files
        print()
        print("%d files in %d folders, median (and best) of %d rounds"
              % (n, args.classes, args.rounds))
        print("| | ready (s) | best (s) | CPU (s) | us/file | speed-up (median, best) "
              "| B/file (training) | fork B/file |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        k_med = statistics.median(times["keras"])
        k_best = min(times["keras"])
        for lib in ("keras", "pyimgaug"):
            med, best = statistics.median(times[lib]), min(times[lib])
            fb = fork.get(lib)
            print("| %s | %.2f | %.2f | %.2f | %.2f | %.1fx, %.1fx | %.0f | %s |" % (
                "keras_preprocessing" if lib == "keras" else "pyimgaug", med, best,
                statistics.median(cpus[lib]), med / n * 1e6, k_med / med, k_best / best,
                mem[lib], "-" if fb is None else "%.1f" % fb))
        print("CPU seconds: keras %.2f, pyimgaug %.2f (%.1fx); load average now %s" % (
            statistics.median(cpus["keras"]), statistics.median(cpus["pyimgaug"]),
            statistics.median(cpus["keras"]) / statistics.median(cpus["pyimgaug"]),
            "%.1f %.1f %.1f" % os.getloadavg() if hasattr(os, "getloadavg") else "?"))
    finally:
        if not args.dir:
            t = time.perf_counter()
            shutil.rmtree(root, ignore_errors=True)
            print("\nremoved the tree (%.1f s)" % (time.perf_counter() - t))


if __name__ == "__main__":
    main()
