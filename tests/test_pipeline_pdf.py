"""The pipeline on the typeset PDFs of the shared corpus: same facts as from the seeds, exact quotes
with pages, and the broken files of ``bad/`` reported one by one without stopping the batch."""
import json
from pathlib import Path

import pytest

from extract.pipeline import RECOVERED_FLAG, extract_paths

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(not (CORPUS / "pdf").is_dir(), reason="../shared/corpus/pdf is absent (shared corpus not mounted)")


@pytest.fixture(scope="module")
def result():
    paths = [CORPUS / "pdf" / "comella2024_front_immunol.pdf", CORPUS / "pdf" / "okuracar2024_scand_j_immunol.pdf",
             CORPUS / "bad" / "empty.pdf", CORPUS / "bad" / "not_a_pdf.pdf", CORPUS / "bad" / "comella2024_truncated.pdf"]
    return extract_paths(paths)


def test_bad_files_fail_alone_with_a_reason(result):
    failed = {Path(p).name: reason for p, reason in result.failures}
    assert set(failed) == {"empty.pdf", "not_a_pdf.pdf"}
    assert all(reason.startswith(str(CORPUS / "bad")) and "\n" not in reason for reason in failed.values())
    assert set(result.rows["source"]) == {"comella2024_front_immunol.pdf", "okuracar2024_scand_j_immunol.pdf",
                                          "comella2024_truncated.pdf"}


def test_truncated_file_gives_flagged_rows_and_one_warning(result):
    """The truncated PDF is not a failure: its recovered pages give rows, each flagged, and a warning."""
    warned = [w for p, w in result.warnings if Path(p).name == "comella2024_truncated.pdf" and "recovered" in w]
    assert len(warned) == 1
    for _, row in result.rows.iterrows():
        assert (RECOVERED_FLAG in json.loads(row["flags"])) == (row["source"] == "comella2024_truncated.pdf")


def test_quotes_are_exact_with_pages(result):
    docs = {d.source: d for d in result.documents}
    for _, row in result.rows.iterrows():
        doc = docs[row["source"]]
        for ev in json.loads(row["evidence"]):
            assert ev["quote"] == doc.text[ev["start"]:ev["end"]]
            assert ev["page"] == doc.page_of(ev["start"])


def _one(rows, **match):
    sel = rows
    for k, v in match.items():
        sel = sel[sel[k] == v]
    return sel


def test_comella_pdf_facts(result):
    rows = result.rows[result.rows["source"] == "comella2024_front_immunol.pdf"]  # (the truncated copy is another)
    assert list(_one(rows, outcome="treated")["events"]) == [96]
    assert list(_one(rows, outcome="enrolled")["events"]) == [103]
    sie = _one(rows, outcome="serious_infection", group="overall")
    assert set(_one(sie, unit="episodes")["events"]) == {16}
    assert list(_one(sie, unit="patients")["events"]) == [13]
    rate = _one(sie, unit="episodes", ci_low=0.09)
    assert list(rate["person_time"]) == [6620] and list(rate["reported_value"]) == [0.24]
    female = _one(rows, outcome="female")
    assert list(female["events"]) == [51]  # not mistaken for an infection count by the table caption beside it


def test_okuracar_pdf_facts(result):
    rows = result.rows[result.rows["study_id"] == "okuracar2024"]
    orr = _one(rows, outcome="response_overall", group="overall")
    assert list(zip(orr["events"], orr["total"])) == [(12, 17)]
    crpr = _one(rows, outcome="response_complete_or_partial")
    assert list(zip(crpr["events"], crpr["total"])) == [(13, 17)]
