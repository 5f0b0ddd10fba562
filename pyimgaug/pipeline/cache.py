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
entries the next epoch needs next).

`DiskCache` writes a batch's new entries as one pack file (creating a file
costs far more than writing its bytes): a table of (key digest, dtype, shape,
CRC-32, offset, length), the entries' keys (so that `prune` can tell which
went stale), and the payloads, written under a temporary name and renamed
with `os.replace`, so readers see no pack or a whole one.  Packs are
memory-mapped when read.  A damaged or truncated pack is reported with a
`CacheWarning` and deleted; its entries are rebuilt.  With `max_bytes`, a
pack that would take the directory past the bound is not written (after
collecting stale packs once); `cache_prune` collects stale packs and trims a
directory to a bound.
"""
import collections
import hashlib
import json
import mmap
import os
import struct
import threading
import time
import uuid
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["CacheWarning", "MemoryCache", "DiskCache", "entry_key", "make_cache"]

FORMAT_VERSION = 3
_MAGIC = b"PYIAGP03"
_PACK_SUFFIX = ".npx"
_DIR_PREFIX = "pyimgaug-stage-v"
# A pack file: this head (magic, entry count, CRC-32 of the table), then
# _KEYS_HEAD (offset, length and CRC-32 of the keys), padded to 64 bytes; the
# table, one _ENTRY per entry; the keys (UTF-8 JSON, a list with each entry's
# key, or null for a key JSON cannot hold); then the payloads, each starting
# on a 64-byte boundary, the last one ending the file.
_PACK_HEAD = struct.Struct("<8sII")
_KEYS_HEAD = struct.Struct("<QII")
_PACK_HEAD_SIZE = 64
# key digest (32), dtype code, 3 pad bytes, h, w, c, CRC-32 of the payload, offset, payload bytes
_ENTRY = struct.Struct("<32sB3xIIIIQQ")
# The same record as a NumPy dtype: a pack's table is kept as one array (no
# Python object per entry; ImageNet has 1.28 million).
_ENTRY_DTYPE = np.dtype([("digest", "<u8", (4,)), ("code", "u1"), ("pad", "V3"), ("h", "<u4"),
                         ("w", "<u4"), ("c", "<u4"), ("crc", "<u4"), ("off", "<u8"),
                         ("nbytes", "<u8")])
assert _ENTRY_DTYPE.itemsize == _ENTRY.size
_MAX_SIDE, _MAX_CHANNELS = 1 << 20, 64  # a table entry beyond these is damage
_ALIGN = 64
_ZEROS = bytes(_ALIGN)
_DTYPES = {1: np.dtype(np.uint8), 2: np.dtype(np.float32)}
_CODES = {v: k for k, v in _DTYPES.items()}
DEFAULT_CACHE_BYTES = 1 << 30
# Entries waiting for the writer thread at most; past it, `put_many` writes itself.
_MAX_PENDING = 256
# Pack files mapped at once by one cache object (each map holds a descriptor).
_MAX_MAPPED = 256


class CacheWarning(UserWarning):
    """A cache entry was damaged (and rebuilt) or could not be written."""


def _version():
    from .. import __version__
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

    def put_many(self, items):
        for key, array in items:
            self.put(key, array)

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
    """Pack files under `root`, shared by threads, processes and runs.

    A batch's new entries are written as one pack file (see the module
    docstring).  This process keeps an index, key digest -> pack, built by
    listing the directory: again on a miss, when the directory changed.  The
    index is packed (see `_PackedIndex`: about 16 bytes an entry, plus each
    pack's table, 68 bytes an entry, as one NumPy array).  Each
    read checks that the pack file is still the one mapped (inode, size,
    mtime); an entry's CRC-32 is checked the first time this process reads
    it from that pack file.
    """

    kind = "disk"

    def __init__(self, root, max_bytes=None):
        self.root = os.path.abspath(os.fspath(root))
        self.max_bytes = None if max_bytes is None else int(max_bytes)
        self._dir = stage_dir(self.root)
        self._pid = os.getpid()
        self._init_state()

    def _init_state(self):
        self._lock = threading.Lock()
        self._stats = _Stats()
        self._executor = None
        self._writer_pid = None
        self._queued = {}  # digest -> array waiting for the writer thread
        self._index = _PackedIndex()  # digest -> (pack id, entry number)
        self._packs = {}  # pack name -> _Pack
        self._ids = {}  # pack name -> pack id (ids are never reused)
        self._names = []  # pack id -> pack name
        self._mapped = collections.OrderedDict()  # pack names with an open map, oldest first
        self._dropped = set()  # damaged packs (deleted, or not deletable): never read again
        self._dir_mtime = None
        self._next_scan = 0.0
        self._bytes_written = 0
        self._known_bytes = 0  # sizes of the packs in self._packs
        self._pruned = False  # stale packs collected once when the bound was reached
        self._dir_made = False

    def _check_pid(self):
        # A forked child: locks held by the parent's threads would never be
        # released here, and the writer thread does not exist.  The index
        # and the maps stay valid.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._lock = threading.Lock()
            self._stats._lock = threading.Lock()
            self._executor = None
            self._writer_pid = None
            self._queued = {}

    @staticmethod
    def _digest(key):
        return hashlib.sha256(repr(key).encode("utf-8")).digest()

    # -- reading ---------------------------------------------------------
    def get(self, key):
        self._check_pid()
        digest = self._digest(key)
        with self._lock:
            array = self._queued.get(digest)
            where = self._where(digest) if array is None else None
        if array is None and where is None and self._scan():
            with self._lock:
                where = self._where(digest)
        if array is None and where is not None:
            array = self._read(where[0], where[1], digest, key)
        self._stats.count("misses" if array is None else "hits")
        return array

    def _scan(self, force=False):
        """Indexes the packs that other writers added; True if it listed the directory."""
        try:
            mtime = os.stat(self._dir).st_mtime_ns
        except OSError:
            mtime = None
        now = time.monotonic()
        with self._lock:
            if mtime == self._dir_mtime or (not force and now < self._next_scan):
                return False
            self._dir_mtime = mtime
            known = set(self._packs)
        try:
            names = {n for n in os.listdir(self._dir) if n.endswith(_PACK_SUFFIX)}
        except OSError:
            names = set()
        for name in known - names:  # deleted by someone else
            self._drop(name)
        for name in sorted(names - known):
            with self._lock:
                if name in self._packs or name in self._dropped:
                    continue
            try:
                pack = self._map(name, None)
            except OSError:
                continue  # deleted meanwhile, or unreadable here: not indexed
            except _Damaged as exc:
                self._damaged(name, str(exc), None)
                continue
            self._add(name, pack)
        # Listing a large directory on every miss would cost more than the
        # misses: at most 1/20 of the time goes to listing.
        with self._lock:
            self._next_scan = time.monotonic() + 20 * (time.monotonic() - now)
        return True

    def _where(self, digest):
        # (under the lock) -> (pack name, entry number) or None.
        found = self._index.get(digest)
        if found is None:
            return None
        name = self._names[found[0]]
        return (name, found[1]) if name in self._packs else None

    def _index_pack(self, name, pack):
        # (under the lock) A new pack's entries shadow older copies.  A new
        # id each time: a pack dropped and found again is not "forgotten".
        pack_id = self._ids[name] = len(self._names)
        self._names.append(name)
        self._index.add(pack.table["digest"][:, 0], pack_id)

    def _add(self, name, pack):
        with self._lock:
            if name in self._dropped or name in self._packs:
                return
            self._packs[name] = pack
            self._known_bytes += pack.size
            self._index_pack(name, pack)
            if pack.mm is not None:
                self._mark_mapped(name)

    def _mark_mapped(self, name):
        # (under the lock) Each map holds a file descriptor: keep the most
        # recently used _MAX_MAPPED open.  An array already served keeps its
        # map alive until the batch drops it.
        self._mapped[name] = None
        self._mapped.move_to_end(name)
        while len(self._mapped) > _MAX_MAPPED:
            old, _ = self._mapped.popitem(last=False)
            pack = self._packs.get(old)
            if pack is not None:
                pack.mm = None

    def _drop(self, name, dead=False):
        with self._lock:
            pack = self._packs.pop(name, None)
            self._mapped.pop(name, None)
            if dead:
                self._dropped.add(name)
            if pack is not None:
                self._known_bytes -= pack.size
                # Its index entries now name a pack not in self._packs: a
                # miss (as before, an older copy is not looked for); they
                # are dropped at the next compaction.
                pack_id = self._ids.get(name)
                if pack_id is not None:
                    self._index.forget(pack_id)

    def _map(self, name, expected):
        """Opens and checks pack `name` -> a new _Pack (raises _Damaged)."""
        path = os.path.join(self._dir, name)
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            version = (st.st_ino, st.st_size, st.st_mtime_ns)
            if st.st_size < _PACK_HEAD.size:
                raise _Damaged("truncated header (%d bytes)" % st.st_size)
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        magic, n, table_crc = _PACK_HEAD.unpack_from(mm, 0)
        keys_off, keys_len, _ = _KEYS_HEAD.unpack_from(mm, _PACK_HEAD.size)
        end = _PACK_HEAD_SIZE + n * _ENTRY.size
        if magic != _MAGIC:
            raise _Damaged("bad header")
        if end > st.st_size:
            raise _Damaged("truncated table (%d bytes)" % st.st_size)
        if zlib.crc32(mm[_PACK_HEAD_SIZE:end]) != table_crc:
            raise _Damaged("table checksum mismatch")
        table = np.frombuffer(mm, dtype=_ENTRY_DTYPE, count=n, offset=_PACK_HEAD_SIZE).copy()
        if keys_off != end or keys_off + keys_len > st.st_size:
            raise _Damaged("bad keys section")
        end += keys_len
        # Each entry: a known dtype, the length its shape says, inside the file
        # after the keys (in 64-bit arithmetic: no overflow for any table).
        codes = table["code"]
        itemsize = np.select([codes == k for k in _DTYPES], [v.itemsize for v in _DTYPES.values()], 0)
        shape_bytes = (table["h"].astype(np.uint64) * table["w"] * table["c"]
                       * itemsize.astype(np.uint64))
        off, nbytes = table["off"], table["nbytes"]
        # Bounded sides first, so that the product above cannot wrap.
        if (n == 0 or np.any(itemsize == 0) or np.any(table["h"] > _MAX_SIDE)
                or np.any(table["w"] > _MAX_SIDE) or np.any(table["c"] > _MAX_CHANNELS)
                or np.any(nbytes != shape_bytes)
                or np.any(off < end) or np.any(off > st.st_size)
                or np.any(nbytes > st.st_size - off)):
            if n == 0:
                raise _Damaged("wrong length (%d bytes)" % st.st_size)
            raise _Damaged("bad table entry")
        if int(off[-1]) + int(nbytes[-1]) != st.st_size:
            raise _Damaged("wrong length (%d bytes)" % st.st_size)
        if expected is not None and not np.array_equal(table["digest"], expected["digest"]):
            raise _Damaged("table does not match the entries written")
        return _Pack(table, version, mm, st.st_size)

    def _read(self, name, i, digest, key):
        path = os.path.join(self._dir, name)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._drop(name)  # deleted by someone else: a miss
            return None
        except OSError:
            return None  # unreadable now (e.g. permissions): a miss
        version = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            pack = self._packs.get(name)
            if pack is None:
                return None
            mm = pack.mm if pack.version == version else None
            if mm is not None:
                self._mapped.move_to_end(name)
        if mm is None:
            # First read of this pack here, a map closed meanwhile, or a pack
            # file changed on disk since it was mapped (checked again).
            try:
                new = self._map(name, pack.table)
            except FileNotFoundError:
                self._drop(name)
                return None
            except OSError:
                return None  # e.g. out of file descriptors: a miss, the pack stays
            except _Damaged as exc:
                self._damaged(name, str(exc), key)
                return None
            with self._lock:
                if self._packs.get(name) is not pack:
                    return None
                if pack.version != new.version:
                    pack.table, pack.version = new.table, new.version
                    pack.verified = bytearray(len(new.table))
                    self._known_bytes += new.size - pack.size
                    pack.size = new.size
                pack.mm = mm = new.mm
                self._mark_mapped(name)
        e = pack.table[i]
        if e["digest"].tobytes() != digest:
            # The index keys on the digest's first 8 bytes: another entry
            # with the same 8 bytes (about 1 in 2^64 per pair) is a miss.
            return None
        code, h, w, c = int(e["code"]), int(e["h"]), int(e["w"]), int(e["c"])
        crc, off = int(e["crc"]), int(e["off"])
        dtype = _DTYPES[code]
        array = np.frombuffer(mm, dtype=dtype, count=h * w * c, offset=off)
        if not pack.verified[i]:
            if zlib.crc32(array) != crc:
                self._damaged(name, "checksum mismatch", key)
                self._salvage(pack, mm, i)
                return None
            pack.verified[i] = 1
        return array.reshape(h, w, c)

    def _salvage(self, pack, mm, bad):
        # The pack's other entries may have been served already (and so
        # would not be rebuilt this epoch): those whose CRC-32 is right go to
        # a new pack.
        keys = read_keys(mm)
        items = []
        for j, (digest, code, h, w, c, crc, off, nbytes) in enumerate(_entries(pack.table)):
            if j == bad:
                continue
            a = np.frombuffer(mm, dtype=_DTYPES[code], count=h * w * c, offset=off)
            if zlib.crc32(a) == crc:
                items.append((digest, a.reshape(h, w, c).copy(),
                              keys[j] if keys is not None and j < len(keys) else None))
        self._put_digests(items)

    def _damaged(self, name, problem, key):
        self._stats.count("damaged")
        path = os.path.join(self._dir, name)
        warnings.warn("pyimgaug cache: pack %s is damaged (%s)%s; its entries are rebuilt"
                      % (path, problem, "" if key is None else " (read for %s)" % key[0]),
                      CacheWarning, stacklevel=4)
        try:
            os.unlink(path)
        except OSError:
            pass
        # Pack names are never reused: this one is not read again here.
        self._drop(name, dead=True)

    # -- writing ---------------------------------------------------------
    def put(self, key, array):
        """Stores one entry (a pack of one)."""
        self.put_many([(key, array)])

    def put_many(self, items):
        """Stores `(key, array)` pairs as one pack: on the writer thread, or here when it is behind."""
        self._check_pid()
        self._put_digests([(self._digest(k), np.ascontiguousarray(a), _json_key(k))
                           for k, a in items])

    def _put_digests(self, items):
        if not items:
            return
        writer = self._writer()
        with self._lock:
            # At most _MAX_PENDING entries waiting, or one batch however large.
            queued = not self._queued or len(self._queued) + len(items) <= _MAX_PENDING
            if queued:
                # Served from here until written: this process reads its own writes.
                for d, a, _ in items:
                    self._queued[d] = a
        if queued:
            writer.submit(self._write_pack, items, True)
        else:
            self._write_pack(items, False)

    def _writer(self):
        # Creating a file costs tens of microseconds of mostly waiting on the
        # file system; one writer thread takes that off the batch.
        # (Re-made after a fork; at exit, queued writes finish first.)
        with self._lock:
            if self._writer_pid != os.getpid():
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="pyimgaug-cache-writer")
                self._writer_pid = os.getpid()
                self._queued = {}
            return self._executor

    def flush(self):
        """Waits until the entries stored so far are on disk (or failed)."""
        self._check_pid()
        with self._lock:
            executor = self._executor if self._writer_pid == os.getpid() else None
        if executor is not None:
            executor.submit(int).result()

    def _write_pack(self, items, queued):
        try:
            if self._within_bound(_pack_size(items)):
                name, table, size = self._write_file(items)
            else:
                self._stats.count("not_stored", len(items))
                name, table, size = None, None, 0
        except BaseException:
            if queued:
                with self._lock:
                    for d, _, _ in items:
                        self._queued.pop(d, None)
            raise
        with self._lock:
            if name is not None:
                pack = self._packs[name] = _Pack(table, None, None, size)
                self._known_bytes += size
                self._index_pack(name, pack)
                self._bytes_written += size
            if queued:
                for d, _, _ in items:
                    self._queued.pop(d, None)

    def _within_bound(self, size):
        """Whether a pack of `size` bytes keeps the directory within `max_bytes`.

        First come, first kept (as the memory cache): past the bound new
        entries are not stored, nothing live is evicted.  The first time the
        bound is reached, this process collects stale packs (entries of files
        since changed or deleted, of another library version, duplicates)
        and looks again.  Other processes' packs count once this process has
        seen them (the directory is listed again when it changed), so writers
        running at once can pass the bound by the packs they write meanwhile.
        """
        if self.max_bytes is None:
            return True
        self._scan()
        with self._lock:
            fits = self._known_bytes + size <= self.max_bytes
            prune_now = not fits and not self._pruned
            self._pruned = self._pruned or prune_now
        if prune_now:
            from .cache_prune import prune
            prune(self.root)
            self._scan(force=True)
            with self._lock:
                fits = self._known_bytes + size <= self.max_bytes
        return fits

    def _write_file(self, items):
        """Writes one pack -> (name, table array, bytes), or (None, None, 0) when it failed."""
        table, parts = [], []
        keys_bytes = _keys_bytes(items)
        keys_off = _PACK_HEAD_SIZE + len(items) * _ENTRY.size
        off = keys_off + len(keys_bytes)
        for digest, array, _ in items:
            off = _align(off)
            h, w, c = array.shape
            table.append((digest, _CODES[array.dtype], h, w, c, zlib.crc32(array), off,
                          array.nbytes))
            off += array.nbytes
        table_bytes = b"".join(_ENTRY.pack(*e) for e in table)
        head = (_PACK_HEAD.pack(_MAGIC, len(table), zlib.crc32(table_bytes))
                + _KEYS_HEAD.pack(keys_off, len(keys_bytes), zlib.crc32(keys_bytes)))
        parts = [head.ljust(_PACK_HEAD_SIZE, b"\0"), table_bytes, keys_bytes]
        pos = keys_off + len(keys_bytes)
        for e, (_, array, _) in zip(table, items):
            if e[6] > pos:
                parts.append(_ZEROS[:e[6] - pos])
            parts.append(memoryview(array).cast("B"))
            pos = e[6] + e[7]
        # A unique name, written under a temporary name and then renamed:
        # readers see no pack or a whole one, whoever writes at once.
        name = "%d-%s%s" % (os.getpid(), uuid.uuid4().hex, _PACK_SUFFIX)
        path = os.path.join(self._dir, name)
        tmp = path + ".tmp"
        try:
            if not self._dir_made:
                os.makedirs(self._dir, exist_ok=True)
                self._dir_made = True
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileNotFoundError:
                # The cache directory was deleted meanwhile: make it again.
                os.makedirs(self._dir, exist_ok=True)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                _write_all(fd, parts)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            # E.g. the cache directory was deleted meanwhile, or the disk is
            # full: the batch is still right, only these entries are not kept.
            self._stats.count("not_stored", len(items))
            warnings.warn("pyimgaug cache: could not write %s (%s)" % (path, exc), CacheWarning,
                          stacklevel=4)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return None, None, 0
        return name, np.frombuffer(table_bytes, dtype=_ENTRY_DTYPE).copy(), pos

    def disk_bytes(self):
        """Bytes of the pack files now in the directory."""
        total = 0
        try:
            names = os.listdir(self._dir)
        except OSError:
            return 0
        for name in names:
            if name.endswith(_PACK_SUFFIX):
                try:
                    total += os.stat(os.path.join(self._dir, name)).st_size
                except OSError:
                    pass
        return total

    def info(self):
        self.flush()
        s = self._stats
        return {"kind": self.kind, "path": self.root, "hits": s.hits, "misses": s.misses,
                "bytes": self.disk_bytes(), "max_bytes": self.max_bytes,
                "bytes_written": self._bytes_written, "not_stored": s.not_stored,
                "damaged": s.damaged}

    def prune(self, max_bytes=None):
        """Collects stale packs under this cache's directory; see `cache_prune.prune`."""
        from .cache_prune import prune
        self.flush()
        report = prune(self.root, max_bytes=max_bytes)
        self._scan(force=True)
        return report

    def __reduce__(self):
        return (type(self), (self.root, self.max_bytes))


class _Damaged(Exception):
    pass


class _Pack(object):
    """One pack file as this process knows it: its table, and its map while open."""

    __slots__ = ("table", "version", "mm", "verified", "size")

    def __init__(self, table, version, mm, size):
        self.table = table  # _ENTRY_DTYPE array: digest, code, h, w, c, crc32, offset, nbytes
        self.version = version  # (inode, size, mtime) of the file mapped; None: not read yet
        self.mm = mm
        self.verified = bytearray(len(table))  # entries whose CRC-32 was checked
        self.size = size  # bytes of the file


def _entries(table):
    """A table array as `_ENTRY` tuples `(digest, code, h, w, c, crc, offset, nbytes)`."""
    for e in table:
        yield (e["digest"].tobytes(), int(e["code"]), int(e["h"]), int(e["w"]), int(e["c"]),
               int(e["crc"]), int(e["off"]), int(e["nbytes"]))


class _PackedIndex(object):
    """Key digest -> (pack id, entry number), in NumPy arrays.

    Keyed by the digest's first 8 bytes (the caller compares the whole
    digest with the pack's table).  New packs go to a small dict; when it
    grows past a quarter of the arrays, both are merged into sorted arrays
    (keeping the newest copy of a key).  So an entry costs 16 bytes
    (8 key, 4 pack id, 4 entry number), and a lookup is a dict probe plus a
    binary search.  Forgotten packs (deleted) are dropped at the next merge.
    """

    _MIN_RECENT = 4096

    def __init__(self):
        self._keys = np.zeros(0, dtype=np.uint64)
        self._packs = np.zeros(0, dtype=np.uint32)
        self._entries = np.zeros(0, dtype=np.uint32)
        self._recent = {}  # key -> (pack id, entry number), newest last
        self._forgotten = set()

    def __len__(self):
        return len(self._keys) + len(self._recent)

    def add(self, keys, pack_id):
        recent = self._recent
        for i, k in enumerate(keys.tolist()):
            recent.pop(k, None)  # re-inserted: newest last
            recent[k] = (pack_id, i)
        if len(recent) > max(self._MIN_RECENT, len(self._keys) // 4):
            self._merge()

    def forget(self, pack_id):
        self._forgotten.add(pack_id)

    def get(self, digest):
        k = int.from_bytes(digest[:8], "little")
        found = self._recent.get(k)
        if found is not None:
            return None if found[0] in self._forgotten else found
        pos = int(np.searchsorted(self._keys, k))
        if pos < len(self._keys) and int(self._keys[pos]) == k:
            pack_id = int(self._packs[pos])
            if pack_id not in self._forgotten:
                return pack_id, int(self._entries[pos])
        return None

    def _merge(self):
        n = len(self._recent)
        keys = np.fromiter(self._recent.keys(), dtype=np.uint64, count=n)
        vals = np.array(list(self._recent.values()), dtype=np.uint32).reshape(n, 2)
        keys = np.concatenate([self._keys, keys])
        packs = np.concatenate([self._packs, vals[:, 0]])
        entries = np.concatenate([self._entries, vals[:, 1]])
        if self._forgotten:
            keep = ~np.isin(packs, np.fromiter(self._forgotten, dtype=np.uint32))
            keys, packs, entries = keys[keep], packs[keep], entries[keep]
        # Stable: of equal keys the newer (later) comes last; keep the last.
        order = np.argsort(keys, kind="stable")
        keys, packs, entries = keys[order], packs[order], entries[order]
        last = np.ones(len(keys), dtype=bool)
        last[:-1] = keys[1:] != keys[:-1]
        self._keys, self._packs, self._entries = keys[last], packs[last], entries[last]
        self._recent = {}
        self._forgotten = set()


def stage_dir(root):
    """The directory of this format's packs under a cache root."""
    return os.path.join(os.path.abspath(os.fspath(root)), "%s%d" % (_DIR_PREFIX, FORMAT_VERSION))


def _json_key(key):
    """The key as a list JSON can hold, or None (such an entry is never found stale)."""
    try:
        json.dumps(key)
    except (TypeError, ValueError):
        return None
    return list(key)


def read_keys(buf):
    """The keys list of a pack's bytes (or map), or None if unreadable."""
    try:
        n = _PACK_HEAD.unpack_from(buf, 0)[1]
        off, length, crc = _KEYS_HEAD.unpack_from(buf, _PACK_HEAD.size)
        if off != _PACK_HEAD_SIZE + n * _ENTRY.size or off + length > len(buf):
            return None
        raw = bytes(buf[off:off + length])
        if zlib.crc32(raw) != crc:
            return None
        keys = json.loads(raw.decode("utf-8", "surrogatepass"))
    except (struct.error, ValueError, TypeError):
        return None
    return keys if isinstance(keys, list) and len(keys) == n else None


def _keys_bytes(items):
    return json.dumps([k for _, _, k in items], ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8", "surrogatepass")


def _pack_size(items):
    """Bytes of the pack `_write_file` makes of `items` (for the bound check)."""
    off = _PACK_HEAD_SIZE + len(items) * _ENTRY.size + len(_keys_bytes(items))
    for _, array, _ in items:
        off = _align(off) + array.nbytes
    return off


def _align(n):
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def _write_all(fd, parts):
    # writev takes at most IOV_MAX (1024 on Linux) buffers a call.
    parts = [p for p in parts if len(p)]
    i = 0
    while i < len(parts):
        chunk = parts[i:i + 512]
        total = sum(len(p) for p in chunk)
        written = os.writev(fd, chunk) if hasattr(os, "writev") else 0
        if written < total:
            # A short write (or no writev): write the rest plainly.
            rest = b"".join(bytes(p) for p in chunk)[written:]
            while rest:
                rest = rest[os.write(fd, rest):]
        i += len(chunk)


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
        # On disk the bound is optional: None keeps every entry.
        return DiskCache(cache, cache_bytes)
    raise TypeError("cache must be None, 'memory' or a directory path; got %r" % (cache,))
