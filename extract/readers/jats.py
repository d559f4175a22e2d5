"""JATS XML papers (PubMed Central, publisher XML): front matter, abstract, sections, tables, references.

Why structure first: JATS says what every part is (``<abstract>``, ``<sec>`` with ``<title>``,
``<table-wrap>``, ``<ref-list>``), so sections come from the markup and not from guessing at
heading words; the text is written as a reader sees it, with an element map back to the XML.
``xml.etree.ElementTree`` parses it (external DTDs are never fetched); HTML named entities that
XML does not define (``&nbsp;``) are replaced before parsing.
"""
from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..document import Document, Metadata
from ..errors import NotSupported
from .markup import Node, Rules, TableParts, Walker, child_paths, path_to, table_rows, walked_document
from .text import decode

READER_VERSION = "jats-1"

BLOCK = frozenset("""sec p list list-item ref ref-list fig boxed-text disp-quote def-list def-item
ack app app-group abstract trans-abstract body back statement glossary notes fn-group fn
disp-formula speech verse-group caption""".split())
SKIP = frozenset("""front graphic media inline-graphic alternatives object-id alt-text
processing-meta permissions funding-group history counts custom-meta-group self-uri
related-article tex-math""".split())
SPACED = frozenset("""label surname given-names name string-name collab year source volume issue fpage
lpage article-title chapter-title pub-id person-group etal publisher-name publisher-loc""".split())
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _to_node(el: ET.Element, parent: Node | None = None) -> Node:
    node = Node(_local(el.tag), {_local(k): v for k, v in el.attrib.items()}, [], parent)
    if el.text:
        node.children.append(el.text)
    for child in el:
        if not isinstance(child.tag, str):  # comments, processing instructions
            if child.tail:
                node.children.append(child.tail)
            continue
        node.children.append(_to_node(child, node))
        if child.tail:
            node.children.append(child.tail)
    return node


def _fix_entities(text: str) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1)
        if name in _XML_ENTITIES:
            return m.group(0)
        ch = html.entities.html5.get(name + ";")
        return ch if ch is not None else m.group(0)

    return _ENTITY.sub(repl, text)


def parse_jats(path: str | Path, data: bytes) -> Node:
    """The article as a :class:`~extract.readers.markup.Node` tree (namespaces dropped)."""
    text = _fix_entities(decode(path, data))
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise NotSupported(str(path), f"malformed JATS XML: {exc}") from None
    node = _to_node(root)
    article = node if node.tag == "article" else node.find("article")
    if article is None:
        raise NotSupported(str(path), "XML without an <article> element")
    return article


def _sec_depth(node: Node) -> int:
    return sum(1 for a in node.ancestors() if a.tag in ("sec", "app", "ack", "ref-list", "boxed-text"))


def _heading_level(node: Node) -> int | None:
    if node.tag != "title" or node.parent is None:
        return None
    if node.parent.tag in ("caption", "fig", "table-wrap", "title-group"):
        return None
    if any(a.tag in ("abstract", "trans-abstract") for a in node.ancestors()) and node.parent.tag == "sec":
        return None  # "Background", "Results" of a structured abstract stay inside the abstract
    return 1 + _sec_depth(node)


def _section_name(node: Node) -> str | None:
    """The part a JATS element is, whatever its printed title says."""
    owner = node.parent if node.tag == "title" else node
    if owner is None:
        return None
    if node.tag == "title" and owner.tag in ("abstract", "trans-abstract", "ref-list"):
        return "abstract" if owner.tag != "ref-list" else "references"
    if node.tag in ("abstract", "trans-abstract", "ref-list") and not node.kids("title"):
        return "abstract" if node.tag != "ref-list" else "references"
    if node.tag == "title" and owner.tag == "sec":
        kind = (owner.attrs.get("sec-type") or "").lower()
        for key, name in (("intro", "introduction"), ("method", "methods"), ("result", "results"),
                          ("discussion", "discussion"), ("conclusion", "conclusion")):
            if kind.startswith(key):
                return name
    return None


def _skip(node: Node) -> bool:
    if node.tag in SKIP:
        return True
    if node.tag in ("label", "caption") and node.parent is not None and node.parent.tag == "table-wrap":
        return True
    return node.tag == "table-wrap-foot"


def _table_parts(node: Node) -> TableParts:
    table = node.find("table")
    if table is None:
        return TableParts([], [], 0, [])
    rows, n_header, foot = table_rows(table)
    caption = node.kids("label") + node.kids("caption")
    notes = [n for f in node.kids("table-wrap-foot") for n in (f.kids("fn", "p", "fn-group") or [f])]
    return TableParts(caption, rows, n_header, foot + notes)


