"""`python -m pyimgaug {demo,preview,bench}` on small generated datasets."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pyimgaug import img_to_array, load_img
from pyimgaug.__main__ import main
from pyimgaug.cli.preview import _LABEL_HEIGHT, _PAD
from pyimgaug.cli.sample_data import make_sample_dataset

SIZE = ["--target-size", "24", "32"]  # H W: different, to catch a swapped axis
TH, TW = 24, 32


def _geometry(rows, cols, labelled=True):
    cap = _LABEL_HEIGHT if labelled else 0
    return cols * (TW + _PAD) + _PAD, rows * (TH + cap + _PAD) + _PAD


def _tile(canvas, r, c, labelled=True):
    """The pixels of tile (r, c) and of its caption strip."""
    cap = _LABEL_HEIGHT if labelled else 0
    x0 = _PAD + c * (TW + _PAD)
    y0 = _PAD + r * (TH + cap + _PAD)
    a = np.asarray(canvas)
    return a[y0 + cap:y0 + cap + TH, x0:x0 + TW], a[y0:y0 + cap, x0:x0 + TW]


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli") / "images"
    return make_sample_dataset(str(root), images_per_class=3, classes=("cats", "dogs"),
                               min_side=30, max_side=50)


def test_preview_writes_a_labelled_grid_of_the_asked_geometry(tmp_path, image_dir, capsys):
    out = tmp_path / "sub" / "grid.png"
    assert main(["preview", image_dir, "--out", str(out), "--rows", "2", "--cols", "3",
                 "--seed", "1"] + SIZE) == 0
    assert str(out) in capsys.readouterr().out
    grid = Image.open(out)
    assert grid.size == _geometry(2, 3) and grid.mode == "RGB"
    for r in range(2):
        for c in range(3):
            tile, caption = _tile(grid, r, c)
            assert tile.std() > 0  # an image, not the white background
            assert (caption < 128).any()  # a class name is written above it


def test_preview_with_fewer_images_than_cells_leaves_cells_blank(tmp_path, image_dir):
    out = tmp_path / "grid.png"
    assert main(["preview", image_dir, "--out", str(out), "--rows", "3", "--cols", "3"]
                + SIZE) == 0
    grid = Image.open(out)
    assert grid.size == _geometry(3, 3)
    tile, caption = _tile(grid, 2, 2)  # the 9th cell: only 6 images
    assert (tile == 255).all() and (caption == 255).all()


def test_compare_puts_each_original_beside_its_augmented_image(tmp_path, image_dir):
    out = tmp_path / "compare.png"
    assert main(["preview", image_dir, "--out", str(out), "--rows", "2", "--cols", "4",
                 "--compare", "--seed", "3", "--interpolation", "bilinear"] + SIZE) == 0
    grid = Image.open(out)
    assert grid.size == _geometry(2, 4)
    files = sorted(os.path.join(image_dir, c, f) for c in ("cats", "dogs")
                   for f in sorted(os.listdir(os.path.join(image_dir, c))))
    for k in range(4):  # shuffle=False: pair k is the k-th file
        r, c = divmod(2 * k, 4)
        original, _ = _tile(grid, r, c)
        augmented, _ = _tile(grid, r, c + 1)
        expected = img_to_array(load_img(files[k], target_size=(TH, TW),
                                         interpolation="bilinear")).astype(np.uint8)
        np.testing.assert_array_equal(original, expected)
        assert augmented.shape == original.shape and not np.array_equal(augmented, original)


def test_bench_prints_a_rate_per_epoch_and_no_progress_bar_off_a_terminal(image_dir, capsys):
    assert main(["bench", image_dir, "--epochs", "2", "--batch-size", "4"] + SIZE) == 0
    captured = capsys.readouterr()
    lines = re.findall(r"^epoch (\d): 6 images in [\d.]+ s, [\d.]+ images/s$", captured.out,
                       re.MULTILINE)
    assert lines == ["1", "2"]
    assert "\r" not in captured.err and "[" not in captured.err


def test_missing_or_empty_directory_is_an_error(tmp_path, capsys):
    missing = str(tmp_path / "nope")
    assert main(["preview", missing, "--out", str(tmp_path / "g.png")]) == 2
    assert "directory not found" in capsys.readouterr().err
    assert main(["bench", missing]) == 2
    assert missing in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["preview", str(empty), "--out", str(tmp_path / "g.png")]) == 2
    assert "no images found" in capsys.readouterr().err
    assert main(["bench", str(empty)]) == 2
    assert not (tmp_path / "g.png").exists()


@pytest.mark.parametrize("argv, word", [
    (["preview", ".", "--out", "g.png", "--rows", "0"], "--rows"),
    (["preview", ".", "--out", "g.png", "--cols", "-2"], "--cols"),
    (["bench", ".", "--epochs", "0"], "--epochs"),
    (["bench", ".", "--batch-size", "x"], "--batch-size"),
    (["demo", "--images-per-class", "0"], "--images-per-class"),
    (["preview", "."], "--out"),
    (["frobnicate"], "invalid choice"),
    ([], "command"),
])
def test_bad_arguments_exit_with_status_2_naming_them(argv, word, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert word in capsys.readouterr().err


def _run_module(args, tty):
    """Runs `python -m pyimgaug ARGS`, its stderr a pseudo-terminal or a pipe."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if not tty:
        proc = subprocess.run([sys.executable, "-m", "pyimgaug"] + args, capture_output=True,
                              timeout=120, env=env)
        return proc.returncode, proc.stderr.decode()
    pty = pytest.importorskip("pty", reason="pseudo-terminals are POSIX-only")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "pyimgaug"] + args,
                                stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        return proc.wait(timeout=120), b"".join(chunks).decode(errors="replace")
    finally:
        os.close(master)


def test_progress_bar_only_on_a_terminal(image_dir):
    args = ["bench", image_dir, "--epochs", "1", "--batch-size", "2"] + SIZE
    code, err = _run_module(args, tty=True)
    assert code == 0
    assert "\r" in err and "epoch 1 [" in err and "6/6 img" in err
    code, err = _run_module(args, tty=False)
    assert code == 0 and err == ""
