"""Random augmentation parameters for a whole batch, as arrays.

Pure and seeded, per sample: the parameters of a sample are a function of
`(key, sample id)` only, where an iterator's key is `(seed, epoch)` and the
id is the sample's position in the listing (`sample_key`).  So a sample gets
the same transform in an epoch whatever the batch size, the number of
workers, the shard, or the engine (local iterator, Ray) that builds it.
NumPy's global RNG is never used.

The draws come from a counter-based generator (`uniforms`): SplitMix64's
mixing function applied to (key word + id * golden gamma), then again per
parameter slot.  It is computed for the whole batch at once with NumPy's
wrapping uint64 arithmetic, so drawing a batch's parameters costs a few
dozen array operations whatever the batch size.

Each parameter has its own slot, so enabling one augmentation (say
`brightness_range` on the image generator but not on the mask generator)
does not change the values drawn for the others.  The distributions are
those of `keras_preprocessing` 1.1.2's `ImageDataGenerator.get_random_transform`;
its random stream (NumPy's global `np.random`) cannot be reproduced and is not.
"""
import numpy as np

# Parameter slots of the per-sample draws; never reorder (that would change
# every seeded run).  A shift takes two (magnitude or element, then sign).
(_THETA, _TX, _TX_SIGN, _TY, _TY_SIGN, _SHEAR, _ZX, _ZY, _FLIP_H, _FLIP_V, _CHANNEL,
 _BRIGHT, _MISC) = range(13)
_SLOTS = 13
_SHUFFLE_DOMAIN, _SAMPLE_DOMAIN, _SINGLE_DOMAIN = 0, 1, 2

PARAM_KEYS = (
    "theta",
    "tx",
    "ty",
    "shear",
    "zx",
    "zy",
    "flip_horizontal",
    "flip_vertical",
    "channel_shift_intensity",
    "brightness",
)

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15  # SplitMix64's increment (odd; 2^64 / golden ratio)
_GAMMA_SLOT = 0xD1B54A32D192ED03  # another odd constant, for the slots
_U64 = np.uint64
_M1, _M2 = _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = _U64(30), _U64(27), _U64(31), _U64(11)
_SLOT_OFFSETS = (np.arange(1, _SLOTS + 1, dtype=np.uint64) * _U64(_GAMMA_SLOT))


