"""File names packed in one buffer: no Python object per file.

An ImageNet-size listing holds 1.28 million paths.  As a list of `str` that
is about 100 bytes a path, and a process forked from the trainer (a
`DataLoader` worker) copies every page of it as soon as it reads the list,
because reading a `str` writes its reference count.  A `PathTable` keeps the
paths as one `bytes` buffer (file system encoding, each path followed by a
NUL byte, which no path contains) and a NumPy array of start offsets: about
one byte per character plus 4 bytes a path, in two objects whose pages a
forked child only reads.

`PathList` is the read-only, list-like view that iterators hand out as
`filenames` and `filepaths`: items are decoded when read, `list(view)` and
`view == [...]` work as with Keras's lists.
"""
import collections.abc
import os
import sys

import numpy as np

__all__ = ["PathTable", "PathList"]

_ENCODING = sys.getfilesystemencoding()
_ERRORS = sys.getfilesystemencodeerrors()
_SEP = "\0"


def _encode(text):
    return text.encode(_ENCODING, _ERRORS)


def _decode(data):
    return data.decode(_ENCODING, _ERRORS)


class PathTable(object):
    """`n` strings in one NUL-separated buffer and `n + 1` start offsets.

    Entry i is `buffer[offsets[i]:offsets[i + 1] - 1]`, decoded with the
    file system encoding (so any name `os.listdir` returns round-trips).
    """

    __slots__ = ("_buf", "_offsets", "_plain")

    def __init__(self, buf, offsets, plain=True):
        self._buf = buf
        self._offsets = offsets
        # False when an entry contains NUL itself (only possible for names
        # given by a user, e.g. a dataframe): then splitting on NUL is wrong.
        self._plain = plain

    @classmethod
    def from_text(cls, text, count):
        """A table from `text`: `count` entries, each followed by NUL."""
        buf = _encode(text)
        ends = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8) == 0)
        if len(ends) != count:
            raise ValueError("expected %d NUL-terminated entries, found %d" % (count, len(ends)))
        return cls(buf, _offsets_from_ends(ends, len(buf)))

    @classmethod
    def from_strings(cls, strings):
        """A table of the given strings (any sequence of `str`)."""
        strings = list(strings)
        if not strings:
            return cls(b"", np.zeros(1, dtype=np.uint32))
        text = _SEP.join(strings) + _SEP
        if text.count(_SEP) == len(strings):
            return cls.from_text(text, len(strings))
        # A string with NUL in it: offsets from the encoded lengths.
        parts = [_encode(s) for s in strings]
        lengths = np.fromiter((len(p) + 1 for p in parts), dtype=np.int64, count=len(parts))
        ends = np.cumsum(lengths) - 1
        buf = b"".join(p + b"\0" for p in parts)
        return cls(buf, _offsets_from_ends(ends, len(buf)), plain=False)

    @classmethod
    def concat(cls, tables):
        """One table of the entries of `tables`, in order."""
        tables = [t for t in tables if len(t)]
        if not tables:
            return cls(b"", np.zeros(1, dtype=np.uint32))
        buf = b"".join(t._buf for t in tables)
        starts, base = [], 0
        for t in tables:
            starts.append(t._offsets[:-1].astype(np.int64) + base)
            base += len(t._buf)
        starts.append(np.array([base], dtype=np.int64))
        return cls(buf, _narrow(np.concatenate(starts), len(buf)),
                   plain=all(t._plain for t in tables))

    def __len__(self):
        return len(self._offsets) - 1

    def get(self, i):
        """Entry `i` (0 <= i < len)."""
        start, stop = int(self._offsets[i]), int(self._offsets[i + 1]) - 1
        return _decode(self._buf[start:stop])

    def slice(self, start, stop):
        """Entries `start:stop` (clipped, non-negative bounds) as a list."""
        start, stop = max(0, start), min(len(self), stop)
        if start >= stop:
            return []
        a, b = int(self._offsets[start]), int(self._offsets[stop]) - 1
        if self._plain:
            return _decode(self._buf[a:b]).split(_SEP)
        return [self.get(i) for i in range(start, stop)]

    def subset(self, start, stop):
        """A new table of entries `start:stop`."""
        start, stop = max(0, start), min(len(self), stop)
        if start >= stop:
            return PathTable(b"", np.zeros(1, dtype=np.uint32))
        a, b = int(self._offsets[start]), int(self._offsets[stop])
        offs = self._offsets[start:stop + 1].astype(np.int64) - a
        return PathTable(self._buf[a:b], _narrow(offs, b - a), self._plain)

    @property
    def nbytes(self):
        """Memory of the buffer and the offsets."""
        return len(self._buf) + self._offsets.nbytes

    def __reduce__(self):
        return (PathTable, (self._buf, self._offsets, self._plain))


