"""Page layout analysis for the PDF reader: glyphs → words → blocks in reading order.

Each module has one job: ``glyphs`` (per-character boxes from pdfium), ``words`` (glyphs
grouped into words, superscripts flagged), ``xycut`` (reading order), ``running`` (running
heads and feet), ``hyphen`` (line-end hyphenation), ``rules``, ``cells`` and ``tables`` (ruled and
three-line tables, found with pdfplumber's algorithm), ``tablemodel`` (header, group rows,
the DataFrame), ``builder`` (text with a box per character) and ``pdfmeta`` (bibliographic
metadata).
"""
