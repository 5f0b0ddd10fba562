"""Caches of the deterministic stage: a file decoded and resized to `target_size`.

In Keras's order a file is decoded and resized before any random transform,
so that image is the same every epoch; keeping it makes later epochs cost only
the warp.  An entry is the stage's exact output: uint8 at `target_size` (as
the kernel's Pillow-exact resize rounds it), or float32 for the rare files
Pillow resizes itself (see `io.decode_for_batch`).

Keys (`entry_key`) cover everything that changes the pixels: the file's
absolute path, size, modification time and inode; target_size, color_mode,
interpolation, decode mode; the library and cache-format versions.  A file
replaced on disk gets a new key, so an old entry is never served.

`MemoryCache` keeps entries until `max_bytes` is reached and then stops
admitting new ones (no eviction: an epoch visits every file once, in a new
order, so evicting the least recently used entry would evict exactly the
entries the next epoch needs next).  `DiskCache` writes one file per entry,
atomically (temporary name, then `os.replace`), and memory-maps it when read;
a damaged or truncated entry is reported with a `CacheWarning`, deleted and
rebuilt.
"""
import hashlib
import mmap
import os
import struct
import threading
import uuid
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["CacheWarning", "MemoryCache", "DiskCache", "entry_key", "make_cache"]

FORMAT_VERSION = 1
_MAGIC = b"PYIAGC01"
# magic, key digest (32), dtype code, 3 pad bytes, h, w, c, crc32, payload bytes
_HEADER = struct.Struct("<8s32sB3xIIIIQ")
_HEADER_SIZE = 128  # payload starts on a cache-line boundary
_DTYPES = {1: np.dtype(np.uint8), 2: np.dtype(np.float32)}
_CODES = {v: k for k, v in _DTYPES.items()}
DEFAULT_CACHE_BYTES = 1 << 30
# Entries waiting for the writer thread at most; past it, `put` writes itself.
_MAX_PENDING = 256


class CacheWarning(UserWarning):
    """A cache entry was damaged (and rebuilt) or could not be written."""


def _version():
    from . import __version__
    return __version__


def entry_key(path, st, target_size, color_mode, interpolation, decode):
    """The key of one file's stage output; `st` is the file's `os.stat` result."""
    return (os.path.abspath(path), int(st.st_size), int(st.st_mtime_ns), int(st.st_ino),
            tuple(int(v) for v in target_size), color_mode, interpolation, decode,
            _version(), FORMAT_VERSION)


class _Stats(object):
    def __init__(self):
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.damaged = 0
        self.not_stored = 0

    def count(self, name, k=1):
        with self._lock:
            setattr(self, name, getattr(self, name) + k)


class MemoryCache(object):
    """Entries in this process's memory, up to `max_bytes` (first come, first kept).

    One entry per path: a new key for a path (the file changed) replaces the
    old entry.  Entries are read-only arrays, shared by every batch.
    """

    kind = "memory"

    def __init__(self, max_bytes=DEFAULT_CACHE_BYTES):
        self.max_bytes = int(max_bytes)
        self._entries = {}  # path -> (key, array)
        self._bytes = 0
        self._lock = threading.Lock()
        self._stats = _Stats()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key[0])
        if entry is not None and entry[0] == key:
            self._stats.count("hits")
            return entry[1]
        self._stats.count("misses")
        return None

    def put(self, key, array):
        array = np.array(array, copy=True)
        array.flags.writeable = False
        with self._lock:
            old = self._entries.pop(key[0], None)
            if old is not None:
                self._bytes -= old[1].nbytes
            if self._bytes + array.nbytes > self.max_bytes:
                self._stats.count("not_stored")
                return
            self._entries[key[0]] = (key, array)
            self._bytes += array.nbytes

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def info(self):
        with self._lock:
            entries, used = len(self._entries), self._bytes
        s = self._stats
        return {"kind": self.kind, "hits": s.hits, "misses": s.misses, "entries": entries,
                "bytes": used, "max_bytes": self.max_bytes, "not_stored": s.not_stored,
                "damaged": s.damaged}

    # A copy (pickle, deepcopy) starts empty: entries are per process.
    def __reduce__(self):
        return (type(self), (self.max_bytes,))


