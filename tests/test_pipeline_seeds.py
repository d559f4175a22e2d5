"""The pipeline on the shared corpus seeds: the minimum bar of the extraction issue.

Expected values are facts of the papers (counts, rates, labels), checked against rows extracted
at test time from ``../shared/corpus/seeds``; every evidence quote must be the exact slice of
the document text it points at.
"""
import json
import shutil
from pathlib import Path

import pytest

from extract import read
from extract.pipeline import extract_document, extract_paths
from extract.rows import COLUMNS

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/corpus/seeds is absent (shared corpus not mounted)")


def _seed(stem: str) -> Path:
    (path,) = [p for p in SEEDS.iterdir() if p.name.startswith(stem)]
    return path


@pytest.fixture(scope="module")
def extracted():
    out = {}
    for stem in ("comella2024", "okuracar2024", "shimano2019", "bindl2005", "mtor_consensus"):
        doc = read(_seed(stem))
        out[stem] = (doc, extract_document(doc))
    return out


def rows_of(extracted, stem, outcome=None, **match):
    _, rows = extracted[stem]
    return [r for r in rows if (outcome is None or r["outcome"] == outcome)
            and all(r.get(k) == v for k, v in match.items())]


def test_every_quote_is_the_text_it_points_at(extracted):
    for stem, (doc, rows) in extracted.items():
        assert rows, stem
        for r in rows:
            assert list(r) == COLUMNS
            for ev in r["evidence"]:
                assert ev["quote"] == doc.text[ev["start"]:ev["end"]], (stem, ev)
                assert ev["page"] >= 1
            if r["events"] is not None or r["reported_value"] is not None:
                assert r["evidence"], (stem, r["outcome"])  # no number without proof


def test_study_ids_and_bibliography(extracted):
    ids = {stem: rows[0]["study_id"] for stem, (_, rows) in extracted.items()}
    assert ids["comella2024"] == "comella2024"
    assert ids["okuracar2024"] == "okuracar2024"
    assert ids["bindl2005"] == "bindl2005"
    assert ids["shimano2019"] == "shimano2019"
    comella = extracted["comella2024"][1][0]
    assert comella["doi"] == "10.3389/fimmu.2024.1415389"
    assert comella["first_author"] == "Comella" and comella["year"] == 2024


def test_comella_cohort_and_serious_infections(extracted):
    (treated,) = rows_of(extracted, "comella2024", "treated")
    assert treated["events"] == 96
    episodes = rows_of(extracted, "comella2024", "serious_infection", group="overall", unit="episodes")
    assert episodes and {r["events"] for r in episodes} == {16}
    patients = rows_of(extracted, "comella2024", "serious_infection", group="overall", unit="patients")
    assert [(r["events"], r["total"]) for r in patients] == [(13, 96)]
    # the text's interval and Table 3's differ: two rows, each flagged with the other value
    (rate,) = [r for r in episodes if r["ci_low"] == 0.09]
    assert rate["person_time"] == 6620 and rate["time_unit"] == "months"
    assert rate["reported_value"] == 0.24 and rate["reported_scale"] == "per 100 person-months"
    assert rate["ci_high"] == 0.3
    assert any("0.14" in f for f in rate["flags"])
    quotes = " ".join(e["quote"] for e in rate["evidence"])
    assert "16" in quotes and "6,620" in quotes and "0.24" in quotes
    (anyinf,) = rows_of(extracted, "comella2024", "infection", group="overall", unit="patients")
    assert (anyinf["events"], anyinf["total"]) == (45, 96)
    (death,) = rows_of(extracted, "comella2024", "death")
    assert death["events"] == 0


def test_comella_groups_from_the_text(extracted):
    groups = {(r["group_type"], r["population"] if r["group_type"] == "diagnosis" else r["intervention"], r["events"])
              for r in rows_of(extracted, "comella2024", "patients")}
    assert {("diagnosis", "ITP", 30), ("diagnosis", "ALPS", 19), ("diagnosis", "ALPS-like", 47)} <= groups
    assert {("treatment", "mycophenolate mofetil", 35), ("treatment", "sirolimus", 31),
            ("treatment", "mycophenolate mofetil+sirolimus", 30)} <= groups
    design = extracted["comella2024"][1][0]
    assert design["design"] == "retrospective" and design["multicenter"] is True and design["evidence_level"] == "2b"


def test_comella_text_and_table_disagreements_are_flagged(extracted):
    _, rows = extracted["comella2024"]
    text_rate = [r for r in rows if r["reported_value"] == 0.32]
    assert text_rate and any("0.42" in f for f in text_rate[0]["flags"])


def test_okuracar_response_and_diagnoses(extracted):
    assert [r["events"] for r in rows_of(extracted, "okuracar2024", "enrolled")] == [17]
    (crpr,) = rows_of(extracted, "okuracar2024", "response_complete_or_partial")
    assert (crpr["events"], crpr["total"], crpr["reported_value"]) == (13, 17, 76.4)
    (orr,) = rows_of(extracted, "okuracar2024", "response_overall", group="overall")
    assert (orr["events"], orr["total"], orr["reported_value"]) == (12, 17, 70.5)
    dx = {r["population"]: r["events"] for r in rows_of(extracted, "okuracar2024", "patients", group_type="diagnosis")}
    assert dx == {"AIHA": 5, "ITP": 6, "Evans syndrome": 6}
    study = extracted["okuracar2024"][1][0]
    assert study["multicenter"] is True


def test_papers_without_study_numbers_give_one_bibliographic_row(extracted):
    for stem in ("shimano2019", "mtor_consensus"):
        _, rows = extracted[stem]
        assert len(rows) == 1 and rows[0]["outcome"] is None and rows[0]["title"]
    assert extracted["mtor_consensus"][1][0]["design"] == "guideline"


def test_bindl_case_series_without_trap_numbers(extracted):
    _, rows = extracted["bindl2005"]
    assert rows[0]["design"] == "case_series"
    (treated,) = rows_of(extracted, "bindl2005", "treated")
    assert treated["events"] == 3 and treated["population"] == "IPEX"
    numbers = {r[c] for r in rows for c in ("events", "total") if r[c] is not None}
    assert not numbers & {17, 96, 370, 312, 58, 111, 306, 270, 17370}


def test_batch_goes_on_after_bad_files_and_suffixes_clashes(tmp_path):
    seed = _seed("okuracar2024")
    a, b = tmp_path / "one.txt", tmp_path / "two.txt"
    shutil.copy(seed, a)
    shutil.copy(seed, b)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    seen = []
    result = extract_paths([a, empty, b, tmp_path / "missing.pdf"], progress=lambda p, ok, pages: seen.append(ok))
    assert seen == [True, False, True, False]
    assert [Path(p).name for p, _ in result.failures] == ["empty.txt", "missing.pdf"]
    assert all(reason.startswith(str(tmp_path)) for _, reason in result.failures)
    assert set(result.rows["study_id"]) == {"okuracar2024a", "okuracar2024b"}
    assert list(result.rows.columns) == COLUMNS
    assert all(isinstance(json.loads(e), list) for e in result.rows["evidence"])
    assert len(result.documents) == 2
