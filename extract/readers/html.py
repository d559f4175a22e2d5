"""HTML papers (journal article pages, PubMed records): main text, meta tags, tables, element map.

Why the standard library: ``html.parser`` is forgiving enough for publisher pages once the
usual implied end tags (``<p>``, ``<li>``, ``<td>`` …) are closed, and it adds no dependency.
Boilerplate (scripts, styles, navigation, page header and footer) is dropped; the article's own
header inside ``<article>``/``<main>`` is kept, since it holds the title and authors.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from ..document import Document, Metadata
from ..errors import NotSupported
from .markup import Node, Rules, TableParts, Walker, path_to, table_rows, walked_document
from .text import decode, find_doi, find_pmid

READER_VERSION = "html-1"

VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
BLOCK = frozenset("""address article aside blockquote body caption dd details div dl dt fieldset figcaption
figure form h1 h2 h3 h4 h5 h6 hr li main ol p pre section summary table tbody td tfoot th thead tr ul
header footer nav""".split())
DROP = frozenset("script style noscript template svg iframe nav form button select textarea input "
                 "object embed canvas map head title".split())
PAGE_CHROME = frozenset(("header", "footer", "aside"))
CHROME_ROLES = frozenset(("navigation", "banner", "contentinfo", "search", "complementary", "dialog"))
# HTML's implied end tags: a new <tag> closes the nearest open element of the first set, unless
# an element of the second set (its container) is met first.
_P_SCOPE = frozenset("""table td th li dd dt div section article body html blockquote main header footer
form figure ul ol dl aside nav button""".split())
IMPLIED_END: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "li": (frozenset({"li"}), frozenset({"ul", "ol", "table"})),
    "dt": (frozenset({"dt", "dd"}), frozenset({"dl", "table"})),
    "dd": (frozenset({"dt", "dd"}), frozenset({"dl", "table"})),
    "tr": (frozenset({"tr"}), frozenset({"table", "thead", "tbody", "tfoot"})),
    "td": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "th": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "thead": (frozenset({"thead", "tbody", "tfoot"}), frozenset({"table"})),
    "tbody": (frozenset({"thead", "tbody", "tfoot"}), frozenset({"table"})),
    "tfoot": (frozenset({"thead", "tbody", "tfoot"}), frozenset({"table"})),
    "option": (frozenset({"option"}), frozenset({"select"})),
}
BLOCK_CLOSES_P = frozenset("address article aside blockquote div dl fieldset figure footer form h1 h2 h3 "
                           "h4 h5 h6 header hr main nav ol p pre section table ul".split())


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]

    def _close_implied(self, tag: str) -> None:
        rules = [IMPLIED_END[tag]] if tag in IMPLIED_END else []
        if tag in BLOCK_CLOSES_P:
            rules.append((frozenset({"p"}), _P_SCOPE))
        for closes, boundary in rules:
            for i in range(len(self.stack) - 1, 0, -1):
                t = self.stack[i].tag
                if t in closes:
                    del self.stack[i:]
                    break
                if t in boundary:
                    break

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._close_implied(tag)
        node = Node(tag, {k: (v or "") for k, v in attrs}, [], self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self._close_implied(tag)
        self.stack[-1].children.append(Node(tag, {k: (v or "") for k, v in attrs}, [], self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    """A forgiving parse of an HTML document into :class:`~extract.readers.markup.Node` s."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def _skip(node: Node) -> bool:
    if node.tag in DROP or node.attrs.get("role", "").lower() in CHROME_ROLES:
        return True
    if "hidden" in node.attrs or node.attrs.get("aria-hidden", "").lower() == "true":
        return True
    if node.tag in PAGE_CHROME:
        return not any(a.tag in ("article", "main") for a in node.ancestors())
    return node.tag in ("caption", "figcaption") and _owning_table(node) is not None


def _owning_table(node: Node) -> Node | None:
    """The table a caption belongs to (its ``<table>``, or the table in its ``<figure>``)."""
    if node.tag == "caption" and node.parent is not None and node.parent.tag == "table":
        return node.parent
    if node.tag == "figcaption" and node.parent is not None:
        return next((c for c in node.parent.kids("table")), None)
    return None


def _heading_level(node: Node) -> int | None:
    if len(node.tag) == 2 and node.tag[0] == "h" and node.tag[1] in "123456":
        return int(node.tag[1])
    return None


