"""The "Image Data Generators in Keras" tutorial, run with pyimgaug.

Every snippet of the tutorial, with `from pyimgaug import ImageDataGenerator`
in place of `from keras.preprocessing.image import ImageDataGenerator`, on a
generated class-per-folder dataset (the tutorial uses the 47-class DTD
texture dataset with 120 images per class; here: 5 classes x 24 images of
varied sizes). Matplotlib and skimage calls are replaced by Pillow: the grid
of a batch is assembled with Pillow and `io.imread` becomes `Image.open`.
Model training/prediction calls need a deep-learning framework; they are
replaced by the loops that `fit_generator` / `predict_generator` run (several
worker threads pulling batches), which is what the generator must support.
"""
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from pyimgaug import ImageDataGenerator

from conftest import build_dataset

N_CLASSES, PER_CLASS = 5, 24
batch_size = 32


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("tutorial") / "Dataset" / "dtd" / "images"
    return build_dataset(root, classes=["banded", "blotchy", "braided", "bubbly", "bumpy"],
                         per_class=PER_CLASS, seed=11,
                         sizes=((150, 180), (120, 140), (200, 160), (131, 97)),
                         modes=("RGB", "RGB", "L", "RGB"), extras=False)


def show_grid(image_list, nrows, ncols, cell=(128, 128)):
    """The tutorial's grid plot, assembled with Pillow instead of matplotlib."""
    if type(image_list) is not list:
        if image_list.shape[-1] == 1:
            image_list = [image_list[i, :, :, 0] for i in range(image_list.shape[0])]
        elif image_list.shape[-1] == 3:
            image_list = [image_list[i, :, :, :] for i in range(image_list.shape[0])]
    h, w = cell
    grid = Image.new("RGB", (ncols * w, nrows * h))
    for i in range(nrows * ncols):
        tile = Image.fromarray(np.clip(image_list[i] * 255, 0, 255).astype(np.uint8))
        grid.paste(tile, ((i % ncols) * w, (i // ncols) * h))
    return grid


def test_tutorial_shuffled_generator_and_grid(dataset, capsys):
    datagen_args = dict(rotation_range=20,
                        width_shift_range=0.2,
                        height_shift_range=0.2,
                        rescale=1. / 255)
    datagen = ImageDataGenerator(**datagen_args)
    datagenerator = datagen.flow_from_directory(dataset, target_size=(128, 128),
                                                batch_size=batch_size, interpolation="lanczos",
                                                shuffle=True)
    assert capsys.readouterr().out.strip() == "Found %d images belonging to %d classes." % (
        N_CLASSES * PER_CLASS, N_CLASSES)
    # 'samples', 'class_indices', 'filenames'
    assert datagenerator.samples == N_CLASSES * PER_CLASS
    assert datagenerator.class_indices == {"banded": 0, "blotchy": 1, "braided": 2, "bubbly": 3,
                                           "bumpy": 4}
    assert len(datagenerator.filenames) == datagenerator.samples
    assert datagenerator.filenames[0] == os.path.join("banded", "img_000_0.png")

    x, y = next(datagenerator)
    assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
    assert x.shape == (32, 128, 128, 3) and x.dtype == np.float32
    assert y.shape == (32, N_CLASSES)
    # One-hot labels: a single 1 per row.
    np.testing.assert_array_equal(y.sum(axis=1), np.ones(32))
    assert set(np.unique(y)) == {0.0, 1.0}
    assert 0.0 <= x.min() and x.max() <= 1.0  # rescaled
    y_int = np.argmax(y, axis=-1)
    class_mapping = {v: k for k, v in datagenerator.class_indices.items()}
    titles = [class_mapping[y_int[i]] for i in range(32)]
    assert set(titles) <= set(datagenerator.class_indices)
    # Shuffled: the batch is not the first 32 files in order.
    assert not np.array_equal(datagenerator.index_array[:32], np.arange(32))

    grid = show_grid(x, 4, 8)
    assert grid.size == (8 * 128, 4 * 128)


def test_tutorial_no_shuffle_maps_batches_to_filenames(dataset):
    datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.2,
                                 height_shift_range=0.2, rescale=1. / 255)
    dgen_no_shuffle = datagen.flow_from_directory(dataset, target_size=(128, 128), batch_size=32,
                                                  interpolation="lanczos", shuffle=False)
    # We get the third batch
    dgen_no_shuffle.reset()  # resets the generator to the first batch
    for i in range(3):
        x1, y1 = next(dgen_no_shuffle)
        y1_int = np.argmax(y1, axis=-1)
    assert dgen_no_shuffle.batch_index == 3
    plain = ImageDataGenerator(rescale=1. / 255).flow_from_directory(
        dataset, target_size=(128, 128), batch_size=32, interpolation="lanczos", shuffle=False)
    plain_x, _ = plain[2]
    for i in range(8):
        assert x1[i].reshape(128, 128, 3).shape == (128, 128, 3)
        fname = dgen_no_shuffle.filenames[(dgen_no_shuffle.batch_index - 1) * 32 + i]
        original = Image.open(os.path.join(dgen_no_shuffle.directory, fname))  # io.imread
        # The label of batch image i is the class folder of that file ...
        assert fname.split(os.sep)[0] == [k for k, v in dgen_no_shuffle.class_indices.items()
                                          if v == y1_int[i]][0]
        # ... and without augmentation the batch image is that file, resized (Pillow
        # lanczos) and rescaled: within 1/255 of the 0..1 range.
        expected = np.asarray(original.convert("RGB").resize((128, 128), Image.LANCZOS),
                              dtype=np.float32) / 255.0
        np.testing.assert_allclose(plain_x[i], expected, rtol=0, atol=1 / 255.0)
        # The augmented batch image is a warp of it (rotated and shifted):
        # same value range, different pixels.
        assert not np.allclose(x1[i], plain_x[i])
        assert 0.0 <= x1[i].min() and x1[i].max() <= 1.0


def _consume(generator, steps, workers):
    """What fit_generator/predict_generator do with workers: threads pull batches."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: next(generator), range(steps)))


def test_tutorial_training_and_prediction_loops(dataset):
    datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.2,
                                 height_shift_range=0.2, rescale=1. / 255)
    datagenerator = datagen.flow_from_directory(dataset, target_size=(128, 128),
                                                batch_size=batch_size, interpolation="lanczos",
                                                shuffle=True)
    epochs = 2
    steps_per_epoch = math.ceil(datagenerator.samples // batch_size)
    assert steps_per_epoch == 3
    for _ in range(epochs):
        batches = _consume(datagenerator, steps_per_epoch, workers=8)
        assert [b[0].shape[1:] for b in batches] == [(128, 128, 3)] * steps_per_epoch
    assert datagenerator.total_batches_seen == epochs * steps_per_epoch

    dgen_no_shuffle = datagen.flow_from_directory(dataset, target_size=(128, 128), batch_size=32,
                                                  interpolation="lanczos", shuffle=False)
    dgen_no_shuffle.reset()
    steps = math.ceil(dgen_no_shuffle.samples // batch_size)
    preds = [next(dgen_no_shuffle) for _ in range(steps)]  # predict_generator, in order
    labels = np.concatenate([np.argmax(y, -1) for _, y in preds])
    np.testing.assert_array_equal(labels, dgen_no_shuffle.classes[:steps * 32])


def test_tutorial_validation_split(dataset, capsys):
    datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2,
                                 rescale=1. / 255, validation_split=0.2)
    train_generator = datagen.flow_from_directory(dataset, target_size=(128, 128),
                                                  batch_size=batch_size, interpolation="lanczos",
                                                  subset="training")
    validation_generator = datagen.flow_from_directory(dataset, target_size=(128, 128),
                                                       batch_size=batch_size,
                                                       interpolation="lanczos",
                                                       subset="validation")
    # 20% of the samples go to validation: int(0.2 * 24) = 4 per class (the
    # tutorial's 1128 = 47 classes x int(0.2 * 120)).
    assert validation_generator.samples == N_CLASSES * int(0.2 * PER_CLASS) == 20
    assert train_generator.samples == N_CLASSES * PER_CLASS - 20
    out = capsys.readouterr().out.splitlines()
    assert out == ["Found 100 images belonging to 5 classes.",
                   "Found 20 images belonging to 5 classes."]
    assert not set(train_generator.filenames) & set(validation_generator.filenames)
    x, y = next(validation_generator)
    assert x.shape == (20, 128, 128, 3) and y.shape == (20, N_CLASSES)
    np.testing.assert_array_equal(np.bincount(np.argmax(y, -1), minlength=5), [4] * 5)
    steps = math.ceil(validation_generator.samples // batch_size)
    assert steps == 0  # the tutorial's floor division: fewer samples than a batch
