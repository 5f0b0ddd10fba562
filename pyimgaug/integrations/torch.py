"""PyTorch: a pyimgaug iterator's batches as a `torch.utils.data` dataset.

Importing this module imports `torch`.  An item of the dataset is a whole
batch, so the `DataLoader` must not batch again:

```python
ds = it.to_torch(channels_first=True)   # NCHW image tensors
loader = DataLoader(ds, batch_size=None, num_workers=4, pin_memory=True)
for epoch in range(epochs):
    ds.set_epoch(epoch)                  # a new shuffle and new transforms
    for x, y in loader:
        ...
```

- Batch `i` of epoch `e` is a pure function of the iterator's seed, `e` and
  `i`, so every worker builds exactly the batches it is handed: none is lost
  or built twice, and the bytes do not depend on `num_workers`.
- Each worker process seeds Python's `random`, NumPy's global RNG and torch
  from the iterator's seed, the epoch and its worker id (for a
  `preprocessing_function` that draws random numbers): runs with the same
  seed repeat, and no two workers share a stream.
- `persistent_workers=True` keeps the workers' copy of the dataset, so
  `set_epoch` in the main process does not reach them: pass
  `sampler=ds.epoch_sampler()`, which hands the epoch to the workers with
  every index.
"""
import os
import random

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, Sampler, get_worker_info

__all__ = ["BatchDataset", "IterableBatchDataset", "EpochSampler", "to_torch", "worker_seed"]

_WORKER_DOMAIN = 5  # separate from pyimgaug.pipeline.params' domains (0-2)


def worker_seed(iterator, epoch, worker_id):
    """The 32-bit seed of DataLoader worker `worker_id` in `epoch`."""
    ss = np.random.SeedSequence([int(iterator._base_seed), _WORKER_DOMAIN, int(epoch),
                                 int(worker_id)])
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _image_layout(iterator, channels_first):
    """Which axes permutation (or None) turns the iterator's images into the asked layout."""
    own_first = getattr(iterator, "data_format", "channels_last") == "channels_first"
    if channels_first is None or bool(channels_first) == own_first:
        return None
    return (0, 3, 1, 2) if channels_first else (0, 2, 3, 1)


def _tensor(a, perm=None):
    a = np.asarray(a)
    if a.dtype.kind not in "biufc":
        return a  # strings or objects (e.g. raw labels) stay NumPy
    if perm is not None and a.ndim == 4:
        a = a.transpose(perm)
    return torch.from_numpy(np.ascontiguousarray(a))


def convert_batch(batch, perm=None, images_in_targets=False):
    """A pyimgaug batch as tensors, in the same structure.

    The images (the first element, or the first of a list of inputs) are
    permuted by `perm`; so are the targets when they are images
    (`class_mode="input"`).
    """
    if isinstance(batch, np.ndarray):
        return _tensor(batch, perm)
    parts = list(batch)
    inputs = parts[0]
    if isinstance(inputs, list):
        parts[0] = [_tensor(inputs[0], perm)] + [_tensor(a) for a in inputs[1:]]
    else:
        parts[0] = _tensor(inputs, perm)
    for k in range(1, len(parts)):
        target_perm = perm if (k == 1 and images_in_targets) else None
        if isinstance(parts[k], list):
            parts[k] = [_tensor(a) for a in parts[k]]
        else:
            parts[k] = _tensor(parts[k], target_perm)
    return tuple(parts)


