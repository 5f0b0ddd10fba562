"""Iterators pickle (to other processes) and resume at a given epoch and batch."""
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from pyimgaug import ImageDataGenerator
from pyimgaug.cli.sample_data import make_sample_dataset

AUG = dict(rotation_range=25, width_shift_range=0.1, zoom_range=0.2, horizontal_flip=True)

# Loads a pickled iterator, takes `count` batches with next() and pickles them.
_CHILD = """
import pickle, sys
with open(sys.argv[1], "rb") as f:
    it = pickle.load(f)
out = [next(it) for _ in range(int(sys.argv[3]))]
with open(sys.argv[2], "wb") as f:
    pickle.dump((out, it.state_dict()), f)
"""


def _array_flow(seed=3, batch_size=4, shuffle=True):
    x = np.random.default_rng(1).uniform(0, 255, (22, 12, 12, 3)).astype(np.float32)
    y = np.arange(22)
    return ImageDataGenerator(**AUG).flow(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)


def _dir_flow(root, seed=3):
    make_sample_dataset(str(root), images_per_class=5, classes=("a", "b"), min_side=20,
                        max_side=30)
    return ImageDataGenerator(rescale=1 / 255, **AUG).flow_from_directory(
        str(root), target_size=(16, 16), batch_size=3, seed=seed)


def _same(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    else:
        np.testing.assert_array_equal(a, b)


def _in_new_process(tmp_path, it, count):
    src, dst = tmp_path / "it.pkl", tmp_path / "out.pkl"
    src.write_bytes(pickle.dumps(it))
    subprocess.run([sys.executable, "-c", _CHILD, str(src), str(dst), str(count)], check=True,
                   timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1"))
    return pickle.loads(dst.read_bytes())


@pytest.mark.parametrize("kind", ["array", "directory"])
@pytest.mark.parametrize("seed", [3, None])
def test_pickled_mid_epoch_continues_in_another_process(tmp_path, kind, seed):
    it = _array_flow(seed) if kind == "array" else _dir_flow(tmp_path / "d", seed)
    for _ in range(len(it) + 2):  # into the second epoch
        next(it)
    remote, remote_state = _in_new_process(tmp_path, it, len(it) + 1)
    local = [next(it) for _ in range(len(it) + 1)]
    for a, b in zip(local, remote):
        _same(a, b)
    assert remote_state == it.state_dict()
    assert it.epoch == 2


def test_seek_gives_the_batches_an_uninterrupted_run_gives():
    run = _array_flow()
    batches = [next(run) for _ in range(3 * len(run))]  # three epochs
    for epoch in range(3):
        for b in (0, 2, len(run) - 1):
            it = _array_flow()
            it.seek(epoch, b)
            _same(next(it), batches[epoch * len(run) + b])
            assert it.epoch == epoch
            _same(it[b], batches[epoch * len(run) + b])
    # After seeking to the last batch, the next pass is the next epoch.
    it = _array_flow()
    it.seek(1, len(it) - 1)
    next(it)
    _same(next(it), batches[2 * len(run)])


def test_state_dict_restores_an_unseeded_iterator():
    it = _array_flow(seed=None)
    for _ in range(len(it) + 1):
        next(it)
    state = it.state_dict()
    assert state["epoch"] == 1 and state["batch_index"] == 1
    again = _array_flow(seed=None)  # a fresh OS seed: different streams...
    again.load_state_dict(state)  # ...until the state is loaded
    for _ in range(len(it) + 2):
        _same(next(again), next(it))


def test_state_after_a_finished_epoch_points_at_the_next_epoch():
    it = _array_flow()
    for _ in range(len(it)):
        next(it)
    state = it.state_dict()
    assert (state["epoch"], state["batch_index"]) == (1, 0)
    other = _array_flow()
    other.load_state_dict(state)
    _same(next(other), next(it))


def test_keras_style_epochs_resume_through_pickle():
    it = _array_flow()
    it.on_epoch_end()
    it.on_epoch_end()
    clone = pickle.loads(pickle.dumps(it))
    assert clone.epoch == 2
    for i in range(len(it)):
        _same(clone[i], it[i])
        _same(it.batch_at(2, i), it[i])


def test_shards_pickle_and_resume():
    shard = _array_flow().shard(3, 2)
    next(shard)
    clone = pickle.loads(pickle.dumps(shard))
    assert clone.shard_spec.index == 2
    _same(next(clone), next(shard))
    fresh = _array_flow().shard(3, 2)
    fresh.load_state_dict(shard.state_dict())
    _same(next(fresh), next(shard))


def test_resume_arguments_are_checked():
    it = _array_flow()
    with pytest.raises(ValueError, match="batch_index"):
        it.seek(0, len(it))
    with pytest.raises(ValueError, match="epoch"):
        it.seek(-1)
    with pytest.raises(TypeError, match="epoch"):
        it.seek(1.5)
    with pytest.raises(TypeError, match="state"):
        it.load_state_dict([1, 2])
    with pytest.raises(ValueError, match="batch_size"):
        it.load_state_dict(_array_flow(batch_size=5).state_dict())
    with pytest.raises(ValueError, match="shard"):
        it.load_state_dict(it.shard(2, 0).state_dict())
    with pytest.raises(ValueError, match="index"):
        it.batch_at(0, len(it))
