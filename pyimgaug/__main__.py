"""`python -m pyimgaug ...` and the `pyimgaug` console script.

The commands live in `pyimgaug.cli`; this module only starts them.
"""
import sys

from .cli.main import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
