"""PyTorch: a DataLoader of pyimgaug batches, NCHW tensors, worker processes.

    python examples/torch_loop.py [DIR] [--epochs 2] [--workers 2]

Each DataLoader item is a whole augmented batch (`batch_size=None`).  Call
`set_epoch` before each epoch for a new shuffle and new random transforms.
Without DIR a small generated dataset is used.
"""
import argparse
import os
import tempfile
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from pyimgaug import ImageDataGenerator
from pyimgaug.cli.sample_data import make_sample_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    directory = args.directory or make_sample_dataset(
        os.path.join(tempfile.mkdtemp(prefix="pyimgaug-torch-"), "images"),
        images_per_class=24, min_side=64, max_side=160)

    datagen = ImageDataGenerator(rescale=1 / 255, rotation_range=20, width_shift_range=0.2,
                                 height_shift_range=0.2, horizontal_flip=True)
    it = datagen.flow_from_directory(directory, target_size=(64, 64), batch_size=16, seed=1,
                                     class_mode="sparse")
    data = it.to_torch(channels_first=True)  # x: (N, 3, 64, 64) float32, y: (N,)
    loader = DataLoader(data, batch_size=None, num_workers=args.workers,
                        pin_memory=torch.cuda.is_available())

    model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(32, it.num_classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        data.set_epoch(epoch)
        start, seen, total = time.perf_counter(), 0, 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y.long())
            loss.backward()
            optimizer.step()
            seen += len(x)
            total += loss.item() * len(x)
        rate = seen / (time.perf_counter() - start)
        print("epoch {}: loss {:.3f}, {:.0f} images/s".format(epoch + 1, total / seen, rate))


if __name__ == "__main__":
    main()
