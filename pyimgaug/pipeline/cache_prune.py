"""Inspecting and pruning a disk cache directory (`python -m pyimgaug cache DIR`).

An entry is *stale* when it can never be served again:
- its file was deleted, replaced or edited since (its key names the file's
  absolute path, size, modification time and inode: one of them changed);
- it was written by another version of pyimgaug (keys include the version);
- another pack holds the same entry (two writers stored it at once).
Whole directories of another cache format (`pyimgaug-stage-v2/`, ...),
temporary files older than an hour (writers killed mid-write) and damaged
packs are stale too.  Entries of other settings (another `target_size`,
`interpolation`, ...) are not stale: another flow may use them.

`prune` deletes packs whose entries are all stale and rewrites the live
entries of partly stale packs into a new pack (then deletes the old one), so
the space comes back.  With `max_bytes`, it then deletes whole packs, oldest
first, until the directory fits the bound.  Running flows are safe: a pack
deleted under a reader is a miss there, and the entry is decoded again.

Only pack heads, tables and keys are read (a few KiB a pack), so inspecting
a directory of hundreds of GB reads megabytes, plus one `os.stat` per
distinct source file.
"""
import os
import shutil
import time
import zlib

import numpy as np

from . import cache as _cache

__all__ = ["inspect", "prune"]

TMP_AGE_SECONDS = 3600


class _PackInfo(object):
    __slots__ = ("name", "path", "size", "mtime", "table", "keys", "problem", "stale")

    def __init__(self, name, path):
        self.name, self.path = name, path
        self.size = self.mtime = 0
        self.table, self.keys, self.problem = [], None, None
        self.stale = []  # per entry: None (live) or the reason


def _read_pack(info):
    """Reads head, table and keys of one pack into `info` (sets `problem` if damaged)."""
    try:
        with open(info.path, "rb") as f:
            st = os.fstat(f.fileno())
            info.size, info.mtime = st.st_size, st.st_mtime
            head = f.read(_cache._PACK_HEAD_SIZE)
            if len(head) < _cache._PACK_HEAD_SIZE:
                info.problem = "truncated"
                return
            magic, n, table_crc = _cache._PACK_HEAD.unpack_from(head, 0)
            keys_off, keys_len, _ = _cache._KEYS_HEAD.unpack_from(head, _cache._PACK_HEAD.size)
            if magic != _cache._MAGIC:
                info.problem = "bad header"
                return
            if keys_off != _cache._PACK_HEAD_SIZE + n * _cache._ENTRY.size or \
                    keys_off + keys_len > st.st_size:
                info.problem = "bad keys section"
                return
            rest = f.read(keys_off + keys_len - _cache._PACK_HEAD_SIZE)
    except FileNotFoundError:
        info.problem = "vanished"
        return
    except OSError as exc:
        info.problem = "unreadable (%s)" % exc
        return
    table_bytes = rest[:n * _cache._ENTRY.size]
    if zlib.crc32(table_bytes) != table_crc:
        info.problem = "table checksum mismatch"
        return
    info.table = [_cache._ENTRY.unpack_from(table_bytes, i * _cache._ENTRY.size) for i in range(n)]
    if not info.table or info.table[-1][6] + info.table[-1][7] != info.size:
        info.problem = "wrong length"
        return
    info.keys = _cache.read_keys(head + rest)
    if info.keys is None:
        info.problem = "keys unreadable"


def _is_entry_key(key):
    # The shape of cache.entry_key: (path, size, mtime_ns, inode, target_size,
    # color_mode, interpolation, decode, version, format version).
    return (isinstance(key, list) and len(key) == 10 and isinstance(key[0], str)
            and all(isinstance(v, int) for v in key[1:4]))


def _source_state(path, stats):
    if path not in stats:
        try:
            st = os.stat(path)
            stats[path] = (int(st.st_size), int(st.st_mtime_ns), int(st.st_ino))
        except OSError:
            stats[path] = None
    return stats[path]