def _table_parts(node: Node) -> TableParts:
    rows, n_header, foot = table_rows(node)
    cap = next(iter(node.kids("caption")), None)
    if cap is None and node.parent is not None and node.parent.tag == "figure":
        cap = next(iter(node.parent.kids("figcaption")), None)
    return TableParts([cap] if cap is not None else [], rows, n_header, foot)


# class or id tokens by which pages name a part without a heading element
NAMED_PARTS = {"abstract": "abstract", "references": "references", "ref-list": "references",
               "bibliography": "references", "reference-list": "references"}


def _section_name(node: Node) -> str | None:
    tokens = (node.attrs.get("class", "") + " " + node.attrs.get("id", "")).lower().split()
    return next((NAMED_PARTS[t] for t in tokens if t in NAMED_PARTS), None)


RULES = Rules(block=BLOCK, skip=_skip, heading_level=_heading_level, is_table=lambda n: n.tag == "table",
              table_parts=_table_parts, line_break=frozenset(("br",)), preformatted=frozenset(("pre",)),
              section_name=_section_name)


def _content_root(root: Node) -> tuple[Node, str]:
    for tag in ("main", "article"):
        found = [n for n in root.iter(tag) if not _skip(n)]
        if found and len(found[0].text()) >= 200:
            return found[0], _path(found[0])
    body = root.find("body")
    return (body, "body") if body is not None else (root, "")


def _path(node: Node) -> str:
    return "/".join(step for step in path_to(node).split("/") if step != "html")


def read_html(path: str | Path, data: bytes) -> Document:
    """Read an HTML paper: text of the main content, its tables and headings, and the meta tags."""
    source = decode(path, data)
    try:
        root = parse_html(source)
        top, top_path = _content_root(root)
        walker = Walker(RULES)
        walker.walk(top, top_path)
    except RecursionError:
        raise NotSupported(str(path), "HTML nested too deeply to read") from None
    doc = walked_document(walker, path, "html", "no text in the HTML body")
    doc.metadata = html_metadata(root, doc.text, doc.sections)
    return doc


def meta_tags(root: Node) -> dict[str, list[str]]:
    """``<meta name|property=… content=…>`` values by lower-case name, in document order."""
    tags: dict[str, list[str]] = {}
    for m in root.iter("meta"):
        name = (m.attrs.get("name") or m.attrs.get("property") or "").strip().lower()
        content = (m.attrs.get("content") or "").strip()
        if name and content:
            tags.setdefault(name, []).append(content)
    return tags


def _first(tags: dict[str, list[str]], *names: str) -> str:
    for n in names:
        if tags.get(n):
            return tags[n][0]
    return ""


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def html_metadata(root: Node, text: str, sections: list) -> Metadata:
    """Bibliographic facts from Highwire ``citation_*``, Dublin Core ``dc.*`` and Open Graph tags."""
    tags = meta_tags(root)
    title = _first(tags, "citation_title", "dc.title", "og:title")
    if not title:
        h1 = root.find("h1")
        t = root.find("title")
        title = (h1.text() if h1 is not None else "") or (t.text() if t is not None else "")
    authors = tags.get("citation_author") or tags.get("dc.creator") or tags.get("author") or []
    if not authors and tags.get("citation_authors"):
        authors = [a for a in re.split(r"\s*;\s*", tags["citation_authors"][0]) if a]
    doi = _first(tags, "citation_doi", "prism.doi", "bepress_citation_doi")
    if not doi:
        ids = [v for v in tags.get("dc.identifier", []) if "10." in v]
        doi = find_doi(ids[0]) if ids else ""
    doi = re.sub(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", "", doi, flags=re.IGNORECASE)
    if not doi:
        refs = [s.start for s in sections if s.name == "references"]
        doi = find_doi(text[: min(refs)] if refs else text)
    date = _first(tags, "citation_publication_date", "citation_date", "citation_online_date",
                  "dc.date", "prism.publicationdate", "citation_year", "article:published_time")
    year = _YEAR.search(date)
    pmid = _first(tags, "citation_pmid", "ncbi_uid") or find_pmid(text)
    return Metadata(title=title.strip(), authors=[a.strip() for a in authors],
                    journal=_first(tags, "citation_journal_title", "dc.source", "prism.publicationname",
                                   "citation_journal_abbrev", "og:site_name"),
                    year=int(year.group(1)) if year else None, doi=doi.strip(), pmid=pmid.strip(),
                    extra={k: v for k, v in tags.items() if k.startswith(("citation_", "dc.", "prism."))})
