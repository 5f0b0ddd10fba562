"""`python -m pyimgaug cache DIR [--info] [--prune] [--max-bytes N] [--json]`.

--info (the default) describes a disk cache directory: packs, entries, bytes,
live and stale entries (by reason), the settings of the live entries.
--prune collects stale packs (see `pyimgaug.pipeline.cache_prune`); with
--max-bytes it then deletes the oldest packs until the directory fits.
"""
import argparse
import json
import os
import sys

__all__ = ["add_parser"]


def _size(text):
    """A byte count: an integer, optionally with a K, M, G or T suffix (powers of 1024)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().rstrip("B").rstrip("I")
    factor = 1
    if t and t[-1] in units:
        factor, t = units[t[-1]], t[:-1]
    try:
        value = int(float(t) * factor)
    except ValueError:
        raise argparse.ArgumentTypeError("not a size: %r (examples: 5000000, 200M, 1.5G)" % text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0; got %r" % text)
    return value


def add_parser(sub):
    """Registers the `cache` subcommand on an argparse subparsers object."""
    p = sub.add_parser("cache", help="inspect or prune a disk cache directory",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cache_dir", metavar="DIR", help="the cache= directory of a flow")
    p.add_argument("--info", action="store_true", help="describe the cache (default)")
    p.add_argument("--prune", action="store_true",
                   help="delete stale packs (files changed or deleted, other versions, duplicates)")
    p.add_argument("--max-bytes", type=_size, default=None, metavar="N",
                   help="with --prune: then delete the oldest packs until the cache fits N bytes")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)
    return p


def run(args):
    from ..pipeline.cache_prune import format_report, inspect, prune
    if not os.path.isdir(args.cache_dir):
        print("error: cache directory not found: %s" % args.cache_dir, file=sys.stderr)
        return 2
    if args.max_bytes is not None and not args.prune:
        print("error: --max-bytes needs --prune", file=sys.stderr)
        return 2
    out = {}
    if args.prune:
        out["prune"] = prune(args.cache_dir, max_bytes=args.max_bytes)
    if args.info or not args.prune:
        out["info"] = inspect(args.cache_dir)
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    if "prune" in out:
        r = out["prune"]
        mib = 1 << 20
        print("pruned %s: %.1f MiB -> %.1f MiB" % (os.path.abspath(args.cache_dir),
                                                  r["bytes_before"] / mib, r["bytes_after"] / mib))
        print("  packs removed: %d, rewritten without their stale entries: %d, "
              "stale entries removed: %d" % (r["packs_removed"], r["packs_rewritten"],
                                             r["entries_removed"]))
        print("  damaged packs removed: %d, old-format folders removed: %d, old temporary "
              "files removed: %d, packs deleted for --max-bytes: %d" % (
                  r["damaged_packs_removed"], r["old_format_dirs_removed"],
                  r["tmp_files_removed"], r["trimmed_packs"]))
    if "info" in out:
        print("\n".join(format_report(out["info"])))
    return 0
