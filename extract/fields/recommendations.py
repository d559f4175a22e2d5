"""Guideline recommendations → study rows: "recommends drug X (grade, level) for disease Y".

Why: a guideline or consensus has no outcome numbers, but its recommendations are evidence a
panel will want beside the pooled studies — which drug, for which disease, at which line of
therapy, with the grade and the evidence level *as printed*. Each recommendation becomes one
Contract 1 row per disease (``outcome = "recommendation"``) whose evidence is the sentence.

Wording is data: English and Chinese cues, lines of therapy, grade/level labels and Chinese
synonyms live in ``corpus/vocab/zh_terms.json`` (a domain file extending the main one).
Terms are matched with ASCII-only word boundaries, so "难治性ITP" still yields ITP (Python's
``\\w`` counts Chinese characters as word characters). A grade or level not printed in the
sentence is never filled in: the row says so with a flag and a lower confidence.
"""
from __future__ import annotations

import bisect
import re
from functools import lru_cache
from typing import Any

from ..document import Document
from ..vocab import Vocab, load_vocab

VOCAB_DOMAIN = "zh_terms"
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[\"\u201c])|(?<=[。！？；;])|\n\s*\n")
_LEVEL = r"[1-5][a-c]?"
_PAREN_LEVEL = re.compile(rf"[(（]\s*(?:(?P<g>[A-D])\s*[,，/;]\s*)?(?P<l>{_LEVEL})\s*(?:[,，/;]\s*(?P<g2>[A-D])\s*)?[)）]")


def _key(term: str) -> str:
    return re.sub(r"[\s\-\u2010\u2011\u2013]", "", term).lower()


@lru_cache(maxsize=4)
def _patterns(domain: str) -> dict[str, tuple[re.Pattern, dict[str, str]]]:
    """Per kind, one alternation (longest synonym first) and its synonym → label lookup.

    Boundaries only count against ASCII letters and digits; short capitals stay case-sensitive.
    """
    vocab: Vocab = load_vocab(domain)
    out: dict[str, tuple[re.Pattern, dict[str, str]]] = {}
    for kind in vocab.kinds:
        items, lookup = [], {}
        for label, synonyms in vocab.terms(kind).items():
            for syn in dict.fromkeys([label, *synonyms]):
                body = re.escape(syn).replace(r"\ ", r"\s+").replace(r"\-", r"[-\u2010\u2011\u2013 ]?")
                exact = vocab.is_case_sensitive(syn) or re.search(f"[{_CJK}]", syn)
                items.append((len(syn), body if exact else f"(?i:{body})"))
                lookup.setdefault(_key(syn), label)
        items.sort(key=lambda t: -t[0])
        alternation = "|".join(body for _, body in items) or r"(?!x)x"
        out[kind] = (re.compile(rf"(?<![A-Za-z0-9])(?:{alternation})(?![A-Za-z0-9])"), lookup)
    return out


def _find(kind: str, text: str, domain: str = VOCAB_DOMAIN) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, label)`` mentions in ``text`` (offsets into ``text``)."""
    pattern, lookup = _patterns(domain).get(kind, (None, {}))
    if pattern is None:
        return []
    return [(m.start(), m.end(), lookup.get(_key(m.group(0)), m.group(0))) for m in pattern.finditer(text)]


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: English stops before a capital, Chinese 。！？；, blank lines; trimmed."""
    spans, pos = [], 0
    for m in _SPLIT.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def _grade_and_level(sentence: str) -> tuple[str, str]:
    """Grade letter and evidence level printed in the sentence ("grade B", "(1b)", "证据级别: 2b")."""
    grade = level = ""
    for s, e, _ in _find("grade_label", sentence):
        m = re.match(rf"\s*[:：]?\s*([A-D])(?![A-Za-z])(?:\s*[,，/;]\s*({_LEVEL})(?![0-9A-Za-z]))?", sentence[e:])
        if m:
            grade, level = m.group(1), m.group(2) or ""
            break
    for s, e, _ in _find("level_label", sentence) if not level else []:
        m = re.match(rf"\s*[:：]?\s*({_LEVEL})(?![0-9A-Za-z])", sentence[e:])
        if m:
            level = m.group(1)
            break
    pm = _PAREN_LEVEL.search(sentence)
    if pm:
        level = level or pm.group("l")
        grade = grade or pm.group("g") or pm.group("g2") or ""
    return grade, level


