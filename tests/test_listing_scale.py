"""Listing at scale: Keras's exact result, packed (no Python object per file), shared by forks.

The reference is keras_preprocessing's own `flow_from_directory` on the same
tree: `filenames`, `classes`, `class_indices` and `filepaths` must be equal,
element for element and in order.
"""
import gc
import json
import os
import pickle
import sys
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from pyimgaug import ImageDataGenerator
from pyimgaug.pipeline.pathtable import PathList, PathTable

EXTS = ["png", "PNG", "jpg", "JPG", "jpeg", "JpEg", "bmp", "ppm", "tif", "tiff", "TIFF",
        "txt", "gif", "xjpg", "png.bak", "webp"]
# Names whose order differs between per-component and whole-path sorting, and
# non-ASCII ones (sorted by code point, like Keras).
NAMES = ["a", "a b", "a-b", "a.b", "A", "b", "é", "日本", "z9", "z10", "_x", "~y"]


def _touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb"):
        pass  # listing never opens a file


def _random_tree(root, seed):
    """Class folders with nested folders, mixed-case and foreign extensions, odd names."""
    rng = np.random.default_rng(seed)
    classes = list(rng.choice(NAMES, size=5, replace=False))
    for ci, cname in enumerate(classes):
        folders = [""]
        for _ in range(rng.integers(0, 4)):
            parent = folders[rng.integers(len(folders))]
            folders.append(os.path.join(parent, str(rng.choice(NAMES))))
        for _ in range(rng.integers(0, 25)):
            folder = folders[rng.integers(len(folders))]
            name = "%s%d.%s" % (rng.choice(NAMES), rng.integers(1000), rng.choice(EXTS))
            _touch(os.path.join(root, cname, folder, name))
        if ci == 0:
            # A folder named like an image is a folder, never a file name.
            _touch(os.path.join(root, cname, "folder.png", "inside.jpg"))
    os.makedirs(os.path.join(root, "empty_class"), exist_ok=True)
    if sys.platform.startswith("linux"):
        # A name that is not valid UTF-8 (os.fsdecode keeps it as surrogates).
        _touch(os.path.join(root, classes[1], os.fsdecode(b"raw\xff\xfe.png")))
    # A link to a folder outside (entered only with follow_links).
    _touch(os.path.join(root, "..", "outside_%d" % seed, "linked.png"))
    os.symlink(os.path.abspath(os.path.join(root, "..", "outside_%d" % seed)),
               os.path.join(root, classes[2], "link_dir"))
    return root


def _same_as_keras(kit, it):
    assert it.filenames == kit.filenames
    assert list(it.filenames) == kit.filenames
    assert it.filepaths == kit.filepaths
    np.testing.assert_array_equal(it.classes, kit.classes)
    assert it.classes.dtype == kit.classes.dtype
    assert it.class_indices == kit.class_indices
    assert it.samples == kit.samples


@pytest.mark.filterwarnings("ignore:Using \".tiff\" files")
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("follow_links", [False, True])
@pytest.mark.parametrize("subset", [None, "training", "validation"])
def test_random_trees_list_exactly_like_keras(kimage, tmp_path, seed, follow_links, subset):
    root = _random_tree(str(tmp_path / "data"), seed)
    kw = dict(follow_links=follow_links, subset=subset, class_mode="sparse")
    split = dict(validation_split=0.3) if subset else {}
    kit = kimage.ImageDataGenerator(**split).flow_from_directory(root, **kw)
    it = ImageDataGenerator(**split).flow_from_directory(root, **kw)
    _same_as_keras(kit, it)


def test_classes_argument_and_trailing_slash_directory_like_keras(kimage, tmp_path):
    root = _random_tree(str(tmp_path / "data"), 3)
    classes = sorted(c for c in os.listdir(root) if c != "empty_class")[::-1]
    for directory in (root + os.sep, os.path.relpath(root)):
        kw = dict(classes=classes, class_mode="sparse")
        kit = kimage.ImageDataGenerator().flow_from_directory(directory, **kw)
        it = ImageDataGenerator().flow_from_directory(directory, **kw)
        _same_as_keras(kit, it)


def test_tiff_warning_once_per_tiff_file_like_keras(kimage, tmp_path):
    root = str(tmp_path / "data")
    for name in ("a.tiff", "b.TIFF", "c.tif", "d.png"):
        _touch(os.path.join(root, "k", name))
    import warnings
    counts = []
    for gen in (kimage.ImageDataGenerator(), ImageDataGenerator()):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            gen.flow_from_directory(root)
        counts.append(sum('".tiff"' in str(x.message) for x in w))
    assert counts == [2, 2]


def _hardlinked_tree(root, n, classes, sources=8, size=(6, 7)):
    """`n` ImageNet-style names (n01440764/n01440764_10026.JPEG) linking a few real JPEGs."""
    rng = np.random.default_rng(0)
    src_dir = os.path.join(root, "sources")
    os.makedirs(src_dir)
    srcs = []
    for i in range(sources):
        p = os.path.join(src_dir, "s%d.jpg" % i)
        Image.fromarray(rng.integers(0, 255, size + (3,), dtype=np.uint8)).save(p)
        srcs.append(p)
    train = os.path.join(root, "train")
    for k in range(n):
        wnid = "n%08d" % (1440764 + (k % classes) * 997)
        d = os.path.join(train, wnid)
        if k < classes:
            os.makedirs(d)
        os.link(srcs[k % sources], os.path.join(d, "%s_%d.JPEG" % (wnid, 10000 + k)))
    return train


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory):
    return _hardlinked_tree(str(tmp_path_factory.mktemp("big")), 60_000, 50)


