"""Vocabulary lookups: synonyms, case rules for abbreviations, multi-label mentions."""
import pytest

from extract.vocab import available_domains, fold, load_vocab


@pytest.fixture(scope="module")
def vocab():
    return load_vocab()


@pytest.mark.parametrize("kind,text,label", [
    ("drug", "rapamycin", "sirolimus"),
    ("drug", "SR", "sirolimus"),
    ("drug", "Only MMF", "mycophenolate mofetil"),
    ("drug", "Sequential MMF+SR", "mycophenolate mofetil+sirolimus"),
    ("drug", "CsA", "cyclosporine"),
    ("diagnosis", "ALPS-like", "ALPS-like"),
    ("diagnosis", "ALPS", "ALPS"),
    ("diagnosis", "autoimmune haemolytic anaemia", "AIHA"),
    ("diagnosis", "Evans syndrome (ES)", "Evans syndrome"),
    ("diagnosis", "graft\u2010versus\u2010host disease", "GVHD"),
    ("outcome", "CR + PR", "response_overall"),
    ("outcome", "complete response", "response_complete"),
    ("outcome", "severe infectious events", "serious_infection"),
    ("design", "retrospective data review", "retrospective"),
])
def test_normalise(vocab, kind, text, label):
    assert vocab.normalise(kind, text) == label


def test_abbreviations_are_case_sensitive(vocab):
    # "es" inside ordinary words or lower-case must never be Evans syndrome; "sr" is not sirolimus
    assert vocab.normalise("diagnosis", "diseases") is None
    assert vocab.normalise("drug", "sr") is None
    assert vocab.normalise("diagnosis", "es") is None


def test_unknown_text_and_kind(vocab):
    assert vocab.normalise("drug", "banana") is None
    assert vocab.normalise("drug", "") is None
    assert vocab.terms("no_such_kind") == {}


def test_terms_are_label_to_synonyms(vocab):
    drugs = vocab.terms("drug")
    assert "MMF" in drugs["mycophenolate mofetil"]
    assert set(vocab.terms("design")) <= {"rct", "prospective", "retrospective", "case_series", "case_report",
                                            "systematic_review", "guideline", "review"}


def test_domain_extends_common():
    assert {"common", "autoimmune_cytopenias"} <= set(available_domains())
    assert load_vocab("autoimmune_cytopenias").terms("design") == load_vocab("common").terms("design")


def test_fold_keeps_meaning():
    assert fold("0\u00b709\u20130\u00b73") == "0\u00b709-0\u00b73"  # middle dot is not NFKC-folded; dash is
    assert fold("a \u2009 b") == "a b"
