"""Keras 3: train a small CNN on a class-per-folder directory, then predict.

    KERAS_BACKEND=torch python examples/keras_fit.py [DIR] [--epochs 2]

pyimgaug's iterators are `keras.utils.PyDataset`s once Keras is imported, so
they go straight into `fit`, `evaluate` and `predict`.  Without DIR a small
generated dataset is used.
"""
import argparse
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402

from pyimgaug import ImageDataGenerator  # noqa: E402
from pyimgaug.cli.sample_data import make_sample_dataset  # noqa: E402

SIZE = (64, 64)


def build_model(num_classes):
    model = keras.Sequential([
        keras.Input(SIZE + (3,)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    directory = args.directory or make_sample_dataset(
        os.path.join(tempfile.mkdtemp(prefix="pyimgaug-keras-"), "images"),
        images_per_class=24, min_side=64, max_side=160)

    datagen = ImageDataGenerator(rescale=1 / 255, rotation_range=20, width_shift_range=0.2,
                                 height_shift_range=0.2, horizontal_flip=True,
                                 validation_split=0.2)
    train = datagen.flow_from_directory(directory, target_size=SIZE, batch_size=16, seed=1,
                                        subset="training")
    val = datagen.flow_from_directory(directory, target_size=SIZE, batch_size=16, seed=1,
                                      subset="validation", shuffle=False)
    train.workers = args.workers  # Keras builds batches on that many threads
    model = build_model(train.num_classes)
    model.fit(train, validation_data=val, epochs=args.epochs)

    # Predict in file order: shuffle=False, so row i is filenames[i].
    test = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        directory, target_size=SIZE, batch_size=16, class_mode=None, shuffle=False)
    probs = model.predict(test)
    names = {v: k for k, v in test.class_indices.items()}
    for filename, p in list(zip(test.filenames, probs))[:5]:
        print("{:<32} {}".format(filename, names[int(p.argmax())]))


if __name__ == "__main__":
    main()
