"""The PDF reader's fast paths give what the slow, obvious code gives."""
from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from extract.layout.rawpdfium import loose_char_boxes, object_types
from extract.layout.stats import median

floats = st.one_of(st.floats(min_value=-1e9, max_value=1e9, width=64), st.just(float("nan")))


@given(arrays(np.float64, st.integers(1, 60), elements=floats))
def test_median_is_numpys(values):
    ours, theirs = median(values), float(np.median(values))
    assert (np.isnan(ours) and np.isnan(theirs)) or ours == theirs


def test_char_boxes_and_object_types_equal_pdfium_one_call_at_a_time(shared):
    pdf = pdfium.PdfDocument(str(shared / "corpus" / "pdf" / "comella2024_front_immunol.pdf"))
    try:
        page = pdf[1]
        text = page.get_textpage()
        n = text.count_chars()
        idx = np.arange(n)
        fast = loose_char_boxes(text.raw, idx)
        rect = pdfium_c.FS_RECTF()
        slow = np.zeros((n, 4))
        for i in range(n):
            if pdfium_c.FPDFText_GetLooseCharBox(text.raw, i, rect):
                slow[i] = (rect.left, rect.top, rect.right, rect.bottom)
            else:
                slow[i] = slow[i - 1] if i else 0.0
        assert n > 1000 and np.array_equal(fast, slow.astype(np.float32).astype(float))
        _, types = object_types(page.raw)
        assert types == [pdfium_c.FPDFPageObj_GetType(pdfium_c.FPDFPage_GetObject(page.raw, i))
                         for i in range(pdfium_c.FPDFPage_CountObjects(page.raw))]
    finally:
        pdf.close()
