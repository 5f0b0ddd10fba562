"""The pipeline beneath the Keras-compatible surface: files in, one augmented batch out.

Data flows one way through these modules, in this order:

1. `listing` finds the image files of a class-per-folder dataset (by name only)
   and packs their names into a `pathtable.PathTable`;
2. `io` decodes a file as Keras does (`load_img` and friends live there too;
   plain PNG files go through `png`, Pillow's pixels, faster),
   `decode` decodes a batch's files on the thread `budget`, and `cache` keeps
   the decoded, resized images for later epochs (`cache_prune` trims a cache
   directory);
3. `params` draws the random parameters of the whole batch as arrays, and
   `affine` turns them into inverse matrices;
4. `batch` makes the one kernel call (`pyimgaug._kernel`) that resizes, warps
   and rescales the batch, then the steps the kernel cannot do.

The batch goes next to the iterators in `pyimgaug.keras`, which hand it to the
training loop, directly or through `pyimgaug.integrations`.  `prefetch` builds
batches ahead on worker threads; `budget` shares the cores between decode
threads and kernel threads.  Nothing here imports from `pyimgaug.keras`.
"""