def _offsets_from_ends(ends, size):
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    return _narrow(offsets, size)


def _narrow(offsets, size):
    # 4 bytes an entry while the buffer is under 4 GiB (any real listing).
    return offsets.astype(np.uint32 if size < (1 << 32) else np.uint64)


class PathList(collections.abc.Sequence):
    """A read-only list of paths over a `PathTable`: `prefix + entry`.

    Reads as Keras's `filenames` / `filepaths` lists do: `len`, indexing
    (negative too), slices (a `list`), iteration, `in`, `index`, `count`,
    `==` with a list, `list(...)`, `np.array(...)`, pandas columns.  It
    cannot be changed in place; assign a new list to the iterator's
    attribute instead.
    """

    __slots__ = ("_table", "_prefix")
    __hash__ = None

    def __init__(self, table, prefix=""):
        self._table = table
        self._prefix = prefix

    def __len__(self):
        return len(self._table)

    def __getitem__(self, i):
        n = len(self._table)
        if isinstance(i, slice):
            start, stop, step = i.indices(n)
            if step == 1:
                return self._with_prefix(self._table.slice(start, stop))
            return [self[j] for j in range(start, stop, step)]
        try:
            j = i.__index__()
        except AttributeError:
            raise TypeError("list indices must be integers or slices, not %s"
                            % type(i).__name__) from None
        if j < 0:
            j += n
        if not 0 <= j < n:
            raise IndexError("list index out of range")
        return self._prefix + self._table.get(j)

    def _with_prefix(self, items):
        if not self._prefix:
            return items
        p = self._prefix
        return [p + s for s in items]

    def __iter__(self):
        # Decoded a block at a time: a million-entry view never exists whole.
        n, block = len(self._table), 1 << 16
        for start in range(0, n, block):
            yield from self._with_prefix(self._table.slice(start, start + block))

    def tolist(self):
        """A new `list` of the paths."""
        return self._with_prefix(self._table.slice(0, len(self._table)))

    def take(self, indices):
        """The paths at `indices` (a list)."""
        p, get = self._prefix, self._table.get
        return [p + get(int(j)) for j in indices]

    def __eq__(self, other):
        if isinstance(other, PathList):
            if len(other) != len(self):
                return False
            return self.tolist() == other.tolist()
        if isinstance(other, (list, tuple)):
            return len(other) == len(self) and self.tolist() == list(other)
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __add__(self, other):
        return self.tolist() + list(other)

    def __radd__(self, other):
        return list(other) + self.tolist()

    def __array__(self, dtype=None, copy=None):
        return np.array(self.tolist(), dtype=dtype)

    def __repr__(self):
        return repr(self.tolist())

    def __reduce__(self):
        # Pickles as a plain list (what Keras's attribute is).
        return (list, (self.tolist(),))


def join_prefix(directory):
    """The string `os.path.join(directory, name)` puts before a relative `name`."""
    if directory is None:
        return ""
    return os.path.join(directory, "") if os.fspath(directory) else ""
