"""Listing with symbolic links: Keras's result where Keras terminates, and an
end (each directory entered once) where a link loop would make Keras walk on.
"""
import os
from collections import Counter

import pytest

from pyimgaug import ImageDataGenerator
from pyimgaug.pipeline.listing import walk_once

def _touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb"):
        pass  # listing never opens a file: empty files are enough


def _tree(root):
    """Two classes; class `a` has a nested folder, class `b` links to a folder outside."""
    for rel in ("a/1.png", "a/sub/2.png", "a/sub/deeper/3.jpg", "b/4.png", "outside/5.png",
                "outside/inner/6.png"):
        _touch(os.path.join(root, rel))
    os.symlink(os.path.join("..", "outside"), os.path.join(root, "b", "ext"))
    os.symlink("1.png", os.path.join(root, "a", "1_link.png"))  # a link to a file
    return root


def _filenames(directory, **kw):
    return ImageDataGenerator().flow_from_directory(directory, **kw).filenames


@pytest.mark.parametrize("follow_links", [False, True])
def test_links_without_loops_list_like_keras(kimage, tmp_path, follow_links):
    root = _tree(str(tmp_path / "data"))
    ref = kimage.ImageDataGenerator().flow_from_directory(root, follow_links=follow_links)
    assert _filenames(root, follow_links=follow_links) == ref.filenames
    if follow_links:
        assert os.path.join("b", "ext", "inner", "6.png") in ref.filenames


def _assert_each_real_file_once_per_class(it):
    # Folders resolved, file names not: a link to a file is its own entry.
    per_class = Counter((os.path.realpath(os.path.dirname(p)), os.path.basename(p), c)
                        for p, c in zip(it.filepaths, it.classes))
    assert all(n == 1 for n in per_class.values()), per_class


def test_link_to_a_parent_terminates_and_lists_each_file_once(tmp_path):
    root = _tree(str(tmp_path / "data"))
    # a/sub/up -> a (a loop), b/ext/back -> b (a loop through the outside folder).
    os.symlink("..", os.path.join(root, "a", "sub", "up"))
    os.symlink(os.path.join("..", "b"), os.path.join(root, "outside", "back"))
    it = ImageDataGenerator().flow_from_directory(root, classes=["a", "b"], follow_links=True)
    assert it.filenames == [os.path.join(*p.split("/")) for p in [
        "a/1.png", "a/1_link.png", "a/sub/2.png", "a/sub/deeper/3.jpg",
        "b/4.png", "b/ext/5.png", "b/ext/inner/6.png"]]
    _assert_each_real_file_once_per_class(it)
    # Without follow_links nothing changes (links to folders are not entered).
    assert _filenames(root, classes=["a", "b"]) == [f for f in it.filenames if "ext" not in f]


def test_mutual_loops_and_self_links_terminate(tmp_path):
    root = str(tmp_path / "data")
    for rel in ("c/x/1.png", "c/y/2.png"):
        _touch(os.path.join(root, rel))
    os.symlink(os.path.join("..", "y"), os.path.join(root, "c", "x", "to_y"))
    os.symlink(os.path.join("..", "x"), os.path.join(root, "c", "y", "to_x"))
    os.symlink(".", os.path.join(root, "c", "self"))
    os.symlink(os.path.join(root, "c"), os.path.join(root, "c", "y", "abs_top"))
    it = ImageDataGenerator().flow_from_directory(root, follow_links=True)
    # x and y are reached directly from c first (sorted, shallowest first).
    assert it.filenames == [os.path.join("c", "x", "1.png"), os.path.join("c", "y", "2.png")]
    _assert_each_real_file_once_per_class(it)


def test_two_links_to_one_folder_list_it_once(tmp_path):
    # Keras would list the folder's files under both links; a sample must not
    # appear twice in an epoch, so the first link in sorted order wins.
    root = str(tmp_path / "data")
    _touch(os.path.join(root, "shared", "s.png"))
    _touch(os.path.join(root, "k", "own.png"))
    os.symlink(os.path.join("..", "shared"), os.path.join(root, "k", "link_b"))
    os.symlink(os.path.join("..", "shared"), os.path.join(root, "k", "link_a"))
    assert _filenames(root, classes=["k"], follow_links=True) == [
        os.path.join("k", "own.png"), os.path.join("k", "link_a", "s.png")]


def test_class_folders_linking_the_same_folder_keep_both_labels(tmp_path):
    # Each class is walked on its own: the same images under two class names
    # are two labelled samples, as in Keras.
    root = str(tmp_path / "data")
    _touch(os.path.join(root, "real", "r.png"))
    os.symlink("real", os.path.join(root, "alias"))
    it = ImageDataGenerator().flow_from_directory(root, follow_links=True, class_mode="sparse")
    assert it.filenames == [os.path.join("alias", "r.png"), os.path.join("real", "r.png")]
    assert list(it.classes) == [0, 1]


@pytest.mark.parametrize("top", ["a", "b"])
def test_walk_once_is_os_walk_where_no_folder_repeats(tmp_path, top):
    top = os.path.join(_tree(str(tmp_path / "data")), top)
    for follow in (False, True):
        ours = sorted((r, sorted(f)) for r, _, f in walk_once(top, follow))
        ref = sorted((r, sorted(f)) for r, _, f in os.walk(top, followlinks=follow))
        assert ours == ref


def test_broken_link_is_listed_like_keras(kimage, tmp_path):
    # A dangling link named like an image is a file name to Keras; reading it
    # fails later (see test_bad_files.py), listing does not.
    root = str(tmp_path / "data")
    _touch(os.path.join(root, "k", "ok.png"))
    os.symlink("nowhere.png", os.path.join(root, "k", "dangling.png"))
    os.symlink("nowhere_dir", os.path.join(root, "k", "dangling_dir"))
    ref = kimage.ImageDataGenerator().flow_from_directory(root, follow_links=True)
    assert _filenames(root, follow_links=True) == ref.filenames
