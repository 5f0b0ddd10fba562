"""Keras 3 (torch backend) trains and predicts on pyimgaug iterators directly."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import functools  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("torch", reason="the Keras tests use the torch backend; `pip install torch`")
keras = pytest.importorskip("keras", reason="Keras 3 is optional; `pip install keras`")
if int(keras.__version__.split(".")[0]) < 3:
    pytest.skip("these tests are for Keras 3", allow_module_level=True)

from pyimgaug import ImageDataGenerator, img_to_array, load_img  # noqa: E402
from pyimgaug.integrations.keras import IteratorPyDataset, as_pydataset  # noqa: E402
from pyimgaug.cli.sample_data import make_sample_dataset  # noqa: E402

# Keras's torch backend converts tensors with np.array(x); NumPy 2 complains. Not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

CLASSES = ("checks", "rings", "stripes")
SIZE = (32, 32)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("keras3") / "images"
    return make_sample_dataset(str(root), images_per_class=8, classes=CLASSES, min_side=32,
                               max_side=48)


def small_cnn():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(SIZE + (3,)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(len(CLASSES), activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_then_predict_and_map_predictions_to_filenames(image_dir):
    train_gen = ImageDataGenerator(rescale=1 / 255, rotation_range=20, width_shift_range=0.2,
                                   height_shift_range=0.2, horizontal_flip=True,
                                   validation_split=0.25)
    train_it = train_gen.flow_from_directory(image_dir, target_size=SIZE, batch_size=6, seed=1,
                                             subset="training")
    val_it = train_gen.flow_from_directory(image_dir, target_size=SIZE, batch_size=6, seed=1,
                                           subset="validation", shuffle=False)
    assert isinstance(train_it, keras.utils.PyDataset)
    model = small_cnn()
    history = model.fit(train_it, validation_data=val_it, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "val_loss" in history.history
    assert train_it.epoch >= 1  # Keras's on_epoch_end moved it to a new epoch

    test_it = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        image_dir, target_size=SIZE, batch_size=5, class_mode=None, shuffle=False)
    preds = model.predict(test_it, verbose=0)
    assert preds.shape == (test_it.samples, len(CLASSES))
    by_file = dict(zip(test_it.filenames, preds))
    assert len(by_file) == test_it.samples
    # Row i is filenames[i]: predict the same files one by one, loaded by hand.
    for name in test_it.filenames[::5]:
        img = img_to_array(load_img(os.path.join(image_dir, name), target_size=SIZE)) / 255
        own = model.predict(img[None], verbose=0)[0]
        np.testing.assert_allclose(by_file[name], own, rtol=1e-4, atol=1e-5)


def _record_pid(directory, x):
    """A preprocessing_function (with `directory` bound) noting which process built x."""
    open(os.path.join(directory, str(os.getpid())), "a").close()
    return x


@pytest.mark.parametrize("use_multiprocessing", [False, True])
def test_fit_honours_workers_and_use_multiprocessing(tmp_path, image_dir, use_multiprocessing):
    # A partial of a module-level function pickles, whatever the start method.
    gen = ImageDataGenerator(rescale=1 / 255,
                             preprocessing_function=functools.partial(_record_pid, str(tmp_path)))
    it = gen.flow_from_directory(image_dir, target_size=SIZE, batch_size=8, seed=2)
    it.workers = 2
    it.use_multiprocessing = use_multiprocessing
    it.max_queue_size = 3
    model = small_cnn()
    history = model.fit(it, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    pids = {int(p) for p in os.listdir(tmp_path)}
    if use_multiprocessing:
        assert pids and os.getpid() not in pids  # built in worker processes
    else:
        assert pids == {os.getpid()}  # worker threads of this process


def test_each_keras_epoch_is_a_new_epoch_of_the_iterator(image_dir):
    gen = ImageDataGenerator(rescale=1 / 255, rotation_range=30)
    it = gen.flow_from_directory(image_dir, target_size=SIZE, batch_size=8, seed=3)
    start = it.epoch
    small_cnn().fit(it, epochs=3, verbose=0, shuffle=True)
    # Keras calls on_epoch_end once before training and after every epoch.
    assert it.epoch == start + 4
    a = it[0][0]
    it.on_epoch_end()
    assert not np.allclose(a, it[0][0])  # new shuffle and transforms
    it.seek(it.epoch - 1)
    np.testing.assert_array_equal(a, it[0][0])  # but a pure function of the epoch


def test_as_pydataset_wraps_with_its_own_settings(image_dir):
    gen = ImageDataGenerator(rescale=1 / 255)
    it = gen.flow_from_directory(image_dir, target_size=SIZE, batch_size=8, seed=4)
    ds = as_pydataset(it, workers=2, max_queue_size=4)
    assert isinstance(ds, IteratorPyDataset) and isinstance(ds, keras.utils.PyDataset)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == (2, False, 4)
    assert it.workers != 2 or it.max_queue_size != 4  # the iterator is left alone
    assert ds.class_indices == it.class_indices and len(ds) == len(it)
    before = it.epoch
    small_cnn().fit(ds, epochs=1, verbose=0)
    assert it.epoch > before
    with pytest.raises(ValueError, match="workers"):
        as_pydataset(it, workers=0)
    with pytest.raises(TypeError, match="use_multiprocessing"):
        as_pydataset(it, use_multiprocessing="yes")
    with pytest.raises(TypeError, match="iterator"):
        as_pydataset([1, 2, 3])


def test_array_iterators_feed_fit_and_evaluate():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (24,) + SIZE + (3,)).astype(np.float32)
    y = keras.utils.to_categorical(np.arange(24) % 3, 3)
    gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True)
    model = small_cnn()
    model.fit(gen.flow(x, y, batch_size=8, seed=0), epochs=1, verbose=0)
    loss, acc = model.evaluate(gen.flow(x, y, batch_size=8, shuffle=False), verbose=0)
    assert np.isfinite(loss) and 0 <= acc <= 1


_SUBPROCESS = """
import os, sys
os.environ["KERAS_BACKEND"] = "torch"
if sys.argv[1] == "keras-first":
    import keras
import numpy as np
import pyimgaug
import keras
it = pyimgaug.ImageDataGenerator().flow(np.zeros((4, 8, 8, 3), np.float32), batch_size=2)
print(isinstance(it, keras.utils.PyDataset))
from pyimgaug.integrations.keras import as_pydataset
print(isinstance(as_pydataset(it), keras.utils.PyDataset))
"""


@pytest.mark.parametrize("order,hook,expected", [
    ("keras-first", "1", "True\nTrue"),
    ("pyimgaug-first", "1", "True\nTrue"),
    ("pyimgaug-first", "0", "False\nTrue"),  # turned off: only the wrapper
])
def test_iterators_become_pydatasets_whichever_is_imported_first(order, hook, expected):
    env = dict(os.environ, PYIMGAUG_KERAS_HOOK=hook, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", _SUBPROCESS, order], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == expected
