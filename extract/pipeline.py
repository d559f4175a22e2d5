"""The extraction pipeline: Document → study rows (Contract 1), and a batch of paths → one table.

Why this order: bibliographic and design facts make the study (every row carries them); the
cohort comes next because outcome counts need its denominators; then response, safety and the
results tables. Text and table rows that state the same fact become one row with both
evidences; where the paper gives a figure two ways, the consistency module flags the rows
(checked *before* merging, so no disagreement is merged away).

A batch never stops on one bad file: each failure is kept as ``(path, reason line)``.
"""
from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from .document import Document
from .errors import ReadError
from .fields.base import Context, Fact, context_for
from .fields.bibliography import GUESSED_ID_FLAG, extract_bibliography, study_id, study_id_is_guess
from .fields.design import extract_design, infer_design
from .fields.interventions import arm_sizes, studied_drugs, treatment_groups
from .fields.population import cohort, distribution, period_groups, sex_and_age
from .fields.response import response_rows
from .fields.safety import safety_rows
from .rows import COLUMNS, make_frame
from .vocab import Vocab, load_vocab

# Rows from text a reader recovered or recognised, rather than read from the file's text layer:
# each row says so, since a guessed or misrecognised character can change a figure.
RECOVERED_FLAG = "text recovered from a damaged PDF (guessed characters and positions): check against the source"
OCR_FLAG = "text recognised by OCR: check every figure against the page image"

STUDY_COLUMNS = ("study_id", "source", "doi", "pmid", "title", "first_author", "year", "journal",
                 "design", "multicenter", "evidence_level")
_NUMERIC = ("events", "total", "person_time", "reported_value")
_NO_DATA_DESIGNS = ("guideline", "review")


@dataclass
class ExtractionResult:
    """Rows of every readable paper, the Documents read, and one reason line per failed path."""

    rows: pd.DataFrame
    documents: list[Document] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    guidance: dict[str, dict] = field(default_factory=dict)  # source → recommendations and citations (guidelines, reviews)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, line) for each reading warning of a document


