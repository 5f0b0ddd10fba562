"""`pyimgaug.cache_prune.inspect` and `prune`, kept at the path the documentation first gave them.

The code lives in `pyimgaug.pipeline.cache_prune`; this module only re-exports
the documented public functions, so that scripts written against this path keep
working.
"""
from .pipeline.cache_prune import inspect, prune

__all__ = ["inspect", "prune"]
