"""Small corners of Keras's surface that pyimgaug once did differently.

Each test runs the same call through keras_preprocessing 1.1.2 and pyimgaug and
compares what a user sees: the generator protocol, error messages, and what
happens without an optional dependency.
"""
import sys

import numpy as np
import pytest

import pyimgaug


def _flow_pair(kimage, n=7, batch_size=3):
    x = np.arange(n * 4 * 4 * 3, dtype=np.float32).reshape(n, 4, 4, 3)
    ours = pyimgaug.ImageDataGenerator().flow(x, batch_size=batch_size, shuffle=False)
    ref = kimage.ImageDataGenerator().flow(x, batch_size=batch_size, shuffle=False)
    return ours, ref


def test_flow_index_starts_a_new_pass_and_advances_like_keras(kimage):
    ours, ref = _flow_pair(kimage)
    # Move both mid-epoch first: _flow_index() must reset to the first batch, as Keras's does.
    next(ours), next(ref)
    assert ours.batch_index == ref.batch_index == 1
    ours_gen, ref_gen = ours._flow_index(), ref._flow_index()
    got = [next(ours_gen).tolist() for _ in range(4)]
    want = [next(ref_gen).tolist() for _ in range(4)]
    assert got == want == [[0, 1, 2], [3, 4, 5], [6], [0, 1, 2]]
    assert ours.batch_index == ref.batch_index == 1
    assert ours.total_batches_seen == ref.total_batches_seen


@pytest.mark.parametrize("flow", ["directory", "dataframe"])
def test_invalid_class_mode_message_is_keras_message(kimage, shared_dataset, flow):
    def message(gen):
        with pytest.raises(ValueError) as info:
            if flow == "directory":
                gen.flow_from_directory(str(shared_dataset), class_mode="bogus")
            else:
                pd = pytest.importorskip("pandas", reason="pandas (test extra) is not installed")
                gen.flow_from_dataframe(pd.DataFrame({"filename": [], "class": []}),
                                        directory=str(shared_dataset), class_mode="bogus")
        return str(info.value)

    assert message(pyimgaug.ImageDataGenerator()) == message(kimage.ImageDataGenerator())


def test_zca_without_scipy_raises_keras_error(kimage, monkeypatch):
    """Keras needs scipy for ZCA; so does pyimgaug (NumPy's SVD would give other components)."""
    import keras_preprocessing.image.image_data_generator as kgen

    x = np.random.default_rng(0).uniform(0, 1, (6, 4, 4, 3)).astype(np.float32)
    monkeypatch.setattr(kgen, "scipy", None)
    with pytest.raises(ImportError) as ref:
        kimage.ImageDataGenerator(zca_whitening=True).fit(x)
    # Make `from scipy import linalg` fail, as it does where scipy is not installed.
    for name in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.warns(UserWarning):  # zca_whitening turns on featurewise_center, as in Keras
        gen = pyimgaug.ImageDataGenerator(zca_whitening=True)
    with pytest.raises(ImportError) as ours:
        gen.fit(x)
    assert str(ours.value) == str(ref.value) == "Using zca_whitening requires SciPy. Install SciPy."