@lru_cache(maxsize=None)
def _optional(module: str, name: str) -> Callable | None:
    """A function of a module another helper owns, or None while it does not exist yet."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def study_facts(ctx: Context) -> tuple[dict[str, Any], dict[str, Fact]]:
    """The study-level columns (bibliography + design) and the Facts behind them."""
    facts = extract_bibliography(ctx.doc)
    facts.update(extract_design(ctx))
    study = {c: None for c in STUDY_COLUMNS}
    for key in ("doi", "pmid", "title", "first_author", "year", "journal", "design", "multicenter", "evidence_level"):
        if key in facts:
            study[key] = facts[key].value
    study["source"] = ctx.doc.source
    study["study_id"] = study_id(study["first_author"], study["year"], study["title"], source=ctx.doc.source)
    return study, facts


def _study_population(ctx: Context, rows: list[dict]) -> str | None:
    labels = [r["population"] for r in rows if r.get("group_type") == "diagnosis" and r.get("population")
              and r["outcome"] == "patients"]
    if not labels:
        generic = set(ctx.vocab.terms("generic").get("diagnosis", []))
        for sections in (("title",), ("abstract",)):
            found = [t.label for s in ctx.sentences if ctx.section(s) in sections for t in ctx.terms(s, "diagnosis")
                     if t.label not in generic]
            if found:
                labels = found
                break
    if not labels:  # the sentences that state the cohort name its disease ("24 children with refractory ITP")
        generic = set(ctx.vocab.terms("generic").get("diagnosis", []))
        starts = {ev["start"] for r in rows if r["outcome"] in ("enrolled", "treated", "analysed") for ev in r["evidence"]}
        for s in ctx.sentences:
            if any(s.start <= x < s.end for x in starts):
                labels += [t.label for t in ctx.terms(s, "diagnosis") if t.label not in generic]
    return "+".join(dict.fromkeys(labels)) or None


def _normalise_groups(rows: list[dict], vocab: Vocab, population: str | None, intervention: str | None) -> None:
    for r in rows:
        last = str(r.get("group") or "overall").split(" / ")[-1]
        if r.get("group_type") == "diagnosis" and not r.get("population"):
            r["population"] = vocab.normalise("diagnosis", last)
        if r.get("group_type") == "treatment" and not r.get("intervention"):
            r["intervention"] = vocab.normalise("drug", last)
        if r.get("group_type") == "period" and " / " in str(r.get("group")):
            r["population"] = r.get("population") or vocab.normalise("diagnosis", last)
            r["intervention"] = r.get("intervention") or vocab.normalise("drug", last)
        r.setdefault("population", None)
        r.setdefault("intervention", None)
        if not r["population"] and r.get("group_type") != "diagnosis":
            r["population"] = population
        if not r["intervention"]:
            r["intervention"] = intervention


def extract_document(doc: Document, vocab: Vocab | None = None) -> list[dict]:
    """Contract-1 row dicts for one paper; evidence as lists of {quote, page, start, end}, flags as lists."""
    vocab = vocab or load_vocab()
    ctx = context_for(doc, vocab)
    study, facts = study_facts(ctx)
    rows: list[dict] = []
    if study["design"] not in _NO_DATA_DESIGNS:
        coh = cohort(ctx)
        infer_design(facts, has_data=bool(coh.counts), year=study["year"])
        study.update({k: facts[k].value for k in ("design", "evidence_level")})
        rows += coh.rows + arm_sizes(ctx, coh) + sex_and_age(ctx, coh)
        rows += distribution(ctx, coh, "diagnosis", "diagnosis") + treatment_groups(ctx, coh) + period_groups(ctx, coh)
        rows += response_rows(ctx, coh) + safety_rows(ctx, coh)
        _prove_totals(rows, coh.rows + [r for r in rows if r["outcome"] == "patients" and r["group_type"] == "period"])
        drugs = studied_drugs(ctx)
        population = _study_population(ctx, rows)
        tables = _optional("extract.fields.tables", "table_rows")
        if tables is not None:
            rows += [dict(r) for r in tables(doc, dict(study))]
        _normalise_groups(rows, vocab, population, drugs.value if drugs else None)
    else:
        coh = None
    if study["design"] == "unknown" and not rows:
        infer_design(facts, has_data=False, year=study["year"])
        study.update({k: facts[k].value for k in ("design", "evidence_level")})
    guessed = [f for k in ("design",) if k in facts and facts[k].confidence <= 0.5 for f in facts[k].flags]
    rows = [_complete(r, study) for r in rows]
    for r in rows:
        r["flags"] = list(dict.fromkeys(r["flags"] + guessed))
    check = _optional("extract.consistency", "check")
    if check is not None and rows:
        rows = check(rows, doc)
    rows = merge_rows(rows)
    if not rows:
        rows = [_complete({"evidence": _study_evidence(doc, facts), "confidence": _study_confidence(facts),
                           "flags": ["no study numbers found"]}, study)]
    recovered = reading_flags(doc)
    for r in rows:
        r["flags"] = list(dict.fromkeys(r["flags"] + recovered))
    return rows


def reading_flags(doc: Document) -> list[str]:
    """The flags every row of ``doc`` carries when its text was recovered (a salvaged PDF) or
    recognised (OCR) rather than read from a text layer."""
    extra = doc.metadata.extra
    return [flag for key, flag in (("salvaged", RECOVERED_FLAG), ("ocr", OCR_FLAG)) if extra.get(key)]


def _prove_totals(rows: list[dict], cohort_rows: list[dict]) -> None:
    """A total taken from the cohort ("five (29.4%)" of the 17) carries the quote that states the cohort."""
    for r in rows:
        total = r.get("total")
        shown = f"{int(total)}" if total is not None and float(total).is_integer() else str(total)
        if total is None or any(shown in ev["quote"] for ev in r["evidence"]):
            continue
        source = next((c for c in cohort_rows if c["events"] == total and c is not r), None)
        if source and source["evidence"]:
            r["evidence"].append(source["evidence"][0])


def extract_guidance(doc: Document, study: dict[str, Any]) -> dict[str, list[dict]]:
    """A guideline's or review's recommendations per disease (Contract 1 rows, ``outcome="recommendation"``)
    and its reference list as citation records: candidate studies for the review, each with its proof."""
    from .fields.citations import parse_references
    from .fields.recommendations import recommendation_rows

    return {"recommendations": recommendation_rows(doc, study),
            "citations": [c.to_dict() for c in parse_references(doc)]}


def _study_evidence(doc: Document, facts: dict[str, Fact]) -> list[dict]:
    out = []
    for key in ("title", "first_author", "year", "doi", "design"):
        for ev in facts.get(key, Fact(key, None)).evidence:
            if ev not in out:
                out.append(ev)
    return out


def _study_confidence(facts: dict[str, Fact]) -> float:
    confs = [facts[k].confidence for k in ("title", "first_author", "year", "design") if k in facts]
    return round(min(confs), 2) if confs else 0.5


def _complete(row: dict, study: dict) -> dict:
    """Every Contract-1 column present; the study's columns from ``study``; lists for evidence/flags."""
    out = {c: row.get(c) for c in COLUMNS}
    for c in STUDY_COLUMNS:
        if out.get(c) in (None, "") and study.get(c) is not None:
            out[c] = study[c]
    if out.get("group"):
        out["group"] = re.sub(r"\s+", " ", str(out["group"])).strip()  # as printed, line ends read as spaces
    out["study_id"] = study["study_id"]
    out["source"] = study["source"]
    out["evidence"] = list(row.get("evidence") or [])
    out["flags"] = list(row.get("flags") or [])
    if study_id_is_guess(study.get("first_author")) and GUESSED_ID_FLAG not in out["flags"]:
        out["flags"].append(GUESSED_ID_FLAG)
    out["status"] = row.get("status") or "extracted"
    for c in _NUMERIC + ("ci_low", "ci_high", "confidence"):
        v = out.get(c)
        if isinstance(v, float) and math.isnan(v):
            out[c] = None
    return out


