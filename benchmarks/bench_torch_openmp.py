"""Does importing pyimgaug change how fast PyTorch's own CPU work runs?

Each configuration runs in a fresh Python process (an OpenMP runtime reads its
environment once, when it loads, so import order matters) and times the same torch
workload: 50 chained 256x256 matmul+relu on 2 torch threads. Configurations:

  torch alone                 the baseline
  pyimgaug, then torch        `import pyimgaug` first, a 2-thread kernel call, then torch
  torch, then pyimgaug        the other import order
  OMP_WAIT_POLICY=PASSIVE     what `import pyimgaug` used to do to the whole process

Rounds take turns (A B C D, A B C D, ...) so a busy machine slows all of them alike.
Before timing, every configuration's result is checked against torch alone's, and
its torch thread counts and OpenMP environment are printed.

    python benchmarks/bench_torch_openmp.py [--rounds 5] [--repeats 15]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, os, sys, time
order = sys.argv[1]
before = {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_", "KMP_"))}
if order == "pyimgaug-first":
    import numpy as np
    import pyimgaug
    x = np.random.default_rng(0).integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    pyimgaug.transform_batch(x, resize_to=(32, 32), num_threads=2)
import torch
if order == "torch-first":
    import numpy as np
    import pyimgaug
    x = np.random.default_rng(0).integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    pyimgaug.transform_batch(x, resize_to=(32, 32), num_threads=2)
torch.set_num_threads(2)
g = torch.Generator().manual_seed(0)
w = [torch.randn(256, 256, generator=g) / 16 for _ in range(50)]
a0 = torch.randn(256, 256, generator=g)

def work():
    a = a0
    for m in w:
        a = torch.relu(a @ m)
    return a

result = work()
for _ in range(3):  # warm-up: thread pool started, caches filled
    work()
times = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    work()
    times.append(time.perf_counter() - t)
after = {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_", "KMP_"))}
print(json.dumps(dict(times=times, result=result.flatten()[:4096].tolist(),
                      threads=torch.get_num_threads(), interop=torch.get_num_interop_threads(),
                      env_before=before, env_after=after,
                      pyimgaug_loaded="pyimgaug" in sys.modules)))
"""

CONFIGS = [
    ("torch alone", "torch-only", {}),
    ("pyimgaug, then torch", "pyimgaug-first", {}),
    ("torch, then pyimgaug", "torch-first", {}),
    ("OMP_WAIT_POLICY=PASSIVE (old import)", "torch-only", {"OMP_WAIT_POLICY": "PASSIVE"}),
]


def run_child(order: str, env_extra: dict, repeats: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))}
    env.update(env_extra)
    # Run from the file system root so the source folder never shadows the installed package.
    out = subprocess.run([sys.executable, "-c", CHILD, order, str(repeats)], env=env, cwd=os.path.abspath(os.sep),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=15, help="timed runs of the workload per process")
    args = ap.parse_args()

    import numpy as np
    import pyimgaug

    print(f"pyimgaug {pyimgaug.__version__} from {os.path.dirname(pyimgaug.__file__)}; "
          f"OpenMP runtime: {pyimgaug._openmp.runtime_summary()}")
    # Other processes competing for the cores change everything here (spinning
    # threads suffer most when the cores are oversubscribed): say how busy it was.
    load = getattr(os, "getloadavg", lambda: (float("nan"),) * 3)
    print(f"CPUs: {os.cpu_count()}; load average at start: {load()[0]:.2f}")
    times = {name: [] for name, _, _ in CONFIGS}
    reference = None
    for r in range(args.rounds):
        for name, order, extra in CONFIGS:
            res = run_child(order, extra, args.repeats)
            if reference is None:
                reference = np.array(res["result"])
            # Same numbers whatever was imported first: 2 threads either way, and
            # matmul's float32 sums may only be regrouped (relative 1e-5 covers that).
            np.testing.assert_allclose(np.array(res["result"]), reference, rtol=1e-5, atol=1e-6)
            if r == 0:
                print(f"  {name:38s} torch threads {res['threads']} (interop {res['interop']}), "
                      f"OMP env before {res['env_before']} after {res['env_after']}")
            times[name] += res["times"]
    print(f"load average at end: {load()[0]:.2f} (1-minute)")
    base = statistics.median(times["torch alone"])
    print(f"\n50 chained 256x256 matmul+relu, torch.set_num_threads(2), {args.rounds} processes x "
          f"{args.repeats} runs each, results checked against torch alone")
    print("| configuration | median ms | min ms | max ms | median / torch alone | min / torch alone |")
    print("|---|---|---|---|---|---|")
    base_min = min(times["torch alone"])
    for name, _, _ in CONFIGS:
        t = times[name]
        med = statistics.median(t)
        print(f"| {name} | {med * 1e3:.2f} | {min(t) * 1e3:.2f} | {max(t) * 1e3:.2f} | {med / base:.2f} "
              f"| {min(t) / base_min:.2f} |")


if __name__ == "__main__":
    main()