class DiskCache(object):
    """One file per entry under `root`, shared by threads, processes and runs.

    Reads memory-map the entry; its CRC-32 is checked the first time this
    process reads that file version (inode, size, mtime), and its size and key
    digest on every read.
    """

    kind = "disk"

    def __init__(self, root):
        self.root = os.path.abspath(os.fspath(root))
        self._dir = os.path.join(self.root, "pyimgaug-stage-v%d" % FORMAT_VERSION)
        self._verified = {}
        self._made_dirs = set()
        self._executor = None
        self._writer_pid = None
        self._queued = {}  # digest -> array waiting for the writer thread
        self._lock = threading.Lock()
        self._stats = _Stats()
        self._bytes_written = 0

    def _entry_path(self, digest):
        # 16 subdirectories: a directory of 1M entries stays fast, and a first
        # epoch does not pay for creating hundreds of directories.
        h = digest.hex()
        return os.path.join(self._dir, h[0], h[1:40] + ".npx")

    @staticmethod
    def _digest(key):
        return hashlib.sha256(repr(key).encode("utf-8")).digest()

    def get(self, key):
        digest = self._digest(key)
        with self._lock:
            queued = self._queued.get(digest) if self._writer_pid == os.getpid() else None
        if queued is not None:
            self._stats.count("hits")
            return queued
        path = self._entry_path(digest)
        try:
            array = self._read(path, digest, key)
        except FileNotFoundError:
            array = None
        if array is None:
            self._stats.count("misses")
        else:
            self._stats.count("hits")
        return array

    def _read(self, path, digest, key):
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            head = f.read(_HEADER_SIZE)
            problem = None
            if len(head) < _HEADER_SIZE:
                problem = "truncated header"
            else:
                magic, kd, code, h, w, c, crc, nbytes = _HEADER.unpack_from(head)
                dtype = _DTYPES.get(code)
                if magic != _MAGIC or dtype is None:
                    problem = "bad header"
                elif kd != digest:
                    problem = "key mismatch"
                elif nbytes != h * w * c * dtype.itemsize or st.st_size != _HEADER_SIZE + nbytes:
                    problem = "wrong length (%d bytes)" % st.st_size
            if problem is None:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                array = np.frombuffer(mm, dtype=dtype, count=h * w * c, offset=_HEADER_SIZE)
                version = (st.st_ino, st.st_size, st.st_mtime_ns)
                with self._lock:
                    verified = self._verified.get(path) == version
                if not verified:
                    if zlib.crc32(array) != crc:
                        problem = "checksum mismatch"
                    else:
                        with self._lock:
                            self._verified[path] = version
                if problem is None:
                    return array.reshape(h, w, c)
        self._damaged(path, key, problem)
        return None

    def _damaged(self, path, key, problem):
        self._stats.count("damaged")
        with self._lock:
            self._verified.pop(path, None)
        warnings.warn("pyimgaug cache: entry %s for %s is damaged (%s); rebuilding it"
                      % (path, key[0], problem), CacheWarning, stacklevel=3)
        try:
            os.unlink(path)
        except OSError:
            pass

    def put(self, key, array):
        """Stores the entry: on the writer thread, or here when it is behind."""
        writer = self._writer()
        digest = self._digest(key)
        with self._lock:
            queued = writer is not None and len(self._queued) < _MAX_PENDING
            if queued:
                # Served from here until written: this process reads its own writes.
                self._queued[digest] = array
        if not queued:
            self._write(key, array)
            return
        writer.submit(self._write_queued, key, array, digest)

    def _writer(self):
        # Creating a file costs a few hundred microseconds of mostly waiting
        # on the file system; one writer thread takes that off the batch.
        # (Re-made after a fork; at exit, queued writes finish first.)
        with self._lock:
            if self._writer_pid != os.getpid():
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="pyimgaug-cache-writer")
                self._writer_pid = os.getpid()
                self._queued = {}
            return self._executor

    def _write_queued(self, key, array, digest):
        try:
            self._write(key, array)
        finally:
            with self._lock:
                self._queued.pop(digest, None)

    def flush(self):
        """Waits until the entries stored so far are on disk (or failed)."""
        with self._lock:
            executor = self._executor if self._writer_pid == os.getpid() else None
        if executor is not None:
            executor.submit(int).result()

    def _write(self, key, array):
        array = np.ascontiguousarray(array)
        digest = self._digest(key)
        path = self._entry_path(digest)
        h, w, c = array.shape
        header = _HEADER.pack(_MAGIC, digest, _CODES[array.dtype], h, w, c,
                              zlib.crc32(array), array.nbytes).ljust(_HEADER_SIZE, b"\0")
        # A unique temporary name in the entry's directory, then an atomic
        # rename: readers see no entry or a whole one, whoever writes at once.
        tmp = "%s.%d.%s.tmp" % (path, os.getpid(), uuid.uuid4().hex[:12])
        parent = os.path.dirname(path)
        try:
            if parent not in self._made_dirs:
                os.makedirs(parent, exist_ok=True)
                self._made_dirs.add(parent)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileNotFoundError:
                # The cache directory was deleted meanwhile: make it again.
                self._made_dirs.clear()
                os.makedirs(parent, exist_ok=True)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                _write_all(fd, [header, memoryview(array).cast("B")])
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            # E.g. the cache directory was deleted meanwhile, or the disk is
            # full: the batch is still right, only this entry is not kept.
            self._stats.count("not_stored")
            warnings.warn("pyimgaug cache: could not write %s (%s)" % (path, exc), CacheWarning,
                          stacklevel=3)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return
        with self._lock:
            self._bytes_written += _HEADER_SIZE + array.nbytes

    def disk_bytes(self):
        """Bytes of the entries now in the directory (walks it)."""
        total = 0
        for dirpath, _, files in os.walk(self._dir):
            for name in files:
                if name.endswith(".npx"):
                    try:
                        total += os.stat(os.path.join(dirpath, name)).st_size
                    except OSError:
                        pass
        return total

    def info(self):
        self.flush()
        s = self._stats
        return {"kind": self.kind, "path": self.root, "hits": s.hits, "misses": s.misses,
                "bytes": self.disk_bytes(), "bytes_written": self._bytes_written,
                "not_stored": s.not_stored, "damaged": s.damaged}

    def __reduce__(self):
        return (type(self), (self.root,))


