"""Plain text and Markdown papers: the file text itself, its tables, sections and identifiers.

Why so little normalisation: a quote is verifiable only if ``doc.text[start:end]`` is what
the file says, so the text is the decoded file with CRLF/CR line ends made ``\\n`` and nothing
else. Tables are found where they stand (tab-separated rows or Markdown pipe tables, with the
"Table N" caption line above and the abbreviation/notes lines below) and every cell keeps its
offsets into that text.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..document import Document, Metadata, Page, Table
from ..errors import NotSupported
from ..sections import Line, find_sections, iter_lines
from ..tables import is_caption, is_pipe_rule, make_table, split_caption, split_cells

READER_VERSION = "text-2"

_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>\]]+)", re.IGNORECASE)
_DOI_GLUED_WORD = re.compile(r"(?<=\d)[A-Z][a-z]{2,}.*$")
_PMID = re.compile(r"\bPMID\s*[:=]?\s*(\d{1,9})\b")
_FOOTNOTE = re.compile(
    r"^\s*(?:(?=[^\s,]*[A-Z0-9][^\s,]*[A-Z0-9])[A-Za-z0-9][\w/+&.\-]{0,15},\s"  # "IQR, interquartile range"
    r"|[*†‡§¶]|[a-z][).]?\s(?=[A-Z])|(?i:notes?|abbreviations?|source)\b|注)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode(path: str | Path, data: bytes) -> str:
    """Bytes → text: UTF-8 (BOM dropped), UTF-16 with a BOM, else Windows-1252; binary is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise NotSupported(str(path), "undecodable UTF-16 text") from None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise NotSupported(str(path), "not UTF-8 text and not a known encoding") from None
    if len(_CONTROL.findall(text[:65536])) > max(2, len(text[:65536]) // 1000):
        raise NotSupported(str(path), "binary content")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | Path, data: bytes, kind: str = "text") -> Document:
    """Read a plain-text or Markdown paper (``kind`` is what :func:`~extract.readers.sniff` said)."""
    text = decode(path, data)
    lines = list(iter_lines(text))
    tables = find_tables(text, lines)
    sections = find_sections(text, tables)
    doc = Document(source=Path(path).name, kind=kind, text=text, pages=[Page(1, 0, len(text))],
                   tables=tables, sections=sections)
    doc.metadata = text_metadata(text, sections)
    return doc


# --- tables ----------------------------------------------------------------------------------
def find_tables(text: str, lines: list[Line] | None = None) -> list[Table]:
    """Tab-separated blocks (two or more lines with tabs) and Markdown pipe tables in ``text``."""
    lines = lines if lines is not None else list(iter_lines(text))
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        block, sep, n_header = _block_at(lines, i)
        if not block:
            i += 1
            continue
        rows = [split_cells(ln.text, ln.start, sep) for ln in block if not (sep == "|" and is_pipe_rule(ln.text))]
        cap = _caption_above(lines, i)
        label, caption = split_caption(cap.text.strip()) if cap else ("", "")
        notes = _footnotes_below(lines, i + len(block))
        start = cap.start + len(cap.text) - len(cap.text.lstrip("# \t")) if cap else block[0].start
        end = notes[-1].end if notes else block[-1].end
        table = make_table(rows, label=label, caption=caption, page=1, n_header=n_header,
                           footnotes="\n".join(n.text for n in notes), start=start, end=end)
        tables.append(table)
        i += len(block) + len(notes)
    return tables


def _block_at(lines: list[Line], i: int) -> tuple[list[Line], str, int]:
    line = lines[i].text
    if "|" in line and i + 1 < len(lines) and is_pipe_rule(lines[i + 1].text) and (
            line.lstrip().startswith("|") or "|" in lines[i + 1].text):  # not a "---" rule under prose
        j = i + 2
        while j < len(lines) and "|" in lines[j].text and lines[j].text.strip():
            j += 1
        return lines[i:j], "|", 1
    if "\t" in line and line.strip():
        j = i
        while j < len(lines) and "\t" in lines[j].text:  # a row of empty cells is still a row
            j += 1
        if j - i >= 2:
            return lines[i:j], "\t", 1
    return [], "", 0


def _caption_above(lines: list[Line], i: int) -> Line | None:
    j = i - 1
    while j >= 0 and i - j <= 4:
        if lines[j].text.strip():
            return lines[j] if is_caption(lines[j].text) else None
        j -= 1
    return None


def _footnotes_below(lines: list[Line], j: int) -> list[Line]:
    notes: list[Line] = []
    while j < len(lines):
        k = j
        while k < len(lines) and not lines[k].text.strip():
            k += 1
        if k >= len(lines) or k - j > 3 or is_caption(lines[k].text) or "\t" in lines[k].text:
            break
        if not _FOOTNOTE.match(lines[k].text) or lines[k].text.lstrip().startswith("#"):
            break
        notes.append(lines[k])
        j = k + 1
    return notes


# --- identifiers -----------------------------------------------------------------------------
def find_doi(text: str) -> str:
    """First DOI in ``text`` with trailing punctuation (and a word glued to it) removed."""
    for m in _DOI.finditer(text):
        doi = _DOI_GLUED_WORD.sub("", m.group(1)).rstrip(".,;:)]}'’”")
        if doi.count("(") < doi.count(")"):
            doi = doi.rstrip(")")
        if "/" in doi and len(doi.split("/", 1)[1]) >= 2:
            return doi
    return ""


def find_pmid(text: str) -> str:
    m = _PMID.search(text)
    return m.group(1) if m else ""


def text_metadata(text: str, sections: list) -> Metadata:
    """Light, guessed metadata of a text paper: title (first heading), DOI and PMID before the references."""
    refs = [s.start for s in sections if s.name == "references"]
    front = text[: min(refs)] if refs else text
    title = next((s.heading for s in sections if s.name == "title"), "")
    title = re.sub(r"[*_]+", "", title).strip()
    return Metadata(title=title, doi=find_doi(front), pmid=find_pmid(front),
                    extra={"guessed": ["title", "doi", "pmid"]})
