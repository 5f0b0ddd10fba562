"""pyimgaug's OpenMP runtime beside PyTorch's, in one process, in both import orders.

- The kernel on 2 threads and torch on 2 threads give their exact results, then a
  forked DataLoader (2 workers) runs the kernel in its children without hanging.
- `import pyimgaug` changes nothing torch sees: thread counts, the OMP_* environment,
  and the wait policy of torch's OpenMP runtime (read from the runtime itself:
  OMP_DISPLAY_ENV=VERBOSE makes GCC's runtime print its settings as it starts).
  Timing is left to benchmarks/bench_torch_openmp.py.
"""
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("torch", reason="torch is optional; `pip install torch`")

import pyimgaug  # noqa: E402
from pyimgaug import _core, _openmp  # noqa: E402

ORDERS = ["pyimgaug-first", "torch-first"]
_OMP_VARS = ("OMP_", "GOMP_", "KMP_")

_PRELUDE = textwrap.dedent("""
    import json, os, sys
    order = sys.argv[1]
    if order == "pyimgaug-first":
        import pyimgaug
    import torch
    if order == "torch-first":
        import pyimgaug
""")


def _child_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OMP_VARS)}
    env.update(extra)
    return env


def _run(code, order, env, timeout=180):
    proc = subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(code), order],
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


COEXIST = """
    import numpy as np
    from torch.utils.data import DataLoader
    from pyimgaug import ImageDataGenerator, transform_batch

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 40, 36, 3), dtype=np.uint8)
    mats = np.tile(np.array([[0.9, 0.2, -1.5], [-0.15, 1.05, 2.0], [0, 0, 1]]), (12, 1, 1))
    one = transform_batch(x, mats, resize_to=(48, 44), output_size=(32, 30), num_threads=1)
    two = transform_batch(x, mats, resize_to=(48, 44), output_size=(32, 30), num_threads=2)
    assert np.array_equal(one, two)  # 2 kernel threads: bit-identical to 1

    torch.set_num_threads(2)
    a = torch.from_numpy(rng.standard_normal((200, 300)))
    b = torch.from_numpy(rng.standard_normal((300, 100)))
    ref = a.numpy() @ b.numpy()
    got = torch.relu(a @ b).numpy()
    # float64 matmul: torch's BLAS may sum in another order than NumPy's (1e-9 relative covers it).
    np.testing.assert_allclose(got, np.maximum(ref, 0), rtol=1e-9, atol=1e-9)

    # Then a forked DataLoader whose workers run the kernel (the parent's OpenMP
    # pools, both of them, have started: GCC's runtime cannot be used in the child).
    imgs = rng.integers(0, 256, (20, 24, 20, 3)).astype(np.float32)
    it = ImageDataGenerator(rotation_range=20, width_shift_range=0.2).flow(imgs, np.arange(20), batch_size=4, seed=5)
    ds = it.to_torch()
    ds.set_epoch(0)
    loaded = list(DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork"))
    inproc = list(DataLoader(ds, batch_size=None, num_workers=0))
    assert len(loaded) == len(inproc) == len(it) == 5
    for (xa, ya), (xb, yb) in zip(loaded, inproc):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    # And the parent's kernel still runs on 2 threads afterwards.
    assert np.array_equal(transform_batch(x, mats, resize_to=(48, 44), output_size=(32, 30), num_threads=2), one)
    print("ok")
"""


@pytest.mark.parametrize("order", ORDERS)
def test_kernel_torch_and_a_forked_dataloader_in_one_process(order):
    proc = _run(COEXIST, order, _child_env(), timeout=300)  # a hang in a forked worker fails here
    assert proc.stdout.strip().splitlines()[-1] == "ok"


SETTINGS = """
    print(json.dumps(dict(threads=torch.get_num_threads(), interop=torch.get_num_interop_threads(),
                          env={k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_", "KMP_"))})))
"""


@pytest.mark.parametrize("user_env", [{}, {"OMP_WAIT_POLICY": "ACTIVE"}, {"OMP_NUM_THREADS": "1"}])
def test_torch_settings_and_environment_are_unchanged_by_import_pyimgaug(user_env):
    seen = {}
    for order in ["torch-only"] + ORDERS:
        proc = _run(SETTINGS, order, _child_env(**user_env))
        seen[order] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["torch-only"]["env"] == user_env
    assert seen["pyimgaug-first"] == seen["torch-first"] == seen["torch-only"], seen


# The settings that decide how a runtime's threads wait and how many there are
# (runtimes of different GCC releases print different lists of the others).
_COMPARED = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "OMP_DYNAMIC", "OMP_PROC_BIND")


def _runtime_blocks(stderr):
    """Each GCC OpenMP runtime that started, in load order: {setting: value}."""
    blocks = re.findall(r"OPENMP DISPLAY ENVIRONMENT BEGIN(.*?)OPENMP DISPLAY ENVIRONMENT END", stderr, re.S)
    out = []
    for b in blocks:
        settings = dict(re.findall(r"^\s*(?:\[[^]]*\]\s*)?(\w+) = '?([^'\n]*)'?", b, re.M))
        out.append({k: settings.get(k) for k in _COMPARED})
    return out


def _uses_gcc_runtime():
    path = _openmp.runtime_path(_core)
    return path is not None and "libgomp" in os.path.basename(path)


@pytest.mark.skipif(not _uses_gcc_runtime(), reason="reads the settings GCC's OpenMP runtime (libgomp) prints")
@pytest.mark.parametrize("order", ORDERS)
def test_torch_runtime_keeps_its_wait_policy_and_ours_is_passive_only_when_private(order):
    env = _child_env(OMP_DISPLAY_ENV="VERBOSE")
    # The kernel and torch both run a parallel region, so every runtime has started.
    code = """
        import numpy as np
        pyimgaug.transform_batch(np.zeros((4, 8, 8, 3), np.uint8), resize_to=(4, 4), num_threads=2)
        torch.set_num_threads(2)
        torch.ones(64, 64) @ torch.ones(64, 64)
    """
    alone = _runtime_blocks(_run("torch.set_num_threads(2); torch.ones(64, 64) @ torch.ones(64, 64)",
                                 "torch-only", env).stderr)
    both = _runtime_blocks(_run(code, order, env).stderr)
    if not alone:
        pytest.skip("this torch build does not use GCC's OpenMP runtime")
    assert all(b.get("GOMP_SPINCOUNT", "0") != "0" for b in alone)  # torch alone: threads spin (default)
    if _openmp.bundled_runtimes():
        # A wheel: pyimgaug's private copy of the runtime starts PASSIVE (spin count 0),
        # torch's starts exactly as it does alone.
        ours, torchs = (both[0], both[1:]) if order == "pyimgaug-first" else (both[-1], both[:-1])
        assert ours["GOMP_SPINCOUNT"] == "0"
        assert torchs == alone
    else:
        # A source build shares the system's runtime with torch: nothing is changed.
        assert both == alone
