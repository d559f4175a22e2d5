"""The PDF reader on the typeset corpus in ../shared/corpus/pdf.

Facts, reading order and table rows are read from ../shared at test time (the corpus's own
verify.py lists and the Markdown seed), never copied here.
"""
from __future__ import annotations

import importlib.util
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from extract.readers import read

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
PDF = CORPUS / "pdf"
COMELLA = PDF / "comella2024_front_immunol.pdf"

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is absent (shared test corpus not mounted)")


def _verify_module():
    spec = importlib.util.spec_from_file_location("corpus_verify", CORPUS / "src" / "verify.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _cjk(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def verify():
    return _verify_module()


@pytest.fixture(scope="module")
def docs():
    return {p.name: read(p) for p in sorted(PDF.glob("*.pdf"))}


def _facts(verify):
    out = {COMELLA.name: verify.COMELLA_FACTS}
    out.update({name: facts for name, (_, facts) in verify.SIMPLE.items()})
    return out


def test_every_checked_fact_is_in_the_text(docs, verify):
    missing = []
    for name, facts in _facts(verify).items():
        text = docs[name].text
        for fact in facts:
            if re.search(r"[\u4e00-\u9fff]", fact):
                ok = _cjk(fact) in _cjk(text)
            else:
                ok = fact in _flat(text)
            if not ok:
                missing.append((name, fact[:50]))
    assert missing == []


def test_comella_sections_come_in_reading_order(docs, verify):
    text = _flat(docs[COMELLA.name].text)
    pos = [text.find(s) for s in verify.COMELLA_ORDER]
    assert all(p >= 0 for p in pos) and pos == sorted(pos)


def test_comella_side_column_is_one_block_before_the_title(docs):
    doc = docs[COMELLA.name]
    title = doc.metadata.title
    assert title, "title from the PDF info"
    pattern = r"\s+".join(map(re.escape, title.split()))
    hits = [m.start() for m in re.finditer(pattern, doc.text[: doc.pages[0].end])]
    assert hits
    # the printed title, not the citation line that repeats it: the largest type
    title_at = max(hits, key=lambda k: doc.boxes[k, 3] - doc.boxes[k, 1])
    tx0 = doc.bbox(title_at, title_at + 5)[0]
    side = doc.boxes[doc.pages[0].start:title_at]
    side = side[~np.isnan(side).any(axis=1)]
    # everything before the title is the narrow side column, left of the title block,
    # and it holds the editorial labels in their printed order
    assert len(side) > 500 and (side[:, 2] < tx0).all()
    labels = [doc.text.find(lab, 0, title_at) for lab in ("EDITED BY", "RECEIVED", "COPYRIGHT")]
    assert all(k >= 0 for k in labels) and labels == sorted(labels)


def test_running_heads_and_feet_are_out_of_the_text(docs):
    doc = docs[COMELLA.name]
    assert all(p.header for p in doc.pages) and all(p.footer for p in doc.pages)
    for p in doc.pages:
        body = doc.text[p.start:p.end]
        for line in (p.header, p.footer):
            assert line not in body
        # the page number of the foot is not a line of its own in the text
        number = re.search(r"\b0\d\b", p.footer).group(0)
        assert f"\n{number}\n" not in body
    assert "frontiersin.org" not in doc.text


def test_hyphenation_rejoined(docs):
    text = docs[COMELLA.name].text
    assert "ALPSlike" not in text and "ALPS-like" in text
    assert "well-tolerated" in text and "immune-mediated" in text
    assert not re.search(r"[a-z]-\n[a-z]", text), "a line-end hyphen left in the text"


def test_ligatures_expanded_with_one_box_per_letter(docs):
    doc = docs[COMELLA.name]
    assert not re.search("[\ufb00-\ufb06]", doc.text)
    k = doc.text.find("fi")
    assert k >= 0 and not np.isnan(doc.boxes[k]).any() and not np.isnan(doc.boxes[k + 1]).any()


def test_superscripts_never_glue_to_numbers(docs):
    doc = docs[COMELLA.name]
    sups = doc.metadata.extra["superscripts"]
    assert len(sups) >= 17  # at least one affiliation mark per author
    for s, e in sups:
        assert doc.text[s - 1] == doc.metadata.extra["superscript_mark"]
        assert not doc.text[s - 2].isdigit() if s >= 2 else True
    # an author name followed by its mark: the mark is not part of the name token
    assert not re.search(r"Miano\d", doc.text)


def test_boxes_cover_the_text_and_map_to_their_page(docs):
    for doc in docs.values():
        assert doc.boxes.shape == (len(doc.text), 4)
        assert doc.pages[0].start == 0 and doc.pages[-1].end == len(doc.text)
        for a, b in zip(doc.pages, doc.pages[1:]):
            assert a.end == b.start
        real = ~np.isnan(doc.boxes).any(axis=1)
        assert real.mean() > 0.75  # most characters come from the page
        for p in doc.pages:
            box = doc.boxes[p.start:p.end][real[p.start:p.end]]
            assert (box[:, 0] >= -1).all() and (box[:, 2] <= p.width + 1).all()
            assert (box[:, 1] >= -1).all() and (box[:, 3] <= p.height + 1).all()


def test_metadata(docs):
    m = docs[COMELLA.name].metadata
    assert m.doi == "10.3389/fimmu.2024.1415389" and m.year == 2024
    assert len(m.authors) == 17 and m.authors[0] == "Mattia Comella"
    assert docs["okuracar2024_scand_j_immunol.pdf"].metadata.doi == "10.1111/sji.13376"
    assert docs["bindl2005_ipex.pdf"].metadata.doi == "10.1016/j.jpeds.2005.04.017"
    years = {name: d.metadata.year for name, d in docs.items()}
    # as the corpus README states them; the consensus prints only a table's 2009 on page 1
    assert years == {"bindl2005_ipex.pdf": 2005, "comella2024_front_immunol.pdf": 2024,
                     "mtor_consensus_2025_zh_en.pdf": 2025, "okuracar2024_scand_j_immunol.pdf": 2024,
                     "shimano2019_alps_chapter.pdf": 2019}
    assert docs["okuracar2024_scand_j_immunol.pdf"].metadata.journal == "Scand J Immunol"


def test_title_by_type_size_agrees_with_the_info_title(docs):
    from extract.readers.pdf_post import title_by_size

    for name, doc in docs.items():
        assert doc.metadata.title, name
        assert _flat(title_by_size(doc, doc.pages[0])) == doc.metadata.title, name


def test_pdfplumber_fallback_reads_the_same_paper(verify):
    """The path taken when pdfium rejects a file gives the same facts."""
    from extract.readers.pdf import assemble
    from extract.readers.pdf_pages import read_with_plumber

    name = "okuracar2024_scand_j_immunol.pdf"
    pages, info, warnings = read_with_plumber(name, (PDF / name).read_bytes(), None)
    doc = assemble(name, pages, info, warnings)
    assert doc.warnings and "pdfplumber" in doc.warnings[0]
    text = _flat(doc.text)
    for fact in verify.SIMPLE[name][1]:
        assert fact in text
    assert doc.boxes.shape == (len(doc.text), 4)


def test_rotated_page_reads_the_same_text_within_its_box(verify):
    import io

    import pypdfium2 as pdfium

    from extract.readers.pdf import read_pdf

    name = "okuracar2024_scand_j_immunol.pdf"
    pdf = pdfium.PdfDocument(PDF / name)
    pdf[0].set_rotation(90)
    buf = io.BytesIO()
    pdf.save(buf)
    doc = read_pdf(name, buf.getvalue())
    text = _flat(doc.text)
    assert all(fact in text for fact in verify.SIMPLE[name][1])
    box = doc.boxes[~np.isnan(doc.boxes).any(axis=1)]
    page = doc.pages[0]
    assert (box[:, 2] <= page.width + 1).all() and (box[:, 3] <= page.height + 1).all() and (box >= -1).all()


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def test_text_running_from_left_column_foot_to_right_column_head_is_whole(docs):
    """Around every column change, the text reads as in the seed (which has no columns)."""
    from extract.readers.pdf_post import CAPTION

    doc = docs[COMELLA.name]
    seed = _alnum((CORPUS / "seeds" / "comella2024_front_immunol.md").read_text(encoding="utf-8"))
    real = np.flatnonzero(~np.isnan(doc.boxes).any(axis=1))
    in_table = np.zeros(len(doc.text), bool)
    for t in doc.tables:
        in_table[t.start:t.end] = True
    checked = 0
    for a, b in zip(real[:-1].tolist(), real[1:].tolist()):
        page = doc.page_of(a)
        if page != doc.page_of(b) or in_table[a] or in_table[b]:
            continue
        mid = doc.pages[page - 1].width / 2
        ba, bb = doc.boxes[a], doc.boxes[b]
        if not (ba[2] < mid < bb[0] and bb[1] < ba[1] - 100):  # foot of left -> head of right
            continue
        line_after = doc.text[b:doc.text.find("\n", b)]
        if CAPTION.match(line_after):  # a float stands at the head of the column
            continue
        window = doc.text[max(0, a - 80):b + 80]
        assert _alnum(window) in seed, window
        checked += 1
    assert checked >= 3
