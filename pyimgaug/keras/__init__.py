"""The Keras-compatible surface: `ImageDataGenerator` and its iterators.

`generator` holds `ImageDataGenerator` (arguments, `random_transform`,
`standardize`, `fit`, the `flow*` methods), `iterators` the array, directory
and dataframe iterators that `flow*` returns, and `checks` the argument checks
Keras does not make.  They behave like `keras_preprocessing.image` 1.1.2 and
are re-exported at the top level (`from pyimgaug import ImageDataGenerator`).

Data comes up from `pyimgaug.pipeline` (listing, decoding, parameters, one
kernel call per batch); each batch goes next to the training loop, directly
(`next(it)`, `it[i]`) or through the adapters in `pyimgaug.integrations`.
This package is not Keras itself, nor an adapter to it: the Keras 3
`PyDataset` adapter is `pyimgaug.integrations.keras`.
"""
