"""Listing image files of a class-per-folder dataset, as Keras does.

Nothing here opens an image: listing is by file name only.

Keras lists a class folder with `os.walk`, sorts the walk by root path and
the files of each root by name, keeps the names whose lower-cased form ends
with an allowed extension, and builds each file name with `os.path.join` and
`os.path.relpath`.  The result here is the same, but computed a directory at
a time rather than a file at a time: one `os.scandir` per directory, names
sorted and tested with C-level calls on whole lists, and a directory's file
names joined into one string with their common prefix.  No Python object per
file outlives the listing: the names end in a `PathTable` (one buffer).
"""
import operator
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .pathtable import PathTable

#: Extensions Keras accepts, compared case-insensitively.
WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

_name = operator.attrgetter("name")
_SEP = "\0"
# Threads listing class folders at once (Keras uses one per core).
_LISTING_THREADS = 8


def list_classes(directory):
    """Sorted names of the subdirectories of `directory` (the classes)."""
    return [d for d in sorted(os.listdir(directory)) if os.path.isdir(os.path.join(directory, d))]


def _identity(path):
    """What makes two paths the same directory (None if it cannot be read)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _entry_is_dir(entry):
    # As os.walk: follows symbolic links; an error means "not a directory".
    try:
        return entry.is_dir()
    except OSError:
        return False


def _scan(path):
    """`(dirs, files)` names of one directory, split as `os.walk` splits them.

    A directory that cannot be read has no entries (os.walk skips it too).
    """
    try:
        with os.scandir(path) as it:
            entries = list(it)
    except OSError:
        return [], []
    try:
        # Whole-list calls: a million entries cost no Python loop per entry.
        if not any(map(os.DirEntry.is_dir, entries)):
            return [], list(map(_name, entries))  # the usual folder: files only
        is_dir = list(map(os.DirEntry.is_dir, entries))
    except OSError:
        is_dir = list(map(_entry_is_dir, entries))
    names = list(map(_name, entries))
    dirs = [n for n, d in zip(names, is_dir) if d]
    files = [n for n, d in zip(names, is_dir) if not d]
    return dirs, files


def walk_once(directory, follow_links=False):
    """`os.walk(directory, followlinks=follow_links)`, entering each directory once.

    Yields `(root, dirs, files)` top-down.  With `follow_links=True`,
    `os.walk` follows a link back to a parent forever (until the path is too
    long, listing everything again at every level), and a directory
    reachable through two links is listed twice.  Here a directory (by device
    and inode, so whatever path leads to it) is entered only the first time
    the walk reaches it: subdirectories are visited in sorted order, so which
    path that is does not depend on the order the file system returns
    entries in.  Symbolic links to files are not directories and are listed
    as Keras lists them.
    """
    seen = set()
    top = _identity(directory)
    if top is not None:
        seen.add(top)
    if not os.path.isdir(directory):
        return  # os.walk yields nothing for a missing top (or a file)
    stack = [directory]
    while stack:
        root = stack.pop()
        dirs, files = _scan(root)
        keep = []
        for d in sorted(dirs):
            path = os.path.join(root, d)
            if not follow_links and os.path.islink(path):
                continue  # os.walk would not enter it: nothing to mark as seen
            ident = _identity(path)
            if ident is None or ident not in seen:
                if ident is not None:
                    seen.add(ident)
                keep.append(d)
        yield root, keep, files
        # Top-down, first subdirectory first, as os.walk.
        stack.extend(os.path.join(root, d) for d in reversed(keep))


def _valid_names(files, white_list_formats):
    """The sorted names Keras keeps from one root's `files` (warning on .tiff)."""
    files.sort()
    lowered = _SEP.join(files).lower() + _SEP
    first = lowered[:lowered.index(_SEP)]
    common = [s for s in white_list_formats if first.endswith(s)]
    # The usual folder: every name ends with the first name's extension.  A
    # NUL ends each name and nothing else, so counting "jpeg<NUL>" counts the
    # names that end with "jpeg" (without a Python call per name).
    if common and _SEP not in common[0] and lowered.count(common[0] + _SEP) == len(files):
        tiffs = lowered.count(".tiff" + _SEP) if common[0].endswith("tiff") else 0
        keep = None
    else:
        tiffs = lowered.count(".tiff" + _SEP)
        keep = map(operator.methodcaller("endswith", white_list_formats), lowered.split(_SEP))
    for _ in range(tiffs):
        warnings.warn('Using ".tiff" files with multiple bands will cause distortion. '
                      "Please verify your output.")
    if keep is None:
        return files
    return [f for f, k in zip(files, keep) if k]