def _classify(packs):
    """Sets each entry's staleness; duplicates: the first pack in name order keeps it."""
    version = _cache._version()
    stats, seen = {}, set()
    for p in packs:
        p.stale = []
        for (digest, *_), key in zip(p.table, p.keys):
            reason = None
            if digest in seen:
                reason = "duplicate"
            elif _is_entry_key(key):
                if key[8] != version or key[9] != _cache.FORMAT_VERSION:
                    reason = "other version"
                else:
                    state = _source_state(key[0], stats)
                    if state is None:
                        reason = "file deleted"
                    elif state != tuple(key[1:4]):
                        reason = "file changed"
            if reason is None:
                seen.add(digest)
            p.stale.append(reason)


def _scan_root(root):
    """(packs, old format dirs, old temporary files) under a cache root."""
    root = os.path.abspath(os.fspath(root))
    current = _cache.stage_dir(root)
    old_dirs = []
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        names = []
    for name in names:
        path = os.path.join(root, name)
        if name.startswith(_cache._DIR_PREFIX) and path != current and os.path.isdir(path):
            old_dirs.append(path)
    packs, tmps = [], []
    try:
        entries = sorted(os.listdir(current))
    except FileNotFoundError:
        entries = []
    now = time.time()
    for name in entries:
        path = os.path.join(current, name)
        if name.endswith(_cache._PACK_SUFFIX):
            info = _PackInfo(name, path)
            _read_pack(info)
            if info.problem != "vanished":
                packs.append(info)
        elif name.endswith(".tmp"):
            try:
                if now - os.stat(path).st_mtime > TMP_AGE_SECONDS:
                    tmps.append(path)
            except OSError:
                pass
    good = [p for p in packs if p.problem is None]
    _classify(good)
    return packs, old_dirs, tmps


