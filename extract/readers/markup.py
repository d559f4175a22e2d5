"""Markup (HTML, JATS) → plain text with an element map, headings and tables.

Why shared: both markup readers face the same job — walk a tree of elements, write the text
a reader sees (blocks separated by blank lines, whitespace collapsed, tables as tab-separated
lines) and remember, for every span of that text, which element it came from
(``body/sec[2]/p[3]``). Only the tag vocabulary differs, so the walker takes it as a
:class:`Rules` object and each reader supplies its own.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence, Union

from ..document import Document, Page, Table
from ..errors import EmptyFile
from ..sections import find_sections
from ..tables import is_caption, make_table, split_caption

_WS = re.compile(r"\s+")
_SEPARATED = frozenset(("br", "break", "p", "div", "li", "hr", "tr", "td", "th"))


@dataclass(eq=False)
class Node:
    """A minimal element: tag, attributes, children (nodes or text strings)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Union["Node", str]] = field(default_factory=list)
    parent: "Node | None" = field(default=None, repr=False)

    def iter(self, *tags: str) -> Iterator["Node"]:
        """This node and its descendants (depth first), optionally only the given tags."""
        if not tags or self.tag in tags:
            yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter(*tags)

    def find(self, *tags: str) -> "Node | None":
        return next(self.iter(*tags), None)

    def kids(self, *tags: str) -> list["Node"]:
        return [c for c in self.children if isinstance(c, Node) and (not tags or c.tag in tags)]

    def text(self) -> str:
        """All text below this node, whitespace collapsed."""
        return _WS.sub(" ", "".join(self._texts())).strip()

    def _texts(self) -> Iterator[str]:
        for c in self.children:
            if isinstance(c, str):
                yield c
            elif c.tag in _SEPARATED:  # a line break or a paragraph inside a cell reads as a space
                yield " "
                yield from c._texts()
                yield " "
            else:
                yield from c._texts()

    def ancestors(self) -> Iterator["Node"]:
        p = self.parent
        while p is not None:
            yield p
            p = p.parent


@dataclass
class Rules:
    """The tag vocabulary of one markup language."""

    block: frozenset[str]
    skip: Callable[[Node], bool]
    heading_level: Callable[[Node], int | None]
    is_table: Callable[[Node], bool]
    table_parts: Callable[[Node], "TableParts"]
    line_break: frozenset[str] = frozenset()
    section_name: Callable[[Node], str | None] = lambda node: None
    preformatted: frozenset[str] = frozenset()
    spaced: frozenset[str] = frozenset()  # inline tags that stand apart from their neighbours


@dataclass
class TableParts:
    """What a table element holds: caption elements (label, title), row elements, header count,
    footnote elements. Caption and footnotes are written as printed, so they stay quotable."""

    caption: list[Node]
    rows: list[Node]
    n_header: int
    foot: list[Node]


