"""Ray Data: a cluster augments, N trainers each take a disjoint part of every epoch.

    python examples/ray_train.py [DIR] [--epochs 2] [--trainers 2] [--address auto]

`it.to_ray(epoch)` is a `ray.data.Dataset` of the epoch's samples: Ray actors
read, decode, resize and augment them (one kernel call per Ray batch), each
sample with exactly the pixels the local iterator would give it.
`streaming_split(n)` hands each trainer its own stream; together they see
every sample once per epoch.  Here the trainers are threads of this process,
each with its own model, training in a plain loop over `iter_batches`
(`iter_torch_batches` does the same but needs Ray Train,
`ray[train]`; with Ray Train's `TorchTrainer` the dataset is passed as
`datasets=` and split for the workers).

The files must be at the same path on every node (a shared filesystem).
Without `--address`, a local Ray instance is started; without DIR a small
generated dataset is used.  Needs `pip install 'pyimgaug[ray]' torch`.
"""
import argparse
import os
import tempfile
import threading
import time

import ray
import torch
from torch import nn

from pyimgaug import ImageDataGenerator
from pyimgaug.cli.sample_data import make_sample_dataset


def make_model(num_classes):
    return nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(32, num_classes))


def train_one_epoch(rank, stream, model, optimizer, report):
    """A trainer's loop over its part of the epoch (NHWC float32 images -> NCHW)."""
    seen, total = 0, 0.0
    try:
        batches = stream.iter_batches(batch_size=16, batch_format="numpy")
        for batch in batches:
            # Ray's batches are read-only views: torch.tensor copies them.
            x = torch.tensor(batch["image"]).permute(0, 3, 1, 2)
            y = torch.tensor(batch["label"]).long()
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            seen += len(x)
            total += loss.item() * len(x)
    except BaseException as exc:  # reported by the main thread
        report[rank] = exc
        return
    report[rank] = (seen, total / max(seen, 1))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--trainers", type=int, default=2)
    parser.add_argument("--address", default=None, help="Ray cluster address (default: local)")
    args = parser.parse_args()
    directory = args.directory or make_sample_dataset(
        os.path.join(tempfile.mkdtemp(prefix="pyimgaug-ray-"), "images"),
        images_per_class=24, min_side=64, max_side=160)
    ray.init(address=args.address, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False

    datagen = ImageDataGenerator(rescale=1 / 255, rotation_range=20, width_shift_range=0.2,
                                 height_shift_range=0.2, horizontal_flip=True)
    it = datagen.flow_from_directory(directory, target_size=(64, 64), batch_size=16, seed=1,
                                     class_mode="sparse")
    models = [make_model(it.num_classes) for _ in range(args.trainers)]
    optimizers = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in models]
    for epoch in range(args.epochs):
        start = time.perf_counter()
        # A new epoch: a new shuffle and new transforms, (seed, epoch) on every node.
        streams = it.to_ray(epoch).streaming_split(args.trainers)
        report = {}
        threads = [threading.Thread(target=train_one_epoch,
                                    args=(k, streams[k], models[k], optimizers[k], report))
                   for k in range(args.trainers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k in sorted(report):
            if isinstance(report[k], BaseException):
                raise RuntimeError("trainer %d failed" % k) from report[k]
        seen = sum(s for s, _ in report.values())
        rate = seen / (time.perf_counter() - start)
        print("epoch {}: {} samples over {} trainers ({}), {:.0f} images/s".format(
            epoch + 1, seen, args.trainers,
            ", ".join("loss {:.3f}".format(report[k][1]) for k in sorted(report)), rate))
        assert seen == it.samples, (seen, it.samples)
    ray.shutdown()


if __name__ == "__main__":
    main()
