"""Which threads the kernel runs on, as pyimgaug/_openmp.py decides at import.

A runtime shared with other libraries (a build from source links the system's
libgomp.so.1, which torch loads too) is left with its defaults, and the kernel
starts its own threads per batch, so nothing of ours spins between batches. A
runtime private to pyimgaug (a repaired wheel) and a user-set OMP_WAIT_POLICY
keep the OpenMP pool. Either way the bytes are the same.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pyimgaug
from pyimgaug import _core, _openmp

pytestmark = pytest.mark.skipif(not _core._has_openmp, reason="this build has no OpenMP (std::thread only)")

_CHILD = textwrap.dedent("""
    import json, os
    import pyimgaug
    from pyimgaug import _core, _openmp
    print(json.dumps({"pool": _core._openmp_pool_enabled(), "policy": _openmp.wait_policy(),
                      "env": os.environ.get("OMP_WAIT_POLICY")}))
""")


def _child(**env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    env.update(env_extra)
    proc = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_pool_only_for_a_private_runtime_or_a_user_policy():
    default = _child()
    assert default["env"] is None  # the environment other libraries read is unchanged
    if _openmp.bundled_runtimes():
        assert default["pool"] is True and "PASSIVE" in default["policy"]
    else:
        assert default["pool"] is False and "per batch" in default["policy"]
    chosen = _child(OMP_WAIT_POLICY="ACTIVE")
    assert chosen["pool"] is True and chosen["env"] == "ACTIVE" and "environment" in chosen["policy"]


def test_pool_and_own_threads_give_the_same_bytes():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (9, 37, 41, 3), dtype=np.uint8)
    mats = np.tile(np.array([[0.93, 0.21, -1.5], [-0.17, 1.04, 2.25], [0, 0, 1]]), (9, 1, 1))
    kwargs = dict(resize_to=(45, 39), output_size=(33, 35), order=3, fill_mode="reflect", num_threads=2)
    before = _core._openmp_pool_enabled()
    try:
        _core._set_openmp_pool(True)
        pool = pyimgaug.transform_batch(x, mats, **kwargs)
        _core._set_openmp_pool(False)
        own = pyimgaug.transform_batch(x, mats, **kwargs)
    finally:
        _core._set_openmp_pool(before)
    serial = pyimgaug.transform_batch(x, mats, **{**kwargs, "num_threads": 1})
    assert pool.tobytes() == own.tobytes() == serial.tobytes()
