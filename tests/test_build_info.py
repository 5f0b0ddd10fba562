"""pyimgaug.show_config() and `python -m pyimgaug info`: what a bug report needs."""
import os
import subprocess
import sys

import numpy as np
import PIL
import pytest

import pyimgaug
from pyimgaug import _core
from pyimgaug.cli import build_info


def _rows():
    return dict(build_info.config_info())


def test_reports_version_isa_runtime_threads_and_library_versions():
    rows = _rows()
    # The package folder itself (the report's module sits one folder below it).
    assert rows["pyimgaug"] == "%s (%s)" % (pyimgaug.__version__,
                                            os.path.dirname(os.path.abspath(pyimgaug.__file__)))
    assert rows["compiled kernel"] == os.path.basename(_core.__file__)
    assert rows["instruction set"].startswith("AVX2" if _core.cpu_has_avx2() else "baseline")
    if _core.cpu_has_avx512_vnni():
        width = "512-bit" if _core.cpu_prefers_512bit() else "256-bit"
        assert "resize loops: AVX-512 VNNI, %s registers" % width in rows["instruction set"]
    if _core._has_openmp:
        assert rows["threading runtime"].startswith("OpenMP")
    else:
        assert "std::thread fallback" in rows["threading runtime"]
    assert rows["default kernel threads"].startswith(f"{_core.default_num_threads()} ")
    assert rows["NumPy"] == np.__version__
    assert rows["Pillow"].startswith(PIL.__version__ + " (")
    assert rows["Python"].split()[1] == ".".join(map(str, sys.version_info[:3]))


@pytest.mark.skipif(not _core._has_openmp or sys.platform == "win32",
                    reason="a build without OpenMP has no runtime file; Windows has no dladdr")
def test_names_the_runtime_file_the_kernel_calls():
    path = pyimgaug._openmp.runtime_path(_core)
    assert path is not None and os.path.isfile(path)
    assert "gomp" in os.path.basename(path) or "omp" in os.path.basename(path)
    # That file is mapped into this process (it is the runtime in use, not a guess).
    if os.path.exists("/proc/self/maps"):
        with open("/proc/self/maps") as f:
            assert path in f.read()
    assert path in _rows()["threading runtime"]


def test_baseline_reason_when_avx2_is_disabled():
    env = dict(os.environ, PYIMGAUG_DISABLE_AVX2="1")
    out = subprocess.run([sys.executable, "-m", "pyimgaug", "info"], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    lines = {ln.split(":", 1)[0]: ln.split(":", 1)[1].strip() for ln in out.splitlines()}
    assert lines["instruction set"].startswith("baseline (")
    assert "PYIMGAUG_DISABLE_AVX2=1" in lines["threading environment"]


def test_pillow_resize_behaviour_line_reports_the_probe(monkeypatch):
    import PIL

    from pyimgaug import pillow_compat

    row = _rows()["Pillow resize behaviour"]
    # The report runs the first-use probe itself, so it can say "exact" (or the fallback).
    assert row == (f"pillow_version={PIL.__version__}, "
                   f"behaviour={pillow_compat.behaviour_for_version(PIL.__version__)}, probe=exact")
    monkeypatch.setattr(pillow_compat, "resize_behaviour_info", lambda: 1 / 0)
    assert _rows()["Pillow resize behaviour"].startswith("unknown (ZeroDivisionError")  # still prints


def test_cli_info_prints_every_row():
    out = subprocess.run([sys.executable, "-m", "pyimgaug", "info"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    labels = [ln.split(":", 1)[0] for ln in out.splitlines()]
    expected = [k for k, _ in build_info.config_info()]
    assert labels == expected
    assert "pyimgaug:" in out and pyimgaug.__version__ in out
