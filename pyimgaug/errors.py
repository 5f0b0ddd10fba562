"""Errors for image files that cannot be read, and the record of skipped files.

Keras lets Pillow's exception escape as it is.  Those messages often do not
name the file (Keras opens a copy of the bytes, so Pillow prints
`<_io.BytesIO object at 0x...>`), and `Image.DecompressionBombError` is not
an `OSError`, so `except OSError` misses it.  Here every failure to read a
file becomes a `BadImageError`: an `OSError` whose message names the path,
chained (`__cause__`) from the original exception.  Where the two classes can
be combined, the error is also an instance of the original class, so code
written against Keras (`except PIL.UnidentifiedImageError`,
`except Image.DecompressionBombError`) still catches it.
"""
import collections
import contextlib
import re
import threading
import warnings

__all__ = ["BadImageError", "BadImageWarning", "SkippedFile", "ON_ERROR_CHOICES"]

#: Values of the `on_error` argument of the file iterators.
ON_ERROR_CHOICES = ("raise", "skip", "warn")

# Pillow describes the BytesIO copy rather than the file; it says nothing.
_BYTESIO = re.compile(r"\s*<_io\.BytesIO object at 0x[0-9a-fA-F]+>")


class BadImageError(OSError):
    """An image file could not be read or decoded.

    Attributes: `path` (the file) and `reason` (the original error's class
    and message).  `__cause__` is the original exception.
    """

    path = None
    reason = None
    # The class of the original exception (for pickling the combined class).
    _original = None

    def __reduce__(self):
        # Combined classes are made at run time and cannot be pickled by
        # name; rebuild one from its parts (errors cross process boundaries
        # in multi-process data loaders).
        if self.path is None:  # made directly, not by bad_image_error()
            return type(self), self.args, self.__dict__
        return _rebuild, (self.path, self.reason, self._original)


class BadImageWarning(UserWarning):
    """Issued for each file skipped under `on_error="warn"`."""


#: One skipped file: `filename` as in `iterator.filenames`, the `path` that
#: was read, and the `reason` (the original error's class and message).
SkippedFile = collections.namedtuple("SkippedFile", ["filename", "path", "reason"])

_COMBINED = {}
_COMBINED_LOCK = threading.Lock()


def _combined_class(original):
    """A subclass of both `BadImageError` and `original`, or `BadImageError`."""
    if issubclass(original, BadImageError):
        return original
    if issubclass(BadImageError, original):  # OSError, Exception: nothing to add
        return BadImageError
    with _COMBINED_LOCK:
        if original not in _COMBINED:
            try:
                cls = type("BadImageError", (BadImageError, original), {
                    "__module__": __name__,
                    "__qualname__": "BadImageError[%s]" % original.__name__,
                    "__doc__": BadImageError.__doc__,
                })
            except TypeError:  # incompatible layouts (e.g. SyntaxError)
                cls = BadImageError
            _COMBINED[original] = cls
        return _COMBINED[original]


def _reason(exc):
    message = _BYTESIO.sub("", str(exc)).strip()
    name = type(exc).__name__
    return "%s: %s" % (name, message) if message else name


def _make(path, reason, original):
    message = "cannot read image file %r: %s" % (str(path), reason)
    cls = _combined_class(original) if original is not None else BadImageError
    try:
        err = cls(message)
    except Exception:  # the original class wants other constructor arguments
        err = BadImageError(message)
    err.path = str(path)
    err.reason = reason
    err._original = original
    return err


def _rebuild(path, reason, original):
    return _make(path, reason, original)


def bad_image_error(path, exc):
    """The `BadImageError` for `exc` raised while reading `path` (not raised)."""
    if isinstance(exc, BadImageError):
        return exc
    return _make(path, _reason(exc), type(exc))


@contextlib.contextmanager
def reading_image(path):
    """Turns any error raised inside the block into a `BadImageError` naming `path`.

    `MemoryError` passes through unchanged: running out of memory says
    nothing reliable about the file, and skipping on it would hide it.
    """
    try:
        yield
    except (BadImageError, MemoryError):
        raise
    except Exception as exc:
        raise bad_image_error(path, exc) from exc


def check_on_error(on_error):
    """Validates the `on_error` argument."""
    if not isinstance(on_error, str) or on_error not in ON_ERROR_CHOICES:
        raise ValueError("Invalid on_error: %r; expected one of %s"
                         % (on_error, ", ".join(repr(c) for c in ON_ERROR_CHOICES)))
    return on_error


def record_skipped(skipped, record, on_error):
    """Adds `record` to `skipped` (a dict by path), once per file; warns then under "warn".

    A file stays bad from epoch to epoch (and prefetching may build a batch
    twice): one record, and one warning, per file keeps the report readable.
    """
    if skipped.setdefault(record.path, record) is record and on_error == "warn":
        warnings.warn("Skipped bad image file %r: %s" % (record.path, record.reason),
                      BadImageWarning, stacklevel=2)
