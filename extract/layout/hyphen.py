"""Line-end hyphenation: keep a real hyphen ("ALPS-like", "immune-mediated"), drop a typesetting one.

The document is its own dictionary: the hyphenated form written unbroken elsewhere in the
paper keeps the hyphen, the joined form written elsewhere drops it. Failing that, an
uppercase letter or digit on either side keeps it ("ALPS-"/"like", "CoV-"/"2"), and a small
lexicon of compound parts that medical English writes with a hyphen ("-like", "-mediated",
"well-", "long-") keeps it. Everything else is joined: most line-end hyphens are breaks.
"""
from __future__ import annotations

import re

HYPHENS = "-\u2010\u00ad"
# right-hand parts that form hyphenated compounds ("ALPS-like", "steroid-dependent")
SUFFIX_KEEP = frozenset({"like", "related", "mediated", "based", "dependent", "induced",
                         "associated", "specific", "free", "up", "refractory", "resistant"})
# left-hand parts that form hyphenated compounds when the right part is a whole word
PREFIX_KEEP = frozenset({"well", "long", "short", "first", "second", "third", "single",
                         "self", "high", "low", "two", "three", "double", "triple"})
_EDGE_PUNCT = re.compile(r"^[^\w]+|[^\w\-\u2010]+$")
_LEFT = re.compile(r"(\w+)[-\u2010\u00ad]$")
_RIGHT = re.compile(r"^(\w+)")


def vocab_key(word: str) -> str:
    """The form a word takes in the document vocabulary: lowercase, edge punctuation stripped."""
    if word and word[0].isalnum() and word[-1].isalnum():  # most words: no edge to strip
        return word.lower()  # (a character is ``\w`` when it is alphanumeric or "_")
    return _EDGE_PUNCT.sub("", word).lower()


def breaks_at_end(word: str) -> bool:
    """Whether a line-final word ends in a hyphen that may be a line break."""
    return len(word) >= 2 and word[-1] in HYPHENS and word[-2].isalnum()


def keep_hyphen(left: str, right: str, vocab: set[str]) -> bool | None:
    """Decide a line-end break: True keeps the hyphen, False joins, None leaves the lines apart."""
    ml, mr = _LEFT.search(left), _RIGHT.match(right)
    if not ml or not mr:
        return None
    lpart, rpart = ml.group(1), mr.group(1)
    whole_left = vocab_key(left[:-1])
    if left[-1] == "\u00ad":
        return False
    if lpart[-1].isupper() or lpart[-1].isdigit() or rpart[0].isupper() or rpart[0].isdigit():
        return True
    compound = f"{whole_left}-{rpart.lower()}"
    joined = f"{whole_left}{rpart.lower()}"
    if compound in vocab:
        return True
    if joined in vocab:
        return False
    if rpart.lower() in SUFFIX_KEEP:
        return True
    if lpart.lower() in PREFIX_KEEP and len(rpart) >= 4:
        return True
    return False
