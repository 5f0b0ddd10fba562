"""The other copies of the kernel's loops against the same references.

On a CPU with AVX2 the main test run exercises the AVX2 copy; this runs the warp,
resize, spline and consistency tests again in a child process with the AVX2 copy switched
off, so both copies are held to the same tolerances on one machine. On a CPU with
AVX-512 VNNI the main run exercises that copy of the resize loops, and the resize
tests run again with it switched off, on the AVX2 copy; where that copy runs on
512-bit registers (AMD), again on the 256-bit registers Intel CPUs use.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import pyimgaug
from pyimgaug import _core

HERE = os.path.dirname(os.path.abspath(__file__))
RESIZE_TESTS = ("test_kernel_resize.py", "test_kernel_resize_edges.py", "test_kernel_consistency.py")


def _run_tests(env, files):
    """Runs the test files in a child process with `env`; they must all pass."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           *[os.path.join(HERE, f) for f in files]],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


def test_switch_selects_the_baseline_copy():
    env = dict(os.environ, PYIMGAUG_DISABLE_AVX2="1")
    out = subprocess.run([sys.executable, "-c", "import pyimgaug; print(pyimgaug._core.cpu_has_avx2())"],
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not _core.cpu_has_avx2(), reason="this CPU runs the baseline copy in the main test run already")
def test_baseline_copy_passes_the_reference_tests():
    env = dict(os.environ, PYIMGAUG_DISABLE_AVX2="1")
    _run_tests(env, ("test_kernel_warp.py", "test_kernel_exact.py", "test_kernel_spline.py") + RESIZE_TESTS)


def test_avx512_switch_selects_the_avx2_resize_loops():
    env = dict(os.environ, PYIMGAUG_DISABLE_AVX512="1")
    out = subprocess.run([sys.executable, "-c", "import pyimgaug; print(pyimgaug._core.cpu_has_avx512_vnni())"],
                         env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(not _core.cpu_has_avx512_vnni(),
                    reason="this CPU runs the AVX2 (or baseline) resize loops in the main test run already")
def test_avx2_resize_loops_pass_the_reference_tests():
    # On a CPU with AVX-512 VNNI the main run exercises that copy of the resize
    # loops; the AVX2 copy (what most other x86 CPUs run) gets the same tests here.
    env = dict(os.environ, PYIMGAUG_DISABLE_AVX512="1")
    _run_tests(env, RESIZE_TESTS)


@pytest.mark.skipif(not _core.cpu_prefers_512bit(),
                    reason="this CPU runs the 256-bit VNNI resize loops (or none) in the main test run already")
def test_256bit_vnni_resize_loops_pass_the_reference_tests():
    # Where the VNNI loops run on 512-bit registers (AMD), the 256-bit copy that
    # Intel CPUs run gets the same tests here.
    env = dict(os.environ, PYIMGAUG_AVX512_NARROW="1")
    check = subprocess.run([sys.executable, "-c", "import pyimgaug; print(pyimgaug._core.cpu_prefers_512bit())"],
                           env=env, capture_output=True, text=True, timeout=120, check=True)
    assert check.stdout.strip() == "False"
    _run_tests(env, RESIZE_TESTS)


def test_bottom_row_of_3x3_matrices_must_be_affine():
    img = np.zeros((1, 4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="bottom row"):
        pyimgaug.transform_batch(img, np.array([[[1.0, 0, 0], [0, 1, 0], [0, 0, 2]]]))
    ok = pyimgaug.transform_batch(img, np.eye(3)[None])
    assert ok.shape == (1, 4, 4, 3)
