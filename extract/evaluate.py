"""How good is the extractor? Extracted rows scored against hand-checked gold facts.

Why per field kind: a reviewer trusts counts, totals, person-time, rates and intervals
differently, and the pipeline's failures are field-specific; one overall score would hide them.

Gold files (``corpus/gold/<paper>.json``) list facts as ``field, group, outcome, unit, value,
page, anchor`` (offsets of the number in the seed file and a short locator, never sentences).
Rows and gold facts are compared per document (the ``source`` file name matched against the
gold ``seed``/``pdf`` names), so study-id spelling never decides a match. Keys:

==============  ===============================================================
field kind      compared on
==============  ===============================================================
counts          group, outcome, unit, events
totals          group, total
percents        group, outcome, reported_value (``reported_scale`` percent)
person_time     group, person_time, time_unit
rates           group, outcome, reported_value (a person-time scale)
cis             group, outcome, (ci_low, ci_high)
design          design (or a listed alternative)
bibliography    doi, pmid, title (SHA-1 of the folded title), first_author (surname), year, journal
==============  ===============================================================

Groups meet after folding: ``Only SR`` = ``SR`` = ``SR alone`` (the vocabulary's drug label),
``X / Overall`` = ``X``; a gold fact without an outcome or unit matches any. A number equal
in every key counts once however often it is printed.

Evidence: every evidence item whose quote is the document text at its stated offsets and
page is *verifiable*; every number in a row that no evidence quote holds (and that no flag
declares derived, ``total 47 = 10 + 37``) is a *number without evidence*.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .consistency import _json_list, _text
from .vocab import fold as _fold

GOLD_DIR = Path(__file__).resolve().parents[1] / "corpus" / "gold"
KINDS = ("counts", "totals", "percents", "person_time", "rates", "cis", "design", "bibliography")
NUMERIC_KINDS = ("counts", "totals", "percents", "person_time", "rates", "cis")
_KIND_OF_FIELD = {"events": "counts", "total": "totals", "percent": "percents", "person_time": "person_time",
                  "rate": "rates", "ci": "cis", "design": "design", "doi": "bibliography", "pmid": "bibliography",
                  "title": "bibliography", "first_author": "bibliography", "year": "bibliography",
                  "journal": "bibliography"}
COMPOSITION = ("patients",)  # rows saying how many of the cohort are in a group (events = group size)
_OVERALL = {"overall", "total", "all", "all patients", "global cohort", "whole cohort", "entire cohort"}
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"no": 0, "none": 0, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90})


# --- normalising ---------------------------------------------------------------------------------


def fold(value: Any) -> str:
    """The vocabulary's comparison form of any cell value (None and NaN → empty)."""
    return _fold(_text(value))


def title_key(title: Any) -> str:
    """SHA-1 of the title lowercased with non-word runs as one space (gold stores no paper text)."""
    return hashlib.sha1(re.sub(r"\W+", " ", unicodedata.normalize("NFKC", str(title or ""))).strip().lower()
                        .encode()).hexdigest()


def canonical_group(group: Any) -> str:
    """``Only SR``/``SR alone``/``SR`` → ``sirolimus``; ``X / Overall`` → ``x``; overall words → ``overall``."""
    from .vocab import load_vocab

    text = fold(group) or "overall"
    parts = [p.strip() for p in text.split(" / ") if p.strip()]
    parts = [re.sub(r"^(patients|subjects|children|cases)\s+", "", p, flags=re.I) for p in parts]
    if len(parts) > 1 and parts[-1].lower() in _OVERALL:
        parts = parts[:-1]
    if parts[0].lower() in _OVERALL:
        parts = parts[1:] or ["overall"]
    if parts == ["overall"]:
        return "overall"
    label = parts[-1]
    if re.match(r"other(s|\b)", label, re.I):  # "others", "other diagnosis", "Other AICs": the complement
        return " / ".join([p.lower() for p in parts[:-1]] + ["other"])
    vocab = load_vocab()
    norm = vocab.normalise("drug", label) or vocab.normalise("diagnosis", label)
    label = "+".join(sorted(norm.lower().split("+"))) if norm else re.sub(r"(?<=\w{4})s$", "", label.lower())
    return " / ".join([p.lower() for p in parts[:-1]] + [label])


