"""`pyimgaug.affine.transform_matrix_offset_center` and `flip_axis`, kept at the documented path.

Keras's helpers of the same names are not re-exported at the top level; the
documentation first placed them here.  The code lives in
`pyimgaug.pipeline.affine`; this module only re-exports those public names.
"""
from .pipeline.affine import flip_axis, transform_matrix_offset_center

__all__ = ["transform_matrix_offset_center", "flip_axis"]