class _BatchSource(object):
    """What both datasets share: the iterator, the layout, the epoch, worker seeding."""

    def _setup(self, iterator, channels_first):
        if not hasattr(iterator, "batch_at"):
            raise TypeError("`iterator` must be a pyimgaug Iterator; received {}."
                            .format(type(iterator).__name__))
        if channels_first is not None and not isinstance(channels_first, (bool, np.bool_)):
            raise TypeError("`channels_first` must be True, False or None; received {!r}."
                            .format(channels_first))
        self.iterator = iterator
        self.channels_first = channels_first
        self.epoch = iterator.epoch
        self._perm = _image_layout(iterator, channels_first)
        self._images_in_targets = getattr(iterator, "class_mode", None) == "input"
        self._seeded = None

    def set_epoch(self, epoch):
        """Makes the next pass serve epoch `epoch` (call it before each epoch)."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError("`epoch` must be an integer >= 0; received {!r}.".format(epoch))
        self.epoch = int(epoch)

    def worker_seed(self, worker_id, epoch=None):
        """The seed a worker uses (see `pyimgaug.integrations.torch.worker_seed`)."""
        return worker_seed(self.iterator, self.epoch if epoch is None else epoch, worker_id)

    def _seed_worker(self, epoch):
        info = get_worker_info()
        if info is None:
            return
        mark = (os.getpid(), epoch)
        if self._seeded == mark:
            return
        self._seeded = mark
        seed = self.worker_seed(info.id, epoch)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def _batch(self, epoch, index):
        self._seed_worker(epoch)
        batch = self.iterator.batch_at(epoch, index)
        return convert_batch(batch, self._perm, self._images_in_targets)

    def __len__(self):
        return len(self.iterator)


class BatchDataset(_BatchSource, Dataset):
    """Map-style dataset: item `i` is batch `i` of the current epoch, as tensors.

    An index may also be a pair `(epoch, i)` (what `epoch_sampler()` yields).

    # Arguments
        iterator: a pyimgaug `Iterator`.
        channels_first: True for NCHW images, False for NHWC, None (default)
            for the iterator's own `data_format`.
    """

    def __init__(self, iterator, channels_first=None):
        self._setup(iterator, channels_first)

    def __getitem__(self, index):
        if isinstance(index, tuple):
            epoch, index = index
        else:
            epoch = self.epoch
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError("Batch index must be an integer; received {!r}.".format(index))
        if not 0 <= index < len(self):
            raise IndexError("Batch index {} out of range [0, {}).".format(index, len(self)))
        return self._batch(int(epoch), int(index))

    def epoch_sampler(self, shuffle=False, seed=None):
        """A sampler that yields `(epoch, i)` with this dataset's epoch at each pass."""
        return EpochSampler(self, shuffle=shuffle, seed=seed)


class EpochSampler(Sampler):
    """Yields `(dataset.epoch, i)` for every batch `i`, read in the main process.

    # Arguments
        dataset: a `BatchDataset`.
        shuffle: Boolean, visit the batches in a random order (a function of
            `seed` and the epoch).
        seed: Integer seed of that order (default: the iterator's seed).
    """

    def __init__(self, dataset, shuffle=False, seed=None):
        if not isinstance(dataset, BatchDataset):
            raise TypeError("`dataset` must be a BatchDataset; received {}."
                            .format(type(dataset).__name__))
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.seed = dataset.iterator._base_seed if seed is None else int(seed)

    def __iter__(self):
        epoch = self.dataset.epoch
        order = np.arange(len(self.dataset))
        if self.shuffle:
            order = np.random.default_rng([self.seed, _WORKER_DOMAIN + 1, epoch]).permutation(
                len(self.dataset))
        return iter([(epoch, int(i)) for i in order])

    def __len__(self):
        return len(self.dataset)


class IterableBatchDataset(_BatchSource, IterableDataset):
    """Iterable dataset: a pass yields the current epoch's batches in order.

    With `num_workers=N`, worker `w` builds batches `w, w + N, ...` and the
    `DataLoader` returns them interleaved, i.e. in order.

    # Arguments
        iterator: a pyimgaug `Iterator`.
        channels_first: as for `BatchDataset`.
    """

    def __init__(self, iterator, channels_first=None):
        self._setup(iterator, channels_first)

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        epoch = self.epoch
        for index in range(worker, len(self), workers):
            yield self._batch(epoch, index)


def to_torch(iterator, channels_first=None, iterable=False):
    """A PyTorch dataset of an iterator's batches, for `DataLoader(batch_size=None)`.

    # Arguments
        iterator: a pyimgaug `Iterator`.
        channels_first: True for NCHW image tensors, False for NHWC, None
            (default) for the iterator's own `data_format`.
        iterable: False (default) for a map-style `BatchDataset` (works
            with any sampler, e.g. `shuffle=True` or `epoch_sampler()`);
            True for an `IterableBatchDataset`.

    # Returns
        The dataset. Its items are tensors in the iterator's structure:
        `x`, `(x, y)` or `(x, y, sample_weight)`.
    """
    if not isinstance(iterable, (bool, np.bool_)):
        raise TypeError("`iterable` must be a boolean; received {!r}.".format(iterable))
    cls = IterableBatchDataset if iterable else BatchDataset
    return cls(iterator, channels_first=channels_first)