def _cohort_of(group: str) -> str:
    """The whole of a composition row: its period (``diagnosed after 2015``) or ``overall``."""
    return group.rsplit(" / ", 1)[0] if " / " in group else "overall"


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _same_number(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _is_rate_scale(scale: Any) -> bool:
    s = str(scale or "").lower()
    return "person" in s or "p/m" in s or "p/y" in s


def _is_percent_scale(scale: Any) -> bool:
    s = str(scale or "").lower()
    return "percent" in s or s.strip() == "%"


# --- facts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One comparable fact: its kind and key (``None`` in group/outcome/unit is a wildcard in gold)."""

    kind: str
    name: str  # events, total, …, doi, title …
    group: str | None = None
    outcome: str | None = None
    unit: str | None = None
    value: Any = None
    alternatives: tuple = ()

    def matches(self, pred: "Fact") -> bool:
        """``self`` is the gold fact; ``pred`` an extracted one."""
        if self.kind != pred.kind or self.name != pred.name:
            return False
        if self.group is not None and not _group_match(self.group, pred.group):
            return False
        for attr in ("outcome", "unit"):
            want = getattr(self, attr)
            if want is None:
                continue
            if (getattr(pred, attr) not in want) if isinstance(want, tuple) else want != getattr(pred, attr):
                return False
        return any(_value_match(self.name, v, pred.value) for v in (self.value, *self.alternatives))


def _value_match(name: str, gold: Any, pred: Any) -> bool:
    if name == "ci":
        return _same_number(gold[0], pred[0]) and _same_number(gold[1], pred[1])
    if name in ("events", "total", "percent", "person_time", "rate", "year"):
        return _same_number(_num(gold), _num(pred))
    if name == "first_author":
        g, p = fold(gold).lower(), fold(pred).lower()
        return bool(p) and (g == p or p.startswith(g + " ") or p.endswith(" " + g) or p.startswith(g + ","))
    if name == "journal":
        clean = lambda s: re.sub(r"^the\s+", "", re.sub(r"[^\w\s]", "", fold(s).lower())).strip()
        return clean(gold) == clean(pred)
    if name == "doi":
        clean = lambda s: re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", fold(s).lower())
        return clean(gold) == clean(pred)
    return fold(gold).lower() == fold(pred).lower()


def gold_facts(gold: dict, form: str | None = None) -> list[Fact]:
    """The distinct facts of one gold file; ``form`` (``seed``/``pdf``) drops facts printed only in the other."""
    out: dict[Fact, None] = {}
    for f in gold.get("facts", []):
        if form and f.get("only") and f["only"] != form:
            continue
        name = f["field"]
        kind = _KIND_OF_FIELD.get(name)
        if kind is None:
            continue
        value = f["value"]
        if name == "ci":
            value = (float(value[0]), float(value[1]))
        group = _gold_group(f) if kind in NUMERIC_KINDS else None
        outcome = f.get("outcome") if kind in ("counts", "percents", "rates", "cis") else None
        outcome = tuple(outcome) if isinstance(outcome, list) else outcome
        out[Fact(kind, name, group, outcome,
                 f.get("unit") if kind == "counts" else None, value, tuple(f.get("alternatives", ())))] = None
    return list(out)


def _gold_group(fact: dict) -> str:
    """The gold group; ``"*"`` is any group, ``"period": "any"`` any period before the label
    (for figures the paper attributes to differently named subsets in different places)."""
    if fact.get("group") == "*":
        return "*"
    group = canonical_group(fact.get("group"))
    if fact.get("period") == "any":  # the subset itself: any group; a group within it: any prefix
        return "* / " + group.rsplit(" / ", 1)[-1] if " / " in group else "*"
    return group


def _group_match(want: str, have: str | None) -> bool:
    if want == "*":
        return True
    if want.startswith("* / "):
        return (have or "").rsplit(" / ", 1)[-1] == want[4:]
    return want == have


def row_facts(rows: Iterable[dict]) -> list[Fact]:
    """The distinct facts the extracted rows state."""
    out: dict[Fact, None] = {}
    add = lambda fact: out.setdefault(fact, None)
    for r in rows:
        group = canonical_group(r.get("group"))
        outcome = _text(r.get("outcome")) or None
        value = _num(r.get("reported_value"))
        if outcome in COMPOSITION:  # "35 (36%) of 96 were treated with MMF": the group's size of the cohort
            if _num(r.get("events")) is not None:
                add(Fact("totals", "total", group, None, None, _num(r["events"])))
            if _num(r.get("total")) is not None:
                add(Fact("totals", "total", _cohort_of(group), None, None, _num(r["total"])))
        elif _num(r.get("events")) is not None:
            add(Fact("counts", "events", group, outcome, _text(r.get("unit")) or None, _num(r["events"])))
        if outcome not in COMPOSITION and _num(r.get("total")) is not None:
            add(Fact("totals", "total", group, None, None, _num(r["total"])))
        if _num(r.get("person_time")) is not None:
            add(Fact("person_time", "person_time", group, None, None, _num(r["person_time"])))
        if value is not None and _is_percent_scale(r.get("reported_scale")):
            add(Fact("percents", "percent", group, outcome, None, value))
        elif value is not None and _is_rate_scale(r.get("reported_scale")):
            add(Fact("rates", "rate", group, outcome, None, value))
        lo, hi = _num(r.get("ci_low")), _num(r.get("ci_high"))
        if lo is not None and hi is not None:
            add(Fact("cis", "ci", group, outcome, None, (lo, hi)))
        if _text(r.get("design")):
            add(Fact("design", "design", value=_text(r["design"])))
        for name in ("doi", "pmid", "first_author", "journal"):
            if _text(r.get(name)):
                add(Fact("bibliography", name, value=_text(r[name])))
        if _num(r.get("year")) is not None:
            add(Fact("bibliography", "year", value=int(_num(r["year"]))))
        if _text(r.get("title")):
            add(Fact("bibliography", "title", value=title_key(r["title"])))
    return list(out)


# --- scores ------------------------------------------------------------------------------------


@dataclass
class Score:
    """True positives counted on both sides (a gold fact found; an extracted fact that is gold)."""

    gold: int = 0
    extracted: int = 0
    found: int = 0  # gold facts matched by some extracted fact
    correct: int = 0  # extracted facts matching some gold fact

    @property
    def precision(self) -> float | None:
        return self.correct / self.extracted if self.extracted else None

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None and r is None:
            return None
        p, r = p or 0.0, r or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: "Score") -> None:
        self.gold += other.gold
        self.extracted += other.extracted
        self.found += other.found
        self.correct += other.correct

    def to_dict(self) -> dict:
        return {"gold": self.gold, "extracted": self.extracted, "found": self.found, "correct": self.correct,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


def score_facts(gold: list[Fact], pred: list[Fact]) -> dict[str, Score]:
    """Per field kind: how many gold facts were found and how many extracted facts are gold."""
    scores = {k: Score() for k in KINDS}
    for g in gold:
        s = scores[g.kind]
        s.gold += 1
        s.found += any(g.matches(p) for p in pred)
    for p in pred:
        s = scores[p.kind]
        s.extracted += 1
        s.correct += any(g.matches(p) for g in gold)
    return scores


# --- evidence --------------------------------------------------------------------------------

_NUMBER_IN_TEXT = re.compile(r"\d[\d,]*(?:\.\d+)?|[A-Za-z]+(?:-[A-Za-z]+)?")


def _numbers_in(text: str) -> list[float]:
    out = []
    for tok in _NUMBER_IN_TEXT.findall(text or ""):
        if tok[0].isdigit():
            v = _num(tok.rstrip(","))
            if v is not None:
                out.append(v)
        else:
            parts = tok.lower().split("-")
            if all(p in _NUMBER_WORDS for p in parts):
                out.append(float(sum(_NUMBER_WORDS[p] for p in parts)))
    return out


@dataclass
class EvidenceScore:
    items: int = 0
    verifiable: int = 0
    numbers: int = 0
    numbers_verified: int = 0  # numbers held by a quote that is verbatim at its offsets and page
    without_evidence: int = 0
    unverified: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)

    def add(self, other: "EvidenceScore") -> None:
        self.items += other.items
        self.verifiable += other.verifiable
        self.numbers += other.numbers
        self.numbers_verified += other.numbers_verified
        self.without_evidence += other.without_evidence
        self.unverified += other.unverified
        self.unsupported += other.unsupported

    def to_dict(self) -> dict:
        return {"items": self.items, "verifiable": self.verifiable,
                "verifiable_share": self.verifiable / self.items if self.items else None,
                "numbers": self.numbers, "numbers_verified": self.numbers_verified,
                "numbers_verified_share": self.numbers_verified / self.numbers if self.numbers else None,
                "without_evidence": self.without_evidence,
                "unverified": self.unverified[:20], "unsupported": self.unsupported[:20]}


