"""Numbers in every printed form, and what they are (count, year, p-value, dose, reference…)."""
import pytest
from hypothesis import given, strategies as st

from extract.numbers import (find_intervals, find_numbers, find_proportions, find_rate_scale, parse_number, role)


@pytest.mark.parametrize("text,value", [
    ("6,620", 6620), ("6\u2009620", 6620), ("0\u00b7002", 0.002), ("0.24", 0.24), ("Thirty", 30),
    ("Twenty-one", 21), ("forty\u2010five", 45), ("seven", 7), ("17", 17),
])
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value)


def test_parse_number_rejects_words_that_are_not_numbers():
    assert parse_number("patients") is None


def _roles(text):
    return {n.text: n.role for n in find_numbers(text)}


def test_roles_keep_non_counts_out():
    r = _roles("In 2015 we treated 12 children aged 7 years with 2 mg/kg (p = 0.038); DOI 10.1111/sji.13376")
    assert r["2015"] == "year"
    assert r["12"] == "count"
    assert r["7"] == "age"
    assert r["2"] == "measure"
    assert r["0.038"] == "p_value"


def test_superscripts_and_citation_numbers_are_not_counts():
    r = _roles("Mattia Comella<sup>1,2</sup> Front. Immunol. 15:1415389")
    assert r["1"] == "superscript"
    assert r["15"] == "citation"


def _props(text):
    return [(p.events, p.total and p.total.value, p.percent and p.percent.value, text[p.span[0]:p.span[1]])
            for p in find_proportions(text)]


@pytest.mark.parametrize("text,events,total,pct", [
    ("obtained in 13 of 17 patients (76.4%) overall", 13, 17, 76.4),
    ("documented in 13/96 patients (13%)", 13, 96, 13),
    ("Thirty (31%) out of 96 patients were", 30, 96, 31),
    ("Forty-five (47%) out of 96 patients", 45, 96, 47),
    ("five (29.4%) were treated", 5, None, 29.4),
    ("treated with MMF (35, 36%)", 35, None, 36),
    ("frequency (10/13, 76%)", 10, 13, 76),
    ("cohort (n = 12)", 12, None, None),
])
def test_proportion_forms(text, events, total, pct):
    found = _props(text)
    assert found, text
    e, t, p, quote = found[0]
    assert (e, t, p) == (events, total, pct)
    assert quote in text


def test_proportion_never_takes_a_year_or_decimal_as_count():
    assert _props("between 2015 (31%) and") == []
    assert all(e != 5 for e, *_ in _props("rate 0.5 (31%)"))


def test_intervals_with_en_dash_and_hyphen():
    (ci,) = find_intervals("rate 0.24 (95% CI 0.09\u20130.3) was")
    assert (ci.low.value, ci.high.value, ci.level) == (0.09, 0.3, 95.0)
    (ci,) = find_intervals("26.1%; 95% CI 3.2-43.5")
    assert (ci.low.value, ci.high.value) == (3.2, 43.5)


@pytest.mark.parametrize("after,scale,unit", [
    (" \\*100 p/m/r (95% CI", "per 100 person-months", "months"),
    (" person/\\*100 months/risk", "per 100 person-months", "months"),
    (" per 100 person-years", "per 100 person-years", "years"),
    (" per 1,000 patient-days", "per 1000 person-days", "days"),
    (" per 100 PY", "per 100 person-years", "years"),
])
def test_rate_scales(after, scale, unit):
    text = "0.24" + after
    got = find_rate_scale(text, 4)
    assert got is not None and got[:2] == (scale, unit)


def test_no_rate_scale_after_a_plain_number():
    assert find_rate_scale("0.24 of patients", 4) is None


@given(st.integers(min_value=1000, max_value=999_999), st.sampled_from([",", "\u2009", "\u202f"]))
def test_thousands_separators_roundtrip(n, sep):
    printed = f"{n:,}".replace(",", sep)
    assert parse_number(printed) == n
    nums = find_numbers(f"a total of {printed} months")
    assert [x.value for x in nums if x.start == 11] == [n]


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=500))
def test_k_of_n_roundtrip(k, extra):
    n = k + extra
    pct = round(100 * k / n, 1)
    text = f"seen in {k} of {n} patients ({pct}%) here"
    (e, t, p, quote) = _props(text)[0]
    assert (e, t, p) == (k, n, pct)
    assert text[text.index(quote):].startswith(quote)


def test_role_of_count_is_count():
    text = "Seven patients were lost"
    assert role(text, 0, 5, 7) == "count"
