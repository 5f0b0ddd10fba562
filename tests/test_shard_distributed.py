"""Shards under torch.distributed: two gloo processes on the loopback interface.

Runs `examples/distributed_shards.py`: each rank trains a small CNN with
DistributedDataParallel on its own shard; rank 0 checks that the shards were
disjoint, equally long and together the dataset, for two epochs.
"""
import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch", reason="torch is optional; `pip install torch`")

EXAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "distributed_shards.py")


@pytest.mark.skipif(not torch.distributed.is_available(),
                    reason="this torch build has no torch.distributed")
def test_two_ranks_train_on_disjoint_shards_that_cover_the_dataset(tmp_path):
    from pyimgaug.cli.sample_data import make_sample_dataset

    data = make_sample_dataset(str(tmp_path / "images"), images_per_class=5,
                               classes=("checks", "rings", "stripes"), min_side=32, max_side=48)
    result = tmp_path / "result.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, EXAMPLE, "--world-size", "2", "--epochs", "2", "--data", data,
         "--result", str(result)],
        capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(result.read_text())
    assert report["samples"] == 15
    assert report["same_weights"] and report["labels_match"]
    for epoch in report["epochs"]:
        # 15 samples on 2 ranks: 8 each, one sample of the epoch's order padded.
        assert epoch["lengths"] == [8, 8]
        assert epoch["covers_dataset"]
        assert epoch["padding"] == 1 and epoch["duplicates"] == 1
