"""Pictures of what an augmentation does: labelled grids drawn with Pillow alone."""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

_LABEL_HEIGHT = 14
_PAD = 4


def to_display(x: np.ndarray, rescale: Optional[float]) -> np.ndarray:
    """A batch image (H, W, C) back to uint8 pixels, undoing `rescale`."""
    x = np.asarray(x, dtype=np.float64)
    if rescale:
        x = x / rescale
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)[..., :3]


def grid(tiles: Sequence[np.ndarray], rows: int, cols: int, labels: Optional[Sequence[str]] = None) -> Image.Image:
    """Lays out uint8 (H, W, 3) tiles row by row, each with an optional caption."""
    if rows < 1 or cols < 1:
        raise ValueError(f"rows and cols must be >= 1; got {rows}, {cols}")
    if not tiles:
        raise ValueError("no images to draw")
    th = max(t.shape[0] for t in tiles)
    tw = max(t.shape[1] for t in tiles)
    cap = _LABEL_HEIGHT if labels else 0
    canvas = Image.new("RGB", (cols * (tw + _PAD) + _PAD, rows * (th + cap + _PAD) + _PAD), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for i, tile in enumerate(tiles[: rows * cols]):
        r, c = divmod(i, cols)
        x0 = _PAD + c * (tw + _PAD)
        y0 = _PAD + r * (th + cap + _PAD)
        canvas.paste(Image.fromarray(tile), (x0, y0 + cap))
        if labels:
            draw.text((x0, y0), str(labels[i])[: max(tw // 6, 1)], fill=(0, 0, 0))
    return canvas


def batch_labels(iterator, y: Optional[np.ndarray]) -> Optional[List[str]]:
    """Class names for a batch's labels, when the iterator has classes."""
    names = {v: k for k, v in getattr(iterator, "class_indices", {}).items()}
    if y is None or not names:
        return None
    y = np.asarray(y)
    idx = y.argmax(axis=-1) if y.ndim == 2 else np.rint(y).astype(int)
    return [names.get(int(i), str(int(i))) for i in idx]