def check_evidence(rows: Iterable[dict], doc: Any) -> EvidenceScore:
    """Quotes found verbatim at their offsets and page; numbers no quote holds."""
    out = EvidenceScore()
    for r in rows:
        ev = [e for e in _json_list(r.get("evidence")) if isinstance(e, dict)]
        quoted: list[float] = []
        verified: list[float] = []
        for e in ev:
            out.items += 1
            start, end, quote = e.get("start"), e.get("end"), e.get("quote", "")
            ok = (doc is not None and isinstance(start, int) and isinstance(end, int)
                  and doc.text[start:end] == quote and (e.get("page") is None or doc.page_of(start) == e["page"]))
            out.verifiable += bool(ok)
            if not ok:
                out.unverified.append(f"{r.get('source')}: {quote!r} at {start}-{end} p.{e.get('page')}")
            quoted += _numbers_in(quote)
            if ok:
                verified += _numbers_in(quote)
        flags = " ".join(str(f) for f in _json_list(r.get("flags")))
        for col in ("events", "total", "person_time", "reported_value", "ci_low", "ci_high"):
            v = _num(r.get(col))
            if v is None:
                continue
            out.numbers += 1
            derived = re.search(rf"(?<![\d.]){re.escape(_fmt(v))}\s*=", flags)
            out.numbers_verified += bool(any(_same_number(v, q) for q in verified) or derived)
            if not any(_same_number(v, q) for q in quoted) and not derived:
                out.without_evidence += 1
                out.unsupported.append(f"{r.get('source')}: {col} {_fmt(v)} ({r.get('group')}, {r.get('outcome')})")
    return out


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# --- running ----------------------------------------------------------------------------------


