"""Guideline and consensus recommendations: per disease, the drug, its place in therapy, strength and level.

Why per disease: a consensus usually recommends one drug for several conditions in one
sentence ("recommends sirolimus as a second-line option for refractory ITP, AIHA and PRCA");
a panel looks them up by disease. Strength (grade A–D) and evidence level (Oxford CEBM
1a–5) are taken only where printed in the same sentence, in English or Chinese
(推荐强度/证据级别), never guessed.
"""
from __future__ import annotations

import re

from .base import Context, proof

_RECOMMEND = re.compile(r"\brecommend(?:s|ed|ation|ations)?\b|\bsuggest(?:s|ed)?\b|推荐|建议", re.I)
_LINE = re.compile(r"\b(?:(?:first|second|third|later|subsequent)[- ]line|preferred|alternative|salvage|maintenance)\b"
                   r"(?:\s+or\s+(?:(?:first|second|third)[- ]line|preferred|alternative))?", re.I)
_STRENGTH = re.compile(r"\b(?:grade|strength(?: of recommendation)?)\s*[:=]?\s*(?P<g>[A-D])\b|推荐强度\s*[:：]?\s*(?P<z>[A-D])")
_LEVEL = re.compile(r"\b(?:level(?: of evidence)?|evidence level|LoE)\s*[:=]?\s*(?P<l>[1-5][abc]?)\b|证据级别\s*[:：]?\s*(?P<z>[1-5][abc]?)", re.I)


def recommendations(ctx: Context) -> list[dict]:
    """One record per (disease, drug) recommended: ``disease``, ``intervention``, ``line``,
    ``strength``, ``evidence_level``, ``evidence`` (the sentence's terms), ``confidence``."""
    out: list[dict] = []
    generic_dx = set(ctx.vocab.terms("generic").get("diagnosis", []))
    generic_drug = set(ctx.vocab.terms("generic").get("drug", []))
    for sent in ctx.sentences:
        if not _RECOMMEND.search(sent.text) or ctx.about_other_studies(sent) and ctx.section(sent) != "abstract":
            continue
        drugs = [t for t in ctx.terms(sent, "drug") if t.label not in generic_drug]
        diseases = [t for t in ctx.terms(sent, "diagnosis") if t.label not in generic_dx]
        if not drugs or not diseases:
            continue
        line = _LINE.search(sent.text)
        strength = _STRENGTH.search(sent.text)
        level = _LEVEL.search(sent.text)
        seen = set()
        for d in diseases:
            for drug in drugs[:1] if len(drugs) > 1 and len(diseases) > 1 else drugs:
                key = (d.label, drug.label)
                if key in seen:
                    continue
                seen.add(key)
                spans = [(d.start, d.end), (drug.start, drug.end)]
                spans += [(sent.start + m.start(), sent.start + m.end()) for m in (line, strength, level) if m]
                out.append({
                    "disease": d.label, "intervention": drug.label,
                    "line": re.sub(r"\s+", " ", line.group(0)).lower() if line else None,
                    "strength": (strength.group("g") or strength.group("z")) if strength else None,
                    "evidence_level": (level.group("l") or level.group("z")) if level else None,
                    "evidence": proof(ctx.doc, *spans),
                    "confidence": 0.8 if line else 0.6,
                })
    return out
