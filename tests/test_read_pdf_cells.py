"""The faster cell search gives pdfplumber's cells exactly, on real ruled pages."""
from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pdfplumber.table import TableFinder, intersections_to_cells

from extract.layout.cells import FastTableFinder
from extract.layout.cells import intersections_to_cells as fast_cells
from extract.layout.rules import page_edges
from extract.layout.tables import _Page

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
COMELLA = SHARED / "corpus" / "pdf" / "comella2024_front_immunol.pdf"

pytestmark = pytest.mark.skipif(not COMELLA.exists(), reason="../shared/corpus is absent (shared test corpus not mounted)")


@pytest.mark.parametrize("index", [1, 2])
def test_fast_cells_equal_pdfplumber_cells(index):
    pdf = pdfium.PdfDocument(COMELLA)
    page = pdf[index]
    width, height = page.get_size()
    edges = page_edges(page, height)
    slow = TableFinder(_Page((0, 0, width, height), edges, []), {})
    assert slow.cells  # the page has ruled cells
    assert fast_cells(slow.intersections) == intersections_to_cells(slow.intersections)
    fast = FastTableFinder(_Page((0, 0, width, height), edges, []), {})
    assert [t.bbox for t in fast.tables] == [t.bbox for t in slow.tables]


def test_edges_from_pdfium_find_the_same_tables_as_pdfplumber():
    import pdfplumber

    pdf = pdfium.PdfDocument(COMELLA)
    with pdfplumber.open(COMELLA) as plumber:
        for index in (1, 2):
            page = pdf[index]
            width, height = page.get_size()
            ours = FastTableFinder(_Page((0, 0, width, height), page_edges(page, height), []), {})
            theirs = plumber.pages[index].find_tables()
            assert len(ours.tables) == len(theirs)
            for a, b in zip(ours.tables, theirs):
                assert all(abs(x - y) < 2 for x, y in zip(a.bbox, b.bbox))
