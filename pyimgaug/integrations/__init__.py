"""Training-loop integrations shared by every pyimgaug iterator.

`IteratorExtras` is a base class of `pyimgaug.Iterator`.  It adds, without
importing Keras or PyTorch:

- `shard(num_shards, index)`: one shard of every epoch, for data-parallel
  training (`pyimgaug.integrations.sharding` documents the padding rule);
- `seek(epoch, batch_index)`, `state_dict()`, `load_state_dict(state)`:
  resume where a run stopped (iterators also pickle);
- `batch_at(epoch, index)`: batch `index` of any epoch, without changing the
  iterator;
- `to_torch(channels_first=...)`: a `torch.utils.data.Dataset` of batches;
- `to_ray(epoch)`: a `ray.data.Dataset` of an epoch's samples, built on Ray
  workers with the same pixels;
- the `workers`, `use_multiprocessing` and `max_queue_size` attributes that
  Keras 3 reads from a `keras.utils.PyDataset`.

With Keras 3 installed, iterators are `keras.utils.PyDataset` instances as
soon as Keras is imported (see `_keras_hook`), so `model.fit(iterator)` works.

The last layer before the training loop: batches come from the iterators of
`pyimgaug.keras`, and these thin adapters hand them on: `keras` (Keras 3
`PyDataset`), `torch` (PyTorch datasets), `ray` (Ray Data), `sharding` (the
split of an epoch between data-parallel processes).
"""
import copy
import numbers
import warnings

import numpy as np

from . import sharding as _sharding
from ._keras_hook import KerasBase, adopt_pydataset, install as _install_keras_hook

__all__ = ["IteratorExtras", "adopt_pydataset"]

_STATE_VERSION = 1


def _check_int(name, value, low=0):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("`{}` must be an integer; received {!r}.".format(name, value))
    if value < low:
        raise ValueError("`{}` must be >= {}; received {}.".format(name, low, value))
    return int(value)


