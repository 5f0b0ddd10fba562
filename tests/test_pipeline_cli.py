"""`python -m pyimgaug bench` with the pipeline options: epoch 1 and 2+ side by side."""
import pytest

from pyimgaug.__main__ import main

from pipeline_helpers import mixed_dataset


@pytest.mark.parametrize("extra", [["--cache", "memory", "--workers", "1"],
                                   ["--cache", "DISK", "--decode", "fast"],
                                   ["--workers", "2", "--max-queue-size", "2"]])
def test_bench_prints_both_epochs_and_the_cache(tmp_path, capsys, extra):
    root = mixed_dataset(tmp_path / "data")
    extra = [str(tmp_path / "cache") if a == "DISK" else a for a in extra]
    assert main(["bench", root, "--epochs", "3", "--batch-size", "4", "--target-size", "24", "24"]
                + extra) == 0
    out = capsys.readouterr().out
    assert "epoch 1:" in out and "epoch 2+:" in out
    if "--cache" in extra:
        # Each of the 12 files misses once; with workers, a batch of the next
        # epoch may be built while a file is still being decoded (one more miss).
        line = [ln for ln in out.splitlines() if ln.startswith("cache: ")][0]
        hits, misses = int(line.split()[1]), int(line.split()[3])
        assert misses >= 12 and hits > 0 and hits + misses >= 36
    else:
        assert "cache: " not in out


def test_bench_rejects_bad_options(tmp_path, capsys):
    root = mixed_dataset(tmp_path / "data")
    for bad in (["--workers", "-1"], ["--decode", "slow"], ["--max-queue-size", "0"]):
        with pytest.raises(SystemExit):
            main(["bench", root] + bad)
