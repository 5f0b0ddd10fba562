"""Makes pyimgaug's iterators `keras.utils.PyDataset`s once Keras is loaded.

Keras 3's `fit`, `evaluate` and `predict` accept a Python data source only if
it is an instance of `keras.utils.PyDataset`.  pyimgaug must not import Keras
(it is an optional, heavy dependency), so its `Iterator` derives from a
placeholder class (`KerasBase`) whose base is swapped for `PyDataset`:

- at once, if Keras's `py_dataset_adapter` module is already imported;
- otherwise right after that module is first imported (a post-import hook on
  `sys.meta_path` that only watches that one module name and removes itself).

Setting the environment variable `PYIMGAUG_KERAS_HOOK=0` turns this off; then
wrap iterators with `pyimgaug.integrations.keras.as_pydataset`.
"""
import importlib.abc
import os
import sys
import threading

TARGET = "keras.src.trainers.data_adapters.py_dataset_adapter"

_LOCK = threading.RLock()


class _Root(object):
    """`KerasBase`'s first base: a plain Python class, swappable for `PyDataset`."""

    # (Python refuses to swap a base that is `object` itself.)


class KerasBase(_Root):
    """Placeholder base of `Iterator`; based on `keras.utils.PyDataset` with Keras."""


def adopt_pydataset():
    """Rebases `KerasBase` on Keras's `PyDataset` if Keras is loaded; returns success."""
    module = sys.modules.get(TARGET)
    py_dataset = getattr(module, "PyDataset", None) if module is not None else None
    if py_dataset is None:
        return False
    with _LOCK:
        if py_dataset in KerasBase.__mro__:
            return True
        try:
            KerasBase.__bases__ = (py_dataset,)
        except TypeError:  # an incompatible PyDataset layout: use as_pydataset()
            return False
    return True


class _CallbackLoader(importlib.abc.Loader):
    """Runs the real loader, then `callback`; everything else is delegated."""

    def __init__(self, loader, callback):
        self._loader = loader
        self._callback = callback

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._callback()

    def __getattr__(self, name):
        return getattr(self.__dict__["_loader"], name)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the real loader of `TARGET` once."""

    def __init__(self):
        self._busy = False

    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET or self._busy:
            return None
        self._busy = True
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            self._busy = False
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _CallbackLoader(spec.loader, _on_keras_loaded)
        return spec


_FINDER = None


def _on_keras_loaded():
    _remove_finder()
    adopt_pydataset()


def _remove_finder():
    global _FINDER
    with _LOCK:
        if _FINDER is not None and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
        _FINDER = None


def install():
    """Adopts `PyDataset` now, or once Keras is imported (unless turned off)."""
    global _FINDER
    if os.environ.get("PYIMGAUG_KERAS_HOOK", "1").strip().lower() in ("0", "false", "no", "off"):
        return
    if adopt_pydataset():
        return
    with _LOCK:
        if _FINDER is None:
            _FINDER = _PostImportFinder()
            sys.meta_path.insert(0, _FINDER)
