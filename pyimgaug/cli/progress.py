"""A dependency-free progress bar for long work: drawn only on a terminal."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """Counts work done and, on a terminal, redraws one status line.

    When the stream is not a terminal (a log file, CI) it stays quiet; callers
    print their own summary line at the end.
    """

    def __init__(self, total: int, label: str = "", unit: str = "img", stream: Optional[TextIO] = None,
                 enabled: Optional[bool] = None):
        self.total = max(int(total), 0)
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def rate(self) -> float:
        e = self.elapsed
        return self.done / e if e > 0 else 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._last_draw > 0.1 or self.done >= self.total):
            self._last_draw = now
            self._draw()

    def _draw(self) -> None:
        width = 30
        frac = min(self.done / self.total, 1.0) if self.total else 1.0
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {self.unit} "
                          f"{self.rate:7.1f} {self.unit}/s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
