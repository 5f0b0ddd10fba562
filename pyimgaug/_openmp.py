"""Loading the compiled kernel without changing how other libraries thread.

Idle OpenMP threads spin for a while after each parallel region by default. In a
data pipeline that shares the cores with decoding threads and the training loop,
spinning kernel threads steal the CPU the others wait for (a batch measured 2-10x
slower on a busy 2-core machine), so pyimgaug wants OMP_WAIT_POLICY=PASSIVE for its
own threads. An OpenMP runtime reads its environment once, when it initialises,
and applies it to every library that shares that runtime. So:

- a wheel carries its own copy of the runtime, renamed by auditwheel / delocate /
  delvewheel (`pyimgaug.libs/libgomp-<hash>.so...`), which no other library can
  load: pyimgaug sets OMP_WAIT_POLICY=PASSIVE while that copy loads and initialises,
  then puts the environment back exactly as it was. Libraries imported later (torch,
  numpy's BLAS) see the user's environment and keep their own policy.
- a build from source links the system's runtime under its common name
  (`libgomp.so.1`), which torch and others share: the environment is left alone,
  because PASSIVE would then apply to their threads too. Instead the kernel does
  not use that runtime's pool: each batch starts its threads (std::thread, some
  tens of microseconds) and they exit when it is done, so nothing spins between
  batches and the shared runtime keeps its defaults for everyone else.
- a policy the user set in the environment is never overridden, and the kernel
  then uses the OpenMP pool under it (the user chose for all libraries).
"""
from __future__ import annotations

import ctypes
import glob
import importlib
import os
import sys
from types import ModuleType
from typing import List, Optional

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
# OpenMP runtimes by file name: GCC, LLVM, Intel, MSVC.
_RUNTIME_PATTERNS = ("libgomp*", "libomp*", "libiomp*", "vcomp*")

# What happened at import, for show_config(): "user", "pyimgaug", "own threads" or
# "runtime default".
wait_policy_source = "runtime default"


def bundled_runtimes() -> List[str]:
    """OpenMP runtime files a repaired wheel carries under a private name.

    auditwheel and delvewheel put them in `pyimgaug.libs/` beside the package,
    delocate in `pyimgaug/.dylibs/`.
    """
    dirs = [os.path.join(os.path.dirname(_PKG_DIR), "pyimgaug.libs"), os.path.join(_PKG_DIR, ".dylibs")]
    return sorted(p for d in dirs for pat in _RUNTIME_PATTERNS for p in glob.glob(os.path.join(d, pat)))


def load_core() -> ModuleType:
    """Imports pyimgaug._core (and the OpenMP runtime it links) as the module docstring says."""
    global wait_policy_source
    if "OMP_WAIT_POLICY" in os.environ:
        wait_policy_source = "user"
        return importlib.import_module("pyimgaug._core")
    if not bundled_runtimes():
        core = importlib.import_module("pyimgaug._core")
        if core._has_openmp:
            core._set_openmp_pool(False)
            wait_policy_source = "own threads"
        return core
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        core = importlib.import_module("pyimgaug._core")
        # GCC's runtime reads the environment when it loads; LLVM's at its first
        # call. Asking it for the default team size initialises either.
        core.default_num_threads()
        wait_policy_source = "pyimgaug"
    finally:
        # os.environ's pop calls unsetenv, so the C environment (what the next
        # runtime to load reads) is restored too.
        os.environ.pop("OMP_WAIT_POLICY", None)
    return core


def wait_policy() -> str:
    """The wait policy pyimgaug's threads run under, and who chose it."""
    if wait_policy_source == "user":
        return f"{os.environ.get('OMP_WAIT_POLICY', '?')} (set in the environment)"
    if wait_policy_source == "pyimgaug":
        return "PASSIVE (for pyimgaug's own runtime copy only; the environment is unchanged)"
    if wait_policy_source == "own threads":
        return ("none: the OpenMP runtime is shared with other libraries, so the kernel starts "
                "its threads per batch and they exit (set OMP_WAIT_POLICY to use the runtime's pool)")
    return "the runtime's default (a runtime shared with other libraries; set OMP_WAIT_POLICY to choose)"


def runtime_path(core: ModuleType) -> Optional[str]:
    """The file of the OpenMP runtime the compiled module calls, or None when unknown.

    POSIX only: dlsym on the module's handle searches it and its dependencies, and
    dladdr names the file that holds the symbol found.
    """
    if not getattr(core, "_has_openmp", False) or sys.platform == "win32":
        return None

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    try:
        symbol = ctypes.CDLL(core.__file__).omp_get_max_threads
        info = DlInfo()
        if not ctypes.CDLL(None).dladdr(ctypes.cast(symbol, ctypes.c_void_p), ctypes.byref(info)):
            return None
        return os.path.realpath(os.fsdecode(info.dli_fname)) if info.dli_fname else None
    except (OSError, AttributeError):
        return None


def runtime_summary() -> str:
    """One line: which threading runtime pyimgaug uses."""
    from . import _core

    if not _core._has_openmp:
        return "none (built without OpenMP: the std::thread fallback)"
    path = runtime_path(_core)
    bundled = {os.path.realpath(p) for p in bundled_runtimes()}
    if path is None:
        where = "bundled with the wheel" if bundled else "linked at build time"
        return f"OpenMP ({where})"
    kind = ("bundled with the wheel, private to pyimgaug" if path in bundled
            else "linked at build time; shared by every library that links the same file")
    return f"OpenMP {path} ({kind})"
