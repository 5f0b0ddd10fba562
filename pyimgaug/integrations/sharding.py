"""Shards of an iterator for data-parallel training.

`iterator.shard(num_shards, index)` gives each of `num_shards` processes (or
devices) its own part of every epoch.  The split follows PyTorch's
`torch.utils.data.DistributedSampler`:

1. The epoch's order of all `n` samples is taken: the shuffled permutation of
   `(seed, epoch)` when `shuffle=True`, else `0, 1, ..., n-1`.  Every shard
   computes the same order from the shared seed, so all processes must build
   their iterator with the same `seed`.
2. With `drop_last=False` (the default) the order is padded to
   `total_size = ceil(n / num_shards) * num_shards` by repeating its first
   samples, so every shard has the same length.  Those few samples (at most
   `num_shards - 1`) are seen twice in the epoch.
   With `drop_last=True` it is cut to `floor(n / num_shards) * num_shards`
   instead, and up to `num_shards - 1` samples are skipped that epoch.
3. Shard `index` takes positions `index, index + num_shards, ...`.

So the shards are disjoint (apart from the padding), cover every sample once
per epoch, and have equal lengths, as `DistributedSampler` guarantees.  A
sample's random transform depends on `(seed, epoch, its dataset position)`
only, so it is the same in a shard as in the whole dataset (and a padded
sample repeats its transform).
"""
import math
import numbers

import numpy as np

from ..pipeline import params as _params

__all__ = ["ShardSpec", "shard_size", "epoch_order", "check_shard_args"]


def check_shard_args(num_shards, index, drop_last):
    """Validates `shard()` arguments; raises TypeError / ValueError naming them."""
    for name, value in (("num_shards", num_shards), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError("`{}` must be an integer; received {!r}.".format(name, value))
    if num_shards < 1:
        raise ValueError("`num_shards` must be >= 1; received {}.".format(num_shards))
    if not 0 <= index < num_shards:
        raise ValueError("`index` must be in [0, num_shards - 1] = [0, {}]; received {}."
                         .format(num_shards - 1, index))
    if not isinstance(drop_last, (bool, np.bool_)):
        raise TypeError("`drop_last` must be a boolean; received {!r}.".format(drop_last))


def shard_size(n, num_shards, drop_last=False):
    """Number of samples per shard and epoch (`DistributedSampler.num_samples`)."""
    if drop_last and n % num_shards != 0:
        return math.ceil((n - num_shards) / num_shards)
    return math.ceil(n / num_shards)


def epoch_order(seed, epoch, n, shuffle):
    """The order of all `n` samples in `epoch`, as the unsharded iterator uses it."""
    if shuffle:
        return _params.shuffle_permutation(seed, epoch, n)
    return np.arange(n)


class ShardSpec(object):
    """Which shard an iterator yields.

    # Arguments
        num_shards: Integer, number of shards (e.g. the world size).
        index: Integer, this shard's number in `[0, num_shards)` (the rank).
        drop_last: Boolean, cut the epoch to a multiple of `num_shards`
            instead of padding it.
        total: Integer, number of samples of the whole dataset.
    """

    def __init__(self, num_shards, index, drop_last, total):
        check_shard_args(num_shards, index, drop_last)
        self.num_shards = int(num_shards)
        self.index = int(index)
        self.drop_last = bool(drop_last)
        self.total = int(total)

    @property
    def size(self):
        """Samples in this shard per epoch."""
        return shard_size(self.total, self.num_shards, self.drop_last)

    def indices(self, seed, epoch, shuffle):
        """Dataset positions of this shard's samples in `epoch`, in order."""
        order = epoch_order(seed, epoch, self.total, shuffle)
        total_size = self.size * self.num_shards
        if self.drop_last:
            order = order[:total_size]
        elif total_size > len(order):
            padding = total_size - len(order)
            reps = math.ceil(padding / len(order))
            order = np.concatenate([order, np.tile(order, reps)[:padding]])
        return order[self.index:total_size:self.num_shards]

    def __repr__(self):
        return "ShardSpec(num_shards={}, index={}, drop_last={}, total={})".format(
            self.num_shards, self.index, self.drop_last, self.total)
