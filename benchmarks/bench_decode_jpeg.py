"""JPEG decoding: pyimgaug's path (pyimgaug/pipeline/jpeg.py) vs Pillow's loader, one thread.

Both run the same decoder (Pillow's libjpeg-turbo, called from C); pyimgaug
skips Image.open's Python (marker parsing, the read loop) and the pack of
Pillow's 4-byte pixels into a new array.  Files: scikit-image's photographs
saved as JPEG by Pillow (baseline and progressive, colour and grayscale),
held in memory so that only decoding is timed.  Each file is decoded to
Keras's "rgb" array both ways, at full size and at the draft scale Pillow
picks for a 128 x 128 target:
  Pillow     np.asarray(Image.open(BytesIO(data)) [.draft("RGB"|"L", (128, 128))]
             .convert("RGB")) (as Keras, plus the array the pipeline needs)
  pyimgaug   jpeg.decode_jpeg(data, "rgb" [, (128, 128)]) (for colour files, a
             view of the decoder's RGBX pixels, which the kernel reads in place)
Every result is checked first (identical pixels).  Rows take turns, one pass
over the files each per round; medians over the rounds; the ratio is of
medians of the same rounds.

Usage: python benchmarks/bench_decode_jpeg.py [--rounds 15]
"""
import argparse
import io
import platform
import statistics
import sys
import time

import numpy as np
from PIL import Image

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "moon")
DRAFT = (128, 128)


def _files():
    try:
        from skimage import data
    except ImportError:
        sys.exit("bench_decode_jpeg needs scikit-image for its photographs (pip install scikit-image)")
    files = []
    for name in PHOTOS:
        img = Image.fromarray(getattr(data, name)())
        for progressive in (False, True):
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=90, progressive=progressive)
            files.append(("%s %s%s" % (name, img.mode, " progressive" if progressive else ""), buf.getvalue()))
    return files


def _pillow(data, draft):
    img = Image.open(io.BytesIO(data))
    if draft:
        img.draft(img.mode, DRAFT)
    return np.asarray(img.convert("RGB"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    from pyimgaug.pipeline import jpeg

    files = _files()
    pixels = 0
    for label, data in files:
        for draft in (False, True):
            ours = jpeg.decode_jpeg(data, "rgb", DRAFT if draft else None)
            ref = _pillow(data, draft)
            if ours is None or not np.array_equal(ours, ref):
                sys.exit("%s: pyimgaug's decode differs from Pillow's (or was declined)" % label)
            pixels += 0 if draft else ref.shape[0] * ref.shape[1]

    def rows(draft):
        size = DRAFT if draft else None
        return {
            "Pillow": lambda: [_pillow(data, draft) for _, data in files],
            "pyimgaug": lambda: [jpeg.decode_jpeg(data, "rgb", size) for _, data in files],
        }

    print("%d files (%s), %.1f Mpixels at full size; median of %d rounds; results identical to Pillow's: yes"
          % (len(files), ", ".join(label for label, _ in files), pixels / 1e6, args.rounds))
    print("Python %s, %s" % (platform.python_version(), platform.machine()))
    print("%-26s %10s %10s" % ("decode", "ms/round", "vs Pillow"))
    for draft in (False, True):
        timed = rows(draft)
        times = {k: [] for k in timed}
        for _ in range(args.rounds):
            for k, fn in timed.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        for k, ms in med.items():
            print("%-26s %10.2f %9.2fx" % ("%s, %s" % (k, "draft 128x128" if draft else "full size"), ms,
                                          med["Pillow"] / ms))


if __name__ == "__main__":
    main()