RULES = Rules(block=BLOCK, skip=_skip, heading_level=_heading_level, is_table=lambda n: n.tag == "table-wrap",
              table_parts=_table_parts, line_break=frozenset(("break",)), section_name=_section_name,
              preformatted=frozenset(("preformat", "code")), spaced=SPACED)


def read_jats(path: str | Path, data: bytes) -> Document:
    """Read a JATS article: title, authors, abstract, body, tables, references, with an element map."""
    try:
        article = parse_jats(path, data)
        walker = Walker(RULES)
        meta = jats_metadata(article)
        front = article.find("front")
        if front is not None:
            _write_front(walker, front, "article/front")
        for child, cpath in child_paths(article, "article"):
            if isinstance(child, Node) and child.tag in ("body", "back", "floats-group", "sub-article"):
                walker.walk(child, cpath)
    except RecursionError:
        raise NotSupported(str(path), "XML nested too deeply to read") from None
    doc = walked_document(walker, path, "jats", "JATS article without text", plain_lines=False)
    doc.metadata = meta
    return doc


def _write_front(walker: Walker, front: Node, path: str) -> None:
    out = walker.out
    meta = front.find("article-meta")
    if meta is None:
        return
    title = meta.find("article-title")
    if title is not None:
        start = out.pos
        out.text(title.text(), path_to(title, front, path))
        out.headings.append((start, out.pos, 1, "title"))
        out.newline(2)
    names = [(c, path_to(c, front, path)) for c in meta.iter("contrib")
             if c.attrs.get("contrib-type", "author") == "author"]
    for i, (contrib, cpath) in enumerate(names):
        name = _person(contrib)
        if name:
            if i:
                out.verbatim(", ", None)
            out.verbatim(name, cpath)
    out.newline(2)
    for abstract in [n for n in meta.kids("abstract", "trans-abstract")]:
        walker.walk(abstract, path_to(abstract, front, path))
    for kwd in meta.kids("kwd-group"):
        words = [k.text() for k in kwd.iter("kwd")]
        if words:
            out.newline(2)
            start = out.pos
            title = kwd.find("title")
            out.verbatim(title.text() if title is not None else "Keywords", path_to(kwd, front, path))
            out.headings.append((start, out.pos, 2, "other"))
            out.verbatim(": ", None)
            out.verbatim("; ".join(words), path_to(kwd, front, path))
            out.newline(2)


def _person(contrib: Node) -> str:
    name = contrib.find("name") or contrib.find("string-name")
    if name is None:
        collab = contrib.find("collab")
        return collab.text() if collab is not None else ""
    given = name.find("given-names")
    surname = name.find("surname")
    if surname is None:
        return name.text()
    return f"{given.text()} {surname.text()}".strip() if given is not None else surname.text()


def jats_metadata(article: Node) -> Metadata:
    """Bibliographic facts from ``<front>``: title, authors ("Surname, Given"), journal, year, DOI, PMID."""
    meta = article.find("article-meta") or Node("article-meta")
    journal = article.find("journal-meta") or Node("journal-meta")
    title_el = meta.find("article-title")
    authors = []
    for c in meta.iter("contrib"):
        if c.attrs.get("contrib-type", "author") != "author":
            continue
        name = c.find("name")
        if name is not None and name.find("surname") is not None:
            given = name.find("given-names")
            authors.append(name.find("surname").text() + (f", {given.text()}" if given is not None else ""))
        elif c.find("collab") is not None:
            authors.append(c.find("collab").text())
    ids = {(a.attrs.get("pub-id-type") or "").lower(): a.text() for a in meta.kids("article-id")}
    year = None
    dates = list(meta.kids("pub-date"))
    dates.sort(key=lambda d: 0 if (d.attrs.get("pub-type") or d.attrs.get("date-type") or "") in
               ("epub", "ppub", "pub", "collection") else 1)
    for d in dates:
        y = d.find("year")
        if y is not None and y.text().isdigit():
            year = int(y.text())
            break
    jt = journal.find("journal-title")
    if jt is None:
        jid = journal.find("journal-id")
        jt = jid
    return Metadata(title=title_el.text() if title_el is not None else "", authors=authors,
                    journal=jt.text() if jt is not None else "", year=year,
                    doi=ids.get("doi", ""), pmid=ids.get("pmid", ""),
                    extra={k: v for k, v in ids.items() if k not in ("doi", "pmid")})