def normalize_seed(seed):
    """Maps an int seed to a non-negative int; `None` draws fresh OS entropy."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    return int(seed) % (1 << 64)


def shuffle_permutation(seed, epoch, n):
    """The shuffled index order of `epoch` (a pure function of its inputs)."""
    rng = np.random.default_rng([normalize_seed(seed), _SHUFFLE_DOMAIN, int(epoch)])
    return rng.permutation(n)


def sample_key(seed, epoch):
    """Key of the per-sample draws of one epoch (ids are positions in the listing)."""
    return [normalize_seed(seed), _SAMPLE_DOMAIN, int(epoch) % (1 << 64)]


def _mix_int(z):
    # SplitMix64's finaliser on a Python int (for the key, once per batch).
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _mix(z):
    # The same on a uint64 array, in place (NumPy's uint64 arithmetic wraps).
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def key_word(key):
    """The 64-bit word of a key (a list of non-negative ints)."""
    h = _mix_int(len(key) * _GAMMA & _MASK)
    for v in key:
        h = _mix_int((h ^ (int(v) & _MASK)) + _GAMMA & _MASK)
    return h


def uniforms(key, ids):
    """Uniform draws in [0, 1) of shape `(len(ids), _SLOTS)`: row i is sample `ids[i]`'s.

    Row i depends on `key` and `ids[i]` only (not on the other ids, their
    number or order).  53-bit doubles, as NumPy's `Generator.random`.
    """
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        ids = ids.astype(np.int64)
    z = ids.astype(np.uint64).reshape(-1, 1)  # a copy: changed in place below
    z *= _U64(_GAMMA)
    z += _U64(key_word(key))
    _mix(z)  # per sample: SplitMix64's output at position id of the key's sequence
    z = z + _SLOT_OFFSETS  # (n, _SLOTS)
    _mix(z)  # per slot: again, keyed by the sample's word
    z >>= _S11
    out = z.astype(np.float64)
    out *= 1.0 / (1 << 53)
    return out


def _uniform(u, lo, hi):
    # As NumPy's Generator.uniform(lo, hi): lo + (hi - lo) * u.
    return lo + (hi - lo) * u


def _sign(u):
    # Keras: np.random.choice([-1, 1]).  (u < 0.5) * -2 + 1 is -1 or 1.
    return (u < 0.5) * -2.0 + 1.0


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _sample_shift(u, u_sign, spec, size):
    """Shift values following Keras's rules for `width/height_shift_range`.

    - int k > 0: integers in `[-(k-1), k-1]` (`np.random.choice(k)` times a
      random sign);
    - 1-D array-like: an element, times a random sign;
    - float: uniform in `[-r, r)`;
    and in every case, if `max(spec) < 1` the value is a fraction of `size`.
    """
    n = len(u)
    if not _truthy(spec):
        return np.zeros(n)
    is_seq = isinstance(spec, (list, tuple, np.ndarray))
    if _is_int(spec) and spec > 0:
        # floor(u * k) is uniform over 0..k-1 (to 2^-53 relative).
        vals = np.minimum(np.floor(u * int(spec)), int(spec) - 1) * _sign(u_sign)
    elif is_seq and np.ndim(spec) == 1 and len(spec) > 0:
        arr = np.asarray(spec, dtype=np.float64)
        pick = np.minimum((u * len(arr)).astype(np.int64), len(arr) - 1)
        vals = arr[pick] * _sign(u_sign)
    else:
        r = float(spec)
        vals = _uniform(u, -r, r)
    # Keras's `np.max(spec) < 1`, without NumPy's overhead for a plain number.
    if (np.max(spec) if is_seq else spec) < 1:
        vals *= size
    return vals


def _truthy(spec):
    if isinstance(spec, np.ndarray):
        return spec.size > 0 and bool(np.any(spec))
    return bool(spec)


def sample_params(config, n, img_size, key, ids=None):
    """Draws the transform parameters of `n` images.

    # Arguments
        config: an `ImageDataGenerator` (or any object with its attributes
            `rotation_range`, `width_shift_range`, `height_shift_range`,
            `shear_range`, `zoom_range` (a 2-list), `horizontal_flip`,
            `vertical_flip`, `channel_shift_range`, `brightness_range`).
        n: number of images.
        img_size: `(height, width)` of the images being transformed (the
            fractional shifts are fractions of these).
        key: list of non-negative ints naming the draws, e.g. `sample_key(seed, epoch)`.
        ids: the samples' ids (default `0..n-1`); an iterator passes their
            positions in its listing, so image i's parameters depend on
            `(key, ids[i])` only.

    # Returns
        A dict of arrays of length `n` with the keys of `PARAM_KEYS`;
        `channel_shift_intensity` and `brightness` are `None` when their
        augmentation is off.
    """
    h, w = img_size
    if ids is None:
        ids = np.arange(n)
    elif len(ids) != n:
        raise ValueError("`ids` must have n = {} entries; received {}.".format(n, len(ids)))
    u = uniforms(key, ids)
    # The uniform draws of every slot in one operation: lo + (hi - lo) * u,
    # NumPy's Generator.uniform arithmetic (slots left at 0 + 1 * u unused).
    lows, spans = np.zeros(_SLOTS), np.ones(_SLOTS)
    ranges = {}
    if config.rotation_range:
        ranges[_THETA] = (-config.rotation_range, config.rotation_range)
    if config.shear_range:
        ranges[_SHEAR] = (-config.shear_range, config.shear_range)
    zlo, zhi = config.zoom_range
    zoom = not (zlo == 1 and zhi == 1)
    if zoom:
        ranges[_ZX] = ranges[_ZY] = (zlo, zhi)
    channel = config.channel_shift_range != 0
    if channel:
        ranges[_CHANNEL] = (-config.channel_shift_range, config.channel_shift_range)
    bright = config.brightness_range is not None
    if bright:
        ranges[_BRIGHT] = tuple(config.brightness_range)
    for slot, (lo, hi) in ranges.items():
        lows[slot], spans[slot] = lo, hi - lo
    drawn = u * spans
    drawn += lows
    out = {}
    out["theta"] = drawn[:, _THETA] if config.rotation_range else np.zeros(n)
    out["tx"] = _sample_shift(u[:, _TX], u[:, _TX_SIGN], config.height_shift_range, h)
    out["ty"] = _sample_shift(u[:, _TY], u[:, _TY_SIGN], config.width_shift_range, w)
    out["shear"] = drawn[:, _SHEAR] if config.shear_range else np.zeros(n)
    out["zx"] = drawn[:, _ZX] if zoom else np.ones(n)
    out["zy"] = drawn[:, _ZY] if zoom else np.ones(n)
    flips = u[:, (_FLIP_H, _FLIP_V)] < 0.5
    out["flip_horizontal"] = flips[:, 0] & bool(config.horizontal_flip)
    out["flip_vertical"] = flips[:, 1] & bool(config.vertical_flip)
    out["channel_shift_intensity"] = drawn[:, _CHANNEL] if channel else None
    out["brightness"] = drawn[:, _BRIGHT] if bright else None
    return out


def misc_integers(key, ids, high):
    """Per-sample integers in `[0, high)` for non-geometric randomness (e.g. file names)."""
    u = uniforms(key, ids)[:, _MISC]
    return np.minimum(np.floor(u * high), high - 1).astype(np.int64)


def params_from_dicts(dicts):
    """Stacks Keras transform dicts into batch arrays (Keras's defaults for missing keys)."""
    n = len(dicts)

    def col(name, default):
        return np.array([float(d.get(name, default)) for d in dicts], dtype=np.float64).reshape(n)

    out = {
        "theta": col("theta", 0),
        "tx": col("tx", 0),
        "ty": col("ty", 0),
        "shear": col("shear", 0),
        "zx": col("zx", 1),
        "zy": col("zy", 1),
        "flip_horizontal": np.array([bool(d.get("flip_horizontal", False)) for d in dicts], dtype=bool),
        "flip_vertical": np.array([bool(d.get("flip_vertical", False)) for d in dicts], dtype=bool),
    }
    for name in ("channel_shift_intensity", "brightness"):
        vals = [d.get(name) for d in dicts]
        if all(v is None for v in vals):
            out[name] = None
        else:
            out[name] = np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64)
    return out


def params_to_dict(params, i):
    """The Keras transform dict of image `i` of a batch of parameters."""
    d = {}
    for name in ("theta", "tx", "ty", "shear", "zx", "zy"):
        d[name] = float(params[name][i])
    d["flip_horizontal"] = int(bool(params["flip_horizontal"][i]))
    d["flip_vertical"] = int(bool(params["flip_vertical"][i]))
    for name in ("channel_shift_intensity", "brightness"):
        v = params[name]
        d[name] = None if v is None or np.isnan(v[i]) else float(v[i])
    return d