def _write_all(fd, parts):
    total = sum(len(p) for p in parts)
    written = os.writev(fd, parts) if hasattr(os, "writev") else 0
    if written < total:
        # A short write (or no writev): write the rest plainly.
        rest = b"".join(bytes(p) for p in parts)[written:]
        while rest:
            rest = rest[os.write(fd, rest):]


def make_cache(cache, cache_bytes=None):
    """The cache object for `flow_*(cache=..., cache_bytes=...)` (validated)."""
    if cache_bytes is not None:
        if isinstance(cache_bytes, bool) or not isinstance(cache_bytes, (int, np.integer)):
            raise TypeError("cache_bytes must be a positive integer or None; got %r" % (cache_bytes,))
        if cache_bytes < 0:
            raise ValueError("cache_bytes must be >= 0; got %r" % (cache_bytes,))
    if cache is None:
        return None
    if isinstance(cache, (MemoryCache, DiskCache)):
        return cache
    if cache == "memory":
        return MemoryCache(DEFAULT_CACHE_BYTES if cache_bytes is None else int(cache_bytes))
    if isinstance(cache, (str, os.PathLike)):
        if os.path.exists(cache) and not os.path.isdir(cache):
            raise ValueError("cache must be None, 'memory' or a directory path; %r is a file" % (cache,))
        return DiskCache(cache)
    raise TypeError("cache must be None, 'memory' or a directory path; got %r" % (cache,))