def test_no_python_object_per_listed_file(big_tree):
    gc.collect()
    before = len(gc.get_objects())
    it = ImageDataGenerator().flow_from_directory(big_tree, target_size=(8, 8), batch_size=32)
    it[0]
    gc.collect()
    grown = len(gc.get_objects()) - before
    assert it.samples == 60_000
    # A list of names would add 60,000 objects; the packed table adds a handful.
    assert grown < 2_000, grown


def test_memory_per_listed_file_while_training_at_most_64_bytes(big_tree):
    # Warm-up on one class folder: modules a first batch imports are not
    # memory per file.
    first = sorted(os.listdir(big_tree))[0]
    ImageDataGenerator(rotation_range=10).flow_from_directory(
        big_tree, classes=[first], target_size=(8, 8), batch_size=32)[0]
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        it = ImageDataGenerator(rotation_range=10).flow_from_directory(
            big_tree, target_size=(8, 8), batch_size=32, seed=0)
        it[0]
        next(it)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    per_file = held / it.samples
    # Traced memory includes NumPy's arrays (the epoch's order, the labels):
    # names (~30 B), 4 B offset, 4 B label, 8 B order index, and fixed costs.
    assert per_file <= 64, per_file
    # And it is really measuring: a list of the names alone is far bigger.
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        names = list(it.filenames)
        listed = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert listed / len(names) > 64


def _private_dirty_kib():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1])
    raise AssertionError("no Private_Dirty in smaps_rollup")


def _child_growth(read):
    """KiB of memory a forked child makes private while `read()` runs."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            before = _private_dirty_kib()
            read()
            os.write(w, str(_private_dirty_kib() - before).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = os.read(r, 100)
    os.close(r)
    os.waitpid(pid, 0)
    return int(data)


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"),
                    reason="needs Linux /proc/self/smaps_rollup to measure a child's private memory")
def test_forked_workers_share_the_listing(big_tree):
    it = ImageDataGenerator().flow_from_directory(big_tree, target_size=(8, 8), batch_size=32)
    as_list = list(it.filepaths)  # what Keras holds
    n = it.samples
    order = np.random.default_rng(0).permutation(n)

    def read_ours():  # a DataLoader worker's epoch: every path, batch by batch
        view = it.filepaths
        for b in range(0, n, 32):
            view.take(order[b:b + 32])

    def read_list():
        for b in range(0, n, 32):
            [as_list[j] for j in order[b:b + 32]]

    ours, keras_like = _child_growth(read_ours), _child_growth(read_list)
    # Reading a str writes its reference count: the list's pages are copied
    # (about 100 bytes a path); the packed table's pages are only read.
    assert keras_like * 1024 / n > 40, keras_like
    assert ours * 1024 / n < 8, ours


def test_path_list_reads_like_a_list(big_tree):
    it = ImageDataGenerator().flow_from_directory(big_tree, target_size=(8, 8))
    names = it.filenames
    ref = list(names)
    assert isinstance(names, PathList) and len(names) == len(ref) == 60_000
    assert names[0] == ref[0] and names[-1] == ref[-1] and names[12345] == ref[12345]
    assert names[np.int64(7)] == ref[7]
    assert names[10:20] == ref[10:20] and names[-3:] == ref[-3:] and names[::7000] == ref[::7000]
    assert names[5:2] == []
    assert ref == names and names == ref and not (names != ref)
    assert names != ref[:-1] and names != ref[::-1]
    assert ref[3] in names and names.index(ref[3]) == 3 and names.count(ref[3]) == 1
    assert names + ["x"] == ref + ["x"] and ["x"] + names == ["x"] + ref
    assert np.array(names).tolist() == ref
    assert json.dumps(list(names[:3])) == json.dumps(ref[:3])
    assert pickle.loads(pickle.dumps(names)) == ref
    assert it.filepaths[5] == os.path.join(big_tree, ref[5])
    with pytest.raises(IndexError):
        names[len(ref)]
    with pytest.raises(TypeError):
        names["a"]
    pd = pytest.importorskip("pandas", reason="pandas (test extra) is not installed")
    assert pd.DataFrame({"filename": names})["filename"].tolist() == ref


def test_path_table_round_trips_any_string():
    strings = ["", "a", "é/日本.png", os.fsdecode(b"\xff\xfe.jpg"), "x" * 1000, "b"]
    t = PathTable.from_strings(strings)
    assert PathList(t).tolist() == strings
    assert [t.get(i) for i in range(len(t))] == strings
    assert PathList(t.subset(1, 4)).tolist() == strings[1:4]
    assert PathList(PathTable.concat([t, t.subset(2, 3)])).tolist() == strings + strings[2:3]
    # A NUL inside a string (possible in a dataframe) cannot be split on.
    odd = ["a\0b", "c"]
    assert PathList(PathTable.from_strings(odd)).tolist() == odd
    assert PathList(PathTable.from_strings([])).tolist() == []


def test_filenames_can_be_assigned_like_keras(shared_dataset):
    it = ImageDataGenerator().flow_from_directory(shared_dataset, target_size=(8, 8))
    new = list(it.filenames)[::-1]
    it.filenames = new
    assert it.filenames == new
    assert it.filepaths == [os.path.join(shared_dataset, f) for f in new]
