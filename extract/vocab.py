"""Vocabularies as data: labels and their synonyms for diagnoses, drugs, outcomes, designs.

Why data and not code: a new domain (GVHD, rheumatology, transplant) must be a new JSON file
under ``corpus/vocab``, not a new extractor. A domain file names the file it ``extends``
(usually ``common``); kinds it defines are merged over the parent's, label by label.

Matching rules, the same for every kind:
- text is compared after NFKC, dash/quote folding and whitespace collapsing;
- short all-capital abbreviations (``SR``, ``ES``, ``CR``) match case-sensitively, so that
  "es" or "cr" in ordinary words never count; longer terms match case-insensitively;
- ``normalise`` prefers an exact match of the whole text; otherwise it reports every label
  whose synonym occurs as a whole word, longest synonym first, non-overlapping, joined with
  ``+`` in order of appearance ("Sequential MMF+SR" → ``mycophenolate mofetil+sirolimus``).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

VOCAB_DIR = Path(__file__).resolve().parents[1] / "corpus" / "vocab"

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_QUOTES = {ord("\u2019"): "'", ord("\u2018"): "'", ord("\u201c"): '"', ord("\u201d"): '"'}


def fold(text: str) -> str:
    """Canonical form for comparison: NFKC, ASCII dashes and quotes, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Vocab:
    """Labels → synonyms per kind, with lookup in both directions."""

    domain: str
    kinds: dict[str, dict[str, list[str]]]
    case_sensitive_max_len: int = 4
    _compiled: dict[str, list[tuple[re.Pattern, str, int]]] = field(default_factory=dict, repr=False)
    _normalised: dict[tuple[str, str], str | None] = field(default_factory=dict, repr=False)

    def terms(self, kind: str) -> dict[str, list[str]]:
        """``{label: [synonyms]}`` for ``kind`` (empty dict for an unknown kind)."""
        return {k: list(v) for k, v in self.kinds.get(kind, {}).items()}

    def is_case_sensitive(self, term: str) -> bool:
        """Short abbreviations written in capitals (``SR``, ``ORR``) must match as written."""
        letters = re.sub(r"[^A-Za-z]", "", term)
        return bool(letters) and len(term) <= self.case_sensitive_max_len and not any(c.islower() for c in letters[1:])

    def _patterns(self, kind: str) -> list[tuple[re.Pattern, str, int]]:
        if kind not in self._compiled:
            items = []
            for label, synonyms in self.kinds.get(kind, {}).items():
                for syn in {label, *synonyms}:
                    s = fold(syn)
                    flags = 0 if self.is_case_sensitive(s) else re.IGNORECASE
                    body = re.escape(s).replace(r"\ ", r"[\s-]?" if len(s) > 6 else r"\s")
                    items.append((re.compile(rf"(?<!\w)(?<![a-z]-){body}(?![\w]|-[a-z])", flags), label, len(s)))
            items.sort(key=lambda t: -t[2])
            self._compiled[kind] = items
        return self._compiled[kind]

    def find(self, kind: str, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping ``(start, end, label)`` mentions in ``fold(text)``, longest first, sorted by position.

        Offsets refer to ``fold(text)``; callers holding document offsets should pass text that
        ``fold`` leaves the same length (spaCy tokens, short spans) or use :mod:`extract.nlp`.
        """
        folded = fold(text)
        taken: list[tuple[int, int, str]] = []
        for pat, label, _ in self._patterns(kind):
            for m in pat.finditer(folded):
                if any(m.start() < e and s < m.end() for s, e, _ in taken):
                    continue
                taken.append((m.start(), m.end(), label))
        return sorted(taken)

    def normalise(self, kind: str, text: str) -> str | None:
        """The label ``text`` names (exact synonym first, else all labels it mentions joined by ``+``)."""
        if not text or not str(text).strip():
            return None
        key = (kind, str(text))
        if key not in self._normalised:  # the same group labels are looked up again and again
            self._normalised[key] = self._normalise(kind, str(text))
        return self._normalised[key]

    def _normalise(self, kind: str, text: str) -> str | None:
        folded = fold(str(text)).strip(" .,;:()[]")
        for pat, label, _ in self._patterns(kind):
            m = pat.fullmatch(folded)
            if m:
                return label
        labels: list[str] = []
        for _, _, label in self.find(kind, folded):
            if label not in labels:
                labels.append(label)
        return "+".join(labels) if labels else None


def _load_raw(name: str, seen: tuple[str, ...] = ()) -> tuple[dict[str, dict[str, list[str]]], int]:
    if name in seen:
        raise ValueError(f"vocabulary {name}: circular 'extends' ({' -> '.join(seen + (name,))})")
    path = VOCAB_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such vocabulary (domains: {', '.join(available_domains())})")
    data = json.loads(path.read_text(encoding="utf-8"))
    kinds: dict[str, dict[str, list[str]]] = {}
    max_len = 4
    if data.get("extends"):
        kinds, max_len = _load_raw(data["extends"], seen + (name,))
        kinds = {k: dict(v) for k, v in kinds.items()}
    max_len = int(data.get("case_sensitive_max_len", max_len))
    for kind, table in data.items():
        if isinstance(table, dict):
            merged = kinds.setdefault(kind, {})
            for label, synonyms in table.items():
                merged[label] = list(dict.fromkeys([*merged.get(label, []), *synonyms]))
    return kinds, max_len


def available_domains() -> list[str]:
    """Vocabulary files shipped under ``corpus/vocab``."""
    return sorted(p.stem for p in VOCAB_DIR.glob("*.json"))


@lru_cache(maxsize=8)
def load_vocab(domain: str = "autoimmune_cytopenias") -> Vocab:
    """The vocabulary of ``domain`` (cached: one load per process)."""
    kinds, max_len = _load_raw(domain)
    return Vocab(domain=domain, kinds=kinds, case_sensitive_max_len=max_len)