# --- merging the same fact ----------------------------------------------------------------------
def _key_group(row: dict) -> tuple:
    keyer = _optional("extract.consistency", "group_key")
    if keyer is not None:
        return keyer(row)
    return (str(row.get("group") or "overall").lower(),)


def _is_rate(row: dict) -> bool:
    return str(row.get("reported_scale") or "").startswith("per ")


def _same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return True
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return a == b


def _same_fact(a: dict, b: dict) -> bool:
    """Two rows state one fact: same outcome (an infection rate may be the serious-infection rate),
    same group, unit and scale, no numeric field in conflict, and at least one figure in common."""
    if _key_group(a) != _key_group(b):
        return False
    if a["outcome"] != b["outcome"]:
        family = {"infection", "serious_infection"}
        if not (_is_rate(a) and _is_rate(b) and {a["outcome"], b["outcome"]} <= family):
            return False
    if a.get("outcome") == "person_time" or b.get("outcome") == "person_time":
        return False
    for c in ("unit", "reported_scale", "time_unit"):
        if a.get(c) and b.get(c) and a[c] != b[c]:
            return False
    if not all(_same_value(a.get(c), b.get(c)) for c in _NUMERIC + ("ci_low", "ci_high")):
        return False  # a figure printed two ways stays two rows, each flagged by the consistency check
    return any(a.get(c) is not None and b.get(c) is not None for c in _NUMERIC)


def _absorb(keep: dict, other: dict) -> None:
    for c in COLUMNS:
        if keep.get(c) in (None, "") and other.get(c) not in (None, ""):
            keep[c] = other[c]
    keep["evidence"] += [e for e in other["evidence"] if e not in keep["evidence"]]
    keep["flags"] = list(dict.fromkeys(keep["flags"] + other["flags"]))
    if keep.get("events") is not None and keep.get("person_time") is not None:  # the other place supplied them
        keep["flags"] = [f for f in keep["flags"] if not f.startswith("rate printed without matching")]
    if other["outcome"] == "serious_infection" and keep["outcome"] == "infection":
        keep["outcome"] = "serious_infection"
    keep["confidence"] = max(x for x in (keep.get("confidence"), other.get("confidence"), 0) if x is not None)


def merge_rows(rows: list[dict]) -> list[dict]:
    """One row per fact: duplicates (abstract and results, text and table) merged with all their evidence.

    Standalone person-time rows join the rate row of their group that has the same person-time.
    """
    buckets: dict[tuple, list[dict]] = {}
    for r in rows:  # only rows of one group and outcome family can state one fact
        family = "infection" if r.get("outcome") in ("infection", "serious_infection") else r.get("outcome")
        buckets.setdefault((family, _key_group(r)), []).append(r)
    out = []
    for bucket in buckets.values():
        changed = True
        while changed:  # a merge can make a row match one it did not match before (episodes + rate)
            changed = False
            merged: list[dict] = []
            for r in bucket:
                target = next((k for k in merged if _same_fact(k, r)), None)
                if target is None:
                    merged.append(r)
                else:
                    _absorb(target, r)
                    changed = True
            bucket = merged
        out += bucket
    order = {id(r): i for i, r in enumerate(rows)}
    out.sort(key=lambda r: order[id(r)])
    rates: dict[tuple, list[dict]] = {}
    for k in out:
        if _is_rate(k) and k.get("person_time") is not None:
            rates.setdefault(_key_group(k), []).append(k)
    kept = []
    for r in out:
        if r["outcome"] == "person_time":
            home = next((k for k in rates.get(_key_group(r), []) if _same_value(k.get("person_time"), r.get("person_time"))), None)
            if home is not None:
                home["evidence"] += [e for e in r["evidence"] if e not in home["evidence"]]
                continue
        kept.append(r)
    return kept


