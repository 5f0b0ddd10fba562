"""Command line: `python -m pyimgaug {demo,preview,bench,info} ...`.

demo     builds a small sample dataset (generated, no network) in ./pyimgaug-demo/
         (reused by later runs), runs one epoch of the tutorial's augmentation with
         a progress bar and writes a preview grid there.
preview  writes a labelled grid of one augmented batch of a class-per-folder
         directory, or (--compare) augmented images beside their originals.
bench    prints images/second of flow_from_directory over a directory.
info     prints the version, instruction set, threading runtime and library
         versions: paste it into a bug report.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import List, Optional

import numpy as np

from .. import ImageDataGenerator
from ..pipeline.io import load_img, img_to_array
from .preview import batch_labels, grid, to_display
from .progress import Progress
from .sample_data import ensure_sample_dataset

# The seed tutorial's augmentation.
TUTORIAL_AUGMENTATION = dict(rotation_range=20, width_shift_range=0.2, height_shift_range=0.2, rescale=1.0 / 255)


def _add_augmentation_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("augmentation (ImageDataGenerator arguments; defaults are the tutorial's)")
    g.add_argument("--rotation-range", type=float, default=20.0)
    g.add_argument("--width-shift-range", type=float, default=0.2)
    g.add_argument("--height-shift-range", type=float, default=0.2)
    g.add_argument("--shear-range", type=float, default=0.0)
    g.add_argument("--zoom-range", type=float, default=0.0)
    g.add_argument("--horizontal-flip", action="store_true")
    g.add_argument("--vertical-flip", action="store_true")
    g.add_argument("--fill-mode", default="nearest", choices=["constant", "nearest", "reflect", "wrap"])
    g.add_argument("--rescale", type=float, default=1.0 / 255)
    g.add_argument("--target-size", type=int, nargs=2, default=[128, 128], metavar=("H", "W"))
    g.add_argument("--interpolation", default="lanczos",
                   choices=["nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"])
    g.add_argument("--color-mode", default="rgb", choices=["grayscale", "rgb", "rgba"])
    g.add_argument("--seed", type=int, default=None)


def _generator(args) -> ImageDataGenerator:
    return ImageDataGenerator(
        rotation_range=args.rotation_range, width_shift_range=args.width_shift_range,
        height_shift_range=args.height_shift_range, shear_range=args.shear_range,
        zoom_range=args.zoom_range, horizontal_flip=args.horizontal_flip,
        vertical_flip=args.vertical_flip, fill_mode=args.fill_mode, rescale=args.rescale)


class UsageError(Exception):
    """A problem with the command line's input: reported in one line, exit status 2."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {value}")
    return value


def _flow(datagen, directory, args, batch_size, shuffle, **extra):
    it = datagen.flow_from_directory(
        directory, target_size=tuple(args.target_size), color_mode=args.color_mode,
        batch_size=batch_size, interpolation=args.interpolation, shuffle=shuffle, seed=args.seed, **extra)
    if it.samples == 0:
        raise UsageError(f"no images found in {directory} (expected one subfolder of images per class)")
    return it