def _tree_bytes(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


def inspect(root):
    """A report (dict) on a cache directory; changes nothing.

    Keys: `path`, `format_version`, `packs`, `entries`, `bytes` (of the
    packs of this format), `live_entries`, `stale_entries` (a dict by
    reason), `stale_bytes` (payload bytes of stale entries), `damaged_packs`,
    `old_format_dirs` and `old_format_bytes`, `old_tmp_files`, and
    `settings`: a list of dicts (target_size, color_mode, interpolation,
    decode, version, entries, bytes) of the live entries.
    """
    packs, old_dirs, tmps = _scan_root(root)
    stale, settings = {}, {}
    entries = live = stale_bytes = 0
    for p in packs:
        if p.problem is not None:
            continue
        for e, key, reason in zip(p.table, p.keys, p.stale):
            entries += 1
            if reason is not None:
                stale[reason] = stale.get(reason, 0) + 1
                stale_bytes += e[7]
                continue
            live += 1
            if _is_entry_key(key):
                s = (tuple(key[4]), key[5], key[6], key[7], key[8])
            else:
                s = ("?", "?", "?", "?", "?")
            n, b = settings.get(s, (0, 0))
            settings[s] = (n + 1, b + e[7])
    return {
        "path": os.path.abspath(os.fspath(root)),
        "format_version": _cache.FORMAT_VERSION,
        "packs": sum(p.problem is None for p in packs),
        "entries": entries,
        "bytes": sum(p.size for p in packs),
        "live_entries": live,
        "stale_entries": stale,
        "stale_bytes": stale_bytes,
        "damaged_packs": sum(p.problem is not None for p in packs),
        "old_format_dirs": len(old_dirs),
        "old_format_bytes": sum(_tree_bytes(d) for d in old_dirs),
        "old_tmp_files": len(tmps),
        "settings": [dict(target_size=list(s[0]) if s[0] != "?" else None, color_mode=s[1],
                          interpolation=s[2], decode=s[3], version=s[4], entries=n, bytes=b)
                     for s, (n, b) in sorted(settings.items(), key=lambda kv: -kv[1][1])],
    }


def _remove(path):
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def _rewrite_live(root, pack):
    """Writes the live entries of `pack` (checked by CRC-32) to a new pack; True if done."""
    items = []
    try:
        with open(pack.path, "rb") as f:
            for (digest, code, h, w, c, crc, off, nbytes), key, reason in zip(
                    pack.table, pack.keys, pack.stale):
                if reason is not None:
                    continue
                f.seek(off)
                raw = f.read(nbytes)
                if len(raw) != nbytes or zlib.crc32(raw) != crc:
                    continue  # damaged: dropped, decoded again when needed
                array = np.frombuffer(raw, dtype=_cache._DTYPES[code]).reshape(h, w, c)
                items.append((digest, array, key))
    except OSError:
        return False
    if not items:
        return True
    writer = _cache.DiskCache(root)
    name, _, _ = writer._write_file(items)
    return name is not None


def prune(root, max_bytes=None):
    """Collects the stale packs of a cache directory, then trims it to `max_bytes`.

    # Arguments
        root: the cache directory (the `cache=` path).
        max_bytes: None, or a bound: whole packs are deleted, oldest first
            (by modification time), until the packs fit.

    # Returns
        A dict: `bytes_before`, `bytes_after` (packs of this format),
        `packs_removed`, `packs_rewritten`, `entries_removed`,
        `damaged_packs_removed`, `old_format_dirs_removed`,
        `tmp_files_removed`, `trimmed_packs` (deleted for the bound).
    """
    if max_bytes is not None and (isinstance(max_bytes, bool) or int(max_bytes) != max_bytes
                                  or max_bytes < 0):
        raise ValueError("max_bytes must be a non-negative integer or None; got %r" % (max_bytes,))
    root = os.path.abspath(os.fspath(root))
    packs, old_dirs, tmps = _scan_root(root)
    report = {"bytes_before": sum(p.size for p in packs), "packs_removed": 0,
              "packs_rewritten": 0, "entries_removed": 0, "damaged_packs_removed": 0,
              "old_format_dirs_removed": 0, "tmp_files_removed": 0, "trimmed_packs": 0}
    for d in old_dirs:
        shutil.rmtree(d, ignore_errors=True)
        report["old_format_dirs_removed"] += 1
    for t in tmps:
        report["tmp_files_removed"] += _remove(t)
    kept = []
    for p in packs:
        if p.problem is not None:
            report["damaged_packs_removed"] += _remove(p.path)
            continue
        n_stale = sum(r is not None for r in p.stale)
        if n_stale == 0:
            kept.append(p)
            continue
        if n_stale < len(p.table) and not _rewrite_live(root, p):
            kept.append(p)  # could not write the live entries elsewhere: keep the pack
            continue
        if _remove(p.path):
            report["entries_removed"] += n_stale
            if n_stale < len(p.table):
                report["packs_rewritten"] += 1
            else:
                report["packs_removed"] += 1
    if max_bytes is not None:
        # Rewritten packs are new files: list again for the sizes.
        kept = [p for p in _scan_root(root)[0] if p.problem is None]
        total = sum(p.size for p in kept)
        for p in sorted(kept, key=lambda p: (p.mtime, p.name)):
            if total <= max_bytes:
                break
            if _remove(p.path):
                report["trimmed_packs"] += 1
            total -= p.size
    report["bytes_after"] = sum(p.size for p in _scan_root(root)[0])
    return report


def format_report(report):
    """Lines of text for `inspect`'s report (the CLI's --info)."""
    mib = 1 << 20
    lines = ["cache %s (format v%d)" % (report["path"], report["format_version"]),
             "  packs: %d, entries: %d, %.1f MiB" % (report["packs"], report["entries"],
                                                     report["bytes"] / mib),
             "  live entries: %d" % report["live_entries"]]
    stale = report["stale_entries"]
    lines.append("  stale entries: %d%s, %.1f MiB of pixels" % (
        sum(stale.values()),
        " (" + ", ".join("%s %d" % kv for kv in sorted(stale.items())) + ")" if stale else "",
        report["stale_bytes"] / mib))
    lines.append("  damaged packs: %d; old-format folders: %d (%.1f MiB); old temporary files: %d"
                 % (report["damaged_packs"], report["old_format_dirs"],
                    report["old_format_bytes"] / mib, report["old_tmp_files"]))
    if report["settings"]:
        lines.append("  live entries by settings:")
        for s in report["settings"]:
            lines.append("    target_size=%s color_mode=%s interpolation=%s decode=%s "
                         "version=%s: %d entries, %.1f MiB" % (
                             s["target_size"], s["color_mode"], s["interpolation"], s["decode"],
                             s["version"], s["entries"], s["bytes"] / mib))
    return lines