class IteratorExtras(KerasBase):
    """Sharding, resuming and framework adapters for `Iterator`."""

    # Keras's PyDataset knobs (read by `model.fit`); class defaults so that
    # subclasses which never call `Iterator.__init__` still have them.
    _workers = 1
    _use_multiprocessing = False
    _max_queue_size = 10
    _shard = None

    @property
    def workers(self):
        """Number of workers Keras uses to build batches in parallel (`fit`)."""
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = _check_int("workers", value)

    @property
    def use_multiprocessing(self):
        """Whether Keras's workers are processes rather than threads."""
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError("`use_multiprocessing` must be a boolean; received {!r}."
                            .format(value))
        self._use_multiprocessing = bool(value)

    @property
    def max_queue_size(self):
        """Number of batches Keras's workers build ahead."""
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = _check_int("max_queue_size", value, low=1)

    # -- epoch order --------------------------------------------------------

    def _index_array_for(self, epoch):
        """Dataset positions of the samples of `epoch`, in order."""
        if self._shard is not None:
            return self._shard.indices(self._base_seed, epoch, self.shuffle)
        return _sharding.epoch_order(self._base_seed, epoch, self.n, self.shuffle)

    def sample_indices(self, epoch=None):
        """Dataset positions of the samples of an epoch, in the order batches take them.

        For a shard, these are the shard's samples; with `shuffle=False`,
        `filenames[j]` for `j` in this order names the rows of `predict`.

        # Arguments
            epoch: Integer >= 0; default: the current epoch.

        # Returns
            A 1-D integer array of length `n`.
        """
        epoch = self._epoch if epoch is None else _check_int("epoch", epoch)
        return self._index_array_for(epoch)

    def batch_at(self, epoch, index):
        """Batch `index` of epoch `epoch`, leaving the iterator's position alone.

        `iterator[i]` is `iterator.batch_at(iterator.epoch, i)`.

        # Arguments
            epoch: Integer >= 0.
            index: Integer in `[0, len(iterator))`.

        # Returns
            The batch, as `iterator[index]` returns it.
        """
        epoch = _check_int("epoch", epoch)
        index = _check_int("index", index)
        if index >= len(self):
            raise ValueError("`index` must be < len(iterator) = {}; received {}."
                             .format(len(self), index))
        bs = self.batch_size
        index_array = self._index_array_for(epoch)[bs * index:bs * (index + 1)]
        return self._build_batch(index_array, self._sample_key(epoch))

    # -- sharding -----------------------------------------------------------

    @property
    def shard_spec(self):
        """The `pyimgaug.integrations.sharding.ShardSpec` of a shard, else None."""
        return self._shard

    def shard(self, num_shards, index, drop_last=False):
        """An iterator over one shard of each epoch, for data-parallel training.

        The shards of one iterator (or of iterators built with the same
        `seed` in several processes) are disjoint, have equal lengths and
        together cover every sample once per epoch, padded like PyTorch's
        `DistributedSampler` (see `pyimgaug.integrations.sharding`).  A shard reshuffles
        with the shared `(seed, epoch)`: call `on_epoch_end()` (or
        `seek(epoch)`) on every shard alike.

        # Arguments
            num_shards: Integer >= 1, e.g. the world size.
            index: Integer in `[0, num_shards)`, e.g. the rank.
            drop_last: Boolean. If False (default), pad every epoch by
                repeating its first samples so all shards are equally long
                (a few samples are seen twice); if True, skip the last
                `n % num_shards` samples of each epoch's order instead.

        # Returns
            A new iterator of the same class, whose `n` is the shard's number
            of samples per epoch; `filenames`, `classes` and other dataset
            attributes still describe the whole dataset, and
            `index_array` holds the dataset positions of the current epoch.
        """
        if self._shard is not None:
            raise ValueError("This iterator is already a shard ({!r}); shard the original "
                             "iterator instead.".format(self._shard))
        spec = _sharding.ShardSpec(num_shards, index, drop_last, self.n)
        if self.seed is None and self.shuffle:
            warnings.warn("shard(): the iterator has no `seed`, so iterators built in other "
                          "processes shuffle differently and their shards overlap. Pass the "
                          "same `seed=` in every process.", stacklevel=2)
        out = copy.copy(self)
        prefetcher = out.__dict__.get("_prefetcher")
        if prefetcher is not None:
            out._prefetcher = copy.copy(prefetcher)  # its own threads and queue
        out._shard = spec
        out.n = spec.size
        out.batch_index = 0
        out.total_batches_seen = 0
        out._pass_started = False
        out.index_array = None
        out._index_epoch = None
        return out

    # -- resuming -----------------------------------------------------------

    def seek(self, epoch, batch_index=0):
        """Moves the iterator to batch `batch_index` of epoch `epoch`.

        Afterwards `next(iterator)` returns that batch and `iterator[i]` uses
        that epoch's order, exactly as an iterator that got there by itself.

        # Arguments
            epoch: Integer >= 0.
            batch_index: Integer in `[0, len(iterator))`.
        """
        epoch = _check_int("epoch", epoch)
        batch_index = _check_int("batch_index", batch_index)
        if batch_index >= max(len(self), 1):
            raise ValueError("`batch_index` must be < len(iterator) = {}; received {}."
                             .format(len(self), batch_index))
        with self.lock:
            self._epoch = epoch
            self.batch_index = batch_index
            # At batch 0 the next `next()` starts this epoch instead of a new one.
            self._pass_started = batch_index > 0
            self._set_index_array()

    def state_dict(self):
        """Where `next()` continues, as a small dict of ints (for checkpoints).

        # Returns
            A dict with `seed` (the seed of the random streams, drawn from the
            OS when the iterator was built with `seed=None`), `epoch` and
            `batch_index` of the next batch, and the `n`, `batch_size`,
            `shuffle` and shard that `load_state_dict` checks.
        """
        with self.lock:
            epoch, batch = self._epoch, self.batch_index
            if batch == 0 and self._pass_started:
                epoch += 1  # the finished pass's next batch opens a new epoch
            shard = self._shard
            return {
                "version": _STATE_VERSION,
                "seed": self._base_seed,
                "epoch": epoch,
                "batch_index": batch,
                "n": self.n,
                "batch_size": self.batch_size,
                "shuffle": bool(self.shuffle),
                "shard": None if shard is None else [shard.num_shards, shard.index,
                                                     shard.drop_last],
            }

    def load_state_dict(self, state):
        """Restores a `state_dict()`: same random streams, same next batch.

        # Arguments
            state: dict from `state_dict()` of an iterator over the same data
                (same `n`, `batch_size`, `shuffle` and shard).
        """
        if not isinstance(state, dict):
            raise TypeError("`state` must be a dict from state_dict(); received {}."
                            .format(type(state).__name__))
        missing = {"seed", "epoch", "batch_index", "n", "batch_size"} - set(state)
        if missing:
            raise ValueError("`state` lacks {}.".format(sorted(missing)))
        shard = self._shard
        mine = None if shard is None else [shard.num_shards, shard.index, shard.drop_last]
        for name, value in (("shard", mine), ("n", self.n), ("batch_size", self.batch_size),
                            ("shuffle", bool(self.shuffle))):
            if name in state and state[name] != value:
                raise ValueError("`state` is for an iterator with {}={!r}; this one has {!r}."
                                 .format(name, state[name], value))
        seed = _check_int("state['seed']", state["seed"])
        with self.lock:
            self._base_seed = seed
        self.seek(state["epoch"], state["batch_index"])

    # -- frameworks ---------------------------------------------------------

    def to_torch(self, channels_first=None, iterable=False):
        """A PyTorch dataset of this iterator's batches (needs `torch`).

        Use it with `torch.utils.data.DataLoader(ds, batch_size=None, ...)`.
        See `pyimgaug.integrations.torch.to_torch`.
        """
        from .torch import to_torch
        return to_torch(self, channels_first=channels_first, iterable=iterable)

    def to_ray(self, epoch=None, *, concurrency=None, batch_size=None):
        """A `ray.data.Dataset` of one epoch's samples, built on Ray workers (needs `ray[data]`).

        Columns `index`, `image`, `label`, `filename`; each sample has the
        pixels this iterator gives it in that epoch.  Files must be on a
        filesystem every node sees.  See `pyimgaug.integrations.ray.to_ray`.
        """
        from .ray import to_ray
        return to_ray(self, epoch, concurrency=concurrency, batch_size=batch_size)


_install_keras_hook()
