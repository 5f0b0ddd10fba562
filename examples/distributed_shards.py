"""Data-parallel training on shards with `torch.distributed` (gloo, CPU only).

    python examples/distributed_shards.py --world-size 2 [--data DIR] [--epochs 2]

starts `--world-size` processes on this machine (loopback only).  Every rank
builds the same `flow_from_directory` iterator (same `seed`), takes its own
`shard(world_size, rank)`, and trains a small CNN wrapped in
`DistributedDataParallel` on it.  At the end the ranks gather the sample
indices each one used and rank 0 checks, for every epoch, that the shards
were disjoint, equally long and together the whole dataset (plus the few
padding samples of `DistributedSampler`'s rule), and that the ranks ended
with identical weights.  Without `--data` a small generated class-per-folder
dataset is written to a temporary folder.
"""
import argparse
import collections
import datetime
import json
import os
import socket
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from pyimgaug import ImageDataGenerator
from pyimgaug.cli.sample_data import make_sample_dataset


def free_port():
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small_cnn(num_classes):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(16, num_classes))


def check_epoch(shards, n):
    """Rank 0's checks of one epoch: `shards` is the list of each rank's sample indices."""
    lengths = [len(s) for s in shards]
    counts = collections.Counter(j for s in shards for j in s)
    return {
        "lengths": lengths,
        "equal_lengths": len(set(lengths)) == 1,
        "covers_dataset": set(counts) == set(range(n)),
        "padding": sum(lengths) - n,
        "duplicates": sum(c - 1 for c in counts.values()),
    }


def run(rank, world_size, port, data_dir, epochs, result_path):
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=60))
    try:
        torch.manual_seed(0)  # same initial weights on every rank
        torch.set_num_threads(1)
        datagen = ImageDataGenerator(rescale=1 / 255, rotation_range=15, width_shift_range=0.1,
                                     horizontal_flip=True)
        full = datagen.flow_from_directory(data_dir, target_size=(32, 32), batch_size=4,
                                           seed=1234)  # the same seed on every rank
        shard = full.shard(world_size, rank)
        data = shard.to_torch(channels_first=True)
        loader = torch.utils.data.DataLoader(data, batch_size=None, num_workers=0)
        model = DistributedDataParallel(small_cnn(full.num_classes))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        used, labels_match = [], True
        for epoch in range(epochs):
            data.set_epoch(epoch)
            labels = []
            for x, y in loader:
                labels += y.argmax(dim=1).tolist()
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(x), y.argmax(dim=1))
                loss.backward()  # DDP averages the gradients over the ranks
                optimizer.step()
            used.append([int(j) for j in shard.sample_indices(epoch)])
            # The batches held exactly those samples, in that order.
            labels_match &= labels == [int(full.classes[j]) for j in used[-1]]
        gathered = [None] * world_size
        dist.all_gather_object(gathered, used)
        matches = [None] * world_size
        dist.all_gather_object(matches, labels_match)
        checksum = torch.stack([p.detach().double().sum() for p in model.parameters()])
        sums = [torch.zeros_like(checksum) for _ in range(world_size)]
        dist.all_gather(sums, checksum)
        if rank == 0:
            report = {
                "world_size": world_size,
                "samples": full.samples,
                "epochs": [check_epoch([g[e] for g in gathered], full.samples)
                           for e in range(epochs)],
                "labels_match": all(matches),
                "same_weights": all(torch.equal(sums[0], s) for s in sums),
                "final_loss": loss.item(),
            }
            with open(result_path, "w") as f:
                json.dump(report, f, indent=2)
    finally:
        dist.destroy_process_group()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world-size", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data", help="class-per-folder image directory (default: generated)")
    parser.add_argument("--result", help="where rank 0 writes its JSON report")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="pyimgaug-ddp-")
    data_dir = args.data
    if data_dir is None:
        data_dir = make_sample_dataset(os.path.join(tmp, "images"), images_per_class=5,
                                       classes=("checks", "rings", "stripes"), min_side=32,
                                       max_side=48)
    result = args.result or os.path.join(tmp, "result.json")
    mp.spawn(run, args=(args.world_size, free_port(), data_dir, args.epochs, result),
             nprocs=args.world_size, join=True)
    with open(result) as f:
        report = json.load(f)
    print(json.dumps(report, indent=2))
    ok = report["same_weights"] and report["labels_match"] and all(e["equal_lengths"] and e["covers_dataset"]
                                        and e["duplicates"] == e["padding"]
                                        for e in report["epochs"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
