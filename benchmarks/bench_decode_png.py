"""PNG decoding: pyimgaug's decoder (pyimgaug/pipeline/png.py) vs Pillow's, one thread.

Files: scikit-image's photographs saved as PNG by Pillow (whose encoder picks
each row's filter, as most tools do), in the three modes the decoder takes
(L, RGB, RGBA), held in memory so that only decoding is timed.  Each file is
decoded to Keras's color_mode array both ways:
  Pillow     np.asarray(Image.open(BytesIO(data)).convert(mode)) (as Keras,
             plus the array the pipeline needs)
  pyimgaug   png.decode_png(data, color_mode)
Every result is checked first (identical arrays).  Rows take turns, one pass
over the files each per round; medians over the rounds; the ratio is of
medians of the same rounds.  The inflating (zlib, the same library for both)
is timed alone too, as the floor that neither can pass.

Usage: python benchmarks/bench_decode_png.py [--rounds 15]
"""
import argparse
import io
import platform
import statistics
import sys
import time
import zlib

import numpy as np
from PIL import Image

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "moon")
KERAS = {"L": "grayscale", "RGB": "rgb", "RGBA": "rgba"}


def _files():
    try:
        from skimage import data
    except ImportError:
        sys.exit("bench_decode_png needs scikit-image for its photographs (pip install scikit-image)")
    files = []
    for name in PHOTOS:
        img = Image.fromarray(getattr(data, name)())
        # Grayscale photographs as L; colour ones as RGB and as RGBA.
        for mode in (("L",) if img.mode == "L" else ("RGB", "RGBA")):
            buf = io.BytesIO()
            img.convert(mode).save(buf, format="PNG")
            files.append(("%s %s" % (name, mode), mode, buf.getvalue()))
    return files


def _idat_stream(data):
    pos, parts = 8, []
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"IDAT":
            parts.append(data[pos + 8:pos + 8 + n])
        pos += 12 + n
    return b"".join(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    from pyimgaug.pipeline import png

    files = _files()
    for label, mode, data in files:
        ours = png.decode_png(data, KERAS[mode])
        ref = np.asarray(Image.open(io.BytesIO(data)).convert(mode))
        if ours is None or not np.array_equal(ours, ref.reshape(ours.shape)):
            sys.exit("%s: pyimgaug's decode differs from Pillow's (or was declined)" % label)
    streams = [_idat_stream(d) for _, _, d in files]

    def pillow():
        for _, mode, data in files:
            np.asarray(Image.open(io.BytesIO(data)).convert(mode))

    def ours():
        for _, mode, data in files:
            png.decode_png(data, KERAS[mode])

    def inflate():
        for s in streams:
            zlib.decompress(s)

    rows = {"Pillow": pillow, "pyimgaug": ours, "zlib inflate alone": inflate}
    times = {k: [] for k in rows}
    for _ in range(args.rounds):
        for k, fn in rows.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    pixels = sum(int(np.prod(Image.open(io.BytesIO(d)).size)) for _, _, d in files)
    print("python %s, numpy %s, Pillow %s, zlib %s, %s, 1 thread" % (
        platform.python_version(), np.__version__, Image.__version__, zlib.ZLIB_RUNTIME_VERSION,
        platform.machine()))
    print("%d files (%s), %.1f Mpixels; median of %d rounds; results identical to Pillow's: yes"
          % (len(files), ", ".join(label for label, _, _ in files), pixels / 1e6, args.rounds))
    base = statistics.median(times["Pillow"])
    print("%-20s %10s %12s %10s" % ("decoder", "ms/round", "Mpixels/s", "vs Pillow"))
    for k, v in times.items():
        m = statistics.median(v)
        print("%-20s %10.2f %12.1f %9.2fx" % (k, 1e3 * m, pixels / m / 1e6, base / m))


if __name__ == "__main__":
    main()
