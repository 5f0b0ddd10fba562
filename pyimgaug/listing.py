"""Listing image files of a class-per-folder dataset, as Keras does.

Nothing here opens an image: listing is by file name only.
"""
import os
import warnings

#: Extensions Keras accepts, compared case-insensitively.
WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


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


def walk_once(directory, follow_links=False):
    """`os.walk(directory, followlinks=follow_links)`, entering each directory once.

    With `follow_links=True`, `os.walk` follows a link back to a parent
    forever (until the path is too long, listing everything again at every
    level), and a directory reachable through two links is listed twice.
    Here a directory (by device and inode, so whatever path leads to it) is
    entered only the first time the walk reaches it: subdirectories are
    visited in sorted order, so which path that is does not depend on the
    order the file system returns entries in.  Symbolic links to files are
    not directories and are listed as Keras lists them.
    """
    seen = set()
    top = _identity(directory)
    if top is not None:
        seen.add(top)
    for root, dirs, files in os.walk(directory, followlinks=follow_links):
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
        # os.walk (top-down) enters only the names left in `dirs`.
        dirs[:] = keep
        yield root, dirs, files


def iter_valid_files(directory, white_list_formats=WHITE_LIST_FORMATS, follow_links=False):
    """Yields `(root, fname)` for allowed files under `directory`.

    Walks like Keras: `os.walk` results sorted by their root path, the files
    of each root sorted by name; but each directory is entered once (see
    `walk_once`), so a symbolic link loop cannot make the walk endless.
    """
    walk = sorted(walk_once(directory, follow_links), key=lambda entry: entry[0])
    for root, _, files in walk:
        for fname in sorted(files):
            lower = fname.lower()
            if lower.endswith(".tiff"):
                warnings.warn(
                    'Using ".tiff" files with multiple bands will cause distortion. '
                    "Please verify your output."
                )
            if lower.endswith(white_list_formats):
                yield root, fname


def list_class_files(directory, white_list_formats, split, class_index, follow_links):
    """Lists the files of one class folder.

    # Arguments
        directory: path of the class folder; its base name is the class name.
        white_list_formats: tuple of allowed extensions.
        split: `None` or `(start, stop)` fractions; the files kept are
            `files[int(start * n):int(stop * n)]` of the sorted listing.
        class_index: integer label of this class.
        follow_links: follow symbolic links to subdirectories.

    # Returns
        `(classes, filenames)`: a list of `class_index` and the paths relative
        to the parent of `directory` (`"class1/sub/file.jpg"`).
    """
    dirname = os.path.basename(directory)
    # Keras compares with str.endswith(('png', ...)), without the dot; so do we.
    white_list_formats = tuple(white_list_formats)
    files = list(iter_valid_files(directory, white_list_formats, follow_links))
    if split:
        num_files = len(files)
        start, stop = int(split[0] * num_files), int(split[1] * num_files)
        files = files[start:stop]
    filenames = []
    for root, fname in files:
        absolute_path = os.path.join(root, fname)
        filenames.append(os.path.join(dirname, os.path.relpath(absolute_path, directory)))
    return [class_index] * len(filenames), filenames