class TextBuilder:
    """Appends text while keeping offsets, the element map, headings and tables."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._starts: list[int] = []  # offset of each part, for slice()
        self.pos = 0
        self.elements: list[tuple[int, int, str]] = []
        self.headings: list[tuple] = []
        self.tables: list[Table] = []
        self._space = False
        self._tail = ""  # last two characters written
        self.last_block: tuple[int, int] | None = None

    # --- writing --------------------------------------------------------------------------
    def _emit(self, s: str, path: str | None) -> tuple[int, int]:
        start = self.pos
        self.parts.append(s)
        self._starts.append(start)
        self.pos += len(s)
        self._tail = (self._tail + s)[-2:]
        if path is not None and s.strip():
            lead = len(s) - len(s.lstrip())
            end = start + len(s.rstrip())
            self.elements.append((start + lead, end, path))
        return start, self.pos

    def slice(self, start: int, end: int) -> str:
        """``text[start:end]`` of what has been written so far (without joining all of it)."""
        if end <= start:
            return ""
        i = bisect.bisect_right(self._starts, start) - 1
        j = bisect.bisect_left(self._starts, end)
        piece = "".join(self.parts[max(i, 0):j])
        base = self._starts[max(i, 0)] if self._starts else 0
        return piece[start - base:end - base]

    def at_line_start(self) -> bool:
        return self.pos == 0 or self._tail.endswith("\n")

    def text(self, s: str, path: str) -> None:
        """Inline text: runs of whitespace become one space; none at a line start."""
        if not s:
            return
        lead, trail = s[:1].isspace(), s[-1:].isspace()
        core = _WS.sub(" ", s).strip()
        if not core:
            self._space = self._space or lead
            return
        if (self._space or lead) and not self.at_line_start():
            self._emit(" ", None)
        self._space = trail
        self._emit(core, path)

    def space(self) -> None:
        """Ask for a space before the next inline text (none at a line start)."""
        self._space = True

    def verbatim(self, s: str, path: str | None) -> None:
        self._space = False
        self._emit(s, path)

    def newline(self, n: int = 2) -> None:
        """End the current line and leave ``n - 1`` blank lines (nothing at the very start)."""
        self._space = False
        if self.pos == 0:
            return
        have = len(self._tail) - len(self._tail.rstrip("\n"))
        if have < n:
            self._emit("\n" * (n - have), None)

    def build(self) -> str:
        text = "".join(self.parts)
        return text.rstrip("\n") + "\n" if text.strip() else ""


def walked_document(walker: "Walker", path: str | Path, kind: str, empty_reason: str,
                    plain_lines: bool = True) -> Document:
    """What a walker wrote as a one-page Document: its text, tables, element map and the sections
    its headings (and, with ``plain_lines``, heading-like lines) mark. No text is an EmptyFile."""
    out = walker.out
    text = out.build()
    if not text.strip():
        raise EmptyFile(str(path), empty_reason)
    sections = find_sections(text, out.tables, out.headings, plain_lines=plain_lines)
    return Document(source=Path(path).name, kind=kind, text=text, pages=[Page(1, 0, len(text))],
                    tables=out.tables, sections=sections, elements=out.elements)


def child_paths(node: Node, base: str) -> list[tuple[Union[Node, str], str]]:
    """Children with their paths (``p[3]`` when several siblings share the tag)."""
    counts: dict[str, int] = {}
    for c in node.children:
        if isinstance(c, Node):
            counts[c.tag] = counts.get(c.tag, 0) + 1
    seen: dict[str, int] = {}
    out: list[tuple[Union[Node, str], str]] = []
    for c in node.children:
        if isinstance(c, Node):
            seen[c.tag] = seen.get(c.tag, 0) + 1
            step = c.tag if counts[c.tag] == 1 else f"{c.tag}[{seen[c.tag]}]"
            out.append((c, f"{base}/{step}" if base else step))
        else:
            out.append((c, base))
    return out


class Walker:
    """Writes a tree into a :class:`TextBuilder` following :class:`Rules`."""

    def __init__(self, rules: Rules, out: TextBuilder | None = None) -> None:
        self.rules = rules
        self.out = out or TextBuilder()

    def walk(self, node: Node, path: str) -> None:
        rules, out = self.rules, self.out
        if rules.skip(node):
            return
        if rules.is_table(node):
            self.table(node, path)
            return
        level = rules.heading_level(node)
        if level is not None:
            out.newline(2)
            start = out.pos
            self.children(node, path)
            end = out.pos
            name = rules.section_name(node)
            if end > start or name:
                out.headings.append((start, end, level) + ((name,) if name else ()))
            out.newline(2)
            return
        if node.tag in rules.line_break:
            out.newline(1)
            return
        if node.tag in rules.preformatted:
            out.newline(2)
            out.verbatim(node.text() if not node.children else "".join(_raw_texts(node)), path)
            out.newline(2)
            return
        block = node.tag in rules.block
        if block:
            out.newline(2)
        spaced = node.tag in rules.spaced and not _has_text(node.parent)
        if spaced:
            out.space()
        start = out.pos
        name = rules.section_name(node) if block else None
        if name:  # a part the markup names without a printed heading: level 6 leaves the outline alone
            out.headings.append((start, start, 6, name))
        self.children(node, path)
        if spaced:
            out.space()
        if block:
            if out.pos > start:
                out.last_block = (start, out.pos)
            out.newline(2)

    def children(self, node: Node, path: str) -> None:
        for child, cpath in child_paths(node, path):
            if isinstance(child, str):
                self.out.text(child, cpath)
            else:
                self.walk(child, cpath)

    # --- tables ---------------------------------------------------------------------------
    def table(self, node: Node, path: str) -> None:
        out = self.out
        parts = self.rules.table_parts(node)
        if not parts.rows:
            self.children(node, path)
            return
        out.newline(2)
        start = out.pos
        for cap in parts.caption:
            out.space()
            out.text(cap.text(), _path_near(cap, node, path))
        printed = out.slice(start, out.pos)
        prev = out.last_block
        if not printed and prev:
            prev_text = out.slice(prev[0], prev[1])
            if is_caption(prev_text) and len(prev_text) < 400:
                printed, start = prev_text, prev[0]
        label, caption = split_caption(printed) if printed else ("", "")
        out.newline(1)
        grid = self._rows(parts.rows, path, node)
        notes_start = None
        for foot in parts.foot:
            out.newline(2)
            notes_start = out.pos if notes_start is None else notes_start
            self.out.text(foot.text(), _path_near(foot, node, path))
        footnotes = out.slice(notes_start, out.pos) if notes_start is not None else ""
        end = out.pos
        out.tables.append(make_table(grid, label=label, caption=caption, page=1, n_header=parts.n_header,
                                     footnotes=footnotes, start=start, end=end))
        out.last_block = None
        out.newline(2)

    def _rows(self, rows: Sequence[Node], path: str, table: Node) -> list[list]:
        out = self.out
        grid: list[list] = []
        pending: dict[int, int] = {}  # column → rows still covered by a rowspan above
        paths = _row_paths(table, path)
        for tr in rows:
            row: list = []
            rpath = paths.get(id(tr)) or path_to(tr, table, path)
            for cell, cpath in child_paths(tr, rpath):
                if not isinstance(cell, Node) or cell.tag not in ("td", "th"):
                    continue
                while pending.get(len(row), 0) > 0:
                    pending[len(row)] -= 1
                    row.append(None)
                if row:
                    out.verbatim("\t", None)
                text = cell.text().replace("\t", " ")
                s = out.pos
                if text:
                    out.verbatim(text, cpath)
                row.append((text, s, s + len(text)))
                span = _int(cell.attrs.get("colspan"))
                rspan = _int(cell.attrs.get("rowspan"))
                if rspan > 1:
                    pending[len(row) - 1] = rspan - 1
                for _ in range(span - 1):
                    row.append(None)
            while pending.get(len(row), 0) > 0:
                pending[len(row)] -= 1
                row.append(None)
            out.newline(1)
            grid.append(row)
        return grid


def _row_paths(table: Node, path: str) -> dict[int, str]:
    """Paths of the ``<tr>`` elements of a table (one pass, not one search per row)."""
    out: dict[int, str] = {}
    stack = [(table, path)]
    while stack:
        node, npath = stack.pop()
        for child, cpath in child_paths(node, npath):
            if isinstance(child, Node):
                if child.tag == "tr":
                    out[id(child)] = cpath
                elif child.tag in ("thead", "tbody", "tfoot", "table"):
                    stack.append((child, cpath))
    return out


def _has_text(node: Node | None) -> bool:
    """True when the element holds text of its own (mixed content), not only child elements."""
    return node is not None and any(isinstance(c, str) and c.strip() for c in node.children)


def _raw_texts(node: Node) -> Iterator[str]:
    for c in node.children:
        yield c if isinstance(c, str) else "".join(_raw_texts(c))


def _int(v: str | None) -> int:
    if not v:
        return 1
    try:
        return max(1, min(int(str(v).strip()), 100))
    except (TypeError, ValueError):
        return 1


def _path_near(node: Node, table: Node, table_path: str) -> str:
    """Path of a caption or footnote element: below the table, or below the table's parent."""
    if node is table or table in node.ancestors():
        return path_to(node, table, table_path)
    parent_path = table_path.rsplit("/", 1)[0] if "/" in table_path else ""
    return path_to(node, table.parent, parent_path) if table.parent is not None else table_path


def path_to(node: Node, top: Node | None = None, top_path: str = "") -> str:
    """Path of ``node`` below ``top`` (whose path is ``top_path``), or from the root."""
    steps = []
    cur = node
    while cur is not top and cur.parent is not None:
        same = cur.parent.kids(cur.tag)
        steps.append(cur.tag if len(same) == 1 else f"{cur.tag}[{same.index(cur) + 1}]")
        cur = cur.parent
    return "/".join(([top_path] if top_path else []) + steps[::-1])


def table_rows(table: Node) -> tuple[list[Node], int, list[Node]]:
    """Rows of an HTML-style table (thead, tbody, tfoot or bare tr): (rows, header count, foot rows)."""
    head = [tr for sec in table.kids("thead") for tr in sec.kids("tr")]
    body = [tr for sec in table.kids("tbody") for tr in sec.kids("tr")] + table.kids("tr")
    foot = [tr for sec in table.kids("tfoot") for tr in sec.kids("tr")]
    if head:
        return head + body, len(head), foot
    n = 0
    for tr in body:
        cells = tr.kids("td", "th")
        if cells and all(c.tag == "th" for c in cells):
            n += 1
        else:
            break
    return body, max(n, 1), foot