def load_gold(gold_dir: str | Path = GOLD_DIR) -> list[dict]:
    """Every paper's gold file in ``gold_dir`` (files with a ``facts`` list)."""
    out = []
    for path in sorted(Path(gold_dir).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "facts" in data:
            data["_file"] = path.name
            out.append(data)
    return out


def _form(path: str | Path, gold: dict) -> str:
    """``pdf`` when ``path`` is the gold's typeset PDF, else ``seed``."""
    return "pdf" if Path(path).name == Path(gold.get("pdf") or "").name else "seed"


def gold_for(path: str | Path, golds: list[dict]) -> dict | None:
    """The gold file whose seed or PDF has this file name."""
    name = Path(path).name
    for g in golds:
        if name in (Path(g.get("seed") or "").name, Path(g.get("pdf") or "").name):
            return g
    return None


def default_paths(shared: Path | None = None) -> list[Path]:
    """The seeds and PDFs of ../shared/corpus (empty when that folder is absent)."""
    shared = shared or Path(__file__).resolve().parents[2] / "shared"
    corpus = shared / "corpus"
    return sorted((corpus / "seeds").glob("*")) + sorted((corpus / "pdf").glob("*.pdf")) if corpus.is_dir() else []


@dataclass
class DocumentResult:
    path: str
    gold: str | None
    scores: dict[str, Score]
    evidence: EvidenceScore
    rows: int
    error: str | None = None
    missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    expected_error: str | None = None  # for the files of bad_files.json: the failure class expected
    failure_ok: bool | None = None  # … and whether reading failed (or succeeded) as expected
    refused: str | None = None  # the reader's one-line reason when it refused the file


@dataclass
class EvalResult:
    """Per-document and pooled scores; ``to_dict()`` for ``--json``, ``summary()`` for people."""

    documents: list[DocumentResult]

    @property
    def scores(self) -> dict[str, Score]:
        total = {k: Score() for k in KINDS}
        for d in self.documents:
            for k, s in d.scores.items():
                total[k].add(s)
        return total

    @property
    def numeric(self) -> Score:
        s = Score()
        for k in NUMERIC_KINDS:
            s.add(self.scores[k])
        return s

    @property
    def evidence(self) -> EvidenceScore:
        e = EvidenceScore()
        for d in self.documents:
            e.add(d.evidence)
        return e

    def to_dict(self) -> dict:
        return {
            "fields": {k: s.to_dict() for k, s in self.scores.items()},
            "numeric": self.numeric.to_dict(),
            "evidence": self.evidence.to_dict(),
            "bad_files": {"checked": sum(d.failure_ok is not None for d in self.documents),
                          "as_expected": sum(bool(d.failure_ok) for d in self.documents)},
            "documents": [{"path": d.path, "gold": d.gold, "rows": d.rows, "error": d.error,
                           "expected_error": d.expected_error, "failure_ok": d.failure_ok, "refused": d.refused,
                           "fields": {k: s.to_dict() for k, s in d.scores.items()},
                           "evidence": d.evidence.to_dict(), "missed": d.missed[:30], "wrong": d.wrong[:30]}
                          for d in self.documents],
        }

    def summary(self) -> str:
        """A plain-text table (the CLI renders the same numbers with rich)."""
        lines = [f"{'field':<13}{'gold':>6}{'extr':>6}{'P':>7}{'R':>7}{'F1':>7}"]
        for k, s in list(self.scores.items()) + [("numeric", self.numeric)]:
            lines.append(f"{k:<13}{s.gold:>6}{s.extracted:>6}{_pct(s.precision):>7}{_pct(s.recall):>7}{_pct(s.f1):>7}")
        e = self.evidence
        lines.append(f"verifiable quotes {e.verifiable}/{e.items}; numbers with a verifiable quote "
                     f"{e.numbers_verified}/{e.numbers}; numbers without evidence {e.without_evidence}/{e.numbers}")
        return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _describe(f: Fact) -> str:
    bits = [f.name, f.group or "", f.outcome or "", f.unit or "", str(f.value)]
    return " ".join(b for b in bits if b)


def evaluate_document(path: str | Path, rows: list[dict], doc: Any, gold: dict | None) -> DocumentResult:
    """Score one document's rows against its gold file (no gold: only the evidence checks)."""
    gf = gold_facts(gold, _form(path, gold)) if gold else []
    pf = row_facts(rows)
    scores = score_facts(gf, pf) if gold else {k: Score() for k in KINDS}
    missed = [_describe(g) for g in gf if not any(g.matches(p) for p in pf)]
    wrong = [_describe(p) for p in pf if gold and not any(g.matches(p) for g in gf)]
    return DocumentResult(str(path), gold.get("_file") if gold else None, scores, check_evidence(rows, doc),
                          len(rows), missed=missed, wrong=wrong)


Extractor = Callable[[Path], tuple[list[dict], Any]]


def pipeline_extractor(path: Path) -> tuple[list[dict], Any]:
    """Rows and Document of one file through ``extract.pipeline`` (the default extractor).

    A file that cannot be read raises its :class:`~extract.errors.ReadError` subclass, so the
    failure class can be compared with the one the gold expects.
    """
    from . import read
    from .pipeline import extract_document

    doc = read(path)
    return extract_document(doc), doc


def load_expected_failures(gold_dir: str | Path = GOLD_DIR) -> dict[str, dict]:
    """``bad_files.json``: file name → what reading it should give (``expect``: error/rows, ``error`` class)."""
    path = Path(gold_dir) / "bad_files.json"
    if not path.exists():
        return {}
    files = json.loads(path.read_text(encoding="utf-8")).get("files", {})
    return {Path(k).name: v for k, v in files.items()}


def evaluate(paths: Iterable[str | Path] | None = None, gold_dir: str | Path = GOLD_DIR,
             extractor: Extractor | None = None, progress: Callable[[Path], None] | None = None) -> EvalResult:
    """Extract each path and score it; no paths → the seeds and PDFs of ../shared/corpus.

    ``progress(path)`` is called after each document (the CLI draws a progress bar with it)."""
    golds = load_gold(gold_dir)
    failures = load_expected_failures(gold_dir)
    extractor = extractor or pipeline_extractor
    docs = []
    for path in [Path(p) for p in (paths if paths else default_paths())]:
        try:
            gold = gold_for(path, golds)
            expected = failures.get(path.name)
            try:
                rows, doc = extractor(path)
                result = evaluate_document(path, rows, doc, gold)
                if expected is not None:
                    result.failure_ok = expected.get("expect") != "error"
                    if not result.failure_ok:
                        result.expected_error = expected.get("error")
                        result.error = f"expected {expected.get('error')} ({expected.get('reason', 'refused')}), but it was read"
                docs.append(result)
                continue
            except Exception as exc:  # one bad file never stops the batch; it is reported with its reason
                if expected is not None and expected.get("expect") == "error":
                    ok = type(exc).__name__ == expected.get("error")
                    docs.append(DocumentResult(str(path), "bad_files.json", {k: Score() for k in KINDS}, EvidenceScore(),
                                               0, error=None if ok else str(exc) or type(exc).__name__,
                                               expected_error=expected.get("error"), failure_ok=ok,
                                               refused=f"{type(exc).__name__}: {exc}"))
                    continue
                gf = gold_facts(gold, _form(path, gold)) if gold else []
                scores = score_facts(gf, []) if gold else {k: Score() for k in KINDS}
                docs.append(DocumentResult(str(path), gold.get("_file") if gold else None, scores, EvidenceScore(), 0,
                                           error=str(exc) or type(exc).__name__, missed=[_describe(g) for g in gf]))
        finally:
            if progress:
                progress(path)
    return EvalResult(docs)
