"""The command line, `python -m pyimgaug {demo,preview,bench,info,cache}`, and what it reports.

`main` parses the command line and runs the demo, preview and bench commands
on top of the Keras-compatible surface (`pyimgaug.keras`); `cache` inspects
and prunes a disk cache directory (`pyimgaug.pipeline.cache_prune`);
`build_info` is the `info` command and `pyimgaug.show_config()`.  `preview`
draws labelled grids of augmented batches, `progress` the progress bar, and
`sample_data` generates the demo's class-per-folder dataset (the examples use
it too).  Nothing below the command line imports from here, except the top
level's `show_config`.
"""
