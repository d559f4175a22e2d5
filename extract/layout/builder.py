"""Text with a box per character, built piece by piece in reading order."""
from __future__ import annotations

import numpy as np

_NAN4 = np.full((1, 4), np.nan)


class TextBuilder:
    """Accumulates text pieces and their ``(len, 4)`` boxes; inserted text gets NaN boxes."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._boxes: list[np.ndarray] = []
        self.pos = 0
        # pending text whose boxes are rows of a page's glyph array (-1: inserted, NaN box)
        self._src = np.full((1, 4), np.nan)
        self._pt: list[str] = []
        self._pi: list[int] = []

    def set_source(self, glyph_boxes: np.ndarray) -> None:
        """Boxes for :meth:`put` are rows of this array from now on (one page's glyphs)."""
        self.flush()
        self._src = np.vstack([glyph_boxes, np.full((1, 4), np.nan)])

    def put(self, text: str, rows: list[int]) -> None:
        """Append ``text`` whose character ``k`` has the box ``glyph_boxes[rows[k]]`` (-1: none).

        Cheaper than :meth:`add` for many small pieces: boxes are gathered once per flush.
        """
        if len(rows) != len(text):
            raise ValueError(f"{len(text)} characters but {len(rows)} box rows")
        self._pt.append(text)
        self._pi.extend(rows)
        self.pos += len(text)

    def flush(self) -> None:
        if self._pt:
            self._text.append("".join(self._pt))
            self._boxes.append(self._src[np.asarray(self._pi, dtype=np.intp)])
            self._pt, self._pi = [], []

    def add(self, text: str, boxes: np.ndarray | None = None) -> tuple[int, int]:
        """Append ``text``; ``boxes`` must have one row per character (None: inserted text)."""
        if not text:
            return self.pos, self.pos
        self.flush()
        if boxes is None:
            boxes = np.repeat(_NAN4, len(text), axis=0)
        elif len(boxes) != len(text):
            raise ValueError(f"{len(text)} characters but {len(boxes)} boxes")
        start = self.pos
        self._text.append(text)
        self._boxes.append(boxes)
        self.pos += len(text)
        return start, self.pos

    def last_char(self) -> str:
        if self._pt:
            return self._pt[-1][-1]
        return self._text[-1][-1] if self._text else ""

    def build(self) -> tuple[str, np.ndarray]:
        self.flush()
        text = "".join(self._text)
        boxes = np.concatenate(self._boxes) if self._boxes else np.zeros((0, 4))
        return text, boxes
