"""Evaluation metrics on a tiny hand-made gold + rows fixture, and the gold files' anchors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from extract.document import Document, Page
from extract.evaluate import (EvalResult, Fact, canonical_group, check_evidence, evaluate, evaluate_document,
                              gold_facts, row_facts, score_facts, title_key)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOLD = ROOT / "corpus" / "gold"

TEXT = "In 13 of 17 patients (76.4%) over 6,620 months; rate 0.24 (95% CI 0.14-0.39). Retrospective."


def _at(s: str, nth: int = 0) -> tuple[int, int]:
    i = -1
    for _ in range(nth + 1):
        i = TEXT.index(s, i + 1)
    return i, i + len(s)


def ev(s, page=1):
    a, b = _at(s)
    return {"quote": TEXT[a:b], "page": page, "start": a, "end": b}


GOLD_FIXTURE = {"_file": "tiny.json", "seed": "tiny.txt", "facts": [
    {"field": "events", "group": "overall", "outcome": "response_overall", "unit": "patients", "value": 13},
    {"field": "total", "group": "overall", "value": 17},
    {"field": "percent", "group": "overall", "outcome": "response_overall", "value": 76.4},
    {"field": "person_time", "group": "SR", "value": 6620},
    {"field": "rate", "group": "SR", "outcome": "serious_infection", "value": 0.24},
    {"field": "ci", "group": "SR", "outcome": "serious_infection", "value": [0.14, 0.39]},
    {"field": "design", "value": "retrospective", "alternatives": ["case_series"]},
    {"field": "first_author", "value": "Okur Acar"},
    {"field": "title", "value": title_key("A Title: of sorts")},
]}


def rows_fixture():
    return [
        {"source": "tiny.txt", "group": "overall", "group_type": "overall", "outcome": "response_overall",
         "unit": "patients", "events": 13, "total": 17, "reported_value": 76.4, "reported_scale": "percent",
         "design": "retrospective", "first_author": "Sultan Okur Acar", "title": "a title of Sorts",
         "evidence": [ev("13"), ev("17"), ev("76.4")], "flags": []},
        # "Only SR" meets gold "SR"; the rate is right, the CI wrong, the person-time right
        {"source": "tiny.txt", "group": "Only SR", "group_type": "treatment", "outcome": "serious_infection",
         "unit": "episodes", "events": 16, "person_time": 6620, "reported_value": 0.24,
         "reported_scale": "per 100 person-months", "ci_low": 0.09, "ci_high": 0.3,
         "evidence": [ev("6,620"), ev("0.24"), {"quote": "0.09", "page": 1, "start": 0, "end": 4}], "flags": []},
    ]


def test_per_field_precision_recall_f1():
    scores = score_facts(gold_facts(GOLD_FIXTURE), row_facts(rows_fixture()))
    assert (scores["counts"].found, scores["counts"].gold, scores["counts"].correct, scores["counts"].extracted) == (1, 1, 1, 2)
    assert scores["counts"].precision == 0.5 and scores["counts"].recall == 1.0
    assert scores["counts"].f1 == pytest.approx(2 / 3)
    assert scores["totals"].f1 == 1.0 and scores["percents"].f1 == 1.0 and scores["person_time"].f1 == 1.0
    assert scores["rates"].f1 == 1.0
    assert scores["cis"].recall == 0.0 and scores["cis"].precision == 0.0 and scores["cis"].f1 == 0.0
    assert scores["design"].f1 == 1.0
    bib = scores["bibliography"]
    assert (bib.gold, bib.found, bib.extracted, bib.correct) == (2, 2, 2, 2)


def test_groups_meet_after_normalising():
    assert canonical_group("Only SR") == canonical_group("SR") == canonical_group("SR alone")
    assert canonical_group("Sequential MMF+SR") == canonical_group("SR after MMF failure")
    assert canonical_group("diagnosed after 2015 / Overall") == canonical_group("Patients diagnosed after 2015")
    assert canonical_group("Global cohort") == "overall" == canonical_group(None)
    assert canonical_group("ALPS-like") != canonical_group("diagnosed after 2015 / ALPS-like")


def test_gold_wildcards_and_alternatives():
    g = Fact("counts", "events", "overall", None, None, 13)
    assert g.matches(Fact("counts", "events", "overall", "infection", "patients", 13))
    assert not g.matches(Fact("counts", "events", "overall", "infection", "patients", 14))
    design = Fact("design", "design", value="retrospective", alternatives=("case_series",))
    assert design.matches(Fact("design", "design", value="case_series"))
    assert not design.matches(Fact("design", "design", value="rct"))


def test_evidence_is_verified_at_its_offsets_and_numbers_need_a_quote():
    doc = Document("tiny.txt", "text", TEXT, [Page(1, 0, len(TEXT))])
    e = check_evidence(rows_fixture(), doc)
    assert (e.items, e.verifiable) == (6, 5)          # the fake "0.09" at 0-4 is not the text there
    # row 2: events 16 and ci_high 0.3 have no quote holding them; ci_low 0.09 is quoted (wrongly placed)
    assert e.numbers == 8 and e.without_evidence == 2
    assert e.numbers_verified == 5                    # 0.09 is quoted, but not where its offsets say
    derived = dict(rows_fixture()[0], total=30, flags=["total 30 = 13 with + 17 without the event"])
    assert check_evidence([derived], doc).without_evidence == 0
    wrong_page = dict(rows_fixture()[0], evidence=[ev("13", page=2)])
    assert check_evidence([wrong_page], doc).verifiable == 0


def test_evaluate_runs_an_extractor_and_survives_failures(tmp_path):
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    (gold_dir / "tiny.json").write_text(json.dumps({k: v for k, v in GOLD_FIXTURE.items() if k != "_file"}))
    doc = Document("tiny.txt", "text", TEXT, [Page(1, 0, len(TEXT))])

    def extractor(path):
        if path.name == "broken.pdf":
            raise ValueError("broken.pdf: corrupt or truncated PDF")
        return rows_fixture(), doc

    result = evaluate([Path("x/tiny.txt"), Path("x/broken.pdf")], gold_dir, extractor=extractor)
    assert isinstance(result, EvalResult)
    good, bad = result.documents
    assert good.gold == "tiny.json" and bad.error.endswith("corrupt or truncated PDF")
    d = result.to_dict()
    assert d["fields"]["totals"]["f1"] == 1.0 and d["evidence"]["verifiable"] == 5
    assert d["numeric"]["gold"] == 6
    assert "totals" in result.summary()


def test_no_rows_paper_counts_numbers_as_wrong():
    gold = {"_file": "g.json", "expect": "no_rows", "facts": [{"field": "design", "value": "review"}]}
    rows = [{"group": "overall", "total": 111, "design": "review", "evidence": [], "flags": []}]
    res = evaluate_document("p.txt", rows, None, gold)
    assert res.scores["totals"].extracted == 1 and res.scores["totals"].precision == 0.0
    assert res.scores["design"].f1 == 1.0


# --- the gold files themselves ------------------------------------------------------------------

_WORDS = {"three": 3, "four": 4, "five": 5, "six": 6, "Six": 6, "Seven": 7, "No": 0, "Thirty": 30, "Forty-five": 45}


def _gold_files():
    return sorted(p for p in GOLD.glob("*.json") if "facts" in json.loads(p.read_text(encoding="utf-8")))


def test_every_paper_has_a_gold_file_and_bad_files_are_classified():
    if not SHARED.is_dir():
        pytest.skip("../shared (the shared corpus) is absent")
    papers = {json.loads(p.read_text(encoding="utf-8"))["seed"] for p in _gold_files()}
    seeds = {f"seeds/{p.name}" for p in (SHARED / "corpus" / "seeds").iterdir()}
    assert papers == seeds
    bad = json.loads((GOLD / "bad_files.json").read_text(encoding="utf-8"))["files"]
    assert set(bad) == {f"bad/{p.name}" for p in (SHARED / "corpus" / "bad").iterdir()}
    from extract import errors
    for entry in bad.values():
        if entry["expect"] == "error":
            assert issubclass(getattr(errors, entry["error"]), errors.ReadError)


@pytest.mark.parametrize("path", _gold_files(), ids=lambda p: p.stem)
def test_gold_anchors_point_at_their_numbers_in_the_seed(path):
    if not SHARED.is_dir():
        pytest.skip("../shared (the shared corpus) is absent")
    gold = json.loads(path.read_text(encoding="utf-8"))
    text = (SHARED / "corpus" / gold["seed"]).read_text(encoding="utf-8")
    for f in gold["facts"]:
        a = f["anchor"]
        quote = text[a["start"]:a["end"]]
        if f["field"] == "title":
            assert title_key(quote) == f["value"]
            continue
        assert quote == a["locator"], f
        assert len(a["locator"]) <= 40
        if f["field"] == "ci":
            lo, hi = quote.replace("–", "-").split("-")
            assert [float(lo), float(hi)] == f["value"]
        elif f["field"] in ("events", "total", "percent", "person_time", "rate", "year"):
            num = _WORDS.get(quote) if quote in _WORDS else float(quote.rstrip("%").replace(",", ""))
            assert num == f["value"], f
        assert f["page"] >= 1


def test_composition_rows_state_group_sizes_and_other_groups_meet():
    rows = [{"group": "MMF", "outcome": "patients", "events": 35, "total": 96, "reported_value": 36,
             "reported_scale": "percent"},
            {"group": "others", "outcome": "serious_infection", "reported_value": 0.09,
             "reported_scale": "per 100 person-months"}]
    facts = set(row_facts(rows))
    assert Fact("totals", "total", "mycophenolate mofetil", None, None, 35.0) in facts
    assert Fact("totals", "total", "overall", None, None, 96.0) in facts
    assert not any(f.kind == "counts" for f in facts)
    gold = {"facts": [{"field": "rate", "group": "Other AICs", "outcome": ["serious_infection", "infection"],
                       "value": 0.09},
                      {"field": "percent", "group": "MMF", "outcome": "patients", "value": 36}]}
    scores = score_facts(gold_facts(gold), list(facts))
    assert scores["rates"].f1 == 1.0 and scores["percents"].f1 == 1.0


def test_unreadable_files_are_scored_by_their_failure_class(tmp_path):
    from extract.errors import Corrupt, EmptyFile

    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    (gold_dir / "bad_files.json").write_text(json.dumps({"files": {
        "bad/a.pdf": {"expect": "error", "error": "EmptyFile"},
        "bad/b.pdf": {"expect": "error", "error": "Corrupt"},
        "bad/c.pdf": {"expect": "error", "error": "Encrypted"}}}))

    def extractor(path):
        if path.name == "a.pdf":
            raise EmptyFile(str(path))
        if path.name == "b.pdf":
            raise EmptyFile(str(path))        # the wrong class
        return [], None                        # c.pdf read although it should not be

    result = evaluate([Path("a.pdf"), Path("b.pdf"), Path("c.pdf")], gold_dir, extractor=extractor)
    a, b, c = result.documents
    assert a.failure_ok and a.error is None and a.refused.startswith("EmptyFile")
    assert b.failure_ok is False and "empty file" in b.error
    assert c.failure_ok is False and "expected Encrypted" in c.error
    assert result.to_dict()["bad_files"] == {"checked": 3, "as_expected": 1}
    assert issubclass(Corrupt, Exception)


def test_cli_eval_json_on_a_tiny_gold(tmp_path, capsys):
    import cli

    paper = tmp_path / "tiny.txt"
    paper.write_text("Sirolimus was given to 12 patients.\n", encoding="utf-8")
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    (gold_dir / "tiny.json").write_text(json.dumps({"seed": "tiny.txt", "facts": [
        {"field": "total", "group": "overall", "value": 12}]}))
    code = cli.main(["eval", "--gold", str(gold_dir), "--json", str(paper)])
    out = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    assert out["fields"]["totals"]["gold"] == 1 and set(out) >= {"fields", "numeric", "evidence", "documents"}
    assert cli.main(["eval", "--gold", str(tmp_path / "nope"), str(paper)]) == 2


def test_gold_group_wildcards_forms_and_plurals():
    gold = {"pdf": "p.pdf", "seed": "p.txt", "facts": [
        {"field": "percent", "group": "diagnosed after 2015 / ALPS-like", "period": "any",
         "outcome": "cumulative_incidence", "value": 26.1},
        {"field": "percent", "group": "diagnosed after 2015", "period": "any", "outcome": "cumulative_incidence",
         "value": 18.6},
        {"field": "events", "group": "*", "outcome": "relapse", "value": 3},
        {"field": "events", "group": "pneumonias", "outcome": "serious_infection", "value": 10},
        {"field": "journal", "value": "J Pediatr", "only": "pdf"}]}
    pred = row_facts([
        {"group": "started early / ALPS-like", "outcome": "cumulative_incidence", "reported_value": 26.1,
         "reported_scale": "percent"},
        {"group": "started early", "outcome": "cumulative_incidence", "reported_value": 18.6,
         "reported_scale": "percent"},
        {"group": "who achieved CR", "outcome": "relapse", "events": 3},
        {"group": "pneumonia", "outcome": "serious_infection", "events": 10}])
    assert all(s.f1 in (None, 1.0) for s in score_facts(gold_facts(gold, "seed"), pred).values())
    assert score_facts(gold_facts(gold, "pdf"), pred)["bibliography"].recall == 0.0
    wrong = row_facts([{"group": "started early / ITP", "outcome": "cumulative_incidence", "reported_value": 26.1,
                        "reported_scale": "percent"}])
    assert score_facts(gold_facts(gold, "seed"), wrong)["percents"].correct == 0
