"""Unit tests of the layout rules on small synthetic inputs (no corpus needed)."""
from __future__ import annotations

import numpy as np

from extract.layout.hyphen import breaks_at_end, keep_hyphen
from extract.layout.running import find_running
from extract.layout.tablemodel import frame_of, row_kinds
from extract.layout.xycut import lines_of, xycut


def test_hyphen_rules():
    vocab = {"well-tolerated", "immunosuppression", "drug-free"}
    assert keep_hyphen("ALPS-", "like", set()) is True  # uppercase before the hyphen
    assert keep_hyphen("CoV-", "2", set()) is True  # digit after it
    assert keep_hyphen("well-", "tolerated", vocab) is True  # written so elsewhere
    assert keep_hyphen("immuno-", "suppression", vocab) is False  # joined form elsewhere
    assert keep_hyphen("immune-", "mediated", set()) is True  # compound lexicon
    assert keep_hyphen("treat-", "ment,", set()) is False  # a plain break
    assert keep_hyphen("long-", "est", set()) is False  # prefix needs a whole word after it
    assert keep_hyphen("(5-", ")", set()) is None
    assert breaks_at_end("mycopheno-") and not breaks_at_end("-") and not breaks_at_end("word")


def _boxes(rows):
    return np.array(rows, dtype=float)


def test_xycut_reads_left_column_before_right():
    # title across the page, then two columns of two lines each
    box = _boxes([
        [50, 10, 500, 20],  # 0 title
        [300, 40, 500, 50], [50, 40, 250, 50],  # 1 right col line 1, 2 left col line 1
        [300, 52, 500, 62], [50, 52, 250, 62],  # 3 right col line 2, 4 left col line 2
    ])
    leaves = xycut(box)
    order = [int(i) for leaf in leaves for ln in lines_of(box, leaf) for i in ln]
    assert order == [0, 2, 4, 1, 3]


def test_lines_keep_a_raised_mark_on_its_line():
    box = _boxes([[10, 100, 40, 110], [41, 97, 44, 104], [46, 100, 80, 110], [10, 112, 80, 122]])
    lines = lines_of(box, np.arange(4))
    assert [ln.tolist() for ln in lines] == [[0, 1, 2], [3]]


def test_running_lines_recur_across_pages_and_stand_apart():
    pages = []
    for n in range(1, 5):
        texts = ["Journal", "of", "Things", f"{n}", "Body", "text", "here", "more", "text", "Body", "end"]
        box = _boxes([[50, 20, 90, 28], [92, 20, 100, 28], [102, 20, 140, 28], [500, 20, 510, 28],
                      [50, 60, 90, 70], [92, 60, 120, 70], [122, 60, 150, 70],
                      [50, 72, 90, 82], [92, 72, 120, 82], [50, 84, 90, 94], [92, 84, 120, 94]])
        pages.append((texts, box, np.ones(len(texts), bool), 800.0))
    found = find_running(pages)
    for f in found:
        assert sorted(f["head"].tolist()) == [0, 1, 2, 3]
        assert f["foot"].tolist() == []  # the last body line is not detached from the one above


def test_group_rows_nest_and_subheaders_switch_the_inner_level():
    rows = [
        ["", "n", "months"],
        ["Cohort A", None, None], ["By kind", None, None],
        ["x", "1", "10"],
        ["By arm", None, None],
        ["y", "2", "20"],
        ["Cohort B", None, None], ["By kind", None, None],
        ["x", "3", "30"],
        ["By arm", "", "months of therapy"],
        ["y", "4", "40"],
    ]
    assert row_kinds(rows)[:4] == ["header", "group", "group", "body"]
    frame = frame_of(rows)
    assert frame["group"].tolist() == ["Cohort A / By kind", "Cohort A / By arm", "Cohort B / By kind", "Cohort B / By arm"]
    assert frame.columns.tolist() == ["group", "", "n", "months"]
    assert frame["n"].tolist() == ["1", "2", "3", "4"]


def test_word_spaces_of_a_large_heading_are_not_a_gutter():
    # one heading line in 20 pt type with 8 pt word spaces: one line, read left to right
    box = _boxes([[50, 10, 70, 30], [78, 10, 150, 30], [158, 10, 260, 30], [268, 10, 330, 30]])
    leaves = xycut(box)
    assert len(leaves) == 1
    assert [int(i) for ln in lines_of(box, leaves[0]) for i in ln] == [0, 1, 2, 3]
