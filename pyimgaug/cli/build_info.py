"""What a bug report needs to say: `pyimgaug.show_config()` / `python -m pyimgaug info`.

The version and build of pyimgaug, the instruction set picked at run time, the
threading runtime and its defaults, and the versions of the libraries whose
behaviour pyimgaug reproduces or depends on (NumPy, Pillow, the references).
"""
from __future__ import annotations

import os
import platform
import sys
import warnings
from importlib import metadata
from typing import Dict, List, Optional, Tuple

# Environment variables that change what the kernel or its runtime does.
_THREADING_ENV = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OMP_PROC_BIND", "OMP_PLACES", "OMP_DYNAMIC",
                  "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "PYIMGAUG_DISABLE_AVX2",
                  "PYIMGAUG_DISABLE_AVX512")
# Optional libraries: versions read from their metadata, so nothing is imported.
_OPTIONAL = ("scipy", "keras_preprocessing", "keras", "tensorflow", "torch", "pandas", "opencv-python-headless",
             "opencv-python")


def _cpu_flags() -> Optional[set]:
    """The CPU's feature flags on Linux (None elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def cpu_name() -> str:
    """The CPU's model name (for reports and benchmark headers)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def instruction_set() -> str:
    """The copy of the hot loops this process runs, and why."""
    from .. import _core

    if _core.cpu_has_avx2():
        return "AVX2 + FMA (picked at run time); resize loops: " + _resize_loops()
    if os.environ.get("PYIMGAUG_DISABLE_AVX2", "").startswith("1"):
        return "baseline (PYIMGAUG_DISABLE_AVX2=1)"
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return f"baseline (no AVX2 copy on {platform.machine()})"
    flags = _cpu_flags()
    if flags is not None and not {"avx2", "fma"} <= flags:
        return "baseline (this CPU lacks AVX2 or FMA)"
    return "baseline (this build has no AVX2 copy)"


def _resize_loops() -> str:
    """Which copy of the resize loops runs on top of the AVX2 copies, and why."""
    from .. import _core

    if _core.cpu_has_avx512_vnni():
        if _core.cpu_prefers_512bit():
            return "AVX-512 VNNI, 512-bit registers"
        why = ("PYIMGAUG_AVX512_NARROW=1" if os.environ.get("PYIMGAUG_AVX512_NARROW", "").startswith("1")
               else "512-bit work would lower this CPU's clock")
        return "AVX-512 VNNI, 256-bit registers (%s)" % why
    if os.environ.get("PYIMGAUG_DISABLE_AVX512", "").startswith("1"):
        return "AVX2 (PYIMGAUG_DISABLE_AVX512=1)"
    flags = _cpu_flags()
    if flags is not None and not {"avx512f", "avx512bw", "avx512vl", "avx512_vnni"} <= flags:
        return "AVX2 (this CPU lacks AVX-512 VNNI)"
    return "AVX2 (this build has no AVX-512 VNNI copy)"


def _version(dist: str) -> Optional[str]:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _pillow_resize_behaviour() -> Optional[str]:
    """The Pillow resize behaviour the kernel reproduces, when this build selects one."""
    try:
        from ..pillow_compat import kernel_resize_is_exact, resize_behaviour_info
    except ImportError:
        return None
    try:
        # A report should say whether the kernel is exact here: run the first-use
        # probe now (a few milliseconds) if nothing has resized yet.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the report itself says "fallback to Pillow"
            kernel_resize_is_exact()
        info = resize_behaviour_info()
    except Exception as e:  # a report must still print if the probe itself fails
        return f"unknown ({type(e).__name__}: {e})"
    return ", ".join(f"{k}={v}" for k, v in info.items())


def config_info() -> List[Tuple[str, str]]:
    """(label, value) pairs in the order show_config() prints them."""
    import numpy
    import PIL
    from PIL import features

    from .. import __version__, _core, _openmp

    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    libc = " ".join(platform.libc_ver()).strip() or "-"
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # pyimgaug/, above cli/
    rows: List[Tuple[str, str]] = [
        ("pyimgaug", f"{__version__} ({package_dir})"),
        ("compiled kernel", os.path.basename(_core.__file__)),
        ("Python", f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"),
        ("platform", f"{platform.platform()}; {platform.machine()}; libc {libc}"),
        ("CPU", f"{cpu_name()}; {cpus} CPUs available to this process"),
        ("instruction set", instruction_set()),
        ("threading runtime", _openmp.runtime_summary()),
        ("default kernel threads", f"{_core.default_num_threads()} (num_threads=None)"),
        ("thread budget", _budget_row()),
        ("OpenMP wait policy", _openmp.wait_policy() if _core._has_openmp else "-"),
    ]
    env = {k: os.environ[k] for k in _THREADING_ENV if k in os.environ}
    rows.append(("threading environment", ", ".join(f"{k}={v}" for k, v in env.items()) or "(none set)"))
    rows.append(("NumPy", numpy.__version__))
    jpeg = features.version("jpg") if features.check("jpg") else "absent"
    if features.check_feature("libjpeg_turbo"):
        jpeg = f"libjpeg-turbo {features.version_feature('libjpeg_turbo')}"
    rows.append(("Pillow", f"{PIL.__version__} (JPEG: {jpeg}, zlib {features.version('zlib') or 'absent'})"))
    behaviour = _pillow_resize_behaviour()
    if behaviour is not None:
        rows.append(("Pillow resize behaviour", behaviour))
    others = [f"{d} {v}" for d in _OPTIONAL if (v := _version(d))]
    rows.append(("optional libraries", ", ".join(others) or "(none installed)"))
    return rows


def config_dict() -> Dict[str, str]:
    return dict(config_info())


def _budget_row() -> str:
    from ..pipeline import budget
    user = budget.user_threads()
    how = "set_num_threads" if user is not None else "the CPUs of this process; set_num_threads() changes it"
    return f"{budget.get_num_threads()} decode + kernel threads ({how})"


def show_config() -> None:
    """Prints pyimgaug's build and run-time configuration (paste it into bug reports)."""
    rows = config_info()
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k + ':':{width + 1}s} {v}")
