"""Property: for any span of doc.text, page_of and boxes agree with the page ranges."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extract.readers import read

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PDF = SHARED / "corpus" / "pdf"

pytestmark = pytest.mark.skipif(not PDF.exists(), reason="../shared/corpus/pdf is absent (shared test corpus not mounted)")

_DOCS = {}


def _doc(name: str):
    if name not in _DOCS:
        _DOCS[name] = read(PDF / name)
    return _DOCS[name]


NAMES = sorted(p.name for p in PDF.glob("*.pdf")) if PDF.exists() else ["-"]


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(NAMES), a=st.floats(0, 1), length=st.integers(1, 400))
def test_page_of_and_boxes_agree_with_page_ranges(name, a, length):
    doc = _doc(name)
    start = int(a * (len(doc.text) - 1))
    end = min(len(doc.text), start + length)
    for k in range(start, end):
        page = doc.page_of(k)
        holders = [p.number for p in doc.pages if p.start <= k < p.end]
        assert holders == [page]
        pg = doc.pages[page - 1]
        box = doc.boxes[k]
        if not np.isnan(box).any():
            assert -1 <= box[0] <= box[2] <= pg.width + 1
            assert -1 <= box[1] <= box[3] <= pg.height + 1
    bb = doc.bbox(start, end)
    if bb is not None:
        pg = doc.pages[doc.page_of(start) - 1]
        assert bb[2] <= pg.width + 1 and bb[3] <= pg.height + 1
