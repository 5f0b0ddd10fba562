"""Drawing a batch's augmentation parameters: per-sample keyed draws vs the alternatives.

Every parameter on (rotation, both shifts, shear, zoom, both flips, channel
shift, brightness); a batch of 32 (and 256) samples at random positions of a
1.28-million-file listing.  Rows (median microseconds per batch):
  keras get_random_transform   keras_preprocessing, one call per image (NumPy's global RNG)
  numpy Generator per sample   np.random.default_rng([seed, epoch, id]) per sample: the
                               obvious per-sample keying, one generator each
  pyimgaug sample_params       the counter-based draws keyed by (seed, epoch, id), vectorised
Checked first: a sample's parameters do not depend on the batch it is drawn
in (the same ids drawn in another order and in other company give the same
values), and each parameter stays in Keras's range.

Usage: python benchmarks/bench_params.py [--repeats 2000]
"""
import argparse
import platform
import statistics
import time

import numpy as np

ARGS = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=4, shear_range=10,
            zoom_range=0.2, horizontal_flip=True, vertical_flip=True, channel_shift_range=10.0,
            brightness_range=(0.5, 1.5))
SHAPE = (224, 224, 3)
N_LISTED = 1_281_167


def _median_us(fn, repeats):
    for _ in range(max(repeats // 10, 5)):  # warm-up, untimed
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2000)
    args = ap.parse_args(argv)
    import pyimgaug
    from pyimgaug.pipeline.params import sample_key, sample_params

    gen = pyimgaug.ImageDataGenerator(**ARGS)
    key = sample_key(1234, 7)
    rng = np.random.default_rng(0)

    # Checks: per-sample values, Keras's ranges.
    ids = rng.choice(N_LISTED, 256, replace=False)
    full = sample_params(gen, 256, SHAPE[:2], key, ids=ids)
    perm = rng.permutation(256)[:40]
    part = sample_params(gen, 40, SHAPE[:2], key, ids=ids[perm])
    for name, v in full.items():
        assert np.array_equal(np.asarray(v)[perm], np.asarray(part[name])), name
    assert np.abs(full["theta"]).max() <= 20 and np.abs(full["shear"]).max() <= 10
    assert set(np.unique(full["tx"])) <= set(range(-3, 4))
    assert np.abs(full["ty"]).max() <= 0.2 * 224
    assert 0.8 <= full["zx"].min() and full["zy"].max() <= 1.2
    assert 0.5 <= full["brightness"].min() and full["brightness"].max() <= 1.5
    print("check: parameters of 40 samples drawn alone == drawn among 256 (all 10); "
          "ranges within Keras's")

    try:
        from keras_preprocessing.image import ImageDataGenerator as KerasGen
        kgen = KerasGen(**ARGS)
    except ImportError:
        kgen = None
    print("python %s, numpy %s, pyimgaug %s, %s; one thread" % (
        platform.python_version(), np.__version__, pyimgaug.__version__, platform.platform()))
    print()
    print("| batch | keras get_random_transform (us) | numpy Generator per sample (us) | "
          "pyimgaug sample_params (us) | vs keras |")
    print("|---:|---:|---:|---:|---:|")
    for n in (32, 256):
        batch_ids = rng.choice(N_LISTED, n, replace=False)
        ours = _median_us(lambda: sample_params(gen, n, SHAPE[:2], key, ids=batch_ids),
                          args.repeats)

        def per_sample_generators():
            for j in batch_ids:
                g = np.random.default_rng([1234, 1, 7, int(j)])
                g.random(13)
        naive = _median_us(per_sample_generators, max(args.repeats // 10, 20))
        if kgen is not None:
            state = np.random.get_state()
            keras = _median_us(lambda: [kgen.get_random_transform(SHAPE) for _ in range(n)],
                               max(args.repeats // 10, 20))
            np.random.set_state(state)
            kcol, ratio = "%.1f" % keras, "%.0fx" % (keras / ours)
        else:
            kcol, ratio = "(keras_preprocessing not installed)", "-"
        print("| %d | %s | %.1f | %.1f | %s |" % (n, kcol, naive, ours, ratio))


if __name__ == "__main__":
    main()