def class_listing(directory, white_list_formats, split, follow_links):
    """The file names of one class folder, as one string.

    # Arguments
        directory: path of the class folder; its base name is the class name.
        white_list_formats: tuple of allowed extensions.
        split: `None` or `(start, stop)` fractions; the files kept are
            `files[int(start * n):int(stop * n)]` of the sorted listing.
        follow_links: follow symbolic links to subdirectories.

    # Returns
        `(text, count)`: the `count` paths relative to the parent of
        `directory` (`"class1/sub/file.jpg"`, as Keras's `filenames`), each
        followed by a NUL character.
    """
    dirname = os.path.basename(directory)
    # Keras compares with str.endswith(('png', ...)), without the dot; so do we.
    white_list_formats = tuple(white_list_formats)
    groups = []  # (prefix, sorted names) per root, roots sorted as Keras sorts them
    for root, _, files in sorted(walk_once(directory, follow_links), key=lambda e: e[0]):
        names = _valid_names(files, white_list_formats)
        if names:
            groups.append((_prefix(dirname, root, directory), names))
    total = sum(len(names) for _, names in groups)
    if split:
        start, stop = int(split[0] * total), int(split[1] * total)
        groups = _slice_groups(groups, start, stop)
        total = max(0, stop - start)
    text = "".join([p + (_SEP + p).join(names) + _SEP for p, names in groups])
    return text, total


def _prefix(dirname, root, directory):
    """What Keras's `join(dirname, relpath(join(root, fname), directory))` puts before `fname`."""
    # relpath normalises the path, and a file name (one component, never "."
    # or "..") comes out unchanged: compute it once per root with a stand-in.
    marker = "\x01"
    full = os.path.join(dirname, os.path.relpath(os.path.join(root, marker), directory))
    assert full.endswith(marker)
    return full[:-len(marker)]


def _slice_groups(groups, start, stop):
    out, pos = [], 0
    for prefix, names in groups:
        a, b = max(start - pos, 0), min(stop - pos, len(names))
        if a < b:
            out.append((prefix, names[a:b]))
        pos += len(names)
    return out


def list_directory(directory, classes, class_indices, white_list_formats, split, follow_links):
    """Lists every class folder of a `flow_from_directory` dataset.

    Class folders are listed by a few threads, as Keras does: reading a
    directory is mostly time in the kernel, with the GIL released.

    # Returns
        `(table, labels)`: a `PathTable` of Keras's `filenames`, in Keras's
        order, and their class indices (int32).
    """
    def one(subdir):
        return class_listing(os.path.join(directory, subdir), white_list_formats, split,
                             follow_links)

    labels = [class_indices[os.path.basename(os.path.join(directory, c))] for c in classes]
    workers = min(_LISTING_THREADS, os.cpu_count() or 1, len(classes))
    if workers > 1:
        pool = ThreadPoolExecutor(workers, thread_name_prefix="pyimgaug-listing")
        try:
            results = list(pool.map(one, classes))
        finally:
            # On an error or Ctrl-C, the class folders not started are not listed.
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        results = [one(c) for c in classes]
    counts = [count for _, count in results]
    table = PathTable.from_text("".join(text for text, _ in results), sum(counts))
    classes_array = np.repeat(np.asarray(labels, dtype=np.int32), counts)
    return table, classes_array
