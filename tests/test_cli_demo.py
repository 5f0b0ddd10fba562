"""`pyimgaug demo`: its folder (./pyimgaug-demo or --dir), dataset reuse and rebuild, the picture."""
import os
import re

import pytest
from PIL import Image

from pyimgaug.__main__ import main
from pyimgaug.cli.sample_data import CLASSES, MANIFEST, ensure_sample_dataset, make_sample_dataset
from test_cli import SIZE, _geometry

PER_CLASS = ["--images-per-class", "2"]


def _files(root):
    """{relative path: (bytes, mtime_ns, inode)} of every file under root."""
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            st = os.stat(os.path.join(d, n))
            out[os.path.relpath(os.path.join(d, n), root)] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return out


def _contents(root):
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                out[os.path.relpath(os.path.join(d, n), root)] = f.read()
    return out


@pytest.fixture
def in_empty_cwd(tmp_path, monkeypatch):
    """An empty working directory, and an empty temporary folder we can watch."""
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    return work, tmp


def test_default_folder_is_pyimgaug_demo_next_to_the_user(in_empty_cwd, capsys):
    work, tmp = in_empty_cwd
    assert main(["demo", "--seed", "0"] + PER_CLASS + SIZE) == 0
    out = capsys.readouterr().out
    root = work / "pyimgaug-demo"
    assert sorted(os.listdir(work)) == ["pyimgaug-demo"]
    assert sorted(os.listdir(root)) == ["images", "preview.png"]
    assert sorted(os.listdir(root / "images")) == sorted(list(CLASSES) + [MANIFEST])
    assert re.search(r"^epoch 1: 8 images in [\d.]+ s, [\d.]+ images/s$", out, re.MULTILINE)
    # The absolute path of the picture is printed, and it is the grid of one batch.
    assert f"Preview grid of one augmented batch: {root / 'preview.png'}" in out
    assert Image.open(root / "preview.png").size == _geometry(4, 8)
    assert os.listdir(tmp) == []  # nothing left in the temporary folder


def test_a_second_run_reuses_the_dataset_untouched(in_empty_cwd, capsys):
    work, _ = in_empty_cwd
    assert main(["demo"] + PER_CLASS + SIZE) == 0
    assert "Wrote a sample dataset" in capsys.readouterr().out
    before = _files(work / "pyimgaug-demo" / "images")
    assert main(["demo"] + PER_CLASS + SIZE) == 0
    out = capsys.readouterr().out
    assert f"Reusing the sample dataset in {work / 'pyimgaug-demo' / 'images'}" in out
    assert _files(work / "pyimgaug-demo" / "images") == before  # same files, not rewritten
    assert sorted(os.listdir(work)) == ["pyimgaug-demo"]  # no staging folder left beside it


def _damage_missing(images):
    os.remove(os.path.join(images, "rings", sorted(os.listdir(os.path.join(images, "rings")))[0]))


def _damage_truncated(images):
    path = os.path.join(images, "waves", sorted(os.listdir(os.path.join(images, "waves")))[1])
    with open(path, "r+b") as f:
        f.truncate(100)


def _damage_flipped_byte(images):
    path = os.path.join(images, "checks", sorted(os.listdir(os.path.join(images, "checks")))[0])
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF  # same length: only the checksum can tell
    open(path, "wb").write(bytes(data))


def _damage_extra_file(images):
    make_sample_dataset(os.path.join(images, "..", "..", "more"), images_per_class=1, classes=("stripes",))
    os.replace(os.path.join(images, "..", "..", "more", "stripes", "stripes_0000.jpg"),
               os.path.join(images, "stripes", "stripes_0099.jpg"))


def _damage_no_manifest(images):  # what an interrupted older run leaves
    os.remove(os.path.join(images, MANIFEST))


def _damage_bad_manifest(images):
    open(os.path.join(images, MANIFEST), "w").write("{not json")


@pytest.mark.parametrize("damage", [_damage_missing, _damage_truncated, _damage_flipped_byte, _damage_extra_file,
                                    _damage_no_manifest, _damage_bad_manifest])
def test_an_incomplete_or_changed_dataset_is_rebuilt(tmp_path, damage, capsys):
    fresh, _ = ensure_sample_dataset(str(tmp_path / "fresh"), images_per_class=2)
    expected = _contents(fresh)
    root = tmp_path / "demo"
    assert main(["demo", "--dir", str(root)] + PER_CLASS + SIZE) == 0
    damage(str(root / "images"))
    capsys.readouterr()
    assert main(["demo", "--dir", str(root)] + PER_CLASS + SIZE) == 0
    out = capsys.readouterr().out
    assert "Wrote a sample dataset" in out and "Reusing" not in out
    assert re.search(r"^epoch 1: 8 images in", out, re.MULTILINE)
    assert _contents(root / "images") == expected  # exactly the dataset, nothing stale
    assert sorted(os.listdir(root)) == ["images", "preview.png"]


def test_another_size_is_rebuilt_not_mixed(tmp_path, capsys):
    root = tmp_path / "demo"
    assert main(["demo", "--dir", str(root), "--images-per-class", "3"] + SIZE) == 0
    assert main(["demo", "--dir", str(root), "--images-per-class", "1"] + SIZE) == 0
    out = capsys.readouterr().out
    assert re.search(r"^epoch 1: 4 images in", out, re.MULTILINE)  # 4 classes x 1, no leftovers
    assert all(len(os.listdir(root / "images" / c)) == 1 for c in CLASSES)


def test_a_folder_of_someone_elses_files_is_never_replaced(tmp_path, capsys):
    images = tmp_path / "mine" / "images"
    images.mkdir(parents=True)
    (images / "holiday.jpg").write_bytes(b"precious")
    assert main(["demo", "--dir", str(tmp_path / "mine")] + PER_CLASS + SIZE) == 2
    err = capsys.readouterr().err
    assert "error:" in err and str(images) in err and "holiday.jpg" in err
    assert (images / "holiday.jpg").read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path / "mine")) == ["images"]


def test_out_option_puts_the_picture_elsewhere(tmp_path, capsys):
    out = tmp_path / "pictures" / "demo.png"
    assert main(["demo", "--dir", str(tmp_path / "work"), "--out", str(out),
                 "--images-per-class", "1"] + SIZE) == 0
    assert Image.open(out).size == _geometry(4, 8)
    assert f"Preview grid of one augmented batch: {out}" in capsys.readouterr().out
    assert not (tmp_path / "work" / "preview.png").exists()
