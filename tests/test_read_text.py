"""Text / Markdown reader on the Comella seed: tables (shape, header, group column, cells) and sections.

Expected Table 3 rows are read at test time from ../shared/corpus/README.md (its table of rows).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from extract.readers import read, sniff
from extract.errors import EmptyFile, NotSupported

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
COMELLA = SEEDS / "comella2024_front_immunol.md"

needs_shared = pytest.mark.skipif(not COMELLA.exists(), reason="../shared corpus folder absent")


@pytest.fixture(scope="module")
def comella():
    return read(COMELLA)


def readme_table3_rows() -> list[list[str]]:
    """The '| group | row | Patients (n) | …' table of corpus/README.md, as lists of cell strings."""
    rows, inside = [], False
    for line in (SHARED / "corpus" / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| group | row |"):
            inside = True
            continue
        if inside:
            if not line.startswith("|"):
                break
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            rows.append(["" if c == "(empty)" else c for c in cells])
    return rows


@needs_shared
def test_kind_from_content(comella):
    assert comella.kind == "markdown"
    assert sniff(COMELLA.read_bytes()) == "markdown"
    assert sniff((SEEDS / "okuracar2024_pubmed.txt").read_bytes()) == "text"


@needs_shared
def test_text_is_the_file(comella):
    assert comella.text == COMELLA.read_bytes().decode("utf-8").replace("\r\n", "\n")
    assert comella.pages[0].start == 0 and comella.pages[0].end == len(comella.text)


@needs_shared
def test_three_tables_with_labels_and_captions(comella):
    assert [t.label for t in comella.tables] == ["Table 1", "Table 2", "Table 3"]
    for t in comella.tables:
        assert t.caption and not t.caption.lower().startswith("table")
    t1, t2, t3 = comella.tables
    assert t1.frame.shape == (9, 5)      # 9 body rows, 4 columns + group
    assert t2.frame.shape == (13, 10)    # one row per patient, 9 columns + group
    assert t3.frame.shape == (12, 8)     # 12 body rows, 7 columns + group
    assert t2.frame["SIE (n)"].astype(int).sum() == 16


@needs_shared
def test_table3_rows_match_corpus_readme(comella):
    expected = readme_table3_rows()
    assert len(expected) == 12
    t3 = comella.tables[2]
    got = t3.frame
    for i, row in enumerate(expected):
        group, label, *values = row
        assert got["group"].iloc[i] == group
        assert got.iloc[i, 0] == label
        assert list(got.iloc[i, 1:7]) == values


@needs_shared
def test_table3_header_and_group_rows(comella):
    t3 = comella.tables[2]
    assert len(t3.header) == 1 and len(t3.header[0]) == 7
    assert "Months of FU (total)" in t3.header[0]
    assert "95% CI" in list(t3.frame.columns)
    labels = [g["label"] for g in t3.frame.attrs["group_rows"]]
    assert labels.count("Treatment") == 2 and labels.count("Global cohort") == 1
    row = t3.frame.index[t3.frame["Months of FU (total)"] == "3,132"][0]
    assert t3.frame.loc[row, "95% CI"] == "0.24-0.71"


@needs_shared
def test_every_cell_offset_slices_the_text(comella):
    n = 0
    for t in comella.tables:
        for c in t.cells:
            assert comella.text[c.start:c.end] == c.text
            n += 1
        # header row 0, body rows after it: cells and frame agree
        for c in t.cells:
            if c.row >= len(t.header):
                assert t.frame.iloc[c.row - len(t.header), c.col] == c.text
    assert n > 200
    cell = next(c for c in comella.tables[2].cells if c.text == "3,132")
    assert comella.section_of(cell.start) == "tables"


@needs_shared
def test_footnotes_follow_tables(comella):
    t1, t2, t3 = comella.tables
    assert t1.footnotes.startswith("ALPS,") and "SR, sirolimus" in t1.footnotes
    assert t2.footnotes.startswith("ALPS,")
    assert t3.footnotes == ""
    assert comella.text[t1.start:t1.end].endswith(t1.footnotes)


@needs_shared
def test_sections_in_order(comella):
    names = [s.name for s in comella.sections if s.name not in ("other", "tables")]
    assert names == ["title", "abstract", "introduction", "methods", "results", "discussion", "references"]
    tops = [s for s in comella.sections if s.name != "tables"]
    assert all(a.end <= b.start for a, b in zip(tops, tops[1:]))
    results = next(comella.iter_sections("results"))
    assert "96 patients" in comella.text[results.start:results.end] or "103 patients" in comella.text[results.start:results.end]
    where = comella.text.index("Forty-five")
    assert comella.section_of(where) == "results"


@needs_shared
def test_metadata_light(comella):
    assert comella.metadata.title.startswith("Infection risk")
    assert comella.metadata.doi == "10.3389/fimmu.2024.1415389"


@needs_shared
@pytest.mark.parametrize("name,doi", [("okuracar2024_pubmed.txt", "10.1111/sji.13376"),
                                      ("bindl2005_ipex.txt", "10.1016/j.jpeds.2005.04.017")])
def test_other_seeds_doi_and_sections(name, doi):
    doc = read(SEEDS / name)
    assert doc.metadata.doi == doi
    assert doc.kind == "text" and not doc.tables
    assert any(s.name == "references" for s in doc.sections)


@needs_shared
def test_chinese_seed_sections():
    doc = read(SEEDS / "mtor_consensus_2025_zh_en.txt")
    names = [s.name for s in doc.sections]
    assert names[:2] == ["title", "abstract"] and "references" in names and "tables" in names
    refs = next(doc.iter_sections("references"))
    assert doc.text[refs.start:refs.start + 3] == "[1]"


def test_pipe_table_and_tsv(tmp_path):
    md = ("# A made-up trial\n\n## Results\n\nTable 2. Responses by arm\n\n"
          "| Arm | n | Responders |\n|---|:--:|---:|\n| Drug A | 12 | 7 (58%) |\n| Drug B | 10 | 3 |\n\n"
          "CR, complete response.\n\nMore text.\n")
    p = tmp_path / "x.md"
    p.write_text(md, encoding="utf-8")
    doc = read(p)
    (t,) = doc.tables
    assert t.label == "Table 2" and t.caption == "Responses by arm"
    assert list(t.frame.columns) == ["Arm", "n", "Responders", "group"]
    assert t.frame.iloc[0].tolist() == ["Drug A", "12", "7 (58%)", ""]
    assert t.footnotes == "CR, complete response."
    for c in t.cells:
        assert doc.text[c.start:c.end] == c.text
    assert doc.section_of(doc.text.index("More text")) == "results"


def test_crlf_normalised_offsets_exact(tmp_path):
    p = tmp_path / "crlf.txt"
    p.write_bytes(b"Title line here\r\n\r\nAbstract\r\n\r\nWe saw 3 of 7.\r\n")
    doc = read(p)
    assert "\r" not in doc.text
    assert doc.text[doc.text.index("3 of 7"):][:6] == "3 of 7"
    assert doc.section_of(doc.text.index("We saw")) == "abstract"


def test_bad_inputs(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n")
    with pytest.raises(EmptyFile):
        read(empty)
    binary = tmp_path / "blob.txt"
    binary.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(NotSupported) as err:
        read(binary)
    assert "blob.txt" in str(err.value)


@needs_shared
def test_table1_subheaders_with_values_and_nested_category(comella):
    t1 = comella.tables[0]
    groups = dict(zip(t1.frame.iloc[:, 0], t1.frame["group"]))
    assert groups["ALPS-like"] == "Diagnosis"
    assert groups["ITP"] == groups["ALPS"] == "Diagnosis / Other"
    assert groups["Only MMF"] == "Therapy during follow up"
    assert groups["Sirolimus"] == "Therapy duration (months)"
    rows = t1.frame.attrs["group_rows"]
    diagnosis = next(g for g in rows if g["label"] == "Diagnosis")
    assert diagnosis["cells"][-1] == "0.038"  # the p value of a sub-header row is kept
    assert comella.text[diagnosis["start"]:diagnosis["start"] + 9] == "Diagnosis"


@needs_shared
def test_row_groups_point_at_group_rows(comella):
    t3 = comella.tables[2]
    rows, paths = t3.frame.attrs["group_rows"], t3.frame.attrs["row_groups"]
    assert len(paths) == len(t3.frame)
    for path, group in zip(paths, t3.frame["group"]):
        assert " / ".join(rows[i]["label"] for i in path) == group
    therapy = rows[paths[-1][-1]]
    assert "Months of therapy (total)" in therapy["cells"]


def test_pipe_table_without_outer_pipes_and_setext_rule(tmp_path):
    p = tmp_path / "gfm.md"
    p.write_text("# T\n\nA line | with a pipe\n---\n\nArm | n\n--- | ---\nA | 1\nB | 2\n", encoding="utf-8")
    doc = read(p)
    (t,) = doc.tables
    assert t.header == [["Arm", "n"]] and t.frame["n"].tolist() == ["1", "2"]
    for c in t.cells:
        assert doc.text[c.start:c.end] == c.text


@needs_shared
def test_unlabelled_abstract_on_preview_page():
    doc = read(SEEDS / "bindl2005_ipex.txt")
    names = [s.name for s in doc.sections]
    assert names[:2] == ["title", "abstract"]
    abstract = doc.sections[1]
    assert abstract.heading == ""  # guessed, not printed
    assert doc.section_of(doc.text.index("3 patients")) == "abstract"
    assert doc.section_of(doc.text.rindex("3 patients")) == "discussion"
