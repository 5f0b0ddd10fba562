"""Times ``Image.resize`` in another interpreter, for bench_kernel.py's Pillow-SIMD row.

Pillow-SIMD installs itself as ``PIL``, so it cannot share a process (or an
environment) with Pillow; bench_kernel.py starts this script with the interpreter
given by ``--pillow-simd-python`` and drives it over stdin/stdout, so its timing
blocks interleave with the ones in the benchmark's own process.

Usage: PYTHON pillow_simd_worker.py IMAGES.npz
Protocol, one JSON object per line. The first line out is
{"pil": version, "numpy": version}. Then for each request
{"filter": name, "size_wh": [w, h], "warmup": n, "repeat": n, "save": path or null}
it answers {"seconds": [...]}; when "save" is a path, the stacked results of one
untimed call are written there (.npy) first. Needs only numpy and PIL.
"""

import json
import sys
import time

import numpy as np
from PIL import Image


def main():
    with np.load(sys.argv[1]) as npz:
        images = [Image.fromarray(npz[f"arr_{i}"]) for i in range(len(npz.files))]
    print(json.dumps({"pil": Image.__version__, "numpy": np.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        flt = getattr(Image.Resampling, req["filter"].upper())
        size = tuple(req["size_wh"])

        def run():
            return [im.resize(size, flt) for im in images]

        if req.get("save"):
            np.save(req["save"], np.stack([np.asarray(im) for im in run()]))
        for _ in range(req["warmup"]):
            run()
        seconds = []
        for _ in range(req["repeat"]):
            t0 = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - t0)
        print(json.dumps({"seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