def write_preview(directory: str, out: str, args, rows: int, cols: int, compare: bool) -> str:
    """Writes the preview picture and returns its path."""
    datagen = _generator(args)
    n = rows * cols
    if compare:
        # The tutorial's second figure: shuffle=False maps batch image i to filenames[i].
        it = _flow(datagen, directory, args, batch_size=max(n // 2, 1), shuffle=False)
        x, _ = it[0]
        h, w = args.target_size
        tiles, labels = [], []
        for i in range(len(x)):
            original = img_to_array(load_img(it.filepaths[i], color_mode=args.color_mode, target_size=(h, w),
                                             interpolation=args.interpolation))
            tiles += [to_display(original, None), to_display(x[i], args.rescale)]
            labels += ["original", "augmented"]
        image = grid(tiles, rows, cols, labels)
    else:
        it = _flow(datagen, directory, args, batch_size=n, shuffle=True)
        x, y = it[0]
        image = grid([to_display(t, args.rescale) for t in x], rows, cols, batch_labels(it, y))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    image.save(out)
    return out


def run_epochs(directory: str, args, epochs: int, batch_size: int, report: Optional[dict] = None,
               **flow_kwargs) -> List[float]:
    """Runs whole epochs with a progress bar; returns images/second per epoch.

    `report`, when given, receives the iterator's `cache_info` under "cache_info".
    """
    it = _flow(_generator(args), directory, args, batch_size=batch_size, shuffle=True, **flow_kwargs)
    # With workers, next() lets them build batches ahead (it[i] builds on demand).
    ahead = bool(flow_kwargs.get("workers"))
    rates = []
    for epoch in range(epochs):
        with Progress(it.samples, label=f"epoch {epoch + 1}") as bar:
            start = time.perf_counter()
            for i in range(len(it)):
                x, _ = next(it) if ahead else it[i]
                bar.update(len(x))
            elapsed = time.perf_counter() - start
        rates.append(it.samples / elapsed if elapsed > 0 else float("inf"))
        print(f"epoch {epoch + 1}: {it.samples} images in {elapsed:.2f} s, {rates[-1]:.1f} images/s")
        if not ahead:
            it.on_epoch_end()
    if report is not None:
        report["cache_info"] = it.cache_info()
    return rates


DEFAULT_DEMO_DIR = "pyimgaug-demo"


def _cmd_demo(args) -> int:
    root = os.path.abspath(args.dir or DEFAULT_DEMO_DIR)
    data = os.path.join(root, "images")
    try:
        data, reused = ensure_sample_dataset(data, images_per_class=args.images_per_class, seed=0)
    except OSError as e:
        raise UsageError(str(e)) from e
    if reused:
        print(f"Reusing the sample dataset in {data} ({args.images_per_class} images per class)")
    else:
        print(f"Wrote a sample dataset ({args.images_per_class} images per class) to {data}")
    run_epochs(data, args, epochs=1, batch_size=32)
    out = write_preview(data, os.path.abspath(args.out or os.path.join(root, "preview.png")), args,
                        rows=4, cols=8, compare=False)
    print(f"Preview grid of one augmented batch: {out}")
    return 0


def _cmd_info(args) -> int:
    from .build_info import show_config

    show_config()
    return 0


def _cmd_preview(args) -> int:
    out = write_preview(args.directory, args.out, args, args.rows, args.cols, args.compare)
    print(f"Wrote {out}")
    return 0


def _cmd_bench(args) -> int:
    cache = None if args.cache in (None, "none") else args.cache
    report: dict = {}
    rates = run_epochs(args.directory, args, epochs=args.epochs, batch_size=args.batch_size,
                       report=report, decode=args.decode, cache=cache, cache_bytes=args.cache_bytes,
                       workers=args.workers, max_queue_size=args.max_queue_size)
    print(f"workers={args.workers} decode={args.decode} cache={cache or 'none'}")
    if len(rates) >= 2:
        later = statistics.median(rates[1:])
        print(f"epoch 1: {rates[0]:.1f} images/s | epoch 2+: {later:.1f} images/s "
              f"({later / rates[0]:.1f}x epoch 1)")
    info = report.get("cache_info")
    if info is not None:
        print("cache: {hits} hits, {misses} misses, {bytes} bytes used".format(**info)
              + (f", {info['damaged']} damaged entries rebuilt" if info.get("damaged") else ""))
    return 0


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0; got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pyimgaug", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="sample dataset, one augmented epoch, preview grid")
    demo.add_argument("--dir", help=f"where to write the dataset and the grid (default: ./{DEFAULT_DEMO_DIR}); "
                                    "a complete dataset there is reused")
    demo.add_argument("--out", help="path of the preview PNG (default: DIR/preview.png)")
    demo.add_argument("--images-per-class", type=_positive_int, default=64)
    _add_augmentation_args(demo)
    demo.set_defaults(func=_cmd_demo)

    preview = sub.add_parser("preview", help="labelled grid of one augmented batch")
    preview.add_argument("directory", help="class-per-folder image directory")
    preview.add_argument("--out", required=True, help="PNG to write")
    preview.add_argument("--rows", type=_positive_int, default=4)
    preview.add_argument("--cols", type=_positive_int, default=8)
    preview.add_argument("--compare", action="store_true", help="augmented images beside their originals")
    _add_augmentation_args(preview)
    preview.set_defaults(func=_cmd_preview)

    bench = sub.add_parser("bench", help="images/second over a directory")
    bench.add_argument("directory", help="class-per-folder image directory")
    bench.add_argument("--epochs", type=_positive_int, default=2)
    bench.add_argument("--batch-size", type=_positive_int, default=32)
    bench.add_argument("--workers", type=_non_negative_int, default=0,
                       help="threads building batches ahead (default 0: built on demand)")
    bench.add_argument("--max-queue-size", type=_positive_int, default=10)
    bench.add_argument("--decode", default="exact", choices=["exact", "fast"],
                       help="fast: large JPEGs decode at a reduced DCT scale (close to exact pixels)")
    bench.add_argument("--cache", default=None, metavar="none|memory|DIR",
                       help="keep decoded, resized images: in memory or in a directory")
    bench.add_argument("--cache-bytes", type=_positive_int, default=None,
                       help="bound of the cache: memory (default 1 GiB) or a directory's packs (default: none)")
    _add_augmentation_args(bench)
    bench.set_defaults(func=_cmd_bench)

    info = sub.add_parser("info", help="version, instruction set, threading runtime, library versions")
    info.set_defaults(func=_cmd_info)
    from . import cache as cache_cli  # `cache DIR --info/--prune`, in its own module
    cache_cli.add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "directory", None) is not None and not os.path.isdir(args.directory):
        print(f"error: directory not found: {args.directory}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
