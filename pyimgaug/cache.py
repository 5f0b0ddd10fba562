"""`pyimgaug.cache.CacheWarning`, kept at the path the documentation first gave it.

The caches themselves live in `pyimgaug.pipeline.cache`; this module only
re-exports the documented public name, so that code filtering the warning by
this path keeps working.
"""
from .pipeline.cache import CacheWarning

__all__ = ["CacheWarning"]