# --- batches ------------------------------------------------------------------------------------
def _one(path: str, cache: Any = None, ocr: bool = False) -> tuple[str, list[dict] | None, Document | None, str | None]:
    """One file → (path, rows, document, failure line); never raises, so one bad file never stops a batch."""
    from . import read

    try:
        doc = read(path, cache=cache, ocr=ocr)
    except ReadError as exc:
        return path, None, None, str(exc)
    except Exception as exc:  # a reader bug must not stop the batch; say which file and why
        return path, None, None, f"{path}: cannot be read ({type(exc).__name__}: {exc})"
    try:
        rows = extract_document(doc)
        if rows and rows[0]["design"] in _NO_DATA_DESIGNS:
            doc.metadata.extra["guidance"] = extract_guidance(doc, rows[0])
        return path, rows, doc, None
    except Exception as exc:
        return path, None, doc, f"{path}: extraction failed ({type(exc).__name__}: {exc})"


def _suffix_clashes(per_path: list[tuple[str, list[dict]]]) -> None:
    """Two papers with one study_id (same first author and year) become ``…a``, ``…b`` in input order."""
    owners: dict[str, list[str]] = {}
    for path, rows in per_path:
        if rows:
            sid = rows[0]["study_id"]
            if path not in owners.setdefault(sid, []):
                owners[sid].append(path)
    for sid, paths in owners.items():
        if len(paths) < 2:
            continue
        for path, rows in per_path:
            if path in paths:
                letter = "abcdefghijklmnopqrstuvwxyz"[paths.index(path) % 26]
                for r in rows:
                    r["study_id"] = f"{sid}{letter}"


def _flag_duplicate_cohorts(records: list[dict]) -> list[dict]:
    """Two documents of one batch reporting the same cohort (same registration or DOI, or same first
    author with centre/period/size) get a flag, so a pooled analysis does not count it twice."""
    from .consistency import duplicate_cohorts

    by_study: dict[str, list[dict]] = {}
    for r in records:
        by_study.setdefault(r["study_id"], []).append(r)
    if len(by_study) < 2:
        return records
    flagged = duplicate_cohorts(by_study)
    return [r for rows in flagged.values() for r in rows]


def extract_paths(paths: Iterable[str | Path], workers: int = 1, cache: Any = None,
                  progress: Callable[[str, bool, int], None] | None = None, scheduler: Any = None,
                  ocr: bool = False) -> ExtractionResult:
    """Rows of all ``paths`` (``.rows`` a Contract-1 DataFrame), in input order.

    ``workers > 1`` reads files in that many processes; ``scheduler`` runs the same per-file map
    on a Dask cluster (see :mod:`extract.batch`). ``progress(path, ok, pages)`` is called as each
    file finishes. ``ocr=True`` runs OCR on scanned PDFs instead of refusing them.
    """
    from functools import partial

    from .batch import map_files

    paths = [str(p) for p in paths]
    report = None
    if progress:
        def report(res):
            progress(res[0], res[3] is None, res[2].n_pages if res[2] is not None else 0)
    results = map_files(partial(_one, cache=cache, ocr=ocr), paths, workers=workers, scheduler=scheduler,
                        progress=report)
    per_path = [(p, rows) for p, rows, _, err in results if rows is not None]
    _suffix_clashes(per_path)
    records = _flag_duplicate_cohorts([r for _, rows in per_path for r in rows])
    documents = [d for _, rows, d, err in results if d is not None and err is None]
    return ExtractionResult(rows=make_frame(records), documents=documents,
                            failures=[(p, err) for p, _, _, err in results if err is not None],
                            guidance={d.source: d.metadata.extra["guidance"] for d in documents
                                      if "guidance" in d.metadata.extra},
                            warnings=[(p, w) for p, _, d, _ in results if d is not None for w in d.warnings])
