"""Single-image path: pyimgaug.load_img vs keras_preprocessing.load_img, images/second.

The tutorial's call, one file at a time on one thread:
`load_img(path, target_size=(128, 128), interpolation="lanczos")`, on the
photographs of bench_pipeline.py (JPEG crops, long side 300-800 px, a few PNG
and grayscale files).  Every file's result is checked against Keras's first
(mode, size, pixels: identical).  Rows take turns, one pass each per round;
each row reports its median over the rounds, and the ratio is of medians of
the same rounds.

Usage: python benchmarks/bench_load_img.py [--images 320] [--rounds 5] [--dir DIR]
"""
import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_pipeline import make_dataset  # noqa: E402 - the same photographs

TARGET = (128, 128)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=320)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--interpolation", default="lanczos")
    ap.add_argument("--dir", help="keep the dataset here (default: a temporary folder)")
    args = ap.parse_args(argv)
    try:
        from keras_preprocessing import image as kimage
    except ImportError:
        sys.exit("bench_load_img compares against keras_preprocessing (pip install keras_preprocessing)")
    import pyimgaug

    tmp = None if args.dir else tempfile.mkdtemp(prefix="pyimgaug-bench-")
    root = os.path.join(args.dir or tmp, "data")
    try:
        if not os.path.isdir(root):
            make_dataset(root, args.images)
        paths = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs)
        kw = dict(target_size=TARGET, interpolation=args.interpolation)
        for p in paths:
            ours, ref = pyimgaug.load_img(p, **kw), kimage.load_img(p, **kw)
            if ours.mode != ref.mode or ours.size != ref.size or not np.array_equal(
                    np.asarray(ours), np.asarray(ref)):
                sys.exit("MISMATCH with keras_preprocessing on %s" % p)
        print("python %s, numpy %s, Pillow %s, %s, load average %s; one thread"
              % (platform.python_version(), np.__version__, Image.__version__, platform.machine(),
                 " ".join("%.2f" % v for v in os.getloadavg())))
        print("dataset: %d files, %dx%d %s; all %d results identical to keras_preprocessing's"
              % (len(paths), TARGET[0], TARGET[1], args.interpolation, len(paths)))
        rows = {"keras_preprocessing.load_img": kimage.load_img, "pyimgaug.load_img": pyimgaug.load_img}
        rates = {name: [] for name in rows}
        for r in range(args.rounds + 1):  # round 0 warms up (page cache, probe) and is not counted
            for name, fn in rows.items():
                t0 = time.perf_counter()
                for p in paths:
                    fn(p, **kw)
                rate = len(paths) / (time.perf_counter() - t0)
                if r:
                    rates[name].append(rate)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("%-32s %10s" % ("row", "images/s"))
    med = {name: statistics.median(v) for name, v in rates.items()}
    for name, v in med.items():
        print("%-32s %10.0f" % (name, v))
    print("ratio pyimgaug / keras: %.2fx (target >= 1.0); median of %d rounds of %d files"
          % (med["pyimgaug.load_img"] / med["keras_preprocessing.load_img"], args.rounds, len(paths)))


if __name__ == "__main__":
    main()
