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

    def add(self, text: str, boxes: np.ndarray | None = None) -> tuple[int, int]:
        """Append ``text``; ``boxes`` must have one row per character (None: inserted text)."""
        if not text:
            return self.pos, self.pos
        if boxes is None:
            boxes = np.repeat(_NAN4, len(text), axis=0)
        elif len(boxes) != len(text):
            raise ValueError(f"{len(text)} characters but {len(boxes)} boxes")
        start = self.pos
        self._text.append(text)
        self._boxes.append(boxes)
        self.pos += len(text)
        return start, self.pos

    def mark(self) -> int:
        """A bookmark for :meth:`text_since`."""
        return len(self._text)

    def text_since(self, mark: int) -> str:
        return "".join(self._text[mark:])

    def last_char(self) -> str:
        return self._text[-1][-1] if self._text else ""

    def build(self) -> tuple[str, np.ndarray]:
        text = "".join(self._text)
        boxes = np.concatenate(self._boxes) if self._boxes else np.zeros((0, 4))
        return text, boxes