def _is_guideline(doc: Document, study: dict[str, Any]) -> bool:
    design = (study or {}).get("design")
    if design:
        return design == "guideline"
    title = (study or {}).get("title") or doc.metadata.title or doc.text[:300]
    return bool(_find("design", title, "autoimmune_cytopenias")) and any(
        label == "guideline" for _, _, label in _find("design", title, "autoimmune_cytopenias"))


_NOT_ADVISED = re.compile(r"^[-\s]*(?:refractory|resistant|dependent|failure|intolerant|耐药|依赖|无效|失败)", re.I)
_AFTER_FAILURE = re.compile(r"(?:refractory to|resistant to|failure of|failed|after|despite|intolerant of|intolerance to)\s*$", re.I)


def _intervention(sentence: str, drugs: list[tuple[int, int, str]], cue: tuple[int, int, str]) -> str:
    """The recommended drug: the one nearest the cue, leaving out drugs named as already failed.

    "steroid-refractory AIHA, rituximab is recommended" recommends rituximab, not steroids.
    """
    advised = [d for d in drugs if not _NOT_ADVISED.match(sentence[d[1]:d[1] + 14])
               and not _AFTER_FAILURE.search(sentence[max(0, d[0] - 20):d[0]])] or drugs
    return min(advised, key=lambda d: min(abs(d[0] - cue[1]), abs(cue[0] - d[1])))[2]


def recommendation_rows(doc: Document, study: dict[str, Any]) -> list[dict[str, Any]]:
    """One ``outcome="recommendation"`` row per (disease, drug) recommended in a guideline.

    ``study`` supplies the bibliographic columns (``study_id``, ``source``, ``doi``, … as the
    pipeline's first row has them) and the design; documents that are not guidelines give [].
    The same recommendation printed twice (a Chinese and an English abstract) is one row whose
    evidence lists both sentences.
    """
    if not _is_guideline(doc, study):
        return []
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    text = doc.text
    cue_at = [m[0] for m in _find("recommend_cue", text)]
    cited = [(sec.start, sec.end) for sec in doc.sections if sec.name == "references"]
    for s, e in _sentences(text):
        if not cue_at or cue_at[min(bisect.bisect_left(cue_at, s), len(cue_at) - 1)] not in range(s, e):
            continue
        if any(a <= s < b for a, b in cited):
            continue  # a cited title ("Recommendations for …") is not this guideline's advice
        sent = text[s:e]
        if "\t" in sent:
            continue  # table lines: the evidence table defines grades, it recommends nothing
        cues = _find("recommend_cue", sent)
        drugs = _find("drug", sent)
        diseases = _find("diagnosis", sent)
        if not cues or not drugs or not diseases:
            continue
        against = any(label == "against" for _, _, label in cues)
        grade, level = _grade_and_level(sent)
        lines = list(dict.fromkeys(label for _, _, label in _find("therapy_line", sent)))
        strength = [label for _, _, label in _find("strength_word", sent)]
        if against:
            scale = "not recommended"
        elif grade:
            scale = f"grade {grade}"
        else:
            scale = " / ".join(strength + lines) or "recommended"
        drug = _intervention(sent, drugs, cues[0])
        proof = doc.evidence(s, e)
        for ds, de, disease in diseases:
            key = (disease, drug)
            if key in rows:
                if proof not in rows[key]["evidence"]:
                    rows[key]["evidence"].append(proof)
                continue
            flags = [] if (grade or level) else ["grade and evidence level not printed beside the recommendation"]
            rows[key] = {
                **{k: study.get(k) for k in ("study_id", "source", "doi", "pmid", "title", "first_author",
                                               "year", "journal", "design", "multicenter")},
                "evidence_level": level,
                "group": sent[ds:de], "group_type": "diagnosis",
                "population": disease, "intervention": drug, "outcome": "recommendation",
                "events": None, "unit": "", "total": None, "person_time": None, "time_unit": "",
                "reported_value": None, "reported_scale": scale,
                "ci_low": None, "ci_high": None,
                "evidence": [proof], "confidence": 0.9 if (grade or level) else 0.6,
                "flags": flags, "status": "extracted",
            }
    return list(rows.values())
