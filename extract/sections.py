"""Parts of a paper (title, abstract, methods, results, …) from its heading lines.

Why from headings only: every reader (text, Markdown, HTML, JATS, PDF) ends with the paper as
plain text in reading order, and headings are what survives all of them. The heading words
are data (``section_headings.json``); this module only decides which lines are headings:

- Markdown headings (``# Title``, ``### Results``); an unknown heading at level 1 is the title,
  other unknown headings end the current part unless they are deeper (a subsection);
- a line that is nothing but a known heading ("2 Methods", "METHODS", "Materials and methods:",
  "References (17)");
- run-in labels at the start of a paragraph ("**Results:** 13 of 96 …", "Keywords: …"): before
  the first real heading they mark a structured abstract;
- a block of numbered references ("[1] …", "1. 1.") when no heading names it;
- the title: a level-1 heading, the metadata title where it is printed, or a guessed line;
  an abstract without heading: the first long paragraph under the title (a guess);
- table spans (given by the reader, or a "Table N" caption with the rows below it) as
  ``tables`` parts nested inside the others.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .document import Section, Table
from .tables import is_caption, split_caption

VOCAB_FILE = Path(__file__).with_name("section_headings.json")
MAIN = ("abstract", "introduction", "methods", "results", "discussion", "conclusion", "references")

_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_NUMBERING = re.compile(r"^(?:(?:\d+(?:\.\d+)*|[IVX]{1,5}|[A-H])[.)]?\s+)")
_DECOR = re.compile(r"[*_`]+|</?[a-z]+[^>]*>")
_COUNT = re.compile(r"\s*\(\d+\)\s*$")
_RUN_IN = re.compile(r"^[ \t]*(?:\*\*|__)?([^\n:：*]{2,48}?)[ \t]*(?:[:：](?:\*\*|__)?|(?:\*\*|__)[:：])[ \t]*(?=\S)")
_REF_LINE = re.compile(r"^\s*(?:\[\d{1,3}\]\s+\S|\d{1,3}\.\s+\d{1,3}\.\s*$)")


@dataclass(frozen=True)
class Line:
    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def vocabulary() -> tuple[dict[str, str], frozenset[str]]:
    """Heading → part name, and the run-in labels of structured abstracts (from the JSON file)."""
    data = json.loads(VOCAB_FILE.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for part, words in data.items():
        if part.startswith("_") or part == "abstract_labels":
            continue
        for w in words:
            names.setdefault(normalise(w), part)
    return names, frozenset(normalise(w) for w in data.get("abstract_labels", []))


def normalise(heading: str) -> str:
    """Heading text as a vocabulary key: no numbering, markup, colon or count; lower case."""
    h = _DECOR.sub("", heading).strip()
    h = _NUMBERING.sub("", h)
    h = _COUNT.sub("", h)
    h = h.strip(" \t:：.-—|").replace("&", "and").replace("’", "'")
    return re.sub(r"\s+", " ", h).lower()


def heading_name(heading: str) -> str | None:
    """The part a heading names (``"2. Materials and Methods"`` → ``"methods"``), or None."""
    return vocabulary()[0].get(normalise(heading))


def _text_start(line: Line) -> int:
    """Offset of the first non-blank character of a line."""
    return line.start + len(line.text) - len(line.text.lstrip())


def iter_lines(text: str) -> Iterator[Line]:
    pos = 0
    for raw in text.split("\n"):
        yield Line(raw, pos, pos + len(raw))
        pos += len(raw) + 1


def find_sections(text: str, tables: Sequence[Table] = (),
                  headings: Sequence[tuple] = (), plain_lines: bool = True, title: str = "") -> list[Section]:
    """Sections of ``text`` in reading order; ``tables`` add nested ``tables`` sections.

    ``headings`` are headings a markup reader knows from structure: ``(start, end, level)``
    or ``(start, end, level, name)`` with ``text[start:end]`` the heading as printed (it may
    be empty when the markup names a part without a printed title, such as a JATS abstract).
    ``plain_lines=False`` trusts those headings alone (JATS, whose structure names every part).
    ``title``: the title if known from metadata (PDF info, meta tags); where it is printed, even
    across lines, it becomes the title section instead of a guessed one.

    Top-level sections do not overlap: each runs to the start of the next one (the last to the
    end of the text). Table sections lie inside them, so ``Document.section_of`` names a table
    cell "tables" and the sentence after the table by its enclosing part.
    """
    lines = list(iter_lines(text))
    marks = _known_headings(text, headings)
    taken = {m[0] for m in marks}
    found = (_headings(lines) if plain_lines else []) + _run_in(lines)
    marks += [m for m in found if m[0] not in taken]
    marks.sort(key=lambda m: m[0])
    marks = _structured_abstract(marks)
    marks = _add_references(marks, lines)
    marks = _add_title(marks, lines, text, title)
    marks = _unlabelled_abstract(marks, lines)
    sections: list[Section] = []
    for i, (start, name, heading) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(text)
        end = _rstrip(text, start, end)
        if sections and sections[-1].name == name and not text[sections[-1].start:start].replace(
                sections[-1].heading, "", 1).strip(" \t\n#*:"):
            sections[-1].end = end  # "References" directly followed by "REFERENCES": one part
            sections[-1].heading = sections[-1].heading or heading
            continue
        sections.append(Section(name, heading, start, end))
    sections.extend(table_sections(tables))
    sections.extend(_orphan_captions(lines, tables))
    sections.sort(key=lambda s: (s.start, -s.end))
    return sections


def table_sections(tables: Iterable[Table]) -> list[Section]:
    """One ``tables`` section per table span (caption to footnotes)."""
    out = []
    for t in tables:
        if t.start >= 0 and t.end > t.start:
            out.append(Section("tables", t.label or "table", t.start, t.end))
    return out


def _orphan_captions(lines: list[Line], tables: Sequence[Table]) -> list[Section]:
    """A "Table N …" caption line whose grid no reader parsed: the caption and the rows under it.

    Rows are the tab-separated lines that follow; without any, at most three lines up to a blank
    line, a reference or a heading. A "Table 1." that merely continues a sentence of the line
    above ("… are summarized in / Table 1.") is not a caption.
    """
    out = []
    for i, line in enumerate(lines):
        stripped = line.text.strip().lstrip("#").strip()
        if not stripped or len(stripped) > 200 or not is_caption(stripped):
            continue
        prev = lines[i - 1].text.rstrip() if i else ""
        if (set(prev) - set("-=_* ") and (prev[-1].isalpha() or prev[-1] in ",;(-") and "\t" not in prev
                and heading_name(prev) is None):
            continue
        rows_end, loose_end, loose, j = None, line.end, 0, i + 1
        while j < len(lines):
            nxt = lines[j].text
            if "\t" in nxt and nxt.strip():
                rows_end = lines[j].end
            elif (rows_end is not None or not nxt.strip() or _REF_LINE.match(nxt) or loose >= 3
                  or heading_name(nxt.strip()) is not None or is_caption(nxt.strip())):
                break
            else:
                loose, loose_end = loose + 1, lines[j].end
            j += 1
        end = rows_end if rows_end is not None else loose_end
        start = line.start + line.text.index(stripped[0])
        if any(t.start < end and start < t.end for t in tables):
            continue  # the caption of a table the reader parsed
        out.append(Section("tables", split_caption(stripped)[0] or "table", start, end))
    return out


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t\n\r":
        end -= 1
    return end


Mark = tuple[int, str, str]  # start, part name, heading as printed (a run-in label: "label:")


class _Outline:
    """Names leveled headings (Markdown ``#``, HTML ``<h2>``, JATS ``<sec><title>``) in order.

    An unknown heading at level 1 is the title (once); other unknown headings end the current
    part, unless they are deeper than the known headings seen so far (a subsection).
    """

    def __init__(self) -> None:
        self.known_level: int | None = None
        self.have_title = False

    def name(self, heading: str, level: int, given: str | None = None) -> str | None:
        if given is None and is_caption(heading):
            return None
        name = given or heading_name(heading)
        if name is None and level == 1 and not self.have_title:
            name = "title"
        if name is None:
            if self.known_level is not None and level > self.known_level:
                return None
            name = "other"
        elif name != "title":
            self.known_level = level if self.known_level is None else min(self.known_level, level)
        self.have_title |= name == "title"
        return name


def _known_headings(text: str, headings: Sequence[tuple]) -> list[Mark]:
    outline = _Outline()
    marks: list[Mark] = []
    for h in sorted(headings, key=lambda h: h[0]):
        start, end, level = h[:3]
        name = outline.name(text[start:end], level, h[3] if len(h) > 3 else None)
        if name is not None:
            marks.append((start, name, text[start:end].strip()))
    return marks


def _headings(lines: list[Line]) -> list[Mark]:
    marks: list[Mark] = []
    outline = _Outline()
    for line in lines:
        md = _MD_HEADING.match(line.text)
        if md:
            name = outline.name(md.group(2), len(md.group(1)))
            if name is not None:
                marks.append((line.start, name, md.group(2).strip()))
            continue
        stripped = line.text.strip()
        if 0 < len(stripped) <= 60 and "\t" not in line.text and not stripped.startswith(("#", "|")):
            name = heading_name(stripped)
            if name is not None:
                marks.append((line.start + line.text.index(stripped[0]), name, stripped))
    return marks


def _run_in(lines: list[Line]) -> list[Mark]:
    names, labels = vocabulary()
    marks: list[Mark] = []
    for line in lines:
        m = _RUN_IN.match(line.text)
        if not m or _MD_HEADING.match(line.text):
            continue
        key = normalise(m.group(1))
        if key in labels:
            marks.append((_text_start(line), "abstract-label", m.group(1).strip()))
        elif names.get(key) in ("other", "abstract"):
            marks.append((_text_start(line), names[key], m.group(1).strip()))
    return marks


def _structured_abstract(marks: list[Mark]) -> list[Mark]:
    """Run-in labels before the first main heading are one abstract; elsewhere they are not parts."""
    first_main = next((m[0] for m in marks if m[1] in MAIN and m[1] != "abstract"), None)
    out: list[Mark] = []
    in_abstract = False
    for start, name, heading in marks:
        if name == "abstract-label":
            if first_main is not None and start > first_main:
                continue
            if in_abstract:
                continue
            out.append((start, "abstract", heading))
            in_abstract = True
            continue
        in_abstract = name == "abstract"
        out.append((start, name, heading))
    return out


def _add_references(marks: list[Mark], lines: list[Line]) -> list[Mark]:
    """A block of three or more numbered references ("[1] …") when no heading names the list."""
    if any(m[1] == "references" for m in marks):
        return marks
    run: list[Line] = []
    for line in lines:
        if _REF_LINE.match(line.text):
            run.append(line)
            if len(run) >= 3:
                marks = marks + [(_text_start(run[0]), "references", "")]
                return sorted(marks, key=lambda m: m[0])
        elif line.text.strip() and not (run and line.text.startswith((" ", "\t"))):
            run = []
    return marks


def _unlabelled_abstract(marks: list[Mark], lines: list[Line]) -> list[Mark]:
    """No abstract heading: the first paragraph of 40+ words soon after the title is the abstract.

    Preview pages and database records print the abstract without a heading; a paragraph that
    long, directly under the title block and before any other part, is read as one (a guess, so
    its heading is empty).
    """
    if any(m[1] == "abstract" for m in marks):
        return marks
    title = next((m for m in marks if m[1] == "title"), None)
    if title is None:
        return marks
    after = [m[0] for m in marks if m[0] > title[0]]
    limit = min(after) if after else None
    for line in lines:
        if line.start <= title[0] + len(title[2]) or (limit is not None and line.start >= limit):
            continue
        if line.start > title[0] + len(title[2]) + 1500:
            break
        if len(line.text.split()) >= 40 and "\t" not in line.text:
            return sorted(marks + [(_text_start(line), "abstract", "")], key=lambda m: m[0])
    return marks


def guess_title(lines: Sequence[Line], before: int | None = None) -> Line | None:
    """The title line of a plain-text paper (a guess: used when no heading says it).

    The first line when it stands alone (a blank or rule line follows) and reads like a title;
    otherwise the longest line of 5–40 words without a full stop near the top.
    """
    def titleish(s: str, lo: int) -> bool:
        words = s.split()
        return (lo <= len(words) <= 40 and not s.endswith((".", ":", ";", ","))
                and not s.startswith(("http", "[", "^", "•", "·", "-", "*", "©")) and not s[:1].isdigit()
                and "@" not in s and "^" not in s)

    body = [ln for ln in lines if before is None or ln.start < before][:80]
    if not body:
        return None
    first = next((i for i, ln in enumerate(body) if ln.text.strip()), None)
    if first is None:
        return None
    nxt = body[first + 1].text.strip() if first + 1 < len(body) else ""
    if titleish(body[first].text.strip(), 2) and (not nxt or set(nxt) <= set("-=_*")):
        return body[first]
    candidates = [ln for ln in body if titleish(ln.text.strip(), 5) and "\t" not in ln.text]
    return max(candidates, key=lambda ln: len(ln.text.strip()), default=None)


def locate(text: str, phrase: str, before: int | None = None) -> tuple[int, int] | None:
    """Where ``phrase`` is printed in ``text``, whatever the line breaks and spacing (or None)."""
    words = phrase.split()
    if not words:
        return None
    found = list(re.finditer(r"\s+".join(re.escape(w) for w in words), text[:before] if before is not None else text))
    own_line = [m for m in found if m.start() == 0 or text[m.start() - 1] == "\n"]  # not inside a citation
    m = (own_line or found or [None])[0]
    return (m.start(), m.end()) if m else None


def _add_title(marks: list[Mark], lines: list[Line], text: str = "", title: str = "") -> list[Mark]:
    if any(m[1] == "title" for m in marks):
        return marks
    main = [m[0] for m in marks if m[1] in MAIN]
    where = locate(text, title, before=min(main) if main else None) if title else None
    if where is not None:
        marks = [m for m in marks if not (where[0] <= m[0] < where[1])]
        return sorted(marks + [(where[0], "title", text[where[0]:where[1]])], key=lambda m: m[0])
    line = guess_title(lines, before=min(main) if main else None)
    if line is None or any(m[0] == line.start for m in marks):
        return marks
    return sorted(marks + [(_text_start(line), "title", line.text.strip())], key=lambda m: m[0])
